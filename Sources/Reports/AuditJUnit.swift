import Audit
import Foundation
import Mustache

/// The audit report as JUnit XML, as Jenkins (junit and xunit plugins) and GitLab (unit test
/// reports) read it (docs/report.md, "`flowaudit audit --format junit`"). One `<testsuite>` per
/// system with one `<testcase>` per rule, then one per unexpected group, refused attempt and
/// advisory; an `audit` suite first carries the verdict as properties and the scope and
/// completeness checks. The XML is a Mustache template (``AuditJUnitTemplate``) whose every
/// `{{value}}` is escaped for XML 1.0 by ``XMLContentType``: names come from captures and rule
/// files, and the template has no unescaped variable.
public enum AuditJUnit {
    public static func render(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32) -> String {
        var suites: [Suite] = [auditSuite(report, failOn: failOn, exitStatus: exitStatus)]
        for system in report.systems {
            let rules = report.rules.filter { $0.system == system.system }
            suites.append(Suite(name: system.system, file: system.file, cases: rules.map(ruleCase)))
        }
        suites.append(Suite(name: "unexpected", cases: report.unexpected.map { groupCase($0, attempt: false, failing: true) }))
        suites.append(Suite(name: "attempts", cases: report.attempts.map {
            groupCase($0, attempt: true, failing: failOn.contains(.attempt))
        }))
        suites.append(Suite(name: "advisories", cases: report.advisories.map {
            advisoryCase($0, failing: failOn.contains(.advisory))
        }))
        return encode(Suites(name: "flowaudit audit", suites: suites))
    }

    /// The document as XML, with its declaration.
    static func encode(_ document: Suites) -> String {
        library.render(document.view, withTemplate: "junit") ?? ""
    }

    /// The template, parsed once, after the XML content type it names is registered. The constant
    /// template text parses (the JUnit tests render every sample scenario); a parse error would
    /// render an empty document rather than trap.
    static let library: MustacheLibrary = {
        MustacheContentTypes.register(XMLContentType(), named: XMLContentType.name)
        var library = MustacheLibrary()
        try? library.register(AuditJUnitTemplate.document, named: "junit")
        return library
    }()

    // MARK: Test cases

    static func auditSuite(_ report: AuditReport, failOn: Set<FindingCategory>, exitStatus: Int32) -> Suite {
        let counts = report.counts
        var properties = [Property("verdict", report.verdict.rawValue), Property("exit_status", "\(exitStatus)")]
        if let site = report.site { properties.append(Property("site", site)) }
        properties.append(Property("tool_version", report.toolVersion))
        properties.append(Property("fail_on", FindingCategory.allCases.filter { failOn.contains($0) }.map(\.rawValue).joined(separator: ",")))
        for category in FindingCategory.allCases { properties.append(Property("count.\(category.rawValue)", "\(counts[category, default: 0])")) }
        properties.append(Property("in_scope_flows", "\(report.inScopeFlows)"))
        properties.append(Property("completeness", report.completeness.isComplete ? "COMPLETE" : "INCOMPLETE"))

        var scope = TestCase(name: "scope", classname: "audit")
        if report.verdict == .noScope {
            scope.failure = Outcome(type: "no-scope", message: "no flow touches a monitored host of the site: nothing was audited",
                                    body: "\(Format.count(report.outOfScopeFlows, "flow")) out of scope; check the site's addresses and where and when the capture was taken")
        } else {
            scope.systemOut = "\(Format.count(report.inScopeFlows, "flow")) in scope, \(report.outOfScopeFlows) out of scope"
        }
        var completeness = TestCase(name: "completeness", classname: "audit")
        let c = report.completeness
        if !c.isComplete {
            let reasons = c.reasons.joined(separator: "; ")
            if c.lossAllowed {
                completeness.systemOut = "INCOMPLETE (--allow-loss): \(reasons)"
            } else {
                // The audit did not see everything: an error of the run, not a finding.
                completeness.error = Outcome(type: "incomplete", message: "INCOMPLETE: \(reasons)",
                                             body: "missing and blocked verdicts may be wrong: flows may have passed unseen")
            }
        }
        var suite = Suite(name: "audit", cases: [scope, completeness])
        suite.properties = Properties(property: properties)
        return suite
    }

    static func ruleCase(_ rule: RuleResult) -> TestCase {
        var test = TestCase(name: rule.qualifiedID, classname: rule.system)
        let evidence = FindingText.ruleEvidence(rule).joined(separator: "\n")
        switch rule.status {
        case .missing, .blocked, .partial:
            test.failure = Outcome(type: rule.status.rawValue, message: FindingText.ruleSummary(rule), body: evidence)
        case .notSeen, .unbound:
            test.skipped = Outcome(type: rule.status.rawValue, message: FindingText.ruleSummary(rule), body: nil)
        case .observed:
            test.systemOut = evidence
        }
        return test
    }

