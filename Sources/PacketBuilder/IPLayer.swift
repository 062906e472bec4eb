// Network layers: IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers, and fragmentation.

import Packets

/// The fields of an IPv4 header. Lengths and the checksum are computed unless overridden.
public struct IPv4Spec: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    /// The type-of-service byte (DSCP and ECN).
    public var typeOfService: UInt8
    public var identification: UInt16
    public var ttl: UInt8
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// Fragment offset in units of 8 bytes (13 bits).
    public var fragmentOffset: UInt16
    /// Option bytes, padded with zeros to a multiple of 4 (IHL > 5).
    public var options: [UInt8]
    /// Writes this protocol number instead of the transport's.
    public var protocolOverride: UInt8?
    /// Writes this IHL (in 32-bit words) instead of the right one.
    public var headerLengthOverride: UInt8?
    /// Writes this total length instead of the right one.
    public var totalLengthOverride: UInt16?
    /// Writes this header checksum instead of the right one.
    public var checksumOverride: UInt16?

    public init(source: IPAddress, destination: IPAddress, typeOfService: UInt8 = 0, identification: UInt16 = 0, ttl: UInt8 = 64,
                dontFragment: Bool = true, moreFragments: Bool = false, fragmentOffset: UInt16 = 0, options: [UInt8] = [],
                protocolOverride: UInt8? = nil, headerLengthOverride: UInt8? = nil, totalLengthOverride: UInt16? = nil,
                checksumOverride: UInt16? = nil) {
        self.source = source
        self.destination = destination
        self.typeOfService = typeOfService
        self.identification = identification
        self.ttl = ttl
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
        self.options = options
        self.protocolOverride = protocolOverride
        self.headerLengthOverride = headerLengthOverride
        self.totalLengthOverride = totalLengthOverride
        self.checksumOverride = checksumOverride
    }

    /// The header length in bytes: 20 plus the padded options.
    public var headerLength: Int { 20 + (options.count + 3) / 4 * 4 }

    /// The header for a payload of `payloadLength` bytes of protocol `proto`.
    public func header(protocol proto: UInt8, payloadLength: Int) -> [UInt8] {
        precondition(source.isIPv4 && destination.isIPv4, "IPv4 header with non-IPv4 addresses \(source) -> \(destination)")
        var out: [UInt8] = []
        out.reserveCapacity(headerLength)
        out.append(0x40 | ((headerLengthOverride ?? UInt8(headerLength / 4)) & 0x0F))
        out.append(typeOfService)
        out.appendBigEndian(totalLengthOverride ?? UInt16(truncatingIfNeeded: headerLength + payloadLength))
        out.appendBigEndian(identification)
        out.appendBigEndian((dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF))
        out.append(ttl)
        out.append(protocolOverride ?? proto)
        out.appendBigEndian(UInt16(0))
        out += source.bytes
        out += destination.bytes
        out += options
        while out.count < headerLength { out.append(0) }
        out.setBigEndian(checksumOverride ?? InternetChecksum.compute(out), at: 10)
        return out
    }
}

/// The fields of an IPv6 header and its extension header chain.
public struct IPv6Spec: Hashable, Sendable {
    /// One extension header. The chain is written in the order given, each header's next-header
    /// field naming the one after it (the last names the transport).
    public enum Extension: Hashable, Sendable {
        /// Hop-by-hop options (0): option TLVs, padded with Pad1/PadN to a multiple of 8.
        case hopByHop(options: [UInt8])
        /// Routing (43): type, segments left, then the type-specific data (reserved word and
        /// addresses), padded with zeros to a multiple of 8.
        case routing(type: UInt8, segmentsLeft: UInt8, data: [UInt8])
        /// Fragment (44): offset in 8-byte units, M flag, identification.
        case fragment(offset: UInt16, moreFragments: Bool, identification: UInt32)
        /// Destination options (60), padded like hop-by-hop.
        case destinationOptions(options: [UInt8])
        /// Authentication header (51, RFC 4302): SPI, sequence number and ICV (padded to 8).
        case authentication(spi: UInt32, sequence: UInt32, icv: [UInt8])

