import Foundation
import PacketBuilder
import Packets
import Testing
@testable import Flows

/// Every kind of packet the meter treats apart: TCP, UDP and ICMP flows that end by idle time, by
/// FIN and at the end; fragments out of order and orphans; ICMP errors that quote a flow and one
/// that quotes none; a frame too short to decode; a VXLAN tunnel whose inner session is a flow
/// of its own.
func readAheadTraffic() -> [TimedFrame] {
    let tunnelled = Encapsulation.carry(
        Conversation(link: .ethernet()).tcpSession(client: Endpoint("10.1.0.5", 40000), server: Endpoint("10.1.0.9", 22),
                                                   at: 2_000 * second, clientData: [[1, 2, 3]], serverData: [[4, 5]])) {
        Frame.ethernet().ipv4(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
            .udp(sourcePort: 49152, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 77, frame: $0))
    }
    return pipelineTraffic() + FlowInvariantsTests.mixedFrames() + tunnelled
}

/// The flows of `frames` read through a ``ReadAheadSource`` of `slots` over `source`.
func runReadAhead<Source: PacketSource & AnyObject>(_ source: Source, slots: Int, batchPackets: Int = .max) -> PipelineResult {
    let sink = FlowSink()
    var meter = FlowMeter(seed: 1, observer: sink)
    var readAhead = ReadAheadSource(source, slots: slots, seed: meter.hashSeed)
    var pipeline = CapturePipeline(batchPackets: batchPackets)
    pipeline.run(&readAhead, into: &meter)
    _ = readAhead.finish()
    return PipelineResult(flows: sink.flows.map { String(describing: $0) }, ended: sink.flows, statistics: meter.statistics,
                          pipeline: pipeline)
}

@Suite struct ReadAheadSourceTests {
    @Test(arguments: [1, 2, 4])
    func readingOnAThreadOfItsOwnMakesTheSameFlows(slots: Int) throws {
        let frames = readAheadTraffic()
        let direct = runPipeline(try pcapSource(frames))
        #expect(direct.statistics.tunnelledPackets.reduce(0, +) > 0 && direct.statistics.unmatchedICMPErrors > 0)
        #expect(direct.statistics.fragments.entriesCreated > 0)
        for sourceBatch in [1, 3, 1_000] {
            let ahead = runReadAhead(ScriptedSource(ScriptedSource.batches(frames, size: sourceBatch)), slots: slots)
            #expect(ahead.flows == direct.flows, "source batches of \(sourceBatch), \(slots) slots")
            #expect(ahead.statisticsText == direct.statisticsText)
            #expect(ahead.pipeline.inputs.map(\.packets) == direct.pipeline.inputs.map(\.packets))
        }
        let fromFile = runReadAhead(try pcapSource(frames), slots: slots, batchPackets: 7)
        #expect(fromFile.flows == direct.flows)
        #expect(fromFile.statisticsText == direct.statisticsText)
    }

    /// A file read in 4 KiB and 10,000-byte reads: the reader thread hands batches on in the
    /// reader's own buffer, which it goes on reading past (in other buffers while a slot holds
    /// one): the pipeline sees the bytes as read.
    @Test(arguments: [1, 4])
    func heldReadBuffersMakeTheSameFlows(slots: Int) throws {
        let frames = readAheadTraffic()
        var writer = PcapWriter(linkType: .ethernet, nanosecondTimestamps: true)
        for timed in frames { writer.append(timed.frame, timestamp: timed.timestamp) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("read-ahead-\(UUID().uuidString).pcap").path
        try ByteSource.writeFile(path: path, bytes: writer.bytes, append: false)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let direct = runPipeline(try pcapSource(frames))
        for bufferSize in [4_096, 10_000] {
            let reader = try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: bufferSize)
            let ahead = runReadAhead(reader, slots: slots)
            #expect(ahead.pipeline.error == nil)
            #expect(ahead.flows == direct.flows, "\(bufferSize)-byte reads, \(slots) slots")
            #expect(ahead.statisticsText == direct.statisticsText)
        }
    }

