/// IPv4 header layout (RFC 791 3.1): byte offsets of the fields flowaudit reads.
@usableFromInline
enum IPv4Field {
    @usableFromInline static let versionIHL = 0
    @usableFromInline static let totalLength = 2
    @usableFromInline static let identification = 4
    @usableFromInline static let flagsFragmentOffset = 6
    @usableFromInline static let protocolNumber = 9
    @usableFromInline static let source = 12
    @usableFromInline static let destination = 16
    @usableFromInline static let minimumLength = 20  // destination + 4
}

/// IPv6 header layout (RFC 8200 3).
@usableFromInline
enum IPv6Field {
    @usableFromInline static let payloadLength = 4
    @usableFromInline static let nextHeader = 6
    @usableFromInline static let source = 8
    @usableFromInline static let destination = 24
    @usableFromInline static let length = 40  // destination + 16
}

/// The result of walking an IPv6 extension header chain.
@usableFromInline
struct IPv6Upper {
    @usableFromInline var protocolNumber: UInt8
    @usableFromInline var offset: Int
    @usableFromInline var isFragment: Bool
    @usableFromInline var fragmentOffset: Int
    @usableFromInline var moreFragments: Bool
    @usableFromInline var fragmentID: UInt32
    /// The final destination of a type 0 routing header with segments left, when there is one.
    @usableFromInline var sourceRouteDestination: IPAddress?

    @inlinable init(protocolNumber: UInt8, offset: Int) {
        self.protocolNumber = protocolNumber
        self.offset = offset
        self.isFragment = false
        self.fragmentOffset = 0
        self.moreFragments = false
        self.fragmentID = 0
        self.sourceRouteDestination = nil
    }
}

extension PacketDecoder {
    @inlinable
    static func decodeIPv4(_ frame: Span<UInt8>, at o: Int, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard o >= 0, frame.count - o >= IPv4Field.minimumLength else { return .truncatedIPv4 }
        let versionIHL = frame[o + IPv4Field.versionIHL]
        guard versionIHL >> 4 == 4 else { return .badIPVersion }
        let headerLength = Int(versionIHL & 0x0F) &* 4  // at most 60
        guard headerLength >= IPv4Field.minimumLength else { return .ipv4BadIHL }
        guard frame.count - o >= headerLength else { return .truncatedIPv4 }
        let wireRemaining = wire - o
        var totalLength = Int(frame.bigEndianUInt16(at: o + IPv4Field.totalLength))
        // A total length of 0 is what segmentation offload leaves in locally captured packets.
        if totalLength == 0 { totalLength = wireRemaining }
        guard totalLength >= headerLength else { return .ipv4BadTotalLength }
        guard totalLength <= wireRemaining else { return .ipv4TotalLengthBeyondFrame }

        packet.ipVersion = 4
        packet.source = IPAddress.ipv4(frame, at: o + IPv4Field.source)
        packet.destination = IPAddress.ipv4(frame, at: o + IPv4Field.destination)
        let protocolNumber = frame[o + IPv4Field.protocolNumber]
        packet.ipProtocol = protocolNumber
        packet.ipLength = totalLength
        if headerLength > IPv4Field.minimumLength { scanIPv4Options(frame, at: o + IPv4Field.minimumLength, end: o + headerLength, into: &packet) }
        let fragmentField = frame.bigEndianUInt16(at: o + IPv4Field.flagsFragmentOffset)
        let fragmentOffset = Int(fragmentField & 0x1FFF) &* 8
        let moreFragments = fragmentField & 0x2000 != 0
        if fragmentOffset != 0 || moreFragments {
            packet.isFragment = true
            packet.fragmentOffset = fragmentOffset
            packet.moreFragments = moreFragments
            packet.fragmentID = UInt32(frame.bigEndianUInt16(at: o + IPv4Field.identification))
            if fragmentOffset != 0 {
                packet.payloadOffset = o + headerLength
                packet.payloadLength = totalLength - headerLength
                packet.payloadCapturedLength = max(0, min(frame.count, o + totalLength) - packet.payloadOffset)
                return .ok
            }
        }
        return decodeTransport(frame, protocolNumber: protocolNumber, at: o + headerLength,
                               end: min(frame.count, o + totalLength), segmentLength: totalLength - headerLength,
                               ipVersion: 4, into: &packet)
    }

