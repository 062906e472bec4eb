// The text report (for people) and the JUnit XML report (for CI servers), checked through what
// they print only: counts with their nouns, colour only when asked, and JUnit's counts agreeing
// with the elements they count.

import Audit
import Foundation
import PacketBuilder
import Packets
import Reports
import Testing

@Suite("AuditText")
struct AuditTextTests {
    func render(_ report: AuditReport, colour: Bool) -> String {
        AuditText.render(report, failOn: defaultFailOn, exitStatus: 1, colour: colour)
    }

    @Test("no ANSI escape without colour; colour when asked")
    func colour() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let plain = render(report, colour: false)
        #expect(!plain.contains("\u{1B}"))
        let coloured = render(report, colour: true)
        #expect(coloured.contains("\u{1B}["))
        // Colour adds escapes and nothing else.
        #expect(coloured.replacing(/\x{1B}\[[0-9;]*m/, with: "") == plain)
    }

    @Test("every count agrees in number with its noun")
    func pluralAndSingular() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let text = render(report, colour: false)
        var checked = 0
        for match in text.matches(of: /(\d+) (flow|packet|byte|attempt|advisor)(s|ies|y)?\b/) {
            let count = Int(match.output.1)!
            let suffix = match.output.3.map(String.init) ?? ""
            let singular = suffix == "" || suffix == "y"
            #expect(singular == (count == 1), "\(match.output.0)")
            checked += 1
        }
        #expect(checked >= 10)
        // The groups of one and of two flows.
        #expect(text.contains("198.51.100.77 (\(Fixture.hostileDNSNameInReport)) tcp/8080  1 flow, "))
        #expect(text.contains("203.0.113.5 tcp/9000  2 flows, "))
        #expect(text.contains("scope: 9 flows in scope, 0 out of scope (0 packets)"))
    }

    @Test("the result and verdict lines count the findings")
    func verdictLines() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let lines = render(report, colour: false).split(separator: "\n").map(String.init)
        #expect(lines.contains("result: 4 unexpected, 1 attempt, 1 missing, 1 blocked, 1 advisory"))
        let verdict = try #require(lines.first { $0.hasPrefix("FAIL: ") })
        #expect(verdict.hasPrefix("FAIL: 4 unexpected, 1 missing or partial, 1 blocked (exit 1"))
        #expect(lines.contains("Unexpected flows (completed): 4"))
        #expect(lines.contains("Advisories: 1"))
    }

    /// The demo product with its license rule only, and a site binding the app server: the
    /// sessions of the passing cases are all it sees, so the audit passes.
    static func licenseOnlyWorkspace() throws -> Workspace {
        let ruleFile = """
        system: demo
        title: Demo product
        source: Demo network requirements
        tls-minimum: "1.2"
        roles:
          app: { description: App server, monitored: true }
          license: { description: License server, names: [license.vendor.example] }
        rules:
          - id: license
            purpose: License check
            from: app
            to: license
            services: [tcp/443]
            required: true
            ref: "Ports, row 1"
        """
        return try Workspace(ruleFile: ruleFile, site: "site: test\nrules: [demo.yaml]\nroles:\n  app: [10.1.0.10]\n")
    }

    @Test("a single refused attempt and a single advisory are named in the singular on a PASS")
    func passSingular() throws {
        let workspace = try Self.licenseOnlyWorkspace()
        let frames = TimedFrame.merge([Fixture.legacyLicenseSession(), Fixture.unansweredAttempt()])
        let report = try workspace.audit(frames)
        #expect(report.verdict == .pass)
        let text = AuditText.render(report, failOn: defaultFailOn, exitStatus: 0, colour: false)
        let verdict = try #require(text.split(separator: "\n").first { $0.hasPrefix("PASS: ") })
        #expect(verdict.contains("1 unexpected attempt refused, 1 advisory (exit 0"))
    }

    @Test("two refused attempts and two advisories are counted in the plural, in the result line too")
    func passPlural() throws {
        let workspace = try Self.licenseOnlyWorkspace()
        let talk = Fixture.talk, t0 = Fixture.t0, second = Fixture.second
        let frames = TimedFrame.merge([
            Fixture.legacyLicenseSession(), Fixture.unansweredAttempt(),
            talk.tcpUnanswered(client: Endpoint(Fixture.app, 41000), server: Endpoint(IPAddress("203.0.113.10")!, 25), at: t0 + 20 * second),
            talk.tcpSession(client: Endpoint(Fixture.app, 41001), server: Endpoint(IPAddress("198.18.0.8")!, 443), at: t0 + 21 * second,
                            clientData: [TLSPayload.legacyClientHello(serverName: "license.vendor.example", version: .tls10)],
                            serverData: [TLSPayload.serverHello(legacyVersion: .tls10)]),
        ])
        let report = try workspace.audit(frames)
        #expect(report.verdict == .pass)
        #expect(report.attempts.count == 2 && report.advisories.count == 2)
        let text = AuditText.render(report, failOn: defaultFailOn, exitStatus: 0, colour: false)
        let verdict = try #require(text.split(separator: "\n").first { $0.hasPrefix("PASS: ") })
        #expect(verdict.contains("2 unexpected attempts refused, 2 advisories (exit 0"))
        let result = try #require(text.split(separator: "\n").first { $0.hasPrefix("result: ") })
        #expect(result == "result: 0 unexpected, 2 attempts, 0 missing, 0 blocked, 2 advisories")
    }
}

