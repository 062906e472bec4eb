import PacketBuilder
import Packets
import Testing
@testable import Flows

let client = IPAddress("10.0.0.5")!
let server = IPAddress("10.0.0.2")!
let firewall = IPAddress("10.0.0.1")!

/// Collects the flows a meter hands on, and answers its orientation questions with `hint`.
final class FlowSink: FlowObserver {
    var flows: [Flow] = []
    var hint: ((IPAddress, IPAddress) -> Bool?)?

    init(hint: ((IPAddress, IPAddress) -> Bool?)? = nil) { self.hint = hint }

    func flowEnded(_ flow: borrowing Flow) { flows.append(copy flow) }

    func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
        hint?(a, b)
    }
}

/// Runs timed frames through a meter (Ethernet unless `linkType` says otherwise) and returns the
/// ended flows, in the order they ended.
func meter(_ frames: [TimedFrame], linkType: LinkType = .ethernet, configure: (inout FlowMeter) -> Void = { _ in },
           hint: ((IPAddress, IPAddress) -> Bool?)? = nil) -> (flows: [Flow], statistics: FlowMeterStatistics) {
    let sink = FlowSink(hint: hint)
    var meter = FlowMeter(seed: 1, observer: sink)
    configure(&meter)
    for timed in frames {
        let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                    originalLength: timed.frame.count, linkType: linkType, dataOffset: 0, fileOffset: 0)
        meter.processPacket(record, timed.frame.span)
        meter.expireIdleFlows()
    }
    meter.finish()
    return (sink.flows, meter.statistics)
}

let conversation = Conversation()
let second: Int64 = 1_000_000_000

@Suite struct FlowMeterTests {
    @Test func handshakeAndCloseMakeOneClosedFlow() {
        let frames = conversation.tcpSession(client: Endpoint(client, 40000), server: Endpoint(server, 443), at: 1_000 * second,
                                             clientData: [[1, 2, 3]], serverData: [[4, 5, 6, 7]])
        let (flows, stats) = meter(frames)
        #expect(flows.count == 1)
        let flow = flows[0]
        #expect(flow.initiator == client && flow.initiatorPort == 40000 && flow.responder == server && flow.responderPort == 443)
        #expect(flow.state == .closed && flow.initiatorReason == .syn && flow.endReason == .fin)
        #expect(flow.initiatorPayloadBytes == 3 && flow.responderPayloadBytes == 4)
        #expect(flow.initiatorPackets + flow.responderPackets == UInt64(frames.count))
        #expect(flow.history.hasPrefix("Sh"))
        #expect(stats.flowsCreated == 1 && stats.decoded == UInt64(frames.count))
    }

    @Test func refusedAttemptsHaveTheirStates() {
        let noAnswer = conversation.tcpUnanswered(client: Endpoint(client, 40001), server: Endpoint(server, 25), at: 0)
        let rejected = conversation.tcpRejected(client: Endpoint(client, 40002), server: Endpoint(server, 25), at: second)
        let unreachable = conversation.tcpUnreachable(client: Endpoint(client, 40003), server: Endpoint(server, 25),
                                                      firewall: firewall, at: 2 * second, code: 13)
        let (flows, _) = meter(TimedFrame.merge([noAnswer, rejected, unreachable]))
        let byPort = Dictionary(uniqueKeysWithValues: flows.map { ($0.initiatorPort, $0) })
        #expect(flows.count == 3)
        #expect(byPort[40001]?.state == .attempted && byPort[40001]?.initiatorPackets == 3)
        #expect(byPort[40002]?.state == .rejected && byPort[40002]?.rstSenderIsInitiator == false)
        #expect(byPort[40003]?.state == .unreachable && byPort[40003]?.icmpErrorReporter == firewall)
        #expect(byPort[40003]?.icmpErrorType == 3 && byPort[40003]?.icmpErrorCode == 13)
        #expect(flows.allSatisfy { !$0.isCompleted })
    }

