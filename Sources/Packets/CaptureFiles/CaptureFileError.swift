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
    /// A pcapng file declares more interfaces than a reader keeps (`limit`), a sign of a corrupt
    /// or hostile file; `offset` is that of the first Interface Description Block over the limit.
    case tooManyInterfaces(path: String, offset: Int64, limit: Int)
    /// A compressed input (`format` gzip or zstd) is corrupt or stops inside a member or frame:
    /// `compressedOffset` is the offset in the file of the first compressed byte not decoded,
    /// `offset` the number of decompressed capture bytes produced before it.
    case corruptCompression(path: String, format: String, compressedOffset: Int64, offset: Int64, reason: String)
    /// An operating-system error (open, read, mmap), with errno's text.
    case io(path: String, operation: String, errno: Int32, message: String)

    /// The input the error is about, as the user named it (`-` for standard input).
    public var path: String {
        switch self {
        case .notFound(let path), .isDirectory(let path), .empty(let path),
             .notACapture(let path, _), .badFileHeader(let path, _, _),
             .badRecordLength(let path, _, _, _), .unknownInterface(let path, _, _),
             .tooManyInterfaces(let path, _, _), .io(let path, _, _, _),
             .corruptCompression(let path, _, _, _, _):
            return path
        }
    }

    /// The byte offset of the record or block at fault, when the error has one.
    public var offset: Int64? {
        switch self {
        case .badFileHeader(_, let offset, _), .badRecordLength(_, let offset, _, _),
             .unknownInterface(_, let offset, _), .tooManyInterfaces(_, let offset, _),
             .corruptCompression(_, _, _, let offset, _):
            return offset
        case .notFound, .isDirectory, .empty, .notACapture, .io:
            return nil
        }
    }
}

extension CaptureFileError: CustomStringConvertible {
    /// One line for the user: the input, the byte offset where there is one, and the problem, e.g.
    /// `x.pcapng: byte 4096: block length 7 is not a multiple of 4`.
    public var description: String {
        let name = captureInputName(path)
        switch self {
        case .notFound:
            return "\(name): no such file"
        case .isDirectory:
            return "\(name): is a directory, not a capture file"
        case .empty:
            return "\(name): empty (0 bytes), not a pcap or pcapng file"
        case .notACapture(_, let magic):
            let shown = magic.isEmpty ? "none" : magic.map(hexByte).joined(separator: " ")
            return "\(name): not a pcap or pcapng file (first bytes \(shown))"
        case .badFileHeader(_, let offset, let reason):
            return "\(name): byte \(offset): \(reason)"
        case .badRecordLength(_, let offset, _, let reason):
            return "\(name): byte \(offset): \(reason)"
        case .unknownInterface(_, let offset, let interface):
            return "\(name): byte \(offset): packet block names interface \(interface), which no "
                + "Interface Description Block of its section declares"
        case .tooManyInterfaces(_, let offset, let limit):
            return "\(name): byte \(offset): more than \(limit) interfaces declared; the file is corrupt"
        case .corruptCompression(_, _, let compressedOffset, let offset, let reason):
            return "\(name): compressed byte \(compressedOffset) (capture byte \(offset) once decompressed): \(reason)"
        case .io(_, let operation, let code, let message):
            return "\(name): \(operation) failed: \(message) (errno \(code))"
        }
    }
}

/// How messages name an input: `standard input` for `-`, the path otherwise.
func captureInputName(_ path: String) -> String { path == "-" ? "standard input" : path }

func hexByte(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
