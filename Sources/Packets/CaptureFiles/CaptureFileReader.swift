/// Reads a pcap or pcapng capture — a file, standard input (`-`) or bytes in memory — and hands
/// its packets out in batches that point into the input's bytes without copying them.
///
/// The format is detected from the first four bytes. Reading is strict about structure and
/// lenient about versions, as libpcap is: a corrupt record length ends the input with an error
/// (after every packet before it was handed out), a record cut short at the end of the input is a
/// warning. ``summary`` tells what was read.
///
/// The corresponding libpcap functions are `pcap_open_offline` and `pcap_next_ex`.
public final class CaptureFileReader: PacketSource {
    /// Most packets in one batch.
    public static let batchLimit = 512
    /// Largest captured length of a pcap record (libpcap's maximum snapshot length); a file whose
    /// header announces a larger snapshot length may use up to that, within ``maximumBlockLength``.
    public static let maximumPcapRecord = 262_144
    /// Largest pcapng block (and pcap record) accepted.
    public static let maximumBlockLength = 16 << 20
    /// Most interfaces a pcapng file may declare.
    public static let maximumInterfaces = 65_536

    private let source: ByteSource
    private var parser: CaptureParser
    private var packets: [CapturedPacket]
    /// Bytes needed at the current position to take the next step.
    private var need: Int
    private var pendingError: CaptureFileError?
    private var finished = false

    private init(source: ByteSource) throws(CaptureFileError) {
        self.source = source
        self.packets = []
        packets.reserveCapacity(Self.batchLimit)
        let path = source.path
        let have = try source.ensure(CaptureParser.pcapHeaderLength)
        if have < CaptureParser.pcapHeaderLength, let error = source.streamError { throw error }
        if have == 0 { throw .empty(path: path) }
        let magic = source.withView { view in
            (0..<min(4, view.count)).map { view[$0] }
        }
        guard let kind = CaptureParser.detect(magic) else {
            throw .notACapture(path: path, magic: magic)
        }
        var parser = CaptureParser(path: path, kind: kind)
        if kind == .pcapng {
            need = CaptureParser.blockHeaderLength
        } else {
            guard have >= CaptureParser.pcapHeaderLength else {
                throw .badFileHeader(path: path, offset: 0, reason: "input ends after \(have) bytes, inside the "
                    + "\(CaptureParser.pcapHeaderLength)-byte pcap file header")
            }
            let result: Result<Void, CaptureFileError> = source.withView { view in parser.readPcapHeader(view) }
            if case .failure(let error) = result { throw error }
            source.advance(CaptureParser.pcapHeaderLength)
            need = CaptureParser.pcapRecordHeaderLength
        }
        self.parser = parser
    }

    /// Opens the capture at `path`; `-` reads standard input.
    /// - Throws: ``CaptureFileError`` when the input is missing, a directory, empty, not a capture,
    ///   or its file header is cut short or invalid.
    public static func open(path: String) throws(CaptureFileError) -> CaptureFileReader {
        try open(path: path, mapFiles: mapsFilesByDefault)
    }

    /// Whether `open(path:)` maps regular files (in windows) instead of reading them into a buffer.
    /// Reading measured faster (see ``ByteSource``); both paths are tested.
    package static let mapsFilesByDefault = false

    /// Opens `path` mapping regular files in windows of `windowSize` bytes (`mapFiles`) or reading
    /// them through a `bufferSize`-byte buffer, as streams always are. Tests use small sizes to
    /// exercise window and buffer edges.
    package static func open(path: String, mapFiles: Bool, windowSize: Int = ByteSource.defaultWindowSize,
                             bufferSize: Int = ByteSource.defaultBufferSize) throws(CaptureFileError) -> CaptureFileReader {
        let source = try ByteSource.open(path: path, windowSize: windowSize, bufferSize: bufferSize, mapFiles: mapFiles)
        return try CaptureFileReader(source: source)
    }

    /// Reads a capture held in memory; `name` stands for its path in messages.
    /// - Throws: as ``open(path:)``.
    public convenience init(bytes: [UInt8], name: String) throws(CaptureFileError) {
        try self.init(source: ByteSource.memory(bytes, name: name))
    }

    /// The input as the user named it.
    public var path: String { source.path }

    /// While ``nextBatch(_:)`` calls its body: the buffer the batch's bytes are in and the span's
    /// offset in it (nil for a mapped file). A holder of the buffer may keep the bytes.
    package var batchBuffer: (buffer: ReadBuffer, offset: Int)? { source.viewBuffer }

    /// The device and inode of the opened file (nil for a capture in memory).
    package var fileIdentity: FileIdentity? { source.identity }

    /// What has been read so far: format, interfaces, counts, warnings and the ending error.
    public var summary: CaptureFileSummary {
        var summary = parser.summary
        summary.bytesRead = source.position
        summary.compression = source.compression
        summary.compressedBytesRead = source.compressedPosition
        for index in summary.interfaces.indices {
            summary.interfaces[index].packets = parser.interfacePackets[index]
        }
        return summary
    }

    /// Calls `body` with the next batch of up to ``batchLimit`` packets and the bytes they point
    /// into (each packet's ``CapturedPacket/dataOffset`` is an offset in that span).
    /// - Returns: false at the end of the input (`body` was not called).
    /// - Throws: ``CaptureFileError`` for a corrupt record or block, or a read error; the packets
    ///   before it were handed out by earlier calls. After an error, calls return false.
    public func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool {
        if let error = pendingError {
            pendingError = nil
            finished = true
            throw error
        }
        if finished { return false }
        while true {
            let have: Int
            do {
                have = try source.ensure(need)
            } catch {
                parser.summary.error = error
                finished = true
                throw error
            }
            if have < need {
                finished = true
                if let error = source.streamError {
                    // A compressed stream corrupt or cut short: everything before it was read.
                    parser.summary.error = error
                    throw error
                }
                if have == 0 && !parser.insideFileHeader && !parser.resynchronising { return false }
                if let error = parser.endsInside(offset: source.position, available: have, length: need) {
                    parser.summary.error = error
                    throw error
                }
                return false
            }
            packets.removeAll(keepingCapacity: true)
            let base = source.position
            var step = CaptureParser.Step.batchFull
            var consumed = 0
            source.withView { view in
                step = parser.parseBatch(view, base: base, into: &packets, consumed: &consumed)
                if !packets.isEmpty { body(packets, view) }
            }
            source.advance(consumed)
            switch step {
            case .batchFull:
                need = parser.headerLength
                return true
            case .needBytes(let count):
                need = count
                if !packets.isEmpty { return true }
            case .failed(let error):
                parser.summary.error = error
                if packets.isEmpty {
                    finished = true
                    throw error
                }
                pendingError = error
                return true
            }
        }
    }
}

extension CaptureFileReader: BufferBackedPacketSource {}
