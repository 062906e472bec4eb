import ArgumentParser
import Foundation
import PacketBuilder
import Packets

/// `flowaudit-gen fuzz-seeds`: writes seed inputs for one fuzz target (Fuzz/, docs/fuzzing.md)
/// with the packet builder: every conversation kind, link type and application payload the
/// builder knows, plus the hostile shapes the readers must survive.
struct FuzzSeedsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-seeds",
        abstract: "Write seed inputs for a fuzz target.",
        discussion: "Targets: pcap, pcapng, decode, dns, tls, http. (The YAML targets take their seeds from Rules/ and Captures/.)"
    )

    enum Target: String, ExpressibleByArgument, CaseIterable { case pcap, pcapng, decode, dns, tls, http }

    @Option(help: "The fuzz target.")
    var target: Target

    @Option(help: "Folder to write the seeds into (created when missing).")
    var output: String

    /// Links to write FuzzDecode seeds on, each with the selector byte FuzzDecode maps to its
    /// link type (its table: ethernet, raw, linux-sll, linux-sll2, null, loop, ipv4, ipv6).
    static let decodeLinks: [(UInt8, Frame)] = [(0, .ethernet()), (0, .ethernet().vlan(7)), (0, .ethernet().serviceVLAN(100).vlan(30)),
                                                (1, .raw), (2, .linuxSLL()), (3, .linuxSLL2()), (4, .null()), (5, .loop())]

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var seeds: [(String, [UInt8])] = []
        switch target {
        case .pcap:
            for (name, frames, link) in Self.captures() {
                var writer = PcapWriter(linkType: link.linkType)
                for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
                seeds.append((name, writer.bytes))
            }
        case .pcapng:
            for (name, frames, link) in Self.captures() {
                var writer = PcapngWriter()
                let interface = writer.addInterface(linkType: link.linkType, resolution: .nanoseconds, name: "eth0")
                let coarse = writer.addInterface(linkType: link.linkType, resolution: .binary(20), timestampOffset: -3600)
                for (index, frame) in frames.enumerated() {
                    if index % 5 == 4 {
                        writer.appendSimplePacket(data: frame.frame)
                    } else {
                        writer.appendEnhancedPacket(interface: index % 2 == 0 ? interface : coarse, timestamp: frame.timestamp,
                                                    data: frame.frame)
                    }
                }
                seeds.append((name, writer.bytes))
                var big = PcapngWriter(byteOrder: .bigEndian)
                let only = big.addInterface(linkType: link.linkType, snapshotLength: 64)
                for frame in frames.prefix(8) { big.appendEnhancedPacket(interface: only, timestamp: frame.timestamp, data: frame.frame) }
                seeds.append((name + "-be", big.bytes))
            }
        case .decode:
            for (name, frames, _) in Self.captures() {
                for (index, (selector, link)) in Self.decodeLinks.enumerated() {
                    var bytes: [UInt8] = []
                    for frame in Self.relink(frames, to: link).prefix(64) {
                        let data = frame.prefix(0xFFFF)
                        bytes += [selector, 1, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
                    }
                    seeds.append(("\(name)-link\(index)", bytes))
                }
            }
        case .dns:
            for (index, payload) in Self.dnsPayloads().enumerated() { seeds.append(("dns\(index)", payload)) }
        case .tls:
            let hellos: [[UInt8]] = [
                TLSPayload.clientHello(serverName: "license.vendor.example"),
                TLSPayload.clientHello(serverName: nil, supportedVersions: nil),
                TLSPayload.clientHello(serverName: "split.example", maximumFragment: 40),
                TLSPayload.legacyClientHello(serverName: "old.example", version: .tls10),
                TLSPayload.serverHello(),
                TLSPayload.serverHello(legacyVersion: .tls12, selectedVersion: .tls13),
                TLSPayload.serverHello(legacyVersion: .tls10),
            ]
            for (index, hello) in hellos.enumerated() { seeds.append(("tls\(index)", hello)) }
        case .http:
            let heads: [[UInt8]] = [
                HTTPPayload.get(host: "www.example.com"),
                HTTPPayload.get(host: nil),
                HTTPPayload.request(method: "POST", path: "/api/v1/x?y=z", host: "api.example:8080",
                                    headers: [("Content-Length", "4"), ("Connection", "close")], body: Array("abcd".utf8)),
                HTTPPayload.request(method: "CONNECT", path: "proxy.example:443", host: "proxy.example:443"),
            ]
            for (index, head) in heads.enumerated() { seeds.append(("http\(index)", head)) }
        }
        for (name, bytes) in seeds {
            try Data(bytes).write(to: URL(fileURLWithPath: output).appendingPathComponent("builder-\(name)"))
        }
        print("\(seeds.count) seeds for \(target.rawValue) in \(output)")
    }

    /// Small captures: every conversation kind, on several links, plus fragments and ICMP errors.
    static func captures() -> [(String, [TimedFrame], Frame)] {
        let t: Int64 = 1_700_000_000_000_000_000
        let s: Int64 = 1_000_000_000
        var out: [(String, [TimedFrame], Frame)] = []
        for (linkName, link) in [("ethernet", Frame.ethernet()), ("vlan", Frame.ethernet().vlan(7)), ("sll2", Frame.linuxSLL2()),
                                 ("raw", Frame.raw), ("null", Frame.null())] {
            let c = Conversation(link: link)
            let dns = DNSPayload.response(name: "www.example.com", answers: [
                .cname("www.example.com", "edge.cdn.example"), .a("edge.cdn.example", IPAddress("192.0.2.80")!),
            ])
            let frames = TimedFrame.merge([
                c.tcpSession(client: Endpoint("10.1.0.1", 40000), server: Endpoint("10.1.0.2", 443), at: t,
                             clientData: [TLSPayload.clientHello(serverName: "www.example.com")], serverData: [TLSPayload.serverHello()]),
                c.tcpSession(client: Endpoint("10.1.0.1", 40001), server: Endpoint("10.1.0.3", 80), at: t + s,
                             clientData: [HTTPPayload.get(host: "www.example.com")], serverData: [HTTPPayload.okResponse()]),
                c.tcpRejected(client: Endpoint("10.1.0.1", 40002), server: Endpoint("10.1.0.4", 23), at: t + 2 * s),
                c.tcpUnreachable(client: Endpoint("10.1.0.1", 40003), server: Endpoint("10.1.0.5", 3389),
                                 firewall: IPAddress("10.1.0.254")!, at: t + 3 * s),
                c.tcpMidstream(client: Endpoint("2001:db8::1", 51000), server: Endpoint("2001:db8::2", 8080), at: t + 4 * s,
                               clientData: [Conversation.filler(count: 50)]),
                c.udpExchange(client: Endpoint("10.1.0.1", 40010), server: Endpoint("10.1.0.53", 53), at: t + 5 * s,
                              request: DNSPayload.query(name: "www.example.com").bytes(), response: dns.bytes()),
                c.icmpEcho(client: IPAddress("10.1.0.1")!, server: IPAddress("10.1.0.13")!, at: t + 6 * s, count: 2),
            ])
            out.append((linkName, frames, link))
        }
        // Fragments, out of order, IPv4 and IPv6.
        let link = Frame.ethernet()
        var fragments: [TimedFrame] = []
        let v4 = link.ipv4(source: IPAddress("10.2.0.1")!, destination: IPAddress("10.2.0.2")!, identification: 9, dontFragment: false)
            .fragments(.udp(UDPSpec(sourcePort: 6000, destinationPort: 7000, payload: Array(repeating: 1, count: 120))), fragmentSize: 48)
        let v6 = link.ipv6(source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!)
            .fragments(.udp(UDPSpec(sourcePort: 6001, destinationPort: 7001, payload: Array(repeating: 2, count: 120))),
                       fragmentSize: 48, identification: 77)
        for (index, frame) in (v4.reversed() + v6).enumerated() { fragments.append(TimedFrame(timestamp: t + Int64(index), frame: frame)) }
        out.append(("fragments", fragments, link))
        return out
    }

    /// The IP packets of `frames` (on Ethernet) put on `link`.
    static func relink(_ frames: [TimedFrame], to link: Frame) -> [[UInt8]] {
        frames.compactMap { frame -> [UInt8]? in
            guard frame.frame.count > 14 else { return nil }
            let etherType = UInt16(frame.frame[12]) << 8 | UInt16(frame.frame[13])
            guard etherType == 0x0800 || etherType == 0x86DD else { return nil }
            return link.wrap(Array(frame.frame[14...]), etherType: etherType)
        }
    }

    static func dnsPayloads() -> [[UInt8]] {
        var out: [[UInt8]] = [
            DNSPayload.query(name: "www.example.com").bytes(),
            DNSPayload.query(name: "www.example.com", type: .aaaa).tcpBytes(),
            DNSPayload.response(name: "www.example.com", answers: [
                .cname("www.example.com", "www.example.com.cdn.net"), .cname("www.example.com.cdn.net", "edge7.cdn.net"),
                .a("edge7.cdn.net", IPAddress("192.0.2.7")!), .aaaa("edge7.cdn.net", IPAddress("2001:db8::7")!),
            ]).bytes(),
            DNSPayload.response(name: "a.test", answers: [
                .cname("a.test", "target.test"), .cname("b.test", "target.test"), .cname("x.test", "y.test"),
                .cname("y.test", "x.test"), .cname("target.test", "a.test"), .a("target.test", IPAddress("10.0.0.1")!),
            ]).bytes(),
            DNSPayload.response(name: "t.example", answers: (0..<40).map { .cname("c\($0).example", "t.example") }
                + (0..<40).map { .a("t.example", IPAddress("198.18.0.\($0 + 1)")!) }).bytes(),
            DNSPayload.pointerLoop(),
            DNSPayload.mutualPointers(),
        ]
        out.append(DNSPayload.response(name: "www.example.com", answers: [.a("www.example.com", IPAddress("192.0.2.1")!)]).tcpBytes())
        return out
    }
}
