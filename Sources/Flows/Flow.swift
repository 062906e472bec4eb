import Packets

/// A flow's connection state (DESIGN.md, "Connection state").
public enum ConnectionState: UInt8, Sendable, CaseIterable {
    /// TCP: SYN seen, no answer.
    case attempted
    /// TCP: SYN answered by RST.
    case rejected
    /// TCP, UDP, ICMP: an ICMP error quoting the flow came back before any answer.
    case unreachable
    /// TCP: handshake answered (SYN-ACK, or the responder otherwise sent packets), not yet closed.
    case established
    /// TCP: FIN from both ends after the handshake.
    case closed
    /// TCP: ended by RST after the handshake.
    case reset
    /// TCP: first seen without its handshake (capture started mid-connection).
    case midstream
    /// UDP, ICMP echo, other protocols: the responder sent packets back.
    case answered
    /// UDP, ICMP echo, other protocols: only the initiator sent packets.
    case unanswered

    public var name: String {
        switch self {
        case .attempted: "attempted"
        case .rejected: "rejected"
        case .unreachable: "unreachable"
        case .established: "established"
        case .closed: "closed"
        case .reset: "reset"
        case .midstream: "midstream"
        case .answered: "answered"
        case .unanswered: "unanswered"
        }
    }

    /// A flow is completed when the responder took part: the traffic got through.
    public var isCompleted: Bool {
        switch self {
        case .established, .closed, .reset, .midstream, .answered: true
        case .attempted, .rejected, .unreachable, .unanswered: false
        }
    }
}

/// How the initiator (Zeek's originator) of a flow was decided.
public enum InitiatorReason: UInt8, Sendable, CaseIterable {
    /// It sent a SYN without ACK.
    case syn
    /// The first packet was a SYN-ACK: its receiver is the initiator.
    case synAck
    /// It sent the first packet (UDP, ICMP, other protocols).
    case firstPacket
    /// The first packet was an ICMP echo reply: its receiver is the initiator.
    case echoReply
    /// Mid-stream or reversed-looking flow: the loaded rules allow only this orientation.
    case rule
    /// Mid-stream or reversed-looking flow: the responder's port is well known (< 1024) and the
    /// other is not.
    case wellKnownPort
    /// Mid-stream flow with no better clue: the responder holds the lower port.
    case lowerPort

    public var name: String {
        switch self {
        case .syn: "syn"
        case .synAck: "syn-ack"
        case .firstPacket: "first-packet"
        case .echoReply: "echo-reply"
        case .rule: "rule"
        case .wellKnownPort: "well-known-port"
        case .lowerPort: "lower-port"
        }
    }
}

/// Why a flow was handed downstream.
public enum FlowEndReason: UInt8, Sendable {
    /// FIN from both ends.
    case fin
    /// RST.
    case rst
    /// Idle for longer than its protocol's timeout.
    case idle
    /// A new connection (SYN) reused the tuple after this one ended.
    case reused
    /// The capture ended with the flow still open.
    case captureEnd
    /// The table was full (``FlowMeterConfiguration/maximumFlows``): the flow idle longest made
    /// room for a new one.
    case tableFull

    public var name: String {
        switch self {
        case .fin: "fin"
        case .rst: "rst"
        case .idle: "idle"
        case .reused: "reused"
        case .captureEnd: "capture-end"
        case .tableFull: "table-full"
        }
    }
}

/// One bidirectional flow as observers see it: the table's record of the flow (``FlowRecord``,
/// whose fields read as the flow's own: `flow.initiatorPackets`) and the flow's rarely set
/// context, kept apart from the table so the records the hot path touches stay small.
///
/// The meter builds this value when it hands a flow on (start, state change, inspected payload,
/// end): per flow event, never per packet.
@dynamicMemberLookup
public struct Flow: Sendable {
    public var record: FlowRecord
    /// For a flow inside a tunnel: the tunnel that carried its first packet; nil otherwise.
    public var tunnel: TunnelContext?
    /// The final destination a source route (IPv4 LSRR/SSRR, IPv6 routing type 0) of the flow's
    /// packets named, when one did: the flow is keyed by the next hop the header shows.
    public var sourceRouteDestination: IPAddress?
    /// Who sent the last ICMP error that quoted this flow (see ``FlowRecord/icmpErrors``).
    public var icmpErrorReporter: IPAddress?

    @inlinable
    public init(record: FlowRecord, context: FlowContext?) {
        self.record = record
        self.tunnel = context?.tunnel
        self.sourceRouteDestination = context?.sourceRouteDestination
        self.icmpErrorReporter = context?.icmpErrorReporter
    }

    @inlinable
    public subscript<T>(dynamicMember field: KeyPath<FlowRecord, T>) -> T { record[keyPath: field] }
}

/// A flow's rarely set facts, held by the meter beside the table (only for flows that have one).
public struct FlowContext: Sendable {
    public var tunnel: TunnelContext?
    public var sourceRouteDestination: IPAddress?
    public var icmpErrorReporter: IPAddress?
}