    @Test func midstreamFlowIsOrientedByPort() {
        let frames = conversation.tcpMidstream(client: Endpoint(client, 51000), server: Endpoint(server, 389), at: 0,
                                               clientData: [[1]], serverData: [[2]])
        // Make the server's packet come first: the port heuristic must still find the client.
        let reversed = frames.filter { $0.frame.count > 0 }
        let (flows, _) = meter(reversed)
        #expect(flows.count == 1)
        #expect(flows[0].state == .midstream && flows[0].responderPort == 389)
        #expect(flows[0].initiatorReason == .wellKnownPort || flows[0].initiatorReason == .firstPacket)
        let (hinted, _) = meter(reversed, hint: { a, b in a == server && b == client ? false : (a == client ? true : nil) })
        #expect(hinted[0].initiator == client && hinted[0].initiatorReason == .rule)
    }

    @Test func udpAnsweredUnansweredAndReversed() {
        let exchange = conversation.udpExchange(client: Endpoint(client, 53000), server: Endpoint(server, 53), at: 0, request: [1], response: [2])
        let stream = conversation.udpStream(source: Endpoint(client, 53001), destination: Endpoint(server, 514), at: 0, payloads: [[1], [2]])
        let (flows, _) = meter(TimedFrame.merge([exchange, stream]))
        let byPort = Dictionary(uniqueKeysWithValues: flows.map { ($0.responderPort, $0) })
        #expect(byPort[53]?.state == .answered && byPort[53]?.initiator == client)
        #expect(byPort[514]?.state == .unanswered && byPort[514]?.initiatorPackets == 2)
        // A response seen without its query: the well-known port side is the responder.
        let (replyOnly, _) = meter([exchange[1]])
        #expect(replyOnly[0].initiator == client && replyOnly[0].responderPort == 53 && replyOnly[0].initiatorReason == .wellKnownPort)
    }

    @Test func tupleReuseAfterCloseStartsANewFlow() {
        let first = conversation.tcpSession(client: Endpoint(client, 40000), server: Endpoint(server, 80), at: 0)
        let again = conversation.tcpSession(client: Endpoint(client, 40000), server: Endpoint(server, 80), at: second, clientISN: 99999)
        let (flows, stats) = meter(first + again)
        #expect(flows.count == 2 && stats.flowsCreated == 2)
        #expect(flows.allSatisfy { $0.state == .closed })
    }

    @Test func idleTimeoutSplitsAndBoundsTheTable() {
        var frames: [TimedFrame] = []
        for i in 0..<50 {
            frames += conversation.udpStream(source: Endpoint(client, UInt16(20000 + i)), destination: Endpoint(server, 123),
                                             at: Int64(i) * 120 * second, payloads: [[1]])
        }
        let (flows, stats) = meter(frames)
        #expect(flows.count == 50)
        #expect(stats.peakActiveFlows <= 2)
        #expect(flows.filter { $0.endReason == .idle }.count == 49)
    }

    @Test func aFullTableEndsTheOldestFlowSoMemoryStaysBounded() {
        var frames: [TimedFrame] = []
        for i in 0..<50 {
            frames += conversation.udpStream(source: Endpoint(client, UInt16(20000 + i)), destination: Endpoint(server, 53),
                                             at: Int64(i) * 1000, payloads: [[1]])
        }
        let (flows, stats) = meter(frames) { meter in meter.configuration.maximumFlows = 10 }
        #expect(flows.count == 50)
        #expect(stats.peakActiveFlows == 10)
        #expect(stats.evictedFlows == 40)
        // The oldest went first: the first 40 flows ended early, in creation order.
        #expect(flows.prefix(40).map(\.initiatorPort) == (0..<40).map { UInt16(20000 + $0) })
        #expect(flows.prefix(40).allSatisfy { $0.endReason == .tableFull })
    }

    @Test func fragmentsJoinTheirFlowInAnyOrder() {
        let pieces = Frame.ethernet().ipv4(source: client, destination: server, identification: 9, dontFragment: false)
            .fragments(.udp(UDPSpec(sourcePort: 6000, destinationPort: 7000, payload: Array(repeating: 1, count: 120))), fragmentSize: 48)
        let inOrder = pieces.enumerated().map { TimedFrame(timestamp: Int64($0.offset), frame: $0.element) }
        let (flows, _) = meter(inOrder)
        #expect(flows.count == 1 && flows[0].initiatorPackets == UInt64(pieces.count) && flows[0].responderPort == 7000)
        let reversed = pieces.reversed().enumerated().map { TimedFrame(timestamp: Int64($0.offset), frame: $0.element) }
        let (flows2, _) = meter(reversed)
        #expect(flows2.count == 1 && flows2[0].initiatorPackets == UInt64(pieces.count))
    }

