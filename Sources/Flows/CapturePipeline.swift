import Packets

/// What ``CapturePipeline`` meters into: a ``FlowMeter``, or something that owns one (the
/// audit). Each call is per batch, never per packet.
public protocol PacketMetering {
    /// Meters one batch (``FlowMeter/process(_:_:)``).
    mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>)
    /// Meters packets `range` of a batch (``FlowMeter/process(_:_:range:)``).
    mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, range: Range<Int>)
    /// Meters packets `range` of a batch decoded ahead for this meter
    /// (``FlowMeter/process(_:_:decoded:range:)``).
    mutating func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, decoded: inout DecodedBatch,
                          range: Range<Int>)
    /// The seed of the meter's flow hash, for decoding ahead (``FlowMeter/hashSeed``).
    var hashSeed: UInt64 { get }
    /// Moves the capture clock and ends flows idle past it (``FlowMeter/advanceClock(to:)``).
    mutating func advanceClock(to time: Int64)
    /// Ends every open flow (``FlowMeter/finish()``).
    mutating func finish()
    /// The meter's counts so far.
    var statistics: FlowMeterStatistics { get }
}

extension FlowMeter: PacketMetering {}

/// A ``PacketSource`` that can hand out its batches decoded ahead for a meter (``ReadAheadSource``
/// decodes them on its reader thread).
public protocol DecodingPacketSource: PacketSource {
    /// As ``PacketSource/nextBatch(_:)``, each batch with its packets decoded with the hash seed
    /// `seed` (the meter's ``FlowMeter/hashSeed``).
    mutating func nextBatch(decodedFor seed: UInt64,
                            _ body: (borrowing [CapturedPacket], Span<UInt8>, inout DecodedBatch) -> Void)
        throws(CaptureFileError) -> Bool
}

/// The one capture pipeline: a ``PacketSource`` (a capture file, files merged by timestamp, a live
/// interface's backlog, or anything that hands out batches) feeds a flow meter, whose
/// ``FlowObserver`` (the audit, the flow table, extraction) sees each flow. `flows`, `audit`,
/// `learn`, `extract` and `live` all run through it.
///
/// Per source step (one ``PacketSource/nextBatch(_:)``; for a merge of files, all the batches
/// of one input that no other input's packets precede) it meters the batches straight out of the
/// source's buffer (cut into ``batchPackets`` at most, which never changes a result), moves the
/// clock when the source has one apart from its packets (``PacketSource/clock``: a live capture
/// with no packet for a while), adds the decode counts the step caused (flows its clock ended
/// included) to the input it came from (``PacketSource/currentInput``), then calls the caller's
/// per-step hook (a live capture's link checks, metrics, progress). When the source ends, or
/// fails, the open flows end: a source that throws keeps every flow of the packets it handed out
/// before.
///
/// `run` is generic over the source and the meter, so each use is specialised: the per-packet
/// loop is the meter's own (``FlowMeter/process(_:_:)``), with no call through an existential or a
/// closure per packet.
public struct CapturePipeline {
    /// What one input of the source contributed.
    public struct InputCounts: Sendable {
        /// Decode counts caused by this input's steps: its packets, and the flows the source's
        /// clock ended during them (not the final ``PacketMetering/finish()``).
        public var decode = FlowMeterStatistics()
        /// Packets of this input handed to the meter.
        public var packets = 0
        public init() {}
    }

    /// Packets handed to the meter at a time (1: packet by packet).
    public var batchPackets: Int
    /// Counts per input, indexed by ``PacketSource/currentInput`` (grown as inputs appear).
    public var inputs: [InputCounts] { inputCounts }
    /// The error the source threw, which ended the run.
    public var error: CaptureFileError? { sourceError }
    @usableFromInline var inputCounts: [InputCounts] = []
    @usableFromInline var sourceError: CaptureFileError?

    public init(batchPackets: Int = .max) {
        self.batchPackets = max(1, batchPackets)
    }

