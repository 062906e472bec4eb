/// The encapsulations the decoder looks inside (issue 15). Names are the report's
/// `tunnel.type` values, after Zeek's `Tunnel::Type` where it has one.
public enum TunnelKind: UInt8, Sendable, CaseIterable, Hashable {
    case none = 0
    /// IPv4 or IPv6 directly inside IPv4 or IPv6 (IP protocols 4 and 41; RFC 2003, RFC 4213, RFC 2473).
    case ipInIP
    /// Generic Routing Encapsulation (IP protocol 47; RFC 2784, RFC 2890 keys and sequence numbers).
    case gre
    /// Cisco ERSPAN types I, II and III inside GRE (EtherTypes 0x88BE, 0x22EB).
    case erspan
    /// VXLAN (UDP 4789; RFC 7348).
    case vxlan
    /// VXLAN Generic Protocol Extension (UDP 4790; draft-ietf-nvo3-vxlan-gpe).
    case vxlanGPE
    /// Geneve (UDP 6081; RFC 8926).
    case geneve
    /// GTP-U user plane (UDP 2152; 3GPP TS 29.281).
    case gtpU
    /// Teredo (UDP 3544; RFC 4380).
    case teredo

    /// The report name, e.g. `vxlan`.
    public var name: String {
        switch self {
        case .none: "none"
        case .ipInIP: "ip-in-ip"
        case .gre: "gre"
        case .erspan: "erspan"
        case .vxlan: "vxlan"
        case .vxlanGPE: "vxlan-gpe"
        case .geneve: "geneve"
        case .gtpU: "gtp-u"
        case .teredo: "teredo"
        }
    }

    /// The name of the tunnel id for this kind (VNI, GRE key, TEID, ERSPAN session).
    public var idName: String {
        switch self {
        case .vxlan, .vxlanGPE, .geneve: "vni"
        case .gre: "key"
        case .gtpU: "teid"
        case .erspan: "session"
        default: "id"
        }
    }
}

/// What a flow inside a tunnel knows of the tunnel that carried its first packet: the
/// encapsulation, the outer packet's endpoints and the tunnel id, as Zeek's tunnel.log records.
public struct TunnelContext: Sendable, Hashable {
    public var kind: TunnelKind
    /// The outer IP packet's source and destination (of the innermost enclosing tunnel).
    public var outerSource: IPAddress
    public var outerDestination: IPAddress
    /// VNI (VXLAN, VXLAN-GPE, Geneve), GRE key, GTP-U TEID or ERSPAN session id, when present.
    public var id: UInt32?
    /// 1 for a flow inside one tunnel, 2 inside two, ...
    public var depth: UInt8

    @inlinable
    public init(kind: TunnelKind, outerSource: IPAddress, outerDestination: IPAddress, id: UInt32?, depth: UInt8) {
        self.kind = kind
        self.outerSource = outerSource
        self.outerDestination = outerDestination
        self.id = id
        self.depth = depth
    }
}

/// Well-known UDP ports of tunnels (IANA registry).
public enum TunnelPort {
    public static let vxlan: UInt16 = 4789
    public static let vxlanGPE: UInt16 = 4790
    public static let geneve: UInt16 = 6081
    public static let gtpU: UInt16 = 2152
    public static let teredo: UInt16 = 3544
}

/// GRE header (RFC 2784 2.1, RFC 2890 2): flags and version, protocol type, then the optional
/// checksum (C), key (K) and sequence number (S) words in that order. Version 1 is PPTP's
/// enhanced GRE (RFC 2637 4.1), which always has a key and may carry an acknowledgment (A).
@usableFromInline
enum GREField {
    @usableFromInline static let flags = 0
    @usableFromInline static let protocolType = 2
    @usableFromInline static let minimumLength = 4
    @usableFromInline static let checksumPresent: UInt16 = 0x8000
    @usableFromInline static let routingPresent: UInt16 = 0x4000
    @usableFromInline static let keyPresent: UInt16 = 0x2000
    @usableFromInline static let sequencePresent: UInt16 = 0x1000
    @usableFromInline static let acknowledgmentPresent: UInt16 = 0x0080
    /// Strict source route, recursion control and the flag bits RFC 2784 reserves: must be 0.
    @usableFromInline static let reservedVersion0: UInt16 = 0x4FF8
    @usableFromInline static let versionMask: UInt16 = 0x0007
}

