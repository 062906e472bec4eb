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
        /// `inner` (whose flows `outer` allows too) still says something `outer` does not: it is
        /// required where `outer` is optional, or asks every host (`each`) where `outer` does not.
        /// Such a rule is the document's requirement, not a redundant allowance.
        func addsRequirement(_ inner: PolicyRule, over outer: PolicyRule) -> Bool {
            inner.rule.required && (!outer.rule.required || (inner.rule.each && !outer.rule.each))
        }
        /// Two rules from two rows of the document (their own purpose and reference): the
        /// document lists the same flows twice, and each row gets its status.
        func separateRows(_ a: PolicyRule, _ b: PolicyRule) -> Bool {
            a.rule.system == b.rule.system && a.rule.purpose != b.rule.purpose && a.rule.ref != b.rule.ref
        }
        let rules = policy.rules
        for j in rules.indices {
            for i in 0..<j {
                let a = rules[i], b = rules[j]
                let aCoversB = contains(a, b), bCoversA = contains(b, a)
                if aCoversB && bCoversA {
                    if separateRows(a, b) && a.rule.required == b.rule.required && a.rule.each == b.rule.each {
                        out.append(Diagnostic(.note, b.rule.location, "rule '\(b.qualifiedID)' allows exactly what '\(a.qualifiedID)' allows (\(a.rule.location)): "
                            + "the document lists the same flows for two purposes ('\(a.rule.ref)', '\(b.rule.ref)'); both are kept and reported"))
                    } else if !addsRequirement(b, over: a) && !addsRequirement(a, over: b) {
                        out.append(Diagnostic(.warning, b.rule.location, "rule '\(b.qualifiedID)' allows exactly what '\(a.qualifiedID)' allows (\(a.rule.location))"))
                    }
                } else if aCoversB {
                    if !addsRequirement(b, over: a) {
                        out.append(Diagnostic(.warning, b.rule.location, "rule '\(b.qualifiedID)' is shadowed by '\(a.qualifiedID)' (\(a.rule.location)): every flow it allows, that rule allows too"))
                    }
                } else if bCoversA {
                    if !addsRequirement(a, over: b) {
                        out.append(Diagnostic(.warning, a.rule.location, "rule '\(a.qualifiedID)' is shadowed by '\(b.qualifiedID)' (\(b.rule.location)): every flow it allows, that rule allows too"))
                    }
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
