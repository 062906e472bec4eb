import Audit
import Flows
import Packets

/// Output formats of `flowaudit flows`.
public enum FlowTableFormat: String, CaseIterable, Sendable {
    case text, json, csv
}

/// Streams the flow table: one row per flow as it ends, then the summary of the inputs.
///
/// Text is a table for people: columns as wide as their widest cell (numbers right-aligned),
/// measured over the first ``FlowTableWriter/measuredRows`` flows (all of them for most
/// captures). Columns whose values are short by nature (state, history, initiator-by, ...) are
/// as wide as their longest possible value. A text cell wider than its column (a later flow's
/// names, service or tunnel, or any beyond the column's cap) is cut with an ellipsis (…);
/// numbers and endpoints are never cut: a later one wider than its column pushes the rest of its
/// row. JSON and CSV carry every value whole.
public final class FlowTableWriter {
    let format: FlowTableFormat
    let output: ReportOutput
    let paint: Paint
    var rows = 0
    var byProtocol: [UInt8: Int] = [:]
    /// Text rows held until the column widths are known.
    var pending: [[String]] = []
    var states: [ConnectionState] = []
    var widths: [Int]?

    /// Rows measured before the text table's widths are fixed.
    public static let measuredRows = 1000

    /// One column of the text table: its width is the widest cell measured, at least
    /// `minimum`, at most `maximum`. Only columns that `cut` truncate a wider cell.
    struct Column {
        var title: String
        var minimum: Int
        var maximum: Int
        var rightAligned = false
        var cuts = false
    }

    static let columns: [Column] = [
        Column(title: "start", minimum: 27, maximum: 27),
        Column(title: "uid", minimum: 18, maximum: 18),
        Column(title: "duration", minimum: 8, maximum: 14, rightAligned: true),
        Column(title: "proto", minimum: 6, maximum: 6),                    // icmpv6, ip/255
        Column(title: "initiator", minimum: 9, maximum: 47),
        Column(title: "responder", minimum: 9, maximum: 47),
        Column(title: "service", minimum: 7, maximum: 16, cuts: true),
        Column(title: "state", minimum: 11, maximum: 11),                  // unreachable
        Column(title: "pkts>", minimum: 5, maximum: 20, rightAligned: true),
        Column(title: "bytes>", minimum: 6, maximum: 20, rightAligned: true),
        Column(title: "<pkts", minimum: 5, maximum: 20, rightAligned: true),
        Column(title: "<bytes", minimum: 6, maximum: 20, rightAligned: true),
        Column(title: "history", minimum: 13, maximum: 13),                // SHADFR^shadfr
        Column(title: "tls", minimum: 4, maximum: 6),                      // ssl3, 0x7f1c
        Column(title: "names", minimum: 20, maximum: 40, cuts: true),
        Column(title: "vlan", minimum: 4, maximum: 4, rightAligned: true),
        Column(title: "initiator-by", minimum: 15, maximum: 15),           // well-known-port
        Column(title: "community-id", minimum: 30, maximum: 30),
        Column(title: "tunnel", minimum: 6, maximum: 64, cuts: true),
    ]
    static let stateColumn = 7

    /// - Parameter colour: colour the text table's states (green: got through, red: refused,
    ///   yellow: unanswered); padding counts only visible characters, so columns stay aligned.
    public init(format: FlowTableFormat, output: ReportOutput, colour: Bool = false) {
        self.format = format
        self.output = output
        self.paint = Paint(enabled: colour && format == .text)
    }

    /// Writes whatever comes before the first row.
    public func begin() {
        switch format {
        case .text:
            break  // the header comes with the widths
        case .csv:
            output.write("start,uid,duration,protocol,initiator,initiator_port,responder,responder_port,service,state,"
                + "initiator_packets,initiator_bytes,responder_packets,responder_bytes,initiator_reason,"
                + "end_reason,history,zeek_conn_state,tls_version,names,vlan,community_id,tunnel,tunnel_id,tunnel_outer_source,tunnel_outer_destination\n")
        case .json:
            output.write("{\"version\":1,\"flows\":[")
        }
    }

