import Flows
import PacketBuilder
import Packets
import Testing
@testable import Audit

/// Which flows are link infrastructure, kept out of `unexpected` (docs/rules.md lists the kinds).
@Suite struct LinkControlTests {
    /// The one flow a set of frames makes.
    static func flow(_ frames: [[UInt8]]) -> Flow? {
        let ended = FlowCollector()
        var meter = FlowMeter(seed: 3, observer: ended)
        for (index, frame) in frames.enumerated() {
            let record = CapturedPacket(timestamp: Int64(index) * 1_000_000, capturedLength: frame.count, originalLength: frame.count,
                                        linkType: .ethernet, dataOffset: 0, fileOffset: 0)
            meter.processPacket(record, frame.span)
        }
        meter.finish()
        return ended.flows.first
    }

    static func icmpv6(_ type: UInt8, from: String = "fe80::1", to: String = "ff02::1:ff00:2") -> [UInt8] {
        Frame.ethernet().ipv6(source: from, destination: to).payload(protocol: 58, [type, 0, 0, 0] + [UInt8](repeating: 0, count: 20))
    }

    static func udp(_ from: String, _ sport: UInt16, _ to: String, _ dport: UInt16) -> [UInt8] {
        Frame.ethernet().ip(source: from, destination: to).udp(sourcePort: sport, destinationPort: dport, payload: [1, 2, 3, 4])
    }

    @Test(arguments: [
        (icmpv6(133, to: "ff02::2"), LinkControlKind.neighbourDiscovery),
        (icmpv6(134, to: "ff02::1"), .neighbourDiscovery),
        (icmpv6(135), .neighbourDiscovery),
        (icmpv6(136, from: "2001:db8::2", to: "2001:db8::1"), .neighbourDiscovery),
        (icmpv6(143, to: "ff02::16"), .mld),
        (icmpv6(131, from: "2001:db8::2", to: "ff02::1:ff00:2"), .mld),
        (Frame.ethernet().ipv4(source: "10.0.0.5", destination: "224.0.0.22").payload(protocol: 2, [0x22, 0, 0, 0, 0, 0, 0, 0]), .igmp),
        (udp("0.0.0.0", 68, "255.255.255.255", 67), .dhcp),
        (udp("10.0.0.5", 68, "10.0.0.1", 67), .dhcp),
        (udp("fe80::1", 546, "ff02::1:2", 547), .dhcpv6),
        (udp("10.0.0.5", 5353, "224.0.0.251", 5353), .mdns),
        (udp("fe80::1", 5355, "ff02::1:3", 5355), .llmnr),
        (Frame.ethernet().ipv4(source: "10.0.0.2", destination: "224.0.0.18").payload(protocol: 112, [0x21, 1, 100, 1, 0, 1, 0, 0]), .linkLocalMulticast),
    ])
    func linkControlFlows(frame: [UInt8], kind: LinkControlKind) throws {
        let flow = try #require(Self.flow([frame]))
        #expect(LinkControlKind.of(flow) == kind)
    }

    @Test(arguments: [
        icmpv6(128, from: "2001:db8::1", to: "2001:db8::2"),        // echo: an application flow
        udp("10.0.0.5", 53000, "10.0.0.2", 53),                     // unicast DNS
        udp("10.0.0.5", 5353, "10.0.0.2", 5353),                    // unicast to 5353 is not mDNS
        udp("10.0.0.5", 50000, "239.255.255.250", 1900),            // SSDP: not link-local scope
        udp("10.0.0.5", 67, "10.0.0.9", 69),                        // TFTP from port 67
        Frame.ethernet().ip(source: "10.0.0.5", destination: "10.0.0.2").tcp(sourcePort: 68, destinationPort: 67, flags: [.syn]),
    ])
    func ordinaryFlows(frame: [UInt8]) throws {
        let flow = try #require(Self.flow([frame]))
        #expect(LinkControlKind.of(flow) == nil)
    }
}

@Suite struct HostHeaderTests {
    @Test(arguments: [
        ("portal.example.com", "portal.example.com"),
        ("portal.example.com:8443", "portal.example.com"),
        ("Portal.Example.com.", "Portal.Example.com"),
        (" intranet ", "intranet"),
    ])
    func namesBindWithoutThePort(value: String, name: String) {
        #expect(HostHeader.name(value) == name)
    }

    @Test(arguments: ["10.0.0.5", "10.0.0.5:80", "[2001:db8::1]:443", "[2001:db8::1]", "2001:db8::1", "", "host:port"])
    func addressLiteralsBindNothing(value: String) {
        #expect(HostHeader.name(value) == nil)
    }
}
