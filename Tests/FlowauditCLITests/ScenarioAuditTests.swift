// End to end: `flowaudit audit` over each Captures/<system>/ scenario must report exactly the
// findings its expected.json lists (written by the generator from what it injected), and the
// committed scenarios must be what the generator writes today.

import Foundation
import Testing

@Suite("Captures/ scenarios")
struct ScenarioAuditTests {
    static let systems = ["arksspr", "netwrix-privilege-secure", "nextron-analysis-cockpit", "remotespark"]

    struct Expected {
        var capture: String
        var exitStatus: Int
        var counts: [String: Int]
        var inScopeFlows: Int
        var outOfScopeFlows: Int
        var rules: [String: String]
        var hostsMissing: [String: [String]]
        var unexpected: Set<String>
        var attempts: Set<String>
        var advisories: Set<String>

        init(system: String) throws {
            let url = CLI.packageRoot.appendingPathComponent("Captures/\(system)/expected.json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            capture = try #require(object["capture"] as? String)
            exitStatus = try #require(object["exit_status"] as? Int)
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
            self.advisories = Set(try advisories.map { advisory in
                "\(try #require(advisory["kind"] as? String)) \(try #require(advisory["initiator"] as? String)) -> \(try #require(advisory["responder"] as? String))"
            })
        }
    }

    /// `initiator -> responder service` for each group of a JSON array.
    static func groups(_ value: Any?) throws -> Set<String> {
        let list = try #require(value as? [[String: Any]])
        return Set(try list.map { group in
            "\(try #require(group["initiator"] as? String)) -> \(try #require(group["responder"] as? String)) \(try #require(group["service"] as? String))"
        })
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

        #expect(try Self.groups(report["unexpected"]) == expected.unexpected)
        #expect(try Self.groups(report["attempts"]) == expected.attempts)

        let advisories = try #require(report["advisories"] as? [[String: Any]])
        let found = Set(try advisories.map { advisory in
            let example = try #require(advisory["example"] as? [String: Any])
            return "\(try #require(advisory["kind"] as? String)) \(try #require(example["initiator"] as? String)) -> \(try #require(example["responder"] as? String))"
        })
        #expect(found == expected.advisories)

        let summary = try #require(report["summary"] as? [String: Any])
        // no-scope counts 1 only for a capture with nothing in scope, which no sample is.
        #expect((summary["counts"] as? [String: Int])?.filter { $0.key != "no-scope" } == expected.counts)
        #expect(report["verdict"] as? String == (expected.exitStatus == 1 ? "FAIL" : "PASS"))
        #expect(summary["exit_status"] as? Int == expected.exitStatus)
        #expect(summary["in_scope_flows"] as? Int == expected.inScopeFlows)
        #expect(summary["out_of_scope_flows"] as? Int == expected.outOfScopeFlows)
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
