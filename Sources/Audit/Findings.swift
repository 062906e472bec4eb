import Flows
import Packets
import Policy

// Findings aggregation: what the audit keeps per rule, per unexpected group and per advisory.
// Compact per-group state; the report model is built from it once, at the end.

/// Advisories, one per kind and flow group, bounded like the unexpected groups.
struct AdvisoryBook {
    let capacity: Int
    private(set) var entries: [Key: Advisory] = [:]

    /// What one advisory is about: its kind, the flow group's ends, protocol, port and VLAN (not
    /// whether the flows got through, nor their tunnel), and what it says (`detail`).
    struct Key: Hashable {
        var kind: Advisory.Kind
        var initiator: IPAddress
        var responder: IPAddress
        var protocolNumber: UInt8
        var port: UInt16
        var vlan: Int32
        var detail: String

        /// The text the advisories are listed in the order of (kind, then group, as text).
        var order: String { "\(kind.rawValue)|\(initiator)|\(responder)|\(protocolNumber)|\(port)|\(vlan)|\(detail)" }
    }

    init(capacity: Int) { self.capacity = capacity }

    /// Adds a flow to the advisory of its kind and flow group (one per kind and group, however
    /// many rules or rule files would raise it); `detail` separates advisories of one group that
    /// say different things (another TLS version, another SNI).
    mutating func add(_ kind: Advisory.Kind, group: GroupKey, detail: String, message: @autoclosure () -> String, reference: String?,
                      evidence: @autoclosure () -> FlowEvidence) {
        let key = Key(kind: kind, initiator: group.initiator, responder: group.responder, protocolNumber: group.protocolNumber,
                      port: group.port, vlan: group.vlan, detail: detail)
        if let index = entries.index(forKey: key) {
            entries.values[index].flows += 1
        } else if entries.count < capacity {  // a hostile capture cannot grow it forever
            entries[key] = Advisory(kind: kind, message: message(), reference: reference, flows: 1, example: evidence())
        }
    }

    /// The advisories in a stable order (kind, then group).
    var sorted: [Advisory] {
        entries.map { (order: $0.key.order, advisory: $0.value) }.sorted { $0.order < $1.order }.map(\.advisory)
    }
}

/// Unexpected flows grouped by initiator, responder, protocol, service port, VLAN and whether
/// they got through; groups beyond the capacity are counted, not listed.
struct UnexpectedGroups {
    let capacity: Int
    private(set) var groups: [GroupKey: GroupAccumulator] = [:]
    /// Unexpected flows of groups beyond the capacity.
    private(set) var unlistedFlows = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Adds an unexpected flow to its group; true when the group is new. `start` builds a new
    /// group's accumulator (its nearest rule is searched once per group).
    mutating func add(_ key: GroupKey, _ flow: Flow, names: FlowQuery, start: () -> GroupAccumulator) -> Bool {
        // One lookup, and the group's accumulator updated where it is (no copy of it).
        if let index = groups.index(forKey: key) {
            groups.values[index].add(flow, names: names)
            return false
        }
        guard groups.count < capacity else {
            unlistedFlows += 1
            return false
        }
        groups[key] = start()
        return true
    }

    /// Drops a group (the end-of-capture re-match found a rule allowing it).
    mutating func remove(_ key: GroupKey) { groups[key] = nil }

    /// The completed groups and the attempts, each in address order.
    func report() -> (unexpected: [UnexpectedGroup], attempts: [UnexpectedGroup]) {
        // The keys are sorted, not the groups (a key is a fifth of a group's size), and each list
        // is built once at its final size: the report holds the groups once beside this table.
        var completedKeys: [GroupKey] = []
        var attemptKeys: [GroupKey] = []
        for key in groups.keys {
            if key.completed { completedKeys.append(key) } else { attemptKeys.append(key) }
        }
        // The order the report lists groups in: ends, protocol, port, VLAN (untagged as 0).
        let order: (GroupKey, GroupKey) -> Bool = {
            ($0.initiator, $0.responder, $0.protocolNumber, $0.port, max(0, $0.vlan))
                < ($1.initiator, $1.responder, $1.protocolNumber, $1.port, max(0, $1.vlan))
        }
        completedKeys.sort(by: order)
        attemptKeys.sort(by: order)
        func build(_ keys: [GroupKey]) -> [UnexpectedGroup] {
            var list: [UnexpectedGroup] = []
            list.reserveCapacity(keys.count)
            for key in keys { if let group = groups[key] { list.append(group.group(key)) } }
            return list
        }
        return (build(completedKeys), build(attemptKeys))
    }
}

