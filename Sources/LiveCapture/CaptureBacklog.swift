import Dispatch
import Foundation
import Glibc
import Packets
import Synchronization

/// The packets of one read from the kernel: their records and their bytes, back to back.
/// Batches are recycled: a consumer hands each one back with ``CaptureBacklog/recycle(_:)``.
public struct CaptureBatch: Sendable {
    public var packets: [CapturedPacket] = []
    public var bytes: [UInt8] = []

    /// Memory the batch's content takes (its bytes and its packet records).
    var size: Int { bytes.count + packets.count * MemoryLayout<CapturedPacket>.stride }
}

/// A live capture read on a thread of its own into a bounded backlog, so that reading the kernel's
/// ring never waits on the audit.
///
/// The reader thread does only what `tcpdump -w` does per packet: take it from libpcap and copy
/// it. The consumer (the audit) takes batches with ``next(timeout:)`` at its own pace. When the
/// audit falls behind by more than `capacity` bytes, the newest batch is dropped and its packets
/// counted (``Statistics/droppedByBacklog``), as the kernel drops when its ring is full: the
/// report then says INCOMPLETE. A short burst above the audit's rate is absorbed by the backlog
/// instead of being lost in the kernel's ring, which on a machine shared with other work cannot
/// be emptied while the audit has the core.
///
/// libpcap is used only from the reader thread, its counters included: ``statistics`` returns
/// the ones the thread last published (about every 200 ms, and once more at the end).
public final class CaptureBacklog: Sendable {
    /// What ``next(timeout:)`` found.
    public enum Next: Sendable {
        /// A batch of packets, to be handed back with ``recycle(_:)`` once processed.
        case batch(CaptureBatch)
        /// Nothing arrived within the timeout.
        case idle
        /// The capture ended (stopped, out of duration, or failed: see ``error``) and every
        /// batch has been taken.
        case finished
    }

    /// libpcap's counters with what the backlog dropped.
    public struct Statistics: Sendable, Equatable {
        public var capture: LiveCaptureStatistics?
        /// Packets read from the kernel and dropped because the backlog was full.
        public var droppedByBacklog: UInt64 = 0
        /// The most bytes the backlog held at once.
        public var peakBytes: Int = 0
    }

    struct State: Sendable {
        /// Batches waiting, oldest first from `head`.
        var queue: [CaptureBatch] = []
        var head = 0
        /// Emptied batches kept for the reader to fill again.
        var free: [CaptureBatch] = []
        var queuedBytes = 0
        var statistics = Statistics()
        var finished = false
        var error: CaptureFileError?

        var waiting: Int { queue.count - head }

        mutating func popFirst() -> CaptureBatch? {
            guard head < queue.count else { return nil }
            let batch = queue[head]
            queue[head] = CaptureBatch()
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return batch
        }
    }

    /// Bytes of packets held before the newest are dropped.
    public let capacity: Int
    private let state: Mutex<State>
    /// Signalled when a batch is queued into an empty backlog, or the capture ends.
    private let ready = DispatchSemaphore(value: 0)
    /// Signalled by the reader thread once it has ended (the session is no longer used).
    private let readerDone = DispatchSemaphore(value: 0)

    /// Emptied batches kept for reuse (beyond them, memory from a burst is given back).
    private static let freeBatchesKept = 64

    /// Starts reading `session` on a new thread. The session belongs to that thread from now on:
    /// stop it through its ``LiveCaptureSession/Stopper``; the thread then drains what the kernel
    /// captured, and ``next(timeout:)`` returns `.finished` once every batch is taken.
    public init(session: sending LiveCaptureSession, capacity: Int) {
        self.capacity = max(1, capacity)
        self.state = Mutex(State())
        let reader = SessionReader(session: session)
        let thread = Thread { [self] in
            Self.nameThisThread("capture")
            self.read(reader.session)
            self.readerDone.signal()
        }
        thread.start()
    }

    /// The next batch, waiting up to `timeout` for one.
    public func next(timeout: Duration) -> Next {
        if let next = take() { return next }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
        _ = ready.wait(timeout: .now() + .nanoseconds(nanoseconds))
        return take() ?? .idle
    }

    private func take() -> Next? {
        state.withLock { state -> Next? in
            if let batch = state.popFirst() {
                state.queuedBytes -= batch.size
                return .batch(batch)
            }
            return state.finished ? .finished : nil
        }
    }

    /// Hands a processed batch back for the reader to fill again.
    public func recycle(_ batch: consuming CaptureBatch) {
        var batch = batch
        batch.packets.removeAll(keepingCapacity: true)
        batch.bytes.removeAll(keepingCapacity: true)
        state.withLock { state in
            if state.free.count < Self.freeBatchesKept { state.free.append(batch) }
        }
    }

    /// Batches waiting for the consumer.
    public var waitingBatches: Int { state.withLock { $0.waiting } }

