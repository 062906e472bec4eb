import Packets

/// The built-in host sets a binding may name: `any`, `internet`, `private`.
public enum BuiltinSet: String, Sendable, Hashable, CaseIterable {
    /// Every IPv4 and every IPv6 address.
    case any
    /// Globally reachable unicast: see ``BuiltinSet/internetRanges``.
    case internet
    /// RFC 1918, RFC 6598 shared address space and IPv6 unique-local addresses.
    case `private`

    /// The address ranges of the set.
    public var ranges: [AddressRange] {
        switch self {
        case .any: Self.anyList.ranges
        case .internet: Self.internetList.ranges
        case .private: Self.privateList.ranges
        }
    }

    var rangeList: AddressRangeList {
        switch self {
        case .any: Self.anyList
        case .internet: Self.internetList
        case .private: Self.privateList
        }
    }

    /// True when `address` is in the set.
    public func contains(_ address: IPAddress) -> Bool { rangeList.contains(address) }

    static let anyList = AddressRangeList([
        AddressRange(family: .ipv4, low: 0, high: AddressFamily.ipv4.maximum),
        AddressRange(family: .ipv6, low: 0, high: AddressFamily.ipv6.maximum),
    ])

    /// `private`: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (RFC 6598
    /// shared address space, carrier-grade NAT) and fc00::/7 (RFC 4193 unique local).
    /// Loopback, link-local and documentation space are not in it.
    public static let privateBlocks = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
    static let privateList = AddressRangeList(privateBlocks.map { AddressRange(cidr: $0) })

    /// IPv4 blocks of the IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates) that
    /// are not globally reachable, plus multicast (224.0.0.0/4, RFC 5771) and the deprecated 6to4
    /// relay anycast block (RFC 7526). 255.255.255.255/32 lies inside 240.0.0.0/4.
    /// Globally reachable entries of the registry (192.31.196.0/24 AS112, 192.52.193.0/24 AMT,
    /// 192.175.48.0/24 AS112 direct delegation) are internet.
    public static let ipv4NotGlobal = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    ]
    /// Globally reachable exceptions inside 192.0.0.0/24: PCP anycast and TURN anycast.
    public static let ipv4GlobalExceptions = ["192.0.0.9/32", "192.0.0.10/32"]

    /// Only 2000::/3 is allocated as IPv6 global unicast (RFC 4291); everything outside it
    /// (::/128, ::1/128, ::ffff:0:0/96, 64:ff9b:1::/48, 100::/64, 5f00::/16, fc00::/7, fe80::/10,
    /// ff00::/8, the unassigned space) is not internet, except 64:ff9b::/96 (below).
    public static let ipv6GlobalUnicast = "2000::/3"
    /// Blocks inside 2000::/3 that the IANA IPv6 Special-Purpose Address Registry marks not
    /// globally reachable: IETF protocol assignments (2001::/23, which holds Teredo 2001::/32,
    /// benchmarking 2001:2::/48 and ORCHID 2001:10::/28), documentation (2001:db8::/32 and
    /// 3fff::/20, RFC 9637). 2002::/16 (6to4) is handled by its embedded IPv4 address.
    public static let ipv6NotGlobal = ["2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20"]
    /// Globally reachable exceptions inside 2001::/23: TURN anycast 2001:1::1, PCP anycast
    /// 2001:1::2, DNS-SD SRP anycast 2001:1::3 (RFC 9665), AMT 2001:3::/32, AS112-v6
    /// 2001:4:112::/48, ORCHIDv2 2001:20::/28, drone remote ID 2001:30::/28.
    public static let ipv6GlobalExceptions = [
        "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32", "2001:4:112::/48",
        "2001:20::/28", "2001:30::/28",
    ]

    static let ipv4InternetList: AddressRangeList = {
        let all = AddressRangeList([AddressRange(family: .ipv4, low: 0, high: AddressFamily.ipv4.maximum)])
        return all.subtracting(AddressRangeList(ipv4NotGlobal.map { AddressRange(cidr: $0) }))
            .union(AddressRangeList(ipv4GlobalExceptions.map { AddressRange(cidr: $0) }))
    }()

    /// IPv4 internet ranges carried inside an IPv6 prefix at bit offset `shift` from the right:
    /// 6to4 2002:AABB:CCDD::/48 (RFC 3056: shift 80) and the NAT64 well-known prefix
    /// 64:ff9b::a.b.c.d (RFC 6052: shift 0). Such an address is internet exactly when the IPv4
    /// address it embeds is: RFC 3056 and RFC 6052 both forbid embedding non-global IPv4.
    static func embedded(prefix: UInt128, shift: UInt128) -> [AddressRange] {
        let hostMask: UInt128 = shift == 0 ? 0 : (UInt128(1) << shift) - 1
        return ipv4InternetList.ranges.map {
            AddressRange(family: .ipv6, low: prefix | $0.low << shift, high: prefix | $0.high << shift | hostMask)
        }
    }

    static let internetList: AddressRangeList = {
        let v6 = AddressRangeList([AddressRange(cidr: ipv6GlobalUnicast)])
            .subtracting(AddressRangeList(ipv6NotGlobal.map { AddressRange(cidr: $0) }))
            .union(AddressRangeList(ipv6GlobalExceptions.map { AddressRange(cidr: $0) }))
            .union(AddressRangeList(embedded(prefix: UInt128(0x2002) << 112, shift: 80)))
            .union(AddressRangeList(embedded(prefix: UInt128(0x0064_ff9b) << 96, shift: 0)))
        return ipv4InternetList.union(v6)
    }()
}
