import Flows
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

@Suite struct NameBinderTests {
    @Test func theSitesNamesHoldAtEveryMoment() throws {
        let policy = try demoPolicy(extraSite: "names:\n  Mail.Corp.Example.: [10.1.0.25]\n")
        let names = binder(policy: policy)
        let mail = IPAddress("10.1.0.25")!
        #expect(names.names(of: mail, from: Int64.min, to: Int64.min) == ["mail.corp.example"])
        #expect(names.names(of: mail, from: t0 + 1_000_000 * s, to: Int64.max) == ["mail.corp.example"])
        #expect(names.table.allBindings(of: mail).map(\.source) == [.site])
    }

    @Test func dnsNamesHoldFromTheAnswerUntilTheirTTLAndGrace() {
        let names = binder(learning: dnsAnswer("license.vendor.example", licenseAddress, at: t0, ttl: 60), graceSeconds: 60)
        // The flow's window widened backwards by the grace period (60 s here): a flow that
        // started just before the answer still gets the name; one long after the TTL does not.
        #expect(names.names(of: licenseAddress, from: t0 - 30 * s, to: t0 - 30 * s) == ["license.vendor.example"])
        #expect(names.names(of: licenseAddress, from: t0 + 100 * s, to: t0 + 110 * s) == ["license.vendor.example"])
        #expect(names.names(of: licenseAddress, from: t0 + 200 * s, to: t0 + 210 * s).isEmpty)
        #expect(names.names(of: app, from: t0, to: t0).isEmpty)
    }

    @Test func theFlowsOwnSNIAndHostComeAfterDNSNormalisedWithoutRepeats() {
        let names = binder(learning: dnsAnswer("license.vendor.example", licenseAddress, at: t0))
        var extra = FlowExtras()
        extra.serverName = "LICENSE.vendor.example."
        extra.httpHost = "Portal.Example"
        #expect(names.names(of: licenseAddress, from: t0, to: t0, extra: extra) == ["license.vendor.example", "portal.example"])
        // Without DNS the flow's own names alone.
        let empty = binder()
        #expect(empty.names(of: licenseAddress, from: t0, to: t0, extra: extra) == ["license.vendor.example", "portal.example"])
        #expect(empty.names(of: licenseAddress, from: t0, to: t0).isEmpty)
    }

    @Test func onlyDNSAnswersCountAsDNSNames() throws {
        let policy = try demoPolicy(extraSite: "names:\n  license.vendor.example: [198.18.0.7]\n")
        let names = binder(learning: dnsAnswer("lic.cdn.example", licenseAddress, at: t0), policy: policy)
        #expect(names.names(of: licenseAddress, from: t0, to: t0).sorted() == ["lic.cdn.example", "license.vendor.example"])
        #expect(names.dnsNames(of: licenseAddress, from: t0, to: t0) == ["lic.cdn.example"])
    }

    @Test func oneNormaliserForEveryName() {
        #expect(HostName.normalise("Example.COM.") == "example.com")
        #expect(HostName.normalise("example.com") == "example.com")
        #expect(HostSpec.parseName("Example.COM.") == .success(.name("example.com")))
        var table = NameTable(graceSeconds: 0)
        table.bind("WWW.Example.com.", to: app, source: .sni, at: t0, ttl: nil)
        #expect(table.names(of: app, from: t0, to: t0) == ["www.example.com"])
    }
}
