import ArgumentParser
import Audit
import Dispatch
import Flows
import LiveCapture
import Packets
import Policy
import Reports

#if canImport(Glibc)
import Glibc
#endif

extension EventWriter.Style: ExpressibleByArgument {}

/// A duration written `90`, `90s`, `5m`, `2h` or `250ms`.
struct DurationArgument: ExpressibleByArgument {
    var seconds: Double
    init?(argument: String) {
        var text = Substring(argument)
        var scale = 1.0
        if text.hasSuffix("ms") { scale = 0.001; text = text.dropLast(2) }
        else if text.hasSuffix("s") { text = text.dropLast() }
        else if text.hasSuffix("m") { scale = 60; text = text.dropLast() }
        else if text.hasSuffix("h") { scale = 3600; text = text.dropLast() }
        guard let value = Double(text), value > 0 else { return nil }
        seconds = value * scale
    }
    var nanoseconds: Int64 { Int64(seconds * 1e9) }
}

struct InterfacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interfaces", abstract: "List the interfaces libpcap can capture on (pcap_findalldevs).")

    func run() throws {
        let interfaces: [LiveInterface]
        do { interfaces = try LiveInterface.interfaces() } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        for interface in interfaces {
            var flags: [String] = []
            if interface.isUp { flags.append("up") }
            if interface.isRunning { flags.append("running") }
            if interface.isLoopback { flags.append("loopback") }
            if interface.isWireless { flags.append("wireless") }
            let addresses = interface.addresses.map(\.address.description).joined(separator: ", ")
            print("\(interface.name)\t\(flags.joined(separator: ","))\t\(addresses)\(interface.description.map { "\t\($0)" } ?? "")")
        }
    }
}

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Audit a live interface through libpcap, reporting findings as they happen.",
        discussion: """
            Prints one line per event (an unexpected flow at its first packet and when it completes \
            or is refused; a rule's first success; a rule's refused attempts). Stops after \
            --duration or on Ctrl-C/SIGTERM, ends the open flows and writes the same report as \
            'flowaudit audit', with libpcap's received and dropped counts. Needs root, or \
            CAP_NET_RAW and CAP_NET_ADMIN.
            """
    )

    @Option(name: .shortAndLong, help: "The interface to capture on (see 'flowaudit interfaces').")
    var interface: String

    @OptionGroup var options: AuditOptions

    @Option(help: "A BPF capture filter (libpcap syntax), e.g. 'host 10.0.0.5'.")
    var filter: String?

    @Option(help: "Bytes kept of each packet (enough for DNS answers and TLS hellos by default).")
    var snaplen: Int = LiveCaptureOptions.defaultSnapshotLength

    @Flag(help: "Put the interface in promiscuous mode.")
    var promiscuous = false

    @Flag(help: ArgumentHelp("Hand each packet over at once (libpcap immediate mode).",
                             discussion: "Off by default: packets then arrive in batches at most 100 ms late, and at high rates the kernel drops far fewer."))
    var immediate = false

    @Option(name: .customLong("buffer-size"), help: ArgumentHelp(
        "Kernel capture buffer in bytes.",
        discussion: "8 MiB by default (libpcap's own default is 2 MiB): at a few hundred thousand packets/s on this kind of machine, 2 MiB lost packets now and then and 8 MiB never did (Benchmarks/RESULTS.md)."))
    var bufferSize: Int = 8 << 20

    @Option(help: "Stop after this long (90, 90s, 5m, 2h).")
    var duration: DurationArgument?

    @Option(help: "Print the rule table so far this often (e.g. 30s).")
    var every: DurationArgument?

    @Option(help: "Event format: text lines, or one JSON object per line (jsonl).")
    var events: EventWriter.Style = .text

    @Option(name: .customLong("events-output"), help: "Write events to this file (default: text to standard error, jsonl to standard output).")
    var eventsOutput: String?

    @Option(help: "Also send events to a syslog collector: HOST:PORT (UDP) or tcp://HOST:PORT (RFC 5424).")
    var syslog: String?

    @Option(help: "Drop privileges to this user once the capture is open.")
    var user: String?

    @OptionGroup var timeouts: TimeoutOptions

    func run() throws {
        let (policy, warnings, files) = try options.loadPolicy()
        if let filter {
            do { try LiveCaptureSession.validateFilter(filter, snapshotLength: snaplen) } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }
        let captureOptions = LiveCaptureOptions(
            interface: interface, snapshotLength: snaplen, promiscuous: promiscuous, bufferSize: bufferSize,
            immediateMode: immediate, filter: filter, duration: duration.map { .nanoseconds($0.nanoseconds) })
        let session: LiveCaptureSession
        do { session = try LiveCaptureSession(options: captureOptions) } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if let user {
            do { try session.dropPrivileges(toUser: user) } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }
        var syslogSender: SyslogSender?
        if let syslog {
            do { syslogSender = try SyslogSender(target: syslog) } catch {
                printError("--syslog: \(error)")
                throw ExitCode(2)
            }
        }
        let eventOutput: ReportOutput
        if let eventsOutput {
            eventOutput = try ReportOutput(path: eventsOutput)
        } else {
            eventOutput = events == .jsonl ? ReportOutput() : ReportOutput(descriptor: 2)
        }
        let writer = EventWriter(style: events, output: eventOutput)

        var configuration = timeouts.auditConfiguration
        // Events were decided as flows ended; the final report may still re-match with every name learned.
        configuration.rematchAtEnd = true
        let auditor = Auditor(policy: policy, configuration: configuration)
        auditor.onEvent = { event in
            let now = LiveClock.now()
            writer.write(event, at: now)
            syslogSender?.send(event, at: now)
        }

        // Ctrl-C and SIGTERM stop the capture; the report is written after the loop.
        let stopper = session.stopper
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { signalNumber in
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stopper.stop() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        var inputError: CaptureFileError?
        var nextProgress = every.map { LiveClock.now() + $0.nanoseconds }
        do {
            while try session.nextBatch({ batch, bytes in auditor.process(batch, bytes) }) {
                let now = LiveClock.now()
                auditor.advanceClock(to: now)
                if let due = nextProgress, now >= due, let every {
                    eventOutput.write(EventText.progress(auditor.ruleResultsSoFar(), at: now))
                    nextProgress = now + every.nanoseconds
                }
            }
        } catch {
            inputError = error
            printError("capture ended: \(error)")
        }
        let statistics = try? session.statistics()
        auditor.finishFlows()
        var summary = CaptureFileSummary(path: interface)
        summary.packets = Int(statistics?.delivered ?? 0)
        summary.error = inputError
        let input = InputReport(summary: summary, decode: auditor.meter.statistics, error: inputError)
        let counts = statistics.map {
            LiveCaptureCounts(received: $0.received, droppedByKernel: $0.droppedByKernel, droppedByInterface: $0.droppedByInterface)
        }
        if let counts, counts.droppedByKernel + counts.droppedByInterface > 0 {
            printError("\(counts.droppedByKernel + counts.droppedByInterface) packets were dropped: missing and blocked verdicts may be wrong")
        }
        let report = auditor.report(inputs: [InputEvidence(report: input, sha256: nil, size: nil)], policyFiles: files,
                                    policyWarnings: warnings, commandLine: CommandLine.arguments,
                                    toolVersion: FlowAuditVersion.string, capture: counts)
        let status = try options.finish(report, auditor: auditor, inputError: inputError != nil)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Wall-clock time in nanoseconds since the epoch (the clock live packets are stamped with).
enum LiveClock {
    static func now() -> Int64 {
        var spec = timespec()
        // SAFETY: clock_gettime writes one timespec into the local variable it is given.
        unsafe clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
