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
    public static func of(_ flow: Flow, seed: UInt16 = 0) -> String {
        let icmp = flow.protocolNumber == IPProtocolNumber.icmp || flow.protocolNumber == IPProtocolNumber.icmpv6
        // For ICMP the initiator's message type and code stand in for the ports.
        return of(source: flow.initiator, sourcePort: icmp ? UInt16(flow.icmpType) : flow.initiatorPort,
                  destination: flow.responder, destinationPort: icmp ? UInt16(flow.icmpCode) : flow.responderPort,
                  protocolNumber: flow.protocolNumber, seed: seed)
    }

    /// The Community ID of an explicit tuple; for ICMP and ICMPv6, `sourcePort` is the message
    /// type and `destinationPort` the code.
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
        // The hash input is at most 2 + 16 + 16 + 2 + 4 = 40 bytes: one SHA-1 block, built on the stack.
        var block = InlineArray<64, UInt8>(repeating: 0)
        var length = 0
        func append(_ byte: UInt8) {
            block[length] = byte
            length += 1
        }
        func append(_ address: IPAddress) {
            if address.isIPv4 {
                let v = address.ipv4Value
                for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
            } else {
                for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: address.high >> UInt64(shift))) }
                for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: address.low >> UInt64(shift))) }
            }
        }
        append(UInt8(seed >> 8))
        append(UInt8(truncatingIfNeeded: seed))
        append(sourceAddress)
        append(destinationAddress)
        append(protocolNumber)
        append(0)
        if hasPorts {
            append(UInt8(sourcePort >> 8))
            append(UInt8(truncatingIfNeeded: sourcePort))
            append(UInt8(destinationPort >> 8))
            append(UInt8(truncatingIfNeeded: destinationPort))
        }
        return "1:" + Base64.encode(SHA1.hashOneBlock(&block, length: length))
    }

    /// Byte order of the addresses' network representation, then the ports.
    static func ordered(_ a: IPAddress, _ aPort: UInt16, _ b: IPAddress, _ bPort: UInt16) -> Bool {
        if a.high != b.high { return a.high < b.high }
        if a.low != b.low { return a.low < b.low }
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
    /// The digest of the first `length` (at most 55) bytes of `block`, padded in place: one
    /// compression, no heap allocation but the result.
    static func hashOneBlock(_ block: inout InlineArray<64, UInt8>, length: Int) -> [UInt8] {
        precondition(length <= 55, "one SHA-1 block holds at most 55 message bytes")
        block[length] = 0x80
        for i in (length + 1)..<56 { block[i] = 0 }
        let bits = UInt64(length) * 8
        for i in 0..<8 { block[56 + i] = UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * i)) }
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        compress(&h, block)
        return digestBytes(h)
    }

    public static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var data = message
        let bitLength = UInt64(message.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var block = InlineArray<64, UInt8>(repeating: 0)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<64 { block[i] = data[chunk + i] }
            compress(&h, block)
        }
        return digestBytes(h)
    }

    static func digestBytes(_ h: (UInt32, UInt32, UInt32, UInt32, UInt32)) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out.append(UInt8(word >> 24)); out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8)); out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    /// One SHA-1 compression of a 64-byte block into the state `h`.
    static func compress(_ h: inout (UInt32, UInt32, UInt32, UInt32, UInt32), _ block: InlineArray<64, UInt8>) {
        var w = InlineArray<80, UInt32>(repeating: 0)
        for i in 0..<16 {
            w[i] = UInt32(block[i * 4]) << 24 | UInt32(block[i * 4 + 1]) << 16 | UInt32(block[i * 4 + 2]) << 8 | UInt32(block[i * 4 + 3])
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
