#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import CZstd

// Compressed captures, read as streams: the compressed bytes are read from the descriptor into a
// fixed input buffer and decompressed straight into the caller's buffer, so memory stays bounded
// (the input buffer, zlib's 32 KiB window or zstd's window, at most 128 MiB by zstd's default
// limit) whatever the file's size. Like ByteSource, this file touches pointers and C calls; each
// `unsafe` carries its reason.

/// The compression of a capture input, recognised by its first bytes (not its name).
public enum CaptureCompression: String, Sendable, Equatable {
    /// gzip (RFC 1952), magic `1f 8b`; concatenated members are read one after the other, as gzip -d does.
    case gzip
    /// Zstandard (RFC 8878), magic `28 b5 2f fd`; concatenated and skippable frames are read too.
    case zstd

    /// The compression whose magic number starts `bytes`, if any.
    static func detect(_ bytes: [UInt8]) -> CaptureCompression? {
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B { return .gzip }
        if bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD { return .zstd }
        return nil
    }
}

/// A streaming decompressor over a file descriptor.
@safe
final class Decompressor {
    /// Bytes of compressed input read at a time.
    static let inputSize = 256 << 10

    let compression: CaptureCompression
    private let path: String
    private let descriptor: Int32
    private let input: UnsafeMutableRawPointer
    /// Compressed bytes in `input`, and how many of them were consumed.
    private var inputCount = 0
    private var inputConsumed = 0
    private var inputAtEnd = false
    /// Compressed bytes consumed before the current `input` contents (for error offsets).
    private var inputBase: Int64 = 0
    /// Decompressed bytes produced so far.
    private(set) var produced: Int64 = 0
    /// True between the start of a gzip member or zstd frame and its end.
    private var insideStream = false
    private var finished = false
    /// An error met by a call that also produced bytes: thrown by the next call, so that the
    /// bytes before it are delivered first.
    private var pendingError: CaptureFileError?

    private let zlib: UnsafeMutablePointer<z_stream>?
    private let zstd: OpaquePointer?

    /// Compressed bytes consumed so far (the offset of the next compressed byte to decode).
    var compressedOffset: Int64 { inputBase + Int64(inputConsumed) }

    /// Starts decompressing `descriptor`'s stream, whose first `prefix` bytes were already read.
    init(compression: CaptureCompression, path: String, descriptor: Int32, prefix: [UInt8]) throws(CaptureFileError) {
        self.compression = compression
        self.path = path
        self.descriptor = descriptor
        let size = max(Self.inputSize, prefix.count)
        // SAFETY: a fresh allocation owned by this object, freed in deinit.
        guard let buffer = unsafe malloc(size) else { fatalError("out of memory for the decompression buffer") }
        unsafe input = buffer
        unsafe prefix.withUnsafeBytes { raw in
            // SAFETY: `input` holds `size` >= prefix.count bytes; `raw` is valid inside the closure.
            if let from = raw.baseAddress { unsafe memcpy(buffer, from, raw.count) }
        }
        inputCount = prefix.count
        switch compression {
        case .gzip:
            // SAFETY: the z_stream lives at a fixed address (zlib keeps pointers to it) until deinit.
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            unsafe stream.initialize(to: z_stream())
            // 15 + 16: a 32 KiB window, gzip header and trailer.
            let status = unsafe flowaudit_inflateInit2(stream, 15 + 16)
            unsafe zlib = stream
            unsafe zstd = nil
            guard status == Z_OK else {
                throw .io(path: path, operation: "inflateInit2", errno: ENOMEM, message: "zlib could not start (status \(status))")
            }
        case .zstd:
            unsafe zlib = nil
            guard let stream = unsafe ZSTD_createDStream() else {
                throw .io(path: path, operation: "ZSTD_createDStream", errno: ENOMEM, message: "zstd could not start")
            }
            unsafe zstd = stream
        }
    }

    deinit {
        if let stream = unsafe zlib {
            // SAFETY: the stream was initialised by inflateInit2 and is ended exactly once.
            _ = unsafe inflateEnd(stream)
            unsafe stream.deinitialize(count: 1)
            unsafe stream.deallocate()
        }
        // SAFETY: created by ZSTD_createDStream, freed exactly once.
        if let stream = unsafe zstd { _ = unsafe ZSTD_freeDStream(stream) }
        // SAFETY: allocated in init, freed exactly once.
        unsafe free(input)
    }

    /// Decompresses into `destination` (`capacity` bytes), reading compressed input as needed.
    /// - Returns: the bytes written, 0 only at the end of the stream.
    /// - Throws: ``CaptureFileError/corruptCompression(path:format:compressedOffset:offset:reason:)``
    ///   for data the decoder rejects or a stream that stops inside a member or frame, and
    ///   ``CaptureFileError/io(path:operation:errno:message:)`` when reading fails.
    func read(into destination: UnsafeMutableRawPointer, capacity: Int) throws(CaptureFileError) -> Int {
        if let error = pendingError {
            pendingError = nil
            finished = true
            throw error
        }
        if finished || capacity == 0 { return 0 }
        while true {
            if inputConsumed == inputCount && !inputAtEnd { try refill() }
            if inputConsumed == inputCount && inputAtEnd {
                finished = true
                if insideStream {
                    throw corrupt("the compressed stream ends inside a \(compression == .gzip ? "gzip member" : "zstd frame") "
                        + "(the file is truncated)")
                }
                return 0
            }
            // SAFETY: `destination` has `capacity` writable bytes (the caller's promise).
            let written = compression == .gzip
                ? try unsafe inflate(into: destination, capacity: capacity)
                : try unsafe decompressZstd(into: destination, capacity: capacity)
            if written > 0 {
                produced += Int64(written)
                return written
            }
        }
    }