struct GroupKey: Hashable {
    var initiator: IPAddress
    var responder: IPAddress
    var protocolNumber: UInt8
    var port: UInt16
    var completed: Bool
    /// The flows' outermost VLAN id, -1 when untagged: the same tuple on two VLANs is two groups.
    var vlan: Int32
    /// The tunnel that carried the flows and its id (-1: none): the same inner tuple in two
    /// tunnels, or inside a tunnel and outside, is two groups.
    var tunnelKind: TunnelKind = .none
    var tunnelID: Int64 = -1
}

struct GroupAccumulator {
    var flows = 0
    var packets: UInt64 = 0
    var bytes: UInt64 = 0
    var firstSeen: Int64
    var lastSeen: Int64
    var states: [String: Int] = [:]
    var initiatorNames: [String]
    var responderNames: [String]
    var initiatorRoles: [String]
    var responderRoles: [String]
    var nearest: String?
    var example: FlowEvidence
    /// Community IDs of the group's first ``GroupAccumulator/listedCommunityIDs`` flows.
    var communityIDs: [String] = []
    var uids: [String] = []
    var orientedByRule: Bool
    var hasPorts: Bool
    var protocolName: String

    init(_ flow: Flow, verdict: FlowVerdict, nearest: String?, evidence: FlowEvidence,
         initiatorRoles: [String], responderRoles: [String]) {
        firstSeen = flow.firstTimestamp
        lastSeen = flow.lastTimestamp
        initiatorNames = verdict.query.initiatorNames
        responderNames = verdict.query.responderNames
        self.initiatorRoles = initiatorRoles
        self.responderRoles = responderRoles
        self.nearest = nearest
        example = evidence
        communityIDs = [evidence.communityID]
        uids = [evidence.uid]
        orientedByRule = flow.initiatorReason == .rule
        hasPorts = flow.hasPorts || flow.protocolNumber == IPProtocolNumber.icmp || flow.protocolNumber == IPProtocolNumber.icmpv6
        protocolName = flow.protocolName
        add(flow, names: verdict.query)
    }

    /// Community IDs listed per group; the rest are counted (`flows`), and the group's `flows`
    /// filter lists them all.
    static let listedCommunityIDs = 100

    mutating func add(_ flow: Flow, names: FlowQuery) {
        if flows > 0 && communityIDs.count < Self.listedCommunityIDs {
            communityIDs.append(CommunityID.of(flow))
            uids.append(FlowUID.of(flow))
        }
        flows += 1
        packets += flow.initiatorPackets + flow.responderPackets
        bytes += flow.initiatorBytes + flow.responderBytes
        firstSeen = min(firstSeen, flow.firstTimestamp)
        lastSeen = max(lastSeen, flow.lastTimestamp)
        states[flow.state.name, default: 0] += 1
        for name in names.initiatorNames where !initiatorNames.contains(name) && initiatorNames.count < 16 { initiatorNames.append(name) }
        for name in names.responderNames where !responderNames.contains(name) && responderNames.count < 16 { responderNames.append(name) }
        if flow.initiatorReason == .rule { orientedByRule = true }
    }

    func group(_ key: GroupKey) -> UnexpectedGroup {
        UnexpectedGroup(initiator: key.initiator, responder: key.responder, protocolName: protocolName,
                        protocolNumber: key.protocolNumber, port: hasPorts ? key.port : nil,
                        initiatorNames: initiatorNames.sorted(), responderNames: responderNames.sorted(),
                        initiatorRoles: initiatorRoles, responderRoles: responderRoles, flows: flows, packets: packets,
                        bytes: bytes, firstSeen: firstSeen, lastSeen: lastSeen, states: states, nearestRule: nearest,
                        example: example, communityIDs: communityIDs, uids: uids, vlan: key.vlan >= 0 ? UInt16(truncatingIfNeeded: key.vlan) : nil,
                        orientedByRule: orientedByRule)
    }
}

