// The application protocol of a flow from its first payload bytes (as Zeek's dynamic protocol
// detection fills conn.log's `service`): signatures of the protocol's own framing, checked
// against the bytes, never the port alone.

/// An application protocol recognised in a flow's payload. Raw values are the names reports
/// print (docs/report.md lists each with its signature and Zeek's name for it).
public enum AppService: String, Sendable, CaseIterable, Hashable {
    case dns
    case tls
    case http
    case ssh
    case smb
    case ldap
    case kerberos
    case rdp
    case smtp
    case ntp
    case snmp
    case syslog
    case dhcp
    case stun
    case quic
}

/// Recognises an application protocol from one payload.
public enum ServiceDetector {
    /// The protocol `payload` is framed in, or nil when no signature fits.
    /// - Parameters:
    ///   - ipProtocol: 6 (TCP) or 17 (UDP); other protocols carry no service.
    ///   - fromInitiator: the payload was sent by the flow's initiator.
    ///   - sourcePort, destinationPort: used only where a signature is too short to stand alone
    ///     (NTP, DHCP) and always together with the payload's shape.
    public static func detect(_ payload: Span<UInt8>, ipProtocol: UInt8, fromInitiator: Bool,
                              sourcePort: UInt16, destinationPort: UInt16) -> AppService? {
        let count = payload.count
        guard count > 0 else { return nil }
        if ipProtocol == IPProtocolNumber.tcp {
            return tcp(payload, count: count, fromInitiator: fromInitiator)
        }
        guard ipProtocol == IPProtocolNumber.udp else { return nil }
        return udp(payload, count: count, sourcePort: sourcePort, destinationPort: destinationPort)
    }

