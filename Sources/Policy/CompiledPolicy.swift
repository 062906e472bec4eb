import Packets

/// One flow as the matcher sees it, once per flow.
public struct FlowQuery: Sendable, Hashable {
    public var initiator: IPAddress
    public var responder: IPAddress
    /// Names known for the initiator (DNS answers, static names); any case, trailing dot allowed.
    public var initiatorNames: [String]
    /// Names known for the responder (DNS answers, TLS SNI, HTTP Host, static names).
    public var responderNames: [String]
    /// The IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, any other.
    public var ipProtocol: UInt8
    /// The responder's port for TCP and UDP; the ICMP type of the initiator's first message
    /// for ICMP and ICMPv6; ignored for other protocols.
    public var responderPort: UInt16
    /// The flow's outermost 802.1Q VLAN id, if it carried one (site bindings may be limited to VLANs).
    public var vlan: UInt16?

    public init(initiator: IPAddress, responder: IPAddress, initiatorNames: [String] = [], responderNames: [String] = [],
                ipProtocol: UInt8, responderPort: UInt16, vlan: UInt16? = nil) {
        self.vlan = vlan
        self.initiator = initiator
        self.responder = responder
        self.initiatorNames = initiatorNames
        self.responderNames = responderNames
        self.ipProtocol = ipProtocol
        self.responderPort = responderPort
    }
}

/// A rule that allows a flow.
public struct RuleMatch: Sendable, Hashable {
    /// Index into ``CompiledPolicy/rules``.
    public var rule: Int
    /// True when a `both` rule allowed the flow with its `to` side initiating.
    public var reversed: Bool
}

/// Why the nearest rule does not allow a flow.
public enum MissReason: Sendable, Hashable {
    /// The flow runs from a `to` host to a `from` host of a one-way rule.
    case reverseOfOneWay
    /// Roles fit; the port is one of the rule's alternatives, which the site has not chosen.
    case alternativeNotChosen(Service)
    /// Roles and protocol fit; the port is not one of the rule's services.
    case wrongPort
    /// Roles fit; the rule has no service of this protocol.
    case wrongProtocol
    /// Initiator and service fit; the responder holds none of the rule's `to` roles.
    case wrongResponder
    /// Responder and service fit; the initiator holds none of the rule's `from` roles.
    case wrongInitiator
}

/// The nearest rule to a flow that no rule allows.
public struct NearMiss: Sendable, Hashable {
    /// Index into ``CompiledPolicy/rules``.
    public var rule: Int
    public var reason: MissReason
}

/// What the matcher says about one flow.
public struct MatchResult: Sendable, Hashable {
    /// Every rule that allows the flow, in rule order. Empty when none does.
    public var allowed: [RuleMatch]
    public var initiatorRoles: RoleSet
    public var responderRoles: RoleSet
    /// When nothing allows the flow: the closest rule and why it does not apply; nil when no
    /// rule comes close (no rule shares both roles, or a service and one role, with the flow).
    public var nearMiss: NearMiss?

    public var isAllowed: Bool { !allowed.isEmpty }
}

/// A policy compiled once into lookup structures, then evaluated once per flow:
/// address → role bitset by binary search over sorted intervals (one table per family),
/// names → roles by hash lookups, (protocol, port) → candidate rules by binary search.
public final class CompiledPolicy: Sendable {
    public let policy: Policy
    /// Role ids; the index is the role's bit in a ``RoleSet``.
    public let roleIDs: [String]
    /// The rules, numbered as ``MatchResult`` and ``NearMiss`` number them.
    public var rules: [PolicyRule] { policy.rules }
    /// Roles marked `monitored`.
    public let monitoredRoles: RoleSet
    /// The system of each role, by role index.
    let roleSystems: [String]

