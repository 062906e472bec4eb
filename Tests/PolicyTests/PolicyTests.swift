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
        let db = try #require(result.policy.role("demo.db"))
        #expect(db.siteHosts?.map(\.description) == ["10.0.0.2", "db.example"])
        #expect(db.isBound)
        #expect(result.policy.rules.allSatisfy { !$0.isUnbound })
    }

    @Test func unknownRoleIsAnErrorAndUnboundRoleAWarning() throws {
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.1]\n  dbb: [10.0.0.2]\n")
        #expect(result.diagnostics.map(\.description) == [
            "warning: demo.yaml:8:3: role 'demo.db' has no binding in site 'hq' (site.yaml); its rules are unbound: demo/app-db",
            "error: site.yaml:5:3: site binds role 'dbb' that no loaded rule file declares (did you mean 'demo.db'?) (rule files loaded: demo)",
        ])
        // A typo must not leave the audit with nothing in scope and a clean result: it is an error.
        #expect(result.hasErrors)
        let rule = try #require(result.policy.rules.first)
        #expect(rule.isUnbound)
        #expect(rule.unboundRoles == ["demo.db"])
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
            "warning: demo.yaml:5:3: role 'demo.app' has no binding in site 'hq' (site.yaml); its rules are unbound: demo/app-db",
            "error: site.yaml:4:9: invalid IPv4 address '10.0.0.300' in role 'app'",
            "error: site.yaml:4:21: invalid CIDR block '10.0.0.0/8x': prefix length '8x' is not 0-32 in role 'app'",
            "error: site.yaml:7:16: 'db2.example' for name 'db.example' is not an IPv4 or IPv6 address (a static name binding lists single addresses)",
            "error: site.yaml:8:3: invalid name '*.example' in names: a static binding names one host, not a '*.' suffix",
            "error: site.yaml:9:1: unknown key 'chose' in the site binding (did you mean 'choose'?)",
            "error: site.yaml:10:12: dns-grace must be a duration of whole seconds, minutes or hours (90, 90s, 5m, 1h), found the scalar '-5'",
        ])
    }

    @Test func siteWithoutName() {
        let result = Self.load(site: "rules: [demo.yaml]\n")
        #expect(result.diagnostics.map(\.description).contains("error: site.yaml:1:1: missing required key 'site' in the site binding"))
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
            "error: site.yaml:5:3: choose: 'tcp/2525' is not an alternative of rule 'mailer/smtp' (it offers tcp/587, tcp/25, tcp/465)",
            "error: site.yaml:6:3: choose names unknown rule 'smpt' (did you mean 'smtp'?)",
            "error: site.yaml:7:16: port 0 out of range in service 'tcp/0' (ports are 1-65535) in choose for rule 'mailer/smtp'",
        ])
    }

    @Test func ambiguousChoiceAcrossFiles() {
        let other = Self.smtp.replacingOccurrences(of: "system: mailer", with: "system: notifier")
        let site = "site: hq\nrules: [mailer.yaml, notifier.yaml]\nroles: {mailer.app: [10.0.0.1], mailer.mail: [10.0.0.25], notifier.app: [10.0.0.1], notifier.mail: [10.0.0.25]}\nchoose: {smtp: tcp/25, notifier/smtp: tcp/465}\n"
        let result = Self.load(site: site, rules: ["mailer.yaml": Self.smtp, "notifier.yaml": other])
        #expect(result.diagnostics.map(\.description) == [
            "error: site.yaml:4:10: choose: rule id 'smtp' is ambiguous (mailer/smtp, notifier/smtp); write system/id",
        ])
        #expect(result.policy.rules.map { $0.chosen?.description } == [nil, "tcp/465"])
    }

    @Test func systemDefinedTwice() {
        let result = Fixtures.loader(["a.yaml": Fixtures.demo, "b.yaml": Fixtures.demo]).load(site: nil, rules: ["a.yaml", "b.yaml"])
        #expect(result.diagnostics.map(\.description) == [
            "error: b.yaml:1:1: system 'demo' is also defined by a.yaml; each system needs its own id",
        ])
    }

    @Test func aFileNamedTwiceIsReadOnce() {
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles: {app: [10.0.0.1], db: [10.0.0.2]}\n", extra: ["./demo.yaml"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.policy.ruleSets.count == 1)
    }

    @Test func sameRoleInTwoFilesStaysTwoRoles() throws {
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
        #expect(result.policy.roles.map(\.id) == ["demo.app", "demo.db", "backup.db", "backup.vault"])
        let db = try #require(result.policy.role("backup.db"))
        #expect(db.monitored)
        #expect(db.description == "Database servers")
        #expect(db.documentHosts.map(\.description) == ["10.0.9.0/24"])
        let demoDB = try #require(result.policy.role("demo.db"))
        #expect(demoDB.documentHosts.isEmpty)
        // Rules name their own file's roles.
        #expect(result.policy.rules.map(\.rule.to) == [["demo.db"], ["backup.db"]])
    }

    @Test func bareRoleDeclaredByTwoFilesIsAnError() throws {
        let other = """
            system: backup
            title: Backup
            source: Backup guide
            roles:
              db: { description: Database servers }
            rules:
              - { id: dump, purpose: Nightly dump, from: db, to: db, services: [tcp/5432], ref: p. 4 }
            """
        let site = "site: hq\nrules: [demo.yaml, backup.yaml]\nroles:\n  app: [10.0.0.1]\n  db: [10.0.0.2]\n  backup.db: [10.0.0.3]\n"
        let result = Fixtures.loader(["demo.yaml": Fixtures.demo, "backup.yaml": other, "site.yaml": site]).load(site: "site.yaml", rules: [])
        #expect(result.hasErrors)
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.description) == [
            "error: site.yaml:5:3: role 'db' is declared by several loaded rule files ('demo.db', 'backup.db'); write system.role",
        ])
        #expect(result.policy.role("backup.db")?.siteHosts?.map(\.description) == ["10.0.0.3"])
    }

    @Test func machinesBindAllTheirAddressesAndCountAsOneHost() throws {
        let rules = Fixtures.demo + "\n    each: true"
        let site = """
            site: hq
            rules: [demo.yaml]
            hosts:
              node-a: [10.0.0.1, "2001:db8::1"]
              node-b: [10.0.0.2, "2001:db8::2"]
            roles:
              app: [node-a, node-b, 10.0.0.9]
              db: [10.0.1.1]
            """
        let result = Self.load(site: site, rules: ["demo.yaml": rules])
        #expect(result.diagnostics.isEmpty)
        let app = try #require(result.policy.role("demo.app"))
        #expect(app.hosts.map(\.description) == ["10.0.0.9", "10.0.0.1", "2001:db8::1", "10.0.0.2", "2001:db8::2"])
        guard case .hosts(let hosts) = result.policy.hosts(ofRoles: ["demo.app"]) else {
            Issue.record("hosts not enumerable")
            return
        }
        #expect(hosts.map(\.name) == ["node-a", "node-b", "10.0.0.9"])
        #expect(hosts[0].addresses == ["10.0.0.1", "2001:db8::1"].map(Fixtures.address))
    }

    @Test func machineErrors() {
        let site = """
            site: hq
            rules: [demo.yaml]
            hosts:
              node-a: [10.0.0.1]
              10.0.0.5: [10.0.0.5]
              node-b: [10.0.0.1, not-an-address]
            roles:
              app: [node-a]
              db:
                hosts: [10.0.1.1]
                vlan: [20, 5000]
            """
        let result = Self.load(site: site)
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.description) == [
            "error: site.yaml:5:3: host name '10.0.0.5' is an address; name the machine (for example 'node-a') and list its addresses",
            "error: site.yaml:6:12: address 10.0.0.1 of host 'node-b' already belongs to host 'node-a'",
            "error: site.yaml:6:22: 'not-an-address' for host 'node-b' is not an IPv4 or IPv6 address (a host lists the single addresses of one machine)",
            "error: site.yaml:11:16: VLAN id '5000' in role 'db' must be a whole number from 1 to 4094",
        ])
    }

    @Test func eachNeedsEnumerableHosts() {
        let rules = Fixtures.demo + "\n    each: true"
        let result = Self.load(site: "site: hq\nrules: [demo.yaml]\nroles:\n  app: [10.0.0.0/24]\n  db: [10.0.0.2]\n", rules: ["demo.yaml": rules])
        #expect(result.diagnostics.map(\.description) == [
            "warning: demo.yaml:11:5: rule 'demo/app-db' has 'each: true' but the hosts of its 'from' roles cannot be listed: role 'demo.app' is bound to the block 10.0.0.0/24",
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
        #expect(policy.hosts(ofRoles: ["demo.app"]) == .hosts([
            EachHost(name: "app.corp.example", addresses: [Fixtures.address("10.0.0.7")], isMachine: true),
        ] + ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map { EachHost(Fixtures.address($0)) }))
        #expect(policy.hosts(ofRoles: ["demo.db"]) == .notEnumerable("role 'demo.db' is bound to the built-in set 'any'"))
    }
}
