// End to end: `flowaudit audit --format junit` over the Captures/ scenarios, read back as XML and
// compared with the JSON report of the same audit.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// A JUnit document, read back.
struct JUnitDocument {
    var root: XMLElement

    init(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let document = try XMLDocument(xmlString: text, options: [])
        root = try #require(document.rootElement(), sourceLocation: sourceLocation)
    }

    var suites: [XMLElement] { root.elements(forName: "testsuite") }

    func suite(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> XMLElement {
        try #require(suites.first { $0.attr("name") == name }, "no testsuite \(name)", sourceLocation: sourceLocation)
    }
}

extension XMLElement {
    func attr(_ name: String) -> String? { attribute(forName: name)?.stringValue }
    func int(_ name: String) -> Int? { attr(name).flatMap { Int($0) } }
    var cases: [XMLElement] { elements(forName: "testcase") }
    func child(_ name: String) -> XMLElement? { elements(forName: name).first }
}

@Suite("audit --format junit")
struct JUnitReportTests {
    /// The audit of one scenario as JUnit, and the same audit as JSON.
    static func audit(_ system: String, _ extra: [String] = []) throws -> (junit: CLIResult, json: [String: Any]) {
        let expected = try ScenarioAuditTests.Expected(system: system)
        let arguments = ["audit", "Captures/\(system)/\(expected.capture)", "--site", "Captures/\(system)/site.yaml", "--digest", "none"] + extra
        let junit = try CLI.run("flowaudit", arguments + ["--format", "junit"])
        let json = try CLI.run("flowaudit", arguments + ["--format", "json"]).json()
        return (junit, json)
    }

