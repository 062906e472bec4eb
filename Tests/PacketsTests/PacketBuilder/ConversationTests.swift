import Testing
import Packets
import PacketBuilder

/// The fields of a raw-IPv4 or raw-IPv6 TCP frame, read at fixed offsets.
struct TCPView {
    var source: [UInt8], destination: [UInt8]
    var sourcePort: UInt16, destinationPort: UInt16
    var sequence: UInt32, acknowledgment: UInt32
    var flags: UInt8
    var payloadLength: Int

    init(_ packet: [UInt8]) {
        let v4 = packet[0] >> 4 == 4
        let ipLength = v4 ? Int(packet[0] & 0x0F) * 4 : 40
        source = v4 ? Array(packet[12..<16]) : Array(packet[8..<24])
        destination = v4 ? Array(packet[16..<20]) : Array(packet[24..<40])
        let tcp = Array(packet[ipLength...])
        sourcePort = be16(tcp, 0)
        destinationPort = be16(tcp, 2)
        sequence = be32(tcp, 4)
        acknowledgment = be32(tcp, 8)
        flags = tcp[13]
        payloadLength = tcp.count - Int(tcp[12] >> 4) * 4
    }

    var syn: Bool { flags & 0x02 != 0 }
    var fin: Bool { flags & 0x01 != 0 }
    var ack: Bool { flags & 0x10 != 0 }
    var rst: Bool { flags & 0x04 != 0 }
}

/// Checks that sequence numbers advance by the bytes (and SYN/FIN) each side sent and that
/// every ACK acknowledges exactly what the other side has sent so far.
func sequenceNumbersAreConsistent(_ frames: [TimedFrame], clientPort: UInt16) -> Bool {
    var next: [Bool: UInt32] = [:]      // keyed by "from client"
    for frame in frames {
        let tcp = TCPView(frame.frame)
        let fromClient = tcp.sourcePort == clientPort
        if let expected = next[fromClient], expected != tcp.sequence { return false }
        if tcp.ack, let other = next[!fromClient], other != tcp.acknowledgment { return false }
        var advance = UInt32(tcp.payloadLength)
        if tcp.syn || tcp.fin { advance += 1 }
        next[fromClient] = tcp.sequence &+ advance
    }
    return true
}

@Suite struct ConversationTests {
    let raw = Conversation(link: .raw, interval: 2_000_000)
    let client = Endpoint("10.0.0.5", 51000)
    let server = Endpoint("192.0.2.80", 443)
    let start: Int64 = 1_700_000_000_000_000_000

    @Test func tcpSessionHandshakeDataAndFin() {
        let frames = raw.tcpSession(client: client, server: server, at: start, clientData: [[1, 2, 3], [4]],
                                    serverData: [Conversation.filler(count: 100), [5, 6]], clientISN: 0xFFFF_FFF0)
        #expect(frames.count == 11)
        let views = frames.map { TCPView($0.frame) }
        #expect(views.map(\.flags) == [0x02, 0x12, 0x10, 0x18, 0x18, 0x18, 0x18, 0x10, 0x11, 0x11, 0x10])
        #expect(views.map(\.payloadLength) == [0, 0, 0, 3, 100, 1, 2, 0, 0, 0, 0])
        #expect(views.map { $0.sourcePort == 51000 } == [true, false, true, true, false, true, false, true, true, false, true])
        #expect(views[0].sequence == 0xFFFF_FFF0)
        #expect(views[2].acknowledgment == 5001)
        #expect(sequenceNumbersAreConsistent(frames, clientPort: 51000))
        #expect(frames.allSatisfy { transportChecksumIsValid($0.frame) })
        #expect(frames.map(\.timestamp) == (0..<11).map { start + Int64($0) * 2_000_000 })
    }

    @Test(arguments: [Conversation.Close.clientReset, .serverReset, .none])
    func tcpSessionOtherEndings(close: Conversation.Close) {
        let frames = raw.tcpSession(client: client, server: server, at: start, clientData: [[1]], close: close)
        let last = TCPView(frames.last!.frame)
        switch close {
        case .clientReset: #expect(last.rst && last.sourcePort == 51000)
        case .serverReset: #expect(last.rst && last.sourcePort == 443)
        default: #expect(!last.rst && !last.fin)
        }
        #expect(sequenceNumbersAreConsistent(frames, clientPort: 51000))
    }

    @Test func tcpSessionOverIPv6() {
        let frames = raw.tcpSession(client: Endpoint("2001:db8::5", 40000), server: Endpoint("2001:db8::80", 22),
                                    at: start, clientData: [[1, 2]], serverData: [[3]])
        #expect(frames.allSatisfy { $0.frame[0] >> 4 == 6 && transportChecksumIsValid($0.frame) })
        #expect(sequenceNumbersAreConsistent(frames, clientPort: 40000))
    }

    @Test func unansweredSynBacksOff() {
        let frames = raw.tcpUnanswered(client: client, server: server, at: start, retransmissions: 3)
        #expect(frames.count == 4)
        #expect(frames.map(\.timestamp) == [start, start + 1_000_000_000, start + 3_000_000_000, start + 7_000_000_000])
        #expect(frames.allSatisfy { TCPView($0.frame).flags == 0x02 && TCPView($0.frame).sequence == 1000 })
    }

