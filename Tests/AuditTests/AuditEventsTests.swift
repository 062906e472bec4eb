import Flows
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

/// Collects emitted events as short text.
final class EventLog {
    var lines: [String] = []

    func record(_ event: AuditEvent) {
        switch event {
        case .unexpectedFlowStarted(let evidence, let nearest): lines.append("started \(evidence.responder) \(nearest ?? "-")")
        case .unexpectedFlowChanged(let evidence): lines.append("changed \(evidence.responder) \(evidence.state)")
        case .unexpectedFlowCleared(_, let rules): lines.append("cleared \(rules.joined(separator: ","))")
        case .ruleObserved(let rule, _): lines.append("observed \(rule)")
        case .ruleBlocked(let rule, _): lines.append("blocked \(rule)")
        }
    }
}

@Suite struct AuditEventsTests {
    let policy: CompiledPolicy
    init() throws { policy = try demoPolicy() }

    func emitter(_ log: EventLog?) -> AuditEventEmitter {
        var emitter = AuditEventEmitter(ruleIDs: policy.rules.map(\.qualifiedID))
        if let log { emitter.handler = { log.record($0) } }
        return emitter
    }

    func verdict(_ flow: Flow, extra: FlowExtras? = nil) -> FlowVerdict {
        var classifier = FlowClassifier(policy: policy)
        return classifier.verdict(flow, extra: extra, names: binder())
    }

    @Test func aRulesFirstCompletedFlowIsAnnouncedOnceAndAnUnansweredAttemptAsBlocked() throws {
        let log = EventLog()
        var events = emitter(log)
        let ldap = policy.rules.firstIndex { $0.qualifiedID == "demo/ldap" }!
        let flows = meterFlows(TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40000), server: Endpoint(directory, 636), at: t0),
            talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(directory, 636), at: t0 + s),
            talk.tcpUnanswered(client: Endpoint(app, 40002), server: Endpoint(directory, 389), at: t0 + 2 * s),
        ]))
        for flow in flows { events.allowedFlowEnded(flow, rules: [ldap], evidence: { FlowEvidence(flow) }) }
        #expect(log.lines.sorted() == ["blocked demo/ldap", "observed demo/ldap"])
    }

    @Test func anUnexpectedFlowAnnouncedAtItsStartIsClearedWhenItsSNIAllowsIt() throws {
        let log = EventLog()
        var events = emitter(log)
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40010), server: Endpoint(licenseAddress, 443), at: t0))
        events.flowStarted(flow, verdict: verdict(flow)) { _ in "nearest" }
        #expect(log.lines == ["started 198.18.0.7 nearest"])
        #expect(events.unexpectedAtStart == [flow.id])
        var extra = FlowExtras()
        extra.serverName = "license.vendor.example"
        let atEnd = verdict(flow, extra: extra)
        let rules = try #require(atEnd.match?.allowed.map(\.rule))
        events.allowedFlowEnded(flow, rules: rules, evidence: { FlowEvidence(flow) })
        #expect(log.lines == ["started 198.18.0.7 nearest", "observed demo/license", "cleared demo/license"])
        #expect(events.unexpectedAtStart.isEmpty)
    }

    @Test func anUnexpectedFlowIsAnnouncedOnceWhetherAtItsStartOrItsEnd() throws {
        let log = EventLog()
        var events = emitter(log)
        let flows = meterFlows(TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40020), server: Endpoint(directory, 3268), at: t0),
            talk.tcpSession(client: Endpoint(app, 40021), server: Endpoint(directory, 3269), at: t0 + s),
        ]))
        #expect(flows.count == 2)
        // The first was announced at its start and changes state; the second is only known at its end.
        events.flowStarted(flows[0], verdict: verdict(flows[0])) { _ in nil }
        #expect(events.unexpectedFlowChanged(flows[0]))
        #expect(!events.unexpectedFlowChanged(flows[1]))
        for flow in flows { events.unexpectedFlowEnded(flow, nearest: { "near" }, evidence: { FlowEvidence(flow) }) }
        #expect(log.lines == ["started 10.1.0.2 -", "changed 10.1.0.2 \(flows[0].state.name)", "started 10.1.0.2 near"])
    }

    @Test func aStateChangeAnnouncesARulesFirstCompletedFlowAndRefusals() throws {
        let log = EventLog()
        var events = emitter(log)
        let flows = meterFlows(TimedFrame.merge([
            talk.tcpRejected(client: Endpoint(app, 40030), server: Endpoint(directory, 636), at: t0),
            talk.tcpSession(client: Endpoint(app, 40031), server: Endpoint(directory, 636), at: t0 + s),
        ]))
        for flow in flows { events.ruleFlowChanged(flow, verdict: verdict(flow)) }
        for flow in flows { events.ruleFlowChanged(flow, verdict: verdict(flow)) }
        #expect(log.lines == ["blocked demo/ldap", "observed demo/ldap", "blocked demo/ldap"])
    }

    @Test func withoutAHandlerNothingIsKept() throws {
        var events = emitter(nil)
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40040), server: Endpoint(directory, 3268), at: t0))
        events.flowStarted(flow, verdict: verdict(flow)) { _ in nil }
        #expect(!events.isOn && events.unexpectedAtStart.isEmpty)
        #expect(!events.unexpectedFlowChanged(flow))
    }
}
