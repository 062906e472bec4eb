// `audit --format csv` read back by a strict RFC 4180 reader written here (not CSV.swift, which
// writes it): every record has the header's fields, one record per finding, hostile text intact.

import Audit
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

@Suite("AuditCSV (RFC 4180)")
struct AuditCSVTests {
    static let header = ["kind", "finding", "rule", "system", "initiator", "responder", "service", "vlan", "flows",
                         "first_seen", "last_seen", "summary", "evidence", "community_ids", "filter"]

    func rows(_ report: AuditReport) throws -> [[String]] {
        let text = AuditCSV.render(report)
        #expect(text.hasSuffix("\r\n"), "records end in CRLF")
        return try RFC4180.parse(text)
    }

    @Test("a header, then one record per finding, every record with the header's field count")
    func recordsAndFields() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let records = try rows(report)
        #expect(records.first == Self.header)
        for (index, record) in records.enumerated() {
            #expect(record.count == Self.header.count, "record \(index): \(record.count) fields")
        }
        let body = records.dropFirst()
        let findings = FindingCategory.allCases.reduce(0) { $0 + (report.counts[$1] ?? 0) }
        #expect(body.count == findings)
        func kinds(_ kind: String) -> [[String]] { body.filter { $0[0] == kind } }
        #expect(kinds("unexpected").count == report.unexpected.count)
        #expect(kinds("attempt").count == report.attempts.count)
        #expect(kinds("advisory").map { $0[1] } == ["tls-below-minimum"])
        // Rules: only findings, in file order.
        #expect(kinds("rule").map { [$0[1], $0[2], $0[3]] } == [["blocked", "demo/ldap", "demo"], ["missing", "demo/backup", "demo"]])
        let busy = try #require(kinds("unexpected").first { $0[5] == "\(Fixture.busyAddress)" })
        #expect(busy[4] == "10.1.0.10" && busy[6] == "tcp/9000" && busy[7] == "" && busy[8] == "2")
        #expect(busy[9].wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil)
        #expect(busy[13].split(separator: " ").count == 2, "two Community IDs, space separated")
        #expect(busy[14] == "host 10.1.0.10 and host 203.0.113.5 and tcp port 9000")
        let missing = try #require(kinds("rule").first { $0[1] == "missing" })
        #expect(missing[8] == "0" && missing[9] == "" && missing[10] == "")
    }

    @Test("hostile names and rule text survive quoting: quotes, commas, line breaks, a control character, non-ASCII")
    func hostileTextRoundTrips() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let records = try rows(report)
        let ldap = try #require(records.first { $0[0] == "rule" && $0[2] == "demo/ldap" })
        #expect(ldap[12].contains(Fixture.hostilePurpose))
        #expect(ldap[12].contains(Fixture.hostileRef))
        // The evidence is one fact a line, with LF line breaks.
        #expect(!ldap[12].contains("\r"))
        #expect(ldap[12].split(separator: "\n", omittingEmptySubsequences: false).first == "rule: demo/ldap")
        let hostile = try #require(records.first { $0[0] == "unexpected" && $0[5] == "\(Fixture.hostileAddress)" })
        #expect(hostile[12].contains("(\(Fixture.hostileDNSNameInReport))"))
        let sni = try #require(records.first { $0[0] == "unexpected" && $0[5] == "\(Fixture.sniAddress)" })
        #expect(sni[12].contains("(\(Fixture.hostileSNI))"))
    }

    @Test("the writer quotes exactly the fields RFC 4180 says must be quoted")
    func quoting() throws {
        let fields = ["plain", "with,comma", "with \"quote\"", "line\nfeed", "carriage\rreturn", "", "é 日本", "tab\there"]
        let text = AuditCSV.write([fields, ["a", "b", "c", "d", "e", "f", "g", "h"]])
        #expect(text.hasPrefix("plain,\"with,comma\",\"with \"\"quote\"\"\",\"line\nfeed\",\"carriage\rreturn\",,é 日本,tab\there\r\n"))
        #expect(text.hasSuffix("a,b,c,d,e,f,g,h\r\n"))
        #expect(try RFC4180.parse(text) == [fields, ["a", "b", "c", "d", "e", "f", "g", "h"]])
        #expect(AuditCSV.write([]) == "")
    }

    @Test("the test's reader refuses what RFC 4180 does not allow, so it can catch a bad writer",
          arguments: ["a,b\"c\r\n", "a,\"b\"c\r\n", "a,b\nc\r\n", "a,\"b\r\n", "a,b\rc\r\n"])
    func readerIsStrict(text: String) {
        #expect(throws: RFC4180.Malformed.self) { try RFC4180.parse(text) }
    }

    @Test("a capture with nothing in scope gives one no-scope record")
    func noScope() throws {
        let workspace = try Workspace()
        let outside = Fixture.talk.tcpSession(client: Endpoint(IPAddress("192.0.2.1")!, 5000), server: Endpoint(IPAddress("192.0.2.2")!, 80),
                                              at: Fixture.t0)
        let report = try workspace.audit(outside)
        let records = try rows(report)
        let findings = FindingCategory.allCases.reduce(0) { $0 + (report.counts[$1] ?? 0) }
        #expect(records.count == 1 + findings)
        #expect(records.filter { $0[0] == "scope" }.count == 1)
        #expect(records.last?[0] == "scope" && records.last?[1] == "no-scope" && records.last?[8] == "0")
        #expect(records.last?.count == Self.header.count)
    }
}
