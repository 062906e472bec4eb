/// The order of multi-byte integers in a file or section.
public enum ByteOrder: Sendable, Hashable {
    case littleEndian
    case bigEndian

    /// `little-endian` or `big-endian`.
    public var name: String { self == .littleEndian ? "little-endian" : "big-endian" }
}

/// What kind of capture file an input is.
public enum CaptureFormat: Sendable, Equatable {
    /// A pcap file: its byte order, timestamp unit (microseconds, or nanoseconds for magic
    /// `a1b23c4d`) and header version.
    case pcap(byteOrder: ByteOrder, nanosecondTimestamps: Bool, versionMajor: UInt16, versionMinor: UInt16)
    /// A pcapng file: how many of its sections are little-endian and how many big-endian.
    case pcapng(littleEndianSections: Int, bigEndianSections: Int)

    /// Sections in the file (1 for pcap).
    public var sections: Int {
        switch self {
        case .pcap: return 1
        case .pcapng(let little, let big): return little + big
        }
    }
}

extension CaptureFormat: CustomStringConvertible {
    /// E.g. `pcap (microseconds, little-endian, version 2.4)` or `pcapng (big-endian, 1 section)`.
    public var description: String {
        switch self {
        case .pcap(let order, let nano, let major, let minor):
            return "pcap (\(nano ? "nanoseconds" : "microseconds"), \(order.name), version \(major).\(minor))"
        case .pcapng(let little, let big):
            let total = little + big
            let noun = total == 1 ? "section" : "sections"
            if big == 0 { return "pcapng (little-endian, \(total) \(noun))" }
            if little == 0 { return "pcapng (big-endian, \(total) \(noun))" }
            return "pcapng (\(little) little-endian + \(big) big-endian sections)"
        }
    }
}

/// One capture interface: the single implicit one of a pcap file, or one Interface Description
/// Block of a pcapng file.
public struct CaptureInterface: Sendable, Equatable {
    /// File-wide index, the value of ``CapturedPacket/interface`` for its packets.
    public var id: Int
    /// Index of the pcapng section that declares it (0 for pcap).
    public var section: Int
    /// Its interface number inside its section (what packet blocks name).
    public var idInSection: Int
    public var linkType: LinkType
    /// Snapshot length; 0 means "no limit" in pcapng.
    public var snapshotLength: UInt32
    /// `if_name`, when given (at most 256 bytes of it are kept).
    public var name: String?
    /// Timestamp unit (`if_tsresol`; microseconds when absent; nanoseconds for ns pcap).
    public var timestampResolution: TimestampResolution
    /// `if_tsoffset`: seconds added to every timestamp.
    public var timestampOffset: Int64
    /// Packets read on this interface so far.
    public var packets: Int

    public init(id: Int, section: Int = 0, idInSection: Int = 0, linkType: LinkType, snapshotLength: UInt32,
                name: String? = nil, timestampResolution: TimestampResolution = .microseconds,
                timestampOffset: Int64 = 0, packets: Int = 0) {
        self.id = id
        self.section = section
        self.idInSection = idInSection
        self.linkType = linkType
        self.snapshotLength = snapshotLength
        self.name = name
        self.timestampResolution = timestampResolution
        self.timestampOffset = timestampOffset
        self.packets = packets
    }
}

/// What a reader learned about one input: its format and interfaces, counts, time span,
/// warnings, and the error that ended it, if any. Kept up to date as batches are read.
public struct CaptureFileSummary: Sendable, Equatable {
    /// The input as the user named it (`-` for standard input).
    public var path: String
    /// Nil until the file header has been read (or when it could not be).
    public var format: CaptureFormat?
    public var interfaces: [CaptureInterface]
    /// Packets handed out.
    public var packets: Int
    /// Sum of the packets' captured lengths.
    public var capturedBytes: Int64
    /// Sum of the packets' original (on the wire) lengths.
    public var originalBytes: Int64
    /// Timestamp (ns since the epoch) of the first and the last packet, in file order.
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// Bytes of the input consumed (header, records and skipped blocks); for a compressed
    /// input, bytes of the decompressed capture.
    public var bytesRead: Int64
    /// The input's compression (recognised by its magic number), nil for a plain capture.
    public var compression: CaptureCompression?
    /// For a compressed input, the compressed bytes consumed.
    public var compressedBytesRead: Int64?
    /// Warnings, in file order; after ``CaptureFileSummary/warningLimit`` of them only
    /// `omittedWarnings` counts further ones.
    public var warnings: [CaptureFileWarning]
    public var omittedWarnings: Int
    /// The error that ended the input early, if any.
    public var error: CaptureFileError?
    /// Packets whose timestamp (after the interface's resolution and offset) fell outside
    /// 1970-01-01 to 2106-02-07 and was clamped to that range (the first one is also a warning).
    public var clampedTimestamps: Int
    /// Blocks with a sound length but unusable content (a packet naming an undeclared interface,
    /// a simple packet block before any interface, a captured length beyond the block), skipped
    /// with a warning each; also each run of corrupt bytes skipped after a block with an
    /// impossible length, up to the next sound block.
    public var skippedBlocks: Int

    /// The most warnings a summary lists.
    public static let warningLimit = 100

    public init(path: String) {
        self.path = path
        self.format = nil
        self.interfaces = []
        self.packets = 0
        self.capturedBytes = 0
        self.originalBytes = 0
        self.firstTimestamp = nil
        self.lastTimestamp = nil
        self.bytesRead = 0
        self.compression = nil
        self.compressedBytesRead = nil
        self.warnings = []
        self.omittedWarnings = 0
        self.error = nil
        self.clampedTimestamps = 0
        self.skippedBlocks = 0
    }

    /// Packets per link type, for every link type an interface declares (also with 0 packets),
    /// sorted by link type.
    public var linkTypes: [(linkType: LinkType, packets: Int)] {
        var counts: [LinkType: Int] = [:]
        for interface in interfaces { counts[interface.linkType, default: 0] += interface.packets }
        return counts.sorted { $0.key < $1.key }.map { (linkType: $0.key, packets: $0.value) }
    }
}
