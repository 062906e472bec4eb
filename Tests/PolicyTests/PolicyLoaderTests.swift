import Foundation
import Testing
@testable import Policy

/// One test per validation rule: a small YAML text through the loader, asserting the exact
/// `file:line:column: severity: message`.
@Suite struct PolicyLoaderTests {
    @Test func validFileHasNoDiagnostics() throws {
        let parsed = PolicyLoader.parseRuleFile(Fixtures.demo, file: "demo.yaml")
        #expect(parsed.diagnostics.isEmpty)
        let set = try #require(parsed.ruleSet)
        #expect(set.system == "demo")
        #expect(set.roles.map(\.id) == ["app", "db"])
        #expect(set.roles[0].monitored && !set.roles[1].monitored)
        #expect(set.rules.map(\.qualifiedID) == ["demo/app-db"])
        #expect(set.rules[0].direction == .oneWay && !set.rules[0].required && !set.rules[0].each)
        #expect(set.rules[0].location == SourceLocation(file: "demo.yaml", line: 11, column: 5))
    }

    @Test func yamlSyntaxErrorHasLineAndColumn() {
        let text = Fixtures.demo(replacingLine: 15, with: "    services: [tcp/5432")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:16:8: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 15, column 15)",
        ])
    }

    @Test func tabIndentationIsASyntaxError() {
        let text = Fixtures.demo(replacingLine: 12, with: "\tpurpose: Queries")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:12:1: YAML syntax error: found a tab character that violates indentation (while scanning a plain scalar at line 11, column 9)",
        ])
    }

    @Test func duplicateKeyIsAnError() {
        let text = Fixtures.demo(replacingLine: 2, with: "title: Demo\ntitle: Again")
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:2:1: duplicate key 'title' in a mapping"])
    }

    @Test func emptyFile() {
        #expect(Fixtures.ruleFileDiagnostics("") == ["error: demo.yaml:1:1: the file is empty"])
    }

    @Test func unknownRuleKeySuggestsTheNearestKey() {
        let text = Fixtures.demo(replacingLine: 15, with: "    servics: [tcp/5432]")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:11:5: missing required key 'services' in rule 'app-db'",
            "error: demo.yaml:15:5: unknown key 'servics' in rule 'app-db' (did you mean 'services'?)",
        ])
    }

    @Test func unknownTopLevelAndRoleKeys() {
        var text = Fixtures.demo(replacingLine: 2, with: "titel: Demo")
        text = text.replacingOccurrences(of: "    monitored: true", with: "    monitor: true")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:1:1: missing required key 'title' in the rule file",
            "error: demo.yaml:2:1: unknown key 'titel' in the rule file (did you mean 'title'?)",
            "error: demo.yaml:7:5: unknown key 'monitor' in role 'app' (did you mean 'monitored'?)",
        ])
    }

    @Test func unknownKeyWithoutACloseMatch() {
        let text = Fixtures.demo(replacingLine: 16, with: "    ref: table 1\n    colour: blue")
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:17:5: unknown key 'colour' in rule 'app-db'"])
    }

    @Test func missingRequiredRuleKey() {
        let text = Fixtures.demo(replacingLine: 16, with: "")
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:11:5: missing required key 'ref' in rule 'app-db'"])
    }

    @Test(arguments: [
        ("tcp/0", "error: demo.yaml:15:16: port 0 out of range in service 'tcp/0' (ports are 1-65535) in rule 'app-db'"),
        ("tcp/70000", "error: demo.yaml:15:16: port 70000 out of range in service 'tcp/70000' (ports are 1-65535) in rule 'app-db'"),
        ("tcp/2000-1000", "error: demo.yaml:15:16: port range 2000-1000 in service 'tcp/2000-1000' has its low end above its high end in rule 'app-db'"),
        ("tpc/5432", "error: demo.yaml:15:16: unknown protocol 'tpc' in service 'tpc/5432' (did you mean 'tcp'?) in rule 'app-db'"),
    ])
    func badServiceQuotesTextAndPlace(service: String, expected: String) {
        let text = Fixtures.demo(replacingLine: 15, with: "    services: [\(service)]")
        #expect(Fixtures.ruleFileDiagnostics(text) == [expected])
    }

    @Test func badAlternativeIsNamedAsSuch() {
        let text = Fixtures.demo(replacingLine: 15, with: "    services: [tcp/5432]\n    alternatives: [tcp/5433, udp/x]")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:16:30: bad port 'x' in service 'udp/x' (ports are 1-65535) in the alternatives of rule 'app-db'",
        ])
    }

    @Test func emptyServicesList() {
        let text = Fixtures.demo(replacingLine: 15, with: "    services: []")
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:15:15: services in rule 'app-db' is empty"])
    }

    @Test func ipServiceOfTCPIsAWarning() {
        let text = Fixtures.demo(replacingLine: 15, with: "    services: [ip/6]")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "warning: demo.yaml:15:16: service 'ip/6' in rule 'app-db' allows every port of the protocol; write tcp/PORT, udp/PORT or icmp instead",
        ])
    }

    @Test func undeclaredRoleSuggestsTheNearestRole() throws {
        let text = Fixtures.demo(replacingLine: 14, with: "    to: dbs")
        let parsed = PolicyLoader.parseRuleFile(text, file: "demo.yaml")
        #expect(parsed.diagnostics.map(\.description) == [
            "error: demo.yaml:14:9: rule 'app-db' names undeclared role 'dbs' in 'to' (did you mean 'db'?)",
        ])
        // The rule is left out of the model rather than compiled half-understood.
        #expect(try #require(parsed.ruleSet).rules.isEmpty)
    }

    @Test func undeclaredRoleInAList() {
        let text = Fixtures.demo(replacingLine: 13, with: "    from: [app, web]")
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:13:17: rule 'app-db' names undeclared role 'web' in 'from'"])
    }

    @Test func duplicateRuleID() {
        let text = Fixtures.demo + "\n  - id: app-db\n    purpose: Again\n    from: app\n    to: db\n    services: [tcp/5433]\n    ref: table 2"
        #expect(Fixtures.ruleFileDiagnostics(text) == ["error: demo.yaml:17:9: duplicate rule id 'app-db' (first defined at 11:9)"])
    }

    @Test func badIdentifiers() {
        var text = Fixtures.demo(replacingLine: 1, with: "system: Demo_1")
        text = text.replacingOccurrences(of: "  - id: app-db", with: "  - id: App DB")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:1:9: system 'Demo_1' must use only a-z, 0-9 and '-'",
            "error: demo.yaml:11:9: rule id 'App DB' must use only a-z, 0-9 and '-'",
        ])
    }

    @Test func badRoleID() {
        let text = Fixtures.demo(replacingLine: 8, with: "  DB:")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:8:3: role id 'DB' must use only a-z, 0-9 and '-'",
            "error: demo.yaml:14:9: rule 'app-db' names undeclared role 'db' in 'to'",
        ])
    }

    @Test func badDirectionBooleanAndTLSVersion() {
        var text = Fixtures.demo(replacingLine: 16, with: "    ref: table 1\n    direction: oneway\n    required: yes\n    each: 1")
        text = text.replacingOccurrences(of: "source: Demo manual", with: "source: Demo manual\ntls-minimum: \"1.4\"")
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:4:14: unknown TLS version '1.4' in tls-minimum (use \"1.0\", \"1.1\", \"1.2\" or \"1.3\")",
            "error: demo.yaml:18:16: unknown direction 'oneway' in rule 'app-db' (did you mean 'one-way'?)",
            "error: demo.yaml:19:15: required in rule 'app-db' must be true or false, found the scalar 'yes'",
            "error: demo.yaml:20:11: each in rule 'app-db' must be true or false, found the scalar '1'",
        ])
    }

    @Test func badHostsInRoleDeclarations() {
        let text = Fixtures.demo(replacingLine: 9, with: """
                description: Database
                addresses: [10.0.0.0/33, db.example, 10.0.0.9/24]
                names: [10.0.0.1, "db*.example"]
            """)
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:10:17: invalid CIDR block '10.0.0.0/33': prefix length '33' is not 0-32 in role 'db'",
            "error: demo.yaml:10:30: 'db.example' in role 'db' is a DNS name, not an address; list names under 'names'",
            "warning: demo.yaml:10:42: CIDR block '10.0.0.9/24' has host bits set; read as 10.0.0.0/24",
            "error: demo.yaml:11:13: '10.0.0.1' in role 'db' is not a DNS name; list addresses under 'addresses'",
            "error: demo.yaml:11:23: invalid name 'db*.example' in role 'db': a wildcard is allowed only as a leading '*.' label",
        ])
    }

    @Test func wrongNodeKinds() {
        let text = """
            system: demo
            title: Demo
            source: Demo manual
            roles: [app, db]
            rules:
              - id: app-db
                purpose: [Queries]
            """
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:4:8: roles must be a mapping, found a list",
            "error: demo.yaml:6:5: missing required key 'from' in rule 'app-db'",
            "error: demo.yaml:6:5: missing required key 'ref' in rule 'app-db'",
            "error: demo.yaml:6:5: missing required key 'services' in rule 'app-db'",
            "error: demo.yaml:6:5: missing required key 'to' in rule 'app-db'",
            "error: demo.yaml:7:14: purpose in rule 'app-db' must be text, found a list",
        ])
    }

    @Test func everyDiagnosticOfAFileIsCollected() {
        var text = Fixtures.demo(replacingLine: 15, with: "    servics: [tcp/0]")
        text = text.replacingOccurrences(of: "    to: db", with: "    to: dbx")
        text += "\n  - id: second\n    purpose: Two\n    from: app\n    to: db\n    services: [udp/99999]\n    ref: table 2"
        #expect(Fixtures.ruleFileDiagnostics(text) == [
            "error: demo.yaml:11:5: missing required key 'services' in rule 'app-db'",
            "error: demo.yaml:14:9: rule 'app-db' names undeclared role 'dbx' in 'to' (did you mean 'db'?)",
            "error: demo.yaml:15:5: unknown key 'servics' in rule 'app-db' (did you mean 'services'?)",
            "error: demo.yaml:21:16: port 99999 out of range in service 'udp/99999' (ports are 1-65535) in rule 'second'",
        ])
    }

    @Test func preferEntries() throws {
        let text = Fixtures.demo + """

            prefer:
              - id: tls-db
                avoid: tcp/5432
                use: tcp/5433
                reason: Use the TLS port
              - id: bad
                avoid: tcp/0
                reasn: typo
            """
        let parsed = PolicyLoader.parseRuleFile(text, file: "demo.yaml")
        #expect(parsed.diagnostics.sortedForDisplay.map(\.description) == [
            "error: demo.yaml:22:5: missing required key 'reason' in prefer entry 'bad'",
            "error: demo.yaml:23:12: port 0 out of range in service 'tcp/0' (ports are 1-65535) in avoid in prefer entry 'bad'",
            "error: demo.yaml:24:5: unknown key 'reasn' in prefer entry 'bad' (did you mean 'reason'?)",
        ])
        let prefer = try #require(parsed.ruleSet).prefer
        #expect(prefer.map(\.qualifiedID) == ["demo/tls-db"])
        #expect(prefer.first?.use?.description == "tcp/5433")
    }

    @Test func fileKinds() {
        #expect(PolicyLoader.kind(of: Fixtures.demo) == .ruleFile)
        #expect(PolicyLoader.kind(of: "site: hq\n") == .site)
        #expect(PolicyLoader.kind(of: "foo: bar\n") == nil)
        #expect(PolicyLoader.kind(of: "[") == nil)
    }

    @Test func lintLoadReportsAFileOfNeitherKind() {
        let results = Fixtures.loader(["x.yaml": "foo: bar\n"]).load(files: ["x.yaml"])
        #expect(results.count == 1)
        #expect(results[0].diagnostics.map(\.description) == [
            "error: x.yaml:1:1: not a rule file or site binding: it has neither a 'system:' nor a 'site:' key",
        ])
    }

    @Test func unreadableFile() {
        let result = Fixtures.loader([:]).load(site: nil, rules: ["missing.yaml"])
        #expect(result.diagnostics.map(\.description) == ["error: missing.yaml: cannot read the file: no such file"])
    }

    @Test func readsFromDisk() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Rules"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Sites/hq"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Fixtures.demo.write(to: directory.appendingPathComponent("Rules/demo.yaml"), atomically: true, encoding: .utf8)
        let site = "site: hq\nrules: [../../Rules/demo.yaml]\nroles:\n  app: [10.0.0.1]\n  db: [10.0.0.2]\n"
        try site.write(to: directory.appendingPathComponent("Sites/hq/site.yaml"), atomically: true, encoding: .utf8)
        let result = PolicyLoader().load(site: directory.path + "/Sites/hq/site.yaml", rules: [])
        #expect(result.diagnostics.isEmpty)
        #expect(result.policy.ruleSets.map(\.file) == [directory.path + "/Rules/demo.yaml"])
        #expect(result.policy.rules.map(\.qualifiedID) == ["demo/app-db"])
    }

    @Test func pathsAreFoldedLexically() {
        #expect(PathText.resolve("../../Rules/a.yaml", relativeTo: "Captures/x") == "Rules/a.yaml")
        #expect(PathText.resolve("a.yaml", relativeTo: "") == "a.yaml")
        #expect(PathText.resolve("/abs/a.yaml", relativeTo: "x") == "/abs/a.yaml")
        #expect(PathText.resolve("../a.yaml", relativeTo: ".") == "../a.yaml")
        #expect(PathText.normalise("/x/../../a") == "/a")
    }
}
