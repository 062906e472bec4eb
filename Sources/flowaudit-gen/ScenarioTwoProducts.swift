// Two products on one directory: ARKSSPR and Netwrix Privilege Secure loaded together, both
// speaking plain LDAP to the same domain controller. Only the ARKSSPR document prefers LDAPS
// ("Use LDAPS (636) instead of plain LDAP (389) where possible", Firewall & Security
// Considerations) and asks for TLS 1.2 or higher; the Netwrix document lists "389 636 TCP UDP
// LDAP/LDAPS" with no preference and no TLS minimum. Advice must follow the document that gives it.

import PacketBuilder
import Packets

/// The two-product site's addresses: the only place they are written.
enum TwoProductsAddresses {
    static let sspr = IPAddress(parsing: "10.110.0.11")
    static let ssprV6 = IPAddress(parsing: "2001:db8:110::11")
    static let pam = IPAddress(parsing: "10.110.0.20")
    static let pamV6 = IPAddress(parsing: "2001:db8:110::20")
    static let dc = IPAddress(parsing: "10.110.0.2")
    static let dcV6 = IPAddress(parsing: "2001:db8:110::2")
    static let syslog = IPAddress(parsing: "10.110.0.40")
    static let clients = "10.120.0.0/24"
    static let client = IPAddress(parsing: "10.120.0.50")
    static let admins = "10.130.0.0/24"
    static let admin = IPAddress(parsing: "10.130.0.31")
    static let license = IPAddress(parsing: "203.0.113.10")
    static let graph = IPAddress(parsing: "198.51.100.40")
    static let login = IPAddress(parsing: "198.51.100.41")
    static let ssprName = "sspr-01"
    static let pamName = "pam-01"
    static let dcName = "dc-01"
    static let arksspr = "arksspr"
    static let netwrix = "netwrix-privilege-secure"
}

extension Scenario {
    static var twoProducts: Scenario {
        typealias T = TwoProductsAddresses
        let site = ScenarioSite(
            name: "hq-directory",
            comment: ["Two products, one directory (written by flowaudit-gen scenarios from Sources/flowaudit-gen/ScenarioTwoProducts.swift).",
                      "Both rule files declare domain-controllers: the site must write it qualified, once per product."],
            rulesFiles: ["../../Rules/arksspr.yaml", "../../Rules/netwrix-privilege-secure.yaml"],
            roles: [
                ("internal-server", [T.ssprName], "bare: only arksspr declares internal-server"),
                ("privilege-secure", [T.pamName], "bare: only netwrix-privilege-secure declares privilege-secure"),
                ("arksspr.domain-controllers", [T.dcName], "declared by both files: qualified"),
                ("netwrix-privilege-secure.domain-controllers", [T.dcName], nil),
                ("dns-service", [T.dcName], "the domain controller serves DNS"),
                ("ntp-server", [T.dcName], "and time"),
                ("syslog-server", [T.syslog.description], "bound, but ARKSSPR never forwards syslog here (optional integration)"),
                ("internal-clients", [T.clients], nil),
                ("rdp-clients", [T.admins], "administrators, a block of their own"),
            ],
            hosts: [
                (T.ssprName, [T.sspr.description, T.ssprV6.description], "the Internal ARKSSPR Server"),
                (T.pamName, [T.pam.description, T.pamV6.description], "the Privilege Secure application server"),
                (T.dcName, [T.dc.description, T.dcV6.description], "the domain controller both products use"),
            ])
        return Scenario(
            system: "two-products", title: "Two products, one directory (ARKSSPR and Netwrix Privilege Secure)",
            format: .pcapng(resolution: .microseconds, byteOrder: .littleEndian), site: site,
            story: """
                One site loads two rule files: an ARKSSPR server \(T.ssprName) and a Privilege Secure server \(T.pamName) \
                both bind and search the same domain controller \(T.dcName) over plain LDAP (tcp/389) as well as LDAPS. \
                Only the ARKSSPR document says "Use LDAPS (636) instead of plain LDAP (389) where possible", so only \
                ARKSSPR's LDAP group gets a `prefer` advisory (one, for its two flows); Privilege Secure's identical \
                traffic gets none. Likewise only the ARKSSPR document asks for TLS 1.2: a TLS 1.0 portal login is advised, \
                a TLS 1.0 RDP proxy session to Privilege Secure is not. Roles both documents declare are written \
                qualified, and reports show every role as system.role. ARKSSPR's optional syslog is bound but never sent.
                """,
            build: buildTwoProducts)
    }
}

