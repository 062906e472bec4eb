// End to end: `flowaudit merge` over real audit reports of shards of the sample captures. Shards
// that no flow crosses (the sample capture, and copies of it moved a day and two days later)
// merge into exactly the report of auditing the shards together; shards cut through open flows
// keep the packet counts but not the flows (docs/report.md says why); reports of other policies
// are refused; a report merged with itself counts its flows twice and says so.

import Foundation
import Packets
import Testing

/// Capture shards written from a sample capture: packets copied, times moved, as pcap files.
enum Shards {
    struct Packet {
        var timestamp: Int64
        var originalLength: Int
        var linkType: LinkType
        var data: [UInt8]
    }

    /// Every packet of the capture at `path` (absolute, or relative to the package root).
    static func packets(of path: String) throws -> [Packet] {
        let reader = try CaptureFileReader.open(path: path.hasPrefix("/") ? path : CLI.packageRoot.appendingPathComponent(path).path)
        var out: [Packet] = []
        while try reader.nextBatch({ batch, span in
            for record in batch {
                var data: [UInt8] = []
                data.reserveCapacity(record.capturedLength)
                for index in 0..<record.capturedLength { data.append(span[record.dataOffset + index]) }
                out.append(Packet(timestamp: record.timestamp, originalLength: record.originalLength, linkType: record.linkType, data: data))
            }
        }) {}
        return out
    }

    /// Writes `packets` moved by `shift` nanoseconds to a nanosecond pcap file at `url`.
    static func write(_ packets: some Collection<Packet>, shift: Int64 = 0, to url: URL) throws {
        var writer = PcapWriter(linkType: packets.first?.linkType ?? .ethernet, nanosecondTimestamps: true)
        for packet in packets { writer.append(packet.data, timestamp: packet.timestamp + shift, originalLength: packet.originalLength) }
        try writer.write(to: url.path)
    }
}

/// Where two JSON values differ (paths like `rules[3].completed_flows`), for messages.
func jsonDifferences(_ a: Any?, _ b: Any?, path: String = "", into out: inout [String]) {
    guard out.count < 20 else { return }
    switch (a, b) {
    case (let x as [String: Any], let y as [String: Any]):
        for key in Set(x.keys).union(y.keys).sorted() { jsonDifferences(x[key], y[key], path: path + "." + key, into: &out) }
    case (let x as [Any], let y as [Any]):
        if x.count != y.count { out.append("\(path): \(x.count) items against \(y.count)") }
        for index in 0..<min(x.count, y.count) { jsonDifferences(x[index], y[index], path: "\(path)[\(index)]", into: &out) }
    default:
        let x = a.map { "\($0)" } ?? "absent", y = b.map { "\($0)" } ?? "absent"
        if let a = a as? NSObject, let b = b as? NSObject, a.isEqual(b) { return }
        if a == nil && b == nil { return }
        out.append("\(path): \(x.prefix(120)) against \(y.prefix(120))")
    }
}

@Suite("flowaudit merge")
struct MergeCommandTests {
    static let scenarios = [
        ("arksspr", "capture.pcapng"), ("netwrix-privilege-secure", "capture.pcap"),
        ("nextron-analysis-cockpit", "capture.pcapng"), ("remotespark", "capture.pcap"), ("two-products", "capture.pcapng"),
    ]
    static let day: Int64 = 86_400_000_000_000

    /// Audits `captures` (absolute paths) with the scenario's site into `output` as JSON.
    static func audit(_ captures: [String], scenario: String, output: String) throws -> Int32 {
        let result = try CLI.run("flowaudit", ["audit"] + captures + ["--site", "Captures/\(scenario)/site.yaml", "--format", "json", "--output", output])
        #expect([0, 1].contains(result.status), "audit \(captures): \(result.stderr)")
        return result.status
    }

