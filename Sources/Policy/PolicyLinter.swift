/// The checks `flowaudit lint` adds to loading: rules shadowed by or overlapping another rule,
/// and overly broad rules.
public enum PolicyLinter {
    /// Warnings about the rules of `policy`. Roles are compared by id; a role bound to `any`
    /// (by the site or its rule file) counts as holding every host.
    public static func check(_ policy: Policy) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let anyRoles = Set(policy.roles.filter { $0.hosts.contains(.builtin(.any)) }.map(\.id))
        func covers(_ outer: [String], _ inner: [String]) -> Bool {
            outer.contains(where: anyRoles.contains) || Set(inner).isSubset(of: Set(outer))
        }
        func meets(_ a: [String], _ b: [String]) -> Bool {
            a.contains(where: anyRoles.contains) || b.contains(where: anyRoles.contains) || !Set(a).isDisjoint(with: Set(b))
        }
        func servicesCover(_ outer: [Service], _ inner: [Service]) -> Bool {
            inner.allSatisfy { service in
                service.entries.allSatisfy { entry in
                    outer.contains { $0.entries.contains { $0.ipProtocol == entry.ipProtocol && $0.ports.lowerBound <= entry.ports.lowerBound && $0.ports.upperBound >= entry.ports.upperBound } }
                }
            }
        }
        /// `a` allows every flow `b` allows.
        func contains(_ a: PolicyRule, _ b: PolicyRule) -> Bool {
            guard servicesCover(a.effectiveServices, b.effectiveServices) else { return false }
            let forward = covers(a.rule.from, b.rule.from) && covers(a.rule.to, b.rule.to)
            if b.rule.direction == .oneWay {
                return forward || (a.rule.direction == .both && covers(a.rule.to, b.rule.from) && covers(a.rule.from, b.rule.to))
            }
            return a.rule.direction == .both && forward
        }
        func overlap(_ a: PolicyRule, _ b: PolicyRule) -> Bool {
            let servicesMeet = a.effectiveServices.contains { s in b.effectiveServices.contains { s.overlaps($0) } }
            guard servicesMeet else { return false }
            if meets(a.rule.from, b.rule.from) && meets(a.rule.to, b.rule.to) { return true }
            let eitherBoth = a.rule.direction == .both || b.rule.direction == .both
            return eitherBoth && meets(a.rule.from, b.rule.to) && meets(a.rule.to, b.rule.from)
        }
        let rules = policy.rules
        for j in rules.indices {
            for i in 0..<j {
                let a = rules[i], b = rules[j]
                let aCoversB = contains(a, b), bCoversA = contains(b, a)
                if aCoversB && bCoversA {
                    out.append(Diagnostic(.warning, b.rule.location, "rule '\(b.qualifiedID)' allows exactly what '\(a.qualifiedID)' allows (\(a.rule.location))"))
                } else if aCoversB {
                    out.append(Diagnostic(.warning, b.rule.location, "rule '\(b.qualifiedID)' is shadowed by '\(a.qualifiedID)' (\(a.rule.location)): every flow it allows, that rule allows too"))
                } else if bCoversA {
                    out.append(Diagnostic(.warning, a.rule.location, "rule '\(a.qualifiedID)' is shadowed by '\(b.qualifiedID)' (\(b.rule.location)): every flow it allows, that rule allows too"))
                } else if overlap(a, b) {
                    out.append(Diagnostic(.warning, b.rule.location, "rule '\(b.qualifiedID)' overlaps '\(a.qualifiedID)' (\(a.rule.location)): some flows are allowed by both"))
                }
            }
        }
        for rule in rules {
            if rule.rule.from.contains(where: anyRoles.contains) && rule.rule.to.contains(where: anyRoles.contains) {
                out.append(Diagnostic(.warning, rule.rule.location, "rule '\(rule.qualifiedID)' is overly broad: it allows any host to any host"))
            }
            for service in rule.effectiveServices {
                if case .transport(_, let ports) = service, ports == 1...65535 {
                    out.append(Diagnostic(.warning, rule.rule.location, "rule '\(rule.qualifiedID)' is overly broad: \(service) allows every port"))
                }
            }
        }
        return out
    }
}
