import Testing
import Packets
import PacketBuilder

/// Frames built here, written to a pcap and decoded by tshark: an independent decoder agrees on
/// every field and finds every checksum good (tshark's checksum status 1 is "Good"). Skipped when tshark is not installed.
@Suite(.enabled(if: tsharkPath != nil, "tshark is not installed"))
struct TsharkCrossCheckTests {
    let t0: Int64 = 1_700_000_000_000_000_000

    func timed(_ frames: [[UInt8]]) -> [TimedFrame] {
        frames.enumerated().map { TimedFrame(timestamp: t0 + Int64($0.offset) * 1000, frame: $0.element) }
    }

    @Test func ethernetVLANIPv4TCP() throws {
        let frame = Frame.ethernet().serviceVLAN(300).vlan(100, priority: 5)
            .ipv4(source: "10.1.1.1", destination: "10.2.2.2", identification: 0x1234, ttl: 63)
            .tcp(sourcePort: 40001, destinationPort: 8080, flags: [.syn, .ece, .cwr], sequence: 7, options: [2, 4, 5, 0xB4])
        let rows = try tsharkFields(timed([frame]), linkType: .ethernet, fields: [
            "ieee8021ad.id", "vlan.id", "vlan.priority", "ip.src", "ip.dst", "ip.id", "ip.ttl", "ip.checksum.status",
            "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.options.mss_val", "tcp.checksum.status"])
        #expect(rows == [["300", "100", "5", "10.1.1.1", "10.2.2.2", "0x1234", "63", "1", "40001", "8080", "0x00c2", "1460", "1"]])
    }

    @Test func applicationPayloadsDecode() throws {
        let v4 = Frame.ethernet().ipv4(source: "10.0.0.5", destination: "10.0.0.53")
        let dns = DNSPayload.response(name: "www.example.com", answers: [
            .cname("www.example.com", "edge.example.net"), .a("edge.example.net", ip("192.0.2.7"))]).bytes()
        let v6 = Frame.ethernet().ipv6(source: "2001:db8::5", destination: "2001:db8::443", flowLabel: 0x12345)
        let frames = [
            v4.reversedUDP(dns),
            v6.tcp(sourcePort: 50000, destinationPort: 443, flags: [.psh, .ack], sequence: 1, acknowledgment: 1,
                   payload: TLSPayload.clientHello(serverName: "Api.Example.org")),
            v4.tcp(sourcePort: 50001, destinationPort: 80, flags: [.psh, .ack], sequence: 1, acknowledgment: 1,
                   payload: HTTPPayload.get(host: "intranet.example.com:8080")),
        ]
        let rows = try tsharkFields(timed(frames), linkType: .ethernet, fields: [
            "dns.qry.name", "dns.cname", "dns.a", "udp.checksum.status", "ipv6.flow",
            "tls.handshake.extensions_server_name", "tls.handshake.extensions.supported_version", "tcp.checksum.status", "http.host"])
        #expect(rows.count == 3)
        #expect(rows[0] == ["www.example.com", "edge.example.net", "192.0.2.7", "1", "", "", "", "", ""])
        #expect(rows[1] == ["", "", "", "", "0x012345", "Api.Example.org", "0x0304,0x0303", "1", ""])
        #expect(rows[2] == ["", "", "", "", "", "", "", "1", "intranet.example.com:8080"])
    }

    @Test func icmpAndICMPv6() throws {
        let syn = Frame.raw.ipv4(source: "10.0.0.5", destination: "203.0.113.9").tcp(sourcePort: 50000, destinationPort: 22, flags: .syn)
        let frames = [
            Frame.ethernet().ipv4(source: "10.0.0.1", destination: "10.0.0.5").icmpUnreachable(code: 13, quoting: syn),
            Frame.ethernet().ipv6(source: "2001:db8::1", destination: "2001:db8::2").icmpEchoRequest(identifier: 5, sequence: 9, payload: [1, 2, 3]),
            Frame.ethernet().ipv6(source: "2001:db8::1", destination: "2001:db8::2",
                                  extensions: [.hopByHop(options: []), .routing(type: 4, segmentsLeft: 0, data: [0, 0, 0, 0] + ip("2001:db8::2").bytes),
                                               .destinationOptions(options: [])])
                .udp(sourcePort: 1000, destinationPort: 2000, payload: [0]),
        ]
        let rows = try tsharkFields(timed(frames), linkType: .ethernet, fields: [
            "icmp.type", "icmp.code", "icmp.checksum.status", "tcp.dstport", "icmpv6.type", "icmpv6.checksum.status",
            "icmpv6.echo.sequence_number", "ipv6.nxt", "udp.checksum.status"])
        #expect(rows.count == 3)
        #expect(rows[0].prefix(4) == ["3", "13", "1", "22"])
        #expect(rows[1][4...6] == ["128", "1", "9"])
        #expect(rows[2][7] == "0")
        #expect(rows[2][8] == "1")
    }

    @Test(arguments: [
        (Frame.linuxSLL(packetType: 0), "sll.pkttype", "0"),
        (Frame.linuxSLL2(packetType: 4, interfaceIndex: 3), "sll.ifindex", "3"),
        (Frame.null(), "null.family", "2"),
        (Frame.loop(), "null.family", "2"),
        (Frame.raw, "ip.version", "4"),
    ])
    func otherLinkTypes(frame: Frame, field: String, value: String) throws {
        let packet = frame.ipv4(source: "10.0.0.1", destination: "10.0.0.2").udp(sourcePort: 1, destinationPort: 2, payload: [9])
        let rows = try tsharkFields(timed([packet]), linkType: frame.linkType, fields: [field, "ip.src", "udp.checksum.status"])
        #expect(rows == [[value, "10.0.0.1", "1"]])
    }

    @Test func ipv6OnBSDLoopback() throws {
        for family: UInt32 in [24, 28, 30] {
            let packet = Frame.null(ipv6Family: family).ipv6(source: "::1", destination: "::1").udp(sourcePort: 1, destinationPort: 2)
            let rows = try tsharkFields(timed([packet]), linkType: .null, fields: ["null.family", "ipv6.src", "udp.checksum.status"])
            #expect(rows == [["\(family)", "::1", "1"]])
        }
    }

    @Test func ipv4FragmentsReassemble() throws {
        let layer = Frame.ethernet().ipv4(source: "10.0.0.1", destination: "10.0.0.2", identification: 99)
        let fragments = layer.fragments(.udp(UDPSpec(sourcePort: 7, destinationPort: 9, payload: Conversation.filler(count: 300))),
                                        fragmentSize: 128)
        let rows = try tsharkFields(timed(fragments), linkType: .ethernet, fields: ["ip.frag_offset", "ip.flags.mf", "udp.length", "udp.checksum.status"])
        #expect(rows.map { $0[0] } == ["0", "16", "32"])   // in 8-byte units
        #expect(rows.last?[2] == "308")
        #expect(rows.last?[3] == "1")
    }
}

extension IPLayer {
    /// The UDP response (server port 53 to the client) with this layer's addresses swapped.
    func reversedUDP(_ payload: [UInt8]) -> [UInt8] {
        var swapped = self
        if case var .v4(h) = header { swap(&h.source, &h.destination); swapped.header = .v4(h) }
        return swapped.udp(sourcePort: 53, destinationPort: 53000, payload: payload)
    }
}