    /// Writes one flow with what its payload told (`facts`). CSV rows are written byte by byte
    /// into the output buffer: this runs once per flow, and on short flows it is a large share
    /// of the run.
    public func row(_ flow: Flow, facts: FlowFacts = FlowFacts()) {
        byProtocol[flow.protocolNumber, default: 0] += 1
        let communityID = CommunityID.of(flow)
        let uid = FlowUID.of(flow)
        switch format {
        case .text:
            textRow(flow, facts: facts, uid: uid, communityID: communityID)
        case .csv:
            output.appendRow { out in
                // Fields are ASCII without commas or quotes, except the names and the service
                // list, which are quoted when they need it (RFC 4180).
                out.timestamp(flow.firstTimestamp); out.byte(0x2C)
                out.ascii(uid); out.byte(0x2C)
                out.duration(flow.duration); out.byte(0x2C)
                out.ascii(flow.protocolName); out.byte(0x2C)
                out.address(flow.initiator); out.byte(0x2C)
                if flow.hasPorts { out.decimal(UInt64(flow.initiatorPort)) }
                out.byte(0x2C)
                out.address(flow.responder); out.byte(0x2C)
                if flow.hasPorts { out.decimal(UInt64(flow.responderPort)) }
                out.byte(0x2C)
                if let service = facts.service { out.csvField(service) }
                out.byte(0x2C)
                out.ascii(flow.state.name); out.byte(0x2C)
                out.decimal(flow.initiatorPackets); out.byte(0x2C)
                out.decimal(flow.initiatorBytes); out.byte(0x2C)
                out.decimal(flow.responderPackets); out.byte(0x2C)
                out.decimal(flow.responderBytes); out.byte(0x2C)
                out.ascii(flow.initiatorReason.name); out.byte(0x2C)
                out.ascii(flow.endReason.name); out.byte(0x2C)
                out.ascii(flow.history); out.byte(0x2C)
                out.ascii(flow.zeekConnState); out.byte(0x2C)
                if let version = facts.tlsVersion { out.ascii(FlowTableWriter.tlsText(version)) }
                out.byte(0x2C)
                if !facts.names.isEmpty { out.csvField(facts.names.joined(separator: " ")) }
                out.byte(0x2C)
                if flow.vlan >= 0 { out.decimal(UInt64(flow.vlan)) }
                out.byte(0x2C)
                out.ascii(communityID)
                out.byte(0x2C)
                if let tunnel = flow.tunnel {
                    out.ascii(tunnel.kind.name); out.byte(0x2C)
                    if let id = tunnel.id { out.decimal(UInt64(id)) }
                    out.byte(0x2C)
                    out.address(tunnel.outerSource); out.byte(0x2C)
                    out.address(tunnel.outerDestination)
                } else {
                    out.ascii(",,,")
                }
                out.byte(0x0A)
            }
        case .json:
            output.write((rows == 0 ? "\n" : ",\n") + FlowJSON.object(flow, communityID: communityID, uid: uid, facts: facts))
        }
        rows += 1
    }

    /// `1.2`, `1.3`, `ssl3`, or the wire value in hex (``TLSVersion/number``).
    static func tlsText(_ version: UInt16) -> String { TLSVersion(rawValue: version).number }