    let roleIndex: [String: Int]
    let ipv4: IntervalTable<UInt32>
    let ipv6: IntervalTable<UInt128>
    /// Site bindings limited to VLANs or tunnel ids: few, checked one by one.
    let vlanScoped: [(range: AddressRange, role: Int, vlans: [UInt16], tunnelIDs: [UInt32])]
    let exactNames: [String: RoleSet]
    let suffixNames: [String: RoleSet]
    let ruleFrom: [RoleSet]
    let ruleTo: [RoleSet]
    /// Indexed by IP protocol number.
    let ports: [PortTable?]
    /// Per rule, what matching and the near-miss search read of it (kept apart so that neither
    /// copies a rule).
    let ruleFacts: [RuleFacts]

    /// A rule's services as (protocol, ports) entries, its direction, and whether the site chose
    /// among its alternatives.
    struct RuleFacts: Sendable {
        var services: [Service]
        var entries: [(ipProtocol: UInt8, ports: ClosedRange<UInt16>)]
        var oneWay: Bool
        var both: Bool
        var chosen: Bool
        var alternatives: [Service]
    }

    /// Compiles `policy`. A policy with load errors compiles what was understood; check
    /// ``PolicyLoadResult/hasErrors`` before auditing.
    public init(_ policy: Policy) {
        self.policy = policy
        let roleIDs = policy.roles.map(\.id)
        self.roleIDs = roleIDs
        self.roleSystems = policy.roles.map(\.system)
        var roleIndex: [String: Int] = [:]
        for (index, id) in roleIDs.enumerated() { roleIndex[id] = index }
        self.roleIndex = roleIndex

        var monitored = RoleSet()
        var v4: [(low: UInt32, high: UInt32, role: Int)] = []
        var v6: [(low: UInt128, high: UInt128, role: Int)] = []
        var exact: [String: RoleSet] = [:]
        var suffix: [String: RoleSet] = [:]
        func add(_ range: AddressRange, _ role: Int) {
            if range.family == .ipv4 {
                v4.append((UInt32(truncatingIfNeeded: range.low), UInt32(truncatingIfNeeded: range.high), role))
            } else {
                v6.append((range.low, range.high, role))
            }
        }
        var scoped: [(range: AddressRange, role: Int, vlans: [UInt16], tunnelIDs: [UInt32])] = []
        for (index, role) in policy.roles.enumerated() {
            if role.monitored { monitored.insert(index) }
            for binding in role.vlanBindings {
                for host in binding.hosts { for range in host.ranges { scoped.append((range, index, binding.vlans, binding.tunnelIDs)) } }
            }
            for host in role.documentHosts + (role.siteHosts ?? []) {
                switch host {
                case .name(let name): exact[name, default: RoleSet()].insert(index)
                case .nameSuffix(let name): suffix[name, default: RoleSet()].insert(index)
                default: for range in host.ranges { add(range, index) }
                }
            }
        }
        self.exactNames = exact
        self.suffixNames = suffix
        self.vlanScoped = scoped
        // Static names of the site bind their addresses to the roles their names hold.
        for binding in policy.site?.names ?? [] {
            let roles = Self.nameRoles(binding.name, exact: exact, suffix: suffix)
            for role in roles.indices {
                for address in binding.addresses { add(AddressRange(address), role) }
            }
        }
        self.monitoredRoles = monitored
        self.ipv4 = IntervalTable(v4, roleCount: roleIDs.count)
        self.ipv6 = IntervalTable(v6, roleCount: roleIDs.count)

        var from: [RoleSet] = [], to: [RoleSet] = []
        var entries = [[(ports: ClosedRange<UInt16>, rule: Int)]](repeating: [], count: 256)
        for (index, rule) in policy.rules.enumerated() {
            from.append(RoleSet(rule.rule.from.compactMap { roleIndex[$0] }))
            to.append(RoleSet(rule.rule.to.compactMap { roleIndex[$0] }))
            for service in rule.effectiveServices {
                for entry in service.entries { entries[Int(entry.ipProtocol)].append((entry.ports, index)) }
            }
        }
        self.ruleFrom = from
        self.ruleTo = to
        self.ports = entries.map { $0.isEmpty ? nil : PortTable($0) }
        self.ruleFacts = policy.rules.map { rule in
            RuleFacts(services: rule.effectiveServices, entries: rule.effectiveServices.flatMap(\.entries),
                      oneWay: rule.rule.direction == .oneWay, both: rule.rule.direction == .both,
                      chosen: rule.chosen != nil, alternatives: rule.rule.alternatives)
        }
    }

