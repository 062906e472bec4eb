// ARKSSPR scenario: a dual-stack HA pair bound by host name, a DMZ server, domain integration,
// clients scoped to their VLAN, and the link control traffic every server on a LAN sends.

import PacketBuilder
import Packets

/// The ARKSSPR site's addresses: the only place they are written.
enum ARKSSPRAddresses {
    static let nodeA = IPAddress(parsing: "10.10.0.11")
    static let nodeAV6 = IPAddress(parsing: "2001:db8:10::11")
    static let nodeALinkLocal = IPAddress(parsing: "fe80::11")
    static let nodeB = IPAddress(parsing: "10.10.0.12")
    static let nodeBV6 = IPAddress(parsing: "2001:db8:10::12")
    static let nodeBLinkLocal = IPAddress(parsing: "fe80::12")
    static let nodeAName = "arksspr-node-a"
    static let nodeBName = "arksspr-node-b"
    static let nodeAMAC: Frame.MACAddress = "02:00:00:10:00:11"
    static let nodeBMAC: Frame.MACAddress = "02:00:00:10:00:12"
    static let dcMAC: Frame.MACAddress = "02:00:00:10:00:02"
    /// The server LAN's router: default gateway, DHCP server and IPv6 router.
    static let router = IPAddress(parsing: "10.10.0.1")
    static let routerLinkLocal = IPAddress(parsing: "fe80::1")
    static let routerMAC: Frame.MACAddress = "02:00:00:10:00:01"
    static let serverPrefix = IPAddress(parsing: "2001:db8:10::")
    static let heartbeatGroup = IPAddress(parsing: "239.192.0.11")
    static let nativeVLANClient = IPAddress(parsing: "10.20.0.77")
    static let dmz = IPAddress(parsing: "192.168.50.10")
    static let dmzFirewall = IPAddress(parsing: "192.168.50.1")
    static let dc = IPAddress(parsing: "10.10.0.2")
    static let dcV6 = IPAddress(parsing: "2001:db8:10::2")
    static let ntp = IPAddress(parsing: "10.10.0.5")
    static let ntpV6 = IPAddress(parsing: "2001:db8:10::5")
    static let mail = IPAddress(parsing: "10.10.0.25")
    static let database = IPAddress(parsing: "10.10.0.30")
    static let syslog = IPAddress(parsing: "10.10.0.40")
    static let smsProvider = IPAddress(parsing: "203.0.113.80")
    static let clientsV4 = "10.20.0.0/24"
    static let clientsV6 = "2001:db8:20::/64"
    static let client = IPAddress(parsing: "10.20.0.50")
    static let clientV6 = IPAddress(parsing: "2001:db8:20::50")
    static let otherClient = IPAddress(parsing: "10.20.0.60")
    static let clientsGateway = IPAddress(parsing: "10.20.0.1")
    static let internetClient = IPAddress(parsing: "81.2.69.142")
    static let unlistedHost = IPAddress(parsing: "93.184.216.34")
    static let license = IPAddress(parsing: "203.0.113.10")
    static let licenseV6 = IPAddress(parsing: "2001:db8:ffff::10")
    static let telemetry = IPAddress(parsing: "203.0.113.99")
    static let licenseName = "license.arksoft.com.tr"
    static let unlistedName = "telemetry.arksoft.com.tr"
    static let clientsVLAN: UInt16 = 20
    static let dmzVLAN: UInt16 = 50
}

