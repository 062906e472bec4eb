import Audit
import Flows
import Packets
import Policy

/// The packets of a finding written to a capture file (`flowaudit extract`, `audit --extract`).
///
/// Two passes over the inputs after the audit: the first meters them again, as the audit did
/// (same timeouts, same orientation by the rules), and keeps the flows the finding is made of
/// (their key and lifetime); the second reads every packet, decodes it and writes those of a
/// kept flow: a packet whose flow key (of the packet, or of a tunnel's inner packet) is a kept
/// flow's and whose time lies in that flow's lifetime, the ICMP errors that quote a kept flow
/// in its lifetime, and the later fragments of a datagram whose first fragment was written.
/// Frames are written whole, as captured.
public struct PacketExtraction {
    /// A flow of findings: its first and last packet times, and the findings it belongs to (a
    /// flow two rules allow is evidence for both).
    struct Window {
        var first: Int64
        var last: Int64
        var targets: [Int]
    }

    var windows: [FlowKey: [Window]] = [:]
    /// Flows of each finding (target), by target index.
    public private(set) var flows: [Int]
    /// The keys of each finding's flows, for a capture filter.
    public private(set) var keys: [[FlowKey]]

    /// What one written file holds.
    public struct Written: Sendable {
        public var path: String
        public var packets = 0
        public var bytes = 0
        /// Link types of the packets, in the order first met.
        public var linkTypes: [LinkType] = []
    }

    /// An extraction failure: a capture or an output that cannot be read or written.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether a flow counts for its rule or group as traffic that got through (as the auditor
    /// decides it): completed, or a connectionless flow sent without reply.
    public static func gotThrough(_ flow: borrowing Flow) -> Bool {
        // (Locals: a borrowed flow cannot be captured by the operators' autoclosures.)
        let through = flow.gotThrough, unanswered = flow.state == .unanswered, tcp = flow.protocolNumber == IPProtocolNumber.tcp
        return through || (unanswered && !tcp)
    }

    /// True when `flow` belongs to the group (initiator, responder, protocol, service port or
    /// ICMP type, VLAN, tunnel, and whether it got through).
    public static func belongs(_ flow: borrowing Flow, to group: UnexpectedGroup, attempt: Bool) -> Bool {
        let initiator = flow.initiator, responder = flow.responder, protocolNumber = flow.protocolNumber
        guard initiator == group.initiator, responder == group.responder, protocolNumber == group.protocolNumber,
              gotThrough(flow) != attempt else { return false }
        let port: UInt16
        if flow.hasPorts {
            port = flow.responderPort
        } else if [IPProtocolNumber.icmp, IPProtocolNumber.icmpv6].contains(flow.protocolNumber) {
            port = UInt16(flow.icmpType)
        } else {
            port = 0
        }
        guard port == (group.port ?? 0) else { return false }
        let vlan: UInt16? = flow.vlan >= 0 ? UInt16(truncatingIfNeeded: flow.vlan) : nil
        guard vlan == group.vlan else { return false }
        let tunnel = flow.tunnel
        return tunnel?.kind == group.example.tunnel?.kind && tunnel?.id == group.example.tunnel?.id
    }

    /// The observer of the second metering: keeps the key and time window of each flow of a
    /// finding, orienting flows as the audit does.
    final class FlowKeeper: FlowObserver {
        let policy: CompiledPolicy
        let target: (borrowing Flow) -> [Int]
        var kept: [(FlowKey, Window)] = []

        init(policy: CompiledPolicy, target: @escaping (borrowing Flow) -> [Int]) {
            self.policy = policy
            self.target = target
        }

        func flowEnded(_ flow: borrowing Flow) {
            let indices = target(flow)
            if !indices.isEmpty { kept.append((flow.key, Window(first: flow.firstTimestamp, last: flow.lastTimestamp, targets: indices))) }
        }

