// RuleDraft (`flowaudit learn`, docs/rules.md "Drafting a rule file from traffic"): the draft
// loads as a rule file, drafts the flows that got through and only those, and the same capture
// audited against the draft alone shows no unexpected traffic.

import Audit
import Flows
import Foundation
import PacketBuilder
import Packets
import Policy
import Reports
import Workflows
import Testing

/// Feeds every ended flow to a RuleDraft, with the audit's names, as `learn` does.
final class DraftObserver: FlowObserver {
    let policy: CompiledPolicy
    let names: NameTable
    var draft: RuleDraft

    init(policy: CompiledPolicy, names: NameTable) {
        self.policy = policy
        self.names = names
        draft = RuleDraft(policy: policy)
    }

    func flowEnded(_ flow: borrowing Flow) {
        let first = flow.firstTimestamp, last = flow.lastTimestamp
        let names = names
        draft.add(flow) { names.names(of: $0, from: first, to: last) }
    }

    func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
        policy.orientationHint(a: a, portA: portA, b: b, portB: portB, ipProtocol: protocolNumber)
    }
}

@Suite("RuleDraft")
struct RuleDraftTests {
    func draft(_ workspace: Workspace, _ frames: [TimedFrame]) throws -> (yaml: String, used: Int, capture: String) {
        var writer = PcapWriter()
        for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
        let capture = workspace.path("learn.pcap")
        try writer.write(to: capture)
        let policy = CompiledPolicy(try workspace.loadPolicy())
        let auditor = Auditor(policy: policy)
        _ = auditor.run(paths: [capture])
        let observer = DraftObserver(policy: policy, names: auditor.names)
        var meter = FlowMeter(configuration: AuditConfiguration().meter, observer: observer)
        _ = CaptureRun.run(paths: [capture], meter: &meter)
        return (observer.draft.yaml(system: "learned", captures: [capture], site: workspace.sitePath), observer.draft.flowsUsed, capture)
    }

    @Test("the draft loads, drafts what got through, lists refusals as comments, and allows the whole capture")
    func draftAllowsTheCapture() throws {
        let workspace = try Workspace()
        let (yaml, used, capture) = try draft(workspace, Fixture.fullCapture())
        // In scope and got through: DNS, 2 license sessions, hostile, SNI, 2 busy. Not the
        // refused LDAP nor the unanswered SMTP.
        #expect(used == 7)
        let ruleLines = yaml.split(separator: "\n").filter { $0.hasPrefix("  - id: ") }
        #expect(ruleLines.count == 5, "\(yaml)")
        #expect(yaml.contains("services: [tcp/9000]"))
        #expect(yaml.contains("services: [udp/53]"))
        #expect(!yaml.split(separator: "\n").contains { !$0.hasPrefix("#") && !$0.contains("#") && $0.contains("tcp/389") })
        #expect(!yaml.contains("required: true"))
        #expect(yaml.contains("(2 flows)"))

        // Audit the same capture against the draft alone.
        let learned = try Workspace(ruleFile: yaml, site: "site: learned\nrules: [demo.yaml]\n")
        let loaded = PolicyLoader().load(site: learned.sitePath, rules: [])
        #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
        let auditor = Auditor(policy: CompiledPolicy(loaded.policy))
        let inputs = auditor.run(paths: [capture])
        let report = auditor.report(inputs: inputs.map { InputEvidence(report: $0, sha256: nil, size: nil) }, policyFiles: [],
                                    policyWarnings: [], commandLine: [], toolVersion: "test")
        #expect(report.unexpected.isEmpty, "\(report.unexpected.map(\.service))")
        #expect(report.rules.allSatisfy { $0.status == .observed }, "\(report.rules.map { "\($0.qualifiedID) \($0.status)" })")
    }

    /// Drafts the full capture with the app role described as `yamlDescription` (YAML text) and
    /// loads the draft; returns the description the site gave and the one the draft gives back.
    func roundTrip(_ yamlDescription: String) throws -> (given: String?, back: String?, loaded: Bool, yaml: String) {
        let rules = Fixture.ruleFile.replacingOccurrences(of: "app: { description: App server, monitored: true }",
                                                          with: "app: { description: \(yamlDescription), monitored: true }")
        let workspace = try Workspace(ruleFile: rules)
        let given = try workspace.loadPolicy().roles.first { $0.localID == "app" }?.description
        let (yaml, _, _) = try draft(workspace, Fixture.fullCapture())
        let learned = try Workspace(ruleFile: yaml, site: "site: learned\nrules: [demo.yaml]\n")
        let loaded = PolicyLoader().load(site: learned.sitePath, rules: [])
        return (given, loaded.policy.roles.first { $0.localID == "app" }?.description, !loaded.hasErrors, yaml)
    }

    @Test("role text with YAML's special characters is quoted in the draft and reads back exactly")
    func quotedRoleText() throws {
        // Quotes, a colon and space, a comment sign, a backslash, non-ASCII.
        let result = try roundTrip(#""App \"server\": main # not a comment, C:\\temp é 日本""#)
        #expect(result.given == "App \"server\": main # not a comment, C:\\temp é 日本")
        #expect(result.loaded, "\(result.yaml)")
        #expect(result.back == result.given)
    }

    @Test("role text with a line feed and a control character reads back exactly from the draft")
    func lineBreaksInRoleText() throws {
        let result = try roundTrip(#""App server\nsecond line \x01 end""#)
        #expect(result.given == "App server\nsecond line \u{01} end")
        // A raw line feed inside a double-quoted scalar is folded into a space, and YAML refuses
        // raw control characters: both must be written as escapes.
        #expect(result.loaded, "\(result.yaml)")
        #expect(result.back == result.given)
    }
}
