import Foundation
import Packets
@testable import Policy

/// Shared fixtures: inline YAML and an in-memory file reader.
enum Fixtures {
    /// A valid rule file; line numbers are quoted by the validation tests.
    static let demo = """
        system: demo
        title: Demo
        source: Demo manual
        roles:
          app:
            description: App server
            monitored: true
          db:
            description: Database
        rules:
          - id: app-db
            purpose: Queries
            from: app
            to: db
            services: [tcp/5432]
            ref: table 1
        """

    /// The descriptions of the diagnostics of one rule file text.
    static func ruleFileDiagnostics(_ text: String, file: String = "demo.yaml") -> [String] {
        PolicyLoader.parseRuleFile(text, file: file).diagnostics.sortedForDisplay.map(\.description)
    }

    /// `demo` with line `number` (1-based) replaced by `replacement` (which may hold several lines).
    static func demo(replacingLine number: Int, with replacement: String) -> String {
        var lines = demo.components(separatedBy: "\n")
        lines[number - 1] = replacement
        return lines.joined(separator: "\n")
    }

    /// A loader reading from a dictionary of path → text.
    static func loader(_ files: [String: String]) -> PolicyLoader {
        PolicyLoader(readFile: { path in
            guard let text = files[path] else { throw CocoaError(.fileReadNoSuchFile) }
            return text
        })
    }

    /// Loads and compiles; fails the caller's expectations through the returned diagnostics.
    static func compile(site: String, rules: [String: String], siteFile: String = "site.yaml") -> (CompiledPolicy, [Diagnostic]) {
        var files = rules
        files[siteFile] = site
        let result = loader(files).load(site: siteFile, rules: [])
        return (CompiledPolicy(result.policy), result.diagnostics)
    }

    static func address(_ text: String) -> IPAddress {
        guard let address = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
        return address
    }
}
