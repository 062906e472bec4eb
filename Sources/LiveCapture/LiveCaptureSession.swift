import CPcap
import Glibc
import Packets
import Synchronization

/// The libpcap handle and the session's wake-up descriptor, shared by a session and its stoppers
/// so that a stop can never reach a closed handle: `pcap_close` runs only when the last of them
/// is gone.
// SAFETY: the pointer is set once from pcap_create (or pcap_open_dead) and closed only in
// deinit, so every use through this class sees a live pcap_t.
@safe final class PcapHandle: Sendable {
    /// The pcap_t. Immutable. libpcap is used from one thread at a time, except for
    /// `pcap_breakloop`, which libpcap documents as callable from another thread or a signal
    /// handler while a read runs.
    nonisolated(unsafe) let pointer: OpaquePointer
    /// A non-blocking pipe: `requestStop` writes a byte to `wakeWriter` so that `wakeReader`
    /// turns readable and ends a `poll` waiting for packets. -1 for handles that never wait
    /// (pcap_open_dead).
    let wakeReader: Int32
    let wakeWriter: Int32
    /// Set by `requestStop`; read before and after each wait.
    let stopRequested = Atomic<Bool>(false)

    init(_ pointer: OpaquePointer, wakeReader: Int32 = -1, wakeWriter: Int32 = -1) {
        unsafe self.pointer = pointer
        self.wakeReader = wakeReader
        self.wakeWriter = wakeWriter
    }

    /// A pipe for `init(_:wakeReader:wakeWriter:)`, both ends non-blocking and close-on-exec,
    /// or errno.
    static func makeWakePipe() -> Result<(reader: Int32, writer: Int32), Errno> {
        var ends: [Int32] = [-1, -1]
        // SAFETY: `ends` has the 2 elements pipe(2) writes.
        guard unsafe pipe(&ends) == 0 else { return .failure(Errno(code: errno)) }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        return .success((ends[0], ends[1]))
    }

    deinit {
        // SAFETY: the handle came from pcap_create/pcap_open_dead and no session or stopper
        // refers to it any more.
        unsafe pcap_close(pointer)
        if wakeReader >= 0 { close(wakeReader) }
        if wakeWriter >= 0 { close(wakeWriter) }
    }

    /// Asks the session to stop. Only an atomic store, `pcap_breakloop` (a flag store plus an
    /// eventfd write on Linux) and a one-byte write(2): no locks, no allocation.
    func requestStop() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        // SAFETY: `pointer` is alive while `self` is; pcap_breakloop is safe from another thread.
        unsafe pcap_breakloop(pointer)
        if wakeWriter >= 0 {
            var byte: UInt8 = 1
            // SAFETY: writes the one byte of a local; a full pipe (EAGAIN) is already readable.
            _ = unsafe write(wakeWriter, &byte, 1)
        }
    }

    var isStopRequested: Bool { stopRequested.load(ordering: .sequentiallyConsistent) }

    /// `pcap_geterr`'s text.
    var lastError: String { unsafe PcapText.lastError(pointer) }
}

/// A live capture on one interface through libpcap, handing out packets in batches.
///
/// Open it with ``init(options:)``, then call ``nextBatch(_:)`` in a loop. Each call waits at most
/// the options' timeout (100 ms by default): it returns true with the packets that arrived, or
/// with an empty batch when none did, so the caller gets control back regularly for periodic
/// work. It returns false once ``stop()`` was called (from any thread, through a ``Stopper``) or
/// the duration has run out.
///
/// A live source has no file: each packet's `fileOffset` is its running number in this session
/// (0 for the first packet handed out), and `interface` is 0.
public final class LiveCaptureSession: PacketSource {
    /// A handle that stops a session from another thread, a task or a signal-handling path.
    /// It keeps the libpcap handle alive, so it is safe to use even after the session is gone.
    ///
    /// `stop()` does only an atomic store, `pcap_breakloop` and a one-byte write(2), all
    /// async-signal-safe, but Swift itself does not promise that calling a method from a raw C
    /// signal handler is: for SIGINT/SIGTERM, ignore the signal (`signal(SIGINT, SIG_IGN)`) and
    /// call `stop()` from a `DispatchSource.makeSignalSource` handler.
    public struct Stopper: Sendable {
        let handle: PcapHandle

