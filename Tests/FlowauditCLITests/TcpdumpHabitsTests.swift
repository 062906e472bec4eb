import Foundation
import Testing

/// What a tcpdump user types: `-r FILE`, and `NO_COLOR` (no-color.org) on a terminal.
@Suite("tcpdump's habits: -r FILE and NO_COLOR")
struct TcpdumpHabitsTests {
    static let system = "remotespark"
    static var capture: String { get throws { "Captures/\(system)/\(try ScenarioAuditTests.Expected(system: system).capture)" } }
    static let site = "Captures/\(system)/site.yaml"

    @Test("-r FILE reads the capture as the positional form does (flows and audit)")
    func readOption() throws {
        let capture = try Self.capture
        let positional = try CLI.run("flowaudit", ["flows", capture, "--format", "csv"])
        let withR = try CLI.run("flowaudit", ["flows", "-r", capture, "--format", "csv"])
        #expect(positional.status == 0 && withR.status == 0, "\(withR.stderr)")
        #expect(withR.stdout == positional.stdout)
        #expect(withR.stdout.split(separator: "\n").count > 5, "a table of flows, not an empty one")

        let audit = try CLI.run("flowaudit", ["audit", capture, "--site", Self.site, "--format", "json"])
        let auditR = try CLI.run("flowaudit", ["audit", "-r", capture, "--site", Self.site, "--format", "json"])
        #expect(auditR.status == audit.status)
        let a = try audit.json(), b = try auditR.json()
        #expect((a["summary"] as? [String: Any])?["verdict"] as? String == (b["summary"] as? [String: Any])?["verdict"] as? String)
        #expect((a["rules"] as? [Any])?.count == (b["rules"] as? [Any])?.count)
        #expect((a["decode"] as? [String: Any])?["packets"] as? Int == (b["decode"] as? [String: Any])?["packets"] as? Int)
        #expect(((b["decode"] as? [String: Any])?["packets"] as? Int ?? 0) > 0)
    }

    @Test("-r twice, or -r and a positional file: both are read, the -r ones first")
    func readOptionWithPositional() throws {
        let capture = try Self.capture
        let once = try CLI.run("flowaudit", ["flows", capture, "--format", "json"]).json()
        let twice = try CLI.run("flowaudit", ["flows", "-r", capture, capture, "--format", "json"]).json()
        let inputs = try #require(twice["inputs"] as? [[String: Any]], "\(twice.keys)")
        #expect(inputs.count == 2)
        #expect(((once["inputs"] as? [[String: Any]])?.count) == 1)
    }

    @Test("no capture at all: a usage error naming both forms, exit 2")
    func noCapture() throws {
        let result = try CLI.run("flowaudit", ["flows"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("-r FILE") && result.stderr.contains("no capture given"), "\(result.stderr)")
    }

    /// Runs the audit's text report on a terminal (a pseudo-terminal from `script`).
    static func onTerminal(noColor: String?) throws -> String {
        try Terminal.run(["audit", try Self.capture, "--site", Self.site], environment: ["NO_COLOR": noColor])
    }

    @Test("the text report is coloured on a terminal, and not when NO_COLOR is set and not empty")
    func noColorEnvironment() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a terminal")
        let coloured = try Self.onTerminal(noColor: nil)
        #expect(coloured.contains("\u{1B}["), "colour on a terminal: \(coloured.prefix(300))")
        #expect(coloured.contains("FAIL") || coloured.contains("PASS"))
        let plain = try Self.onTerminal(noColor: "1")
        #expect(!plain.contains("\u{1B}["), "NO_COLOR=1: \(plain.prefix(300))")
        #expect(plain.contains("FAIL") || plain.contains("PASS"))
        // An empty NO_COLOR does not count (no-color.org).
        #expect(try Self.onTerminal(noColor: "").contains("\u{1B}["))
    }
}
