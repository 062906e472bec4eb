/// TCP header layout (RFC 9293 3.1).
@usableFromInline
enum TCPField {
    @usableFromInline static let sourcePort = 0
    @usableFromInline static let destinationPort = 2
    @usableFromInline static let sequence = 4
    @usableFromInline static let acknowledgment = 8
    @usableFromInline static let dataOffset = 12
    @usableFromInline static let flags = 13
    @usableFromInline static let minimumLength = 20
}

/// UDP header layout (RFC 768).
@usableFromInline
enum UDPField {
    @usableFromInline static let sourcePort = 0
    @usableFromInline static let destinationPort = 2
    @usableFromInline static let length = 4
    @usableFromInline static let headerLength = 8
}

/// ICMP and ICMPv6 layout (RFC 792, RFC 4443): type, code, checksum, then 4 bytes that hold the
/// echo identifier and sequence, or are unused before an error's quoted packet.
@usableFromInline
enum ICMPField {
    @usableFromInline static let type = 0
    @usableFromInline static let code = 1
    @usableFromInline static let identifier = 4
    @usableFromInline static let minimumLength = 4
    @usableFromInline static let quoted = 8
}

extension PacketDecoder {
    /// Decodes the transport header at `offset`; `end` bounds the captured bytes of this IP
    /// packet and `segmentLength` is the transport segment's length on the wire.
    @inlinable
    static func decodeTransport(_ frame: Span<UInt8>, protocolNumber: UInt8, at offset: Int, end: Int,
                                segmentLength: Int, ipVersion: UInt8,
                                into packet: inout DecodedPacket) -> DecodeStatus {
        let captured = end - offset
        switch protocolNumber {
        case IPProtocolNumber.tcp:
            guard captured >= TCPField.minimumLength, segmentLength >= TCPField.minimumLength else { return .truncatedTCP }
            let dataOffset = Int(frame[offset + TCPField.dataOffset] >> 4) &* 4
            guard dataOffset >= TCPField.minimumLength else { return .tcpBadDataOffset }
            guard dataOffset <= segmentLength else { return .tcpDataOffsetBeyondSegment }
            packet.sourcePort = frame.bigEndianUInt16(at: offset + TCPField.sourcePort)
            packet.destinationPort = frame.bigEndianUInt16(at: offset + TCPField.destinationPort)
            packet.tcpSequence = frame.bigEndianUInt32(at: offset + TCPField.sequence)
            packet.tcpAcknowledgment = frame.bigEndianUInt32(at: offset + TCPField.acknowledgment)
            packet.tcpFlags = TCPFlags(rawValue: frame[offset + TCPField.flags])
            packet.payloadOffset = offset + dataOffset
            packet.payloadLength = segmentLength - dataOffset
            packet.payloadCapturedLength = max(0, min(captured - dataOffset, packet.payloadLength))
            return .ok
        case IPProtocolNumber.udp:
            guard captured >= UDPField.headerLength, segmentLength >= UDPField.headerLength else { return .truncatedUDP }
            var length = Int(frame.bigEndianUInt16(at: offset + UDPField.length))
            if length == 0 { length = segmentLength }  // IPv6 jumbogram / offload
            guard length >= UDPField.headerLength else { return .udpBadLength }
            packet.sourcePort = frame.bigEndianUInt16(at: offset + UDPField.sourcePort)
            packet.destinationPort = frame.bigEndianUInt16(at: offset + UDPField.destinationPort)
            packet.payloadOffset = offset + UDPField.headerLength
            packet.payloadLength = min(length, segmentLength) - UDPField.headerLength
            packet.payloadCapturedLength = max(0, min(captured - UDPField.headerLength, packet.payloadLength))
            // Every tunnel port lies in 2152...6081: one wrapping compare per port before the
            // exact check.
            if packet.destinationPort &- TunnelPort.gtpU <= TunnelPort.geneve - TunnelPort.gtpU
                || packet.sourcePort &- TunnelPort.gtpU <= TunnelPort.geneve - TunnelPort.gtpU {
                detectTunnel(frame, into: &packet)
            }
            return .ok
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            guard captured >= ICMPField.minimumLength else { return .truncatedICMP }
            let type = frame[offset + ICMPField.type]
            let code = frame[offset + ICMPField.code]
            packet.icmpType = type
            packet.icmpCode = code
            packet.payloadOffset = offset + min(captured, ICMPField.quoted)
            packet.payloadLength = max(0, segmentLength - ICMPField.quoted)
            packet.payloadCapturedLength = max(0, captured - ICMPField.quoted)
            let v6 = protocolNumber == IPProtocolNumber.icmpv6
            let isEcho = v6 ? (type == 128 || type == 129) : (type == 8 || type == 0)
            let isError = v6 ? (type >= 1 && type <= 4) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
            if isEcho {
                guard captured >= ICMPField.quoted else { return .truncatedICMP }
                let identifier = frame.bigEndianUInt16(at: offset + ICMPField.identifier)
                packet.sourcePort = identifier
                packet.destinationPort = identifier
                packet.icmpKind = (type == 8 || type == 128) ? .echoRequest : .echoReply
                return .ok
            }
            if isError {
                packet.icmpKind = .error
                return decodeQuoted(frame, at: offset + ICMPField.quoted, end: end, ipVersion: ipVersion, into: &packet)
            }
            packet.icmpKind = .other
            packet.sourcePort = UInt16(type)
            packet.destinationPort = UInt16(type)
            return .ok
        default:
            packet.payloadOffset = offset
            packet.payloadLength = segmentLength
            packet.payloadCapturedLength = max(0, captured)
            if mayCarryTunnel(protocolNumber) { detectTunnel(frame, into: &packet) }
            return .ok
        }
    }