    @Test func synAnsweredByReset() {
        let frames = raw.tcpRejected(client: client, server: server, at: start)
        #expect(frames.count == 2)
        let reset = TCPView(frames[1].frame)
        #expect(reset.flags == 0x14)
        #expect(reset.acknowledgment == 1001)
        #expect(reset.source == [192, 0, 2, 80] && reset.destinationPort == 51000)
    }

    @Test func synAnsweredByFirewallUnreachable() {
        let frames = raw.tcpUnreachable(client: client, server: server, firewall: ip("10.0.0.1"), at: start)
        #expect(frames.count == 2)
        let icmp = frames[1].frame
        #expect(Array(icmp[12..<20]) == [10, 0, 0, 1, 10, 0, 0, 5])
        #expect(Array(icmp[20..<22]) == [3, 13])
        #expect(Array(icmp[28...]) == Array(frames[0].frame[0..<28]))
        #expect(onesComplementSum(icmp[20...]) == 0xFFFF)

        let v6 = raw.tcpUnreachable(client: Endpoint("2001:db8::5", 40000), server: Endpoint("2001:db8::80", 22),
                                    firewall: ip("2001:db8::1"), at: start)
        #expect(Array(v6[1].frame[40..<42]) == [1, 1])
        #expect(Array(v6[1].frame[48...]) == v6[0].frame)
        #expect(transportChecksumIsValid(v6[1].frame))
    }

    @Test func firewallUnreachableOnEthernetQuotesWithoutLinkHeader() {
        let ethernet = Conversation(link: Frame.ethernet().vlan(10))
        let frames = ethernet.tcpUnreachable(client: client, server: server, firewall: ip("10.0.0.1"), at: start)
        #expect(Array(frames[1].frame[(18 + 28)...]) == Array(frames[0].frame[18..<(18 + 28)]))
    }

    @Test func udpExchangeAndStream() {
        let frames = raw.udpExchange(client: Endpoint("10.0.0.5", 53000), server: Endpoint("10.0.0.53", 53), at: start,
                                     request: [1, 2], response: [3, 4, 5])
        #expect(frames.count == 2)
        #expect(be16(frames[0].frame, 22) == 53 && be16(frames[1].frame, 20) == 53)
        #expect(Array(frames[1].frame[28...]) == [3, 4, 5])
        let stream = raw.udpStream(source: Endpoint("10.0.0.5", 514), destination: Endpoint("10.0.0.9", 514), at: start,
                                   payloads: [[1], [2], [3]])
        #expect(stream.count == 3)
        #expect(stream.allSatisfy { Array($0.frame[12..<16]) == [10, 0, 0, 5] && transportChecksumIsValid($0.frame) })
    }

    @Test func icmpEchoPairs() {
        let frames = raw.icmpEcho(client: ip("10.0.0.5"), server: ip("10.0.0.6"), at: start, identifier: 7, count: 3)
        #expect(frames.count == 6)
        #expect(frames.map { $0.frame[20] } == [8, 0, 8, 0, 8, 0])
        #expect(frames.map { be16($0.frame, 26) } == [1, 1, 2, 2, 3, 3])
        let unanswered = raw.icmpEcho(client: ip("10.0.0.5"), server: ip("10.0.0.6"), at: start, count: 2, answered: false)
        #expect(unanswered.count == 2)
    }

    @Test func midstreamFlowHasNoHandshake() {
        let frames = raw.tcpMidstream(client: client, server: server, at: start, clientData: [[1, 1]], serverData: [[2, 2, 2]])
        #expect(frames.count == 3)
        #expect(frames.allSatisfy { !TCPView($0.frame).syn && TCPView($0.frame).ack })
        #expect(TCPView(frames[0].frame).sequence == 100_000)
        #expect(sequenceNumbersAreConsistent(frames, clientPort: 51000))
    }

    @Test func ipv4IdentificationsCountPerDirection() {
        let frames = raw.tcpSession(client: client, server: server, at: start)
        #expect(frames.map { be16($0.frame, 4) } == [0x1000, 0x2000, 0x1001, 0x1002, 0x2001, 0x1003])
    }

    @Test func ethernetDirectionsSwapMacsAndKeepTags() {
        let link = Frame.ethernet(source: "02:00:00:00:00:0a", destination: "02:00:00:00:00:0b").vlan(42)
        let frames = Conversation(link: link).tcpRejected(client: client, server: server, at: start)
        #expect(Array(frames[0].frame[6..<12]) == [2, 0, 0, 0, 0, 0x0A])
        #expect(Array(frames[1].frame[6..<12]) == [2, 0, 0, 0, 0, 0x0B])
        #expect(frames.allSatisfy { be16($0.frame, 12) == 0x8100 && be16($0.frame, 14) == 42 && be16($0.frame, 16) == 0x0800 })
    }

    @Test func deterministic() {
        let a = raw.tcpSession(client: client, server: server, at: start, clientData: [[1]], serverData: [[2]])
        let b = raw.tcpSession(client: client, server: server, at: start, clientData: [[1]], serverData: [[2]])
        #expect(a == b)
    }

    @Test func mergeInterleavesByTime() {
        let a = [TimedFrame(timestamp: 10, frame: [1]), TimedFrame(timestamp: 30, frame: [2])]
        let b = [TimedFrame(timestamp: 10, frame: [3]), TimedFrame(timestamp: 20, frame: [4])]
        #expect(TimedFrame.merge([a, b]).map(\.frame) == [[1], [3], [4], [2]])
    }
}