    @Test func idleTicksCountsPerInputAndErrorsComeThrough() {
        let frames = readAheadTraffic()
        let cut = frames.count / 2
        let error = CaptureFileError.io(path: "scripted", operation: "read", errno: 5, message: "Input/output error")
        // Two inputs, idle steps before each batch, then a failure and packets never to be read.
        var steps = ScriptedSource.batches(Array(frames[..<cut]), size: 5, input: 1, idleBefore: { $0 - 1 })
        steps += ScriptedSource.batches(Array(frames[cut...]), size: 9, input: 0, idleBefore: { $0 - 1 })
        steps.append(.fail(error))
        steps += ScriptedSource.batches(frames, size: 9, input: 0)
        let direct = runPipeline(ScriptedSource(steps))
        let ahead = runReadAhead(ScriptedSource(steps), slots: 2)
        #expect(direct.pipeline.error == error && ahead.pipeline.error == error)
        #expect(ahead.flows == direct.flows)
        #expect(ahead.statisticsText == direct.statisticsText)
        #expect(ahead.pipeline.inputs.count == 2)
        for input in 0..<2 {
            #expect(ahead.pipeline.inputs[input].packets == direct.pipeline.inputs[input].packets)
            #expect(String(describing: ahead.pipeline.inputs[input].decode) == String(describing: direct.pipeline.inputs[input].decode))
        }
        // Idle flows ended at the idle steps, not at the end.
        #expect(ahead.ended.contains { $0.endReason == .idle })
    }

    @Test func aMeterDecodesABatchTheReaderHandedOnUndecoded() throws {
        let frames = readAheadTraffic()
        // The whole traffic as one batch.
        guard case .batch(let batch, let bytes, _)? = ScriptedSource.batches(frames, size: frames.count).first else {
            Issue.record("no batch")
            return
        }
        func flows(_ meterBatch: (inout FlowMeter) -> Void) -> [String] {
            let sink = FlowSink()
            var meter = FlowMeter(seed: 9, observer: sink)
            meterBatch(&meter)
            meter.finish()
            return sink.flows.map { String(describing: $0) }
        }
        let reference = flows { $0.process(batch, bytes.span) }
        var decoded = DecodedBatch(seed: 9)
        decoded.decode(batch, bytes.span)
        #expect(decoded.isDecoded && decoded.count == batch.count)
        // In two ranges, as a pipeline cutting the batch does.
        let half = batch.count / 2
        let fromDecoded = flows {
            $0.process(batch, bytes.span, decoded: &decoded, range: 0..<half)
            $0.process(batch, bytes.span, decoded: &decoded, range: half..<batch.count)
        }
        decoded.clear()
        let fromCleared = flows { $0.process(batch, bytes.span, decoded: &decoded, range: 0..<batch.count) }
        #expect(!reference.isEmpty)
        #expect(fromDecoded == reference)
        #expect(fromCleared == reference)
    }

    @Test func finishingEarlyStopsTheReaderWithinItsSlots() throws {
        let frames = pipelineTraffic()
        let source = ScriptedSource(ScriptedSource.batches(frames, size: 1))
        let readAhead = ReadAheadSource(source, slots: 3, seed: 1)
        var taken = 0
        _ = try readAhead.nextBatch { _, _ in taken += 1 }
        let returned = readAhead.finish()
        #expect(taken == 1)
        #expect(returned === source)
        // One batch taken, at most three waiting, and one the reader was copying when told to stop.
        #expect(returned.batchesHandedOut <= 1 + 3 + 1)
        #expect(returned.batchesHandedOut < frames.count)
        // After finish the source hands out nothing more.
        #expect(try readAhead.nextBatch { _, _ in Issue.record("a batch after finish") } == false)
    }

    @Test func droppingTheSourceUnreadEndsItsThread() {
        let source = ScriptedSource(ScriptedSource.batches(pipelineTraffic(), size: 1))
        do {
            _ = ReadAheadSource(source, slots: 2, seed: 1)
        }
        // Gone at once: its reader thread stopped within its two slots (and the batch it was
        // copying), not at the end of the source.
        #expect(source.batchesHandedOut <= 3)
    }
}
