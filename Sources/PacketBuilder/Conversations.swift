// Whole conversations as timestamped frames: TCP sessions and failed attempts, UDP, ICMP echo.

import Packets

/// A frame and its capture time.
public struct TimedFrame: Hashable, Sendable {
    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64
    public var frame: [UInt8]

    public init(timestamp: Int64, frame: [UInt8]) {
        self.timestamp = timestamp
        self.frame = frame
    }

    /// Interleaves several conversations by timestamp; frames with equal times keep their order
    /// (first by conversation, then within it).
    public static func merge(_ conversations: [[TimedFrame]]) -> [TimedFrame] {
        var all: [(Int64, Int, TimedFrame)] = []
        for conversation in conversations {
            for frame in conversation { all.append((frame.timestamp, all.count, frame)) }
        }
        all.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return all.map(\.2)
    }
}

/// An address and port.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// An endpoint from address text (invalid text traps).
    public init(_ address: String, _ port: UInt16) {
        self.init(IPAddress(parsing: address), port)
    }

    public var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}

/// Builds complete conversations between a client (initiator) and a server, deterministic:
/// the same arguments always give the same bytes and times.
///
/// Frames from the client use ``link``; frames towards the client use `link.reversed`.
/// Packets are ``interval`` apart; IPv4 identifications count up from 0x1000 (client) and
/// 0x2000 (server) per conversation; IPv4 and IPv6 follow the endpoints' addresses.
public struct Conversation: Hashable, Sendable {
    /// How a TCP session ends.
    public enum Close: Hashable, Sendable {
        /// Client FIN/ACK, server FIN/ACK, client ACK.
        case fin
        /// The client sends RST/ACK.
        case clientReset
        /// The server sends RST/ACK.
        case serverReset
        /// No teardown: the capture ends with the session open.
        case none
    }

    /// The link header of client-to-server frames.
    public var link: Frame
    /// Nanoseconds between consecutive frames of a conversation.
    public var interval: Int64
    /// TTL / hop limit of every packet.
    public var ttl: UInt8
    /// TCP options on SYN and SYN/ACK (default: MSS 1460).
    public var synOptions: [UInt8]

    public init(link: Frame = .ethernet(), interval: Int64 = 1_000_000, ttl: UInt8 = 64, synOptions: [UInt8] = [2, 4, 0x05, 0xB4]) {
        self.link = link
        self.interval = interval
        self.ttl = ttl
        self.synOptions = synOptions
    }

