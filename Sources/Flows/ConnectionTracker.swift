import Packets

/// The few facts of a decoded packet that update a flow record: a small value, so updating a
/// record in place never copies the whole decoded packet.
struct PacketFacts {
    var ipProtocol: UInt8
    var tcpFlags: TCPFlags
    var tcpSequence: UInt32
    var tcpAcknowledgment: UInt32
    var payloadLength: Int
}

/// A flow's connection state, packet by packet: who started the flow, its TCP handshake, close
/// and reset (DESIGN.md, "Connection state"), answers of connectionless flows, and when a SYN on
/// a known tuple is a new connection. Pure functions of a flow record and a packet's facts.
enum ConnectionTracker {
    /// Adds one packet (and any earlier fragments of its datagram) to `flow`.
    @inline(__always)
    static func count(_ flow: inout FlowRecord, packet: PacketFacts, fromInitiator: Bool, timestamp: Int64,
                      packets: UInt64, bytes: UInt64, headerless: Bool) {
        let payload = packet.payloadLength
        if timestamp > flow.lastTimestamp {
            flow.lastTimestamp = timestamp
        } else if timestamp < flow.firstTimestamp {
            flow.firstTimestamp = timestamp  // out-of-order packets only: the cold field stays cold
        }
        if fromInitiator {
            flow.initiatorPackets &+= packets
            flow.initiatorBytes &+= bytes
            flow.initiatorPayloadBytes &+= UInt64(payload)
        } else {
            flow.responderPackets &+= packets
            flow.responderBytes &+= bytes
            flow.responderPayloadBytes &+= UInt64(payload)
        }
        guard !headerless else { return }
        if packet.ipProtocol == IPProtocolNumber.tcp {
            updateTCP(&flow, packet: packet, fromInitiator: fromInitiator)
        } else {
            if payload > 0 { flow.addHistory(fromInitiator ? 3 : 10) }
            if !fromInitiator && (flow.state == .unanswered || flow.state == .unreachable) { flow.state = .answered }
        }
    }

    @inline(__always)
    static func updateTCP(_ flow: inout FlowRecord, packet: PacketFacts, fromInitiator: Bool) {
        let flags = packet.tcpFlags
        if flags.contains(.syn) {
            if fromInitiator && !flags.contains(.ack) {
                if flow.tcpEvents & FlowRecord.synFromInitiator == 0 {
                    flow.initiatorISN = packet.tcpSequence
                } else if flow.isFinished && flow.endReason == .rst && !flow.sawSYNACK {
                    // The attempt an RST ended is retried with the same ISN (see
                    // startsNewConnection): it is open again, waiting for an answer.
                    flow.tcpEvents &= ~FlowRecord.finished
                    flow.endReason = .captureEnd
                    flow.state = .attempted
                }
                flow.tcpEvents |= FlowRecord.synFromInitiator
                flow.addHistory(0)
            } else if !fromInitiator && flags.contains(.ack) {
                flow.tcpEvents |= FlowRecord.synAckFromResponder
                flow.addHistory(8)
            } else {
                // SYN-ACK from the initiator or a bare SYN from the responder: simultaneous open.
                flow.addHistory(fromInitiator ? 1 : 7)
            }
        }
        if flags.contains(.ack) {
            if fromInitiator {
                if flow.tcpEvents & FlowRecord.initiatorAckSeen == 0 {
                    flow.tcpEvents |= FlowRecord.initiatorAckSeen
                    flow.initiatorFirstAck = packet.tcpAcknowledgment
                } else if packet.tcpAcknowledgment != flow.initiatorFirstAck {
                    flow.initiatorAckAdvanced = true
                }
            } else {
                if flow.tcpEvents & FlowRecord.responderAckSeen == 0 {
                    flow.tcpEvents |= FlowRecord.responderAckSeen
                    flow.responderFirstAck = packet.tcpAcknowledgment
                } else if packet.tcpAcknowledgment != flow.responderFirstAck {
                    flow.responderAckAdvanced = true
                }
            }
        }
        if packet.payloadLength > 0 {
            flow.addHistory(fromInitiator ? 3 : 10)
        } else if flags.contains(.ack) && flags.rawValue & 0x07 == 0 {
            flow.addHistory(fromInitiator ? 2 : 9)
        }
        if flags.contains(.rst) {
            flow.addHistory(fromInitiator ? 5 : 12)
            if flow.rstSenderIsInitiator == nil { flow.rstSenderIsInitiator = fromInitiator }
            flow.tcpEvents |= FlowRecord.rstSeen
            switch flow.state {
            case .attempted, .unreachable: flow.state = fromInitiator ? flow.state : .rejected
            case .established: flow.state = .reset
            default: break
            }
            if !(flow.state == .attempted || flow.state == .unreachable) {
                flow.tcpEvents |= FlowRecord.finished
                flow.endReason = .rst
            }
            return
        }
        // Any other packet from the responder means the handshake got an answer.
        if !fromInitiator && (flow.state == .attempted || flow.state == .unreachable) { flow.state = .established }
        if flags.contains(.fin) {
            flow.addHistory(fromInitiator ? 4 : 11)
            flow.tcpEvents |= fromInitiator ? FlowRecord.finFromInitiator : FlowRecord.finFromResponder
            if flow.tcpEvents & (FlowRecord.finFromInitiator | FlowRecord.finFromResponder) == (FlowRecord.finFromInitiator | FlowRecord.finFromResponder) {
                if flow.state == .established { flow.state = .closed }
                if flow.tcpEvents & FlowRecord.finished == 0 {
                    flow.tcpEvents |= FlowRecord.finished
                    flow.endReason = .fin
                }
            }
        }
    }

