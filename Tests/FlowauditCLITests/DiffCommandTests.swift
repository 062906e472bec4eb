// End to end: `flowaudit diff` over real audit reports: the remotespark scenario audited with
// its site, and with a site that allowed more (the CDN bound to a host the clients reached, the
// Twilio TURN server as a STUN/TURN server), so that going from one to the other regresses.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("flowaudit diff")
struct DiffCommandTests {
    /// Writes the two reports into `folder`: `wider.json` (the wider site) and `site.json` (the
    /// scenario's own site).
    static func reports(in folder: URL) throws -> (wider: String, site: String) {
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
        #expect(text.contains("  stun-turn: [internet]\n"))
        text = text.replacingOccurrences(of: "../../Rules/remotespark.yaml", with: CLI.packageRoot.appendingPathComponent("Rules/remotespark.yaml").path)
        text = text.replacingOccurrences(of: "  stun-turn: [internet]\n", with: "  stun-turn: [internet, 203.0.113.90]\n  cdn: [93.184.216.34]\n")
        let site = folder.appendingPathComponent("wider-site.yaml")
        try text.write(to: site, atomically: true, encoding: .utf8)
        let wider = folder.appendingPathComponent("wider.json").path, own = folder.appendingPathComponent("site.json").path
        for (site, output) in [(site.path, wider), ("Captures/remotespark/site.yaml", own)] {
            let result = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", site, "--format", "json",
                                                   "--output", output, "--digest", "none"])
            #expect(result.status == 0 || result.status == 1, "audit with \(site): \(result.stderr)")
        }
        return (wider, own)
    }

    @Test("a narrower site regresses: new unexpected group, rule newly missing, observed rules now blocked (exit 1)")
    func regression() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (wider, own) = try Self.reports(in: folder)
        let result = try CLI.run("flowaudit", ["diff", wider, own, "--format", "json"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let diff = try result.json()
        #expect(diff["regression"] as? Bool == true)
        #expect(diff["exit_status"] as? Int == 1)
        let unexpected = try #require(diff["unexpected"] as? [String: [[String: Any]]])
        #expect(unexpected["new"]?.compactMap { $0["key"] as? String } == ["10.100.0.21 -> 93.184.216.34 tcp/443 vlan 100"])
        #expect(unexpected["resolved"]?.isEmpty == true)
        let rules = try #require(diff["rules"] as? [String: [[String: Any]]])
        func ids(_ list: String) -> [String] { (rules[list] ?? []).compactMap { $0["id"] as? String }.sorted() }
        #expect(ids("newly_missing") == ["remotespark/cdn"])
        #expect(ids("newly_blocked") == ["remotespark/pinned-datacentre-stun-turn", "remotespark/stun-turn"])
        #expect(ids("observed_to_blocked") == ["remotespark/pinned-datacentre-stun-turn", "remotespark/stun-turn"])
        #expect((rules["newly_missing"]?.first)?["before"] as? String == "observed")
        #expect(ids("resolved").isEmpty)

        // The text says the same, and names the rules that were observed.
        let text = try CLI.run("flowaudit", ["diff", wider, own])
        #expect(text.status == 1)
        #expect(text.stdout.contains("New unexpected traffic (REGRESSION): 1\n  10.100.0.21 -> 93.184.216.34 tcp/443 vlan 100"))
        #expect(text.stdout.contains("remotespark/stun-turn  observed -> blocked  (was observed, now refused)"))
        #expect(text.stdout.contains("remotespark/cdn  observed -> missing"))
        #expect(text.stdout.contains("REGRESSION: 1 new unexpected, 1 newly missing, 2 newly blocked (exit 1)"))
    }

    @Test("the other way round nothing regresses: the group and the rules are resolved (exit 0)")
    func improvement() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (wider, own) = try Self.reports(in: folder)
        let result = try CLI.run("flowaudit", ["diff", own, wider, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let diff = try result.json()
        #expect(diff["regression"] as? Bool == false)
        let unexpected = try #require(diff["unexpected"] as? [String: [[String: Any]]])
        #expect(unexpected["new"]?.isEmpty == true)
        #expect(unexpected["resolved"]?.compactMap { $0["key"] as? String } == ["10.100.0.21 -> 93.184.216.34 tcp/443 vlan 100"])
        let rules = try #require(diff["rules"] as? [String: [[String: Any]]])
        #expect(Set((rules["resolved"] ?? []).compactMap { $0["id"] as? String })
                == ["remotespark/cdn", "remotespark/stun-turn", "remotespark/pinned-datacentre-stun-turn"])

        // A report compared with itself: no change at all.
        let same = try CLI.run("flowaudit", ["diff", own, own, "--format", "json"]).json()
        #expect((same["rules"] as? [String: [[String: Any]]])?["changed"]?.isEmpty == true)
        #expect((same["unexpected"] as? [String: [[String: Any]]])?["new"]?.isEmpty == true)
    }

    @Test("JUnit: a failing testcase per regression")
    func junit() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (wider, own) = try Self.reports(in: folder)
        let result = try CLI.run("flowaudit", ["diff", wider, own, "--format", "junit"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let doc = try JUnitDocument(result.stdout)
        #expect(doc.root.int("failures") == 4)
        let rules = try doc.suite("rules")
        #expect(rules.cases.first { $0.attr("name") == "remotespark/cdn" }?.child("failure")?.attr("type") == "newly-missing")
        #expect(rules.cases.first { $0.attr("name") == "remotespark/stun-turn" }?.child("failure")?.attr("message")?
            .hasPrefix("was observed, now blocked") == true)
        let unexpected = try doc.suite("unexpected")
        #expect(unexpected.cases.compactMap { $0.child("failure")?.attr("type") } == ["new-unexpected"])
        if let schema = JUnitReportTests.schema {
            let file = folder.appendingPathComponent("diff.xml")
            try result.stdoutData.write(to: file)
            let check = try CLI.runProcess("/usr/bin/env", ["xmllint", "--noout", "--schema", schema, file.path])
            #expect(check.status == 0, "xmllint: \(check.stderr)")
        }
    }

    @Test("a file that cannot be read or is not an audit report is exit 2")
    func errors() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, own) = try Self.reports(in: folder)
        let missing = try CLI.run("flowaudit", ["diff", own, folder.appendingPathComponent("nope.json").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read") && missing.stderr.contains("nope.json"), "stderr: \(missing.stderr)")
        // The scenario's expected.json is JSON, but not a report.
        let other = try CLI.run("flowaudit", ["diff", "Captures/remotespark/expected.json", own])
        #expect(other.status == 2)
        #expect(other.stderr.contains("is not a flowaudit audit report"), "stderr: \(other.stderr)")
        #expect(other.stdout.isEmpty)
        let usage = try CLI.run("flowaudit", ["diff", own])
        #expect(usage.status == 2)
    }
}
