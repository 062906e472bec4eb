import Testing
import Packets
import PacketBuilder

/// Checks the transport checksum of a bare IP packet with the test's own sums.
func transportChecksumIsValid(_ packet: [UInt8]) -> Bool {
    if packet[0] >> 4 == 4 {
        let headerLength = Int(packet[0] & 0x0F) * 4
        let proto = packet[9]
        let body = packet[headerLength...]
        if proto == 1 { return onesComplementSum(body) == 0xFFFF }
        let pseudo = pseudoHeader(source: Array(packet[12..<16]), destination: Array(packet[16..<20]), protocol: proto, length: body.count)
        return onesComplementSum(body, initial: pseudo) == 0xFFFF
    }
    // IPv6: walk the extension chain to the transport.
    var next = packet[6]
    var offset = 40
    while [0, 43, 44, 60, 51].contains(next) {
        let length = next == 44 ? 8 : next == 51 ? (Int(packet[offset + 1]) + 2) * 4 : (Int(packet[offset + 1]) + 1) * 8
        next = packet[offset]
        offset += length
    }
    let body = packet[offset...]
    let pseudo = pseudoHeader(source: Array(packet[8..<24]), destination: Array(packet[24..<40]), protocol: next, length: body.count)
    return onesComplementSum(body, initial: pseudo) == 0xFFFF
}

@Suite struct TransportTests {
    let v4 = Frame.raw.ipv4(source: "192.0.2.10", destination: "198.51.100.20")
    let v6 = Frame.raw.ipv6(source: "2001:db8::10", destination: "2001:db8:1::20")

    @Test func tcpFieldsAtFixedOffsets() {
        let packet = v4.tcp(sourcePort: 40000, destinationPort: 443, flags: [.syn, .ece, .cwr], sequence: 0xDEAD_BEEF,
                            acknowledgment: 0x0102_0304, window: 1024, options: [2, 4, 5, 0xB4, 1], payload: [])
        let tcp = Array(packet[20...])
        #expect(be16(tcp, 0) == 40000)
        #expect(be16(tcp, 2) == 443)
        #expect(be32(tcp, 4) == 0xDEAD_BEEF)
        #expect(be32(tcp, 8) == 0x0102_0304)
        #expect(tcp[12] == 0x70)                        // data offset 7: 5 option bytes padded to 8
        #expect(tcp[13] == 0xC2)                        // CWR | ECE | SYN
        #expect(be16(tcp, 14) == 1024)
        #expect(Array(tcp[20..<28]) == [2, 4, 5, 0xB4, 1, 0, 0, 0])
        #expect(tcp.count == 28)
        #expect(transportChecksumIsValid(packet))
    }

    @Test(arguments: [TCPSpec.Flags.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr, [.fin, .psh, .urg]])
    func tcpFlagBits(flags: TCPSpec.Flags) {
        let packet = v4.tcp(sourcePort: 1, destinationPort: 2, flags: flags)
        #expect(UInt16(packet[33]) == flags.rawValue)
    }

    @Test func tcpNSFlagIsTheLowBitOfTheOffsetByte() {
        let packet = v4.tcp(sourcePort: 1, destinationPort: 2, flags: [.ns, .ack])
        #expect(packet[32] == 0x51)
        #expect(packet[33] == 0x10)
        #expect(transportChecksumIsValid(packet))
    }

    @Test func tcpChecksumOverIPv4AndIPv6PseudoHeaders() {
        let payload = Array("GET / HTTP/1.1\r\n\r\n".utf8) + [0xFF]            // odd length
        #expect(transportChecksumIsValid(v4.tcp(sourcePort: 1234, destinationPort: 80, flags: [.psh, .ack], payload: payload)))
        #expect(transportChecksumIsValid(v6.tcp(sourcePort: 1234, destinationPort: 80, flags: [.psh, .ack], payload: payload)))
        let withChain = Frame.raw.ipv6(source: "2001:db8::10", destination: "2001:db8:1::20",
                                       extensions: [.hopByHop(options: []), .destinationOptions(options: [])])
        #expect(transportChecksumIsValid(withChain.tcp(sourcePort: 1, destinationPort: 2, payload: payload)))
    }

    @Test func tcpOverridesForMalformedSegments() {
        let spec = TCPSpec(sourcePort: 1, destinationPort: 2, dataOffsetOverride: 4, checksumOverride: 0xBAD0)
        let packet = v4.packet(.tcp(spec))
        #expect(packet[32] >> 4 == 4)
        #expect(be16(packet, 36) == 0xBAD0)
    }

