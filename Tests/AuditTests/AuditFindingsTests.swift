import Flows
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

/// Classifies `flow` and adds it to `findings`, as the auditor does when a flow ends.
@discardableResult
func add(_ flow: Flow, to findings: inout AuditFindings, classifier: inout FlowClassifier, names: NameBinder,
         extra: FlowExtras? = nil) -> FlowOutcome? {
    let verdict = classifier.verdict(flow, extra: extra, names: names)
    return findings.add(flow, verdict: verdict, extra: extra, names: names) { FlowEvidence(flow) }
}

@Suite struct AuditFindingsTests {
    @Test func allowedFlowsCountForTheirRuleAndScopeIsCounted() throws {
        let policy = try demoPolicy()
        var findings = AuditFindings(policy: policy, defaultTLSMinimum: nil, maximumGroups: 10)
        var classifier = FlowClassifier(policy: policy)
        let names = binder()
        let flows = meterFlows(TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40000), server: Endpoint(directory, 636), at: t0),
            talk.tcpRejected(client: Endpoint(app, 40001), server: Endpoint(directory, 636), at: t0 + s),
            talk.tcpSession(client: Endpoint(IPAddress("192.0.2.1")!, 40002), server: Endpoint(IPAddress("192.0.2.2")!, 80), at: t0 + 2 * s),
        ]))
        #expect(flows.count == 3)
        var outcomes: [String] = []
        for flow in flows {
            switch add(flow, to: &findings, classifier: &classifier, names: names) {
            case nil: outcomes.append("out")
            case .allowed(let match): outcomes.append(match.allowed.map { policy.rules[$0.rule].qualifiedID }.joined())
            case .unexpected: outcomes.append("unexpected")
            }
        }
        #expect(outcomes.sorted() == ["demo/ldap", "demo/ldap", "out"])
        #expect(findings.inScopeFlows == 2 && findings.outOfScopeFlows == 1 && findings.outOfScopePackets > 0)
        let ldap = try #require(findings.ruleResults().first { $0.qualifiedID == "demo/ldap" })
        #expect(ldap.status == .observed && ldap.completedFlows == 1 && ldap.attemptedFlows == 1)
        #expect(findings.groups.groups.isEmpty)
    }

    @Test func unexpectedFlowsOfOneTupleMakeOneGroup() throws {
        let policy = try demoPolicy()
        var findings = AuditFindings(policy: policy, defaultTLSMinimum: nil, maximumGroups: 10)
        var classifier = FlowClassifier(policy: policy)
        let flows = meterFlows(TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40010), server: Endpoint(directory, 3268), at: t0),
            talk.tcpSession(client: Endpoint(app, 40011), server: Endpoint(directory, 3268), at: t0 + s),
        ]))
        var newGroups: [Bool] = []
        for flow in flows {
            guard case .unexpected(let newGroup) = add(flow, to: &findings, classifier: &classifier, names: binder()) else {
                Issue.record("not unexpected")
                continue
            }
            newGroups.append(newGroup)
        }
        #expect(newGroups == [true, false])
        let (completed, attempts) = findings.groups.report()
        #expect(completed.count == 1 && attempts.isEmpty)
        #expect(completed.first?.flows == 2 && completed.first?.nearestRule?.contains("demo/ldap") == true)
    }

    @Test func theGroupCapacityBoundsGroupsAndCountsTheRest() throws {
        let policy = try demoPolicy()
        var findings = AuditFindings(policy: policy, defaultTLSMinimum: nil, maximumGroups: 1)
        var classifier = FlowClassifier(policy: policy)
        for flow in meterFlows(TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40010), server: Endpoint(directory, 3268), at: t0),
            talk.tcpSession(client: Endpoint(app, 40011), server: Endpoint(directory, 3269), at: t0 + s),
        ])) {
            add(flow, to: &findings, classifier: &classifier, names: binder())
        }
        #expect(findings.groups.groups.count == 1 && findings.groups.unlistedFlows == 1)
    }

    @Test func aTLSVersionBelowTheRuleFilesMinimumIsAdvised() throws {
        let policy = try demoPolicy()
        var findings = AuditFindings(policy: policy, defaultTLSMinimum: nil, maximumGroups: 10)
        var classifier = FlowClassifier(policy: policy)
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40020), server: Endpoint(directory, 636), at: t0))
        var extra = FlowExtras()
        extra.offeredTLS = 0x0303
        extra.chosenTLS = 0x0301
        add(flow, to: &findings, classifier: &classifier, names: binder(), extra: extra)
        let advisory = try #require(findings.advisories.sorted.first)
        #expect(findings.advisories.sorted.count == 1 && advisory.kind == .tlsBelowMinimum)
        #expect(advisory.message == "TLS 1.0 negotiated between 10.1.0.10 and 10.1.0.2 (minimum TLS 1.2)")
        #expect(advisory.reference == "demo/ldap")
        // TLS 1.2 meets it.
        var fine = FindingsFixture(policy: policy)
        extra.chosenTLS = 0x0303
        add(flow, to: &fine.findings, classifier: &fine.classifier, names: binder(), extra: extra)
        #expect(fine.findings.advisories.sorted.isEmpty)
    }

    @Test func avoidedServicesAreAdvisedByTheFileThatPrefersAnother() throws {
        var fixture = FindingsFixture(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40030), server: Endpoint(directory, 389), at: t0))
        add(flow, to: &fixture.findings, classifier: &fixture.classifier, names: binder())
        #expect(fixture.findings.advisories.sorted.map(\.kind) == [.preferred])
        #expect(fixture.findings.advisories.sorted.first?.message.contains("Use LDAPS") == true)
    }

    @Test func anSNIThatDNSDoesNotGiveTheAddressIsAdvised() throws {
        var fixture = FindingsFixture(policy: try demoPolicy())
        let names = binder(learning: dnsAnswer("license.vendor.example", licenseAddress, at: t0))
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40040), server: Endpoint(licenseAddress, 443), at: t0 + s))
        var extra = FlowExtras()
        extra.serverName = "Other.Example"
        add(flow, to: &fixture.findings, classifier: &fixture.classifier, names: names, extra: extra)
        let mismatch = try #require(fixture.findings.advisories.sorted.first { $0.kind == .sniMismatch })
        #expect(mismatch.message.contains("'other.example'") && mismatch.message.contains("'license.vendor.example'"))
    }

    @Test func theEndOfCaptureRematchMovesAGroupToTheRuleALaterAnswerAllows() throws {
        var fixture = FindingsFixture(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40050), server: Endpoint(licenseAddress, 443), at: t0))
        add(flow, to: &fixture.findings, classifier: &fixture.classifier, names: binder())
        #expect(fixture.findings.groups.groups.count == 1)
        // Nothing new learned: the group stays.
        fixture.findings.rematch(names: binder(), classifier: fixture.classifier)
        #expect(fixture.findings.groups.groups.count == 1)
        // A DNS answer 30 s after the flow names the address.
        fixture.findings.rematch(names: binder(learning: dnsAnswer("license.vendor.example", licenseAddress, at: t0 + 30 * s)),
                                 classifier: fixture.classifier)
        #expect(fixture.findings.groups.groups.isEmpty)
        let license = try #require(fixture.findings.ruleResults().first { $0.qualifiedID == "demo/license" })
        #expect(license.status == .observed && license.completedFlows == 1)
    }

    @Test func linkControlIsCountedApart() throws {
        var fixture = FindingsFixture(policy: try demoPolicy())
        let dhcp = try meterFlow(talk.udpExchange(client: Endpoint(app, 68), server: Endpoint(IPAddress("10.1.0.1")!, 67),
                                                  at: t0, request: [1, 1, 6, 0], response: [2, 1, 6, 0]))
        fixture.findings.addLinkControl(.dhcp, dhcp)
        #expect(fixture.findings.linkControl.flows[.dhcp] == 1 && fixture.findings.linkControl.packets[.dhcp] == 2)
        #expect(fixture.findings.inScopeFlows == 0 && fixture.findings.outOfScopeFlows == 0)
    }
}

/// Findings and a classifier over one policy.
struct FindingsFixture {
    var findings: AuditFindings
    var classifier: FlowClassifier

    init(policy: CompiledPolicy) {
        findings = AuditFindings(policy: policy, defaultTLSMinimum: nil, maximumGroups: 10)
        classifier = FlowClassifier(policy: policy)
    }
}