    /// A deterministic payload of `count` bytes (a repeating pattern starting at `seed`).
    public static func filler(count: Int, seed: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: Int(seed) &+ $0) }
    }

    // MARK: Packet emitter

    /// Builds the frames of one conversation, tracking time and IPv4 identifications.
    struct Emitter {
        let conversation: Conversation
        var time: Int64
        var clientID: UInt16 = 0x1000
        var serverID: UInt16 = 0x2000
        var thirdID: UInt16 = 0x3000
        var frames: [TimedFrame] = []

        init(_ conversation: Conversation, start: Int64) {
            self.conversation = conversation
            self.time = start
        }

        /// Appends a frame from `source` to `destination`; `fromClient` picks the link direction.
        mutating func emit(_ transport: TransportSpec, source: IPAddress, destination: IPAddress, fromClient: Bool, third: Bool = false,
                           after delay: Int64? = nil) {
            let frame = fromClient ? conversation.link : conversation.link.reversed
            let layer: IPLayer
            if source.isIPv4 {
                let id: UInt16
                if third { id = thirdID; thirdID &+= 1 } else if fromClient { id = clientID; clientID &+= 1 } else { id = serverID; serverID &+= 1 }
                layer = frame.ipv4(source: source, destination: destination, identification: id, ttl: conversation.ttl)
            } else {
                layer = frame.ipv6(source: source, destination: destination, hopLimit: conversation.ttl)
            }
            if !frames.isEmpty { time += delay ?? conversation.interval }
            frames.append(TimedFrame(timestamp: time, frame: layer.packet(transport)))
        }

        mutating func tcp(_ c: Endpoint, _ s: Endpoint, fromClient: Bool, flags: TCPSpec.Flags, seq: UInt32, ack: UInt32,
                          payload: [UInt8] = [], options: [UInt8] = [], after delay: Int64? = nil) {
            let (from, to) = fromClient ? (c, s) : (s, c)
            let segment = TCPSpec(sourcePort: from.port, destinationPort: to.port, flags: flags, sequence: seq,
                                  acknowledgment: flags.contains(.ack) ? ack : 0, window: 64240, options: options, payload: payload)
            emit(.tcp(segment), source: from.address, destination: to.address, fromClient: fromClient, after: delay)
        }
    }

    // MARK: TCP

    /// A complete TCP session: three-way handshake, data, then `close`.
    ///
    /// Data alternates: client segment 0, server segment 0, client 1, server 1, ...; each data
    /// segment acknowledges everything received so far, and a pure ACK follows the last one.
    /// Sequence numbers advance by payload length (and by 1 for SYN and FIN), modulo 2^32.
    /// - Parameters:
    ///   - clientData: payloads the client sends, one segment each.
    ///   - serverData: payloads the server sends, one segment each.
    ///   - clientISN, serverISN: initial sequence numbers.
    public func tcpSession(client: Endpoint, server: Endpoint, at start: Int64, clientData: [[UInt8]] = [], serverData: [[UInt8]] = [],
                           close: Close = .fin, clientISN: UInt32 = 1000, serverISN: UInt32 = 5000) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        e.tcp(client, server, fromClient: true, flags: .syn, seq: clientISN, ack: 0, options: synOptions)
        e.tcp(client, server, fromClient: false, flags: [.syn, .ack], seq: serverISN, ack: clientISN &+ 1, options: synOptions)
        var clientSeq = clientISN &+ 1, serverSeq = serverISN &+ 1
        e.tcp(client, server, fromClient: true, flags: .ack, seq: clientSeq, ack: serverSeq)
        dataPhase(&e, client, server, clientData, serverData, &clientSeq, &serverSeq)
        finish(&e, client, server, close, clientSeq, serverSeq)
        return e.frames
    }

    /// A TCP flow first seen mid-stream: data segments (with ACK) and no handshake, then `close`.
    public func tcpMidstream(client: Endpoint, server: Endpoint, at start: Int64, clientData: [[UInt8]] = [], serverData: [[UInt8]] = [],
                             close: Close = .none, clientSequence: UInt32 = 100_000, serverSequence: UInt32 = 900_000) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        var clientSeq = clientSequence, serverSeq = serverSequence
        dataPhase(&e, client, server, clientData, serverData, &clientSeq, &serverSeq)
        finish(&e, client, server, close, clientSeq, serverSeq)
        return e.frames
    }

    private func dataPhase(_ e: inout Emitter, _ client: Endpoint, _ server: Endpoint, _ clientData: [[UInt8]], _ serverData: [[UInt8]],
                           _ clientSeq: inout UInt32, _ serverSeq: inout UInt32) {
        var lastFromClient: Bool?
        for index in 0..<max(clientData.count, serverData.count) {
            if index < clientData.count {
                e.tcp(client, server, fromClient: true, flags: [.psh, .ack], seq: clientSeq, ack: serverSeq, payload: clientData[index])
                clientSeq &+= UInt32(truncatingIfNeeded: clientData[index].count)
                lastFromClient = true
            }
            if index < serverData.count {
                e.tcp(client, server, fromClient: false, flags: [.psh, .ack], seq: serverSeq, ack: clientSeq, payload: serverData[index])
                serverSeq &+= UInt32(truncatingIfNeeded: serverData[index].count)
                lastFromClient = false
            }
        }
        if let lastFromClient {
            e.tcp(client, server, fromClient: !lastFromClient, flags: .ack,
                  seq: lastFromClient ? serverSeq : clientSeq, ack: lastFromClient ? clientSeq : serverSeq)
        }
    }

    private func finish(_ e: inout Emitter, _ client: Endpoint, _ server: Endpoint, _ close: Close, _ clientSeq: UInt32, _ serverSeq: UInt32) {
        switch close {
        case .fin:
            e.tcp(client, server, fromClient: true, flags: [.fin, .ack], seq: clientSeq, ack: serverSeq)
            e.tcp(client, server, fromClient: false, flags: [.fin, .ack], seq: serverSeq, ack: clientSeq &+ 1)
            e.tcp(client, server, fromClient: true, flags: .ack, seq: clientSeq &+ 1, ack: serverSeq &+ 1)
        case .clientReset:
            e.tcp(client, server, fromClient: true, flags: [.rst, .ack], seq: clientSeq, ack: serverSeq)
        case .serverReset:
            e.tcp(client, server, fromClient: false, flags: [.rst, .ack], seq: serverSeq, ack: clientSeq)
        case .none:
            break
        }
    }

    /// A SYN nobody answers, sent `1 + retransmissions` times with the usual doubling back-off
    /// (1 s, 2 s, 4 s, ... after the previous one).
    public func tcpUnanswered(client: Endpoint, server: Endpoint, at start: Int64, retransmissions: Int = 2,
                              clientISN: UInt32 = 1000) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        var backoff: Int64 = 1_000_000_000
        for _ in 0...max(0, retransmissions) {
            e.tcp(client, server, fromClient: true, flags: .syn, seq: clientISN, ack: 0, options: synOptions, after: backoff)
            if e.frames.count > 1 { backoff *= 2 }
        }
        return e.frames
    }

    /// A SYN answered by RST/ACK from the server (port closed).
    public func tcpRejected(client: Endpoint, server: Endpoint, at start: Int64, clientISN: UInt32 = 1000) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        e.tcp(client, server, fromClient: true, flags: .syn, seq: clientISN, ack: 0, options: synOptions)
        e.tcp(client, server, fromClient: false, flags: [.rst, .ack], seq: 0, ack: clientISN &+ 1)
        return e.frames
    }

    /// A SYN answered by an ICMP destination unreachable from a third address (a firewall),
    /// quoting the SYN. `code` defaults to "administratively prohibited": 13 for ICMP, 1 for ICMPv6.
    public func tcpUnreachable(client: Endpoint, server: Endpoint, firewall: IPAddress, at start: Int64, code: UInt8? = nil,
                               clientISN: UInt32 = 1000) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        e.tcp(client, server, fromClient: true, flags: .syn, seq: clientISN, ack: 0, options: synOptions)
        // The quoted packet is the SYN as sent, without its link header.
        let quoted = Array(e.frames[0].frame.dropFirst(link.headerLength))
        let icmpCode = code ?? (client.address.isIPv4 ? 13 : 1)
        e.emit(.icmp(.destinationUnreachable(code: icmpCode, original: quoted)), source: firewall, destination: client.address,
               fromClient: false, third: true)
        return e.frames
    }

    // MARK: UDP and ICMP

    /// UDP request/response pairs: each request from the client is answered by the server.
    public func udpExchange(client: Endpoint, server: Endpoint, at start: Int64, requests: [[UInt8]], responses: [[UInt8]]) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        for index in 0..<max(requests.count, responses.count) {
            if index < requests.count {
                e.emit(.udp(UDPSpec(sourcePort: client.port, destinationPort: server.port, payload: requests[index])),
                       source: client.address, destination: server.address, fromClient: true)
            }
            if index < responses.count {
                e.emit(.udp(UDPSpec(sourcePort: server.port, destinationPort: client.port, payload: responses[index])),
                       source: server.address, destination: client.address, fromClient: false)
            }
        }
        return e.frames
    }

    /// One request and its response.
    public func udpExchange(client: Endpoint, server: Endpoint, at start: Int64, request: [UInt8], response: [UInt8]) -> [TimedFrame] {
        udpExchange(client: client, server: server, at: start, requests: [request], responses: [response])
    }

    /// A one-way UDP stream (syslog, NetFlow, ...): every payload from `source` to `destination`.
    public func udpStream(source: Endpoint, destination: Endpoint, at start: Int64, payloads: [[UInt8]]) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        for payload in payloads {
            e.emit(.udp(UDPSpec(sourcePort: source.port, destinationPort: destination.port, payload: payload)),
                   source: source.address, destination: destination.address, fromClient: true)
        }
        return e.frames
    }

    /// `count` echo requests (sequence numbers from `firstSequence`), each answered when `answered`.
    public func icmpEcho(client: IPAddress, server: IPAddress, at start: Int64, identifier: UInt16 = 0x1234, firstSequence: UInt16 = 1,
                         count: Int = 1, payload: [UInt8] = Conversation.filler(count: 32), answered: Bool = true) -> [TimedFrame] {
        var e = Emitter(self, start: start)
        for index in 0..<count {
            let sequence = firstSequence &+ UInt16(truncatingIfNeeded: index)
            e.emit(.icmp(.echoRequest(identifier: identifier, sequence: sequence, payload: payload)),
                   source: client, destination: server, fromClient: true)
            if answered {
                e.emit(.icmp(.echoReply(identifier: identifier, sequence: sequence, payload: payload)),
                       source: server, destination: client, fromClient: false)
            }
        }
        return e.frames
    }
}
