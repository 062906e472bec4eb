// RemoteSpark scenario: the site's client devices and the RemoteSpark cloud.

import PacketBuilder
import Packets

/// The RemoteSpark site's addresses and names: the only place they are written.
enum RemoteSparkAddresses {
    static let clientsV4 = "10.100.0.0/24"
    static let clientsV6 = "2001:db8:100::/64"
    static let client1 = IPAddress(parsing: "10.100.0.21")
    static let client2 = IPAddress(parsing: "10.100.0.22")
    static let clientV6 = IPAddress(parsing: "2001:db8:100::21")
    static let firewall = IPAddress(parsing: "10.100.0.1")
    static let resolver = IPAddress(parsing: "1.1.1.1")
    static let resolverV6 = IPAddress(parsing: "2606:4700:4700::1111")
    static let trafficManagerName = "tm.remotespark.example"
    static let europeWebName = "web.eu.remotespark.example"
    static let europeWeb = IPAddress(parsing: "198.51.100.20")
    static let europeWebV6 = IPAddress(parsing: "2001:db8:eeee::20")
    static let northAmericaStorageName = "storage.na.remotespark.example"
    static let northAmericaStorage = IPAddress(parsing: "203.0.113.41")
    static let twilio = IPAddress(parsing: "203.0.113.90")
    static let turn1 = IPAddress(parsing: "20.50.2.10")
    static let turn2 = IPAddress(parsing: "20.50.2.11")
    static let telemetry = IPAddress(parsing: "203.0.113.77")
    static let unlistedHost = IPAddress(parsing: "93.184.216.34")
    static let otherHost1 = IPAddress(parsing: "10.100.1.5")
    static let otherHost2 = IPAddress(parsing: "10.100.1.6")
    static let printer = IPAddress(parsing: "10.100.1.9")
    static let clientsVLAN: UInt16 = 100
}

extension Scenario {
    static var remoteSpark: Scenario {
        typealias R = RemoteSparkAddresses
        let site = ScenarioSite(
            name: "plant-remotespark",
            comment: ["RemoteSpark sample site (written by flowaudit-gen scenarios from Sources/flowaudit-gen/ScenarioRemoteSpark.swift).",
                      "This copy of the document names no Traffic Manager or datacentre endpoints: the names below are placeholders.",
                      "Client devices on VLAN \(R.clientsVLAN) (IPv4 and IPv6)."],
            rulesFile: "../../Rules/remotespark.yaml",
            roles: [
                ("clients", [R.clientsV4, R.clientsV6], nil),
                ("traffic-manager", [R.trafficManagerName], nil),
                ("datacentres-north-america", ["*.na.remotespark.example"], nil),
                ("datacentres-europe", ["*.eu.remotespark.example"], nil),
                ("stun-turn", ["internet"], "the site allows all traffic on the STUN/TURN ports"),
                ("public-dns", [R.resolver.description, R.resolverV6.description], nil),
                // cdn, Twilio and Google STUN are bound by the rule file's names.
            ],
            tlsMinimum: "1.2", tlsMinimumComment: "the document states none; this site asks for TLS 1.2 or higher")
        return Scenario(
            system: "remotespark", title: "RemoteSpark cloud client",
            format: .pcap(nanoseconds: false, byteOrder: .bigEndian), site: site,
            story: """
                RemoteSpark clients on VLAN \(R.clientsVLAN) (IPv4 and IPv6) using a public resolver. The Traffic Manager \
                name \(R.trafficManagerName) resolves through a CNAME to the Europe datacentre \(R.europeWebName), so one \
                connection shows both rules; a North America storage endpoint is reached by SNI. The site's firewall \
                refuses the Azure STUN/TURN servers and the client falls back to Twilio. No CDN download is captured. A client \
                joining the VLAN sends DHCP, ARP, IGMP, mDNS, router and neighbour discovery, MLD and DHCPv6: link control, \
                counted in its own section and never unexpected.
                """,
            build: buildRemoteSpark)
    }
}

