import Flows
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

@Suite struct FlowClassifierTests {
    @Test func aFlowARuleAllowsIsInScopeAndNamesItsRule() throws {
        let policy = try demoPolicy()
        var classifier = FlowClassifier(policy: policy)
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40000), server: Endpoint(directory, 636), at: t0))
        let verdict = classifier.verdict(flow, extra: nil, names: binder())
        let match = try #require(verdict.match)
        #expect(verdict.inScope && verdict.query.responderPort == 636)
        #expect(match.allowed.map { policy.rules[$0.rule].qualifiedID } == ["demo/ldap"])
    }

    @Test func aFlowBetweenUnmonitoredHostsIsOutOfScope() throws {
        var classifier = FlowClassifier(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(IPAddress("192.0.2.1")!, 40000),
                                                 server: Endpoint(IPAddress("192.0.2.2")!, 389), at: t0))
        let verdict = classifier.verdict(flow, extra: nil, names: binder())
        #expect(!verdict.inScope && verdict.match == nil)
        #expect(classifier.cache.isEmpty)  // out of scope is not worth caching
    }

    @Test func aCachedVerdictGivesWayToANameLearnedLater() throws {
        var classifier = FlowClassifier(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(licenseAddress, 443), at: t0 + 10 * s))
        // No name yet: the app reaching an unknown address is unexpected, and the tuple's verdict
        // is cached.
        var names = binder()
        let before = classifier.verdict(flow, extra: nil, names: names)
        #expect(before.inScope && before.match?.isAllowed == false)
        #expect(classifier.cache.count == 1)
        // A DNS answer names the address: the cache entry is stale and the license rule allows it.
        var parsers = PayloadParsers(detectsServices: false)
        feed(dnsAnswer("license.vendor.example", licenseAddress, at: t0), flow: 9, initiator: app, to: &parsers, names: &names)
        let after = classifier.verdict(flow, extra: nil, names: names)
        #expect(after.match?.isAllowed == true)
        #expect(after.query.responderNames == ["license.vendor.example"])
    }

    @Test func theFlowsOwnSNIBindsItsResponder() throws {
        var classifier = FlowClassifier(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40002), server: Endpoint(licenseAddress, 443), at: t0))
        var extra = FlowExtras()
        extra.serverName = "License.Vendor.Example"
        #expect(classifier.verdict(flow, extra: extra, names: binder()).match?.isAllowed == true)
        #expect(classifier.verdict(flow, extra: nil, names: binder()).match?.isAllowed == false)
    }

    @Test func theNearestRuleOfAnUnexpectedFlowIsInWords() throws {
        var classifier = FlowClassifier(policy: try demoPolicy())
        let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, 40003), server: Endpoint(directory, 3268), at: t0))
        let verdict = classifier.verdict(flow, extra: nil, names: binder())
        #expect(verdict.match?.isAllowed == false)
        let found = classifier.nearestRule(verdict)
        let nearest = try #require(found)
        #expect(nearest.contains("demo/ldap") && nearest.contains("3268"))
    }

    /// The search is remembered per roles, protocol and port: another port of the same ends is
    /// searched again and named in its own words, and the same port is named alike.
    @Test func theNearestRuleIsNamedForEachPort() throws {
        var classifier = FlowClassifier(policy: try demoPolicy())
        var texts: [String] = []
        for (clientPort, port) in [(40004, 3268), (40005, 3269), (40006, 3268)] as [(UInt16, UInt16)] {
            let flow = try meterFlow(talk.tcpSession(client: Endpoint(app, clientPort), server: Endpoint(directory, port), at: t0))
            let verdict = classifier.verdict(flow, extra: nil, names: binder())
            let found = classifier.nearestRule(verdict)
            texts.append(try #require(found))
        }
        #expect(texts[0].contains("3268") && texts[1].contains("3269") && !texts[1].contains("3268"))
        #expect(texts[2] == texts[0])
    }

    @Test func linkControlIsSetApartUnlessTheSiteAuditsIt() throws {
        let dhcp = try meterFlow(talk.udpExchange(client: Endpoint(IPAddress("10.1.0.10")!, 68), server: Endpoint(IPAddress("10.1.0.1")!, 67),
                                                  at: t0, request: [1, 1, 6, 0], response: [2, 1, 6, 0]))
        #expect(FlowClassifier(policy: try demoPolicy()).linkControl(dhcp) == .dhcp)
        #expect(FlowClassifier(policy: try demoPolicy(extraSite: "audit-link-control: true\n")).linkControl(dhcp) == nil)
        let ldap = try meterFlow(talk.tcpSession(client: Endpoint(app, 40004), server: Endpoint(directory, 389), at: t0))
        #expect(FlowClassifier(policy: try demoPolicy()).linkControl(ldap) == nil)
    }

    @Test func theServicePortIsTheResponderPortOrTheICMPType() throws {
        let ping = try meterFlow(talk.icmpEcho(client: app, server: directory, at: t0))
        #expect(FlowClassifier.servicePort(ping) == 8)
        let ldap = try meterFlow(talk.tcpSession(client: Endpoint(app, 40005), server: Endpoint(directory, 389), at: t0))
        #expect(FlowClassifier.servicePort(ldap) == 389)
    }
}