    @Test func echoFlowsAndCommunityIDs() {
        let echo = conversation.icmpEcho(client: client, server: server, at: 0)
        let (flows, _) = meter(echo)
        #expect(flows.count == 1 && flows[0].state == .answered && flows[0].initiator == client)
        #expect(flows[0].icmpType == 8)
    }

    @Test func hostileFramesNeverTrap() {
        let base = conversation.tcpSession(client: Endpoint(client, 1), server: Endpoint(server, 2), at: 0, clientData: [[1, 2, 3]])
        var generator = SeededGenerator(seed: 7)
        var mutated: [TimedFrame] = []
        for round in 0..<400 {
            var frame = base[round % base.count].frame
            for _ in 0..<3 { frame[Int(generator.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            mutated.append(TimedFrame(timestamp: Int64(round), frame: Array(frame.prefix(Int(generator.next() % UInt64(frame.count + 1))))))
        }
        let (_, stats) = meter(mutated)
        #expect(stats.packets == 400)
        #expect(stats.decoded + stats.skipped.reduce(0, +) == 400)
    }
}


/// Where flows end depends on packet time alone, never on how the input was cut into batches.
@Suite struct FlowMeterBatchingTests {
    /// Frames with idle gaps that cross the UDP (60 s) and TCP (300 s) timeouts, several flows
    /// interleaved, plus a flow that stays busy throughout.
    static var frames: [TimedFrame] {
        let dns = Endpoint(server, 53)
        var conversations: [[TimedFrame]] = []
        for (index, start) in [0, 61, 62, 200].enumerated() {
            // The same tuple again after more than the UDP timeout: a new flow each time.
            conversations.append(conversation.udpExchange(client: Endpoint(client, 50000), server: dns, at: Int64(start) * second,
                                                          request: [UInt8(index)], response: [1, 2]))
        }
        conversations.append(conversation.tcpMidstream(client: Endpoint(client, 40000), server: Endpoint(server, 22), at: 0,
                                                       clientData: [[1]], serverData: [[2]]))
        conversations.append(conversation.tcpMidstream(client: Endpoint(client, 40000), server: Endpoint(server, 22), at: 400 * second,
                                                       clientData: [[3]], serverData: [[4]]))
        for t in stride(from: 0, to: 500, by: 7) {
            conversations.append(conversation.udpStream(source: Endpoint(client, 51000), destination: Endpoint(server, 514),
                                                        at: Int64(t) * second, payloads: [[0x3c]]))
        }
        return TimedFrame.merge(conversations)
    }

    static func run(batch: Int) -> [String] {
        let sink = FlowSink()
        var meter = FlowMeter(seed: 7, observer: sink)
        let frames = Self.frames
        var start = 0
        while start < frames.count {
            let slice = frames[start..<min(start + batch, frames.count)]
            var bytes: [UInt8] = []
            var records: [CapturedPacket] = []
            for timed in slice {
                records.append(CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count, originalLength: timed.frame.count,
                                              linkType: .ethernet, dataOffset: bytes.count, fileOffset: 0))
                bytes += timed.frame
            }
            meter.process(records, bytes.span)
            start += batch
        }
        meter.finish()
        return sink.flows.map { "\($0.id) \($0.responderPort) \($0.firstTimestamp / second)-\($0.lastTimestamp / second) \($0.initiatorPackets + $0.responderPackets) \($0.endReason)" }
    }

    @Test func packetByPacketAndWholeBatchesGiveTheSameFlows() {
        let byPacket = Self.run(batch: 1)
        #expect(Self.run(batch: 5) == byPacket)
        #expect(Self.run(batch: 512) == byPacket)
        #expect(Self.run(batch: 100_000) == byPacket)
        // The DNS tuple at 0, 61, 62 and 200 s: back after the UDP timeout at 61 and at 200 s,
        // while 62 s continues the flow of 61 s: three flows.
        #expect(byPacket.filter { $0.contains(" 53 ") }.count == 3)
        // The SSH tuple idle for 400 s (beyond the TCP timeout) is two flows.
        #expect(byPacket.filter { $0.contains(" 22 ") }.count == 2)
        // The syslog stream every 7 s never idles out: one flow.
        #expect(byPacket.filter { $0.contains(" 514 ") }.count == 1)
    }
}