    static func tcp(_ p: Span<UInt8>, count: Int, fromInitiator: Bool) -> AppService? {
        let first = p[0]
        // TLS: a handshake record (22), version 3.0-3.4, a plausible length, then a ClientHello
        // (1) or ServerHello (2).
        if first == 0x16, count >= 6, p[1] == 3, p[2] <= 4 {
            let length = Int(p[3]) << 8 | Int(p[4])
            if length >= 4, length <= 16384 + 2048, p[5] == 1 || p[5] == 2 { return .tls }
        }
        if first == UInt8(ascii: "S"), startsWith(p, ssh), count >= 5, isDigit(p[4]) { return .ssh }
        if first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") || first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z") {
            if fromInitiator {
                if isHTTPRequest(p, count: count) { return .http }
                if startsWithCaseless(p, ehlo) || startsWithCaseless(p, helo) { return .smtp }
            } else if startsWith(p, http1) || startsWith(p, http2) {
                return .http
            }
        }
        // Length-prefixed framings: NetBIOS session (SMB), TPKT (RDP), Kerberos record marking.
        if count >= 8, first == 0 {
            let length = Int(p[1]) << 16 | Int(p[2]) << 8 | Int(p[3])
            // SMB1 (0xFF), SMB2/3 (0xFE) and SMB3 transform (0xFD) headers after NetBIOS's 4 bytes.
            if length >= 4, (p[4] == 0xFF || p[4] == 0xFE || p[4] == 0xFD), p[5] == UInt8(ascii: "S"), p[6] == UInt8(ascii: "M"),
               p[7] == UInt8(ascii: "B") {
                return .smb
            }
            // Kerberos over TCP: a 4-byte length whose top bit is clear, then an AS/TGS message.
            if p[4] & 0x80 == 0, first == 0, isKerberosMessage(p, at: 4, count: count), length <= 1 << 20 { return .kerberos }
        }
        if first == 3, count >= 7, p[1] == 0 {
            // TPKT (RFC 1006) version 3, then X.224 connection request (0xE0) or confirm (0xD0).
            let length = Int(p[2]) << 8 | Int(p[3])
            if length >= 7, Int(p[4]) + 5 <= length, p[5] & 0xF0 == 0xE0 || p[5] & 0xF0 == 0xD0 { return .rdp }
        }
        if first == 0x30, isLDAPMessage(p, count: count) { return .ldap }
        if isSTUN(p, count: count) { return .stun }
        // DNS over TCP (RFC 1035 4.2.2): a 2-byte length, then the message.
        if count >= 19, Int(p[0]) << 8 | Int(p[1]) >= 17, isDNS(p, at: 2, count: count) { return .dns }
        return nil
    }

    static func udp(_ p: Span<UInt8>, count: Int, sourcePort: UInt16, destinationPort: UInt16) -> AppService? {
        let first = p[0]
        if isSTUN(p, count: count) { return .stun }
        // QUIC long header (RFC 9000 17.2): form and fixed bits set, version 1 or 2.
        if first & 0xC0 == 0xC0, count >= 7 {
            let version = UInt32(p[1]) << 24 | UInt32(p[2]) << 16 | UInt32(p[3]) << 8 | UInt32(p[4])
            if version == 1 || version == 0x6B33_43CF { return .quic }
        }
        if first == UInt8(ascii: "<"), isSyslog(p, count: count) { return .syslog }
        if first == 0x30, isLDAPMessage(p, count: count) { return .ldap }  // CLDAP
        if first == 0x30, isSNMP(p, count: count) { return .snmp }
        if isKerberosMessage(p, at: 0, count: count) { return .kerberos }
        // DHCP (RFC 2131): BOOTREQUEST/BOOTREPLY, Ethernet hardware, the magic cookie at 236.
        if count >= 240, (first == 1 || first == 2), p[1] == 1, p[2] == 6,
           p[236] == 0x63, p[237] == 0x82, p[238] == 0x53, p[239] == 0x63,
           (sourcePort == 67 || sourcePort == 68) && (destinationPort == 67 || destinationPort == 68) {
            return .dhcp
        }
        // NTP (RFC 5905): 48 bytes or more, version 1-4, a mode of 1-5, on port 123.
        if count >= 48, sourcePort == 123 || destinationPort == 123 {
            let version = (first >> 3) & 7, mode = first & 7
            if version >= 1, version <= 4, mode >= 1, mode <= 5 { return .ntp }
        }
        if isDNS(p, at: 0, count: count) { return .dns }
        return nil
    }

    // MARK: Signatures

    static let ssh = Array("SSH-".utf8), ehlo = Array("EHLO ".utf8), helo = Array("HELO ".utf8)
    static let http1 = Array("HTTP/1.".utf8), http2 = Array("HTTP/2 ".utf8)

    static func startsWith(_ p: Span<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard p.count >= prefix.count else { return false }
        for i in prefix.indices where p[i] != prefix[i] { return false }
        return true
    }

    /// ASCII letters compared without case.
    static func startsWithCaseless(_ p: Span<UInt8>, _ prefix: [UInt8]) -> Bool {
        guard p.count >= prefix.count else { return false }
        for i in prefix.indices where p[i] | 0x20 != prefix[i] | 0x20 { return false }
        return true
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// `METHOD SP target SP HTTP/` on the first line (methods of RFC 9110 and WebDAV's upper-case
    /// tokens).
    static func isHTTPRequest(_ p: Span<UInt8>, count: Int) -> Bool {
        var i = 0
        while i < count, i < 24, p[i] >= UInt8(ascii: "A"), p[i] <= UInt8(ascii: "Z") { i += 1 }
        guard i >= 3, i < count, p[i] == UInt8(ascii: " ") else { return false }
        i += 1
        let targetStart = i
        while i < count, i < 2048, p[i] > 0x20, p[i] < 0x7F { i += 1 }
        guard i > targetStart, i + 6 <= count, p[i] == UInt8(ascii: " ") else { return false }
        return p[i + 1] == UInt8(ascii: "H") && p[i + 2] == UInt8(ascii: "T") && p[i + 3] == UInt8(ascii: "T")
            && p[i + 4] == UInt8(ascii: "P") && p[i + 5] == UInt8(ascii: "/")
    }

    /// A BER length at `offset`: (value, bytes it took), or nil (indefinite or longer than 4 bytes).
    static func berLength(_ p: Span<UInt8>, at offset: Int, count: Int) -> (Int, Int)? {
        guard offset < count else { return nil }
        let first = p[offset]
        if first < 0x80 { return (Int(first), 1) }
        let bytes = Int(first & 0x7F)
        guard bytes >= 1, bytes <= 4, offset + bytes < count else { return nil }
        var value = 0
        for i in 1...bytes { value = value << 8 | Int(p[offset + i]) }
        return (value, bytes + 1)
    }

    /// An LDAPMessage (RFC 4511 4.1.1): SEQUENCE { messageID INTEGER (1-4 bytes), protocolOp
    /// [APPLICATION n] } with n one of the operations.
    static func isLDAPMessage(_ p: Span<UInt8>, count: Int) -> Bool {
        guard count >= 7, p[0] == 0x30, let (_, lengthBytes) = berLength(p, at: 1, count: count) else { return false }
        var i = 1 + lengthBytes
        guard i + 2 < count, p[i] == 0x02 else { return false }
        let idLength = Int(p[i + 1])
        guard idLength >= 1, idLength <= 4 else { return false }
        i += 2 + idLength
        guard i < count else { return false }
        let op = p[i]
        // Constructed application tags 0-25 except 2 (unbind) and 10 (delete), which are primitive.
        if op & 0xE0 == 0x60 { let n = op & 0x1F; return n <= 25 && n != 2 && n != 10 }
        return op == 0x42 || op == 0x4A || op == 0x50  // unbind, del request, abandon
    }

    /// A Kerberos AS/TGS request or reply or KRB-ERROR (RFC 4120 5.4.1, 5.9.1): application tag
    /// 10-13 or 30, a BER length, then a SEQUENCE.
    static func isKerberosMessage(_ p: Span<UInt8>, at offset: Int, count: Int) -> Bool {
        guard offset + 4 < count else { return false }
        let tag = p[offset]
        guard tag == 0x6A || tag == 0x6B || tag == 0x6C || tag == 0x6D || tag == 0x7E,
              let (_, lengthBytes) = berLength(p, at: offset + 1, count: count) else { return false }
        let inner = offset + 1 + lengthBytes
        guard inner + 2 < count, p[inner] == 0x30 else { return false }
        // The SEQUENCE opens with [0] or [1] (pvno or the reply's first field).
        guard let (_, innerLength) = berLength(p, at: inner + 1, count: count) else { return false }
        let field = inner + 1 + innerLength
        return field < count && (p[field] == 0xA0 || p[field] == 0xA1)
    }

    /// An SNMP message (RFC 3416): SEQUENCE { version INTEGER 0, 1 or 3, community OCTET STRING
    /// (v1, v2c) or a header SEQUENCE (v3) }.
    static func isSNMP(_ p: Span<UInt8>, count: Int) -> Bool {
        guard count >= 8, let (_, lengthBytes) = berLength(p, at: 1, count: count) else { return false }
        let i = 1 + lengthBytes
        guard i + 3 < count, p[i] == 0x02, p[i + 1] == 0x01 else { return false }
        let version = p[i + 2]
        return (version <= 1 && p[i + 3] == 0x04) || (version == 3 && p[i + 3] == 0x30)
    }

    /// A STUN message (RFC 5389 6): the two top bits clear, a length that is a multiple of 4 and
    /// fits, and the magic cookie 0x2112A442.
    static func isSTUN(_ p: Span<UInt8>, count: Int) -> Bool {
        guard count >= 20, p[0] & 0xC0 == 0, p[4] == 0x21, p[5] == 0x12, p[6] == 0xA4, p[7] == 0x42 else { return false }
        let length = Int(p[2]) << 8 | Int(p[3])
        return length % 4 == 0 && length + 20 <= count
    }

    /// A syslog message (RFC 5424 6.2.1, RFC 3164): `<PRI>` with PRI 0-191 in 1-3 digits.
    static func isSyslog(_ p: Span<UInt8>, count: Int) -> Bool {
        var i = 1, value = 0
        while i < count, i <= 3, isDigit(p[i]) {
            value = value * 10 + Int(p[i] - 0x30)
            i += 1
        }
        return i > 1 && i < count && p[i] == UInt8(ascii: ">") && value <= 191
    }

    /// A DNS message (RFC 1035 4.1): standard query or response, one question, counts that fit,
    /// and a question name made of labels that end inside the message.
    static func isDNS(_ p: Span<UInt8>, at base: Int, count: Int) -> Bool {
        guard count >= base + 17 else { return false }
        let opcode = (p[base + 2] >> 3) & 0xF
        guard opcode == 0 || opcode == 5, p[base + 4] == 0, p[base + 5] == 1 else { return false }
        let answers = Int(p[base + 6]) << 8 | Int(p[base + 7]), authority = Int(p[base + 8]) << 8 | Int(p[base + 9])
        guard answers <= 256, authority <= 256 else { return false }
        var i = base + 12, labels = 0
        while i < count {
            let length = Int(p[i])
            if length == 0 { break }
            guard length <= 63, labels < 128 else { return false }
            i += 1 + length
            labels += 1
        }
        // The name's terminator, then QTYPE and QCLASS (class IN, CH, HS, ANY, or mDNS's unicast bit).
        guard i + 4 < count else { return false }
        let qclass = (Int(p[i + 3]) << 8 | Int(p[i + 4])) & 0x7FFF
        return qclass == 1 || qclass == 3 || qclass == 4 || qclass == 255
    }
}
