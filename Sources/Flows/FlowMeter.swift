import CPrefetch
import Packets

/// Timeouts and options of a ``FlowMeter``. Times are nanoseconds of capture time.
public struct FlowMeterConfiguration: Sendable {
    /// TCP flow idle timeout (default 5 minutes).
    public var tcpIdleTimeout: Int64 = 300_000_000_000
    /// UDP, ICMP and other protocols' idle timeout (default 1 minute).
    public var otherIdleTimeout: Int64 = 60_000_000_000
    /// How long a TCP flow that closed (FIN both ways) or was reset stays in the table for its
    /// trailing packets (the last ACK, repeated RSTs) before it is handed on (default 5 s, as Zeek's
    /// `tcp_close_delay`). A SYN on its tuple ends it at once and starts a new flow.
    public var closeLinger: Int64 = 5_000_000_000
    /// How stale a flow's place in its activity list may get before a packet moves it to the
    /// back (default 1 s): idle flows end at most this much after their timeout.
    public var requeueInterval: Int64 = 1_000_000_000
    /// Payload-carrying packets per flow passed to the payload inspector (0: none).
    public var inspectedPacketsPerFlow: Int = 0
    /// Flows kept open at most (default 2 million, about 500 MB): a capture with more distinct
    /// conversations open at once (a scan, a flood, a hostile file) ends the flow idle longest
    /// for each new one, so memory stays bounded. Such flows end with reason `table-full`.
    public var maximumFlows: Int = 2_000_000
    /// Fragment bookkeeping entries kept at most (first fragments waiting for the rest).
    public var maximumFragmentEntries: Int = 65_536
    /// How long (capture time) a fragment entry waits for the rest of its datagram (default 60 s).
    public var fragmentTimeout: Int64 = 60_000_000_000

    public init() {}
}

/// Counts of what the meter saw.
public struct FlowMeterStatistics: Sendable {
    public var packets: UInt64 = 0
    /// Packets that updated a flow.
    public var decoded: UInt64 = 0
    /// Packets not turned into a flow update, by ``DecodeStatus`` raw value.
    public var skipped: [UInt64] = Array(repeating: 0, count: DecodeStatus.allCases.count)
    /// Packets of link types flowaudit does not decode, by link type.
    public var unsupportedLinkTypes: [LinkType: UInt64] = [:]
    /// ICMP errors quoting a packet of no flow in the table.
    public var unmatchedICMPErrors: UInt64 = 0
    /// Non-first fragments whose first fragment never came (counted when the entry is dropped).
    public var unmatchedFragments: UInt64 = 0
    /// The fragment table's counts (entries created, completed, expired, evicted, peak).
    public var fragments = FragmentStatistics()
    public var flowsCreated: UInt64 = 0
    public var flowsEnded: UInt64 = 0
    public var peakActiveFlows: Int = 0
    /// Flows ended early because the table was full.
    public var evictedFlows: UInt64 = 0
    /// Frames that carry no IP, by kind: ARP/RARP (link control) and the rest.
    public var arpFrames: UInt64 = 0
    public var lldpFrames: UInt64 = 0
    /// 802.3 LLC frames that are not SNAP-encapsulated IP (spanning tree, CDP, ...).
    public var llcFrames: UInt64 = 0
    public var otherNonIPFrames: UInt64 = 0
    /// Inner packets metered as flows of their own, by ``TunnelKind`` raw value.
    public var tunnelledPackets: [UInt64] = Array(repeating: 0, count: TunnelKind.allCases.count)
    /// Tunnel payloads whose inner packet did not decode, by ``DecodeStatus`` raw value (the
    /// outer packet was metered as its own flow all the same).
    public var tunnelInnerSkipped: [UInt64] = Array(repeating: 0, count: DecodeStatus.allCases.count)
    /// Inner packets not followed because they lie deeper than
    /// ``PacketDecoder/maximumTunnelDepth`` tunnels.
    public var tunnelTooDeep: UInt64 = 0
    /// Packets with a loose or strict source route that still had hops to go.
    public var sourceRoutedPackets: UInt64 = 0

    public init() {}

    /// The tunnelled packet counts, nonzero ones only, in enum order.
    public var tunnelledByKind: [(TunnelKind, UInt64)] {
        TunnelKind.allCases.compactMap { kind in
            let n = tunnelledPackets[Int(kind.rawValue)]
            return n == 0 ? nil : (kind, n)
        }
    }

    /// The undecodable inner packets with their reasons, nonzero ones only.
    public var tunnelInnerSkippedByReason: [(DecodeStatus, UInt64)] {
        DecodeStatus.allCases.compactMap { status in
            let n = tunnelInnerSkipped[Int(status.rawValue)]
            return n == 0 ? nil : (status, n)
        }
    }

    mutating func countNonIP(etherType: UInt16) {
        switch etherType {
        case 0x0806, 0x8035: arpFrames &+= 1
        case 0x88CC: lldpFrames &+= 1
        case 0: llcFrames &+= 1
        default: otherNonIPFrames &+= 1
        }
    }

    /// The skipped counts with their reasons, nonzero ones only, in enum order.
    public var skippedByReason: [(DecodeStatus, UInt64)] {
        DecodeStatus.allCases.compactMap { status in
            let n = skipped[Int(status.rawValue)]
            return status == .ok || n == 0 ? nil : (status, n)
        }
    }
}

