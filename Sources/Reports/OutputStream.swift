import Packets

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer to a file descriptor (standard output by default, or a file it creates).
/// Reports are streamed through it row by row, so output never waits for the whole capture.
public final class ReportOutput {
    private var buffer: [UInt8] = []
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// For ``init(replacing:)``: where the report goes once complete, and where it is written until then.
    private var finalPath: String?
    private var temporaryPath: String?
    /// The path as given, for messages (`standard output` for `-`).
    private var displayPath = "standard output"
    /// The errno of the first failed write; later writes are skipped.
    public private(set) var writeErrno: Int32?
    /// Flush after every `write` (for event streams that a reader follows live).
    public var flushEachWrite = false
    /// True when the output is a terminal (colour allowed).
    public let isTerminal: Bool

    /// Standard output.
    public init() {
        descriptor = 1
        ownsDescriptor = false
        isTerminal = isatty(1) == 1
        buffer.reserveCapacity(1 << 16)
    }

    /// An already open descriptor (2 for standard error), not closed by this writer.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
        ownsDescriptor = false
        isTerminal = isatty(descriptor) == 1
    }

    /// A file created (or truncated) at `path`; `-` means standard output.
    public init(path: String) throws(ReportOutputError) {
        if path == "-" {
            descriptor = 1
            ownsDescriptor = false
            isTerminal = isatty(1) == 1
            return
        }
        // SAFETY: `open` reads the C string Swift passes for `path` only during the call.
        let fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportOutputError(path: path, errno: errno) }
        descriptor = fd
        ownsDescriptor = true
        isTerminal = false
        displayPath = path
    }

    /// A report file that replaces `path` only when complete: written to a temporary file in
    /// the same folder, renamed over `path` by ``commit()``. A path that exists and is not a
    /// regular file (`/dev/full`, a FIFO, a terminal) is written directly. `-` is standard output.
    public init(replacing path: String) throws(ReportOutputError) {
        var info = stat()
        // SAFETY: stat writes one `stat` into the local.
        let exists = unsafe stat(path, &info) == 0
        guard path != "-", !exists || (info.st_mode & S_IFMT) == S_IFREG else {
            if path == "-" {
                descriptor = 1
                ownsDescriptor = false
                isTerminal = isatty(1) == 1
                return
            }
            // SAFETY: `open` reads the C string Swift passes for `path` only during the call.
            let fd = unsafe open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ReportOutputError(path: path, errno: errno) }
            descriptor = fd
            ownsDescriptor = true
            isTerminal = isatty(fd) == 1
            displayPath = path
            return
        }
        let temporary = ReportOutput.temporaryPath(for: path)
        // SAFETY: `open` reads the C string Swift passes for `temporary` only during the call.
        let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReportOutputError(path: path, errno: errno) }
        descriptor = fd
        ownsDescriptor = true
        isTerminal = false
        finalPath = path
        temporaryPath = temporary
        displayPath = path
    }

    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(folder).\(name).\(getpid()).tmp"
    }

    /// Checks, before a long run, that a report could be written at `path`: its folder exists
    /// and is writable, and `path` is not a folder. `-` (standard output) always passes.
    public static func checkWritable(_ path: String) throws(ReportOutputError) {
        guard path != "-" else { return }
        var info = stat()
        // SAFETY: stat writes one `stat` into the local.
        if unsafe stat(path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw ReportOutputError(path: path, message: "is a directory") }
            // SAFETY: access reads the C string only during the call.
            guard unsafe access(path, W_OK) == 0 else { throw ReportOutputError(path: path, errno: errno) }
            return
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        // SAFETY: stat writes one `stat` into the local.
        guard unsafe stat(folder, &info) == 0 else {
            throw ReportOutputError(path: path, message: "the folder \(folder) does not exist")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ReportOutputError(path: path, message: "\(folder) is not a folder")
        }
        // SAFETY: access reads the C string only during the call.
        guard unsafe access(folder, W_OK | X_OK) == 0 else {
            let code = errno
            throw ReportOutputError(path: path, message: "the folder \(folder) is not writable: \(ReportOutputError.text(code)) (errno \(code))")
        }
    }

    /// Flushes, then renames the temporary file over the final path (``init(replacing:)``).
    /// - Throws: the first write error (with its errno), or the rename's; a temporary file is
    ///   removed then, so the previous report at the path stays as it was.
    public func commit() throws(ReportOutputError) {
        flush()
        let path = finalPath ?? "-"
        if let code = writeErrno {
            if let temporaryPath { _ = unsafe unlink(temporaryPath) }
            throw ReportOutputError(path: displayPath, errno: code)
        }
        guard let temporaryPath, let finalPath else { return }
        // SAFETY: fsync and rename take the descriptor and C strings only for the call.
        if fsync(descriptor) != 0 && errno != EINVAL {
            let code = errno
            _ = unsafe unlink(temporaryPath)
            throw ReportOutputError(path: path, errno: code)
        }
        guard unsafe rename(temporaryPath, finalPath) == 0 else {
            let code = errno
            _ = unsafe unlink(temporaryPath)
            throw ReportOutputError(path: path, errno: code)
        }
        self.temporaryPath = nil
    }

    deinit {
        flush()
        if ownsDescriptor { close(descriptor) }
        if let temporaryPath { _ = unsafe unlink(temporaryPath) }  // never committed
    }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if flushEachWrite || buffer.count >= 1 << 16 { flush() }
    }

    /// Appends one row through a ``ByteAppender`` over the pending buffer: one access to the
    /// buffer for the whole row (a class property accessed per byte would be checked per byte),
    /// then flushes when the buffer is large.
    public func appendRow(_ body: (inout ByteAppender) -> Void) {
        var appender = ByteAppender(bytes: buffer)
        buffer = []
        body(&appender)
        buffer = appender.bytes
        if flushEachWrite || buffer.count >= 1 << 16 { flush() }
    }

    public func flush() {
        if writeErrno != nil {
            buffer.removeAll(keepingCapacity: true)
            return
        }
        // ENOSPC, EIO, EPIPE: reported by commit(); the rest is dropped.
        if let code = SystemCall.writeAll(descriptor, buffer.span) { writeErrno = code }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// The report file could not be created or written.
public struct ReportOutputError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var errno: Int32?
    public var description: String { "\(path): cannot write the report: \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `strerror (errno N)`.
    public init(path: String, errno code: Int32) {
        self.path = path
        self.message = "\(Self.text(code)) (errno \(code))"
        self.errno = code
    }

    static func text(_ code: Int32) -> String {
        // SAFETY: strerror returns a static NUL-terminated string, copied at once.
        unsafe String(cString: strerror(code))
    }
}

/// Text helpers shared by the renderers.
public enum Format {
    /// The civil UTC date of a time in nanoseconds since the epoch.
    /// Times beyond ±2^62 ns (about ±146 years from 1970) are clamped there first, so no step
    /// can overflow whatever the input (readers already clamp packet times to 1970-2106).
    static func civil(_ time: Int64) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64, microseconds: Int64) {
        let nanoseconds = min(max(time, -(1 << 62)), 1 << 62)
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        let fraction = (nanoseconds - seconds * 1_000_000_000) / 1000
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = seconds - days * 86400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay, fraction)
    }

    /// `2024-03-05T12:34:56.789012Z` (UTC, microseconds) from nanoseconds since the epoch.
    public static func timestamp(_ nanoseconds: Int64) -> String {
        let c = civil(nanoseconds)
        // Digit by digit into the text's 27 bytes (reports write two per group and per example
        // flow). Nanoseconds in an Int64 span the years 1677-2262: the year has four digits.
        var bytes = Array("0000-00-00T00:00:00.000000Z".utf8)
        func put(_ value: Int64, _ end: Int, _ width: Int) {
            var rest = value
            for position in stride(from: end - 1, through: end - width, by: -1) {
                bytes[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
                rest /= 10
            }
        }
        put(c.year, 4, 4)
        put(c.month, 7, 2)
        put(c.day, 10, 2)
        put(c.secondOfDay / 3600, 13, 2)
        put(c.secondOfDay / 60 % 60, 16, 2)
        put(c.secondOfDay % 60, 19, 2)
        put(c.microseconds, 26, 6)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Seconds with microsecond precision, e.g. `12.000345`.
    public static func duration(_ nanoseconds: Int64) -> String {
        let micro = max(0, nanoseconds) / 1000
        return "\(micro / 1_000_000).\(pad(micro % 1_000_000, 6))"
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        let count = text.utf8.count
        return count >= width ? text : String(repeating: "0", count: width - count) + text
    }

    /// An endpoint as `a.b.c.d:port` or `[v6]:port` (`port` omitted when nil).
    public static func endpoint(_ address: String, isIPv6: Bool, port: UInt16?) -> String {
        guard let port else { return address }
        return isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// A JSON string literal.
    public static func json(_ text: String) -> String {
        // Most values (addresses, ids, names) need no escaping.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Right-pads `text` to `width` visible characters (colour escapes take no room).
    public static func column(_ text: String, _ width: Int) -> String {
        aligned(text, width, right: false)
    }

    /// `text` padded with spaces to `width` visible characters, on the right (left-aligned) or
    /// on the left (right-aligned).
    public static func aligned(_ text: String, _ width: Int, right: Bool) -> String {
        let count = visibleWidth(text)
        guard count < width else { return text }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + text : text + padding
    }

    /// The terminal cells `text` takes: ANSI colour sequences (`ESC [ ... m`) take none, wide
    /// characters two, combining marks none (see ``cells(_:)``).
    public static func visibleWidth(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        var sawBracket = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if !sawBracket { sawBracket = scalar == "["; if !sawBracket { inEscape = false }; continue }
                if scalar.value >= 0x40 && scalar.value <= 0x7E { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" {
                inEscape = true
                sawBracket = false
                continue
            }
            width += cells(scalar)
        }
        return width
    }

    /// The terminal cells one scalar takes: none for combining marks (they join the character
    /// before them), zero-width joiners and variation selectors; two for East Asian Wide and
    /// Fullwidth characters (UAX #11: Hangul, CJK, kana, fullwidth forms) and emoji shown as
    /// pictures; one otherwise.
    static func cells(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }  // ASCII and Latin-1: one cell, no lookup
        let category = scalar.properties.generalCategory
        if category == .nonspacingMark || category == .enclosingMark || value == 0x200D || (0xFE00...0xFE0F).contains(value) {
            return 0
        }
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return scalar.properties.isEmojiPresentation ? 2 : 1
        }
    }

    /// `text` cut to `width` visible characters, its last one an ellipsis (…) when cut.
    /// For plain text (no colour sequences).
    public static func truncated(_ text: String, _ width: Int) -> String {
        guard visibleWidth(text) > width else { return text }
        guard width > 0 else { return "" }
        var out = ""
        var count = 0
        for character in text {
            // Whole characters only: a wide one that does not fit leaves its cells empty.
            let cells = character.unicodeScalars.reduce(0) { $0 + Self.cells($1) }
            if count + cells > width - 1 { break }
            out.append(character)
            count += cells
        }
        return out + "…"
    }

    /// `text` with control characters (C0, DEL, C1) shown as `?`, so a name read from a packet
    /// cannot move the terminal's cursor or break a table row.
    public static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            out.unicodeScalars.append(scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) ? "?" : scalar)
        }
        return out
    }

    /// `1 packet`, `2 packets`: a count with its noun in the right number (`plural` for nouns
    /// that do not just add an s: `count(n, "advisory", "advisories")`).
    public static func count(_ value: some BinaryInteger, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) \(value == 1 ? singular : plural ?? singular + "s")"
    }
}


