import Audit
import Flows
import Packets

/// The machine-readable audit report (schema in docs/report.md, `version` 1).
public enum AuditJSON {
    /// The report as one string (tests, small reports). ``write(_:failOn:exitStatus:to:)``
    /// streams the same bytes.
    public static func render(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32) -> String {
        var sink = StringSink()
        emit(report, failOn: failOn, exitStatus: exitStatus, into: &sink)
        return sink.text
    }

    /// Writes the report to `output` as it is serialised: each rule, group and advisory is
    /// rendered and handed to the output's buffer on its own (flushed every 64 KiB), so the
    /// report never exists as one string, whatever the number of groups.
    public static func write(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32, to output: ReportOutput) {
        var sink = OutputSink(output: output)
        emit(report, failOn: failOn, exitStatus: exitStatus, into: &sink)
    }

    static func emit<Sink: TextSink>(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32, into sink: inout Sink) {
        var f = FieldWriter(sink: sink)
        defer { sink = f.finish() }
        f.append("\"version\":\(AuditReport.schemaVersion)")
        f.append("\"verdict\":\(Format.json(report.verdict.rawValue))")
        f.append("\"tool\":{\"name\":\"flowaudit\",\"version\":\(Format.json(report.toolVersion))}")
        f.append("\"command_line\":[" + report.commandLine.map(Format.json).joined(separator: ",") + "]")
        if let site = report.site { f.append("\"site\":\(Format.json(site))") }
        f.append("\"systems\":[" + report.systems.map {
            "{\"system\":\(Format.json($0.system)),\"title\":\(Format.json($0.title)),\"file\":\(Format.json($0.file))}"
        }.joined(separator: ",") + "]")
        f.append("\"evidence\":{\"inputs\":[" + report.inputs.map(input).joined(separator: ",") + "],\"policy_files\":["
            + report.policyFiles.map {
                "{\"path\":\(Format.json($0.path)),\"kind\":\(Format.json($0.kind)),\"sha256\":\($0.sha256.map(Format.json) ?? "null")}"
            }.joined(separator: ",") + "]}")
        let counts = report.counts
        let failing = FindingCategory.allCases.filter { failOn.contains($0) && counts[$0, default: 0] > 0 }
        f.append("\"summary\":{\"counts\":{" + FindingCategory.allCases.map { "\(Format.json($0.rawValue)):\(counts[$0, default: 0])" }.joined(separator: ",")
            + "},\"fail_on\":[" + FindingCategory.allCases.filter { failOn.contains($0) }.map { Format.json($0.rawValue) }.joined(separator: ",")
            + "],\"failing\":[" + failing.map { Format.json($0.rawValue) }.joined(separator: ",")
            + "],\"exit_status\":\(exitStatus),\"in_scope_flows\":\(report.inScopeFlows),\"out_of_scope_flows\":\(report.outOfScopeFlows)"
            + ",\"out_of_scope_packets\":\(report.outOfScopePackets),\"one_sided_flows\":\(report.oneSidedFlows)"
            + ",\"unlisted_unexpected_flows\":\(report.unlistedUnexpectedFlows)"
            + ",\"addresses_with_names\":\(report.namesLearned)}")
        f.list("rules", report.rules, rule)
        f.list("unexpected", report.unexpected) { group($0, attempt: false) }
        f.list("attempts", report.attempts) { group($0, attempt: true) }
        f.list("advisories", report.advisories) {
            "{\"kind\":\(Format.json($0.kind.rawValue)),\"message\":\(Format.json($0.message)),\"reference\":\($0.reference.map(Format.json) ?? "null"),"
                + "\"flows\":\($0.flows),\"example\":\(evidence($0.example))}"
        }
        f.append("\"link_control\":" + linkControl(report.linkControl))
        f.append("\"document_notes\":[" + report.documentNotes.map { "{\"system\":\(Format.json($0.system)),\"note\":\(Format.json($0.note))}" }.joined(separator: ",") + "]")
        f.append("\"policy_warnings\":[" + report.policyWarnings.map(Format.json).joined(separator: ",") + "]")
        f.append("\"decode\":{\"packets\":\(report.decode.packets),\"decoded\":\(report.decode.decoded),\"skipped\":{"
            + report.decode.skippedByReason.map { "\(Format.json($0.0.key)):\($0.1)" }.joined(separator: ",")
            + "},\"unmatched_icmp_errors\":\(report.decode.unmatchedICMPErrors),\"evicted_flows\":\(report.decode.evictedFlows),\"flows\":\(report.decode.flowsCreated),"
            + "\"peak_open_flows\":\(report.decode.peakActiveFlows)}")
        let n = report.nameTable
        f.append("\"tables\":{\"flows\":{\"peak_open\":\(report.decode.peakActiveFlows),\"evicted\":\(report.decode.evictedFlows)},"
            + "\"fragments\":" + InputSummaryJSON.fragmentsObject(report.decode.fragments) + ","
            + "\"names\":{\"addresses\":\(report.namesLearned),\"dropped_bindings\":\(n.droppedBindings),"
            + "\"dns_messages_cut\":\(n.dnsMessagesCut),\"dns_address_records_cut\":\(n.dnsAddressRecordsCut),"
            + "\"dns_aliases_cut\":\(n.dnsAliasesCut),\"dns_chains_cut\":\(n.dnsChainsCut),\"dns_names_cut\":\(n.dnsNamesCut)}}")
        f.append("\"named_addresses\":" + strings(report.namedAddresses.map(\.description)))
        f.append("\"malformed_messages\":{" + report.malformedMessages.sorted { $0.key < $1.key }.map { "\(Format.json($0.key)):\($0.value)" }.joined(separator: ",") + "}")
        if let capture = report.capture {
            f.append("\"capture\":{\"received\":\(capture.received),\"dropped_by_kernel\":\(capture.droppedByKernel),\"dropped_by_interface\":\(capture.droppedByInterface),"
                + "\"dropped_by_backlog\":\(capture.droppedByBacklog),\"peak_backlog_bytes\":\(capture.peakBacklogBytes)}")
        }
        f.append(CompletenessJSON.completeness(report.completeness))
        if report.capture != nil { f.append(CompletenessJSON.sinks(report.sinks)) }
    }

