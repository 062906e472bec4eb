import Foundation
import Audit
import Flows
import Packets

/// One report from the JSON audit reports of shards of one site's traffic (`flowaudit merge`,
/// docs/report.md "`flowaudit merge`"): the same site and rules audited over parts of an archive
/// cut in time, or by several sensors.
///
/// The merge combines what each report decided, in the order the reports are given (the order
/// `flowaudit audit` would read the shards): counts are summed, first and last times taken as
/// the earliest and latest, evidence lists concatenated and cut at the auditor's caps (100
/// Community IDs, 3 refused examples), a rule's status decided again from the summed counts (a
/// rule is missing only when no shard saw it), `each` rules' missing hosts intersected, flow ids
/// renumbered as one continuous audit numbers them (each shard's ids shifted by the flows of the
/// shards before it), and the verdict, counts and exit status derived again.
///
/// When no flow is open across a shard boundary (the gap between two shards exceeds the idle
/// timeouts and the DNS grace period, so no flow or name of one shard reaches into the next),
/// the result equals auditing the shards as one capture, but for the command line. A flow cut
/// by a boundary is two flows to the two audits (the second half seen mid-stream) and cannot be
/// joined again from reports, which hold decisions, not packets: see docs/report.md.
public struct ReportMerge {
    /// Why reports cannot be merged.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a JSON audit report (`audit --format json`, version 1).
    /// - Throws: ``Failure`` naming the file and what is wrong with it.
    public static func read(_ path: String) throws(Failure) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            let problem = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw Failure(description: "\(path): \(problem)")
        }
        let value: JSONValue
        do { value = try JSONValue.parse([UInt8](data)) } catch {
            throw Failure(description: "\(path): not a JSON audit report: \(error)")
        }
        guard value["version"]?.int64 == 1, value["rules"]?.array != nil, value["evidence"]?["inputs"]?.array != nil,
              value["decode"]?.members != nil, value["summary"]?.members != nil else {
            throw Failure(description: "\(path): not a flowaudit audit report of version 1 (flowaudit audit --format json)")
        }
        return value
    }

    /// Warnings about the inputs (the same capture in two reports), for standard error.
    public private(set) var warnings: [String] = []
    /// The merged report (the same layout as `audit --format json`).
    public private(set) var merged: JSONValue = .null
    public private(set) var exitStatus: Int32 = 0

    /// Merges `reports` (path and parsed report, in capture order).
    /// - Parameters:
    ///   - failOn: the finding categories that make the exit status 1 (as `audit --fail-on`).
    ///   - commandLine: the merge's own command line, recorded as the report's.
    /// - Throws: ``Failure`` when the reports were made with other rules or sites (their policy
    ///   files' SHA-256 digests differ) or list other rules.
    public init(_ reports: [(path: String, report: JSONValue)], failOn: Set<FindingCategory>, commandLine: [String]) throws(Failure) {
        guard let first = reports.first?.report else { throw Failure(description: "no report to merge") }
        try Self.checkSamePolicy(reports)
        var seenInputs: [String: String] = [:]
        for (path, report) in reports {
            for input in report["evidence"]?["inputs"]?.array ?? [] {
                guard let digest = input["sha256"]?.string else { continue }
                if let other = seenInputs[digest] {
                    warnings.append("\(path) and \(other) both audited \(input["path"]?.string ?? "an input") (SHA-256 \(digest.prefix(16))…): its flows are counted twice")
                } else {
                    seenInputs[digest] = path
                }
            }
        }
        // Flow ids: one audit numbers the flows of all its inputs in one sequence.
        var shifted: [JSONValue] = []
        var offset: UInt64 = 0
        for (_, report) in reports {
            shifted.append(offset == 0 ? report : Self.renumber(report, by: offset))
            offset = offset &+ (report["decode"]?["flows"]?.uint64 ?? 0)
        }
        let rules = Self.mergeRules(shifted.map { $0["rules"]?.array ?? [] })
        let unexpected = Self.mergeGroups(shifted.map { $0["unexpected"]?.array ?? [] })
        let attempts = Self.mergeGroups(shifted.map { $0["attempts"]?.array ?? [] })
        let advisories = Self.mergeAdvisories(shifted.map { $0["advisories"]?.array ?? [] })
        let summaries = shifted.compactMap { $0["summary"] }
        func sum(_ key: String) -> JSONValue { Self.sumNumbers(summaries.compactMap { $0[key] }) }
        let inScope = summaries.reduce(Int64(0)) { $0 &+ ($1["in_scope_flows"]?.int64 ?? 0) }
        // The name table is one table across the shards: an address named in two shards counts once.
        let namedAddresses = Self.uniteAddresses(shifted.map { $0["named_addresses"]?.array })
        var tables = Self.mergeTables(shifted.compactMap { $0["tables"] })
        let namesLearned: JSONValue = namedAddresses.map { JSONValue.int($0.count) }
            ?? JSONValue.int(summaries.map { $0["addresses_with_names"]?.int64 ?? 0 }.max() ?? 0)
        if let names = tables["names"], namedAddresses != nil { tables = tables.setting("names", names.setting("addresses", namesLearned)) }

        // Counts, verdict and exit status, as the audit derives them.
        let statuses = rules.compactMap { $0["status"]?.string }
        let verdict: String
        if inScope == 0 { verdict = "NO-SCOPE" } else {
            let failing = !unexpected.isEmpty || statuses.contains { $0 == "missing" || $0 == "partial" || $0 == "blocked" }
            verdict = failing ? "FAIL" : "PASS"
        }
        var counts: [FindingCategory: Int] = [:]
        counts[.unexpected] = unexpected.count
        counts[.attempt] = attempts.count
        counts[.missing] = statuses.filter { $0 == "missing" || $0 == "partial" }.count
        counts[.blocked] = statuses.filter { $0 == "blocked" }.count
        counts[.advisory] = advisories.count
        counts[.noScope] = verdict == "NO-SCOPE" ? 1 : 0
        let completeness = Self.mergeCompleteness(shifted.compactMap { $0["completeness"] })
        let incomplete = completeness["status"]?.string == "INCOMPLETE" && completeness["loss_allowed"]?.bool != true
        let failing = FindingCategory.allCases.filter { failOn.contains($0) && counts[$0, default: 0] > 0 }
        let inputError = summaries.contains { $0["exit_status"]?.int64 == 2 }
        exitStatus = inputError ? 2 : (incomplete ? 3 : (failing.isEmpty ? 0 : 1))

        var summary = first["summary"] ?? .object([])
        summary = summary.setting("counts", .object(FindingCategory.allCases.map { ($0.rawValue, JSONValue.int(counts[$0, default: 0])) }))
        summary = summary.setting("fail_on", .array(FindingCategory.allCases.filter { failOn.contains($0) }.map { .string($0.rawValue) }))
        summary = summary.setting("failing", .array(failing.map { .string($0.rawValue) }))
        summary = summary.setting("exit_status", JSONValue.int(exitStatus))
        for key in ["in_scope_flows", "out_of_scope_flows", "out_of_scope_packets", "one_sided_flows", "unlisted_unexpected_flows"] {
            summary = summary.setting(key, sum(key))
        }
        summary = summary.setting("addresses_with_names", namesLearned)

        var evidence = first["evidence"] ?? .object([])
        evidence = evidence.setting("inputs", .array(shifted.flatMap { $0["evidence"]?["inputs"]?.array ?? [] }))

        var out: [(String, JSONValue)] = []
        for (key, value) in first.members ?? [] {
            switch key {
            case "verdict": out.append((key, .string(verdict)))
            case "command_line": out.append((key, .array(commandLine.map { .string($0) })))
            case "evidence": out.append((key, evidence))
            case "summary": out.append((key, summary))
            case "rules": out.append((key, .array(rules)))
            case "unexpected": out.append((key, .array(unexpected)))
            case "attempts": out.append((key, .array(attempts)))
            case "advisories": out.append((key, .array(advisories)))
            case "link_control":
                let parts = shifted.compactMap { $0["link_control"] }
                out.append((key, Self.sumNumbers(parts).setting("audited", value["audited"] ?? .bool(false))))
            case "decode":
                let parts = shifted.compactMap { $0["decode"] }
                let peak = parts.map { $0["peak_open_flows"]?.int64 ?? 0 }.max() ?? 0
                out.append((key, Self.sumNumbers(parts).setting("peak_open_flows", JSONValue.int(peak))))
            case "tables": out.append((key, tables))
            case "named_addresses": out.append((key, .array(namedAddresses ?? [])))
            case "malformed_messages", "capture":
                out.append((key, Self.sumNumbers(shifted.compactMap { $0[key] })))
            case "completeness": out.append((key, completeness))
            case "sinks": out.append((key, .array(shifted.flatMap { $0["sinks"]?.array ?? [] })))
            default: out.append((key, value))  // version, tool, site, systems, document notes, policy warnings
            }
        }
        merged = .object(out)
    }

    // MARK: Policy

    /// Refuses reports whose policy files (site and rule files, by SHA-256) or rule lists differ.
    static func checkSamePolicy(_ reports: [(path: String, report: JSONValue)]) throws(Failure) {
        func policy(_ report: JSONValue) -> [String] {
            (report["evidence"]?["policy_files"]?.array ?? []).map { file in
                "\(file["kind"]?.string ?? "?") \(file["sha256"]?.string ?? "path " + (file["path"]?.string ?? "?"))"
            }
        }
        func ruleIDs(_ report: JSONValue) -> [String] { (report["rules"]?.array ?? []).compactMap { $0["id"]?.string } }
        let (firstPath, first) = reports[0]
        for (path, report) in reports.dropFirst() {
            if policy(report) != policy(first) {
                let describe: (JSONValue) -> String = { report in
                    (report["evidence"]?["policy_files"]?.array ?? []).map {
                        "\($0["path"]?.string ?? "?") (\($0["kind"]?.string ?? "?"), sha256 \(($0["sha256"]?.string ?? "none").prefix(12)))"
                    }.joined(separator: ", ")
                }
                throw Failure(description: "\(path) was audited with other rules or another site than \(firstPath): "
                    + "\(describe(report)) against \(describe(first)); reports merge only when their policy files' SHA-256 digests are the same")
            }
            if ruleIDs(report) != ruleIDs(first) {
                throw Failure(description: "\(path) lists other rules than \(firstPath): reports merge only when made with the same rules")
            }
        }
    }

    // MARK: Flow ids

    /// Shifts every evidence `flow_id` of a report's findings by `offset`.
    static func renumber(_ report: JSONValue, by offset: UInt64) -> JSONValue {
        func shift(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(members.map { key, member in
                    if key == "flow_id", let id = member.uint64 { return (key, JSONValue.int(id &+ offset)) }
                    return (key, shift(member))
                })
            case .array(let items): return .array(items.map(shift))
            default: return value
            }
        }
        var out = report
        for key in ["rules", "unexpected", "attempts", "advisories"] {
            if let value = report[key] { out = out.setting(key, shift(value)) }
        }
        return out
    }

    // MARK: Sums

    /// Adds numbers member by member (objects recursively, members in first-seen order);
    /// strings, arrays and booleans are taken from the first value.
    static func sumNumbers(_ values: [JSONValue]) -> JSONValue {
        guard var result = values.first else { return .null }
        for value in values.dropFirst() { result = add(result, value) }
        return result
    }

    static func add(_ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch (a, b) {
        case (.number, .number):
            if let x = a.uint64, let y = b.uint64 { return JSONValue.int(x.addingReportingOverflow(y).overflow ? UInt64.max : x + y) }
            if let x = a.int64, let y = b.int64 { return JSONValue.int(x.addingReportingOverflow(y).overflow ? (y < 0 ? Int64.min : Int64.max) : x + y) }
            return a
        case (.object(var members), .object(let others)):
            for (key, value) in others {
                if let index = members.firstIndex(where: { $0.0 == key }) {
                    members[index].1 = add(members[index].1, value)
                } else {
                    members.append((key, value))
                }
            }
            return .object(members)
        case (.null, _): return b
        default: return a
        }
    }

    static func mergeTables(_ parts: [JSONValue]) -> JSONValue {
        guard let first = parts.first else { return .null }
        var result = sumNumbers(parts)
        let peakOpen = parts.map { $0["flows"]?["peak_open"]?.int64 ?? 0 }.max() ?? 0
        result = result.setting("flows", (result["flows"] ?? .object([])).setting("peak_open", JSONValue.int(peakOpen)))
        if first["fragments"] != nil {
            let peak = parts.map { $0["fragments"]?["peak_entries"]?.int64 ?? 0 }.max() ?? 0
            result = result.setting("fragments", (result["fragments"] ?? .object([])).setting("peak_entries", JSONValue.int(peak)))
        }
        return result
    }

    /// The union of the reports' `named_addresses`, in address order; nil when a report has none
    /// (made before the list was written).
    static func uniteAddresses(_ lists: [[JSONValue]?]) -> [JSONValue]? {
        var seen: Set<String> = []
        var addresses: [IPAddress] = []
        for list in lists {
            guard let list else { return nil }
            for text in list.compactMap(\.string) where seen.insert(text).inserted {
                if let address = IPAddress(text) { addresses.append(address) }
            }
        }
        return addresses.sorted().map { .string($0.description) }
    }

    static func mergeCompleteness(_ parts: [JSONValue]) -> JSONValue {
        guard let first = parts.first else { return .null }
        func total(_ key: String) -> UInt64 { parts.reduce(UInt64(0)) { $0 &+ ($1[key]?.uint64 ?? 0) } }
        let gaps = parts.flatMap { $0["gaps"]?.array ?? [] }
        let kernel = total("dropped_by_kernel"), interface = total("dropped_by_interface"), events = total("dropped_events")
        // The reasons, as Completeness.reasons words them.
        var reasons: [String] = []
        if kernel > 0 { reasons.append("\(kernel) packets dropped by the kernel (capture buffer full)") }
        if interface > 0 { reasons.append("\(interface) packets dropped by the interface") }
        let down = gaps.filter { $0["kind"]?.string == "link-down" }.count
        if down > 0 { reasons.append("the interface was down \(down) time\(down == 1 ? "" : "s")") }
        for gap in gaps where gap["kind"]?.string != "link-down" { reasons.append(gap["detail"]?.string ?? "") }
        if events > 0 { reasons.append("\(events) events not delivered to an output") }
        var result = first
        result = result.setting("status", .string(reasons.isEmpty ? "COMPLETE" : "INCOMPLETE"))
        result = result.setting("loss_allowed", .bool(parts.allSatisfy { $0["loss_allowed"]?.bool == true }))
        result = result.setting("reasons", .array(reasons.map { .string($0) }))
        result = result.setting("dropped_by_kernel", JSONValue.int(kernel))
        result = result.setting("dropped_by_interface", JSONValue.int(interface))
        result = result.setting("dropped_events", JSONValue.int(events))
        result = result.setting("gaps", .array(gaps))
        return result
    }

    // MARK: Rules

    /// Evidence kept per rule and group, as the auditor caps it (`GroupAccumulator.listedCommunityIDs`).
    static let listedCommunityIDs = 100
    static let blockedExamples = 3

    static func mergeRules(_ lists: [[JSONValue]]) -> [JSONValue] {
        guard let first = lists.first else { return [] }
        return first.indices.map { index in
            let versions = lists.compactMap { $0.indices.contains(index) ? $0[index] : nil }
            return mergeRule(versions)
        }
    }

    static func mergeRule(_ versions: [JSONValue]) -> JSONValue {
        let first = versions[0]
        func total(_ key: String) -> Int64 { versions.reduce(Int64(0)) { $0 &+ ($1[key]?.int64 ?? 0) } }
        let completed = total("completed_flows"), attempted = total("attempted_flows"), unanswered = total("unanswered_flows")
        let oneSided = total("one_sided_flows")
        let bytes = versions.reduce(UInt64(0)) { $0 &+ ($1["bytes"]?.uint64 ?? 0) }
        let firstSeen = versions.compactMap { $0["first_seen"]?.string }.min()
        let lastSeen = versions.compactMap { $0["last_seen"]?.string }.max()
        // The example: the first completed flow, else the first unanswered one.
        let example = versions.first { ($0["completed_flows"]?.int64 ?? 0) > 0 }?["example"]
            ?? versions.first { $0["example"] != nil }?["example"]
        let blocked = Array(versions.flatMap { $0["blocked_examples"]?.array ?? [] }.prefix(blockedExamples))
        let blockedIDs = Array(versions.flatMap { $0["blocked_community_ids"]?.array ?? [] }.prefix(listedCommunityIDs))
        var seen: [IPAddress] = []
        for version in versions {
            for text in version["hosts_seen"]?.array?.compactMap(\.string) ?? [] {
                if let address = IPAddress(text), !seen.contains(address) { seen.append(address) }
            }
        }
        seen.sort()
        let required = first["required"]?.bool == true, each = first["each"]?.bool == true
        var status = first["status"]?.string ?? "missing"
        var missing: [JSONValue] = first["hosts_missing"]?.array ?? []
        if status != "unbound" {
            if completed + unanswered > 0 {
                status = "observed"
                missing = []
                if each && required {
                    // Each report that saw the rule lists its hosts less those it saw: a host is
                    // missing when every such report lists it.
                    let observing = versions.filter { ["observed", "partial"].contains($0["status"]?.string ?? "") }
                    let lists = observing.map { ($0["hosts_missing"]?.array ?? []).compactMap(\.string) }
                    if let firstList = lists.first {
                        missing = firstList.filter { host in lists.allSatisfy { $0.contains(host) } }.map { .string($0) }
                    }
                    if !missing.isEmpty { status = "partial" }
                }
            } else if attempted > 0 {
                status = "blocked"
                missing = []
            } else {
                status = required ? "missing" : "not-seen"
                missing = versions.first { $0["status"]?.string == "missing" }?["hosts_missing"]?.array ?? []
            }
        }
        // Notes: the unbound roles and the site's choice carry over; the flow remarks are derived again.
        let notes = first["notes"]?.array?.compactMap(\.string) ?? []
        var merged = notes.filter { $0.hasPrefix("no binding for role") }
        if unanswered > 0 && completed == 0 { merged.append("no reply seen (a one-way service, or replies dropped)") }
        if oneSided > 0 { merged.append("\(oneSided) flow\(oneSided == 1 ? "" : "s") seen in one direction only (one-sided capture, not blocked)") }
        merged += notes.filter { $0.hasPrefix("site chose ") }

        var out: [(String, JSONValue)] = []
        for (key, value) in first.members ?? [] {
            switch key {
            case "status": out.append((key, .string(status)))
            case "completed_flows": out.append((key, JSONValue.int(completed)))
            case "attempted_flows": out.append((key, JSONValue.int(attempted)))
            case "unanswered_flows": out.append((key, JSONValue.int(unanswered)))
            case "one_sided_flows": out.append((key, JSONValue.int(oneSided)))
            case "bytes":
                out.append((key, JSONValue.int(bytes)))
                // first_seen, last_seen and example follow bytes when the rule saw a flow.
                if let firstSeen { out.append(("first_seen", .string(firstSeen))) }
                if let lastSeen { out.append(("last_seen", .string(lastSeen))) }
                if let example { out.append(("example", example)) }
            case "first_seen", "last_seen", "example": continue
            case "blocked_examples": out.append((key, .array(blocked)))
            case "hosts_seen": out.append((key, .array(seen.map { .string($0.description) })))
            case "hosts_missing": out.append((key, .array(missing)))
            case "blocked_community_ids": out.append((key, .array(blockedIDs)))
            case "notes": out.append((key, .array(merged.map { .string($0) })))
            default: out.append((key, value))
            }
        }
        return .object(out)
    }

    // MARK: Groups

    /// A group's identity: initiator, responder, service, VLAN and tunnel.
    static func groupKey(_ group: JSONValue) -> String {
        [group["initiator"]?.string ?? "", group["responder"]?.string ?? "", group["service"]?.string ?? "",
         group["vlan"]?.text ?? "", group["tunnel"]?.text ?? ""].joined(separator: "|")
    }

    static func protocolNumber(_ name: String) -> Int {
        IPProtocolNumber.number(named: name).map(Int.init) ?? Int(name.split(separator: "/").last ?? "") ?? 0
    }

    static func mergeGroups(_ lists: [[JSONValue]]) -> [JSONValue] {
        var order: [String] = []
        var byKey: [String: [JSONValue]] = [:]
        for list in lists {
            for group in list {
                let key = groupKey(group)
                if byKey[key] == nil { order.append(key) }
                byKey[key, default: []].append(group)
            }
        }
        let merged = order.map { mergeGroup(byKey[$0]!) }
        // The auditor's order: initiator, responder, protocol, port, VLAN.
        func sortKey(_ g: JSONValue) -> (IPAddress, IPAddress, Int, Int64, Int64) {
            (IPAddress(g["initiator"]?.string ?? "") ?? IPAddress(high: 0, low: 0),
             IPAddress(g["responder"]?.string ?? "") ?? IPAddress(high: 0, low: 0),
             protocolNumber(g["protocol"]?.string ?? ""), g["port"]?.int64 ?? 0, g["vlan"]?.int64 ?? 0)
        }
        return merged.sorted { sortKey($0) < sortKey($1) }
    }

    static func mergeGroup(_ versions: [JSONValue]) -> JSONValue {
        let first = versions[0]
        guard versions.count > 1 else { return first }
        func total(_ key: String) -> UInt64 { versions.reduce(UInt64(0)) { $0 &+ ($1[key]?.uint64 ?? 0) } }
        func names(_ key: String) -> JSONValue {
            var list: [String] = []
            for version in versions {
                for name in version[key]?.array?.compactMap(\.string) ?? [] where !list.contains(name) && list.count < 16 { list.append(name) }
            }
            return .array(list.sorted().map { .string($0) })
        }
        var states: [String: Int64] = [:]
        for version in versions {
            for (state, count) in version["states"]?.members ?? [] { states[state, default: 0] &+= count.int64 ?? 0 }
        }
        var out: [(String, JSONValue)] = []
        for (key, value) in first.members ?? [] {
            switch key {
            case "initiator_names", "responder_names": out.append((key, names(key)))
            case "flows", "packets", "bytes": out.append((key, JSONValue.int(total(key))))
            case "first_seen": out.append((key, .string(versions.compactMap { $0[key]?.string }.min() ?? "")))
            case "last_seen": out.append((key, .string(versions.compactMap { $0[key]?.string }.max() ?? "")))
            case "states": out.append((key, .object(states.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int($0.value)) })))
            case "oriented_by_rule": out.append((key, .bool(versions.contains { $0[key]?.bool == true })))
            case "community_ids", "uids":
                // Listed side by side, flow by flow, with the same cap.
                out.append((key, .array(Array(versions.flatMap { $0[key]?.array ?? [] }.prefix(listedCommunityIDs)))))
            default: out.append((key, value))  // roles, nearest rule, example: the first flow's
            }
        }
        return .object(out)
    }

    // MARK: Advisories

    static func mergeAdvisories(_ lists: [[JSONValue]]) -> [JSONValue] {
        // The auditor's key: kind, then the flow group, then what the advisory says.
        func key(_ a: JSONValue) -> String {
            let e = a["example"] ?? .null
            return "\(a["kind"]?.string ?? "")|\(e["initiator"]?.string ?? "")|\(e["responder"]?.string ?? "")|"
                + "\(protocolNumber(e["protocol"]?.string ?? ""))|\(e["responder_port"]?.int64 ?? 0)|\(e["vlan"]?.int64 ?? -1)|"
                + (a["message"]?.string ?? "")
        }
        var order: [String] = []
        var byKey: [String: JSONValue] = [:]
        for list in lists {
            for advisory in list {
                let k = key(advisory)
                if let existing = byKey[k] {
                    let flows = (existing["flows"]?.int64 ?? 0) &+ (advisory["flows"]?.int64 ?? 0)
                    byKey[k] = existing.setting("flows", JSONValue.int(flows))
                } else {
                    order.append(k)
                    byKey[k] = advisory
                }
            }
        }
        return order.sorted().map { byKey[$0]! }
    }
}

