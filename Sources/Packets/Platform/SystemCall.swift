#if canImport(Glibc)
import Glibc
#endif

/// The system calls a signal can interrupt, retried on EINTR in one place: the capture readers,
/// the evidence digest, the report and event writers and the live capture all use them. A
/// failure keeps `errno` (or returns it), for the caller to report with its file and operation.
public enum SystemCall {
    /// Runs `call` again while it fails with EINTR; returns its last result, with `errno` as the
    /// call left it when that result is negative.
    @inline(__always)
    public static func retrying<R: SignedInteger>(_ call: () -> R) -> R {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    /// open(2), retried on EINTR: the descriptor, or -1 with `errno` set.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        // SAFETY: `path` is passed as a NUL-terminated C string valid for the call.
        retrying { unsafe Glibc.open(path, flags, mode) }
    }

    /// read(2) of at most `count` bytes into `buffer`, retried on EINTR: the bytes read, 0 at the
    /// end, or -1 with `errno` set.
    @unsafe
    public static func read(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        // SAFETY: the caller guarantees `count` writable bytes at `buffer` (the function is unsafe).
        retrying { unsafe Glibc.read(descriptor, buffer, count) }
    }

    /// Writes every byte of `bytes` to `descriptor`, continuing partial writes and retrying on
    /// EINTR. Returns nil when all were written, else the failure's errno (EIO when write(2)
    /// wrote nothing without an error); the bytes before the failure were written.
    public static func writeAll(_ descriptor: Int32, _ bytes: Span<UInt8>) -> Int32? {
        var failure: Int32? = nil
        // SAFETY: the buffer pointer describes `bytes`, valid for the closure; write(2) only
        // reads [base + done, base + count) and keeps no pointer.
        unsafe bytes.withUnsafeBufferPointer { buffer in
            var done = 0
            while done < buffer.count {
                let wrote = retrying { unsafe Glibc.write(descriptor, buffer.baseAddress! + done, buffer.count - done) }
                if wrote < 0 {
                    failure = errno
                    return
                }
                if wrote == 0 {
                    failure = EIO
                    return
                }
                done += wrote
            }
        }
        return failure
    }
}
