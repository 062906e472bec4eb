import Flows
import Packets

/// What one input contributed: the reader's summary and the packets the decoder skipped in it.
public struct InputReport: Sendable {
    public var summary: CaptureFileSummary
    /// Decode counts of this input alone (the meter's counters before and after it).
    public var decode: FlowMeterStatistics
    /// The error that ended (or prevented) reading it.
    public var error: CaptureFileError?
    /// Packets read from it that the `--filter` expression rejected (not metered).
    public var filteredOut = 0

    public init(summary: CaptureFileSummary, decode: FlowMeterStatistics, error: CaptureFileError?) {
        self.summary = summary
        self.decode = decode
        self.error = error
    }
}

/// Runs capture inputs through a ``FlowMeter`` as one capture, merged by timestamp as mergecap
/// does: at each step the input whose next packet is earliest goes on (ties go to the input named
/// first), so two files of one conversation (two taps, or rotated files) make the flows they
/// would make as one file. An input that cannot be opened or turns out corrupt is reported and
/// the others go on; everything read before the corruption has been metered.
///
/// Packets are metered straight out of a reader's buffer while they come before every other
/// input's next packet, which is always the case with a single input and almost always with
/// rotated files; only packets that must wait for another input's are copied (``PacketStore``).
///
/// A file given twice (the same path, or the same device and inode) is read once. An input whose
/// first packet is identical (timestamp, lengths, bytes) to an earlier input's is read in step
/// with it: while their packets stay identical they are read once; where they first differ, the
/// rest of it is merged as any input is. Each case is a warning of the duplicate input.
public enum CaptureRun {
    /// How inputs are read: the read buffer and how many packets the flow table takes at a time.
    /// Neither changes a result (flows end by packet time, packet by packet); tests vary them to
    /// show it.
    public struct Reading: Sendable {
        /// Bytes of the read buffer (at least 4,096).
        public var bufferSize = ByteSource.defaultBufferSize
        /// Packets handed to the flow table at a time (1: packet by packet).
        public var batchPackets = CaptureFileReader.batchLimit
        /// Threads to use: 1 reads and meters on the calling thread; 2 or more read the inputs
        /// on a thread of their own (``ReadAheadSource``) while the calling thread meters.
        public var threads = 1
        public init() {}
    }

    /// Called after each batch read: the input's index in `paths`, the bytes of it read so far
    /// (of the file: compressed bytes for a compressed input) and the packets of it read so far
    /// (for a progress line).
    public typealias Progress = (_ input: Int, _ bytesRead: Int64, _ packets: Int) -> Void

    /// Meters every input in `paths` (`-` is standard input) into `meter`, merged by timestamp,
    /// then ends all flows.
    /// - Parameter filter: when given, only packets it accepts are metered; the others are counted
    ///   in each input's ``InputReport/filteredOut``.
    /// - Returns: one report per input, in the order given.
    public static func run(paths: [String], meter: inout FlowMeter, finish: Bool = true, reading: Reading = Reading(),
                           filter: (any CapturePacketFilter)? = nil, progress: Progress? = nil) -> [InputReport] {
        var merge = Merge(paths: paths, reading: reading, filter: filter, progress: progress)
        var pipeline = CapturePipeline(batchPackets: reading.batchPackets)
        if reading.threads > 1 {
            var source = ReadAheadSource(merge, seed: meter.hashSeed)
            pipeline.run(&source, into: &meter, finish: finish)
            merge = source.finish()
        } else {
            pipeline.run(&merge, into: &meter, finish: finish)
        }
        return merge.reports(counts: pipeline.inputs)
    }

    /// Meters one input into `meter` without ending its flows.
    public static func runOne(path: String, meter: inout FlowMeter, reading: Reading = Reading(),
                              filter: (any CapturePacketFilter)? = nil) -> InputReport {
        run(paths: [path], meter: &meter, finish: false, reading: reading, filter: filter)[0]
    }
}

