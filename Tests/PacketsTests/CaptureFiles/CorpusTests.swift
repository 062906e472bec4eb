import Foundation
import Testing
@testable import Packets

/// Real captures, read in place from the shared corpus (skipped when it is absent).
@Suite(.enabled(if: corpusRoot != nil, "the shared capture corpus is absent"))
struct CorpusTests {
    /// Files the reader rejects on purpose, with the offset of the fault (packets before it are kept).
    static let expectedErrors: [String: (offset: Int64, packets: Int)] = [
        "OISF-suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap": (5_035, 6),  // caplen 4325376
        "OISF-suricata-verify/tests/bug-1450-05/tls_DER-incomplete-content.pcap": (5_035, 6),
        "OISF-suricata-verify/tests/smtp-to-comma/10.7.29.101_49898-178.63.41.150_25.pcap": (3_695, 18),
        "gopacket-gopacket/pcapgo/tests/be/test901.pcapng": (480, 1),  // section version 2.0
        "gopacket-gopacket/pcapgo/tests/le/test901.pcapng": (480, 1),
        "the-tcpdump-group-libpcap/tests/pcapng-invalid-vers-1.pcapng": (0, 0),  // section version 0.1
        "the-tcpdump-group-libpcap/tests/shb-option-too-long.pcapng": (0, 0),  // trailer disagrees
        "the-tcpdump-group-libpcap/tests/pcap-invalid-version-1.pcap": (4, 0),  // pcap 1.4, rejected at open
    ]

    static func open(_ entry: CorpusEntry) -> (ReadResult, CaptureFileSummary?) {
        let path = corpusRoot! + "/" + entry.file
        do {
            let reader = try CaptureFileReader.open(path: path)
            return (readAll(reader), reader.summary)
        } catch {
            var result = ReadResult()
            result.error = error
            return (result, nil)
        }
    }

    /// Opens a corpus file and checks what every format shares: well-formed batches, then either
    /// the known error at its offset with the packets before it (returns nil), or no error and
    /// the MANIFEST's packet count (returns the summary, nil inside when there is none).
    static func openAndCheckCount(_ entry: CorpusEntry) -> CaptureFileSummary?? {
        let (result, summary) = open(entry)
        #expect(result.batchesWellFormed, "\(entry.file)")
        if let expected = expectedErrors[entry.file] {
            #expect(result.error?.offset == expected.offset, "\(entry.file)")
            #expect(result.packets.count == expected.packets, "\(entry.file)")
            return nil
        }
        #expect(result.error == nil, "\(entry.file): \(String(describing: result.error))")
        #expect(result.packets.count == entry.packets, "\(entry.file)")
        return .some(summary)
    }

    /// Every pcap file: the MANIFEST's packet count, byte order, resolution and link type.
    @Test func pcapFilesMatchTheManifest() throws {
        let entries = corpusManifest.filter { $0.format.hasPrefix("pcap") && $0.format != "pcapng" }
        #expect(entries.count > 2_000)
        for entry in entries {
            guard let summary = Self.openAndCheckCount(entry) else { continue }
            guard let summary, case .pcap(let order, let nano, _, _) = summary.format else {
                Issue.record("\(entry.file): no pcap format in the summary")
                continue
            }
            #expect((order == .bigEndian ? "BE" : "LE") == entry.byteOrder, "\(entry.file)")
            #expect(nano == (entry.format == "pcap-ns"), "\(entry.file)")
            // "1(ETHERNET)", or "3145728(reserved-bits-set;low16=0:NULL)".
            let linkText = entry.linkTypes.range(of: "low16=").map { entry.linkTypes[$0.upperBound...] } ?? Substring(entry.linkTypes)
            let expectedLink = UInt32(linkText.prefix { $0.isNumber })
            #expect(summary.interfaces.first?.linkType.rawValue == expectedLink, "\(entry.file)")
            #expect(summary.packets == entry.packets)
        }
    }

    /// pcapng files: the MANIFEST's count (which also counts custom blocks as frames, so files
    /// with them are checked against their block listing in the next test).
    @Test func pcapngFilesMatchTheManifest() throws {
        let entries = corpusManifest.filter { $0.format == "pcapng" }
        #expect(entries.count > 200)
        for entry in entries where !entry.notes.contains("CUSTOM") {
            guard let summary = Self.openAndCheckCount(entry) else { continue }
            guard case .pcapng(let little, let big) = summary?.format else {
                Issue.record("\(entry.file): no pcapng format in the summary")
                continue
            }
            switch entry.byteOrder {
            case "LE": #expect(little > 0 && big == 0, "\(entry.file)")
            case "BE": #expect(big > 0 && little == 0, "\(entry.file)")
            default: #expect(big > 0 && little > 0, "\(entry.file)")
            }
        }
    }

    /// The pcapng conformance files: packets, sections and interfaces as each NAME.txt lists them.
    @Test func pcapngConformanceFilesMatchTheirBlockListings() throws {
        let files = corpusManifest.filter { $0.file.hasPrefix("hadrielk-pcapng-test-generator/") && $0.format == "pcapng" }
        #expect(files.count == 42)
        for entry in files {
            let listing = try String(contentsOfFile: corpusRoot! + "/" + entry.file.replacingOccurrences(of: ".pcapng", with: ".txt"), encoding: .utf8)
            var counts: [String: Int] = [:]
            for line in listing.split(separator: "\n") {
                let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, let value = Int(parts[1]) { counts[parts[0]] = value }
            }
            let (result, summary) = Self.open(entry)
            #expect(result.error == nil, "\(entry.file)")
            #expect(result.packets.count == (counts["EPB"] ?? 0) + (counts["SPB"] ?? 0) + (counts["PB"] ?? 0), "\(entry.file)")
            #expect(summary?.format?.sections == counts["SHB"], "\(entry.file)")
            #expect(summary?.interfaces.count == counts["IDB"] ?? 0, "\(entry.file)")
            #expect(summary?.interfaces.map(\.packets).reduce(0, +) == result.packets.count, "\(entry.file)")
            // Every packet names a declared interface and carries its link type.
            for packet in result.packets {
                #expect(summary?.interfaces[packet.interface].linkType == packet.linkType, "\(entry.file)")
            }
        }
    }

    /// Small windows over the larger corpus files give what whole-file reading gives.
    @Test func smallWindowsOverLargeFiles() throws {
        let large = corpusManifest.filter { $0.packets > 4_000 }.prefix(6)
        #expect(!large.isEmpty)
        for entry in large {
            let path = corpusRoot! + "/" + entry.file
            let whole = readAll(try CaptureFileReader.open(path: path))
            let windowed = readAll(try CaptureFileReader.open(path: path, mapFiles: true, windowSize: 8_192))
            let streamed = readAll(try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: 4_096))
            #expect(windowed.packets == whole.packets, "\(entry.file)")
            #expect(streamed.packets == whole.packets, "\(entry.file)")
            #expect(whole.packets.count == entry.packets || whole.error != nil, "\(entry.file)")
        }
    }
}
