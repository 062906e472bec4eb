import Packets
import Audit
import Reports
import Dispatch
import NIOCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One message for a sink: an event (formatted by the sink's own thread, so the capture thread
/// never builds text) or a ready line (the `--every` rule table).
public enum SinkMessage: Sendable {
    case event(AuditEvent, at: Int64)
    case text(String)
}

/// Where a sink writes.
public enum SinkTarget: Sendable {
    /// A file, created or appended to; reopened by ``EventSink/reopen()`` (log rotation).
    case file(path: String)
    /// An open descriptor: 1 (standard output) or 2 (standard error).
    case descriptor(Int32)
    /// A syslog collector (RFC 5424 messages; see ``SyslogSender``).
    case syslog(SyslogEndpoint)
}

/// How a sink turns a message into bytes.
public enum SinkFormat: Sendable {
    case text, jsonl
    /// RFC 5424 with RFC 6587 octet counting on streams.
    case syslog(SyslogFormatter)
}

/// A sink of live events with a queue and a sender thread of its own: ``offer(_:)`` never waits
/// on the output. When the queue is full the oldest message is dropped and counted, so a stuck
/// collector or a slow disk cost events (counted), never packets.
///
/// TCP and TLS syslog connections that break are made again with exponential backoff (100 ms
/// doubling to 10 s); the message being sent when the connection broke is sent again on the
/// new one. ``close(within:)`` gives the sender a deadline to empty the queue, then counts
/// what is left as dropped at exit.
public final class EventSink: Sendable {
    public let name: String
    public let kind: String
    let target: SinkTarget
    let format: SinkFormat
    let capacity: Int

    struct State {
        var queue: CircularBuffer<SinkMessage>
        var counters: SinkCounters
        var closing = false
        var deadline: ContinuousClock.Instant?
        var reopenRequested = false
        var finished = false
        /// True once a write to standard output failed with EPIPE (the reader went away).
        var readerGone = false
    }

    let state: Mutex<State>
    /// Wakes the sender: a byte written to a non-blocking pipe.
    let wake: WakePipe
    let done = DispatchSemaphore(value: 0)
    /// Called once, from the sender thread, when the reader of standard output went away.
    let onReaderGone: (@Sendable () -> Void)?

    /// - Parameters:
    ///   - capacity: messages the queue holds before dropping the oldest.
    ///   - connection: an already connected transport for `.syslog` (so that a collector that
    ///     cannot be reached is reported before the capture starts); nil connects in the thread.
    public init(name: String, kind: String, target: SinkTarget, format: SinkFormat, capacity: Int,
                connection: SyslogConnection? = nil, onReaderGone: (@Sendable () -> Void)? = nil) throws(SinkError) {
        self.name = name
        self.kind = kind
        self.target = target
        self.format = format
        self.capacity = max(1, capacity)
        self.onReaderGone = onReaderGone
        state = Mutex(State(queue: CircularBuffer(initialCapacity: min(max(1, capacity), 4096)),
                            counters: SinkCounters(name: name, kind: kind)))
        guard let wake = WakePipe() else { throw SinkError(message: "\(name): cannot create a pipe: \(errnoText(errno))") }
        self.wake = wake
        var writer: SinkWriter
        switch target {
        case .file(let path):
            let fd = FileSinkWriter.open(path)
            guard fd >= 0 else {
                let code = errno
                throw SinkError(message: "\(path): cannot open the events file: \(errnoText(code)) (errno \(code))")
            }
            writer = .file(FileSinkWriter(path: path, descriptor: fd, owns: true))
        case .descriptor(let fd):
            writer = .file(FileSinkWriter(path: name, descriptor: fd, owns: false))
        case .syslog(let endpoint):
            guard let connection else { throw SinkError(message: "\(endpoint.target): no connection given") }
            _ = endpoint
            writer = .syslog(connection)
        }
        let initial = writer
        let thread = Thread { [self] in
            self.run(initial)
        }
        thread.start()
    }

    /// Queues a message, dropping the oldest one when the queue is full. Never waits.
    public func offer(_ message: SinkMessage) {
        let wasEmpty = state.withLock { state -> Bool in
            state.counters.offered += 1
            if state.finished || state.readerGone {
                state.counters.droppedWriteError += 1
                return false
            }
            if state.queue.count >= capacity {
                state.queue.removeFirst()
                state.counters.droppedQueueFull += 1
            }
            state.queue.append(message)
            return state.queue.count == 1
        }
        if wasEmpty { wake.signal() }
    }

    /// Asks the sender to reopen a file target (SIGHUP, after log rotation moved the file).
    public func reopen() {
        state.withLock { $0.reopenRequested = true }
        wake.signal()
    }

    /// The counters so far.
    public var counters: SinkCounters { state.withLock { $0.counters } }

    /// Stops the sender: it sends what it can until `within` has passed, the rest is counted as
    /// dropped at exit. Returns the final counters.
    @discardableResult
    public func close(within: Duration) -> SinkCounters {
        let deadline = ContinuousClock.now.advanced(by: within)
        beginClose(by: deadline)
        return awaitClosed(deadline: deadline)
    }

    /// Tells the sender to send what it can until `deadline`, then stop (several sinks can be
    /// closed at once: ``beginClose(by:)`` on each, then ``awaitClosed(deadline:)`` on each).
    public func beginClose(by deadline: ContinuousClock.Instant) {
        state.withLock {
            $0.closing = true
            $0.deadline = deadline
        }
        wake.signal()
    }

    /// Waits for the sender to stop (at most 200 ms past `deadline`) and returns the final counters.
    public func awaitClosed(deadline: ContinuousClock.Instant) -> SinkCounters {
        // The sender checks the deadline at least every 50 ms; a write into a file that blocks
        // (a hung NFS server) is the only thing that could hold it longer.
        let (seconds, attoseconds) = (deadline.advanced(by: .milliseconds(200)) - ContinuousClock.now).components
        let milliseconds = max(0, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
        _ = done.wait(timeout: .now() + .milliseconds(milliseconds))
        return state.withLock { state in
            if !state.finished {
                // The sender is stuck in a write: what it holds and what is queued are lost.
                state.counters.droppedAtExit += state.queue.count + 1
                state.queue.removeAll()
                state.finished = true
            }
            return state.counters
        }
    }

    // MARK: - The sender thread

    private func run(_ initial: SinkWriter) {
        var writer = initial
        var pending: [UInt8]? = nil
        var backoff = Duration.milliseconds(100)
        var nextAttempt = ContinuousClock.now
        defer {
            writer.close()
            done.signal()
        }
        while true {
            // Take the next message, or learn that it is time to stop.
            let step = state.withLock { state -> (SinkMessage?, Bool, Bool) in
                let reopen = state.reopenRequested
                state.reopenRequested = false
                if state.closing, let deadline = state.deadline, ContinuousClock.now >= deadline {
                    state.counters.droppedAtExit += state.queue.count + (pending == nil ? 0 : 1)
                    state.queue.removeAll()
                    state.finished = true
                    return (nil, true, reopen)
                }
                if pending == nil, let first = state.queue.popFirst() { return (first, false, reopen) }
                if pending == nil && state.closing {
                    state.finished = true
                    return (nil, true, reopen)
                }
                return (nil, false, reopen)
            }
            if step.1 { return }
            if step.2, case .file(var file) = writer {
                file.reopen()
                writer = .file(file)
                state.withLock { $0.counters.reopens += 1 }
            }
            if let message = step.0 { pending = encode(message, for: writer) }
            guard let bytes = pending else {
                wake.wait(milliseconds: 200)
                continue
            }
            switch writer {
            case .file(let file):
                let result = file.write(bytes)
                pending = nil
                switch result {
                case .success:
                    state.withLock { $0.counters.sent += 1 }
                case .failure(let failure):
                    let code = failure.code
                    let gone = code == EPIPE && file.descriptor == 1
                    state.withLock { state in
                        state.counters.droppedWriteError += 1
                        if state.counters.firstError == nil {
                            state.counters.firstError = "\(file.path): \(errnoText(code)) (errno \(code))"
                            state.counters.firstErrno = code
                        }
                        if gone {
                            state.readerGone = true
                            state.counters.droppedWriteError += state.queue.count
                            state.queue.removeAll()
                        }
                    }
                    if gone { onReaderGone?() }
                }
            case .syslog(let connection):
                if !connection.isConnected {
                    if ContinuousClock.now < nextAttempt {
                        wake.wait(milliseconds: 50)
                        continue
                    }
                    let wasConnected = connection.everConnected
                    if connection.connect(timeout: .seconds(1), wake: wake) {
                        backoff = .milliseconds(100)
                        if wasConnected { state.withLock { $0.counters.reconnects += 1 } }
                    } else {
                        nextAttempt = ContinuousClock.now.advanced(by: backoff)
                        backoff = min(backoff * 2, .seconds(10))
                        recordError(connection.lastError)
                        continue
                    }
                }
                switch connection.send(bytes, wake: wake, shouldGiveUp: { [self] in self.isPastDeadline }) {
                case .sent:
                    pending = nil
                    state.withLock { $0.counters.sent += 1 }
                case .interrupted:
                    continue  // the deadline check above ends the loop
                case .broken:
                    // Sent again on the next connection (datagrams: counted as dropped).
                    recordError(connection.lastError)
                    if connection.endpoint.transport == .udp {
                        pending = nil
                        state.withLock { $0.counters.droppedWriteError += 1 }
                    }
                    nextAttempt = ContinuousClock.now
                }
            }
        }
    }

    private var isPastDeadline: Bool {
        state.withLock { state in
            guard state.closing, let deadline = state.deadline else { return false }
            return ContinuousClock.now >= deadline
        }
    }

    private func recordError(_ text: String?) {
        guard let text else { return }
        state.withLock { state in
            if state.counters.firstError == nil { state.counters.firstError = "\(name): \(text)" }
        }
    }

    private func encode(_ message: SinkMessage, for writer: SinkWriter) -> [UInt8] {
        switch (message, format) {
        case (.text, .syslog):
            return []  // rule tables are not syslog events
        case (.text(let text), _):
            return Array(text.utf8)
        case (.event(let event, let time), .text):
            return Array((EventText.line(event, at: time) + "\n").utf8)
        case (.event(let event, let time), .jsonl):
            return Array((EventText.json(event, at: time) + "\n").utf8)
        case (.event(let event, let time), .syslog(let formatter)):
            let text = formatter.message(event, at: time)
            if case .syslog(let connection) = writer, connection.endpoint.transport != .udp {
                return Array(("\(text.utf8.count) " + text).utf8)
            }
            return Array(text.utf8)
        }
    }
}

/// A sink that could not be set up.
public struct SinkError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The writer a sender thread owns.
enum SinkWriter: Sendable {
    case file(FileSinkWriter)
    case syslog(SyslogConnection)

    func close() {
        switch self {
        case .file(let file): file.close()
        case .syslog(let connection): connection.close()
        }
    }
}

/// A file or descriptor writer.
struct FileSinkWriter: Sendable {
    let path: String
    var descriptor: Int32
    let owns: Bool

    /// Opens `path` for appending (a file kept across SIGHUP reopens is never truncated).
    static func open(_ path: String) -> Int32 {
        // SAFETY: `open` reads the C string Swift passes for `path` only during the call.
        unsafe Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    }

    mutating func reopen() {
        guard owns else { return }
        let fd = Self.open(path)
        guard fd >= 0 else { return }  // keeps writing to the old file
        Glibc.close(descriptor)
        descriptor = fd
    }

    func close() {
        if owns { Glibc.close(descriptor) }
    }

    /// Writes all of `bytes`, or returns the errno that stopped it.
    func write(_ bytes: [UInt8]) -> Result<Void, WriteFailure> {
        if let code = SystemCall.writeAll(descriptor, bytes.span) { return .failure(WriteFailure(code: code)) }
        return .success(())
    }
}

struct WriteFailure: Error {
    var code: Int32
}


/// A non-blocking pipe that wakes a thread waiting in poll(2).
final class WakePipe: Sendable {
    let reader: Int32
    let writer: Int32

    init?() {
        var ends: [Int32] = [-1, -1]
        // SAFETY: `ends` has the 2 elements pipe(2) writes.
        guard unsafe pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        reader = ends[0]
        writer = ends[1]
    }

    deinit {
        Glibc.close(reader)
        Glibc.close(writer)
    }

    func signal() {
        var byte: UInt8 = 1
        // SAFETY: writes the one byte of a local; a full pipe is already readable.
        _ = unsafe Glibc.write(writer, &byte, 1)
    }

    /// Waits until signalled or `milliseconds` passed, then empties the pipe.
    func wait(milliseconds: Int32) {
        var descriptor = [pollfd(fd: reader, events: Int16(POLLIN), revents: 0)]
        // SAFETY: `descriptor` holds exactly the 1 entry passed, alive for the call.
        _ = unsafe poll(&descriptor, 1, milliseconds)
        drain()
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        // SAFETY: reads at most buffer.count bytes into the array's own storage.
        while unsafe buffer.withUnsafeMutableBytes({ unsafe read(reader, $0.baseAddress, $0.count) }) > 0 {}
    }
}

func errnoText(_ code: Int32) -> String {
    // SAFETY: strerror returns a static NUL-terminated string, copied at once.
    unsafe String(cString: strerror(code))
}
