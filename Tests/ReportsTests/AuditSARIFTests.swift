// `audit --format sarif` against SARIF 2.1.0's required properties and docs/report.md's table:
// one result per finding, each with its rule, level and one location on the policy.

import Audit
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

@Suite("AuditSARIF (SARIF 2.1.0)")
struct AuditSARIFTests {
    func render(_ workspace: Workspace, _ report: AuditReport, exitStatus: Int32 = 1) throws -> JSONValue {
        let text = AuditSARIF.render(report, policy: PolicySummary(try workspace.loadPolicy()), failOn: defaultFailOn, exitStatus: exitStatus,
                                     workingDirectory: workspace.folder.path)
        _ = try foundationJSON(text)
        return try JSONValue.parse(Array(text.utf8))
    }

    /// The 1-based line of the first line of the rule file holding `text`.
    func line(of text: String, in file: String) -> Int? {
        file.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }.map { $0 + 1 }
    }

    @Test("the log has SARIF's required properties: version, runs, tool.driver.name; every result ruleId, message, level, locations")
    func requiredProperties() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let log = try render(workspace, report)
        #expect(log["version"]?.string == "2.1.0")
        let runs = try #require(log["runs"]?.array)
        #expect(runs.count == 1)
        let run = runs[0]
        #expect(run["tool"]?["driver"]?["name"]?.string == "flowaudit")
        let rules = try #require(run["tool"]?["driver"]?["rules"]?.array)
        let ruleIDs = rules.compactMap { $0["id"]?.string }
        #expect(ruleIDs.count == rules.count)
        // Document rules first (ids with a slash), then the finding kinds no rule raises.
        #expect(Array(ruleIDs.prefix(4)) == ["demo/license", "demo/ldap", "demo/backup", "demo/portal"])
        #expect(Set(ruleIDs.dropFirst(4)) == Set(["unexpected-traffic", "refused-attempt", "no-scope"] + Advisory.Kind.allCases.map(\.rawValue)))
        #expect(!ruleIDs.dropFirst(4).contains { $0.contains("/") })
        let results = try #require(run["results"]?.array)
        #expect(!results.isEmpty)
        var fingerprints: Set<String> = []
        for result in results {
            let ruleID = try #require(result["ruleId"]?.string)
            #expect(["error", "warning", "note", "none"].contains(result["level"]?.string ?? ""), "\(ruleID)")
            #expect(result["message"]?["text"]?.string?.isEmpty == false)
            #expect(result["kind"]?.string == "fail")
            let locations = try #require(result["locations"]?.array)
            #expect(locations.count == 1, "\(ruleID)")
            let physical = try #require(locations.first?["physicalLocation"])
            #expect(physical["artifactLocation"]?["uri"]?.string?.isEmpty == false)
            #expect((physical["region"]?["startLine"]?.int64 ?? 0) >= 1)
            // ruleIndex points at the driver's rule of the same id.
            let index = try #require(result["ruleIndex"]?.int64)
            #expect(index >= 0 && Int(index) < rules.count && ruleIDs[Int(index)] == ruleID)
            let fingerprint = try #require(result["partialFingerprints"]?["flowauditFinding/v1"]?.string)
            #expect(fingerprints.insert(fingerprint).inserted, "fingerprint \(fingerprint) given twice")
        }
        let invocation = try #require(run["invocations"]?.array?.first)
        #expect(invocation["exitCode"]?.int64 == 1 && invocation["executionSuccessful"]?.bool == true)
    }

    @Test("one result per finding, with the rule id and level docs/report.md gives each kind")
    func oneResultPerFinding() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let results = try #require(try render(workspace, report)["runs"]?.array?.first?["results"]?.array)
        let findings = FindingCategory.allCases.reduce(0) { $0 + (report.counts[$1] ?? 0) }
        #expect(results.count == findings)
        func levels(_ id: String) -> [String] { results.filter { $0["ruleId"]?.string == id }.compactMap { $0["level"]?.string } }
        #expect(levels("unexpected-traffic") == Array(repeating: "error", count: report.unexpected.count))
        #expect(levels("refused-attempt") == Array(repeating: "note", count: report.attempts.count))
        #expect(levels("tls-below-minimum") == ["warning"])
        #expect(levels("demo/ldap") == ["error"])
        #expect(levels("demo/backup") == ["error"])
        #expect(levels("demo/license").isEmpty && levels("demo/portal").isEmpty && levels("no-scope").isEmpty)
        let ldap = try #require(results.first { $0["ruleId"]?.string == "demo/ldap" })
        #expect(ldap["properties"]?["status"]?.string == "blocked")
        #expect(ldap["partialFingerprints"]?["flowauditFinding/v1"]?.string == "blocked demo/ldap")
    }

    @Test("a rule finding is located at the rule's entry in its rule file, relative to SRCROOT")
    func ruleLocation() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let run = try #require(try render(workspace, report)["runs"]?.array?.first)
        let results = try #require(run["results"]?.array)
        for (id, entry) in [("demo/ldap", "- id: ldap"), ("demo/backup", "- id: backup")] {
            let result = try #require(results.first { $0["ruleId"]?.string == id })
            let physical = try #require(result["locations"]?.array?.first?["physicalLocation"])
            #expect(physical["artifactLocation"]?["uri"]?.string == "demo.yaml")
            #expect(physical["artifactLocation"]?["uriBaseId"]?.string == "SRCROOT")
            #expect(physical["region"]?["startLine"]?.int64.map(Int.init) == line(of: entry, in: Fixture.ruleFile))
        }
        #expect(run["originalUriBaseIds"]?["SRCROOT"]?["uri"]?.string?.hasPrefix("file://") == true)
        // The hostile rule text reaches the message and the driver's descriptor exactly.
        let ldap = try #require(results.first { $0["ruleId"]?.string == "demo/ldap" })
        #expect(ldap["message"]?["text"]?.string?.contains(Fixture.hostilePurpose) == true)
        let descriptor = try #require(run["tool"]?["driver"]?["rules"]?.array?.first { $0["id"]?.string == "demo/ldap" })
        #expect(descriptor["shortDescription"]?["text"]?.string == Fixture.hostilePurpose)
    }

    @Test("an unexpected group's message carries the hostile name it was reached by")
    func hostileNames() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let results = try #require(try render(workspace, report)["runs"]?.array?.first?["results"]?.array)
        let texts = results.filter { $0["ruleId"]?.string == "unexpected-traffic" }.compactMap { $0["message"]?["text"]?.string }
        #expect(texts.contains { $0.contains(Fixture.hostileDNSNameInReport) })
        #expect(texts.contains { $0.contains(Fixture.hostileSNI) })
    }

    @Test("nothing in scope: one no-scope result at the site's site: line")
    func noScope() throws {
        let workspace = try Workspace()
        let outside = Fixture.talk.tcpSession(client: Endpoint(IPAddress("192.0.2.1")!, 5000), server: Endpoint(IPAddress("192.0.2.2")!, 80),
                                              at: Fixture.t0)
        let report = try workspace.audit(outside)
        let results = try #require(try render(workspace, report)["runs"]?.array?.first?["results"]?.array)
        let scope = results.filter { $0["ruleId"]?.string == "no-scope" }
        #expect(scope.count == 1)
        let physical = try #require(scope.first?["locations"]?.array?.first?["physicalLocation"])
        #expect(physical["artifactLocation"]?["uri"]?.string == "site.yaml")
        #expect(physical["region"]?["startLine"]?.int64 == 1)
        #expect(scope.first?["level"]?.string == "error")
    }
}