    /// Meters everything `source` hands out into `meter`, then (with `finish`) ends every open
    /// flow. `afterStep` runs after each step of the source that did not end it, with the
    /// source and the meter (for what a live capture does between batches); it is not called
    /// per packet.
    @inlinable
    public mutating func run<Source: PacketSource, Meter: PacketMetering>(
        _ source: inout Source, into meter: inout Meter, finish: Bool = true,
        afterStep: (inout Source, inout Meter) -> Void = { _, _ in }
    ) {
        runSteps(&source, into: &meter, finish: finish, afterStep: afterStep) { (source, meter, pipeline) throws(CaptureFileError) -> (more: Bool, packets: Int) in
            var packets = 0
            let more = try source.nextBatch { batch, bytes in
                packets &+= batch.count
                pipeline.slices(of: batch.count) { meter.process(batch, bytes, range: $0) }
            }
            return (more, packets)
        }
    }

    /// As ``run(_:into:finish:afterStep:)``, for a source that decodes its packets ahead (on
    /// another thread): the meter takes them decoded.
    @inlinable
    public mutating func run<Source: DecodingPacketSource, Meter: PacketMetering>(
        _ source: inout Source, into meter: inout Meter, finish: Bool = true,
        afterStep: (inout Source, inout Meter) -> Void = { _, _ in }
    ) {
        runSteps(&source, into: &meter, finish: finish, afterStep: afterStep) { (source, meter, pipeline) throws(CaptureFileError) -> (more: Bool, packets: Int) in
            var packets = 0
            let more = try source.nextBatch(decodedFor: meter.hashSeed) { batch, bytes, decoded in
                packets &+= batch.count
                pipeline.slices(of: batch.count) { meter.process(batch, bytes, decoded: &decoded, range: $0) }
            }
            return (more, packets)
        }
    }

    /// The loop of both `run`s: `step` takes one step of the source into the meter and returns
    /// whether the source goes on and how many packets it handed out.
    @inlinable
    mutating func runSteps<Source: PacketSource, Meter: PacketMetering>(
        _ source: inout Source, into meter: inout Meter, finish: Bool,
        afterStep: (inout Source, inout Meter) -> Void,
        step: (inout Source, inout Meter, inout CapturePipeline) throws(CaptureFileError) -> (more: Bool, packets: Int)
    ) {
        while true {
            let before = meter.statistics
            var packets = 0
            var more = false
            do {
                (more, packets) = try step(&source, &meter, &self)
            } catch {
                sourceError = error
            }
            let going = more && sourceError == nil
            if going, let clock = source.clock { meter.advanceClock(to: clock) }
            account(input: source.currentInput, packets: packets, before: before, after: meter.statistics)
            guard going else { break }
            afterStep(&source, &meter)
        }
        if finish { meter.finish() }
    }

    /// Calls `body` with the ranges of a batch of `count` packets, cut into ``batchPackets`` at
    /// most (the records are not copied: the meter takes a range of the batch).
    @inlinable
    func slices(of count: Int, _ body: (Range<Int>) -> Void) {
        var start = 0
        while start < count {
            let end = batchPackets >= count - start ? count : start + batchPackets
            body(start..<end)
            start = end
        }
    }

    /// Adds one step's counts to input `input`'s.
    @usableFromInline
    mutating func account(input: Int, packets: Int, before: FlowMeterStatistics, after: FlowMeterStatistics) {
        guard packets > 0 || after.packets != before.packets || after.flowsEnded != before.flowsEnded else { return }
        let index = max(0, input)
        while inputCounts.count <= index { inputCounts.append(InputCounts()) }
        inputCounts[index].decode.accumulate(after, since: before)
        inputCounts[index].packets &+= packets
    }
}

