// ARKSSPR scenario: two HA nodes (one IPv4, one IPv6-only), a DMZ server, domain integration.

import PacketBuilder
import Packets

/// The ARKSSPR site's addresses: the only place they are written.
enum ARKSSPRAddresses {
    static let nodeA = IPAddress(parsing: "10.10.0.11")
    static let nodeB = IPAddress(parsing: "2001:db8:10::12")
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
                      "HA node A is IPv4, HA node B IPv6-only; clients on VLAN \(A.clientsVLAN), the DMZ on VLAN \(A.dmzVLAN)."],
            rulesFile: "../../Rules/arksspr.yaml",
            roles: [
                ("internal-server", [A.nodeA.description, A.nodeB.description], "the two HA nodes: each of them must show every rule marked each"),
                ("dmz-server", [A.dmz.description], nil),
                ("internal-clients", [A.clientsV4, A.clientsV6], nil),
                ("internet-clients", ["internet"], "the portal is published: any global address may reach the DMZ server"),
                ("mail-server", [A.mail.description], nil),
                ("database-server", [A.database.description], nil),
                ("syslog-server", [A.syslog.description], nil),
                ("sms-provider", [A.smsProvider.description], nil),
                ("domain-controllers", [A.dc.description, A.dcV6.description], nil),
                ("ntp-server", [A.ntp.description, A.ntpV6.description], nil),
                // license-server is bound by the rule file's name license.arksoft.com.tr.
            ])
        return Scenario(
            system: "arksspr", title: "ARKSSPR self-service password reset",
            format: .pcapng(resolution: .microseconds, byteOrder: .littleEndian), site: site,
            story: """
                Two HA nodes of the Internal ARKSSPR Server (node A \(A.nodeA), node B \(A.nodeB), IPv6 only) behind a DMZ \
                server \(A.dmz) (VLAN \(A.dmzVLAN)); internal clients on VLAN \(A.clientsVLAN) (IPv4 and IPv6). The license \
                server is reached by name only: the TLS ClientHello's SNI \(A.licenseName) binds it. Node B never \
                synchronises time, mail is never sent, the database refuses, the SMS provider does not answer, and \
                a few flows no rule allows show up.
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
    b.tls(A.nodeA, A.license, serverName: A.licenseName, "license-validation from node A (SNI binds the license server)")
    b.tls(A.nodeB, A.licenseV6, serverName: A.licenseName, "license-validation from node B over IPv6 (SNI)")
    b.expect("license-validation", .observed, "both HA nodes reach license.arksoft.com.tr, bound through the TLS SNI")

    b.tls(A.dmz, A.nodeA, serverName: "arksspr.corp.example", link: dmz, "web relay from the DMZ server")
    b.expect("dmz-web-relay", .observed, "the DMZ server relays to node A; the rule's only from-host showed it")

    b.tls10(A.client, A.nodeA, serverName: "arksspr.corp.example", link: clients, "portal access from an old browser offering only TLS 1.0")
    b.tls(A.clientV6, A.nodeB, serverName: "arksspr.corp.example", link: clients, "portal access over IPv6")
    b.expect("internal-portal-access", .observed, "internal clients (IPv4 and IPv6, VLAN \(A.clientsVLAN)) use the portal")
    b.expectAdvisory("tls-below-minimum", A.client, A.nodeA, "TLS 1.0 handshake; the document asks for TLS 1.2 or higher")

    b.tls(A.internetClient, A.dmz, serverName: "reset.example.com", link: dmz, "external user on the published portal")
    b.expect("external-portal-access", .observed, "an internet client (the built-in set internet) reaches the DMZ server")

    b.expect("smtp-mail", .missing, "no mail traffic from either node: a required rule with no flow at all")

    b.rejected(A.nodeA, A.database, 1433, "database port closed")
    b.expect("database", .blocked, "the only attempt to the database was answered by RST")

    b.expect("syslog-forwarding", .notSeen, "optional, and no syslog traffic: not a finding")

    b.noAnswer(A.nodeA, A.smsProvider, 443, "SMS provider never answers")
    b.expect("sms-otp", .blocked, "SYNs to the SMS provider got no answer")

    b.tcp(A.nodeA, A.dc, 389, "plain LDAP bind")
    b.tcp(A.nodeA, A.dc, 636, "LDAPS")
    b.tcp(A.nodeB, A.dcV6, 636, "LDAPS over IPv6")
    b.expect("ad-ldap", .observed, "both nodes use LDAPS; node A also plain LDAP")
    b.expectAdvisory("prefer", A.nodeA, A.dc, "plain LDAP on tcp/389; the document prefers LDAPS (636)")

    b.udp(A.nodeA, A.dc, 88, "Kerberos over UDP")
    b.tcp(A.nodeB, A.dcV6, 88, "Kerberos over TCP, IPv6")
    b.expect("ad-kerberos", .observed, "Kerberos from both nodes (UDP from A, TCP from B)")

    b.tcp(A.nodeA, A.dc, 49_667, "RPC on a dynamic port")
    b.tcp(A.nodeB, A.dcV6, 135, "RPC endpoint mapper over IPv6")
    b.expect("ad-rpc-smb", .observed, "RPC/SMB from both nodes, one session already running at capture start")

    b.udp(A.nodeA, clientPort: 123, A.ntp, 123, "NTP from node A only")
    b.expect("ntp", .partial, missing: [A.nodeB], "each rule: node A synchronises time, node B never does")

    // Unexpected flows: no rule allows them.
    b.tcp(A.nodeA, A.unlistedHost, 443, "node A to an internet host no rule lists")
    b.expectUnexpected(A.nodeA, A.unlistedHost, "tcp/443", "an unlisted internet host")
    b.tcp(A.dmz, A.dc, 636, link: dmz, "DMZ server querying a domain controller")
    b.expectUnexpected(A.dmz, A.dc, "tcp/636", "an allowed port (LDAPS) from a role it is not allowed for (only the internal server may)")
    b.tls(A.nodeA, A.telemetry, serverName: A.unlistedName, "node A to a name the document does not give")
    b.expectUnexpected(A.nodeA, A.telemetry, "tcp/443", "a name not in the document (SNI \(A.unlistedName))")
    b.tcp(A.nodeA, A.dmz, 443, link: dmz, "node A opening a connection to the DMZ server")
    b.expectUnexpected(A.nodeA, A.dmz, "tcp/443", "the reverse direction of the one-way rule dmz-web-relay")

    // Unexpected attempts, stopped before they completed.
    b.prohibited(A.dmz, A.database, 1433, firewall: A.dmzFirewall, link: dmz, "the firewall stops the DMZ server reaching the database")
    b.expectAttempt(A.dmz, A.database, "tcp/1433", "refused by ICMP administratively prohibited from the DMZ firewall")
    b.noAnswer(A.unlistedHost, A.dmz, 22, link: dmz, "an internet host probing SSH on the DMZ server")
    b.expectAttempt(A.unlistedHost, A.dmz, "tcp/22", "an inbound probe nothing answered")

    // Out of scope: neither end is an ARKSSPR server.
    b.startOutOfScope()
    b.tcp(A.client, A.otherClient, 445, link: clients, "client to client file sharing")
    b.ping(A.client, A.clientsGateway, link: clients, "a client pings its gateway")
    b.udp(A.client, clientPort: 123, A.ntp, 123, link: clients, "a client synchronising time")
    b.dns(A.client, A.dc, "intranet.corp.example", answers: [.a("intranet.corp.example", IPAddress(parsing: "10.10.0.80"))], link: clients,
          "a client's DNS query")
}
