import PacketBuilder
import Testing
@testable import Packets

// Link types from the tcpdump.org LINKTYPE_ registry beyond Ethernet: each reaches the same
// IP tuple as the packet on raw IP, or names why its frame carries none.

private let tcpPacket = Frame.raw.ipv4(source: clientV4, destination: serverV4)
    .tcp(sourcePort: 49152, destinationPort: 443, flags: [.syn], sequence: 1)
private let udp6Packet = Frame.raw.ipv6(source: clientV6, destination: serverV6)
    .udp(sourcePort: 5353, destinationPort: 53, payload: [1, 2, 3])

private func expectTCPTuple(_ result: (DecodeStatus, DecodedPacket), sourceLocation: SourceLocation = #_sourceLocation) {
    let (status, p) = result
    #expect(status == .ok, sourceLocation: sourceLocation)
    #expect(p.source == clientV4 && p.destination == serverV4 && p.ipProtocol == 6, sourceLocation: sourceLocation)
    #expect(p.sourcePort == 49152 && p.destinationPort == 443, sourceLocation: sourceLocation)
}

@Suite struct LinkTypeDecodingTests {
    @Test func pppWithAndWithoutHDLCFraming() {
        // RFC 1662 3.1: FF 03 then the protocol; RFC 1661 6.5: the protocol may be one byte.
        expectTCPTuple(decode(LinkHeaders.ppp(tcpPacket), LinkType(rawValue: 9)))
        expectTCPTuple(decode(LinkHeaders.ppp(tcpPacket, hdlcFraming: false), LinkType(rawValue: 9)))
        expectTCPTuple(decode(LinkHeaders.ppp(tcpPacket, compressedProtocol: true), LinkType(rawValue: 9)))
        let (status, p) = decode(LinkHeaders.ppp(udp6Packet, ipv6: true), LinkType(rawValue: 50))
        #expect(status == .ok && p.ipVersion == 6 && p.destinationPort == 53)
        // LCP (0xC021) is link control, not IP.
        #expect(decode([0xFF, 0x03, 0xC0, 0x21, 1, 1, 0, 4], LinkType(rawValue: 9)).0 == .notIP)
    }

    @Test func pppHDLCAlsoCarriesCiscoHDLC() {
        // LINKTYPE_PPP_HDLC: a first byte 0F or 8F is Cisco HDLC (RFC 1547 4.3.1).
        expectTCPTuple(decode(LinkHeaders.ciscoHDLC(tcpPacket), LinkType(rawValue: 50)))
    }

    @Test func ciscoHDLC() {
        expectTCPTuple(decode(LinkHeaders.ciscoHDLC(tcpPacket), LinkType(rawValue: 104)))
        let (status, p) = decode(LinkHeaders.ciscoHDLC(udp6Packet, etherType: 0x86DD), LinkType(rawValue: 104))
        #expect(status == .ok && p.ipVersion == 6)
        // SLARP keepalives (0x8035) carry no IP.
        #expect(decode([0x8F, 0x00, 0x80, 0x35, 0, 0, 0, 2], LinkType(rawValue: 104)).0 == .notIP)
        #expect(decode([0x0F, 0x00], LinkType(rawValue: 104)).0 == .truncatedLinkHeader)
    }

    @Test func nflogPayloadTLV() {
        // The packet is the NFULA_PAYLOAD (9) TLV's value, after other TLVs.
        expectTCPTuple(decode(LinkHeaders.nflog(tcpPacket), LinkType(rawValue: 239)))
        let (status, p) = decode(LinkHeaders.nflog(udp6Packet, ipv6: true), LinkType(rawValue: 239))
        #expect(status == .ok && p.ipVersion == 6 && p.sourcePort == 5353)
        // A TLV that claims more bytes than the frame has is cut short.
        var cut = LinkHeaders.nflog(tcpPacket)
        cut[4] = 0xFF
        cut[5] = 0x7F
        #expect(decode(cut, LinkType(rawValue: 239)).0 == .truncatedLinkHeader)
    }

