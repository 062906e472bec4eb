// End to end: captures built to break a reader or stall the pipeline, written with the project's
// own writers at the sizes that used to trap or stall, run through the built CLI. Each run must
// finish and still report the flows that came before the damage.

import Foundation
import PacketBuilder
import Packets
import Testing

@Suite("hostile captures")
struct HostileCaptureTests {
    static let start = FlowsCommandTests.start
    static let second = FlowsCommandTests.second

    /// The first conversations of the shared set: the flows every hostile file starts with.
    static func before() -> [(frames: [TimedFrame], row: FlowRow)] { Array(FlowsCommandTests.conversations().prefix(3)) }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// A rule file (the app server 10.1.0.10 must reach `c7.example` on tcp/443) and a site
    /// binding for it in `folder`; returns the site's path.
    static func writePolicy(in folder: URL) throws -> String {
        let rules = """
        system: demo
        title: Demo
        source: Demo requirements
        roles:
          app: { description: App server, monitored: true }
          license: { description: License server, names: [c7.example] }
        rules:
          - id: license
            purpose: License check
            from: app
            to: license
            services: [tcp/443]
            required: true
            ref: "row 1"
        """
        try rules.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
        let site = folder.appendingPathComponent("site.yaml")
        try "site: hostile\nrules: [demo.yaml]\nroles:\n  app: [10.1.0.10, 10.1.0.1, 10.7.0.0/24]\n"
            .write(to: site, atomically: true, encoding: .utf8)
        return site.path
    }

    static func inputs(_ result: CLIResult) throws -> [[String: Any]] {
        try #require(try result.json()["inputs"] as? [[String: Any]])
    }

    // MARK: Extreme pcapng timestamps

    @Test("extreme if_tsoffset and if_tsresol: times clamped, counted and warned about; no trap; every flow reported")
    func extremeTimestampOffsets() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Self.before()
        var writer = PcapngWriter()
        let normal = writer.addInterface(linkType: .ethernet)
        for frame in TimedFrame.merge(conversations.map(\.frames)) {
            writer.appendEnhancedPacket(interface: normal, timestamp: frame.timestamp, data: frame.frame)
        }
        // Offsets at both ends of Int64, with whole-second and with 2^-0 units, and the finest
        // decimal unit with the largest offset.
        let hostile = [
            writer.addInterface(linkType: .ethernet, resolution: .decimal(0), timestampOffset: .max),
            writer.addInterface(linkType: .ethernet, resolution: .binary(0), timestampOffset: .min),
            writer.addInterface(linkType: .ethernet, resolution: .decimal(127), timestampOffset: .max),
            writer.addInterface(linkType: .ethernet, resolution: .binary(127), timestampOffset: .min + 1),
        ]
        let late = Self.conversations(at: Self.start + 100 * Self.second)
        let firstHostileOffset = writer.bytes.count
        for (index, interface) in hostile.enumerated() {
            for frame in late[index].frames {
                // The writer cannot express these times; write the extreme tick counts directly.
                var body: [UInt8] = []
                for value in [UInt32(interface), UInt32.max, UInt32.max, UInt32(frame.frame.count), UInt32(frame.frame.count)] {
                    body += Self.littleEndian(value)
                }
                body += frame.frame
                writer.appendBlock(type: 6, body: body)
            }
        }
        let path = try FlowsCommandTests.write(writer.bytes, "extreme-times.pcapng", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = Set(try FlowsCommandTests.rows(result))
        for conversation in conversations { #expect(rows.contains(conversation.row), "missing \(conversation.row)") }
        #expect(rows.count == conversations.count + hostile.count)
        let input = try #require(try Self.inputs(result).first)
        let packets = late.prefix(hostile.count).reduce(0) { $0 + $1.frames.count }
        #expect(input["clamped_timestamps"] as? Int == packets)
        #expect(result.stderr.contains("warning: \(path): byte \(firstHostileOffset): timestamp "), "stderr: \(result.stderr)")
        // The text table formats every time and duration too: clamped to the ends of the range.
        let text = try CLI.run("flowaudit", ["flows", path])
        #expect(text.status == 0, "stderr: \(text.stderr)")
        #expect(text.stdout.contains("2106-02-07T06:28:15.999999Z"), "stdout: \(text.stdout)")
        #expect(text.stdout.contains("1970-01-01T00:00:00.000000Z"), "stdout: \(text.stdout)")
        // And the audit, whose report formats first and last times of every group.
        let site = try Self.writePolicy(in: folder)
        for format in ["json", "text"] {
            let audit = try CLI.run("flowaudit", ["audit", path, "--site", site, "--format", format, "--digest", "none"])
            #expect(audit.status == 1, "\(format) stderr: \(audit.stderr)")  // unexpected flows and a missing rule
            for address in ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.7.1.1", "10.7.1.4"] {
                #expect(audit.stdout.contains(address), "\(format) report lacks \(address)")
            }
        }
    }