    static func object(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test("shards no flow crosses merge into exactly the audit of all shards together", arguments: scenarios)
    func exactMerge(scenario: String, file: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let packets = try Shards.packets(of: "Captures/\(scenario)/\(file)")
        // The capture, then the same traffic a day and two days later: every flow and every DNS
        // name (TTL plus the hour of grace) of one shard has expired before the next begins.
        var shards: [String] = []
        for index in 0..<3 {
            let url = folder.appendingPathComponent("shard\(index).pcap")
            try Shards.write(packets, shift: Int64(index) * Self.day, to: url)
            shards.append(url.path)
        }
        var reports: [String] = []
        for (index, shard) in shards.enumerated() {
            let report = folder.appendingPathComponent("shard\(index).json").path
            _ = try Self.audit([shard], scenario: scenario, output: report)
            reports.append(report)
        }
        let together = folder.appendingPathComponent("together.json").path
        let togetherStatus = try Self.audit(shards, scenario: scenario, output: together)
        let merged = folder.appendingPathComponent("merged.json").path
        let result = try CLI.run("flowaudit", ["merge"] + reports + ["--format", "json", "--output", merged])
        #expect(result.status == togetherStatus, "merge: \(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")

        // Every field but the command line (the merge's own) is compared.
        var expected = try Self.object(together), actual = try Self.object(merged)
        expected["command_line"] = nil
        actual["command_line"] = nil
        var differences: [String] = []
        jsonDifferences(actual, expected, into: &differences)
        #expect(differences.isEmpty, "merged against together:\n\(differences.joined(separator: "\n"))")
        // Not trivially: the shards found something, three times over.
        let summary = try #require(actual["summary"] as? [String: Any])
        let single = try #require(try Self.object(reports[0])["summary"] as? [String: Any])
        #expect((summary["in_scope_flows"] as? Int) == 3 * ((single["in_scope_flows"] as? Int) ?? -1))
        let groups = try #require(actual["unexpected"] as? [[String: Any]])
        #expect(!groups.isEmpty)
        // The text form says the same verdict.
        let text = try CLI.run("flowaudit", ["merge"] + reports)
        #expect(text.status == togetherStatus)
        #expect(text.stdout.contains("\(actual["verdict"] as? String ?? "?")"))
        #expect(text.stdout.contains("Unexpected flows (completed): \(groups.count)"))
    }

    @Test("one capture split where its traffic pauses: the merge equals the audit of the whole file but for its inputs")
    func splitAtPause() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let packets = try Shards.packets(of: "Captures/two-products/capture.pcapng")
        // One file: the traffic, a pause of a day, the traffic again; split at the pause.
        let later = packets.map { packet -> Shards.Packet in
            var moved = packet
            moved.timestamp += Self.day
            return moved
        }
        let whole = folder.appendingPathComponent("whole.pcap")
        try Shards.write(packets + later, to: whole)
        let cut = packets.map(\.timestamp).max()! + Self.day / 2
        let all = try Shards.packets(of: whole.path)
        let a = folder.appendingPathComponent("a.pcap"), b = folder.appendingPathComponent("b.pcap")
        try Shards.write(all.filter { $0.timestamp < cut }, to: a)
        try Shards.write(all.filter { $0.timestamp >= cut }, to: b)
        let ra = folder.appendingPathComponent("a.json").path, rb = folder.appendingPathComponent("b.json").path
        let rw = folder.appendingPathComponent("whole.json").path
        _ = try Self.audit([a.path], scenario: "two-products", output: ra)
        _ = try Self.audit([b.path], scenario: "two-products", output: rb)
        let status = try Self.audit([whole.path], scenario: "two-products", output: rw)
        let result = try CLI.run("flowaudit", ["merge", ra, rb, "--format", "json"])
        #expect(result.status == status, "\(result.stderr)")
        // The inputs differ by nature (two shard files against one file: paths, digests, sizes,
        // per-file counts); every other field is compared.
        var merged = try result.json(), expected = try Self.object(rw)
        for key in ["command_line", "evidence"] {
            merged[key] = nil
            expected[key] = nil
        }
        var differences: [String] = []
        jsonDifferences(merged, expected, into: &differences)
        #expect(differences.isEmpty, "merged against whole:\n\(differences.joined(separator: "\n"))")
    }

