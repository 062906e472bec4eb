import Audit
import Foundation

/// The audit's findings as a SARIF 2.1.0 log (docs/report.md, "`flowaudit audit --format
/// sarif`"): one result per finding, located at the rule's line in its rule file, or for
/// unexpected traffic at the site's binding of the roles it touched, so that code scanning
/// shows the finding on the policy that produced it.
public enum AuditSARIF {
    /// Result rule ids for findings that no rule of a document raises. Rule files' ids are
    /// always `system/id`, so these (without a slash) never collide with them.
    static let unexpectedID = "unexpected-traffic"
    static let attemptID = "refused-attempt"
    static let noScopeID = "no-scope"

    public static func render(_ report: AuditReport, policy: PolicySummary, failOn: Set<FindingCategory>, exitStatus: Int32,
                              workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let places = Places(policy: policy, workingDirectory: workingDirectory)

        // The driver's rules: every rule of every loaded file (in file order), then ours.
        var descriptors: [String] = []
        var ruleIndex: [String: Int] = [:]
        for rule in policy.rules {
            ruleIndex[rule.qualifiedID] = descriptors.count
            var properties = JSONObject()
            properties.string("system", rule.system)
            properties.string("ref", rule.ref)
            properties.bool("required", rule.required)
            properties.bool("each", rule.each)
            descriptors.append(descriptor(id: rule.qualifiedID, short: rule.purpose, full: "\(rule.purpose) — \(rule.ref)",
                                          level: "error", properties: properties.finish()))
        }
        let ours: [(String, String, String, String)] = [
            (unexpectedID, "Traffic no rule allows", "Flows touching a monitored host that no rule of the loaded rule files allows, and that got through.", "error"),
            (attemptID, "Refused attempt", "Flows no rule allows that were refused (RST, ICMP error) or never answered.", "note"),
            (noScopeID, "Nothing in scope", "No flow touches a monitored host of the site: nothing was audited.", "error"),
        ] + Advisory.Kind.allCases.map { ($0.rawValue, "Advisory: \($0.rawValue)", advisoryDescription($0), "warning") }
        for (id, short, full, level) in ours {
            ruleIndex[id] = descriptors.count
            descriptors.append(descriptor(id: id, short: short, full: full, level: level, properties: nil))
        }

        var results: [String] = []
        for rule in report.rules {
            guard rule.status == .missing || rule.status == .blocked || rule.status == .partial else { continue }
            var locations: [String] = []
            if let location = places.rules[rule.qualifiedID] { locations.append(places.location(location, message: nil)) }
            var related: [String] = []
            for role in rule.from + rule.to {
                for binding in places.bindings[role] ?? [] {
                    related.append(places.location(binding, message: "site binding of role \(role)", id: related.count))
                }
            }
            var properties = JSONObject()
            properties.string("status", rule.status.rawValue)
            properties.number("completed_flows", rule.completedFlows)
            properties.number("attempted_flows", rule.attemptedFlows)
            properties.strings("hosts_missing", rule.hostsMissing)
            properties.strings("evidence", FindingText.ruleEvidence(rule))
            results.append(result(ruleID: rule.qualifiedID, index: ruleIndex[rule.qualifiedID], level: "error",
                                  text: text(FindingText.ruleSummary(rule), FindingText.ruleEvidence(rule)),
                                  fingerprint: "\(rule.status.rawValue) \(rule.qualifiedID)",
                                  locations: locations, related: related, properties: properties.finish()))
        }
        for (groups, attempt) in [(report.unexpected, false), (report.attempts, true)] {
            for group in groups {
                // The site's binding of the roles the group touched (the responder's first, the
                // others as related locations); the site file itself when it touched no role.
                var bindings: [(PolicySummary.Place, String)] = []
                for role in group.responderRoles + group.initiatorRoles {
                    for binding in places.bindings[role] ?? [] { bindings.append((binding, "site binding of role \(role)")) }
                }
                var locations: [String] = []
                var related: [String] = []
                if let first = bindings.first {
                    locations.append(places.location(first.0, message: first.1))
                } else if let site = places.site {
                    locations.append(places.location(site, message: nil))
                }
                for (binding, message) in bindings.dropFirst() {
                    related.append(places.location(binding, message: message, id: related.count))
                }
                for id in places.ruleIDs(in: group.nearestRule ?? "") {
                    if let location = places.rules[id] {
                        related.append(places.location(location, message: "nearest rule \(id)", id: related.count))
                    }
                }
                var properties = JSONObject()
                properties.string("group", FindingText.groupName(group))
                properties.number("flows", group.flows)
                properties.string("filter", group.filter)
                properties.strings("community_ids", group.communityIDs)
                properties.strings("evidence", FindingText.groupEvidence(group, attempt: attempt))
                let id = attempt ? attemptID : unexpectedID
                results.append(result(ruleID: id, index: ruleIndex[id], level: attempt ? "note" : "error",
                                      text: text("\(FindingText.groupName(group)): \(FindingText.groupSummary(group, attempt: attempt))",
                                                 FindingText.groupEvidence(group, attempt: attempt)),
                                      fingerprint: "\(id) \(FindingText.groupName(group))",
                                      locations: locations, related: related, properties: properties.finish()))
            }
        }
        for advisory in report.advisories {
            // The rules (or prefer: entries) that raise it.
            let references = (advisory.reference ?? "").components(separatedBy: ", ").filter { !$0.isEmpty }
            var locations = references.compactMap { places.rules[$0] ?? places.prefer[$0] }.map { places.location($0, message: nil) }
            if locations.isEmpty, let site = places.site { locations.append(places.location(site, message: nil)) }
            var properties = JSONObject()
            properties.number("flows", advisory.flows)
            properties.strings("references", references)
            properties.strings("evidence", FindingText.advisoryEvidence(advisory))
            results.append(result(ruleID: advisory.kind.rawValue, index: ruleIndex[advisory.kind.rawValue], level: "warning",
                                  text: text("\(FindingText.advisoryName(advisory)): \(advisory.message)",
                                             Array(FindingText.advisoryEvidence(advisory).dropFirst())),
                                  fingerprint: FindingText.advisoryName(advisory),
                                  locations: locations, related: [], properties: properties.finish()))
        }
        if report.verdict == .noScope {
            results.append(result(ruleID: noScopeID, index: ruleIndex[noScopeID], level: "error",
                                  text: "no flow touches a monitored host of the site: nothing was audited (\(Format.count(report.outOfScopeFlows, "flow")) out of scope)",
                                  fingerprint: noScopeID, locations: places.site.map { [places.location($0, message: nil)] } ?? [], related: [], properties: nil))
        }

        // The inputs and policy files, with their digests (the evidence manifest).
        var artifacts: [String] = []
        for input in report.inputs where input.report.summary.path != "-" {
            var o = JSONObject()
            o.raw("location", places.artifactLocation(input.report.summary.path))
            if let size = input.size { o.number("length", size) }
            o.strings("roles", ["analysisTarget"])
            if let sha256 = input.sha256 { o.raw("hashes", "{\"sha-256\":\(Format.json(sha256))}") }
            artifacts.append(o.finish())
        }
        for file in report.policyFiles {
            var o = JSONObject()
            o.raw("location", places.artifactLocation(file.path))
            o.strings("roles", ["policy"])
            if let sha256 = file.sha256 { o.raw("hashes", "{\"sha-256\":\(Format.json(sha256))}") }
            artifacts.append(o.finish())
        }

        var driver = JSONObject()
        driver.string("name", "flowaudit")
        driver.string("version", report.toolVersion)
        driver.raw("rules", "[" + descriptors.joined(separator: ",\n") + "]")
        var invocation = JSONObject()
        invocation.bool("executionSuccessful", exitStatus != 2)
        invocation.number("exitCode", exitStatus)
        invocation.strings("arguments", Array(report.commandLine.dropFirst()))
        var runProperties = JSONObject()
        runProperties.string("verdict", report.verdict.rawValue)
        runProperties.string("site", report.site)
        runProperties.string("completeness", report.completeness.isComplete ? "COMPLETE" : "INCOMPLETE")
        runProperties.strings("incomplete_reasons", report.completeness.reasons)
        let counts = report.counts
        var countObject = JSONObject()
        for category in FindingCategory.allCases { countObject.number(category.rawValue, counts[category, default: 0]) }
        runProperties.raw("counts", countObject.finish())
        runProperties.strings("fail_on", FindingCategory.allCases.filter { failOn.contains($0) }.map(\.rawValue))

        var run = JSONObject(capacity: 4096)
        run.raw("tool", "{\"driver\":" + driver.finish() + "}")
        run.raw("invocations", "[" + invocation.finish() + "]")
        run.raw("originalUriBaseIds", "{\"SRCROOT\":{\"uri\":\(Format.json(places.rootURI))}}")
        run.string("columnKind", "unicodeCodePoints")
        run.raw("artifacts", "[" + artifacts.joined(separator: ",\n") + "]")
        run.raw("results", "[" + results.joined(separator: ",\n") + "]")
        run.raw("properties", runProperties.finish())
        return "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\n\"runs\":[" + run.finish() + "]}\n"
    }