    @Test("one testcase per rule, unexpected group, attempt and advisory; counts add up", arguments: ScenarioAuditTests.systems)
    func scenario(system: String) throws {
        let expected = try ScenarioAuditTests.Expected(system: system)
        let (result, report) = try Self.audit(system)
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        let doc = try JUnitDocument(result.stdout)
        #expect(doc.root.name == "testsuites")

        // Counts on every <testsuite> and on <testsuites> are those of the testcases.
        var total = (tests: 0, failures: 0, errors: 0)
        for suite in doc.suites {
            let cases = suite.cases
            let failures = cases.filter { $0.child("failure") != nil }.count
            let errors = cases.filter { $0.child("error") != nil }.count
            let skipped = cases.filter { $0.child("skipped") != nil }.count
            #expect(suite.int("tests") == cases.count, "tests of \(suite.attr("name") ?? "?")")
            #expect(suite.int("failures") == failures, "failures of \(suite.attr("name") ?? "?")")
            #expect(suite.int("errors") == errors, "errors of \(suite.attr("name") ?? "?")")
            #expect(suite.int("skipped") == skipped, "skipped of \(suite.attr("name") ?? "?")")
            total.tests += cases.count
            total.failures += failures
            total.errors += errors
        }
        #expect(doc.root.int("tests") == total.tests)
        #expect(doc.root.int("failures") == total.failures)
        #expect(doc.root.int("errors") == total.errors)

        // Every rule is a testcase of its system's suite, failing exactly when it is a finding.
        let rules = try #require(report["rules"] as? [[String: Any]])
        var ruleCases = 0
        for rule in rules {
            let id = try #require(rule["id"] as? String), status = try #require(rule["status"] as? String)
            let suite = try doc.suite(try #require(rule["system"] as? String))
            let matching = suite.cases.filter { $0.attr("name") == id }
            #expect(matching.count == 1, "testcases for \(id)")
            guard let test = matching.first else { continue }
            ruleCases += 1
            #expect(expected.rules[id] == status)
            let failure = test.child("failure"), skipped = test.child("skipped")
            switch status {
            case "missing", "blocked", "partial":
                #expect(failure?.attr("type") == status, "\(id) is \(status)")
                #expect(failure?.attr("message")?.hasPrefix("\(status):") == true, "message of \(id): \(failure?.attr("message") ?? "none")")
                let body = failure?.stringValue ?? ""
                #expect(body.contains("rule: \(id)") && body.contains("purpose: \(rule["purpose"] as? String ?? "?")"), "evidence of \(id): \(body)")
                if status == "blocked" {
                    // The refusal of each refused example is in the evidence.
                    for example in rule["blocked_examples"] as? [[String: Any]] ?? [] {
                        let refusal = try #require(example["refusal"] as? String)
                        #expect(body.contains(refusal), "\(id) evidence names '\(refusal)': \(body)")
                    }
                }
                if status == "partial" {
                    for host in rule["hosts_missing"] as? [String] ?? [] {
                        #expect(failure?.attr("message")?.contains(host) == true, "\(id) message names \(host)")
                    }
                }
            case "not-seen", "unbound":
                #expect(failure == nil)
                #expect(skipped?.attr("type") == status, "\(id) is skipped as \(status)")
            default:
                #expect(failure == nil && skipped == nil, "\(id) is \(status): a passing testcase")
                #expect(test.child("system-out")?.stringValue?.contains("observed:") == true)
            }
        }
        #expect(ruleCases == expected.rules.count)

        // Unexpected groups fail; refused attempts and advisories pass by default, with their text.
        // A group's testcase is named `initiator -> responder service`, and its VLAN when tagged.
        func name(_ group: [String: Any]) throws -> String {
            try ScenarioAuditTests.key(group) + ((group["vlan"] as? Int).map { " vlan \($0)" } ?? "")
        }
        let unexpected = try doc.suite("unexpected").cases
        let groups = try #require(report["unexpected"] as? [[String: Any]])
        #expect(try groups.map(ScenarioAuditTests.key).sorted() == expected.unexpected.sorted())
        #expect(unexpected.compactMap { $0.attr("name") }.sorted() == (try groups.map(name).sorted()))
        #expect(unexpected.allSatisfy { $0.child("failure")?.attr("type") == "unexpected" })
        for group in groups {
            let name = try name(group)
            let test = try #require(unexpected.first { $0.attr("name") == name })
            let body = test.child("failure")?.stringValue ?? ""
            #expect(body.contains("filter: \(group["filter"] as? String ?? "?")"), "the evidence of \(name) has its capture filter")
            if let nearest = group["nearest_rule"] as? String {
                #expect(test.child("failure")?.attr("message")?.contains(nearest) == true, "the message of \(name) names the nearest rule")
            }
        }
        let attempts = try doc.suite("attempts").cases
        #expect(attempts.compactMap { $0.attr("name") }.sorted() == (try (report["attempts"] as? [[String: Any]] ?? []).map(name).sorted()))
        #expect(attempts.count == expected.attempts.count)
        #expect(attempts.allSatisfy { $0.child("failure") == nil && $0.child("system-out")?.stringValue?.contains("attempt:") == true })
        let advisories = try doc.suite("advisories").cases
        #expect(advisories.count == expected.advisories.count)
        for test in advisories {
            #expect(test.child("failure") == nil)
            #expect(test.child("system-out")?.stringValue?.hasPrefix("WARNING: advisory: ") == true, "advisory \(test.attr("name") ?? "?")")
        }

        // The audit suite carries the verdict; the scope check passes on every sample.
        let audit = try doc.suite("audit")
        let properties = audit.child("properties")?.elements(forName: "property") ?? []
        func property(_ name: String) -> String? { properties.first { $0.attr("name") == name }?.attr("value") }
        #expect(property("verdict") == expected.verdict)
        #expect(property("exit_status") == "\(expected.exitStatus)")
        #expect(property("count.unexpected") == "\(expected.counts["unexpected"] ?? -1)")
        #expect(audit.cases.first { $0.attr("name") == "scope" }?.child("failure") == nil)
    }

    @Test("--fail-on advisory,attempt makes advisories and attempts failures too")
    func failOnAdvisories() throws {
        let expected = try ScenarioAuditTests.Expected(system: "remotespark")
        #expect(!expected.advisories.isEmpty && !expected.attempts.isEmpty)
        let (result, _) = try Self.audit("remotespark", ["--fail-on", "unexpected,missing,blocked,attempt,advisory"])
        #expect(result.status == 1)
        let doc = try JUnitDocument(result.stdout)
        let advisories = try doc.suite("advisories")
        #expect(advisories.int("failures") == expected.advisories.count)
        #expect(advisories.cases.allSatisfy { $0.child("failure")?.attr("type") == "advisory" })
        let attempts = try doc.suite("attempts")
        #expect(attempts.int("failures") == expected.attempts.count)
        #expect(attempts.cases.allSatisfy { $0.child("failure")?.attr("type") == "attempt" })
    }

    @Test("a capture with nothing in scope fails the scope testcase")
    func noScope() throws {
        // The arksspr capture against the remotespark site: no flow touches a monitored host.
        let result = try CLI.run("flowaudit", ["audit", "Captures/arksspr/capture.pcapng", "--site", "Captures/remotespark/site.yaml",
                                               "--format", "junit", "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let doc = try JUnitDocument(result.stdout)
        let scope = try #require(try doc.suite("audit").cases.first { $0.attr("name") == "scope" })
        #expect(scope.child("failure")?.attr("type") == "no-scope")
    }

    @Test("text that XML cannot hold as it is is escaped or replaced")
    func escaping() throws {
        // A site whose path holds markup characters and a control character (C0 controls are
        // not allowed in XML 1.0 at all, even escaped).
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = folder.appendingPathComponent("a&b<c>\"d'e\u{1}f.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "../../Rules/remotespark.yaml", with: CLI.packageRoot.appendingPathComponent("Rules/remotespark.yaml").path)
        try text.write(to: site, atomically: true, encoding: .utf8)
        let result = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", site.path, "--format", "junit", "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("\u{1}"))
        let doc = try JUnitDocument(result.stdout)
        let properties = try doc.suite("audit").child("properties")?.elements(forName: "property") ?? []
        let value = properties.first { $0.attr("name") == "site" }?.attr("value")
        #expect(value == site.path.replacingOccurrences(of: "\u{1}", with: "\u{FFFD}"))
    }

    @Test("evidence text with markup, controls, noncharacters and combining marks reads back as written, controls replaced")
    func escapingText() throws {
        // The traffic-manager rule's purpose, which its testcase's evidence quotes (element text,
        // not an attribute): YAML escapes for a C0 control, U+FFFE, a combining mark after a quote.
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rules = folder.appendingPathComponent("remotespark.yaml")
        var text = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Rules/remotespark.yaml"), encoding: .utf8)
        let original = #"purpose: "Traffic Manager: selects the datacentre the application uses""#
        #expect(text.contains(original))
        text = text.replacingOccurrences(of: original, with: #"purpose: "Traffic <Manager> & \"co\" 'x' ]]> \x01\x1f \uFFFE e\u0301 \"\u0301 \U0001F600 tab\tend""#)
        try text.write(to: rules, atomically: true, encoding: .utf8)
        let site = folder.appendingPathComponent("site.yaml")
        var siteText = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
        siteText = siteText.replacingOccurrences(of: "../../Rules/remotespark.yaml", with: rules.path)
        try siteText.write(to: site, atomically: true, encoding: .utf8)
        let result = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", site.path, "--format", "junit", "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(!result.stdout.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" || $0.value == 0xFFFE })
        #expect(result.stdout.contains("Traffic &lt;Manager&gt; &amp; &quot;co&quot; &apos;x&apos; ]]&gt;"))
        let doc = try JUnitDocument(result.stdout)
        let test = try #require(try doc.suite("remotespark").cases.first { $0.attr("name") == "remotespark/traffic-manager" })
        let evidence = try #require(test.child("failure")?.stringValue ?? test.child("system-out")?.stringValue)
        #expect(evidence.contains("purpose: Traffic <Manager> & \"co\" 'x' ]]> \u{FFFD}\u{FFFD} \u{FFFD} e\u{301} \"\u{301} \u{1F600} tab\tend"),
                "evidence: \(evidence)")
    }

    /// Jenkins' JUnit schema (junit-10.xsd of the xunit plugin), which `scripts/ensure-deps
    /// --test` fetches into .build/schemas/ (the project ships no copy), or FLOWAUDIT_JUNIT_XSD.
    static let schema = CLI.schema("junit-10.xsd", environment: "FLOWAUDIT_JUNIT_XSD")

    @Test("valid against Jenkins' JUnit XML Schema (junit-10.xsd)", .enabled(if: schema != nil, "no JUnit schema: run scripts/ensure-deps --test"),
          arguments: ScenarioAuditTests.systems)
    func schemaValid(system: String) throws {
        let schema = try #require(Self.schema)
        let (result, _) = try Self.audit(system)
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.xml")
        try result.stdoutData.write(to: file)
        let check = try CLI.runProcess("/usr/bin/env", ["xmllint", "--noout", "--schema", schema, file.path])
        #expect(check.status == 0, "xmllint: \(check.stderr)")
        #expect(check.stderr.contains("validates"), "xmllint: \(check.stderr)")
    }
}