    @Test("shards cut through open flows: packets and bytes add up, flows cut at the boundary are counted in both shards")
    func cutFlows() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let packets = try Shards.packets(of: "Captures/arksspr/capture.pcapng")
        let cut = packets.count / 2
        let a = folder.appendingPathComponent("a.pcap"), b = folder.appendingPathComponent("b.pcap")
        try Shards.write(packets[..<cut], to: a)
        try Shards.write(packets[cut...], to: b)
        let ra = folder.appendingPathComponent("a.json").path, rb = folder.appendingPathComponent("b.json").path
        let together = folder.appendingPathComponent("together.json").path
        _ = try Self.audit([a.path], scenario: "arksspr", output: ra)
        _ = try Self.audit([b.path], scenario: "arksspr", output: rb)
        _ = try Self.audit([a.path, b.path], scenario: "arksspr", output: together)
        let result = try CLI.run("flowaudit", ["merge", ra, rb, "--format", "json"])
        #expect([0, 1].contains(result.status), "\(result.stderr)")
        let merged = try result.json(), whole = try Self.object(together)
        let mergedDecode = try #require(merged["decode"] as? [String: Any]), wholeDecode = try #require(whole["decode"] as? [String: Any])
        // Packets are counted once whatever the cut.
        #expect(mergedDecode["packets"] as? Int == packets.count)
        #expect(mergedDecode["packets"] as? Int == wholeDecode["packets"] as? Int)
        #expect(mergedDecode["decoded"] as? Int == wholeDecode["decoded"] as? Int)
        // A flow open at the cut is two flows to the two audits.
        let mergedFlows = try #require(mergedDecode["flows"] as? Int), wholeFlows = try #require(wholeDecode["flows"] as? Int)
        #expect(mergedFlows > wholeFlows, "the cut at packet \(cut) splits some flow")
        // The inputs are listed as audited together, one after the other.
        let inputs = try #require((merged["evidence"] as? [String: Any])?["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["path"] as? String } == [a.path, b.path])
    }

    @Test("reports of other rules or another site are refused with exit 2")
    func otherPolicy() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ark = folder.appendingPathComponent("ark.json").path, spark = folder.appendingPathComponent("spark.json").path
        _ = try Self.audit([CLI.packageRoot.appendingPathComponent("Captures/arksspr/capture.pcapng").path], scenario: "arksspr", output: ark)
        _ = try Self.audit([CLI.packageRoot.appendingPathComponent("Captures/remotespark/capture.pcap").path], scenario: "remotespark", output: spark)
        let result = try CLI.run("flowaudit", ["merge", ark, spark, "--format", "json"])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(spark) was audited with other rules or another site than \(ark)"), "\(result.stderr)")
        #expect(result.stderr.contains("SHA-256"))

        // Not a report at all: the file and the problem.
        let bogus = folder.appendingPathComponent("bogus.json")
        try Data("{\"version\":1,".utf8).write(to: bogus)
        let bad = try CLI.run("flowaudit", ["merge", ark, bogus.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("\(bogus.path): not a JSON audit report: invalid JSON at byte"), "\(bad.stderr)")
    }

    @Test("a report merged with itself counts its flows twice, rule statuses unchanged, and warns")
    func selfMerge() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = folder.appendingPathComponent("r.json").path
        let status = try Self.audit([CLI.packageRoot.appendingPathComponent("Captures/arksspr/capture.pcapng").path], scenario: "arksspr", output: report)
        let result = try CLI.run("flowaudit", ["merge", report, report, "--format", "json"])
        #expect(result.status == status)
        #expect(result.stderr.contains("both audited Captures/arksspr/capture.pcapng") || result.stderr.contains("its flows are counted twice"), "\(result.stderr)")
        let merged = try result.json(), single = try Self.object(report)
        let m = try #require(merged["summary"] as? [String: Any]), s = try #require(single["summary"] as? [String: Any])
        #expect((m["in_scope_flows"] as? Int) == 2 * ((s["in_scope_flows"] as? Int) ?? -1))
        let mRules = try #require(merged["rules"] as? [[String: Any]]), sRules = try #require(single["rules"] as? [[String: Any]])
        #expect(mRules.map { $0["status"] as? String } == sRules.map { $0["status"] as? String })
        #expect(mRules.map { $0["completed_flows"] as? Int } == sRules.map { ($0["completed_flows"] as? Int).map { $0 * 2 } })
        let mGroups = try #require(merged["unexpected"] as? [[String: Any]]), sGroups = try #require(single["unexpected"] as? [[String: Any]])
        #expect(mGroups.map { $0["id"] as? String } == sGroups.map { $0["id"] as? String })
        #expect(mGroups.map { $0["flows"] as? Int } == sGroups.map { ($0["flows"] as? Int).map { $0 * 2 } })
        #expect((m["counts"] as? [String: Int]) == (s["counts"] as? [String: Int]))
        // Names: one address named in both counts once.
        #expect(m["addresses_with_names"] as? Int == s["addresses_with_names"] as? Int)
    }
}
