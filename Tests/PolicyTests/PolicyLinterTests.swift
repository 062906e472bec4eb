import Testing
@testable import Policy

@Suite struct PolicyLinterTests {
    static func lint(_ rules: String, site: String? = nil) -> [String] {
        var files = ["r.yaml": rules]
        if let site { files["site.yaml"] = site }
        let result = Fixtures.loader(files).load(site: site == nil ? nil : "site.yaml", rules: ["r.yaml"])
        return PolicyLinter.check(result.policy).sortedForDisplay.map(\.description)
    }

    static let head = """
        system: l
        title: Lint
        source: Test
        roles:
          a: { description: A }
          b: { description: B }
          c: { description: C }
        rules:

        """

    @Test func shadowedRule() {
        let text = Self.head + """
              - { id: wide, purpose: Wide, from: [a, c], to: b, services: [tcp/1000-2000], direction: both, ref: t }
              - { id: narrow, purpose: Narrow, from: a, to: b, services: [tcp/1500], ref: t }
              - { id: reverse, purpose: Reverse, from: b, to: a, services: [tcp/1200], ref: t }
            """
        #expect(Self.lint(text) == [
            "warning: r.yaml:10:5: rule 'l/narrow' is shadowed by 'l/wide' (r.yaml:9:5): every flow it allows, that rule allows too",
            "warning: r.yaml:11:5: rule 'l/reverse' is shadowed by 'l/wide' (r.yaml:9:5): every flow it allows, that rule allows too",
        ])
    }

    @Test func laterRuleShadowingAnEarlierOne() {
        let text = Self.head + """
              - { id: narrow, purpose: Narrow, from: a, to: b, services: [udp/53], ref: t }
              - { id: wide, purpose: Wide, from: a, to: [b, c], services: [tcp+udp/53], ref: t }
            """
        #expect(Self.lint(text) == [
            "warning: r.yaml:9:5: rule 'l/narrow' is shadowed by 'l/wide' (r.yaml:10:5): every flow it allows, that rule allows too",
        ])
    }

    @Test func identicalRules() {
        let text = Self.head + """
              - { id: one, purpose: One, from: a, to: b, services: [tcp/22], ref: t }
              - { id: two, purpose: Two, from: a, to: b, services: [tcp/22], ref: t }
            """
        #expect(Self.lint(text) == ["warning: r.yaml:10:5: rule 'l/two' allows exactly what 'l/one' allows (r.yaml:9:5)"])
    }

    @Test("two rows of the document with the same flows: a note, not a warning; a copy under one reference stays a warning")
    func identicalRulesFromTwoRows() {
        let rows = Self.head + """
              - { id: one, purpose: Remoting, from: a, to: b, services: [tcp/5985, tcp/5986], required: true, ref: row 2 }
              - { id: two, purpose: Password change, from: a, to: b, services: [tcp/5985, tcp/5986], required: true, ref: row 3 }
            """
        #expect(Self.lint(rows) == ["note: r.yaml:10:5: rule 'l/two' allows exactly what 'l/one' allows (r.yaml:9:5): "
            + "the document lists the same flows for two purposes ('row 2', 'row 3'); both are kept and reported"])
        let sameRow = Self.head + """
              - { id: one, purpose: Remoting, from: a, to: b, services: [tcp/5985], ref: row 2 }
              - { id: two, purpose: Password change, from: a, to: b, services: [tcp/5985], ref: row 2 }
            """
        #expect(Self.lint(sameRow) == ["warning: r.yaml:10:5: rule 'l/two' allows exactly what 'l/one' allows (r.yaml:9:5)"])
    }

    @Test("a required rule inside an optional one is the document's requirement: no shadow warning; the reverse still warns")
    func requiredRuleInsideAnOptionalOne() {
        let text = Self.head + """
              - { id: base, purpose: Base, from: a, to: b, services: [tcp+udp/3478], required: true, ref: item 2 }
              - { id: pinned, purpose: Pinned, from: a, to: b, services: [tcp+udp/3478, tcp+udp/5349], required: false, ref: paragraph 1 }
            """
        #expect(Self.lint(text) == [])
        let optionalInside = Self.head + """
              - { id: base, purpose: Base, from: a, to: b, services: [tcp+udp/3478], required: false, ref: item 2 }
              - { id: pinned, purpose: Pinned, from: a, to: b, services: [tcp+udp/3478, tcp+udp/5349], required: true, ref: paragraph 1 }
            """
        #expect(Self.lint(optionalInside) == [
            "warning: r.yaml:9:5: rule 'l/base' is shadowed by 'l/pinned' (r.yaml:10:5): every flow it allows, that rule allows too",
        ])
    }

    @Test func overlappingRules() {
        let text = Self.head + """
              - { id: one, purpose: One, from: [a, c], to: b, services: [tcp/100-200], ref: t }
              - { id: two, purpose: Two, from: a, to: b, services: [tcp/150-250], ref: t }
              - { id: apart, purpose: Apart, from: a, to: b, services: [tcp/300], ref: t }
            """
        #expect(Self.lint(text) == ["warning: r.yaml:10:5: rule 'l/two' overlaps 'l/one' (r.yaml:9:5): some flows are allowed by both"])
    }

    @Test func broadRules() {
        let text = Self.head + """
              - { id: everything, purpose: All, from: a, to: b, services: [tcp/1-65535], ref: t }
              - { id: anywhere, purpose: Any, from: c, to: c, services: [udp/9], ref: t }
            """
        let site = "site: s\nrules: []\nroles:\n  a: [10.0.0.1]\n  b: [10.0.0.2]\n  c: [any]\n"
        #expect(Self.lint(text, site: site) == [
            "warning: r.yaml:9:5: rule 'l/everything' is overly broad: tcp/1-65535 allows every port",
            "warning: r.yaml:10:5: rule 'l/anywhere' is overly broad: it allows any host to any host",
        ])
    }

    @Test func anyCoversOtherRoles() {
        let text = Self.head + """
              - { id: open, purpose: Open, from: a, to: c, services: [tcp/443], ref: t }
              - { id: specific, purpose: Specific, from: a, to: b, services: [tcp/443], ref: t }
            """
        let site = "site: s\nroles:\n  a: [10.0.0.1]\n  b: [10.0.0.2]\n  c: [any]\n"
        #expect(Self.lint(text, site: site) == [
            "warning: r.yaml:10:5: rule 'l/specific' is shadowed by 'l/open' (r.yaml:9:5): every flow it allows, that rule allows too",
        ])
    }
}
