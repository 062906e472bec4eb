// `flowaudit diff` and `flowaudit merge` on JSON reports of real audits (docs/report.md): a
// finding one report has and the other has not is new or resolved; merging with the report of
// an empty capture of the same site decides nothing differently.

import Audit
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

/// Writes `report` as `audit --format json` into the workspace and returns its path.
func writeJSON(_ report: AuditReport, _ name: String, in workspace: Workspace, exitStatus: Int32 = 1) throws -> String {
    let path = workspace.path(name)
    try AuditJSON.render(report, failOn: defaultFailOn, exitStatus: exitStatus).write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("ReportDiff")
struct ReportDiffTests {
    /// BEFORE: the full scenario. AFTER: the hostile name's flow gone, a new unexpected SMTP
    /// flow, LDAP now answered on 636, the license server never reached.
    func reports() throws -> (Workspace, before: String, after: String) {
        let workspace = try Workspace()
        let before = try workspace.audit(Fixture.fullCapture(), name: "before.pcap")
        let talk = Fixture.talk, t0 = Fixture.t0, second = Fixture.second
        let after = try workspace.audit(TimedFrame.merge([
            Fixture.dnsAnswer(), Fixture.sniSession(), Fixture.busySessions(), Fixture.unansweredAttempt(),
            talk.tcpSession(client: Endpoint(Fixture.app, 40100), server: Endpoint(IPAddress("192.0.2.99")!, 25), at: t0 + 10 * second),
            talk.tcpSession(client: Endpoint(Fixture.app, 40101), server: Endpoint(Fixture.directory, 636), at: t0 + 11 * second),
        ]), name: "after.pcap")
        return (workspace, try writeJSON(before, "before.json", in: workspace), try writeJSON(after, "after.json", in: workspace))
    }

    @Test("a group only AFTER has is new, one only BEFORE has is resolved; rule changes are classified")
    func newAndResolved() throws {
        let (workspace, beforePath, afterPath) = try reports()
        _ = workspace
        let diff = ReportDiff(before: beforePath, try ReportDiff.read(beforePath), after: afterPath, try ReportDiff.read(afterPath))
        #expect(diff.newUnexpected.map { "\($0.responder) \($0.service)" } == ["192.0.2.99 tcp/25"])
        #expect(diff.resolvedUnexpected.map { "\($0.responder) \($0.service)" } == ["198.51.100.77 tcp/8080"])
        #expect(diff.newAttempts.isEmpty && diff.resolvedAttempts.isEmpty)
        #expect(diff.newlyMissing.map { "\($0.id) \($0.before ?? "-") \($0.after ?? "-")" } == ["demo/license observed missing"])
        #expect(diff.resolvedRules.map { "\($0.id) \($0.before ?? "-") \($0.after ?? "-")" } == ["demo/ldap blocked observed"])
        #expect(diff.newlyBlocked.isEmpty)
        #expect(diff.resolvedAdvisories.map(\.kind) == ["tls-below-minimum"])
        #expect(diff.isRegression && diff.exitStatus == 1)
        // The JSON rendering says the same.
        let json = try JSONValue.parse(Array(ReportDiffJSON.render(diff).utf8))
        #expect(json["regression"]?.bool == true && json["exit_status"]?.int64 == 1)
        #expect(json["unexpected"]?["new"]?.array?.count == 1 && json["unexpected"]?["resolved"]?.array?.count == 1)
        #expect(json["rules"]?["newly_missing"]?.array?.first?["id"]?.string == "demo/license")
        #expect(json["before"]?["path"]?.string == beforePath)
    }

    @Test("the other way round, the same changes swap sides and nothing regresses that was only resolved")
    func reversed() throws {
        let (workspace, beforePath, afterPath) = try reports()
        _ = workspace
        let diff = ReportDiff(before: afterPath, try ReportDiff.read(afterPath), after: beforePath, try ReportDiff.read(beforePath))
        #expect(diff.newUnexpected.map { "\($0.responder) \($0.service)" } == ["198.51.100.77 tcp/8080"])
        #expect(diff.resolvedUnexpected.map { "\($0.responder) \($0.service)" } == ["192.0.2.99 tcp/25"])
        // ldap observed -> blocked: newly blocked, and observed_to_blocked.
        #expect(diff.newlyBlocked.map(\.id) == ["demo/ldap"])
        #expect(diff.observedToBlocked.map(\.id) == ["demo/ldap"])
        #expect(diff.resolvedRules.map(\.id) == ["demo/license"])
        #expect(diff.newAdvisories.map(\.kind) == ["tls-below-minimum"])
        #expect(diff.isRegression)
    }

    @Test("a report compared with itself has no change and exits 0")
    func identical() throws {
        let (workspace, beforePath, _) = try reports()
        _ = workspace
        let report = try ReportDiff.read(beforePath)
        let diff = ReportDiff(before: beforePath, report, after: beforePath, report)
        #expect(diff.newUnexpected.isEmpty && diff.resolvedUnexpected.isEmpty && diff.changedRules.isEmpty)
        #expect(diff.newAdvisories.isEmpty && diff.resolvedAdvisories.isEmpty)
        #expect(!diff.isRegression && diff.exitStatus == 0)
        #expect(ReportDiffText.render(diff).contains("no regression"))
    }

    @Test("a file that is not an audit report is refused with its path named")
    func notAReport() throws {
        let workspace = try Workspace()
        let path = workspace.path("other.json")
        try #"{"version": 1, "verdict": "PASS"}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ReportDiff.read(path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("rules")
        }
        try #"{"version": 2, "verdict": "PASS", "rules": [], "unexpected": [], "attempts": [], "advisories": []}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ReportDiff.read(path)
        } throws: { error in
            "\(error)".contains("version 2")
        }
    }
}

