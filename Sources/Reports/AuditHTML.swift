import Audit
import Crypto
import Foundation
import Mustache
import Packets

/// The audit report as one self-contained HTML page for people (docs/report.md, "`flowaudit
/// audit --format html`"): the verdict and counts at the top, then per system a diagram of its
/// roles and flows and its rules, then the findings, the unexpected groups and the advisories
/// with their evidence, and the evidence manifest.
///
/// The page is rendered from a Mustache template (``AuditHTMLTemplate``) whose every `{{value}}`
/// is HTML-escaped: names come from captures (a DNS answer can name a host `<script>`), and the
/// template has no unescaped variable. Style and script are partials of constant text; the
/// page's Content-Security-Policy allows exactly those two (by their SHA-256) and no fetch at
/// all, so the file works from an email attachment, and an injected script would not run even
/// if some text were ever left unescaped.
public enum AuditHTML {
    /// Unexpected groups and refused attempts listed in the tables, each: a scan can make
    /// 100,000 groups, which no one reads in a page (and a browser hardly shows); the counts
    /// stay whole and the JSON report lists them all.
    public static let listedGroups = 2000

    /// Renders the page. `outputPath` (nil for standard output) is where the page is written:
    /// links to rule files are relative to its folder.
    public static func render(_ report: AuditReport, policy: PolicySummary, failOn: Set<FindingCategory>, exitStatus: Int32,
                              outputPath: String?, names: (IPAddress) -> [String] = { _ in [] }) -> String {
        let page = Page(report: report, policy: policy, failOn: failOn, exitStatus: exitStatus,
                        linkBase: Self.folder(of: outputPath), names: names)
        return library.render(page, withTemplate: "report") ?? ""
    }

    /// The templates, parsed once. The constant template text parses (a test renders every
    /// sample scenario); a parse error would render an empty page rather than trap.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        try? library.register(AuditHTMLTemplate.page, named: "report")
        try? library.register(AuditHTMLTemplate.style, named: "style")
        try? library.register(AuditHTMLTemplate.script, named: "script")
        return library
    }()

    /// `sha256-…` of a constant, for the Content-Security-Policy.
    static func cspHash(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }

    static let styleHash = cspHash(AuditHTMLTemplate.style)
    static let scriptHash = cspHash(AuditHTMLTemplate.script)

    /// The absolute folder links are relative to.
    static func folder(of outputPath: String?) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        guard let outputPath, outputPath != "-" else { return cwd }
        let absolute = outputPath.hasPrefix("/") ? outputPath : cwd + "/" + outputPath
        return (absolute as NSString).deletingLastPathComponent
    }

    /// `path` relative to `base` (both made absolute against the working directory), as a URL
    /// path with its special characters percent-encoded.
    static func relativeHref(_ path: String, from base: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        func parts(_ p: String) -> [String] {
            let absolute = p.hasPrefix("/") ? p : cwd + "/" + p
            var out: [String] = []
            for part in absolute.split(separator: "/", omittingEmptySubsequences: true) {
                switch part {
                case ".": continue
                case "..": if !out.isEmpty { out.removeLast() }
                default: out.append(String(part))
                }
            }
            return out
        }
        let target = parts(path), from = parts(base)
        var common = 0
        while common < target.count - 1 && common < from.count && target[common] == from[common] { common += 1 }
        let relative = Array(repeating: "..", count: from.count - common) + target[common...]
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ";?#")
        return relative.map { $0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0 }.joined(separator: "/")
    }

    /// The text when it is an http(s) URL a link may point to; nil for anything else
    /// (`javascript:`, `data:`, a document section).
    static func webURL(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }),
              let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else { return nil }
        return trimmed
    }

    /// The vendor document a rule file's `source` names, when it names one a link can reach:
    /// an http(s) URL in it, else a document file name (`guide.pdf`, `ports.html`).
    static func documentLink(_ source: String) -> (href: String, text: String)? {
        let words = source.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" || $0 == "(" || $0 == ")" }).map(String.init)
        for word in words {
            if let url = webURL(word) { return (url, url) }
        }
        let extensions = ["pdf", "html", "htm", "docx", "doc", "md", "txt", "xlsx", "odt"]
        for word in words {
            let cleaned = word.trimmingCharacters(in: CharacterSet(charactersIn: "\"'.:"))
            if let dot = cleaned.lastIndex(of: "."), extensions.contains(cleaned[cleaned.index(after: dot)...].lowercased()),
               !cleaned.contains(":"), dot != cleaned.startIndex {
                return (cleaned.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
                            .joined(separator: "/"), cleaned)
            }
        }
        return nil
    }
}

