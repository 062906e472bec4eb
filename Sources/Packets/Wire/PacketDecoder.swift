/// Decodes link, IP and transport headers of one frame into a reused ``DecodedPacket``.
///
/// Each header is checked once against the captured bytes and against the lengths the outer
/// headers announce, then read at fixed offsets; `Span` keeps every read bounds checked in
/// release builds too, so a hostile frame can make a decode fail but never read out of bounds.
/// Nothing allocates. The header layouts are named in the `*Field` enums next to each decoder.
public enum PacketDecoder {
    /// Stacked VLAN tags accepted before the frame is counted as ``DecodeStatus/vlanTooDeep``.
    public static let maximumVLANDepth = 16

    /// Decodes `frame` (the captured bytes) of a packet with link type `linkType` whose length on
    /// the wire was `wireLength`.
    /// - Returns: `.ok` when `packet` holds IP addresses and, unless a non-first fragment, the
    ///   transport header; otherwise the reason the packet carries no flow information.
    @inlinable
    public static func decode(_ frame: Span<UInt8>, linkType: LinkType, wireLength: Int,
                              into packet: inout DecodedPacket) -> DecodeStatus {
        packet.reset()
        // A record whose captured length exceeds its original length (seen in the wild) is
        // trusted for the bytes it has.
        let wire = max(wireLength, frame.count)
        switch linkType.rawValue {
        case 1:
            guard frame.count >= 14 else { return .truncatedLinkHeader }
            return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: 12), at: 14, wire: wire, into: &packet)
        case 113:  // Linux cooked v1: protocol at 14, header 16 bytes.
            guard frame.count >= 16 else { return .truncatedLinkHeader }
            return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: 14), at: 16, wire: wire, into: &packet)
        case 276:  // Linux cooked v2: protocol at 0, header 20 bytes.
            guard frame.count >= 20 else { return .truncatedLinkHeader }
            return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: 0), at: 20, wire: wire, into: &packet)
        case 101, 12, 14:
            return decodeIP(frame, at: 0, wire: wire, into: &packet)
        case 228:
            return decodeIPv4(frame, at: 0, wire: wire, into: &packet)
        case 229:
            return decodeIPv6(frame, at: 0, wire: wire, into: &packet)
        case 0, 108:
            guard frame.count >= 4 else { return .truncatedLinkHeader }
            // Some BSD loopback and tunnel captures carry a Cisco HDLC header (address 0F or 8F,
            // control 00, then an EtherType) where the family should be, as Wireshark accepts.
            let hdlc = frame.bigEndianUInt16(at: 0)
            if linkType.rawValue == 0 && (hdlc == 0x0F00 || hdlc == 0x8F00) {
                return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: 2), at: 4, wire: wire, into: &packet)
            }
            var family = frame.bigEndianUInt32(at: 0)
            // NULL is in the capturing host's byte order: a value with its low half zero was
            // written little-endian (families are small numbers).
            if linkType.rawValue == 0 && family & 0xFFFF_0000 != 0 { family = family.byteSwapped }
            switch family {
            case 2: return decodeIPv4(frame, at: 4, wire: wire, into: &packet)
            case 10, 24, 28, 30: return decodeIPv6(frame, at: 4, wire: wire, into: &packet)
            default: return .unknownLoopbackFamily
            }
        case 9:
            return decodePPP(frame, wire: wire, hdlc: false, into: &packet)
        case 50:
            return decodePPP(frame, wire: wire, hdlc: true, into: &packet)
        case 104:
            return decodeCiscoHDLC(frame, wire: wire, into: &packet)
        case 105:
            return decodeIEEE80211(frame, at: 0, wire: wire, into: &packet)
        case 127:
            return decodeRadiotap(frame, wire: wire, into: &packet)
        case 192:
            return decodePPI(frame, wire: wire, into: &packet)
        case 239:
            return decodeNFLOG(frame, wire: wire, into: &packet)
        default:
            return .unsupportedLinkType
        }
    }

    /// Follows an EtherType chain (VLAN tags, E-Tags, 802.3 LLC/SNAP, PPPoE, MPLS) from `offset` to
    /// the IP header.
    @inlinable
    static func decodeEtherType(_ frame: Span<UInt8>, etherType first: UInt16, at start: Int, wire: Int,
                                into packet: inout DecodedPacket) -> DecodeStatus {
        var etherType = first
        var offset = start
        while true {
            switch etherType {
            case 0x0800:
                return decodeIPv4(frame, at: offset, wire: wire, into: &packet)
            case 0x86DD:
                return decodeIPv6(frame, at: offset, wire: wire, into: &packet)
            case 0x8100, 0x88A8, 0x9100:
                // 802.1Q / 802.1ad tag: TCI (2) then the next EtherType (2).
                guard frame.count - offset >= 4 else { return .truncatedVLANTag }
                guard Int(packet.vlanDepth) < maximumVLANDepth else { return .vlanTooDeep }
                if packet.vlanDepth == 0 { packet.outerVLAN = Int32(frame.bigEndianUInt16(at: offset) & 0x0FFF) }
                packet.vlanDepth &+= 1  // bounded by maximumVLANDepth above
                etherType = frame.bigEndianUInt16(at: offset + 2)
                offset += 4
            case 0x8864:
                // PPPoE session (RFC 2516): 6-byte header, then a 2-byte PPP protocol.
                guard frame.count - offset >= 8 else { return .truncatedPPPoE }
                let ppp = frame.bigEndianUInt16(at: offset + 6)
                offset += 8
                switch ppp {
                case 0x0021: return decodeIPv4(frame, at: offset, wire: wire, into: &packet)
                case 0x0057: return decodeIPv6(frame, at: offset, wire: wire, into: &packet)
                default:
                    packet.etherType = 0x8864
                    return .notIP
                }
            case 0x8847, 0x8848:
                // MPLS (RFC 3032): 4-byte entries until bottom of stack; the payload's version
                // nibble tells IPv4 from IPv6 (anything else, e.g. pseudowires, is not IP here).
                var entries = 0
                while true {
                    guard frame.count - offset >= 4 else { return .truncatedMPLS }
                    let bottom = frame[offset + 2] & 0x01 != 0
                    offset += 4
                    entries += 1
                    if bottom { break }
                    if entries >= 16 { return .truncatedMPLS }
                }
                guard frame.count - offset >= 1 else { return .truncatedMPLS }
                switch frame[offset] >> 4 {
                case 4: return decodeIPv4(frame, at: offset, wire: wire, into: &packet)
                case 6: return decodeIPv6(frame, at: offset, wire: wire, into: &packet)
                case 0:
                    // A pseudowire control word (RFC 4385 3: first nibble 0) before an Ethernet
                    // pseudowire's frame (RFC 4448 4.4): believed when the frame's EtherType is
                    // one flowaudit follows.
                    guard frame.count - offset >= 18 else { return .truncatedMPLS }
                    let inner = frame.bigEndianUInt16(at: offset + 16)
                    switch inner {
                    case 0x0800, 0x86DD, 0x8100, 0x88A8, 0x8847, 0x8848, 0x8864:
                        etherType = inner
                        offset += 18
                    default:
                        packet.etherType = 0x8847
                        return .notIP
                    }
                default:
                    packet.etherType = 0x8847
                    return .notIP
                }
            case 0x893F:
                // 802.1BR E-Tag: 6 bytes (E-PCP/E-DEI, ingress and E-CID fields), then the next EtherType.
                guard frame.count - offset >= 8 else { return .truncatedLinkHeader }
                etherType = frame.bigEndianUInt16(at: offset + 6)
                offset += 8
            case 0...1500:
                // An 802.3 length field: an LLC header follows. IP rides on it in a SNAP header
                // (RFC 1042): DSAP AA, SSAP AA, control 03, OUI 00-00-00, then the EtherType.
                guard frame.count - offset >= 8 else { return .truncatedLinkHeader }
                guard frame.bigEndianUInt32(at: offset) == 0xAAAA_0300, frame[offset + 4] == 0, frame[offset + 5] == 0 else {
                    packet.etherType = 0
                    return .notIP
                }
                etherType = frame.bigEndianUInt16(at: offset + 6)
                offset += 8
            default:
                packet.etherType = etherType
                return .notIP
            }
        }
    }

    /// Raw IP: the version nibble chooses the decoder.
    @inlinable
    static func decodeIP(_ frame: Span<UInt8>, at offset: Int, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count - offset >= 1 else { return .truncatedIPv4 }
        switch frame[offset] >> 4 {
        case 4: return decodeIPv4(frame, at: offset, wire: wire, into: &packet)
        case 6: return decodeIPv6(frame, at: offset, wire: wire, into: &packet)
        default: return .badIPVersion
        }
    }
}