    @Test func ieee80211DataFramesReachIP() {
        // Data frames via LLC/SNAP; QoS data has 2 more header bytes, a WDS frame (ToDS and
        // FromDS) a fourth address.
        for (toDS, fromDS, qos) in [(true, false, false), (false, true, true), (true, true, false), (true, true, true)] {
            let frame = LinkHeaders.ieee80211Data(tcpPacket, toDS: toDS, fromDS: fromDS, qos: qos)
            expectTCPTuple(decode(frame, LinkType(rawValue: 105)))
            expectTCPTuple(decode(LinkHeaders.radiotap(frame), LinkType(rawValue: 127)))
            expectTCPTuple(decode(LinkHeaders.ppi(frame), LinkType(rawValue: 192)))
        }
    }

    @Test func ieee80211FramesWithoutIPAreCountedByKind() {
        #expect(decode(LinkHeaders.ieee80211Management(subtype: 8), LinkType(rawValue: 105)).0 == .wirelessManagement)
        #expect(decode(LinkHeaders.radiotap(LinkHeaders.ieee80211Control(subtype: 13)), LinkType(rawValue: 127)).0 == .wirelessControl)
        #expect(decode(LinkHeaders.ieee80211Data(tcpPacket, protected: true), LinkType(rawValue: 105)).0 == .wirelessProtected)
        // Subtype 4 (Null): no body.
        var null = LinkHeaders.ieee80211Data([], qos: false)
        null[0] = 4 << 4 | 2 << 2
        #expect(decode(null, LinkType(rawValue: 105)).0 == .wirelessNoData)
        // A radiotap header whose length runs past the frame.
        #expect(decode([0, 0, 0xFF, 0, 0, 0, 0, 0], LinkType(rawValue: 127)).0 == .truncatedLinkHeader)
    }

    @Test func unknownLinkTypesAreNamed() {
        #expect(decode([1, 2, 3, 4], LinkType(rawValue: 7)).0 == .unsupportedLinkType)
        #expect(LinkType(rawValue: 7).name == "ARCNET_BSD" && LinkType(rawValue: 129).name == "ARCNET_LINUX")
        #expect(LinkType(rawValue: 239).isSupported && LinkType(rawValue: 239).name == "NFLOG")
        #expect(LinkType(rawValue: 4242).name == "LINKTYPE_4242")
    }

    @Test func sourceRoutesNameTheHiddenDestination() {
        // RFC 791 3.1: LSRR (131), length 11, pointer 4: two route addresses left; the last is
        // the final destination. A pointer past the end means the route is used up.
        let hidden = IPAddress("198.51.100.9")!
        let lsrr: [UInt8] = [131, 11, 4, 192, 0, 2, 1, 198, 51, 100, 9, 1]
        let packet = Frame.raw.ipv4(source: clientV4, destination: serverV4, options: lsrr).tcp(sourcePort: 1, destinationPort: 22, flags: [.syn])
        let (status, p) = decode(packet, .raw)
        #expect(status == .ok && p.sourceRouted && p.sourceRouteDestination == hidden && p.destination == serverV4)
        var used = lsrr
        used[2] = 12
        let done = Frame.raw.ipv4(source: clientV4, destination: serverV4, options: used).tcp(sourcePort: 1, destinationPort: 22, flags: [.syn])
        #expect(decode(done, .raw).1.sourceRouted == false)
        // RFC 2460 4.4: routing header type 0, segments left 1, one address.
        let final6 = IPAddress("2001:db8::99")!
        let routing = Frame.raw.ipv6(source: clientV6, destination: serverV6,
                                     extensions: [.routing(type: 0, segmentsLeft: 1, data: [0, 0, 0, 0] + final6.bytes)])
            .udp(sourcePort: 1, destinationPort: 53)
        let (status6, p6) = decode(routing, .raw)
        #expect(status6 == .ok && p6.sourceRouted && p6.sourceRouteDestination == final6)
    }
}