// MARK: The template's model
//
// Every property a template section or variable names is unique across the nesting levels: a
// variable that is nil in a row must not resolve to a same-named value of an enclosing object.

extension AuditHTML {
    struct Page {
        var styleHash = AuditHTML.styleHash
        var scriptHash = AuditHTML.scriptHash
        var pageTitle: String
        var site: String
        var toolVersion: String
        var commandLine: String
        var captureSpan: String
        var verdict: String
        var verdictClass: String
        var verdictLine: String
        var incompleteLine: String?
        var counts: [Count]
        var scopeLine: String
        var systems: [SystemView]
        var findings: [FindingRow]
        var noFindings: Bool
        var groups: [GroupRow]
        var noGroups: Bool
        var unlistedLine: String?
        /// Set when the tables list fewer groups than the report has (``AuditHTML/listedGroups``).
        var listingCut: String?
        var advisories: [AdvisoryRow]
        var noAdvisories: Bool
        var documentNotes: [NoteRow]
        var noDocumentNotes: Bool
        var policyWarnings: [String]
        var noPolicyWarnings: Bool
        var inputs: [InputRow]
        var policyFiles: [PolicyFileRow]
        var decodeLine: String
        var gaps: [String]

        init(report: AuditReport, policy: PolicySummary, failOn: Set<FindingCategory>, exitStatus: Int32, linkBase: String,
             names: (IPAddress) -> [String]) {
            let plain = Paint(enabled: false)
            pageTitle = "flowaudit: \(report.verdict.rawValue)" + (report.site.map { " — \($0)" } ?? "")
            site = report.site ?? "(none)"
            toolVersion = report.toolVersion
            commandLine = report.commandLine.joined(separator: " ")
            let firsts = report.inputs.compactMap(\.report.summary.firstTimestamp)
            let lasts = report.inputs.compactMap(\.report.summary.lastTimestamp)
            if let first = firsts.min(), let last = lasts.max() {
                captureSpan = "\(Format.timestamp(first)) to \(Format.timestamp(last))"
            } else {
                captureSpan = "no packet"
            }
            verdict = report.verdict.rawValue
            verdictClass = report.verdict == .pass ? "pass" : (report.verdict == .fail ? "fail" : "no-scope")
            verdictLine = AuditText.verdictLine(report, failOn: failOn, exitStatus: exitStatus, paint: plain)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let incomplete = CompletenessText.verdictLine(report, exitStatus: exitStatus, paint: plain)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            incompleteLine = incomplete.isEmpty ? nil : incomplete
            gaps = report.completeness.gaps.map { gap in
                var line = gap.kind
                if let start = gap.start { line += " from \(Format.timestamp(start))" }
                if let end = gap.end { line += " to \(Format.timestamp(end))" } else if gap.start != nil { line += " to the end" }
                return line + ": \(gap.detail)"
            }
            let c = report.counts
            counts = [(FindingCategory.unexpected, "unexpected", "got through, no rule allows them"),
                      (.missing, "missing", "required rules not seen (or partial)"),
                      (.blocked, "blocked", "allowed flows refused"),
                      (.attempt, "attempts", "unexpected, refused"),
                      (.advisory, "advisories", "TLS, preferred services, names")].map { category, label, hint in
                let n = c[category, default: 0]
                return Count(countValue: "\(n)", countLabel: label, countHint: hint,
                             countClass: n == 0 ? "zero" : (failOn.contains(category) ? "failing" : "nonzero"))
            }
            scopeLine = "\(report.inScopeFlows) flows in scope, \(report.outOfScopeFlows) out of scope (\(report.outOfScopePackets) packets)"
                + (report.oneSidedFlows > 0 ? "; \(report.oneSidedFlows) seen in one direction only" : "")
                + "; \(report.rules.count) rules in \(report.systems.count) rule file\(report.systems.count == 1 ? "" : "s")"

            func host(_ address: IPAddress) -> String {
                let list = names(address)
                return list.isEmpty ? address.description : "\(address) (\(list.prefix(3).joined(separator: ", "))\(list.count > 3 ? ", …" : ""))"
            }

            // Systems: document, diagram, rules.
            var systemViews: [SystemView] = []
            for (number, system) in report.systems.enumerated() {
                let source = policy.documentSources[system.system] ?? ""
                let document = AuditHTML.documentLink(source)
                let diagram = HTMLDiagram(system: system.system, roles: policy.roles, report: report)
                let rules = report.rules.filter { $0.system == system.system }.map { rule in
                    RuleRow(rule, systemAnchor: "doc-\(system.system)", document: document, host: host)
                }
                let file = report.policyFiles.first { $0.kind == "rules" && $0.path == system.file }
                systemViews.append(SystemView(
                    systemAnchor: "doc-\(system.system)", systemID: system.system, systemTitle: system.title,
                    documentSource: source.isEmpty ? "(the rule file names no source)" : source,
                    documentHref: document?.href, documentText: document?.text,
                    ruleFile: system.file, ruleFileHref: AuditHTML.relativeHref(system.file, from: linkBase),
                    ruleFileSHA: file?.sha256 ?? "",
                    diagram: DiagramView(diagram, prefix: "s\(number)", title: "\(system.system): roles and flows"),
                    rules: rules, ruleCount: "\(rules.count)",
                    statusSummary: RuleStatus.allCases.compactMap { status in
                        let n = rules.filter { $0.status == status.rawValue }.count
                        return n == 0 ? nil : "\(n) \(status.rawValue)"
                    }.joined(separator: ", ")))
            }
            systems = systemViews

            // Findings: one row per finding, as the JSON counts them.
            var findingRows: [FindingRow] = []
            func time(_ t: Int64?) -> String { t.map(Format.timestamp) ?? "" }
            for rule in report.rules where rule.status == .missing || rule.status == .partial || rule.status == .blocked {
                let flows = rule.attemptedFlows + rule.completedFlows + rule.unansweredFlows
                findingRows.append(FindingRow(
                    category: rule.status == .blocked ? "blocked" : "missing", finding: rule.status.rawValue,
                    subject: rule.qualifiedID, subjectHref: "#rule-\(rule.qualifiedID)", findingSystem: rule.system,
                    flows: "\(flows)", firstSeen: time(rule.firstSeen), lastSeen: time(rule.lastSeen),
                    summary: FindingText.ruleSummary(rule)))
            }
            let unexpected = report.unexpected.prefix(AuditHTML.listedGroups), attempts = report.attempts.prefix(AuditHTML.listedGroups)
            var cut: [String] = []
            if unexpected.count < report.unexpected.count { cut.append("the first \(unexpected.count) of \(report.unexpected.count) unexpected groups") }
            if attempts.count < report.attempts.count { cut.append("the first \(attempts.count) of \(report.attempts.count) refused attempts") }
            listingCut = cut.isEmpty ? nil : "These tables list \(cut.joined(separator: " and ")); the counts above are whole, and the JSON report (--format json) lists every group."
            for (index, group) in unexpected.enumerated() {
                findingRows.append(FindingRow(
                    category: "unexpected", finding: "unexpected", subject: FindingText.groupName(group),
                    subjectHref: "#unexpected-\(index + 1)", findingSystem: Self.systems(of: group),
                    flows: "\(group.flows)", firstSeen: time(group.firstSeen), lastSeen: time(group.lastSeen),
                    summary: FindingText.groupSummary(group, attempt: false)))
            }
            for (index, group) in attempts.enumerated() {
                findingRows.append(FindingRow(
                    category: "attempt", finding: "attempt", subject: FindingText.groupName(group),
                    subjectHref: "#attempt-\(index + 1)", findingSystem: Self.systems(of: group),
                    flows: "\(group.flows)", firstSeen: time(group.firstSeen), lastSeen: time(group.lastSeen),
                    summary: FindingText.groupSummary(group, attempt: true)))
            }
            for (index, advisory) in report.advisories.enumerated() {
                findingRows.append(FindingRow(
                    category: "advisory", finding: advisory.kind.rawValue, subject: FindingText.advisoryName(advisory),
                    subjectHref: "#advisory-\(index + 1)",
                    findingSystem: advisory.reference.map { Self.systems(ofReference: $0) } ?? "",
                    flows: "\(advisory.flows)", firstSeen: time(advisory.example.start), lastSeen: time(advisory.example.end),
                    summary: advisory.message))
            }
            if report.verdict == .noScope {
                findingRows.append(FindingRow(
                    category: "no-scope", finding: "no-scope", subject: report.site ?? "site", subjectHref: "#evidence",
                    findingSystem: "", flows: "0", firstSeen: "", lastSeen: "",
                    summary: "no flow touches a monitored host of the site: nothing was audited (\(report.outOfScopeFlows) flows out of scope)"))
            }
            for index in findingRows.indices { findingRows[index].findingNumber = "\(index + 1)" }
            findings = findingRows
            noFindings = findingRows.isEmpty

            groups = unexpected.enumerated().map { GroupRow($1, anchor: "unexpected-\($0 + 1)", attempt: false) }
                + attempts.enumerated().map { GroupRow($1, anchor: "attempt-\($0 + 1)", attempt: true) }
            noGroups = groups.isEmpty
            unlistedLine = report.unlistedUnexpectedFlows > 0
                ? "… and \(report.unlistedUnexpectedFlows) more unexpected flows in groups beyond the listing limit (counted, not listed)"
                : nil
            advisories = report.advisories.enumerated().map { index, a in
                AdvisoryRow(advisoryAnchor: "advisory-\(index + 1)", advisoryKind: a.kind.rawValue, message: a.message,
                            reference: a.reference ?? "", advisoryFlows: "\(a.flows)",
                            advisoryExample: FindingText.flow(a.example), advisoryCommunityID: a.example.communityID)
            }
            noAdvisories = advisories.isEmpty
            documentNotes = report.documentNotes.map { NoteRow(noteSystem: $0.system, note: $0.note) }
            noDocumentNotes = documentNotes.isEmpty
            policyWarnings = report.policyWarnings
            noPolicyWarnings = policyWarnings.isEmpty
            inputs = report.inputs.map { input in
                let s = input.report.summary
                return InputRow(inputPath: s.path, inputFormat: s.format.map { "\($0)" } ?? "?", inputPackets: "\(s.packets)",
                                inputFirst: s.firstTimestamp.map(Format.timestamp) ?? "", inputLast: s.lastTimestamp.map(Format.timestamp) ?? "",
                                inputSize: input.size.map { "\($0)" } ?? "", inputSHA: input.sha256 ?? "not computed",
                                inputError: (input.report.error ?? s.error).map { "\($0)" })
            }
            policyFiles = report.policyFiles.map { PolicyFileRow(policyPath: $0.path, policyKind: $0.kind, policySHA: $0.sha256 ?? "") }
            let d = report.decode
            decodeLine = "\(d.packets) packets, \(d.decoded) decoded, \(d.flowsCreated) flows (peak \(d.peakActiveFlows) open), "
                + "\(d.evictedFlows) evicted early; \(report.namesLearned) addresses with names"
        }