    @Test func udpChecksumAndLength() {
        let packet = v4.udp(sourcePort: 53, destinationPort: 33000, payload: [1, 2, 3])
        #expect(be16(packet, 20) == 53)
        #expect(be16(packet, 22) == 33000)
        #expect(be16(packet, 24) == 11)
        #expect(transportChecksumIsValid(packet))
        #expect(transportChecksumIsValid(v6.udp(sourcePort: 53, destinationPort: 33000, payload: [1, 2, 3])))
        #expect(be16(v4.udp(sourcePort: 1, destinationPort: 2, payload: [1], zeroChecksum: true), 26) == 0)
    }

    @Test func udpComputedZeroIsSentAsAllOnes() {
        // Choose the payload word so that the datagram's sum is 0xffff: its checksum computes
        // to 0, which UDP must send as 0xffff (RFC 768).
        var payload: [UInt8] = [0, 0]
        let base = v4.udp(sourcePort: 1, destinationPort: 2, payload: payload)
        let pseudo = pseudoHeader(source: [192, 0, 2, 10], destination: [198, 51, 100, 20], protocol: 17, length: 10)
        var header = Array(base[20..<28]); header[6] = 0; header[7] = 0
        let partial = onesComplementSum(header[...], initial: pseudo)
        let word = 0xFFFF - partial
        payload = [UInt8(word >> 8), UInt8(word & 0xFF)]
        let packet = v4.udp(sourcePort: 1, destinationPort: 2, payload: payload)
        #expect(be16(packet, 26) == 0xFFFF)
        #expect(transportChecksumIsValid(packet))
    }

    @Test func icmpEchoRequestAndReply() {
        let request = v4.icmpEchoRequest(identifier: 0x1234, sequence: 7, payload: [0xAB, 0xCD, 0xEF])
        #expect(request[9] == 1)
        #expect(Array(request[20..<22]) == [8, 0])
        #expect(be16(request, 24) == 0x1234)
        #expect(be16(request, 26) == 7)
        #expect(onesComplementSum(request[20...]) == 0xFFFF)
        let reply = v4.icmpEchoReply(identifier: 0x1234, sequence: 7)
        #expect(reply[20] == 0)
        #expect(onesComplementSum(reply[20...]) == 0xFFFF)
    }

    @Test func icmpv6EchoUsesPseudoHeaderChecksum() {
        let request = v6.icmpEchoRequest(identifier: 9, sequence: 1, payload: [1, 2, 3, 4, 5])
        #expect(request[6] == 58)
        #expect(request[40] == 128)
        #expect(transportChecksumIsValid(request))
        let reply = v6.icmpEchoReply(identifier: 9, sequence: 1)
        #expect(reply[40] == 129)
        #expect(transportChecksumIsValid(reply))
    }

    @Test func icmpUnreachableQuotesHeaderAndEightBytes() {
        let inner = Frame.raw.ipv4(source: "10.0.0.5", destination: "203.0.113.9", options: [1, 1, 1, 1])
            .tcp(sourcePort: 50000, destinationPort: 8443, flags: .syn, sequence: 42, options: [2, 4, 5, 0xB4])
        let error = Frame.raw.ipv4(source: "10.0.0.254", destination: "10.0.0.5").icmpUnreachable(code: 13, quoting: inner)
        #expect(Array(error[20..<22]) == [3, 13])
        #expect(be32(error, 24) == 0)
        #expect(Array(error[28...]) == Array(inner[0..<32]))     // 24-byte header + 8 bytes of TCP
        #expect(onesComplementSum(error[20...]) == 0xFFFF)
        let exceeded = Frame.raw.ipv4(source: "10.0.0.254", destination: "10.0.0.5").icmpTimeExceeded(quoting: inner)
        #expect(Array(exceeded[20..<22]) == [11, 0])
        #expect(exceeded.count == 28 + 32)
    }

    @Test func icmpv6UnreachableQuotesThePacket() {
        let inner = v6.bare.udp(sourcePort: 5353, destinationPort: 53, payload: [1, 2, 3])
        let error = Frame.raw.ipv6(source: "2001:db8::fe", destination: "2001:db8::10").icmpUnreachable(code: 1, quoting: inner)
        #expect(Array(error[40..<42]) == [1, 1])
        #expect(Array(error[48...]) == inner)
        #expect(transportChecksumIsValid(error))
        #expect(ICMPSpec.quotation(of: Array(repeating: 0x60, count: 2000)).count == 1232)
    }

    @Test func otherProtocols() {
        let esp = v4.esp(spi: 0x1000, sequence: 1, payload: [9, 9])
        #expect(esp[9] == 50)
        #expect(Array(esp[20...]) == [0, 0, 0x10, 0, 0, 0, 0, 1, 9, 9])
        let gre = v6.gre(protocolType: 0x0800, payload: [0x45])
        #expect(gre[6] == 47)
        #expect(Array(gre[40...]) == [0, 0, 0x08, 0x00, 0x45])
    }
}
