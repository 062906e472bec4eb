import PacketBuilder
import Testing
@testable import Packets

/// Decodes `frame` with the given link type; the wire length defaults to the captured length.
func decode(_ frame: [UInt8], _ linkType: LinkType = .ethernet, wire: Int? = nil) -> (DecodeStatus, DecodedPacket) {
    var packet = DecodedPacket()
    let status = PacketDecoder.decode(frame.span, linkType: linkType, wireLength: wire ?? frame.count, into: &packet)
    return (status, packet)
}

let clientV4 = IPAddress("10.0.0.5")!
let serverV4 = IPAddress("10.0.0.2")!
let clientV6 = IPAddress("2001:db8::5")!
let serverV6 = IPAddress("2001:db8::2")!

@Suite struct PacketDecoderTests {
    @Test func ethernetIPv4TCPSyn() {
        let frame = Frame.ethernet().ipv4(source: clientV4, destination: serverV4)
            .tcp(sourcePort: 49152, destinationPort: 445, flags: [.syn], sequence: 7, payload: [])
        let (status, p) = decode(frame)
        #expect(status == .ok)
        #expect(p.ipVersion == 4 && p.source == clientV4 && p.destination == serverV4)
        #expect(p.ipProtocol == 6 && p.sourcePort == 49152 && p.destinationPort == 445)
        #expect(p.tcpFlags == .syn && p.tcpSequence == 7 && p.payloadLength == 0)
        #expect(p.outerVLAN == -1 && !p.isFragment)
    }

    @Test func everyLinkTypeReachesTheSameTuple() {
        let links: [(Frame, LinkType)] = [
            (.ethernet(), .ethernet), (.raw, .raw), (.raw, .ipv4), (.raw, .rawBSD12), (.raw, .rawBSD14),
            (.linuxSLL(), .linuxSLL), (.linuxSLL2(), .linuxSLL2), (.null(), .null), (.loop(), .loop),
        ]
        for (link, type) in links {
            let frame = link.ipv4(source: clientV4, destination: serverV4).udp(sourcePort: 5353, destinationPort: 53, payload: [1, 2, 3])
            let (status, p) = decode(frame, type)
            #expect(status == .ok, "link type \(type)")
            #expect(p.source == clientV4 && p.destinationPort == 53 && p.payloadLength == 3, "link type \(type)")
        }
        for (link, type) in [(Frame.raw, LinkType.ipv6), (.raw, .raw), (.null(ipv6Family: 28), .null), (.loop(ipv6Family: 30), .loop), (.null(ipv6Family: 10), .null)] {
            let frame = link.ipv6(source: clientV6, destination: serverV6).udp(sourcePort: 5353, destinationPort: 53)
            let (status, p) = decode(frame, type)
            #expect(status == .ok && p.ipVersion == 6 && p.destination == serverV6, "link type \(type)")
        }
    }

    @Test func stackedVLANTagsAnyDepth() {
        var link = Frame.ethernet().serviceVLAN(100)
        for id in 101...106 { link = link.vlan(UInt16(id)) }
        let frame = link.ipv4(source: clientV4, destination: serverV4).tcp(sourcePort: 1, destinationPort: 2, flags: [.ack])
        let (status, p) = decode(frame)
        #expect(status == .ok && p.outerVLAN == 100 && p.vlanDepth == 7 && p.destinationPort == 2)
        var deep = Frame.ethernet()
        for id in 1...17 { deep = deep.vlan(UInt16(id)) }
        #expect(decode(deep.ipv4(source: clientV4, destination: serverV4).udp(sourcePort: 1, destinationPort: 2)).0 == .vlanTooDeep)
    }

    @Test func ipv4OptionsAndFragments() {
        let layer = Frame.ethernet().ipv4(IPv4Spec(source: clientV4, destination: serverV4, identification: 77,
                                                   dontFragment: false, options: [1, 1, 1, 1, 1, 1, 1, 0]))
        let (status, p) = decode(layer.udp(sourcePort: 1000, destinationPort: 2000, payload: [9]))
        #expect(status == .ok && p.sourcePort == 1000 && p.payloadLength == 1)
        let fragments = Frame.ethernet().ipv4(source: clientV4, destination: serverV4, identification: 42, dontFragment: false)
            .fragments(.udp(UDPSpec(sourcePort: 1000, destinationPort: 2000, payload: Array(repeating: 7, count: 100))), fragmentSize: 40)
        #expect(fragments.count == 3)
        let first = decode(fragments[0]).1
        #expect(first.isFragment && first.fragmentOffset == 0 && first.moreFragments && first.destinationPort == 2000 && first.fragmentID == 42)
        let second = decode(fragments[1])
        #expect(second.0 == .ok && second.1.fragmentOffset == 40 && second.1.destinationPort == 0 && second.1.fragmentID == 42)
    }

    @Test func ipv6ExtensionChainIsWalked() {
        let layer = Frame.ethernet().ipv6(source: clientV6, destination: serverV6, extensions: [
            .hopByHop(options: [5, 2, 0, 0]), .routing(type: 4, segmentsLeft: 0, data: [0, 0, 0, 0]),
            .destinationOptions(options: []), .authentication(spi: 9, sequence: 1, icv: [1, 2, 3, 4]),
        ])
        let (status, p) = decode(layer.tcp(sourcePort: 40000, destinationPort: 443, flags: [.syn]))
        #expect(status == .ok && p.ipProtocol == 6 && p.destinationPort == 443)
        let fragmented = Frame.raw.ipv6(source: clientV6, destination: serverV6)
            .fragments(.udp(UDPSpec(sourcePort: 1, destinationPort: 53, payload: Array(repeating: 1, count: 64))), fragmentSize: 32, identification: 0xABCDEF)
        let first = decode(fragmented[0], .raw).1
        #expect(first.isFragment && first.fragmentID == 0xABCDEF && first.destinationPort == 53)
        let later = decode(fragmented[1], .raw)
        #expect(later.0 == .ok && later.1.fragmentOffset == 32 && later.1.ipProtocol == 17)
    }