/// VXLAN (RFC 7348 5) and VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe 3.1): flags, 3 bytes (GPE:
/// reserved and next protocol), VNI (24 bits), reserved byte.
@usableFromInline
enum VXLANField {
    @usableFromInline static let flags = 0
    @usableFromInline static let nextProtocol = 3
    @usableFromInline static let vni = 4
    @usableFromInline static let length = 8
    @usableFromInline static let instanceFlag: UInt8 = 0x08
    @usableFromInline static let gpeNextProtocolFlag: UInt8 = 0x04
    @usableFromInline static let gpeVersionMask: UInt8 = 0x30
}

/// Geneve (RFC 8926 3.4): version and option length, flags, protocol type, VNI, reserved,
/// then options of (class 2, type 1, flags and length 1, data length*4).
@usableFromInline
enum GeneveField {
    @usableFromInline static let versionOptionLength = 0
    @usableFromInline static let protocolType = 2
    @usableFromInline static let vni = 4
    @usableFromInline static let length = 8
    @usableFromInline static let optionHeaderLength = 4
}

/// GTP-U (3GPP TS 29.281 5.1): flags, message type, length (bytes after the first 8), TEID; when
/// E, S or PN is set, sequence (2), N-PDU (1) and next extension header type (1) follow.
@usableFromInline
enum GTPField {
    @usableFromInline static let flags = 0
    @usableFromInline static let messageType = 1
    @usableFromInline static let length = 2
    @usableFromInline static let teid = 4
    @usableFromInline static let mandatoryLength = 8
    @usableFromInline static let optionalLength = 4
    /// Message type 255: G-PDU, the only one that carries a user packet.
    @usableFromInline static let gPDU: UInt8 = 255
}

extension PacketDecoder {
    /// The inner "EtherType" recorded for an 802.11 frame inside a tunnel (Aruba GRE).
    public static let ieee80211Marker: UInt16 = 0x8200

    /// How many tunnels deep the flow meter follows an inner packet before it counts the packet
    /// as too deep and stops.
    public static let maximumTunnelDepth = 4

    /// True for the IP protocols that may carry a tunnel (IP-in-IP 4, IPv6 41, GRE 47) and UDP,
    /// as one bit test: the non-tunnel path pays one well-predicted branch.
    @inlinable @inline(__always)
    static func mayCarryTunnel(_ protocolNumber: UInt8) -> Bool {
        protocolNumber < 64 && (UInt64(1) << UInt64(protocolNumber)) & 0x0000_8200_0002_0010 != 0
    }

