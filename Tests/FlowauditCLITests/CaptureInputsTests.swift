// End to end: inputs as tcpdump users have them — gzip and zstd captures, an offline BPF
// filter, several files merged by timestamp, and files given twice.

import Foundation
import PacketBuilder
import Packets
import Testing

@Suite("capture inputs: compression, --filter, merging, duplicates")
struct CaptureInputsTests {
    static let start = FlowsCommandTests.start
    static let second = FlowsCommandTests.second

    // MARK: Helpers

    /// Runs `tool arguments`, its standard output written to `output`.
    static func tool(_ tool: String, _ arguments: [String], output: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments)")
    }

    static func gzip(_ path: String, to output: String) throws {
        try tool("/bin/gzip", ["-c", "-n", path], output: output)
    }

    static func zstd(_ path: String, to output: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd"), "needs the zstd tool (scripts/ensure-deps --test)")
        try tool("/usr/bin/zstd", ["-q", "-c", path], output: output)
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// The flow rows of `flows --format json` on `arguments`, with the result.
    static func flows(_ arguments: [String]) throws -> (rows: [FlowRow], result: CLIResult) {
        let result = try CLI.run("flowaudit", ["flows"] + arguments + ["--format", "json"])
        let flows = try #require(try result.json()["flows"] as? [[String: Any]], "\(result.stderr)")
        return (try flows.map(FlowRow.init(json:)), result)
    }

    static func inputs(_ result: CLIResult, key: String = "inputs") throws -> [[String: Any]] {
        let json = try result.json()
        if let inputs = json["inputs"] as? [[String: Any]] { return inputs }
        let evidence = try #require(json["evidence"] as? [String: Any])
        return try #require(evidence["inputs"] as? [[String: Any]])
    }

    /// The parts of an audit report that are findings: verdict, counts, rules, unexpected
    /// traffic, attempts, advisories (as canonical JSON, keys sorted).
    static func findings(_ result: CLIResult) throws -> [String: Data] {
        let json = try result.json()
        var parts: [String: Data] = [:]
        for key in ["verdict", "rules", "unexpected", "attempts", "advisories", "link_control"] {
            let value = try #require(json[key], "no \(key) in the report")
            parts[key] = try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
        }
        let summary = try #require(json["summary"] as? [String: Any])
        parts["counts"] = try JSONSerialization.data(withJSONObject: summary["counts"] ?? [:], options: [.sortedKeys])
        return parts
    }

    // MARK: Compression

    @Test("gzip and zstd captures, recognised by their magic number whatever their name, give the plain file's flows")
    func compressedFlows() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = FlowsCommandTests.conversations()
        let frames = TimedFrame.merge(conversations.map(\.frames))
        var ng = PcapngWriter()
        let interface = ng.addInterface(linkType: .ethernet, resolution: .nanoseconds)
        for frame in frames { ng.appendEnhancedPacket(interface: interface, timestamp: frame.timestamp, data: frame.frame) }
        for (name, bytes) in [("all.pcap", FlowsCommandTests.pcap(frames)), ("all.pcapng", ng.bytes)] {
            let plain = try FlowsCommandTests.write(bytes, name, in: folder)
            let expected = try Self.flows([plain])
            #expect(expected.result.status == 0 && expected.rows.count == conversations.count)
            let gz = folder.appendingPathComponent(name + ".gz").path
            let zst = folder.appendingPathComponent(name + ".zst").path
            let disguised = folder.appendingPathComponent(name + "-zstd-no-extension").path
            try Self.gzip(plain, to: gz)
            try Self.zstd(plain, to: zst)
            try FileManager.default.copyItem(atPath: zst, toPath: disguised)
            #expect(try Self.bytes(gz).prefix(2) == [0x1F, 0x8B])
            for (path, compression) in [(gz, "gzip"), (zst, "zstd"), (disguised, "zstd")] {
                let (rows, result) = try Self.flows([path])
                #expect(result.status == 0, "\(path): \(result.stderr)")
                #expect(rows == expected.rows, "\(path)")
                let input = try #require(try Self.inputs(result).first)
                #expect(input["compression"] as? String == compression)
                #expect(input["packets"] as? Int == frames.count)
            }
            #expect(try Self.inputs(expected.result).first?["compression"] is NSNull)
            // Standard input too.
            let piped = try CLI.runProcess("/bin/sh", ["-c", "\"$0\" flows - --format csv < \"$1\"", try CLI.executable("flowaudit"), gz])
            let direct = try CLI.run("flowaudit", ["flows", plain, "--format", "csv"])
            #expect(piped.status == 0 && piped.stdout == direct.stdout, "\(piped.stderr)")
        }
    }

    @Test("concatenated gzip members and zstd frames are one capture, as gzip -d and zstd -d read them")
    func concatenatedStreams() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let frames = TimedFrame.merge(FlowsCommandTests.conversations().map(\.frames))
        let whole = FlowsCommandTests.pcap(frames)
        let plain = try FlowsCommandTests.write(whole, "all.pcap", in: folder)
        // Cut the bytes anywhere (inside a record): the members continue each other.
        let cut = whole.count / 2 + 7
        let first = try FlowsCommandTests.write(Array(whole[..<cut]), "first", in: folder)
        let second = try FlowsCommandTests.write(Array(whole[cut...]), "second", in: folder)
        let expected = try Self.flows([plain]).rows
        for (compress, suffix) in [(Self.gzip, "gz"), (Self.zstd, "zst")] as [((String, String) throws -> Void, String)] {
            try compress(first, first + "." + suffix)
            try compress(second, second + "." + suffix)
            let joined = try Self.bytes(first + "." + suffix) + Self.bytes(second + "." + suffix)
            let path = try FlowsCommandTests.write(joined, "joined.pcap." + suffix, in: folder)
            let (rows, result) = try Self.flows([path])
            #expect(result.status == 0, "\(suffix): \(result.stderr)")
            #expect(rows == expected, "\(suffix)")
        }
    }

    @Test("a scenario audited from gzip and zstd gives the plain capture's findings")
    func compressedAudit() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = "arksspr"
        let capture = "Captures/\(system)/\(try ScenarioAuditTests.Expected(system: system).capture)"
        let site = "Captures/\(system)/site.yaml"
        let plain = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
        let expected = try Self.findings(plain)
        let gz = folder.appendingPathComponent("capture.gz").path
        let zst = folder.appendingPathComponent("capture.zst").path
        try Self.gzip(CLI.packageRoot.appendingPathComponent(capture).path, to: gz)
        try Self.zstd(CLI.packageRoot.appendingPathComponent(capture).path, to: zst)
        for path in [gz, zst] {
            let result = try CLI.run("flowaudit", ["audit", path, "--site", site, "--format", "json"])
            #expect(result.status == plain.status, "\(path): \(result.stderr)")
            #expect(try Self.findings(result) == expected, "\(path)")
            let input = try #require(try Self.inputs(result).first)
            // The evidence digest is that of the file as given (compressed).
            #expect((input["size"] as? Int) == (try Self.bytes(path)).count)
        }
    }

    @Test("a truncated gzip capture: the error names the file and offsets, what came before is audited, INCOMPLETE")
    func truncatedGzip() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = "arksspr"
        let capture = CLI.packageRoot.appendingPathComponent("Captures/\(system)/\(try ScenarioAuditTests.Expected(system: system).capture)").path
        let site = "Captures/\(system)/site.yaml"
        let gz = folder.appendingPathComponent("capture.pcapng.gz").path
        try Self.gzip(capture, to: gz)
        let compressed = try Self.bytes(gz)
        let cut = compressed.count * 2 / 3
        let truncated = try FlowsCommandTests.write(Array(compressed[..<cut]), "cut.pcapng.gz", in: folder)

        let whole = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
        let wholePackets = try #require((try whole.json()["decode"] as? [String: Any])?["packets"] as? Int)
        let result = try CLI.run("flowaudit", ["audit", truncated, "--site", site, "--format", "json"])
        #expect(result.status == 3, "INCOMPLETE: \(result.stderr)")
        #expect(result.stderr.contains("cut.pcapng.gz: compressed byte \(cut)"), "\(result.stderr)")
        #expect(result.stderr.contains("ends inside a gzip member"), "\(result.stderr)")
        let report = try result.json()
        let packets = try #require((report["decode"] as? [String: Any])?["packets"] as? Int)
        #expect(packets > 0 && packets < wholePackets, "read up to the cut: \(packets) of \(wholePackets)")
        let completeness = try #require(report["completeness"] as? [String: Any])
        #expect(completeness["status"] as? String == "INCOMPLETE")
        let gaps = try #require(completeness["gaps"] as? [[String: Any]])
        #expect(gaps.contains { $0["kind"] as? String == "unreadable-rest" && ($0["detail"] as? String ?? "").contains("cut.pcapng.gz") })

        // flows: the rows before the cut, then exit 2 with the same message.
        let (rows, flows) = try Self.flows([truncated])
        #expect(flows.status == 2 && !rows.isEmpty)
        #expect(flows.stderr.contains("compressed byte \(cut)"))
    }

    @Test("a corrupt zstd frame after a sound one: the sound frame's packets are read, then the error")
    func corruptZstd() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let frames = TimedFrame.merge(FlowsCommandTests.conversations().map(\.frames))
        let whole = FlowsCommandTests.pcap(frames)
        // Two frames: the file header and the first half of the records, then the rest.
        var offset = 24
        var records = 0
        while records < frames.count / 2 {
            offset += 16 + frames[records].frame.count
            records += 1
        }
        let first = try FlowsCommandTests.write(Array(whole[..<offset]), "first", in: folder)
        let second = try FlowsCommandTests.write(Array(whole[offset...]), "second", in: folder)
        try Self.zstd(first, to: first + ".zst")
        try Self.zstd(second, to: second + ".zst")
        let head = try Self.bytes(first + ".zst")
        var tail = try Self.bytes(second + ".zst")
        for i in 12..<min(tail.count, 40) { tail[i] ^= 0xA5 }  // inside the second frame's first block
        let path = try FlowsCommandTests.write(head + tail, "damaged.pcap.zst", in: folder)
        let (_, result) = try Self.flows([path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("damaged.pcap.zst: compressed byte"), "\(result.stderr)")
        #expect(result.stderr.contains("zstd data is corrupt"), "\(result.stderr)")
        let input = try #require(try Self.inputs(result).first)
        #expect(input["packets"] as? Int == records, "the first frame's records, all of them")
    }

    // MARK: --filter

    @Test("--filter keeps the flows the expression selects and counts the packets it filtered out")
    func filter() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let conversations = FlowsCommandTests.conversations()
        let frames = TimedFrame.merge(conversations.map(\.frames))
        let path = try FlowsCommandTests.write(FlowsCommandTests.pcap(frames), "all.pcap", in: folder)
        // Conversations 1 and 2: 10.1.0.3 (rejected) and 10.1.0.4 (unanswered), TCP.
        let kept = conversations[1].frames.count + conversations[2].frames.count
        let gz = path + ".gz"
        try Self.gzip(path, to: gz)
        for input in [path, gz] {
            let (rows, result) = try Self.flows([input, "--filter", "tcp and (host 10.1.0.3 or host 10.1.0.4)"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Set(rows) == [conversations[1].row, conversations[2].row])
            let summary = try #require(try Self.inputs(result).first)
            #expect(summary["filtered_out"] as? Int == frames.count - kept)
            #expect(summary["packets"] as? Int == frames.count)
        }
        let text = try CLI.run("flowaudit", ["flows", path, "--filter", "udp port 53"])
        #expect(text.stdout.contains("filtered out by --filter: \(frames.count - conversations[6].frames.count) packets"), "\(text.stdout)")
        // Without a filter nothing is filtered out.
        #expect(try Self.inputs(try Self.flows([path]).result).first?["filtered_out"] as? Int == 0)
    }

    @Test("--filter on files of different link types compiles for each (Ethernet and Linux SLL2)")
    func filterAcrossLinkTypes() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ethernet = Conversation().tcpSession(client: Endpoint("10.3.0.1", 40000), server: Endpoint("10.3.0.2", 443), at: Self.start)
        let other = Conversation().udpStream(source: Endpoint("10.3.0.1", 40001), destination: Endpoint("10.3.0.9", 514),
                                             at: Self.start, payloads: [Conversation.filler(count: 10)])
        let sll = Conversation(link: .linuxSLL2()).tcpSession(client: Endpoint("10.3.0.5", 40002), server: Endpoint("10.3.0.6", 22),
                                                              at: Self.start + Self.second)
        let a = try FlowsCommandTests.write(FlowsCommandTests.pcap(TimedFrame.merge([ethernet, other])), "eth.pcap", in: folder)
        var writer = PcapWriter(linkType: .linuxSLL2)
        for frame in sll { writer.append(frame.frame, timestamp: frame.timestamp) }
        let b = try FlowsCommandTests.write(writer.bytes, "sll2.pcap", in: folder)
        let (rows, result) = try Self.flows([a, b, "--filter", "tcp"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Set(rows.map(\.responder)) == ["10.3.0.2", "10.3.0.6"])
        let inputs = try Self.inputs(result)
        #expect(inputs.map { $0["filtered_out"] as? Int } == [other.count, 0])
    }

    @Test("--filter that libpcap cannot compile for a link type met later: exit 2 naming the link type and libpcap's words")
    func filterNotForThisLinkType() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ethernet = Conversation().tcpSession(client: Endpoint("10.3.0.1", 40000), server: Endpoint("10.3.0.2", 443), at: Self.start)
        let sll = Conversation(link: .linuxSLL2()).tcpSession(client: Endpoint("10.3.0.5", 40002), server: Endpoint("10.3.0.6", 22),
                                                              at: Self.start + Self.second)
        let a = try FlowsCommandTests.write(FlowsCommandTests.pcap(ethernet), "eth.pcap", in: folder)
        var writer = PcapWriter(linkType: .linuxSLL2)
        for frame in sll { writer.append(frame.frame, timestamp: frame.timestamp) }
        let b = try FlowsCommandTests.write(writer.bytes, "sll2.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", a, b, "--filter", "ether host 02:00:00:00:00:01"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot be applied to packets of link type 276"), "\(result.stderr)")
        #expect(result.stderr.lowercased().contains("ethernet"), "libpcap's reason: \(result.stderr)")
    }

    @Test("a bad --filter: exit 2 with libpcap's message, for flows and audit, before reading anything")
    func badFilter() throws {
        let capture = "Captures/remotespark/capture.pcap"
        for arguments in [["flows", capture], ["audit", capture, "--site", "Captures/remotespark/site.yaml"]] {
            let result = try CLI.run("flowaudit", arguments + ["--filter", "host 10.0.0.5 andd tcp"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("bad capture filter 'host 10.0.0.5 andd tcp'"), "\(result.stderr)")
            #expect(result.stderr.contains("syntax error"), "libpcap's own words: \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("audit --filter: only the selected traffic is audited, and the report counts the rest")
    func auditFilter() throws {
        let system = "remotespark"
        let capture = "Captures/\(system)/capture.pcap"
        let site = "Captures/\(system)/site.yaml"
        let all = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
        let filtered = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--filter", "not vlan"])
        let decodeAll = try #require(try all.json()["decode"] as? [String: Any])
        let decodeFiltered = try #require(try filtered.json()["decode"] as? [String: Any])
        let input = try #require(try Self.inputs(filtered).first)
        let filteredOut = try #require(input["filtered_out"] as? Int)
        #expect(filteredOut > 0)
        #expect((decodeFiltered["packets"] as? Int ?? -1) + filteredOut == decodeAll["packets"] as? Int)
        #expect((decodeFiltered["flows"] as? Int ?? 0) < (decodeAll["flows"] as? Int ?? 0))
        let text = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--filter", "not vlan"])
        #expect(text.stdout.contains("filtered out by --filter: \(filteredOut) packets"), "\(text.stdout.suffix(800))")
    }

    // MARK: Merging

    /// A TCP session between 10.4.0.1 and 10.4.0.2 split by direction: the client's packets in
    /// one file, the server's in another.
    static func splitSession(in folder: URL, serverLink: Frame = .ethernet()) throws -> (client: String, server: String, whole: String) {
        let session = Conversation().tcpSession(client: Endpoint("10.4.0.1", 40000), server: Endpoint("10.4.0.2", 443), at: start,
                                                clientData: [Conversation.filler(count: 100)], serverData: [Conversation.filler(count: 300)])
        let fromClient = session.filter { Array($0.frame[26..<30]) == [10, 4, 0, 1] }  // IPv4 source after a 14-byte Ethernet header
        let fromServer = session.filter { Array($0.frame[26..<30]) == [10, 4, 0, 2] }
        #expect(fromClient.count + fromServer.count == session.count && !fromServer.isEmpty)
        let whole = try FlowsCommandTests.write(FlowsCommandTests.pcap(session), "whole.pcap", in: folder)
        let client = try FlowsCommandTests.write(FlowsCommandTests.pcap(fromClient), "client.pcap", in: folder)
        var writer = PcapWriter(linkType: serverLink == .ethernet() ? .ethernet : .linuxSLL2)
        for frame in fromServer {
            // The same IP packet behind the server file's link header.
            writer.append(serverLink.wrap(Array(frame.frame[14...]), etherType: 0x0800), timestamp: frame.timestamp)
        }
        let server = try FlowsCommandTests.write(writer.bytes, "server.pcap", in: folder)
        return (client, server, whole)
    }

    @Test("a handshake split across two files (SYN in one, SYN-ACK in the other) is one completed flow once merged by time")
    func mergeByTimestamp() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (client, server, whole) = try Self.splitSession(in: folder)
        let (expected, wholeResult) = try Self.flows([whole])
        #expect(expected == [FlowRow("tcp", "10.4.0.1", 40000, "10.4.0.2", 443, "closed", "syn")])
        let history = try #require((try wholeResult.json()["flows"] as? [[String: Any]])?.first?["history"] as? String)
        #expect(history.hasPrefix("Sh"), "SYN, then the SYN-ACK: \(history)")
        for order in [[client, server], [server, client]] {
            let (rows, result) = try Self.flows(order)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(rows == expected, "\(order.map { URL(fileURLWithPath: $0).lastPathComponent })")
            let json = try result.json()
            #expect((json["flows"] as? [[String: Any]])?.first?["history"] as? String == history)
        }
        // Each file alone is half a conversation: no completed flow.
        #expect(try Self.flows([client]).rows.first?.state != "closed")
    }

    @Test("files of different link types merge: the server's side captured on Linux SLL2")
    func mergeAcrossLinkTypes() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (client, server, whole) = try Self.splitSession(in: folder, serverLink: .linuxSLL2())
        let (rows, result) = try Self.flows([client, server])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(rows == (try Self.flows([whole]).rows))
        let inputs = try Self.inputs(result)
        #expect(inputs.count == 2)
        #expect((inputs[1]["link_types"] as? [[String: Any]])?.first?["link_type"] as? Int == Int(LinkType.linuxSLL2.rawValue))
    }

    @Test("merged files are audited as one capture: the scenario split in two gives the whole capture's findings")
    func mergedAudit() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = "remotespark"
        let capture = "Captures/\(system)/capture.pcap"
        let site = "Captures/\(system)/site.yaml"
        // Every other packet to each file: the two interleave packet by packet.
        let reader = try CaptureFileReader.open(path: CLI.packageRoot.appendingPathComponent(capture).path)
        var even = PcapWriter(linkType: .ethernet), odd = PcapWriter(linkType: .ethernet)
        var index = 0
        while try reader.nextBatch({ batch, bytes in
            for packet in batch {
                var data: [UInt8] = []
                for i in packet.dataRange { data.append(bytes[i]) }
                if index % 2 == 0 {
                    even.append(data, timestamp: packet.timestamp, originalLength: packet.originalLength)
                } else {
                    odd.append(data, timestamp: packet.timestamp, originalLength: packet.originalLength)
                }
                index += 1
            }
        }) {}
        let a = try FlowsCommandTests.write(even.bytes, "even.pcap", in: folder)
        let b = try FlowsCommandTests.write(odd.bytes, "odd.pcap", in: folder)
        let whole = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
        let merged = try CLI.run("flowaudit", ["audit", b, a, "--site", site, "--format", "json"])
        #expect(merged.status == whole.status, "\(merged.stderr)")
        #expect(try Self.findings(merged) == (try Self.findings(whole)))
        let decode = try #require(try merged.json()["decode"] as? [String: Any])
        #expect(decode["packets"] as? Int == index)
        // Each input's decode counts are its own packets'.
        let inputs = try Self.inputs(merged)
        #expect(inputs.map { $0["packets"] as? Int ?? 0 }.reduce(0, +) == index)
        #expect(inputs.map { $0["decoded"] as? Int ?? 0 }.reduce(0, +) == decode["decoded"] as? Int)
    }

    // MARK: Duplicates

    @Test("a file given twice (same path, or a link to it) is read once, with a warning on stderr and in the report")
    func sameFileTwice() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (client, server, _) = try Self.splitSession(in: folder)
        let link = folder.appendingPathComponent("link.pcap").path
        try FileManager.default.linkItem(atPath: client, toPath: link)
        let once = try Self.flows([client, server])
        for (arguments, words) in [([client, server, client], "same path"), (["-r", client, server, link], "same device and inode")] {
            let (rows, result) = try Self.flows(arguments)
            #expect(result.status == 0)
            #expect(rows == once.rows)
            #expect(result.stderr.contains("warning: ") && result.stderr.contains("given twice") && result.stderr.contains(words),
                    "\(result.stderr)")
            let inputs = try Self.inputs(result)
            #expect(inputs.count == 3)
            let warnings = inputs[2]["warnings"] as? [String] ?? []
            #expect(warnings.contains { $0.contains("read once") }, "\(warnings)")
            #expect(inputs[2]["decoded"] as? Int == 0)
        }
    }

    @Test("two files with the same packets (a copy, a compressed copy, a prefix) are read once, with a warning")
    func samePackets() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let system = "remotespark"
        let capture = CLI.packageRoot.appendingPathComponent("Captures/\(system)/capture.pcap").path
        let site = "Captures/\(system)/site.yaml"
        let copy = folder.appendingPathComponent("copy.pcap").path
        try FileManager.default.copyItem(atPath: capture, toPath: copy)
        let gz = folder.appendingPathComponent("copy.pcap.gz").path
        try Self.gzip(capture, to: gz)
        // The first 40 records only.
        let bytes = try Self.bytes(capture)
        var offset = 24
        for _ in 0..<40 {
            let big = bytes[0] == 0xA1
            let field = Array(bytes[(offset + 8)..<(offset + 12)])
            let length = big ? field.reduce(0) { $0 << 8 | Int($1) } : field.reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += 16 + length
        }
        let prefix = try FlowsCommandTests.write(Array(bytes[..<offset]), "prefix.pcap", in: folder)

        let alone = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
        let together = try CLI.run("flowaudit", ["audit", capture, copy, gz, prefix, "--site", site, "--format", "json"])
        #expect(together.status == alone.status, "\(together.stderr)")
        #expect(try Self.findings(together) == (try Self.findings(alone)))
        let decode = try #require(try together.json()["decode"] as? [String: Any])
        #expect(decode["packets"] as? Int == (try alone.json()["decode"] as? [String: Any])?["packets"] as? Int)
        let inputs = try Self.inputs(together)
        let warnings = inputs.map { ($0["warnings"] as? [String] ?? []).joined(separator: " | ") }
        #expect(warnings[0].isEmpty)
        #expect(warnings[1].contains("the same 120 packets as \(capture)"), "\(warnings[1])")
        #expect(warnings[2].contains("the same 120 packets as \(capture)"), "\(warnings[2])")
        #expect(warnings[3].contains("its 40 packets are the first ones of \(capture)"), "\(warnings[3])")
        #expect(together.stderr.contains("copy.pcap.gz: the same 120 packets"), "\(together.stderr)")
        // The text report shows them too.
        let text = try CLI.run("flowaudit", ["audit", capture, copy, "--site", site])
        #expect(text.stdout.contains("copy.pcap: the same 120 packets"), "\(text.stdout.suffix(600))")
    }

    @Test("a file that starts as another and then differs: the shared packets are read once, the rest merged")
    func sharedStart() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shared = Conversation().tcpSession(client: Endpoint("10.5.0.1", 40000), server: Endpoint("10.5.0.2", 443), at: Self.start)
        let extra = Conversation().udpStream(source: Endpoint("10.5.0.1", 40001), destination: Endpoint("10.5.0.3", 514),
                                             at: Self.start + 10 * Self.second, payloads: [Conversation.filler(count: 10)])
        let a = try FlowsCommandTests.write(FlowsCommandTests.pcap(shared), "a.pcap", in: folder)
        let b = try FlowsCommandTests.write(FlowsCommandTests.pcap(shared + extra), "b.pcap", in: folder)
        let (rows, result) = try Self.flows([a, b])
        #expect(result.status == 0)
        #expect(Set(rows) == [FlowRow("tcp", "10.5.0.1", 40000, "10.5.0.2", 443, "closed", "syn"),
                              FlowRow("udp", "10.5.0.1", 40001, "10.5.0.3", 514, "unanswered", "first-packet")])
        #expect(result.stderr.contains("b.pcap: its first \(shared.count) packets are those of"), "\(result.stderr)")
        let inputs = try Self.inputs(result)
        #expect(inputs[1]["decoded"] as? Int == extra.count)
    }
}
