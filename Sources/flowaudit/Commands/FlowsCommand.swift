import ArgumentParser
import Audit
import CAffinity
import Flows
import LiveCapture
import Packets
import Reports

extension FlowTableFormat: ExpressibleByArgument {}

struct FlowsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Print the bidirectional flow table of one or more captures.",
        discussion: """
            Reads pcap and pcapng files, plain or compressed with gzip or zstd (or standard input, -), \
            as one capture merged by timestamp, and prints one row per flow as it ends, then a summary \
            of every input. Each flow has a uid (stable: \
            the same capture gives the same uids, as in the audit report), the application protocol \
            recognised in its payload (service), the names its responder was reached by (DNS \
            answers in the capture, TLS SNI, HTTP Host) and its TLS version. Exit status: 0, or 2 \
            when an input could not be read to its end (everything before the problem is still \
            reported) or --filter is not a valid expression.
            """
    )

    @OptionGroup var capture: CaptureInputs
    var captures: [String] { capture.paths }

    @Option(help: "Output format.")
    var format: FlowTableFormat = .text

    @Option(help: "Write the table to this file instead of standard output.")
    var output: String = "-"

    @Flag(name: .customLong("no-color"), help: "Never colour the text table (so does a non-empty NO_COLOR in the environment).")
    var noColour = false

    @OptionGroup var timeouts: TimeoutOptions
    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let filter = try capture.packetFilter()
        let out: ReportOutput
        do { out = try ReportOutput(path: output) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        let writer = FlowTableWriter(format: format, output: out, colour: out.isTerminal && !noColour && !AuditOptions.noColorRequested)
        writer.begin()
        let rows = FlowRows(writer: writer)
        var configuration = timeouts.configuration
        configuration.inspectedPacketsPerFlow = FlowInspector.inspectedPacketsPerFlow
        var meter = FlowMeter(configuration: configuration, observer: rows)
        let progress = progressOptions.line(for: captures)
        let inputs = CaptureRun.run(paths: captures, meter: &meter, reading: timeouts.reading(threadOptions), filter: filter, progress: progress?.hook)
        progress?.finish()
        writer.end(inputs: inputs, statistics: meter.statistics)
        var failed = false
        if let failure = filter?.failure {
            printError("\(failure)")
            failed = true
        }
        for input in inputs {
            for warning in input.summary.warnings { printWarning("\(warning)") }
            if let error = input.error ?? input.summary.error {
                printError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(2) }
    }
}

/// Flow timeouts shared by the commands that meter flows.
struct TimeoutOptions: ParsableArguments {
    @Option(name: .customLong("tcp-timeout"), help: ArgumentHelp("How long a TCP flow may idle before it ends (90, 90s, 5m, 1h; default 5m).", valueName: "duration"),
            transform: DurationArgument.parse(option: "--tcp-timeout"))
    var tcpTimeoutDuration = DurationArgument(seconds: 300)

    @Option(name: .customLong("udp-timeout"), help: ArgumentHelp("How long a UDP, ICMP or other flow may idle before it ends (90, 90s, 5m, 1h; default 60s).", valueName: "duration"),
            transform: DurationArgument.parse(option: "--udp-timeout"))
    var udpTimeoutDuration = DurationArgument(seconds: 60)

    var tcpTimeout: Double { tcpTimeoutDuration.seconds }
    var udpTimeout: Double { udpTimeoutDuration.seconds }

    @Option(name: .customLong("max-flows"), help: ArgumentHelp(
        "Flows kept open at most; beyond it the flow idle longest ends early (reason table-full).",
        discussion: "Bounds memory on scans, floods and hostile captures: about 250 bytes per open flow."))
    var maxFlows: Int = 2_000_000

    @Option(name: .customLong("read-buffer"), help: ArgumentHelp("Bytes of the read buffer (at least 4096).", visibility: .hidden))
    var readBuffer: Int = 1 << 20

    @Option(name: .customLong("batch-packets"), help: ArgumentHelp("Packets handed to the flow table at a time (at least 1; the reader's batches hold at most 512).", visibility: .hidden))
    var batchPackets: Int = 512