    /// Looks for a tunnel in the payload of the IP packet `packet` describes (`payloadOffset`,
    /// `payloadCapturedLength`, `payloadLength`). When the payload is a valid encapsulation, sets
    /// `tunnelKind`, `tunnelID`, `innerEtherType` (0x6558 for an Ethernet frame), `innerOffset`
    /// and `innerWireEnd`; otherwise leaves `tunnelKind` at `.none`, and the packet is only what
    /// its outer headers say. Fragments are never opened (their payload is not whole).
    @usableFromInline
    static func detectTunnel(_ frame: Span<UInt8>, into packet: inout DecodedPacket) {
        guard !packet.isFragment else { return }
        let start = packet.payloadOffset
        let captured = packet.payloadCapturedLength
        guard start >= 0, captured > 0, start <= frame.count, frame.count - start >= captured else { return }
        let end = start + captured
        // The inner packet cannot be longer on the wire than the outer payload.
        let wireEnd = start + packet.payloadLength
        switch packet.ipProtocol {
        case 4:
            guard frame[start] >> 4 == 4 else { return }
            packet.setTunnel(.ipInIP, id: nil, etherType: 0x0800, at: start, wireEnd: wireEnd)
        case 41:
            guard frame[start] >> 4 == 6 else { return }
            packet.setTunnel(.ipInIP, id: nil, etherType: 0x86DD, at: start, wireEnd: wireEnd)
        case 47:
            detectGRE(frame, at: start, end: end, wireEnd: wireEnd, into: &packet)
        case IPProtocolNumber.udp:
            let source = packet.sourcePort
            let destination = packet.destinationPort
            if destination == TunnelPort.vxlan || destination == TunnelPort.vxlanGPE {
                detectVXLAN(frame, at: start, end: end, wireEnd: wireEnd, gpe: destination == TunnelPort.vxlanGPE, into: &packet)
            } else if destination == TunnelPort.geneve {
                detectGeneve(frame, at: start, end: end, wireEnd: wireEnd, into: &packet)
            } else if destination == TunnelPort.gtpU || source == TunnelPort.gtpU {
                detectGTPU(frame, at: start, end: end, wireEnd: wireEnd, into: &packet)
            } else if source == TunnelPort.teredo || destination == TunnelPort.teredo {
                detectTeredo(frame, at: start, end: end, wireEnd: wireEnd, into: &packet)
            }
        default:
            return
        }
    }

    /// GRE (RFC 2784, RFC 2890; version 1: RFC 2637) and ERSPAN inside it.
    @usableFromInline
    static func detectGRE(_ frame: Span<UInt8>, at start: Int, end: Int, wireEnd: Int, into packet: inout DecodedPacket) {
        guard end - start >= GREField.minimumLength else { return }
        let flags = frame.bigEndianUInt16(at: start + GREField.flags)
        let protocolType = frame.bigEndianUInt16(at: start + GREField.protocolType)
        let version = flags & GREField.versionMask
        var length = GREField.minimumLength
        var key: UInt32? = nil
        switch version {
        case 0:
            guard flags & GREField.reservedVersion0 == 0 else { return }
            if flags & GREField.checksumPresent != 0 { length += 4 }
            if flags & GREField.keyPresent != 0 {
                guard end - start >= length + 4 else { return }
                key = frame.bigEndianUInt32(at: start + length)
                length += 4
            }
            if flags & GREField.sequencePresent != 0 { length += 4 }
        case 1:
            // Enhanced GRE: C and R clear, K set, protocol PPP (0x880B); key = payload length, call id.
            guard flags & (GREField.checksumPresent | GREField.routingPresent) == 0,
                  flags & GREField.keyPresent != 0, protocolType == 0x880B else { return }
            guard end - start >= 8 else { return }
            key = UInt32(frame.bigEndianUInt16(at: start + 6))  // the call id
            length = 8
            if flags & GREField.sequencePresent != 0 { length += 4 }
            if flags & GREField.acknowledgmentPresent != 0 { length += 4 }
        default:
            return
        }
        guard end - start >= length else { return }
        let inner = start + length
        switch protocolType {
        case 0x0800, 0x86DD, 0x8847, 0x8848, 0x6558, 0x8100, 0x88A8:
            if protocolType == 0x0800 || protocolType == 0x86DD {
                guard end - inner >= 1, frame[inner] >> 4 == (protocolType == 0x0800 ? 4 : 6) else { return }
            }
            packet.setTunnel(.gre, id: key, etherType: protocolType, at: inner, wireEnd: wireEnd)
        case 0x883E:
            // WCCP redirection (draft-mclaggan-wccp-v2rev1 4.12): a 4-byte redirect header
            // before the IPv4 packet in version 2, none in version 1.
            guard end - inner >= 1 else { return }
            let payload = frame[inner] >> 4 == 4 ? inner : inner + 4
            guard end - payload >= 1, frame[payload] >> 4 == 4 else { return }
            packet.setTunnel(.gre, id: key, etherType: 0x0800, at: payload, wireEnd: wireEnd)
        case 0x8200...0x8216:
            // Aruba access points tunnel 802.11 frames to their controller in GRE with these
            // protocol types (as Zeek and Wireshark read them): a 24-byte 802.11 header at least.
            guard end - inner >= 24 else { return }
            packet.setTunnel(.gre, id: key, etherType: PacketDecoder.ieee80211Marker, at: inner, wireEnd: wireEnd)
        case 0x880B:
            // PPP (PPTP): optional address and control (FF 03), then a 1- or 2-byte protocol.
            var offset = inner
            guard end - offset >= 2 else { return }
            if frame[offset] == 0xFF && frame[offset + 1] == 0x03 { offset += 2 }
            guard let (etherType, next) = pppProtocol(frame, at: offset, end: end) else { return }
            packet.setTunnel(.gre, id: key, etherType: etherType, at: next, wireEnd: wireEnd)
        case 0x88BE:
            // ERSPAN type II carries an 8-byte header (version 1) and GRE sequence numbers; type I
            // has neither and the mirrored frame follows the GRE header directly.
            if flags & GREField.sequencePresent == 0 {
                packet.setTunnel(.erspan, id: nil, etherType: 0x6558, at: inner, wireEnd: wireEnd)
                return
            }
            guard end - inner >= 8, frame[inner] >> 4 == 1 else { return }
            let session = UInt32(frame.bigEndianUInt16(at: inner + 2) & 0x03FF)
            packet.setTunnel(.erspan, id: session, etherType: 0x6558, at: inner + 8, wireEnd: wireEnd)
        case 0x22EB:
            // ERSPAN type III: 12-byte header (version 2), an 8-byte platform subheader when O
            // is set; frame type 0 is Ethernet, 2 is IP.
            guard end - inner >= 12, frame[inner] >> 4 == 2 else { return }
            let session = UInt32(frame.bigEndianUInt16(at: inner + 2) & 0x03FF)
            let frameType = (frame[inner + 10] >> 2) & 0x1F
            let hasSubheader = frame[inner + 11] & 0x01 != 0
            let payload = inner + 12 + (hasSubheader ? 8 : 0)
            guard end - payload >= 1 else { return }
            switch frameType {
            case 0: packet.setTunnel(.erspan, id: session, etherType: 0x6558, at: payload, wireEnd: wireEnd)
            case 2:
                let version = frame[payload] >> 4
                guard version == 4 || version == 6 else { return }
                packet.setTunnel(.erspan, id: session, etherType: version == 4 ? 0x0800 : 0x86DD, at: payload, wireEnd: wireEnd)
            default: return
            }
        default:
            return
        }
    }

