import Flows
import Packets
import Testing

/// A raw-IPv4 TCP segment (link type 228), built byte by byte: 20-byte IPv4 header, 20-byte TCP header.
private func tcpSegment(from source: [UInt8], _ sourcePort: UInt16, to destination: [UInt8], _ destinationPort: UInt16,
                        flags: UInt8, sequence: UInt32, acknowledgment: UInt32 = 0) -> [UInt8] {
    var ip: [UInt8] = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0]
    ip += source + destination
    var tcp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF),
                        UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF)]
    for value in [sequence, acknowledgment] {
        tcp += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    tcp += [0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]
    return ip + tcp
}

private let regressionClient: [UInt8] = [192, 168, 0, 4]
private let regressionServer: [UInt8] = [212, 227, 15, 188]
private let syn: UInt8 = 0x02
private let rst: UInt8 = 0x04
private let rstAck: UInt8 = 0x14
private let synAck: UInt8 = 0x12
private let ack: UInt8 = 0x10
private let finAck: UInt8 = 0x11

/// Runs `frames` (timestamps in milliseconds) through a meter and returns the flows as they ended.
private func meter(_ frames: [(Int64, [UInt8])]) -> [Flow] {
    let ended = FlowCollector()
    var meter = FlowMeter(seed: 1, observer: ended)
    for (milliseconds, frame) in frames {
        let record = CapturedPacket(timestamp: milliseconds * 1_000_000, capturedLength: frame.count,
                                    originalLength: frame.count, linkType: .ipv4, dataOffset: 0, fileOffset: 0)
        meter.processPacket(record, frame.span)
    }
    meter.finish()
    return ended.flows
}

@Test func synRetriedWithSameISNAfterRefusalIsOneRejectedFlow() {
    // A refused connect retried twice with the same ISN (as Windows does) is one attempt.
    var frames: [(Int64, [UInt8])] = []
    for attempt in 0..<3 {
        let t = Int64(attempt) * 500
        frames.append((t, tcpSegment(from: regressionClient, 26242, to: regressionServer, 110, flags: syn, sequence: 3_145_310_914)))
        frames.append((t + 50, tcpSegment(from: regressionServer, 110, to: regressionClient, 26242, flags: rstAck, sequence: 0,
                                          acknowledgment: 3_145_310_915)))
    }
    let flows = meter(frames)
    #expect(flows.count == 1)
    #expect(flows.first?.state == .rejected)
    #expect(flows.first?.initiatorPackets == 3)
    #expect(flows.first?.responderPackets == 3)
}

@Test func synRetriedAfterStaleAckAndResetContinuesTheAttempt() {
    // The SYN draws a stale ACK, the regressionClient resets it and retransmits the same SYN, which is then
    // answered; the connection runs and closes: one closed flow.
    let isn: UInt32 = 561_364_818
    let flows = meter([
        (0, tcpSegment(from: regressionClient, 59621, to: regressionServer, 443, flags: syn, sequence: isn)),
        (18, tcpSegment(from: regressionServer, 443, to: regressionClient, 59621, flags: ack, sequence: 1_272_121_215,
                        acknowledgment: 3_058_576_675)),
        (19, tcpSegment(from: regressionClient, 59621, to: regressionServer, 443, flags: rst, sequence: 3_058_576_675)),
        (3061, tcpSegment(from: regressionClient, 59621, to: regressionServer, 443, flags: syn, sequence: isn)),
        (3079, tcpSegment(from: regressionServer, 443, to: regressionClient, 59621, flags: synAck, sequence: 1000, acknowledgment: isn + 1)),
        (3080, tcpSegment(from: regressionClient, 59621, to: regressionServer, 443, flags: ack, sequence: isn + 1, acknowledgment: 1001)),
        (4000, tcpSegment(from: regressionClient, 59621, to: regressionServer, 443, flags: finAck, sequence: isn + 1, acknowledgment: 1001)),
        (4001, tcpSegment(from: regressionServer, 443, to: regressionClient, 59621, flags: finAck, sequence: 1001, acknowledgment: isn + 2)),
    ])
    #expect(flows.count == 1)
    #expect(flows.first?.state == .closed)
    #expect(flows.first?.endReason == .fin)
}

@Test func synWithNewISNAfterRefusalIsANewFlow() {
    let flows = meter([
        (0, tcpSegment(from: regressionClient, 26242, to: regressionServer, 110, flags: syn, sequence: 100)),
        (50, tcpSegment(from: regressionServer, 110, to: regressionClient, 26242, flags: rstAck, sequence: 0, acknowledgment: 101)),
        (500, tcpSegment(from: regressionClient, 26242, to: regressionServer, 110, flags: syn, sequence: 9_000)),
        (550, tcpSegment(from: regressionServer, 110, to: regressionClient, 26242, flags: rstAck, sequence: 0, acknowledgment: 9_001)),
    ])
    #expect(flows.count == 2)
    #expect(flows.allSatisfy { $0.state == .rejected })
    #expect(flows.allSatisfy { $0.endReason == .rst || $0.endReason == .reused })
}
