import CPrefetch
import Packets


/// The flow table: groups decoded packets into bidirectional flows and hands each flow to its
/// ``FlowObserver`` when it ends.
///
/// It coordinates parts that each have one job: ``FlowIndex`` (keys to flows, one cache line per
/// lookup in the common case), ``FlowStore`` (the records, in fixed chunks), ``FlowExpiry`` (idle
/// flows end as packet time passes their timeout), ``ConnectionTracker`` (who started a flow, TCP
/// state), ``ICMPErrorMatcher`` (errors attached to the flow they quote) and
/// ``FragmentReassembler`` (later fragments joined to their first fragment's flow). Memory follows
/// the flows open at once, not the length of the capture.
public struct FlowMeter {
    public var configuration: FlowMeterConfiguration {
        didSet { expiry.configure(configuration) }
    }
    public private(set) var statistics = FlowMeterStatistics()
    /// Told about flows as they start, change, carry payload and end (held strongly: it must not
    /// own this meter). Nil: flows are counted and dropped.
    public var observer: (any FlowObserver)? {
        didSet {
            observesChanges = observer?.observesFlowChanges ?? false
            inspectsPayload = observer?.inspectsPayload ?? false
        }
    }
    /// The observer's wishes, read once when it is set (checked per packet).
    var observesChanges = false
    var inspectsPayload = false

    /// The flow records, by flow index.
    var flows = FlowStore()
    /// The rare flows' context (tunnel, source route, ICMP error reporter), by flow index; a
    /// record's `hasContext` says whether to look.
    var contexts: [Int: FlowContext] = [:]
    /// Keys to flow indices.
    var lookup = FlowIndex()
    /// Flows in order of activity, and when the next may go idle.
    var expiry: FlowExpiry
    /// Flow indices of ended flows, reused before the store grows.
    var freeIndices: [Int32] = []
    var activeCount = 0
    let seed: UInt64
    var nextID: UInt64 = 1
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
    ///   - observer: told about the flows (see ``observer``).
    public init(configuration: FlowMeterConfiguration = FlowMeterConfiguration(),
                seed: UInt64 = UInt64.random(in: 0...UInt64.max),
                observer: (any FlowObserver)? = nil) {
        self.configuration = configuration
        self.seed = seed
        self.expiry = FlowExpiry(configuration)
        self.fragments = FragmentReassembler(maximumEntries: configuration.maximumFragmentEntries,
                                             timeout: configuration.fragmentTimeout)
        self.observer = observer
        self.observesChanges = observer?.observesFlowChanges ?? false
        self.inspectsPayload = observer?.inspectsPayload ?? false
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
        process(batch, bytes, range: 0..<batch.count)
    }

