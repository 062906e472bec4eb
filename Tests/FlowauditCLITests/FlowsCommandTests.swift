// End to end: `flowaudit flows` on captures written with the project's writers, and on inputs
// that are not captures, are cut short or are corrupt.

import Foundation
import PacketBuilder
import Packets
import Testing

/// One row of the flow table, as compared here.
struct FlowRow: Hashable, CustomStringConvertible {
    var proto: String
    var initiator: String
    var initiatorPort: Int?
    var responder: String
    var responderPort: Int?
    var state: String
    var initiatorReason: String
    var vlan: Int?

    init(_ proto: String, _ initiator: String, _ initiatorPort: Int?, _ responder: String, _ responderPort: Int?,
         _ state: String, _ reason: String, vlan: Int? = nil) {
        self.proto = proto
        self.initiator = initiator
        self.initiatorPort = initiatorPort
        self.responder = responder
        self.responderPort = responderPort
        self.state = state
        self.initiatorReason = reason
        self.vlan = vlan
    }

    init(json: [String: Any]) throws {
        self.init(try #require(json["protocol"] as? String), try #require(json["initiator"] as? String), json["initiator_port"] as? Int,
                  try #require(json["responder"] as? String), json["responder_port"] as? Int, try #require(json["state"] as? String),
                  try #require(json["initiator_reason"] as? String), vlan: json["vlan"] as? Int)
    }

    /// The row without the initiator's (ephemeral) port.
    var withoutInitiatorPort: FlowRow {
        var copy = self
        copy.initiatorPort = nil
        return copy
    }

    var description: String {
        "\(proto) \(initiator):\(initiatorPort.map(String.init) ?? "-") -> \(responder):\(responderPort.map(String.init) ?? "-") \(state) by \(initiatorReason)\(vlan.map { " vlan \($0)" } ?? "")"
    }
}

@Suite("flowaudit flows")
struct FlowsCommandTests {
    static let start: Int64 = 1_700_000_000 * 1_000_000_000
    static let second: Int64 = 1_000_000_000

    /// One conversation of every kind, each with its expected row.
    static func conversations() -> [(frames: [TimedFrame], row: FlowRow)] {
        let c = Conversation()
        let t = start
        return [
            (c.tcpSession(client: Endpoint("10.1.0.1", 40000), server: Endpoint("10.1.0.2", 443), at: t,
                          clientData: [Conversation.filler(count: 100)], serverData: [Conversation.filler(count: 200)]),
             FlowRow("tcp", "10.1.0.1", 40000, "10.1.0.2", 443, "closed", "syn")),
            (c.tcpRejected(client: Endpoint("10.1.0.1", 40001), server: Endpoint("10.1.0.3", 23), at: t + second),
             FlowRow("tcp", "10.1.0.1", 40001, "10.1.0.3", 23, "rejected", "syn")),
            (c.tcpUnanswered(client: Endpoint("10.1.0.1", 40002), server: Endpoint("10.1.0.4", 22), at: t + 2 * second),
             FlowRow("tcp", "10.1.0.1", 40002, "10.1.0.4", 22, "attempted", "syn")),
            (c.tcpUnreachable(client: Endpoint("10.1.0.1", 40003), server: Endpoint("10.1.0.5", 3389), firewall: IPAddress(parsing: "10.1.0.254"),
                              at: t + 3 * second),
             FlowRow("tcp", "10.1.0.1", 40003, "10.1.0.5", 3389, "unreachable", "syn")),
            // Mid-stream, no port below 1024: the lower port is the responder's.
            (c.tcpMidstream(client: Endpoint("10.1.0.6", 51000), server: Endpoint("10.1.0.7", 8080), at: t,
                            clientData: [Conversation.filler(count: 50)], serverData: [Conversation.filler(count: 60)]),
             FlowRow("tcp", "10.1.0.6", 51000, "10.1.0.7", 8080, "midstream", "lower-port")),
            // Mid-stream, and the first packet comes from the server: the well-known port decides.
            (c.tcpMidstream(client: Endpoint("10.1.0.9", 445), server: Endpoint("10.1.0.8", 52000), at: t + 4 * second,
                            clientData: [Conversation.filler(count: 70)]),
             FlowRow("tcp", "10.1.0.8", 52000, "10.1.0.9", 445, "midstream", "well-known-port")),
            (c.udpExchange(client: Endpoint("10.1.0.1", 40010), server: Endpoint("10.1.0.10", 53), at: t + 5 * second,
                           request: DNSPayload.query(name: "example.com").bytes(),
                           response: DNSPayload.response(name: "example.com", answers: [.a("example.com", IPAddress(parsing: "192.0.2.80"))]).bytes()),
             FlowRow("udp", "10.1.0.1", 40010, "10.1.0.10", 53, "answered", "first-packet")),
            (c.udpStream(source: Endpoint("10.1.0.1", 40011), destination: Endpoint("10.1.0.11", 514), at: t + 6 * second,
                         payloads: [Array("<134>syslog".utf8), Array("<134>again".utf8)]),
             FlowRow("udp", "10.1.0.1", 40011, "10.1.0.11", 514, "unanswered", "first-packet")),
            (c.icmpEcho(client: IPAddress(parsing: "10.1.0.1"), server: IPAddress(parsing: "10.1.0.13"), at: t + 7 * second, count: 2),
             FlowRow("icmp", "10.1.0.1", nil, "10.1.0.13", nil, "answered", "first-packet")),
            (Conversation(link: .ethernet().vlan(7)).tcpSession(client: Endpoint("2001:db8::1", 40020), server: Endpoint("2001:db8::2", 443),
                                                                at: t + 8 * second, close: .serverReset),
             FlowRow("tcp", "2001:db8::1", 40020, "2001:db8::2", 443, "reset", "syn", vlan: 7)),
            (Conversation(link: .ethernet().serviceVLAN(100).vlan(30)).udpExchange(
                client: Endpoint("10.2.0.1", 40030), server: Endpoint("10.2.0.2", 161), at: t + 9 * second,
                request: Conversation.filler(count: 40), response: Conversation.filler(count: 80)),
             // QinQ: the row carries the outer (service) tag, as Zeek's `vlan` field does.
             FlowRow("udp", "10.2.0.1", 40030, "10.2.0.2", 161, "answered", "first-packet", vlan: 100)),
        ]
    }

