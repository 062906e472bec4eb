// Netwrix Privilege Secure scenario: one dual-stack application server, its domain, proxies and
// target hosts.

import PacketBuilder
import Packets

/// The Privilege Secure site's addresses: the only place they are written.
enum NetwrixAddresses {
    static let server = IPAddress(parsing: "10.30.0.10")
    static let serverV6 = IPAddress(parsing: "2001:db8:30::10")
    static let serverName = "pam-app-01"
    static let dc1 = IPAddress(parsing: "10.30.0.2")
    static let dc2 = IPAddress(parsing: "10.30.0.3")
    static let adminsV4 = "10.40.0.0/24"
    static let adminsV6 = "2001:db8:40::/64"
    static let admin1 = IPAddress(parsing: "10.40.0.20")
    static let admin2 = IPAddress(parsing: "10.40.0.31")
    static let adminV6 = IPAddress(parsing: "2001:db8:40::25")
    static let windowsHosts = "10.50.0.0/24"
    static let windows1 = IPAddress(parsing: "10.50.0.15")
    static let linuxHosts = "10.60.0.0/24"
    static let linux1 = IPAddress(parsing: "10.60.0.30")
    static let linuxFirewall = IPAddress(parsing: "10.60.0.1")
    static let remoteProxy = IPAddress(parsing: "10.70.0.20")
    static let remoteActionService = IPAddress(parsing: "10.70.0.21")
    static let graph = IPAddress(parsing: "198.51.100.40")
    static let login = IPAddress(parsing: "198.51.100.41")
    static let azureManagement = IPAddress(parsing: "198.51.100.77")
    static let unlistedHost = IPAddress(parsing: "93.184.216.34")
    static let adminsVLAN: UInt16 = 40
    static let windowsVLAN: UInt16 = 50
}

extension Scenario {
    static var netwrixPrivilegeSecure: Scenario {
        typealias N = NetwrixAddresses
        let site = ScenarioSite(
            name: "hq-privilege-secure",
            comment: ["Netwrix Privilege Secure sample site (written by flowaudit-gen scenarios from Sources/flowaudit-gen/ScenarioNetwrix.swift).",
                      "Administrators on VLAN \(N.adminsVLAN) (IPv4 and IPv6), Windows targets on VLAN \(N.windowsVLAN)."],
            rulesFile: "../../Rules/netwrix-privilege-secure.yaml",
            roles: [
                ("privilege-secure", [N.serverName], "one dual-stack machine: the hosts: entry below"),
                ("domain-controllers", [N.dc1.description, N.dc2.description], nil),
                ("dns-service", [N.dc1.description, N.dc2.description], "the domain controllers serve DNS"),
                ("ssh-clients", [N.adminsV4, N.adminsV6], nil),
                ("rdp-clients", [N.adminsV4, N.adminsV6], nil),
                ("windows-hosts", [N.windowsHosts], nil),
                ("linux-hosts", [N.linuxHosts], nil),
                ("remote-proxy", [N.remoteProxy.description], nil),
                ("remote-action-service", [N.remoteActionService.description], nil),
                // azure is bound by the rule file's names login.microsoftonline.com and graph.microsoft.com.
            ],
            tlsMinimum: "1.2", tlsMinimumComment: "the document states none; this site asks for TLS 1.2 or higher",
            hosts: [(N.serverName, [N.server.description, N.serverV6.description], "the Privilege Secure application server, IPv4 and IPv6")])
        return Scenario(
            system: "netwrix-privilege-secure", title: "Netwrix Privilege Secure",
            format: .pcap(nanoseconds: true, byteOrder: .littleEndian), site: site,
            story: """
                One Privilege Secure server, \(N.serverName) in the site's `hosts:` (\(N.server) and \(N.serverV6)), with two domain controllers that also serve DNS, \
                administrators on VLAN \(N.adminsVLAN), Windows targets on VLAN \(N.windowsVLAN), Linux targets behind a \
                firewall, and a remote proxy and action service. Azure is reached by name: graph.microsoft.com through a \
                DNS answer with a CNAME chain (the flow itself carries no name), login.microsoftonline.com through SNI. \
                ADWS is never used, the Linux firewall refuses SSH, the action service does not answer, and the site \
                asks for TLS 1.2 although the document states no minimum.
                """,
            build: buildNetwrix)
    }
}