@Suite("AuditJUnit (structure only)")
struct AuditJUnitTests {
    /// The value of attribute `name` in the element's start tag `tag`.
    func attribute(_ name: String, in tag: Substring) -> Int? {
        guard let range = tag.range(of: " \(name)=\"") else { return nil }
        return Int(tag[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test("testsuites and testsuite counts agree with the testcase, failure and error elements they hold")
    func countsAgreeWithChildren() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let xml = AuditJUnit.render(report, failOn: defaultFailOn, exitStatus: 1)
        #expect(xml.hasPrefix("<?xml"))
        // XML 1.0 cannot carry C0 controls other than tab, LF and CR.
        #expect(!xml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" })
        let root = try #require(xml.firstMatch(of: /<testsuites\b[^>]*>/)?.output)
        let suites = xml.split(separator: "<testsuite ").dropFirst()
        #expect(!suites.isEmpty)
        var tests = 0, failures = 0, errors = 0
        for suite in suites {
            let tag = suite.prefix { $0 != ">" }
            let cases = suite.matches(of: /<testcase\b/).count
            let suiteFailures = suite.matches(of: /<failure\b/).count
            let suiteErrors = suite.matches(of: /<error\b/).count
            #expect(attribute("tests", in: tag) == cases, "\(tag)")
            #expect(attribute("failures", in: tag) == suiteFailures, "\(tag)")
            #expect(attribute("errors", in: tag) == suiteErrors, "\(tag)")
            #expect(attribute("skipped", in: tag) == suite.matches(of: /<skipped\b/).count, "\(tag)")
            tests += cases; failures += suiteFailures; errors += suiteErrors
        }
        #expect(attribute("tests", in: root) == tests)
        #expect(attribute("failures", in: root) == failures)
        #expect(attribute("errors", in: root) == errors)
        // The findings that fail by default: 4 unexpected groups, ldap blocked, backup missing.
        #expect(failures == 6)
        #expect(xml.matches(of: /<failure type="unexpected"/).count == 4)
        #expect(xml.matches(of: /<failure type="blocked"/).count == 1)
        #expect(xml.matches(of: /<failure type="missing"/).count == 1)
    }

    @Test("hostile text is escaped: no raw quote, < or & inside an attribute value")
    func escaping() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let xml = AuditJUnit.render(report, failOn: defaultFailOn, exitStatus: 1)
        // Every start tag is a name followed by well-formed name="value" pairs.
        for tag in xml.matches(of: /<([A-Za-z][\w.-]*)((?:\s+[\w.:-]+="[^"<]*")*)\s*\/?>/) {
            for value in tag.output.2.matches(of: /="([^"]*)"/) {
                let text = value.output.1
                #expect(!text.contains("<"))
                // An ampersand starts an entity reference.
                for amp in text.matches(of: /&/) {
                    #expect(text[amp.range.lowerBound...].firstMatch(of: /^&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);/) != nil)
                }
            }
        }
        // Every '<' in the document starts a tag, a declaration or a closing tag.
        let starts = xml.matches(of: /</).count
        let tags = xml.matches(of: /<([A-Za-z][\w.-]*)((?:\s+[\w.:-]+="[^"<]*")*)\s*\/?>|<\/[A-Za-z][\w.-]*>|<\?xml[^>]*\?>/).count
        #expect(starts == tags)
        // The rule's purpose, with its quotes, is in the document escaped.
        #expect(xml.contains("Directory &quot;lookups&quot;") || xml.contains("Directory \"lookups\""))
    }
}