    static func input(_ input: InputEvidence) -> String {
        let summary = InputSummaryJSON.object(input.report)
        // Splice the digest into the input summary object.
        return String(summary.dropLast()) + ",\"sha256\":\(input.sha256.map(Format.json) ?? "null"),\"size\":\(input.size.map(String.init) ?? "null")}"
    }

    public static func evidence(_ e: FlowEvidence) -> String {
        var o = JSONObject()
        o.number("flow_id", e.flowID)
        o.string("uid", e.uid)
        o.string("protocol", e.protocolName)
        o.string("initiator", e.initiator.description)
        if let port = e.initiatorPort { o.number("initiator_port", port) }
        o.string("responder", e.responder.description)
        if let port = e.responderPort { o.number("responder_port", port) }
        o.string("state", e.state)
        o.string("initiator_reason", e.initiatorReason)
        o.string("start", Format.timestamp(e.start))
        o.string("end", Format.timestamp(e.end))
        o.number("packets", e.packets)
        o.number("bytes", e.bytes)
        o.string("community_id", e.communityID)
        if let refusal = e.refusal { o.string("refusal", refusal) }
        if e.oneSided { o.bool("one_sided", true) }
        if let vlan = e.vlan { o.number("vlan", vlan) }
        if let tunnel = e.tunnel { o.raw("tunnel", TunnelFormat.json(tunnel)) }
        return o.finish()
    }

    static func strings(_ list: [String]) -> String { "[" + list.map(Format.json).joined(separator: ",") + "]" }

    static func rule(_ r: RuleResult) -> String {
        var f = ["\"id\":\(Format.json(r.qualifiedID))", "\"system\":\(Format.json(r.system))",
                 "\"purpose\":\(Format.json(r.purpose))", "\"ref\":\(Format.json(r.ref))", "\"required\":\(r.required)",
                 "\"each\":\(r.each)", "\"from\":\(strings(r.from))", "\"to\":\(strings(r.to))",
                 "\"services\":\(strings(r.services))", "\"direction\":\(Format.json(r.direction))",
                 "\"status\":\(Format.json(r.status.rawValue))", "\"completed_flows\":\(r.completedFlows)",
                 "\"attempted_flows\":\(r.attemptedFlows)", "\"unanswered_flows\":\(r.unansweredFlows)",
                 "\"one_sided_flows\":\(r.oneSidedFlows)", "\"bytes\":\(r.bytes)"]
        if let first = r.firstSeen { f.append("\"first_seen\":\(Format.json(Format.timestamp(first)))") }
        if let last = r.lastSeen { f.append("\"last_seen\":\(Format.json(Format.timestamp(last)))") }
        if let example = r.example { f.append("\"example\":\(evidence(example))") }
        f.append("\"blocked_examples\":[" + r.blockedExamples.map(evidence).joined(separator: ",") + "]")
        f.append("\"hosts_seen\":\(strings(r.hostsSeen.map(\.description)))")
        f.append("\"hosts_missing\":\(strings(r.hostsMissing))")
        f.append("\"blocked_community_ids\":\(strings(r.blockedCommunityIDs))")
        f.append("\"notes\":\(strings(r.notes))")
        return "{" + f.joined(separator: ",") + "}"
    }