        /// The header's protocol number.
        public var protocolNumber: UInt8 {
            switch self {
            case .hopByHop: return 0
            case .routing: return 43
            case .fragment: return 44
            case .destinationOptions: return 60
            case .authentication: return 51
            }
        }

        /// The header bytes with `next` in its next-header field.
        public func bytes(next: UInt8) -> [UInt8] {
            switch self {
            case let .hopByHop(options), let .destinationOptions(options):
                var out: [UInt8] = [next, 0] + options
                let pad = (8 - out.count % 8) % 8
                if pad == 1 { out.append(0) } else if pad > 1 { out += [1, UInt8(pad - 2)] + Array(repeating: 0, count: pad - 2) }
                out[1] = UInt8(out.count / 8 - 1)
                return out
            case let .routing(type, segmentsLeft, data):
                var out: [UInt8] = [next, 0, type, segmentsLeft] + data
                while out.count % 8 != 0 { out.append(0) }
                out[1] = UInt8(out.count / 8 - 1)
                return out
            case let .fragment(offset, more, identification):
                var out: [UInt8] = [next, 0]
                out.appendBigEndian(offset << 3 | (more ? 1 : 0))
                out.appendBigEndian(identification)
                return out
            case let .authentication(spi, sequence, icv):
                var out: [UInt8] = [next, 0, 0, 0]
                out.appendBigEndian(spi)
                out.appendBigEndian(sequence)
                out += icv
                while out.count % 8 != 0 { out.append(0) }
                out[1] = UInt8(out.count / 4 - 2)   // RFC 4302 2.2: length in 4-byte units minus 2
                return out
            }
        }
    }

    public var source: IPAddress
    public var destination: IPAddress
    public var trafficClass: UInt8
    /// Flow label (20 bits).
    public var flowLabel: UInt32
    public var hopLimit: UInt8
    public var extensions: [Extension]
    /// Writes this payload length instead of the right one.
    public var payloadLengthOverride: UInt16?

    public init(source: IPAddress, destination: IPAddress, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, hopLimit: UInt8 = 64,
                extensions: [Extension] = [], payloadLengthOverride: UInt16? = nil) {
        self.source = source
        self.destination = destination
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
        self.hopLimit = hopLimit
        self.extensions = extensions
        self.payloadLengthOverride = payloadLengthOverride
    }

    /// The fixed header and the extension chain, for `payloadLength` bytes of protocol `proto`
    /// after the chain.
    public func header(protocol proto: UInt8, payloadLength: Int) -> [UInt8] {
        precondition(!source.isIPv4 && !destination.isIPv4, "IPv6 header with IPv4 addresses \(source) -> \(destination)")
        var chain: [UInt8] = []
        for (index, ext) in extensions.enumerated() {
            let next = index + 1 < extensions.count ? extensions[index + 1].protocolNumber : proto
            chain += ext.bytes(next: next)
        }
        var out: [UInt8] = []
        out.reserveCapacity(40 + chain.count)
        out.appendBigEndian(UInt32(6) << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0xFFFFF))
        out.appendBigEndian(payloadLengthOverride ?? UInt16(truncatingIfNeeded: chain.count + payloadLength))
        out.append(extensions.first?.protocolNumber ?? proto)
        out.append(hopLimit)
        out += source.bytes
        out += destination.bytes
        out += chain
        return out
    }
}

/// An IP packet description on a link: the second step of the builder chain. Its methods build
/// whole frames (link header, IP header, transport) as bytes.
public struct IPLayer: Hashable, Sendable {
    public enum Header: Hashable, Sendable {
        case v4(IPv4Spec)
        case v6(IPv6Spec)
    }

    public var frame: Frame
    public var header: Header

    public init(frame: Frame, header: Header) {
        self.frame = frame
        self.header = header
    }

    public var source: IPAddress {
        switch header { case let .v4(h): h.source; case let .v6(h): h.source }
    }

    public var destination: IPAddress {
        switch header { case let .v4(h): h.destination; case let .v6(h): h.destination }
    }

    public var isIPv6: Bool { if case .v6 = header { true } else { false } }

    /// The same IP header without a link header (to build a packet that an ICMP error quotes).
    public var bare: IPLayer { IPLayer(frame: .raw, header: header) }

