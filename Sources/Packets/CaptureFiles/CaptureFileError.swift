/// A file-level problem: it ends that input (everything read before it is kept and audited).
/// Each case names the input (`path`, `-` for standard input) and, where there is one, the byte
/// offset of the record or block at fault.
public enum CaptureFileError: Error, Equatable, Sendable {
    /// The path does not exist.
    case notFound(path: String)
    /// The path is a directory.
    case isDirectory(path: String)
    /// The file has no bytes at all.
    case empty(path: String)
    /// The first bytes are not a pcap or pcapng magic number; `magic` is what was found (up to 4 bytes).
    case notACapture(path: String, magic: [UInt8])
    /// The file header is cut short or invalid (bad version, bad section header).
    case badFileHeader(path: String, offset: Int64, reason: String)
    /// A record or block announces a length that cannot be right (too small, not a multiple of 4,
    /// beyond the maximum, or disagreeing with its trailer).
    case badRecordLength(path: String, offset: Int64, length: UInt64, reason: String)
    /// A packet block names an interface that no Interface Description Block declared.
    case unknownInterface(path: String, offset: Int64, interface: UInt32)
    /// An operating-system error (open, read, mmap), with errno's text.
    case io(path: String, operation: String, errno: Int32, message: String)
}
