import Foundation
import Packets
import Yams

/// Reads a site binding (see docs/rules.md) into a ``SiteBinding``, collecting every diagnostic.
enum SiteParser {
    static let topKeys = ["site", "rules", "hosts", "roles", "names", "choose", "dns-grace", "tls-minimum", "audit-link-control"]
    static let bindingKeys = ["hosts", "vlan", "tunnel-id"]

    static func parse(_ root: Node, reader r: YAMLReader) -> SiteBinding? {
        guard let entries = r.mapping(root, "a site binding") else { return nil }
        r.checkKeys(entries, in: root, allowed: topKeys, required: ["site"], context: "in the site binding")
        var site = SiteBinding(file: r.file, name: "", ruleFiles: [], roles: [], machines: [], names: [], choose: [],
                               dnsGrace: SiteBinding.defaultDNSGrace, tlsMinimum: nil, location: r.location(root))
        // Machines first: role entries refer to them by name wherever `hosts:` stands in the file.
        if let machines = entries.first(where: { $0.key == "hosts" }) {
            site.machines = parseMachines(machines.value, reader: r)
        }
        for entry in entries {
            switch entry.key {
            case "site": site.name = r.string(entry.value, "site") ?? ""
            case "rules":
                let directory = (r.file as NSString).deletingLastPathComponent
                for (path, _) in r.stringList(entry.value, "rules") {
                    site.ruleFiles.append(PathText.resolve(path, relativeTo: directory))
                }
            case "roles":
                guard let roles = r.mapping(entry.value, "roles") else { continue }
                for role in roles {
                    if let binding = parseRoleBinding(role, machines: site.machines, reader: r) { site.roles.append(binding) }
                }
            case "names":
                guard let names = r.mapping(entry.value, "names") else { continue }
                for name in names {
                    guard case .success(.name(let normal)) = HostSpec.parseName(name.key) else {
                        let detail: String
                        if case .failure(let error) = HostSpec.parseName(name.key) { detail = error.message } else { detail = "a static binding names one host, not a '*.' suffix" }
                        r.error(name.keyNode, "invalid name '\(name.key)' in names: \(detail)")
                        continue
                    }
                    var addresses: [IPAddress] = []
                    for (text, item) in r.stringList(name.value, "the addresses of name '\(name.key)'") {
                        if let address = IPAddress(text) {
                            addresses.append(address)
                        } else {
                            r.error(item, "'\(text)' for name '\(name.key)' is not an IPv4 or IPv6 address (a static name binding lists single addresses)")
                        }
                    }
                    site.names.append(SiteBinding.NameBinding(name: normal, addresses: addresses, location: r.location(name.keyNode)))
                }
            case "choose":
                guard let choices = r.mapping(entry.value, "choose") else { continue }
                for choice in choices {
                    guard let text = r.string(choice.value, "the choice for rule '\(choice.key)'") else { continue }
                    switch Service.parse(text) {
                    case .success(let service):
                        site.choose.append(SiteBinding.Choice(rule: choice.key, service: service, location: r.location(choice.keyNode)))
                    case .failure(let error):
                        r.error(choice.value, "\(error.message) in choose for rule '\(choice.key)'")
                    }
                }
            case "dns-grace":
                if let seconds = r.duration(entry.value, "dns-grace") { site.dnsGrace = seconds }
            case "tls-minimum":
                site.tlsMinimum = r.tlsVersion(entry.value)
            case "audit-link-control":
                if let value = r.bool(entry.value, "audit-link-control") { site.auditLinkControl = value }
            default: break
            }
        }
        return site
    }
}

extension SiteParser {
    /// `hosts:`: machine name -> its addresses (one or a list).
    static func parseMachines(_ node: Node, reader r: YAMLReader) -> [SiteBinding.Machine] {
        guard let entries = r.mapping(node, "hosts") else { return [] }
        var machines: [SiteBinding.Machine] = []
        for entry in entries {
            guard isMachineName(entry.key) else {
                r.error(entry.keyNode, "host name '\(entry.key)' must be letters, digits, '-', '_' and '.', starting with a letter or digit")
                continue
            }
            if IPAddress(entry.key) != nil {
                r.error(entry.keyNode, "host name '\(entry.key)' is an address; name the machine (for example 'node-a') and list its addresses")
                continue
            }
            if machines.contains(where: { $0.name == entry.key }) {
                r.error(entry.keyNode, "host '\(entry.key)' is declared twice")
                continue
            }
            var addresses: [IPAddress] = []
            for (text, item) in r.stringList(entry.value, "the addresses of host '\(entry.key)'") {
                if let address = IPAddress(text) {
                    if let other = machines.first(where: { $0.addresses.contains(address) }) {
                        r.error(item, "address \(address) of host '\(entry.key)' already belongs to host '\(other.name)'")
                    } else if !addresses.contains(address) {
                        addresses.append(address)
                    }
                } else {
                    r.error(item, "'\(text)' for host '\(entry.key)' is not an IPv4 or IPv6 address (a host lists the single addresses of one machine)")
                }
            }
            if addresses.isEmpty { r.warning(entry.keyNode, "host '\(entry.key)' has no address") }
            machines.append(SiteBinding.Machine(name: entry.key, addresses: addresses, location: r.location(entry.keyNode)))
        }
        return machines
    }

