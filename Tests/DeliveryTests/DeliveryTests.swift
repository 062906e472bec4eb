// Live event delivery (docs/live.md, "Events to files and syslog"): collector addresses as
// `--syslog` takes them, RFC 5424 messages with their structured data, and the sinks' sender
// threads writing real events into a file, a UDP socket and a TCP listener on the loopback,
// with their counters.

import Audit
import Delivery
import Flows
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The flow of a TCP session from 10.1.0.10:40001 to 198.18.0.7:443, metered by the real flow
/// meter, as the evidence of a live event.
func sessionEvidence() throws -> FlowEvidence {
    let frames = Conversation().tcpSession(client: Endpoint(IPAddress("10.1.0.10")!, 40001),
                                           server: Endpoint(IPAddress("198.18.0.7")!, 443),
                                           at: 1_700_000_000 * 1_000_000_000, clientData: [[1, 2, 3]], serverData: [[4, 5]])
    let collector = FlowCollector()
    var meter = FlowMeter(seed: 1, observer: collector)
    for timed in frames {
        let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                    originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0)
        meter.processPacket(record, timed.frame.span)
    }
    meter.finish()
    #expect(collector.flows.count == 1)
    return FlowEvidence(try #require(collector.flows.first))
}

/// A loopback socket of `type` bound to an ephemeral port; returns the descriptor and the port.
func loopbackSocket(_ type: Int32) throws -> (Int32, UInt16) {
    let fd = socket(AF_INET, type, 0)
    try #require(fd >= 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = unsafe withUnsafeMutablePointer(to: &address) { pointer in
        unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    try #require(bound)
    if type == Int32(SOCK_STREAM.rawValue) { try #require(listen(fd, 4) == 0) }
    return (fd, UInt16(bigEndian: address.sin_port))
}

/// Reads from `fd` until `count` bytes came or 5 s passed.
func receive(_ fd: Int32, atLeast count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    let deadline = ContinuousClock.now.advanced(by: .seconds(5))
    var buffer = [UInt8](repeating: 0, count: 65536)
    while bytes.count < count && ContinuousClock.now < deadline {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard unsafe poll(&poller, 1, 100) > 0 else { continue }
        let n = unsafe buffer.withUnsafeMutableBytes { unsafe recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return bytes
}

struct SyslogEndpointTests {
    @Test func transportsAndHosts() throws {
        let udp = try SyslogEndpoint(target: "10.0.0.9:514")
        #expect(udp.transport == .udp && udp.address == IPAddress("10.0.0.9") && udp.port == 514)
        let tcp = try SyslogEndpoint(target: "tcp://[2001:db8::9]:6514")
        #expect(tcp.transport == .tcp && tcp.address == IPAddress("2001:db8::9") && tcp.port == 6514)
        let tls = try SyslogEndpoint(target: "tls://localhost:6514")
        #expect(tls.transport == .tls && tls.address == IPAddress("127.0.0.1") && tls.target == "tls://localhost:6514")
        #expect(try SyslogEndpoint(target: "udp://127.0.0.1:5514").transport == .udp)
    }

    @Test(arguments: [("collector.example:514", "is not an IP address"), ("10.0.0.9", "is not HOST:PORT"),
                      ("10.0.0.9:0", "is not HOST:PORT"), ("tcp://10.0.0.9:70000", "is not HOST:PORT")])
    func badTargets(target: String, problem: String) {
        #expect {
            _ = try SyslogEndpoint(target: target)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }
}

struct SyslogFormatterTests {
    @Test func rfc5424WithStructuredData() throws {
        let evidence = try sessionEvidence()
        let formatter = SyslogFormatter()
        let time: Int64 = 1_700_000_000 * 1_000_000_000
        let finding = formatter.message(.ruleBlocked(rule: "demo/ld\"ap]", evidence), at: time)
        // local0 (16) * 8 + warning (4) = 132; version 1; the event kind as MSGID.
        #expect(finding.hasPrefix("<132>1 2023-11-14T22:13:20"))
        #expect(finding.contains(" \(formatter.hostname) flowaudit \(formatter.processID) "))
        #expect(finding.contains("initiator=\"10.1.0.10\" responder=\"198.18.0.7\" protocol=\"tcp\""))
        #expect(finding.contains("port=\"443\""))
        // `"` and `]` in a param value are escaped (RFC 5424 6.3.3).
        #expect(finding.contains("rule=\"demo/ld\\\"ap\\]\""))
        let observed = formatter.message(.ruleObserved(rule: "demo/license", evidence), at: time)
        #expect(observed.hasPrefix("<133>1 "))  // notice
    }
}

struct EventSinkTests {
    func event() throws -> SinkMessage {
        .event(.ruleObserved(rule: "demo/license", try sessionEvidence()), at: 1_700_000_000 * 1_000_000_000)
    }

    @Test func fileSinkWritesLinesAndCounts() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-sink-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = try EventSink(name: path, kind: "file", target: .file(path: path), format: .jsonl, capacity: 16)
        let message = try event()
        sink.offer(message)
        sink.offer(.text("table line\n"))
        let counters = sink.close(within: .seconds(5))
        #expect(counters.offered == 2 && counters.sent == 2 && counters.droppedQueueFull == 0 && counters.droppedAtExit == 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(object?["rule"] as? String == "demo/license")
        #expect(lines[1] == "table line")
    }

    @Test func unwritableFileIsNamed() {
        #expect {
            _ = try EventSink(name: "x", kind: "file", target: .file(path: "/nonexistent-dir/events.log"), format: .text, capacity: 4)
        } throws: { error in
            "\(error)".contains("/nonexistent-dir/events.log: cannot open the events file")
        }
    }

    @Test func udpSyslogOneMessagePerDatagram() throws {
        let (fd, port) = try loopbackSocket(Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        let endpoint = try SyslogEndpoint(target: "127.0.0.1:\(port)")
        let connection = try SyslogConnection(endpoint: endpoint)
        #expect(connection.connect(timeout: .seconds(1)))
        let sink = try EventSink(name: endpoint.target, kind: "syslog", target: .syslog(endpoint), format: .syslog(SyslogFormatter()),
                                 capacity: 16, connection: connection)
        sink.offer(try event())
        let datagram = String(decoding: receive(fd, atLeast: 1), as: UTF8.self)
        let counters = sink.close(within: .seconds(5))
        #expect(datagram.hasPrefix("<133>1 "))  // no octet count on datagrams
        #expect(datagram.contains("rule=\"demo/license\""))
        #expect(counters.sent == 1)
    }

    @Test func tcpSyslogIsOctetCounted() throws {
        let (listener, port) = try loopbackSocket(Int32(SOCK_STREAM.rawValue))
        defer { close(listener) }
        let endpoint = try SyslogEndpoint(target: "tcp://127.0.0.1:\(port)")
        let connection = try SyslogConnection(endpoint: endpoint)
        #expect(connection.connect(timeout: .seconds(1)))
        let peer = accept(listener, nil, nil)
        try #require(peer >= 0)
        defer { close(peer) }
        let sink = try EventSink(name: endpoint.target, kind: "syslog", target: .syslog(endpoint), format: .syslog(SyslogFormatter()),
                                 capacity: 16, connection: connection)
        sink.offer(try event())
        sink.offer(try event())
        let expected = SyslogFormatter().message(.ruleObserved(rule: "demo/license", try sessionEvidence()), at: 1_700_000_000 * 1_000_000_000)
        let frame = "\(expected.utf8.count) \(expected)"
        let stream = String(decoding: receive(peer, atLeast: 2 * frame.utf8.count), as: UTF8.self)
        let counters = sink.close(within: .seconds(5))
        // RFC 6587 octet counting: "LENGTH SP MESSAGE", twice, nothing between.
        #expect(stream == frame + frame)
        #expect(counters.sent == 2 && counters.droppedWriteError == 0)
    }
}