    /// Meters packets `range` of a batch (``process(_:_:)``).
    public mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, range: Range<Int>) {
        let count = range.upperBound
        for j in range.lowerBound..<min(range.lowerBound &+ LookAhead.distance, count) {
            lookAhead(j, batch[j], bytes.extracting(batch[j].dataRange))
        }
        for i in range {
            let j = i &+ LookAhead.distance
            if j < count { lookAhead(j, batch[j], bytes.extracting(batch[j].dataRange)) }
            let k = i &+ LookAhead.distance / 2
            if k < count { prefetchRecord(k) }
            let entry = i & LookAhead.mask
            meter(batch[i], bytes.extracting(batch[i].dataRange), at: entry, ahead.entries[entry])
        }
    }

    /// Meters the packet decoded at `entry` of ``LookAhead/packets`` (or of a swapped-in decoded
    /// batch) with what the look-ahead learnt of it.
    @inline(__always)
    mutating func meter(_ record: CapturedPacket, _ frame: Span<UInt8>, at entry: Int, _ look: LookAhead.Entry) {
        current = entry
        precomputed = look.hasKey ? (look.key, look.sourceIsLower, look.hash) : nil
        statistics.packets &+= 1
        meter(record, frame, status: look.status)
        precomputed = nil
    }

    /// Pipeline stage 1 for packet `j` of a batch: decodes it ahead, and when it will look up a
    /// flow by its own header, computes its key and prefetches its slot.
    mutating func lookAhead(_ j: Int, _ record: CapturedPacket, _ frame: Span<UInt8>) {
        let entry = j & LookAhead.mask
        let look = LookAhead.decode(record, frame, seed: seed, into: &ahead.packets[entry])
        ahead.entries[entry] = look
        if look.hasKey { lookup.prefetchSlot(look.hash) }
    }

    /// Pipeline stage 2 for packet `k`: its slot is in cache by now; when it names a flow with the
    /// packet's tag, the flow's record is prefetched (the table may change before the packet is
    /// metered: this is a hint, the lookup itself is exact).
    mutating func prefetchRecord(_ k: Int) {
        prefetchRecord(of: ahead.entries[k & LookAhead.mask])
    }

    @inline(__always)
    mutating func prefetchRecord(of look: LookAhead.Entry) {
        guard look.hasKey, let likely = lookup.likelyIndex(look.hash) else { return }
        flows.prefetch(likely)
    }

    /// Meters packets `range` of a batch whose packets were decoded ahead (``DecodedBatch``, on
    /// a reader thread: see ``ReadAheadSource``), with this meter's hash seed. The same pipeline
    /// as ``process(_:_:)`` without its decode stage: slots are prefetched `distance` packets
    /// ahead and records half as far, and each packet is metered in order from its decoded
    /// headers, so every result is the same.
    public mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, decoded: inout DecodedBatch,
                                 range: Range<Int>) {
        guard decoded.isDecoded else {
            // Handed on undecoded: the meter's own pipeline decodes it.
            process(batch, bytes, range: range)
            return
        }
        precondition(decoded.seed == seed && decoded.count == batch.count && range.upperBound <= batch.count,
                     "a batch decoded for another meter or batch")
        // The batch's decoded packets stand in for the look-ahead ring while they are metered
        // (``decoded`` reads `ahead.packets[current]`): swapped in and out, not copied.
        swap(&ahead.packets, &decoded.packets)
        defer {
            swap(&ahead.packets, &decoded.packets)
            current = 0  // back inside the ring, for the packet-by-packet path
        }
        for j in range.lowerBound..<min(range.lowerBound &+ LookAhead.distance, range.upperBound)
            where decoded.entries[j].hasKey {
            lookup.prefetchSlot(decoded.entries[j].hash)
        }
        for i in range {
            let j = i &+ LookAhead.distance
            if j < range.upperBound && decoded.entries[j].hasKey { lookup.prefetchSlot(decoded.entries[j].hash) }
            let k = i &+ LookAhead.distance / 2
            if k < range.upperBound { prefetchRecord(of: decoded.entries[k]) }
            meter(batch[i], bytes.extracting(batch[i].dataRange), at: i, decoded.entries[i])
        }
    }

    /// The seed of this meter's flow hash (a ``DecodedBatch`` for it is decoded with it).
    public var hashSeed: UInt64 { seed }

    /// The flow key of a decoded packet, with the ports given (a later fragment's come from its
    /// first fragment).
    @inline(__always)
    static func flowKey(_ packet: borrowing DecodedPacket, sourcePort: UInt16, destinationPort: UInt16)
        -> (key: FlowKey, sourceIsLower: Bool) {
        FlowKey.make(source: packet.source, sourcePort: sourcePort, destination: packet.destination,
                     destinationPort: destinationPort, protocolNumber: packet.ipProtocol, ipVersion: packet.ipVersion)
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
            if expiry.isDue(at: now) { expireIdleFlows() }
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
        var index = lookup.find(key, hash: hash, in: flows)
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
        } else if !headerless && decoded.ipProtocol == IPProtocolNumber.tcp && ConnectionTracker.isOpeningSYN(decoded.tcpFlags)
                    && startsNewConnection(index, sourceIsLower: sourceIsLower) {
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
        if created && observesChanges { observer?.flowStarted(flow(index)) }
    }

    /// True when the SYN in ``decoded`` starts a new connection on flow `index`'s tuple.
    @inline(__always)
    func startsNewConnection(_ index: Int, sourceIsLower: Bool) -> Bool {
        ConnectionTracker.startsNewConnection(flows[index], packet: facts, sourceIsLower: sourceIsLower)
    }

    /// The facts of the packet in ``decoded`` that update a flow record.
    var facts: PacketFacts {
        PacketFacts(ipProtocol: decoded.ipProtocol, tcpFlags: decoded.tcpFlags, tcpSequence: decoded.tcpSequence,
                    tcpAcknowledgment: decoded.tcpAcknowledgment, payloadLength: decoded.payloadLength)
    }

    /// Ends every flow idle for longer than its timeout at the current capture time.
    public mutating func expireIdleFlows() {
        guard now != Int64.min else { return }
        var earliest = Int64.max
        for list in ActivityList.allCases {
            while let head = expiry.dueHead(list, at: now, earliest: &earliest, lastActive: { flows[$0].lastTimestamp }) {
                endFlow(head, reason: list == .closing ? flows[head].endReason : .idle)
            }
        }
        expiry.passEnded(nextDeadline: earliest)
    }

    /// True when flow `index` has been idle longer than its list's timeout at `time`.
    @inline(__always)
    func isIdle(_ index: Int, at time: Int64) -> Bool {
        let list = FlowExpiry.list(finished: flows[index].isFinished, tcp: flows[index].protocolNumber == IPProtocolNumber.tcp)
        return expiry.isIdle(lastActive: flows[index].lastTimestamp, list: list, at: time)
    }

    /// Moves the clock to `time` (a live capture's wall clock) and ends flows idle past it.
    public mutating func advanceClock(to time: Int64) {
        if time > now { now = time }
        expireIdleFlows()
    }

    /// Ends every flow still in the table (end of input), oldest activity first.
    public mutating func finish() {
        for list in ActivityList.allCases {
            while let head = expiry.lists.head(list) {
                let reason = flows[head].isFinished ? flows[head].endReason : .captureEnd
                endFlow(head, reason: reason)
            }
        }
        fragments.finish()
        statistics.fragments = fragments.statistics
        statistics.unmatchedFragments = fragments.statistics.unmatchedFragments
    }

    // MARK: Flow creation and update

    mutating func createFlow(key: FlowKey, hash: UInt64, sourceIsLower: Bool, sourcePort: UInt16,
                             destinationPort: UInt16, timestamp: Int64) -> Int {
        if activeCount >= configuration.maximumFlows { evictOldest() }
        let observer = observer
        let source = decoded.source, destination = decoded.destination, protocolNumber = decoded.ipProtocol
        let (sourceIsInitiator, reason, state) = ConnectionTracker.opening(
            facts, sourcePort: sourcePort, destinationPort: destinationPort, echoReply: decoded.icmpKind == .echoReply,
            hint: {
                observer?.initiatorHint(a: source, portA: sourcePort, b: destination, portB: destinationPort,
                                        protocolNumber: protocolNumber)
            })
        let initiatorIsLower = sourceIsInitiator == sourceIsLower
        let list = FlowExpiry.list(finished: false, tcp: decoded.ipProtocol == IPProtocolNumber.tcp)
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
            expiry.lists.grow(toInclude: index)
        }
        if let currentTunnel { updateContext(index) { $0.tunnel = currentTunnel } }
        lookup.insert(hash: hash, index: index, occupied: activeCount)
        activeCount += 1
        statistics.flowsCreated &+= 1
        if activeCount > statistics.peakActiveFlows { statistics.peakActiveFlows = activeCount }
        expiry.lists.pushBack(index, on: list)
        expiry.noteActivity(at: timestamp, on: list)
        return index
    }

    mutating func update(_ index: Int, sourceIsLower: Bool, timestamp: Int64, headerless: Bool, frame: Span<UInt8>) {
        let fromInitiator = sourceIsLower == flows[index].initiatorIsLower
        let oldState = flows[index].state
        let ipLength = UInt64(decoded.ipLength)
        let packets = 1 &+ pendingFragmentPackets
        let bytes = ipLength &+ pendingFragmentBytes
        pendingFragmentPackets = 0
        pendingFragmentBytes = 0
        // The record is updated in place (the store's modify accessor): no copy of the flow.
        ConnectionTracker.count(&flows[index], packet: facts, fromInitiator: fromInitiator, timestamp: timestamp,
                                packets: packets, bytes: bytes, headerless: headerless)
        let list = FlowExpiry.list(finished: flows[index].isFinished, tcp: decoded.ipProtocol == IPProtocolNumber.tcp)
        let current = flows[index].list
        if expiry.needsRequeue(from: current, to: list, queuedAt: flows[index].queuedAt, at: timestamp) {
            let wasHead = expiry.lists.head(current) == index
            expiry.lists.moveToBack(index, from: current, to: list)
            flows[index].list = list
            flows[index].queuedAt = timestamp
            if current != list { expiry.noteActivity(at: flows[index].lastTimestamp, on: list) }
            // The list's new head may be due earlier than the flow that left the head.
            if wasHead, let head = expiry.lists.head(current) { expiry.noteActivity(at: flows[head].lastTimestamp, on: current) }
        }
        if observesChanges && flows[index].state != oldState, let observer { observer.flowStateChanged(flow(index), from: oldState) }
        if inspectsPayload, !headerless, decoded.payloadCapturedLength > 0,
           Int(flows[index].inspectedPackets) < configuration.inspectedPacketsPerFlow, let observer {
            flows[index].inspectedPackets &+= 1
            observer.inspectPayload(of: flow(index), fromInitiator: fromInitiator, packet: decoded, frame: frame)
        }
    }

    // MARK: ICMP errors and fragments

    /// Attaches the ICMP error in ``decoded`` to the flow of the packet it quotes.
    mutating func attachICMPError(timestamp: Int64) {
        let key = ICMPErrorMatcher.quotedKey(decoded)
        let index = lookup.find(key, hash: key.hash(seed: seed), in: flows)
        guard index >= 0 else {
            statistics.unmatchedICMPErrors &+= 1
            return
        }
        let reporter = decoded.source
        updateContext(index) { $0.icmpErrorReporter = reporter }
        let changed = ICMPErrorMatcher.apply(type: decoded.icmpType, code: decoded.icmpCode, at: timestamp, to: &flows[index])
        if let oldState = changed, observesChanges, let observer { observer.flowStateChanged(flow(index), from: oldState) }
    }

    /// The ports of a fragment's datagram: from its own header for a first fragment (and
    /// remembered), from the first fragment's entry otherwise. Returns nil while the first
    /// fragment has not been seen (the fragment is counted against the entry and added to the
    /// flow when the first fragment arrives).
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

    mutating func endFlow(_ index: Int, reason: FlowEndReason) {
        if !flows[index].isFinished || flows[index].endReason == .captureEnd { flows[index].endReason = reason }
        expiry.lists.unlink(index, from: flows[index].list)
        lookup.remove(hash: flows[index].hash, index: index)
        activeCount -= 1
        statistics.flowsEnded &+= 1
        if let observer { observer.flowEnded(flow(index)) }
        if flows[index].hasContext { contexts[index] = nil }
        freeIndices.append(Int32(index))
    }

    /// Ends the flow idle longest: closing flows first, then connectionless, then TCP.
    mutating func evictOldest() {
        for list in [ActivityList.closing, .other, .tcp] {
            if let head = expiry.lists.head(list) {
                statistics.evictedFlows &+= 1
                endFlow(head, reason: flows[head].isFinished ? flows[head].endReason : .tableFull)
                return
            }
        }
    }

    // MARK: Flows as observers see them

    /// Flow `index` with its context, as handed to observers. (Mutating only so that calling it
    /// from the meter's mutating methods does not copy the whole meter first.)
    mutating func flow(_ index: Int) -> Flow {
        Flow(record: flows[index], context: flows[index].hasContext ? contexts[index] : nil)
    }

    /// Changes flow `index`'s context (made on first use).
    mutating func updateContext(_ index: Int, _ change: (inout FlowContext) -> Void) {
        flows[index].hasContext = true
        change(&contexts[index, default: FlowContext()])
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
    struct Entry: Sendable {
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

    /// Decodes one packet into `packet` and, when it will look up a flow by its own header (not a
    /// fragment, not an ICMP error, decoded), computes its key, orientation and hash with `seed`.
    @inline(__always)
    static func decode(_ record: CapturedPacket, _ frame: Span<UInt8>, seed: UInt64, into packet: inout DecodedPacket) -> Entry {
        let status = PacketDecoder.decode(frame, linkType: record.linkType, wireLength: record.originalLength, into: &packet)
        guard status == .ok, !packet.isFragment, packet.icmpKind != .error else { return Entry(status: status) }
        let (key, sourceIsLower) = FlowMeter.flowKey(packet, sourcePort: packet.sourcePort, destinationPort: packet.destinationPort)
        return Entry(status: status, hasKey: true, sourceIsLower: sourceIsLower, key: key, hash: key.hash(seed: seed))
    }
}

/// The packets of one batch decoded ahead of the meter, on another thread (``ReadAheadSource``):
/// each packet's headers, decode status and, for packets that look up a flow by their own
/// header, its key, orientation and hash under one meter's seed. Arrays are reused batch after
/// batch.
public struct DecodedBatch: Sendable {
    /// The hash seed the keys were hashed with (``FlowMeter/hashSeed``).
    public let seed: UInt64
    /// Packets decoded (the batch's count); the arrays may hold more from an earlier batch.
    public private(set) var count = 0
    /// False when the batch was handed on without being decoded (``clear()``): the meter then
    /// decodes it itself (``FlowMeter/process(_:_:)``).
    public private(set) var isDecoded = false
    var packets: [DecodedPacket] = []
    var entries: [LookAhead.Entry] = []

    public init(seed: UInt64) { self.seed = seed }

    /// Decodes every packet of `batch`, whose bytes are in `bytes`.
    public mutating func decode(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>) {
        count = batch.count
        isDecoded = true
        while packets.count < count {
            packets.append(DecodedPacket())
            entries.append(LookAhead.Entry(status: .ok))
        }
        for i in 0..<count {
            entries[i] = LookAhead.decode(batch[i], bytes.extracting(batch[i].dataRange), seed: seed, into: &packets[i])
        }
    }

    /// Marks the batch as not decoded (its arrays are kept for the next one).
    public mutating func clear() {
        count = 0
        isDecoded = false
    }
}
