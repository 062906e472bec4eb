import Flows
import Packets

/// What one input contributed: the reader's summary and the packets the decoder skipped in it.
public struct InputReport: Sendable {
    public var summary: CaptureFileSummary
    /// Decode counts of this input alone (the meter's counters before and after it).
    public var decode: FlowMeterStatistics
    /// The error that ended (or prevented) reading it.
    public var error: CaptureFileError?

    public init(summary: CaptureFileSummary, decode: FlowMeterStatistics, error: CaptureFileError?) {
        self.summary = summary
        self.decode = decode
        self.error = error
    }
}

/// Runs capture inputs through a ``FlowMeter``, one after the other as one continuous capture
/// (rotated files in order continue each other's flows). An input that cannot be opened or
/// turns out corrupt is reported and the run goes on with the next; everything read before the
/// corruption has been metered.
public enum CaptureRun {
    /// How inputs are read: the read buffer and how many packets the flow table takes at a time.
    /// Neither changes a result (flows end by packet time, packet by packet); tests vary them to
    /// show it.
    public struct Reading: Sendable {
        /// Bytes of the read buffer (at least 4,096).
        public var bufferSize = ByteSource.defaultBufferSize
        /// Packets handed to the flow table at a time (1: packet by packet).
        public var batchPackets = CaptureFileReader.batchLimit
        public init() {}
    }

    /// Called after each batch read: the input's index in `paths`, the bytes of it read so far
    /// and the packets of it read so far (for a progress line).
    public typealias Progress = (_ input: Int, _ bytesRead: Int64, _ packets: Int) -> Void

    /// Meters every input in `paths` (`-` is standard input) into `meter`, then ends all flows.
    /// - Returns: one report per input, in order.
    public static func run(paths: [String], meter: inout FlowMeter, finish: Bool = true, reading: Reading = Reading(),
                           progress: Progress? = nil) -> [InputReport] {
        var reports: [InputReport] = []
        for (index, path) in paths.enumerated() {
            reports.append(runOne(path: path, meter: &meter, reading: reading, progress: progress.map { hook in
                { bytes, packets in hook(index, bytes, packets) }
            }))
        }
        if finish { meter.finish() }
        return reports
    }

    /// Meters one input into `meter` without ending its flows.
    public static func runOne(path: String, meter: inout FlowMeter, reading: Reading = Reading(),
                              progress: ((_ bytesRead: Int64, _ packets: Int) -> Void)? = nil) -> InputReport {
        let before = meter.statistics
        let reader: CaptureFileReader
        do {
            reader = try CaptureFileReader.open(path: path, mapFiles: CaptureFileReader.mapsFilesByDefault,
                                                bufferSize: max(4096, reading.bufferSize))
        } catch {
            var summary = CaptureFileSummary(path: path)
            summary.error = error
            return InputReport(summary: summary, decode: FlowMeterStatistics(), error: error)
        }
        var failure: CaptureFileError?
        do {
            if let progress {
                // The summary's counts are read between batches only: the meter's loop is untouched.
                while try reader.nextBatch({ batch, bytes in meter.process(batch, bytes) }) {
                    let summary = reader.summary
                    progress(summary.bytesRead, summary.packets)
                }
            } else if reading.batchPackets >= CaptureFileReader.batchLimit {
                while try reader.nextBatch({ batch, bytes in meter.process(batch, bytes) }) {}
            } else {
                let size = max(1, reading.batchPackets)
                var slice: [CapturedPacket] = []
                while try reader.nextBatch({ batch, bytes in
                    var start = 0
                    while start < batch.count {
                        slice.removeAll(keepingCapacity: true)
                        for i in start..<min(start + size, batch.count) { slice.append(batch[i]) }
                        meter.process(slice, bytes)
                        start += size
                    }
                }) {}
            }
        } catch {
            failure = error
        }
        var summary = reader.summary
        if summary.error == nil { summary.error = failure }
        return InputReport(summary: summary, decode: meter.statistics.subtracting(before), error: failure)
    }
}

extension FlowMeterStatistics {
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