    func textRow(_ flow: Flow, facts: FlowFacts, uid: String, communityID: String) {
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            Format.endpoint(address.description, isIPv6: !address.isIPv4, port: flow.hasPorts ? port : nil)
        }
        let cells = [
            Format.timestamp(flow.firstTimestamp), uid, Format.duration(flow.duration), flow.protocolName,
            endpoint(flow.initiator, flow.initiatorPort), endpoint(flow.responder, flow.responderPort),
            facts.service ?? "-", flow.state.name,
            String(flow.initiatorPackets), String(flow.initiatorBytes), String(flow.responderPackets), String(flow.responderBytes),
            flow.history.isEmpty ? "-" : flow.history, facts.tlsVersion.map(Self.tlsText) ?? "-",
            facts.names.isEmpty ? "-" : Format.printable(facts.names.joined(separator: ",")),
            flow.vlan >= 0 ? String(flow.vlan) : "-", flow.initiatorReason.name, communityID,
            flow.tunnel.map(TunnelFormat.text) ?? "-",
        ]
        if let widths {
            output.write(line(cells, widths: widths, state: flow.state))
            return
        }
        pending.append(cells)
        states.append(flow.state)
        if pending.count >= Self.measuredRows { flushPending() }
    }

    /// Fixes the widths from the rows held, writes the header and those rows.
    func flushPending() {
        guard widths == nil else { return }
        var measured = Self.columns.map { Format.visibleWidth($0.title) }
        for cells in pending {
            for (index, cell) in cells.enumerated() { measured[index] = max(measured[index], Format.visibleWidth(cell)) }
        }
        let fixed = zip(measured, Self.columns).map { min(max($0, $1.minimum), max($1.maximum, Format.visibleWidth($1.title))) }
        widths = fixed
        var header = ""
        for (index, column) in Self.columns.enumerated() {
            if index > 0 { header += "  " }
            header += index == Self.columns.count - 1 ? column.title : Format.aligned(column.title, fixed[index], right: column.rightAligned)
        }
        output.write(header + "\n")
        for (cells, state) in zip(pending, states) { output.write(line(cells, widths: fixed, state: state)) }
        pending = []
        states = []
    }

    func line(_ cells: [String], widths: [Int], state: ConnectionState) -> String {
        var text = ""
        let last = cells.count - 1
        for (index, cell) in cells.enumerated() {
            if index > 0 { text += "  " }
            let column = Self.columns[index]
            // The last column is not padded (no trailing blanks), only cut to its cap.
            var value = column.cuts ? Format.truncated(cell, index == last ? column.maximum : widths[index]) : cell
            if index == Self.stateColumn && paint.enabled {
                let padding = String(repeating: " ", count: max(0, widths[index] - Format.visibleWidth(value)))
                value = paint.state(value, state) + padding
            } else if index != last {
                value = Format.aligned(value, widths[index], right: column.rightAligned)
            }
            text += value
        }
        return text + "\n"
    }

    /// Writes the summary of the inputs and closes the document.
    public func end(inputs: [InputReport], statistics: FlowMeterStatistics) {
        switch format {
        case .text:
            if !pending.isEmpty || rows == 0 { flushPending() }
            output.write("\n" + InputSummaryText.render(inputs: inputs))
            let protocols = byProtocol.sorted { $0.key < $1.key }.map { "\(Flow.protocolName($0.key)) \($0.value)" }.joined(separator: ", ")
            output.write("flows: \(rows)\(protocols.isEmpty ? "" : " (\(protocols))"); at most \(statistics.peakActiveFlows) open at once\n")
        case .csv:
            break
        case .json:
            output.write("\n],\"inputs\":[" + inputs.map(InputSummaryJSON.object).joined(separator: ",")
                + "],\"flow_count\":\(rows),\"peak_open_flows\":\(statistics.peakActiveFlows)}\n")
        }
        output.flush()
    }
}