    @inlinable
    static func decodeIPv6(_ frame: Span<UInt8>, at o: Int, wire: Int, into packet: inout DecodedPacket) -> DecodeStatus {
        guard o >= 0, frame.count - o >= IPv6Field.length else { return .truncatedIPv6 }
        guard frame[o] >> 4 == 6 else { return .badIPVersion }
        let wireRemaining = wire - o
        var payloadLength = Int(frame.bigEndianUInt16(at: o + IPv6Field.payloadLength))
        // 0 means a jumbogram (RFC 2675) or segmentation offload: the frame bounds the packet.
        if payloadLength == 0 { payloadLength = max(0, wireRemaining - IPv6Field.length) }
        guard IPv6Field.length + payloadLength <= wireRemaining else { return .ipv6PayloadLengthBeyondFrame }
        let end = o + IPv6Field.length + payloadLength
        let upper: IPv6Upper
        switch walkIPv6Extensions(frame, first: frame[o + IPv6Field.nextHeader], at: o + IPv6Field.length,
                                  payloadEnd: end) {
        case .success(let value): upper = value
        case .failure(let status): return status
        }
        packet.ipVersion = 6
        packet.source = IPAddress.ipv6(frame, at: o + IPv6Field.source)
        packet.destination = IPAddress.ipv6(frame, at: o + IPv6Field.destination)
        packet.ipProtocol = upper.protocolNumber
        packet.ipLength = IPv6Field.length + payloadLength
        if let hidden = upper.sourceRouteDestination {
            packet.sourceRouted = true
            packet.sourceRouteDestination = hidden
        }
        if upper.isFragment {
            packet.isFragment = true
            packet.fragmentOffset = upper.fragmentOffset
            packet.moreFragments = upper.moreFragments
            packet.fragmentID = upper.fragmentID
            if upper.fragmentOffset != 0 {
                packet.payloadOffset = upper.offset
                packet.payloadLength = end - upper.offset
                packet.payloadCapturedLength = max(0, min(frame.count, end) - upper.offset)
                return .ok
            }
        }
        return decodeTransport(frame, protocolNumber: upper.protocolNumber, at: upper.offset,
                               end: min(frame.count, end), segmentLength: end - upper.offset,
                               ipVersion: 6, into: &packet)
    }

    /// Walks hop-by-hop, routing, fragment, destination options and AH headers (RFC 8200 4,
    /// RFC 4302 2.2) to the upper-layer protocol. Every step advances at least 8 bytes, so the
    /// walk ends; a header running past `payloadEnd` is malformed, past the captured bytes truncated.
    @inlinable
    static func walkIPv6Extensions(_ frame: Span<UInt8>, first: UInt8, at start: Int,
                                   payloadEnd: Int) -> Result<IPv6Upper, DecodeStatus> {
        var next = first
        var offset = start
        var upper = IPv6Upper(protocolNumber: first, offset: start)
        while true {
            let headerLength: Int
            switch next {
            case 0, 43, 60:  // hop-by-hop, routing, destination options: (len + 1) * 8
                guard payloadEnd - offset >= 2 else { return .failure(.ipv6ExtensionBeyondPayload) }
                guard frame.count - offset >= 2 else { return .failure(.truncatedIPv6Extension) }
                headerLength = (Int(frame[offset + 1]) &+ 1) &* 8
            case 44:  // fragment: fixed 8 bytes
                headerLength = 8
            case 51:  // authentication header: (len + 2) * 4
                guard payloadEnd - offset >= 2 else { return .failure(.ipv6ExtensionBeyondPayload) }
                guard frame.count - offset >= 2 else { return .failure(.truncatedIPv6Extension) }
                headerLength = (Int(frame[offset + 1]) &+ 2) &* 4
            default:
                upper.protocolNumber = next
                upper.offset = offset
                return .success(upper)
            }
            guard payloadEnd - offset >= headerLength else { return .failure(.ipv6ExtensionBeyondPayload) }
            guard frame.count - offset >= headerLength else { return .failure(.truncatedIPv6Extension) }
            if next == 44 {
                let field = frame.bigEndianUInt16(at: offset + 2)
                upper.isFragment = true
                upper.fragmentOffset = Int(field & 0xFFF8)
                upper.moreFragments = field & 0x0001 != 0
                upper.fragmentID = frame.bigEndianUInt32(at: offset + 4)
                if upper.fragmentOffset != 0 {
                    upper.protocolNumber = frame[offset]
                    upper.offset = offset + 8
                    return .success(upper)
                }
            }
            if next == 43, frame[offset + 2] == 0, frame[offset + 3] > 0, headerLength >= 24 {
                // Type 0 (RFC 2460 4.4, deprecated by RFC 5095): addresses after a 4-byte
                // reserved field; with segments left, the last is the final destination.
                let addresses = (headerLength - 8) / 16
                if addresses > 0 { upper.sourceRouteDestination = IPAddress.ipv6(frame, at: offset + 8 + (addresses - 1) * 16) }
            }
            next = frame[offset]
            offset += headerLength
        }
    }

    /// Walks IPv4 options (RFC 791 3.1: End 0 and NOP 1 are single bytes, the rest type,
    /// length, data) for a loose (131) or strict (137) source route: pointer (from 1), then
    /// 4-byte addresses. While the pointer has not passed the route's end, the route's last
    /// address is the final destination.
    @usableFromInline
    static func scanIPv4Options(_ frame: Span<UInt8>, at start: Int, end: Int, into packet: inout DecodedPacket) {
        var offset = start
        while end - offset >= 1 {
            let type = frame[offset]
            if type == 0 { return }
            if type == 1 { offset += 1; continue }
            guard end - offset >= 2 else { return }
            let length = Int(frame[offset + 1])
            guard length >= 2, end - offset >= length else { return }
            if (type == 131 || type == 137) && length >= 7 {
                let pointer = Int(frame[offset + 2])
                if pointer >= 4 && pointer <= length - 3 {
                    let addresses = (length - 3) / 4
                    packet.sourceRouted = true
                    packet.sourceRouteDestination = IPAddress.ipv4(frame, at: offset + 3 + (addresses - 1) * 4)
                }
                return
            }
            offset += length
        }
    }
}