extension ReportMerge {
    /// The merged report for people: verdict, counts, each rule's status, the unexpected groups
    /// and attempts with their finding ids, and the advisories. (The full detail is in the JSON.)
    public func text() -> String {
        let report = merged
        var out = "flowaudit merge: \(report["evidence"]?["inputs"]?.array?.count ?? 0) inputs"
            + " (site \(report["site"]?.string ?? "?"))\n\nRules:\n"
        for rule in report["rules"]?.array ?? [] {
            let status = rule["status"]?.string ?? "?"
            out += "  \(status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(rule["id"]?.string ?? "?")"
                + "  \(rule["completed_flows"]?.int64 ?? 0) completed, \(rule["attempted_flows"]?.int64 ?? 0) refused"
            let missing = rule["hosts_missing"]?.array?.compactMap(\.string) ?? []
            if !missing.isEmpty { out += "; hosts missing: \(missing.joined(separator: ", "))" }
            out += "\n"
        }
        for (title, key) in [("Unexpected flows (completed)", "unexpected"), ("Unexpected attempts", "attempts")] {
            let groups = report[key]?.array ?? []
            out += "\n\(title): \(groups.count)\n"
            for g in groups {
                out += "  \(g["id"]?.string ?? "-")  \(g["initiator"]?.string ?? "?") -> \(g["responder"]?.string ?? "?") \(g["service"]?.string ?? "?")"
                    + (g["vlan"].map { " vlan \($0.text)" } ?? "")
                    + "  \(g["flows"]?.int64 ?? 0) flows, \(g["packets"]?.uint64 ?? 0) packets, \(g["first_seen"]?.string ?? "") to \(g["last_seen"]?.string ?? "")\n"
            }
        }
        let advisories = report["advisories"]?.array ?? []
        out += "\nAdvisories: \(advisories.count)\n"
        for a in advisories { out += "  \(a["kind"]?.string ?? "?")  \(a["message"]?.string ?? "")\n" }
        let summary = report["summary"] ?? .null
        out += "\nIn scope: \(summary["in_scope_flows"]?.int64 ?? 0) flows; out of scope: \(summary["out_of_scope_flows"]?.int64 ?? 0)\n"
        if let reasons = report["completeness"]?["reasons"]?.array?.compactMap(\.string), !reasons.isEmpty {
            out += "INCOMPLETE: \(reasons.joined(separator: "; "))\n"
        }
        let counts = (summary["counts"]?.members ?? []).filter { ($0.1.int64 ?? 0) > 0 }.map { "\($0.1.text) \($0.0)" }
        out += "\(report["verdict"]?.string ?? "?")" + (counts.isEmpty ? "" : ": " + counts.joined(separator: ", "))
            + " (exit \(exitStatus))\n"
        return out
    }
}