extension FlowMeterStatistics {
    /// Adds the counts `now` has accumulated since `earlier` (the meter's statistics after and
    /// before some packets) to these; no allocation when the arrays are this value's own.
    public mutating func accumulate(_ now: FlowMeterStatistics, since earlier: FlowMeterStatistics) {
        packets += now.packets - earlier.packets
        decoded += now.decoded - earlier.decoded
        for i in skipped.indices where now.skipped[i] != earlier.skipped[i] { skipped[i] += now.skipped[i] - earlier.skipped[i] }
        if now.unsupportedLinkTypes != earlier.unsupportedLinkTypes {
            for (linkType, count) in now.unsupportedLinkTypes {
                let difference = count - earlier.unsupportedLinkTypes[linkType, default: 0]
                if difference > 0 { unsupportedLinkTypes[linkType, default: 0] += difference }
            }
        }
        unmatchedICMPErrors += now.unmatchedICMPErrors - earlier.unmatchedICMPErrors
        unmatchedFragments += now.unmatchedFragments - earlier.unmatchedFragments
        flowsCreated += now.flowsCreated - earlier.flowsCreated
        flowsEnded += now.flowsEnded - earlier.flowsEnded
        evictedFlows += now.evictedFlows - earlier.evictedFlows
        peakActiveFlows = now.peakActiveFlows
        arpFrames += now.arpFrames - earlier.arpFrames
        lldpFrames += now.lldpFrames - earlier.lldpFrames
        llcFrames += now.llcFrames - earlier.llcFrames
        otherNonIPFrames += now.otherNonIPFrames - earlier.otherNonIPFrames
        for i in tunnelledPackets.indices where now.tunnelledPackets[i] != earlier.tunnelledPackets[i] {
            tunnelledPackets[i] += now.tunnelledPackets[i] - earlier.tunnelledPackets[i]
        }
        for i in tunnelInnerSkipped.indices where now.tunnelInnerSkipped[i] != earlier.tunnelInnerSkipped[i] {
            tunnelInnerSkipped[i] += now.tunnelInnerSkipped[i] - earlier.tunnelInnerSkipped[i]
        }
        tunnelTooDeep += now.tunnelTooDeep - earlier.tunnelTooDeep
        sourceRoutedPackets += now.sourceRoutedPackets - earlier.sourceRoutedPackets
        fragments.entriesCreated += now.fragments.entriesCreated - earlier.fragments.entriesCreated
        fragments.entriesCompleted += now.fragments.entriesCompleted - earlier.fragments.entriesCompleted
        fragments.entriesExpired += now.fragments.entriesExpired - earlier.fragments.entriesExpired
        fragments.entriesEvicted += now.fragments.entriesEvicted - earlier.fragments.entriesEvicted
        fragments.unmatchedFragments += now.fragments.unmatchedFragments - earlier.fragments.unmatchedFragments
        fragments.queueSteps += now.fragments.queueSteps - earlier.fragments.queueSteps
        fragments.peakEntries = now.fragments.peakEntries
    }

    /// The counts accumulated since `earlier`.
    public func subtracting(_ earlier: FlowMeterStatistics) -> FlowMeterStatistics {
        var result = FlowMeterStatistics()
        result.packets = packets - earlier.packets
        result.decoded = decoded - earlier.decoded
        for i in skipped.indices { result.skipped[i] = skipped[i] - earlier.skipped[i] }
        for (linkType, count) in unsupportedLinkTypes {
            let difference = count - earlier.unsupportedLinkTypes[linkType, default: 0]
            if difference > 0 { result.unsupportedLinkTypes[linkType] = difference }
        }
        result.unmatchedICMPErrors = unmatchedICMPErrors - earlier.unmatchedICMPErrors
        result.unmatchedFragments = unmatchedFragments - earlier.unmatchedFragments
        result.flowsCreated = flowsCreated - earlier.flowsCreated
        result.flowsEnded = flowsEnded - earlier.flowsEnded
        result.evictedFlows = evictedFlows - earlier.evictedFlows
        result.peakActiveFlows = peakActiveFlows
        for i in tunnelledPackets.indices { result.tunnelledPackets[i] = tunnelledPackets[i] - earlier.tunnelledPackets[i] }
        for i in tunnelInnerSkipped.indices { result.tunnelInnerSkipped[i] = tunnelInnerSkipped[i] - earlier.tunnelInnerSkipped[i] }
        result.tunnelTooDeep = tunnelTooDeep - earlier.tunnelTooDeep
        result.sourceRoutedPackets = sourceRoutedPackets - earlier.sourceRoutedPackets
        result.fragments.entriesCreated = fragments.entriesCreated - earlier.fragments.entriesCreated
        result.fragments.entriesCompleted = fragments.entriesCompleted - earlier.fragments.entriesCompleted
        result.fragments.entriesExpired = fragments.entriesExpired - earlier.fragments.entriesExpired
        result.fragments.entriesEvicted = fragments.entriesEvicted - earlier.fragments.entriesEvicted
        result.fragments.unmatchedFragments = fragments.unmatchedFragments - earlier.fragments.unmatchedFragments
        result.fragments.queueSteps = fragments.queueSteps - earlier.fragments.queueSteps
        result.fragments.peakEntries = fragments.peakEntries
        return result
    }
}