    /// Decodes the packet an ICMP error quotes: its IP header and the first bytes of its
    /// transport header (RFC 792 quotes 8 bytes, RFC 4443 as much as fits), enough for the ports.
    @inlinable
    static func decodeQuoted(_ frame: Span<UInt8>, at offset: Int, end: Int, ipVersion: UInt8,
                             into packet: inout DecodedPacket) -> DecodeStatus {
        let upperOffset: Int
        let protocolNumber: UInt8
        if ipVersion == 4 {
            guard end - offset >= IPv4Field.minimumLength, frame[offset] >> 4 == 4 else { return .icmpQuotedTruncated }
            let headerLength = Int(frame[offset] & 0x0F) &* 4
            guard headerLength >= IPv4Field.minimumLength, end - offset >= headerLength else { return .icmpQuotedTruncated }
            packet.quotedSource = IPAddress.ipv4(frame, at: offset + IPv4Field.source)
            packet.quotedDestination = IPAddress.ipv4(frame, at: offset + IPv4Field.destination)
            protocolNumber = frame[offset + IPv4Field.protocolNumber]
            // A quoted non-first fragment carries no transport header: addresses only.
            if frame.bigEndianUInt16(at: offset + IPv4Field.flagsFragmentOffset) & 0x1FFF != 0 {
                packet.quotedProtocol = protocolNumber
                packet.quotedSourcePort = 0
                packet.quotedDestinationPort = 0
                return .ok
            }
            upperOffset = offset + headerLength
        } else {
            guard end - offset >= IPv6Field.length, frame[offset] >> 4 == 6 else { return .icmpQuotedTruncated }
            packet.quotedSource = IPAddress.ipv6(frame, at: offset + IPv6Field.source)
            packet.quotedDestination = IPAddress.ipv6(frame, at: offset + IPv6Field.destination)
            switch walkIPv6Extensions(frame, first: frame[offset + IPv6Field.nextHeader],
                                      at: offset + IPv6Field.length, payloadEnd: end) {
            case .success(let upper):
                protocolNumber = upper.protocolNumber
                upperOffset = upper.offset
            case .failure:
                return .icmpQuotedTruncated
            }
        }
        packet.quotedProtocol = protocolNumber
        packet.quotedSourcePort = 0
        packet.quotedDestinationPort = 0
        switch protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp:
            guard end - upperOffset >= 4 else { return .icmpQuotedTruncated }
            packet.quotedSourcePort = frame.bigEndianUInt16(at: upperOffset)
            packet.quotedDestinationPort = frame.bigEndianUInt16(at: upperOffset + 2)
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            guard end - upperOffset >= 8 else { return .icmpQuotedTruncated }
            let identifier = frame.bigEndianUInt16(at: upperOffset + 4)
            packet.quotedSourcePort = identifier
            packet.quotedDestinationPort = identifier
        default:
            break
        }
        return .ok
    }
}
