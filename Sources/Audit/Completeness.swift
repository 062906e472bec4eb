/// Whether the audit saw everything it was given: packets the kernel or the interface dropped,
/// periods the interface was down, inputs cut short, events a sink could not deliver. Any of
/// them makes the report INCOMPLETE: a rule reported missing or blocked may have had flows the
/// audit never saw.
public struct Completeness: Sendable {
    /// One stretch of traffic the audit did not see, or one input it could not read to the end.
    public struct Gap: Sendable {
        /// `link-down` (the interface was down or had no carrier), `truncated-input` (a capture
        /// file ends inside a record), `unreadable-rest` (a capture file is corrupt from `offset` on).
        public var kind: String
        /// When the gap began and ended (nanoseconds since the epoch); nil when unknown, or `end`
        /// nil for a link still down at the stop.
        public var start: Int64?
        public var end: Int64?
        /// The interface or input, and what happened.
        public var detail: String

        public init(kind: String, start: Int64? = nil, end: Int64? = nil, detail: String) {
            self.kind = kind
            self.start = start
            self.end = end
            self.detail = detail
        }
    }

    /// Packets lost by the kernel's capture buffer (live).
    public var droppedByKernel: UInt64 = 0
    /// Packets lost by the interface or its driver (live, where reported).
    public var droppedByInterface: UInt64 = 0
    /// Packets read from the kernel but dropped because the audit was behind the capture by more
    /// than the backlog holds (live, `--backlog-size`).
    public var droppedByBacklog: UInt64 = 0
    /// Events some sink could not deliver (queue full, write errors, unsent at exit).
    public var droppedEvents: Int = 0
    public var gaps: [Gap] = []
    /// `--allow-loss`: loss is reported but does not change the exit status.
    public var lossAllowed = false

    public init() {}

    /// The reasons the audit is incomplete, one line each; empty when complete.
    public var reasons: [String] {
        var reasons: [String] = []
        if droppedByKernel > 0 { reasons.append("\(droppedByKernel) packet\(droppedByKernel == 1 ? "" : "s") dropped by the kernel (capture buffer full)") }
        if droppedByInterface > 0 { reasons.append("\(droppedByInterface) packet\(droppedByInterface == 1 ? "" : "s") dropped by the interface") }
        if droppedByBacklog > 0 { reasons.append("\(droppedByBacklog) packet\(droppedByBacklog == 1 ? "" : "s") dropped because the audit was behind the capture (backlog full)") }
        let down = gaps.filter { $0.kind == "link-down" }.count
        if down > 0 { reasons.append("the interface was down \(down) time\(down == 1 ? "" : "s")") }
        for gap in gaps where gap.kind != "link-down" { reasons.append(gap.detail) }
        if droppedEvents > 0 { reasons.append("\(droppedEvents) event\(droppedEvents == 1 ? "" : "s") not delivered to an output") }
        return reasons
    }

    public var isComplete: Bool { reasons.isEmpty }
}

/// What a sink did with the messages offered to it. After ``EventSink/close(within:)``,
/// `offered == sent + dropped`.
public struct SinkCounters: Sendable, Equatable {
    /// The sink's name: the file path, `stdout`, `stderr`, or the syslog target.
    public var name: String
    /// `file`, `stdout`, `stderr`, `syslog-udp`, `syslog-tcp`, `syslog-tls`.
    public var kind: String
    /// Messages handed to the sink.
    public var offered: Int = 0
    /// Messages written to the file or handed to the collector's connection.
    public var sent: Int = 0
    /// Dropped oldest-first because the queue was full (the sink was slower than the events).
    public var droppedQueueFull: Int = 0
    /// Dropped because writing failed (ENOSPC, EIO, a closed standard output).
    public var droppedWriteError: Int = 0
    /// Still queued when the program stopped and the sink had no more time to send them.
    public var droppedAtExit: Int = 0
    /// Connections made again after the collector closed or broke the previous one.
    public var reconnects: Int = 0
    /// Files reopened on SIGHUP.
    public var reopens: Int = 0
    /// The first write error: `PATH: strerror (errno N)`.
    public var firstError: String?
    /// The errno of the first write error.
    public var firstErrno: Int32?

    public var dropped: Int { droppedQueueFull + droppedWriteError + droppedAtExit }

    public init(name: String, kind: String) {
        self.name = name
        self.kind = kind
    }

    /// `events.jsonl: sent 120, dropped 0` with the non-zero details.
    public var line: String {
        var text = "\(kind) \(name): sent \(sent), dropped \(dropped)"
        var causes: [String] = []
        if droppedQueueFull > 0 { causes.append("\(droppedQueueFull) queue full") }
        if droppedWriteError > 0 { causes.append("\(droppedWriteError) write errors") }
        if droppedAtExit > 0 { causes.append("\(droppedAtExit) unsent at exit") }
        if !causes.isEmpty { text += " (" + causes.joined(separator: ", ") + ")" }
        if reconnects > 0 { text += ", reconnects \(reconnects)" }
        if reopens > 0 { text += ", reopened \(reopens)" }
        if let firstError { text += "; \(firstError)" }
        return text
    }
}