/// A flow as a JSON object (the `flows` array of `flows --format json`; docs/report.md).
public enum FlowJSON {
    public static func object(_ borrowedFlow: borrowing Flow, communityID: String, uid: String, facts: FlowFacts = FlowFacts()) -> String {
        let flow = copy borrowedFlow
        var fields: [String] = [
            "\"id\":\(flow.id)",
            "\"uid\":\(Format.json(uid))",
            "\"start\":\(Format.json(Format.timestamp(flow.firstTimestamp)))",
            "\"end\":\(Format.json(Format.timestamp(flow.lastTimestamp)))",
            "\"duration\":\(Format.duration(flow.duration))",
            "\"protocol\":\(Format.json(flow.protocolName))",
            "\"ip_version\":\(flow.key.ipVersion)",
            "\"initiator\":\(Format.json(flow.initiator.description))",
            "\"responder\":\(Format.json(flow.responder.description))",
        ]
        if flow.hasPorts {
            fields.append("\"initiator_port\":\(flow.initiatorPort)")
            fields.append("\"responder_port\":\(flow.responderPort)")
        }
        if flow.protocolNumber == IPProtocolNumber.icmp || flow.protocolNumber == IPProtocolNumber.icmpv6 {
            fields.append("\"icmp_type\":\(flow.icmpType)")
        }
        if let service = facts.service { fields.append("\"service\":\(Format.json(service))") }
        fields += [
            "\"state\":\(Format.json(flow.state.name))",
            "\"completed\":\(flow.isCompleted)",
            "\"end_reason\":\(Format.json(flow.endReason.name))",
            "\"initiator_reason\":\(Format.json(flow.initiatorReason.name))",
            "\"initiator_packets\":\(flow.initiatorPackets)",
            "\"initiator_bytes\":\(flow.initiatorBytes)",
            "\"initiator_payload_bytes\":\(flow.initiatorPayloadBytes)",
            "\"responder_packets\":\(flow.responderPackets)",
            "\"responder_bytes\":\(flow.responderBytes)",
            "\"responder_payload_bytes\":\(flow.responderPayloadBytes)",
            "\"history\":\(Format.json(flow.history))",
            "\"zeek_conn_state\":\(Format.json(flow.zeekConnState))",
            "\"community_id\":\(Format.json(communityID))",
        ]
        if let version = facts.tlsVersion { fields.append("\"tls_version\":\(Format.json(FlowTableWriter.tlsText(version)))") }
        if !facts.names.isEmpty { fields.append("\"names\":[" + facts.names.map(Format.json).joined(separator: ",") + "]") }
        if flow.vlan >= 0 { fields.append("\"vlan\":\(flow.vlan)") }
        if let tunnel = flow.tunnel { fields.append("\"tunnel\":" + TunnelFormat.json(tunnel)) }
        if let reporter = flow.icmpErrorReporter {
            fields.append("\"icmp_error\":{\"reporter\":\(Format.json(reporter.description)),\"type\":\(flow.icmpErrorType),"
                + "\"code\":\(flow.icmpErrorCode),\"count\":\(flow.icmpErrors)}")
        }
        if let rst = flow.rstSenderIsInitiator { fields.append("\"first_rst_from\":\(Format.json(rst ? "initiator" : "responder"))") }
        if flow.looksOneSided { fields.append("\"one_sided\":true") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// The per-input summary in text.
public enum InputSummaryText {
    public static func render(inputs: [InputReport]) -> String {
        var out = "inputs:\n"
        for input in inputs {
            let s = input.summary
            out += "  \(s.path == "-" ? "standard input" : s.path)\n"
            if let format = s.format {
                var compressed = ""
                if let compression = s.compression {
                    compressed = ", \(compression.rawValue)-compressed (\(s.compressedBytesRead ?? 0) compressed bytes read)"
                }
                out += "    format: \(format)\(compressed)\n"
            }
            let linkTypes = s.linkTypes.map { "\($0.linkType) \(Format.count($0.packets, "packet"))" }.joined(separator: ", ")
            if !linkTypes.isEmpty { out += "    link types: \(linkTypes)\n" }
            if s.format != nil {
                out += "    packets: \(s.packets), captured bytes: \(s.capturedBytes), wire bytes: \(s.originalBytes)\n"
            }
            if let first = s.firstTimestamp, let last = s.lastTimestamp {
                out += "    time: \(Format.timestamp(first)) to \(Format.timestamp(last)) (\(Format.duration(last.subtractingReportingOverflow(first).overflow ? .max : last - first)) s)\n"
            }
            if input.filteredOut > 0 {
                out += "    filtered out by --filter: \(input.filteredOut) packet\(input.filteredOut == 1 ? "" : "s")\n"
            }
            let skipped = input.decode.skippedByReason
            if !skipped.isEmpty {
                out += "    skipped: " + skipped.map { "\($0.1) \($0.0.key)" }.joined(separator: ", ") + "\n"
                for (status, _) in skipped { out += "      \(status.key): \(status.explanation)\n" }
            }
            for (linkType, count) in input.decode.unsupportedLinkTypes.sorted(by: { $0.key < $1.key }) {
                let interfaces = s.interfaces.filter { $0.linkType == linkType }.map { String($0.id) }
                let which = interfaces.isEmpty ? "" : " on interface\(interfaces.count > 1 ? "s" : "") \(interfaces.joined(separator: ", "))"
                out += "    unsupported link type \(linkType)\(which): \(Format.count(count, "packet")) not decoded\n"
            }
            if input.decode.evictedFlows > 0 {
                out += "    flows ended early because the flow table was full (--max-flows): \(input.decode.evictedFlows)\n"
            }
            if let tunnels = TunnelFormat.packetCounts(input.decode.tunnelledByKind) {
                out += "    tunnelled packets metered as inner flows: \(tunnels)\n"
            }
            let innerSkipped = input.decode.tunnelInnerSkippedByReason
            if !innerSkipped.isEmpty {
                out += "    tunnel payloads whose inner packet did not decode: " + innerSkipped.map { "\($0.1) \($0.0.key)" }.joined(separator: ", ") + "\n"
            }
            if input.decode.sourceRoutedPackets > 0 {
                out += "    packets with a source route (the header's destination is the next hop): \(input.decode.sourceRoutedPackets)\n"
            }
            if input.decode.tunnelTooDeep > 0 {
                out += "    inner packets deeper than \(PacketDecoder.maximumTunnelDepth) tunnels, not followed: \(input.decode.tunnelTooDeep)\n"
            }
            if input.decode.unmatchedICMPErrors > 0 {
                out += "    ICMP errors quoting no flow seen: \(input.decode.unmatchedICMPErrors)\n"
            }
            for warning in s.warnings { out += "    warning: \(warning)\n" }
            if s.omittedWarnings > 0 { out += "    warning: \(Format.count(s.omittedWarnings, "more warning", "more warnings")) not shown\n" }
            if let error = input.error ?? s.error { out += "    error: \(error)\n" }
        }
        return out
    }
}

/// The per-input summary in JSON.
public enum InputSummaryJSON {
    /// The fragment table's counters (docs/architecture.md, "Tables and their bounds").
    public static func fragmentsObject(_ f: FragmentStatistics) -> String {
        "{\"entries_created\":\(f.entriesCreated),\"entries_completed\":\(f.entriesCompleted),"
            + "\"entries_expired\":\(f.entriesExpired),\"entries_evicted\":\(f.entriesEvicted),"
            + "\"unmatched_fragments\":\(f.unmatchedFragments),\"peak_entries\":\(f.peakEntries),"
            + "\"queue_steps\":\(f.queueSteps)}"
    }

    public static func object(_ input: InputReport) -> String {
        let s = input.summary
        var fields: [String] = ["\"path\":\(Format.json(s.path))"]
        if let format = s.format { fields.append("\"format\":\(Format.json(format.description))") }
        fields.append("\"compression\":\(s.compression.map { Format.json($0.rawValue) } ?? "null")")
        fields.append("\"link_types\":[" + s.linkTypes.map {
            "{\"link_type\":\($0.linkType.rawValue),\"name\":\(Format.json($0.linkType.name)),\"packets\":\($0.packets)}"
        }.joined(separator: ",") + "]")
        fields += ["\"packets\":\(s.packets)", "\"captured_bytes\":\(s.capturedBytes)", "\"wire_bytes\":\(s.originalBytes)"]
        if let first = s.firstTimestamp, let last = s.lastTimestamp {
            fields.append("\"first\":\(Format.json(Format.timestamp(first)))")
            fields.append("\"last\":\(Format.json(Format.timestamp(last)))")
        }
        fields.append("\"filtered_out\":\(input.filteredOut)")
        fields.append("\"decoded\":\(input.decode.decoded)")
        fields.append("\"skipped\":{" + input.decode.skippedByReason.map { "\(Format.json($0.0.key)):\($0.1)" }.joined(separator: ",") + "}")
        fields.append("\"unsupported_link_types\":{" + input.decode.unsupportedLinkTypes.sorted(by: { $0.key < $1.key })
            .map { "\"\($0.key.rawValue)\":\($0.value)" }.joined(separator: ",") + "}")
        fields.append("\"unmatched_icmp_errors\":\(input.decode.unmatchedICMPErrors)")
        fields.append("\"evicted_flows\":\(input.decode.evictedFlows)")
        fields.append("\"tunnels\":{\"inner_packets\":{" + input.decode.tunnelledByKind.map { "\(Format.json($0.0.name)):\($0.1)" }.joined(separator: ",")
            + "},\"inner_skipped\":{" + input.decode.tunnelInnerSkippedByReason.map { "\(Format.json($0.0.key)):\($0.1)" }.joined(separator: ",")
            + "},\"too_deep\":\(input.decode.tunnelTooDeep)}")
        fields.append("\"source_routed_packets\":\(input.decode.sourceRoutedPackets)")
        fields.append("\"fragments\":" + fragmentsObject(input.decode.fragments))
        fields.append("\"clamped_timestamps\":\(s.clampedTimestamps)")
        fields.append("\"skipped_blocks\":\(s.skippedBlocks)")
        fields.append("\"warnings\":[" + s.warnings.map { Format.json($0.description) }.joined(separator: ",") + "]")
        if let error = input.error ?? s.error { fields.append("\"error\":\(Format.json(error.description))") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
