import Packets

/// The normalised text of a policy, as `flowaudit lint` prints it, so a user can see how each
/// file was understood.
public enum PolicyText {
    /// One line per rule: `arksspr/license-validation  internal-server -> license-server  tcp/443  one-way required  [ref]`.
    public static func ruleLine(_ rule: PolicyRule) -> String {
        let r = rule.rule
        var services = rule.effectiveServices.map(\.description).joined(separator: ", ")
        if let chosen = rule.chosen {
            services = "\(chosen) (chosen; default \(r.services.map(\.description).joined(separator: ", ")))"
        } else if !r.alternatives.isEmpty {
            services += " (alternatives \(r.alternatives.map(\.description).joined(separator: ", ")))"
        }
        var flags = [r.direction.rawValue]
        if r.required { flags.append("required") }
        if r.each { flags.append("each") }
        if rule.isUnbound { flags.append("unbound") }
        return "\(r.qualifiedID)  \(r.from.joined(separator: ", ")) -> \(r.to.joined(separator: ", "))  \(services)  \(flags.joined(separator: " "))  [\(r.ref)]"
    }

    /// The whole model: files, roles with their bindings, rules, prefer entries and notes.
    public static func render(_ policy: Policy) -> String {
        var lines: [String] = []
        for set in policy.ruleSets {
            var head = "rule file \(set.file): system \(set.system): \(set.title)"
            if let tls = set.tlsMinimum { head += "  tls-minimum \(tls.number)" }
            lines.append(head)
            lines.append("  source: \(set.source)")
        }
        if let site = policy.site {
            var head = "site \(site.name) (\(site.file))  dns-grace \(site.dnsGrace)s"
            if let tls = site.tlsMinimum { head += "  tls-minimum \(tls.number)" }
            if site.auditLinkControl { head += "  audit-link-control" }
            lines.append(head)
            for machine in site.machines {
                lines.append("  host \(machine.name) = \(machine.addresses.map(\.description).joined(separator: ", "))")
            }
            for binding in site.names {
                lines.append("  name \(binding.name) = \(binding.addresses.map(\.description).joined(separator: ", "))")
            }
        } else {
            lines.append("no site: roles are bound only by what the rule files give")
        }
        lines.append("")
        lines.append("roles:")
        for role in policy.roles {
            var head = "  \(role.id)"
            if role.monitored { head += "  monitored" }
            head += "  \"\(role.description)\""
            if !role.isBound { head += "  unbound" }
            lines.append(head)
            if !role.documentHosts.isEmpty {
                lines.append("      document: \(role.documentHosts.map(\.description).joined(separator: ", "))")
            }
            // A machine is shown by name with all its addresses; its addresses are not repeated.
            let machineAddresses = Set(role.machines.flatMap(\.addresses))
            for machine in role.machines {
                lines.append("      host \(machine.name): \(machine.addresses.map(\.description).joined(separator: ", "))")
            }
            let others = (role.siteHosts ?? []).filter { if case .address(let a) = $0 { return !machineAddresses.contains(a) }; return true }
            if !others.isEmpty {
                lines.append("      site: \(others.map(\.description).joined(separator: ", "))")
            }
            for binding in role.vlanBindings {
                let hosts = binding.hosts.map { host -> String in
                    if case .address(let a) = host, let machine = role.machines.first(where: { $0.addresses.contains(a) }) { return "\(a) (\(machine.name))" }
                    return host.description
                }
                var scope: [String] = []
                if !binding.vlans.isEmpty { scope.append("VLAN \(binding.vlans.map(String.init).joined(separator: ", "))") }
                if !binding.tunnelIDs.isEmpty { scope.append("tunnel id \(binding.tunnelIDs.map(String.init).joined(separator: ", "))") }
                lines.append("      site, \(scope.joined(separator: " and ")) only: \(hosts.joined(separator: ", "))")
            }
        }
        lines.append("")
        lines.append("rules:")
        for rule in policy.rules {
            lines.append("  " + ruleLine(rule))
            lines.append("      purpose: \(rule.rule.purpose)")
            if let note = rule.rule.note { lines.append("      note: \(note)") }
        }
        if !policy.prefer.isEmpty {
            lines.append("")
            lines.append("prefer:")
            for entry in policy.prefer {
                var line = "  \(entry.qualifiedID)  avoid \(entry.avoid)"
                if let use = entry.use { line += "  use \(use)" }
                line += "  \"\(entry.reason)\""
                if let ref = entry.ref { line += "  [\(ref)]" }
                lines.append(line)
            }
        }
        let notes = policy.ruleSets.flatMap { set in set.notes.map { "  \(set.system): \($0)" } }
        if !notes.isEmpty {
            lines.append("")
            lines.append("notes:")
            lines += notes
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