    @Test func malformedHeadersAreNamed() {
        let good = Frame.raw.ipv4(source: clientV4, destination: serverV4).tcp(sourcePort: 1, destinationPort: 2, flags: [.syn])
        var badIHL = good
        badIHL[0] = 0x44  // IHL 4
        #expect(decode(badIHL, .raw).0 == .ipv4BadIHL)
        var longTotal = good
        longTotal[2] = 0x05  // total length 1280+ beyond the 40-byte frame
        #expect(decode(longTotal, .raw).0 == .ipv4TotalLengthBeyondFrame)
        // The same total length is fine when snaplen cut the frame (the wire length covers it).
        #expect(decode(longTotal, .raw, wire: 2000).0 == .ok)
        var shortTotal = good
        shortTotal[2] = 0; shortTotal[3] = 12
        #expect(decode(shortTotal, .raw).0 == .ipv4BadTotalLength)
        var badOffset = good
        badOffset[20 + 12] = 0x40  // data offset 4
        #expect(decode(badOffset, .raw).0 == .tcpBadDataOffset)
        var beyond = good
        beyond[20 + 12] = 0xF0  // 60-byte header in a 20-byte segment
        #expect(decode(beyond, .raw).0 == .tcpDataOffsetBeyondSegment)
        var version = good
        version[0] = 0x55
        #expect(decode(version, .raw).0 == .badIPVersion)
        // Every truncation yields a named status, never a trap.
        for length in 0..<good.count {
            let (status, _) = decode(Array(good[0..<length]), .raw, wire: good.count)
            #expect(status != .ok, "length \(length)")
        }
        let ext = Frame.raw.ipv6(source: clientV6, destination: serverV6, extensions: [.hopByHop(options: Array(repeating: 0, count: 30))])
            .udp(sourcePort: 1, destinationPort: 2)
        #expect(decode(Array(ext[0..<50]), .raw, wire: ext.count).0 == .truncatedIPv6Extension)
        var lying = ext
        lying[41] = 200  // hop-by-hop length far beyond the payload length
        #expect(decode(lying, .raw).0 == .ipv6ExtensionBeyondPayload)
        #expect(decode([0x08, 0x00], .ethernet).0 == .truncatedLinkHeader)
        #expect(decode(good, LinkType(rawValue: 147)).0 == .unsupportedLinkType)
    }

    @Test func icmpEchoAndErrorsQuoteTheirFlow() {
        let echo = Frame.raw.ipv4(source: clientV4, destination: serverV4).icmpEchoRequest(identifier: 0x4242, sequence: 1)
        let (status, p) = decode(echo, .raw)
        #expect(status == .ok && p.icmpKind == .echoRequest && p.sourcePort == 0x4242 && p.destinationPort == 0x4242)
        let syn = Frame.raw.ipv4(source: clientV4, destination: serverV4).tcp(sourcePort: 40000, destinationPort: 25, flags: [.syn])
        let firewall = IPAddress("10.0.0.1")!
        let error = Frame.raw.ipv4(source: firewall, destination: clientV4).icmpUnreachable(code: 13, quoting: syn)
        let (errorStatus, e) = decode(error, .raw)
        #expect(errorStatus == .ok && e.icmpKind == .error && e.icmpType == 3 && e.icmpCode == 13)
        #expect(e.quotedSource == clientV4 && e.quotedDestination == serverV4 && e.quotedProtocol == 6)
        #expect(e.quotedSourcePort == 40000 && e.quotedDestinationPort == 25)
        // An error quoting only part of an IP header is counted, not trusted.
        #expect(decode(Array(error[0..<(20 + 8 + 12)]), .raw, wire: error.count).0 == .icmpQuotedTruncated)
        let v6syn = Frame.raw.ipv6(source: clientV6, destination: serverV6).tcp(sourcePort: 40001, destinationPort: 22, flags: [.syn])
        let v6error = Frame.raw.ipv6(source: IPAddress("2001:db8::1")!, destination: clientV6).icmpUnreachable(code: 1, quoting: v6syn)
        let (v6status, v6) = decode(v6error, .raw)
        #expect(v6status == .ok && v6.icmpKind == .error && v6.quotedDestination == serverV6 && v6.quotedDestinationPort == 22)
    }

    @Test func otherProtocolsKeyByAddresses() {
        let esp = Frame.raw.ipv4(source: clientV4, destination: serverV4).esp(spi: 1, sequence: 1, payload: [1, 2, 3])
        let (status, p) = decode(esp, .raw)
        #expect(status == .ok && p.ipProtocol == 50 && p.sourcePort == 0 && p.destinationPort == 0)
    }

    @Test func nonIPFramesAreNotErrors() {
        var arp = Frame.ethernet().wrap(Array(repeating: 0, count: 28), etherType: 0x0806)
        #expect(decode(arp).0 == .notIP)
        arp = Frame.ethernet().wrap(Array(repeating: 0, count: 28), etherType: 0x0026)  // 802.3 length
        #expect(decode(arp).0 == .notIP)
    }
}