private func buildTwoProducts(_ b: inout ScenarioBuilder) {
    typealias T = TwoProductsAddresses
    let a = T.arksspr, n = T.netwrix

    // ---- ARKSSPR ----
    b.tls(T.sspr, T.license, serverName: "license.arksoft.com.tr", "ARKSSPR license validation (SNI)")
    b.expect("\(a)/license-validation", .observed, "ARKSSPR Network Communication Requirements row 1: the license server reached by name")
    b.expect("\(a)/dmz-web-relay", .unbound, "no DMZ server in this site: the role is unbound, never missing")
    b.tls10(T.client, T.sspr, serverName: "sspr.corp.example", "portal login from an old browser offering only TLS 1.0")
    b.expect("\(a)/internal-portal-access", .observed, "ARKSSPR row 3: an internal client uses the portal")
    b.expectAdvisory("tls-below-minimum", T.client, T.sspr,
                     "a flow ARKSSPR's rule allows, and ARKSSPR asks 'TLS 1.2 or higher is enabled on the ARKSSPR server and client browsers'")
    b.expect("\(a)/external-portal-access", .unbound, "internet-clients not bound: the portal is not published")
    b.expect("\(a)/smtp-mail", .unbound, "mail-server not bound")
    b.expect("\(a)/database", .unbound, "database-server not bound")
    b.expect("\(a)/syslog-forwarding", .notSeen,
             "ARKSSPR row 7: Syslog is one of the 'Optional integrations'; bound, no flow: not-seen, never missing nor partial")
    b.expect("\(a)/sms-otp", .unbound, "sms-provider not bound")

    b.tcp(T.sspr, T.dc, 389, "ARKSSPR plain LDAP bind")
    b.tcp(T.sspr, T.dc, 389, "ARKSSPR plain LDAP search: the same flow group")
    b.tcp(T.ssprV6, T.dcV6, 636, "ARKSSPR LDAPS over IPv6")
    b.expect("\(a)/ad-ldap", .observed, "ARKSSPR Additional Communication row 1 (LDAP / LDAPS 389 / 636)")
    b.expectAdvisory("prefer", T.sspr, T.dc,
                     "ARKSSPR: 'Use LDAPS (636) instead of plain LDAP (389) where possible'; two flows, one group, one advisory")
    b.udp(T.sspr, T.dc, 88, "ARKSSPR Kerberos")
    b.expect("\(a)/ad-kerberos", .observed, "ARKSSPR Additional Communication row 2 (Kerberos 88)")
    b.tcp(T.sspr, T.dc, 135, "ARKSSPR RPC endpoint mapper")
    b.expect("\(a)/ad-rpc-smb", .observed, "ARKSSPR Additional Communication row 3 (RPC / SMB 135)")
    b.udp(T.sspr, clientPort: 123, T.dc, 123, "ARKSSPR NTP from the domain controller")
    b.expect("\(a)/ntp", .observed, "ARKSSPR Additional Communication row 4 (NTP 123)")

    // ---- Netwrix Privilege Secure ----
    b.tcp(T.pam, T.dc, 135, "Privilege Secure MS-RPC")
    b.expect("\(n)/dc-ms-rpc", .observed, "Netwrix Application Server row 1 (135 TCP)")
    b.tcp(T.pam, T.dc, 389, "Privilege Secure plain LDAP bind")
    b.tcp(T.pam, T.dc, 389, "Privilege Secure plain LDAP search")
    b.tcp(T.pamV6, T.dcV6, 636, "Privilege Secure LDAPS over IPv6")
    b.expect("\(n)/dc-ldap-ldaps", .observed,
             "Netwrix row 2 ('389 636', 'TCP UDP', LDAP/LDAPS): plain LDAP is simply allowed; this document prefers nothing, so the same tcp/389 to the same domain controller raises no advisory")
    b.dns(T.pam, T.dc, "graph.microsoft.com", answers: [.a("graph.microsoft.com", T.graph)], "Privilege Secure resolves Graph")
    b.expect("\(n)/dns", .observed, "Netwrix row 3 (53 TCP UDP, DNS Service)")
    b.udp(T.pam, clientPort: 137, T.dc, 137, request: NetBIOSName.query("DC-01"), response: NetBIOSName.answer("DC-01", T.dc),
          "Privilege Secure NetBIOS name query")
    b.expect("\(n)/dc-netbios", .observed, "Netwrix row 4 (137 138 UDP)")
    b.expect("\(n)/dc-adws", .missing, "Netwrix row 5 (9389 TCP, Active Directory Web Services), 'must be open': no flow from Privilege Secure")
    b.udp(T.pam, T.dc, 88, "Privilege Secure Kerberos")
    b.expect("\(n)/dc-kerberos", .observed, "Netwrix row 6 (88 UDP)")
    b.expect("\(n)/ssh-proxy-clients", .unbound, "ssh-clients not bound")
    b.tls10(T.admin, T.pam, 4489, serverName: nil, "RDP proxy session from a client offering only TLS 1.0")
    b.expect("\(n)/rdp-proxy-clients", .observed,
             "Netwrix Proxy Firewall Rules row 2 (4489 TCP); TLS 1.0 here raises no advisory: neither the Netwrix document nor the site sets a TLS minimum, and ARKSSPR's applies to ARKSSPR's flows only")
    b.expect("\(n)/windows-rdp-proxy", .unbound, "windows-hosts not bound")
    b.expect("\(n)/windows-powershell-remoting", .unbound, "windows-hosts not bound")
    b.expect("\(n)/windows-password-change", .unbound, "windows-hosts not bound")
    b.expect("\(n)/linux-ssh", .unbound, "linux-hosts not bound")
    b.expect("\(n)/remote-proxy-registration", .unbound, "remote-proxy not bound")
    b.expect("\(n)/remote-action-service-registration", .unbound, "remote-action-service not bound")
    b.tcp(T.pam, T.graph, 443, "Graph API, the address known from the DNS answer")
    b.expect("\(n)/azure-graph-api", .observed, "Netwrix Target Environment row 7 (443, Azure): graph.microsoft.com bound by the DNS answer")

    // ---- Unexpected: each product's traffic that only the other product's document allows ----
    b.tcp(T.pam, T.dc, 445, "Privilege Secure using SMB on the domain controller")
    b.expectUnexpected(T.pam, T.dc, "tcp/445",
                       roles: (["\(n).privilege-secure"], ["\(a).domain-controllers", "\(a).ntp-server", "\(n).dns-service", "\(n).domain-controllers"]),
                       "SMB 445 to the domain controller is ARKSSPR's (Additional Communication row 3), not Privilege Secure's; the domain controller's roles stay apart per product")
    b.tcp(T.sspr, T.dc, 9389, "ARKSSPR using Active Directory Web Services")
    b.expectUnexpected(T.sspr, T.dc, "tcp/9389",
                       roles: (["\(a).internal-server"], ["\(a).domain-controllers", "\(a).ntp-server", "\(n).dns-service", "\(n).domain-controllers"]),
                       "ADWS 9389 is Netwrix's row 5, from the Privilege Secure server only")
    b.tls(T.sspr, T.login, serverName: "login.microsoftonline.com", "ARKSSPR signing in to Microsoft online")
    b.expectUnexpected(T.sspr, T.login, "tcp/443",
                       roles: (["\(a).internal-server"], ["\(n).azure"]),
                       "login.microsoftonline.com is the Netwrix document's Azure endpoint: the Internet host is labelled with the right product's role, and ARKSSPR may not use it")
}