        func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
            policy.orientationHint(a: a, portA: portA, b: b, portB: portB, ipProtocol: protocolNumber)
        }
    }

    /// Meters `paths` again and keeps each flow that `target` assigns to some of the `targets`
    /// findings (indices below `targets`; none for a flow of no finding).
    public init(paths: [String], meter configuration: FlowMeterConfiguration, policy: CompiledPolicy,
                reading: CaptureRun.Reading, targets: Int, target: @escaping (borrowing Flow) -> [Int]) {
        let keeper = FlowKeeper(policy: policy, target: target)
        var meter = FlowMeter(configuration: configuration, observer: keeper)
        _ = CaptureRun.run(paths: paths, meter: &meter, reading: reading)
        let kept = keeper.kept
        flows = Array(repeating: 0, count: targets)
        keys = Array(repeating: [], count: targets)
        for (key, window) in kept {
            windows[key, default: []].append(window)
            for index in window.targets where flows.indices.contains(index) {
                flows[index] += 1
                if !keys[index].contains(key) { keys[index].append(key) }
            }
        }
    }

    /// The findings a packet of flow `key` at `time` belongs to.
    func target(_ key: FlowKey, at time: Int64) -> [Int]? {
        guard let list = windows[key] else { return nil }
        return list.first { $0.first <= time && time <= $0.last }?.targets
    }

    /// A capture filter (BPF, for tcpdump and Wireshark) that selects a group's packets in both
    /// directions: from the initiator to the responder's service port and back. Narrower than
    /// the report's `filter` (`tcp port 443` matches either end's port, so also the reverse
    /// flows of an allowed rule); the ICMP errors that refused a flow are not selected. A group
    /// carried in a tunnel gets the report's filter (BPF sees the outer headers).
    public static func exactFilter(_ g: UnexpectedGroup) -> String {
        guard g.example.tunnel == nil else { return g.filter }
        let i = g.initiator, r = g.responder
        var text: String
        switch g.protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp:
            if let port = g.port {
                text = "\(g.protocolName) and ((src host \(i) and dst host \(r) and dst port \(port)) or "
                    + "(src host \(r) and dst host \(i) and src port \(port)))"
            } else {
                text = "\(g.protocolName) and host \(i) and host \(r)"
            }
        case IPProtocolNumber.icmp: text = "icmp and host \(i) and host \(r)"
        case IPProtocolNumber.icmpv6: text = "icmp6 and host \(i) and host \(r)"
        default: text = "\(i.isIPv4 ? "ip" : "ip6") proto \(g.protocolNumber) and host \(i) and host \(r)"
        }
        if let vlan = g.vlan { text = "vlan \(vlan) and " + text }
        return text
    }

    /// A capture filter (BPF, for tcpdump and Wireshark) that selects the packets of flows with
    /// these keys: both ends, both ports and the protocol of each.
    public static func filter(_ keys: [FlowKey]) -> String {
        let parts = keys.map { key -> String in
            let proto: String
            switch key.protocolNumber {
            case IPProtocolNumber.tcp: proto = "tcp"
            case IPProtocolNumber.udp: proto = "udp"
            case IPProtocolNumber.icmp: proto = "icmp"
            case IPProtocolNumber.icmpv6: proto = "icmp6"
            default: proto = "\(key.ipVersion == 4 ? "ip" : "ip6") proto \(key.protocolNumber)"
            }
            var text = "host \(key.lower) and host \(key.upper) and \(proto)"
            if key.protocolNumber == IPProtocolNumber.tcp || key.protocolNumber == IPProtocolNumber.udp {
                text += key.lowerPort == key.upperPort ? " port \(key.lowerPort)" : " port \(key.lowerPort) and \(proto) port \(key.upperPort)"
            }
            return text
        }
        return parts.count == 1 ? parts[0] : parts.map { "(\($0))" }.joined(separator: " or ")
    }

    /// Fragments of a written first fragment: source, destination, protocol and IP id.
    struct FragmentKey: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var protocolNumber: UInt8
        var identification: UInt32
    }

    /// Whether the packet decoded into `packet` belongs to a kept flow; `fragments` remembers
    /// first fragments that did, for the later fragments of their datagram.
    func selects(_ packet: inout DecodedPacket, frame: Span<UInt8>, time: Int64, fragments: inout [FragmentKey: [Int]]) -> [Int]? {
        var depth = 0
        while true {
            if let found = matchesOne(packet, time: time, fragments: &fragments) { return found }
            guard packet.tunnelKind != .none, depth < PacketDecoder.maximumTunnelDepth else { return nil }
            depth += 1
            guard PacketDecoder.decodeInner(frame, into: &packet) == .ok else { return nil }
        }
    }

    func matchesOne(_ packet: DecodedPacket, time: Int64, fragments: inout [FragmentKey: [Int]]) -> [Int]? {
        if packet.icmpKind == .error {
            let quoted = FlowKey.make(source: packet.quotedSource, sourcePort: packet.quotedSourcePort,
                                      destination: packet.quotedDestination, destinationPort: packet.quotedDestinationPort,
                                      protocolNumber: packet.quotedProtocol, ipVersion: packet.ipVersion).key
            return target(quoted, at: time)
        }
        let fragment = FragmentKey(source: packet.source, destination: packet.destination, protocolNumber: packet.ipProtocol,
                                   identification: packet.fragmentID)
        if packet.isFragment && packet.fragmentOffset != 0 { return fragments[fragment] }
        let key = FlowKey.make(source: packet.source, sourcePort: packet.sourcePort, destination: packet.destination,
                               destinationPort: packet.destinationPort, protocolNumber: packet.ipProtocol,
                               ipVersion: packet.ipVersion).key
        guard let found = target(key, at: time) else { return nil }
        if packet.isFragment, fragments.count < 65_536 { fragments[fragment] = found }
        return found
    }

    /// One output file being written.
    struct Output {
        var path: String
        var pcapng: Bool
        var pcap: PcapWriter?
        var ng = PcapngWriter()
        var interfaces: [LinkType: Int] = [:]
        var started = false
        var pending = 0
        var mixed: LinkType?
        var written: Written

        init(path: String) {
            self.path = path
            pcapng = path.hasSuffix(".pcapng")
            written = Written(path: path)
        }

        mutating func append(_ data: [UInt8], record: CapturedPacket) {
            if !written.linkTypes.contains(record.linkType) { written.linkTypes.append(record.linkType) }
            if pcapng {
                let interface: Int
                if let known = interfaces[record.linkType] {
                    interface = known
                } else {
                    interface = ng.addInterface(linkType: record.linkType, resolution: .nanoseconds)
                    interfaces[record.linkType] = interface
                }
                ng.appendEnhancedPacket(interface: interface, timestamp: record.timestamp, data: data, originalLength: record.originalLength)
            } else {
                if pcap == nil { pcap = PcapWriter(linkType: record.linkType, nanosecondTimestamps: true) }
                guard pcap?.linkType == record.linkType else {
                    mixed = record.linkType
                    return
                }
                pcap?.append(data, timestamp: record.timestamp, originalLength: record.originalLength)
            }
            written.packets += 1
            written.bytes += data.count
            pending += data.count
        }

        /// Writes what is buffered (the file's header first, on the first call).
        mutating func flush() throws(Failure) {
            if !pcapng && pcap == nil { pcap = PcapWriter(linkType: .ethernet, nanosecondTimestamps: true) }
            do {
                if pcapng {
                    try ByteSource.writeFile(path: path, bytes: ng.bytes, append: started)
                    ng.bytes.removeAll(keepingCapacity: true)
                } else if var writer = pcap {
                    try writer.write(to: path, appending: started)
                    writer.bytes.removeAll(keepingCapacity: true)
                    pcap = writer
                }
            } catch {
                throw Failure(description: "\(path): \(error)")
            }
            started = true
            pending = 0
        }
    }

    /// Writes each finding's packets from `paths` to its file in `outputs` (by target index):
    /// pcapng for a name ending in `.pcapng` (one interface per link type, nanosecond
    /// timestamps), else pcap with nanosecond timestamps (one link type only).
    /// - Throws: ``Failure`` for an input that cannot be read, packets of two link types for a
    ///   pcap file, or an output that cannot be written.
    public func write(paths: [String], to outputs: [String], reading: CaptureRun.Reading) throws(Failure) -> [Written] {
        var files = outputs.map(Output.init(path:))
        var decoded = DecodedPacket()
        var fragments: [FragmentKey: [Int]] = [:]
        for path in paths {
            let reader: CaptureFileReader
            do {
                reader = try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: max(4096, reading.bufferSize))
            } catch {
                throw Failure(description: "\(error)")
            }
            var full = false
            do {
                while try reader.nextBatch({ batch, bytes in
                    for record in batch {
                        let frame = bytes.extracting(record.dataRange)
                        guard PacketDecoder.decode(frame, linkType: record.linkType, wireLength: record.originalLength, into: &decoded) == .ok,
                              let indices = selects(&decoded, frame: frame, time: record.timestamp, fragments: &fragments) else { continue }
                        var data: [UInt8] = []
                        data.reserveCapacity(frame.count)
                        for offset in 0..<frame.count { data.append(frame[offset]) }
                        for index in indices where files.indices.contains(index) {
                            files[index].append(data, record: record)
                            if files[index].pending > 4 << 20 { full = true }
                        }
                    }
                }) {
                    if full {
                        for index in files.indices where files[index].pending > 4 << 20 { try files[index].flush() }
                        full = false
                    }
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(description: "\(path): \(error)")
            }
        }
        for index in files.indices {
            if let mixed = files[index].mixed {
                throw Failure(description: "\(files[index].path): the finding's packets have two link types "
                    + "(\(files[index].pcap?.linkType.rawValue ?? 0) and \(mixed.rawValue)), which one pcap file cannot hold: name the output .pcapng")
            }
            try files[index].flush()
        }
        return files.map(\.written)
    }
}

