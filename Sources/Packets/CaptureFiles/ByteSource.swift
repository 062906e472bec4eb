#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The only file of the capture layer that touches pointers and system calls. Everything else reads
// the bytes through the bounds-checked `Span<UInt8>` that `withView` lends out.

/// The bytes of one capture input, presented as a contiguous view starting at the current read
/// position.
///
/// Two ways in, both with resident memory bounded by one window or buffer whatever the input size:
/// - `read()` into one compacting buffer of `bufferSize` bytes: pipes, FIFOs, terminals, and by
///   default regular files too (sequential read-ahead advised), because it measured about 2.7×
///   faster than mapping on a page-cached 1.8 GB file (32 vs 12 M packets/s): mapping and
///   unmapping every 4 KiB page costs more than copying it into a buffer that stays in cache.
/// - `mmap` in windows of `windowSize` bytes (regular files, when asked): each new window starts
///   at the page holding the current position, the previous window is unmapped, and the kernel is
///   asked to read the next window ahead. A file truncated by another process while mapped makes
///   the next access fault (SIGBUS); reading has no such hazard.
///
/// A gzip or zstd input (recognised by its magic number, whatever its name) is always read the
/// second way, through a ``Decompressor`` that fills the buffer: resident memory stays bounded by
/// the buffer, the decompressor's input buffer and the format's window. A corrupt or truncated
/// compressed stream ends the input like the end of the file, after every byte decompressed
/// before it; ``streamError`` then says why.
///
/// A request for more bytes than a window or buffer holds grows it, up to ``maximumRequest``.
@safe
package final class ByteSource {
    /// Default size of one mapped window of a regular file.
    package static let defaultWindowSize = 16 << 20
    /// Default size of the read buffer for pipes and other streams.
    package static let defaultBufferSize = 1 << 20
    /// The largest `ensure` request a caller may make (readers cap records well below it).
    package static let maximumRequest = 64 << 20

    /// The input's name as the user gave it (`-` for standard input).
    package let path: String
    /// File (or stream) offset of the first byte of the view.
    package private(set) var position: Int64
    /// True when the bytes come through `mmap`.
    package let isMapped: Bool
    /// The device and inode of the opened file (nil for bytes in memory).
    package private(set) var identity: FileIdentity?
    /// The compression the input turned out to have (nil: a plain capture).
    package var compression: CaptureCompression? { decompressor?.compression }
    /// Compressed bytes consumed so far, for a compressed input.
    package var compressedPosition: Int64? { decompressor?.compressedOffset }
    /// Why a compressed input ended early (corrupt or cut short), once its last good byte is reached.
    package private(set) var streamError: CaptureFileError?

    private var decompressor: Decompressor?

    private let descriptor: Int32
    private var ownsDescriptor: Bool
    private let pageSize: Int
    private let windowSize: Int

    // Mapped mode: the current window.
    private var mapBase: UnsafeMutableRawPointer?
    private var mapOffset: Int64 = 0
    private var mapLength = 0
    private let fileEnd: Int64

    // Buffered mode: buffer[0] is at stream offset `bufferOffset`; `bufferCount` bytes are valid.
    // The buffer is `storage`, which a batch's holder may keep after the source moved on
    // (``ReadBuffer``): then the source continues in a spare one.
    private var storage: ReadBuffer?
    /// Buffers given up while another holder still had them, reused once it let go.
    private var spares: [ReadBuffer] = []
    /// Most spares kept (a reader thread holds at most a few batches ahead).
    private static let sparesKept = 8
    private var buffer: UnsafeMutableRawPointer? { unsafe storage?.base }
    private var bufferCapacity: Int { storage?.capacity ?? 0 }
    private var bufferOffset: Int64 = 0
    private var bufferCount = 0
    private var atEnd = false

    private init(path: String, descriptor: Int32, ownsDescriptor: Bool, mapped: Bool, start: Int64,
                 fileEnd: Int64, windowSize: Int, bufferSize: Int) {
        self.path = path
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
        self.isMapped = mapped
        self.position = start
        self.fileEnd = fileEnd
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        self.pageSize = page > 0 ? page : 4096
        // A window is a whole number of pages, at least two.
        let pages = max(2, (windowSize + pageSize - 1) / pageSize)
        self.windowSize = min(pages * pageSize, Self.maximumRequest)
        if !mapped {
            bufferOffset = start
            storage = ReadBuffer(capacity: max(4096, min(bufferSize, Self.maximumRequest)))
        }
    }

    /// Opens `path` (`-` for standard input) for reading.
    /// - Parameters:
    ///   - windowSize: bytes per mapped window (rounded up to whole pages).
    ///   - bufferSize: bytes of the read buffer used for streams.
    ///   - mapFiles: true maps a regular file in windows instead of reading it.
    /// - Throws: ``CaptureFileError/notFound(path:)``, ``CaptureFileError/isDirectory(path:)`` or
    ///   ``CaptureFileError/io(path:operation:errno:message:)``.
    package static func open(path: String, windowSize: Int = defaultWindowSize,
                             bufferSize: Int = defaultBufferSize,
                             mapFiles: Bool = false) throws(CaptureFileError) -> ByteSource {
        let fd: Int32
        let owns: Bool
        if path == "-" {
            fd = STDIN_FILENO
            owns = false
        } else {
            let opened = SystemCall.open(path, O_RDONLY | O_CLOEXEC)
            if opened < 0 {
                let code = errno
                switch code {
                case ENOENT, ENOTDIR: throw .notFound(path: path)
                case EISDIR: throw .isDirectory(path: path)
                default: throw ioError(path, "open", code)
                }
            }
            fd = opened
            owns = true
        }
        var info = stat()
        // SAFETY: `info` is a valid, writable stat buffer for the duration of the call.
        if unsafe fstat(fd, &info) != 0 {
            let code = errno
            if owns { _ = close(fd) }
            throw ioError(path, "fstat", code)
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR {
            if owns { _ = close(fd) }
            throw .isDirectory(path: path)
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        var compressed = false
        if kind == S_IFREG && mapFiles {
            do { compressed = try Self.startsCompressed(fd, path: path) } catch {
                if owns { _ = close(fd) }
                throw error
            }
        }
        if kind == S_IFREG && mapFiles && !compressed {
            // Standard input redirected from a file may already be positioned past its start.
            let start = path == "-" ? max(0, Int64(lseek(fd, 0, SEEK_CUR))) : 0
            let source = ByteSource(path: path, descriptor: fd, ownsDescriptor: owns, mapped: true,
                                    start: start, fileEnd: Int64(info.st_size), windowSize: windowSize,
                                    bufferSize: bufferSize)
            source.identity = identity
            if source.canMap() { return source }
            // Some file systems cannot map: fall back to reading.
            source.forgetDescriptor()
            let fallback = ByteSource(path: path, descriptor: fd, ownsDescriptor: owns, mapped: false,
                                      start: start, fileEnd: 0, windowSize: windowSize, bufferSize: bufferSize)
            fallback.identity = identity
            return fallback
        }
        if kind == S_IFREG {
            // Advice only: a larger kernel read-ahead for a cold file.
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        }
        let source = ByteSource(path: path, descriptor: fd, ownsDescriptor: owns, mapped: false, start: 0,
                                fileEnd: 0, windowSize: windowSize, bufferSize: bufferSize)
        source.identity = identity
        try source.detectCompression()
        return source
    }

    /// True when the regular file `fd` starts with a gzip or zstd magic number (read with pread,
    /// so the file position does not move).
    private static func startsCompressed(_ fd: Int32, path: String) throws(CaptureFileError) -> Bool {
        var magic = [UInt8](repeating: 0, count: 4)
        let position = max(0, Int64(lseek(fd, 0, SEEK_CUR)))
        let got = SystemCall.retrying {
            // SAFETY: `magic` has 4 writable bytes for the duration of the closure.
            unsafe magic.withUnsafeMutableBytes { raw in unsafe pread(fd, raw.baseAddress, 4, off_t(position)) }
        }
        if got < 0 { throw ioError(path, "pread", errno) }
        return CaptureCompression.detect(Array(magic.prefix(got))) != nil
    }

    /// Reads the input's first bytes into the buffer and, when they carry a gzip or zstd magic
    /// number, hands them to a decompressor that fills the buffer from then on.
    private func detectCompression() throws(CaptureFileError) {
        _ = try ensureBuffered(4)
        let prefix: [UInt8] = withView { view in (0..<min(4, view.count)).map { view[$0] } }
        guard let compression = CaptureCompression.detect(prefix) else { return }
        var compressed = [UInt8](repeating: 0, count: bufferCount)
        unsafe compressed.withUnsafeMutableBytes { raw in
            // SAFETY: both regions hold `bufferCount` bytes: the buffer's filled part and the array.
            if let to = raw.baseAddress, let from = unsafe buffer { unsafe memcpy(to, from, raw.count) }
        }
        decompressor = try Decompressor(compression: compression, path: path, descriptor: descriptor, prefix: compressed)
        bufferCount = 0
        atEnd = false
    }

    /// A source over bytes already in memory (tests, small inputs); behaves like a stream at its end.
    package static func memory(_ bytes: [UInt8], name: String) -> ByteSource {
        let source = ByteSource(path: name, descriptor: -1, ownsDescriptor: false, mapped: false,
                                start: 0, fileEnd: 0, windowSize: defaultWindowSize,
                                bufferSize: max(4096, bytes.count))
        source.ensureCapacity(bytes.count)
        unsafe bytes.withUnsafeBytes { raw in
            // SAFETY: the buffer holds at least `bytes.count` bytes (ensureCapacity above), and
            // `raw` is valid for `raw.count == bytes.count` bytes inside this closure.
            if let from = raw.baseAddress, let to = unsafe source.buffer { unsafe memcpy(to, from, raw.count) }
        }
        source.bufferCount = bytes.count
        source.atEnd = true
        return source
    }

    deinit {
        if let base = unsafe mapBase {
            // SAFETY: `base`/`mapLength` describe the live mapping created in `ensureMapped`.
            _ = unsafe munmap(base, mapLength)
        }
        if ownsDescriptor { _ = close(descriptor) }
    }

    /// Bytes available in the view without another `ensure`.
    package var available: Int {
        if isMapped {
            return unsafe mapBase == nil ? 0 : mapLength - Int(position - mapOffset)
        }
        return bufferCount - Int(position - bufferOffset)
    }

    /// Makes at least `count` bytes from the current position available in the view, unless the
    /// input ends first.
    /// - Returns: the bytes now available (less than `count` only at the end of the input).
    /// - Throws: ``CaptureFileError/io(path:operation:errno:message:)`` when reading or mapping fails.
    package func ensure(_ count: Int) throws(CaptureFileError) -> Int {
        precondition(count >= 0 && count <= Self.maximumRequest, "request beyond ByteSource.maximumRequest")
        return isMapped ? try ensureMapped(count) : try ensureBuffered(count)
    }

    /// Moves the read position `count` bytes forward inside the view.
    package func advance(_ count: Int) {
        precondition(count >= 0 && count <= available, "advance beyond the available bytes")
        position += Int64(count)
    }

    /// Lends the view (the available bytes from the current position) to `body`.
    package func withView<Result>(_ body: (Span<UInt8>) -> Result) -> Result {
        let start: UnsafeRawPointer?
        if isMapped {
            // SAFETY: position lies inside [mapOffset, mapOffset + mapLength] (ensure/advance keep
            // it there), so the offset is inside the mapping or one past its end.
            unsafe start = mapBase.map { unsafe UnsafeRawPointer($0 + Int(position - mapOffset)) }
        } else {
            // SAFETY: position lies inside [bufferOffset, bufferOffset + bufferCount].
            unsafe start = buffer.map { unsafe UnsafeRawPointer($0 + Int(position - bufferOffset)) }
        }
        let count = unsafe start == nil ? 0 : available
        // SAFETY: [start, start + count) is mapped (PROT_READ) or allocated and initialised, and
        // stays so until the next ensure/advance, which cannot run while `body` holds the span: the
        // span does not escape `body`. The memory holds plain bytes, so viewing it as UInt8 is sound.
        let raw = unsafe UnsafeRawBufferPointer(start: start, count: count)
        let bytes = unsafe raw.assumingMemoryBound(to: UInt8.self)
        return unsafe body(bytes.span)
    }

    // MARK: - Mapped windows

    private func canMap() -> Bool {
        guard fileEnd > position else { return true }  // nothing to map; reads will report the end
        do { _ = try ensureMapped(1) } catch { return false }
        return true
    }

    private func forgetDescriptor() {
        // The fallback source takes over the descriptor; this one must not close it.
        if let base = unsafe mapBase {
            // SAFETY: the live mapping made by canMap.
            _ = unsafe munmap(base, mapLength)
            unsafe mapBase = nil
        }
        ownsDescriptor = false
    }

    private func ensureMapped(_ count: Int) throws(CaptureFileError) -> Int {
        let have = available
        if have >= count { return have }
        if unsafe mapBase != nil && mapOffset + Int64(mapLength) >= fileEnd { return have }
        if position >= fileEnd { return 0 }
        let start = position & ~Int64(pageSize - 1)
        let lead = Int(position - start)
        let wanted = max(windowSize, (lead + count + pageSize - 1) / pageSize * pageSize)
        let length = Int(min(Int64(wanted), fileEnd - start))
        if let old = unsafe mapBase {
            // SAFETY: the previous window; no span into it is alive (withView's span ends with its body).
            _ = unsafe munmap(old, mapLength)
            unsafe mapBase = nil
        }
        // SAFETY: a fresh read-only private mapping of [start, start + length) of an open regular
        // file; `start` is page-aligned and `length` > 0 stays within the file size seen by fstat.
        let base = unsafe mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, off_t(start))
        if unsafe base == MAP_FAILED || base == nil {
            throw Self.ioError(path, "mmap", errno)
        }
        unsafe mapBase = base
        mapOffset = start
        mapLength = length
        // Advice only: failures are harmless.
        // SAFETY: the range is exactly the mapping just created.
        _ = unsafe madvise(base, length, MADV_SEQUENTIAL)
        _ = unsafe madvise(base, length, MADV_WILLNEED)
        let next = start + Int64(length)
        if next < fileEnd {
            _ = posix_fadvise(descriptor, off_t(next), off_t(min(Int64(windowSize), fileEnd - next)),
                              POSIX_FADV_WILLNEED)
        }
        return available
    }

    // MARK: - Buffered reads

    private func ensureCapacity(_ needed: Int) {
        guard needed > bufferCapacity else { return }
        let capacity = min(Self.maximumRequest, max(needed, bufferCapacity * 2))
        if isKnownUniquelyReferenced(&storage) {
            storage?.grow(to: capacity)
        } else {
            // Someone holds the bytes handed out: they stay where they are; the valid bytes go on
            // in a larger buffer of our own.
            let grown = ReadBuffer(capacity: capacity)
            if bufferCount > 0, let from = unsafe buffer {
                // SAFETY: both hold at least `bufferCount` bytes (the old buffer's valid part).
                unsafe memcpy(grown.base, from, bufferCount)
            }
            retire(grown)
        }
    }

    /// Makes `next` the buffer, keeping the current one as a spare for when its holders let go.
    private func retire(_ next: ReadBuffer) {
        if let old = storage, spares.count < Self.sparesKept { spares.append(old) }
        storage = next
    }

    /// A buffer of at least `capacity` bytes no one else holds: a spare whose holders let go,
    /// else a new one.
    private func freeBuffer(capacity: Int) -> ReadBuffer {
        for index in spares.indices where isKnownUniquelyReferenced(&spares[index]) && spares[index].capacity >= capacity {
            return spares.remove(at: index)
        }
        return ReadBuffer(capacity: capacity)
    }

    /// The buffer the current view lies in and the view's offset in it (nil when mapped): a
    /// holder may keep the bytes handed out so far by keeping the buffer (``ReadBuffer``).
    package var viewBuffer: (buffer: ReadBuffer, offset: Int)? {
        guard !isMapped, let storage else { return nil }
        return (storage, Int(position - bufferOffset))
    }

    private func ensureBuffered(_ count: Int) throws(CaptureFileError) -> Int {
        let have = available
        if have >= count || atEnd { return have }
        let consumed = Int(position - bufferOffset)
        if consumed > 0 {
            if isKnownUniquelyReferenced(&storage) {
                // SAFETY: both ranges lie inside the buffer's `bufferCount` initialised bytes;
                // memmove allows overlap.
                if have > 0, let base = unsafe buffer { unsafe memmove(base, base + consumed, have) }
            } else {
                // The bytes handed out are held elsewhere: the unread ones go on in a free buffer.
                let next = freeBuffer(capacity: bufferCapacity)
                if have > 0, let base = unsafe buffer {
                    // SAFETY: [base + consumed, base + consumed + have) is the valid unread part;
                    // `next` holds at least `bufferCapacity` >= `have` bytes.
                    unsafe memcpy(next.base, base + consumed, have)
                }
                retire(next)
            }
            bufferOffset = position
            bufferCount = have
        }
        ensureCapacity(count)
        while bufferCount < count {
            if let decompressor {
                let got: Int
                do {
                    // SAFETY: [buffer + bufferCount, buffer + bufferCapacity) is allocated and unused.
                    got = try unsafe decompressor.read(into: buffer! + bufferCount, capacity: bufferCapacity - bufferCount)
                } catch {
                    // The stream ends here: what was decompressed before is read as usual.
                    streamError = error
                    atEnd = true
                    break
                }
                if got == 0 {
                    atEnd = true
                    break
                }
                bufferCount += got
                continue
            }
            // SAFETY: [buffer + bufferCount, buffer + bufferCapacity) is allocated and unused.
            let got = unsafe SystemCall.read(descriptor, buffer! + bufferCount, bufferCapacity - bufferCount)
            if got < 0 { throw Self.ioError(path, "read", errno) }
            if got == 0 {
                atEnd = true
                break
            }
            bufferCount += got
        }
        return available
    }

    // MARK: - Writing and errors

    /// Writes `bytes` to `path`, replacing the file, or appending to it when `append` is true.
    /// - Throws: ``CaptureFileError/io(path:operation:errno:message:)`` when opening or writing fails.
    package static func writeFile(path: String, bytes: [UInt8], append: Bool) throws(CaptureFileError) {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        let fd = SystemCall.open(path, flags, 0o644)
        if fd < 0 { throw ioError(path, "open", errno) }
        defer { _ = close(fd) }
        if let failure = SystemCall.writeAll(fd, bytes.span) { throw ioError(path, "write", failure) }
    }

    static func ioError(_ path: String, _ operation: String, _ code: Int32) -> CaptureFileError {
        // SAFETY: strerror returns a pointer to a NUL-terminated static or thread-local string.
        let message = unsafe strerror(code).map { unsafe String(cString: $0) } ?? "error \(code)"
        return .io(path: path, operation: operation, errno: code, message: message)
    }
}

/// A file's identity: its device and inode, the same for every path (or link) that names it.
package struct FileIdentity: Hashable, Sendable {
    package var device: UInt64
    package var inode: UInt64
}
