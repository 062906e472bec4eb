// End to end: flows carried inside VXLAN (RFC 7348) and GRE (RFC 2784/2890) are audited like any
// other flow, reported with their tunnel, and a site can scope a role by tunnel id.

import Foundation
import PacketBuilder
import Packets
import Testing

@Suite("audit of tunnelled flows")
struct TunnelAuditTests {
    static let start: Int64 = 1_700_000_000 * 1_000_000_000
    static let second: Int64 = 1_000_000_000

    static let vxlanOuter = Frame.ethernet().ipv4(source: "192.0.2.1", destination: "192.0.2.2")
    static let greOuter = Frame.ethernet().ipv4(source: "192.0.2.11", destination: "192.0.2.12")

    static func inVXLAN(_ frames: [TimedFrame], vni: UInt32) -> [TimedFrame] {
        Encapsulation.carry(frames) { vxlanOuter.udp(sourcePort: 50000, destinationPort: 4789, payload: Encapsulation.vxlan(vni: vni, frame: $0)) }
    }

    static func inGRE(_ frames: [TimedFrame], key: UInt32) -> [TimedFrame] {
        Encapsulation.carry(frames) { greOuter.payload(protocol: 47, Encapsulation.gre(protocolType: 0x0800, key: key, inner: $0)) }
    }

    static func session(_ client: String, _ clientPort: UInt16, _ server: String, _ port: UInt16, at t: Int64, link: Frame) -> [TimedFrame] {
        Conversation(link: link).tcpSession(client: Endpoint(client, clientPort), server: Endpoint(server, port), at: t,
                                            clientData: [Conversation.filler(count: 40)], serverData: [Conversation.filler(count: 60)])
    }

    /// Runs `flowaudit audit` on the frames with the arksspr rules and a site that binds the
    /// internal server, the license server, and a DMZ server only inside VNI 5001.
    static func audit(_ frames: [TimedFrame], format: String = "json") throws -> CLIResult {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var writer = PcapWriter(linkType: .ethernet)
        for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
        let capture = folder.appendingPathComponent("tunnels.pcap").path
        try Data(writer.bytes).write(to: URL(fileURLWithPath: capture))
        let site = folder.appendingPathComponent("site.yaml").path
        try """
        site: tunnels
        rules: [\(CLI.packageRoot.appendingPathComponent("Rules/arksspr.yaml").path)]
        roles:
          internal-server: [10.10.0.11]
          license-server: [198.51.100.80]
          dmz-server:
            hosts: [10.30.0.5]
            tunnel-id: [5001]
        """.write(toFile: site, atomically: true, encoding: .utf8)
        return try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", format])
    }

    static func unexpected(_ result: CLIResult) throws -> [[String: Any]] {
        try #require(try result.json()["unexpected"] as? [[String: Any]], "no unexpected array: \(result.stdout.prefix(400)) \(result.stderr)")
    }