        /// The systems of the roles a group touches (`arksspr`), for the findings table.
        static func systems(of group: UnexpectedGroup) -> String {
            var out: [String] = []
            for role in group.initiatorRoles + group.responderRoles {
                let system = String(role.split(separator: ".", maxSplits: 1).first ?? "")
                if !system.isEmpty && !out.contains(system) { out.append(system) }
            }
            return out.joined(separator: ", ")
        }

        static func systems(ofReference reference: String) -> String {
            var out: [String] = []
            for item in reference.split(separator: ",") {
                let id = item.trimmingCharacters(in: .whitespaces)
                let system = String(id.split(separator: "/", maxSplits: 1).first ?? "")
                if !system.isEmpty && !out.contains(system) { out.append(system) }
            }
            return out.joined(separator: ", ")
        }
    }

    struct Count {
        var countValue: String
        var countLabel: String
        var countHint: String
        var countClass: String
    }

    struct SystemView {
        var systemAnchor: String
        var systemID: String
        var systemTitle: String
        var documentSource: String
        var documentHref: String?
        var documentText: String?
        var ruleFile: String
        var ruleFileHref: String
        var ruleFileSHA: String
        var diagram: DiagramView
        var rules: [RuleRow]
        var ruleCount: String
        var statusSummary: String
    }

