import ArgumentParser

struct FlowsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Print the bidirectional flow table of one or more captures."
    )

    @Argument(help: "Capture files (pcap or pcapng); - reads standard input.")
    var captures: [String]

    func run() throws {
        throw ValidationError("not built yet")
    }
}