    @Test("a flow no rule allows, inside VXLAN and inside GRE, is unexpected with its tunnel; an allowed one is not")
    func unexpectedInsideTunnels() throws {
        let t = Self.start
        let frames = TimedFrame.merge([
            // No rule allows the internal server to reach RDP or SSH on the Internet.
            Self.inVXLAN(Self.session("10.10.0.11", 40001, "203.0.113.50", 3389, at: t, link: .ethernet()), vni: 4242),
            Self.inGRE(Self.session("10.10.0.11", 40002, "203.0.113.51", 22, at: t + Self.second, link: .raw), key: 77),
            // license-validation allows internal-server -> license-server tcp/443.
            Self.inVXLAN(Self.session("10.10.0.11", 40003, "198.51.100.80", 443, at: t + 2 * Self.second, link: .ethernet()), vni: 4242),
        ])
        let result = try Self.audit(frames)
        let groups = try Self.unexpected(result)
        var byResponder: [String: [String: Any]] = [:]
        for group in groups { byResponder[group["responder"] as? String ?? ""] = group }
        #expect(byResponder.count == 2, "\(groups)")

        let rdp = try #require(byResponder["203.0.113.50"])
        #expect(rdp["initiator"] as? String == "10.10.0.11" && rdp["port"] as? Int == 3389)
        let rdpTunnel = try #require(rdp["tunnel"] as? [String: Any])
        #expect(rdpTunnel["type"] as? String == "vxlan" && rdpTunnel["id"] as? Int == 4242 && rdpTunnel["id_kind"] as? String == "vni")
        #expect(rdpTunnel["outer_source"] as? String == "192.0.2.1" && rdpTunnel["outer_destination"] as? String == "192.0.2.2")
        let example = try #require(rdp["example"] as? [String: Any])
        #expect((example["tunnel"] as? [String: Any])?["id"] as? Int == 4242)

        let ssh = try #require(byResponder["203.0.113.51"])
        let sshTunnel = try #require(ssh["tunnel"] as? [String: Any])
        #expect(ssh["port"] as? Int == 22 && sshTunnel["type"] as? String == "gre" && sshTunnel["id"] as? Int == 77)
        #expect(sshTunnel["outer_source"] as? String == "192.0.2.11")

        // The allowed flow counted for its rule; nothing names the license server as unexpected.
        #expect(byResponder["198.51.100.80"] == nil)
        let rules = try #require(try result.json()["rules"] as? [[String: Any]])
        let license: [String: Any]? = rules.first { ($0["id"] as? String)?.hasSuffix("license-validation") == true }
        let licenseFlows: Int = license?["completed_flows"] as? Int ?? 0
        #expect(licenseFlows >= 1, "\(rules)")

        // The text report names the tunnel of each group.
        let text: String = try Self.audit(frames, format: "text").stdout
        #expect(text.contains("tunnel: vxlan vni 4242 192.0.2.1 -> 192.0.2.2"), "\(text)")
        #expect(text.contains("tunnel: gre key 77 192.0.2.11 -> 192.0.2.12"))

        // So do the reports for CI and spreadsheets.
        for format in ["csv", "junit", "sarif"] {
            let out: String = try Self.audit(frames, format: format).stdout
            #expect(out.contains("tunnel vxlan vni 4242 192.0.2.1 -&gt; 192.0.2.2") || out.contains("tunnel vxlan vni 4242 192.0.2.1 -> 192.0.2.2"),
                    "\(format): \(out)")
            #expect(out.contains("tunnel gre key 77 192.0.2.11"), "\(format): \(out)")
        }
    }

    @Test("a role bound with tunnel-id holds only inside that tunnel")
    func tunnelIDScopesARole() throws {
        let t = Self.start
        let frames = TimedFrame.merge([
            Self.inVXLAN(Self.session("10.30.0.5", 40010, "203.0.113.60", 445, at: t, link: .ethernet()), vni: 5001),
            Self.inVXLAN(Self.session("10.30.0.5", 40011, "203.0.113.61", 445, at: t + Self.second, link: .ethernet()), vni: 6000),
            Self.session("10.30.0.5", 40012, "203.0.113.62", 445, at: t + 2 * Self.second, link: .ethernet()),
        ])
        let groups = try Self.unexpected(try Self.audit(frames))
        let responders = Set(groups.compactMap { $0["responder"] as? String })
        // In VNI 5001 the host is the DMZ server (in scope): its SMB flow is unexpected. In VNI
        // 6000, and outside any tunnel, it holds no role and the flow is out of scope.
        #expect(responders == ["203.0.113.60"], "\(groups)")
    }

    @Test("flows lists the inner flow with its tunnel in text, JSON and CSV")
    func flowsShowTunnels() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var writer = PcapWriter(linkType: .ethernet)
        for frame in Self.inGRE(Self.session("10.10.0.11", 40020, "203.0.113.70", 80, at: Self.start, link: .raw), key: 9) {
            writer.append(frame.frame, timestamp: frame.timestamp)
        }
        let capture = folder.appendingPathComponent("gre.pcap").path
        try Data(writer.bytes).write(to: URL(fileURLWithPath: capture))
        let json = try CLI.run("flowaudit", ["flows", capture, "--format", "json"])
        let flows = try #require(try json.json()["flows"] as? [[String: Any]])
        #expect(flows.count == 2)
        let inner = try #require(flows.first { $0["protocol"] as? String == "tcp" })
        let tunnel = try #require(inner["tunnel"] as? [String: Any])
        #expect(tunnel["type"] as? String == "gre" && tunnel["id"] as? Int == 9 && tunnel["depth"] as? Int == 1)
        let outer = try #require(flows.first { $0["protocol"] as? String == "ip/47" })
        #expect(outer["tunnel"] == nil && outer["initiator"] as? String == "192.0.2.11")

        let csv = try CLI.run("flowaudit", ["flows", capture, "--format", "csv"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first?.hasSuffix(",community_id,tunnel,tunnel_id,tunnel_outer_source,tunnel_outer_destination") == true)
        #expect(lines.contains { $0.contains(",tcp,") && $0.hasSuffix(",gre,9,192.0.2.11,192.0.2.12") })
        let text = try CLI.run("flowaudit", ["flows", capture])
        // The last column, under its "tunnel" title.
        let textLines = text.stdout.split(separator: "\n")
        #expect(textLines.first?.hasSuffix("  tunnel") == true)
        #expect(textLines.contains { $0.contains(" tcp ") && $0.hasSuffix("  gre key 9 192.0.2.11 -> 192.0.2.12") })
        #expect(text.stdout.contains("tunnelled packets metered as inner flows: gre"))
    }
}