        /// Makes the running or next `nextBatch` return promptly and every later one return false.
        public func stop() { handle.requestStop() }

        /// True once `stop()` was called.
        public var isStopped: Bool { handle.isStopRequested }
    }

    /// The interface being captured.
    public let interface: String
    /// The link type of the interface (`pcap_datalink`, as a LINKTYPE_ value).
    public let linkType: LinkType
    /// The snapshot length libpcap applies (`pcap_snapshot`).
    public let snapshotLength: Int
    /// True when libpcap delivers nanosecond timestamps; otherwise microseconds are scaled.
    public let hasNanosecondTimestamps: Bool
    /// libpcap's activation warnings (for example promiscuous mode not supported), to be shown.
    public let warnings: [String]
    /// The filter in force, if any.
    public let filter: String?

    let handle: PcapHandle
    private let maximumBatchPackets: Int32
    private let captureDescriptor: Int32
    private let timeoutMilliseconds: Int32
    private let deadline: ContinuousClock.Instant?
    /// The batch being gathered by the pcap callback; reused from batch to batch.
    private var packets: [CapturedPacket] = []
    /// The bytes of the batch's packets, back to back; reused from batch to batch.
    private var bytes: [UInt8] = []
    /// Packets handed out so far; also the next packet's `fileOffset`.
    private var delivered: Int64 = 0
    private var finished = false
    /// Set once stopped: later reads only drain what the kernel already captured.
    private var draining = false
    private var drainedBatches = 0

    /// Opens and activates a capture: `pcap_create`, the options, `pcap_activate`, then the
    /// filter (compiled against the interface's link type and netmask).
    public init(options: LiveCaptureOptions) throws(LiveCaptureError) {
        try options.validate()
        let name = options.interface
        var errorBuffer = PcapText.errorBuffer()
        // SAFETY: the name is a temporary C string for the call; errorBuffer has PCAP_ERRBUF_SIZE bytes.
        guard let created = unsafe pcap_create(name, &errorBuffer) else {
            throw .activationFailed(interface: name, status: 0, message: PcapText.string(errorBuffer))
        }
        let wake: (reader: Int32, writer: Int32)
        switch PcapHandle.makeWakePipe() {
        case .success(let ends):
            wake = ends
        case .failure(let error):
            // SAFETY: `created` is not yet owned by anything else.
            unsafe pcap_close(created)
            throw .activationFailed(interface: name, status: 0, message: "pipe: \(Privileges.errorText(error.code))")
        }
        let handle = unsafe PcapHandle(created, wakeReader: wake.reader, wakeWriter: wake.writer)
        // SAFETY (this block): `pointer` is the handle just created, owned by `handle`; these
        // setters only store values in it before activation.
        let pointer = unsafe handle.pointer
        unsafe pcap_set_snaplen(pointer, Int32(options.snapshotLength))
        unsafe pcap_set_promisc(pointer, options.promiscuous ? 1 : 0)
        unsafe pcap_set_timeout(pointer, options.timeoutMilliseconds)
        unsafe pcap_set_immediate_mode(pointer, options.immediateMode ? 1 : 0)
        if let bufferSize = options.bufferSize {
            unsafe pcap_set_buffer_size(pointer, Int32(bufferSize))
        }
        // Nanosecond timestamps where the platform gives them; failure keeps microseconds.
        _ = unsafe pcap_set_tstamp_precision(pointer, Int32(PCAP_TSTAMP_PRECISION_NANO))

        let status = unsafe pcap_activate(pointer)
        if status < 0 {
            throw Self.activationError(status: status, interface: name,
                                       message: handle.lastError,
                                       available: { (try? LiveInterface.interfaces())?.map(\.name) ?? [] })
        }
        var warnings: [String] = []
        if status > 0 {
            warnings.append(Self.warningText(status: status, interface: name, message: handle.lastError))
        }

        // SAFETY: the handle is activated; these getters read its state.
        let dataLink = unsafe pcap_datalink(pointer)
        self.linkType = Self.linkType(dataLink: dataLink)
        self.snapshotLength = Int(unsafe pcap_snapshot(pointer))
        self.hasNanosecondTimestamps =
            unsafe pcap_get_tstamp_precision(pointer) == Int32(PCAP_TSTAMP_PRECISION_NANO)

        // Reads never block inside libpcap: the session waits in poll(2) on the capture
        // descriptor and the wake-up descriptor, so a timeout returns even when no packet came
        // (libpcap's own read timeout does not promise that) and stop() wakes it at once.
        // SAFETY: the handle is activated; errorBuffer has PCAP_ERRBUF_SIZE bytes.
        guard unsafe pcap_setnonblock(pointer, 1, &errorBuffer) == 0 else {
            throw .activationFailed(interface: name, status: 0, message: PcapText.string(errorBuffer))
        }
        let selectable = unsafe pcap_get_selectable_fd(pointer)
        guard selectable >= 0 else {
            throw .activationFailed(interface: name, status: 0, message: "libpcap has no selectable descriptor for this interface")
        }
        self.captureDescriptor = selectable
        self.timeoutMilliseconds = options.timeoutMilliseconds

        let expression = options.filter.flatMap { $0.isEmpty ? nil : $0 }
        if let expression {
            try BPFFilter.install(expression, on: handle, interface: name)
        }

        self.interface = name
        self.filter = expression
        self.warnings = warnings
        self.handle = handle
        self.maximumBatchPackets = Int32(options.maximumBatchPackets)
        self.packets.reserveCapacity(options.maximumBatchPackets)
        self.bytes.reserveCapacity(1 << 20)
        self.deadline = options.duration.map { ContinuousClock.now.advanced(by: $0) }
    }

