import PacketBuilder
import Packets
import Testing
@testable import Flows

/// A record for flow table tests: a TCP key between two addresses and ports.
private func record(_ port: UInt16, hash: UInt64 = 0, state: ConnectionState = .attempted, at time: Int64 = 0) -> FlowRecord {
    let (key, _) = FlowKey.make(source: client, sourcePort: port, destination: server, destinationPort: 443,
                                protocolNumber: IPProtocolNumber.tcp, ipVersion: 4)
    return FlowRecord(key: key, id: UInt64(port), initiatorIsLower: true, reason: .syn, state: state,
                      timestamp: time, hash: hash, list: .tcp)
}

private func facts(_ flags: TCPFlags, seq: UInt32 = 0, ack: UInt32 = 0, payload: Int = 0,
                   protocolNumber: UInt8 = IPProtocolNumber.tcp) -> PacketFacts {
    PacketFacts(ipProtocol: protocolNumber, tcpFlags: flags, tcpSequence: seq, tcpAcknowledgment: ack, payloadLength: payload)
}

@Suite struct FlowIndexTests {
    @Test func findsEveryFlowThroughGrowthAndRemoval() {
        var store = FlowStore()
        var index = FlowIndex(capacity: 16)
        var generator = SeededGenerator(seed: 9)
        var hashes: [UInt64] = []
        for port in 0..<3_000 {
            let hash = UInt64.random(in: 0...UInt64.max, using: &generator)
            hashes.append(hash)
            let position = store.append(record(UInt16(port), hash: hash))
            index.insert(hash: hash, index: position, occupied: port)
        }
        #expect(index.slots.count >= 6_000)
        #expect(index.count == 3_000)
        for port in 0..<3_000 {
            #expect(index.find(store[port].key, hash: hashes[port], in: store) == port)
        }
        for port in stride(from: 0, to: 3_000, by: 2) { index.remove(hash: hashes[port], index: port) }
        #expect(index.count == 1_500)
        for port in 0..<3_000 {
            #expect(index.find(store[port].key, hash: hashes[port], in: store) == (port % 2 == 0 ? -1 : port))
        }
    }

    /// Flows whose tags share a home slot form one probe chain; removing one from its middle must
    /// not cut the chain (no tombstones: entries shift back), and an equal tag with another key is
    /// told apart by the record.
    @Test func collidingTagsAndBackwardShift() {
        var store = FlowStore()
        var index = FlowIndex(capacity: 16)
        // Tags 1, 17, 33 all start at slot 1; the fourth repeats tag 17 with another key.
        let hashes: [UInt64] = [1 << 32, 17 << 32, 33 << 32, 17 << 32 | 5]
        for (i, hash) in hashes.enumerated() {
            let position = store.append(record(UInt16(100 + i), hash: hash))
            index.insert(hash: hash, index: position, occupied: i)
        }
        #expect(index.likelyIndex(1 << 32) == 0)
        #expect(index.likelyIndex(17 << 32) == nil)  // slot 1 holds tag 1
        #expect(index.find(store[3].key, hash: hashes[3], in: store) == 3)
        #expect(index.find(store[1].key, hash: hashes[1], in: store) == 1)
        index.remove(hash: hashes[1], index: 1)
        #expect(index.find(store[1].key, hash: hashes[1], in: store) == -1)
        #expect(index.find(store[2].key, hash: hashes[2], in: store) == 2)
        #expect(index.find(store[3].key, hash: hashes[3], in: store) == 3)
        // The chain is contiguous again: slots 1, 2, 3 hold the three left, slot 4 is empty.
        #expect(index.slots[1] != 0 && index.slots[2] != 0 && index.slots[3] != 0 && index.slots[4] == 0)
        for i in [0, 2, 3] { index.remove(hash: hashes[i], index: i) }
        #expect(index.slots.allSatisfy { $0 == 0 })
        // Removing what is not there changes nothing.
        index.remove(hash: hashes[0], index: 0)
        #expect(index.count == 0)
    }
}

