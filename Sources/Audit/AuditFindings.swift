import Flows
import Packets
import Policy

/// What an in-scope flow turned out to be, for the event emission.
enum FlowOutcome {
    /// Allowed: the match names the rules (in rule order).
    case allowed(MatchResult)
    /// Unexpected; `newGroup` when it started an unexpected group.
    case unexpected(newGroup: Bool)
}

/// Findings aggregation: takes each classified flow once, when it ends, into compact per-rule,
/// per-group and per-advisory state (``RuleAccumulator``, ``UnexpectedGroups``,
/// ``AdvisoryBook``) and the scope counters; raises the advisories (source route, a preferred
/// service, SNI against DNS, TLS below the minimum); re-matches the unexpected groups at the end
/// of a capture with every name it taught.
struct AuditFindings {
    let policy: CompiledPolicy
    /// The TLS minimum when neither the rule files nor the site give one.
    let defaultTLSMinimum: UInt16?
    private(set) var rules: [RuleAccumulator]
    private(set) var groups: UnexpectedGroups
    private(set) var advisories: AdvisoryBook
    private(set) var inScopeFlows = 0
    private(set) var outOfScopeFlows = 0
    private(set) var outOfScopePackets: UInt64 = 0
    private(set) var oneSidedFlows = 0
    /// Link control flows (neighbour discovery, DHCP, ...) counted apart from the audit.
    private(set) var linkControl = LinkControlCounts()
    /// The nearest rule of each new unexpected group.
    var nearMisses = NearMissMemo()
    /// The role names of the groups' ends.
    var roleNames = RoleNameMemo()

    init(policy: CompiledPolicy, defaultTLSMinimum: UInt16?, maximumGroups: Int) {
        self.policy = policy
        self.defaultTLSMinimum = defaultTLSMinimum
        rules = policy.rules.map { RuleAccumulator(rule: $0) }
        groups = UnexpectedGroups(capacity: maximumGroups)
        advisories = AdvisoryBook(capacity: maximumGroups)
        linkControl.audited = policy.policy.site?.auditLinkControl ?? false
    }

    /// Whether a flow counts for its rule as traffic that got through (`completed`), or as a
    /// connectionless flow nobody answered (`unanswered`: what a one-way service such as syslog
    /// does, sent, not refused).
    static func counts(_ flow: Flow) -> (completed: Bool, unanswered: Bool) {
        if flow.gotThrough { return (true, false) }
        if flow.state == .unanswered && flow.protocolNumber != IPProtocolNumber.tcp { return (false, true) }
        return (false, false)
    }

    /// Counts a link control flow apart from the audit.
    mutating func addLinkControl(_ kind: LinkControlKind, _ flow: Flow) {
        linkControl.add(kind, packets: flow.initiatorPackets &+ flow.responderPackets)
    }

