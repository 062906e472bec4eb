// Link layers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD NULL/LOOP.

import Packets

extension Frame {
    /// One 802.1Q (TPID 0x8100) or 802.1ad (TPID 0x88a8) tag.
    public struct Tag: Hashable, Sendable {
        /// The tag protocol identifier: 0x8100 (802.1Q, customer tag) or 0x88a8 (802.1ad, service tag).
        public var tpid: UInt16
        /// Priority code point, 0...7.
        public var priority: UInt8
        /// Drop eligible indicator.
        public var dropEligible: Bool
        /// VLAN identifier, 0...4095.
        public var id: UInt16

        public init(tpid: UInt16 = 0x8100, id: UInt16, priority: UInt8 = 0, dropEligible: Bool = false) {
            self.tpid = tpid
            self.id = id
            self.priority = priority
            self.dropEligible = dropEligible
        }

        /// The 16-bit tag control information: PCP (3 bits), DEI (1), VID (12).
        public var tci: UInt16 {
            UInt16(priority & 0x7) << 13 | (dropEligible ? 0x1000 : 0) | (id & 0x0FFF)
        }
    }
}

/// The link layer of a frame: which header goes in front of the network packet, and how to
/// build the reverse direction of the same conversation (``reversed``).
///
/// Start with one of the static constructors, add tags, then go on to the IP layer:
/// `Frame.ethernet().vlan(100).ipv4(source: "10.0.0.1", destination: "10.0.0.2").tcp(...)`.
public struct Frame: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Ethernet II (LINKTYPE_ETHERNET, 1), with ``Frame/tags`` between the MACs and the EtherType.
        case ethernet
        /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): 16-byte header.
        case linuxSLL
        /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): 20-byte header.
        case linuxSLL2
        /// Raw IP (LINKTYPE_RAW, 101): no link header.
        case raw
        /// BSD loopback (LINKTYPE_NULL, 0): 4-byte address family, little-endian (host order).
        case null
        /// OpenBSD loopback (LINKTYPE_LOOP, 108): 4-byte address family, network order.
        case loop
    }

    public var kind: Kind
    /// Ethernet source MAC; for Linux cooked headers, the link-layer address in the header.
    public var source: MACAddress
    /// Ethernet destination MAC; for Linux cooked headers, the address used by ``reversed``.
    public var destination: MACAddress
    /// VLAN tags, outermost first (Ethernet only).
    public var tags: [Tag]
    /// Linux cooked packet type: 0 to this host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing.
    public var packetType: UInt16
    /// Linux cooked v2 interface index.
    public var interfaceIndex: UInt32
    /// The address family written for IPv6 on NULL/LOOP: 24 (NetBSD/OpenBSD), 28 (FreeBSD),
    /// 30 (macOS). IPv4 is always 2.
    public var ipv6Family: UInt32
    /// When set, the NULL/LOOP family written for every packet, whatever its version.
    public var familyOverride: UInt32?

    public init(kind: Kind, source: MACAddress = Frame.defaultSource, destination: MACAddress = Frame.defaultDestination,
                tags: [Tag] = [], packetType: UInt16 = 4, interfaceIndex: UInt32 = 1, ipv6Family: UInt32 = 24,
                familyOverride: UInt32? = nil) {
        self.kind = kind
        self.source = source
        self.destination = destination
        self.tags = tags
        self.packetType = packetType
        self.interfaceIndex = interfaceIndex
        self.ipv6Family = ipv6Family
        self.familyOverride = familyOverride
    }

    public static let defaultSource: MACAddress = "02:00:00:00:00:01"
    public static let defaultDestination: MACAddress = "02:00:00:00:00:02"

    /// Ethernet II.
    public static func ethernet(source: MACAddress = defaultSource, destination: MACAddress = defaultDestination) -> Frame {
        Frame(kind: .ethernet, source: source, destination: destination)
    }

    /// Raw IP, no link header: also the way to build a bare IP packet (to quote in ICMP errors).
    public static var raw: Frame { Frame(kind: .raw) }

    /// Linux cooked v1. `packetType` 4 is "sent by us", 0 "sent to us"; ``reversed`` swaps them.
    public static func linuxSLL(packetType: UInt16 = 4, address: MACAddress = defaultSource,
                                peer: MACAddress = defaultDestination) -> Frame {
        Frame(kind: .linuxSLL, source: address, destination: peer, packetType: packetType)
    }

    /// Linux cooked v2.
    public static func linuxSLL2(packetType: UInt8 = 4, interfaceIndex: UInt32 = 1, address: MACAddress = defaultSource,
                                 peer: MACAddress = defaultDestination) -> Frame {
        Frame(kind: .linuxSLL2, source: address, destination: peer, packetType: UInt16(packetType), interfaceIndex: interfaceIndex)
    }

    /// BSD NULL loopback (family little-endian). `ipv6Family`: 24, 28 or 30.
    public static func null(ipv6Family: UInt32 = 24) -> Frame { Frame(kind: .null, ipv6Family: ipv6Family) }

    /// OpenBSD LOOP loopback (family big-endian).
    public static func loop(ipv6Family: UInt32 = 24) -> Frame { Frame(kind: .loop, ipv6Family: ipv6Family) }

    /// The frame with one more tag inside the existing ones.
    public func tagged(_ tag: Tag) -> Frame {
        var copy = self
        copy.tags.append(tag)
        return copy
    }

    /// Adds an 802.1Q tag (TPID 0x8100) inside the existing tags.
    public func vlan(_ id: UInt16, priority: UInt8 = 0, dropEligible: Bool = false) -> Frame {
        tagged(Tag(tpid: 0x8100, id: id, priority: priority, dropEligible: dropEligible))
    }

    /// Adds an 802.1ad service tag (TPID 0x88a8) inside the existing tags (call it first for QinQ).
    public func serviceVLAN(_ id: UInt16, priority: UInt8 = 0, dropEligible: Bool = false) -> Frame {
        tagged(Tag(tpid: 0x88A8, id: id, priority: priority, dropEligible: dropEligible))
    }

    /// The link header of the other direction: MACs swapped; Linux cooked packet type 4 <-> 0.
    public var reversed: Frame {
        var copy = self
        copy.source = destination
        copy.destination = source
        if copy.packetType == 4 { copy.packetType = 0 } else if copy.packetType == 0 { copy.packetType = 4 }
        return copy
    }

    /// The capture link type of frames built with this link layer.
    public var linkType: LinkType {
        switch kind {
        case .ethernet: return .ethernet
        case .linuxSLL: return .linuxSLL
        case .linuxSLL2: return .linuxSLL2
        case .raw: return .raw
        case .null: return .null
        case .loop: return .loop
        }
    }

    /// The length of the link header this frame writes.
    public var headerLength: Int {
        switch kind {
        case .ethernet: return 14 + 4 * tags.count
        case .linuxSLL: return 16
        case .linuxSLL2: return 20
        case .raw: return 0
        case .null, .loop: return 4
        }
    }

    /// The link header followed by `packet`.
    /// - Parameters:
    ///   - packet: the network-layer bytes.
    ///   - etherType: the protocol of `packet` (0x0800 IPv4, 0x86dd IPv6, ...); NULL/LOOP write
    ///     2 or ``ipv6Family`` for the IP ones and the EtherType itself for others.
    public func wrap(_ packet: [UInt8], etherType: UInt16) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerLength + packet.count)
        switch kind {
        case .ethernet:
            out += destination.bytes
            out += source.bytes
            for tag in tags {
                out.appendBigEndian(tag.tpid)
                out.appendBigEndian(tag.tci)
            }
            out.appendBigEndian(etherType)
        case .linuxSLL:
            out.appendBigEndian(packetType)
            out.appendBigEndian(UInt16(1))          // ARPHRD_ETHER
            out.appendBigEndian(UInt16(6))          // address length
            out += source.bytes + [0, 0]            // 8-byte address field
            out.appendBigEndian(etherType)
        case .linuxSLL2:
            out.appendBigEndian(etherType)
            out.appendBigEndian(UInt16(0))          // reserved
            out.appendBigEndian(interfaceIndex)
            out.appendBigEndian(UInt16(1))          // ARPHRD_ETHER
            out.append(UInt8(truncatingIfNeeded: packetType))
            out.append(6)
            out += source.bytes + [0, 0]
        case .raw:
            break
        case .null:
            out.appendLittleEndian(family(for: etherType))
        case .loop:
            out.appendBigEndian(family(for: etherType))
        }
        out += packet
        return out
    }

    private func family(for etherType: UInt16) -> UInt32 {
        if let familyOverride { return familyOverride }
        switch etherType {
        case 0x0800: return 2
        case 0x86DD: return ipv6Family
        default: return UInt32(etherType)
        }
    }
}
