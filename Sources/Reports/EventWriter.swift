import Audit
import Flows
import Packets

/// Live-audit events as lines: one readable line per event for people, or one JSON object per
/// line (`--events jsonl`, schema in docs/report.md), flushed per event.
public final class EventWriter {
    public enum Style: String, CaseIterable, Sendable { case text, jsonl }
    let style: Style
    let output: ReportOutput

    public init(style: Style, output: ReportOutput) {
        self.style = style
        self.output = output
        output.flushEachWrite = true
    }

    public func write(_ event: AuditEvent, at time: Int64) {
        switch style {
        case .jsonl: output.write(EventText.json(event, at: time) + "\n")
        case .text: output.write(EventText.line(event, at: time) + "\n")
        }
    }
}

/// Event texts shared by the event writer and syslog.
public enum EventText {
    public static func kind(_ event: AuditEvent) -> String {
        switch event {
        case .unexpectedFlowStarted: "unexpected-flow"
        case .unexpectedFlowChanged: "unexpected-flow-update"
        case .unexpectedFlowCleared: "unexpected-flow-cleared"
        case .ruleObserved: "rule-observed"
        case .ruleBlocked: "rule-blocked"
        }
    }

    public static func evidence(_ event: AuditEvent) -> FlowEvidence {
        switch event {
        case .unexpectedFlowStarted(let e, _), .unexpectedFlowChanged(let e), .unexpectedFlowCleared(let e, _),
             .ruleObserved(_, let e), .ruleBlocked(_, let e): e
        }
    }

    public static func rule(_ event: AuditEvent) -> String? {
        switch event {
        case .ruleObserved(let rule, _), .ruleBlocked(let rule, _): rule
        default: nil
        }
    }

    static func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
        Format.endpoint(address.description, isIPv6: !address.isIPv4, port: port)
    }

    /// `2026-11-21T10:00:00.000000Z unexpected-flow 10.0.0.5:40000 -> 198.51.100.7:443 tcp established ...`
    public static func line(_ event: AuditEvent, at time: Int64) -> String {
        let e = evidence(event)
        var text = "\(Format.timestamp(time)) \(kind(event)) \(endpoint(e.initiator, e.initiatorPort)) -> "
            + "\(endpoint(e.responder, e.responderPort)) \(e.protocolName) \(e.state)"
        if let rule = rule(event) { text += " rule \(rule)" }
        if case .unexpectedFlowCleared(_, let rules) = event { text += " now allowed by \(rules.joined(separator: ", "))" }
        if let refusal = e.refusal, e.state != "established" { text += " (\(refusal))" }
        if case .unexpectedFlowStarted(_, let nearest?) = event { text += "; nearest rule: \(nearest)" }
        return text
    }

    public static func json(_ event: AuditEvent, at time: Int64) -> String {
        var fields = ["\"time\":\(Format.json(Format.timestamp(time)))", "\"event\":\(Format.json(kind(event)))"]
        if let rule = rule(event) { fields.append("\"rule\":\(Format.json(rule))") }
        if case .unexpectedFlowCleared(_, let rules) = event {
            fields.append("\"rules\":[" + rules.map(Format.json).joined(separator: ",") + "]")
        }
        if case .unexpectedFlowStarted(_, let nearest) = event { fields.append("\"nearest_rule\":\(nearest.map(Format.json) ?? "null")") }
        fields.append("\"flow\":\(AuditJSON.evidence(evidence(event)))")
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// A rule table so far, for `live --every`.
    public static func progress(_ rules: [RuleResult], at time: Int64) -> String {
        var out = "\(Format.timestamp(time)) rules so far:\n"
        for rule in rules where rule.status != .unbound {
            let state: String
            switch rule.status {
            case .observed, .partial: state = "observed"
            case .blocked: state = "blocked"
            default: state = "not yet seen"
            }
            out += "  " + Format.column(state, 13) + rule.qualifiedID + "  \(rule.completedFlows + rule.unansweredFlows) ok, \(rule.attemptedFlows) refused\n"
        }
        return out
    }
}