    /// A handle for stopping this session from elsewhere.
    public var stopper: Stopper { Stopper(handle: handle) }

    /// Stops the capture: the running or next `nextBatch` returns promptly, later ones return false.
    public func stop() { handle.requestStop() }

    /// Reads the next batch: takes the packets waiting, or else waits up to the timeout for
    /// some, then calls `body` once with the packets gathered (possibly none) and the bytes they
    /// point into, valid only during the call.
    /// - Returns: false, without calling `body`, once stopped or past the duration.
    /// - Throws: ``CaptureFileError/io(path:operation:errno:message:)`` with the interface as
    ///   `path` when libpcap or poll(2) reports an error (for example the interface went away).
    public func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool {
        guard try gather() else { return false }
        // A local reference to the same storage (no copy): a span of a class property cannot be
        // formed directly. It is released before the next batch reuses the buffer.
        let batchBytes = bytes
        body(packets, batchBytes.span)
        return true
    }

    /// Reads the next batch as ``nextBatch(_:)`` does, into `batch`'s arrays (emptied first,
    /// their capacity kept), so that a reader thread can hand batches to another thread without
    /// copying them.
    /// - Returns: false, leaving `batch` empty, once stopped or past the duration.
    public func nextBatch(into batch: inout CaptureBatch) throws(CaptureFileError) -> Bool {
        swap(&packets, &batch.packets)
        swap(&bytes, &batch.bytes)
        defer {
            swap(&packets, &batch.packets)
            swap(&bytes, &batch.bytes)
        }
        return try gather()
    }

    /// Gathers the next batch into `packets` and `bytes` (see ``nextBatch(_:)``).
    private func gather() throws(CaptureFileError) -> Bool {
        if finished { return false }
        packets.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        if !draining && stopIsDue() { beginDrain() }
        if draining {
            drainOnce()
        } else {
            var stopped = try dispatch()
            if !stopped && packets.isEmpty {
                try wait()
                stopped = stopIsDue()
                if !stopped { stopped = try dispatch() }
            }
            if stopped {
                beginDrain()
                if packets.isEmpty { drainOnce() }
            }
        }
        if packets.isEmpty && draining {
            // Stopped, and the kernel holds nothing more: the end.
            finished = true
            return false
        }
        delivered += Int64(packets.count)
        return true
    }