    /// A PPP protocol field (RFC 1661 2; 1 byte when compressed, RFC 1661 6.5) naming IPv4 (0x21)
    /// or IPv6 (0x57): the EtherType to go on with and the offset after the field.
    @inlinable
    static func pppProtocol(_ frame: Span<UInt8>, at offset: Int, end: Int) -> (UInt16, Int)? {
        guard end - offset >= 1 else { return nil }
        let first = frame[offset]
        let value: UInt16
        let next: Int
        if first & 0x01 != 0 {
            value = UInt16(first)
            next = offset + 1
        } else {
            guard end - offset >= 2 else { return nil }
            value = frame.bigEndianUInt16(at: offset)
            next = offset + 2
        }
        switch value {
        case 0x0021: return (0x0800, next)
        case 0x0057: return (0x86DD, next)
        default: return nil
        }
    }

    /// VXLAN (RFC 7348 5: the I flag must be set for a valid VNI) and VXLAN-GPE (version 0;
    /// next protocol 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS; without the P flag, Ethernet).
    @usableFromInline
    static func detectVXLAN(_ frame: Span<UInt8>, at start: Int, end: Int, wireEnd: Int, gpe: Bool,
                            into packet: inout DecodedPacket) {
        guard end - start >= VXLANField.length else { return }
        let flags = frame[start + VXLANField.flags]
        guard flags & VXLANField.instanceFlag != 0 else { return }
        let vni = frame.bigEndianUInt32(at: start + VXLANField.vni) >> 8
        let inner = start + VXLANField.length
        var etherType: UInt16 = 0x6558
        if gpe {
            guard flags & VXLANField.gpeVersionMask == 0 else { return }
            if flags & VXLANField.gpeNextProtocolFlag != 0 {
                switch frame[start + VXLANField.nextProtocol] {
                case 1: etherType = 0x0800
                case 2: etherType = 0x86DD
                case 3: etherType = 0x6558
                case 5: etherType = 0x8847
                default: return  // NSH and others are not followed
                }
            }
        }
        guard validInnerStart(frame, etherType: etherType, at: inner, end: end) else { return }
        packet.setTunnel(gpe ? .vxlanGPE : .vxlan, id: vni, etherType: etherType, at: inner, wireEnd: wireEnd)
    }

