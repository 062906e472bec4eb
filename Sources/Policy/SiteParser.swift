import Foundation
import Packets
import Yams

/// Reads a site binding (see docs/rules.md) into a ``SiteBinding``, collecting every diagnostic.
enum SiteParser {
    static let topKeys = ["site", "rules", "roles", "names", "choose", "dns-grace", "tls-minimum"]

    static func parse(_ root: Node, reader r: YAMLReader) -> SiteBinding? {
        guard let entries = r.mapping(root, "a site binding") else { return nil }
        r.checkKeys(entries, in: root, allowed: topKeys, required: ["site"], context: "in the site binding")
        var site = SiteBinding(file: r.file, name: "", ruleFiles: [], roles: [], names: [], choose: [],
                               dnsGrace: SiteBinding.defaultDNSGrace, tlsMinimum: nil, location: r.location(root))
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
                    guard YAMLReader.isIdentifier(role.key) else {
                        r.error(role.keyNode, "role id '\(role.key)' must use only a-z, 0-9 and '-'")
                        continue
                    }
                    var hosts: [HostSpec] = []
                    var seen: Set<HostSpec> = []
                    let items = r.stringList(role.value, "the binding of role '\(role.key)'")
                    if items.isEmpty, RuleFileParser.isEmptySequence(role.value) {
                        r.warning(role.value, "role '\(role.key)' is bound to an empty list")
                    }
                    for (text, item) in items {
                        switch HostSpec.parse(text) {
                        case .success(let parsed):
                            if let warning = parsed.warning { r.warning(item, "\(warning) in role '\(role.key)'") }
                            if seen.insert(parsed.spec).inserted { hosts.append(parsed.spec) }
                        case .failure(let error):
                            r.error(item, "\(error.message) in role '\(role.key)'")
                        }
                    }
                    site.roles.append(SiteBinding.RoleBinding(role: role.key, hosts: hosts, location: r.location(role.keyNode)))
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
                if let seconds = r.integer(entry.value, "dns-grace") { site.dnsGrace = seconds }
            case "tls-minimum":
                site.tlsMinimum = r.tlsVersion(entry.value)
            default: break
            }
        }
        return site
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