    static func advisoryDescription(_ kind: Advisory.Kind) -> String {
        switch kind {
        case .tlsBelowMinimum: "A TLS handshake below the rule file's (or the site's) tls-minimum."
        case .preferred: "A service a rule file's prefer: entry asks to avoid (plain LDAP where LDAPS is asked for)."
        case .sniMismatch: "A TLS ClientHello named a server that no DNS answer for the address it went to named."
        case .sourceRoute: "Packets carried a loose or strict source route with hops to go."
        }
    }

    static func descriptor(id: String, short: String, full: String, level: String, properties: String?) -> String {
        var o = JSONObject()
        o.string("id", id)
        o.raw("shortDescription", "{\"text\":\(Format.json(short))}")
        o.raw("fullDescription", "{\"text\":\(Format.json(full))}")
        o.raw("defaultConfiguration", "{\"level\":\(Format.json(level))}")
        if let properties { o.raw("properties", properties) }
        return o.finish()
    }

    /// The message: the summary line, then the evidence (without the status line it repeats).
    static func text(_ summary: String, _ evidence: [String]) -> String {
        ([summary] + evidence.filter { !$0.hasPrefix("status: ") }).joined(separator: "\n")
    }

    /// `fingerprint` names the finding (`missing arksspr/smtp-mail`, `unexpected-traffic 10.0.0.1
    /// -> 10.0.0.2 tcp/25`): several findings at one line of a site stay apart, and the same
    /// finding in the next run is recognised.
    static func result(ruleID: String, index: Int?, level: String, text: String, fingerprint: String, locations: [String],
                       related: [String], properties: String?) -> String {
        var o = JSONObject(capacity: 1024)
        o.string("ruleId", ruleID)
        if let index { o.number("ruleIndex", index) }
        o.string("kind", "fail")
        o.string("level", level)
        o.raw("message", "{\"text\":\(Format.json(text))}")
        o.raw("locations", "[" + locations.joined(separator: ",") + "]")
        o.raw("partialFingerprints", "{\"flowauditFinding/v1\":\(Format.json(fingerprint))}")
        if !related.isEmpty { o.raw("relatedLocations", "[" + related.joined(separator: ",") + "]") }
        if let properties { o.raw("properties", properties) }
        return o.finish()
    }

