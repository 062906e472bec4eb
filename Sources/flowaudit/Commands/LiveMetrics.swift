import Audit
import LiveCapture
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Reports

/// The live counters in Prometheus form (`--metrics-listen`). Updated by the capture thread a
/// few times a second from the totals it keeps anyway; the registry is read by the HTTP server's
/// thread.
final class LiveMetrics {
    let registry = PrometheusCollectorRegistry()
    private var last: [String: Int64] = [:]
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]
    /// Events by kind so far (`unexpected-flow`, `rule-blocked`, ...).
    var events: [String: Int64] = [:]

    init() {
        // Present from the first scrape, at 0.
        update(total: "flowaudit_packets_total", 0, help: "Packets captured and audited.")
        update(total: "flowaudit_bytes_total", 0, help: "Bytes on the wire of the packets audited.")
        for cause in ["kernel", "interface", "backlog"] {
            update(total: "flowaudit_dropped_packets_total", 0, labels: [("cause", cause)], help: "Packets lost before the audit, by cause.")
        }
    }

    /// A metric's whole name (already with its unit, e.g. `flowaudit_packets_total`) and help text.
    private static func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Adds to a counter the growth of `value` since the last call for the same series.
    private func update(total name: String, _ value: Int64, labels: [(String, String)] = [], help: String) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let counter: Counter
        if let existing = counters[key] {
            counter = existing
        } else {
            let descriptor = Self.descriptor(name, help: help)
            counter = labels.isEmpty ? registry.makeCounter(descriptor: descriptor)
                : registry.makeCounter(descriptor: descriptor, labels: labels)
            counters[key] = counter
        }
        let delta = value - (last[key] ?? 0)
        if delta > 0 { counter.increment(by: delta) }
        last[key] = max(value, last[key] ?? 0)
    }

    private func gauge(_ name: String, _ value: Double, labels: [(String, String)] = [], help: String) {
        let key = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let gauge: Gauge
        if let existing = gauges[key] {
            gauge = existing
        } else {
            let descriptor = Self.descriptor(name, help: help)
            gauge = labels.isEmpty ? registry.makeGauge(descriptor: descriptor) : registry.makeGauge(descriptor: descriptor, labels: labels)
            gauges[key] = gauge
        }
        gauge.set(to: value)
    }

    func update(auditor: Auditor, bytes: UInt64, backlog: CaptureBacklog.Statistics, sinks: [SinkCounters], linkDown: Bool) {
        let decode = auditor.meter.statistics
        update(total: "flowaudit_packets_total", Int64(decode.packets), help: "Packets captured and audited.")
        update(total: "flowaudit_bytes_total", Int64(bytes), help: "Bytes on the wire of the packets audited.")
        update(total: "flowaudit_dropped_packets_total", Int64(backlog.droppedByBacklog), labels: [("cause", "backlog")],
               help: "Packets lost before the audit, by cause.")
        if let statistics = backlog.capture {
            update(total: "flowaudit_dropped_packets_total", Int64(statistics.droppedByKernel), labels: [("cause", "kernel")],
                   help: "Packets lost before the audit, by cause.")
            update(total: "flowaudit_dropped_packets_total", Int64(statistics.droppedByInterface), labels: [("cause", "interface")],
                   help: "Packets lost before the audit, by cause.")
        }
        gauge("flowaudit_open_flows", Double(auditor.meter.activeFlowCount), help: "Flows open now.")
        gauge("flowaudit_link_down", linkDown ? 1 : 0, help: "1 while the capture interface is down.")
        for (kind, count) in events {
            update(total: "flowaudit_findings_total", count, labels: [("kind", kind)], help: "Live events by kind (unexpected-flow, rule-blocked, ...).")
        }
        for sink in sinks {
            let labels = [("sink", sink.name), ("type", sink.kind)]
            update(total: "flowaudit_sink_sent_total", Int64(sink.sent), labels: labels, help: "Messages an output delivered.")
            for (cause, value) in [("queue_full", sink.droppedQueueFull), ("write_error", sink.droppedWriteError), ("at_exit", sink.droppedAtExit)] {
                update(total: "flowaudit_sink_dropped_total", Int64(value), labels: labels + [("cause", cause)],
                       help: "Messages an output dropped, by cause.")
            }
            update(total: "flowaudit_sink_reconnects_total", Int64(sink.reconnects), labels: labels, help: "Connections made again after a collector left.")
        }
    }
}

/// A small HTTP server for `/metrics` (Prometheus text exposition 0.0.4), on its own event loop
/// thread.
final class MetricsServer {
    /// `ADDR:PORT` or `[V6ADDR]:PORT`; port 0 lets the kernel choose (printed at start).
    struct Address {
        var host: String
        var port: Int

        init(_ text: String) throws(MetricsAddressError) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw MetricsAddressError(text: text)
            }
            var host = String(text[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw MetricsAddressError(text: text) }
            self.host = host
            self.port = port
        }
    }

    struct MetricsAddressError: Error, CustomStringConvertible {
        var text: String
        var description: String { "'\(text)' is not ADDR:PORT (for example 127.0.0.1:9464 or [::1]:9464)" }
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The port bound (the one asked, or the kernel's choice for 0).
    let port: Int

    init(address: Address, metrics: LiveMetrics) throws {
        let registry = metrics.registry
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(registry: registry))
                }
            }
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        port = channel.localAddress?.port ?? address.port
    }

    func close() throws {
        try? channel.close().wait()
        try group.syncShutdownGracefully()
    }
}

/// Answers `GET /metrics` with the registry's exposition, anything else with 404.
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    private var path = ""

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri
        case .body:
            break
        case .end:
            let found = path == "/metrics" || path.hasPrefix("/metrics?")
            let body = found ? registry.emitToBuffer() : Array("not found: try /metrics\n".utf8)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
