// End to end: `flowaudit audit --format sarif` over the Captures/ scenarios: every finding is a
// result at the line of the rule (or of the site's role binding) that produced it.

import Foundation
import Testing

@Suite("audit --format sarif")
struct SARIFReportTests {
    static func audit(_ arguments: [String]) throws -> (sarif: CLIResult, log: [String: Any], run: [String: Any]) {
        let result = try CLI.run("flowaudit", arguments + ["--format", "sarif"])
        let log = try result.json()
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        return (result, log, try #require(runs.first))
    }

    /// The lines of a file of the package.
    static func lines(_ path: String) throws -> [String] {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : CLI.packageRoot.appendingPathComponent(path)
        return try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
    }

    /// (uri, startLine, startColumn) of a location object.
    static func place(_ location: [String: Any]?) throws -> (uri: String, line: Int, column: Int) {
        let physical = try #require(location?["physicalLocation"] as? [String: Any])
        let artifact = try #require(physical["artifactLocation"] as? [String: Any])
        let region = try #require(physical["region"] as? [String: Any])
        return (try #require(artifact["uri"] as? String), try #require(region["startLine"] as? Int), try #require(region["startColumn"] as? Int))
    }

    /// The text at a line and column (both 1-based) of a file.
    static func text(at line: Int, _ column: Int, of file: String) throws -> String {
        let lines = try lines(file)
        #expect(line >= 1 && line <= lines.count, "line \(line) of \(file)")
        guard line >= 1 && line <= lines.count else { return "" }
        return String(lines[line - 1].unicodeScalars.dropFirst(column - 1))
    }

    @Test("each finding is a result at its rule's line, or at the site's role binding", arguments: ScenarioAuditTests.systems)
    func scenario(system: String) throws {
        let expected = try ScenarioAuditTests.Expected(system: system)
        let site = "Captures/\(system)/site.yaml"
        let arguments = ["audit", "Captures/\(system)/\(expected.capture)", "--site", site]
        let (result, log, run) = try Self.audit(arguments)
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        let json = try CLI.run("flowaudit", arguments + ["--format", "json"]).json()
        #expect(log["version"] as? String == "2.1.0")

        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "flowaudit")
        let descriptors = try #require(driver["rules"] as? [[String: Any]])
        let ids = descriptors.compactMap { $0["id"] as? String }
        #expect(Set(ids).count == ids.count, "rule ids are unique")
        #expect(Set(expected.rules.keys).isSubset(of: Set(ids)), "every rule of the scenario is a reporting descriptor")

        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["exitCode"] as? Int == expected.exitStatus)
        #expect(invocation["executionSuccessful"] as? Bool == true)

        let results = try #require(run["results"] as? [[String: Any]])
        var fingerprints: Set<String> = []
        for r in results {
            // ruleIndex points at the descriptor of ruleId; every result has a fingerprint of its own.
            let index = try #require(r["ruleIndex"] as? Int)
            #expect(index < ids.count && ids[index] == r["ruleId"] as? String)
            let fingerprint = try #require((r["partialFingerprints"] as? [String: String])?["flowauditFinding/v1"])
            #expect(fingerprints.insert(fingerprint).inserted, "fingerprint \(fingerprint) is used twice")
            #expect((r["message"] as? [String: Any])?["text"] as? String != nil)
        }

        // Rule findings: the rule's `- id:` line in its rule file, the site's bindings related.
        let files = Dictionary(uniqueKeysWithValues: (json["systems"] as? [[String: Any]] ?? []).compactMap { s in
            (s["system"] as? String).flatMap { name in (s["file"] as? String).map { (name, $0) } }
        })
        let findings = expected.rules.filter { ["missing", "blocked", "partial"].contains($0.value) }
        let ruleResults = results.filter { ($0["ruleId"] as? String)?.contains("/") == true }
        #expect(Set(ruleResults.compactMap { $0["ruleId"] as? String }) == Set(findings.keys))
        #expect(ruleResults.count == findings.count)
        for r in ruleResults {
            let id = try #require(r["ruleId"] as? String)
            #expect(r["level"] as? String == "error")
            let (uri, line, column) = try Self.place((r["locations"] as? [[String: Any]])?.first)
            let system = String(id.prefix { $0 != "/" }), localID = String(id.drop { $0 != "/" }.dropFirst())
            #expect(uri == files[system], "\(id) is located in its rule file")
            #expect(try Self.text(at: line, column, of: uri).hasPrefix("id: \(localID)"), "\(id) at \(uri):\(line):\(column)")
            let related = r["relatedLocations"] as? [[String: Any]] ?? []
            #expect(!related.isEmpty, "\(id) has the site's bindings of its roles")
            for location in related {
                let (siteURI, siteLine, siteColumn) = try Self.place(location)
                #expect(siteURI == site)
                let role = try #require(((location["message"] as? [String: Any])?["text"] as? String)?.components(separatedBy: " ").last)
                let local = String(role.drop { $0 != "." }.dropFirst())
                let at = try Self.text(at: siteLine, siteColumn, of: siteURI)
                #expect(at.hasPrefix("\(local):") || at.hasPrefix("\(role):"), "binding of \(role) at \(siteURI):\(siteLine): \(at)")
            }
        }

        // Unexpected groups (errors) and refused attempts (notes), at a site binding of a role
        // of the group, or at the site's `site:` line when the group holds no role.
        for (key, level, ruleID, count) in [("unexpected", "error", "unexpected-traffic", expected.unexpected.count),
                                            ("attempts", "note", "refused-attempt", expected.attempts.count)] {
            let matching = results.filter { $0["ruleId"] as? String == ruleID }
            #expect(matching.count == count, "\(key) results")
            let groups = try #require(json[key] as? [[String: Any]])
            for r in matching {
                #expect(r["level"] as? String == level)
                let text = try #require((r["message"] as? [String: Any])?["text"] as? String)
                let group = try #require(try groups.first { text.hasPrefix(try ScenarioAuditTests.key($0)) }, "a group for \(text)")
                let roles = (group["responder_roles"] as? [String] ?? []) + (group["initiator_roles"] as? [String] ?? [])
                let (uri, line, column) = try Self.place((r["locations"] as? [[String: Any]])?.first)
                #expect(uri == site)
                let at = try Self.text(at: line, column, of: uri)
                if roles.isEmpty {
                    #expect(at.hasPrefix("site:"), "\(text) at \(uri):\(line): \(at)")
                } else {
                    #expect(roles.contains { role in at.hasPrefix(String(role.drop { $0 != "." }.dropFirst()) + ":") || at.hasPrefix(role + ":") },
                            "\(text) at \(uri):\(line): \(at)")
                }
            }
        }