@Suite struct FlowExpiryTests {
    let second: Int64 = 1_000_000_000

    @Test func eachListHasItsTimeout() {
        let expiry = FlowExpiry(FlowMeterConfiguration())  // TCP 300 s, other 60 s, closing 5 s
        #expect(!expiry.isIdle(lastActive: 0, list: .tcp, at: 90 * second))
        #expect(expiry.isIdle(lastActive: 0, list: .other, at: 90 * second))
        #expect(!expiry.isIdle(lastActive: 0, list: .other, at: 60 * second))  // exactly the timeout: not yet
        #expect(expiry.isIdle(lastActive: 0, list: .closing, at: 6 * second))
        #expect(!expiry.isIdle(lastActive: 10 * second, list: .closing, at: 0))  // a packet from the past
        #expect(FlowExpiry.list(finished: true, tcp: true) == .closing)
        #expect(FlowExpiry.list(finished: false, tcp: false) == .other)
    }

    @Test func deadlineFollowsTheEarliestFlowAndConfiguration() {
        var configuration = FlowMeterConfiguration()
        var expiry = FlowExpiry(configuration)
        expiry.passEnded(nextDeadline: Int64.max)
        #expect(!expiry.isDue(at: 1_000 * second))
        expiry.noteActivity(at: 100 * second, on: .tcp)
        #expect(expiry.nextDeadline == 400 * second)
        expiry.noteActivity(at: 100 * second, on: .other)
        #expect(expiry.nextDeadline == 160 * second)
        expiry.noteActivity(at: 500 * second, on: .tcp)  // later: does not raise it
        #expect(expiry.nextDeadline == 160 * second && expiry.isDue(at: 160 * second) && !expiry.isDue(at: 159 * second))
        expiry.noteActivity(at: Int64.max - 1, on: .tcp)  // overflow: ignored, no trap
        #expect(expiry.nextDeadline == 160 * second)
        configuration.otherIdleTimeout = 10 * second
        expiry.configure(configuration)
        #expect(expiry.isIdle(lastActive: 0, list: .other, at: 11 * second))
    }

    @Test func headsAreDueInActivityOrder() {
        var expiry = FlowExpiry(FlowMeterConfiguration())
        let lastActive: [Int64] = [10 * second, 20 * second, 30 * second]
        expiry.lists.grow(toInclude: 2)
        for flow in 0..<3 { expiry.lists.pushBack(flow, on: .other) }
        var earliest = Int64.max
        #expect(expiry.dueHead(.other, at: 75 * second, earliest: &earliest, lastActive: { lastActive[$0] }) == 0)
        expiry.lists.unlink(0, from: .other)
        #expect(expiry.dueHead(.other, at: 75 * second, earliest: &earliest, lastActive: { lastActive[$0] }) == nil)
        #expect(earliest == 80 * second)
        #expect(expiry.dueHead(.tcp, at: 75 * second, earliest: &earliest, lastActive: { lastActive[$0] }) == nil)
    }

    @Test func busyFlowsRequeueOncePerInterval() {
        let expiry = FlowExpiry(FlowMeterConfiguration())  // 1 s
        #expect(!expiry.needsRequeue(from: .tcp, to: .tcp, queuedAt: 0, at: second))
        #expect(expiry.needsRequeue(from: .tcp, to: .tcp, queuedAt: 0, at: second + 1))
        #expect(expiry.needsRequeue(from: .tcp, to: .closing, queuedAt: 0, at: 1))
    }
}

@Suite struct ConnectionTrackerTests {
    /// Applies packets (true: from the initiator) to a flow opened by the first.
    func run(_ packets: [(Bool, PacketFacts)], start: ConnectionState = .attempted) -> FlowRecord {
        var flow = record(40000, state: start)
        for (time, (fromInitiator, packet)) in packets.enumerated() {
            ConnectionTracker.count(&flow, packet: packet, fromInitiator: fromInitiator, timestamp: Int64(time),
                                    packets: 1, bytes: 40, headerless: false)
        }
        return flow
    }

