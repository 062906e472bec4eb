// Every example in docs/ and README.md runs against the shipped Rules/, so the documentation
// cannot drift from the rule files (a site copied from the docs must bind real roles).

import Foundation
import Testing

@Suite("Documentation examples")
struct DocsExamplesTests {
    /// The fenced ```yaml blocks of a Markdown file, with the line each starts on.
    static func yamlBlocks(_ file: String) throws -> [(line: Int, text: String)] {
        let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent(file), encoding: .utf8)
        var blocks: [(Int, String)] = []
        var current: [String]?
        var start = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if current == nil, line.hasPrefix("```yaml") {
                current = []
                start = index + 2
            } else if current != nil, line.hasPrefix("```") {
                blocks.append((start, current!.joined(separator: "\n") + "\n"))
                current = nil
            } else if current != nil {
                current!.append(String(line))
            }
        }
        return blocks
    }

    /// Ids declared under a top-level key: role ids (`  id:` lines under `roles:`) or rule ids.
    static func ids(in yaml: String, section: String) -> Set<String> {
        var inside = false
        var found: Set<String> = []
        for line in yaml.split(separator: "\n") {
            if !line.hasPrefix(" ") && !line.hasPrefix("#") { inside = line.hasPrefix("\(section):") }
            guard inside else { continue }
            if section == "roles", line.hasPrefix("  "), !line.hasPrefix("   "), let colon = line.firstIndex(of: ":") {
                found.insert(String(line[line.index(line.startIndex, offsetBy: 2)..<colon]))
            }
            if section == "rules", let range = line.range(of: "- id: ") {
                found.insert(String(line[range.upperBound...].prefix { $0 != " " && $0 != "#" }))
            }
        }
        return found
    }

    static let documents = ["docs/rules.md", "docs/report.md", "docs/architecture.md", "README.md"]

    @Test("every YAML example lints clean against the shipped rule files", arguments: documents)
    func yamlExamples(document: String) throws {
        let blocks = try Self.yamlBlocks(document)
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rulesFolder = CLI.packageRoot.appendingPathComponent("Rules")
        for (index, block) in blocks.enumerated() {
            let file = folder.appendingPathComponent("example-\(index).yaml")
            if block.text.contains("\nsite:") || block.text.hasPrefix("site:") {
                // A site: its rule files are the shipped ones, whatever relative path the example writes.
                var text = block.text
                let shipped = try FileManager.default.contentsOfDirectory(atPath: rulesFolder.path).filter { $0.hasSuffix(".yaml") }
                for name in shipped {
                    text = text.replacingOccurrences(of: "../../Rules/\(name)", with: rulesFolder.appendingPathComponent(name).path)
                }
                try text.write(to: file, atomically: true, encoding: .utf8)
                let lint = try CLI.run("flowaudit", ["lint", file.path])
                #expect(lint.status == 0, "\(document):\(block.line): the site example does not lint against Rules/: \(lint.stderr)\(lint.stdout.prefix(2000))")
                #expect(!lint.stderr.contains("error:") && !lint.stdout.contains("error:"), "\(document):\(block.line): \(lint.stderr)")
            } else if block.text.contains("system:") {
                try block.text.write(to: file, atomically: true, encoding: .utf8)
                let lint = try CLI.run("flowaudit", ["lint", file.path])
                #expect(lint.status == 0, "\(document):\(block.line): the rule file example does not lint: \(lint.stderr)")
                // An example of a shipped system is an excerpt of it: every role and rule it
                // names is in the shipped file.
                let system = block.text.split(separator: "\n").first { $0.hasPrefix("system:") }
                    .map { $0.dropFirst("system:".count).prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces) }
                if let system, FileManager.default.fileExists(atPath: rulesFolder.appendingPathComponent("\(system).yaml").path) {
                    let shipped = try String(contentsOf: rulesFolder.appendingPathComponent("\(system).yaml"), encoding: .utf8)
                    for section in ["roles", "rules"] {
                        let missing = Self.ids(in: block.text, section: section).subtracting(Self.ids(in: shipped, section: section))
                        #expect(missing.isEmpty, "\(document):\(block.line): \(section) not in Rules/\(system).yaml: \(missing.sorted())")
                    }
                }
            }
        }
    }

    @Test("the examples page has a site and a rule file example")
    func rulesPageHasBothKinds() throws {
        let blocks = try Self.yamlBlocks("docs/rules.md")
        #expect(blocks.contains { $0.text.hasPrefix("site:") })
        #expect(blocks.contains { $0.text.hasPrefix("system:") })
        let site = try #require(blocks.first { $0.text.hasPrefix("site:") })
        // The misnamed-site mistake: the example binds the shipped role names.
        #expect(site.text.contains("  internal-server:"))
    }

    /// README's `flowaudit` command lines that read the shipped samples.
    static func readmeCommands() throws -> [String] {
        let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var commands: [String] = []
        var inCode = false
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inCode.toggle(); continue }
            guard inCode else { continue }
            var current = pending + String(line)
            if current.hasSuffix("\\") { pending = String(current.dropLast()) + " "; continue }
            pending = ""
            if let hash = current.range(of: "  #") { current = String(current[..<hash.lowerBound]) }
            current = current.trimmingCharacters(in: .whitespaces)
            guard current.hasPrefix("flowaudit "), current.contains("Captures/") || current.contains("Rules/") else { continue }
            guard !current.contains(" live "), !current.contains("|"), !current.contains("day1.pcap") else { continue }
            commands.append(current)
        }
        return commands
    }

    /// Runs `command` with /bin/sh in the package root: (status, standard error).
    static func shell(_ command: String) throws -> (status: Int32, stderr: String) {
        let result = try CLI.runProcess("/bin/sh", ["-c", command])
        return (result.status, result.stderr)
    }

    @Test("README's commands on the samples run without a usage or input error")
    func readmeCommandsRun() throws {
        let commands = try Self.readmeCommands()
        #expect(commands.count >= 3)
        let binary = URL(fileURLWithPath: try CLI.executable("flowaudit")).deletingLastPathComponent().path
        for command in commands {
            let result = try Self.shell("PATH=\"\(binary):$PATH\" " + command + " > /dev/null")
            #expect(result.status == 0 || result.status == 1, "README: `\(command)` exited \(result.status): \(result.stderr)")
            #expect(!result.stderr.contains("error:"), "README: `\(command)`: \(result.stderr)")
        }
    }
}
