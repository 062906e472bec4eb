/// Link types beyond Ethernet and the cooked and loopback headers (tcpdump.org LINKTYPE_
/// registry): PPP, Cisco HDLC, NFLOG, IEEE 802.11 and its radiotap and PPI pseudo-headers.
extension PacketDecoder {
    /// LINKTYPE_PPP (9): RFC 1661 PPP, in RFC 1662 HDLC-like framing when it starts FF 03.
    /// LINKTYPE_PPP_HDLC (50): RFC 1662 framing, or Cisco HDLC (RFC 1547 4.3.1) when the first
    /// byte is 0F or 8F.
    @usableFromInline
    static func decodePPP(_ frame: Span<UInt8>, wire: Int, hdlc: Bool, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count >= 2 else { return .truncatedLinkHeader }
        if hdlc && (frame[0] == 0x0F || frame[0] == 0x8F) { return decodeCiscoHDLC(frame, wire: wire, into: &packet) }
        var offset = 0
        if frame[0] == 0xFF && frame[1] == 0x03 { offset = 2 }
        guard let (etherType, next) = pppProtocol(frame, at: offset, end: frame.count) else {
            guard frame.count - offset >= 1 else { return .truncatedLinkHeader }
            packet.etherType = 0x880B  // PPP control protocols (LCP, IPCP, ...): not IP
            return .notIP
        }
        return decodeEtherType(frame, etherType: etherType, at: next, wire: wire, into: &packet)
    }

    /// LINKTYPE_C_HDLC (104): address (0F unicast, 8F broadcast), control 00, then an EtherType.
    @usableFromInline
    static func decodeCiscoHDLC(_ frame: Span<UInt8>, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count >= 4 else { return .truncatedLinkHeader }
        let etherType = frame.bigEndianUInt16(at: 2)
        if etherType == 0x8035 {  // SLARP keepalives: link control, not IP
            packet.etherType = etherType
            return .notIP
        }
        return decodeEtherType(frame, etherType: etherType, at: 4, wire: wire, into: &packet)
    }

    /// LINKTYPE_NFLOG (239): family (1), version (1), resource id (2), then TLVs whose length
    /// (covering the 4-byte TLV header) and type are in the capturing host's byte order, each
    /// padded to 4 bytes. The packet is the value of type 9 (NFULA_PAYLOAD), starting at the IP
    /// header.
    @usableFromInline
    static func decodeNFLOG(_ frame: Span<UInt8>, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count >= 4 else { return .truncatedLinkHeader }
        let family = frame[0]
        var offset = 4
        // Little-endian unless that reading makes no sense for the first TLV.
        var bigEndian = false
        if frame.count - offset >= 4 {
            let little = Int(frame.littleEndianUInt16(at: offset))
            if little < 4 || little > frame.count - offset { bigEndian = true }
        }
        while frame.count - offset >= 4 {
            let length = Int(frame.uint16(at: offset, bigEndian: bigEndian))
            let type = frame.uint16(at: offset + 2, bigEndian: bigEndian) & 0x7FFF
            guard length >= 4, frame.count - offset >= length else { return .truncatedLinkHeader }
            if type == 9 {
                let start = offset + 4
                let packetWire = start + (length - 4)
                switch family {
                case 2: return decodeIPv4(frame, at: start, wire: packetWire, into: &packet)
                case 10: return decodeIPv6(frame, at: start, wire: packetWire, into: &packet)
                default: return decodeIP(frame, at: start, wire: packetWire, into: &packet)
                }
            }
            offset += (length + 3) & ~3
        }
        packet.etherType = 0
        return .notIP
    }

    /// LINKTYPE_IEEE802_11 (105), IEEE 802.11-2020 9.2-9.3: frame control (little-endian), then
    /// for data frames 3 or 4 addresses, sequence control, QoS control (QoS subtypes) and HT
    /// control (QoS with the +HTC/Order flag), then an LLC/SNAP header before the EtherType.
    /// Management and control frames, frames without data and protected (encrypted) frames are
    /// counted by their own reasons.
    @usableFromInline
    static func decodeIEEE80211(_ frame: Span<UInt8>, at start: Int, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard start >= 0, frame.count - start >= 2 else { return .truncatedLinkHeader }
        let control = frame[start]
        let flags = frame[start + 1]
        let type = (control >> 2) & 0x03
        let subtype = control >> 4
        switch type {
        case 0: return .wirelessManagement
        case 1: return .wirelessControl
        case 2: break
        default: return .wirelessManagement  // type 3: extension frames (DMG beacons)
        }
        if subtype & 0x04 != 0 { return .wirelessNoData }  // Null, QoS Null, CF-Ack/Poll without data
        if flags & 0x40 != 0 { return .wirelessProtected }
        var length = 24
        if flags & 0x03 == 0x03 { length += 6 }  // ToDS and FromDS: the fourth address
        if subtype & 0x08 != 0 {
            length += 2  // QoS control
            if flags & 0x80 != 0 { length += 4 }  // HT control
        }
        guard frame.count - start >= length + 8 else { return .truncatedLinkHeader }
        let llc = start + length
        guard frame.bigEndianUInt32(at: llc) == 0xAAAA_0300, frame[llc + 4] == 0, frame[llc + 5] == 0 || frame[llc + 5] == 0xF8 else {
            packet.etherType = 0
            return .notIP
        }
        return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: llc + 6), at: llc + 8, wire: wire, into: &packet)
    }

    /// LINKTYPE_IEEE802_11_RADIOTAP (127): version 0, pad, length (little-endian), then the
    /// 802.11 frame after `length` bytes.
    @usableFromInline
    static func decodeRadiotap(_ frame: Span<UInt8>, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count >= 8 else { return .truncatedLinkHeader }
        guard frame[0] == 0 else { return .truncatedLinkHeader }
        let length = Int(frame.littleEndianUInt16(at: 2))
        guard length >= 8, frame.count >= length else { return .truncatedLinkHeader }
        return decodeIEEE80211(frame, at: length, wire: wire, into: &packet)
    }

    /// LINKTYPE_PPI (192): version 0, flags, header length and the link type of the frame that
    /// follows (both little-endian); 802.11 and Ethernet frames are followed.
    @usableFromInline
    static func decodePPI(_ frame: Span<UInt8>, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard frame.count >= 8, frame[0] == 0 else { return .truncatedLinkHeader }
        let length = Int(frame.littleEndianUInt16(at: 2))
        let linkType = frame.littleEndianUInt32(at: 4)
        guard length >= 8, frame.count >= length else { return .truncatedLinkHeader }
        switch linkType {
        case 105: return decodeIEEE80211(frame, at: length, wire: wire, into: &packet)
        case 1:
            guard frame.count - length >= 14 else { return .truncatedLinkHeader }
            return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: length + 12), at: length + 14, wire: wire, into: &packet)
        default: return .unsupportedLinkType
        }
    }
}
