import Audit
import Flows
import Packets

/// The audit report for people: per system, each rule's status and evidence; then unexpected
/// flows (completed, then attempts), advisories, notes, scope and decode counts, and the verdict.
public enum AuditText {
    public static func render(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32, colour: Bool,
                              names: (IPAddress) -> [String] = { _ in [] }) -> String {
        let paint = Paint(enabled: colour)
        var out = "flowaudit audit"
        if let site = report.site { out += " — site \(site)" }
        out += "\n\n"
        out += InputSummaryText.render(inputs: report.inputs.map(\.report))
        for warning in report.policyWarnings { out += "policy \(warning)\n" }
        if let capture = report.capture {
            out += "live capture: \(Format.count(capture.received, "packet")) received, \(capture.droppedByKernel) dropped by the kernel, "
                + "\(capture.droppedByInterface) dropped by the interface, \(capture.droppedByBacklog) dropped by the backlog\n"
            if capture.dropped > 0 {
                out += paint.red("  packets were dropped: missing and blocked verdicts may be wrong (flows may have passed unseen)") + "\n"
            }
        }
        out += CompletenessText.render(report, paint: paint)
        func host(_ address: IPAddress, _ extra: [String] = []) -> String {
            var list = extra
            for name in names(address) where !list.contains(name) { list.append(name) }
            return list.isEmpty ? address.description : "\(address) (\(list.prefix(3).joined(separator: ", "))\(list.count > 3 ? ", …" : ""))"
        }
        for system in report.systems {
            out += "\n" + paint.bold("== \(system.system): \(system.title)") + "  [\(system.file)]\n"
            for rule in report.rules where rule.system == system.system {
                let label: String
                switch rule.status {
                case .observed: label = paint.green("observed")
                case .blocked: label = paint.red("BLOCKED")
                case .missing: label = paint.red("MISSING")
                case .partial: label = paint.red("PARTIAL")
                case .notSeen: label = "not seen"
                case .unbound: label = paint.yellow("unbound")
                }
                out += "  " + Format.column(label, 9) + " " + rule.qualifiedID
                    + (rule.required ? "" : " (optional)") + "  " + rule.services.joined(separator: " ")
                    + "  " + rule.from.joined(separator: ",") + " -> " + rule.to.joined(separator: ",")
                    + (rule.direction == "both" ? " (both ways)" : "") + "\n"
                out += "      \(rule.purpose) — \(rule.ref)\n"
                if let e = rule.example {
                    out += "      \(rule.completedFlows + rule.unansweredFlows) flow\(rule.completedFlows + rule.unansweredFlows == 1 ? "" : "s")"
                        + (rule.attemptedFlows > 0 ? ", \(rule.attemptedFlows) refused" : "")
                        + ", e.g. \(host(e.initiator)) -> \(host(e.responder)) \(service(e)) \(e.state) at \(Format.timestamp(e.start))"
                        + (e.initiatorReason == "rule" ? " (first seen mid-stream; oriented by the rules)" : "")
                        + (e.oneSided ? " (seen in one direction only)" : "") + "\n"
                }
                if rule.status == .blocked || (rule.attemptedFlows > 0 && rule.example == nil) {
                    for e in rule.blockedExamples {
                        out += "      \(host(e.initiator)) -> \(host(e.responder)) \(service(e)): \(e.refusal ?? e.state) at \(Format.timestamp(e.start))\n"
                    }
                }
                if !rule.hostsMissing.isEmpty {
                    out += "      hosts missing: " + rule.hostsMissing.joined(separator: ", ") + "\n"
                }
                if rule.status == .missing { out += "      no flow seen\n" }
                for note in rule.notes { out += "      note: \(note)\n" }
            }
        }
        out += "\n" + paint.bold("Unexpected flows (completed): \(report.unexpected.count)") + "\n"
        for group in report.unexpected { out += groupText(group, attempt: false, host: host, paint: paint) }
        if report.unlistedUnexpectedFlows > 0 {
            out += "  ... and \(report.unlistedUnexpectedFlows) more unexpected flows in groups beyond the listing limit\n"
        }
        out += "\n" + paint.bold("Unexpected attempts (refused, or a TCP handshake nobody answered): \(report.attempts.count)") + "\n"
        for group in report.attempts { out += groupText(group, attempt: true, host: host, paint: paint) }
        out += "\n" + paint.bold("Advisories: \(report.advisories.count)") + "\n"
        for advisory in report.advisories {
            out += "  " + paint.yellow(advisory.kind.rawValue) + "  \(advisory.message)"
                + (advisory.flows > 1 ? " (\(advisory.flows) flows)" : "") + (advisory.reference.map { " [\($0)]" } ?? "") + "\n"
        }
        if !report.documentNotes.isEmpty {
            out += "\nDocument requirements traffic cannot show:\n"
            for note in report.documentNotes { out += "  \(note.system): \(note.note)\n" }
        }
        let link = report.linkControl
        if link.totalFlows > 0 || link.arpFrames + link.lldpFrames + link.llcFrames > 0 {
            out += "\n" + paint.bold("Link control (\(link.audited ? "audited above, as the site asks" : "not audited: link infrastructure, not application flows")):") + "\n"
            var parts = LinkControlKind.allCases.compactMap { kind -> String? in
                guard let flows = link.flows[kind] else { return nil }
                return "\(kind.rawValue) \(Format.count(flows, "flow")) (\(Format.count(link.packets[kind] ?? 0, "packet")))"
            }
            if link.arpFrames > 0 { parts.append("arp \(link.arpFrames) frame\(link.arpFrames == 1 ? "" : "s")") }
            if link.lldpFrames > 0 { parts.append("lldp \(link.lldpFrames) frame\(link.lldpFrames == 1 ? "" : "s")") }
            if link.llcFrames > 0 { parts.append("llc \(link.llcFrames) frame\(link.llcFrames == 1 ? "" : "s")") }
            out += "  " + parts.joined(separator: ", ") + "\n"
        }
        out += "\nscope: \(Format.count(report.inScopeFlows, "flow")) in scope, \(report.outOfScopeFlows) out of scope (\(Format.count(report.outOfScopePackets, "packet")))"
        if report.oneSidedFlows > 0 { out += "; \(report.oneSidedFlows) seen in one direction only (one-sided capture)" }
        out += "\n"
        let counts = report.counts
        let summary = FindingCategory.allCases.filter { $0 != .noScope }.map { category -> String in
            let n = counts[category, default: 0]
            switch category {
            case .attempt: return Format.count(n, "attempt")
            case .advisory: return Format.count(n, "advisory", "advisories")
            default: return "\(n) \(category.rawValue)"  // adjectives: "2 unexpected", "1 missing"
            }
        }.joined(separator: ", ")
        out += "\nresult: \(summary)\n"
        out += verdictLine(report, failOn: failOn, exitStatus: exitStatus, paint: paint)
        out += CompletenessText.verdictLine(report, exitStatus: exitStatus, paint: paint)
        return out
    }