/// One input of a merged run: its reader, the packets read but not yet metered, and its counts.
private struct MergeInput {
    var path: String
    var reader: CaptureFileReader?
    var openError: CaptureFileError?
    var readError: CaptureFileError?
    /// No more packets will come from the reader (end, error, or not read at all).
    var exhausted = false
    var store = PacketStore()
    var head = 0
    var filteredOut = 0
    var duplicateWarnings: [CaptureFileWarning] = []
    /// While this input's packets are checked against another input's (index) instead of merged.
    var shadowOf: Int?
    /// Packets found identical to the other input's.
    var shadowMatched = 0

    var pending: Bool { head < store.packets.count }
    /// Nothing more to meter from this input.
    var done: Bool { !pending && exhausted }
}

/// The inputs of a run as one ``PacketSource``: each step hands out the packets of the input
/// whose next packet is earliest, up to the first one another input holds back. A class, so that
/// a ``ReadAheadSource`` can run it on its reader thread.
private final class Merge: BufferBackedPacketSource {
    typealias Body = (borrowing [CapturedPacket], Span<UInt8>) -> Void
    var inputs: [MergeInput]
    let reading: CaptureRun.Reading
    let filter: (any CapturePacketFilter)?
    let progress: CaptureRun.Progress?
    /// Reused for filtered and sliced batches.
    var scratch: [CapturedPacket] = []
    /// Packets each input handed to the meter, for the duplicate warnings.
    var metered: [Int]
    /// The input the last step's packets came from.
    var currentInput = 0
    /// While a batch is handed out straight out of a reader's buffer: that buffer and the span's
    /// offset in it (nil for packets copied into a store).
    var batchBuffer: (buffer: ReadBuffer, offset: Int)?

    init(paths: [String], reading: CaptureRun.Reading, filter: (any CapturePacketFilter)?, progress: CaptureRun.Progress?) {
        self.reading = reading
        self.filter = filter
        self.progress = progress
        self.metered = Array(repeating: 0, count: paths.count)
        var inputs: [MergeInput] = []
        var identities: [FileIdentity: Int] = [:]
        for (index, path) in paths.enumerated() {
            var input = MergeInput(path: path)
            if let earlier = paths[..<index].firstIndex(of: path) {
                input.duplicateWarnings.append(.sameFile(path: path, other: paths[earlier], samePath: true))
                input.exhausted = true
                inputs.append(input)
                continue
            }
            do {
                let reader = try CaptureFileReader.open(path: path, mapFiles: CaptureFileReader.mapsFilesByDefault,
                                                        bufferSize: max(4096, reading.bufferSize))
                if let identity = reader.fileIdentity, let earlier = identities[identity] {
                    input.duplicateWarnings.append(.sameFile(path: path, other: paths[earlier], samePath: false))
                    input.exhausted = true
                } else {
                    if let identity = reader.fileIdentity { identities[identity] = index }
                    input.reader = reader
                }
            } catch {
                input.openError = error
                input.exhausted = true
            }
            inputs.append(input)
        }
        self.inputs = inputs
        // Every input's first packets, then the inputs that start as an earlier one does.
        for index in self.inputs.indices { fill(index, direct: false) { _, _ in } }
        for later in self.inputs.indices where self.inputs[later].pending {
            for earlier in 0..<later where self.inputs[earlier].pending && self.inputs[earlier].shadowOf == nil {
                let first = self.inputs[later].store.packets[self.inputs[later].head]
                let same = self.inputs[later].store.withBytes { data in
                    self.inputs[earlier].store.packet(at: self.inputs[earlier].head, equals: first, in: data)
                }
                if same {
                    self.inputs[later].shadowOf = earlier
                    break
                }
            }
        }
    }

    /// The latest timestamp input `index` may meter before another input's next packet: no
    /// other input's next packet is earlier (nor as early, for an input named before).
    func limit(for index: Int) -> Int64 {
        var limit = Int64.max
        for other in inputs.indices where other != index && inputs[other].shadowOf == nil && inputs[other].pending {
            let next = inputs[other].store.packets[inputs[other].head].timestamp
            limit = min(limit, other < index ? next &- 1 : next)  // next > Int64.min: timestamps are clamped to >= 0
        }
        return limit
    }

