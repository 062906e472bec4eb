import Audit
import CSV
import Foundation

/// The findings as CSV (docs/report.md, "`flowaudit audit --format csv`"): a header row, then
/// one row per finding — rules missing, blocked or partial, unexpected groups, refused
/// attempts, advisories, and a capture with nothing in scope. Written by CSV.swift's
/// `CSVWriter`, which quotes as RFC 4180 asks (a field with a comma, a double quote or a line
/// break is quoted, its quotes doubled); records end in CRLF, the evidence field holds LF
/// line breaks.
public enum AuditCSV {
    public static let header = ["kind", "finding", "rule", "system", "initiator", "responder", "service", "vlan", "flows",
                                "first_seen", "last_seen", "summary", "evidence", "community_ids", "filter"]

    public static func render(_ report: AuditReport) -> String {
        write([header] + rows(report))
    }

    /// The rows, in report order: rules (file order), unexpected groups, attempts, advisories.
    static func rows(_ report: AuditReport) -> [[String]] {
        var rows: [[String]] = []
        func time(_ t: Int64?) -> String { t.map(Format.timestamp) ?? "" }
        for rule in report.rules where rule.status == .missing || rule.status == .blocked || rule.status == .partial {
            let example = rule.blockedExamples.first
            rows.append(["rule", rule.status.rawValue, rule.qualifiedID, rule.system,
                         example.map { "\($0.initiator)" } ?? "", example.map { "\($0.responder)" } ?? "",
                         example.map(AuditText.service) ?? "", example?.vlan.map(String.init) ?? "",
                         "\(rule.attemptedFlows + rule.completedFlows + rule.unansweredFlows)",
                         time(rule.firstSeen), time(rule.lastSeen), FindingText.ruleSummary(rule),
                         FindingText.ruleEvidence(rule).joined(separator: "\n"),
                         rule.blockedCommunityIDs.joined(separator: " "), ""])
        }
        for (groups, attempt) in [(report.unexpected, false), (report.attempts, true)] {
            for g in groups {
                rows.append([attempt ? "attempt" : "unexpected", attempt ? "attempt" : "unexpected", "", "",
                             "\(g.initiator)", "\(g.responder)", g.service, g.vlan.map(String.init) ?? "", "\(g.flows)",
                             time(g.firstSeen), time(g.lastSeen), FindingText.groupSummary(g, attempt: attempt),
                             FindingText.groupEvidence(g, attempt: attempt).joined(separator: "\n"),
                             g.communityIDs.joined(separator: " "), g.filter])
            }
        }
        for a in report.advisories {
            let e = a.example
            rows.append(["advisory", a.kind.rawValue, a.reference ?? "", "", "\(e.initiator)", "\(e.responder)",
                         AuditText.service(e), e.vlan.map(String.init) ?? "", "\(a.flows)", time(e.start), time(e.end),
                         a.message, FindingText.advisoryEvidence(a).joined(separator: "\n"), e.communityID, ""])
        }
        if report.verdict == .noScope {
            rows.append(["scope", "no-scope", "", "", "", "", "", "", "0", "", "",
                         "no flow touches a monitored host of the site: nothing was audited",
                         "\(Format.count(report.outOfScopeFlows, "flow")) out of scope; check the site's addresses and where and when the capture was taken",
                         "", ""])
        }
        return rows
    }

    /// Rows as RFC 4180 CSV, each record ending in CRLF.
    public static func write(_ rows: [[String]]) -> String {
        let stream = OutputStream.toMemory()
        // Writing to memory fails only when memory does; the rows are then cut short, never corrupt.
        guard let writer = try? CSVWriter(stream: stream, newline: .crlf) else { return "" }
        for row in rows { try? writer.write(row: row) }
        stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + (rows.isEmpty ? "" : "\r\n")
    }
}
