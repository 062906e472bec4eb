import Foundation

/// What changed between two audit reports (`audit --format json`, version 1): `flowaudit diff`
/// (docs/report.md, "`flowaudit diff`"). A regression is a group of unexpected traffic the
/// earlier report did not have, or a rule that became missing, partial or blocked.
public struct ReportDiff: Sendable {
    /// The fields of an audit report the comparison reads.
    public struct Report: Decodable, Sendable {
        public var version: Int
        public var verdict: String
        public var site: String?
        public var rules: [Rule]
        public var unexpected: [Group]
        public var attempts: [Group]
        public var advisories: [AdvisoryEntry]
    }

    public struct Rule: Decodable, Sendable {
        public var id: String
        public var status: String
        public var purpose: String?
    }

    public struct Group: Decodable, Sendable {
        public var initiator: String
        public var responder: String
        public var service: String
        public var vlan: Int?
        public var tunnel: Tunnel?
        public var flows: Int
        public var nearestRule: String?

        public struct Tunnel: Decodable, Sendable {
            public var type: String
            public var id: UInt64?
        }

        /// `initiator -> responder service`, with the VLAN and tunnel id that make a group of its own.
        public var key: String {
            "\(initiator) -> \(responder) \(service)" + (vlan.map { " vlan \($0)" } ?? "")
                + (tunnel.map { " tunnel \($0.type)" + ($0.id.map { " \($0)" } ?? "") } ?? "")
        }
    }

    public struct AdvisoryEntry: Decodable, Sendable {
        public var kind: String
        public var message: String
        public var example: Example

        public struct Example: Decodable, Sendable {
            public var initiator: String
            public var responder: String
            public var `protocol`: String
            public var responderPort: Int?
        }

        /// `tls-below-minimum 10.0.0.1 -> 10.0.0.2 tcp/636`.
        public var key: String {
            "\(kind) \(example.initiator) -> \(example.responder) \(example.protocol)" + (example.responderPort.map { "/\($0)" } ?? "")
        }
    }

    /// A rule whose status changed.
    public struct RuleChange: Sendable {
        public var id: String
        /// nil when the rule is not in that report (another rule file, or a changed one).
        public var before: String?
        public var after: String?
    }

    public var beforePath: String
    public var afterPath: String
    public var before: Report
    public var after: Report
    public var newUnexpected: [Group] = []
    public var resolvedUnexpected: [Group] = []
    public var newAttempts: [Group] = []
    public var resolvedAttempts: [Group] = []
    /// Rules now `missing` or `partial` that were neither before.
    public var newlyMissing: [RuleChange] = []
    /// Rules now `blocked` that were not before (``observedToBlocked`` are among them).
    public var newlyBlocked: [RuleChange] = []
    /// Rules that were findings (`missing`, `partial`, `blocked`) and are now observed.
    public var resolvedRules: [RuleChange] = []
    /// Every rule whose status changed, in the later report's order.
    public var changedRules: [RuleChange] = []
    public var newAdvisories: [AdvisoryEntry] = []
    public var resolvedAdvisories: [AdvisoryEntry] = []

    public var observedToBlocked: [RuleChange] { newlyBlocked.filter { $0.before == "observed" } }
    public var isRegression: Bool { !newUnexpected.isEmpty || !newlyMissing.isEmpty || !newlyBlocked.isEmpty }
    public var exitStatus: Int32 { isRegression ? 1 : 0 }

