import Crypto
import Packets
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests of files for the evidence manifest (swift-crypto: BoringSSL's assembly, which
/// uses the CPU's SHA extensions where present).
public enum FileDigest {
    /// The lower-case hex SHA-256 of a file read in 1 MiB chunks, and its size; nil when it
    /// cannot be read (standard input, a missing file).
    public static func sha256(path: String) -> (digest: String, size: Int64)? {
        guard path != "-" else { return nil }
        let fd = SystemCall.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var size: Int64 = 0
        while true {
            let n = unsafe buffer.withUnsafeMutableBytes { raw in
                // SAFETY: `read` writes at most `raw.count` bytes into the array's own storage.
                unsafe SystemCall.read(fd, raw.baseAddress, raw.count)
            }
            if n < 0 { return nil }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
            size += Int64(n)
        }
        return (hex(Array(hasher.finalize())), size)
    }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The SHA-256 of a byte string, as hex.
    public static func sha256(bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }
}

/// Digests of several files computed on another thread while the audit runs on this one (this
/// machine has two cores; hashing a capture costs about as much as reading it).
public final class BackgroundDigests: Sendable {
    private let results = Mutex<[String: (digest: String, size: Int64)]>([:])
    private let group = DispatchGroup()

    /// Starts hashing `paths` (standard input and unreadable files are skipped).
    public init(paths: [String]) {
        let unique = Array(Set(paths.filter { $0 != "-" })).sorted()
        group.enter()
        DispatchQueue.global(qos: .utility).async { [self] in
            for path in unique {
                if let digest = FileDigest.sha256(path: path) {
                    self.results.withLock { $0[path] = digest }
                }
            }
            self.group.leave()
        }
    }

    /// Waits for the hashing to finish and returns the digest of `path`, if it has one.
    public func digest(of path: String) -> (digest: String, size: Int64)? {
        group.wait()
        return results.withLock { $0[path] }
    }
}
