// Nextron Analysis Cockpit scenario: the Cockpit, its workstations, ASGARD and the Nextron
// Internet services it needs.

import PacketBuilder
import Packets

/// The Analysis Cockpit site's addresses: the only place they are written.
enum NextronAddresses {
    static let cockpit = IPAddress(parsing: "10.80.0.10")
    static let cockpitV6 = IPAddress(parsing: "2001:db8:80::10")
    static let asgard = IPAddress(parsing: "10.80.0.20")
    static let resolver = IPAddress(parsing: "10.80.0.2")
    static let firewall = IPAddress(parsing: "10.80.0.1")
    static let workstationsV4 = "10.90.0.0/24"
    static let workstationsV6 = "2001:db8:90::/64"
    static let workstation1 = IPAddress(parsing: "10.90.0.44")
    static let workstation2 = IPAddress(parsing: "10.90.0.45")
    static let workstationV6 = IPAddress(parsing: "2001:db8:90::44")
    static let update301 = IPAddress(parsing: "198.51.100.31")
    static let thorCloud = IPAddress(parsing: "198.51.100.50")
    static let thorCloudLite = IPAddress(parsing: "203.0.113.60")
    static let ntp0 = IPAddress(parsing: "203.0.113.123")
    static let website = IPAddress(parsing: "203.0.113.70")
    static let unlistedHost = IPAddress(parsing: "93.184.216.34")
    static let workstationsVLAN: UInt16 = 90
}

extension Scenario {
    static var nextronAnalysisCockpit: Scenario {
        typealias X = NextronAddresses
        let site = ScenarioSite(
            name: "soc-analysis-cockpit",
            comment: ["Nextron Analysis Cockpit sample site (written by flowaudit-gen scenarios from Sources/flowaudit-gen/ScenarioNextron.swift).",
                      "Workstations on VLAN \(X.workstationsVLAN) (IPv4 and IPv6); the Internet services are bound by the rule file's names."],
            rulesFile: "../../Rules/nextron-analysis-cockpit.yaml",
            roles: [
                ("analysis-cockpit", [X.cockpit.description, X.cockpitV6.description], nil),
                ("workstations", [X.workstationsV4, X.workstationsV6], nil),
                ("asgard", [X.asgard.description], nil),
                ("dns-resolvers", [X.resolver.description], nil),
            ],
            tlsMinimum: "1.2", tlsMinimumComment: "the document states none; this site asks for TLS 1.2 or higher")
        return Scenario(
            system: "nextron-analysis-cockpit", title: "Nextron Analysis Cockpit",
            format: .pcapng(resolution: .nanoseconds, byteOrder: .bigEndian), site: site,
            story: """
                An Analysis Cockpit (\(X.cockpit) and \(X.cockpitV6)) with analyst workstations on VLAN \(X.workstationsVLAN), \
                an ASGARD Management Center whose asset synchronisation is already running when the capture starts, and \
                the site's resolver. The mandatory update server is resolved through a CNAME chain and then refused by \
                the firewall; THOR Cloud resolves but never answers; THOR Cloud Lite is reached by SNI. Nobody logs in \
                over SSH.
                """,
            build: buildNextron)
    }
}