/// The few facts of a decoded packet that update a flow record: a small value, so updating a
/// record in place never copies the whole decoded packet.
struct PacketFacts {
    var ipProtocol: UInt8
    var tcpFlags: TCPFlags
    var tcpSequence: UInt32
    var tcpAcknowledgment: UInt32
    var payloadLength: Int
}

/// Groups decoded packets into bidirectional flows and hands each flow on when it ends.
///
/// The table is open addressing with linear probing over a power-of-two slot array; a slot packs
/// the upper 32 bits of the key's hash with the flow's index, so a probe touches a flow record
/// only on a likely match. Flows sit on one of three intrusive lists in order of last activity
/// (TCP, other protocols, closing), so idle eviction only looks at list heads: memory follows
/// the live flows, not the length of the capture.
public struct FlowMeter {
    public var configuration: FlowMeterConfiguration
    public private(set) var statistics = FlowMeterStatistics()
    /// Called with each flow as it ends (closed and lingered, reset, idle, reused, capture end).
    public var onFlowEnd: (borrowing Flow) -> Void
    /// Called with each new flow after its first packet was counted.
    public var onFlowStart: ((borrowing Flow) -> Void)?
    /// Called when a flow's state changes, with the flow after the change and the old state.
    public var onStateChange: ((borrowing Flow, ConnectionState) -> Void)?
    /// Called for the first `inspectedPacketsPerFlow` packets of each flow that carry payload:
    /// the flow, whether the packet came from the initiator, the decoded headers and the frame.
    public var payloadInspector: ((borrowing Flow, Bool, borrowing DecodedPacket, Span<UInt8>) -> Void)?
    /// A prior for flows whose first packet does not show who started them (mid-stream TCP,
    /// UDP from a well-known port): given (a, port a, b, port b, protocol), returns true when only
    /// a -> b is expected, false when only b -> a is, nil when it cannot tell.
    public var orientationHint: ((IPAddress, UInt16, IPAddress, UInt16, UInt8) -> Bool?)?

    /// The flow records, by flow index.
    var flows = FlowStore()
    /// The rare flows' context (tunnel, source route, ICMP error reporter), by flow index; a
    /// record's `hasContext` says whether to look.
    var contexts: [Int: FlowContext] = [:]
    /// The expiry structure: flows in order of activity, per list.
    var lists = ActivityLists()
    /// No flow can be idle past its timeout before this capture time: idle expiry runs only
    /// when a packet's time reaches it (a lower bound; recomputed after each expiry).
    var nextExpiry: Int64 = Int64.min
    @usableFromInline var freeIndices: [Int32] = []
    @usableFromInline var slots: [UInt64] {
        didSet { slotsAddress = Self.address(of: slots) }
    }
    /// Where the slot array's elements start, for prefetch hints only (never dereferenced).
    var slotsAddress: UInt = 0
    @usableFromInline var slotMask: Int
    @usableFromInline var activeCount = 0
    @usableFromInline let seed: UInt64
    @usableFromInline var nextID: UInt64 = 1
    /// The latest capture time seen: the clock idle timeouts run on.
    public private(set) var now: Int64 = Int64.min
    /// The packets of a batch decoded ahead of the one being metered (see ``process(_:_:)``).
    var ahead = LookAhead()
    /// The ring entry of the packet being metered.
    var current = 0
    /// The packet being metered: an entry of the look-ahead ring, used in place.
    var decoded: DecodedPacket {
        _read { yield ahead.packets[current] }
        _modify { yield &ahead.packets[current] }
    }
    /// The key, orientation and hash of the packet in ``decoded``, when the look-ahead computed
    /// them.
    var precomputed: (FlowKey, Bool, UInt64)? = nil
    /// The tunnel of the inner packet being metered (nil for an outermost packet): new flows
    /// take it as theirs.
    var currentTunnel: TunnelContext? = nil
    var fragments: FragmentReassembler
    /// Earlier fragments of the datagram being counted, to add to its flow.
    var pendingFragmentPackets: UInt64 = 0
    var pendingFragmentBytes: UInt64 = 0

    /// Creates an empty meter.
    /// - Parameters:
    ///   - configuration: timeouts and inspection options.
    ///   - seed: hash seed; random by default so hostile captures cannot aim collisions.
    ///   - onFlowEnd: receives each flow as it ends.
    public init(configuration: FlowMeterConfiguration = FlowMeterConfiguration(),
                seed: UInt64 = UInt64.random(in: 0...UInt64.max),
                onFlowEnd: @escaping (borrowing Flow) -> Void) {
        self.configuration = configuration
        self.seed = seed
        self.onFlowEnd = onFlowEnd
        self.fragments = FragmentReassembler(maximumEntries: configuration.maximumFragmentEntries,
                                             timeout: configuration.fragmentTimeout)
        self.slots = Array(repeating: 0, count: 1024)
        self.slotMask = 1023
        self.slotsAddress = Self.address(of: slots)
    }

    /// Flows currently in the table.
    public var activeFlowCount: Int { activeCount }

    // MARK: Packets

