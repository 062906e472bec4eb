/// A capture's link-layer header type (the tcpdump.org LINKTYPE_ registry). An open set: every
/// value is representable, and the ones flowaudit decodes have names.
public struct LinkType: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    public static let null = LinkType(rawValue: 0)
    public static let ethernet = LinkType(rawValue: 1)
    /// Raw IP; the version nibble tells IPv4 from IPv6 (LINKTYPE_RAW, also DLT 12 and 14 on some systems).
    public static let raw = LinkType(rawValue: 101)
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    public static let loop = LinkType(rawValue: 108)
    public static let linuxSLL = LinkType(rawValue: 113)
    public static let ipv4 = LinkType(rawValue: 228)
    public static let ipv6 = LinkType(rawValue: 229)
    public static let linuxSLL2 = LinkType(rawValue: 276)
    /// DLT_RAW as some BSDs number it in files (12 and 14).
    public static let rawBSD12 = LinkType(rawValue: 12)
    public static let rawBSD14 = LinkType(rawValue: 14)

    @inlinable public static func < (a: LinkType, b: LinkType) -> Bool { a.rawValue < b.rawValue }

    /// True for the link types the decoder understands.
    @inlinable
    public var isSupported: Bool {
        switch rawValue {
        case 0, 1, 9, 12, 14, 50, 101, 104, 105, 108, 113, 127, 192, 228, 229, 239, 276: return true
        default: return false
        }
    }

    /// The registry name, e.g. `ETHERNET`, or the number for unnamed ones.
    public var name: String {
        switch rawValue {
        case 0: return "NULL"
        case 1: return "ETHERNET"
        case 7: return "ARCNET_BSD"
        case 9: return "PPP"
        case 10: return "FDDI"
        case 12, 14, 101: return "RAW"
        case 50: return "PPP_HDLC"
        case 51: return "PPP_ETHER"
        case 104: return "C_HDLC"
        case 105: return "IEEE802_11"
        case 108: return "LOOP"
        case 113: return "LINUX_SLL"
        case 127: return "IEEE802_11_RADIOTAP"
        case 129: return "ARCNET_LINUX"
        case 143: return "DOCSIS"
        case 147...162: return "USER\(rawValue - 147)"
        case 163: return "IEEE802_11_AVS"
        case 187: return "BLUETOOTH_HCI_H4"
        case 189: return "USB_LINUX"
        case 192: return "PPI"
        case 195: return "IEEE802_15_4_WITHFCS"
        case 201: return "BLUETOOTH_HCI_H4_WITH_PHDR"
        case 215: return "IEEE802_15_4_NONASK_PHY"
        case 220: return "USB_LINUX_MMAPPED"
        case 227: return "CAN_SOCKETCAN"
        case 239: return "NFLOG"
        case 249: return "USBPCAP"
        case 251: return "BLUETOOTH_LE_LL"
        case 254: return "BLUETOOTH_LINUX_MONITOR"
        case 256: return "BLUETOOTH_LE_LL_WITH_PHDR"
        case 228: return "IPV4"
        case 229: return "IPV6"
        case 276: return "LINUX_SLL2"
        default: return "LINKTYPE_\(rawValue)"
        }
    }
}

extension LinkType: CustomStringConvertible {
    public var description: String { "\(rawValue)(\(name))" }
}
