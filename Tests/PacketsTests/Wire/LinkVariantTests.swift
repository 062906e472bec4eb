import Packets
import Testing

/// An IPv4 TCP SYN from 192.168.1.1:12345 to 192.168.1.2:80 (40 bytes, no options).
private let ipv4TCP: [UInt8] = [
    0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 168, 1, 1, 192, 168, 1, 2,
    0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0,
]
private let macs: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]

private func decode(_ frame: [UInt8], linkType: LinkType) -> (DecodeStatus, DecodedPacket) {
    var packet = DecodedPacket()
    let status = PacketDecoder.decode(frame.span, linkType: linkType, wireLength: frame.count, into: &packet)
    return (status, packet)
}

private func expectSYN(_ result: (DecodeStatus, DecodedPacket)) {
    #expect(result.0 == .ok)
    #expect(result.1.source == IPAddress("192.168.1.1"))
    #expect(result.1.destination == IPAddress("192.168.1.2"))
    #expect(result.1.ipProtocol == IPProtocolNumber.tcp)
    #expect(result.1.sourcePort == 12345)
    #expect(result.1.destinationPort == 80)
    #expect(result.1.tcpFlags == .syn)
}

@Test func ethernet8023WithSNAPCarriesIP() {
    // RFC 1042: an 802.3 length field, LLC AA AA 03, OUI 00-00-00, EtherType 0800.
    let llc: [UInt8] = [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00]
    let frame = macs + [0, UInt8(llc.count + ipv4TCP.count)] + llc + ipv4TCP
    expectSYN(decode(frame, linkType: .ethernet))
}

@Test func ethernet8023WithOtherLLCIsNotIP() {
    // Spanning tree: LLC 42 42 03 is not SNAP.
    let frame = macs + [0, 38, 0x42, 0x42, 0x03, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 30)
    #expect(decode(frame, linkType: .ethernet).0 == .notIP)
}

@Test func ethernet8023WithCutSNAPHeaderIsTruncated() {
    let frame = macs + [0, 8, 0xAA, 0xAA, 0x03, 0]
    #expect(decode(frame, linkType: .ethernet).0 == .truncatedLinkHeader)
}

@Test func eTagBeforeEtherTypeIsSkipped() {
    // 802.1BR: EtherType 893F, 6 bytes of E-TCI, then the inner EtherType.
    let frame = macs + [0x89, 0x3F, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x08, 0x00] + ipv4TCP
    expectSYN(decode(frame, linkType: .ethernet))
}

@Test func eTagCutShortIsTruncated() {
    let frame = macs + [0x89, 0x3F, 0x00, 0x00, 0x10]
    #expect(decode(frame, linkType: .ethernet).0 == .truncatedLinkHeader)
}

@Test func nullLoopbackWithCiscoHDLCHeaderCarriesIP() {
    // Address 0F, control 00, EtherType 0800 in place of the address family.
    expectSYN(decode([0x0F, 0x00, 0x08, 0x00] + ipv4TCP, linkType: .null))
    expectSYN(decode([0x8F, 0x00, 0x08, 0x00] + ipv4TCP, linkType: .null))
}

@Test func nullLoopbackFamiliesInEitherByteOrder() {
    expectSYN(decode([2, 0, 0, 0] + ipv4TCP, linkType: .null))
    expectSYN(decode([0, 0, 0, 2] + ipv4TCP, linkType: .null))
    #expect(decode([7, 0, 0, 0] + ipv4TCP, linkType: .null).0 == .unknownLoopbackFamily)
}
