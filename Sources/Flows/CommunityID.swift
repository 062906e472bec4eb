import Packets

/// The Community ID flow hash, version 1 (the `1:` base64 SHA-1 string that Zeek, Suricata and
/// Arkime print), so a flow can be found in their logs.
///
/// Input: seed (2 bytes, big-endian), the two addresses, protocol, one zero byte, and for TCP,
/// UDP, SCTP and ICMP the two ports; the endpoints ordered so both directions hash alike. ICMP
/// types stand in for ports, paired with their counterpart type (echo request and reply, ...), or
/// with the code and no reordering for types without one.
public enum CommunityID {
    /// The Community ID of `flow` with the given seed (0 unless a deployment chose another).
    public static func of(_ flow: borrowing Flow, seed: UInt16 = 0) -> String {
        var sourceAddress = flow.initiator
        var destinationAddress = flow.responder
        var sourcePort = flow.initiatorPort
        var destinationPort = flow.responderPort
        let protocolNumber = flow.protocolNumber
        var hasPorts = true
        var oneWay = false
        switch protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, 132:
            break
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            let v6 = protocolNumber == IPProtocolNumber.icmpv6
            // The initiator's message type; types without a counterpart hash with their code.
            let type = flow.icmpType
            if let counterpart = counterpartType(type, v6: v6) {
                sourcePort = UInt16(type)
                destinationPort = UInt16(counterpart)
            } else {
                sourcePort = UInt16(type)
                destinationPort = UInt16(flow.icmpCode)
                oneWay = true
            }
        default:
            hasPorts = false
        }
        if !oneWay && !ordered(sourceAddress, sourcePort, destinationAddress, destinationPort) {
            swap(&sourceAddress, &destinationAddress)
            swap(&sourcePort, &destinationPort)
        }
        var input: [UInt8] = [UInt8(seed >> 8), UInt8(truncatingIfNeeded: seed)]
        input += sourceAddress.bytes
        input += destinationAddress.bytes
        input += [protocolNumber, 0]
        if hasPorts {
            input += [UInt8(sourcePort >> 8), UInt8(truncatingIfNeeded: sourcePort),
                      UInt8(destinationPort >> 8), UInt8(truncatingIfNeeded: destinationPort)]
        }
        return "1:" + Base64.encode(SHA1.hash(input))
    }

    /// Computes the Community ID of an explicit tuple (used for ICMP types and tests).
    public static func of(source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
                          protocolNumber: UInt8, seed: UInt16 = 0) -> String {
        var sourceAddress = source
        var destinationAddress = destination
        var sourcePort = sourcePort
        var destinationPort = destinationPort
        var hasPorts = true
        var oneWay = false
        switch protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, 132:
            break
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            // `sourcePort` is the ICMP type and `destinationPort` the code.
            let type = UInt8(truncatingIfNeeded: sourcePort)
            if let counterpart = counterpartType(type, v6: protocolNumber == IPProtocolNumber.icmpv6) {
                destinationPort = UInt16(counterpart)
            } else {
                oneWay = true
            }
        default:
            hasPorts = false
        }
        if !oneWay && !ordered(sourceAddress, sourcePort, destinationAddress, destinationPort) {
            swap(&sourceAddress, &destinationAddress)
            swap(&sourcePort, &destinationPort)
        }
        var input: [UInt8] = [UInt8(seed >> 8), UInt8(truncatingIfNeeded: seed)]
        input += sourceAddress.bytes
        input += destinationAddress.bytes
        input += [protocolNumber, 0]
        if hasPorts {
            input += [UInt8(sourcePort >> 8), UInt8(truncatingIfNeeded: sourcePort),
                      UInt8(destinationPort >> 8), UInt8(truncatingIfNeeded: destinationPort)]
        }
        return "1:" + Base64.encode(SHA1.hash(input))
    }

    static func ordered(_ a: IPAddress, _ aPort: UInt16, _ b: IPAddress, _ bPort: UInt16) -> Bool {
        let ab = a.bytes, bb = b.bytes
        if ab != bb { return ab.lexicographicallyPrecedes(bb) }
        return aPort <= bPort
    }

    /// The Community ID pairing of ICMP types (its `get_port_equivalents`).
    static func counterpartType(_ type: UInt8, v6: Bool) -> UInt8? {
        if v6 {
            switch type {
            case 128: return 129
            case 129: return 128
            case 133: return 134
            case 134: return 133
            case 135: return 136
            case 136: return 135
            case 130: return 131
            case 131: return 130
            case 144: return 145
            case 145: return 144
            case 139: return 140
            case 140: return 139
            default: return nil
            }
        }
        switch type {
        case 8: return 0
        case 0: return 8
        case 13: return 14
        case 14: return 13
        case 15: return 16
        case 16: return 15
        case 10: return 9
        case 9: return 10
        case 17: return 18
        case 18: return 17
        default: return nil
        }
    }
}

/// SHA-1 (FIPS 180-4), used only for Community IDs (not for security).
public enum SHA1 {
    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = h
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                e = d
                d = c
                c = b << 30 | b >> 2
                b = a
                a = temp
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }
        var out: [UInt8] = []
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        return out
    }
}

/// Standard base64 with padding (RFC 4648 4).
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
