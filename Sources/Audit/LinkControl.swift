import Flows
import Packets

/// Link infrastructure: the control traffic every host on a link exchanges to exist there
/// (address resolution, neighbour and router discovery, multicast membership, address
/// configuration). It is not an application flow of any product, so an audit counts it in its own
/// section and keeps it out of `unexpected`, unless the site sets `audit-link-control: true`.
/// docs/rules.md lists the kinds with the reason for each.
public enum LinkControlKind: String, Sendable, CaseIterable, Comparable {
    /// ICMPv6 router solicitation/advertisement, neighbour solicitation/advertisement and
    /// redirect (133-137, RFC 4861), inverse discovery (141-142, RFC 3122), SEND certification
    /// path (148-149, RFC 3971), multicast router discovery (151-153, RFC 4286).
    case neighbourDiscovery = "icmpv6-nd"
    /// Multicast Listener Discovery (ICMPv6 130-132, 143; RFC 2710, RFC 3810).
    case mld
    /// IGMP (IP protocol 2; RFC 1112, 2236, 3376).
    case igmp
    /// DHCP (udp 67 <-> 68; RFC 2131).
    case dhcp
    /// DHCPv6 (udp 546 <-> 547; RFC 8415).
    case dhcpv6
    /// Multicast DNS to 224.0.0.251 / ff02::fb (udp 5353; RFC 6762).
    case mdns
    /// LLMNR to 224.0.0.252 / ff02::1:3 (udp 5355; RFC 4795).
    case llmnr
    /// Anything else sent to the link-local multicast scope (224.0.0.0/24, ff02::/16): routing
    /// and redundancy protocols (OSPF, VRRP, HSRP, PIM, RIP) that never leave the link.
    case linkLocalMulticast = "link-local-multicast"

    public static func < (a: LinkControlKind, b: LinkControlKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The kind of a flow, or nil for an ordinary flow.
    public static func of(_ flow: borrowing Flow) -> LinkControlKind? {
        let responder = flow.responder
        switch flow.protocolNumber {
        case IPProtocolNumber.icmpv6:
            switch flow.icmpType {
            case 133...137, 141, 142, 148, 149, 151...153: return .neighbourDiscovery
            case 130...132, 143: return .mld
            default: break
            }
        case 2:
            return .igmp
        case IPProtocolNumber.udp:
            let a = flow.initiatorPort, b = flow.responderPort
            if (a == 68 && b == 67) || (a == 67 && b == 68) { return .dhcp }
            if (a == 546 && b == 547) || (a == 547 && b == 546) { return .dhcpv6 }
            if b == 5353 && (responder == mdnsV4 || responder == mdnsV6) { return .mdns }
            if b == 5355 && (responder == llmnrV4 || responder == llmnrV6) { return .llmnr }
        default:
            break
        }
        return isLinkLocalMulticast(responder) ? .linkLocalMulticast : nil
    }

    /// 224.0.0.0/24 or ff02::/16: multicast that routers never forward.
    public static func isLinkLocalMulticast(_ address: IPAddress) -> Bool {
        address.isIPv4 ? address.ipv4Value >> 8 == 0xE000_00 : address.high >> 48 == 0xFF02
    }

    static let mdnsV4 = IPAddress(ipv4: 0xE000_00FB)
    static let mdnsV6 = IPAddress(high: 0xFF02_0000_0000_0000, low: 0xFB)
    static let llmnrV4 = IPAddress(ipv4: 0xE000_00FC)
    static let llmnrV6 = IPAddress(high: 0xFF02_0000_0000_0000, low: 0x0001_0003)
}

/// Link control traffic counted apart from the audit, by kind; ARP and other non-IP frames come
/// from the decoder's counts.
public struct LinkControlCounts: Sendable {
    public var flows: [LinkControlKind: Int] = [:]
    public var packets: [LinkControlKind: UInt64] = [:]
    /// ARP and RARP frames.
    public var arpFrames: UInt64 = 0
    /// LLDP frames.
    public var lldpFrames: UInt64 = 0
    /// 802.3 LLC frames (spanning tree, CDP, ...).
    public var llcFrames: UInt64 = 0
    /// True when the site asked for link control to be audited like any other traffic.
    public var audited = false

    public init() {}

    public var totalFlows: Int { flows.values.reduce(0, +) }
    public var totalPackets: UInt64 { packets.values.reduce(0, +) }

    mutating func add(_ kind: LinkControlKind, packets count: UInt64) {
        flows[kind, default: 0] += 1
        packets[kind, default: 0] &+= count
    }
}
