// Link headers of the capture link types beyond Ethernet: PPP (RFC 1661/1662), Cisco HDLC,
// NFLOG, IEEE 802.11 data and management frames, radiotap and PPI. Each wraps a network packet
// (or an 802.11 frame) into the bytes of one captured frame of that link type.

/// Builders of link headers for the link types `Frame` does not model.
public enum LinkHeaders {
    /// LINKTYPE_PPP (9) / PPP_HDLC (50): address FF and control 03 when `hdlcFraming`, then the
    /// 2-byte PPP protocol (0x0021 IPv4, 0x0057 IPv6), or 1 byte when `compressedProtocol`.
    public static func ppp(_ packet: [UInt8], ipv6: Bool = false, hdlcFraming: Bool = true, compressedProtocol: Bool = false) -> [UInt8] {
        var out: [UInt8] = hdlcFraming ? [0xFF, 0x03] : []
        let proto: UInt16 = ipv6 ? 0x0057 : 0x0021
        if compressedProtocol { out.append(UInt8(proto)) } else { out.appendBigEndian(proto) }
        return out + packet
    }

    /// LINKTYPE_C_HDLC (104): address 0F, control 00, EtherType.
    public static func ciscoHDLC(_ packet: [UInt8], etherType: UInt16 = 0x0800) -> [UInt8] {
        var out: [UInt8] = [0x0F, 0x00]
        out.appendBigEndian(etherType)
        return out + packet
    }

    /// LINKTYPE_NFLOG (239): family (2 IPv4, 10 IPv6), version 0, resource id, then a prefix
    /// TLV (type 10) and the payload TLV (type 9), lengths and types little-endian (the byte
    /// order of the x86 host that wrote them), each padded to 4 bytes.
    public static func nflog(_ packet: [UInt8], ipv6: Bool = false, prefix: String = "audit") -> [UInt8] {
        var out: [UInt8] = [ipv6 ? 10 : 2, 0]
        out.appendBigEndian(UInt16(7))  // resource id (group), network order
        func tlv(_ type: UInt16, _ value: [UInt8]) {
            out.appendLittleEndian(UInt16(4 + value.count))
            out.appendLittleEndian(type)
            out += value
            while out.count % 4 != 0 { out.append(0) }
        }
        tlv(10, Array(prefix.utf8) + [0])
        tlv(9, packet)
        return out
    }

    /// An IEEE 802.11 data frame (IEEE 802.11-2020 9.3.2): frame control (type 2, subtype 0
    /// data or 8 QoS data), duration, three addresses (four when both `toDS` and `fromDS`),
    /// sequence control, QoS control, then LLC/SNAP (AA AA 03 00 00 00) and the EtherType.
    public static func ieee80211Data(_ packet: [UInt8], etherType: UInt16 = 0x0800, toDS: Bool = true, fromDS: Bool = false,
                                     qos: Bool = false, protected: Bool = false) -> [UInt8] {
        let subtype: UInt8 = qos ? 8 : 0
        var flags: UInt8 = (toDS ? 0x01 : 0) | (fromDS ? 0x02 : 0)
        if protected { flags |= 0x40 }
        var out: [UInt8] = [subtype << 4 | 2 << 2, flags, 0x2C, 0x00]
        for i in 0..<3 { out += [0x02, 0, 0, 0, 0, UInt8(i + 1)] }
        out += [0x10, 0x00]  // sequence control
        if toDS && fromDS { out += [0x02, 0, 0, 0, 0, 4] }
        if qos { out += [0x00, 0x00] }
        out += [0xAA, 0xAA, 0x03, 0, 0, 0]
        out.appendBigEndian(etherType)
        return out + packet
    }

    /// An IEEE 802.11 management frame of `subtype` (8 beacon, 4 probe request) with a body.
    public static func ieee80211Management(subtype: UInt8, body: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
        var out: [UInt8] = [subtype << 4, 0, 0, 0]
        for _ in 0..<3 { out += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] }
        out += [0, 0]
        return out + body
    }

    /// An IEEE 802.11 control frame (type 1): `subtype` 11 RTS, 12 CTS, 13 ACK.
    public static func ieee80211Control(subtype: UInt8) -> [UInt8] {
        [subtype << 4 | 1 << 2, 0, 0, 0, 0x02, 0, 0, 0, 0, 1]
    }

    /// LINKTYPE_IEEE802_11_RADIOTAP (127): version 0, pad, length, present word (flags and
    /// rate present), flags (FCS not included), rate, padding to `length`, then the 802.11 frame.
    public static func radiotap(_ frame: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0]
        out.appendLittleEndian(UInt16(12))
        out.appendLittleEndian(UInt32(0x0000_0006))  // flags (bit 1), rate (bit 2)
        out += [0x00, 0x0C, 0x00, 0x00]  // flags, rate 6 Mb/s, padding
        return out + frame
    }

    /// LINKTYPE_PPI (192): version 0, flags 0, header length 8, link type of what follows
    /// (105 for 802.11), all little-endian; no fields.
    public static func ppi(_ frame: [UInt8], linkType: UInt32 = 105) -> [UInt8] {
        var out: [UInt8] = [0, 0]
        out.appendLittleEndian(UInt16(8))
        out.appendLittleEndian(linkType)
        return out + frame
    }
}