    struct RuleRow {
        var ruleAnchor: String
        var ruleID: String
        var status: String
        var statusOrder: String
        var requirement: String
        var purpose: String
        var services: String
        var fromRoles: String
        var toRoles: String
        var bothWays: Bool
        var completed: String
        var refused: String
        /// `2 unanswered`: connectionless flows with no reply, counted among the flows.
        var unansweredNote: String?
        var ruleFirstSeen: String
        var ruleLastSeen: String
        var evidence: [String]
        var ruleCommunityIDs: [String]
        var ref: String
        var refHref: String
        var refLinkText: String

        init(_ rule: RuleResult, systemAnchor: String, document: (href: String, text: String)?, host: (IPAddress) -> String) {
            ruleAnchor = "rule-\(rule.qualifiedID)"
            ruleID = rule.qualifiedID
            status = rule.status.rawValue
            statusOrder = "\(RuleStatus.allCases.firstIndex(of: rule.status) ?? 0)"
            requirement = (rule.required ? "required" : "optional") + (rule.each ? ", each host" : "")
            purpose = rule.purpose
            services = rule.services.joined(separator: " ")
            // Within the system's section its roles need no prefix (`arksspr.`).
            let local = { (role: String) in role.hasPrefix(rule.system + ".") ? String(role.dropFirst(rule.system.count + 1)) : role }
            fromRoles = rule.from.map(local).joined(separator: ", ")
            toRoles = rule.to.map(local).joined(separator: ", ")
            bothWays = rule.direction == "both"
            completed = "\(rule.completedFlows + rule.unansweredFlows)"
            refused = "\(rule.attemptedFlows)"
            unansweredNote = rule.unansweredFlows > 0 ? "\(rule.unansweredFlows) unanswered" : nil
            ruleFirstSeen = rule.firstSeen.map(Format.timestamp) ?? ""
            ruleLastSeen = rule.lastSeen.map(Format.timestamp) ?? ""
            var lines: [String] = [FindingText.ruleSummary(rule)]
            if let e = rule.example {
                lines[0] = "observed: \(FindingText.plural(rule.completedFlows + rule.unansweredFlows, "flow"))"
                    + (rule.attemptedFlows > 0 ? ", \(rule.attemptedFlows) refused" : "")
                lines.append("e.g. \(host(e.initiator)) → \(host(e.responder)) \(AuditText.service(e)) \(e.state) at \(Format.timestamp(e.start))"
                    + (e.vlan.map { " vlan \($0)" } ?? "") + (e.tunnel.map { " tunnel \(TunnelFormat.text($0))" } ?? ""))
            }
            for e in rule.blockedExamples {
                lines.append("\(host(e.initiator)) → \(host(e.responder)) \(AuditText.service(e)): \(e.refusal ?? e.state) at \(Format.timestamp(e.start))")
            }
            if !rule.hostsSeen.isEmpty { lines.append("hosts seen: " + rule.hostsSeen.map(\.description).joined(separator: ", ")) }
            if !rule.hostsMissing.isEmpty { lines.append("hosts missing: " + rule.hostsMissing.joined(separator: ", ")) }
            for note in rule.notes { lines.append("note: \(note)") }
            evidence = lines
            var ids: [String] = []
            if let e = rule.example { ids.append(e.communityID) }
            for id in rule.blockedCommunityIDs where !ids.contains(id) { ids.append(id) }
            ruleCommunityIDs = ids
            ref = rule.ref
            if let url = AuditHTML.webURL(rule.ref) {
                refHref = url
                refLinkText = "open"
            } else if let document {
                refHref = document.href
                refLinkText = document.text
            } else {
                refHref = "#\(systemAnchor)"
                refLinkText = "document"
            }
        }
    }

