import Testing
@testable import Policy

@Suite struct PolicyTextTests {
    @Test func ruleLines() throws {
        let site = CompiledPolicyTests.site(choose: "choose: {smtp: tcp/465}")
        let (policy, _) = Fixtures.compile(site: site, rules: ["vendor.yaml": CompiledPolicyTests.vendor, "monitoring.yaml": CompiledPolicyTests.monitoring])
        let lines = policy.rules.map(PolicyText.ruleLine)
        #expect(lines[0] == "vendor/app-db  app -> db  tcp/5432  one-way  [r1]")
        #expect(lines[1] == "vendor/replication  app -> dc  tcp/445  both  [r2]")
        #expect(lines[3] == "vendor/smtp  app -> mail  tcp/465 (chosen; default tcp/587)  one-way  [r4]")
        #expect(lines[6] == "vendor/ping  app -> db  icmp/echo, icmpv6/echo  one-way  [r7]")
        #expect(lines[8] == "vendor/ha  app -> db  tcp/5433  one-way required each  [r9]")
        #expect(lines[10] == "vendor/lost  app -> nowhere  tcp/1  one-way required unbound  [r11]")
        let plain = CompiledPolicyTests.plain.rules.map(PolicyText.ruleLine)
        #expect(plain[3] == "vendor/smtp  app -> mail  tcp/587 (alternatives tcp/25, tcp/465)  one-way  [r4]")
    }

    @Test func renderedModelShowsBindings() {
        let text = PolicyText.render(CompiledPolicyTests.plain.policy)
        #expect(text.contains("rule file vendor.yaml: system vendor: Vendor product\n  source: Vendor guide\n"))
        #expect(text.contains("site hq (site.yaml)  dns-grace 3600s\n  name mail.corp.example = 10.0.0.25\n"))
        #expect(text.contains("  app  monitored  \"Application servers\"  (vendor)\n      site: 10.0.0.10, 10.0.0.11\n"))
        #expect(text.contains("  dc  \"Domain controllers\"  (vendor, monitoring)\n      site: 10.0.2.1-10.0.2.3, 2001:db8::2\n"))
        #expect(text.contains("  updates  \"Update servers\"  (vendor)\n      document: *.vendor.example\n"))
        #expect(text.contains("  nowhere  \"A role no site binds\"  (vendor)  unbound\n"))
        #expect(text.contains("prefer:\n  vendor/ldaps  avoid tcp/389  use tcp/636  \"Use LDAPS\"\n"))
    }
}