    /// Why a file could not be compared: unreadable, not JSON, not an audit report.
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads one audit report.
    public static func read(_ path: String) throws(ReadError) -> Report {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ReadError(description: "cannot read \(path): \((error as NSError).localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let report: Report
        do { report = try decoder.decode(Report.self, from: data) } catch {
            throw ReadError(description: "\(path) is not a flowaudit audit report (audit --format json): \(Self.describe(error))")
        }
        guard report.version == 1 else {
            throw ReadError(description: "\(path) is an audit report of version \(report.version); this flowaudit reads version 1")
        }
        return report
    }

    static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "no '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "unexpected value at \(path(context.codingPath))"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not JSON" : "unexpected value at \(path(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    static func path(_ codingPath: [CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }

    public init(before beforePath: String, _ before: Report, after afterPath: String, _ after: Report) {
        self.beforePath = beforePath
        self.afterPath = afterPath
        self.before = before
        self.after = after
        func compare(_ old: [Group], _ new: [Group]) -> (added: [Group], removed: [Group]) {
            let oldKeys = Set(old.map(\.key)), newKeys = Set(new.map(\.key))
            return (new.filter { !oldKeys.contains($0.key) }, old.filter { !newKeys.contains($0.key) })
        }
        (newUnexpected, resolvedUnexpected) = compare(before.unexpected, after.unexpected)
        (newAttempts, resolvedAttempts) = compare(before.attempts, after.attempts)

        let findings: Set<String> = ["missing", "partial", "blocked"]
        let old = Dictionary(before.rules.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.rules.map { ($0.id, $0.status) }, uniquingKeysWith: { first, _ in first })
        for rule in after.rules {
            let was = old[rule.id]
            guard was != rule.status else { continue }
            let change = RuleChange(id: rule.id, before: was, after: rule.status)
            changedRules.append(change)
            switch rule.status {
            case "missing", "partial":
                if was != "missing" && was != "partial" { newlyMissing.append(change) }
            case "blocked":
                newlyBlocked.append(change)
            default:
                if let was, findings.contains(was) { resolvedRules.append(change) }
            }
        }
        for rule in before.rules where new[rule.id] == nil {
            changedRules.append(RuleChange(id: rule.id, before: rule.status, after: nil))
        }

        let oldKeys = Set(before.advisories.map(\.key)), newKeys = Set(after.advisories.map(\.key))
        newAdvisories = after.advisories.filter { !oldKeys.contains($0.key) }
        resolvedAdvisories = before.advisories.filter { !newKeys.contains($0.key) }
    }
}

/// `flowaudit diff` for people.
public enum ReportDiffText {
    public static func render(_ d: ReportDiff) -> String {
        var out = "flowaudit diff\n  before: \(d.beforePath) (\(d.before.verdict))\n  after:  \(d.afterPath) (\(d.after.verdict))\n"
        func section(_ title: String, _ lines: [String]) {
            out += "\n\(title): \(lines.count)\n"
            for line in lines { out += "  \(line)\n" }
        }
        func group(_ g: ReportDiff.Group) -> String {
            "\(g.key)  \(g.flows) flow\(g.flows == 1 ? "" : "s")" + (g.nearestRule.map { "; nearest rule: \($0)" } ?? "")
        }
        func change(_ c: ReportDiff.RuleChange) -> String { "\(c.id)  \(c.before ?? "absent") -> \(c.after ?? "absent")" }
        section("New unexpected traffic (REGRESSION)", d.newUnexpected.map(group))
        section("Rules newly missing or partial (REGRESSION)", d.newlyMissing.map(change))
        section("Rules newly blocked (REGRESSION)", d.newlyBlocked.map {
            change($0) + ($0.before == "observed" ? "  (was observed, now refused)" : "")
        })
        section("Unexpected traffic resolved", d.resolvedUnexpected.map(group))
        section("Rules resolved", d.resolvedRules.map(change))
        section("New refused attempts", d.newAttempts.map(group))
        section("Refused attempts gone", d.resolvedAttempts.map(group))
        section("New advisories", d.newAdvisories.map { "\($0.key): \($0.message)" })
        section("Advisories gone", d.resolvedAdvisories.map { "\($0.key): \($0.message)" })
        let other = d.changedRules.filter { c in
            !(d.newlyMissing + d.newlyBlocked + d.resolvedRules).contains { $0.id == c.id }
        }
        if !other.isEmpty { section("Other rule status changes", other.map(change)) }
        out += "\n" + (d.isRegression
            ? "REGRESSION: \(d.newUnexpected.count) new unexpected, \(d.newlyMissing.count) newly missing, \(d.newlyBlocked.count) newly blocked (exit 1)\n"
            : "no regression (exit 0)\n")
        return out
    }
}

/// `flowaudit diff --format json` (docs/report.md).
public enum ReportDiffJSON {
    public static func render(_ d: ReportDiff) -> String {
        func group(_ g: ReportDiff.Group) -> String {
            var o = JSONObject()
            o.string("key", g.key)
            o.string("initiator", g.initiator)
            o.string("responder", g.responder)
            o.string("service", g.service)
            if let vlan = g.vlan { o.number("vlan", vlan) }
            o.number("flows", g.flows)
            o.string("nearest_rule", g.nearestRule)
            return o.finish()
        }
        func change(_ c: ReportDiff.RuleChange) -> String {
            var o = JSONObject()
            o.string("id", c.id)
            o.string("before", c.before)
            o.string("after", c.after)
            return o.finish()
        }
        func advisory(_ a: ReportDiff.AdvisoryEntry) -> String {
            var o = JSONObject()
            o.string("key", a.key)
            o.string("kind", a.kind)
            o.string("message", a.message)
            return o.finish()
        }
        func list(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        var o = JSONObject(capacity: 4096)
        o.number("version", 1)
        o.raw("before", "{\"path\":\(Format.json(d.beforePath)),\"verdict\":\(Format.json(d.before.verdict))}")
        o.raw("after", "{\"path\":\(Format.json(d.afterPath)),\"verdict\":\(Format.json(d.after.verdict))}")
        o.bool("regression", d.isRegression)
        o.number("exit_status", d.exitStatus)
        o.raw("unexpected", "{\"new\":\(list(d.newUnexpected.map(group))),\"resolved\":\(list(d.resolvedUnexpected.map(group)))}")
        o.raw("attempts", "{\"new\":\(list(d.newAttempts.map(group))),\"resolved\":\(list(d.resolvedAttempts.map(group)))}")
        o.raw("rules", "{\"newly_missing\":\(list(d.newlyMissing.map(change))),\"newly_blocked\":\(list(d.newlyBlocked.map(change))),"
            + "\"observed_to_blocked\":\(list(d.observedToBlocked.map(change))),\"resolved\":\(list(d.resolvedRules.map(change))),"
            + "\"changed\":\(list(d.changedRules.map(change)))}")
        o.raw("advisories", "{\"new\":\(list(d.newAdvisories.map(advisory))),\"resolved\":\(list(d.resolvedAdvisories.map(advisory)))}")
        return o.finish() + "\n"
    }
}