extension Scenario {
    static var arksspr: Scenario {
        typealias A = ARKSSPRAddresses
        let site = ScenarioSite(
            name: "hq-arksspr",
            comment: ["ARKSSPR sample site (written by flowaudit-gen scenarios from Sources/flowaudit-gen/ScenarioARKSSPR.swift).",
                      "Two dual-stack HA nodes bound by name; clients on VLAN \(A.clientsVLAN), the DMZ on VLAN \(A.dmzVLAN)."],
            rulesFile: "../../Rules/arksspr.yaml",
            roles: [
                ("internal-server", [A.nodeAName, A.nodeBName], "the two HA nodes: each of them must show every rule marked each, on any of its addresses"),
                ("dmz-server", [A.dmz.description], nil),
                ("internet-clients", ["internet"], "the portal is published: any global address may reach the DMZ server"),
                ("mail-server", [A.mail.description], nil),
                ("database-server", [A.database.description], nil),
                ("syslog-server", [A.syslog.description], nil),
                ("sms-provider", [A.smsProvider.description], nil),
                ("domain-controllers", [A.dc.description, A.dcV6.description], nil),
                ("ntp-server", [A.ntp.description, A.ntpV6.description], nil),
                // license-server is bound by the rule file's name license.arksoft.com.tr.
            ],
            hosts: [
                (A.nodeAName, [A.nodeA.description, A.nodeAV6.description, A.nodeALinkLocal.description],
                 "HA node A: IPv4, IPv6 and its link-local address are one machine"),
                (A.nodeBName, [A.nodeB.description, A.nodeBV6.description, A.nodeBLinkLocal.description], "HA node B"),
            ],
            vlanRoles: [
                ("internal-clients", [A.clientsV4, A.clientsV6], [A.clientsVLAN],
                 "clients count only on their VLAN: the same addresses elsewhere are not the site's clients"),
            ])
        return Scenario(
            system: "arksspr", title: "ARKSSPR self-service password reset",
            format: .pcapng(resolution: .microseconds, byteOrder: .littleEndian), site: site,
            story: """
                Two dual-stack HA nodes of the Internal ARKSSPR Server, bound by name in the site's `hosts:` \
                (\(A.nodeAName): \(A.nodeA), \(A.nodeAV6); \(A.nodeBName): \(A.nodeB), \(A.nodeBV6)), behind a DMZ \
                server \(A.dmz) (VLAN \(A.dmzVLAN)); internal clients on VLAN \(A.clientsVLAN) (IPv4 and IPv6), the only \
                VLAN the site binds them on. The license server is reached by name only: the TLS ClientHello's SNI \
                \(A.licenseName) binds it. Node A talks to the domain controller over IPv4 only and node B over IPv6 \
                only: both hosts showed the `each` rules. Node B never synchronises time, mail is never sent, the \
                database refuses, the SMS provider does not answer, only node A forwards syslog (optional), and a few \
                flows no rule allows show up. The nodes' links carry ARP, neighbour and router discovery, MLD, IGMP, \
                DHCP and DHCPv6: counted as link control, never unexpected.
                """,
            build: buildARKSSPR)
    }
}

