// Transport layers: TCP, UDP, ICMP/ICMPv6 and other IP protocols, with their checksums.

import Packets

/// A TCP segment (RFC 9293 3.1). The checksum is computed over the pseudo-header when the
/// segment is placed in an IP packet, unless ``checksumOverride`` is set.
public struct TCPSpec: Hashable, Sendable {
    /// TCP control bits. NS (0x100) is the low bit of the data-offset byte.
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let fin = Flags(rawValue: 0x01)
        public static let syn = Flags(rawValue: 0x02)
        public static let rst = Flags(rawValue: 0x04)
        public static let psh = Flags(rawValue: 0x08)
        public static let ack = Flags(rawValue: 0x10)
        public static let urg = Flags(rawValue: 0x20)
        public static let ece = Flags(rawValue: 0x40)
        public static let cwr = Flags(rawValue: 0x80)
        public static let ns = Flags(rawValue: 0x100)
    }

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: Flags
    public var window: UInt16
    public var urgentPointer: UInt16
    /// Option bytes, padded with zeros (end of option list) to a multiple of 4.
    public var options: [UInt8]
    public var payload: [UInt8]
    /// Writes this value as the data offset (in 32-bit words) instead of the right one.
    public var dataOffsetOverride: UInt8?
    /// Writes this checksum instead of the right one.
    public var checksumOverride: UInt16?

    public init(sourcePort: UInt16, destinationPort: UInt16, flags: Flags = [], sequence: UInt32 = 0, acknowledgment: UInt32 = 0,
                window: UInt16 = 65535, urgentPointer: UInt16 = 0, options: [UInt8] = [], payload: [UInt8] = [],
                dataOffsetOverride: UInt8? = nil, checksumOverride: UInt16? = nil) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.flags = flags
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.window = window
        self.urgentPointer = urgentPointer
        self.options = options
        self.payload = payload
        self.dataOffsetOverride = dataOffsetOverride
        self.checksumOverride = checksumOverride
    }

    /// The header length in bytes: 20 plus the padded options.
    public var headerLength: Int { 20 + (options.count + 3) / 4 * 4 }
}

/// A UDP datagram (RFC 768).
public struct UDPSpec: Hashable, Sendable {
    public enum Checksum: Hashable, Sendable {
        /// The right checksum over the pseudo-header (0 is sent as 0xffff).
        case computed
        /// No checksum (0): allowed for IPv4 only.
        case zero
        /// This exact value.
        case value(UInt16)
    }

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: [UInt8]
    public var checksum: Checksum
    /// Writes this value in the length field instead of the right one.
    public var lengthOverride: UInt16?

    public init(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8] = [], checksum: Checksum = .computed,
                lengthOverride: UInt16? = nil) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
        self.checksum = checksum
        self.lengthOverride = lengthOverride
    }
}

/// An ICMP (RFC 792) or ICMPv6 (RFC 4443) message; the family follows the enclosing IP packet.
public enum ICMPSpec: Hashable, Sendable {
    /// Echo request: type 8 (ICMP) or 128 (ICMPv6).
    case echoRequest(identifier: UInt16, sequence: UInt16, payload: [UInt8])
    /// Echo reply: type 0 (ICMP) or 129 (ICMPv6).
    case echoReply(identifier: UInt16, sequence: UInt16, payload: [UInt8])
    /// Destination unreachable: type 3 (ICMP) or 1 (ICMPv6). `original` is the whole IP packet
    /// that caused it (no link header); see ``quotation(of:)`` for what is quoted.
    case destinationUnreachable(code: UInt8, original: [UInt8])
    /// Time exceeded: type 11 (ICMP) or 3 (ICMPv6), quoting `original` like ``destinationUnreachable(code:original:)``.
    case timeExceeded(code: UInt8, original: [UInt8])
    /// Any message: type, code, the 4 bytes after the checksum, and the body, written as given.
    case other(type: UInt8, code: UInt8, rest: UInt32, body: [UInt8])

    /// The part of `packet` an error message quotes: for IPv4, its header (IHL) and the first
    /// 8 bytes after it (RFC 792); for IPv6, as much as fits in a 1280-byte error (RFC 4443 2.4).
    public static func quotation(of packet: [UInt8]) -> [UInt8] {
        guard let first = packet.first else { return [] }
        if first >> 4 == 4 {
            return Array(packet.prefix(Int(first & 0x0F) * 4 + 8))
        }
        return Array(packet.prefix(1280 - 48))
    }

