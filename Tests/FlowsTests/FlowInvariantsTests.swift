import PacketBuilder
import Packets
import Testing
@testable import Flows

@Suite struct FlowInvariantsTests {
    /// Every kind of packet the meter treats differently, including the ones no flow keeps.
    static func mixedFrames() -> [TimedFrame] {
        let t = 1_000 * second
        let fragments = Frame.ethernet().ipv4(source: client, destination: server, identification: 9, dontFragment: false)
            .fragments(.udp(UDPSpec(sourcePort: 6000, destinationPort: 7000, payload: Array(repeating: 1, count: 120))), fragmentSize: 48)
        let orphan = Frame.ethernet().ipv4(source: client, destination: server, identification: 10, dontFragment: false)
            .fragments(.udp(UDPSpec(sourcePort: 6001, destinationPort: 7001, payload: Array(repeating: 1, count: 120))), fragmentSize: 48)
        let quoted = Frame.raw.ipv4(source: client, destination: IPAddress("10.0.0.99")!).tcp(sourcePort: 1, destinationPort: 2, flags: [.syn])
        var frames = TimedFrame.merge([
            conversation.tcpSession(client: Endpoint(client, 40000), server: Endpoint(server, 443), at: t, clientData: [[1, 2, 3]]),
            conversation.tcpUnreachable(client: Endpoint(client, 40001), server: Endpoint(server, 3389), firewall: firewall, at: t + second),
            conversation.udpExchange(client: Endpoint(client, 40002), server: Endpoint(server, 53), at: t + 2 * second,
                                     request: [1, 2, 3], response: [4, 5, 6]),
        ])
        frames += fragments.reversed().enumerated().map { TimedFrame(timestamp: t + 3 * second + Int64($0.offset), frame: $0.element) }
        frames += orphan.dropFirst().map { TimedFrame(timestamp: t + 4 * second, frame: $0) }  // the first fragment never comes
        frames.append(TimedFrame(timestamp: t + 5 * second, frame: Frame.ethernet().ipv4(source: firewall, destination: client)
            .icmpUnreachable(code: 13, quoting: quoted)))  // quotes no flow
        frames.append(TimedFrame(timestamp: t + 6 * second, frame: [0x00, 0x01]))  // too short for Ethernet
        return frames
    }

    @Test func holdForEveryKindOfPacket() {
        let invariants = FlowInvariants()
        var meter = FlowMeter(seed: 1, observer: invariants)
        let frames = Self.mixedFrames()
        for timed in frames {
            let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                        originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0)
            meter.processPacket(record, timed.frame.span)
        }
        meter.finish()
        #expect(invariants.check(meter.statistics, packetsRead: frames.count) == [])
        // Each of the side counts is exercised, so the sum above covers them.
        #expect(meter.statistics.unmatchedFragments > 0)
        #expect(meter.statistics.unmatchedICMPErrors == 1)
        #expect(invariants.attachedICMPErrors == 1)
        #expect(meter.statistics.skippedByReason.count == 1)
    }

    /// Everything the meter hands on about a flow, as one comparable line.
    static func describe(_ flow: borrowing Flow) -> String {
        "\(flow.id) \(flow.initiator):\(flow.initiatorPort)>\(flow.responder):\(flow.responderPort)/\(flow.protocolNumber) "
            + "\(flow.state.name) \(flow.history) \(flow.initiatorPackets)/\(flow.responderPackets) "
            + "\(flow.initiatorBytes)/\(flow.responderBytes) \(flow.firstTimestamp)-\(flow.lastTimestamp) \(flow.endReason.name) "
            + "icmp \(flow.icmpErrors) \(flow.icmpErrorReporter.map { "\($0)" } ?? "-") "
            + "tunnel \(flow.tunnel.map { "\($0.kind) \($0.id ?? 0) \($0.depth)" } ?? "-")"
    }

    @Test func batchesOfAnySizeMeterLikePacketByPacket() {
        // The batch path decodes packets ahead of the one it meters (to prefetch their flows);
        // fragments, ICMP errors, undecodable frames and tunnels must come out as one by one.
        let vxlan = Encapsulation.carry(conversation.tcpSession(client: Endpoint(client, 41000), server: Endpoint(server, 22),
                                                                at: 2_000 * second, clientData: [[1]], serverData: [[2]])) {
            Frame.ethernet().ipv4(source: firewall, destination: server)
                .udp(sourcePort: 49152, destinationPort: 4789, payload: Encapsulation.vxlan(vni: 77, frame: $0))
        }
        let frames = Self.mixedFrames() + vxlan
        func run(batch: Int) -> ([String], [UInt64]) {
            let sink = FlowSink()
            var meter = FlowMeter(seed: 3, observer: sink)
            var start = 0
            while start < frames.count {
                var bytes: [UInt8] = []
                var records: [CapturedPacket] = []
                for timed in frames[start..<min(start + batch, frames.count)] {
                    records.append(CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                                  originalLength: timed.frame.count, linkType: .ethernet,
                                                  dataOffset: bytes.count, fileOffset: 0))
                    bytes += timed.frame
                }
                meter.process(records, bytes.span)
                start += batch
            }
            meter.finish()
            let s = meter.statistics
            return (sink.flows.map(Self.describe), [s.packets, s.decoded, s.unmatchedICMPErrors, s.unmatchedFragments, s.flowsCreated] + s.skipped + s.tunnelledPackets)
        }
        let single = run(batch: 1)
        #expect(single.0.contains { $0.contains("tunnel vxlan 77 1") })
        #expect(single.0.contains { $0.contains("icmp 1 ") })
        for batch in [2, 3, 7, 16, frames.count] {
            let batched = run(batch: batch)
            #expect(batched.0 == single.0, "batch \(batch)")
            #expect(batched.1 == single.1, "batch \(batch)")
        }
    }

    @Test func reportAMissingPacketAndAFlowEndingBeforeItStarts() {
        let invariants = FlowInvariants()
        let sink = FlowSink()
        var meter = FlowMeter(seed: 1, observer: sink)
        let frames = conversation.udpExchange(client: Endpoint(client, 1), server: Endpoint(server, 2), at: second, request: [1], response: [2])
        for timed in frames {
            let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                        originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0)
            meter.processPacket(record, timed.frame.span)
        }
        meter.finish()
        for flow in sink.flows {
            var broken = flow
            broken.record.lastTimestamp = broken.firstTimestamp - 1
            invariants.flowEnded(broken)
        }
        let problems = invariants.check(meter.statistics, packetsRead: frames.count + 1)
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("before its start") })
        #expect(problems.contains { $0.contains("the reader handed out \(frames.count + 1)") })
    }
}
