// Tunnel payloads: GRE (RFC 2784/2890), ERSPAN II/III, VXLAN (RFC 7348), VXLAN-GPE, Geneve
// (RFC 8926), GTP-U (3GPP TS 29.281), Teredo (RFC 4380), MPLS (RFC 3032), PPPoE (RFC 2516).
// Each function returns the bytes that go inside the outer packet's payload; the outer packet
// is built as usual: `.udp(sourcePort:destinationPort: 4789, payload: Encapsulation.vxlan(...))`
// or `.payload(protocol: 47, Encapsulation.gre(...))`.

/// Builders of tunnel headers around an inner packet or frame.
public enum Encapsulation {
    /// A GRE header (RFC 2784 2.1, RFC 2890 2) with the optional checksum, key and sequence
    /// fields, then `inner` (whose protocol `protocolType` names, an EtherType).
    public static func gre(protocolType: UInt16, key: UInt32? = nil, sequence: UInt32? = nil, checksum: Bool = false,
                           version: UInt16 = 0, inner: [UInt8]) -> [UInt8] {
        var flags: UInt16 = version & 0x7
        if checksum { flags |= 0x8000 }
        if key != nil { flags |= 0x2000 }
        if sequence != nil { flags |= 0x1000 }
        var out: [UInt8] = []
        out.appendBigEndian(flags)
        out.appendBigEndian(protocolType)
        if checksum { out += [0, 0, 0, 0] }  // checksum and reserved1; the value is not checked by readers here
        if let key { out.appendBigEndian(key) }
        if let sequence { out.appendBigEndian(sequence) }
        if checksum {
            let sum = InternetChecksum.compute(out + inner)
            out.setBigEndian(sum, at: 4)
        }
        return out + inner
    }

    /// ERSPAN type II (GRE protocol 0x88BE, with a GRE sequence number): the 8-byte header
    /// (version 1, VLAN, session id), then the mirrored Ethernet frame.
    public static func erspanII(session: UInt16, sequence: UInt32 = 1, vlan: UInt16 = 0, index: UInt32 = 0, frame: [UInt8]) -> [UInt8] {
        var header: [UInt8] = []
        header.appendBigEndian(UInt16(0x1000) | (vlan & 0x0FFF))
        header.appendBigEndian(session & 0x03FF)
        header.appendBigEndian(index & 0x000F_FFFF)
        return gre(protocolType: 0x88BE, sequence: sequence, inner: header + frame)
    }

    /// ERSPAN type I (GRE protocol 0x88BE, no sequence number, no ERSPAN header).
    public static func erspanI(frame: [UInt8]) -> [UInt8] {
        gre(protocolType: 0x88BE, inner: frame)
    }

    /// ERSPAN type III (GRE protocol 0x22EB): the 12-byte header (version 2, session id,
    /// timestamp, frame type 0 Ethernet), with the 8-byte platform subheader when `subheader`.
    public static func erspanIII(session: UInt16, sequence: UInt32 = 1, subheader: Bool = false, frame: [UInt8]) -> [UInt8] {
        var header: [UInt8] = []
        header.appendBigEndian(UInt16(0x2000))
        header.appendBigEndian(session & 0x03FF)
        header.appendBigEndian(UInt32(0x1234_5678))  // timestamp
        header.appendBigEndian(UInt16(0))  // security group tag
        header += [0x00, subheader ? 0x01 : 0x00]  // P, FT 0 (Ethernet), HW id, D, Gra, O
        if subheader { header += [0x08, 0, 0, 0, 0, 0, 0, 0] }
        return gre(protocolType: 0x22EB, sequence: sequence, inner: header + frame)
    }

    /// A VXLAN header (RFC 7348 5): flags with I set, the 24-bit VNI, then the inner Ethernet frame.
    public static func vxlan(vni: UInt32, flags: UInt8 = 0x08, frame: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [flags, 0, 0, 0]
        out.appendBigEndian(vni << 8)
        return out + frame
    }