    /// One step of the merge: the packets of the input whose next packet is earliest, up to the
    /// first one another input holds back (straight out of its reader's buffer when they were
    /// not read ahead). A step may hand out nothing (a shadow input found to differ).
    func nextBatch(_ body: Body) -> Bool {
        while filter?.failure == nil {
            // The input whose next packet is earliest (the first named, on a tie).
            var chosen: Int?
            var earliest = Int64.max
            for index in inputs.indices where inputs[index].shadowOf == nil && inputs[index].pending {
                let next = inputs[index].store.packets[inputs[index].head].timestamp
                if chosen == nil || next < earliest {
                    chosen = index
                    earliest = next
                }
            }
            guard let index = chosen else {
                // Shadows of inputs that ended have nothing to be checked against any more.
                let shadowed = inputs.indices.filter { inputs[$0].shadowOf != nil }
                if shadowed.isEmpty { return false }
                for shadow in shadowed { releaseShadow(shadow) }
                continue
            }
            currentInput = index
            // Its packets up to the first one another input holds back.
            let limit = limit(for: index)
            var end = inputs[index].head + 1
            let count = inputs[index].store.packets.count
            while end < count && inputs[index].store.packets[end].timestamp <= limit { end += 1 }
            let start = inputs[index].head
            let matched = checkShadows(of: index, from: start, to: end)
            if matched < end - start {
                // A shadow differs from here on: it joins the merge, which is decided again.
                if matched > 0 { handOutStored(index, start..<(start + matched), body) }
                inputs[index].head = start + matched
            } else {
                handOutStored(index, start..<end, body)
                inputs[index].head = end
            }
            if !inputs[index].pending && !inputs[index].exhausted { fill(index, direct: true, body) }
            if inputs[index].done {
                for shadow in inputs.indices where inputs[shadow].shadowOf == index { releaseShadow(shadow) }
            }
            return true
        }
        return false
    }

    /// Reads input `index`'s next batches until it has packets waiting or ends. With `direct`,
    /// packets no other input holds back are handed to `body` at once, out of the reader's buffer.
    func fill(_ index: Int, direct: Bool, _ body: Body) {
        guard let reader = inputs[index].reader else { return }
        inputs[index].store.removeAll()
        inputs[index].head = 0
        let hasShadows = inputs.contains { $0.shadowOf == index }
        while !inputs[index].pending && !inputs[index].exhausted && filter?.failure == nil {
            do {
                let more = try reader.nextBatch { batch, bytes in
                    var meteredUpTo = 0
                    if direct && !hasShadows {
                        // The prefix of the batch that comes before every other input's next packet.
                        let limit = limit(for: index)
                        while meteredUpTo < batch.count && batch[meteredUpTo].timestamp <= limit { meteredUpTo += 1 }
                        if meteredUpTo > 0 { handOut(index, batch, 0..<meteredUpTo, bytes, body) }
                    }
                    for i in meteredUpTo..<batch.count {
                        if let filter, !filter.accepts(batch[i], bytes.extracting(batch[i].dataRange)) {
                            inputs[index].filteredOut += 1
                            continue
                        }
                        inputs[index].store.append(batch[i], from: bytes)
                    }
                }
                if !more { inputs[index].exhausted = true }
                if let progress {
                    // The summary's counts are read between batches only: the meter's loop is untouched.
                    let summary = reader.summary
                    progress(index, summary.compressedBytesRead ?? summary.bytesRead, summary.packets)
                }
            } catch {
                inputs[index].readError = error
                inputs[index].exhausted = true
            }
        }
    }

