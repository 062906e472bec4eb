import Flows
import Packets
import Policy

/// A flow's verdict: in scope or not, and what the policy said.
struct FlowVerdict {
    var inScope: Bool
    /// nil when out of scope (not matched at all).
    var match: MatchResult?
    var query: FlowQuery
}

/// The classifier: gives a flow its verdict from its ends, their names (from the name binder),
/// its protocol and service port: link control apart (unless the site audits it), roles,
/// scope, the rules that allow it, and for an unexpected flow the nearest rule in words.
/// Flows whose ends have no names are decided by addresses alone, so their verdicts are cached
/// per tuple while the name table's generation holds.
struct FlowClassifier {
    let policy: CompiledPolicy
    /// The site's `audit-link-control`: link control is then classified like any traffic.
    let auditsLinkControl: Bool
    /// Verdicts of tuples whose ends have no names, valid while the name table's generation holds.
    /// It grows as needed up to ``cacheCapacity`` entries (about 600 bytes each), then starts
    /// again.
    private(set) var cache: [VerdictKey: CachedVerdict] = [:]
    static let cacheCapacity = 1 << 12
    var nearMisses = NearMissMemo()

    init(policy: CompiledPolicy) {
        self.policy = policy
        auditsLinkControl = policy.policy.site?.auditLinkControl ?? false
    }

    /// The link control kind of a flow counted apart from the audit; nil for a flow to classify
    /// (any flow, when the site audits link control).
    func linkControl(_ flow: Flow) -> LinkControlKind? {
        auditsLinkControl ? nil : LinkControlKind.of(flow)
    }

    /// The port a flow is matched on: the responder's port, the ICMP type, or 0.
    static func servicePort(_ flow: Flow) -> UInt16 {
        if flow.hasPorts { return flow.responderPort }
        if flow.protocolNumber == IPProtocolNumber.icmp || flow.protocolNumber == IPProtocolNumber.icmpv6 {
            return UInt16(flow.icmpType)
        }
        return 0
    }

    /// The verdict of `flow` with the names `names` gives its ends during the flow (and the
    /// flow's own SNI and Host, `extra`, for its responder).
    mutating func verdict(_ flow: Flow, extra: FlowExtras?, names: NameBinder) -> FlowVerdict {
        let port = Self.servicePort(flow)
        let initiatorNames = names.names(of: flow.initiator, from: flow.firstTimestamp, to: flow.lastTimestamp)
        let responderNames = names.names(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp, extra: extra)
        // Flows whose ends have no names are decided by addresses alone: the same tuple gets the
        // same verdict until a name is learned, so it is decided once and cached.
        let cacheable = initiatorNames.isEmpty && responderNames.isEmpty
        let vlan: UInt16? = flow.vlan >= 0 ? UInt16(truncatingIfNeeded: flow.vlan) : nil
        let tunnelID = flow.tunnel?.id
        let cacheKey = VerdictKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber, port: port,
                                  vlan: vlan ?? UInt16.max, tunnelID: tunnelID.map(Int64.init) ?? -1)
        if cacheable, let cached = cache[cacheKey], cached.generation == names.generation {
            return cached.verdict
        }
        let initiatorRoles = policy.roles(for: flow.initiator, names: initiatorNames, vlan: vlan, tunnelID: tunnelID)
        let responderRoles = policy.roles(for: flow.responder, names: responderNames, vlan: vlan, tunnelID: tunnelID)
        let query = FlowQuery(initiator: flow.initiator, responder: flow.responder, initiatorNames: initiatorNames,
                              responderNames: responderNames, ipProtocol: flow.protocolNumber, responderPort: port, vlan: vlan)
        let inScope = policy.isInScope(initiatorRoles: initiatorRoles, responderRoles: responderRoles)
        let verdict: FlowVerdict
        if inScope {
            let match = policy.match(query, initiatorRoles: initiatorRoles, responderRoles: responderRoles, findNearMiss: false)
            verdict = FlowVerdict(inScope: true, match: match, query: query)
        } else {
            verdict = FlowVerdict(inScope: false, match: nil, query: query)
        }
        // Only in-scope verdicts are worth keeping: an out-of-scope one is two table lookups.
        if cacheable && inScope {
            if cache.count >= Self.cacheCapacity { cache.removeAll(keepingCapacity: true) }
            cache[cacheKey] = CachedVerdict(generation: names.generation, verdict: verdict)
        }
        return verdict
    }

    /// The nearest rule to an unexpected flow, in words (searched once per unexpected group).
    mutating func nearestRule(_ verdict: FlowVerdict) -> String? { nearMisses.nearestRule(verdict, in: policy) }

    /// The verdict of an unexpected group at the end of a capture, with every name the capture
    /// taught (`initiatorNames`, `responderNames`): nil unless a rule now allows it.
    func rematch(_ key: GroupKey, initiatorNames: [String], responderNames: [String]) -> MatchResult? {
        let query = FlowQuery(initiator: key.initiator, responder: key.responder, initiatorNames: initiatorNames,
                              responderNames: responderNames, ipProtocol: key.protocolNumber, responderPort: key.port,
                              vlan: key.vlan >= 0 ? UInt16(truncatingIfNeeded: key.vlan) : nil)
        let match = policy.match(query)
        return match.isAllowed ? match : nil
    }
}

struct VerdictKey: Hashable {
    var initiator: IPAddress
    var responder: IPAddress
    var protocolNumber: UInt8
    var port: UInt16
    /// The flow's VLAN id, or `UInt16.max` for an untagged flow.
    var vlan: UInt16
    /// The flow's tunnel id, or -1 outside a tunnel or for a tunnel without one.
    var tunnelID: Int64 = -1
}

struct CachedVerdict {
    var generation: Int
    var verdict: FlowVerdict
}

/// The nearest rule to unexpected flows, searched once per combination of the ends' roles, the
/// protocol and the service port (all the search reads; a busy capture of unexpected traffic
/// has few of them and many groups), then put in words for each flow.
struct NearMissMemo {
    private var found: [Key: NearMiss?] = [:]
    static let capacity = 1 << 14

    struct Key: Hashable {
        var initiatorRoles: RoleSet
        var responderRoles: RoleSet
        var ipProtocol: UInt8
        var port: UInt16
    }

    /// The nearest rule of `policy` to an unexpected flow, in words.
    mutating func nearestRule(_ verdict: FlowVerdict, in policy: CompiledPolicy) -> String? {
        guard let match = verdict.match else { return nil }
        let key = Key(initiatorRoles: match.initiatorRoles, responderRoles: match.responderRoles,
                      ipProtocol: verdict.query.ipProtocol, port: verdict.query.responderPort)
        let miss: NearMiss?
        if let known = found[key] {
            miss = known
        } else {
            miss = policy.nearMiss(verdict.query, initiatorRoles: match.initiatorRoles, responderRoles: match.responderRoles)
            if found.count >= Self.capacity { found.removeAll(keepingCapacity: true) }
            found[key] = miss
        }
        return miss.map { policy.describe($0, for: verdict.query) }
    }
}