        let advisories = results.filter { $0["level"] as? String == "warning" }
        #expect(advisories.count == expected.advisories.count)
        let kinds = Set((json["advisories"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
        #expect(Set(advisories.compactMap { $0["ruleId"] as? String }) == kinds)

        // The evidence manifest: the capture and the policy files with their SHA-256.
        let artifacts = try #require(run["artifacts"] as? [[String: Any]])
        let inputs = try #require((json["evidence"] as? [String: Any])?["inputs"] as? [[String: Any]])
        for input in inputs {
            let path = try #require(input["path"] as? String)
            let artifact = artifacts.first { ($0["location"] as? [String: Any])?["uri"] as? String == path }
            #expect((artifact?["hashes"] as? [String: String])?["sha-256"] == input["sha256"] as? String, "digest of \(path)")
        }
    }

    @Test("a capture with nothing in scope is a no-scope result at the site")
    func noScope() throws {
        let (result, _, run) = try Self.audit(["audit", "Captures/arksspr/capture.pcapng", "--site", "Captures/remotespark/site.yaml", "--digest", "none"])
        #expect(result.status == 1)
        let results = try #require(run["results"] as? [[String: Any]])
        let scope = try #require(results.first { $0["ruleId"] as? String == "no-scope" })
        #expect(scope["level"] as? String == "error")
        let (uri, line, column) = try Self.place((scope["locations"] as? [[String: Any]])?.first)
        #expect(uri == "Captures/remotespark/site.yaml")
        #expect(try Self.text(at: line, column, of: uri).hasPrefix("site: "))
    }

    @Test("paths outside the working folder are file URIs, percent-encoded")
    func uris() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("my site #1%.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "../../Rules/remotespark.yaml", with: CLI.packageRoot.appendingPathComponent("Rules/remotespark.yaml").path)
        try text.write(to: site, atomically: true, encoding: .utf8)
        let (result, _, run) = try Self.audit(["audit", "Captures/remotespark/capture.pcap", "--site", site.path, "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let results = try #require(run["results"] as? [[String: Any]])
        let unexpected = try #require(results.first { $0["ruleId"] as? String == "unexpected-traffic" })
        let uri = try Self.place((unexpected["locations"] as? [[String: Any]])?.first).uri
        #expect(uri.hasPrefix("file:///") && uri.hasSuffix("/my%20site%20%231%25.yaml"), "uri \(uri)")
        #expect(URL(string: uri)?.path == site.path)
        // Rule files under the working folder stay relative to SRCROOT.
        let rule = try #require(results.first { ($0["ruleId"] as? String)?.contains("/") == true })
        #expect(try Self.place((rule["locations"] as? [[String: Any]])?.first).uri == "Rules/remotespark.yaml")
    }

    /// The OASIS SARIF 2.1.0 JSON schema, which `scripts/ensure-deps --test` fetches into
    /// .build/schemas/ (the project ships no copy), or FLOWAUDIT_SARIF_SCHEMA. Checked with
    /// python3's jsonschema.
    static let schema = CLI.schema("sarif-schema-2.1.0.json", environment: "FLOWAUDIT_SARIF_SCHEMA")

    @Test("valid against the SARIF 2.1.0 JSON schema", .enabled(if: schema != nil, "no SARIF schema: run scripts/ensure-deps --test"),
          arguments: ScenarioAuditTests.systems)
    func schemaValid(system: String) throws {
        let schema = try #require(Self.schema)
        let expected = try ScenarioAuditTests.Expected(system: system)
        let (result, _, _) = try Self.audit(["audit", "Captures/\(system)/\(expected.capture)", "--site", "Captures/\(system)/site.yaml"])
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.sarif")
        try result.stdoutData.write(to: file)
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); log = json.load(open(sys.argv[2]))
            jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker()).validate(log)
            print("valid")
            """
        let check = try CLI.runProcess("/usr/bin/env", ["python3", "-c", script, schema, file.path])
        #expect(check.status == 0 && check.stdout.contains("valid"), "jsonschema: \(check.stderr.suffix(2000))")
    }
}