    /// True once `stop()` was called or the duration ran out.
    private func stopIsDue() -> Bool {
        if handle.isStopRequested { return true }
        if let deadline, ContinuousClock.now >= deadline { return true }
        return false
    }

    /// After a stop, packets the kernel captured are still in its ring, some in a block that
    /// the read timeout has not yet handed over (without immediate mode). Waiting one timeout
    /// lets that block retire, so the drain that follows audits every packet captured before
    /// the stop.
    private func beginDrain() {
        guard !draining else { return }
        draining = true
        var descriptor = [pollfd(fd: captureDescriptor, events: Int16(POLLIN), revents: 0)]
        // SAFETY: `descriptor` holds exactly the 1 entry passed, alive for the call.
        _ = unsafe poll(&descriptor, 1, timeoutMilliseconds + 20)
    }

    /// Reads what the kernel has ready without waiting, ignoring the break request that
    /// `stop()` left behind (libpcap reports it once and clears it).
    private func drainOnce() {
        // A busy link keeps the ring filling: the drain reads at most what a full kernel buffer
        // can hold, in batches, then ends.
        drainedBatches += 1
        guard drainedBatches <= 256 else { return }
        // SAFETY: as in `dispatch()`: the context is `self`, alive for the whole call.
        let context = unsafe Unmanaged.passUnretained(self).toOpaque()
        for _ in 0..<2 {
            let room = maximumBatchPackets - Int32(packets.count)
            guard room > 0 else { return }
            let count = unsafe pcap_dispatch(handle.pointer, room, livePacketHandler, context.assumingMemoryBound(to: UInt8.self))
            if count != PCAP_ERROR_BREAK { return }
        }
    }


    /// Appends the packets waiting in the kernel buffer (up to the batch size) without blocking.
    /// - Returns: true when a stop interrupted it.
    private func dispatch() throws(CaptureFileError) -> Bool {
        // SAFETY: the context pointer is `self`, unretained: `self` is alive for the whole
        // pcap_dispatch call, which is the only time the callback can run.
        let context = unsafe Unmanaged.passUnretained(self).toOpaque()
        let count = unsafe pcap_dispatch(handle.pointer, maximumBatchPackets - Int32(packets.count),
                                         livePacketHandler, context.assumingMemoryBound(to: UInt8.self))
        if count == PCAP_ERROR_BREAK || handle.isStopRequested { return true }
        if count < 0 {
            finished = true
            throw .io(path: interface, operation: "pcap_dispatch", errno: 0, message: handle.lastError)
        }
        return false
    }

