import Flows
import Policy

/// A live-audit event: what happened to a flow or a rule, as it happened.
public enum AuditEvent: Sendable {
    /// An in-scope flow that no rule allows, at its first packet.
    case unexpectedFlowStarted(FlowEvidence, nearestRule: String?)
    /// An unexpected flow completed (the responder answered) or was refused.
    case unexpectedFlowChanged(FlowEvidence)
    /// A flow reported unexpected at its first packet turned out allowed when it ended (a name
    /// learned from its own TLS ClientHello or HTTP Host, or a later DNS answer, bound it).
    case unexpectedFlowCleared(FlowEvidence, rules: [String])
    /// A rule's first completed flow.
    case ruleObserved(rule: String, FlowEvidence)
    /// A flow of a rule was refused or got no answer.
    case ruleBlocked(rule: String, FlowEvidence)
}

/// Event emission: turns what the classifier and the findings said about a flow into live
/// ``AuditEvent``s, at the flow's first packet, at its state changes and at its end. Remembers
/// the flows announced unexpected at their start (to clear or not repeat them at their end) and
/// the rules whose first completed flow was announced. Silent (and keeping nothing) without a
/// handler.
struct AuditEventEmitter {
    /// Receives the events; nil for a file audit.
    var handler: ((AuditEvent) -> Void)?
    /// Qualified ids of the policy's rules, by index.
    let ruleIDs: [String]
    /// Flows reported as unexpected at their start.
    private(set) var unexpectedAtStart: Set<UInt64> = []
    /// Rules whose first completed flow was announced, by index.
    private(set) var announced: [Bool]

    init(ruleIDs: [String]) {
        self.ruleIDs = ruleIDs
        announced = Array(repeating: false, count: ruleIDs.count)
    }

    var isOn: Bool { handler != nil }

    /// A flow's first packet, classified without its payload's names: an unexpected flow is
    /// announced at once.
    mutating func flowStarted(_ flow: Flow, verdict: FlowVerdict, nearest: (FlowVerdict) -> String?) {
        guard let handler, verdict.inScope, let match = verdict.match, !match.isAllowed else { return }
        unexpectedAtStart.insert(flow.id)
        handler(.unexpectedFlowStarted(FlowEvidence(flow), nearestRule: nearest(verdict)))
    }

    /// A state change of a flow announced unexpected at its start: announced again.
    /// - Returns: false for a flow not announced so (classify it and call ``ruleFlowChanged``).
    func unexpectedFlowChanged(_ flow: Flow) -> Bool {
        guard unexpectedAtStart.contains(flow.id) else { return false }
        handler?(.unexpectedFlowChanged(FlowEvidence(flow)))
        return true
    }

    /// A state change of an allowed flow: its rules' first completed flow, or a refusal (RST,
    /// ICMP) as it happens.
    mutating func ruleFlowChanged(_ flow: Flow, verdict: FlowVerdict) {
        guard let handler, verdict.inScope, let match = verdict.match, match.isAllowed else { return }
        let evidence = FlowEvidence(flow)
        for allowed in match.allowed {
            if flow.isCompleted {
                if !announced[allowed.rule] {
                    announced[allowed.rule] = true
                    handler(.ruleObserved(rule: ruleIDs[allowed.rule], evidence))
                }
            } else if flow.state == .rejected || flow.state == .unreachable {
                handler(.ruleBlocked(rule: ruleIDs[allowed.rule], evidence))
            }
        }
    }

    /// A flow that ended without a finding (link control, out of scope).
    mutating func flowEndedQuietly(_ flow: Flow) {
        if !unexpectedAtStart.isEmpty { unexpectedAtStart.remove(flow.id) }
    }

    /// An allowed flow ended: each rule's first completed flow is announced, an attempt nobody
    /// answered is announced as blocked (known only now), and a flow announced unexpected at its
    /// start is cleared.
    mutating func allowedFlowEnded(_ flow: Flow, rules indices: [Int], evidence: () -> FlowEvidence) {
        let wasUnexpected = !unexpectedAtStart.isEmpty && unexpectedAtStart.remove(flow.id) != nil
        guard let handler else { return }
        let (completed, unanswered) = AuditFindings.counts(flow)
        for index in indices {
            if completed || unanswered {
                // Announced once per rule: here, or already when a flow of it was established.
                if !announced[index] {
                    announced[index] = true
                    handler(.ruleObserved(rule: ruleIDs[index], evidence()))
                }
            } else if flow.state != .rejected && flow.state != .unreachable {
                // Refusals (RST, ICMP) were announced when they happened.
                handler(.ruleBlocked(rule: ruleIDs[index], evidence()))
            }
        }
        if wasUnexpected {
            handler(.unexpectedFlowCleared(evidence(), rules: indices.map { ruleIDs[$0] }))
        }
    }

    /// An unexpected flow ended: announced unless it was at its start.
    mutating func unexpectedFlowEnded(_ flow: Flow, nearest: () -> String?, evidence: () -> FlowEvidence) {
        let wasUnexpected = !unexpectedAtStart.isEmpty && unexpectedAtStart.remove(flow.id) != nil
        guard let handler else { return }
        if !wasUnexpected {
            handler(.unexpectedFlowStarted(evidence(), nearestRule: nearest()))
        }
    }
}