private func buildNextron(_ b: inout ScenarioBuilder) {
    typealias X = NextronAddresses
    let workstations = Frame.ethernet().vlan(X.workstationsVLAN)

    b.midstream(X.asgard, clientPort: 49_200, X.cockpit, 7443, "asset synchronisation, first seen mid-stream")

    b.tls(X.workstationV6, X.cockpitV6, serverName: "cockpit.corp.example", link: workstations, "web interface over IPv6")
    b.tls10(X.workstation1, X.cockpit, serverName: "cockpit.corp.example", link: workstations, "web interface from an old browser offering only TLS 1.0")
    b.expect("web-interface", .observed, "Workstation table, Web Interface (443/tcp, Workstation -> Analysis Cockpit): workstations over IPv6 and IPv4")
    b.expectAdvisory("tls-below-minimum", X.workstation1, X.cockpit, "TLS 1.0 handshake below the site's tls-minimum 1.2 (the document states none)")

    b.expect("command-line-access", .missing, "Workstation table, Command Line Access (22/tcp): listed among the ports the Cockpit 'requires', and no SSH from any workstation")
    b.expect("asset-synchronization", .observed, "ASGARD table, Asset Synchronization (7443/tcp, Management Center -> Analysis Cockpit): a session already running at capture start, oriented by the rule")

    b.dns(X.cockpit, X.resolver, "update-301.nextron-systems.com", answers: [
        .cname("update-301.nextron-systems.com", "updates.nextron-cdn.example"),
        .cname("updates.nextron-cdn.example", "edge-fra.nextron-cdn.example"),
        .a("edge-fra.nextron-cdn.example", X.update301),
    ], "the mandatory update server, through a CNAME chain")
    b.prohibited(X.cockpit, X.update301, 443, firewall: X.firewall, "the firewall refuses the update server")
    b.expect("product-updates", .blocked, "Mandatory Services, Product Updates (443/tcp, update-301.nextron-systems.com): bound by the DNS answer's CNAME chain, then refused by ICMP administratively prohibited")

    b.expect("case-intelligence-feed-1", .notSeen, "Optional Services, Case Intelligence Feed (update1): an optional rule with no flow is not-seen, never missing")
    b.expect("case-intelligence-feed-2", .notSeen, "Optional Services, Case Intelligence Feed (update2): optional, no flow: not-seen")

    b.dns(X.cockpit, X.resolver, "thor-cloud.nextron-services.com", answers: [.a("thor-cloud.nextron-services.com", X.thorCloud)],
          "THOR Cloud's address")
    b.noAnswer(X.cockpit, X.thorCloud, 443, "THOR Cloud never answers")
    b.expect("thor-cloud", .blocked, "Optional Services, THOR Cloud Integration: bound by a DNS answer; the SYNs got no answer: blocked, optional or not")

    b.tls(X.cockpit, X.thorCloudLite, serverName: "thorcloud-lite.nextron-systems.com", "THOR Cloud Lite, bound by SNI")
    b.expect("thor-cloud-lite", .observed, "Optional Services, THOR Cloud Lite Integration: bound by SNI alone")

    b.expect("chatgpt", .notSeen, "Optional Services, ChatGPt Integration (api.openai.com): optional, no flow: not-seen, not missing")

    b.dns(X.cockpit, X.resolver, "0.debian.pool.ntp.org", answers: [.a("0.debian.pool.ntp.org", X.ntp0)], "the default NTP server")
    b.udp(X.cockpit, clientPort: 123, X.ntp0, 123, "NTP")
    b.expect("ntp-0", .observed, "NTP table: 'the default servers used during installation' that 'can be changed'; the first, bound by a DNS answer")
    b.expect("ntp-1", .notSeen, "NTP table, 1.debian.pool.ntp.org: a default that can be changed, so optional; no flow")
    b.expect("ntp-2", .notSeen, "NTP table, 2.debian.pool.ntp.org: optional; no flow")
    b.expect("dns-resolution", .observed, "DNS: 'Analysis Cockpit needs to be able to resolve internal and external IP addresses': its queries to the site resolver")
    b.expect("installation-packages", .notSeen, "Internet Access during Installation (update3.nextron-systems.com): needed only during setup, so optional; no flow")

    // Unexpected flows.
    b.tcp(X.cockpit, X.unlistedHost, 443, "the Cockpit to an internet host no rule lists")
    b.expectUnexpected(X.cockpit, X.unlistedHost, "tcp/443", "an unlisted internet host")
    b.tcp(X.asgard, X.cockpit, 22, "ASGARD logging in over SSH")
    b.expectUnexpected(X.asgard, X.cockpit, "tcp/22", "an allowed port (SSH) from a role it is not allowed for (Command Line Access: Workstation only)")
    b.tls(X.cockpit, X.website, serverName: "www.nextron-systems.com", "a Nextron name the document does not give")
    b.expectUnexpected(X.cockpit, X.website, "tcp/443", "a name not in the document (SNI www.nextron-systems.com): each listed name is its own role")
    b.tcp(X.cockpit, X.asgard, 7443, "the Cockpit opening a connection to ASGARD")
    b.expectUnexpected(X.cockpit, X.asgard, "tcp/7443", "the reverse direction of the one-way rule asset-synchronization (Management Center -> Analysis Cockpit)")

    b.rejected(X.workstation1, X.cockpit, 8443, link: workstations, "a workstation trying a port the Cockpit does not serve")
    b.expectAttempt(X.workstation1, X.cockpit, "tcp/8443", "refused by RST from the Cockpit")

    // Out of scope.
    b.startOutOfScope()
    b.tcp(X.workstation1, X.workstation2, 445, link: workstations, "workstation file sharing")
    b.tcp(X.asgard, X.workstation2, 5443, "ASGARD talking to an agent (ASGARD is not monitored here)")
    b.dns(X.workstation2, X.resolver, "wiki.corp.example", answers: [.a("wiki.corp.example", IPAddress(parsing: "10.80.0.60"))], link: workstations,
          "a workstation's DNS query")
    b.ping(X.workstation2, X.resolver, link: workstations, "a workstation pings the resolver")
}