    struct FindingRow {
        var findingNumber = ""
        var category: String
        var finding: String
        var subject: String
        var subjectHref: String
        var findingSystem: String
        var flows: String
        var firstSeen: String
        var lastSeen: String
        var summary: String

        init(category: String, finding: String, subject: String, subjectHref: String, findingSystem: String, flows: String,
             firstSeen: String, lastSeen: String, summary: String) {
            self.category = category
            self.finding = finding
            self.subject = subject
            self.subjectHref = subjectHref
            self.findingSystem = findingSystem
            self.flows = flows
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.summary = summary
        }
    }

    struct GroupRow {
        var groupAnchor: String
        var groupKind: String
        var initiator: String
        var initiatorNames: String?
        var initiatorRoles: String?
        var responder: String
        var responderNames: String?
        var responderRoles: String?
        var service: String
        var vlan: String?
        var tunnel: String?
        var groupFlows: String
        var packets: String
        var bytes: String
        var groupFirstSeen: String
        var groupLastSeen: String
        var states: String
        var refusal: String?
        var nearestRule: String
        var orientedByRule: Bool
        var example: String
        var groupCommunityIDs: [String]
        var moreIDs: String?
        var filter: String

        init(_ g: UnexpectedGroup, anchor: String, attempt: Bool) {
            groupAnchor = anchor
            groupKind = attempt ? "attempt" : "unexpected"
            initiator = "\(g.initiator)"
            initiatorNames = Self.list(g.initiatorNames)
            initiatorRoles = Self.list(g.initiatorRoles)
            responder = "\(g.responder)"
            responderNames = Self.list(g.responderNames)
            responderRoles = Self.list(g.responderRoles)
            service = g.service
            vlan = g.vlan.map { "\($0)" }
            tunnel = g.example.tunnel.map(TunnelFormat.text)
            groupFlows = "\(g.flows)"
            packets = "\(g.packets)"
            bytes = "\(g.bytes)"
            groupFirstSeen = Format.timestamp(g.firstSeen)
            groupLastSeen = Format.timestamp(g.lastSeen)
            states = g.states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            refusal = g.example.refusal
            nearestRule = g.nearestRule ?? ""
            orientedByRule = g.orientedByRule
            example = FindingText.flow(g.example)
            groupCommunityIDs = g.communityIDs
            moreIDs = g.flows > g.communityIDs.count ? "and \(g.flows - g.communityIDs.count) more flows (the first \(g.communityIDs.count) listed)" : nil
            filter = g.filter
        }