private func buildNetwrix(_ b: inout ScenarioBuilder) {
    typealias N = NetwrixAddresses
    let admins = Frame.ethernet().vlan(N.adminsVLAN)
    let windows = Frame.ethernet().vlan(N.windowsVLAN)

    b.midstream(N.admin1, clientPort: 51_514, N.server, 4422, link: admins, "SSH proxy session, first seen mid-stream")

    b.tcp(N.server, N.dc1, 135, "MS-RPC endpoint mapper")
    b.expect("dc-ms-rpc", .observed, "Application Server row 1 (135 TCP, Privilege Secure server -> Domain Controller, MS-RPC): the server reaches the endpoint mapper")

    b.tcp(N.server, N.dc1, 389, "LDAP")
    b.tcp(N.server, N.dc2, 636, "LDAPS")
    b.udp(N.server, N.dc1, 389, "CLDAP ping")
    b.expect("dc-ldap-ldaps", .observed, "row 2 (389 636, TCP UDP, LDAP/LDAPS): LDAP, LDAPS and CLDAP; this document prefers neither, so no prefer advisory")

    b.dns(N.server, N.dc1, "graph.microsoft.com", answers: [
        .cname("graph.microsoft.com", "graph.ms-edge.example"),
        .cname("graph.ms-edge.example", "graph-weu.ms-edge.example"),
        .a("graph-weu.ms-edge.example", N.graph),
    ], "DNS answer with a CNAME chain")
    b.expect("dns", .observed, "row 3 (53 TCP UDP, DNS Service): the server resolves names through the domain controllers the site binds as dns-service")

    b.udp(N.server, clientPort: 137, N.dc1, 137, request: NetBIOSName.query("DC1"), response: NetBIOSName.answer("DC1", N.dc1),
          "NetBIOS name query")
    b.expect("dc-netbios", .observed, "row 4 (137 138 UDP, Net BIOS related): a NetBIOS name query answered")

    b.expect("dc-adws", .missing, "row 5 (9389 TCP, Active Directory Web Services): 'must be open' read as required, and no ADWS flow at all; not an each rule, so no hosts are named")

    b.udp(N.server, N.dc2, 88, "row 6 (88 UDP, Kerberos): Kerberos over UDP")
    b.expect("dc-kerberos", .observed, "row 6 (88 UDP, Kerberos): Kerberos over UDP")

    b.expect("ssh-proxy-clients", .observed, "Proxy Firewall Rules row 1 (4422 TCP, SSH Client -> SbPAM server): a session already running when the capture starts, oriented by the rule")

    b.tcp(N.adminV6, N.serverV6, 4489, link: admins, "RDP proxy over IPv6")
    b.tls10(N.admin2, N.server, 4489, serverName: nil, link: admins, "RDP proxy from an old client offering only TLS 1.0")
    b.expect("rdp-proxy-clients", .observed, "Proxy Firewall Rules row 2 (4489 TCP, RDP Client -> SbPAM server): sessions to both of the server's addresses")
    b.expectAdvisory("tls-below-minimum", N.admin2, N.server, "TLS 1.0 handshake below the site's tls-minimum 1.2 (the document itself states none)")

    b.tcp(N.server, N.windows1, 3389, link: windows, "Target Environment row 1 (3389 TCP, Windows Hosts, RDP Proxy)")
    b.expect("windows-rdp-proxy", .observed, "Target Environment row 1 (3389 TCP, Windows Hosts, RDP Proxy)")

    b.tcp(N.server, N.windows1, 5985, link: windows, "PowerShell remoting")
    b.expect("windows-powershell-remoting", .observed, "Target Environment row 2 (5985 5986 TCP, PowerShell remoting) over 5985")
    b.expect("windows-password-change", .observed, "Target Environment row 3 repeats row 2's ports for password change: the same flow shows both rows")

    b.prohibited(N.server, N.linux1, 22, firewall: N.linuxFirewall, "the Linux firewall refuses SSH")
    b.expect("linux-ssh", .blocked, "Target Environment row 4 (22 TCP, Linux Hosts): refused by ICMP administratively prohibited from the Linux firewall")

    b.tcp(N.server, N.remoteProxy, 6520, "proxy registration")
    b.expect("remote-proxy-registration", .observed, "Target Environment row 5 (6520 TCP, Register Proxy Service)")

    b.noAnswer(N.server, N.remoteActionService, 6500, "the action service never answers")
    b.expect("remote-action-service-registration", .blocked, "Target Environment row 6 (6500 TCP, Register Action Service): the SYNs got no answer")

    b.tcp(N.server, N.graph, 443, "Graph API; the address is known only from the DNS answer")
    b.tls(N.server, N.login, serverName: "login.microsoftonline.com", "sign-in; SNI binds the name")
    b.expect("azure-graph-api", .observed, "Target Environment row 7 (443 HTTPS, Azure) with the note's URLs login.microsoftonline.com and graph.microsoft.com: one bound by DNS through a CNAME chain, one by SNI")

    // Unexpected flows.
    b.tcp(N.server, N.unlistedHost, 443, "the server to an internet host no rule lists")
    b.expectUnexpected(N.server, N.unlistedHost, "tcp/443", "an unlisted internet host")
    b.tcp(N.admin1, N.server, 3389, link: admins, "an administrator opening RDP straight to the server")
    b.expectUnexpected(N.admin1, N.server, "tcp/3389", "an allowed port (RDP) from a role it is not allowed for (Target Environment row 1: only the server to Windows hosts)")
    b.tls(N.server, N.azureManagement, serverName: "management.azure.com", "an Azure name the document does not give")
    b.expectUnexpected(N.server, N.azureManagement, "tcp/443", "a name not in the document (SNI management.azure.com)")
    b.tcp(N.linux1, N.server, 22, "a Linux host opening SSH to the server")
    b.expectUnexpected(N.linux1, N.server, "tcp/22", "the reverse direction of the one-way rule linux-ssh (row 4's single_direction_arrow)")

    b.rejected(N.server, N.windows1, 22, link: windows, "SSH to a Windows target, port closed")
    b.expectAttempt(N.server, N.windows1, "tcp/22", "no rule allows SSH to a Windows host; refused by RST from the target")

    // Out of scope.
    b.startOutOfScope()
    b.tcp(N.admin1, N.windows1, 3389, link: admins, "an administrator bypassing the proxy")
    b.dns(N.admin1, N.dc1, "fileserver.corp.example", answers: [.a("fileserver.corp.example", IPAddress(parsing: "10.30.0.50"))], link: admins,
          "an administrator's DNS query")
    b.ping(N.windows1, N.dc2, link: windows, "a target pings a domain controller")
}

/// NetBIOS name service messages (RFC 1002): a name query and its positive answer.
enum NetBIOSName {
    /// The first-level encoding of a 16-byte NetBIOS name (padded with spaces, suffix 0x20).
    static func encoded(_ name: String) -> String {
        var bytes = Array(name.uppercased().utf8.prefix(15))
        while bytes.count < 15 { bytes.append(0x20) }
        bytes.append(0x20)
        return String(decoding: bytes.flatMap { [0x41 + ($0 >> 4), 0x41 + ($0 & 0x0F)] }, as: UTF8.self)
    }

    static func query(_ name: String) -> [UInt8] {
        DNSPayload(id: 0x6001, flags: 0x0110, questions: [.init(name: encoded(name), type: DNSRecordType(rawValue: 0x20))]).bytes()
    }

    static func answer(_ name: String, _ address: IPAddress) -> [UInt8] {
        DNSPayload(id: 0x6001, flags: 0x8500, answers: [
            .init(name: encoded(name), ttl: 300_000, data: .raw(type: 0x20, bytes: [0x00, 0x00] + address.bytes.suffix(4))),
        ]).bytes()
    }
}
