import Testing
@testable import Policy

@Suite struct PolicyTextTests {
    @Test func ruleLines() throws {
        let site = CompiledPolicyTests.site(choose: "choose: {smtp: tcp/465}")
        let (policy, _) = Fixtures.compile(site: site, rules: ["vendor.yaml": CompiledPolicyTests.vendor, "monitoring.yaml": CompiledPolicyTests.monitoring])
        let lines = policy.rules.map(PolicyText.ruleLine)
        #expect(lines[0] == "vendor/app-db  vendor.app -> vendor.db  tcp/5432  one-way  [r1]")
        #expect(lines[1] == "vendor/replication  vendor.app -> vendor.dc  tcp/445  both  [r2]")
        #expect(lines[3] == "vendor/smtp  vendor.app -> vendor.mail  tcp/465 (chosen; default tcp/587)  one-way  [r4]")
        #expect(lines[6] == "vendor/ping  vendor.app -> vendor.db  icmp/echo, icmpv6/echo  one-way  [r7]")
        #expect(lines[8] == "vendor/ha  vendor.app -> vendor.db  tcp/5433  one-way required each  [r9]")
        #expect(lines[10] == "vendor/lost  vendor.app -> vendor.nowhere  tcp/1  one-way required unbound  [r11]")
        let plain = CompiledPolicyTests.plain.rules.map(PolicyText.ruleLine)
        #expect(plain[3] == "vendor/smtp  vendor.app -> vendor.mail  tcp/587 (alternatives tcp/25, tcp/465)  one-way  [r4]")
    }

    @Test func renderedModelShowsBindings() {
        let text = PolicyText.render(CompiledPolicyTests.plain.policy)
        #expect(text.contains("rule file vendor.yaml: system vendor: Vendor product\n  source: Vendor guide\n"))
        #expect(text.contains("site hq (site.yaml)  dns-grace 3600s\n  name mail.corp.example = 10.0.0.25\n"))
        #expect(text.contains("  vendor.app  monitored  \"Application servers\"\n      site: 10.0.0.10, 10.0.0.11\n"))
        #expect(text.contains("  vendor.dc  \"Domain controllers\"\n      site: 10.0.2.1-10.0.2.3, 2001:db8::2\n"))
        #expect(text.contains("  monitoring.dc  \"Domain controllers\"\n      site: 10.0.2.1-10.0.2.3, 2001:db8::2\n"))
        #expect(text.contains("  vendor.updates  \"Update servers\"\n      document: *.vendor.example\n"))
        #expect(text.contains("  vendor.nowhere  \"A role no site binds\"  unbound\n"))
        #expect(text.contains("prefer:\n  vendor/ldaps  avoid tcp/389  use tcp/636  \"Use LDAPS\"\n"))
    }
}