    private func refill() throws(CaptureFileError) {
        // Keep nothing: every decoder call consumes what it can and keeps its own state.
        inputBase += Int64(inputConsumed)
        inputCount = 0
        inputConsumed = 0
        while true {
            // SAFETY: [input, input + inputSize) is allocated and unused (inputCount is 0).
            let got = unsafe SystemCall.read(descriptor, input, Self.inputSize)
            if got < 0 { throw ByteSource.ioError(path, "read", errno) }
            if got == 0 { inputAtEnd = true }
            inputCount = got
            return
        }
    }

    private func inflate(into destination: UnsafeMutableRawPointer, capacity: Int) throws(CaptureFileError) -> Int {
        guard let stream = unsafe zlib else { return 0 }
        if !insideStream {
            // A new member starts here. Bytes after the last member that are not one are an
            // error (gzip -d calls them trailing garbage): everything before them was delivered.
            let start = inputConsumed
            if inputCount - start >= 2 {
                // SAFETY: both bytes lie inside the filled part of the input buffer.
                let first = unsafe input.load(fromByteOffset: start, as: UInt8.self)
                let second = unsafe input.load(fromByteOffset: start + 1, as: UInt8.self)
                guard first == 0x1F && second == 0x8B else {
                    throw corrupt("\(inputCount - start) or more bytes after the last gzip member are not a gzip member")
                }
            }
            insideStream = true
        }
        let available = inputCount - inputConsumed
        // SAFETY: next_in/avail_in describe the unconsumed, filled part of the input buffer and
        // next_out/avail_out the caller's `capacity` writable bytes; both outlive the call.
        unsafe stream.pointee.next_in = input.advanced(by: inputConsumed).assumingMemoryBound(to: Bytef.self)
        unsafe stream.pointee.avail_in = UInt32(clamping: available)
        unsafe stream.pointee.next_out = destination.assumingMemoryBound(to: Bytef.self)
        unsafe stream.pointee.avail_out = UInt32(clamping: capacity)
        let status = unsafe CZlib.inflate(stream, Z_NO_FLUSH)
        let consumed = available - Int(unsafe stream.pointee.avail_in)
        let written = min(capacity, Int(UInt32(clamping: capacity)) - Int(unsafe stream.pointee.avail_out))
        // SAFETY: the stream's pointers must not outlive the buffers; clear them.
        unsafe stream.pointee.next_in = nil
        unsafe stream.pointee.next_out = nil
        switch status {
        case Z_OK, Z_BUF_ERROR:
            // Z_BUF_ERROR: no progress was possible (more input is needed); not an error.
            inputConsumed += consumed
            return written
        case Z_STREAM_END:
            inputConsumed += consumed
            insideStream = false
            // SAFETY: the stream is initialised; a reset starts the next member.
            _ = unsafe inflateReset(stream)
            return written
        default:
            inputConsumed += consumed
            // SAFETY: zlib's msg is nil or a NUL-terminated static string.
            let message = unsafe stream.pointee.msg.map { unsafe String(cString: $0) } ?? "zlib status \(status)"
            return try failing(corrupt("gzip data is corrupt: \(message)"), after: written)
        }
    }

    private func decompressZstd(into destination: UnsafeMutableRawPointer, capacity: Int) throws(CaptureFileError) -> Int {
        guard let stream = unsafe zstd else { return 0 }
        let available = inputCount - inputConsumed
        let chunkStart = compressedOffset
        // SAFETY: the in-buffer describes the unconsumed, filled part of the input buffer and the
        // out-buffer the caller's `capacity` writable bytes; zstd keeps neither after the call.
        var source = unsafe ZSTD_inBuffer(src: UnsafeRawPointer(input.advanced(by: inputConsumed)), size: available, pos: 0)
        var target = unsafe ZSTD_outBuffer(dst: destination, size: capacity, pos: 0)
        let result = unsafe ZSTD_decompressStream(stream, &target, &source)
        inputConsumed += unsafe source.pos
        if ZSTD_isError(result) != 0 {
            // SAFETY: ZSTD_getErrorName returns a NUL-terminated static string.
            let message = unsafe String(cString: ZSTD_getErrorName(result))
            // zstd does not say where in its input the fault lies: name the bytes it was given.
            let chunkEnd = chunkStart + Int64(available)
            inputConsumed = inputCount
            return try failing(corrupt("zstd data is corrupt: \(message) (in compressed bytes \(chunkStart) to \(chunkEnd); "
                + "the frame's data not yet delivered is lost)"), after: unsafe target.pos)
        }
        // 0: a frame is complete and flushed; otherwise more of the frame is to come.
        insideStream = result != 0
        return unsafe target.pos
    }

    /// Throws `error` at once when the failing call produced nothing; otherwise returns the bytes
    /// it produced and keeps the error for the next call.
    private func failing(_ error: CaptureFileError, after written: Int) throws(CaptureFileError) -> Int {
        guard written > 0 else { throw error }
        // The offset counts the bytes this call produced as well.
        if case .corruptCompression(let path, let format, let compressedOffset, let offset, let reason) = error {
            pendingError = .corruptCompression(path: path, format: format, compressedOffset: compressedOffset,
                                               offset: offset + Int64(written), reason: reason)
        } else {
            pendingError = error
        }
        return written
    }

    private func corrupt(_ reason: String) -> CaptureFileError {
        .corruptCompression(path: path, format: compression.rawValue, compressedOffset: compressedOffset,
                            offset: produced, reason: reason)
    }
}