    static func groupCase(_ group: UnexpectedGroup, attempt: Bool, failing: Bool) -> TestCase {
        var test = TestCase(name: FindingText.groupName(group), classname: attempt ? "attempts" : "unexpected")
        let summary = FindingText.groupSummary(group, attempt: attempt)
        let evidence = FindingText.groupEvidence(group, attempt: attempt).joined(separator: "\n")
        if failing {
            test.failure = Outcome(type: attempt ? "attempt" : "unexpected", message: summary, body: evidence)
        } else {
            test.systemOut = evidence
        }
        return test
    }

    /// An advisory passes (it never changes the verdict) with its text in `<system-out>`, the
    /// first line starting `WARNING:`; with `--fail-on advisory` it is a failure.
    static func advisoryCase(_ advisory: Advisory, failing: Bool) -> TestCase {
        var test = TestCase(name: FindingText.advisoryName(advisory), classname: "advisories")
        let evidence = FindingText.advisoryEvidence(advisory).joined(separator: "\n")
        if failing {
            test.failure = Outcome(type: "advisory", message: "\(advisory.kind.rawValue): \(advisory.message)", body: evidence)
        } else {
            test.systemOut = "WARNING: " + evidence
        }
        return test
    }

    // MARK: The document

    struct Suites {
        var name: String
        var tests: Int
        var failures: Int
        var errors: Int
        var time = "0"
        var testsuite: [Suite]

        init(name: String, suites: [Suite]) {
            self.name = name
            testsuite = suites
            tests = suites.reduce(0) { $0 + $1.tests }
            failures = suites.reduce(0) { $0 + $1.failures }
            errors = suites.reduce(0) { $0 + $1.errors }
        }
    }

    struct Suite {
        var name: String
        var tests: Int
        var failures: Int
        var errors: Int
        var skipped: Int
        var time = "0"
        var file: String?
        var properties: Properties?
        var testcase: [TestCase]

        init(name: String, file: String? = nil, cases: [TestCase]) {
            self.name = name
            self.file = file
            testcase = cases
            tests = cases.count
            failures = cases.filter { $0.failure != nil }.count
            errors = cases.filter { $0.error != nil }.count
            skipped = cases.filter { $0.skipped != nil }.count
        }
    }

    struct Properties {
        var property: [Property]
    }

    struct Property {
        var name: String
        var value: String
        init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    struct TestCase {
        var name: String
        var classname: String
        var time = "0"
        var failure: Outcome?
        var error: Outcome?
        var skipped: Outcome?
        var systemOut: String?

        init(name: String, classname: String) {
            self.name = name
            self.classname = classname
        }
    }

    /// `<failure>`, `<error>` or `<skipped>`: a type, a one-line message, the evidence as text.
    struct Outcome {
        var type: String
        var message: String
        var body: String?
    }

    // MARK: What the template reads

    /// The template reads values by name (through `Mirror`), and a name missing from the current
    /// value is looked up in the enclosing ones. So every value it reads is present: an optional
    /// is an array of none or one, and `empty` says an element has no child (`<testcase … />`).
    struct DocumentView {
        let name: String, tests: Int, failures: Int, errors: Int, time: String
        let suites: [SuiteView]
    }

    struct SuiteView {
        let name: String, tests: Int, failures: Int, errors: Int, skipped: Int, time: String
        let file: [String]
        let properties: [PropertiesView]
        let cases: [CaseView]
        let empty: Bool
    }

    struct PropertiesView {
        let property: [Property]
    }

    struct CaseView {
        let name: String, classname: String, time: String
        let outcomes: [OutcomeView]
        let systemOut: [String]
        let empty: Bool
    }