    /// A VXLAN-GPE header (draft-ietf-nvo3-vxlan-gpe 3.1): flags I and P, next protocol (1 IPv4,
    /// 2 IPv6, 3 Ethernet, 5 MPLS), VNI, then `inner`.
    public static func vxlanGPE(vni: UInt32, nextProtocol: UInt8, inner: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x0C, 0, 0, nextProtocol]
        out.appendBigEndian(vni << 8)
        return out + inner
    }

    /// One Geneve option (RFC 8926 3.5): class, type, length in 4-byte words, data.
    public struct GeneveOption: Hashable, Sendable {
        public var optionClass: UInt16
        public var type: UInt8
        /// Padded with zeros to a multiple of 4, at most 124 bytes.
        public var data: [UInt8]
        public init(optionClass: UInt16, type: UInt8, data: [UInt8]) {
            self.optionClass = optionClass
            self.type = type
            self.data = data
        }
    }

    /// A Geneve header (RFC 8926 3.4) with options, protocol type (0x6558 Ethernet, 0x0800,
    /// 0x86DD), VNI, then `inner`.
    public static func geneve(vni: UInt32, protocolType: UInt16 = 0x6558, options: [GeneveOption] = [],
                              version: UInt8 = 0, inner: [UInt8]) -> [UInt8] {
        var optionBytes: [UInt8] = []
        for option in options {
            var data = option.data
            while data.count % 4 != 0 { data.append(0) }
            optionBytes.appendBigEndian(option.optionClass)
            optionBytes.append(option.type)
            optionBytes.append(UInt8(data.count / 4) & 0x1F)
            optionBytes += data
        }
        var out: [UInt8] = [version << 6 | UInt8(optionBytes.count / 4) & 0x3F, 0]
        out.appendBigEndian(protocolType)
        out.appendBigEndian(vni << 8)
        return out + optionBytes + inner
    }

    /// One GTP-U extension header (3GPP TS 29.281 5.2): its type and content, padded so that
    /// content plus length and next-type bytes fill whole 4-byte units.
    public struct GTPExtension: Hashable, Sendable {
        public var type: UInt8
        public var content: [UInt8]
        public init(type: UInt8, content: [UInt8]) {
            self.type = type
            self.content = content
        }
    }

    /// A GTP-U G-PDU (3GPP TS 29.281 5.1): version 1, PT 1, the TEID; with `sequence` or
    /// extension headers, the optional 4 bytes and the extension chain; then the inner IP packet.
    public static func gtpU(teid: UInt32, sequence: UInt16? = nil, extensions: [GTPExtension] = [], inner: [UInt8]) -> [UInt8] {
        var flags: UInt8 = 0x30
        if sequence != nil { flags |= 0x02 }
        if !extensions.isEmpty { flags |= 0x04 }
        var optional: [UInt8] = []
        if sequence != nil || !extensions.isEmpty {
            optional.appendBigEndian(sequence ?? 0)
            optional.append(0)  // N-PDU number
            optional.append(extensions.first?.type ?? 0)
            for (i, ext) in extensions.enumerated() {
                var body = ext.content
                while (body.count + 2) % 4 != 0 { body.append(0) }
                optional.append(UInt8((body.count + 2) / 4))
                optional += body
                optional.append(i + 1 < extensions.count ? extensions[i + 1].type : 0)
            }
        }
        var out: [UInt8] = [flags, 0xFF]
        out.appendBigEndian(UInt16(optional.count + inner.count))
        out.appendBigEndian(teid)
        return out + optional + inner
    }

    /// A Teredo payload (RFC 4380 5.1.1): an origin indication (port and IPv4 address
    /// obfuscated by XOR with all ones) when given, then the inner IPv6 packet.
    public static func teredo(origin: (port: UInt16, address: UInt32)? = nil, inner: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        if let origin {
            out += [0, 0]
            out.appendBigEndian(~origin.port)
            out.appendBigEndian(~origin.address)
        }
        return out + inner
    }

    /// An MPLS label stack entry (RFC 3032 2.1): label (20 bits), traffic class, bottom of stack, TTL.
    public static func mplsEntry(label: UInt32, trafficClass: UInt8 = 0, bottom: Bool, ttl: UInt8 = 64) -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(label << 12 | UInt32(trafficClass & 0x7) << 9 | (bottom ? 0x100 : 0) | UInt32(ttl))
        return out
    }

    /// An MPLS label stack (outermost first), optionally a pseudowire control word (RFC 4385:
    /// four zero-led bytes), then `inner`.
    public static func mpls(labels: [UInt32], controlWord: Bool = false, inner: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, label) in labels.enumerated() { out += mplsEntry(label: label, bottom: i == labels.count - 1) }
        if controlWord { out += [0, 0, 0, 1] }
        return out + inner
    }

    /// A PPPoE session header (RFC 2516 4: version 1, type 1, code 0, session id, length) and
    /// the PPP protocol (0x0021 IPv4, 0x0057 IPv6), then `inner`.
    public static func pppoe(session: UInt16, pppProtocol: UInt16, inner: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x11, 0x00]
        out.appendBigEndian(session)
        out.appendBigEndian(UInt16(inner.count + 2))
        out.appendBigEndian(pppProtocol)
        return out + inner
    }
}

extension Encapsulation {
    /// Each of `inner`'s frames carried in the outer frame `outer` builds from its bytes, at the
    /// same time: `Encapsulation.carry(session) { link.ipv4(...).udp(..., payload: vxlan(vni: 7, frame: $0)) }`.
    public static func carry(_ inner: [TimedFrame], in outer: ([UInt8]) -> [UInt8]) -> [TimedFrame] {
        inner.map { TimedFrame(timestamp: $0.timestamp, frame: outer($0.frame)) }
    }
}
