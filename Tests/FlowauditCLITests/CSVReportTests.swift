// End to end: `flowaudit audit --format csv` over the Captures/ scenarios, read back with an
// independent RFC 4180 reader (python3's csv module, strict) and compared with the JSON report.

import Foundation
import Testing

@Suite("audit --format csv")
struct CSVReportTests {
    static let header = ["kind", "finding", "rule", "system", "initiator", "responder", "service", "vlan", "flows",
                         "first_seen", "last_seen", "summary", "evidence", "community_ids", "filter"]

    /// The records of a CSV text, as python3's csv module reads them (strict: a stray quote is an error).
    static func records(_ text: Data) throws -> [[String]] {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("findings.csv")
        try text.write(to: file)
        let script = "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))))"
        let result = try CLI.runProcess("/usr/bin/env", ["python3", "-c", script, file.path])
        #expect(result.status == 0, "python3 csv: \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [[String]])
    }

    /// Records as dictionaries by column name.
    static func rows(_ records: [[String]]) -> [[String: String]] {
        records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test("a header row, then one row per finding", arguments: ScenarioAuditTests.systems)
    func scenario(system: String) throws {
        let expected = try ScenarioAuditTests.Expected(system: system)
        let arguments = ["audit", "Captures/\(system)/\(expected.capture)", "--site", "Captures/\(system)/site.yaml", "--digest", "none"]
        let result = try CLI.run("flowaudit", arguments + ["--format", "csv"])
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        // Records end in CRLF (RFC 4180); the output ends with one.
        #expect(result.stdout.hasPrefix(Self.header.joined(separator: ",") + "\r\n"))
        #expect(result.stdout.hasSuffix("\r\n"))
        let records = try Self.records(result.stdoutData)
        #expect(records.first == Self.header)
        #expect(records.allSatisfy { $0.count == Self.header.count }, "every record has \(Self.header.count) fields")
        let rows = Self.rows(records)
        let json = try CLI.run("flowaudit", arguments + ["--format", "json"]).json()

        // Rules: exactly the findings, with their evidence (a multi-line field).
        let findings = expected.rules.filter { ["missing", "blocked", "partial"].contains($0.value) }
        let ruleRows = rows.filter { $0["kind"] == "rule" }
        #expect(Dictionary(uniqueKeysWithValues: ruleRows.map { ($0["rule"] ?? "", $0["finding"] ?? "") }) == findings)
        for row in ruleRows {
            let evidence = row["evidence"] ?? ""
            #expect(evidence.hasPrefix("rule: \(row["rule"] ?? "?")") && evidence.contains("\npurpose: "), "evidence of \(row["rule"] ?? "?")")
            #expect(row["summary"]?.hasPrefix("\(row["finding"] ?? "?"):") == true)
            if row["finding"] == "blocked" {
                #expect(!(row["initiator"] ?? "").isEmpty && !(row["community_ids"] ?? "").isEmpty, "a blocked rule names a refused flow")
            }
        }

        // Groups: the same as the JSON report's, with their filters.
        for (kind, list) in [("unexpected", expected.unexpected), ("attempt", expected.attempts)] {
            let groupRows = rows.filter { $0["kind"] == kind }
            let keys = groupRows.map { "\($0["initiator"] ?? "") -> \($0["responder"] ?? "") \($0["service"] ?? "")" }
            #expect(keys.sorted() == list.sorted(), "\(kind) rows")
            let jsonGroups = try #require(json[kind == "unexpected" ? "unexpected" : "attempts"] as? [[String: Any]])
            for group in jsonGroups {
                let key = try ScenarioAuditTests.key(group)
                let row = groupRows.first { "\($0["initiator"] ?? "") -> \($0["responder"] ?? "") \($0["service"] ?? "")" == key }
                #expect(row?["filter"] == group["filter"] as? String, "filter of \(key)")
                #expect(row?["flows"] == "\(group["flows"] as? Int ?? -1)", "flows of \(key)")
                #expect(row?["vlan"] == ((group["vlan"] as? Int).map(String.init) ?? ""), "vlan of \(key)")
            }
        }

        let advisoryRows = rows.filter { $0["kind"] == "advisory" }
        let advisories = advisoryRows.map { "\($0["finding"] ?? "") \($0["initiator"] ?? "") -> \($0["responder"] ?? "")" }
        #expect(advisories.sorted() == expected.advisories)
        #expect(rows.count == ruleRows.count + expected.unexpected.count + expected.attempts.count + expected.advisories.count)
    }

    @Test("fields with commas, double quotes and line breaks are quoted as RFC 4180 asks")
    func quoting() throws {
        // A rule file whose missing rule's purpose holds a double quote and a comma.
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var rules = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Rules/remotespark.yaml"), encoding: .utf8)
        let original = "    purpose: CDN endpoint\n"
        #expect(rules.contains(original))
        rules = rules.replacingOccurrences(of: original, with: "    purpose: 'CDN \"edge\", item 1'\n")
        let rulesFile = folder.appendingPathComponent("remotespark.yaml")
        try rules.write(to: rulesFile, atomically: true, encoding: .utf8)
        var site = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
        site = site.replacingOccurrences(of: "../../Rules/remotespark.yaml", with: rulesFile.path)
        let siteFile = folder.appendingPathComponent("site.yaml")
        try site.write(to: siteFile, atomically: true, encoding: .utf8)

        let result = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", siteFile.path, "--format", "csv", "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("purpose: CDN \"\"edge\"\", item 1"), "the quote is doubled inside a quoted field")
        let rows = Self.rows(try Self.records(result.stdoutData))
        let cdn = try #require(rows.first { $0["rule"] == "remotespark/cdn" })
        #expect(cdn["finding"] == "missing")
        #expect(cdn["evidence"]?.components(separatedBy: "\n").contains { $0.hasPrefix("purpose: CDN \"edge\", item 1 — ") } == true,
                "evidence: \(cdn["evidence"] ?? "none")")
    }

    @Test("a capture with nothing in scope is one no-scope row")
    func noScope() throws {
        let result = try CLI.run("flowaudit", ["audit", "Captures/arksspr/capture.pcapng", "--site", "Captures/remotespark/site.yaml",
                                               "--format", "csv", "--digest", "none"])
        #expect(result.status == 1)
        let rows = Self.rows(try Self.records(result.stdoutData))
        #expect(rows.filter { $0["finding"] == "no-scope" }.count == 1)
    }
}
