import Packets

/// A role of one rule file with the site's binding. Each rule file is its own namespace: the
/// role's ``id`` is qualified by its system (`arksspr.internal-server`), so the same role name in
/// two products never merges.
public struct PolicyRole: Sendable, Hashable {
    /// `system.role`, as reports write it.
    public var id: String
    /// The system (rule file) that declares the role.
    public var system: String
    /// The id as the rule file writes it.
    public var localID: String
    public var description: String
    /// The product's own servers: a flow touching one is in scope.
    public var monitored: Bool
    /// Hosts the rule file gives (`names:` and `addresses:`).
    public var documentHosts: [HostSpec]
    /// Hosts the site binds for any VLAN, the addresses of bound machines included; nil when the
    /// site does not bind the role (or no site is loaded).
    public var siteHosts: [HostSpec]?
    /// Site bindings limited to VLANs: the hosts hold the role only on those VLANs.
    public var vlanBindings: [VLANBinding]
    /// The site's machines (`hosts:` entries) bound to the role.
    public var machines: [SiteBinding.Machine]
    public var location: SourceLocation

    /// Hosts of a site binding limited to VLAN ids, tunnel ids or both (an empty list: any).
    public struct VLANBinding: Sendable, Hashable {
        public var hosts: [HostSpec]
        public var vlans: [UInt16]
        public var tunnelIDs: [UInt32] = []
    }

    /// Every host spec of the role: the document's and the site's.
    public var hosts: [HostSpec] { documentHosts + (siteHosts ?? []) + vlanBindings.flatMap(\.hosts) }
    /// True when some host spec binds the role.
    public var isBound: Bool { !hosts.isEmpty }
}

/// A rule as a loaded policy applies it: the site's choice of alternative, whether its roles
/// are bound, the TLS minimum that applies.
public struct PolicyRule: Sendable, Hashable {
    public var rule: Rule
    /// The alternative (or service) the site chose with `choose:`, if any.
    public var chosen: Service?
    /// What the rule allows: `[chosen]` when the site chose, else the rule's `services`.
    public var effectiveServices: [Service]
    /// Roles of the rule with no binding.
    public var unboundRoles: [String]
    /// True when all `from` roles or all `to` roles are unbound: no flow can match, and an audit
    /// reports the rule `unbound`, never `missing`.
    public var isUnbound: Bool
    /// The site's `tls-minimum`, else the rule file's.
    public var tlsMinimum: TLSVersion?

    public var qualifiedID: String { rule.qualifiedID }
}

/// Rule files and a site binding, loaded, validated and merged; compile it with
/// ``CompiledPolicy/init(_:)`` for per-flow evaluation.
public struct Policy: Sendable, Hashable {
    public var ruleSets: [RuleSet]
    public var site: SiteBinding?
    /// Merged roles in first-declaration order.
    public var roles: [PolicyRole]
    /// Every rule of every rule file, in load order. A ``CompiledPolicy`` numbers rules by their
    /// index here.
    public var rules: [PolicyRule]
    public var prefer: [PreferEntry]

