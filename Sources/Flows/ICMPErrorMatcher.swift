import Packets

/// ICMP errors (destination unreachable, time exceeded, packet too big, ...) matched to the flow
/// of the packet they quote: the error is evidence about that flow, not a flow of its own.
enum ICMPErrorMatcher {
    /// The key of the flow whose packet an ICMP error quotes.
    @inline(__always)
    static func quotedKey(_ packet: borrowing DecodedPacket) -> FlowKey {
        FlowKey.make(source: packet.quotedSource, sourcePort: packet.quotedSourcePort,
                     destination: packet.quotedDestination, destinationPort: packet.quotedDestinationPort,
                     protocolNumber: packet.quotedProtocol, ipVersion: packet.ipVersion).key
    }

    /// Records an error of `type` and `code` received at `timestamp` on the quoted `flow`. An
    /// attempt or an unanswered flow becomes unreachable: the state before is returned when the
    /// error changed it, nil otherwise.
    static func apply(type: UInt8, code: UInt8, at timestamp: Int64, to flow: inout FlowRecord) -> ConnectionState? {
        let oldState = flow.state
        flow.icmpErrors &+= 1
        flow.icmpErrorType = type
        flow.icmpErrorCode = code
        if timestamp > flow.lastTimestamp { flow.lastTimestamp = timestamp }
        guard oldState == .attempted || oldState == .unanswered else { return nil }
        flow.state = .unreachable
        return oldState
    }
}