private func buildARKSSPR(_ b: inout ScenarioBuilder) {
    typealias A = ARKSSPRAddresses
    let clients = Frame.ethernet().vlan(A.clientsVLAN)
    let dmz = Frame.ethernet().vlan(A.dmzVLAN)

    // Already running when the capture starts.
    b.midstream(A.nodeA, clientPort: 49_730, A.dc, 445, "SMB session of ad-rpc-smb, first seen mid-stream")

    // License validation from both HA nodes, bound by SNI.
    b.tls(A.nodeA, A.license, serverName: A.licenseName, "license-validation from node A over IPv4 (SNI binds the license server)")
    b.tls(A.nodeBV6, A.licenseV6, serverName: A.licenseName, "license-validation from node B over IPv6 (SNI)")
    b.expect("license-validation", .observed,
             "Network Communication Requirements row 1 (Internal ARKSSPR Server --> license.arksoft.com.tr TCP 443), each: both HA hosts reach it, A over IPv4 and B over IPv6; the SNI binds the name")

    b.tls(A.dmz, A.nodeA, serverName: "arksspr.corp.example", link: dmz, "web relay from the DMZ server")
    b.expect("dmz-web-relay", .observed, "row 2 (DMZ ARKSSPR Server --> Internal ARKSSPR Server TCP 80, 443): the DMZ server relays to node A; the rule's only from-host showed it")

    b.tls10(A.client, A.nodeA, serverName: "arksspr.corp.example", link: clients, "portal access from an old browser offering only TLS 1.0")
    b.tls(A.clientV6, A.nodeBV6, serverName: "arksspr.corp.example", link: clients, "portal access over IPv6")
    b.expect("internal-portal-access", .observed, "row 3 (Internal Clients --> Internal ARKSSPR Server TCP 80, 443): clients on VLAN \(A.clientsVLAN), IPv4 and IPv6")
    b.expectAdvisory("tls-below-minimum", A.client, A.nodeA, "TLS 1.0 handshake; 'Ensure TLS 1.2 or higher is enabled on the ARKSSPR server and client browsers'")

    b.tcp(A.nativeVLANClient, A.nodeA, 443, "a host with a client address but no VLAN tag (the server VLAN, not VLAN \(A.clientsVLAN))")
    b.expectUnexpected(A.nativeVLANClient, A.nodeA, "tcp/443",
                       "the address is in internal-clients' block, but the site binds internal-clients on VLAN \(A.clientsVLAN) only and this flow carries no tag: not a client of the site ('Restrict inbound access to ARKSSPR portal to authorized networks')")

    b.tls(A.internetClient, A.dmz, serverName: "reset.example.com", link: dmz, "external user on the published portal")
    b.expect("external-portal-access", .observed, "row 4 (Internet Clients --> DMZ ARKSSPR Server, 'if published'): an internet client (the built-in set internet) reaches the DMZ server")

    b.expect("smtp-mail", .missing, missing: [A.nodeAName, A.nodeBName],
             "row 5 (Internal ARKSSPR Server --> E-Mail Server TCP 587) is required and each: no mail from either HA host, named by the site's hosts:")

    b.rejected(A.nodeA, A.database, 1433, "database port closed")
    b.expect("database", .blocked, "row 6 (TCP 1433; 'remote DB' is an optional integration): the only attempt was answered by RST; blocked, whether optional or not")

    b.udpOneWay(A.nodeA, A.syslog, 514, "syslog from node A only")
    b.expect("syslog-forwarding", .observed,
             "row 7 (UDP 514): Syslog is an optional integration, so node A's forwarding is observed and node B's silence is not a finding: an optional rule is never partial")

    b.noAnswer(A.nodeA, A.smsProvider, 443, "SMS provider never answers")
    b.expect("sms-otp", .blocked, "row 8 (SMS Provider, HTTPS 443): SYNs to the SMS provider got no answer")

    b.tcp(A.nodeA, A.dc, 389, "plain LDAP bind")
    b.tcp(A.nodeA, A.dc, 389, "a second plain LDAP bind: the same flow group")
    b.tcp(A.nodeA, A.dc, 636, "LDAPS")
    b.tcp(A.nodeBV6, A.dcV6, 636, "LDAPS over IPv6")
    b.expect("ad-ldap", .observed,
             "Additional Communication row 1 (LDAP / LDAPS 389 / 636), each: node A only over IPv4, node B only over IPv6; a host is a machine, so both showed it")
    b.expectAdvisory("prefer", A.nodeA, A.dc,
                     "two plain LDAP flows in one group, one advisory: 'Use LDAPS (636) instead of plain LDAP (389) where possible'")

    b.udp(A.nodeA, A.dc, 88, "Kerberos over UDP")
    b.tcp(A.nodeBV6, A.dcV6, 88, "Kerberos over TCP, IPv6")
    b.expect("ad-kerberos", .observed, "Additional Communication row 2 (Kerberos 88), each: node A over UDP/IPv4, node B over TCP/IPv6")

    b.tcp(A.nodeA, A.dc, 49_667, "RPC on a dynamic port")
    b.tcp(A.nodeBV6, A.dcV6, 135, "RPC endpoint mapper over IPv6")
    b.expect("ad-rpc-smb", .observed, "Additional Communication row 3 (RPC / SMB 135, 445, 49152-65535), each: both hosts, one session already running at capture start")

    b.udp(A.nodeA, clientPort: 123, A.ntp, 123, "NTP from node A only")
    b.expect("ntp", .partial, missing: [A.nodeBName],
             "Additional Communication row 4 (NTP 123) and 'All HA nodes must have identical firewall and port access configuration': node A synchronises time, node B never does on any of its addresses")

    // Unexpected flows: no rule allows them.
    b.tcp(A.nodeA, A.unlistedHost, 443, "node A to an internet host no rule lists")
    b.expectUnexpected(A.nodeA, A.unlistedHost, "tcp/443", "an unlisted internet host")
    b.tcp(A.dmz, A.dc, 636, link: dmz, "DMZ server querying a domain controller")
    b.expectUnexpected(A.dmz, A.dc, "tcp/636", "an allowed port (LDAPS) from a role it is not allowed for (only the 'ARKSSPR Web Server', the internal server, may)")
    b.tls(A.nodeA, A.telemetry, serverName: A.unlistedName, "node A to a name the document does not give")
    b.expectUnexpected(A.nodeA, A.telemetry, "tcp/443", "a name not in the document (SNI \(A.unlistedName))")
    b.tcp(A.nodeA, A.dmz, 443, link: dmz, "node A opening a connection to the DMZ server")
    b.expectUnexpected(A.nodeA, A.dmz, "tcp/443", "the reverse direction of the one-way rule dmz-web-relay (row 2 writes '-->')")

    // Unexpected attempts, stopped before they completed.
    b.prohibited(A.dmz, A.database, 1433, firewall: A.dmzFirewall, link: dmz, "the firewall stops the DMZ server reaching the database")
    b.expectAttempt(A.dmz, A.database, "tcp/1433", "refused by ICMP administratively prohibited from the DMZ firewall")
    b.noAnswer(A.unlistedHost, A.dmz, 22, link: dmz, "an internet host probing SSH on the DMZ server")
    b.expectAttempt(A.unlistedHost, A.dmz, "tcp/22", "an inbound probe nothing answered")

    // Link control on the server LAN: what the HA nodes' stacks send besides ARKSSPR traffic.
    b.linkControl("arp", [
        LinkControl.arpRequest(sender: A.nodeA, senderMAC: A.nodeAMAC, target: A.dc),
        LinkControl.arpReply(sender: A.dc, senderMAC: A.dcMAC, target: A.nodeA, targetMAC: A.nodeAMAC),
    ], "node A resolves the domain controller's MAC address")
    b.linkControl("arp", [
        LinkControl.arpRequest(sender: A.nodeB, senderMAC: A.nodeBMAC, target: A.router),
        LinkControl.arpReply(sender: A.router, senderMAC: A.routerMAC, target: A.nodeB, targetMAC: A.nodeBMAC),
    ], "node B resolves its gateway")
    b.linkControl("icmpv6-nd", [
        LinkControl.neighbourSolicitation(source: A.nodeAV6, sourceMAC: A.nodeAMAC, target: A.dcV6),
        LinkControl.neighbourAdvertisement(source: A.dcV6, sourceMAC: A.dcMAC, destination: A.nodeAV6, destinationMAC: A.nodeAMAC),
    ], "neighbour solicitation from node A's global address, advertisement from the domain controller")
    b.linkControl("icmpv6-nd", [
        LinkControl.routerSolicitation(source: A.nodeBLinkLocal, sourceMAC: A.nodeBMAC),
        LinkControl.routerAdvertisement(source: A.routerLinkLocal, sourceMAC: A.routerMAC, prefix: A.serverPrefix),
    ], "router solicitation from node B, router advertisement of 2001:db8:10::/64")
    b.linkControl("mld", [
        LinkControl.mldReport(source: A.nodeALinkLocal, sourceMAC: A.nodeAMAC, groups: [LinkControl.solicitedNode(A.nodeAV6)]),
        LinkControl.mldReport(source: A.nodeBLinkLocal, sourceMAC: A.nodeBMAC, groups: [LinkControl.solicitedNode(A.nodeBV6)]),
    ], "MLDv2 reports: each node joins its solicited-node group")
    b.linkControl("igmp", [
        LinkControl.igmpReport(source: A.nodeA, sourceMAC: A.nodeAMAC, groups: [A.heartbeatGroup]),
        LinkControl.igmpReport(source: A.nodeB, sourceMAC: A.nodeBMAC, groups: [A.heartbeatGroup]),
    ], "IGMPv3 reports: both nodes join the cluster's heartbeat group")
    let zero = IPAddress(parsing: "0.0.0.0"), broadcast = IPAddress(parsing: "255.255.255.255")
    b.linkControl("dhcp", [
        LinkControl.dhcp(.discover, source: zero, sourceMAC: A.nodeBMAC, destination: broadcast, destinationMAC: .broadcast,
                         transaction: 0x1012_0001, clientMAC: A.nodeBMAC),
        LinkControl.dhcp(.offer, source: A.router, sourceMAC: A.routerMAC, destination: A.nodeB, destinationMAC: A.nodeBMAC,
                         transaction: 0x1012_0001, clientMAC: A.nodeBMAC, yourAddress: A.nodeB, server: A.router),
        LinkControl.dhcp(.request, source: zero, sourceMAC: A.nodeBMAC, destination: broadcast, destinationMAC: .broadcast,
                         transaction: 0x1012_0001, clientMAC: A.nodeBMAC, server: A.router),
        LinkControl.dhcp(.ack, source: A.router, sourceMAC: A.routerMAC, destination: A.nodeB, destinationMAC: A.nodeBMAC,
                         transaction: 0x1012_0001, clientMAC: A.nodeBMAC, yourAddress: A.nodeB, server: A.router),
    ], "node B takes its reserved address: DHCP discover, offer, request, ack")
    b.linkControl("dhcp", [
        LinkControl.dhcp(.request, source: A.nodeA, sourceMAC: A.nodeAMAC, destination: A.router, destinationMAC: A.routerMAC,
                         transaction: 0x1011_0002, clientMAC: A.nodeAMAC, clientAddress: A.nodeA),
        LinkControl.dhcp(.ack, source: A.router, sourceMAC: A.routerMAC, destination: A.nodeA, destinationMAC: A.nodeAMAC,
                         transaction: 0x1011_0002, clientMAC: A.nodeAMAC, clientAddress: A.nodeA, yourAddress: A.nodeA, server: A.router),
    ], "node A renews its lease, unicast from 10.10.0.11:68 to the server's port 67")
    b.linkControl("dhcpv6", [
        LinkControl.dhcpv6(.renew, source: A.nodeALinkLocal, sourceMAC: A.nodeAMAC, transaction: 0x11_0003, clientMAC: A.nodeAMAC),
        LinkControl.dhcpv6(.reply, source: A.routerLinkLocal, sourceMAC: A.routerMAC, destination: A.nodeALinkLocal, destinationMAC: A.nodeAMAC,
                           transaction: 0x11_0003, clientMAC: A.nodeAMAC),
    ], "node A renews over DHCPv6 (fe80::11 port 546 to ff02::1:2 port 547, reply from the router)")

    // Out of scope: neither end is an ARKSSPR server.
    b.startOutOfScope()
    b.tcp(A.client, A.otherClient, 445, link: clients, "client to client file sharing")
    b.ping(A.client, A.clientsGateway, link: clients, "a client pings its gateway")
    b.udp(A.client, clientPort: 123, A.ntp, 123, link: clients, "a client synchronising time")
    b.dns(A.client, A.dc, "intranet.corp.example", answers: [.a("intranet.corp.example", IPAddress(parsing: "10.10.0.80"))], link: clients,
          "a client's DNS query")
}
