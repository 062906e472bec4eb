// Big-endian and little-endian loads over `Span<UInt8>`. Every read is bounds checked, also in
// release builds: a header decoder checks the length once, and these reads then never fail.

extension Span where Element == UInt8 {
    /// Reads the byte at `offset`.
    @inlinable @inline(__always)
    package func byte(at offset: Int) -> UInt8 { self[offset] }

    /// Reads a big-endian (network order) `UInt16` at `offset`.
    @inlinable @inline(__always)
    package func bigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// Reads a big-endian (network order) `UInt32` at `offset`.
    @inlinable @inline(__always)
    package func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    /// Reads a big-endian `UInt64` at `offset`.
    @inlinable @inline(__always)
    package func bigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(bigEndianUInt32(at: offset)) << 32 | UInt64(bigEndianUInt32(at: offset + 4))
    }

    /// Reads a little-endian `UInt16` at `offset`.
    @inlinable @inline(__always)
    package func littleEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    /// Reads a little-endian `UInt32` at `offset`.
    @inlinable @inline(__always)
    package func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8
            | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }

    /// Reads a `UInt16` in the given byte order.
    @inlinable @inline(__always)
    package func uint16(at offset: Int, bigEndian: Bool) -> UInt16 {
        bigEndian ? bigEndianUInt16(at: offset) : littleEndianUInt16(at: offset)
    }

    /// Reads a `UInt32` in the given byte order.
    @inlinable @inline(__always)
    package func uint32(at offset: Int, bigEndian: Bool) -> UInt32 {
        bigEndian ? bigEndianUInt32(at: offset) : littleEndianUInt32(at: offset)
    }
}