        /// The items joined, nil for none (a template section renders for any string, even empty).
        static func list(_ items: [String]) -> String? { items.isEmpty ? nil : items.joined(separator: ", ") }
    }

    struct AdvisoryRow {
        var advisoryAnchor: String
        var advisoryKind: String
        var message: String
        var reference: String
        var advisoryFlows: String
        var advisoryExample: String
        var advisoryCommunityID: String
    }

    struct NoteRow {
        var noteSystem: String
        var note: String
    }

    struct InputRow {
        var inputPath: String
        var inputFormat: String
        var inputPackets: String
        var inputFirst: String
        var inputLast: String
        var inputSize: String
        var inputSHA: String
        var inputError: String?
    }

    struct PolicyFileRow {
        var policyPath: String
        var policyKind: String
        var policySHA: String
    }

    // MARK: The diagram's model

    struct DiagramView {
        var markerPrefix: String
        var diagramTitle: String
        var svgWidth: String
        var svgHeight: String
        var nodes: [NodeView]
        var edges: [EdgeView]
        var legend: [LegendView]
        var edgeCount: String
        var emptyDiagram: Bool

        init(_ diagram: HTMLDiagram, prefix: String, title: String) {
            markerPrefix = prefix
            diagramTitle = title
            // Whole pixels: the width and height attributes of an HTML document's svg element.
            svgWidth = "\(Int(diagram.width.rounded(.up)))"
            svgHeight = "\(Int(diagram.height.rounded(.up)))"
            nodes = diagram.nodes.map { node in
                NodeView(nodeID: node.id, nodeLabel: HTMLDiagram.clip(node.label, 26), nodeDetail: node.detail,
                         nodeTitle: node.title, nodeKind: node.kind,
                         boxX: svgNumber(node.x - HTMLDiagram.boxWidth / 2), boxY: svgNumber(node.y - HTMLDiagram.boxHeight / 2),
                         boxWidth: svgNumber(HTMLDiagram.boxWidth), boxHeight: svgNumber(HTMLDiagram.boxHeight),
                         textX: svgNumber(node.x), labelY: svgNumber(node.y - 3), detailY: svgNumber(node.y + 13))
            }
            edges = diagram.drawnEdges().map { drawn in
                let kind = drawn.edge.kind
                var start: String? = nil
                if drawn.edge.bothWays { start = "\(prefix)-\(kind.rawValue)" }
                if kind == .unexpected { start = "\(prefix)-tail" }
                return EdgeView(
                    edgeFrom: drawn.edge.from, edgeTo: drawn.edge.to, edgeKind: kind.rawValue, path: drawn.path,
                    markerEnd: "\(prefix)-\(kind.rawValue)", markerStart: start,
                    edgeTitle: "\(drawn.edge.from) → \(drawn.edge.to): \(kind.legend)\n" + drawn.edge.members.joined(separator: "\n")
                        + "\n" + drawn.edge.services.joined(separator: ", "),
                    edgeLabel: drawn.label, labelX: svgNumber(drawn.labelX), labelY: svgNumber(drawn.labelY),
                    labelAngle: svgNumber(drawn.labelAngle))
            }
            edgeCount = "\(edges.count)"
            emptyDiagram = diagram.edges.isEmpty
            let top = diagram.height - Double((HTMLDiagram.Kind.allCases.count + diagram.legendColumns - 1) / diagram.legendColumns)
                * HTMLDiagram.legendRow - 10
            legend = HTMLDiagram.Kind.allCases.enumerated().map { index, kind in
                let column = index % diagram.legendColumns, row = index / diagram.legendColumns
                let x = HTMLDiagram.margin + Double(column) * HTMLDiagram.legendColumn
                let y = top + Double(row) * HTMLDiagram.legendRow
                return LegendView(legendKind: kind.rawValue, legendText: kind.legend,
                                  legendPath: "M\(svgNumber(x)) \(svgNumber(y)) L\(svgNumber(x + 46)) \(svgNumber(y))",
                                  legendMarkerEnd: "\(prefix)-\(kind.rawValue)",
                                  legendMarkerStart: kind == .unexpected ? "\(prefix)-tail" : nil,
                                  legendTextX: svgNumber(x + 56), legendTextY: svgNumber(y + 4))
            }
        }
    }

    struct NodeView {
        var nodeID: String
        var nodeLabel: String
        var nodeDetail: String
        var nodeTitle: String
        var nodeKind: String
        var boxX: String
        var boxY: String
        var boxWidth: String
        var boxHeight: String
        var textX: String
        var labelY: String
        var detailY: String
    }

    struct EdgeView {
        var edgeFrom: String
        var edgeTo: String
        var edgeKind: String
        var path: String
        var markerEnd: String
        var markerStart: String?
        var edgeTitle: String
        var edgeLabel: String
        var labelX: String
        var labelY: String
        var labelAngle: String
    }

    struct LegendView {
        var legendKind: String
        var legendText: String
        var legendPath: String
        var legendMarkerEnd: String
        var legendMarkerStart: String?
        var legendTextX: String
        var legendTextY: String
    }
}