    /// Counts and decodes one batch from a ``PacketSource``. Idle flows end as packet time
    /// passes their timeout, packet by packet, so where a flow ends never depends on how the
    /// input was cut into batches.
    ///
    /// On a busy link a packet's table slot and flow record are rarely in the cache, and each
    /// packet waits for two memory reads in turn. So the batch runs as a short pipeline, as DPDK
    /// and VPP flow tables do: packet i+8 is decoded and its slot prefetched, packet i+4's slot
    /// (in cache by then) names its record, which is prefetched, and packet i is metered with
    /// both at hand (``LookAhead/distance``). Each packet is still decoded once and metered in order.
    public mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>) {
        let count = batch.count
        for j in 0..<min(LookAhead.distance, count) {
            lookAhead(j, batch[j], bytes.extracting(batch[j].dataRange))
        }
        for i in 0..<count {
            let j = i &+ LookAhead.distance
            if j < count { lookAhead(j, batch[j], bytes.extracting(batch[j].dataRange)) }
            let k = i &+ LookAhead.distance / 2
            if k < count { prefetchRecord(k) }
            let entry = i & LookAhead.mask
            current = entry
            let look = ahead.entries[entry]
            precomputed = look.hasKey ? (look.key, look.sourceIsLower, look.hash) : nil
            statistics.packets &+= 1
            meter(batch[i], bytes.extracting(batch[i].dataRange), status: look.status)
            precomputed = nil
        }
    }

    /// Pipeline stage 1 for packet `j` of a batch: decodes it ahead, and when it will look up a
    /// flow by its own header, computes its key and prefetches its slot.
    mutating func lookAhead(_ j: Int, _ record: CapturedPacket, _ frame: Span<UInt8>) {
        let entry = j & LookAhead.mask
        let status = PacketDecoder.decode(frame, linkType: record.linkType, wireLength: record.originalLength,
                                          into: &ahead.packets[entry])
        guard status == .ok, !ahead.packets[entry].isFragment, ahead.packets[entry].icmpKind != .error else {
            ahead.entries[entry] = LookAhead.Entry(status: status)
            return
        }
        let (key, sourceIsLower) = Self.flowKey(ahead.packets[entry], sourcePort: ahead.packets[entry].sourcePort,
                                                destinationPort: ahead.packets[entry].destinationPort)
        let hash = key.hash(seed: seed)
        ahead.entries[entry] = LookAhead.Entry(status: status, hasKey: true, sourceIsLower: sourceIsLower, key: key, hash: hash)
        let position = Int(truncatingIfNeeded: hash >> 32) & slotMask
        flowaudit_prefetch_at(slotsAddress, position &* MemoryLayout<UInt64>.stride)
    }

    /// Pipeline stage 2 for packet `k`: its slot is in cache by now; when it names a flow with the
    /// packet's tag, the flow's record is prefetched (the table may change before the packet is
    /// metered: this is a hint, the lookup itself is exact).
    mutating func prefetchRecord(_ k: Int) {
        let look = ahead.entries[k & LookAhead.mask]
        guard look.hasKey else { return }
        let hash = look.hash
        let slot = slots[Int(truncatingIfNeeded: hash >> 32) & slotMask]
        guard slot != 0, slot >> 32 == hash >> 32 else { return }
        flows.prefetch(Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1)
    }

    /// The flow key of a decoded packet, with the ports given (a later fragment's come from its
    /// first fragment).
    @inline(__always)
    static func flowKey(_ packet: borrowing DecodedPacket, sourcePort: UInt16, destinationPort: UInt16)
        -> (key: FlowKey, sourceIsLower: Bool) {
        FlowKey.make(source: packet.source, sourcePort: sourcePort, destination: packet.destination,
                     destinationPort: destinationPort, protocolNumber: packet.ipProtocol, ipVersion: packet.ipVersion)
    }

    /// The address of an array's first element, as a number: for prefetch hints, which never
    /// fault and never read, so a stale address costs a useless hint, nothing more.
    static func address<T>(of array: [T]) -> UInt {
        // SAFETY: the pointer is turned into a number inside the closure and never dereferenced.
        unsafe array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    /// Counts and decodes one packet whose captured bytes are `frame`.
    public mutating func processPacket(_ record: CapturedPacket, _ frame: Span<UInt8>) {
        statistics.packets &+= 1
        let status = PacketDecoder.decode(frame, linkType: record.linkType, wireLength: record.originalLength,
                                          into: &decoded)
        meter(record, frame, status: status)
    }

    /// Meters the packet decoded into ``decoded`` with `status`.
    mutating func meter(_ record: CapturedPacket, _ frame: Span<UInt8>, status: DecodeStatus) {
        guard status == .ok else {
            statistics.skipped[Int(status.rawValue)] &+= 1
            if status == .unsupportedLinkType { statistics.unsupportedLinkTypes[record.linkType, default: 0] += 1 }
            if status == .notIP { statistics.countNonIP(etherType: decoded.etherType) }
            return
        }
        if record.timestamp > now {
            now = record.timestamp
            if now >= nextExpiry { expireIdleFlows() }
        }
        statistics.decoded &+= 1
        meterDecoded(record, frame)
        if decoded.tunnelKind != .none { meterInnerPackets(record, frame) }
    }

    /// Meters the inner packets of a tunnelled packet, innermost last: each is decoded again
    /// from the offset the decoder recorded and updates a flow of its own that carries the
    /// tunnel's context. At most ``PacketDecoder/maximumTunnelDepth`` levels deep.
    mutating func meterInnerPackets(_ record: CapturedPacket, _ frame: Span<UInt8>) {
        var depth: UInt8 = 0
        while decoded.tunnelKind != .none {
            guard Int(depth) < PacketDecoder.maximumTunnelDepth else {
                statistics.tunnelTooDeep &+= 1
                break
            }
            depth &+= 1  // bounded by maximumTunnelDepth
            let context = decoded.tunnelContext(depth: depth)
            let status = PacketDecoder.decodeInner(frame, into: &decoded)
            guard status == .ok else {
                statistics.tunnelInnerSkipped[Int(status.rawValue)] &+= 1
                break
            }
            statistics.tunnelledPackets[Int(context.kind.rawValue)] &+= 1
            currentTunnel = context
            meterDecoded(record, frame)
        }
        currentTunnel = nil
    }

    /// Updates (or starts) the flow of the packet in `decoded`.
    mutating func meterDecoded(_ record: CapturedPacket, _ frame: Span<UInt8>) {
        if decoded.icmpKind == .error {
            attachICMPError(timestamp: record.timestamp)
            return
        }
        var sourcePort = decoded.sourcePort
        var destinationPort = decoded.destinationPort
        var headerless = false
        if decoded.isFragment {
            guard let ports = fragmentPorts(timestamp: record.timestamp) else { return }
            sourcePort = ports.0
            destinationPort = ports.1
            headerless = decoded.fragmentOffset != 0
        }
        let key: FlowKey, sourceIsLower: Bool, hash: UInt64
        if let known = precomputed {
            (key, sourceIsLower, hash) = known
            precomputed = nil  // the outer packet's: a tunnel's inner packets compute their own
        } else {
            (key, sourceIsLower) = Self.flowKey(decoded, sourcePort: sourcePort, destinationPort: destinationPort)
            hash = key.hash(seed: seed)
        }
        var index = find(key, hash: hash)
        var created = false
        if index >= 0 && isIdle(index, at: record.timestamp) {
            // Idle past its timeout but not yet at its list's head (lists are ordered to within
            // the requeue interval): it ends here, and this packet starts a new flow.
            endFlow(index, reason: flows[index].isFinished ? flows[index].endReason : .idle)
            index = -1
        }
        if index < 0 {
            index = createFlow(key: key, hash: hash, sourceIsLower: sourceIsLower, sourcePort: sourcePort,
                               destinationPort: destinationPort, timestamp: record.timestamp)
            created = true
        } else if !headerless && decoded.ipProtocol == IPProtocolNumber.tcp && startsNewConnection(index, sourceIsLower) {
            endFlow(index, reason: .reused)
            index = createFlow(key: key, hash: hash, sourceIsLower: sourceIsLower, sourcePort: sourcePort,
                               destinationPort: destinationPort, timestamp: record.timestamp)
            created = true
        }
        if decoded.sourceRouted {
            statistics.sourceRoutedPackets &+= 1
            let destination = decoded.sourceRouteDestination
            updateContext(index) { $0.sourceRouteDestination = destination }
        }
        update(index, sourceIsLower: sourceIsLower, timestamp: record.timestamp, headerless: headerless, frame: frame)
        if created, let onFlowStart { onFlowStart(flow(index)) }
    }

    /// Ends every flow idle for longer than its timeout at the current capture time.
    public mutating func expireIdleFlows() {
        guard now != Int64.min else { return }
        var earliest = Int64.max
        for list in ActivityList.allCases {
            let timeout = timeout(of: list)
            while let head = lists.head(list) {
                let last = flows[head].lastTimestamp
                guard last <= now &- timeout else {
                    earliest = min(earliest, last.addingReportingOverflow(timeout).overflow ? Int64.max : last + timeout)
                    break
                }
                endFlow(head, reason: list == .closing ? flows[head].endReason : .idle)
            }
        }
        nextExpiry = earliest
    }

    /// The idle timeout of a list.
    func timeout(of list: ActivityList) -> Int64 {
        switch list {
        case .tcp: configuration.tcpIdleTimeout
        case .other: configuration.otherIdleTimeout
        case .closing: configuration.closeLinger
        }
    }

    /// True when flow `index` has been idle longer than its list's timeout at `time`.
    @inline(__always)
    func isIdle(_ index: Int, at time: Int64) -> Bool {
        let last = flows[index].lastTimestamp
        guard time > last else { return false }
        let gap = time &- last
        // The common case, a packet shortly after the last, decides on the record's time alone.
        if gap <= configuration.closeLinger && gap <= configuration.otherIdleTimeout && gap <= configuration.tcpIdleTimeout { return false }
        let list: ActivityList = flows[index].isFinished ? .closing : (flows[index].protocolNumber == IPProtocolNumber.tcp ? .tcp : .other)
        return gap > timeout(of: list)
    }

    /// Moves the clock to `time` (a live capture's wall clock) and ends flows idle past it.
    public mutating func advanceClock(to time: Int64) {
        if time > now { now = time }
        expireIdleFlows()
    }

    /// Ends every flow still in the table (end of input), oldest activity first.
    public mutating func finish() {
        for list in ActivityList.allCases {
            while let head = lists.head(list) {
                let reason = flows[head].isFinished ? flows[head].endReason : .captureEnd
                endFlow(head, reason: reason)
            }
        }
        fragments.finish()
        statistics.fragments = fragments.statistics
        statistics.unmatchedFragments = fragments.statistics.unmatchedFragments
    }

    // MARK: Flow creation and update

    /// True when a packet from the initiator side is a SYN that starts a new connection on a
    /// tuple whose previous connection finished (or whose SYN had another sequence number).
    ///
    /// A SYN from the initiator that repeats the flow's initial sequence number is never a new
    /// connection: a new connection picks a new ISN (RFC 9293 3.4.1), so the sender is still in
    /// SYN-SENT and retransmits its attempt. That happens after an RST too: Windows retries a
    /// refused connect twice with the same ISN, and a client answering a stale ACK with an RST
    /// (RFC 9293 3.10.7.3) stays in SYN-SENT; both are one attempt, not three flows.
    mutating func startsNewConnection(_ index: Int, _ sourceIsLower: Bool) -> Bool {
        let flags = decoded.tcpFlags
        guard flags.contains(.syn), !flags.contains(.ack) else { return false }
        let flow = flows[index]
        if flow.sawSYN && sourceIsLower == flow.initiatorIsLower && decoded.tcpSequence == flow.initiatorISN {
            return false
        }
        if flow.isFinished { return true }
        switch flow.state {
        case .rejected, .closed, .reset: return true
        case .attempted, .unreachable:
            return false  // a retransmitted SYN
        default:
            // A SYN from either side of an established or mid-stream flow with a new sequence
            // number is a new connection; the same one is a retransmission.
            return flow.sawSYN ? decoded.tcpSequence != flow.initiatorISN : true
        }
    }

    mutating func createFlow(key: FlowKey, hash: UInt64, sourceIsLower: Bool, sourcePort: UInt16,
                             destinationPort: UInt16, timestamp: Int64) -> Int {
        if activeCount >= configuration.maximumFlows { evictOldest() }
        var sourceIsInitiator = true
        var reason = InitiatorReason.firstPacket
        var state = ConnectionState.unanswered
        switch decoded.ipProtocol {
        case IPProtocolNumber.tcp:
            let flags = decoded.tcpFlags
            if flags.contains(.syn) && !flags.contains(.ack) {
                reason = .syn
                state = .attempted
            } else if flags.contains(.syn) {
                sourceIsInitiator = false
                reason = .synAck
                state = .established
            } else {
                state = .midstream
                (sourceIsInitiator, reason) = guessOrientation(sourcePort, destinationPort, midstream: true)
            }
        case IPProtocolNumber.udp:
            (sourceIsInitiator, reason) = guessOrientation(sourcePort, destinationPort, midstream: false)
        default:
            if decoded.icmpKind == .echoReply {
                sourceIsInitiator = false
                reason = .echoReply
            }
        }
        let initiatorIsLower = sourceIsInitiator == sourceIsLower
        let list: ActivityList = decoded.ipProtocol == IPProtocolNumber.tcp ? .tcp : .other
        var flow = FlowRecord(key: key, id: nextID, initiatorIsLower: initiatorIsLower, reason: reason, state: state,
                              timestamp: timestamp, hash: hash, list: list)
        flow.vlan = decoded.outerVLAN
        if decoded.icmpKind != .none {
            let v6 = decoded.ipProtocol == IPProtocolNumber.icmpv6
            switch decoded.icmpKind {
            case .echoRequest, .echoReply: flow.icmpType = v6 ? 128 : 8
            default: flow.icmpType = decoded.icmpType; flow.icmpCode = decoded.icmpCode
            }
        }
        if !sourceIsInitiator { flow.addHistory(6) }  // '^'
        nextID &+= 1
        let index: Int
        if let free = freeIndices.popLast() {
            index = Int(free)
            flows[index] = flow
        } else {
            index = flows.append(flow)
            lists.grow(toInclude: index)
        }
        if let currentTunnel { updateContext(index) { $0.tunnel = currentTunnel } }
        insertSlot(hash: hash, index: index)
        activeCount += 1
        statistics.flowsCreated &+= 1
        if activeCount > statistics.peakActiveFlows { statistics.peakActiveFlows = activeCount }
        lists.pushBack(index, on: list)
        noteDeadline(timestamp, list)
        return index
    }

    /// Who started a flow whose first packet does not say: the rules' prior, then a well-known
    /// responder port, then (mid-stream TCP only) the lower port.
    mutating func guessOrientation(_ sourcePort: UInt16, _ destinationPort: UInt16, midstream: Bool) -> (Bool, InitiatorReason) {
        let hint = orientationHint?(decoded.source, sourcePort, decoded.destination, destinationPort, decoded.ipProtocol)
        if midstream {
            if let hint { return (hint, .rule) }
        } else {
            // The first packet's sender stays the initiator unless the rules say otherwise.
            if hint == true { return (true, .firstPacket) }
            if hint == false { return (false, .rule) }
        }
        let sourceWellKnown = sourcePort < 1024
        let destinationWellKnown = destinationPort < 1024
        if destinationWellKnown && !sourceWellKnown { return (true, midstream ? .wellKnownPort : .firstPacket) }
        if sourceWellKnown && !destinationWellKnown { return (false, .wellKnownPort) }
        if midstream && sourcePort != destinationPort { return (destinationPort < sourcePort, .lowerPort) }
        return (true, .firstPacket)
    }

    mutating func update(_ index: Int, sourceIsLower: Bool, timestamp: Int64, headerless: Bool, frame: Span<UInt8>) {
        let fromInitiator = sourceIsLower == flows[index].initiatorIsLower
        let oldState = flows[index].state
        let ipLength = UInt64(decoded.ipLength)
        let packets = 1 &+ pendingFragmentPackets
        let bytes = ipLength &+ pendingFragmentBytes
        pendingFragmentPackets = 0
        pendingFragmentBytes = 0
        // The record is updated in place (the array's modify accessor): no copy of the flow.
        let facts = PacketFacts(ipProtocol: decoded.ipProtocol, tcpFlags: decoded.tcpFlags, tcpSequence: decoded.tcpSequence,
                                tcpAcknowledgment: decoded.tcpAcknowledgment, payloadLength: decoded.payloadLength)
        Self.count(&flows[index], decoded: facts, fromInitiator: fromInitiator, timestamp: timestamp,
                   packets: packets, bytes: bytes, headerless: headerless)
        let list: ActivityList = flows[index].isFinished ? .closing : (decoded.ipProtocol == IPProtocolNumber.tcp ? .tcp : .other)
        // A flow moves to the back of its activity list when it changes list, or when its last
        // move is more than `requeueInterval` old: the lists stay ordered by activity to within
        // that interval (so an idle flow ends at most that late), and a busy flow's packets do
        // not each relink three records.
        let current = flows[index].list
        if current != list || timestamp &- flows[index].queuedAt > configuration.requeueInterval {
            let wasHead = lists.head(current) == index
            lists.moveToBack(index, from: current, to: list)
            flows[index].list = list
            flows[index].queuedAt = timestamp
            if current != list { noteDeadline(flows[index].lastTimestamp, list) }
            // The list's new head may be due earlier than the flow that left the head.
            if wasHead, let head = lists.head(current) { noteDeadline(flows[head].lastTimestamp, current) }
        }
        if let onStateChange, flows[index].state != oldState { onStateChange(flow(index), oldState) }
        if let payloadInspector, !headerless, decoded.payloadCapturedLength > 0,
           Int(flows[index].inspectedPackets) < configuration.inspectedPacketsPerFlow {
            flows[index].inspectedPackets &+= 1
            payloadInspector(flow(index), fromInitiator, decoded, frame)
        }
    }

    /// Adds one packet (and any earlier fragments of its datagram) to `flow`.
    @inline(__always)
    static func count(_ flow: inout FlowRecord, decoded: PacketFacts, fromInitiator: Bool, timestamp: Int64,
                      packets: UInt64, bytes: UInt64, headerless: Bool) {
        let payload = decoded.payloadLength
        if timestamp > flow.lastTimestamp {
            flow.lastTimestamp = timestamp
        } else if timestamp < flow.firstTimestamp {
            flow.firstTimestamp = timestamp  // out-of-order packets only: the cold field stays cold
        }
        if fromInitiator {
            flow.initiatorPackets &+= packets
            flow.initiatorBytes &+= bytes
            flow.initiatorPayloadBytes &+= UInt64(payload)
        } else {
            flow.responderPackets &+= packets
            flow.responderBytes &+= bytes
            flow.responderPayloadBytes &+= UInt64(payload)
        }
        guard !headerless else { return }
        if decoded.ipProtocol == IPProtocolNumber.tcp {
            updateTCP(&flow, decoded: decoded, fromInitiator: fromInitiator)
        } else {
            if payload > 0 { flow.addHistory(fromInitiator ? 3 : 10) }
            if !fromInitiator && (flow.state == .unanswered || flow.state == .unreachable) { flow.state = .answered }
        }
    }

    @inline(__always)
    static func updateTCP(_ flow: inout FlowRecord, decoded: PacketFacts, fromInitiator: Bool) {
        let flags = decoded.tcpFlags
        if flags.contains(.syn) {
            if fromInitiator && !flags.contains(.ack) {
                if flow.tcpEvents & FlowRecord.synFromInitiator == 0 {
                    flow.initiatorISN = decoded.tcpSequence
                } else if flow.isFinished && flow.endReason == .rst && !flow.sawSYNACK {
                    // The attempt an RST ended is retried with the same ISN (see
                    // startsNewConnection): it is open again, waiting for an answer.
                    flow.tcpEvents &= ~FlowRecord.finished
                    flow.endReason = .captureEnd
                    flow.state = .attempted
                }
                flow.tcpEvents |= FlowRecord.synFromInitiator
                flow.addHistory(0)
            } else if !fromInitiator && flags.contains(.ack) {
                flow.tcpEvents |= FlowRecord.synAckFromResponder
                flow.addHistory(8)
            } else {
                // SYN-ACK from the initiator or a bare SYN from the responder: simultaneous open.
                flow.addHistory(fromInitiator ? 1 : 7)
            }
        }
        if flags.contains(.ack) {
            if fromInitiator {
                if flow.tcpEvents & FlowRecord.initiatorAckSeen == 0 {
                    flow.tcpEvents |= FlowRecord.initiatorAckSeen
                    flow.initiatorFirstAck = decoded.tcpAcknowledgment
                } else if decoded.tcpAcknowledgment != flow.initiatorFirstAck {
                    flow.initiatorAckAdvanced = true
                }
            } else {
                if flow.tcpEvents & FlowRecord.responderAckSeen == 0 {
                    flow.tcpEvents |= FlowRecord.responderAckSeen
                    flow.responderFirstAck = decoded.tcpAcknowledgment
                } else if decoded.tcpAcknowledgment != flow.responderFirstAck {
                    flow.responderAckAdvanced = true
                }
            }
        }
        if decoded.payloadLength > 0 {
            flow.addHistory(fromInitiator ? 3 : 10)
        } else if flags.contains(.ack) && flags.rawValue & 0x07 == 0 {
            flow.addHistory(fromInitiator ? 2 : 9)
        }
        if flags.contains(.rst) {
            flow.addHistory(fromInitiator ? 5 : 12)
            if flow.rstSenderIsInitiator == nil { flow.rstSenderIsInitiator = fromInitiator }
            flow.tcpEvents |= FlowRecord.rstSeen
            switch flow.state {
            case .attempted, .unreachable: flow.state = fromInitiator ? flow.state : .rejected
            case .established: flow.state = .reset
            default: break
            }
            if !(flow.state == .attempted || flow.state == .unreachable) {
                flow.tcpEvents |= FlowRecord.finished
                flow.endReason = .rst
            }
            return
        }
        // Any other packet from the responder means the handshake got an answer.
        if !fromInitiator && (flow.state == .attempted || flow.state == .unreachable) { flow.state = .established }
        if flags.contains(.fin) {
            flow.addHistory(fromInitiator ? 4 : 11)
            flow.tcpEvents |= fromInitiator ? FlowRecord.finFromInitiator : FlowRecord.finFromResponder
            if flow.tcpEvents & (FlowRecord.finFromInitiator | FlowRecord.finFromResponder) == (FlowRecord.finFromInitiator | FlowRecord.finFromResponder) {
                if flow.state == .established { flow.state = .closed }
                if flow.tcpEvents & FlowRecord.finished == 0 {
                    flow.tcpEvents |= FlowRecord.finished
                    flow.endReason = .fin
                }
            }
        }
    }

    // MARK: ICMP errors and fragments

    /// Attaches an ICMP error to the flow of the packet it quotes.
    mutating func attachICMPError(timestamp: Int64) {
        let (key, _) = FlowKey.make(
            source: decoded.quotedSource, sourcePort: decoded.quotedSourcePort,
            destination: decoded.quotedDestination, destinationPort: decoded.quotedDestinationPort,
            protocolNumber: decoded.quotedProtocol, ipVersion: decoded.ipVersion)
        let index = find(key, hash: key.hash(seed: seed))
        guard index >= 0 else {
            statistics.unmatchedICMPErrors &+= 1
            return
        }
        let oldState = flows[index].state
        flows[index].icmpErrors &+= 1
        let reporter = decoded.source
        updateContext(index) { $0.icmpErrorReporter = reporter }
        flows[index].icmpErrorType = decoded.icmpType
        flows[index].icmpErrorCode = decoded.icmpCode
        if timestamp > flows[index].lastTimestamp { flows[index].lastTimestamp = timestamp }
        if oldState == .attempted || oldState == .unanswered {
            flows[index].state = .unreachable
            if let onStateChange { onStateChange(flow(index), oldState) }
        }
    }

    /// The ports of a fragment's datagram: from its own header for a first fragment (and
    /// remembered), from the first fragment's entry otherwise. Returns nil while the first
    /// fragment has not been seen (the fragment is counted against the entry and added to the
    /// flow when the first fragment arrives).
    @usableFromInline
    mutating func fragmentPorts(timestamp: Int64) -> (UInt16, UInt16)? {
        let key = FragmentKey(source: decoded.source, destination: decoded.destination,
                              identification: decoded.fragmentID, protocolNumber: decoded.ipProtocol)
        // The configuration is a public var: follow changes made after init.
        fragments.maximumEntries = max(1, configuration.maximumFragmentEntries)
        fragments.timeout = max(0, configuration.fragmentTimeout)
        defer {
            statistics.fragments = fragments.statistics
            statistics.unmatchedFragments = fragments.statistics.unmatchedFragments
        }
        if decoded.fragmentOffset == 0 {
            // Fragments that arrived before the first one join its flow now.
            (pendingFragmentPackets, pendingFragmentBytes) = fragments.firstFragment(
                key, sourcePort: decoded.sourcePort, destinationPort: decoded.destinationPort, at: timestamp)
            return (decoded.sourcePort, decoded.destinationPort)
        }
        return fragments.laterFragment(key, isLast: !decoded.moreFragments, ipLength: decoded.ipLength, at: timestamp)
    }

    // MARK: Ending flows

    /// Lowers ``nextExpiry`` to the deadline of a flow last active at `time` on `list`.
    mutating func noteDeadline(_ time: Int64, _ list: ActivityList) {
        let (deadline, overflow) = time.addingReportingOverflow(timeout(of: list))
        if !overflow && deadline < nextExpiry { nextExpiry = deadline }
    }

    @usableFromInline
    mutating func endFlow(_ index: Int, reason: FlowEndReason) {
        if !flows[index].isFinished || flows[index].endReason == .captureEnd { flows[index].endReason = reason }
        lists.unlink(index, from: flows[index].list)
        removeSlot(hash: flows[index].hash, index: index)
        activeCount -= 1
        statistics.flowsEnded &+= 1
        onFlowEnd(flow(index))
        if flows[index].hasContext { contexts[index] = nil }
        freeIndices.append(Int32(index))
    }

    // MARK: Flows as observers see them

    /// Flow `index` with its context, as handed to observers.
    func flow(_ index: Int) -> Flow {
        Flow(record: flows[index], context: flows[index].hasContext ? contexts[index] : nil)
    }

    /// Changes flow `index`'s context (made on first use).
    mutating func updateContext(_ index: Int, _ change: (inout FlowContext) -> Void) {
        flows[index].hasContext = true
        change(&contexts[index, default: FlowContext()])
    }

    /// Ends the flow idle longest: closing flows first, then connectionless, then TCP.
    mutating func evictOldest() {
        for list in [ActivityList.closing, .other, .tcp] {
            if let head = lists.head(list) {
                statistics.evictedFlows &+= 1
                endFlow(head, reason: flows[head].isFinished ? flows[head].endReason : .tableFull)
                return
            }
        }
    }

    // MARK: Hash table

    /// The index of the flow with `key`, or -1.
    mutating func find(_ key: FlowKey, hash: UInt64) -> Int {  // mutating: a non-mutating call copied the whole meter
        let tag = hash >> 32
        var position = Int(truncatingIfNeeded: tag) & slotMask
        while true {
            let slot = slots[position]
            if slot == 0 { return -1 }
            if slot >> 32 == tag {
                let index = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if flows[index].key == key { return index }
            }
            position = (position &+ 1) & slotMask
        }
    }

    @usableFromInline
    mutating func insertSlot(hash: UInt64, index: Int) {
        if (activeCount + 1) * 2 > slots.count { grow() }
        let tag = hash >> 32
        var position = Int(truncatingIfNeeded: tag) & slotMask
        while slots[position] != 0 { position = (position &+ 1) & slotMask }
        slots[position] = tag << 32 | UInt64(index + 1)
    }

    /// Removes the slot of flow `index` by backward-shift deletion (no tombstones).
    @usableFromInline
    mutating func removeSlot(hash: UInt64, index: Int) {
        let wanted = (hash >> 32) << 32 | UInt64(index + 1)
        var position = Int(truncatingIfNeeded: hash >> 32) & slotMask
        while slots[position] != wanted {
            if slots[position] == 0 { return }  // not present: nothing to do
            position = (position &+ 1) & slotMask
        }
        var hole = position
        var probe = (hole &+ 1) & slotMask
        while slots[probe] != 0 {
            let home = Int(truncatingIfNeeded: slots[probe] >> 32) & slotMask
            // Move the entry back into the hole unless its home lies cyclically in (hole, probe].
            let distanceToProbe = (probe &- home) & slotMask
            let distanceToHole = (hole &- home) & slotMask
            if distanceToHole < distanceToProbe {
                slots[hole] = slots[probe]
                hole = probe
            }
            probe = (probe &+ 1) & slotMask
        }
        slots[hole] = 0
    }

    mutating func grow() {
        let capacity = slots.count * 2
        var newSlots = Array(repeating: UInt64(0), count: capacity)
        let mask = capacity - 1
        for slot in slots where slot != 0 {
            var position = Int(truncatingIfNeeded: slot >> 32) & mask
            while newSlots[position] != 0 { position = (position &+ 1) & mask }
            newSlots[position] = slot
        }
        slots = newSlots
        slotMask = mask
    }
}

/// The batch pipeline's ring: packets decoded ahead, with their decode status and, for packets
/// that look up a flow by their own header, key, orientation and hash.
struct LookAhead {
    /// How many packets ahead of the metered one a packet is decoded (its record is prefetched
    /// at half the distance).
    static let distance = 8
    static let size = 16
    static let mask = size - 1

    /// What the look-ahead learnt of a packet besides its decoded headers.
    struct Entry {
        var status: DecodeStatus
        /// False for packets that look up no flow by their own header (fragments, ICMP errors,
        /// packets that did not decode).
        var hasKey = false
        var sourceIsLower = false
        var key = FlowKey(lowerHigh: 0, lowerLow: 0, upperHigh: 0, upperLow: 0, lowerPort: 0, upperPort: 0,
                          protocolNumber: 0, ipVersion: 0)
        var hash: UInt64 = 0
    }

    var packets = [DecodedPacket](repeating: DecodedPacket(), count: size)
    var entries = [Entry](repeating: Entry(status: .ok), count: size)
}
