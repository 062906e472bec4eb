/// Builds a pcapng file in memory: sections of either byte order, interfaces with their own link
/// type, snapshot length, timestamp unit and offset, and packet blocks of the three kinds; any
/// other block can be added raw (tests use that for unknown block types).
public struct PcapngWriter: Sendable {
    /// The file so far (or since it was last emptied).
    public var bytes: [UInt8]
    /// Byte order of the current section.
    public private(set) var byteOrder: ByteOrder
    /// Interfaces of the current section, in declaration order.
    public private(set) var interfaces: [CaptureInterface] = []
    private var sectionCount = 0

    /// Starts a file with its first Section Header Block.
    public init(byteOrder: ByteOrder = .littleEndian) {
        bytes = []
        bytes.reserveCapacity(4096)
        self.byteOrder = byteOrder
        beginSection(byteOrder: byteOrder)
    }

    /// Starts a new section (version 1.0, section length unknown); interface numbering restarts.
    public mutating func beginSection(byteOrder: ByteOrder) {
        self.byteOrder = byteOrder
        interfaces.removeAll()
        sectionCount += 1
        var body: [UInt8] = []
        body.append(UInt32(0x1A2B_3C4D), as: byteOrder)
        body.append(UInt16(1), as: byteOrder)
        body.append(UInt16(0), as: byteOrder)
        body.append(UInt64.max, as: byteOrder)  // section length: not given
        appendBlock(type: 0x0A0D_0D0A, body: body)
    }

    /// Declares an interface in the current section.
    /// - Parameters:
    ///   - snapshotLength: 0 for no limit; packets are cut to it otherwise.
    ///   - resolution: written as `if_tsresol` when given (readers assume microseconds otherwise).
    ///   - timestampOffset: written as `if_tsoffset` (seconds) when not 0.
    ///   - name: written as `if_name` when given.
    /// - Returns: the interface's number in its section.
    @discardableResult
    public mutating func addInterface(linkType: LinkType, snapshotLength: UInt32 = 0,
                                      resolution: TimestampResolution? = nil, timestampOffset: Int64 = 0,
                                      name: String? = nil) -> Int {
        var body: [UInt8] = []
        body.append(UInt16(truncatingIfNeeded: linkType.rawValue), as: byteOrder)
        body.append(UInt16(0), as: byteOrder)
        body.append(snapshotLength, as: byteOrder)
        if let name {
            let utf8 = Array(name.utf8.prefix(65_535))
            appendOption(&body, code: 2, value: utf8)
        }
        if let resolution { appendOption(&body, code: 9, value: [resolution.rawValue]) }
        if timestampOffset != 0 {
            var value: [UInt8] = []
            value.append(UInt64(bitPattern: timestampOffset), as: byteOrder)
            appendOption(&body, code: 14, value: value)
        }
        if body.count > 8 { appendOption(&body, code: 0, value: []) }
        appendBlock(type: 1, body: body)
        let number = interfaces.count
        interfaces.append(CaptureInterface(
            id: number, section: sectionCount - 1, idInSection: number, linkType: linkType,
            snapshotLength: snapshotLength, name: name, timestampResolution: resolution ?? .microseconds,
            timestampOffset: timestampOffset))
        return number
    }

    private func appendOption(_ body: inout [UInt8], code: UInt16, value: [UInt8]) {
        body.append(code, as: byteOrder)
        body.append(UInt16(value.count), as: byteOrder)
        body.append(contentsOf: value)
        body.appendPadding()
    }

    private func captured(_ count: Int, interface: Int) -> Int {
        let snapshot = Int(interfaces[interface].snapshotLength)
        return snapshot == 0 ? count : min(count, snapshot)
    }

    /// The tick count stored for `timestamp` (nanoseconds since the epoch) on `interface`.
    private func ticks(_ timestamp: Int64, interface: Int) -> UInt64 {
        let described = interfaces[interface]
        return TimestampScale.ticks(nanoseconds: timestamp, resolution: described.timestampResolution,
                                    offsetSeconds: described.timestampOffset)
    }

    /// Appends an Enhanced Packet Block.
    /// - Parameters:
    ///   - interface: a number `addInterface` returned in this section.
    ///   - timestamp: nanoseconds since the epoch, stored in the interface's unit (rounded down).
    ///   - originalLength: the length on the wire; `data.count` when nil.
    public mutating func appendEnhancedPacket(interface: Int, timestamp: Int64, data: some Collection<UInt8>,
                                              originalLength: Int? = nil) {
        precondition(interfaces.indices.contains(interface), "no interface \(interface) in this section")
        let kept = captured(data.count, interface: interface)
        let stamp = ticks(timestamp, interface: interface)
        var body: [UInt8] = []
        body.reserveCapacity(20 + kept + 3)
        body.append(UInt32(interface), as: byteOrder)
        body.append(UInt32(truncatingIfNeeded: stamp >> 32), as: byteOrder)
        body.append(UInt32(truncatingIfNeeded: stamp), as: byteOrder)
        body.append(UInt32(kept), as: byteOrder)
        body.append(UInt32(clamping: originalLength ?? data.count), as: byteOrder)
        body.append(contentsOf: data.prefix(kept))
        appendBlock(type: 6, body: body)
    }

    /// Appends a Simple Packet Block (interface 0 of the section, no timestamp).
    public mutating func appendSimplePacket(data: some Collection<UInt8>, originalLength: Int? = nil) {
        precondition(!interfaces.isEmpty, "a simple packet block needs interface 0")
        let kept = captured(data.count, interface: 0)
        var body: [UInt8] = []
        body.reserveCapacity(4 + kept + 3)
        body.append(UInt32(clamping: originalLength ?? data.count), as: byteOrder)
        body.append(contentsOf: data.prefix(kept))
        appendBlock(type: 3, body: body)
    }

    /// Appends an obsolete Packet Block (block type 2; drops count 0).
    public mutating func appendObsoletePacket(interface: Int, timestamp: Int64, data: some Collection<UInt8>,
                                              originalLength: Int? = nil) {
        precondition(interfaces.indices.contains(interface), "no interface \(interface) in this section")
        let kept = captured(data.count, interface: interface)
        let stamp = ticks(timestamp, interface: interface)
        var body: [UInt8] = []
        body.append(UInt16(interface), as: byteOrder)
        body.append(UInt16(0), as: byteOrder)
        body.append(UInt32(truncatingIfNeeded: stamp >> 32), as: byteOrder)
        body.append(UInt32(truncatingIfNeeded: stamp), as: byteOrder)
        body.append(UInt32(kept), as: byteOrder)
        body.append(UInt32(clamping: originalLength ?? data.count), as: byteOrder)
        body.append(contentsOf: data.prefix(kept))
        appendBlock(type: 2, body: body)
    }

    /// Appends a block of any type: type, total length, `body` padded to 4 bytes, total length.
    public mutating func appendBlock(type: UInt32, body: some Collection<UInt8>) {
        let padded = (body.count + 3) & ~3
        let length = UInt32(12 + padded)
        bytes.append(type, as: byteOrder)
        bytes.append(length, as: byteOrder)
        bytes.append(contentsOf: body)
        bytes.appendPadding()
        bytes.append(length, as: byteOrder)
    }

    /// Writes `bytes` to `path` (replacing it, or appending to it).
    /// - Throws: ``CaptureFileError/io(path:operation:errno:message:)``.
    public func write(to path: String, appending: Bool = false) throws(CaptureFileError) {
        try ByteSource.writeFile(path: path, bytes: bytes, append: appending)
    }
}
