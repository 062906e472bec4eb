import Foundation
import Testing
import Packets

/// Real payloads from the shared corpus, cut out by tshark, parsed here and compared with what
/// tshark decodes from them. Skipped when tshark or the corpus is missing.
/// The shared corpus (found next to the package, see CaptureTestSupport.swift), or an empty path.
let appLayerCorpus = corpusRoot ?? "/nonexistent"
let corpusFiles = [
    "ntop-nDPI/tests/cfgs/default/pcap/weibo.pcap",
    "OISF-suricata-verify/tests/ethernet-eve/test.pcap",
    "OISF-suricata-verify/pcaps/20250129-dns-with-additionals.pcap",
    "zeek-zeek/testing/btest/Traces/tls/tls-1.2-stream-keylog.pcap",
].filter { FileManager.default.fileExists(atPath: "\(appLayerCorpus)/\($0)") }

let tsharkInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark")

/// Runs tshark over a corpus file with a display filter; one row of fields per packet.
func corpusRows(_ file: String, filter: String, fields: [String]) throws -> [[String]] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
    var arguments = ["-n", "-r", "\(appLayerCorpus)/\(file)", "-Y", filter, "-T", "fields", "-E", "separator=/t", "-E", "aggregator=,"]
    for field in fields { arguments += ["-e", field] }
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = FileManager.default.temporaryDirectory.path
    process.environment = environment
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

func hexBytes(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex), index < text.endIndex {
        out.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

@Suite(.enabled(if: tsharkInstalled && !corpusFiles.isEmpty, "tshark or the corpus is missing"))
struct CorpusCrossCheckTests {
    @Test func dnsOverUDP() throws {
        var compared = 0
        for file in corpusFiles {
            for row in try corpusRows(file, filter: "dns && udp && !icmp && !mdns", fields: ["udp.payload", "dns.qry.name", "dns.a", "dns.flags.response"]) {
                let message = try DNSMessage.parse(hexBytes(row[0]))
                #expect(message.questions.first?.name == row[1].lowercased(), "\(file)")
                let ours = Set(message.answers.compactMap { record -> String? in
                    if case let .address(address) = record.data, record.type == .a { return address.description }
                    return nil
                })
                #expect(ours.isSubset(of: Set(row[2].split(separator: ",").map(String.init))), "\(file)")
                #expect(message.isResponse == (row[3] == "1" || row[3] == "True"), "\(file)")
                compared += 1
            }
        }
        #expect(compared >= 10)
    }

    @Test func tlsClientHellos() throws {
        var compared = 0
        for file in corpusFiles {
            for row in try corpusRows(file, filter: "tls.handshake.type == 1 && tcp",
                                      fields: ["tcp.payload", "tls.handshake.extensions_server_name", "tls.handshake.extensions.supported_version"]) {
                let payload = hexBytes(row[0])
                do {
                    guard case let .client(hello) = try TLSHello.parse(payload) else { Issue.record("not a ClientHello in \(file)"); continue }
                    #expect(hello.serverName == (row[1].isEmpty ? nil : row[1].lowercased()), "\(file)")
                    #expect(hello.supportedVersions.map { String(format: "0x%04x", $0.rawValue) }.joined(separator: ",") == row[2], "\(file)")
                    compared += 1
                } catch TLSError.incomplete {
                    // The hello continues in the next segment (tshark reassembled it).
                }
            }
        }
        #expect(compared >= 3)
    }

    @Test func httpHosts() throws {
        var compared = 0
        for file in corpusFiles {
            for row in try corpusRows(file, filter: "http.request && tcp", fields: ["tcp.payload", "http.host"]) where !row[1].isEmpty {
                let head = try HTTPRequestHead.parse(hexBytes(row[0]))
                let expected = row[1].lowercased().split(separator: ":").first.map(String.init)
                #expect(head.host == expected, "\(file)")
                compared += 1
            }
        }
        #expect(compared >= 5)
    }
}