    @Test func handshakeDataAndCloseBothWays() {
        let flow = run([(true, facts(.syn, seq: 100)), (false, facts([.syn, .ack], seq: 900, ack: 101)),
                        (true, facts(.ack, seq: 101, ack: 901)), (true, facts([.psh, .ack], seq: 101, ack: 901, payload: 20)),
                        (false, facts(.ack, seq: 901, ack: 121)), (true, facts([.fin, .ack], seq: 121, ack: 901)),
                        (false, facts([.fin, .ack], seq: 901, ack: 122)), (true, facts(.ack, seq: 122, ack: 902))])
        #expect(flow.state == .closed && flow.isFinished && flow.endReason == .fin)
        #expect(flow.sawSYN && flow.sawSYNACK && !flow.sawRST)
        #expect(flow.history == "ShADaFf")
        #expect(flow.initiatorPackets == 5 && flow.responderPackets == 3 && flow.initiatorPayloadBytes == 20)
        #expect(flow.initiatorAckAdvanced)
    }

    @Test func refusedAndResetConnections() {
        let refused = run([(true, facts(.syn, seq: 7)), (false, facts([.rst, .ack], ack: 8))])
        #expect(refused.state == .rejected && refused.isFinished && refused.endReason == .rst)
        #expect(refused.rstSenderIsInitiator == false)
        // The client's own RST while waiting (a stale ACK answered) leaves the attempt open.
        let abandoned = run([(true, facts(.syn, seq: 7)), (true, facts(.rst, seq: 8))])
        #expect(abandoned.state == .attempted && !abandoned.isFinished && abandoned.rstSenderIsInitiator == true)
        let reset = run([(true, facts(.syn, seq: 7)), (false, facts([.syn, .ack], ack: 8)), (true, facts(.rst, seq: 8))])
        #expect(reset.state == .reset && reset.endReason == .rst)
    }

    /// RFC 9293 3.4.1: a new connection picks a new ISN, so the same ISN is a retransmission, even
    /// after an RST refused it (Windows retries a refused connect with the same ISN).
    @Test func aSYNStartsANewConnectionOnlyWithANewISN() {
        let refused = run([(true, facts(.syn, seq: 7)), (false, facts([.rst, .ack], ack: 8))])
        #expect(!ConnectionTracker.startsNewConnection(refused, packet: facts(.syn, seq: 7), sourceIsLower: true))
        #expect(ConnectionTracker.startsNewConnection(refused, packet: facts(.syn, seq: 5000), sourceIsLower: true))
        let waiting = run([(true, facts(.syn, seq: 7))])
        #expect(!ConnectionTracker.startsNewConnection(waiting, packet: facts(.syn, seq: 7), sourceIsLower: true))
        #expect(!ConnectionTracker.startsNewConnection(waiting, packet: facts([.syn, .ack], seq: 7), sourceIsLower: false))
        // The retried attempt is open again, waiting for its answer.
        var retried = refused
        ConnectionTracker.count(&retried, packet: facts(.syn, seq: 7), fromInitiator: true, timestamp: 5, packets: 1, bytes: 40, headerless: false)
        #expect(retried.state == .attempted && !retried.isFinished)
        let established = run([(true, facts(.syn, seq: 7)), (false, facts([.syn, .ack], ack: 8))])
        #expect(ConnectionTracker.startsNewConnection(established, packet: facts(.syn, seq: 99), sourceIsLower: true))
    }

    @Test func connectionlessFlowsAreAnsweredByTheResponder() {
        let udp = IPProtocolNumber.udp
        var flow = record(53000, state: .unanswered)
        ConnectionTracker.count(&flow, packet: facts([], payload: 30, protocolNumber: udp), fromInitiator: true,
                                timestamp: 0, packets: 1, bytes: 58, headerless: false)
        #expect(flow.state == .unanswered)
        ConnectionTracker.count(&flow, packet: facts([], payload: 90, protocolNumber: udp), fromInitiator: false,
                                timestamp: 1, packets: 1, bytes: 118, headerless: false)
        #expect(flow.state == .answered && flow.responderBytes == 118 && flow.history == "Dd")
    }