    static func group(_ g: UnexpectedGroup, attempt: Bool) -> String {
        var o = JSONObject(capacity: 1024)
        o.string("id", g.findingID(attempt: attempt))
        o.string("initiator", g.initiator.description)
        o.strings("initiator_names", g.initiatorNames)
        o.strings("initiator_roles", g.initiatorRoles)
        o.string("responder", g.responder.description)
        o.strings("responder_names", g.responderNames)
        o.strings("responder_roles", g.responderRoles)
        o.string("service", g.service)
        o.string("protocol", g.protocolName)
        if let port = g.port { o.number("port", port) }
        o.number("flows", g.flows)
        o.number("packets", g.packets)
        o.number("bytes", g.bytes)
        o.string("first_seen", Format.timestamp(g.firstSeen))
        o.string("last_seen", Format.timestamp(g.lastSeen))
        var states = JSONObject(capacity: 64)
        for (state, count) in g.states.sorted(by: { $0.key < $1.key }) { states.number(state, count) }
        o.raw("states", states.finish())
        o.string("nearest_rule", g.nearestRule)
        o.bool("oriented_by_rule", g.orientedByRule)
        if let vlan = g.vlan { o.number("vlan", vlan) }
        if let tunnel = g.example.tunnel { o.raw("tunnel", TunnelFormat.json(tunnel)) }
        o.raw("example", evidence(g.example))
        o.strings("community_ids", g.communityIDs)
        o.strings("uids", g.uids)
        o.string("filter", g.filter)
        return o.finish()
    }

    static func linkControl(_ c: LinkControlCounts) -> String {
        var o = JSONObject()
        o.bool("audited", c.audited)
        o.number("flows", c.totalFlows)
        o.number("packets", c.totalPackets &+ c.arpFrames &+ c.lldpFrames &+ c.llcFrames)
        // Packets by kind; frames that carry no IP (ARP, LLDP, LLC) are kinds of their own.
        var kinds = JSONObject()
        for kind in c.flows.keys.sorted() { kinds.number(kind.rawValue, c.packets[kind] ?? 0) }
        if c.arpFrames > 0 { kinds.number("arp", c.arpFrames) }
        if c.lldpFrames > 0 { kinds.number("lldp", c.lldpFrames) }
        if c.llcFrames > 0 { kinds.number("llc", c.llcFrames) }
        o.raw("by_kind", kinds.finish())
        var flows = JSONObject()
        for kind in c.flows.keys.sorted() { flows.number(kind.rawValue, c.flows[kind] ?? 0) }
        o.raw("flows_by_kind", flows.finish())
        return o.finish()
    }
}

/// Where a streamed report's text goes.
protocol TextSink {
    mutating func write(_ text: String)
}

/// Collects the text in memory.
struct StringSink: TextSink {
    var text = ""
    mutating func write(_ text: String) { self.text += text }
}

/// Hands the text to a report output (which buffers and flushes it).
struct OutputSink: TextSink {
    let output: ReportOutput
    mutating func write(_ text: String) { output.write(text) }
}

/// Writes a JSON object's members one by one, `{` before the first, `,\n` between them and
/// `}\n` at the end: the report's layout, without holding its members.
struct FieldWriter<Sink: TextSink> {
    var sink: Sink
    var first = true

    init(sink: Sink) { self.sink = sink }

    /// One member, already rendered (`"name":value`).
    mutating func append(_ member: String) {
        sink.write(first ? "{" : ",\n")
        first = false
        sink.write(member)
    }

    /// An array member whose elements are rendered and written one at a time.
    mutating func list<Element>(_ name: String, _ elements: [Element], _ render: (Element) -> String) {
        append("\"\(name)\":[")
        for (index, element) in elements.enumerated() {
            if index > 0 { sink.write(",") }
            sink.write(render(element))
        }
        sink.write("]")
    }

    /// Closes the object and returns the sink.
    mutating func finish() -> Sink {
        sink.write(first ? "{}\n" : "}\n")
        return sink
    }
}
