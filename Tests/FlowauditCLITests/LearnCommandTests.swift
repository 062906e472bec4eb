// End to end: `flowaudit learn` on the sample scenarios. The draft must pass `flowaudit lint`,
// and the same capture audited with a site that loads only the draft must show no unexpected
// traffic; each drafted rule carries its direction's basis and the flows that justify it.

import Foundation
import Testing

@Suite("flowaudit learn")
struct LearnCommandTests {
    @Test("the draft lints, and the capture audited with it alone has no unexpected traffic", arguments: MergeCommandTests.scenarios)
    func draft(scenario: String, file: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = "Captures/\(scenario)/\(file)"
        let draft = folder.appendingPathComponent("draft.yaml").path
        let learn = try CLI.run("flowaudit", ["learn", capture, "--site", "Captures/\(scenario)/site.yaml", "-o", draft])
        #expect(learn.status == 0, "\(learn.stderr)")
        let text = try String(contentsOfFile: draft, encoding: .utf8)
        #expect(text.hasPrefix("# DRAFT written by flowaudit learn"))
        #expect(text.contains("never a replacement"))
        #expect(text.contains("  # direction: "))
        #expect(text.contains("basis: SYN seen ("))
        #expect(text.contains("Community IDs: 1:"))

        let lint = try CLI.run("flowaudit", ["lint", draft])
        #expect(lint.status == 0, "lint: \(lint.stdout)\n\(lint.stderr)")
        #expect(!lint.stdout.contains(": error:") && !lint.stderr.contains(": error:"), "\(lint.stderr)")

        // A site that loads the draft alone: its roles are bound by the draft's addresses.
        let site = folder.appendingPathComponent("learned-site.yaml")
        try "site: learned\nrules: [\(draft)]\n".write(to: site, atomically: true, encoding: .utf8)
        let audit = try CLI.run("flowaudit", ["audit", capture, "--site", site.path, "--format", "json", "--digest", "none",
                                              "--fail-on", "unexpected"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let report = try audit.json()
        let unexpected = try #require(report["unexpected"] as? [[String: Any]])
        #expect(unexpected.isEmpty, "unexpected with the draft: \(unexpected.map { "\($0["initiator"] ?? "") -> \($0["responder"] ?? "") \($0["service"] ?? "")" })")
        // Every drafted rule was observed (it is what the capture showed), none blocked.
        let rules = try #require(report["rules"] as? [[String: Any]])
        #expect(!rules.isEmpty)
        #expect(rules.allSatisfy { $0["status"] as? String == "observed" }, "\(rules.filter { $0["status"] as? String != "observed" }.map { $0["id"] ?? "" })")
        // The vendor's site with the draft added: still nothing unexpected.
        let both = try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/\(scenario)/site.yaml", "--rules", draft,
                                             "--format", "json", "--digest", "none"])
        #expect((try both.json()["unexpected"] as? [[String: Any]])?.isEmpty == true)
    }

    @Test("ARKSSPR: the license check is drafted from the internal servers to the license server on tcp/443, one-way by its SYNs")
    func arkssprLicense() throws {
        let result = try CLI.run("flowaudit", ["learn", "Captures/arksspr/capture.pcapng", "--site", "Captures/arksspr/site.yaml", "--system", "ark-draft"])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdout
        #expect(text.contains("system: ark-draft\n"))
        #expect(text.contains("  - id: internal-server-to-license-server-tcp-443\n"), "\(text)")
        let block = try #require(text.components(separatedBy: "  - id: internal-server-to-license-server-tcp-443\n").last)
        #expect(block.hasPrefix("    purpose: \"Observed tcp/443 from internal-server to license-server\"\n    from: internal-server\n    to: license-server\n    services: [tcp/443]\n    required: false\n"))
        let before = try #require(text.components(separatedBy: "  - id: internal-server-to-license-server-tcp-443\n").first)
        let comments = before.split(separator: "\n").suffix(2)
        #expect(comments.first?.hasPrefix("  # direction: one-way; basis: SYN seen (2 flows)") == true, "\(comments)")
        #expect(comments.last?.contains("justified by 2 flows") == true)
        // The roles carry the site's monitored flag and the addresses seen.
        #expect(text.contains("  internal-server:\n    # the site's role arksspr.internal-server; addresses: those seen in the drafted flows\n"))
        #expect(text.contains("    monitored: true\n"))
        // Refused attempts are comments, not rules.
        #expect(text.contains("# Refused attempts (not drafted: the network stopped them):\n"))
        // A bad system id is a usage error.
        let bad = try CLI.run("flowaudit", ["learn", "Captures/arksspr/capture.pcapng", "--site", "Captures/arksspr/site.yaml", "--system", "Bad_Id"])
        #expect(bad.status == 2)
    }
}
