import Audit
import Flows
import Packets

/// One-line summaries and evidence lines of the findings, shared by the reports that carry a
/// finding as a message (JUnit, SARIF, CSV): the same words the text report uses.
enum FindingText {
    /// `10.0.0.1 -> 10.0.0.2 tcp/25 refused by RST from 10.0.0.2 at 2024-...`.
    static func flow(_ e: FlowEvidence) -> String {
        "\(e.initiator) -> \(e.responder) \(AuditText.service(e)) \(e.refusal ?? e.state) at \(Format.timestamp(e.start))"
            + (e.vlan.map { " vlan \($0)" } ?? "") + (e.tunnel.map { " tunnel \(TunnelFormat.text($0))" } ?? "")
    }

    static func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }

    /// The rule's status in one line: what was seen, or what is missing.
    static func ruleSummary(_ r: RuleResult) -> String {
        let seen = r.completedFlows + r.unansweredFlows
        switch r.status {
        case .observed:
            return "observed: \(plural(seen, "flow"))" + (r.attemptedFlows > 0 ? ", \(r.attemptedFlows) refused" : "")
                + (r.example.map { "; e.g. \(flow($0))" } ?? "")
        case .blocked:
            return "blocked: \(plural(r.attemptedFlows, "flow")) attempted, none completed"
                + (r.blockedExamples.first.map { "; e.g. \(flow($0))" } ?? "")
        case .missing:
            return "missing: no flow seen for this required rule (\(r.services.joined(separator: " ")) "
                + "\(r.from.joined(separator: ",")) -> \(r.to.joined(separator: ",")))"
        case .partial:
            return "partial: hosts missing: \(r.hostsMissing.joined(separator: ", "))"
        case .notSeen:
            return "not seen: optional rule, no flow"
        case .unbound:
            return "unbound: " + (r.notes.isEmpty ? "a role of the rule has no binding in the site" : r.notes.joined(separator: "; "))
        }
    }

    /// The rule and its evidence, one fact a line.
    static func ruleEvidence(_ r: RuleResult) -> [String] {
        var lines = ["rule: \(r.qualifiedID)\(r.required ? "" : " (optional)")\(r.each ? " (each host)" : "")",
                     "purpose: \(r.purpose) — \(r.ref)",
                     "allows: \(r.services.joined(separator: " ")) \(r.from.joined(separator: ",")) -> \(r.to.joined(separator: ","))"
                        + (r.direction == "both" ? " (both ways)" : ""),
                     "status: \(ruleSummary(r))"]
        if let e = r.example { lines.append("example: \(flow(e)), community id \(e.communityID)") }
        for e in r.blockedExamples { lines.append("refused: \(flow(e)), community id \(e.communityID)") }
        if r.attemptedFlows > r.blockedExamples.count, !r.blockedCommunityIDs.isEmpty {
            lines.append("refused community ids: \(r.blockedCommunityIDs.prefix(10).joined(separator: ", "))"
                + (r.attemptedFlows > 10 ? ", … (\(r.attemptedFlows) in all)" : ""))
        }
        if !r.hostsSeen.isEmpty { lines.append("hosts seen: \(r.hostsSeen.map(\.description).joined(separator: ", "))") }
        if !r.hostsMissing.isEmpty { lines.append("hosts missing: \(r.hostsMissing.joined(separator: ", "))") }
        for note in r.notes { lines.append("note: \(note)") }
        return lines
    }

    /// `initiator -> responder service`, with the VLAN and tunnel that make a group of its own.
    static func groupName(_ g: UnexpectedGroup) -> String {
        "\(g.initiator) -> \(g.responder) \(g.service)" + (g.vlan.map { " vlan \($0)" } ?? "")
            + (g.example.tunnel.map { " tunnel \(TunnelFormat.text($0))" } ?? "")
    }

    /// What the group is, in one line: `unexpected` (got through) or `attempt` (refused).
    static func groupSummary(_ g: UnexpectedGroup, attempt: Bool) -> String {
        let states = g.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return (attempt ? "attempt: " : "unexpected: ") + "\(plural(g.flows, "flow")) no rule allows (\(states))"
            + (g.nearestRule.map { "; nearest rule: \($0)" } ?? "")
    }

    static func groupEvidence(_ g: UnexpectedGroup, attempt: Bool) -> [String] {
        func side(_ address: IPAddress, _ names: [String], _ roles: [String]) -> String {
            "\(address)" + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))")
                + (roles.isEmpty ? "" : " roles \(roles.joined(separator: ","))")
        }
        var lines = ["group: \(groupName(g))",
                     "status: \(groupSummary(g, attempt: attempt))",
                     "initiator: \(side(g.initiator, g.initiatorNames, g.initiatorRoles))",
                     "responder: \(side(g.responder, g.responderNames, g.responderRoles))",
                     "flows: \(g.flows), packets: \(g.packets), bytes: \(g.bytes), "
                        + "\(Format.timestamp(g.firstSeen)) to \(Format.timestamp(g.lastSeen))",
                     "example: \(flow(g.example)), community id \(g.example.communityID)"]
        if g.orientedByRule { lines.append("first seen mid-stream: oriented by the rules") }
        if g.communityIDs.count > 1 {
            lines.append("community ids: \(g.communityIDs.prefix(10).joined(separator: ", "))"
                + (g.flows > 10 ? ", … (\(g.flows) flows)" : ""))
        }
        lines.append("filter: \(g.filter)")
        return lines
    }

    /// `tls-below-minimum 10.0.0.1 -> 10.0.0.2 tcp/636`.
    static func advisoryName(_ a: Advisory) -> String {
        "\(a.kind.rawValue) \(a.example.initiator) -> \(a.example.responder) \(AuditText.service(a.example))"
    }

    static func advisoryEvidence(_ a: Advisory) -> [String] {
        var lines = ["advisory: \(a.kind.rawValue): \(a.message)"]
        if let reference = a.reference { lines.append("reference: \(reference)") }
        lines.append("flows: \(a.flows)")
        lines.append("example: \(flow(a.example)), community id \(a.example.communityID)")
        return lines
    }
}
