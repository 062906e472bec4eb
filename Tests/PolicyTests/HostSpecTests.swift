import Packets
import Testing
@testable import Policy

@Suite struct HostSpecTests {
    @Test(arguments: [
        ("10.0.0.1", "10.0.0.1"), ("2001:DB8::1", "2001:db8::1"), ("10.0.0.0/24", "10.0.0.0/24"),
        ("10.0.0.7/32", "10.0.0.7"), ("2001:db8::/32", "2001:db8::/32"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("10.20.0.1-10.20.0.200", "10.20.0.1-10.20.0.200"), ("2001:db8::1-2001:db8::ff", "2001:db8::1-2001:db8::ff"),
        ("10.0.0.5-10.0.0.5", "10.0.0.5"),
        ("Mail.Corp.Example.", "mail.corp.example"), ("*.Nextron-Systems.com", "*.nextron-systems.com"),
        ("_ldap._tcp.corp.example", "_ldap._tcp.corp.example"), ("fileserver", "fileserver"),
        ("any", "any"), ("Internet", "internet"), ("private", "private"),
    ])
    func parsesAndNormalises(text: String, normal: String) throws {
        let parsed = try HostSpec.parse(text).get()
        #expect(parsed.spec.description == normal)
        #expect(parsed.warning == nil)
    }

    @Test func hostBitsAreClearedWithAWarning() throws {
        let parsed = try HostSpec.parse("10.0.0.5/24").get()
        #expect(parsed.spec == .network(Fixtures.address("10.0.0.0"), prefixLength: 24))
        #expect(parsed.warning == "CIDR block '10.0.0.5/24' has host bits set; read as 10.0.0.0/24")
        let v6 = try HostSpec.parse("2001:db8::1/64").get()
        #expect(v6.spec.description == "2001:db8::/64")
        #expect(v6.warning == "CIDR block '2001:db8::1/64' has host bits set; read as 2001:db8::/64")
    }

    @Test(arguments: [
        ("10.0.0.0/33", "invalid CIDR block '10.0.0.0/33': prefix length '33' is not 0-32"),
        ("2001:db8::/129", "invalid CIDR block '2001:db8::/129': prefix length '129' is not 0-128"),
        ("10.0.0.0/", "invalid CIDR block '10.0.0.0/': prefix length '' is not 0-32"),
        ("10.0.0/8", "invalid CIDR block '10.0.0/8': '10.0.0' is not an IPv4 or IPv6 address"),
        ("10.0.0.256", "invalid IPv4 address '10.0.0.256'"),
        ("10.0.0.01", "invalid IPv4 address '10.0.0.01'"),
        ("2001:db8:::1", "invalid IPv6 address '2001:db8:::1'"),
        ("fe80::1%eth0", "invalid IPv6 address 'fe80::1%eth0'"),
        ("10.0.0.9-10.0.0.1", "invalid address range '10.0.0.9-10.0.0.1': 10.0.0.9 is above 10.0.0.1"),
        ("10.0.0.1-2001:db8::1", "invalid address range '10.0.0.1-2001:db8::1': the two ends are of different address families"),
        ("10.0.0.1-10.0.0.300", "invalid address range '10.0.0.1-10.0.0.300': '10.0.0.300' is not an IPv4 or IPv6 address"),
        ("mail.*.example", "invalid host 'mail.*.example': a wildcard is allowed only as a leading '*.' label"),
        ("bad_name!.example", "invalid host 'bad_name!.example': character '!' is not allowed in a DNS name (write international names in their xn-- form)"),
        ("-mail.example", "invalid host '-mail.example': label '-mail' starts or ends with a hyphen"),
        ("mail..example", "invalid host 'mail..example': empty label"),
        ("host.123", "invalid host 'host.123': the last label '123' is all digits, which no DNS name has"),
    ])
    func rejectsQuotingTheText(text: String, message: String) {
        #expect(throws: HostSpecError(message)) { try HostSpec.parse(text).get() }
    }

    @Test func rangesOfEachForm() throws {
        let block = try HostSpec.parse("192.168.1.0/30").get().spec
        #expect(block.ranges == [AddressRange(family: .ipv4, low: 0xC0A8_0100, high: 0xC0A8_0103)])
        let range = try HostSpec.parse("10.0.0.1-10.0.0.3").get().spec
        #expect(range.ranges.first?.count == 3)
        #expect(try HostSpec.parse("*.example.com").get().spec.ranges.isEmpty)
        #expect(try HostSpec.parse("any").get().spec.ranges.count == 2)
    }

    @Test func addressRangeDescriptions() {
        #expect(AddressRange(cidr: "10.0.0.0/8").description == "10.0.0.0/8")
        #expect(AddressRange(family: .ipv4, low: 1, high: 2).description == "0.0.0.1-0.0.0.2")
        #expect(AddressRange(family: .ipv6, low: 0, high: .max).description == "::/0")
        #expect(AddressRange(Fixtures.address("::1")).description == "::1")
    }
}