    /// Takes a flow that ended with `verdict`: counted out of scope (nil), or aggregated in
    /// scope (its outcome). `extra` is what its payload taught; `evidence` builds its evidence
    /// once, when something keeps it.
    mutating func add(_ flow: Flow, verdict: FlowVerdict, extra: FlowExtras?, names: NameBinder,
                      evidence: () -> FlowEvidence) -> FlowOutcome? {
        if let hidden = flow.sourceRouteDestination {
            // In scope or not: the header's destination is only the next hop.
            let group = GroupKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber,
                                 port: verdict.query.responderPort, completed: flow.gotThrough, vlan: flow.vlan)
            advisories.add(.sourceRoute, group: group, detail: hidden.description,
                           message: "\(flow.initiator) -> \(flow.responder) \(flow.protocolName)/\(verdict.query.responderPort) carries a source route "
                               + "whose final destination is \(hidden): the flow was matched on its next hop \(flow.responder)",
                           reference: nil, evidence: FlowEvidence(flow))
        }
        guard verdict.inScope, let match = verdict.match else {
            outOfScopeFlows += 1
            outOfScopePackets += flow.initiatorPackets + flow.responderPackets
            return nil
        }
        inScopeFlows += 1
        if flow.looksOneSided { oneSidedFlows += 1 }
        let group = groupKey(flow, verdict)
        if policy.isAvoided(ipProtocol: flow.protocolNumber, port: verdict.query.responderPort) {
            // Advice belongs to the rule file that gives it: only the systems whose rules allow
            // the flow (or, for an unexpected flow, whose roles its ends hold) advise on it.
            let prefers = policy.preferAdvisories(ipProtocol: flow.protocolNumber, port: verdict.query.responderPort,
                                                  systems: policy.advisingSystems(match))
            if !prefers.isEmpty {
                let service = flow.hasPorts ? "\(flow.protocolName)/\(flow.responderPort)" : flow.protocolName
                advisories.add(.preferred, group: group, detail: "",
                               message: "\(service) from \(flow.initiator) to \(flow.responder): "
                                   + prefers.map(\.reason).joined(separator: "; "),
                               reference: prefers.map(\.qualifiedID).joined(separator: ", "), evidence: evidence())
            }
        }
        if let serverName = extra?.serverName.map(HostName.normalise) {
            let resolved = names.dnsNames(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp)
            if !resolved.isEmpty && !resolved.contains(serverName) {
                advisories.add(.sniMismatch, group: group, detail: serverName,
                               message: "\(flow.initiator) asked \(flow.responder) for '\(serverName)' (SNI), but DNS answers named that address "
                                   + resolved.sorted().map { "'\($0)'" }.joined(separator: ", "),
                               reference: nil, evidence: evidence())
            }
        }
        if match.isAllowed {
            let (completed, unanswered) = Self.counts(flow)
            for allowed in match.allowed {
                rules[allowed.rule].add(flow, evidence: evidence, completed: completed, unanswered: unanswered)
            }
            if let extra { checkTLS(flow, rules: match.allowed.map(\.rule), group: group, extra: extra, evidence: evidence) }
            return .allowed(match)
        }
        let isNew = groups.add(group, flow, names: verdict.query) {
            GroupAccumulator(flow, verdict: verdict, nearest: nearMisses.nearestRule(verdict, in: policy), evidence: evidence(),
                             initiatorRoles: roleNames.names(match.initiatorRoles, in: policy),
                             responderRoles: roleNames.names(match.responderRoles, in: policy))
        }
        return .unexpected(newGroup: isNew)
    }

    /// One advisory per flow group when the TLS version is below the highest minimum of the
    /// rules that allow the flow (each rule file's own minimum, or the site's).
    mutating func checkTLS(_ flow: Flow, rules indices: [Int], group: GroupKey, extra: FlowExtras, evidence: () -> FlowEvidence) {
        guard let version = extra.tlsVersion else { return }
        var minimum: UInt16?
        var references: [String] = []
        for index in indices {
            guard let value = policy.tlsMinimum(rule: index)?.rawValue ?? defaultTLSMinimum, version < value else { continue }
            minimum = max(minimum ?? 0, value)
            references.append(rules[index].rule.qualifiedID)
        }
        guard let minimum else { return }
        let how = extra.chosenTLS != nil ? "negotiated" : "offered at most"
        advisories.add(.tlsBelowMinimum, group: group, detail: String(version),
                       message: "\(Self.versionText(version)) \(how) between \(flow.initiator) and \(flow.responder) "
                           + "(minimum \(Self.versionText(minimum)))",
                       reference: references.joined(separator: ", "), evidence: evidence())
    }

    /// A TLS version in an advisory: `TLS 1.0`, or `TLS 0x7f1c` for a version without a name.
    static func versionText(_ wire: UInt16) -> String {
        let version = TLSVersion(rawValue: wire)
        return version.name ?? "TLS \(version.hex)"
    }

    /// The unexpected group of a flow: its ends, protocol, the service port the verdict matched
    /// on (0 for protocols without one), and whether it got through.
    func groupKey(_ flow: Flow, _ verdict: FlowVerdict) -> GroupKey {
        // A connectionless flow that got no reply went out as far as the capture can tell (a
        // one-way service such as syslog sends just that): unexpected, not a refused attempt,
        // unless an ICMP error refused it.
        let (completed, unanswered) = Self.counts(flow)
        return GroupKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber,
                        port: verdict.query.responderPort, completed: completed || unanswered, vlan: flow.vlan,
                        tunnelKind: flow.tunnel?.kind ?? .none, tunnelID: flow.tunnel?.id.map(Int64.init) ?? -1)
    }

    /// The nearest rule kept with the unexpected group of a flow.
    func groupNearest(_ flow: Flow, _ verdict: FlowVerdict) -> String? {
        groups.groups[groupKey(flow, verdict)]?.nearest
    }

    /// Re-matches the unexpected groups with every name the capture taught by its end: a group
    /// a rule now allows moves to that rule.
    mutating func rematch(names: NameBinder, classifier: FlowClassifier) {
        // The keys first: iterating the table itself while removing from it would copy the
        // whole table at the first removal.
        for key in Array(groups.groups.keys) {
            guard let group = groups.groups[key] else { continue }
            let initiatorNames = names.names(of: key.initiator, from: group.firstSeen, to: group.lastSeen)
            let responderNames = Array(Set(names.names(of: key.responder, from: group.firstSeen, to: group.lastSeen) + group.responderNames)).sorted()
            guard initiatorNames != group.initiatorNames || responderNames != group.responderNames else { continue }
            guard let match = classifier.rematch(key, initiatorNames: initiatorNames, responderNames: responderNames) else { continue }
            for allowed in match.allowed { rules[allowed.rule].absorb(group, completed: key.completed) }
            groups.remove(key)
        }
    }

    /// Every rule's result so far.
    func ruleResults() -> [RuleResult] {
        rules.indices.map { rules[$0].result(policy: policy, index: $0) }
    }
}

/// The role names of each set of roles the groups' ends held, spelled once and shared by every
/// group whose end holds the same set (a capture has few sets and may have many groups).
struct RoleNameMemo {
    private var lists: [RoleSet: [String]] = [:]
    static let capacity = 4096

    /// The names of `roles` in `policy`, the same array for every group with this set.
    mutating func names(_ roles: RoleSet, in policy: CompiledPolicy) -> [String] {
        if let names = lists[roles] { return names }
        let names = policy.roleNames(roles)
        if lists.count < Self.capacity { lists[roles] = names }
        return names
    }
}
