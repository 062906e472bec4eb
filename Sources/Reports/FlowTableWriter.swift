import Audit
import Flows
import Packets

/// Output formats of `flowaudit flows`.
public enum FlowTableFormat: String, CaseIterable, Sendable {
    case text, json, csv
}

/// Streams the flow table: one row per flow as it ends, then the summary of the inputs.
public final class FlowTableWriter {
    let format: FlowTableFormat
    let output: ReportOutput
    var rows = 0
    var byProtocol: [UInt8: Int] = [:]

    public init(format: FlowTableFormat, output: ReportOutput) {
        self.format = format
        self.output = output
    }

    /// Writes whatever comes before the first row.
    public func begin() {
        switch format {
        case .text:
            output.write(Format.column("start", 28) + Format.column("duration", 13) + Format.column("proto", 7)
                + Format.column("initiator", 24) + Format.column("responder", 24) + Format.column("state", 12)
                + "pkts>  bytes>  <pkts  <bytes  initiator-by      history  vlan  community-id\n")
        case .csv:
            output.write("start,duration,protocol,initiator,initiator_port,responder,responder_port,state,"
                + "initiator_packets,initiator_bytes,responder_packets,responder_bytes,initiator_reason,"
                + "end_reason,history,zeek_conn_state,vlan,community_id,tunnel,tunnel_id,tunnel_outer_source,tunnel_outer_destination\n")
        case .json:
            output.write("{\"version\":1,\"flows\":[")
        }
    }

    /// Writes one flow. Text and CSV rows are written byte by byte into the output buffer: this
    /// runs once per flow, and on short flows it is a large share of the run.
    public func row(_ flow: Flow) {
        byProtocol[flow.protocolNumber, default: 0] += 1
        let communityID = CommunityID.of(flow)
        switch format {
        case .text:
            output.appendRow { out in
                let v6 = flow.key.ipVersion == 6
                var start = out.position
                out.timestamp(flow.firstTimestamp); out.pad(from: start, to: 28)
                start = out.position
                out.duration(flow.duration); out.pad(from: start, to: 13)
                start = out.position
                out.ascii(flow.protocolName); out.pad(from: start, to: 7)
                for (address, port) in [(flow.initiator, flow.initiatorPort), (flow.responder, flow.responderPort)] {
                    start = out.position
                    if v6 && flow.hasPorts { out.byte(0x5B) }
                    out.address(address)
                    if flow.hasPorts {
                        if v6 { out.byte(0x5D) }
                        out.byte(0x3A)
                        out.decimal(UInt64(port))
                    }
                    out.pad(from: start, to: 24)
                    out.byte(0x20)
            }
            start = out.position
            out.ascii(flow.state.name); out.pad(from: start, to: 12)
            out.decimal(flow.initiatorPackets); out.byte(0x20); out.decimal(flow.initiatorBytes); out.byte(0x20)
            out.decimal(flow.responderPackets); out.byte(0x20); out.decimal(flow.responderBytes); out.ascii("  ")
            start = out.position
            out.ascii(flow.initiatorReason.name); out.pad(from: start, to: 16)
            start = out.position
            out.ascii(flow.history); out.pad(from: start, to: 9)
            start = out.position
            if flow.vlan >= 0 { out.decimal(UInt64(flow.vlan)) } else { out.byte(0x2D) }
            out.pad(from: start, to: 6)
            out.ascii(communityID)
            if let tunnel = flow.tunnel { out.ascii("  tunnel " + TunnelFormat.text(tunnel)) }
            out.byte(0x0A)
            }
        case .csv:
            output.appendRow { out in
                // Every field is ASCII without commas or quotes, so none needs quoting.
                out.timestamp(flow.firstTimestamp); out.byte(0x2C)
                out.duration(flow.duration); out.byte(0x2C)
                out.ascii(flow.protocolName); out.byte(0x2C)
                out.address(flow.initiator); out.byte(0x2C)
                if flow.hasPorts { out.decimal(UInt64(flow.initiatorPort)) }
                out.byte(0x2C)
                out.address(flow.responder); out.byte(0x2C)
                if flow.hasPorts { out.decimal(UInt64(flow.responderPort)) }
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
            output.write((rows == 0 ? "\n" : ",\n") + FlowJSON.object(flow, communityID: communityID))
        }
        rows += 1
    }

    /// Writes the summary of the inputs and closes the document.
    public func end(inputs: [InputReport], statistics: FlowMeterStatistics) {
        switch format {
        case .text:
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
    public static func object(_ borrowedFlow: borrowing Flow, communityID: String) -> String {
        let flow = copy borrowedFlow
        var fields: [String] = [
            "\"id\":\(flow.id)",
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
            if let format = s.format { out += "    format: \(format)\n" }
            let linkTypes = s.linkTypes.map { "\($0.linkType) \($0.packets) packets" }.joined(separator: ", ")
            if !linkTypes.isEmpty { out += "    link types: \(linkTypes)\n" }
            if s.format != nil {
                out += "    packets: \(s.packets), captured bytes: \(s.capturedBytes), wire bytes: \(s.originalBytes)\n"
            }
            if let first = s.firstTimestamp, let last = s.lastTimestamp {
                out += "    time: \(Format.timestamp(first)) to \(Format.timestamp(last)) (\(Format.duration(last.subtractingReportingOverflow(first).overflow ? .max : last - first)) s)\n"
            }
            let skipped = input.decode.skippedByReason
            if !skipped.isEmpty {
                out += "    skipped: " + skipped.map { "\($0.1) \($0.0.key)" }.joined(separator: ", ") + "\n"
                for (status, _) in skipped { out += "      \(status.key): \(status.explanation)\n" }
            }
            for (linkType, count) in input.decode.unsupportedLinkTypes.sorted(by: { $0.key < $1.key }) {
                let interfaces = s.interfaces.filter { $0.linkType == linkType }.map { String($0.id) }
                let which = interfaces.isEmpty ? "" : " on interface\(interfaces.count > 1 ? "s" : "") \(interfaces.joined(separator: ", "))"
                out += "    unsupported link type \(linkType)\(which): \(count) packets not decoded\n"
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
            if s.omittedWarnings > 0 { out += "    warning: \(s.omittedWarnings) more warnings not shown\n" }
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
        fields.append("\"link_types\":[" + s.linkTypes.map {
            "{\"link_type\":\($0.linkType.rawValue),\"name\":\(Format.json($0.linkType.name)),\"packets\":\($0.packets)}"
        }.joined(separator: ",") + "]")
        fields += ["\"packets\":\(s.packets)", "\"captured_bytes\":\(s.capturedBytes)", "\"wire_bytes\":\(s.originalBytes)"]
        if let first = s.firstTimestamp, let last = s.lastTimestamp {
            fields.append("\"first\":\(Format.json(Format.timestamp(first)))")
            fields.append("\"last\":\(Format.json(Format.timestamp(last)))")
        }
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