    /// libpcap's counters as last read by the reader thread, and the backlog's own.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The error that ended the capture (the interface went away, poll failed), if any.
    public var error: CaptureFileError? { state.withLock { $0.error } }

    /// Waits until the reader thread has ended (after `.finished`, it has).
    public func awaitReader() { readerDone.wait(); readerDone.signal() }

    // MARK: - The reader thread

    /// Names the calling thread as `top -H`, `ps -L` and /proc/PID/task show it (Linux keeps a
    /// thread's name in /proc/thread-self/comm; Glibc's pthread_setname_np is not visible to Swift).
    private static func nameThisThread(_ name: String) {
        // SAFETY: the path is a temporary C string for the call.
        let descriptor = unsafe open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var bytes = Array(name.utf8.prefix(15))
        // SAFETY: writes `bytes.count` bytes of a live local array.
        _ = unsafe write(descriptor, &bytes, bytes.count)
    }

    private func read(_ session: LiveCaptureSession) {
        var batch = CaptureBatch()
        var nextStatistics = ContinuousClock.now
        var failure: CaptureFileError?
        while true {
            let more: Bool
            do { more = try session.nextBatch(into: &batch) } catch {
                failure = error
                break
            }
            guard more else { break }
            let now = ContinuousClock.now
            let counters: LiveCaptureStatistics? = now >= nextStatistics ? (try? session.statistics()) : nil
            if counters != nil { nextStatistics = now.advanced(by: .milliseconds(200)) }
            guard !batch.packets.isEmpty || counters != nil else { continue }
            let wasEmpty = state.withLock { state -> Bool in
                if let counters { state.statistics.capture = counters }
                guard !batch.packets.isEmpty else { return false }
                let size = batch.size
                if state.queuedBytes > 0 && state.queuedBytes + size > capacity {
                    state.statistics.droppedByBacklog += UInt64(batch.packets.count)
                    batch.packets.removeAll(keepingCapacity: true)
                    batch.bytes.removeAll(keepingCapacity: true)
                    return false
                }
                let wasEmpty = state.waiting == 0
                state.queue.append(batch)
                state.queuedBytes += size
                state.statistics.peakBytes = max(state.statistics.peakBytes, state.queuedBytes)
                batch = state.free.popLast() ?? CaptureBatch()
                return wasEmpty
            }
            if wasEmpty { ready.signal() }
        }
        let final = try? session.statistics()
        state.withLock { state in
            if let final { state.statistics.capture = final }
            state.error = failure
            state.finished = true
        }
        ready.signal()
    }
}

/// Carries the session to the reader thread, which is its only user from then on.
private struct SessionReader: @unchecked Sendable {
    let session: LiveCaptureSession
}

/// A live capture's backlog as a ``PacketSource``, for the one capture pipeline: each step takes
/// the next batch (waiting up to ``wait`` for one), hands it out straight from the batch's arrays,
/// and gives it back to the reader thread. Its ``clock`` is the wall clock, so flows idle past
/// their timeout end while no packet comes; while batches are still waiting in the backlog it is
/// the last packet's time instead, so a flow whose next packet is queued is not ended early.
/// When the capture ends it throws the error that ended it, if any.
public struct CaptureBacklogSource: PacketSource {
    public let backlog: CaptureBacklog
    /// How long a step waits for a batch before it reports the time alone.
    public let wait: Duration
    /// Bytes on the wire of the packets handed out (their original lengths).
    public private(set) var bytesSeen: UInt64 = 0
    /// The wall clock at the end of the last step (at the end of the capture, once it ended).
    public private(set) var now: Int64
    public private(set) var clock: Int64?
    private var lastPacketTime: Int64?

    public init(backlog: CaptureBacklog, wait: Duration = .milliseconds(100)) {
        self.backlog = backlog
        self.wait = wait
        now = LiveClock.now()
    }

    public mutating func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool {
        switch backlog.next(timeout: wait) {
        case .batch(let batch):
            for packet in batch.packets { bytesSeen &+= UInt64(packet.originalLength) }
            body(batch.packets, batch.bytes.span)
            lastPacketTime = batch.packets.last?.timestamp ?? lastPacketTime
            backlog.recycle(batch)
        case .idle:
            break
        case .finished:
            now = LiveClock.now()
            clock = nil
            if let error = backlog.error { throw error }
            return false
        }
        let now = LiveClock.now()
        self.now = now
        clock = backlog.waitingBatches > 0 ? min(now, lastPacketTime ?? now) : now
        return true
    }
}

/// Wall-clock time in nanoseconds since the epoch (the clock live packets are stamped with).
public enum LiveClock {
    public static func now() -> Int64 {
        var spec = timespec()
        // SAFETY: clock_gettime writes one timespec into the local variable it is given.
        unsafe clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
