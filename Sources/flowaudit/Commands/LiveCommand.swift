import ArgumentParser
import Audit
import Dispatch
import Flows
import LiveCapture
import Packets
import Policy
import Reports
import Delivery

#if canImport(Glibc)
import Glibc
#endif

extension EventWriter.Style: ExpressibleByArgument {}

/// A duration written `90`, `90s`, `5m`, `2h` or `250ms`.
struct DurationArgument {
    var seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    /// A transform for `@Option` that says what is accepted when a value is not.
    static func parse(option: String) -> @Sendable (String) throws -> DurationArgument {
        { text in
            guard let value = DurationArgument(argument: text) else {
                throw ValidationError("\(option) '\(text)' is not a positive duration: give a number above zero, in seconds or with a unit (90, 90s, 250ms, 5m, 2h).")
            }
            return value
        }
    }

    init?(argument: String) {
        var text = Substring(argument)
        var scale = 1.0
        if text.hasSuffix("ms") { scale = 0.001; text = text.dropLast(2) }
        else if text.hasSuffix("s") { text = text.dropLast() }
        else if text.hasSuffix("m") { scale = 60; text = text.dropLast() }
        else if text.hasSuffix("h") { scale = 3600; text = text.dropLast() }
        guard let value = Double(text), value > 0, value.isFinite, value * scale * 1e9 < 9e18 else { return nil }
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
            or is refused; a rule's first success; a rule's refused attempts). Each output (events, \
            syslog) has a queue and a thread of its own: the capture never waits on it, and what a \
            slow output drops is counted. Stops after --duration or on Ctrl-C/SIGTERM (within a \
            second, whatever an output is doing), ends the open flows and writes the same report as \
            'flowaudit audit', with libpcap's received and dropped counts, link-down periods and \
            each output's counters. SIGHUP reopens the events file; a closed standard output \
            (| head) stops the capture and the report still goes to --output. Needs root, or \
            CAP_NET_RAW and CAP_NET_ADMIN.

