/// An IPv4 or IPv6 address as a 128-bit value.
///
/// IPv6 addresses are stored as they are. IPv4 addresses are stored in the IPv4-mapped form
/// `::ffff:a.b.c.d` with ``isIPv4`` set, so one comparison, hash and prefix table serves both
/// families; the flag keeps an IPv6 packet that carries a mapped address apart from an IPv4 one.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// The upper 64 bits (network order: the first 8 bytes of the IPv6 address).
    public var high: UInt64
    /// The lower 64 bits.
    public var low: UInt64
    /// True for an address that came from (or is written as) IPv4.
    public var isIPv4: Bool

    @inlinable
    public init(high: UInt64, low: UInt64, isIPv4: Bool = false) {
        self.high = high
        self.low = low
        self.isIPv4 = isIPv4
    }

    /// An IPv4 address from its 32-bit value in host order (`0x0A000001` is 10.0.0.1).
    @inlinable
    public init(ipv4 value: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(value)
        self.isIPv4 = true
    }

    /// The IPv4 value in host order; meaningful only when ``isIPv4``.
    @inlinable
    public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Reads an IPv4 address (4 bytes) at `offset`. The caller has checked the length.
    @inlinable @inline(__always)
    package static func ipv4(_ bytes: Span<UInt8>, at offset: Int) -> IPAddress {
        IPAddress(ipv4: bytes.bigEndianUInt32(at: offset))
    }

    /// Reads an IPv6 address (16 bytes) at `offset`. The caller has checked the length.
    @inlinable @inline(__always)
    package static func ipv6(_ bytes: Span<UInt8>, at offset: Int) -> IPAddress {
        IPAddress(high: bytes.bigEndianUInt64(at: offset), low: bytes.bigEndianUInt64(at: offset + 8))
    }

    @inlinable
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.isIPv4 != b.isIPv4 { return a.isIPv4 }
        if a.high != b.high { return a.high < b.high }
        return a.low < b.low
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        if isIPv4 {
            let v = ipv4Value
            return [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return out
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad for IPv4; RFC 5952 text (lower case, longest zero run compressed) for IPv6.
    public var description: String {
        if isIPv4 {
            let v = ipv4Value
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        }
        var groups: [UInt16] = []
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: low >> UInt64(shift))) }
        // Longest run of zero groups (length >= 2), first one on ties (RFC 5952 4.2.3).
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                let length = i - runStart
                if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        // An IPv4-mapped IPv6 address is written ::ffff:a.b.c.d (RFC 5952 5).
        if high == 0 && (low >> 32) == 0xFFFF {
            let v = UInt32(truncatingIfNeeded: low)
            return "::ffff:\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[i], radix: 16)
            i += 1
        }
        return text
    }
}

extension IPAddress {
    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::` and an embedded IPv4 tail);
    /// returns nil for anything else. A zone (`%eth0`) is not accepted.
    public init?(_ text: some StringProtocol) {
        let s = String(text)
        if s.contains(":") {
            guard let v = IPAddress.parseIPv6(s) else { return nil }
            self = v
        } else {
            guard let v = IPAddress.parseIPv4(s) else { return nil }
            self.init(ipv4: v)
        }
    }

    static func parseIPv4(_ s: String) -> UInt32? {
        // Four decimal octets, one byte at a time (sites list thousands of addresses).
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                // Leading zeros are ambiguous (octal in some parsers): refuse them.
                if digits == 1 && octet == 0 { return nil }
                digits += 1
                guard digits <= 3 else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "."):
                guard digits > 0, octet <= 255, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            default:
                return nil
            }
        }
        guard dots == 3, digits > 0, octet <= 255 else { return nil }
        return value << 8 | octet
    }

    static func parseIPv6(_ s: String) -> IPAddress? {
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        var seenDoubleColon = false
        if let range = s.firstRange(of: "::") {
            seenDoubleColon = true
            let head = s[s.startIndex..<range.lowerBound]
            let rest = s[range.upperBound...]
            if rest.contains("::") { return nil }
            guard let h = parseGroups(head, allowIPv4Tail: rest.isEmpty), let t = parseGroups(rest, allowIPv4Tail: true) else { return nil }
            groups = h
            tail = t
            if groups.count + tail.count > 7 { return nil }
        } else {
            guard let g = parseGroups(Substring(s), allowIPv4Tail: true), g.count == 8 else { return nil }
            groups = g
        }
        if seenDoubleColon {
            groups += Array(repeating: 0, count: 8 - groups.count - tail.count) + tail
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<4 { high = high << 16 | UInt64(groups[i]) }
        for i in 4..<8 { low = low << 16 | UInt64(groups[i]) }
        return IPAddress(high: high, low: low)
    }

    private static func parseGroups(_ s: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if s.isEmpty { return [] }
        var out: [UInt16] = []
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1 && allowIPv4Tail && part.contains(".") {
                guard let v = parseIPv4(String(part)) else { return nil }
                out.append(UInt16(v >> 16))
                out.append(UInt16(v & 0xffff))
                continue
            }
            guard !part.isEmpty, part.count <= 4, let g = UInt16(part, radix: 16) else { return nil }
            out.append(g)
        }
        return out
    }
}