/// A finding whose packets can be extracted: an unexpected group (`U-…`), an unexpected attempt
/// (`A-…`), or a rule with refused attempts (its id, `system/rule`; the flows of its first 100
/// refused attempts, those whose Community IDs the report lists).
public struct ExtractableFinding {
    public enum Kind: String, Sendable { case unexpected, attempt, blocked }
    public var id: String
    public var kind: Kind
    /// `initiator -> responder service`, or the rule's id and purpose.
    public var title: String
    /// The group's capture filter (``PacketExtraction/exactFilter(_:)``; nil for a rule: built
    /// from its flows).
    public var filter: String?
    /// True for a flow of the finding.
    public var matches: (borrowing Flow) -> Bool

    /// A file name for the finding's packets (`U-3f9a0c1b2d.pcap`, `blocked-arksspr_smtp-otp.pcap`).
    public var fileName: String {
        let stem = kind == .blocked ? "blocked-" + id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? String($0) : "_" }.joined() : id
        return stem + ".pcap"
    }

    /// The findings of a report that have packets: every unexpected group and attempt, then the
    /// rules with refused attempts (`blockedOnly`: only the rules whose status is blocked).
    public static func all(in report: AuditReport, blockedOnly: Bool) -> [ExtractableFinding] {
        var out: [ExtractableFinding] = []
        for (groups, attempt) in [(report.unexpected, false), (report.attempts, true)] {
            for group in groups {
                out.append(ExtractableFinding(
                    id: group.findingID(attempt: attempt), kind: attempt ? .attempt : .unexpected,
                    title: "\(group.initiator) -> \(group.responder) \(group.service)" + (group.vlan.map { " vlan \($0)" } ?? ""),
                    filter: PacketExtraction.exactFilter(group), matches: { PacketExtraction.belongs($0, to: group, attempt: attempt) }))
            }
        }
        for rule in report.rules where rule.attemptedFlows > 0 && (!blockedOnly || rule.status == .blocked) {
            let ids = Set(rule.blockedCommunityIDs)
            out.append(ExtractableFinding(
                id: rule.qualifiedID, kind: .blocked, title: "\(rule.qualifiedID) (\(rule.purpose)), refused attempts",
                filter: nil, matches: { flow in
                    if PacketExtraction.gotThrough(flow) { return false }
                    return ids.contains(CommunityID.of(flow))
                }))
        }
        return out
    }
}