    // MARK: Roles

    /// The role of id `id` as a bit index.
    public func roleBit(_ id: String) -> Int? { roleIndex[id] }

    /// The roles an address holds by its bindings (addresses, blocks, ranges, built-in sets,
    /// static site names).
    public func roles(for address: IPAddress) -> RoleSet {
        address.isIPv4 ? ipv4.lookup(address.ipv4Value) : ipv6.lookup(address.value)
    }

    /// The roles an address holds on a VLAN (nil: the flow carried no tag): its bindings for
    /// any VLAN plus those limited to this VLAN.
    public func roles(for address: IPAddress, vlan: UInt16?) -> RoleSet {
        roles(for: address, vlan: vlan, tunnelID: nil)
    }

    /// The roles an address holds on a VLAN and inside a tunnel (nil: no tag, no tunnel id):
    /// its bindings for any, plus those whose VLAN and tunnel-id lists (where given) hold the
    /// flow's.
    public func roles(for address: IPAddress, vlan: UInt16?, tunnelID: UInt32?) -> RoleSet {
        var result = roles(for: address)
        guard !vlanScoped.isEmpty, vlan != nil || tunnelID != nil else { return result }
        for entry in vlanScoped where entry.range.contains(address) {
            if !entry.vlans.isEmpty {
                guard let vlan, entry.vlans.contains(vlan) else { continue }
            }
            if !entry.tunnelIDs.isEmpty {
                guard let tunnelID, entry.tunnelIDs.contains(tunnelID) else { continue }
            }
            result.insert(entry.role)
        }
        return result
    }

    /// The roles an address holds by its bindings and by the names known for it. A name matches
    /// an exact binding, or a `*.suffix` binding when it lies strictly below the suffix; case and
    /// a trailing dot are ignored.
    public func roles(for address: IPAddress, names: some Sequence<String>, vlan: UInt16? = nil, tunnelID: UInt32? = nil) -> RoleSet {
        var result = roles(for: address, vlan: vlan, tunnelID: tunnelID)
        for name in names { result.formUnion(roles(forName: name)) }
        return result
    }

    /// The roles a DNS name binds.
    public func roles(forName name: String) -> RoleSet {
        Self.nameRoles(HostName.normalise(name), exact: exactNames, suffix: suffixNames)
    }

