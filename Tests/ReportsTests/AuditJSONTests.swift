// `audit --format json` (docs/report.md, version 1) rendered from real audits: it parses with
// two independent readers, its counts agree with its own lists and with the report, and hostile
// text from packets and rule files comes back exactly.

import Audit
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

@Suite("AuditJSON")
struct AuditJSONTests {
    func render(_ report: AuditReport, exitStatus: Int32 = 1) throws -> (text: String, value: JSONValue) {
        let text = AuditJSON.render(report, failOn: defaultFailOn, exitStatus: exitStatus)
        return (text, try JSONValue.parse(Array(text.utf8)))
    }

    @Test("the report is RFC 8259 JSON with the documented top-level keys, in order")
    func documentedLayout() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let (text, value) = try render(report)
        _ = try foundationJSON(text)
        #expect(value.members?.map(\.0) == [
            "version", "verdict", "tool", "command_line", "site", "systems", "evidence", "summary", "rules",
            "unexpected", "attempts", "advisories", "link_control", "document_notes", "policy_warnings", "decode",
            "tables", "named_addresses", "malformed_messages", "completeness",
        ])
        #expect(value["version"]?.int64 == 1)
        #expect(value["tool"]?["name"]?.string == "flowaudit")
        #expect(value["command_line"] == .array([.string("flowaudit"), .string("audit"), .string("capture.pcap")]))
        #expect(value["evidence"]?["policy_files"]?.array?.compactMap { $0["kind"]?.string } == ["site", "rules"])
        let input = try #require(value["evidence"]?["inputs"]?.array?.first)
        #expect(input["sha256"]?.string?.count == 64)
        #expect(input["packets"]?.int64 == Int64(Fixture.fullCapture().count))
    }

    @Test("summary counts equal the report's findings and the lengths of the lists")
    func summaryCounts() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let (_, value) = try render(report, exitStatus: 1)
        let counts = try #require(value["summary"]?["counts"])
        #expect(counts.members?.map(\.0) == ["unexpected", "attempt", "missing", "blocked", "advisory", "no-scope"])
        for category in FindingCategory.allCases {
            #expect(counts[category.rawValue]?.int64 == Int64(report.counts[category] ?? 0), "\(category)")
        }
        let rules = try #require(value["rules"]?.array)
        let statuses = rules.compactMap { $0["status"]?.string }
        #expect(counts["unexpected"]?.int64 == Int64(value["unexpected"]?.array?.count ?? -1))
        #expect(counts["attempt"]?.int64 == Int64(value["attempts"]?.array?.count ?? -1))
        #expect(counts["advisory"]?.int64 == Int64(value["advisories"]?.array?.count ?? -1))
        #expect(counts["missing"]?.int64 == Int64(statuses.filter { $0 == "missing" || $0 == "partial" }.count))
        #expect(counts["blocked"]?.int64 == Int64(statuses.filter { $0 == "blocked" }.count))
        // The scenario as built: license observed (two flows), ldap blocked, backup missing,
        // portal optional and not seen.
        #expect(rules.compactMap { $0["id"]?.string } == ["demo/license", "demo/ldap", "demo/backup", "demo/portal"])
        #expect(statuses == ["observed", "blocked", "missing", "not-seen"])
        #expect(counts["unexpected"]?.int64 == 4 && counts["attempt"]?.int64 == 1 && counts["advisory"]?.int64 == 1)
        // Verdict and exit status as docs/report.md derives them.
        #expect(value["verdict"]?.string == "FAIL")
        #expect(value["summary"]?["fail_on"] == .array(["unexpected", "missing", "blocked", "no-scope"].map(JSONValue.string)))
        #expect(value["summary"]?["failing"] == .array(["unexpected", "missing", "blocked"].map(JSONValue.string)))
        #expect(value["summary"]?["exit_status"]?.int64 == 1)
        #expect(value["summary"]?["in_scope_flows"]?.int64 == Int64(report.inScopeFlows))
        #expect(report.inScopeFlows == 9)
    }

    @Test("groups carry their documented fields, finding ids and flow counts")
    func groups() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let (_, value) = try render(report)
        let unexpected = try #require(value["unexpected"]?.array)
        for group in unexpected {
            #expect(group["id"]?.string?.wholeMatch(of: /U-[0-9a-f]{10}/) != nil)
            #expect(group["community_ids"]?.array?.count == group["flows"]?.int64.map(Int.init))
            #expect(group["uids"]?.array?.count == group["community_ids"]?.array?.count)
        }
        let busy = try #require(unexpected.first { $0["responder"]?.string == "\(Fixture.busyAddress)" })
        #expect(busy["flows"]?.int64 == 2 && busy["service"]?.string == "tcp/9000" && busy["port"]?.int64 == 9000)
        #expect(busy["initiator_roles"] == .array([.string("demo.app")]))
        #expect(busy["filter"]?.string == "host 10.1.0.10 and host 203.0.113.5 and tcp port 9000")
        let attempt = try #require(value["attempts"]?.array?.first)
        #expect(attempt["id"]?.string?.hasPrefix("A-") == true)
        #expect(attempt["responder"]?.string == "\(Fixture.refusingAddress)" && attempt["service"]?.string == "tcp/25")
        let ldap = try #require(value["rules"]?.array?.first { $0["id"]?.string == "demo/ldap" })
        #expect(ldap["blocked_examples"]?.array?.first?["refusal"]?.string == "refused by RST from 10.1.0.2")
        #expect(ldap["attempted_flows"]?.int64 == 1)
    }

    @Test("hostile names from a DNS answer and a TLS server name, and hostile rule text, come back exactly")
    func hostileTextRoundTrips() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let (text, value) = try render(report)
        // What the audit learned (RFC 4343 escapes for the bytes outside printable ASCII).
        let learned = try #require(report.unexpected.first { $0.responder == Fixture.hostileAddress })
        #expect(learned.responderNames == [Fixture.hostileDNSNameInReport])
        let unexpected = try #require(value["unexpected"]?.array)
        let hostile = try #require(unexpected.first { $0["responder"]?.string == "\(Fixture.hostileAddress)" })
        #expect(hostile["responder_names"] == .array([.string(Fixture.hostileDNSNameInReport)]))
        let sni = try #require(unexpected.first { $0["responder"]?.string == "\(Fixture.sniAddress)" })
        #expect(sni["responder_names"] == .array([.string(Fixture.hostileSNI)]))
        let ldap = try #require(value["rules"]?.array?.first { $0["id"]?.string == "demo/ldap" })
        #expect(ldap["purpose"]?.string == Fixture.hostilePurpose)
        #expect(ldap["ref"]?.string == Fixture.hostileRef)
        // Foundation's parser reads the same strings.
        let object = try #require(try foundationJSON(text) as? [String: Any])
        let rules = try #require(object["rules"] as? [[String: Any]])
        #expect(rules.first { $0["id"] as? String == "demo/ldap" }?["purpose"] as? String == Fixture.hostilePurpose)
        let groups = try #require(object["unexpected"] as? [[String: Any]])
        let names = groups.first { $0["responder"] as? String == "\(Fixture.hostileAddress)" }?["responder_names"] as? [String]
        #expect(names == [Fixture.hostileDNSNameInReport])
        // Raw control characters never appear inside a string (RFC 8259 7): the only ones in
        // the text are the line feeds between top-level members.
        #expect(!text.utf8.contains { $0 < 0x20 && $0 != 0x0A })
        #expect(text.utf8.filter { $0 == 0x0A }.count == value.members!.count)
    }

    @Test("a capture with nothing in scope is NO-SCOPE with no-scope counted")
    func noScope() throws {
        let workspace = try Workspace()
        let outside = Fixture.talk.tcpSession(client: Endpoint(IPAddress("192.0.2.1")!, 5000), server: Endpoint(IPAddress("192.0.2.2")!, 80),
                                              at: Fixture.t0)
        let report = try workspace.audit(outside)
        let (_, value) = try render(report, exitStatus: 1)
        #expect(value["verdict"]?.string == "NO-SCOPE")
        #expect(value["summary"]?["counts"]?["no-scope"]?.int64 == 1)
        #expect(value["summary"]?["in_scope_flows"]?.int64 == 0)
        #expect(value["summary"]?["out_of_scope_flows"]?.int64 == 1)
        #expect(value["summary"]?["failing"]?.array?.contains(JSONValue.string("no-scope")) == true)
    }

    @Test("flow evidence: times in ISO 8601 UTC with microseconds, ports, state")
    func evidence() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.licenseSession())
        let example = try #require(report.rules.first { $0.qualifiedID == "demo/license" }?.example)
        let value = try JSONValue.parse(Array(AuditJSON.evidence(example).utf8))
        #expect(value["initiator"]?.string == "10.1.0.10" && value["initiator_port"]?.int64 == 40001)
        #expect(value["responder"]?.string == "198.18.0.7" && value["responder_port"]?.int64 == 443)
        #expect(value["protocol"]?.string == "tcp")
        #expect(value["start"]?.string == "2023-11-14T22:13:21.000000Z")
        #expect(value["end"]?.string?.wholeMatch(of: /2023-11-14T22:13:2\d\.\d{6}Z/) != nil)
        #expect(value["community_id"]?.string?.hasPrefix("1:") == true)
        #expect(value["refusal"] == nil && value["one_sided"] == nil)
    }
}