struct RuleAccumulator {
    let rule: PolicyRule
    var completed = 0
    var attempted = 0
    var unanswered = 0
    var oneSided = 0
    var bytes: UInt64 = 0
    var firstSeen: Int64?
    var lastSeen: Int64?
    var example: FlowEvidence?
    var blockedExamples: [FlowEvidence] = []
    /// Community IDs of the first refused or unanswered attempts.
    var blockedCommunityIDs: [String] = []
    var hostsSeen: Set<IPAddress> = []

    init(rule: PolicyRule) { self.rule = rule }

    mutating func add(_ flow: Flow, evidence: () -> FlowEvidence, completed isCompleted: Bool, unanswered isUnanswered: Bool) {
        bytes += flow.initiatorBytes + flow.responderBytes
        firstSeen = min(firstSeen ?? flow.firstTimestamp, flow.firstTimestamp)
        lastSeen = max(lastSeen ?? flow.lastTimestamp, flow.lastTimestamp)
        if isCompleted || isUnanswered {
            if isCompleted { completed += 1 } else { unanswered += 1 }
            if flow.looksOneSided { oneSided += 1 }
            if example == nil || (isCompleted && example?.state == "unanswered") { example = evidence() }
            if hostsSeen.count < 4096 { hostsSeen.insert(flow.initiator) }
        } else {
            attempted += 1
            if blockedExamples.count < 3 { blockedExamples.append(evidence()) }
            if blockedCommunityIDs.count < GroupAccumulator.listedCommunityIDs { blockedCommunityIDs.append(evidence().communityID) }
        }
    }

    mutating func absorb(_ group: GroupAccumulator, completed isCompleted: Bool) {
        bytes += group.bytes
        firstSeen = min(firstSeen ?? group.firstSeen, group.firstSeen)
        lastSeen = max(lastSeen ?? group.lastSeen, group.lastSeen)
        if isCompleted {
            completed += group.flows
            if example == nil { example = group.example }
            hostsSeen.insert(group.example.initiator)
        } else {
            attempted += group.flows
            if blockedExamples.count < 3 { blockedExamples.append(group.example) }
            for id in group.communityIDs where blockedCommunityIDs.count < GroupAccumulator.listedCommunityIDs { blockedCommunityIDs.append(id) }
        }
    }

    func result(policy: CompiledPolicy, index: Int) -> RuleResult {
        let r = rule.rule
        var status: RuleStatus
        var missing: [String] = []
        var notes: [String] = []
        if rule.isUnbound {
            status = .unbound
            notes.append("no binding for role\(rule.unboundRoles.count == 1 ? "" : "s") \(rule.unboundRoles.joined(separator: ", "))")
        } else if completed + unanswered > 0 {
            status = .observed
            // `each` counts hosts, not addresses: a machine that showed the flow on any of its
            // addresses has shown it. Only a required rule can be partial.
            if r.each, r.required, case .hosts(let hosts) = policy.eachHosts(rule: index) {
                missing = hosts.filter { !$0.addresses.contains(where: hostsSeen.contains) }.map(\.name)
                if !missing.isEmpty { status = .partial }
            }
        } else if attempted > 0 {
            status = .blocked
        } else {
            status = r.required ? .missing : .notSeen
            // A missing `each` rule: every host is missing, named as the site names it.
            if r.each, r.required, case .hosts(let hosts) = policy.eachHosts(rule: index) { missing = hosts.map(\.name) }
        }
        if unanswered > 0 && completed == 0 { notes.append("no reply seen (a one-way service, or replies dropped)") }
        if oneSided > 0 { notes.append("\(oneSided) flow\(oneSided == 1 ? "" : "s") seen in one direction only (one-sided capture, not blocked)") }
        if let chosen = rule.chosen { notes.append("site chose \(chosen)") }
        return RuleResult(
            qualifiedID: r.qualifiedID, system: r.system, purpose: r.purpose, ref: r.ref, required: r.required,
            each: r.each, from: r.from, to: r.to, services: rule.effectiveServices.map(\.description),
            direction: r.direction.rawValue, status: status, completedFlows: completed, attemptedFlows: attempted,
            unansweredFlows: unanswered, oneSidedFlows: oneSided, bytes: bytes, firstSeen: firstSeen, lastSeen: lastSeen,
            example: example, blockedExamples: blockedExamples, blockedCommunityIDs: blockedCommunityIDs,
            hostsSeen: hostsSeen.sorted(), hostsMissing: missing,
            notes: notes)
    }
}