    /// Waits until the capture descriptor is readable, a stop wakes the session, a signal
    /// interrupts the wait, or the timeout (cut to the remaining duration) passes.
    private func wait() throws(CaptureFileError) {
        var milliseconds = timeoutMilliseconds
        if let deadline {
            let (seconds, attoseconds) = (deadline - ContinuousClock.now).components
            let remaining = max(0, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            milliseconds = min(milliseconds, Int32(clamping: remaining))
        }
        var descriptors = [pollfd(fd: captureDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: handle.wakeReader, events: Int16(POLLIN), revents: 0)]
        // SAFETY: `descriptors` holds exactly the 2 entries passed, alive for the call.
        let ready = unsafe poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        if ready < 0 {
            let code = errno
            guard code == EINTR else {
                finished = true
                throw .io(path: interface, operation: "poll", errno: code, message: Privileges.errorText(code))
            }
        }
    }

    /// libpcap's counters (`pcap_stats`) and the packets handed out so far.
    public func statistics() throws(LiveCaptureError) -> LiveCaptureStatistics {
        var counters = pcap_stat()
        // SAFETY: the handle is open and `counters` outlives the call.
        guard unsafe pcap_stats(handle.pointer, &counters) == 0 else {
            throw .statisticsFailed(interface: interface, message: handle.lastError)
        }
        return LiveCaptureStatistics(received: UInt64(counters.ps_recv),
                                     droppedByKernel: UInt64(counters.ps_drop),
                                     droppedByInterface: UInt64(counters.ps_ifdrop),
                                     delivered: UInt64(delivered))
    }

    /// Called by the pcap callback for each packet: copies it into the batch buffers.
    fileprivate func append(header: pcap_pkthdr, data: UnsafePointer<UInt8>) {
        let capturedLength = Int(header.caplen)
        let offset = bytes.count
        // SAFETY: libpcap guarantees `caplen` readable bytes at `data` during the callback.
        unsafe bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: capturedLength))
        let fraction = Int64(header.ts.tv_usec)
        let timestamp = Int64(header.ts.tv_sec) * 1_000_000_000 + (hasNanosecondTimestamps ? fraction : fraction * 1000)
        packets.append(CapturedPacket(timestamp: timestamp, capturedLength: capturedLength,
                                      originalLength: Int(header.len), linkType: linkType,
                                      interface: 0, dataOffset: offset,
                                      fileOffset: delivered + Int64(packets.count)))
    }

    // MARK: - Mapping libpcap's results

    /// The error for a negative `pcap_activate` status. `available` lists interface names and is
    /// only called for PCAP_ERROR_NO_SUCH_DEVICE.
    package static func activationError(status: Int32, interface: String, message: String,
                                        available: () -> [String]) -> LiveCaptureError {
        switch status {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            return .noSuchInterface(interface: interface, available: available(), message: message)
        case PCAP_ERROR_PERM_DENIED:
            return .permissionDenied(interface: interface, message: message)
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            return .promiscuousPermissionDenied(interface: interface, message: message)
        case PCAP_ERROR_IFACE_NOT_UP:
            return .interfaceNotUp(interface: interface, message: message)
        default:
            let text = message.isEmpty ? Self.statusText(status) : message
            return .activationFailed(interface: interface, status: status, message: text)
        }
    }

    /// The text of a positive `pcap_activate` status.
    static func warningText(status: Int32, interface: String, message: String) -> String {
        let text = message.isEmpty ? statusText(status) : message
        return "interface '\(interface)': \(text)"
    }

    /// `pcap_statustostr`'s text.
    static func statusText(_ status: Int32) -> String {
        // SAFETY: pcap_statustostr returns a static string (or a thread-local buffer), copied at once.
        unsafe PcapText.string(pcap_statustostr(status)) ?? "libpcap status \(status)"
    }

    /// The LINKTYPE_ value for a DLT_ value. They are equal except DLT_RAW, which is 12 or 14
    /// depending on the platform and LINKTYPE_RAW (101) in files.
    package static func linkType(dataLink: Int32) -> LinkType {
        dataLink == DLT_RAW ? .raw : LinkType(rawValue: UInt32(bitPattern: dataLink))
    }

    /// The DLT_ value for a LINKTYPE_ value (the inverse of `linkType(dataLink:)`).
    package static func dataLink(_ linkType: LinkType) -> Int32 {
        linkType == .raw ? DLT_RAW : Int32(bitPattern: linkType.rawValue)
    }
}

/// An errno value.
struct Errno: Error {
    var code: Int32
}

/// The pcap_dispatch callback: `user` is the session (see `nextBatch`).
private let livePacketHandler: pcap_handler = { user, header, data in
    // SAFETY: `user` is the unretained session pointer nextBatch passes for the duration of
    // pcap_dispatch; `header` and `data` are valid for this call, as libpcap documents.
    guard let user = unsafe user, let header = unsafe header, let data = unsafe data else { return }
    let session = unsafe Unmanaged<LiveCaptureSession>.fromOpaque(UnsafeRawPointer(user)).takeUnretainedValue()
    unsafe session.append(header: header.pointee, data: data)
}
