import ArgumentParser
import Foundation
import Packets

/// `flowaudit-gen scenarios`: writes Captures/<system>/{site.yaml, capture, expected.json,
/// README.md} for every vendor scenario. The output is deterministic: the same bytes every run.
struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "Write the Captures/ scenarios: a site, a capture and its expected findings per system."
    )

    @Option(help: "The folder to write the scenario folders into.")
    var output: String = "Captures"

    @Option(help: "Write only this system's scenario (repeatable); all of them by default.")
    var system: [String] = []

    func validate() throws {
        let known = Scenario.all.map(\.system)
        for name in system where !known.contains(name) {
            throw ValidationError("unknown system '\(name)'; the scenarios are \(known.joined(separator: ", "))")
        }
    }

    func run() throws {
        var written: [ScenarioFiles] = []
        for scenario in Scenario.all where system.isEmpty || system.contains(scenario.system) {
            let folder = output + "/" + scenario.system
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw ValidationError("\(folder): cannot create the folder: \(error.localizedDescription)")
            }
            let files = ScenarioFiles(scenario)
            for (name, bytes) in files.files {
                let path = folder + "/" + name
                do {
                    try ByteSource.writeFile(path: path, bytes: bytes, append: false)
                } catch {
                    throw ValidationError("\(error)")
                }
            }
            print("\(folder): \(files.built.frames.count) packets, \(files.built.rules.count) rules, "
                + "\(files.built.unexpected.count) unexpected, \(files.built.attempts.count) attempts, "
                + "\(files.built.advisories.count) advisories, exit status \(files.built.expectedExitStatus)")
            written.append(files)
        }
        if system.isEmpty {
            let path = output + "/README.md"
            do {
                try ByteSource.writeFile(path: path, bytes: Array(ScenarioIndex.readme(written).utf8), append: false)
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