    /// Assembles a policy from parsed files and reports the checks that span files: systems
    /// defined twice, site roles no file declares (or that several files declare, written
    /// bare), unbound roles, `choose:` entries.
    public static func assemble(ruleSets: [RuleSet], site: SiteBinding?) -> (policy: Policy, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var sets: [RuleSet] = []
        var systems: [String: String] = [:]
        for set in ruleSets {
            if let other = systems[set.system] {
                diagnostics.append(Diagnostic(.error, set.location, "system '\(set.system)' is also defined by \(other); each system needs its own id"))
                continue
            }
            systems[set.system] = set.file
            sets.append(set)
        }

        // Roles: one namespace per rule file.
        var roles: [PolicyRole] = []
        var roleIndex: [String: Int] = [:]
        var bareIndex: [String: [Int]] = [:]
        for set in sets {
            for declaration in set.roles {
                let id = "\(set.system).\(declaration.id)"
                guard roleIndex[id] == nil else { continue }  // the rule file parser reports duplicates
                roleIndex[id] = roles.count
                bareIndex[declaration.id, default: []].append(roles.count)
                roles.append(PolicyRole(id: id, system: set.system, localID: declaration.id, description: declaration.description,
                                        monitored: declaration.monitored, documentHosts: declaration.names + declaration.addresses,
                                        siteHosts: nil, vlanBindings: [], machines: [], location: declaration.location))
            }
        }
        if roles.count > RoleSet.capacity {
            diagnostics.append(Diagnostic(.error, sets.last?.location ?? SourceLocation(file: "-"), "the loaded rule files declare \(roles.count) roles; at most \(RoleSet.capacity) are supported"))
            roles.removeLast(roles.count - RoleSet.capacity)
            roleIndex = roleIndex.filter { $0.value < RoleSet.capacity }
            bareIndex = bareIndex.mapValues { $0.filter { $0 < RoleSet.capacity } }
        }

        // The site's bindings: a role the loaded rule files do not declare is an error (a typo
        // would otherwise leave the audit with nothing in scope and a clean result).
        if let site {
            // A bare role resolves among the site's own `rules:` files first: a site written for
            // one product keeps binding its roles when other rule files are loaded beside it.
            let ownFiles = Set(site.ruleFiles.map(PathText.normalise))
            let ownSystems = Set(sets.filter { ownFiles.contains(PathText.normalise($0.file)) }.map(\.system))
            for binding in site.roles {
                let index: Int
                if binding.role.contains(".") {
                    guard let found = roleIndex[binding.role] else {
                        let hint = Suggestion.didYouMean(binding.role, in: roles.map(\.id))
                        diagnostics.append(Diagnostic(.error, binding.location, "site binds role '\(binding.role)' that no loaded rule file declares\(hint)"))
                        continue
                    }
                    index = found
                } else {
                    var candidates = bareIndex[binding.role] ?? []
                    let own = candidates.filter { ownSystems.contains(roles[$0].system) }
                    if candidates.count > 1 && own.count == 1 { candidates = own }
                    if candidates.count > 1 {
                        let names = candidates.map { "'\(roles[$0].id)'" }.joined(separator: ", ")
                        diagnostics.append(Diagnostic(.error, binding.location, "role '\(binding.role)' is declared by several loaded rule files (\(names)); write system.role"))
                        continue
                    }
                    guard let found = candidates.first else {
                        // Suggest the qualified id: it is right whatever else is loaded.
                        let hint = Suggestion.closest(to: binding.role, in: roles.map(\.localID))
                            .flatMap { local in roles.first { $0.localID == local }?.id }
                            .map { " (did you mean '\($0)'?)" } ?? Suggestion.didYouMean(binding.role, in: roles.map(\.id))
                        let loaded = sets.map(\.system).joined(separator: ", ")
                        diagnostics.append(Diagnostic(.error, binding.location, "site binds role '\(binding.role)' that no loaded rule file declares\(hint) (rule files loaded: \(loaded.isEmpty ? "none" : loaded))"))
                        continue
                    }
                    index = found
                }
                let machines = binding.machines.compactMap { site.machine($0) }
                let machineHosts = machines.flatMap(\.addresses).map(HostSpec.address)
                if binding.vlans.isEmpty && binding.tunnelIDs.isEmpty {
                    roles[index].siteHosts = (roles[index].siteHosts ?? []) + binding.hosts + machineHosts
                } else {
                    roles[index].vlanBindings.append(PolicyRole.VLANBinding(hosts: binding.hosts + machineHosts, vlans: binding.vlans,
                                                                           tunnelIDs: binding.tunnelIDs))
                    if roles[index].siteHosts == nil { roles[index].siteHosts = [] }
                }
                for machine in machines where !roles[index].machines.contains(machine) { roles[index].machines.append(machine) }
            }
        }

        // Rules, choices and unbound roles.
        var rules: [PolicyRule] = []
        for set in sets {
            for var rule in set.rules {
                rule.from = rule.from.map { "\(set.system).\($0)" }
                rule.to = rule.to.map { "\(set.system).\($0)" }
                let unbound = (rule.from + rule.to).filter { id in roleIndex[id].map { !roles[$0].isBound } ?? true }
                let isUnbound = rule.from.allSatisfy(unbound.contains) || rule.to.allSatisfy(unbound.contains)
                rules.append(PolicyRule(rule: rule, chosen: nil, effectiveServices: rule.services, unboundRoles: unbound,
                                        isUnbound: isUnbound, tlsMinimum: site?.tlsMinimum ?? set.tlsMinimum))
            }
        }
        if let site {
            var chosenAt: [Int: SourceLocation] = [:]
            for choice in site.choose {
                let candidates = rules.indices.filter { rules[$0].rule.qualifiedID == choice.rule || rules[$0].rule.id == choice.rule }
                guard let index = candidates.first else {
                    let hint = Suggestion.didYouMean(choice.rule, in: rules.map(\.rule.id) + rules.map(\.rule.qualifiedID))
                    diagnostics.append(Diagnostic(.error, choice.location, "choose names unknown rule '\(choice.rule)'\(hint)"))
                    continue
                }
                if candidates.count > 1 {
                    let names = candidates.map { rules[$0].rule.qualifiedID }.joined(separator: ", ")
                    diagnostics.append(Diagnostic(.error, choice.location, "choose: rule id '\(choice.rule)' is ambiguous (\(names)); write system/id"))
                    continue
                }
                let rule = rules[index].rule
                guard rule.alternatives.contains(choice.service) || rule.services.contains(choice.service) else {
                    let offered = (rule.services + rule.alternatives).map(\.description).joined(separator: ", ")
                    diagnostics.append(Diagnostic(.error, choice.location, "choose: '\(choice.service)' is not an alternative of rule '\(rule.qualifiedID)' (it offers \(offered))"))
                    continue
                }
                if let first = chosenAt[index] {
                    diagnostics.append(Diagnostic(.error, choice.location, "rule '\(rule.qualifiedID)' is chosen twice (first at \(first.line):\(first.column))"))
                    continue
                }
                chosenAt[index] = choice.location
                rules[index].chosen = choice.service
                rules[index].effectiveServices = [choice.service]
            }
            for role in roles where !role.isBound {
                let affected = rules.filter { $0.isUnbound && $0.unboundRoles.contains(role.id) }.map(\.qualifiedID)
                let tail = affected.isEmpty ? "" : "; its rules are unbound: \(affected.joined(separator: ", "))"
                diagnostics.append(Diagnostic(.warning, role.location, "role '\(role.id)' has no binding in site '\(site.name)' (\(site.file))\(tail)"))
            }
        }

        let policy = Policy(ruleSets: sets, site: site, roles: roles, rules: rules, prefer: sets.flatMap(\.prefer))
        for (index, rule) in rules.enumerated() where rule.rule.each && !rule.isUnbound && site != nil {
            if case .notEnumerable(let reason) = policy.hosts(ofRoles: rule.rule.from) {
                diagnostics.append(Diagnostic(.warning, rules[index].rule.location, "rule '\(rule.qualifiedID)' has 'each: true' but the hosts of its 'from' roles cannot be listed: \(reason)"))
            }
        }
        return (policy, diagnostics)
    }

