/// Builds a pcap file in memory: the 24-byte file header, then one record per `append`.
/// Tests, the scenario generator and `--extract` use it; a long capture can be written in pieces
/// by writing `bytes`, emptying it, and writing again with `appending: true`.
public struct PcapWriter: Sendable {
    /// The file so far (or since it was last emptied).
    public var bytes: [UInt8]
    public let linkType: LinkType
    public let snapshotLength: UInt32
    public let nanosecondTimestamps: Bool
    public let byteOrder: ByteOrder

    /// Starts a file by writing its header (version 2.4, thiszone and sigfigs 0).
    /// - Parameters:
    ///   - nanosecondTimestamps: magic `a1b23c4d` instead of `a1b2c3d4`.
    ///   - snapshotLength: also the most bytes a record keeps of a longer packet.
    public init(linkType: LinkType = .ethernet, snapshotLength: UInt32 = 262_144,
                nanosecondTimestamps: Bool = false, byteOrder: ByteOrder = .littleEndian) {
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.nanosecondTimestamps = nanosecondTimestamps
        self.byteOrder = byteOrder
        bytes = []
        bytes.reserveCapacity(4096)
        bytes.append(UInt32(nanosecondTimestamps ? 0xA1B2_3C4D : 0xA1B2_C3D4), as: byteOrder)
        bytes.append(UInt16(2), as: byteOrder)
        bytes.append(UInt16(4), as: byteOrder)
        bytes.append(UInt32(0), as: byteOrder)  // thiszone
        bytes.append(UInt32(0), as: byteOrder)  // sigfigs
        bytes.append(snapshotLength, as: byteOrder)
        bytes.append(linkType.rawValue, as: byteOrder)
    }

    /// Appends one record.
    /// - Parameters:
    ///   - data: the packet's bytes; only the first `snapshotLength` are kept.
    ///   - timestamp: nanoseconds since the epoch (clamped to 0...(2^32 - 1) s; rounded down to
    ///     microseconds unless the file has nanosecond timestamps).
    ///   - originalLength: the length on the wire; `data.count` when nil.
    public mutating func append(_ data: some Collection<UInt8>, timestamp: Int64, originalLength: Int? = nil) {
        let clamped = min(max(timestamp, 0), Int64(UInt32.max) * 1_000_000_000 + 999_999_999)
        let seconds = UInt32(clamped / 1_000_000_000)
        let nanoseconds = UInt32(clamped % 1_000_000_000)
        let captured = min(data.count, Int(snapshotLength))
        bytes.append(seconds, as: byteOrder)
        bytes.append(nanosecondTimestamps ? nanoseconds : nanoseconds / 1000, as: byteOrder)
        bytes.append(UInt32(captured), as: byteOrder)
        bytes.append(UInt32(clamping: originalLength ?? data.count), as: byteOrder)
        bytes.append(contentsOf: data.prefix(captured))
    }

    /// Writes `bytes` to `path` (replacing it, or appending to it).
    /// - Throws: ``CaptureFileError/io(path:operation:errno:message:)``.
    public func write(to path: String, appending: Bool = false) throws(CaptureFileError) {
        try ByteSource.writeFile(path: path, bytes: bytes, append: appending)
    }
}

extension [UInt8] {
    mutating func append(_ value: UInt16, as order: ByteOrder) {
        if order == .bigEndian {
            append(UInt8(truncatingIfNeeded: value >> 8)); append(UInt8(truncatingIfNeeded: value))
        } else {
            append(UInt8(truncatingIfNeeded: value)); append(UInt8(truncatingIfNeeded: value >> 8))
        }
    }

    mutating func append(_ value: UInt32, as order: ByteOrder) {
        if order == .bigEndian {
            append(UInt16(truncatingIfNeeded: value >> 16), as: order); append(UInt16(truncatingIfNeeded: value), as: order)
        } else {
            append(UInt16(truncatingIfNeeded: value), as: order); append(UInt16(truncatingIfNeeded: value >> 16), as: order)
        }
    }

    mutating func append(_ value: UInt64, as order: ByteOrder) {
        if order == .bigEndian {
            append(UInt32(truncatingIfNeeded: value >> 32), as: order); append(UInt32(truncatingIfNeeded: value), as: order)
        } else {
            append(UInt32(truncatingIfNeeded: value), as: order); append(UInt32(truncatingIfNeeded: value >> 32), as: order)
        }
    }

    mutating func appendPadding() {
        while count % 4 != 0 { append(0) }
    }
}