    /// The message bytes; `pseudoHeaderSum` is 0 for ICMP (IPv4) and the pseudo-header sum for ICMPv6.
    func bytes(ipv6: Bool, pseudoHeaderSum: UInt32) -> [UInt8] {
        var type: UInt8, code: UInt8 = 0, rest: UInt32 = 0, body: [UInt8]
        switch self {
        case let .echoRequest(identifier, sequence, payload):
            type = ipv6 ? 128 : 8
            rest = UInt32(identifier) << 16 | UInt32(sequence)
            body = payload
        case let .echoReply(identifier, sequence, payload):
            type = ipv6 ? 129 : 0
            rest = UInt32(identifier) << 16 | UInt32(sequence)
            body = payload
        case let .destinationUnreachable(c, original):
            type = ipv6 ? 1 : 3
            code = c
            body = Self.quotation(of: original)
        case let .timeExceeded(c, original):
            type = ipv6 ? 3 : 11
            code = c
            body = Self.quotation(of: original)
        case let .other(t, c, r, b):
            type = t
            code = c
            rest = r
            body = b
        }
        var out: [UInt8] = [type, code, 0, 0]
        out.appendBigEndian(rest)
        out += body
        out.setBigEndian(InternetChecksum.compute(out, pseudoHeaderSum: pseudoHeaderSum), at: 2)
        return out
    }
}

/// What an IP packet carries.
public enum TransportSpec: Hashable, Sendable {
    case tcp(TCPSpec)
    case udp(UDPSpec)
    case icmp(ICMPSpec)
    /// Any other protocol (ESP 50, GRE 47, ...), payload written as given.
    case other(protocol: UInt8, payload: [UInt8])

    /// The IP protocol number (next header): 6, 17, 1 or 58, or the given one.
    public func protocolNumber(ipv6: Bool) -> UInt8 {
        switch self {
        case .tcp: return 6
        case .udp: return 17
        case .icmp: return ipv6 ? 58 : 1
        case let .other(proto, _): return proto
        }
    }

    /// The transport bytes with their checksum, for a packet from `source` to `destination`.
    public func bytes(source: IPAddress, destination: IPAddress) -> [UInt8] {
        let ipv6 = !source.isIPv4
        switch self {
        case let .tcp(segment):
            var out: [UInt8] = []
            out.reserveCapacity(segment.headerLength + segment.payload.count)
            out.appendBigEndian(segment.sourcePort)
            out.appendBigEndian(segment.destinationPort)
            out.appendBigEndian(segment.sequence)
            out.appendBigEndian(segment.acknowledgment)
            let dataOffset = segment.dataOffsetOverride ?? UInt8(segment.headerLength / 4)
            out.append(dataOffset << 4 | UInt8(segment.flags.rawValue >> 8 & 0x1))
            out.append(UInt8(truncatingIfNeeded: segment.flags.rawValue))
            out.appendBigEndian(segment.window)
            out.appendBigEndian(UInt16(0))
            out.appendBigEndian(segment.urgentPointer)
            out += segment.options
            while out.count < segment.headerLength { out.append(0) }
            out += segment.payload
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: 6, length: out.count)
            out.setBigEndian(segment.checksumOverride ?? InternetChecksum.compute(out, pseudoHeaderSum: sum), at: 16)
            return out
        case let .udp(datagram):
            var out: [UInt8] = []
            out.reserveCapacity(8 + datagram.payload.count)
            out.appendBigEndian(datagram.sourcePort)
            out.appendBigEndian(datagram.destinationPort)
            out.appendBigEndian(datagram.lengthOverride ?? UInt16(truncatingIfNeeded: 8 + datagram.payload.count))
            out.appendBigEndian(UInt16(0))
            out += datagram.payload
            let checksum: UInt16
            switch datagram.checksum {
            case .zero: checksum = 0
            case let .value(v): checksum = v
            case .computed:
                let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: 17, length: out.count)
                let c = InternetChecksum.compute(out, pseudoHeaderSum: sum)
                checksum = c == 0 ? 0xFFFF : c
            }
            out.setBigEndian(checksum, at: 6)
            return out
        case let .icmp(message):
            var sum: UInt32 = 0
            if ipv6 {
                let length = message.bytes(ipv6: true, pseudoHeaderSum: 0).count
                sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: 58, length: length)
            }
            return message.bytes(ipv6: ipv6, pseudoHeaderSum: sum)
        case let .other(_, payload):
            return payload
        }
    }
}