    /// The merged role with id `id`.
    public func role(_ id: String) -> PolicyRole? { roles.first { $0.id == id } }

    /// The index of the rule named `id` (`system/id`, or `id` when only one loaded file has it).
    public func ruleIndex(_ id: String) -> Int? {
        if let index = rules.firstIndex(where: { $0.qualifiedID == id }) { return index }
        let matches = rules.indices.filter { rules[$0].rule.id == id }
        return matches.count == 1 ? matches[0] : nil
    }

    /// The static names the site gives `address`, sorted.
    public func staticNames(of address: IPAddress) -> [String] {
        (site?.names ?? []).filter { $0.addresses.contains(address) }.map(\.name).sorted()
    }

    /// The hosts of `roles` that must each show an `each` rule's flow: every machine of the
    /// site's `hosts:` (all its addresses are one host), single addresses, ranges of at most
    /// ``HostEnumeration/maximumRange`` addresses, /32 and /128 blocks, and exact names with a
    /// static binding in the site (one host per name). Any other binding (a larger block, a
    /// built-in set, a name only the capture can resolve) makes the hosts not enumerable.
    public func hosts(ofRoles ids: [String]) -> HostEnumeration {
        var hosts: [EachHost] = []
        var hostOfAddress: [IPAddress: Int] = [:]  // linear in the site's size, not quadratic
        func add(_ host: EachHost) {
            // An address listed again (as a machine's and as itself) is one host: the machine.
            if let index = host.addresses.compactMap({ hostOfAddress[$0] }).min() {
                if host.isMachine && !hosts[index].isMachine {
                    for address in hosts[index].addresses where hostOfAddress[address] == index { hostOfAddress[address] = nil }
                    hosts[index] = host
                    for address in host.addresses where hostOfAddress[address] == nil { hostOfAddress[address] = index }
                }
                return
            }
            for address in host.addresses where hostOfAddress[address] == nil { hostOfAddress[address] = hosts.count }
            hosts.append(host)
        }
        for id in ids {
            guard let role = role(id) else { continue }
            for machine in role.machines {
                add(EachHost(name: machine.name, addresses: machine.addresses, isMachine: true))
            }
            let machineAddresses = Set(role.machines.flatMap(\.addresses))
            for host in role.documentHosts + (role.siteHosts ?? []) + role.vlanBindings.flatMap(\.hosts) {
                switch host {
                case .address(let address):
                    if !machineAddresses.contains(address) { add(EachHost(address)) }
                case .range(let low, let high):
                    let range = AddressRange(family: low.isIPv4 ? .ipv4 : .ipv6, low: low.value, high: high.value)
                    guard range.count <= HostEnumeration.maximumRange else {
                        return .notEnumerable("role '\(id)' is bound to the range \(host) of more than \(HostEnumeration.maximumRange) addresses")
                    }
                    var value = range.low
                    while true {
                        add(EachHost(IPAddress(family: range.family, value: value)))
                        if value == range.high { break }
                        value += 1
                    }
                case .network:
                    return .notEnumerable("role '\(id)' is bound to the block \(host)")
                case .builtin(let set):
                    return .notEnumerable("role '\(id)' is bound to the built-in set '\(set.rawValue)'")
                case .name(let name):
                    let bound = (site?.names ?? []).filter { $0.name == name }.flatMap(\.addresses)
                    guard !bound.isEmpty else {
                        return .notEnumerable("role '\(id)' is bound to the name \(name), which the site's names: do not resolve")
                    }
                    add(EachHost(name: name, addresses: bound, isMachine: true))
                case .nameSuffix:
                    return .notEnumerable("role '\(id)' is bound to the name pattern \(host)")
                }
            }
        }
        return .hosts(hosts.sorted { ($0.isMachine ? 0 : 1, $0.isMachine ? $0.name : "", $0.addresses.first!) < ($1.isMachine ? 0 : 1, $1.isMachine ? $1.name : "", $1.addresses.first!) })
    }
}

/// A host an `each` rule counts: a machine of the site (several addresses) or one address.
public struct EachHost: Sendable, Hashable {
    /// The machine's name in the site, or the address.
    public var name: String
    public var addresses: [IPAddress]
    /// True for a named machine (a `hosts:` entry or a static name).
    public var isMachine: Bool

    public init(name: String, addresses: [IPAddress], isMachine: Bool) {
        self.name = name
        self.addresses = addresses
        self.isMachine = isMachine
    }

    /// A host known only by its address.
    public init(_ address: IPAddress) {
        self.init(name: address.description, addresses: [address], isMachine: false)
    }
}

/// The concrete hosts of a role, when they can be listed.
public enum HostEnumeration: Sendable, Hashable {
    case hosts([EachHost])
    case notEnumerable(String)

    /// The largest address range listed host by host.
    public static let maximumRange: UInt128 = 256
}
