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
        var invariants = FlowInvariants()
        var meter = FlowMeter(seed: 1) { flow in invariants.flowEnded(flow) }
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

    @Test func reportAMissingPacketAndAFlowEndingBeforeItStarts() {
        var invariants = FlowInvariants()
        var meter = FlowMeter(seed: 1) { flow in
            var broken = copy flow
            broken.record.lastTimestamp = broken.firstTimestamp - 1
            invariants.flowEnded(broken)
        }
        let frames = conversation.udpExchange(client: Endpoint(client, 1), server: Endpoint(server, 2), at: second, request: [1], response: [2])
        for timed in frames {
            let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                        originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0)
            meter.processPacket(record, timed.frame.span)
        }
        meter.finish()
        let problems = invariants.check(meter.statistics, packetsRead: frames.count + 1)
        #expect(problems.count == 2)
        #expect(problems.contains { $0.contains("before its start") })
        #expect(problems.contains { $0.contains("the reader handed out \(frames.count + 1)") })
    }
}