/// Writes text fields of a row as bytes (decimal numbers, addresses, timestamps) without
/// building intermediate strings. Rows of the flow table are written once per flow.
public struct ByteAppender {
    public var bytes: [UInt8]


    @inline(__always)
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func ascii(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends `value` in decimal.
    public mutating func decimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(0x30 &+ UInt8(value))
            return
        }
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var count = 0
        var rest = value
        while rest > 0 {
            digits[count] = 0x30 &+ UInt8(rest % 10)
            rest /= 10
            count += 1
        }
        while count > 0 {
            count -= 1
            bytes.append(digits[count])
        }
    }

    /// Appends `value` in decimal, left-padded with zeros to `width` digits.
    mutating func padded(_ value: Int64, _ width: Int) {
        var digits = InlineArray<20, UInt8>(repeating: 0x30)
        var rest = UInt64(max(0, value))
        var count = 0
        while rest > 0 || count < width {
            digits[count] = 0x30 &+ UInt8(rest % 10)
            rest /= 10
            count += 1
            if count == 20 { break }
        }
        while count > 0 {
            count -= 1
            bytes.append(digits[count])
        }
    }

    /// Appends an address: dotted quad for IPv4, RFC 5952 text for IPv6.
    public mutating func address(_ address: IPAddress) {
        if address.isIPv4 {
            let v = address.ipv4Value
            decimal(UInt64(v >> 24)); byte(0x2E)
            decimal(UInt64((v >> 16) & 0xFF)); byte(0x2E)
            decimal(UInt64((v >> 8) & 0xFF)); byte(0x2E)
            decimal(UInt64(v & 0xFF))
        } else {
            ascii(address.description)
        }
    }

    /// Appends a UTC timestamp as ``Format/timestamp(_:)`` writes it.
    public mutating func timestamp(_ nanoseconds: Int64) {
        let c = Format.civil(nanoseconds)
        padded(c.year, 4); byte(0x2D); padded(c.month, 2); byte(0x2D); padded(c.day, 2); byte(0x54)
        padded(c.secondOfDay / 3600, 2); byte(0x3A); padded(c.secondOfDay / 60 % 60, 2); byte(0x3A)
        padded(c.secondOfDay % 60, 2); byte(0x2E); padded(c.microseconds, 6); byte(0x5A)
    }

    /// Appends seconds with microseconds, as ``Format/duration(_:)`` writes them.
    public mutating func duration(_ nanoseconds: Int64) {
        let micro = max(0, nanoseconds) / 1000
        decimal(UInt64(micro / 1_000_000)); byte(0x2E); padded(micro % 1_000_000, 6)
    }

    /// Pads with spaces up to `column` bytes since `start` (a position from ``position``).
    public mutating func pad(from start: Int, to width: Int) {
        let written = bytes.count - start
        if written < width { bytes.append(contentsOf: repeatElement(0x20, count: width - written)) }
    }

    /// Appends a CSV field (RFC 4180): as it is, or in double quotes with quotes doubled when it
    /// holds a comma, a quote or a line break.
    public mutating func csvField(_ text: String) {
        let needsQuotes = text.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else { return ascii(text) }
        byte(0x22)
        for b in text.utf8 {
            if b == 0x22 { byte(0x22) }
            byte(b)
        }
        byte(0x22)
    }

    /// The current length of the pending buffer, for ``pad(from:to:)``.
    public var position: Int { bytes.count }


}
