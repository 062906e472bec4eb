import ArgumentParser

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scenarios", abstract: "Write the Captures/ scenarios.")
    func run() throws { throw ValidationError("scenarios are not written yet") }
}