    /// Four small conversations on other hosts, starting at `time`.
    static func conversations(at time: Int64) -> [(frames: [TimedFrame], row: FlowRow)] {
        let c = Conversation()
        return (0..<4).map { index in
            let client = Endpoint("10.7.0.\(index + 1)", UInt16(41000 + index))
            let server = Endpoint("10.7.1.\(index + 1)", 443)
            return (c.tcpUnanswered(client: client, server: server, at: time + Int64(index) * second),
                    FlowRow("tcp", "10.7.0.\(index + 1)", 41000 + index, "10.7.1.\(index + 1)", 443, "attempted", "syn"))
        }
    }

    // MARK: A simple packet block before any interface

    @Test("a simple packet block before any interface description block: reported with its offset, skipped; flows before and after kept")
    func simplePacketBlockBeforeAnyInterface() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = FlowsCommandTests.conversations()
        let first = Array(conversations.prefix(3)), second = Array(conversations[3..<6])
        var writer = PcapngWriter()
        let interface = writer.addInterface(linkType: .ethernet)
        for frame in TimedFrame.merge(first.map(\.frames)) {
            writer.appendEnhancedPacket(interface: interface, timestamp: frame.timestamp, data: frame.frame)
        }
        // A new section whose first block after the header is a simple packet block.
        writer.beginSection(byteOrder: .littleEndian)
        let damage = writer.bytes.count
        let stray = Conversation.filler(count: 60)
        writer.appendBlock(type: 3, body: Self.littleEndian(UInt32(stray.count)) + stray)
        let again = writer.addInterface(linkType: .ethernet)
        for frame in TimedFrame.merge(second.map(\.frames)) {
            writer.appendEnhancedPacket(interface: again, timestamp: frame.timestamp, data: frame.frame)
        }
        let path = try FlowsCommandTests.write(writer.bytes, "spb-first.pcapng", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("warning: \(path): byte \(damage): simple packet block before any Interface "
                                       + "Description Block of its section; block skipped"), "stderr: \(result.stderr)")
        #expect(Set(try FlowsCommandTests.rows(result)) == Set((first + second).map(\.row)))
        let input = try #require(try Self.inputs(result).first)
        #expect(input["skipped_blocks"] as? Int == 1)
        #expect(input["packets"] as? Int == (first + second).reduce(0) { $0 + $1.frames.count })
    }

    // MARK: A fragment flood timed against the fragment table

    @Test("100,000 IPv4 first fragments, the fragment table full and one entry past its timeout each time: bounded work, flows kept")
    func firstFragmentFlood() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = Self.before()
        var frames = TimedFrame.merge(conversations.map(\.frames))
        // The table keeps 65,536 entries for 60 s. With one first fragment every `step` ns,
        // 65,535 steps fit in 60 s and 65,536 do not: once the table is full, each new fragment
        // finds it full with exactly one entry past its timeout.
        let table = 65_536, total = 100_000
        let step: Int64 = 60_000_000_000 / Int64(table - 1)
        #expect(Int64(table - 1) * step <= 60_000_000_000 && Int64(table) * step > 60_000_000_000)
        let floodStart = Self.start + 30 * Self.second
        let sources = [IPAddress("10.8.0.1")!, IPAddress("10.8.0.2")!]
        let target = IPAddress("10.8.1.1")!
        let templates = sources.map { source in
            Frame.ethernet().ipv4(source: source, destination: target, identification: 0, dontFragment: false)
                .fragments(.udp(UDPSpec(sourcePort: 5000, destinationPort: 6000, payload: Array(repeating: 7, count: 24))),
                           fragmentSize: 16)[0]
        }
        for index in 0..<total {
            // Each (source, identification) once: a new datagram every time.
            var frame = templates[index / 50_000]
            let identification = UInt16(index % 50_000)
            frame[14 + 4] = UInt8(identification >> 8)
            frame[14 + 5] = UInt8(identification & 0xFF)
            frames.append(TimedFrame(timestamp: floodStart + Int64(index) * step, frame: frame))
        }
        let path = try FlowsCommandTests.write(FlowsCommandTests.pcap(frames), "fragment-flood.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let flows = try #require(try result.json()["flows"] as? [[String: Any]])
        let rows = Set(try flows.map(FlowRow.init(json:)))
        for conversation in conversations { #expect(rows.contains(conversation.row), "missing \(conversation.row)") }
        let flood = flows.filter { ($0["responder"] as? String) == "10.8.1.1" }
        #expect(flood.count == 2)
        #expect(flood.reduce(0) { $0 + ($1["initiator_packets"] as? Int ?? 0) + ($1["responder_packets"] as? Int ?? 0) } == total)
        let input = try #require(try Self.inputs(result).first)
        let fragments = try #require(input["fragments"] as? [String: Int])
        #expect(fragments["entries_created"] == total)
        #expect(fragments["entries_expired"] == total - table)
        #expect(fragments["entries_evicted"] == 0)
        #expect(fragments["peak_entries"] == table)
        // Eviction looked at each queue item a bounded number of times: no scan of the table.
        #expect(try #require(fragments["queue_steps"]) <= 3 * total)
    }

    // MARK: One DNS response built to make name binding quadratic

    @Test("a 64 KB DNS response with 1,800 CNAMEs to one name and 1,800 A records: bounded binding, cuts counted, flows kept")
    func dnsResponseWithThousandsOfAliases() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = try Self.writePolicy(in: folder)
        let app = IPAddress("10.1.0.10")!, resolver = IPAddress("10.1.0.53")!
        let aliases = 1_800, addresses = 1_800
        var answers: [DNSPayload.Record] = (0..<aliases).map { .cname("c\($0).example", "t.example") }
        answers += (0..<addresses).map { .a("t.example", IPAddress("198.18.\($0 / 250).\($0 % 250 + 1)")!) }
        let response = DNSPayload.response(name: "t.example", answers: answers).bytes()
        #expect(response.count > 60_000 && response.count <= 65_507, "response of \(response.count) bytes")
        let c = Conversation()
        let licenseAddress = IPAddress("198.18.0.1")!
        let before = c.tcpSession(client: Endpoint(app, 40001), server: Endpoint(IPAddress("10.1.0.99")!, 8080), at: Self.start)
        var frames = before
        for index in 0..<4 {
            frames += c.udpExchange(client: Endpoint(app, UInt16(41000 + index)), server: Endpoint(resolver, 53),
                                    at: Self.start + Int64(index + 1) * Self.second,
                                    request: DNSPayload.query(name: "t.example").bytes(), response: response)
        }
        frames += c.tcpSession(client: Endpoint(app, 40002), server: Endpoint(licenseAddress, 443), at: Self.start + 10 * Self.second)
        let path = try FlowsCommandTests.write(FlowsCommandTests.pcap(TimedFrame.merge([frames])), "dns-aliases.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["audit", path, "--site", site, "--format", "json", "--digest", "none"])
        let json = try result.json()
        // The name reached the license server through the alias chain: the rule is observed.
        let rulesOut = try #require(json["rules"] as? [[String: Any]])
        #expect(rulesOut.first?["status"] as? String == "observed", "stderr: \(result.stderr)")
        // The flow before the damage is reported (unexpected: no rule allows it).
        let unexpected = try #require(json["unexpected"] as? [[String: Any]])
        #expect(unexpected.contains { $0["responder"] as? String == "10.1.0.99" })
        let tables = try #require(json["tables"] as? [String: Any])
        let names = try #require(tables["names"] as? [String: Int])
        #expect(names["dns_messages_cut"] == 4)
        #expect(names["dns_address_records_cut"] == 4 * (addresses - 64))
        #expect(names["dns_aliases_cut"] == 4 * (aliases - 16))
    }
}
