import ArgumentParser

struct BenchmarkCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Write a benchmark capture.")
    func run() throws { throw ValidationError("benchmark captures are not written yet") }
}