    /// Hands `range` of a reader's batch to `body` (filtering it first when there is a filter):
    /// the reader's own batch when it is all of it, else a copy of the records (not the bytes).
    func handOut(_ index: Int, _ batch: borrowing [CapturedPacket], _ range: Range<Int>, _ bytes: Span<UInt8>,
                          _ body: Body) {
        batchBuffer = inputs[index].reader?.batchBuffer
        defer { batchBuffer = nil }
        if filter == nil && range == 0..<batch.count {
            metered[index] += batch.count
            body(batch, bytes)
            return
        }
        var selected = scratch
        scratch = []
        selected.removeAll(keepingCapacity: true)
        for i in range {
            if let filter, !filter.accepts(batch[i], bytes.extracting(batch[i].dataRange)) {
                inputs[index].filteredOut += 1
                continue
            }
            selected.append(batch[i])
        }
        metered[index] += selected.count
        body(selected, bytes)
        scratch = selected
    }

    /// Hands the stored packets `range` of input `index` to `body`.
    func handOutStored(_ index: Int, _ range: Range<Int>, _ body: Body) {
        var selected = scratch
        scratch = []
        selected.removeAll(keepingCapacity: true)
        for i in range { selected.append(inputs[index].store.packets[i]) }
        metered[index] += selected.count
        let store = inputs[index].store
        store.withBytes { bytes in body(selected, bytes) }
        scratch = selected
    }

    /// Checks the stored packets `start..<end` of input `index` against each input that shadows
    /// it, consuming the shadows' identical packets.
    /// - Returns: how many of them every shadow matched (a shadow that differs stops shadowing).
    func checkShadows(of index: Int, from start: Int, to end: Int) -> Int {
        var matched = end - start
        for shadow in inputs.indices where inputs[shadow].shadowOf == index {
            var position = start
            while position < end {
                if !inputs[shadow].pending {
                    if inputs[shadow].exhausted { break }
                    fill(shadow, direct: false) { _, _ in }
                    if !inputs[shadow].pending { break }
                }
                let theirs = inputs[index].store.packets[position]
                let same = inputs[index].store.withBytes { data in
                    inputs[shadow].store.packet(at: inputs[shadow].head, equals: theirs, in: data)
                }
                if !same {
                    inputs[shadow].shadowOf = nil
                    inputs[shadow].duplicateWarnings.append(.samePackets(
                        path: inputs[shadow].path, other: inputs[index].path, packets: inputs[shadow].shadowMatched, extent: .start))
                    matched = min(matched, position - start)
                    break
                }
                inputs[shadow].head += 1
                inputs[shadow].shadowMatched += 1
                position += 1
            }
        }
        return matched
    }

    /// Ends the shadowing of input `index`, whose other input has no more packets: a shadow with
    /// none left was a copy (whole or prefix); one with more joins the merge with the rest.
    func releaseShadow(_ index: Int) {
        guard let other = inputs[index].shadowOf else { return }
        inputs[index].shadowOf = nil
        if !inputs[index].pending && !inputs[index].exhausted { fill(index, direct: false) { _, _ in } }
        let matched = inputs[index].shadowMatched
        if inputs[index].pending {
            inputs[index].duplicateWarnings.append(.samePackets(path: inputs[index].path, other: inputs[other].path,
                                                                packets: matched, extent: .start))
        } else {
            let extent: CaptureFileWarning.DuplicateExtent = matched == metered[other] ? .whole : .prefix
            inputs[index].duplicateWarnings.append(.samePackets(path: inputs[index].path, other: inputs[other].path,
                                                                packets: matched, extent: extent))
        }
    }

    /// One report per input, with the decode counts the pipeline kept for each.
    func reports(counts: [CapturePipeline.InputCounts]) -> [InputReport] {
        inputs.enumerated().map { index, input in
            var summary = input.reader?.summary ?? CaptureFileSummary(path: input.path)
            let error = input.openError ?? input.readError
            if summary.error == nil { summary.error = error }
            for warning in input.duplicateWarnings {
                if summary.warnings.count < CaptureFileSummary.warningLimit {
                    summary.warnings.append(warning)
                } else {
                    summary.omittedWarnings += 1
                }
            }
            let decode = index < counts.count ? counts[index].decode : FlowMeterStatistics()
            var report = InputReport(summary: summary, decode: decode, error: error)
            report.filteredOut = input.filteredOut
            return report
        }
    }
}
