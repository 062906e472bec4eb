// Big-endian writers and the Internet checksum (RFC 1071) that every layer of the builder uses.

import Packets

extension Array where Element == UInt8 {
    @inlinable
    mutating func appendBigEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inlinable
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    @inlinable
    mutating func appendLittleEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    @inlinable
    mutating func appendLittleEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }

    @inlinable
    mutating func setBigEndian(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of the
/// data taken as big-endian 16-bit words, an odd last byte padded with zero.
public enum InternetChecksum {
    /// Adds `bytes` to a running 32-bit sum without folding (call ``finish(_:)`` at the end).
    /// An odd-length chunk is padded with a zero byte, so only the last chunk may be odd.
    public static func add(_ bytes: some Collection<UInt8>, to sum: UInt32 = 0) -> UInt32 {
        var sum = UInt64(sum)
        var high = true
        for byte in bytes {
            sum += high ? UInt64(byte) << 8 : UInt64(byte)
            high.toggle()
        }
        while sum > 0xFFFF_FFFF { sum = (sum & 0xFFFF_FFFF) + (sum >> 32) }
        return UInt32(sum)
    }

    /// Folds a running sum to 16 bits and complements it: the value to store in a header.
    public static func finish(_ sum: UInt32) -> UInt16 {
        var folded = sum
        while folded > 0xFFFF { folded = (folded & 0xFFFF) + (folded >> 16) }
        return ~UInt16(folded)
    }

    /// The checksum of `bytes` (with an optional pseudo-header sum already added).
    public static func compute(_ bytes: some Collection<UInt8>, pseudoHeaderSum: UInt32 = 0) -> UInt16 {
        finish(add(bytes, to: pseudoHeaderSum))
    }

    /// The sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 793 3.1, RFC 8200 8.1): both addresses,
    /// the upper-layer length and the protocol number. Both addresses must be of one family.
    public static func pseudoHeaderSum(source: IPAddress, destination: IPAddress, protocol proto: UInt8, length: Int) -> UInt32 {
        var header: [UInt8] = source.bytes + destination.bytes
        if source.isIPv4 {
            header.append(0)
            header.append(proto)
            header.appendBigEndian(UInt16(truncatingIfNeeded: length))
        } else {
            header.appendBigEndian(UInt32(truncatingIfNeeded: length))
            header += [0, 0, 0, proto]
        }
        return add(header)
    }
}