private func buildRemoteSpark(_ b: inout ScenarioBuilder) {
    typealias R = RemoteSparkAddresses
    let clients = Frame.ethernet().vlan(R.clientsVLAN)

    b.midstream(R.client2, clientPort: 50_333, R.europeWeb, 443, link: clients,
                "a datacentre session already running; its address is bound by a DNS answer seen later")

    b.dns(R.client1, R.resolver, R.trafficManagerName, answers: [
        .cname(R.trafficManagerName, "remotespark-prod.tm.example"),
        .cname("remotespark-prod.tm.example", R.europeWebName),
        .a(R.europeWebName, R.europeWeb),
    ], link: clients, "Traffic Manager name resolved through a CNAME chain to the Europe datacentre")
    b.dns(R.clientV6, R.resolverV6, R.trafficManagerName, type: .aaaa, answers: [
        .cname(R.trafficManagerName, "remotespark-prod.tm.example"),
        .cname("remotespark-prod.tm.example", R.europeWebName),
        .aaaa(R.europeWebName, R.europeWebV6),
    ], link: clients, "the same over IPv6 (AAAA)")
    b.expect("public-dns", .observed, "DNS: 'Public DNS resolution': clients resolve through the public resolvers, IPv4 and IPv6")

    b.tcp(R.client1, R.europeWeb, 443, link: clients, "web endpoint; no SNI, the name comes from the DNS answer alone")
    b.tls(R.clientV6, R.europeWebV6, serverName: R.trafficManagerName, link: clients, "web endpoint over IPv6")
    b.expect("traffic-manager", .observed, "Endpoints: 'allow the Traffic Manager endpoint': the CNAME chain binds the Traffic Manager name to the datacentre's addresses")
    b.expect("cdn", .missing, "Endpoints: 'allow ... the CDN endpoint' (cdn.kognitivspark.net), required, and no CDN flow")

    b.tls10(R.client1, R.northAmericaStorage, serverName: R.northAmericaStorageName, link: clients,
            "storage endpoint, bound by SNI, from an old client build offering only TLS 1.0")
    b.expect("datacentre-endpoints", .observed, "Endpoints: 'each of the datacentre endpoints': Europe by the CNAME chain, North America by SNI")
    b.expectAdvisory("tls-below-minimum", R.client1, R.northAmericaStorage, "TLS 1.0 handshake below the site's tls-minimum 1.2 (the document states none)")

    b.prohibited(R.client1, R.turn1, 3478, firewall: R.firewall, link: clients, "the firewall refuses the Azure TURN server")
    b.rejected(R.client2, R.turn2, 3478, link: clients, "the second Azure TURN server resets")
    b.expect("stun-turn", .blocked, "Ports to open: 3478 (TCP/UDP): TURN over TCP refused by ICMP administratively prohibited and by RST")

    b.dns(R.client1, R.resolver, "global.turn.twilio.com", answers: [.a("global.turn.twilio.com", R.twilio)], link: clients,
          "the Twilio fallback's address")
    b.udp(R.client1, R.twilio, 3478, link: clients, "TURN allocation at Twilio")
    b.expect("turn-fallback-twilio", .observed, "STUN/TURN Redundancies: global.turn.twilio.com: the client falls back to Twilio's TURN over UDP")
    b.expect("stun-fallback-google", .notSeen, "STUN/TURN Redundancies: stun.google.com, used only if the Azure servers go offline: optional, no flow: not-seen, never missing")
    b.expect("pinned-datacentre-stun-turn", .blocked, "Options for not whitelisting all traffic (3478 and 5349 for a pinned data centre): the same refused TURN flows are in this rule too")

    // Unexpected flows.
    b.tcp(R.client1, R.unlistedHost, 443, link: clients, "a client to an internet host no rule lists")
    b.expectUnexpected(R.client1, R.unlistedHost, "tcp/443", "an unlisted internet host (in the internet set, so a STUN/TURN server by the site, but not on 443)")
    b.tls(R.client1, R.resolver, serverName: "cloudflare-dns.com", link: clients, "DNS over HTTPS to the public resolver")
    b.expectUnexpected(R.client1, R.resolver, "tcp/443", "an allowed port (443) to a role it is not allowed for (the resolvers serve DNS only)")
    b.tls(R.client2, R.telemetry, serverName: "telemetry.kognitivspark.net", link: clients, "a vendor name the document does not give")
    b.expectUnexpected(R.client2, R.telemetry, "tcp/443", "a name not in the document (SNI telemetry.kognitivspark.net)")
    b.tcp(R.europeWeb, R.client1, 443, link: clients, "the datacentre opening a connection to a client")
    b.expectUnexpected(R.europeWeb, R.client1, "tcp/443", "the reverse direction of the one-way rule datacentre-endpoints")

    b.noAnswer(R.client2, R.unlistedHost, 8443, link: clients, "a client trying an unlisted service that never answers")
    b.expectAttempt(R.client2, R.unlistedHost, "tcp/8443", "no answer")

    // Link control on the clients' VLAN: what a tablet or headset does on joining the network.
    let clientMAC: Frame.MACAddress = "02:00:00:64:00:21"
    let routerMAC: Frame.MACAddress = "02:00:00:64:00:01"
    let vlan = R.clientsVLAN
    let zero = IPAddress(parsing: "0.0.0.0"), broadcast = IPAddress(parsing: "255.255.255.255")
    b.linkControl("dhcp", [
        LinkControl.dhcp(.discover, source: zero, sourceMAC: clientMAC, destination: broadcast, destinationMAC: .broadcast,
                         transaction: 0x6421_0001, clientMAC: clientMAC, vlan: vlan),
        LinkControl.dhcp(.offer, source: R.firewall, sourceMAC: routerMAC, destination: R.client1, destinationMAC: clientMAC,
                         transaction: 0x6421_0001, clientMAC: clientMAC, yourAddress: R.client1, server: R.firewall, vlan: vlan),
        LinkControl.dhcp(.request, source: zero, sourceMAC: clientMAC, destination: broadcast, destinationMAC: .broadcast,
                         transaction: 0x6421_0001, clientMAC: clientMAC, server: R.firewall, vlan: vlan),
        LinkControl.dhcp(.ack, source: R.firewall, sourceMAC: routerMAC, destination: R.client1, destinationMAC: clientMAC,
                         transaction: 0x6421_0001, clientMAC: clientMAC, yourAddress: R.client1, server: R.firewall, vlan: vlan),
    ], "a client joins: DHCP discover, offer, request, ack from the firewall")
    b.linkControl("arp", [
        LinkControl.arpRequest(sender: R.client1, senderMAC: clientMAC, target: R.firewall, vlan: vlan),
        LinkControl.arpReply(sender: R.firewall, senderMAC: routerMAC, target: R.client1, targetMAC: clientMAC, vlan: vlan),
    ], "the client resolves its gateway")
    b.linkControl("igmp", [
        LinkControl.igmpReport(source: R.client1, sourceMAC: clientMAC, groups: [IPAddress(parsing: "224.0.0.251")], vlan: vlan),
    ], "IGMPv3 report: the client joins the mDNS group")
    b.linkControl("mdns", [
        Frame.ethernet(source: clientMAC, destination: LinkControl.multicastMAC(IPAddress(parsing: "224.0.0.251"))).vlan(vlan)
            .ipv4(source: R.client1, destination: IPAddress(parsing: "224.0.0.251"), ttl: 255)
            .udp(sourcePort: 5353, destinationPort: 5353, payload: DNSPayload.query(id: 0, name: "_airplay._tcp.local", type: DNSRecordType(rawValue: 12)).bytes()),
    ], "an mDNS query to 224.0.0.251:5353 (link-local multicast)")
    b.linkControl("icmpv6-nd", [
        LinkControl.routerSolicitation(source: R.clientV6, sourceMAC: clientMAC, vlan: vlan),
        LinkControl.routerAdvertisement(source: IPAddress(parsing: "fe80::1"), sourceMAC: routerMAC, prefix: IPAddress(parsing: "2001:db8:100::"),
                                        destination: R.clientV6, destinationMAC: clientMAC, vlan: vlan),
        LinkControl.neighbourSolicitation(source: R.clientV6, sourceMAC: clientMAC, target: IPAddress(parsing: "2001:db8:100::1"), vlan: vlan),
        LinkControl.neighbourAdvertisement(source: IPAddress(parsing: "2001:db8:100::1"), sourceMAC: routerMAC, destination: R.clientV6,
                                           destinationMAC: clientMAC, router: true, vlan: vlan),
    ], "router solicitation from the client's global address, a solicited unicast RA, then neighbour solicitation and advertisement")
    b.linkControl("mld", [
        LinkControl.mldReport(source: IPAddress(parsing: "fe80::21"), sourceMAC: clientMAC,
                              groups: [LinkControl.solicitedNode(R.clientV6), IPAddress(parsing: "ff02::fb")], vlan: vlan),
    ], "MLDv2 report: the client joins its solicited-node group and mDNS ff02::fb")
    b.linkControl("dhcpv6", [
        LinkControl.dhcpv6(.solicit, source: IPAddress(parsing: "fe80::21"), sourceMAC: clientMAC, transaction: 0x21_0001, clientMAC: clientMAC, vlan: vlan),
        LinkControl.dhcpv6(.advertise, source: IPAddress(parsing: "fe80::1"), sourceMAC: routerMAC, destination: IPAddress(parsing: "fe80::21"),
                           destinationMAC: clientMAC, transaction: 0x21_0001, clientMAC: clientMAC, vlan: vlan),
    ], "DHCPv6 solicit to ff02::1:2 and the router's advertise")

    // Out of scope: not RemoteSpark clients.
    b.startOutOfScope()
    b.tcp(R.otherHost1, R.otherHost2, 445, "file sharing between other hosts")
    b.tcp(R.otherHost1, R.printer, 9100, "printing")
    b.ping(R.otherHost1, R.otherHost2, "ping")
}