    static func pcap(_ frames: [TimedFrame]) -> [UInt8] {
        var writer = PcapWriter(linkType: .ethernet)
        for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
        return writer.bytes
    }

    static func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func rows(_ result: CLIResult) throws -> [FlowRow] {
        let flows = try #require(try result.json()["flows"] as? [[String: Any]])
        return try flows.map(FlowRow.init(json:))
    }

    @Test("every conversation kind gives its exact row, in pcap and pcapng")
    func exactRows() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Self.conversations()
        let frames = TimedFrame.merge(conversations.map(\.frames))
        var ng = PcapngWriter()
        let interface = ng.addInterface(linkType: .ethernet, resolution: .nanoseconds)
        for frame in frames { ng.appendEnhancedPacket(interface: interface, timestamp: frame.timestamp, data: frame.frame) }
        for path in [try Self.write(Self.pcap(frames), "all.pcap", in: folder), try Self.write(ng.bytes, "all.pcapng", in: folder)] {
            let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let rows = try Self.rows(result)
            #expect(rows.count == conversations.count)
            #expect(Set(rows) == Set(conversations.map(\.row)))
        }
    }

    @Test("the text table shows every flow's state and who initiated it")
    func textRows() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Self.conversations()
        let path = try Self.write(Self.pcap(TimedFrame.merge(conversations.map(\.frames))), "all.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for (_, row) in conversations {
            let initiator = row.initiator.contains(":") ? "[\(row.initiator)]" : row.initiator
            let ends = row.initiatorPort.map { "\(initiator):\($0)" } ?? initiator
            let line = lines.first { $0.contains(ends + " ") && $0.contains(" \(row.state) ") }
            #expect(line?.contains(row.initiatorReason) == true, "a row for \(row)")
        }
        #expect(result.stdout.contains("flows: \(conversations.count) "))
    }

    @Test("a scenario capture gives the flows the generator built")
    func scenarioCaptureRows() throws {
        let result = try CLI.run("flowaudit", ["flows", "Captures/remotespark/capture.pcap", "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = Set(try Self.rows(result).map(\.withoutInitiatorPort))
        let expected: Set<FlowRow> = [
            FlowRow("tcp", "10.100.0.22", nil, "198.51.100.20", 443, "midstream", "well-known-port", vlan: 100),
            FlowRow("udp", "10.100.0.21", nil, "1.1.1.1", 53, "answered", "first-packet", vlan: 100),
            FlowRow("udp", "2001:db8:100::21", nil, "2606:4700:4700::1111", 53, "answered", "first-packet", vlan: 100),
            FlowRow("tcp", "10.100.0.21", nil, "198.51.100.20", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "2001:db8:100::21", nil, "2001:db8:eeee::20", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.21", nil, "203.0.113.41", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.21", nil, "20.50.2.10", 3478, "unreachable", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.22", nil, "20.50.2.11", 3478, "rejected", "syn", vlan: 100),
            FlowRow("udp", "10.100.0.21", nil, "1.1.1.1", 53, "answered", "first-packet", vlan: 100),
            FlowRow("udp", "10.100.0.21", nil, "203.0.113.90", 3478, "answered", "first-packet", vlan: 100),
            FlowRow("tcp", "10.100.0.21", nil, "93.184.216.34", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.21", nil, "1.1.1.1", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.22", nil, "203.0.113.77", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "198.51.100.20", nil, "10.100.0.21", 443, "closed", "syn", vlan: 100),
            FlowRow("tcp", "10.100.0.22", nil, "93.184.216.34", 8443, "attempted", "syn", vlan: 100),
            FlowRow("tcp", "10.100.1.5", nil, "10.100.1.6", 445, "closed", "syn"),
            FlowRow("tcp", "10.100.1.5", nil, "10.100.1.9", 9100, "closed", "syn"),
            FlowRow("icmp", "10.100.1.5", nil, "10.100.1.6", nil, "answered", "first-packet"),
            // Link control of a client joining the VLAN: `flows` lists every flow; only the audit
            // sets them apart. ARP is not IP and makes no flow. Each message goes between its own
            // pair of addresses (multicast groups, link-local and global sources), so none is answered.
            FlowRow("udp", "0.0.0.0", nil, "255.255.255.255", 67, "unanswered", "first-packet", vlan: 100),
            FlowRow("udp", "10.100.0.1", nil, "10.100.0.21", 68, "unanswered", "first-packet", vlan: 100),
            FlowRow("ip/2", "10.100.0.21", nil, "224.0.0.22", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("udp", "10.100.0.21", nil, "224.0.0.251", 5353, "unanswered", "first-packet", vlan: 100),
            FlowRow("icmpv6", "2001:db8:100::21", nil, "ff02::2", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("icmpv6", "fe80::1", nil, "2001:db8:100::21", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("icmpv6", "2001:db8:100::21", nil, "ff02::1:ff00:1", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("icmpv6", "2001:db8:100::1", nil, "2001:db8:100::21", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("icmpv6", "fe80::21", nil, "ff02::16", nil, "unanswered", "first-packet", vlan: 100),
            FlowRow("udp", "fe80::21", nil, "ff02::1:2", 547, "unanswered", "first-packet", vlan: 100),
            FlowRow("udp", "fe80::1", nil, "fe80::21", 546, "unanswered", "first-packet", vlan: 100),
        ]
        #expect(rows == expected)
        #expect(try Self.rows(result).count == 29)
    }

    // MARK: Bad input

    @Test("a text file: exit 2, the message names the file and its first bytes")
    func textFile() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Self.write(Array("hello, this is not a capture\n".utf8), "notes.txt", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(path): not a pcap or pcapng file (first bytes 68 65 6c 6c)"), "stderr: \(result.stderr)")
    }

    @Test("a missing file, a folder, an empty file: exit 2, each named")
    func unreadableInputs() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("absent.pcap").path
        let empty = try Self.write([], "empty.pcap", in: folder)
        let cases = [(missing, "\(missing): no such file"), (folder.path, "\(folder.path): is a directory"),
                     (empty, "\(empty): empty (0 bytes)")]
        for (path, message) in cases {
            let result = try CLI.run("flowaudit", ["flows", path])
            #expect(result.status == 2, "\(path)")
            #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        }
    }

    @Test("a truncated last record: a warning with its offset, the flows before it, exit 0")
    func truncatedLastRecord() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Array(Self.conversations().prefix(2))
        var bytes = Self.pcap(TimedFrame.merge(conversations.map(\.frames)))
        let offset = bytes.count
        // A record header announcing 100 bytes, followed by only 10 of them.
        var last = PcapWriter(linkType: .ethernet)
        last.append(Conversation.filler(count: 100), timestamp: Self.start + 50 * Self.second)
        bytes += last.bytes[24..<(24 + 16 + 10)]
        let path = try Self.write(bytes, "cut.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        // The record counts its 16-byte header: 16 + 10 of 16 + 100 bytes are there.
        #expect(result.stderr.contains("warning: \(path): file ends 26 bytes into a 116-byte record at offset \(offset)"),
                "stderr: \(result.stderr)")
        #expect(Set(try Self.rows(result)) == Set(conversations.map(\.row)))
    }

    @Test("a corrupt record length: an error with the byte offset, the flows before it, exit 2")
    func corruptRecordLength() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Array(Self.conversations().prefix(3))
        var bytes = Self.pcap(TimedFrame.merge(conversations.map(\.frames)))
        let offset = bytes.count
        var bad = PcapWriter(linkType: .ethernet)
        bad.append(Conversation.filler(count: 64), timestamp: Self.start + 60 * Self.second)
        var record = Array(bad.bytes[24...])
        for index in 8..<16 { record[index] = index % 4 == 3 ? 0x7F : 0xFF }  // captured and original length 0x7fffffff
        bytes += record
        let path = try Self.write(bytes, "corrupt.pcap", in: folder)
        // Read on the metering thread or on a thread of its own: the same error after the same flows.
        for threads in ["1", "2"] {
            let result = try CLI.run("flowaudit", ["flows", path, "--format", "json", "--threads", threads])
            #expect(result.status == 2)
            #expect(result.stderr.contains("error: \(path): byte \(offset): "), "--threads \(threads): \(result.stderr)")
            #expect(Set(try Self.rows(result)) == Set(conversations.map(\.row)))
        }
    }

    @Test("--threads below 1: exit 2, the option named")
    func threadsBelowOne() throws {
        for command in [["flows"], ["audit", "--site", "Captures/arksspr/site.yaml"]] {
            let result = try CLI.run("flowaudit", command + ["Captures/arksspr/capture.pcapng", "--threads", "0"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("--threads must be at least 1"), "stderr: \(result.stderr)")
        }
    }

    @Test("a pcapng interface with a link type flowaudit does not decode: counted by interface, the others audited, exit 0")
    func unknownLinkTypeOnOneInterface() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversation = Self.conversations()[0]
        var writer = PcapngWriter()
        let ethernet = writer.addInterface(linkType: .ethernet)
        let radio = writer.addInterface(linkType: LinkType(rawValue: 129))  // ARCNET (Linux)
        for frame in conversation.frames {
            writer.appendEnhancedPacket(interface: ethernet, timestamp: frame.timestamp, data: frame.frame)
        }
        for index in 0..<3 {
            writer.appendEnhancedPacket(interface: radio, timestamp: Self.start + Int64(index), data: Conversation.filler(count: 40))
        }
        let path = try Self.write(writer.bytes, "two-interfaces.pcapng", in: folder)
        let json = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        #expect(try Self.rows(json) == [conversation.row])
        let text = try CLI.run("flowaudit", ["flows", path])
        #expect(text.stdout.contains("unsupported link type 129(ARCNET_LINUX) on interface 1: 3 packets not decoded"),
                "stdout: \(text.stdout)")
    }

    @Test("malformed headers inside packets: counted by reason in the summary, skipped, the run goes on")
    func malformedHeadersAreCountedByReason() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = Self.conversations()[0]
        let client = IPAddress("10.9.0.1")!, server = IPAddress("10.9.0.2")!
        let syn = Frame.ethernet().ipv4(source: client, destination: server).tcp(sourcePort: 1000, destinationPort: 80, flags: [.syn])
        var badIHL = syn
        badIHL[14] = 0x44  // IHL 4
        var longTotal = syn
        longTotal[14 + 2] = 0x05  // total length 1280+ in a 54-byte frame
        var badDataOffset = syn
        badDataOffset[14 + 20 + 12] = 0x40  // TCP data offset 4
        let chain = Frame.ethernet().ipv6(source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!,
                                          extensions: [.hopByHop(options: Array(repeating: 0, count: 30))])
            .udp(sourcePort: 1, destinationPort: 2)
        var runaway = chain
        runaway[14 + 41] = 200  // hop-by-hop length far past the payload
        let quoted = Frame.ethernet().ipv4(source: IPAddress("10.9.0.254")!, destination: client)
            .icmpUnreachable(code: 13, quoting: Array(Frame.raw.ipv4(source: client, destination: server)
                .tcp(sourcePort: 1000, destinationPort: 80, flags: [.syn]).prefix(12)))
        var frames = good.frames
        let t = Self.start + 100 * Self.second
        for (index, frame) in [badIHL, longTotal, badDataOffset, runaway, quoted, badIHL].enumerated() {
            frames.append(TimedFrame(timestamp: t + Int64(index), frame: frame))
        }
        let path = try Self.write(Self.pcap(frames), "malformed.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try Self.rows(result) == [good.row])
        let inputs = try #require(try result.json()["inputs"] as? [[String: Any]])
        let skipped = try #require(inputs.first?["skipped"] as? [String: Int])
        #expect(skipped == ["ipv4_bad_ihl": 2, "ipv4_total_length_beyond_frame": 1, "tcp_bad_data_offset": 1,
                            "ipv6_extension_beyond_payload": 1, "icmp_quoted_truncated": 1])
        let text = try CLI.run("flowaudit", ["flows", path])
        #expect(text.stdout.contains("ipv4_bad_ihl: IPv4 header length (IHL) below 5"), "stdout: \(text.stdout)")
    }
}