    /// The frame carrying `transport`.
    public func packet(_ transport: TransportSpec) -> [UInt8] {
        let body = transport.bytes(source: source, destination: destination)
        return ipPacket(protocol: transport.protocolNumber(ipv6: isIPv6), payload: body)
    }

    /// The frame carrying `payload` as protocol `proto`, with no checksum of its own.
    public func ipPacket(protocol proto: UInt8, payload: [UInt8]) -> [UInt8] {
        switch header {
        case let .v4(h): return frame.wrap(h.header(protocol: proto, payloadLength: payload.count) + payload, etherType: 0x0800)
        case let .v6(h): return frame.wrap(h.header(protocol: proto, payloadLength: payload.count) + payload, etherType: 0x86DD)
        }
    }

    /// The frames of `transport` split into IP fragments.
    ///
    /// IPv4: every fragment repeats the header (and its options) with the same identification,
    /// DF clear, MF on all but the last. IPv6: every fragment is the header, the extension
    /// chain given in the spec (treated as the unfragmentable part) and a fragment header with
    /// `identification`. The transport checksum covers the whole datagram.
    /// - Parameters:
    ///   - fragmentSize: bytes of transport data per fragment, rounded down to a multiple of 8 (at least 8).
    ///   - identification: the IPv6 fragment identification (IPv4 uses the header's).
    public func fragments(_ transport: TransportSpec, fragmentSize: Int, identification: UInt32 = 1) -> [[UInt8]] {
        let body = transport.bytes(source: source, destination: destination)
        let proto = transport.protocolNumber(ipv6: isIPv6)
        let size = max(8, fragmentSize / 8 * 8)
        var out: [[UInt8]] = []
        var start = 0
        repeat {
            let end = min(body.count, start + size)
            let chunk = Array(body[start..<end])
            let more = end < body.count
            switch header {
            case var .v4(h):
                h.dontFragment = false
                h.moreFragments = more
                h.fragmentOffset = UInt16(start / 8)
                out.append(frame.wrap(h.header(protocol: proto, payloadLength: chunk.count) + chunk, etherType: 0x0800))
            case var .v6(h):
                h.extensions.append(.fragment(offset: UInt16(start / 8), moreFragments: more, identification: identification))
                out.append(frame.wrap(h.header(protocol: proto, payloadLength: chunk.count) + chunk, etherType: 0x86DD))
            }
            start = end
        } while start < body.count
        return out
    }

    // MARK: Transport conveniences

    /// A TCP segment.
    public func tcp(sourcePort: UInt16, destinationPort: UInt16, flags: TCPSpec.Flags = [], sequence: UInt32 = 0,
                    acknowledgment: UInt32 = 0, window: UInt16 = 65535, options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        packet(.tcp(TCPSpec(sourcePort: sourcePort, destinationPort: destinationPort, flags: flags, sequence: sequence,
                            acknowledgment: acknowledgment, window: window, options: options, payload: payload)))
    }

