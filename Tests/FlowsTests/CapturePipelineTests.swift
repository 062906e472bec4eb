import PacketBuilder
import Packets
import Testing
@testable import Flows

/// A source scripted in memory: batches (of any input), idle steps that only move the clock, and
/// a failure, in the order given. A class, as a ``ReadAheadSource`` takes its source.
final class ScriptedSource: PacketSource {
    enum Step {
        case batch([CapturedPacket], [UInt8], input: Int)
        /// No packet; the capture clock is this time.
        case idle(Int64)
        case fail(CaptureFileError)
    }

    var steps: [Step]
    var position = 0
    var currentInput = 0
    var clock: Int64?
    /// Batches handed out so far.
    var batchesHandedOut = 0

    init(_ steps: [Step]) { self.steps = steps }

    func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool {
        guard position < steps.count else { return false }
        let step = steps[position]
        position += 1
        switch step {
        case .batch(let packets, let bytes, let input):
            currentInput = input
            clock = nil
            batchesHandedOut += 1
            body(packets, bytes.span)
        case .idle(let time):
            clock = time
        case .fail(let error):
            throw error
        }
        return true
    }

    /// `frames` as batches of `size` packets (each with its own bytes), from input `input`, with
    /// an idle step before each batch whose clock is `idleBefore` of the batch's first packet's
    /// time (nil: no idle steps).
    static func batches(_ frames: [TimedFrame], size: Int, input: Int = 0, idleBefore: ((Int64) -> Int64)? = nil) -> [Step] {
        var steps: [Step] = []
        var start = 0
        while start < frames.count {
            let end = min(start + size, frames.count)
            var packets: [CapturedPacket] = []
            var bytes: [UInt8] = [0xEE]  // the packets do not start at offset 0
            for timed in frames[start..<end] {
                packets.append(CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                              originalLength: timed.frame.count, linkType: .ethernet,
                                              dataOffset: bytes.count, fileOffset: 0))
                bytes += timed.frame
            }
            if let idleBefore { steps.append(.idle(idleBefore(frames[start].timestamp))) }
            steps.append(.batch(packets, bytes, input: input))
            start = end
        }
        return steps
    }
}

/// What a run made: each ended flow (all its fields, in the order they ended) and the counts.
struct PipelineResult {
    var flows: [String]
    var ended: [Flow]
    var statistics: FlowMeterStatistics
    var pipeline: CapturePipeline

    var statisticsText: String { String(describing: statistics) }
}

func runPipeline<Source: PacketSource>(_ source: Source, batchPackets: Int = .max) -> PipelineResult {
    var source = source
    let sink = FlowSink()
    var meter = FlowMeter(seed: 1, observer: sink)
    var pipeline = CapturePipeline(batchPackets: batchPackets)
    pipeline.run(&source, into: &meter)
    return PipelineResult(flows: sink.flows.map { String(describing: $0) }, ended: sink.flows, statistics: meter.statistics, pipeline: pipeline)
}

/// TCP sessions, UDP exchanges and an ICMP echo over 20 minutes, with quiet stretches longer than
/// the UDP and TCP idle timeouts, so flows end by idle time, by FIN and at the capture's end.
func pipelineTraffic() -> [TimedFrame] {
    var conversations: [[TimedFrame]] = []
    for index in 0..<12 {
        let start = Int64(index) * 100 * second
        conversations.append(conversation.tcpSession(client: Endpoint(client, UInt16(40_000 + index)), server: Endpoint(server, 443),
                                                     at: start, clientData: [[1, 2, 3]], serverData: [[4, 5, 6, 7]]))
        conversations.append(conversation.udpExchange(client: Endpoint(client, UInt16(50_000 + index)), server: Endpoint(server, 53),
                                                      at: start + 3 * second, request: [9, 9], response: [8, 8, 8]))
    }
    // The same UDP pair again after its flow went idle: a second flow.
    conversations.append(conversation.udpExchange(client: Endpoint(client, 50_000), server: Endpoint(server, 53),
                                                  at: 900 * second, request: [7], response: [6]))
    // A TCP session left open: it ends at the capture's end.
    conversations.append(conversation.tcpMidstream(client: Endpoint(client, 45_000), server: Endpoint(server, 22),
                                                   at: 1_150 * second, clientData: [[1]], serverData: [[2]]))
    conversations.append(conversation.icmpEcho(client: client, server: server, at: 1_190 * second))
    return TimedFrame.merge(conversations)
}

/// `frames` as a pcap file read by ``CaptureFileReader`` (nanosecond timestamps, so they are the
/// frames' own).
func pcapSource(_ frames: [TimedFrame], corruptRecord: Int? = nil) throws -> CaptureFileReader {
    var writer = PcapWriter(linkType: .ethernet, nanosecondTimestamps: true)
    for timed in frames { writer.append(timed.frame, timestamp: timed.timestamp) }
    var bytes = writer.bytes
    if let corruptRecord {
        // The record's captured length (its third field) beyond any snapshot length.
        var offset = 24
        for timed in frames[..<corruptRecord] { offset += 16 + timed.frame.count }
        for i in 0..<4 { bytes[offset + 8 + i] = 0xFF }
    }
    return try CaptureFileReader(bytes: bytes, name: "pipeline.pcap")
}

