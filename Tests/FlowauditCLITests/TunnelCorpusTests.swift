// Public captures of the shared corpus (../shared/corpus, MANIFEST.tsv) with tunnels and link
// types flowaudit decodes: TCP and UDP flow counts agree with tshark's conversations
// (`tshark -q -z conv,tcp` / `conv,udp`, which count inner and outer conversations alike), and
// the inner flows carry the tunnel the capture holds. Skipped with a message when the corpus
// is absent.

import Foundation
import Testing

@Suite("tunnels and link types in public captures")
struct TunnelCorpusTests {
    static let corpus = CLI.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus").path

    struct Case: CustomStringConvertible, Sendable {
        var file: String
        /// tshark's TCP and UDP conversation counts.
        var tcp: Int
        var udp: Int
        /// The tunnel type inner flows carry, nil for a link-type case.
        var tunnel: String?
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "OISF-suricata-verify/tests/vxlan-decoder-03/vxlan.pcap", tcp: 4, udp: 22, tunnel: "vxlan"),
        Case(file: "OISF-suricata-verify/tests/geneve-decoder/input.pcap", tcp: 0, udp: 4, tunnel: "geneve"),
        Case(file: "seladb-PcapPlusPlus/Tests/Packet++Test/PacketExamples/GrePackets.pcap", tcp: 1, udp: 2, tunnel: "gre"),
        Case(file: "seladb-PcapPlusPlus/Tests/Packet++Test/PacketExamples/gtp.pcap", tcp: 1, udp: 5, tunnel: "gtp-u"),
        Case(file: "OISF-suricata-verify/tests/bug-5633-gre-01/gre-udp.pcap", tcp: 0, udp: 1, tunnel: "gre"),
        Case(file: "OISF-suricata-verify/tests/decode-chdlc-01/hdlc-http_1tx.pcap", tcp: 1, udp: 0, tunnel: nil),
        Case(file: "arkime-arkime/tests/pcap/nflog.pcap", tcp: 1, udp: 0, tunnel: nil),
        Case(file: "arkime-arkime/tests/pcap/80211http.pcap", tcp: 1, udp: 0, tunnel: nil),
        Case(file: "seladb-PcapPlusPlus/Tests/Packet++Test/PacketExamples/MplsPackets.pcap", tcp: 1, udp: 0, tunnel: nil),
        Case(file: "seladb-PcapPlusPlus/Tests/Packet++Test/PacketExamples/PPPoESession.pcap", tcp: 0, udp: 1, tunnel: nil),
    ]

    @Test("flow counts agree with tshark and inner flows carry their tunnel", arguments: cases)
    func flowCounts(_ entry: Case) throws {
        let path = "\(Self.corpus)/\(entry.file)"
        guard FileManager.default.fileExists(atPath: path) else {
            print("skipped: \(path) is absent (the shared corpus is not here)")
            return
        }
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        let flows = try #require(try result.json()["flows"] as? [[String: Any]], "\(result.stderr)")
        let tcp = flows.filter { $0["protocol"] as? String == "tcp" }.count
        let udp = flows.filter { $0["protocol"] as? String == "udp" }.count
        #expect(tcp == entry.tcp && udp == entry.udp, "flowaudit tcp \(tcp) udp \(udp), tshark tcp \(entry.tcp) udp \(entry.udp)")
        if let tunnel = entry.tunnel {
            let types = Set(flows.compactMap { ($0["tunnel"] as? [String: Any])?["type"] as? String })
            #expect(types.contains(tunnel), "tunnel types seen: \(types)")
        }
    }
}