    /// True when a packet from the initiator side is a SYN that starts a new connection on a
    /// tuple whose previous connection finished (or whose SYN had another sequence number).
    ///
    /// A SYN from the initiator that repeats the flow's initial sequence number is never a new
    /// connection: a new connection picks a new ISN (RFC 9293 3.4.1), so the sender is still in
    /// SYN-SENT and retransmits its attempt. That happens after an RST too: Windows retries a
    /// refused connect twice with the same ISN, and a client answering a stale ACK with an RST
    /// (RFC 9293 3.10.7.3) stays in SYN-SENT; both are one attempt, not three flows.
    static func startsNewConnection(_ flow: borrowing FlowRecord, packet: PacketFacts, sourceIsLower: Bool) -> Bool {
        guard isOpeningSYN(packet.tcpFlags) else { return false }
        // Nested conditions rather than `&&`: its autoclosures cannot capture a borrowed record.
        if flow.sawSYN {
            if sourceIsLower == flow.initiatorIsLower {
                if packet.tcpSequence == flow.initiatorISN { return false }
            }
        }
        if flow.isFinished { return true }
        switch flow.state {
        case .rejected, .closed, .reset: return true
        case .attempted, .unreachable:
            return false  // a retransmitted SYN
        default:
            // A SYN from either side of an established or mid-stream flow with a new sequence
            // number is a new connection; the same one is a retransmission.
            return flow.sawSYN ? packet.tcpSequence != flow.initiatorISN : true
        }
    }

    /// True for a SYN without ACK: the only packet that can start a new connection on a known
    /// tuple (checked before the flow record is read).
    @inline(__always)
    static func isOpeningSYN(_ flags: TCPFlags) -> Bool { flags.contains(.syn) && !flags.contains(.ack) }

    /// Who started a flow, how that was decided, and its first state, from its first packet.
    ///
    /// A SYN's sender and a SYN-ACK's receiver started the flow; an echo reply's receiver did.
    /// A first packet that does not show it (mid-stream TCP, UDP) asks `hint` (the rules' prior:
    /// true when only source -> destination is expected, false when only the reverse is, nil
    /// when they cannot tell), then a well-known responder port, then (mid-stream TCP only) the
    /// lower port. UDP keeps the first packet's sender unless the rules say otherwise.
    @inline(__always)
    static func opening(_ packet: PacketFacts, sourcePort: UInt16, destinationPort: UInt16, echoReply: Bool,
                        hint: () -> Bool?) -> (sourceIsInitiator: Bool, reason: InitiatorReason, state: ConnectionState) {
        switch packet.ipProtocol {
        case IPProtocolNumber.tcp:
            let flags = packet.tcpFlags
            if flags.contains(.syn) && !flags.contains(.ack) { return (true, .syn, .attempted) }
            if flags.contains(.syn) { return (false, .synAck, .established) }
            let (initiator, reason) = orientation(sourcePort, destinationPort, midstream: true, hint: hint)
            return (initiator, reason, .midstream)
        case IPProtocolNumber.udp:
            let (initiator, reason) = orientation(sourcePort, destinationPort, midstream: false, hint: hint)
            return (initiator, reason, .unanswered)
        default:
            return echoReply ? (false, .echoReply, .unanswered) : (true, .firstPacket, .unanswered)
        }
    }

    /// The orientation of a first packet that does not show who started its flow (see
    /// ``opening(_:sourcePort:destinationPort:echoReply:hint:)``).
    static func orientation(_ sourcePort: UInt16, _ destinationPort: UInt16, midstream: Bool,
                            hint: () -> Bool?) -> (Bool, InitiatorReason) {
        let rules = hint()
        if midstream {
            if let rules { return (rules, .rule) }
        } else {
            // The first packet's sender stays the initiator unless the rules say otherwise.
            if rules == true { return (true, .firstPacket) }
            if rules == false { return (false, .rule) }
        }
        let sourceWellKnown = sourcePort < 1024
        let destinationWellKnown = destinationPort < 1024
        if destinationWellKnown && !sourceWellKnown { return (true, midstream ? .wellKnownPort : .firstPacket) }
        if sourceWellKnown && !destinationWellKnown { return (false, .wellKnownPort) }
        if midstream && sourcePort != destinationPort { return (destinationPort < sourcePort, .lowerPort) }
        return (true, .firstPacket)
    }
}