    @Test func openingDecidesWhoStarted() {
        let noHint: () -> Bool? = { nil }
        #expect(ConnectionTracker.opening(facts(.syn), sourcePort: 40000, destinationPort: 443, echoReply: false, hint: noHint)
                == (true, .syn, .attempted))
        #expect(ConnectionTracker.opening(facts([.syn, .ack]), sourcePort: 443, destinationPort: 40000, echoReply: false, hint: noHint)
                == (false, .synAck, .established))
        // Mid-stream from the server's well-known port: the receiver started it.
        #expect(ConnectionTracker.opening(facts(.ack), sourcePort: 389, destinationPort: 51000, echoReply: false, hint: noHint)
                == (false, .wellKnownPort, .midstream))
        // Mid-stream between two high ports: the lower is the server's.
        #expect(ConnectionTracker.opening(facts(.ack), sourcePort: 50000, destinationPort: 8443, echoReply: false, hint: noHint)
                == (true, .lowerPort, .midstream))
        // The rules' prior wins over ports.
        #expect(ConnectionTracker.opening(facts(.ack), sourcePort: 389, destinationPort: 51000, echoReply: false, hint: { true })
                == (true, .rule, .midstream))
        // UDP: the first sender, unless the rules say only the reverse is expected.
        let udp = facts([], protocolNumber: IPProtocolNumber.udp)
        #expect(ConnectionTracker.opening(udp, sourcePort: 53, destinationPort: 53000, echoReply: false, hint: noHint)
                == (false, .wellKnownPort, .unanswered))
        #expect(ConnectionTracker.opening(udp, sourcePort: 5000, destinationPort: 6000, echoReply: false, hint: noHint)
                == (true, .firstPacket, .unanswered))
        #expect(ConnectionTracker.opening(udp, sourcePort: 5000, destinationPort: 6000, echoReply: false, hint: { false })
                == (false, .rule, .unanswered))
        let icmp = facts([], protocolNumber: IPProtocolNumber.icmp)
        #expect(ConnectionTracker.opening(icmp, sourcePort: 0, destinationPort: 0, echoReply: true, hint: noHint)
                == (false, .echoReply, .unanswered))
    }
}

@Suite struct ICMPErrorMatcherTests {
    @Test func theErrorNamesTheFlowOfTheQuotedPacket() {
        let frames = Conversation().tcpUnreachable(client: Endpoint(client, 40003), server: Endpoint(server, 25),
                                                   firewall: firewall, at: 0, code: 13)
        var decoded = DecodedPacket()
        let error = frames.last!.frame
        #expect(PacketDecoder.decode(error.span, linkType: .ethernet, wireLength: error.count, into: &decoded) == .ok)
        #expect(decoded.icmpKind == .error)
        let (expected, _) = FlowKey.make(source: client, sourcePort: 40003, destination: server, destinationPort: 25,
                                         protocolNumber: IPProtocolNumber.tcp, ipVersion: 4)
        #expect(ICMPErrorMatcher.quotedKey(decoded) == expected)
    }

    @Test func anAttemptBecomesUnreachableOnce() {
        var attempt = record(40003, state: .attempted, at: 0)
        #expect(ICMPErrorMatcher.apply(type: 3, code: 13, at: 5, to: &attempt) == .attempted)
        #expect(attempt.state == .unreachable && attempt.icmpErrors == 1 && attempt.icmpErrorCode == 13 && attempt.lastTimestamp == 5)
        #expect(ICMPErrorMatcher.apply(type: 3, code: 1, at: 4, to: &attempt) == nil)  // already unreachable
        #expect(attempt.icmpErrors == 2 && attempt.icmpErrorCode == 1 && attempt.lastTimestamp == 5)
        var established = record(40004, state: .established)
        #expect(ICMPErrorMatcher.apply(type: 11, code: 0, at: 1, to: &established) == nil)
        #expect(established.state == .established && established.icmpErrorType == 11)
    }
}