    /// A UDP datagram; `zeroChecksum` sends checksum 0 (IPv4 only: IPv6 requires one).
    public func udp(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8] = [], zeroChecksum: Bool = false) -> [UInt8] {
        packet(.udp(UDPSpec(sourcePort: sourcePort, destinationPort: destinationPort, payload: payload,
                            checksum: zeroChecksum ? .zero : .computed)))
    }

    /// An echo request (ICMP type 8, ICMPv6 type 128).
    public func icmpEchoRequest(identifier: UInt16, sequence: UInt16, payload: [UInt8] = []) -> [UInt8] {
        packet(.icmp(.echoRequest(identifier: identifier, sequence: sequence, payload: payload)))
    }

    /// An echo reply (ICMP type 0, ICMPv6 type 129).
    public func icmpEchoReply(identifier: UInt16, sequence: UInt16, payload: [UInt8] = []) -> [UInt8] {
        packet(.icmp(.echoReply(identifier: identifier, sequence: sequence, payload: payload)))
    }

    /// A destination unreachable (ICMP type 3, ICMPv6 type 1) quoting `original`, a bare IP
    /// packet (build it with `Frame.raw` or ``bare``).
    public func icmpUnreachable(code: UInt8, quoting original: [UInt8]) -> [UInt8] {
        packet(.icmp(.destinationUnreachable(code: code, original: original)))
    }

    /// A time exceeded (ICMP type 11, ICMPv6 type 3) quoting `original`.
    public func icmpTimeExceeded(code: UInt8 = 0, quoting original: [UInt8]) -> [UInt8] {
        packet(.icmp(.timeExceeded(code: code, original: original)))
    }

    /// Any other IP protocol, payload as given.
    public func payload(protocol proto: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        packet(.other(protocol: proto, payload: bytes))
    }

    /// An ESP packet (protocol 50): SPI, sequence number, then opaque bytes.
    public func esp(spi: UInt32, sequence: UInt32, payload: [UInt8] = []) -> [UInt8] {
        var body: [UInt8] = []
        body.appendBigEndian(spi)
        body.appendBigEndian(sequence)
        return self.payload(protocol: 50, body + payload)
    }

    /// A GRE packet (protocol 47, RFC 2784): no optional fields, `protocolType` (an EtherType), then the payload.
    public func gre(protocolType: UInt16, payload: [UInt8] = []) -> [UInt8] {
        var body: [UInt8] = [0, 0]
        body.appendBigEndian(protocolType)
        return self.payload(protocol: 47, body + payload)
    }
}

extension Frame {
    /// An IPv4 header on this link.
    public func ipv4(source: IPAddress, destination: IPAddress, identification: UInt16 = 0, ttl: UInt8 = 64,
                     dontFragment: Bool = true, options: [UInt8] = []) -> IPLayer {
        IPLayer(frame: self, header: .v4(IPv4Spec(source: source, destination: destination, identification: identification,
                                                  ttl: ttl, dontFragment: dontFragment, options: options)))
    }

    /// An IPv4 header with every field given.
    public func ipv4(_ spec: IPv4Spec) -> IPLayer { IPLayer(frame: self, header: .v4(spec)) }

    /// An IPv6 header on this link.
    public func ipv6(source: IPAddress, destination: IPAddress, flowLabel: UInt32 = 0, hopLimit: UInt8 = 64,
                     extensions: [IPv6Spec.Extension] = []) -> IPLayer {
        IPLayer(frame: self, header: .v6(IPv6Spec(source: source, destination: destination, flowLabel: flowLabel,
                                                  hopLimit: hopLimit, extensions: extensions)))
    }

    /// An IPv6 header with every field given.
    public func ipv6(_ spec: IPv6Spec) -> IPLayer { IPLayer(frame: self, header: .v6(spec)) }

    /// An IPv4 header on this link, addresses as text (invalid text traps).
    public func ipv4(source: String, destination: String, identification: UInt16 = 0, ttl: UInt8 = 64,
                     dontFragment: Bool = true, options: [UInt8] = []) -> IPLayer {
        ipv4(source: IPAddress(parsing: source), destination: IPAddress(parsing: destination), identification: identification,
             ttl: ttl, dontFragment: dontFragment, options: options)
    }

    /// An IPv6 header on this link, addresses as text (invalid text traps).
    public func ipv6(source: String, destination: String, flowLabel: UInt32 = 0, hopLimit: UInt8 = 64,
                     extensions: [IPv6Spec.Extension] = []) -> IPLayer {
        ipv6(source: IPAddress(parsing: source), destination: IPAddress(parsing: destination), flowLabel: flowLabel,
             hopLimit: hopLimit, extensions: extensions)
    }

    /// IPv4 or IPv6 from address text, following the family of the addresses.
    public func ip(source: String, destination: String) -> IPLayer {
        ip(source: IPAddress(parsing: source), destination: IPAddress(parsing: destination))
    }

    /// IPv4 or IPv6, following the family of the addresses (which must match).
    public func ip(source: IPAddress, destination: IPAddress) -> IPLayer {
        precondition(source.isIPv4 == destination.isIPv4, "mixed address families \(source) -> \(destination)")
        return source.isIPv4 ? ipv4(source: source, destination: destination) : ipv6(source: source, destination: destination)
    }
}
