/// Something odd in a capture file that does not stop reading it. Each case names the input
/// (`path`, `-` for standard input) and the byte offset it concerns.
public enum CaptureFileWarning: Equatable, Sendable {
    /// The input ends inside a record or block: `available` of its `length` bytes are present.
    /// Everything before it was read; the partial record is dropped.
    case truncatedRecord(path: String, offset: Int64, available: Int, length: Int)
    /// A pcap file header carries a version other than 2.4 that libpcap-compatible readers still
    /// accept (2.0–2.3, 543.0, or a minor version above 4, read as 2.4).
    case unusualVersion(path: String, major: UInt16, minor: UInt16)
    /// A pcap header's link-type field has reserved bits (0x03FF0000) set; the link type is read
    /// from the low 16 bits.
    case reservedLinkTypeBits(path: String, field: UInt32)
    /// A pcapng section header carries a minor version other than 0 or 2; read as 1.0.
    case unusualSectionVersion(path: String, offset: Int64, major: UInt16, minor: UInt16)
    /// A block's options overrun the block; the options from that one on are ignored.
    case optionOverrun(path: String, offset: Int64, blockType: UInt32)
    /// A packet's timestamp, after its interface's resolution and offset, lies outside the range
    /// a report can represent (1970 to 2106); it was clamped into it. Only the first such packet
    /// of an input is a warning; ``CaptureFileSummary/clampedTimestamps`` counts them all.
    case timestampOutOfRange(path: String, offset: Int64, nanoseconds: Int64)
    /// A block whose length is sound but whose content is unusable was skipped; reading went on
    /// with the next block.
    case skippedBlock(path: String, offset: Int64, reason: String)
    /// A pcapng block at `offset` had an impossible length (`problem`); the bytes up to the next
    /// sound block, at `resumedAt`, were skipped and reading went on from there.
    case resynchronised(path: String, offset: Int64, resumedAt: Int64, problem: String)
    /// The input is a file given before (`other`): the same path, or another path to the same
    /// file (same device and inode). It was read once, as `other`.
    case sameFile(path: String, other: String, samePath: Bool)
    /// The input's packets (timestamps, lengths and bytes) are `other`'s: `packets` of them were
    /// found identical and read once, as `other`'s. `extent` says how far the copy goes.
    case samePackets(path: String, other: String, packets: Int, extent: DuplicateExtent)

    /// How much of an input duplicated an earlier one.
    public enum DuplicateExtent: String, Sendable, Equatable {
        /// Every packet of both inputs is the same.
        case whole
        /// The input's packets are the first ones of the other input, which has more.
        case prefix
        /// The input starts with the other input's first packets, then differs; the rest was
        /// merged as any input is.
        case start
    }

    /// The input the warning is about.
    public var path: String {
        switch self {
        case .truncatedRecord(let path, _, _, _), .unusualVersion(let path, _, _),
             .reservedLinkTypeBits(let path, _), .unusualSectionVersion(let path, _, _, _),
             .optionOverrun(let path, _, _), .timestampOutOfRange(let path, _, _), .skippedBlock(let path, _, _),
             .resynchronised(let path, _, _, _), .sameFile(let path, _, _), .samePackets(let path, _, _, _):
            return path
        }
    }
}

extension CaptureFileWarning: CustomStringConvertible {
    /// One line for the user naming the input, the byte offset and the oddity.
    public var description: String {
        let name = captureInputName(path)
        switch self {
        case .truncatedRecord(_, let offset, let available, let length):
            return "\(name): file ends \(available) bytes into a \(length)-byte record at offset \(offset)"
        case .unusualVersion(_, let major, let minor):
            return "\(name): pcap version \(major).\(minor) (not 2.4); read the way libpcap reads it"
        case .reservedLinkTypeBits(_, let field):
            let hex = String(field, radix: 16)
            return "\(name): link-type field 0x\(hex) has reserved bits set; using link type \(field & 0xFFFF)"
        case .unusualSectionVersion(_, let offset, let major, let minor):
            return "\(name): byte \(offset): section header version \(major).\(minor) (not 1.0); read as 1.0"
        case .optionOverrun(_, let offset, let blockType):
            return "\(name): byte \(offset): options of block type 0x\(String(blockType, radix: 16)) "
                + "run past the block; ignored from there"
        case .timestampOutOfRange(_, let offset, let nanoseconds):
            let seconds = nanoseconds / 1_000_000_000
            return "\(name): byte \(offset): timestamp \(seconds) s from 1970 is outside 1970-2106 "
                + "(extreme if_tsresol or if_tsoffset?); clamped, as are later ones"
        case .skippedBlock(_, let offset, let reason):
            return "\(name): byte \(offset): \(reason); block skipped"
        case .resynchronised(_, let offset, let resumedAt, let problem):
            return "\(name): byte \(offset): \(problem); skipped \(resumedAt - offset) bytes to the next sound block, "
                + "at byte \(resumedAt)"
        case .sameFile(_, let other, let samePath):
            return "\(name): given twice (\(samePath ? "same path" : "same file as \(captureInputName(other)): same device and inode")); read once"
        case .samePackets(_, let other, let packets, let extent):
            let noun = packets == 1 ? "packet" : "packets"
            let otherName = captureInputName(other)
            switch extent {
            case .whole:
                return "\(name): the same \(packets) \(noun) as \(otherName) (timestamps and bytes); read once"
            case .prefix:
                return "\(name): its \(packets) \(noun) are the first ones of \(otherName) (timestamps and bytes); read once"
            case .start:
                return "\(name): its first \(packets) \(noun) are those of \(otherName) (timestamps and bytes) and were "
                    + "read once; the rest differs and was merged"
            }
        }
    }
}
