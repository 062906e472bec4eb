// End to end: `flowaudit audit` over each Captures/<system>/ scenario must report exactly the
// findings its expected.json lists (written by the generator from what it injected), and the
// committed scenarios must be what the generator writes today.

import Foundation
import Testing

@Suite("Captures/ scenarios")
struct ScenarioAuditTests {
    static let systems = ["arksspr", "netwrix-privilege-secure", "nextron-analysis-cockpit", "remotespark", "two-products"]

    /// Link control kinds the issue 8 schema names (`link_control.by_kind`); other kinds the
    /// scenarios inject (mld, igmp, dhcpv6, mdns) are checked through the packet count only.
    static let namedLinkControlKinds: Set<String> = ["arp", "dhcp", "icmpv6-nd"]

    struct Expected {
        var capture: String
        var verdict: String
        var exitStatus: Int
        var linkControlPackets: Int
        var linkControlKinds: [String]
        /// Expected qualified roles of the unexpected groups that list them, by `initiator -> responder service`.
        var groupRoles: [String: (initiator: Set<String>, responder: Set<String>)]
        var counts: [String: Int]
        var inScopeFlows: Int
        var outOfScopeFlows: Int
        var rules: [String: String]
        var hostsMissing: [String: [String]]
        var unexpected: [String]
        var attempts: [String]
        var advisories: [String]

        init(system: String) throws {
            let url = CLI.packageRoot.appendingPathComponent("Captures/\(system)/expected.json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            capture = try #require(object["capture"] as? String)
            verdict = try #require(object["verdict"] as? String)
            exitStatus = try #require(object["exit_status"] as? Int)
            let linkControl = try #require(object["link_control"] as? [String: Any])
            linkControlPackets = try #require(linkControl["packets"] as? Int)
            linkControlKinds = try #require(linkControl["kinds"] as? [String])
            groupRoles = [:]
            for group in try #require(object["unexpected"] as? [[String: Any]]) {
                guard let initiatorRoles = group["initiator_roles"] as? [String], let responderRoles = group["responder_roles"] as? [String] else { continue }
                groupRoles[try ScenarioAuditTests.key(group)] = (Set(initiatorRoles), Set(responderRoles))
            }
            counts = try #require(object["counts"] as? [String: Int])
            inScopeFlows = try #require(object["in_scope_flows"] as? Int)
            outOfScopeFlows = try #require(object["out_of_scope_flows"] as? Int)
            let rules = try #require(object["rules"] as? [[String: Any]])
            self.rules = [:]
            hostsMissing = [:]
            for rule in rules {
                let id = try #require(rule["id"] as? String)
                self.rules[id] = try #require(rule["status"] as? String)
                hostsMissing[id] = try #require(rule["hosts_missing"] as? [String])
            }
            unexpected = try ScenarioAuditTests.groups(object["unexpected"])
            attempts = try ScenarioAuditTests.groups(object["attempts"])
            let advisories = try #require(object["advisories"] as? [[String: Any]])
            self.advisories = try advisories.map { advisory in
                "\(try #require(advisory["kind"] as? String)) \(try #require(advisory["initiator"] as? String)) -> \(try #require(advisory["responder"] as? String))"
            }.sorted()
        }
    }

    /// `initiator -> responder service` of one group.
    static func key(_ group: [String: Any]) throws -> String {
        "\(try #require(group["initiator"] as? String)) -> \(try #require(group["responder"] as? String)) \(try #require(group["service"] as? String))"
    }

    /// `initiator -> responder service` for each group of a JSON array, sorted: a group listed
    /// twice is an error, so the lists are compared with their repetitions.
    static func groups(_ value: Any?) throws -> [String] {
        let list = try #require(value as? [[String: Any]])
        return try list.map(key).sorted()
    }

    @Test("the audit reports exactly the expected findings", arguments: systems)
    func auditMatchesExpected(system: String) throws {
        let expected = try Expected(system: system)
        let folder = "Captures/\(system)"
        let result = try CLI.run("flowaudit", ["audit", "\(folder)/\(expected.capture)", "--site", "\(folder)/site.yaml", "--format", "json"])
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        let report = try result.json()

        let rules = try #require(report["rules"] as? [[String: Any]])
        var statuses: [String: String] = [:]
        var missing: [String: [String]] = [:]
        for rule in rules {
            let id = try #require(rule["id"] as? String)
            statuses[id] = rule["status"] as? String
            missing[id] = rule["hosts_missing"] as? [String] ?? []
        }
        #expect(statuses == expected.rules)
        #expect(missing == expected.hostsMissing)

        #expect(try Self.groups(report["unexpected"]) == expected.unexpected.sorted())
        #expect(try Self.groups(report["attempts"]) == expected.attempts.sorted())

        // Roles are shown qualified (system.role), each product's roles apart.
        let groups = try #require(report["unexpected"] as? [[String: Any]])
        for (key, roles) in expected.groupRoles {
            let group = try #require(try groups.first { try Self.key($0) == key }, "no unexpected group \(key)")
            #expect(Set(group["initiator_roles"] as? [String] ?? []) == roles.initiator, "initiator roles of \(key)")
            #expect(Set(group["responder_roles"] as? [String] ?? []) == roles.responder, "responder roles of \(key)")
        }

        // One advisory per (kind, flow group): the list is compared with its repetitions.
        let advisories = try #require(report["advisories"] as? [[String: Any]])
        let found = try advisories.map { advisory in
            let example = try #require(advisory["example"] as? [String: Any])
            return "\(try #require(advisory["kind"] as? String)) \(try #require(example["initiator"] as? String)) -> \(try #require(example["responder"] as? String))"
        }.sorted()
        #expect(found == expected.advisories)

        // The verdict follows from the findings; link control is counted apart, never unexpected.
        #expect(report["verdict"] as? String == expected.verdict)
        let linkControl = try #require(report["link_control"] as? [String: Any], "the report has no link_control section")
        #expect(linkControl["packets"] as? Int == expected.linkControlPackets)
        let byKind = linkControl["by_kind"] as? [String: Int] ?? [:]
        for kind in expected.linkControlKinds where Self.namedLinkControlKinds.contains(kind) {
            #expect((byKind[kind] ?? 0) > 0, "link_control.by_kind has no \(kind): \(byKind)")
        }

        let summary = try #require(report["summary"] as? [String: Any])
        // no-scope counts 1 only for a capture with nothing in scope, which no sample is.
        #expect((summary["counts"] as? [String: Int])?.filter { $0.key != "no-scope" } == expected.counts)
        #expect(report["verdict"] as? String == (expected.exitStatus == 1 ? "FAIL" : "PASS"))
        #expect(summary["exit_status"] as? Int == expected.exitStatus)
        #expect(summary["in_scope_flows"] as? Int == expected.inScopeFlows)
        #expect(summary["out_of_scope_flows"] as? Int == expected.outOfScopeFlows)
    }

