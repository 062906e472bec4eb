// End to end: `flowaudit extract` and `audit --extract` on the sample scenarios. Every finding
// with packets is extracted; the file is read back with the real tcpdump and with `flowaudit
// flows`, and must hold exactly the group's packets and flows: as many packets as the report
// counts and as tcpdump selects from the original capture with the printed filter, the group's
// flows by Community ID.

import Foundation
import Testing

enum Tools {
    /// The full path of `tool` on PATH or in the sbin folders, or nil.
    static func path(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return folders.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// tcpdump (scripts/ensure-deps --test installs it).
    static func tcpdump(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(path("tcpdump"), "tcpdump is not installed: run scripts/ensure-deps --test", sourceLocation: sourceLocation)
    }

    /// The packets tcpdump reads from `file` with `filter` (one line each with -q -nn).
    static func tcpdumpCount(_ file: String, filter: String? = nil) throws -> (count: Int, result: CLIResult) {
        var arguments = ["-nn", "-q", "-r", file]
        if let filter { arguments.append(filter) }
        let result = try CLI.runProcess(try tcpdump(), arguments)
        #expect(result.status == 0, "tcpdump -r \(file) \(filter ?? ""): \(result.stderr)")
        return (result.stdout.split(separator: "\n").count, result)
    }
}

@Suite("flowaudit extract")
struct ExtractCommandTests {
    static let scenarios = MergeCommandTests.scenarios

    @Test("each unexpected group and attempt: exactly its packets, readable by tcpdump and flowaudit flows", arguments: scenarios)
    func groups(scenario: String, file: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = "Captures/\(scenario)/\(file)", site = "Captures/\(scenario)/site.yaml"
        let audit = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--digest", "none"])
        let report = try audit.json()
        let groups = ((report["unexpected"] as? [[String: Any]]) ?? []) + ((report["attempts"] as? [[String: Any]]) ?? [])
        #expect(!groups.isEmpty)
        let text = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--digest", "none"])
        for group in groups {
            let id = try #require(group["id"] as? String)
            #expect(text.stdout.contains("finding: \(id)\n"), "the text report shows \(id)")
            let out = folder.appendingPathComponent("\(id).pcap").path
            let result = try CLI.run("flowaudit", ["extract", capture, "--site", site, "--finding", id, "-w", out])
            #expect(result.status == 0, "\(id): \(result.stderr)")
            // The printed filter: the group's direction (initiator to the responder's port and
            // back), narrower than the report's `filter`, which names the port on either end.
            let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("filter: ") }, "\(result.stdout)")
            let filter = String(line.dropFirst("filter: ".count))
            #expect(filter.contains("src host \(group["initiator"] as? String ?? "?") and dst host \(group["responder"] as? String ?? "?")")
                || !["tcp", "udp"].contains(group["protocol"] as? String ?? ""), "\(filter)")
            // The report's count: the flows' own packets; ICMP errors that refused a flow are
            // written beside them, and tcpdump's filter on the group's ports does not select them.
            let states = (group["states"] as? [String: Int]) ?? [:]
            let (written, _) = try Tools.tcpdumpCount(out)
            #expect(result.stdout.contains("wrote \(written) packets of \(group["flows"] as? Int ?? -1) flow"), "\(result.stdout)")
            if states["unreachable"] == nil {
                #expect(written == group["packets"] as? Int, "\(id): \(written) packets written, the report counts \(group["packets"] ?? "?")")
                let (selected, _) = try Tools.tcpdumpCount(CLI.packageRoot.appendingPathComponent(capture).path, filter: filter)
                #expect(written == selected, "\(id): tcpdump selects \(selected) packets with '\(filter)' from the capture, extract wrote \(written)")
            } else {
                #expect(written > group["packets"] as? Int ?? 0, "\(id): the refusing ICMP errors are written too")
            }
            // flowaudit reads the file back into exactly the group's flows.
            let flows = try CLI.run("flowaudit", ["flows", out, "--format", "json"])
            #expect(flows.status == 0, "\(flows.stderr)")
            let listed = try #require(try flows.json()["flows"] as? [[String: Any]], "\(flows.stdout.prefix(200))")
            let ids = Set(listed.compactMap { $0["community_id"] as? String })
            let expected = Set((group["community_ids"] as? [String]) ?? [])
            #expect(ids == expected, "\(id): flows \(ids) against the report's \(expected)")
        }
    }

    @Test("a blocked rule's refused attempts; pcapng output; unknown finding is exit 2 with the list")
    func blockedRuleAndErrors() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = "Captures/arksspr/capture.pcapng", site = "Captures/arksspr/site.yaml"
        let report = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--digest", "none"]).json()
        let rules = try #require(report["rules"] as? [[String: Any]])
        let blocked = rules.filter { $0["status"] as? String == "blocked" }
        #expect(!blocked.isEmpty)
        for rule in blocked {
            let id = try #require(rule["id"] as? String)
            let out = folder.appendingPathComponent("rule.pcapng").path
            let result = try CLI.run("flowaudit", ["extract", "-r", capture, "--site", site, "--finding", id, "-w", out])
            #expect(result.status == 0, "\(result.stderr)")
            let attempts = try #require(rule["attempted_flows"] as? Int)
            #expect(result.stdout.contains("of \(attempts) flow"), "\(result.stdout)")
            let (count, _) = try Tools.tcpdumpCount(out)
            #expect(count > 0)
            // pcapng: the file's first block is a section header.
            let head = try Data(contentsOf: URL(fileURLWithPath: out)).prefix(4)
            #expect(Array(head) == [0x0A, 0x0D, 0x0D, 0x0A])
            let flows = try CLI.run("flowaudit", ["flows", out, "--format", "json"])
            let listed = try #require(try flows.json()["flows"] as? [[String: Any]])
            #expect(Set(listed.compactMap { $0["community_id"] as? String }) == Set((rule["blocked_community_ids"] as? [String]) ?? []))
        }
        let unknown = try CLI.run("flowaudit", ["extract", capture, "--site", site, "--finding", "U-0000000000", "-w", folder.appendingPathComponent("x.pcap").path])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no finding 'U-0000000000'"))
        #expect(unknown.stderr.contains("(unexpected: "))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.pcap").path))
    }

    @Test("audit --extract DIR: one file per unexpected group, attempt and blocked rule")
    func auditExtract() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = "Captures/remotespark/capture.pcap", site = "Captures/remotespark/site.yaml"
        let result = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--digest", "none", "--extract", folder.path])
        #expect(result.status == 1, "\(result.stderr)")
        let report = try result.json()
        var expected: [String] = []
        for key in ["unexpected", "attempts"] {
            for group in (report[key] as? [[String: Any]]) ?? [] { expected.append("\(group["id"] as? String ?? "?").pcap") }
        }
        for rule in (report["rules"] as? [[String: Any]]) ?? [] where rule["status"] as? String == "blocked" {
            expected.append("blocked-" + (rule["id"] as? String ?? "?").replacingOccurrences(of: "/", with: "_") + ".pcap")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == expected.sorted())
        for name in files {
            let (count, _) = try Tools.tcpdumpCount(folder.appendingPathComponent(name).path)
            #expect(count > 0, "\(name) holds packets")
            #expect(result.stderr.contains("\(name): \(count) packets of "), "\(result.stderr)")
        }
        // A folder that does not exist is a usage error before anything is read.
        let missing = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--extract", folder.appendingPathComponent("nope").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("not a writable folder"))
    }
}
