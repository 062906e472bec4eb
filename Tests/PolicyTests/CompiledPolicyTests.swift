import Packets
import Testing
@testable import Policy

/// Matcher semantics as tables over one policy of two rule files that both declare a role `dc`
/// (two roles, `vendor.dc` and `monitoring.dc`, which the site binds to the same hosts).
@Suite struct CompiledPolicyTests {
    static let vendor = """
        system: vendor
        title: Vendor product
        source: Vendor guide
        roles:
          app: { description: Application servers, monitored: true }
          db: { description: Databases }
          dc: { description: Domain controllers }
          mail: { description: Mail server }
          updates: { description: Update servers, names: ["*.vendor.example"] }
          license: { description: License server, names: [license.vendor.example] }
          nowhere: { description: A role no site binds }
        rules:
          - { id: app-db, purpose: Queries, from: app, to: db, services: [tcp/5432], ref: r1 }
          - { id: replication, purpose: Replication, from: app, to: dc, services: [tcp/445], direction: both, ref: r2 }
          - { id: rpc, purpose: RPC, from: app, to: dc, services: [tcp/49152-65535], ref: r3 }
          - { id: smtp, purpose: OTP mail, from: app, to: mail, services: [tcp/587], alternatives: [tcp/25, tcp/465], ref: r4 }
          - { id: updates, purpose: Updates, from: app, to: updates, services: [tcp/443], ref: r5 }
          - { id: license, purpose: License, from: app, to: license, services: [tcp/443], ref: r6 }
          - { id: ping, purpose: Reachability, from: app, to: db, services: [icmp/echo, icmpv6/echo], ref: r7 }
          - { id: esp, purpose: Tunnel, from: app, to: db, services: [ip/50], ref: r8 }
          - { id: ha, purpose: Heartbeat, from: app, to: db, services: [tcp/5433], required: true, each: true, ref: r9 }
          - { id: ldap, purpose: Directory, from: app, to: dc, services: [tcp+udp/389], ref: r10 }
          - { id: lost, purpose: Never bound, from: app, to: nowhere, services: [tcp/1], required: true, ref: r11 }
        prefer:
          - { id: ldaps, avoid: tcp/389, use: tcp/636, reason: Use LDAPS }
        """

    static let monitoring = """
        system: monitoring
        title: Monitoring
        source: Monitoring guide
        roles:
          dc: { description: Domain controllers }
          poller: { description: SNMP poller, monitored: true }
        rules:
          - { id: snmp, purpose: Polling, from: poller, to: dc, services: [udp/161], ref: m1 }
        """

    static func site(choose: String = "") -> String {
        """
        site: hq
        rules: [vendor.yaml, monitoring.yaml]
        roles:
          app: [10.0.0.10, 10.0.0.11]
          db: [10.0.1.0/24, "2001:db8:1::/64"]
          vendor.dc: [10.0.2.1-10.0.2.3, "2001:db8::2"]
          monitoring.dc: [10.0.2.1-10.0.2.3, "2001:db8::2"]
          mail: [mail.corp.example]
          poller: [10.0.3.5]
        names:
          mail.corp.example: [10.0.0.25]
        \(choose)
        """
    }

    static func compiled(choose: String = "") -> CompiledPolicy {
        let (policy, diagnostics) = Fixtures.compile(site: site(choose: choose), rules: ["vendor.yaml": vendor, "monitoring.yaml": monitoring])
        precondition(!diagnostics.containsErrors, "fixture has errors: \(diagnostics)")
        return policy
    }

    static let plain = compiled()
    static let chosen = compiled(choose: "choose: {smtp: tcp/465}")

    struct Case: Sendable, CustomTestStringConvertible {
        var initiator: String
        var responder: String
        var ipProtocol: UInt8
        var port: UInt16
        var responderNames: [String] = []
        var allowed: [String]
        var reversed: Bool = false
        var miss: (rule: String, reason: MissReason)? = nil
        var testDescription: String { "\(initiator) -> \(responder) \(ipProtocol)/\(port) \(responderNames)" }
    }