    /// Geneve (RFC 8926 3.4): version 0; the options' own lengths must add up to the option
    /// length the header gives.
    @usableFromInline
    static func detectGeneve(_ frame: Span<UInt8>, at start: Int, end: Int, wireEnd: Int, into packet: inout DecodedPacket) {
        guard end - start >= GeneveField.length else { return }
        let first = frame[start + GeneveField.versionOptionLength]
        guard first >> 6 == 0 else { return }
        let optionsLength = Int(first & 0x3F) &* 4
        let inner = start + GeneveField.length + optionsLength
        guard end - start >= GeneveField.length + optionsLength else { return }
        var option = start + GeneveField.length
        while option < inner {
            guard inner - option >= GeneveField.optionHeaderLength else { return }
            option += GeneveField.optionHeaderLength + Int(frame[option + 3] & 0x1F) &* 4
        }
        guard option == inner else { return }
        let etherType = frame.bigEndianUInt16(at: start + GeneveField.protocolType)
        switch etherType {
        case 0x6558, 0x0800, 0x86DD, 0x8847: break
        default: return
        }
        guard validInnerStart(frame, etherType: etherType, at: inner, end: end) else { return }
        let vni = frame.bigEndianUInt32(at: start + GeneveField.vni) >> 8
        packet.setTunnel(.geneve, id: vni, etherType: etherType, at: inner, wireEnd: wireEnd)
    }

    /// GTP-U (3GPP TS 29.281 5.1, 5.2): version 1, protocol type GTP, a G-PDU whose length field
    /// fits the UDP payload; extension headers (length in 4-byte units, next type last) skipped.
    @usableFromInline
    static func detectGTPU(_ frame: Span<UInt8>, at start: Int, end: Int, wireEnd: Int, into packet: inout DecodedPacket) {
        guard end - start >= GTPField.mandatoryLength else { return }
        let flags = frame[start + GTPField.flags]
        guard flags >> 5 == 1, flags & 0x10 != 0, frame[start + GTPField.messageType] == GTPField.gPDU else { return }
        let length = Int(frame.bigEndianUInt16(at: start + GTPField.length))
        guard GTPField.mandatoryLength + length <= wireEnd - start else { return }
        let teid = frame.bigEndianUInt32(at: start + GTPField.teid)
        var offset = start + GTPField.mandatoryLength
        if flags & 0x07 != 0 {
            guard end - offset >= GTPField.optionalLength else { return }
            var next = flags & 0x04 != 0 ? frame[offset + 3] : 0  // next extension type, when E is set
            offset += GTPField.optionalLength
            var headers = 0
            while next != 0 {
                guard end - offset >= 1 else { return }
                let units = Int(frame[offset])
                guard units > 0, end - offset >= units &* 4 else { return }
                next = frame[offset + units &* 4 - 1]
                offset += units &* 4
                headers += 1
                if headers > 16 { return }
            }
        }
        let innerWireEnd = min(wireEnd, start + GTPField.mandatoryLength + length)
        guard end - offset >= 1 else { return }
        let version = frame[offset] >> 4
        guard version == 4 || version == 6 else { return }
        packet.setTunnel(.gtpU, id: teid, etherType: version == 4 ? 0x0800 : 0x86DD, at: offset, wireEnd: innerWireEnd)
    }

