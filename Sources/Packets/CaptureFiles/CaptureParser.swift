/// The format state of one input and the record/block walk over a view of its bytes. All reads
/// go through `Span<UInt8>` subscripts (bounds checked); every length from the file is checked
/// before it is used.
struct CaptureParser {
    enum Kind { case pcap, pcapng }

    /// How a batch walk ended.
    enum Step {
        /// The batch holds ``CaptureFileReader/batchLimit`` packets.
        case batchFull
        /// The next record or block needs this many bytes from its start, more than the view has.
        case needBytes(Int)
        /// The next record or block is corrupt.
        case failed(CaptureFileError)
    }

    static let pcapHeaderLength = 24
    static let pcapRecordHeaderLength = 16
    static let blockHeaderLength = 8

    let path: String
    let kind: Kind
    var summary: CaptureFileSummary
    /// Packets per interface, indexed like `summary.interfaces`.
    var interfacePackets: [Int] = []

    // pcap
    private var bigEndian = false
    private var fractionScale: Int64 = 1000
    /// 0: lengths in order; 1: caplen and len swapped (before 2.3, and 543.0); 2: swapped when
    /// caplen > len (2.3, written both ways).
    private var lengthOrder: UInt8 = 0
    private var pcapLinkType = LinkType.ethernet
    private var maximumCapturedLength = CaptureFileReader.maximumPcapRecord

    // pcapng
    private struct SectionInterface {
        var linkType: LinkType
        var snapshotLength: UInt32
        var scale: TimestampScale
        var id: Int
    }
    private var sectionInterfaces: [SectionInterface] = []
    private var sections = 0
    private var littleEndianSections = 0
    private var bigEndianSections = 0
    private var previousTimestamp: Int64 = 0
    /// While skipping the bytes after a pcapng block whose length is impossible, looking for the
    /// next sound block: that block's error (it ends the input if no sound block follows).
    private var resyncError: CaptureFileError?

    /// True while the pcapng walk skips corrupt bytes in search of the next sound block.
    var resynchronising: Bool { resyncError != nil }

