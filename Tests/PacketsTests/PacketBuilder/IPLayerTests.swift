import Testing
import Packets
import PacketBuilder

@Suite struct IPLayerTests {
    // The header of a classic example datagram: 192.168.0.1 -> 192.168.0.199, UDP, 115 bytes,
    // DF, TTL 64; its checksum is b861.
    @Test func ipv4KnownHeader() {
        let packet = Frame.raw.ipv4(source: "192.168.0.1", destination: "192.168.0.199").payload(protocol: 17, Array(repeating: 0, count: 95))
        #expect(Array(packet[0..<20]) == [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xB8, 0x61,
                                           0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7])
        #expect(packet.count == 115)
    }

    @Test func ipv4OptionsRaiseIHLAndKeepChecksumValid() {
        let spec = IPv4Spec(source: ip("10.1.2.3"), destination: ip("10.4.5.6"), typeOfService: 0xB8, identification: 0xBEEF, ttl: 1,
                            dontFragment: false, options: [0x94, 0x04, 0x00, 0x00, 0x01])   // router alert + 1 byte
        let packet = Frame.raw.ipv4(spec).payload(protocol: 50, [1, 2, 3, 4])
        #expect(packet[0] == 0x47)                         // IHL 7: 5 options bytes padded to 8
        #expect(Array(packet[20..<28]) == [0x94, 0x04, 0x00, 0x00, 0x01, 0, 0, 0])
        #expect(packet[1] == 0xB8)
        #expect(be16(packet, 2) == 32)
        #expect(be16(packet, 4) == 0xBEEF)
        #expect(be16(packet, 6) == 0)
        #expect(packet[8] == 1)
        #expect(packet[9] == 50)
        #expect(onesComplementSum(packet[0..<28]) == 0xFFFF)
    }

    @Test func ipv4FlagsAndOffsetField() {
        let spec = IPv4Spec(source: ip("10.0.0.1"), destination: ip("10.0.0.2"), dontFragment: false, moreFragments: true, fragmentOffset: 0x1FFF)
        let packet = Frame.raw.ipv4(spec).payload(protocol: 6, [])
        #expect(be16(packet, 6) == 0x3FFF)
        #expect(onesComplementSum(packet[0..<20]) == 0xFFFF)
    }

    @Test func ipv4OverridesAreWrittenAsGiven() {
        let spec = IPv4Spec(source: ip("10.0.0.1"), destination: ip("10.0.0.2"), protocolOverride: 99, headerLengthOverride: 4,
                            totalLengthOverride: 9999, checksumOverride: 0x1234)
        let packet = Frame.raw.ipv4(spec).udp(sourcePort: 1, destinationPort: 2)
        #expect(packet[0] == 0x44)
        #expect(be16(packet, 2) == 9999)
        #expect(packet[9] == 99)
        #expect(be16(packet, 10) == 0x1234)
    }

    @Test func ipv4FragmentsReassembleToTheDatagram() {
        let layer = Frame.ethernet().ipv4(source: "10.0.0.1", destination: "10.0.0.2", identification: 77)
        let udp = TransportSpec.udp(UDPSpec(sourcePort: 5000, destinationPort: 53, payload: (0..<100).map { UInt8($0) }))
        let whole = layer.packet(udp)
        let fragments = layer.fragments(udp, fragmentSize: 45)     // rounded down to 40
        #expect(fragments.count == 3)                              // 108 bytes: 40 + 40 + 28
        var reassembled: [UInt8] = []
        for (index, fragment) in fragments.enumerated() {
            let ip = Array(fragment[14...])
            #expect(be16(ip, 4) == 77)
            let flags = be16(ip, 6)
            #expect(flags & 0x4000 == 0)                           // DF clear
            #expect((flags & 0x2000 != 0) == (index < 2))          // MF on all but the last
            #expect(Int(flags & 0x1FFF) * 8 == reassembled.count)
            #expect(Int(be16(ip, 2)) == ip.count)
            #expect(onesComplementSum(ip[0..<20]) == 0xFFFF)
            reassembled += ip[20...]
        }
        #expect(reassembled == Array(whole[34...]))
    }

    @Test func ipv6HeaderFields() {
        let packet = Frame.raw.ipv6(source: "2001:db8::1", destination: "2001:db8::2", flowLabel: 0xABCDE, hopLimit: 3)
            .payload(protocol: 59, [1, 2, 3])
        #expect(be32(packet, 0) == 0x600A_BCDE)
        #expect(be16(packet, 4) == 3)
        #expect(packet[6] == 59)
        #expect(packet[7] == 3)
        #expect(Array(packet[8..<24]) == IPAddress("2001:db8::1")!.bytes)
        #expect(Array(packet[24..<40]) == IPAddress("2001:db8::2")!.bytes)
    }

    @Test func ipv6ExtensionChainInGivenOrder() {
        let chain: [IPv6Spec.Extension] = [
            .hopByHop(options: [0x05, 0x02, 0x00, 0x00]),                             // router alert: 6 + pad -> 8
            .destinationOptions(options: []),                                        // 2 + PadN(6) -> 8
            .routing(type: 4, segmentsLeft: 1, data: Array(repeating: 0, count: 20)), // 24 bytes
            .authentication(spi: 0x100, sequence: 7, icv: Array(repeating: 0xEE, count: 12)), // 24 bytes
            .fragment(offset: 0, moreFragments: false, identification: 0xCAFE),       // 8 bytes
        ]
        let packet = Frame.raw.ipv6(source: "2001:db8::1", destination: "2001:db8::2", extensions: chain)
            .udp(sourcePort: 1, destinationPort: 2)
        #expect(packet[6] == 0)
        var offset = 40
        let expected: [(next: UInt8, length: Int)] = [(60, 8), (43, 8), (51, 24), (44, 24), (17, 8)]
        for (index, step) in expected.enumerated() {
            #expect(packet[offset] == step.next, "header \(index)")
            offset += step.length
        }
        #expect(packet[40 + 1] == 0)                               // hop-by-hop: (8 / 8) - 1
        #expect(Array(packet[46..<48]) == [0x01, 0x00])            // PadN of 2 bytes pads 6 -> 8
        #expect(Array(packet[50..<56]) == [0x01, 0x04, 0, 0, 0, 0]) // PadN of 6 in the empty one
        #expect(packet[56 + 1] == 2)                               // routing: 24 / 8 - 1
        #expect(packet[80 + 1] == 4)                               // AH: 24 / 4 - 2
        #expect(be32(packet, 80 + 4) == 0x100)
        #expect(be32(packet, 104 + 4) == 0xCAFE)
        #expect(Int(be16(packet, 4)) == packet.count - 40)
        #expect(offset == packet.count - 8)
    }

    @Test func ipv6FragmentsCarryAFragmentHeaderAfterTheChain() {
        let layer = Frame.raw.ipv6(source: "2001:db8::1", destination: "2001:db8::2",
                                   extensions: [.destinationOptions(options: [])])
        let icmp = TransportSpec.icmp(.echoRequest(identifier: 1, sequence: 2, payload: Array(repeating: 0x61, count: 100)))
        let whole = layer.packet(icmp)
        let fragments = layer.fragments(icmp, fragmentSize: 64, identification: 0x1234_5678)
        #expect(fragments.count == 2)
        var reassembled: [UInt8] = []
        for (index, fragment) in fragments.enumerated() {
            #expect(fragment[6] == 60)
            #expect(fragment[40] == 44)                            // dest options -> fragment
            #expect(fragment[48] == 58)                            // fragment -> ICMPv6
            let field = be16(fragment, 50)
            #expect(Int(field >> 3) * 8 == reassembled.count)
            #expect((field & 1 == 1) == (index == 0))
            #expect(be32(fragment, 52) == 0x1234_5678)
            #expect(Int(be16(fragment, 4)) == fragment.count - 40)
            reassembled += fragment[56...]
        }
        #expect(reassembled == Array(whole[48...]))
    }

    @Test func ipPicksTheFamilyFromTheAddresses() {
        #expect(Frame.raw.ip(source: "10.0.0.1", destination: "10.0.0.2").isIPv6 == false)
        #expect(Frame.raw.ip(source: "::1", destination: "::2").isIPv6)
    }
}