    @Test("one thread and two give the same reports, the command line aside", arguments: systems)
    func threadsGiveTheSameReport(system: String) throws {
        let expected = try Expected(system: system)
        let folder = "Captures/\(system)"
        let base = ["audit", "\(folder)/\(expected.capture)", "--site", "\(folder)/site.yaml"]
        for format in ["text", "json", "csv"] {
            var reports: [String] = []
            for threads in ["1", "2"] {
                let result = try CLI.run("flowaudit", base + ["--format", format, "--threads", threads])
                #expect(Int(result.status) == expected.exitStatus, "--threads \(threads): \(result.stderr)")
                // The command line is the one field that names the option.
                reports.append(result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.contains("--threads") }.joined(separator: "\n"))
            }
            #expect(reports[0] == reports[1], "\(format) reports differ between --threads 1 and 2")
            #expect(reports[0].count > 200)
        }
    }

    @Test("the text report exits with the same status", arguments: systems)
    func textReportExitStatus(system: String) throws {
        let expected = try Expected(system: system)
        let folder = "Captures/\(system)"
        let result = try CLI.run("flowaudit", ["audit", "\(folder)/\(expected.capture)", "--site", "\(folder)/site.yaml"])
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        for (id, status) in expected.rules where status == "missing" || status == "blocked" || status == "partial" {
            #expect(result.stdout.contains("\(status.uppercased())   \(id)"), "the text report lists \(id) as \(status)")
        }
        // Hosts are named as the site names them.
        for (id, hosts) in expected.hostsMissing where !hosts.isEmpty {
            #expect(result.stdout.contains("hosts missing: \(hosts.joined(separator: ", "))"), "the text report names the hosts \(id) misses")
        }
        // The verdict line follows from the findings: never PASS above a list of findings.
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(expected.verdict) }, "no line starts with \(expected.verdict)")
        if expected.verdict != "PASS" {
            #expect(!lines.contains { $0.hasPrefix("PASS") }, "a PASS line in a \(expected.verdict) report")
        }
    }

    @Test("regenerating the scenarios gives the committed files byte for byte")
    func regenerationIsIdentical() throws {
        let output = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try CLI.run("flowaudit-gen", ["scenarios", "--output", output.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let captures = CLI.packageRoot.appendingPathComponent("Captures")
        let committed = try FileManager.default.contentsOfDirectory(atPath: captures.path)
            .filter { name in
                (try? captures.appendingPathComponent(name).resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true
            }
        #expect(Set(committed) == Set(Self.systems))
        let index = try Data(contentsOf: captures.appendingPathComponent("README.md"))
        #expect(index == (try Data(contentsOf: output.appendingPathComponent("README.md"))), "Captures/README.md differs from what flowaudit-gen writes")
        for system in Self.systems {
            let old = captures.appendingPathComponent(system), new = output.appendingPathComponent(system)
            let oldFiles = try FileManager.default.contentsOfDirectory(atPath: old.path).sorted()
            let newFiles = try FileManager.default.contentsOfDirectory(atPath: new.path).sorted()
            #expect(oldFiles == newFiles, "files of \(system)")
            for file in newFiles {
                let a = try Data(contentsOf: old.appendingPathComponent(file))
                let b = try Data(contentsOf: new.appendingPathComponent(file))
                #expect(a == b, "Captures/\(system)/\(file) differs from what flowaudit-gen scenarios writes; run it and commit")
            }
            // Small enough to keep in the repository.
            for file in newFiles where file.hasPrefix("capture.") {
                let size = try #require(try FileManager.default.attributesOfItem(atPath: new.appendingPathComponent(file).path)[.size] as? Int)
                #expect(size < 200_000, "\(system)/\(file) is \(size) bytes")
            }
        }
    }

    @Test("the generator rejects an unknown system and names the known ones")
    func unknownSystem() throws {
        let result = try CLI.run("flowaudit-gen", ["scenarios", "--output", "/nonexistent-never-written", "--system", "nope"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown system 'nope'; the scenarios are \(Self.systems.joined(separator: ", "))"), "stderr: \(result.stderr)")
    }
}