@Suite("ReportMerge")
struct ReportMergeTests {
    /// The findings and decisions of a report: what a merge must not change.
    func decisions(_ report: JSONValue) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        out["verdict"] = report["verdict"]
        out["counts"] = report["summary"]?["counts"]
        out["exit_status"] = report["summary"]?["exit_status"]
        out["failing"] = report["summary"]?["failing"]
        out["in_scope_flows"] = report["summary"]?["in_scope_flows"]
        out["rules"] = report["rules"]
        out["unexpected"] = report["unexpected"]
        out["attempts"] = report["attempts"]
        out["advisories"] = report["advisories"]
        out["named_addresses"] = report["named_addresses"]
        return out
    }

    @Test("merging a report with the report of an empty capture of the same site changes no decision, in either order")
    func emptyShardChangesNothing() throws {
        let workspace = try Workspace()
        let full = try writeJSON(try workspace.audit(Fixture.fullCapture(), name: "full.pcap"), "full.json", in: workspace)
        let empty = try writeJSON(try workspace.audit([], name: "empty.pcap"), "empty.json", in: workspace)
        let fullReport = try ReportMerge.read(full)
        let emptyReport = try ReportMerge.read(empty)
        #expect(emptyReport["verdict"]?.string == "NO-SCOPE")
        for order in [[(full, fullReport), (empty, emptyReport)], [(empty, emptyReport), (full, fullReport)]] {
            let merge = try ReportMerge(order.map { (path: $0.0, report: $0.1) }, failOn: defaultFailOn, commandLine: ["flowaudit", "merge"])
            let merged = merge.merged
            for (key, value) in decisions(fullReport) {
                #expect(decisions(merged)[key] == value, "\(key), \(order.map(\.0))")
            }
            #expect(merge.exitStatus == 1)
            #expect(merged["command_line"] == .array([.string("flowaudit"), .string("merge")]))
            #expect(merged["evidence"]?["inputs"]?.array?.count == 2)
            #expect(merge.warnings.isEmpty)
            // The merged report is itself a report merge and diff read.
            let path = workspace.path("merged.json")
            try merged.text.write(toFile: path, atomically: true, encoding: .utf8)
            _ = try ReportMerge.read(path)
            _ = try ReportDiff.read(path)
        }
    }

    @Test("the merge equals one audit of both captures when no flow crosses the boundary")
    func equalsAuditOfBoth() throws {
        let workspace = try Workspace()
        // Two shards a day apart: every flow of the first has ended before the second begins.
        let day = 86_400 * Fixture.second
        let first = Fixture.fullCapture()
        let second = Fixture.fullCapture().map { TimedFrame(timestamp: $0.timestamp + day, frame: $0.frame) }
        let a = try writeJSON(try workspace.audit(first, name: "a.pcap"), "a.json", in: workspace)
        let b = try writeJSON(try workspace.audit(second, name: "b.pcap"), "b.json", in: workspace)
        var writer = PcapWriter()
        for frame in second { writer.append(frame.frame, timestamp: frame.timestamp) }
        try writer.write(to: workspace.path("b-again.pcap"))
        let whole = try JSONValue.parse(Array(AuditJSON.render(try workspace.audit(first, name: "a-again.pcap", more: ["b-again.pcap"]),
                                                               failOn: defaultFailOn, exitStatus: 1).utf8))
        let merge = try ReportMerge([(a, try ReportMerge.read(a)), (b, try ReportMerge.read(b))], failOn: defaultFailOn,
                                    commandLine: ["flowaudit", "merge"])
        for key in ["verdict", "rules", "unexpected", "attempts", "advisories", "named_addresses", "decode"] {
            #expect(merge.merged[key] == whole[key], "\(key)")
        }
        #expect(merge.merged["summary"]?["counts"] == whole["summary"]?["counts"])
        #expect(merge.merged["summary"]?["in_scope_flows"]?.int64 == 18)
    }

    @Test("reports made with another rule file do not merge; the error names both reports")
    func otherPolicyRefused() throws {
        let workspace = try Workspace()
        let other = try Workspace(ruleFile: Fixture.ruleFile.replacingOccurrences(of: "Backups, nightly", with: "Backups, weekly"))
        let a = try writeJSON(try workspace.audit(Fixture.fullCapture()), "a.json", in: workspace)
        let b = try writeJSON(try other.audit(Fixture.fullCapture()), "b.json", in: other)
        #expect {
            _ = try ReportMerge([(a, try ReportMerge.read(a)), (b, try ReportMerge.read(b))], failOn: defaultFailOn, commandLine: [])
        } throws: { error in
            "\(error)".contains(a) && "\(error)".contains(b)
        }
    }

    @Test("a file that is not JSON is refused with its path and the byte where reading stopped")
    func notJSON() throws {
        let workspace = try Workspace()
        let path = workspace.path("broken.json")
        try #"{"version": 1, "rules": [}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try ReportMerge.read(path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("byte 25")
        }
    }
}
