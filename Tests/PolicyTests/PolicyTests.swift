import Testing
@testable import Policy

/// Checks that span files: site bindings, unbound roles, choices, systems defined twice.
@Suite struct PolicyTests {
    static func load(site: String, rules: [String: String] = ["demo.yaml": Fixtures.demo], extra: [String] = []) -> PolicyLoadResult {
        var files = rules
        files["site.yaml"] = site
        return Fixtures.loader(files).load(site: "site.yaml", rules: extra)
    }

    @Test func siteBindsRolesAndLoadsItsRuleFiles() throws {
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.1]\n  db: [10.0.0.2, db.example]\n")
        #expect(result.diagnostics.isEmpty)
        let db = try #require(result.policy.role("db"))
        #expect(db.siteHosts?.map(\.description) == ["10.0.0.2", "db.example"])
        #expect(db.isBound)
        #expect(result.policy.rules.allSatisfy { !$0.isUnbound })
    }

    @Test func unboundRoleIsAWarningAndItsRulesAreUnbound() throws {
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.1]\n  dbb: [10.0.0.2]\n")
        #expect(result.diagnostics.map(\.description) == [
            "demo.yaml:8:3: warning: role 'db' has no binding in site 'hq' (site.yaml); its rules are unbound: demo/app-db",
            "site.yaml:5:3: warning: site binds role 'dbb' that no loaded rule file declares (did you mean 'db'?)",
        ])
        #expect(!result.hasErrors)
        let rule = try #require(result.policy.rules.first)
        #expect(rule.isUnbound)
        #expect(rule.unboundRoles == ["db"])
        let compiled = CompiledPolicy(result.policy)
        #expect(compiled.unboundRules == [0])
        #expect(compiled.requiredRules.isEmpty)
    }

    @Test func documentNamesBindARoleByThemselves() throws {
        let rules = Fixtures.demo.replacingOccurrences(of: "    description: Database", with: "    description: Database\n    names: [db.vendor.example]")
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.1]\n", rules: ["demo.yaml": rules])
        #expect(result.diagnostics.isEmpty)
        #expect(result.policy.rules.first?.isUnbound == false)
    }

    @Test func siteValidation() {
        let site = """
            site: hq
            rules: [demo.yaml]
            roles:
              app: [10.0.0.300, "10.0.0.0/8x"]
              db: 10.0.0.2
            names:
              db.example: [db2.example]
              "*.example": [10.0.0.9]
            chose: {}
            dns-grace: -5
            """
        let result = Self.load(site: site)
        #expect(result.diagnostics.map(\.description) == [
            "demo.yaml:5:3: warning: role 'app' has no binding in site 'hq' (site.yaml); its rules are unbound: demo/app-db",
            "site.yaml:4:9: error: invalid IPv4 address '10.0.0.300' in role 'app'",
            "site.yaml:4:21: error: invalid CIDR block '10.0.0.0/8x': prefix length '8x' is not 0-32 in role 'app'",
            "site.yaml:7:16: error: 'db2.example' for name 'db.example' is not an IPv4 or IPv6 address (a static name binding lists single addresses)",
            "site.yaml:8:3: error: invalid name '*.example' in names: a static binding names one host, not a '*.' suffix",
            "site.yaml:9:1: error: unknown key 'chose' in the site binding (did you mean 'choose'?)",
            "site.yaml:10:12: error: dns-grace must be a whole number of seconds, found the scalar '-5'",
        ])
    }

    @Test func siteWithoutName() {
        let result = Self.load(site: "rules: [demo.yaml]\n")
        #expect(result.diagnostics.map(\.description).contains("site.yaml:1:1: error: missing required key 'site' in the site binding"))
    }

    static let smtp = """
        system: mailer
        title: Mailer
        source: Mailer guide
        roles:
          app: { description: App, monitored: true }
          mail: { description: Mail server }
        rules:
          - id: smtp
            purpose: One-time passwords
            from: app
            to: mail
            services: [tcp/587]
            alternatives: [tcp/25, tcp/465]
            ref: table 2
        """

    @Test func chooseSelectsAnAlternative() throws {
        let site = "site: hq\nrules: [mailer.yaml]\nroles: {app: [10.0.0.1], mail: [10.0.0.25]}\nchoose:\n  smtp: tcp/465\n"
        let result = Self.load(site: site, rules: ["mailer.yaml": Self.smtp])
        #expect(result.diagnostics.isEmpty)
        let rule = try #require(result.policy.rules.first)
        #expect(rule.chosen?.description == "tcp/465")
        #expect(rule.effectiveServices.map(\.description) == ["tcp/465"])
    }

    @Test func chooseValidation() {
        let site = """
            site: hq
            rules: [mailer.yaml]
            roles: {app: [10.0.0.1], mail: [10.0.0.25]}
            choose:
              smtp: tcp/2525
              smpt: tcp/25
              mailer/smtp: tcp/0
            """
        let result = Self.load(site: site, rules: ["mailer.yaml": Self.smtp])
        #expect(result.diagnostics.map(\.description) == [
            "site.yaml:5:3: error: choose: 'tcp/2525' is not an alternative of rule 'mailer/smtp' (it offers tcp/587, tcp/25, tcp/465)",
            "site.yaml:6:3: error: choose names unknown rule 'smpt' (did you mean 'smtp'?)",
            "site.yaml:7:16: error: port 0 out of range in service 'tcp/0' (ports are 1-65535) in choose for rule 'mailer/smtp'",
        ])
    }

    @Test func ambiguousChoiceAcrossFiles() {
        let other = Self.smtp.replacingOccurrences(of: "system: mailer", with: "system: notifier")
        let site = "site: hq\nrules: [mailer.yaml, notifier.yaml]\nroles: {app: [10.0.0.1], mail: [10.0.0.25]}\nchoose: {smtp: tcp/25, notifier/smtp: tcp/465}\n"
        let result = Self.load(site: site, rules: ["mailer.yaml": Self.smtp, "notifier.yaml": other])
        #expect(result.diagnostics.map(\.description) == [
            "site.yaml:4:10: error: choose: rule id 'smtp' is ambiguous (mailer/smtp, notifier/smtp); write system/id",
        ])
        #expect(result.policy.rules.map { $0.chosen?.description } == [nil, "tcp/465"])
    }

    @Test func systemDefinedTwice() {
        let result = Fixtures.loader(["a.yaml": Fixtures.demo, "b.yaml": Fixtures.demo]).load(site: nil, rules: ["a.yaml", "b.yaml"])
        #expect(result.diagnostics.map(\.description) == [
            "b.yaml:1:1: error: system 'demo' is also defined by a.yaml; each system needs its own id",
        ])
    }

    @Test func aFileNamedTwiceIsReadOnce() {
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles: {app: [10.0.0.1], db: [10.0.0.2]}\n", extra: ["./demo.yaml"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.policy.ruleSets.count == 1)
    }

    @Test func rolesMergeAcrossFiles() throws {
        let other = """
            system: backup
            title: Backup
            source: Backup guide
            roles:
              db:
                description: Database servers
                monitored: true
                addresses: [10.0.9.0/24]
              vault: { description: Backup vault }
            rules:
              - { id: dump, purpose: Nightly dump, from: vault, to: db, services: [tcp/5432], ref: p. 4 }
            """
        let result = Fixtures.loader(["demo.yaml": Fixtures.demo, "backup.yaml": other]).load(site: nil, rules: ["demo.yaml", "backup.yaml"])
        #expect(result.diagnostics.isEmpty)
        let db = try #require(result.policy.role("db"))
        #expect(db.declaredBy == ["demo", "backup"])
        #expect(db.monitored)
        #expect(db.description == "Database")
        #expect(db.documentHosts.map(\.description) == ["10.0.9.0/24"])
        #expect(result.policy.roles.map(\.id) == ["app", "db", "vault"])
    }

    @Test func eachNeedsEnumerableHosts() {
        let rules = Fixtures.demo + "\n    each: true"
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.0/24]\n  db: [10.0.0.2]\n", rules: ["demo.yaml": rules])
        #expect(result.diagnostics.map(\.description) == [
            "demo.yaml:11:5: warning: rule 'demo/app-db' has 'each: true' but the hosts of its 'from' roles cannot be listed: role 'app' is bound to the block 10.0.0.0/24",
        ])
    }

    @Test func hostEnumeration() {
        let site = """
            site: hq
            rules: [demo.yaml]
            roles:
              app: [10.0.0.3, 10.0.0.1-10.0.0.2, app.corp.example, 10.0.0.1]
              db: [any]
            names:
              app.corp.example: [10.0.0.7]
            """
        let policy = Self.load(site: site).policy
        #expect(policy.hosts(ofRoles: ["app"]) == .hosts(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.7"].map(Fixtures.address)))
        #expect(policy.hosts(ofRoles: ["db"]) == .notEnumerable("role 'db' is bound to the built-in set 'any'"))
    }
}
