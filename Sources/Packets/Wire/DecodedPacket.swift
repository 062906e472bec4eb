/// IP protocol numbers flowaudit treats specially (an open set: any `UInt8` is valid).
public enum IPProtocolNumber {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv6: UInt8 = 58

    /// The project's one name for IP protocol `number`, as rule files, reports and the flow table
    /// write it: `tcp`, `udp`, `icmp`, `icmpv6`, or `ip/N` for the others.
    public static func name(_ number: UInt8) -> String {
        switch number {
        case tcp: "tcp"
        case udp: "udp"
        case icmp: "icmp"
        case icmpv6: "icmpv6"
        default: "ip/\(number)"
        }
    }

    /// The number a name from ``name(_:)`` stands for; nil for a name it never gives.
    public static func number(named name: some StringProtocol) -> UInt8? {
        switch name {
        case "tcp": tcp
        case "udp": udp
        case "icmp": icmp
        case "icmpv6": icmpv6
        default: name.hasPrefix("ip/") ? UInt8(name.dropFirst(3)) : nil
        }
    }
}

/// TCP flag bits as they appear in byte 13 of the header (RFC 9293 3.1). The flags are computed
/// properties, not stored `static let`s, so the hot path inlines them instead of calling a lazy
/// global accessor from another module.
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x01) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x02) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x04) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x08) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x10) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x20) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x40) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x80) }
}

/// What an ICMP or ICMPv6 message is, for flow purposes.
public enum ICMPKind: UInt8, Sendable {
    /// Not an ICMP packet.
    case none
    /// Echo request (ICMP 8, ICMPv6 128): starts or continues an echo flow keyed by identifier.
    case echoRequest
    /// Echo reply (ICMP 0, ICMPv6 129).
    case echoReply
    /// An error quoting another packet (unreachable, time exceeded, parameter problem, packet too
    /// big, source quench, redirect): attached to the quoted flow, not a flow of its own.
    case error
    /// Any other ICMP message: a flow keyed by addresses and type.
    case other
}

/// The headers of one packet, decoded in place: integers and offsets, no references, so one
/// value is reused for every packet. Offsets are relative to the first byte of the frame.
public struct DecodedPacket: Sendable {
    /// 4 or 6.
    public var ipVersion: UInt8 = 0
    public var source = IPAddress(high: 0, low: 0)
    public var destination = IPAddress(high: 0, low: 0)
    /// The upper-layer protocol after any IPv6 extension headers.
    public var ipProtocol: UInt8 = 0
    /// Length of the IP packet on the wire (IPv4 total length; IPv6 40 + payload length).
    public var ipLength: Int = 0
    /// Ports for TCP/UDP; for ICMP echo both hold the identifier; for other ICMP, the type and code.
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var tcpFlags = TCPFlags()
    public var tcpSequence: UInt32 = 0
    public var tcpAcknowledgment: UInt32 = 0
    /// Where the transport payload starts in the frame, and how many of its bytes were captured.
    public var payloadOffset: Int = 0
    public var payloadCapturedLength: Int = 0
    /// Payload length on the wire (from the IP and transport lengths), which snaplen may exceed.
    public var payloadLength: Int = 0
    /// Outermost 802.1Q/802.1ad VLAN ID, or -1 when untagged; and how many tags there were.
    public var outerVLAN: Int32 = -1
    public var vlanDepth: UInt8 = 0
    /// For a frame that carries no IP (`DecodeStatus.notIP`): its innermost EtherType (ARP is
    /// 0x0806), or 0 for an 802.3 LLC frame (spanning tree, CDP, ...).
    public var etherType: UInt16 = 0
    /// Fragmentation: `isFragment` for any fragment; `fragmentOffset` > 0 means no transport header.
    public var isFragment = false
    public var fragmentOffset: Int = 0
    public var moreFragments = false
    public var fragmentID: UInt32 = 0
    /// ICMP/ICMPv6 details (`icmpKind == .none` for other protocols).
    public var icmpKind = ICMPKind.none
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// For ICMP errors: the quoted packet's addresses, protocol and ports (as it was sent).
    public var quotedSource = IPAddress(high: 0, low: 0)
    public var quotedDestination = IPAddress(high: 0, low: 0)
    public var quotedProtocol: UInt8 = 0
    public var quotedSourcePort: UInt16 = 0
    public var quotedDestinationPort: UInt16 = 0

    /// The tunnel the payload is (``PacketDecoder/detectTunnel(_:into:)``), `.none` for most
    /// packets; for a tunnel, its id when it has one, and where the inner packet starts: its
    /// EtherType (0x6558 for an Ethernet frame), offset, and end on the wire.
    public var tunnelKind = TunnelKind.none
    public var tunnelHasID = false
    public var tunnelID: UInt32 = 0
    public var innerEtherType: UInt16 = 0
    public var innerOffset: Int = 0
    public var innerWireEnd: Int = 0

    /// A loose or strict source route (IPv4 LSRR/SSRR, RFC 791 3.1; IPv6 routing header type 0,
    /// RFC 2460 4.4) with hops left: the packet's destination is only the next hop, and
    /// `sourceRouteDestination` is the final one the route names.
    public var sourceRouted = false
    public var sourceRouteDestination = IPAddress(high: 0, low: 0)

    @inlinable public init() {}

    /// Clears what a decode sets only on some paths.
    @inlinable @inline(__always)
    mutating func reset() {
        outerVLAN = -1
        vlanDepth = 0
        isFragment = false
        fragmentOffset = 0
        moreFragments = false
        icmpKind = .none
        tcpFlags = TCPFlags()
        sourcePort = 0
        destinationPort = 0
        payloadOffset = 0
        payloadCapturedLength = 0
        payloadLength = 0
        tunnelKind = .none
        sourceRouted = false
    }

    /// True when the transport header was decoded (first fragment or unfragmented).
    @inlinable public var hasTransportHeader: Bool { fragmentOffset == 0 }
}
