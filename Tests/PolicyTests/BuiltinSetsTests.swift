import Packets
import Testing
@testable import Policy

/// The edges of every block of `internet` and `private`: first and last address inside, and the
/// addresses just outside.
@Suite struct BuiltinSetsTests {
    // (address, internet, private)
    static let ipv4: [(String, Bool, Bool)] = [
        ("0.0.0.0", false, false), ("0.255.255.255", false, false), ("1.0.0.0", true, false),
        ("9.255.255.255", true, false), ("10.0.0.0", false, true), ("10.255.255.255", false, true), ("11.0.0.0", true, false),
        ("100.63.255.255", true, false), ("100.64.0.0", false, true), ("100.127.255.255", false, true), ("100.128.0.0", true, false),
        ("126.255.255.255", true, false), ("127.0.0.0", false, false), ("127.255.255.255", false, false), ("128.0.0.0", true, false),
        ("169.253.255.255", true, false), ("169.254.0.0", false, false), ("169.254.255.255", false, false), ("169.255.0.0", true, false),
        ("172.15.255.255", true, false), ("172.16.0.0", false, true), ("172.31.255.255", false, true), ("172.32.0.0", true, false),
        ("191.255.255.255", true, false), ("192.0.0.0", false, false), ("192.0.0.8", false, false),
        ("192.0.0.9", true, false), ("192.0.0.10", true, false), ("192.0.0.11", false, false),
        ("192.0.0.170", false, false), ("192.0.0.255", false, false), ("192.0.1.0", true, false),
        ("192.0.1.255", true, false), ("192.0.2.0", false, false), ("192.0.2.255", false, false), ("192.0.3.0", true, false),
        ("192.31.196.1", true, false), ("192.52.193.1", true, false), ("192.175.48.1", true, false),
        ("192.88.98.255", true, false), ("192.88.99.0", false, false), ("192.88.99.255", false, false), ("192.88.100.0", true, false),
        ("192.167.255.255", true, false), ("192.168.0.0", false, true), ("192.168.255.255", false, true), ("192.169.0.0", true, false),
        ("198.17.255.255", true, false), ("198.18.0.0", false, false), ("198.19.255.255", false, false), ("198.20.0.0", true, false),
        ("198.51.99.255", true, false), ("198.51.100.0", false, false), ("198.51.100.255", false, false), ("198.51.101.0", true, false),
        ("203.0.112.255", true, false), ("203.0.113.0", false, false), ("203.0.113.255", false, false), ("203.0.114.0", true, false),
        ("223.255.255.255", true, false), ("224.0.0.0", false, false), ("239.255.255.255", false, false),
        ("240.0.0.0", false, false), ("255.255.255.254", false, false), ("255.255.255.255", false, false),
        ("8.8.8.8", true, false),
    ]

    static let ipv6: [(String, Bool, Bool)] = [
        ("::", false, false), ("::1", false, false), ("::2", false, false), ("::ffff:8.8.8.8", false, false),
        ("64:ff9b::8.8.8.8", true, false), ("64:ff9b::10.0.0.1", false, false), ("64:ff9b::", false, false),
        ("64:ff9b::255.255.255.255", false, false), ("64:ff9b::1:0:0", false, false), ("64:ff9b:1::1", false, false),
        ("100::", false, false), ("100:0:0:1::", false, false),
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false), ("2000::", true, false),
        ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, false),
        ("2001::", false, false), ("2001::1", false, false), ("2001:1::", false, false),
        ("2001:1::1", true, false), ("2001:1::2", true, false), ("2001:1::3", true, false), ("2001:1::4", false, false),
        ("2001:2::1", false, false), ("2001:2:ffff:ffff:ffff:ffff:ffff:ffff", false, false),
        ("2001:3::", true, false), ("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", true, false), ("2001:4::", false, false),
        ("2001:4:111:ffff:ffff:ffff:ffff:ffff", false, false), ("2001:4:112::", true, false),
        ("2001:4:112:ffff:ffff:ffff:ffff:ffff", true, false), ("2001:4:113::", false, false),
        ("2001:10::", false, false), ("2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", false, false),
        ("2001:20::", true, false), ("2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", true, false),
        ("2001:30::", true, false), ("2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", true, false), ("2001:40::", false, false),
        ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false, false), ("2001:200::", true, false),
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true, false), ("2001:db8::", false, false),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false, false), ("2001:db9::", true, false),
        ("2001:4860:4860::8888", true, false), ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, false),
        ("2002:808:808::", true, false), ("2002:808:808:ffff:ffff:ffff:ffff:ffff", true, false),
        ("2002:a00:1::", false, false), ("2002::", false, false), ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false),
        ("2002:c000:9::", true, false), ("2002:c000:8:ffff::", false, false), ("2003::", true, false),
        ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, false), ("3fff::", false, false),
        ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", false, false), ("3fff:1000::", true, false),
        ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, false), ("4000::", false, false),
        ("5f00::", false, false), ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false),
        ("fc00::", false, true), ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, true), ("fe00::", false, false),
        ("fe80::1", false, false), ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false), ("ff02::1", false, false),
    ]

    @Test(arguments: ipv4 + ipv6)
    func edges(text: String, internet: Bool, isPrivate: Bool) {
        let address = Fixtures.address(text)
        #expect(BuiltinSet.internet.contains(address) == internet, "internet \(text)")
        #expect(BuiltinSet.private.contains(address) == isPrivate, "private \(text)")
        #expect(BuiltinSet.any.contains(address))
    }

    @Test func familiesStayApart() {
        // 10.0.0.1 written as an IPv4-mapped IPv6 address is an IPv6 address: not private.
        #expect(BuiltinSet.private.contains(Fixtures.address("10.0.0.1")))
        #expect(!BuiltinSet.private.contains(Fixtures.address("::ffff:10.0.0.1")))
    }

    @Test func internetAndPrivateAreDisjoint() {
        for range in BuiltinSet.private.ranges {
            #expect(!BuiltinSet.internet.contains(range.lowAddress))
            #expect(!BuiltinSet.internet.contains(range.highAddress))
        }
    }
}
