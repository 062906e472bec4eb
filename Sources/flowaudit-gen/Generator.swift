import ArgumentParser

/// `flowaudit-gen`: writes the sample scenarios in Captures/ and the benchmark captures, with
/// the project's own packet builder.
@main
struct Generator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowaudit-gen",
        abstract: "Write flowaudit's sample scenario captures and benchmark captures.",
        subcommands: [ScenariosCommand.self, BenchmarkCaptureCommand.self, FuzzSeedsCommand.self]
    )
}