/// One bidirectional flow's counters and state: a flow table record. Plain value.
///
/// Declaration order is the memory layout. The first 64 bytes are what every packet reads (the
/// key it is compared with, the orientation, the last time and the expiry list's bookkeeping);
/// the next 64 what every packet writes (counters, TCP evidence); what only creation, closing and
/// reports use comes after.
public struct FlowRecord: Sendable {
    public var key: FlowKey
    /// True when the key's lower end is the initiator.
    public var initiatorIsLower: Bool
    public var state: ConnectionState
    @usableFromInline var tcpEvents: UInt16
    @usableFromInline var historySeen: UInt16
    @usableFromInline var historyCount: UInt8
    /// The expiry list the flow waits on (see ``ActivityLists``).
    var list: ActivityList
    /// TCP evidence for one-sided captures: acknowledgement numbers that advanced, per direction.
    public var initiatorAckAdvanced: Bool
    public var responderAckAdvanced: Bool
    public var lastTimestamp: Int64
    /// Capture time the flow was last moved to the back of its expiry list.
    var queuedAt: Int64
    // Second cache line: the counters.
    public var initiatorPackets: UInt64
    public var responderPackets: UInt64
    /// IP bytes (IPv4 total length, IPv6 40 + payload length) as on the wire.
    public var initiatorBytes: UInt64
    public var responderBytes: UInt64
    /// Transport payload bytes as on the wire.
    public var initiatorPayloadBytes: UInt64
    public var responderPayloadBytes: UInt64
    @usableFromInline var initiatorFirstAck: UInt32
    @usableFromInline var responderFirstAck: UInt32
    @usableFromInline var initiatorISN: UInt32
    /// How many payload packets were passed to the payload inspector.
    public var inspectedPackets: UInt16
    public var initiatorReason: InitiatorReason
    public var endReason: FlowEndReason
    // Cold: creation, history letters, ICMP errors, reports.
    @usableFromInline var historyLetters: (UInt64, UInt64)
    /// The key's hash, to find and move the flow's table slot.
    @usableFromInline var hash: UInt64
    /// Creation order within one run, from 1.
    public var id: UInt64
    /// Nanoseconds since the epoch.
    public var firstTimestamp: Int64
    /// Outermost VLAN ID of the first packet, or -1.
    public var vlan: Int32
    /// ICMP errors that quoted this flow; the last one's type and code.
    public var icmpErrors: UInt32
    public var icmpErrorType: UInt8
    public var icmpErrorCode: UInt8
    /// ICMP flows: the initiator's message type (echo request for echo flows) and code.
    public var icmpType: UInt8
    public var icmpCode: UInt8
    /// The address that sent the first RST (normally one of the ends; a firewall may forge it).
    public var rstSenderIsInitiator: Bool?
    /// True when the meter holds a ``FlowContext`` for this flow.
    var hasContext: Bool

    init(key: FlowKey, id: UInt64, initiatorIsLower: Bool, reason: InitiatorReason, state: ConnectionState,
         timestamp: Int64, hash: UInt64, list: ActivityList) {
        self.key = key
        self.initiatorIsLower = initiatorIsLower
        self.state = state
        self.tcpEvents = 0
        self.historySeen = 0
        self.historyCount = 0
        self.list = list
        self.initiatorAckAdvanced = false
        self.responderAckAdvanced = false
        self.lastTimestamp = timestamp
        self.queuedAt = timestamp
        self.initiatorPackets = 0
        self.responderPackets = 0
        self.initiatorBytes = 0
        self.responderBytes = 0
        self.initiatorPayloadBytes = 0
        self.responderPayloadBytes = 0
        self.initiatorFirstAck = 0
        self.responderFirstAck = 0
        self.initiatorISN = 0
        self.inspectedPackets = 0
        self.initiatorReason = reason
        self.endReason = .captureEnd
        self.historyLetters = (0, 0)
        self.hash = hash
        self.id = id
        self.firstTimestamp = timestamp
        self.vlan = -1
        self.icmpErrors = 0
        self.icmpErrorType = 0
        self.icmpErrorCode = 0
        self.icmpType = 0
        self.icmpCode = 0
        self.rstSenderIsInitiator = nil
        self.hasContext = false
    }

    // MARK: Roles

    public var initiator: IPAddress { initiatorIsLower ? key.lower : key.upper }
    public var responder: IPAddress { initiatorIsLower ? key.upper : key.lower }
    public var initiatorPort: UInt16 { initiatorIsLower ? key.lowerPort : key.upperPort }
    public var responderPort: UInt16 { initiatorIsLower ? key.upperPort : key.lowerPort }
    public var protocolNumber: UInt8 { key.protocolNumber }
    /// Duration in nanoseconds.
    public var duration: Int64 {
        // Saturating: the two times come from the input.
        let (difference, overflow) = lastTimestamp.subtractingReportingOverflow(firstTimestamp)
        return overflow ? (firstTimestamp > lastTimestamp ? .min : .max) : difference
    }
    public var isCompleted: Bool { state.isCompleted }