    init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
        self.summary = CaptureFileSummary(path: path)
        if kind == .pcapng { summary.format = .pcapng(littleEndianSections: 0, bigEndianSections: 0) }
    }

    static func detect(_ magic: [UInt8]) -> Kind? {
        guard magic.count == 4 else { return nil }
        switch (magic[0], magic[1], magic[2], magic[3]) {
        case (0xD4, 0xC3, 0xB2, 0xA1), (0xA1, 0xB2, 0xC3, 0xD4), (0x4D, 0x3C, 0xB2, 0xA1), (0xA1, 0xB2, 0x3C, 0x4D):
            return .pcap
        case (0x0A, 0x0D, 0x0D, 0x0A):
            return .pcapng
        default:
            return nil
        }
    }

    /// Bytes needed to look at the next record or block.
    var headerLength: Int { kind == .pcap ? Self.pcapRecordHeaderLength : Self.blockHeaderLength }

    /// True while a pcapng file's first section header has not been read.
    var insideFileHeader: Bool { kind == .pcapng && sections == 0 }

    mutating func warn(_ warning: CaptureFileWarning) {
        if summary.warnings.count < CaptureFileSummary.warningLimit {
            summary.warnings.append(warning)
        } else {
            summary.omittedWarnings += 1
        }
    }

    /// The input ends `available` bytes into a `length`-byte record or block at `offset`: a
    /// warning, or an error when that is the file's first section header.
    mutating func endsInside(offset: Int64, available: Int, length: Int) -> CaptureFileError? {
        if let error = resyncError {
            // No sound block after the corrupt one: it ends the input, as it would have at once.
            resyncError = nil
            return error
        }
        if insideFileHeader {
            return .badFileHeader(path: path, offset: offset, reason: "input ends after \(available) bytes, "
                + "inside the \(length)-byte section header block")
        }
        warn(.truncatedRecord(path: path, offset: offset, available: available, length: length))
        return nil
    }

    /// The earliest timestamp a packet keeps: 1970-01-01T00:00:00Z.
    static let earliestTimestamp: Int64 = 0
    /// The latest timestamp a packet keeps: 2106-02-07T06:28:15.999999999Z, the end of pcap's
    /// 32-bit seconds. Inside [earliest, latest], adding any timeout, TTL (32-bit seconds) or
    /// grace period of the pipeline stays far from `Int64.max`.
    static let latestTimestamp: Int64 = Int64(UInt32.max) * 1_000_000_000 + 999_999_999

    /// `timestamp` clamped into [``earliestTimestamp``, ``latestTimestamp``]; a clamped one is
    /// counted, and the first of the input is reported with the offset of its record or block.
    @inline(__always)
    mutating func clamp(_ timestamp: Int64, at offset: Int64) -> Int64 {
        if timestamp >= Self.earliestTimestamp && timestamp <= Self.latestTimestamp { return timestamp }
        summary.clampedTimestamps += 1
        if summary.clampedTimestamps == 1 {
            warn(.timestampOutOfRange(path: path, offset: offset, nanoseconds: timestamp))
        }
        return timestamp < Self.earliestTimestamp ? Self.earliestTimestamp : Self.latestTimestamp
    }

    /// Reports a block whose length is sound but whose content is not, which the walk skips.
    mutating func skipBlock(at offset: Int64, reason: String) {
        summary.skippedBlocks += 1
        warn(.skippedBlock(path: path, offset: offset, reason: reason))
    }

    // MARK: - pcap

    /// Reads the 24-byte pcap file header at the start of `view` (the caller checked its length).
    mutating func readPcapHeader(_ view: Span<UInt8>) -> Result<Void, CaptureFileError> {
        let magic = view.bigEndianUInt32(at: 0)
        bigEndian = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D
        let nanoseconds = magic == 0x4D3C_B2A1 || magic == 0xA1B2_3C4D
        fractionScale = nanoseconds ? 1 : 1000
        let major = view.uint16(at: 4, bigEndian: bigEndian)
        let minor = view.uint16(at: 6, bigEndian: bigEndian)
        let snapshotLength = view.uint32(at: 16, bigEndian: bigEndian)
        let field = view.uint32(at: 20, bigEndian: bigEndian)
        // libpcap reads 2.x with x <= 4 and DG/UX's 543.0; it rejects a newer minor version, which
        // we read as 2.4 with a warning, and any other major version, which we reject too.
        switch (major, minor) {
        case (2, 4):
            lengthOrder = 0
        case (2, 0...2), (543, 0):
            lengthOrder = 1
            warn(.unusualVersion(path: path, major: major, minor: minor))
        case (2, 3):
            lengthOrder = 2
            warn(.unusualVersion(path: path, major: major, minor: minor))
        case (2, _):
            lengthOrder = 0
            warn(.unusualVersion(path: path, major: major, minor: minor))
        default:
            return .failure(.badFileHeader(path: path, offset: 4,
                                           reason: "unsupported pcap version \(major).\(minor) (expected 2.4)"))
        }
        // The upper 16 bits carry FCS information (and reserved bits): the link type is the low 16
        // bits, as libpcap's LT_LINKTYPE takes it.
        if field & 0x03FF_0000 != 0 { warn(.reservedLinkTypeBits(path: path, field: field)) }
        pcapLinkType = LinkType(rawValue: field & 0xFFFF)
        if Int(snapshotLength) > maximumCapturedLength {
            maximumCapturedLength = min(Int(snapshotLength), CaptureFileReader.maximumBlockLength)
        }
        summary.format = .pcap(byteOrder: bigEndian ? .bigEndian : .littleEndian,
                               nanosecondTimestamps: nanoseconds, versionMajor: major, versionMinor: minor)
        summary.interfaces = [CaptureInterface(id: 0, linkType: pcapLinkType, snapshotLength: snapshotLength,
                                               timestampResolution: nanoseconds ? .nanoseconds : .microseconds)]
        interfacePackets = [0]
        return .success(())
    }

    /// Walks the records wholly inside `view`, appending up to a batch of packets.
    /// - Parameters:
    ///   - base: the input offset of `view`'s first byte.
    ///   - consumed: set to the bytes of the records walked.
    mutating func parseBatch(_ view: Span<UInt8>, base: Int64, into packets: inout [CapturedPacket],
                             consumed: inout Int) -> Step {
        let step = kind == .pcap
            ? parsePcapRecords(view, base: base, into: &packets, consumed: &consumed)
            : parseBlocks(view, base: base, into: &packets, consumed: &consumed)
        if let first = packets.first, let last = packets.last {
            if summary.firstTimestamp == nil { summary.firstTimestamp = first.timestamp }
            summary.lastTimestamp = last.timestamp
            summary.packets += packets.count
        }
        return step
    }

    private mutating func parsePcapRecords(_ view: Span<UInt8>, base: Int64, into packets: inout [CapturedPacket],
                                           consumed: inout Int) -> Step {
        let count = view.count
        let bigEndian = self.bigEndian
        let linkType = pcapLinkType
        let scale = fractionScale
        let maximum = maximumCapturedLength
        var offset = 0
        var captured: Int64 = 0
        var original: Int64 = 0
        var batch = 0
        defer {
            consumed = offset
            summary.capturedBytes += captured
            summary.originalBytes += original
            interfacePackets[0] += batch
        }
        while batch < CaptureFileReader.batchLimit {
            guard count - offset >= 16 else { return .needBytes(16) }
            var capturedLength = Int(view.uint32(at: offset + 8, bigEndian: bigEndian))
            var originalLength = Int(view.uint32(at: offset + 12, bigEndian: bigEndian))
            if lengthOrder != 0 && (lengthOrder == 1 || capturedLength > originalLength) {
                swap(&capturedLength, &originalLength)
            }
            guard capturedLength <= maximum else {
                return .failed(.badRecordLength(
                    path: path, offset: base + Int64(offset), length: UInt64(capturedLength),
                    reason: "record captured length \(capturedLength) exceeds the maximum \(maximum)"))
            }
            guard count - offset - 16 >= capturedLength else { return .needBytes(16 + capturedLength) }
            let seconds = Int64(view.uint32(at: offset, bigEndian: bigEndian))
            let fraction = Int64(view.uint32(at: offset + 4, bigEndian: bigEndian))
            // seconds < 2^32 and fraction < 2^32: the sum stays below 2^63.
            var timestamp = seconds &* 1_000_000_000 &+ fraction &* scale
            if timestamp > Self.latestTimestamp { timestamp = clamp(timestamp, at: base + Int64(offset)) }
            packets.append(CapturedPacket(
                timestamp: timestamp,
                capturedLength: capturedLength, originalLength: originalLength, linkType: linkType,
                interface: 0, dataOffset: offset + 16, fileOffset: base + Int64(offset)))
            captured += Int64(capturedLength)
            original += Int64(originalLength)
            batch += 1
            offset += 16 + capturedLength
        }
        return .batchFull
    }

    // MARK: - pcapng

    private enum BlockType {
        static let sectionHeader: UInt32 = 0x0A0D_0D0A
        static let interfaceDescription: UInt32 = 1
        static let obsoletePacket: UInt32 = 2
        static let simplePacket: UInt32 = 3
        static let enhancedPacket: UInt32 = 6
    }

    private static func blockName(_ type: UInt32) -> String {
        switch type {
        case BlockType.sectionHeader: return "section header block"
        case BlockType.interfaceDescription: return "interface description block"
        case BlockType.obsoletePacket: return "packet block"
        case BlockType.simplePacket: return "simple packet block"
        case BlockType.enhancedPacket: return "enhanced packet block"
        default: return "block"
        }
    }

    @inline(__always)
    private static func minimumLength(_ type: UInt32) -> UInt32 {
        switch type {
        case BlockType.sectionHeader: return 28
        case BlockType.interfaceDescription: return 20
        case BlockType.obsoletePacket, BlockType.enhancedPacket: return 32
        case BlockType.simplePacket: return 16
        default: return 12
        }
    }

    private mutating func parseBlocks(_ view: Span<UInt8>, base: Int64, into packets: inout [CapturedPacket],
                                      consumed: inout Int) -> Step {
        let count = view.count
        var offset = 0
        var captured: Int64 = 0
        var original: Int64 = 0
        defer {
            consumed = offset
            summary.capturedBytes += captured
            summary.originalBytes += original
        }
        while packets.count < CaptureFileReader.batchLimit {
            let remaining = count - offset
            guard remaining >= 8 else { return .needBytes(8) }
            let at = base + Int64(offset)
            let type: UInt32
            var order = bigEndian
            if view.bigEndianUInt32(at: offset) == BlockType.sectionHeader {
                type = BlockType.sectionHeader
                guard remaining >= 12 else { return .needBytes(12) }
                switch view.bigEndianUInt32(at: offset + 8) {
                case 0x1A2B_3C4D: order = true
                case 0x4D3C_2B1A: order = false
                default:
                    let magic = (0..<4).map { hexByte(view[offset + 8 + $0]) }.joined(separator: " ")
                    let error = CaptureFileError.badFileHeader(
                        path: path, offset: at, reason: "section header byte-order magic \(magic) is not 1a 2b 3c 4d in either order")
                    if insideFileHeader { return .failed(error) }
                    if let step = resynchronise(view, from: &offset, after: error) { return step }
                    continue
                }
            } else {
                type = view.uint32(at: offset, bigEndian: order)
            }
            let length = view.uint32(at: offset + 4, bigEndian: order)
            if length & 3 != 0 || length < Self.minimumLength(type) || length > CaptureFileReader.maximumBlockLength {
                let error = CaptureFileError.badRecordLength(path: path, offset: at, length: UInt64(length),
                                                             reason: Self.lengthProblem(length, type: type))
                if insideFileHeader { return .failed(error) }
                if let step = resynchronise(view, from: &offset, after: error) { return step }
                continue
            }
            let blockLength = Int(length)
            guard remaining >= blockLength else { return .needBytes(blockLength) }
            let trailer = view.uint32(at: offset + blockLength - 4, bigEndian: order)
            guard trailer == length else {
                let error = CaptureFileError.badRecordLength(
                    path: path, offset: at, length: UInt64(length),
                    reason: "\(Self.blockName(type)) length \(length) disagrees with its trailing length \(trailer)")
                if insideFileHeader { return .failed(error) }
                if let step = resynchronise(view, from: &offset, after: error) { return step }
                continue
            }
            if let error = resyncError, let start = error.offset {
                // A sound block after corrupt bytes: reading goes on from here.
                resyncError = nil
                summary.skippedBlocks += 1
                warn(.resynchronised(path: path, offset: start, resumedAt: at, problem: Self.problem(error)))
            }
            switch type {
            case BlockType.enhancedPacket, BlockType.obsoletePacket:
                // The obsolete Packet Block has the same layout with a 16-bit interface id
                // followed by a 16-bit drops count.
                let obsolete = type == BlockType.obsoletePacket
                let interface = obsolete ? UInt32(view.uint16(at: offset + 8, bigEndian: order))
                    : view.uint32(at: offset + 8, bigEndian: order)
                let high = view.uint32(at: offset + 12, bigEndian: order)
                let low = view.uint32(at: offset + 16, bigEndian: order)
                let capturedLength = Int(view.uint32(at: offset + 20, bigEndian: order))
                let originalLength = Int(view.uint32(at: offset + 24, bigEndian: order))
                let room = blockLength - 32
                // The block's own length is sound, so the next block is found: a bad field only
                // costs this block (reported), not the rest of the file.
                guard capturedLength <= room else {
                    skipBlock(at: at, reason: "\(obsolete ? "packet block" : "enhanced packet block") captured length "
                        + "\(capturedLength) exceeds the block's \(room) bytes of packet data")
                    offset += blockLength
                    continue
                }
                guard Int(interface) < sectionInterfaces.count else {
                    skipBlock(at: at, reason: "packet block names interface \(interface), which no Interface Description "
                        + "Block of its section declares")
                    offset += blockLength
                    continue
                }
                let described = sectionInterfaces[Int(interface)]
                let timestamp = clamp(described.scale.nanoseconds(UInt64(high) << 32 | UInt64(low)), at: at)
                previousTimestamp = timestamp
                packets.append(CapturedPacket(
                    timestamp: timestamp, capturedLength: capturedLength, originalLength: originalLength,
                    linkType: described.linkType, interface: described.id, dataOffset: offset + 28, fileOffset: at))
                interfacePackets[described.id] += 1
                captured += Int64(capturedLength)
                original += Int64(originalLength)
            case BlockType.simplePacket:
                guard let described = sectionInterfaces.first else {
                    skipBlock(at: at, reason: "simple packet block before any Interface Description Block of its section")
                    offset += blockLength
                    continue
                }
                let originalLength = Int(view.uint32(at: offset + 8, bigEndian: order))
                var capturedLength = min(originalLength, blockLength - 16)
                if described.snapshotLength != 0 { capturedLength = min(capturedLength, Int(described.snapshotLength)) }
                // A simple packet block has no timestamp: it takes the previous packet's.
                packets.append(CapturedPacket(
                    timestamp: previousTimestamp, capturedLength: capturedLength, originalLength: originalLength,
                    linkType: described.linkType, interface: described.id, dataOffset: offset + 12, fileOffset: at))
                interfacePackets[described.id] += 1
                captured += Int64(capturedLength)
                original += Int64(originalLength)
            case BlockType.interfaceDescription:
                if let error = readInterface(view, at: offset, length: blockLength, base: base) {
                    return .failed(error)
                }
            case BlockType.sectionHeader:
                let major = view.uint16(at: offset + 12, bigEndian: order)
                let minor = view.uint16(at: offset + 14, bigEndian: order)
                guard major == 1 else {
                    return .failed(.badFileHeader(path: path, offset: at,
                                                  reason: "unsupported pcapng section header version \(major).\(minor) (expected 1.0)"))
                }
                if minor != 0 && minor != 2 {
                    warn(.unusualSectionVersion(path: path, offset: at, major: major, minor: minor))
                }
                bigEndian = order
                sections += 1
                if order { bigEndianSections += 1 } else { littleEndianSections += 1 }
                summary.format = .pcapng(littleEndianSections: littleEndianSections, bigEndianSections: bigEndianSections)
                sectionInterfaces.removeAll(keepingCapacity: true)
            default:
                break  // every other block is skipped by its length
            }
            offset += blockLength
        }
        return .batchFull
    }

    /// Skips forward from the corrupt block at `offset`, 4 bytes at a time (blocks are 32-bit
    /// aligned), to the next position that holds a plausible block: a known block type, a sound
    /// length and, when the view holds the whole block, a matching trailing length. Linear in
    /// the bytes skipped.
    /// - Returns: nil with `offset` at that block; `.needBytes` with `offset` past the bytes
    ///   ruled out when the view ends first (the walk goes on with the next view).
    private mutating func resynchronise(_ view: Span<UInt8>, from offset: inout Int, after error: CaptureFileError) -> Step? {
        if resyncError == nil { resyncError = error }
        var position = offset + 4
        while view.count - position >= 12 {
            if plausibleBlock(view, at: position) {
                offset = position
                return nil
            }
            position += 4
        }
        offset = position
        return .needBytes(12)
    }

    /// True when a block that looks sound starts at `position` (at least 12 bytes remain).
    private func plausibleBlock(_ view: Span<UInt8>, at position: Int) -> Bool {
        var order = bigEndian
        let type: UInt32
        if view.bigEndianUInt32(at: position) == BlockType.sectionHeader {
            switch view.bigEndianUInt32(at: position + 8) {
            case 0x1A2B_3C4D: order = true
            case 0x4D3C_2B1A: order = false
            default: return false
            }
            type = BlockType.sectionHeader
        } else {
            type = view.uint32(at: position, bigEndian: order)
            // Interface description, packet, simple packet, name resolution, interface
            // statistics, enhanced packet, decryption secrets.
            guard (1...6).contains(type) || type == 10 else { return false }
        }
        let length = view.uint32(at: position + 4, bigEndian: order)
        guard length & 3 == 0, length >= Self.minimumLength(type), length <= CaptureFileReader.maximumBlockLength else {
            return false
        }
        let blockLength = Int(length)
        guard view.count - position >= blockLength else { return true }  // checked in full when its bytes are in
        return view.uint32(at: position + blockLength - 4, bigEndian: order) == length
    }

    /// An error's problem without the input's name and offset.
    private static func problem(_ error: CaptureFileError) -> String {
        switch error {
        case .badRecordLength(_, _, _, let reason), .badFileHeader(_, _, let reason): return reason
        default: return error.description
        }
    }

    /// Why an impossible block length is impossible (only called for one).
    private static func lengthProblem(_ length: UInt32, type: UInt32) -> String {
        let name = blockName(type)
        if length % 4 != 0 { return "\(name) length \(length) is not a multiple of 4" }
        let minimum = minimumLength(type)
        if length < minimum { return "\(name) length \(length) is less than the minimum \(minimum)" }
        return "\(name) length \(length) exceeds the maximum \(CaptureFileReader.maximumBlockLength)"
    }

    private static func uint64(_ view: Span<UInt8>, at offset: Int, bigEndian: Bool) -> UInt64 {
        let first = UInt64(view.uint32(at: offset, bigEndian: bigEndian))
        let second = UInt64(view.uint32(at: offset + 4, bigEndian: bigEndian))
        return bigEndian ? first << 32 | second : second << 32 | first
    }

    /// Reads an Interface Description Block (its length was checked: at least 20 bytes).
    private mutating func readInterface(_ view: Span<UInt8>, at offset: Int, length: Int, base: Int64) -> CaptureFileError? {
        let at = base + Int64(offset)
        guard summary.interfaces.count < CaptureFileReader.maximumInterfaces else {
            return .tooManyInterfaces(path: path, offset: at, limit: CaptureFileReader.maximumInterfaces)
        }
        let order = bigEndian
        let linkType = LinkType(rawValue: UInt32(view.uint16(at: offset + 8, bigEndian: order)))
        let snapshotLength = view.uint32(at: offset + 12, bigEndian: order)
        var name: String?
        var resolution = TimestampResolution.microseconds
        var timestampOffset: Int64 = 0
        var option = offset + 16
        let end = offset + length - 4
        while end - option >= 4 {
            let code = view.uint16(at: option, bigEndian: order)
            let size = Int(view.uint16(at: option + 2, bigEndian: order))
            if code == 0 { break }
            let padded = (size + 3) & ~3
            guard end - option - 4 >= padded else {
                warn(.optionOverrun(path: path, offset: at, blockType: BlockType.interfaceDescription))
                break
            }
            let value = option + 4
            switch code {
            case 2:  // if_name
                var bytes: [UInt8] = []
                for index in 0..<min(size, 256) where view[value + index] != 0 { bytes.append(view[value + index]) }
                name = String(decoding: bytes, as: UTF8.self)
            case 9 where size >= 1:  // if_tsresol
                resolution = TimestampResolution(rawValue: view[value])
            case 14 where size >= 8:  // if_tsoffset
                timestampOffset = Int64(bitPattern: Self.uint64(view, at: value, bigEndian: order))
            default:
                break
            }
            option = value + padded
        }
        let id = summary.interfaces.count
        summary.interfaces.append(CaptureInterface(
            id: id, section: sections - 1, idInSection: sectionInterfaces.count, linkType: linkType,
            snapshotLength: snapshotLength, name: name, timestampResolution: resolution,
            timestampOffset: timestampOffset))
        interfacePackets.append(0)
        sectionInterfaces.append(SectionInterface(
            linkType: linkType, snapshotLength: snapshotLength,
            scale: TimestampScale(resolution, offsetSeconds: timestampOffset), id: id))
        return nil
    }
}