    /// Teredo (RFC 4380 5.1.1): optional authentication (00 01) and origin indication (00 00)
    /// headers, then an IPv6 packet whose payload length fills the rest of the UDP payload
    /// exactly: that check is what tells Teredo from other traffic on port 3544.
    @usableFromInline
    static func detectTeredo(_ frame: Span<UInt8>, at start: Int, end: Int, wireEnd: Int, into packet: inout DecodedPacket) {
        var offset = start
        guard end - offset >= 2 else { return }
        if frame.bigEndianUInt16(at: offset) == 0x0001 {
            guard end - offset >= 4 else { return }
            let length = 4 + Int(frame[offset + 2]) + Int(frame[offset + 3]) + 9  // ids, nonce 8, confirmation 1
            guard end - offset >= length else { return }
            offset += length
        }
        if end - offset >= 2, frame.bigEndianUInt16(at: offset) == 0x0000 {
            offset += 8
        }
        guard end - offset >= IPv6Field.length, frame[offset] >> 4 == 6 else { return }
        let payloadLength = Int(frame.bigEndianUInt16(at: offset + IPv6Field.payloadLength))
        guard offset + IPv6Field.length + payloadLength == wireEnd else { return }
        packet.setTunnel(.teredo, id: nil, etherType: 0x86DD, at: offset, wireEnd: wireEnd)
    }

    /// The first bytes of an inner packet look like what `etherType` says: an Ethernet header
    /// (14 bytes), or an IP version nibble that matches.
    @usableFromInline
    static func validInnerStart(_ frame: Span<UInt8>, etherType: UInt16, at offset: Int, end: Int) -> Bool {
        switch etherType {
        case 0x6558: return end - offset >= 14
        case 0x0800: return end - offset >= 1 && frame[offset] >> 4 == 4
        case 0x86DD: return end - offset >= 1 && frame[offset] >> 4 == 6
        default: return end - offset >= 4
        }
    }

    /// Decodes the inner packet of the tunnel `packet` records (after ``detectTunnel``) into
    /// `packet`, replacing the outer headers: the caller keeps what it needs of them first.
    public static func decodeInner(_ frame: Span<UInt8>, into packet: inout DecodedPacket) -> DecodeStatus {
        let offset = packet.innerOffset
        let etherType = packet.innerEtherType
        let wire = max(packet.innerWireEnd, offset)
        packet.reset()
        guard offset >= 0, offset <= frame.count else { return .truncatedLinkHeader }
        if etherType == ieee80211Marker {
            return decodeIEEE80211(frame, at: offset, wire: wire, into: &packet)
        }
        if etherType == 0x6558 {
            // Transparent Ethernet bridging: a whole Ethernet frame without its FCS.
            guard frame.count - offset >= 14 else { return .truncatedLinkHeader }
            return decodeEtherType(frame, etherType: frame.bigEndianUInt16(at: offset + 12), at: offset + 14,
                                   wire: wire, into: &packet)
        }
        return decodeEtherType(frame, etherType: etherType, at: offset, wire: wire, into: &packet)
    }
}

extension DecodedPacket {
    @inlinable
    mutating func setTunnel(_ kind: TunnelKind, id: UInt32?, etherType: UInt16, at offset: Int, wireEnd: Int) {
        tunnelKind = kind
        tunnelID = id ?? 0
        tunnelHasID = id != nil
        innerEtherType = etherType
        innerOffset = offset
        innerWireEnd = wireEnd
    }

    /// The tunnel this packet's payload is, with the outer endpoints, at `depth`.
    @inlinable
    public func tunnelContext(depth: UInt8) -> TunnelContext {
        TunnelContext(kind: tunnelKind, outerSource: source, outerDestination: destination,
                      id: tunnelHasID ? tunnelID : nil, depth: depth)
    }
}
