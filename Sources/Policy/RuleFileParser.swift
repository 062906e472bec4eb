import Yams

/// Reads one rule file (see docs/rules.md) into a ``RuleSet``, collecting every diagnostic.
enum RuleFileParser {
    static let topKeys = ["system", "title", "source", "tls-minimum", "roles", "rules", "prefer", "notes"]
    static let roleKeys = ["description", "monitored", "names", "addresses"]
    static let ruleKeys = ["id", "purpose", "from", "to", "services", "alternatives", "direction", "required", "each", "ref", "note"]
    static let preferKeys = ["id", "avoid", "use", "reason", "ref"]

    static func parse(_ root: Node, reader r: YAMLReader) -> RuleSet? {
        guard let entries = r.mapping(root, "a rule file") else { return nil }
        r.checkKeys(entries, in: root, allowed: topKeys, required: ["system", "title", "source", "roles", "rules"], context: "in the rule file")
        var set = RuleSet(file: r.file, system: "", title: "", source: "", tlsMinimum: nil, roles: [], rules: [], prefer: [], notes: [], location: r.location(root))
        func value(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

        if let node = value("system"), let system = r.identifier(node, "system") { set.system = system }
        if let node = value("title"), let title = r.string(node, "title") { set.title = title }
        if let node = value("source"), let source = r.string(node, "source") { set.source = source }
        if let node = value("tls-minimum") { set.tlsMinimum = r.tlsVersion(node) }
        if let node = value("roles") { set.roles = parseRoles(node, reader: r) }
        let declared = Set(set.roles.map(\.id))
        if let node = value("rules") { set.rules = parseRules(node, system: set.system, declared: declared, reader: r) }
        if let node = value("prefer") { set.prefer = parsePrefer(node, system: set.system, reader: r) }
        if let node = value("notes") { set.notes = r.stringList(node, "notes").map(\.0) }
        return set
    }

    static func parseRoles(_ node: Node, reader r: YAMLReader) -> [RoleDeclaration] {
        guard let entries = r.mapping(node, "roles") else { return [] }
        if entries.isEmpty { r.error(node, "roles is empty: declare the roles the rules name") }
        var roles: [RoleDeclaration] = []
        for entry in entries {
            guard YAMLReader.isIdentifier(entry.key) else {
                r.error(entry.keyNode, "role id '\(entry.key)' must use only a-z, 0-9 and '-'")
                continue
            }
            let context = "in role '\(entry.key)'"
            var role = RoleDeclaration(id: entry.key, description: "", monitored: false, names: [], addresses: [], location: r.location(entry.keyNode))
            guard let fields = r.mapping(entry.value, "role '\(entry.key)'") else { continue }
            r.checkKeys(fields, in: entry.value, allowed: roleKeys, required: ["description"], context: context)
            for field in fields {
                switch field.key {
                case "description": role.description = r.string(field.value, "description \(context)") ?? ""
                case "monitored": role.monitored = r.bool(field.value, "monitored \(context)") ?? false
                case "names":
                    for (text, item) in r.stringList(field.value, "names \(context)") {
                        switch HostSpec.parseName(text) {
                        case .success(let spec): role.names.append(spec)
                        case .failure(let error):
                            if IPAddressText.isAddressLike(text) {
                                r.error(item, "'\(text)' \(context) is not a DNS name; list addresses under 'addresses'")
                            } else {
                                r.error(item, "invalid name '\(text)' \(context): \(error.message)")
                            }
                        }
                    }
                case "addresses":
                    for (text, item) in r.stringList(field.value, "addresses \(context)") {
                        switch HostSpec.parse(text) {
                        case .success(let parsed):
                            if parsed.spec.isName {
                                r.error(item, "'\(text)' \(context) is a DNS name, not an address; list names under 'names'")
                            } else {
                                if let warning = parsed.warning { r.warning(item, warning) }
                                role.addresses.append(parsed.spec)
                            }
                        case .failure(let error): r.error(item, "\(error.message) \(context)")
                        }
                    }
                default: break
                }
            }
            roles.append(role)
        }
        return roles
    }

    static func parseRules(_ node: Node, system: String, declared: Set<String>, reader r: YAMLReader) -> [Rule] {
        guard case .sequence(let sequence) = node else {
            r.error(node, "rules must be a list of rules, found \(YAMLReader.kind(node))")
            return []
        }
        var rules: [Rule] = []
        var seen: [String: SourceLocation] = [:]
        for (index, item) in sequence.enumerated() {
            guard let fields = r.mapping(item, "rule \(index + 1)") else { continue }
            var rule = Rule(system: system, id: "", purpose: "", from: [], to: [], services: [], alternatives: [], direction: .oneWay,
                            required: false, each: false, ref: "", note: nil, location: r.location(item))
            let idNode = fields.first { $0.key == "id" }?.value
            if let idNode, let id = r.identifier(idNode, "rule id") { rule.id = id }
            let ruleName = rule.id.isEmpty ? "rule \(index + 1)" : "rule '\(rule.id)'"
            let context = "in \(ruleName)"
            r.checkKeys(fields, in: item, allowed: ruleKeys, required: ["id", "purpose", "from", "to", "services", "ref"], context: context)
            if !rule.id.isEmpty, let idNode {
                if let first = seen[rule.id] {
                    r.error(idNode, "duplicate rule id '\(rule.id)' (first defined at \(first.line):\(first.column))")
                } else {
                    seen[rule.id] = r.location(idNode)
                }
            }
            var valid = !rule.id.isEmpty
            for field in fields {
                switch field.key {
                case "purpose": rule.purpose = r.string(field.value, "purpose \(context)") ?? ""
                case "ref": rule.ref = r.string(field.value, "ref \(context)") ?? ""
                case "note": rule.note = r.string(field.value, "note \(context)")
                case "from", "to":
                    var ids: [String] = []
                    let items = r.stringList(field.value, "\(field.key) \(context)")
                    if items.isEmpty, case .sequence = field.value { r.error(field.value, "\(field.key) \(context) is empty") }
                    for (text, roleNode) in items {
                        if declared.contains(text) {
                            if !ids.contains(text) { ids.append(text) }
                        } else {
                            r.error(roleNode, "\(ruleName) names undeclared role '\(text)' in '\(field.key)'\(Suggestion.didYouMean(text, in: declared.sorted()))")
                            valid = false
                        }
                    }
                    if field.key == "from" { rule.from = ids } else { rule.to = ids }
                case "services", "alternatives":
                    let services = parseServices(field.value, what: field.key == "services" ? ruleName : "the alternatives of \(ruleName)", reader: r)
                    if field.key == "services" {
                        if isEmptySequence(field.value) { r.error(field.value, "services \(context) is empty") }
                        rule.services = services
                    } else {
                        rule.alternatives = services
                    }
                case "direction":
                    if let text = r.string(field.value, "direction \(context)") {
                        if let direction = Direction(rawValue: text) {
                            rule.direction = direction
                        } else {
                            let hint = Suggestion.didYouMean(text, in: ["one-way", "both"])
                            r.error(field.value, "unknown direction '\(text)' \(context)\(hint.isEmpty ? " (use one-way or both)" : hint)")
                        }
                    }
                case "required": rule.required = r.bool(field.value, "required \(context)") ?? false
                case "each": rule.each = r.bool(field.value, "each \(context)") ?? false
                default: break
                }
            }
            for alternative in rule.alternatives where rule.services.contains(alternative) {
                r.warning(item, "alternative \(alternative) \(context) is already one of its services")
            }
            if valid && !rule.from.isEmpty && !rule.to.isEmpty && !rule.services.isEmpty { rules.append(rule) }
        }
        return rules
    }

    static func isEmptySequence(_ node: Node) -> Bool {
        if case .sequence(let s) = node { return s.isEmpty }
        return false
    }

    static func parseServices(_ node: Node, what: String, reader r: YAMLReader) -> [Service] {
        var out: [Service] = []
        for (text, item) in r.stringList(node, what) {
            switch Service.parse(text) {
            case .success(let service):
                if case .ip(let number) = service, number == Service.tcp || number == Service.udp || number == Service.icmpv4 || number == Service.icmpv6 {
                    r.warning(item, "service '\(text)' in \(what) allows every port of the protocol; write tcp/PORT, udp/PORT or icmp instead")
                }
                if !out.contains(service) { out.append(service) }
            case .failure(let error):
                r.error(item, "\(error.message) in \(what)")
            }
        }
        return out
    }

    static func parsePrefer(_ node: Node, system: String, reader r: YAMLReader) -> [PreferEntry] {
        guard case .sequence(let sequence) = node else {
            r.error(node, "prefer must be a list, found \(YAMLReader.kind(node))")
            return []
        }
        var out: [PreferEntry] = []
        var seen: Set<String> = []
        for (index, item) in sequence.enumerated() {
            guard let fields = r.mapping(item, "prefer entry \(index + 1)") else { continue }
            let idNode = fields.first { $0.key == "id" }?.value
            let id = idNode.flatMap { r.identifier($0, "prefer id") } ?? ""
            let context = id.isEmpty ? "in prefer entry \(index + 1)" : "in prefer entry '\(id)'"
            r.checkKeys(fields, in: item, allowed: preferKeys, required: ["id", "avoid", "reason"], context: context)
            if !id.isEmpty, !seen.insert(id).inserted { r.error(idNode, "duplicate prefer id '\(id)'") }
            var avoid: Service?, use: Service?, reason = "", ref: String?
            for field in fields {
                switch field.key {
                case "avoid", "use":
                    guard let text = r.string(field.value, "\(field.key) \(context)") else { continue }
                    switch Service.parse(text) {
                    case .success(let service): if field.key == "avoid" { avoid = service } else { use = service }
                    case .failure(let error): r.error(field.value, "\(error.message) in \(field.key) \(context)")
                    }
                case "reason": reason = r.string(field.value, "reason \(context)") ?? ""
                case "ref": ref = r.string(field.value, "ref \(context)")
                default: break
                }
            }
            if let avoid, !id.isEmpty {
                out.append(PreferEntry(system: system, id: id, avoid: avoid, use: use, reason: reason, ref: ref, location: r.location(item)))
            }
        }
        return out
    }
}

/// Text tests shared by the parsers.
enum IPAddressText {
    /// Text that is an address, CIDR block or range rather than a DNS name.
    static func isAddressLike(_ text: String) -> Bool {
        if case .success(let parsed) = HostSpec.parse(text) { return !parsed.spec.isName }
        return HostSpec.looksLikeAddress(text) || text.utf8.contains(UInt8(ascii: "/"))
    }
}