    /// True when the traffic reached the responder: the flow completed, or the capture shows one
    /// direction only and that direction acknowledges the other's data.
    public var gotThrough: Bool { isCompleted || looksOneSided }

    /// True when only the initiator's packets were seen, yet they acknowledge data the responder
    /// must have sent: the capture saw one direction only (asymmetric routing, a half-mirrored
    /// port), which is not a blocked flow.
    public var looksOneSided: Bool {
        if protocolNumber == IPProtocolNumber.tcp {
            return responderPackets == 0 && initiatorPackets > 0 && initiatorAckAdvanced
                || initiatorPackets == 0 && responderPackets > 0
        }
        return false
    }

    // MARK: TCP events

    @usableFromInline static let synFromInitiator: UInt16 = 1 << 0
    @usableFromInline static let synAckFromResponder: UInt16 = 1 << 1
    @usableFromInline static let finFromInitiator: UInt16 = 1 << 2
    @usableFromInline static let finFromResponder: UInt16 = 1 << 3
    @usableFromInline static let rstSeen: UInt16 = 1 << 4
    @usableFromInline static let initiatorAckSeen: UInt16 = 1 << 5
    @usableFromInline static let responderAckSeen: UInt16 = 1 << 6
    /// Set once the flow is closing (FIN both ways or RST) and sits on the linger list.
    @usableFromInline static let finished: UInt16 = 1 << 7

    public var sawSYN: Bool { tcpEvents & Self.synFromInitiator != 0 }
    public var sawSYNACK: Bool { tcpEvents & Self.synAckFromResponder != 0 }
    public var sawRST: Bool { tcpEvents & Self.rstSeen != 0 }
    public var isFinished: Bool { tcpEvents & Self.finished != 0 }

    // MARK: History (Zeek's letters)

    /// Zeek-style history: each event letter once, in order of first occurrence; upper case
    /// from the initiator, lower case from the responder. S SYN, H SYN-ACK, A pure ACK,
    /// D payload, F FIN, R RST; `^` when the initiator is not the first packet's sender.
    public var history: String {
        var bytes: [UInt8] = []
        let count = Int(historyCount)
        for i in 0..<count {
            let word = i < 8 ? historyLetters.0 : historyLetters.1
            bytes.append(UInt8(truncatingIfNeeded: word >> UInt64((i % 8) * 8)))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Letter `index` of "SHADFR^shadfr", packed in two integers so the hot path touches no array.
    @inline(__always)
    static func historyLetter(_ index: Int) -> UInt64 {
        // "SHADFR^s" and "hadfr" as little-endian bytes.
        let packed: (UInt64, UInt64) = (0x73_5E_52_46_44_41_48_53, 0x00_00_00_72_66_64_61_68)
        return index < 8 ? (packed.0 >> UInt64(index * 8)) & 0xFF : (packed.1 >> UInt64((index - 8) * 8)) & 0xFF
    }

    /// Appends letter number `index` of ``historyLetter(_:)`` unless already recorded.
    @inline(__always)
    mutating func addHistory(_ index: Int) {
        let bit = UInt16(1) << UInt16(index)
        guard historySeen & bit == 0, historyCount < 16 else { return }
        historySeen |= bit
        let letter = Self.historyLetter(index)
        let position = Int(historyCount)
        if position < 8 {
            historyLetters.0 |= letter << UInt64(position * 8)
        } else {
            historyLetters.1 |= letter << UInt64((position - 8) * 8)
        }
        historyCount &+= 1  // < 16 checked above
    }
}

extension FlowRecord {
    /// The protocol's short name: `tcp`, `udp`, `icmp`, `icmpv6`, or `ip/N`.
    public var protocolName: String { Flow.protocolName(protocolNumber) }

    /// True for protocols whose key carries ports (TCP and UDP).
    public var hasPorts: Bool { protocolNumber == IPProtocolNumber.tcp || protocolNumber == IPProtocolNumber.udp }

    /// The state as Zeek's `conn_state` would name it (S0, REJ, S1, SF, RSTO, RSTR, OTH).
    public var zeekConnState: String {
        switch state {
        case .attempted, .unreachable, .unanswered: "S0"
        case .rejected: "REJ"
        case .established: "S1"
        case .closed, .answered: "SF"
        case .reset: rstSenderIsInitiator == true ? "RSTO" : "RSTR"
        case .midstream: "OTH"
        }
    }
}

extension Flow {
    /// The short name of IP protocol `number`: `tcp`, `udp`, `icmp`, `icmpv6`, or `ip/N`.
    public static func protocolName(_ number: UInt8) -> String { IPProtocolNumber.name(number) }
}