            Exit status: 0 nothing in --fail-on found; 1 findings in --fail-on; 2 usage or I/O \
            error (bad option, unwritable output, a write that failed); 3 INCOMPLETE: packets \
            dropped, the interface down for a while, or events not delivered (unless --allow-loss).
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
        discussion: "8 MiB by default (libpcap's own default is 2 MiB). With 40,000 concurrent flows at about 290,000 packets/s on a 2-core machine shared with the sender, 8 MiB lost packets and 64 MiB (--buffer-size 67108864) never did (Benchmarks/RESULTS.md)."))
    var bufferSize: Int = 8 << 20

    @Option(name: .customLong("backlog-size"), help: ArgumentHelp(
        "Bytes of captured packets held for the audit while it is behind the capture.",
        discussion: "256 MiB by default, taken only as needed. A thread of its own reads the kernel's buffer and copies packets into this backlog, so a burst faster than the audit is absorbed instead of dropped by the kernel; beyond it the newest packets are dropped, counted, and the report says INCOMPLETE."))
    var backlogSize: Int = 256 << 20

    @Option(name: .customLong("audit-nice"), help: ArgumentHelp(
        "Scheduling niceness of the audit thread relative to the capture thread (0-19).",
        discussion: "10 by default: when the cores are busy, the thread that empties the kernel's buffer runs first and the audit catches up from the backlog. 0 gives both the same priority."))
    var auditNice: Int = 10

    // Unconditional: `--duration -5` reaches the check below instead of reading as an option.
    @Option(parsing: .unconditional, help: ArgumentHelp("Stop after this long (90, 90s, 5m, 2h, 250ms).", valueName: "duration"),
            transform: DurationArgument.parse(option: "--duration"))
    var duration: DurationArgument?

    @Option(parsing: .unconditional, help: ArgumentHelp("Print the rule table and the outputs' counters so far this often (e.g. 30s).", valueName: "duration"),
            transform: DurationArgument.parse(option: "--every"))
    var every: DurationArgument?

    @Option(help: "Event format: text lines, or one JSON object per line (jsonl).")
    var events: EventWriter.Style = .text

    @Option(name: .customLong("events-output"), help: "Write events to this file, appending; SIGHUP reopens it (default: text to standard error, jsonl to standard output).")
    var eventsOutput: String?

    @Option(help: "Also send events to a syslog collector: HOST:PORT (UDP), tcp://HOST:PORT (RFC 6587 octet counting) or tls://HOST:PORT (RFC 5425); RFC 5424 messages, streams reconnected when they break.")
    var syslog: String?

    @Option(name: .customLong("syslog-ca"), help: "For tls:// syslog: a PEM file of the CAs (or the self-signed certificate) to trust instead of the system's.")
    var syslogCA: String?

    @Option(name: .customLong("queue-size"), help: ArgumentHelp(
        "Events each output holds while it is slow before dropping the oldest.",
        discussion: "Each output (events file or stream, syslog) has a queue and a thread of its own, so the capture never waits on it; what a full queue drops is counted and makes the report INCOMPLETE."))
    var queueSize: Int = 10_000

    @Flag(name: .customLong("allow-loss"), help: "Report dropped packets, link-down periods and undelivered events, but keep them out of the exit status (no exit 3).")
    var allowLoss = false

    @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics on ADDR:PORT (/metrics): packets, bytes, drops by cause, open flows, findings by kind, output counters.")
    var metricsListen: String?

    @Option(help: "Drop privileges to this user once the capture is open.")
    var user: String?

    @OptionGroup var timeouts: TimeoutOptions

    func validate() throws {
        guard queueSize >= 1 else { throw ValidationError("--queue-size must be at least 1 (events per output).") }
        guard (0...19).contains(auditNice) else { throw ValidationError("--audit-nice must be between 0 and 19.") }
        guard backlogSize >= 1 << 20 else { throw ValidationError("--backlog-size must be at least 1048576 (bytes; 1 MiB).") }
    }

    func run() throws {
        let (policy, warnings, files) = try options.loadPolicy()
        // Everything that can be checked is checked before the capture starts: a report that
        // cannot be written is found now, not after hours of capture.
        for (option, path) in [("--output", options.output), ("--events-output", eventsOutput ?? "-")] {
            do { try ReportOutput.checkWritable(path) } catch {
                printError("\(option) \(error)")
                throw ExitCode(2)
            }
        }
        if let filter {
            do { try LiveCaptureSession.validateFilter(filter, snapshotLength: snaplen) } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }
        var syslogEndpoint: SyslogEndpoint?
        if let syslog {
            do { syslogEndpoint = try SyslogEndpoint(target: syslog) } catch {
                printError("--syslog: \(error)")
                throw ExitCode(2)
            }
        }
        var metricsAddress: MetricsServer.Address?
        if let metricsListen {
            do { metricsAddress = try MetricsServer.Address(metricsListen) } catch {
                printError("--metrics-listen: \(error)")
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
        let stopper = session.stopper
        var sinks: [EventSink] = []
        do {
            if let syslogEndpoint {
                let connection: SyslogConnection
                do { connection = try SyslogConnection(endpoint: syslogEndpoint, trustRoots: syslogCA) } catch {
                    printError("--syslog: \(error)")
                    throw ExitCode(2)
                }
                guard connection.connect(timeout: .seconds(2)) else {
                    printError("--syslog: \(connection.lastError ?? "cannot connect")")
                    throw ExitCode(2)
                }
                sinks.append(try EventSink(name: syslogEndpoint.target, kind: "syslog-\(syslogEndpoint.transport.rawValue)",
                                           target: .syslog(syslogEndpoint), format: .syslog(SyslogFormatter()),
                                           capacity: queueSize, connection: connection))
            }
            let format: SinkFormat = events == .jsonl ? .jsonl : .text
            if let eventsOutput {
                sinks.insert(try EventSink(name: eventsOutput, kind: "file", target: .file(path: eventsOutput), format: format,
                                           capacity: queueSize), at: 0)
            } else {
                let descriptor: Int32 = events == .jsonl ? 1 : 2
                // A reader of standard output that goes away (`| head`) ends the capture cleanly.
                sinks.insert(try EventSink(name: descriptor == 1 ? "stdout" : "stderr", kind: descriptor == 1 ? "stdout" : "stderr",
                                           target: .descriptor(descriptor), format: format, capacity: queueSize,
                                           onReaderGone: { stopper.stop() }), at: 0)
            }
        } catch let error as SinkError {
            printError("\(error)")
            throw ExitCode(2)
        }
        if let user {
            do { try session.dropPrivileges(toUser: user) } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }

        var configuration = timeouts.auditConfiguration
        // Events were decided as flows ended; the final report may still re-match with every name learned.
        configuration.rematchAtEnd = true
        let auditor = Auditor(policy: policy, configuration: configuration)
        let eventSinks = sinks
        let metrics = LiveMetrics()
        auditor.onEvent = { event in
            let message = SinkMessage.event(event, at: LiveClock.now())
            for sink in eventSinks { sink.offer(message) }
            metrics.events[EventText.kind(event), default: 0] += 1
        }

        // SIGINT and SIGTERM stop the capture (the report is written after the loop); SIGHUP
        // reopens the events file; SIGPIPE is ignored so a closed standard output is an EPIPE
        // that the events sink turns into a clean stop.
        let signals = LiveSignals(onStop: { stopper.stop() }, onHangUp: { eventSinks.forEach { $0.reopen() } })
        defer { signals.cancel() }

        var metricsServer: MetricsServer?
        if let metricsAddress {
            do { metricsServer = try MetricsServer(address: metricsAddress, metrics: metrics) } catch {
                printError("--metrics-listen \(metricsListen ?? ""): \(error)")
                throw ExitCode(2)
            }
            printStatus("metrics on http://\(metricsAddress.host.contains(":") ? "[\(metricsAddress.host)]" : metricsAddress.host):\(metricsServer?.port ?? 0)/metrics")
        }
        defer { try? metricsServer?.close() }

        // As tcpdump does: the capture is open and every output is ready.
        printStatus("listening on \(interface), snapshot length \(session.snapshotLength) bytes")
        let link = LinkMonitor(interface: interface)
        var gaps: [Completeness.Gap] = []
        var linkDownSince: Int64?
        var nextLinkCheck = LiveClock.now()
        var nextProgress = every.map { LiveClock.now() + $0.nanoseconds }
        // From here the session belongs to the backlog's reader thread, which does nothing but
        // move packets from the kernel's buffer into the backlog; this thread audits them.
        let backlog = CaptureBacklog(session: session, capacity: backlogSize)
        if auditNice > 0 {
            // Linux nice values are per thread (who 0 is the calling thread): this lowers the audit
            // (this thread) only, so that when the cores are contended the capture thread gets
            // them first. A failure leaves both at the same priority, which is only slower.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Int32(auditNice))
        }
        // The one capture pipeline, as for files: the backlog's batches into the audit, its clock
        // ending idle flows while no packet comes, and the open flows ended when the capture
        // ends. Between steps (never per packet): the link check, the metrics, the progress table.
        var source = CaptureBacklogSource(backlog: backlog, wait: .milliseconds(100))
        var pipeline = CapturePipeline()
        var metering = auditor
        pipeline.run(&source, into: &metering) { source, auditor in
            let now = source.now
            if now >= nextLinkCheck {
                nextLinkCheck = now + 200_000_000
                let up = link.isLinkUp() ?? true
                if !up && linkDownSince == nil {
                    linkDownSince = now
                    printWarning("interface \(interface) went down at \(Format.timestamp(now)): capture paused, packets sent meanwhile are not seen")
                } else if up, let since = linkDownSince {
                    linkDownSince = nil
                    gaps.append(Completeness.Gap(kind: "link-down", start: since, end: now, detail: "interface \(interface) was down"))
                    printStatus("interface \(interface) is up again at \(Format.timestamp(now)) after \(Format.duration(now - since)) s: capture resumed")
                }
                metrics.update(auditor: auditor, bytes: source.bytesSeen, backlog: backlog.statistics,
                               sinks: eventSinks.map(\.counters), linkDown: linkDownSince != nil)
            }
            if let due = nextProgress, now >= due, let every {
                var text = EventText.progress(auditor.ruleResultsSoFar(), at: now)
                text += "  outputs: " + eventSinks.map(\.counters.line).joined(separator: "; ") + "\n"
                eventSinks[0].offer(.text(text))
                nextProgress = now + every.nanoseconds
            }
        }
        backlog.awaitReader()
        let inputError = pipeline.error
        if let inputError { printError("capture ended: \(inputError)") }
        let stopTime = source.now
        let bytesSeen = source.bytesSeen
        if let since = linkDownSince {
            gaps.append(Completeness.Gap(kind: "link-down", start: since, end: nil, detail: "interface \(interface) was still down at the stop"))
        }
        let backlogStatistics = backlog.statistics
        let statistics = backlogStatistics.capture
        // Each output gets half a second to send what it holds, all at once: the stop takes well
        // under a second whatever a collector or disk is doing.
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(500))
        eventSinks.forEach { $0.beginClose(by: deadline) }
        let sinkCounters = eventSinks.map { $0.awaitClosed(deadline: deadline) }
        metrics.update(auditor: auditor, bytes: bytesSeen, backlog: backlogStatistics, sinks: sinkCounters, linkDown: false)

        var summary = CaptureFileSummary(path: interface)
        summary.packets = Int(statistics?.delivered ?? 0)
        summary.error = inputError
        let input = InputReport(summary: summary, decode: auditor.meter.statistics, error: inputError)
        let counts = statistics.map {
            LiveCaptureCounts(received: $0.received, droppedByKernel: $0.droppedByKernel, droppedByInterface: $0.droppedByInterface,
                              droppedByBacklog: backlogStatistics.droppedByBacklog, peakBacklogBytes: backlogStatistics.peakBytes)
        }
        if let counts, counts.dropped > 0 {
            printWarning("\(counts.dropped) packet\(counts.dropped == 1 ? " was" : "s were") dropped: missing and blocked verdicts may be wrong")
        }
        var report = auditor.report(inputs: [InputEvidence(report: input, sha256: nil, size: nil)], policyFiles: files,
                                    policyWarnings: warnings, commandLine: CommandLine.arguments,
                                    toolVersion: FlowAuditVersion.string, capture: counts)
        report.sinks = sinkCounters
        report.completeness.droppedByKernel = counts?.droppedByKernel ?? 0
        report.completeness.droppedByInterface = counts?.droppedByInterface ?? 0
        report.completeness.droppedByBacklog = backlogStatistics.droppedByBacklog
        report.completeness.gaps = gaps
        report.completeness.lossAllowed = allowLoss
        var outputError = false
        for sink in sinkCounters {
            // A reader of standard output that left (`| head`) ended the run: what it did not
            // take is counted in the sink, not as loss.
            let readerLeft = sink.kind == "stdout" && sink.firstErrno == EPIPE
            if readerLeft {
                printStatus("standard output was closed by its reader: capture stopped at \(Format.timestamp(stopTime))")
                continue
            }
            report.completeness.droppedEvents += sink.dropped
            if sink.droppedWriteError > 0, let error = sink.firstError, sink.kind == "file" || sink.kind == "stdout" || sink.kind == "stderr" {
                printError("events: \(error)")
                outputError = true
            }
        }
        let status = try options.finish(report, auditor: auditor, inputError: inputError != nil || outputError)
        if status != 0 { throw ExitCode(status) }
    }
}