    static func nameRoles(_ name: String, exact: [String: RoleSet], suffix: [String: RoleSet]) -> RoleSet {
        var result = exact[name] ?? RoleSet()
        guard !suffix.isEmpty else { return result }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if let roles = suffix[String(rest)] { result.formUnion(roles) }
        }
        return result
    }

    /// Role ids of a set, in role order.
    public func roleNames(_ set: RoleSet) -> [String] { set.indices.map { roleIDs[$0] } }

    // MARK: Scope

    /// True when either end holds a monitored role.
    public func isInScope(initiatorRoles: RoleSet, responderRoles: RoleSet) -> Bool {
        initiatorRoles.intersects(monitoredRoles) || responderRoles.intersects(monitoredRoles)
    }

    /// True when either end holds a monitored role (by address or by a known name).
    public func scope(initiator: IPAddress, responder: IPAddress, initiatorNames: [String] = [], responderNames: [String] = []) -> Bool {
        isInScope(initiatorRoles: roles(for: initiator, names: initiatorNames), responderRoles: roles(for: responder, names: responderNames))
    }

    // MARK: Matching

    /// Every rule that allows `flow`, and the nearest rule when none does.
    public func match(_ flow: FlowQuery) -> MatchResult {
        let initiatorRoles = roles(for: flow.initiator, names: flow.initiatorNames, vlan: flow.vlan)
        let responderRoles = roles(for: flow.responder, names: flow.responderNames, vlan: flow.vlan)
        return match(flow, initiatorRoles: initiatorRoles, responderRoles: responderRoles)
    }

    /// ``match(_:)`` with the two ends' roles already looked up.
    /// - Parameter findNearMiss: false skips the nearest-rule search when nothing allows the flow
    ///   (a caller that already reported this flow's group asks only once per group).
    public func match(_ flow: FlowQuery, initiatorRoles: RoleSet, responderRoles: RoleSet, findNearMiss: Bool = true) -> MatchResult {
        var allowed: [RuleMatch] = []
        if let table = ports[Int(flow.ipProtocol)] {
            for candidate in table.rules(for: flow.responderPort) {
                let rule = Int(candidate)
                if ruleFrom[rule].intersects(initiatorRoles) && ruleTo[rule].intersects(responderRoles) {
                    allowed.append(RuleMatch(rule: rule, reversed: false))
                } else if ruleFacts[rule].both,
                          ruleTo[rule].intersects(initiatorRoles) && ruleFrom[rule].intersects(responderRoles) {
                    allowed.append(RuleMatch(rule: rule, reversed: true))
                }
            }
        }
        var result = MatchResult(allowed: allowed, initiatorRoles: initiatorRoles, responderRoles: responderRoles, nearMiss: nil)
        if allowed.isEmpty && findNearMiss { result.nearMiss = nearMiss(flow, initiatorRoles: initiatorRoles, responderRoles: responderRoles) }
        return result
    }

    /// Ranks every rule against a flow no rule allows; the best rank wins, then the closest port,
    /// then rule order. Ranks: reverse of a one-way rule; an unchosen alternative; roles fit with
    /// the port listed for the other transport protocol, or the same protocol on another port
    /// (by distance); roles fit on another protocol; service and initiator fit; service and
    /// responder fit.
    public func nearMiss(_ flow: FlowQuery, initiatorRoles: RoleSet, responderRoles: RoleSet) -> NearMiss? {
        var best: (rank: Int, distance: Int, miss: NearMiss)?
        func consider(_ rank: Int, _ distance: Int, _ rule: Int, _ reason: MissReason) {
            if best == nil || rank < best!.rank || (rank == best!.rank && distance < best!.distance) {
                best = (rank, distance, NearMiss(rule: rule, reason: reason))
            }
        }
        for index in policy.rules.indices {
            // Role tests first: they are cheap, and a rule sharing no role with the flow's ends
            // cannot be near it.
            let fromInitiator = ruleFrom[index].intersects(initiatorRoles)
            let toResponder = ruleTo[index].intersects(responderRoles)
            let backward = ruleTo[index].intersects(initiatorRoles) && ruleFrom[index].intersects(responderRoles)
            guard fromInitiator || toResponder || backward else { continue }
            let facts = ruleFacts[index]
            let serviceFits = facts.services.contains { $0.matches(ipProtocol: flow.ipProtocol, port: flow.responderPort) }
            let forward = fromInitiator && toResponder
            if backward && serviceFits && facts.oneWay {
                consider(0, 0, index, .reverseOfOneWay)
            }
            if forward || (backward && facts.both) {
                if !facts.chosen, let alternative = facts.alternatives.first(where: { $0.matches(ipProtocol: flow.ipProtocol, port: flow.responderPort) }) {
                    consider(1, 0, index, .alternativeNotChosen(alternative))
                } else {
                    let isTransport = { (p: UInt8) in p == Service.tcp || p == Service.udp }
                    // TCP instead of UDP (or the reverse) on a listed port is nearer than any wrong port.
                    let portFitsOtherTransport = isTransport(flow.ipProtocol)
                        && facts.entries.contains { isTransport($0.ipProtocol) && $0.ipProtocol != flow.ipProtocol && $0.ports.contains(flow.responderPort) }
                    if portFitsOtherTransport {
                        consider(2, 0, index, .wrongProtocol)
                    } else {
                        // The distance to the nearest port range of the flow's protocol.
                        var distance: Int?
                        let port = Int(flow.responderPort)
                        for entry in facts.entries where entry.ipProtocol == flow.ipProtocol {
                            let d = port < Int(entry.ports.lowerBound) ? Int(entry.ports.lowerBound) - port : port - Int(entry.ports.upperBound)
                            distance = min(distance ?? d, d)
                        }
                        if let distance {
                            consider(2, distance, index, .wrongPort)
                        } else {
                            consider(3, 0, index, .wrongProtocol)
                        }
                    }
                }
            }
            if serviceFits {
                if ruleFrom[index].intersects(initiatorRoles) && !ruleTo[index].intersects(responderRoles) {
                    consider(4, 0, index, .wrongResponder)
                } else if ruleTo[index].intersects(responderRoles) && !ruleFrom[index].intersects(initiatorRoles) {
                    consider(5, 0, index, .wrongInitiator)
                }
            }
        }
        return best?.miss
    }

    /// A sentence for a near miss: "matches arksspr/smtp-otp but for port 2525 (it allows tcp/587)".
    public func describe(_ miss: NearMiss, for flow: FlowQuery) -> String {
        let rule = policy.rules[miss.rule]
        let id = rule.qualifiedID
        let allows = rule.effectiveServices.map(\.description).joined(separator: ", ")
        let shape = "\(rule.rule.from.joined(separator: ",")) -> \(rule.rule.to.joined(separator: ","))"
        switch miss.reason {
        case .reverseOfOneWay:
            return "reverse direction of one-way rule \(id) (it allows \(shape) \(allows); here the \(rule.rule.to.joined(separator: ",")) side initiated)"
        case .alternativeNotChosen(let service):
            return "matches \(id) but \(service) is an alternative the site has not chosen (it allows \(allows); add 'choose: { \(rule.rule.id): \(service) }' to the site)"
        case .wrongPort:
            let what = flow.ipProtocol == Service.icmpv4 || flow.ipProtocol == Service.icmpv6 ? "ICMP type" : "port"
            if let chosen = rule.chosen, let original = rule.rule.services.first(where: { $0.matches(ipProtocol: flow.ipProtocol, port: flow.responderPort) }) {
                return "matches \(id) but for \(what) \(flow.responderPort): the site chose \(chosen) instead of \(original)"
            }
            return "matches \(id) but for \(what) \(flow.responderPort) (it allows \(allows))"
        case .wrongProtocol:
            return "matches \(id) but for protocol \(Self.protocolName(flow.ipProtocol)) (it allows \(allows))"
        case .wrongResponder:
            let roles = roleNames(roles(for: flow.responder, names: flow.responderNames, vlan: flow.vlan))
            return "\(id) allows \(shape) \(allows), but responder \(flow.responder) holds none of its 'to' roles (its roles: \(roles.isEmpty ? "none" : roles.joined(separator: ", ")))"
        case .wrongInitiator:
            let roles = roleNames(roles(for: flow.initiator, names: flow.initiatorNames, vlan: flow.vlan))
            return "\(id) allows \(shape) \(allows), but initiator \(flow.initiator) holds none of its 'from' roles (its roles: \(roles.isEmpty ? "none" : roles.joined(separator: ", ")))"
        }
    }

    /// `tcp`, `udp`, `icmp`, `icmpv6` or `ip/N`.
    public static func protocolName(_ number: UInt8) -> String { IPProtocolNumber.name(number) }

    // MARK: Orientation and services

    /// For a flow first seen mid-stream: true when some rule allows `a` (port `portA`) as
    /// initiator towards `b` on `portB` and none allows the reverse; false for the opposite;
    /// nil when both or neither orientation is allowed.
    public func orientationHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, ipProtocol: UInt8,
                                namesA: [String] = [], namesB: [String] = []) -> Bool? {
        let rolesA = roles(for: a, names: namesA), rolesB = roles(for: b, names: namesB)
        let forward = match(FlowQuery(initiator: a, responder: b, ipProtocol: ipProtocol, responderPort: portB), initiatorRoles: rolesA, responderRoles: rolesB).isAllowed
        let backward = match(FlowQuery(initiator: b, responder: a, ipProtocol: ipProtocol, responderPort: portA), initiatorRoles: rolesB, responderRoles: rolesA).isAllowed
        if forward == backward { return nil }
        return forward
    }

    /// True when `port` of `ipProtocol` is a service of some rule: the end to call responder
    /// when a flow's first packet does not say.
    public func isService(ipProtocol: UInt8, port: UInt16) -> Bool {
        guard let table = ports[Int(ipProtocol)] else { return false }
        return !table.rules(for: port).isEmpty
    }

    /// The `prefer:` entries whose `avoid` service covers this protocol and port, one per system
    /// at most, limited to `systems` (the rule files whose advice applies to the flow).
    public func preferAdvisories(ipProtocol: UInt8, port: UInt16, systems: Set<String>) -> [PreferEntry] {
        guard !policy.prefer.isEmpty, !systems.isEmpty else { return [] }
        var seen: Set<String> = []
        return policy.prefer.filter {
            systems.contains($0.system) && $0.avoid.matches(ipProtocol: ipProtocol, port: port) && seen.insert($0.system).inserted
        }
    }

    /// The systems (rule files) whose advice applies to a flow: those of the rules that allow
    /// it, else those whose roles its two ends hold.
    public func advisingSystems(_ match: MatchResult) -> Set<String> {
        if !match.allowed.isEmpty { return Set(match.allowed.map { policy.rules[$0.rule].rule.system }) }
        var systems: Set<String> = []
        for index in match.initiatorRoles.union(match.responderRoles).indices { systems.insert(roleSystems[index]) }
        return systems
    }

    /// True when some loaded rule file's `prefer:` entry avoids this protocol and port: the
    /// cheap test before the advising systems of a flow are worked out.
    public func isAvoided(ipProtocol: UInt8, port: UInt16) -> Bool {
        policy.prefer.contains { $0.avoid.matches(ipProtocol: ipProtocol, port: port) }
    }

    // MARK: Rules

    /// The index of the rule named `id` (`system/id`, or a bare id that only one file uses).
    public func ruleIndex(_ id: String) -> Int? { policy.ruleIndex(id) }

    /// Indices of the rules marked `required` whose roles are bound.
    public var requiredRules: [Int] { policy.rules.indices.filter { policy.rules[$0].rule.required && !policy.rules[$0].isUnbound } }

    /// Indices of the rules whose roles have no binding.
    public var unboundRules: [Int] { policy.rules.indices.filter { policy.rules[$0].isUnbound } }

    /// For an `each` rule: the hosts of its `from` roles that must each show the flow.
    public func eachHosts(rule index: Int) -> HostEnumeration {
        policy.hosts(ofRoles: policy.rules[index].rule.from)
    }

    /// The TLS version below which a flow of rule `index` gets an advisory.
    public func tlsMinimum(rule index: Int) -> TLSVersion? { policy.rules[index].tlsMinimum }

    /// Seconds a DNS-learned name binding outlives its TTL.
    public var dnsGrace: Int { policy.site?.dnsGrace ?? SiteBinding.defaultDNSGrace }
}