    func validate() throws {
        guard tcpTimeout > 0, udpTimeout > 0 else { throw ValidationError("Timeouts must be positive numbers of seconds.") }
        guard maxFlows >= 1 else { throw ValidationError("--max-flows must be at least 1.") }
        guard readBuffer >= 4096 else { throw ValidationError("--read-buffer must be at least 4096 bytes.") }
        guard batchPackets >= 1 else { throw ValidationError("--batch-packets must be at least 1.") }
    }

    /// How inputs are read (the hidden knobs that tests vary to show results do not depend on
    /// them), on the threads `threads` asks for.
    func reading(_ threads: ThreadOptions) -> CaptureRun.Reading {
        var reading = CaptureRun.Reading()
        reading.bufferSize = readBuffer
        reading.batchPackets = batchPackets
        reading.threads = threads.count
        return reading
    }

    var configuration: FlowMeterConfiguration {
        var configuration = FlowMeterConfiguration()
        configuration.tcpIdleTimeout = Int64(tcpTimeout * 1e9)
        configuration.otherIdleTimeout = Int64(udpTimeout * 1e9)
        configuration.maximumFlows = maxFlows
        return configuration
    }

    /// The audit's configuration with these timeouts and limits (its payload inspection kept).
    var auditConfiguration: AuditConfiguration {
        var audit = AuditConfiguration()
        audit.meter.tcpIdleTimeout = configuration.tcpIdleTimeout
        audit.meter.otherIdleTimeout = configuration.otherIdleTimeout
        audit.meter.maximumFlows = configuration.maximumFlows
        return audit
    }
}

/// How many threads the commands that read capture files use (a live capture always reads on a
/// thread of its own).
struct ThreadOptions: ParsableArguments {
    /// Most threads used: the reader and the meter.
    static let maximum = 2

    @Option(name: .customLong("threads"), help: ArgumentHelp(
        "Threads: 1 reads and meters on one; 2 reads the captures on a second (which also decodes while the first is busy) while the first meters (default: 2 when the process may use two cores or more, else 1).",
        discussion: "Results are the same whatever the number; more than 2 uses 2.", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
    }

    /// The threads to use: as asked, else the cores this process may run on (its CPU affinity,
    /// as `taskset` sets it), at most ``maximum``.
    var count: Int {
        min(Self.maximum, threads ?? max(1, Int(flowaudit_available_cores())))
    }
}

/// The captures of `flows` and `audit`: positional files, or `-r FILE` as tcpdump reads them.
struct CaptureInputs: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "Capture files (pcap or pcapng, plain or gzip/zstd-compressed); - reads standard input.",
        discussion: "Several files are one capture, merged by timestamp as mergecap does; a file given twice, or one whose packets are another's, is read once (with a warning)."))
    var files: [String] = []

    @Option(name: .customShort("r"), help: ArgumentHelp(
        "Read packets from this file, as tcpdump -r does (may be repeated; listed before the positional files, merged with them by timestamp).",
        valueName: "file"))
    var read: [String] = []

    @Option(help: ArgumentHelp(
        "Read only the packets this BPF expression accepts (libpcap syntax), e.g. 'host 10.0.0.5 and tcp'.",
        discussion: "Compiled by libpcap for each input's link type and applied to every packet, as tcpdump -r does; the packets it rejects are counted in each input's summary.",
        valueName: "expression"))
    var filter: String?

    /// Every capture in the order given: the -r files, then the positional ones.
    var paths: [String] { read + files }

    /// The compiled `--filter`, nil without one; a bad expression is a usage error (exit 2) with libpcap's text.
    func packetFilter() throws -> OfflinePacketFilter? {
        guard let filter, !filter.isEmpty else { return nil }
        do { return try OfflinePacketFilter(expression: filter) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    func validate() throws {
        if paths.isEmpty {
            throw ValidationError("no capture given: name one or more capture files (- for standard input), or use -r FILE")
        }
    }
}

/// The flow table's observer: each flow's first payload packets go to the inspector, and each
/// flow that ends is a row with what the inspector learned of it.
final class FlowRows: FlowObserver {
    let writer: FlowTableWriter
    let inspector = FlowInspector()

    init(writer: FlowTableWriter) { self.writer = writer }

    var inspectsPayload: Bool { true }

    func flowEnded(_ flow: borrowing Flow) { writer.row(flow, facts: inspector.end(flow)) }

    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        inspector.inspect(flow, fromInitiator: fromInitiator, packet: packet, frame: frame)
    }
}