    static func isMachineName(_ text: String) -> Bool {
        guard let first = text.utf8.first, (first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a) || (first >= 0x30 && first <= 0x39) else { return false }
        return text.utf8.count <= 253 && text.utf8.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x5f || $0 == 0x2e
        }
    }

    /// A role id as a site may write it: `role` or `system.role`.
    static func isRoleReference(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return (parts.count == 1 || parts.count == 2) && parts.allSatisfy { YAMLReader.isIdentifier(String($0)) }
    }

    /// One `roles:` entry: a host list, or `{ hosts: [...], vlan: [...], tunnel-id: [...] }`.
    static func parseRoleBinding(_ role: YAMLReader.Entry, machines: [SiteBinding.Machine], reader r: YAMLReader) -> SiteBinding.RoleBinding? {
        guard isRoleReference(role.key) else {
            r.error(role.keyNode, "role '\(role.key)' must be a role id (a-z, 0-9 and '-') or system.role")
            return nil
        }
        var hostsNode = role.value
        var vlans: [UInt16] = []
        var tunnelIDs: [UInt32] = []
        if case .mapping = role.value {
            guard let fields = r.mapping(role.value, "the binding of role '\(role.key)'") else { return nil }
            r.checkKeys(fields, in: role.value, allowed: bindingKeys, required: ["hosts"], context: "in the binding of role '\(role.key)'")
            guard let hosts = fields.first(where: { $0.key == "hosts" }) else { return nil }
            hostsNode = hosts.value
            if let vlanField = fields.first(where: { $0.key == "vlan" }) {
                for (text, item) in r.stringList(vlanField.value, "the vlan of role '\(role.key)'", numbers: true) {
                    if let id = UInt16(text), id >= 1, id <= 4094 {
                        if !vlans.contains(id) { vlans.append(id) }
                    } else {
                        r.error(item, "VLAN id '\(text)' in role '\(role.key)' must be a whole number from 1 to 4094")
                    }
                }
            }
            if let tunnelField = fields.first(where: { $0.key == "tunnel-id" }) {
                for (text, item) in r.stringList(tunnelField.value, "the tunnel-id of role '\(role.key)'", numbers: true) {
                    if let id = UInt32(text) {
                        if !tunnelIDs.contains(id) { tunnelIDs.append(id) }
                    } else {
                        r.error(item, "tunnel id '\(text)' in role '\(role.key)' must be a whole number from 0 to 4294967295 (a VNI, GRE key or TEID)")
                    }
                }
            }
        }
        var hosts: [HostSpec] = []
        var named: [String] = []
        var seen: Set<HostSpec> = []
        let items = r.stringList(hostsNode, "the binding of role '\(role.key)'")
        if items.isEmpty, RuleFileParser.isEmptySequence(hostsNode) {
            r.warning(hostsNode, "role '\(role.key)' is bound to an empty list")
        }
        for (text, item) in items {
            if machines.contains(where: { $0.name == text }) {
                if !named.contains(text) { named.append(text) }
                continue
            }
            switch HostSpec.parse(text) {
            case .success(let parsed):
                if let warning = parsed.warning { r.warning(item, "\(warning) in role '\(role.key)'") }
                if !vlans.isEmpty || !tunnelIDs.isEmpty, parsed.spec.isName {
                    r.error(item, "'\(text)' in role '\(role.key)': a binding limited to VLANs or tunnels lists addresses, blocks, ranges or hosts, not names")
                    continue
                }
                if seen.insert(parsed.spec).inserted { hosts.append(parsed.spec) }
            case .failure(let error):
                r.error(item, "\(error.message) in role '\(role.key)'")
            }
        }
        return SiteBinding.RoleBinding(role: role.key, hosts: hosts, machines: named, vlans: vlans, tunnelIDs: tunnelIDs,
                                       location: r.location(role.keyNode))
    }
}

/// Lexical path handling for `rules:` entries.
enum PathText {
    /// `path` joined to `directory` unless absolute, with `.` and `..` components folded away
    /// lexically (symbolic links are not followed), so diagnostics show a short path.
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
        return normalise(joined)
    }

    static func normalise(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if component == "..", absolute { continue }
            parts.append(component)
        }
        let body = parts.joined(separator: "/")
        return absolute ? "/" + body : (body.isEmpty ? "." : body)
    }
}
