/// How to open a live capture. Defaults follow the `flowaudit live` command: full packets,
/// immediate delivery and a 100 ms wake-up, so findings are never held back by buffering.
public struct LiveCaptureOptions: Sendable, Equatable {
    /// 262,144 bytes, tcpdump's and libpcap's own default. Large enough for any DNS answer
    /// (up to 65,535 bytes over TCP) and any TLS ClientHello, and for the 64 KiB segments that
    /// GRO/TSO hand to the capture on loopback and virtual links, so nothing is cut short. It
    /// costs no ring memory: on Linux libpcap sizes the ring's frames from the interface MTU,
    /// not from the snapshot length.
    public static let defaultSnapshotLength = 262_144
    /// The read timeout: how long a `nextBatch` call waits for packets before it returns an empty
    /// batch (and, without immediate mode, the kernel's block timeout).
    public static let defaultTimeout: Duration = .milliseconds(100)
    /// The most packets one `nextBatch` call hands out.
    public static let defaultMaximumBatchPackets = 1024

    /// The interface name, as `LiveInterface.interfaces()` lists it.
    public var interface: String
    /// Bytes kept of each packet (1 ... 262,144).
    public var snapshotLength: Int
    /// Put the interface in promiscuous mode.
    public var promiscuous: Bool
    /// The kernel capture buffer in bytes; nil keeps libpcap's default (2 MiB on Linux).
    public var bufferSize: Int?
    /// Deliver each packet as soon as it arrives (pcap_set_immediate_mode; TPACKET_V2 on Linux).
    /// When false, the kernel hands packets over in blocks (TPACKET_V3), at the latest after
    /// `timeout`, so findings wait at most that long. Immediate mode wakes the reader per
    /// packet and loses packets sooner at high rates: on a 2-core machine, 228,600 packets
    /// replayed at about 190,000 packets/s lost 7-13% with immediate mode (as `tcpdump
    /// --immediate-mode` does) and none without it.
    public var immediateMode: Bool
    /// The read timeout; at least 1 ms.
    public var timeout: Duration
    /// A BPF filter expression compiled by libpcap (nil or empty: every packet).
    public var filter: String?
    /// Stop after this much time (measured on the monotonic clock from the end of opening).
    public var duration: Duration?
    /// The most packets one batch holds.
    public var maximumBatchPackets: Int

    public init(interface: String,
                snapshotLength: Int = LiveCaptureOptions.defaultSnapshotLength,
                promiscuous: Bool = false,
                bufferSize: Int? = nil,
                immediateMode: Bool = true,
                timeout: Duration = LiveCaptureOptions.defaultTimeout,
                filter: String? = nil,
                duration: Duration? = nil,
                maximumBatchPackets: Int = LiveCaptureOptions.defaultMaximumBatchPackets) {
        self.interface = interface
        self.snapshotLength = snapshotLength
        self.promiscuous = promiscuous
        self.bufferSize = bufferSize
        self.immediateMode = immediateMode
        self.timeout = timeout
        self.filter = filter
        self.duration = duration
        self.maximumBatchPackets = maximumBatchPackets
    }

    /// Checks the values libpcap cannot take, before anything is opened.
    public func validate() throws(LiveCaptureError) {
        guard (1...Self.defaultSnapshotLength).contains(snapshotLength) else {
            throw .badOption(name: "--snaplen", value: String(snapshotLength),
                             reason: "must be between 1 and \(Self.defaultSnapshotLength)")
        }
        if let bufferSize, !(1...Int(Int32.max)).contains(bufferSize) {
            throw .badOption(name: "--buffer-size", value: String(bufferSize),
                             reason: "must be between 1 and \(Int32.max) bytes")
        }
        guard timeout >= .milliseconds(1), timeout <= .seconds(Int(Int32.max / 1000)) else {
            throw .badOption(name: "timeout", value: "\(timeout)", reason: "must be between 1 ms and 24 days")
        }
        if let duration, duration <= .zero {
            throw .badOption(name: "--duration", value: "\(duration)", reason: "must be positive")
        }
        guard maximumBatchPackets >= 1, maximumBatchPackets <= Int(Int32.max) else {
            throw .badOption(name: "batch size", value: String(maximumBatchPackets), reason: "must be at least 1")
        }
    }

    /// The timeout in whole milliseconds, as pcap_set_timeout takes it.
    var timeoutMilliseconds: Int32 {
        let (seconds, attoseconds) = timeout.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// libpcap's counters for a live capture, plus the packets this session handed out.
public struct LiveCaptureStatistics: Sendable, Equatable {
    /// Packets the kernel received that passed the filter (`ps_recv`; on Linux this includes the
    /// ones later dropped for lack of buffer space).
    public var received: UInt64
    /// Packets dropped because the capture buffer was full (`ps_drop`).
    public var droppedByKernel: UInt64
    /// Packets dropped by the interface or its driver (`ps_ifdrop`; 0 where not supported).
    public var droppedByInterface: UInt64
    /// Packets handed out by `nextBatch`.
    public var delivered: UInt64

    public init(received: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64, delivered: UInt64) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
        self.delivered = delivered
    }
}