    /// The verdict line: `FAIL: 2 unexpected, 1 blocked (exit 1: --fail-on unexpected,blocked)`,
    /// with its words for PASS and NO-SCOPE (the HTML report shows the same line).
    static func verdictLine(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32, paint: Paint) -> String {
        let counts = report.counts
        let failing = FindingCategory.allCases.filter { failOn.contains($0) && counts[$0, default: 0] > 0 }
        // The verdict follows from the findings; --fail-on decides only the exit status.
        let exitText = failing.isEmpty
            ? "exit \(exitStatus): nothing in --fail-on \(failOn.isEmpty ? "none" : FindingCategory.allCases.filter { failOn.contains($0) }.map(\.rawValue).joined(separator: ","))"
            : "exit \(exitStatus): --fail-on \(failing.map(\.rawValue).joined(separator: ","))"
        switch report.verdict {
        case .noScope:
            let other = report.outOfScopeFlows + report.linkControl.totalFlows
            return paint.red("NO-SCOPE") + ": "
                + (other > 0 ? "the capture has \(other) flow\(other == 1 ? "" : "s"), but none touches a monitored host of the site"
                             : "the capture has no flow at all")
                + ": nothing was audited. Check the site's addresses and where and when the capture was taken (\(exitText))\n"
        case .fail:
            let what = [(counts[.unexpected] ?? 0, "unexpected"), (counts[.missing] ?? 0, "missing or partial"),
                        (counts[.blocked] ?? 0, "blocked")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
            return paint.red("FAIL") + ": \(what.joined(separator: ", ")) (\(exitText))\n"
        case .pass:
            var notes: [String] = []
            if let n = counts[.attempt], n > 0 { notes.append("\(n) unexpected attempt\(n == 1 ? "" : "s") refused") }
            if let n = counts[.advisory], n > 0 { notes.append("\(n) advisor\(n == 1 ? "y" : "ies")") }
            return paint.green("PASS") + ": no unexpected traffic got through, every required rule observed"
                + (notes.isEmpty ? "" : "; \(notes.joined(separator: ", "))") + " (\(exitText))\n"
        }
    }

    static func service(_ e: FlowEvidence) -> String {
        e.responderPort.map { "\(e.protocolName)/\($0)" } ?? e.protocolName
    }

    static func groupText(_ g: UnexpectedGroup, attempt: Bool, host: (IPAddress, [String]) -> String, paint: Paint) -> String {
        var out = "  \(host(g.initiator, g.initiatorNames)) -> \(host(g.responder, g.responderNames)) \(g.service)"
            + (g.vlan.map { " vlan \($0)" } ?? "")
        out += "  \(Format.count(g.flows, "flow")), \(Format.count(g.packets, "packet")), \(Format.count(g.bytes, "byte")), "
            + "\(Format.timestamp(g.firstSeen)) to \(Format.timestamp(g.lastSeen))\n"
        let states = g.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        out += "      finding: \(g.findingID(attempt: attempt))\n"
        out += "      states: \(states)"
        if let refusal = g.example.refusal, g.example.state != "established" { out += "; \(refusal)" }
        out += "\n"
        if !g.initiatorRoles.isEmpty || !g.responderRoles.isEmpty {
            out += "      roles: \(g.initiatorRoles.isEmpty ? "-" : g.initiatorRoles.joined(separator: ",")) -> "
                + "\(g.responderRoles.isEmpty ? "-" : g.responderRoles.joined(separator: ","))\n"
        }
        if let tunnel = g.example.tunnel { out += "      tunnel: \(TunnelFormat.text(tunnel))\n" }
        if let nearest = g.nearestRule { out += "      nearest rule: \(nearest)\n" }
        if g.orientedByRule { out += "      first seen mid-stream: oriented by the rules\n" }
        if g.communityIDs.count == 1 {
            out += "      community id: \(g.communityIDs[0])\n"
            out += "      uid: \(g.uids[0])\n"
        } else {
            let more = g.flows > 3 ? ", … (\(g.flows) flows; JSON lists the first \(g.communityIDs.count))" : ""
            out += "      community ids: \(g.communityIDs.prefix(3).joined(separator: ", "))\(more)\n"
            out += "      uids: \(g.uids.prefix(3).joined(separator: ", "))\(more)\n"
        }
        if g.flows > g.communityIDs.count || g.flows > 1 { out += "      filter: \(g.filter)\n" }
        return out
    }
}

/// ANSI colour, only when writing to a terminal.
struct Paint {
    var enabled: Bool
    func wrap(_ text: String, _ code: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func red(_ text: String) -> String { wrap(text, "31;1") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func bold(_ text: String) -> String { wrap(text, "1") }

    /// A connection state: green when the traffic got through, red when refused, yellow when
    /// nobody answered.
    func state(_ text: String, _ state: ConnectionState) -> String {
        switch state {
        case .rejected, .unreachable: red(text)
        case .attempted, .unanswered: yellow(text)
        default: green(text)
        }
    }
}
