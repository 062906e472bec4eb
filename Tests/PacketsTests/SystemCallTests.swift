import Foundation
import Testing
@testable import Packets
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemCallTests {
    /// A pipe holds 64 KiB: a 1 MiB write is taken in many partial writes while another thread
    /// reads, and every byte must arrive in order.
    @Test func writeAllContinuesPartialWrites() throws {
        var ends: [Int32] = [0, 0]
        let made = unsafe pipe(&ends)
        #expect(made == 0)
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let reader = ends[0]
        let received = LockedBytes()
        let thread = Thread {
            var chunk = [UInt8](repeating: 0, count: 8192)
            while true {
                let n = unsafe chunk.withUnsafeMutableBytes { raw in unsafe SystemCall.read(reader, raw.baseAddress, raw.count) }
                if n <= 0 { break }
                received.append(chunk[0..<n])
            }
            received.finish()
        }
        thread.start()
        #expect(SystemCall.writeAll(ends[1], bytes.span) == nil)
        close(ends[1])
        received.wait()
        close(reader)
        #expect(received.bytes == bytes)
    }

    @Test func writeAllReportsTheFailure() {
        var ends: [Int32] = [0, 0]
        let made = unsafe pipe(&ends)
        #expect(made == 0)
        close(ends[0])
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        #expect(SystemCall.writeAll(ends[1], [1, 2, 3].span) == EPIPE)
        close(ends[1])
        #expect(SystemCall.writeAll(-1, [1].span) == EBADF)
    }

    @Test func openKeepsErrno() {
        #expect(SystemCall.open("/nonexistent/flowaudit-test", O_RDONLY) == -1)
        #expect(errno == ENOENT)
    }
}

/// Bytes collected by a reader thread.
final class LockedBytes: @unchecked Sendable {
    private let condition = NSCondition()
    private var storage: [UInt8] = []
    private var done = false

    func append(_ chunk: ArraySlice<UInt8>) {
        condition.lock()
        storage.append(contentsOf: chunk)
        condition.unlock()
    }

    func finish() {
        condition.lock()
        done = true
        condition.signal()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }

    var bytes: [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        return storage
    }
}