@Suite struct CapturePipelineTests {
    @Test func aFileAndAScriptedSourceWithIdleTicksMakeTheSameFlows() throws {
        let frames = pipelineTraffic()
        let fromFile = runPipeline(try pcapSource(frames))
        #expect(fromFile.pipeline.error == nil)
        #expect(fromFile.statistics.packets == UInt64(frames.count))
        // Several flows end by idle time before the end: the clock matters.
        #expect(fromFile.flows.count > 20)
        #expect(fromFile.ended.filter { $0.endReason == .idle }.count >= 12)

        // The same packets in batches of 3, each batch after an idle step whose clock is just
        // before its first packet: flows idle by then end at the idle step instead of at the
        // packet, and are the same flows.
        let scripted = runPipeline(ScriptedSource(ScriptedSource.batches(frames, size: 3, idleBefore: { $0 - 1 })))
        #expect(scripted.flows == fromFile.flows)
        #expect(scripted.statisticsText == fromFile.statisticsText)
        #expect(scripted.pipeline.inputs.count == 1 && scripted.pipeline.inputs[0].packets == frames.count)
        #expect(String(describing: scripted.pipeline.inputs[0].decode) == String(describing: fromFile.pipeline.inputs[0].decode))
    }

    @Test func idleTicksEndIdleFlowsWithoutAPacket() {
        let frames = conversation.udpExchange(client: Endpoint(client, 50_000), server: Endpoint(server, 53),
                                              at: 10 * second, request: [1], response: [2])
        var steps = ScriptedSource.batches(frames, size: 64)
        steps.append(.idle(30 * second))  // within the UDP timeout: the flow stays
        steps.append(.idle(200 * second))  // past it: the flow ends by idle time
        var source = ScriptedSource(steps)
        let sink = FlowSink()
        var meter = FlowMeter(seed: 1, observer: sink)
        var pipeline = CapturePipeline()
        var endedAfterStep: [Int] = []
        pipeline.run(&source, into: &meter) { _, meter in endedAfterStep.append(Int(meter.statistics.flowsEnded)) }
        #expect(endedAfterStep == [0, 0, 1])
        #expect(sink.flows.count == 1 && sink.flows[0].endReason == .idle)

        // Without the late tick the flow ends with the capture instead.
        let atEnd = runPipeline(ScriptedSource(ScriptedSource.batches(frames, size: 64)))
        #expect(atEnd.flows.count == 1 && atEnd.ended[0].endReason == .captureEnd)
    }

    @Test(arguments: [1, 2, 7, 64, Int.max])
    func anyBatchSizeMakesTheSameFlows(batchPackets: Int) throws {
        let frames = pipelineTraffic()
        let reference = runPipeline(try pcapSource(frames))
        for sourceBatch in [1, 5, 1_000] {
            let result = runPipeline(ScriptedSource(ScriptedSource.batches(frames, size: sourceBatch)), batchPackets: batchPackets)
            #expect(result.flows == reference.flows, "source batches of \(sourceBatch), pipeline slices of \(batchPackets)")
            #expect(result.statisticsText == reference.statisticsText)
        }
        let fromFile = runPipeline(try pcapSource(frames), batchPackets: batchPackets)
        #expect(fromFile.flows == reference.flows)
    }

    @Test func aSourceThatThrowsKeepsWhatWasRead() throws {
        let frames = pipelineTraffic()
        let cut = frames.count / 2
        let error = CaptureFileError.io(path: "scripted", operation: "read", errno: 5, message: "Input/output error")
        // The first half, then the failure, then packets that must never be read.
        var steps = ScriptedSource.batches(Array(frames[..<cut]), size: 4)
        steps.append(.fail(error))
        steps += ScriptedSource.batches(Array(frames[cut...]), size: 4)
        let failed = runPipeline(ScriptedSource(steps))
        let firstHalf = runPipeline(ScriptedSource(ScriptedSource.batches(Array(frames[..<cut]), size: 4)))
        #expect(failed.pipeline.error == error)
        #expect(failed.statistics.packets == UInt64(cut))
        #expect(!failed.flows.isEmpty)
        #expect(failed.flows == firstHalf.flows)  // every flow of the first half, ended at the failure
        #expect(failed.statisticsText == firstHalf.statisticsText)

        // A capture file corrupt at one record: every packet before it is metered.
        let corrupt = runPipeline(try pcapSource(frames, corruptRecord: cut))
        guard case .badRecordLength? = corrupt.pipeline.error else {
            Issue.record("expected a bad record length, got \(String(describing: corrupt.pipeline.error))")
            return
        }
        #expect(corrupt.flows == firstHalf.flows)
        #expect(corrupt.pipeline.inputs.first?.packets == cut)
    }

    @Test func countsGoToTheInputTheyCameFrom() {
        let frames = pipelineTraffic()
        let (head, tail) = (Array(frames[..<10]), Array(frames[10...]))
        var steps = ScriptedSource.batches(head, size: 3, input: 2)
        steps.append(.idle(head[9].timestamp))
        steps += ScriptedSource.batches(tail, size: 8, input: 0)
        let result = runPipeline(ScriptedSource(steps))
        let inputs = result.pipeline.inputs
        #expect(inputs.count == 3)
        #expect(inputs[2].packets == 10 && inputs[2].decode.packets == 10)
        #expect(inputs[0].packets == tail.count && inputs[0].decode.packets == UInt64(tail.count))
        #expect(inputs[1].packets == 0 && inputs[1].decode.packets == 0)
        // What the final end of flows did is no input's.
        #expect(inputs[0].decode.flowsEnded + inputs[2].decode.flowsEnded < result.statistics.flowsEnded)
        #expect(inputs[0].decode.flowsCreated + inputs[2].decode.flowsCreated == result.statistics.flowsCreated)
    }
}