    static func check(_ policy: CompiledPolicy, _ c: Case) {
        let flow = FlowQuery(initiator: Fixtures.address(c.initiator), responder: Fixtures.address(c.responder),
                             responderNames: c.responderNames, ipProtocol: c.ipProtocol, responderPort: c.port)
        let result = policy.match(flow)
        #expect(result.allowed.map { policy.rules[$0.rule].qualifiedID } == c.allowed)
        if !c.allowed.isEmpty { #expect(result.allowed.allSatisfy { $0.reversed == c.reversed }) }
        if let miss = c.miss {
            #expect(result.nearMiss.map { policy.rules[$0.rule].qualifiedID } == miss.rule)
            #expect(result.nearMiss?.reason == miss.reason)
        } else if c.allowed.isEmpty {
            #expect(result.nearMiss == nil)
        }
    }

    static let cases: [Case] = [
        // One-way: only `from` initiates.
        Case(initiator: "10.0.0.10", responder: "10.0.1.7", ipProtocol: 6, port: 5432, allowed: ["vendor/app-db"]),
        Case(initiator: "10.0.0.11", responder: "2001:db8:1::9", ipProtocol: 6, port: 5432, allowed: ["vendor/app-db"]),
        Case(initiator: "10.0.1.7", responder: "10.0.0.10", ipProtocol: 6, port: 5432, allowed: [], miss: ("vendor/app-db", .reverseOfOneWay)),
        Case(initiator: "10.0.0.10", responder: "10.0.1.7", ipProtocol: 6, port: 5431, allowed: [], miss: ("vendor/app-db", .wrongPort)),
        Case(initiator: "10.0.0.10", responder: "10.0.1.7", ipProtocol: 6, port: 5440, allowed: [], miss: ("vendor/ha", .wrongPort)),
        // Both directions.
        Case(initiator: "10.0.0.10", responder: "10.0.2.2", ipProtocol: 6, port: 445, allowed: ["vendor/replication"]),
        Case(initiator: "10.0.2.2", responder: "10.0.0.10", ipProtocol: 6, port: 445, allowed: ["vendor/replication"], reversed: true),
        Case(initiator: "2001:db8::2", responder: "10.0.0.11", ipProtocol: 6, port: 445, allowed: ["vendor/replication"], reversed: true),
        Case(initiator: "10.0.0.10", responder: "10.0.2.4", ipProtocol: 6, port: 445, allowed: [], miss: ("vendor/replication", .wrongResponder)),
        Case(initiator: "10.0.0.12", responder: "10.0.2.1", ipProtocol: 6, port: 445, allowed: [], miss: ("vendor/replication", .wrongInitiator)),
        // Port ranges: both ends inside, one past each end.
        Case(initiator: "10.0.0.10", responder: "10.0.2.3", ipProtocol: 6, port: 49152, allowed: ["vendor/rpc"]),
        Case(initiator: "10.0.0.10", responder: "2001:db8::2", ipProtocol: 6, port: 65535, allowed: ["vendor/rpc"]),
        Case(initiator: "10.0.0.10", responder: "10.0.2.3", ipProtocol: 6, port: 49151, allowed: [], miss: ("vendor/rpc", .wrongPort)),
        Case(initiator: "10.0.0.10", responder: "10.0.2.3", ipProtocol: 17, port: 50000, allowed: [], miss: ("vendor/rpc", .wrongProtocol)),
        // tcp+udp.
        Case(initiator: "10.0.0.10", responder: "10.0.2.1", ipProtocol: 6, port: 389, allowed: ["vendor/ldap"]),
        Case(initiator: "10.0.0.10", responder: "10.0.2.1", ipProtocol: 17, port: 389, allowed: ["vendor/ldap"]),
        // A role shared by two rule files: dc is bound once and used by both.
        Case(initiator: "10.0.3.5", responder: "10.0.2.1", ipProtocol: 17, port: 161, allowed: ["monitoring/snmp"]),
        Case(initiator: "10.0.3.5", responder: "10.0.2.1", ipProtocol: 6, port: 161, allowed: [], miss: ("monitoring/snmp", .wrongProtocol)),
        // Alternatives without a choice: the default service only.
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 587, allowed: ["vendor/smtp"]),
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 465, allowed: [],
             miss: ("vendor/smtp", .alternativeNotChosen(.transport(.tcp, 465...465)))),
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 2525, allowed: [], miss: ("vendor/smtp", .wrongPort)),
        // Names: exact and suffix, case and trailing dot ignored, the suffix itself excluded.
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["cdn.vendor.example"], allowed: ["vendor/updates"]),
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["A.CDN.Vendor.Example."], allowed: ["vendor/updates"]),
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["vendor.example"], allowed: [],
             miss: ("vendor/updates", .wrongResponder)),
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["evilvendor.example"], allowed: [],
             miss: ("vendor/updates", .wrongResponder)),
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["license.vendor.example"],
             allowed: ["vendor/updates", "vendor/license"]),
        Case(initiator: "10.0.0.10", responder: "203.0.113.9", ipProtocol: 6, port: 443, responderNames: ["license.vendor.example."],
             allowed: ["vendor/updates", "vendor/license"]),
        // A static site name binds its address.
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 587, responderNames: [], allowed: ["vendor/smtp"]),
        // ICMP echo request and reply types; ICMPv6 echo.
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 1, port: 8, allowed: ["vendor/ping"]),
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 1, port: 0, allowed: ["vendor/ping"]),
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 1, port: 13, allowed: [], miss: ("vendor/ping", .wrongPort)),
        Case(initiator: "10.0.0.10", responder: "2001:db8:1::1", ipProtocol: 58, port: 128, allowed: ["vendor/ping"]),
        // ip/N ignores ports.
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 50, port: 0, allowed: ["vendor/esp"]),
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 50, port: 4500, allowed: ["vendor/esp"]),
        Case(initiator: "10.0.0.10", responder: "10.0.1.1", ipProtocol: 47, port: 0, allowed: [], miss: ("vendor/app-db", .wrongProtocol)),
        // IPv4 bindings never match an IPv4-mapped IPv6 address.
        Case(initiator: "::ffff:10.0.0.10", responder: "10.0.1.7", ipProtocol: 6, port: 5432, allowed: [], miss: ("vendor/app-db", .wrongInitiator)),
        // Nothing near.
        Case(initiator: "10.9.9.9", responder: "10.9.9.8", ipProtocol: 6, port: 80, allowed: []),
    ]

    @Test(arguments: cases)
    func matchesWithoutChoice(_ c: Case) {
        Self.check(Self.plain, c)
    }

    static let choiceCases: [Case] = [
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 465, allowed: ["vendor/smtp"]),
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 587, allowed: [], miss: ("vendor/smtp", .wrongPort)),
        Case(initiator: "10.0.0.10", responder: "10.0.0.25", ipProtocol: 6, port: 25, allowed: [], miss: ("vendor/smtp", .wrongPort)),
    ]

    @Test(arguments: choiceCases)
    func matchesWithChoice(_ c: Case) {
        Self.check(Self.chosen, c)
    }

    @Test func nearMissSentences() {
        let policy = Self.chosen
        func sentence(_ from: String, _ to: String, _ proto: UInt8, _ port: UInt16) -> String? {
            let flow = FlowQuery(initiator: Fixtures.address(from), responder: Fixtures.address(to), ipProtocol: proto, responderPort: port)
            return policy.match(flow).nearMiss.map { policy.describe($0, for: flow) }
        }
        #expect(sentence("10.0.0.10", "10.0.0.25", 6, 2525) == "matches vendor/smtp but for port 2525 (it allows tcp/465)")
        #expect(sentence("10.0.0.10", "10.0.0.25", 6, 587) == "matches vendor/smtp but for port 587: the site chose tcp/465 instead of tcp/587")
        #expect(sentence("10.0.1.7", "10.0.0.10", 6, 5432) == "reverse direction of one-way rule vendor/app-db (it allows vendor.app -> vendor.db tcp/5432; here the vendor.db side initiated)")
        #expect(sentence("10.0.0.10", "10.0.2.3", 17, 50000) == "matches vendor/rpc but for protocol udp (it allows tcp/49152-65535)")
        #expect(sentence("10.0.0.10", "10.0.2.4", 6, 445) == "vendor/replication allows vendor.app -> vendor.dc tcp/445, but responder 10.0.2.4 holds none of its 'to' roles (its roles: none)")
        #expect(sentence("10.0.0.12", "10.0.2.1", 6, 445) == "vendor/replication allows vendor.app -> vendor.dc tcp/445, but initiator 10.0.0.12 holds none of its 'from' roles (its roles: none)")
        let plain = Self.plain
        let flow = FlowQuery(initiator: Fixtures.address("10.0.0.10"), responder: Fixtures.address("10.0.0.25"), ipProtocol: 6, responderPort: 25)
        #expect(plain.match(flow).nearMiss.map { plain.describe($0, for: flow) }
            == "matches vendor/smtp but tcp/25 is an alternative the site has not chosen (it allows tcp/587; add 'choose: { smtp: tcp/25 }' to the site)")
    }

    @Test func rolesAndScope() {
        let policy = Self.plain
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("10.0.0.10"))) == ["vendor.app"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("10.0.1.255"))) == ["vendor.db"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("10.0.2.0"))) == [])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("10.0.0.25"))) == ["vendor.mail"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("1.2.3.4"), names: ["x.vendor.example", "license.vendor.example"])) == ["vendor.updates", "vendor.license"])
        #expect(policy.scope(initiator: Fixtures.address("10.0.1.1"), responder: Fixtures.address("10.0.0.11")))
        #expect(policy.scope(initiator: Fixtures.address("10.0.3.5"), responder: Fixtures.address("10.0.2.1")))
        #expect(!policy.scope(initiator: Fixtures.address("10.0.1.1"), responder: Fixtures.address("10.0.2.1")))
        #expect(policy.roleNames(policy.monitoredRoles) == ["vendor.app", "monitoring.poller"])
    }

    @Test func rulesEachRequiredUnbound() throws {
        let policy = Self.plain
        let ha = try #require(policy.ruleIndex("vendor/ha"))
        #expect(policy.ruleIndex("ha") == ha)
        #expect(policy.ruleIndex("nope") == nil)
        #expect(policy.requiredRules == [ha])
        #expect(policy.unboundRules == [try #require(policy.ruleIndex("lost"))])
        #expect(policy.eachHosts(rule: ha) == .hosts([EachHost(Fixtures.address("10.0.0.10")), EachHost(Fixtures.address("10.0.0.11"))]))
    }

    @Test func orientationServicesAndPreferences() {
        let policy = Self.plain
        let app = Fixtures.address("10.0.0.10"), db = Fixtures.address("10.0.1.7"), dc = Fixtures.address("10.0.2.1")
        #expect(policy.orientationHint(a: app, portA: 50000, b: db, portB: 5432, ipProtocol: 6) == true)
        #expect(policy.orientationHint(a: db, portA: 5432, b: app, portB: 50000, ipProtocol: 6) == false)
        #expect(policy.orientationHint(a: app, portA: 445, b: dc, portB: 445, ipProtocol: 6) == nil)
        #expect(policy.orientationHint(a: app, portA: 1000, b: db, portB: 2000, ipProtocol: 6) == nil)
        #expect(policy.isService(ipProtocol: 6, port: 5432))
        #expect(policy.isService(ipProtocol: 17, port: 389))
        #expect(!policy.isService(ipProtocol: 6, port: 5434))
        #expect(!policy.isService(ipProtocol: 17, port: 5432))
        #expect(policy.preferAdvisories(ipProtocol: 6, port: 389, systems: ["vendor"]).map(\.qualifiedID) == ["vendor/ldaps"])
        #expect(policy.preferAdvisories(ipProtocol: 6, port: 389, systems: ["other"]).isEmpty)
        #expect(policy.preferAdvisories(ipProtocol: 6, port: 636, systems: ["vendor"]).isEmpty)
    }

    @Test func rolesAnyInternetPrivate() {
        let rules = """
            system: sets
            title: Sets
            source: Test
            roles:
              inside: { description: Inside, monitored: true }
              out: { description: Out }
              lan: { description: LAN }
              all: { description: All }
            rules:
              - { id: web, purpose: Web, from: inside, to: out, services: [tcp/443], ref: t }
            """
        let site = "site: s\nrules: [sets.yaml]\nroles:\n  inside: [10.1.1.1]\n  out: [internet]\n  lan: [private]\n  all: [any]\n"
        let (policy, diagnostics) = Fixtures.compile(site: site, rules: ["sets.yaml": rules])
        #expect(diagnostics.isEmpty)
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("8.8.8.8"))) == ["sets.out", "sets.all"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("10.1.1.1"))) == ["sets.inside", "sets.lan", "sets.all"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("192.0.2.1"))) == ["sets.all"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("2606:4700::1111"))) == ["sets.out", "sets.all"])
        #expect(policy.roleNames(policy.roles(for: Fixtures.address("fd00::1"))) == ["sets.lan", "sets.all"])
        let allowed = policy.match(FlowQuery(initiator: Fixtures.address("10.1.1.1"), responder: Fixtures.address("1.1.1.1"), ipProtocol: 6, responderPort: 443))
        #expect(allowed.isAllowed)
        let documentation = policy.match(FlowQuery(initiator: Fixtures.address("10.1.1.1"), responder: Fixtures.address("198.51.100.1"), ipProtocol: 6, responderPort: 443))
        #expect(!documentation.isAllowed)
        #expect(documentation.nearMiss?.reason == .wrongResponder)
    }
}