    struct OutcomeView {
        let element: String, type: String, message: String
        let body: [String]
    }
}

extension AuditJUnit.Suites {
    var view: AuditJUnit.DocumentView {
        .init(name: name, tests: tests, failures: failures, errors: errors, time: time, suites: testsuite.map(\.view))
    }
}

extension AuditJUnit.Suite {
    var view: AuditJUnit.SuiteView {
        .init(name: name, tests: tests, failures: failures, errors: errors, skipped: skipped, time: time,
              file: file.map { [$0] } ?? [], properties: properties.map { [.init(property: $0.property)] } ?? [],
              cases: testcase.map(\.view), empty: properties == nil && testcase.isEmpty)
    }
}

extension AuditJUnit.TestCase {
    var view: AuditJUnit.CaseView {
        let outcomes = [("failure", failure), ("error", error), ("skipped", skipped)].compactMap { element, outcome in
            outcome.map { AuditJUnit.OutcomeView(element: element, type: $0.type, message: $0.message, body: $0.body.map { [$0] } ?? []) }
        }
        return .init(name: name, classname: classname, time: time, outcomes: outcomes,
                     systemOut: systemOut.map { [$0] } ?? [], empty: outcomes.isEmpty && systemOut == nil)
    }
}

/// Mustache's `{{value}}` escaping for XML 1.0 text and attribute values (`{{% CONTENT_TYPE: XML}}`):
/// `&`, `<`, `>`, `'` and `"` become entities, and a character XML 1.0 cannot carry at all (a C0
/// control other than tab, line feed and carriage return; U+FFFE, U+FFFF) becomes U+FFFD. A Swift
/// string holds no lone surrogate.
struct XMLContentType: MustacheContentType {
    static let name = "XML"

    func escapeText(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "'": escaped += "&apos;"
            case "\"": escaped += "&quot;"
            default:
                let v = scalar.value
                let allowed = v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || v >= 0x10000
                escaped.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return escaped
    }
}

/// `flowaudit diff --format junit`: one testcase per change between the two reports, failing
/// for each regression (new unexpected group, rule newly missing, partial or blocked); resolved
/// findings, new refused attempts and advisories pass with their text in `<system-out>`.
public enum ReportDiffJUnit {
    typealias TestCase = AuditJUnit.TestCase
    typealias Outcome = AuditJUnit.Outcome

    public static func render(_ d: ReportDiff) -> String {
        func group(_ g: ReportDiff.Group, _ classname: String, failure type: String?, _ text: String) -> TestCase {
            var test = TestCase(name: g.key, classname: classname)
            let line = "\(text): \(g.key), \(g.flows) flow\(g.flows == 1 ? "" : "s")" + (g.nearestRule.map { "; nearest rule: \($0)" } ?? "")
            if let type { test.failure = Outcome(type: type, message: line, body: nil) } else { test.systemOut = line }
            return test
        }
        func rule(_ c: ReportDiff.RuleChange, failure type: String?, _ text: String) -> TestCase {
            var test = TestCase(name: c.id, classname: "rules")
            let line = "\(text): \(c.id) was \(c.before ?? "absent"), is \(c.after ?? "absent")"
            if let type { test.failure = Outcome(type: type, message: line, body: nil) } else { test.systemOut = line }
            return test
        }
        var summary = AuditJUnit.Suite(name: "diff", cases: [])
        summary.properties = AuditJUnit.Properties(property: [
            AuditJUnit.Property("before", d.beforePath), AuditJUnit.Property("before_verdict", d.before.verdict),
            AuditJUnit.Property("after", d.afterPath), AuditJUnit.Property("after_verdict", d.after.verdict),
            AuditJUnit.Property("regression", d.isRegression ? "true" : "false"),
        ])
        let unexpected = d.newUnexpected.map { group($0, "unexpected", failure: "new-unexpected", "new unexpected traffic") }
            + d.resolvedUnexpected.map { group($0, "unexpected", failure: nil, "resolved") }
        let rules = d.newlyMissing.map { rule($0, failure: "newly-\($0.after ?? "missing")", "newly \($0.after ?? "missing")") }
            + d.newlyBlocked.map { rule($0, failure: "newly-blocked", $0.before == "observed" ? "was observed, now blocked" : "newly blocked") }
            + d.resolvedRules.map { rule($0, failure: nil, "resolved") }
        let attempts = d.newAttempts.map { group($0, "attempts", failure: nil, "new refused attempt") }
            + d.resolvedAttempts.map { group($0, "attempts", failure: nil, "refused attempt gone") }
        let advisories = d.newAdvisories.map { a -> TestCase in
            var test = TestCase(name: a.key, classname: "advisories")
            test.systemOut = "WARNING: new advisory: \(a.kind): \(a.message)"
            return test
        }
        return AuditJUnit.encode(AuditJUnit.Suites(name: "flowaudit diff", suites: [
            summary, AuditJUnit.Suite(name: "unexpected", cases: unexpected), AuditJUnit.Suite(name: "rules", cases: rules),
            AuditJUnit.Suite(name: "attempts", cases: attempts), AuditJUnit.Suite(name: "advisories", cases: advisories),
        ]))
    }
}