    /// Where rules, prefer: entries and role bindings are, and how to write a path as a URI.
    struct Places {
        var rules: [String: PolicySummary.Place] = [:]
        var prefer: [String: PolicySummary.Place] = [:]
        /// Qualified role id -> the site's `roles:` entries that bind it.
        var bindings: [String: [PolicySummary.Place]] = [:]
        var site: PolicySummary.Place?
        let workingDirectory: String

        init(policy: PolicySummary, workingDirectory: String) {
            self.workingDirectory = workingDirectory.hasSuffix("/") ? String(workingDirectory.dropLast()) : workingDirectory
            for rule in policy.rules { rules[rule.qualifiedID] = rule.place }
            prefer = policy.preferPlaces
            site = policy.sitePlace
            bindings = policy.bindingPlaces
        }

        /// Qualified rule ids named in a text (`matches arksspr/smtp-mail but for port 2525`).
        func ruleIDs(in text: String) -> [String] {
            text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "(" || $0 == ")" || $0 == ";" })
                .map(String.init).filter { rules[$0] != nil }
        }

        var rootURI: String { "file://" + Places.percentEncoded(workingDirectory + "/") }

        /// A path under the working folder as a URI relative to `SRCROOT`; any other as a file URI.
        func artifactLocation(_ path: String) -> String {
            let absolute = path.hasPrefix("/") ? path : workingDirectory + "/" + path
            let normal = Places.normalised(absolute)
            if normal.hasPrefix(workingDirectory + "/") {
                let relative = String(normal.dropFirst(workingDirectory.count + 1))
                return "{\"uri\":\(Format.json(Places.percentEncoded(relative))),\"uriBaseId\":\"SRCROOT\"}"
            }
            return "{\"uri\":\(Format.json("file://" + Places.percentEncoded(normal)))}"
        }

        func location(_ place: PolicySummary.Place, message: String?, id: Int? = nil) -> String {
            var physical = JSONObject()
            physical.raw("artifactLocation", artifactLocation(place.file))
            if place.line > 0 {
                physical.raw("region", "{\"startLine\":\(place.line)" + (place.column > 0 ? ",\"startColumn\":\(place.column)" : "") + "}")
            }
            var o = JSONObject()
            if let id { o.number("id", id) }
            o.raw("physicalLocation", physical.finish())
            if let message { o.raw("message", "{\"text\":\(Format.json(message))}") }
            return o.finish()
        }

        /// `a/./b/../c` -> `a/c` (lexically: the loader names files the same way).
        static func normalised(_ path: String) -> String {
            var parts: [Substring] = []
            for part in path.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == "..", !parts.isEmpty { parts.removeLast(); continue }
                parts.append(part)
            }
            return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
        }

        /// RFC 3986 path characters stay; everything else is percent-encoded (UTF-8).
        static func percentEncoded(_ path: String) -> String {
            var out = ""
            for byte in path.utf8 {
                let c = Character(UnicodeScalar(byte))
                if byte < 0x80, c.isLetter || c.isNumber || "-._~/!$&'()*+,;=:@".contains(c) {
                    out.append(c)
                } else {
                    out += String(format: "%%%02X", byte)
                }
            }
            return out
        }
    }
}
