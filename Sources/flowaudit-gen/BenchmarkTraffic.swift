// The traffic of the benchmark captures: many TCP sessions (handshake, data, FIN close) and a few
// UDP conversations, interleaved packet by packet, deterministic for a seed.

import PacketBuilder
import Packets

/// The benchmark's random stream: the project's seeded SplitMix64 generator, plus a stateless
/// per-index hash.
struct BenchmarkRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { generator.below(bound) }

    /// One value derived from `seed` and `index` alone, independent of any stream position.
    static func hash(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var generator = BenchmarkRandom(seed: seed ^ (index &* 0xD6E8_FEB8_6659_FD93))
        return generator.next()
    }
}

/// The two capture shapes of the benchmark.
enum BenchmarkKind: String, CaseIterable, Sendable {
    /// Simple IMIX: IP packets of 40, 576 and 1500 bytes in a 7:4:1 ratio (frames of 54, 590 and
    /// 1514 bytes), TCP sessions with handshakes and FIN closes, a few percent UDP.
    case imix
    /// Minimum-size Ethernet frames: every frame 60 bytes (64 on the wire with the FCS).
    case small
}

/// The packet stream of a benchmark capture.
///
/// `concurrency` flows are in flight at any time; each step picks one of them at random and
/// emits its next packet; a flow that has sent its last packet is replaced by the next flow.
/// Flow `i` takes its addresses, ports, protocol and length from a hash of the seed and `i`.
/// Nothing depends on how many packets are taken, so a shorter capture with the same seed, kind
/// and concurrency is an exact prefix of a longer one.
struct BenchmarkTraffic {
    static let ipv4Header = 20
    static let tcpHeader = 20
    static let synOptions: [UInt8] = [2, 4, 0x05, 0xB4]

    let kind: BenchmarkKind
    let seed: UInt64
    /// Mean packets per flow (lengths are uniform in 8...(2 * mean - 8)).
    let meanFlowLength: Int
    /// Percent of flows that are UDP.
    let udpPercent: Int
    /// Capture time of the first packet, nanoseconds since the epoch.
    let start: Int64

    private var random: BenchmarkRandom
    private var slots: [FlowState] = []
    private var nextFlow = 0
    private var time: Int64
    /// Shared payloads: one buffer per size, so building a packet copies no payload array.
    private var payloads: [Int: [UInt8]] = [:]

    /// Flows started so far.
    var flowsStarted: Int { nextFlow }

    init(kind: BenchmarkKind, seed: UInt64, concurrency: Int, meanFlowLength: Int = 50, udpPercent: Int = 4,
         start: Int64 = 1_795_219_200_000_000_000) {
        self.kind = kind
        self.seed = seed
        self.meanFlowLength = max(8, meanFlowLength)
        self.udpPercent = udpPercent
        self.start = start
        self.time = start
        random = BenchmarkRandom(seed: seed)
        slots.reserveCapacity(concurrency)
        for _ in 0..<max(1, concurrency) { slots.append(makeFlow()) }
    }

    /// The next frame and its capture time.
    mutating func next() -> TimedFrame {
        let slot = random.below(slots.count)
        var flow = slots[slot]
        let frame = emit(&flow)
        slots[slot] = flow.sent >= flow.length ? makeFlow() : flow
        let frameTime = time
        // IMIX: about 3 us between packets (~1 Gb/s); minimum frames: about 1 us.
        time += kind == .imix ? Int64(1000 + random.below(4001)) : Int64(500 + random.below(1001))
        return TimedFrame(timestamp: frameTime, frame: frame)
    }

    // MARK: Flows

    struct FlowState {
        var link: Frame
        var client: IPAddress
        var server: IPAddress
        var clientPort: UInt16
        var serverPort: UInt16
        var udp: Bool
        var length: Int
        var sent = 0
        var clientSequence: UInt32
        var serverSequence: UInt32
        var clientID: UInt16 = 0x1000
        var serverID: UInt16 = 0x2000
    }

    static let serverCount = 2048

    /// Server `n` (0 ..< serverCount): 172.16.(1 + n / 250).(1 + n % 250).
    static func serverAddress(_ n: Int) -> IPAddress {
        IPAddress(ipv4: 0xAC10_0000 | UInt32(1 + n / 250) << 8 | UInt32(1 + n % 250))
    }

    static let tcpServices: [UInt16] = [443, 443, 443, 443, 80, 80, 22, 445, 3389, 8443, 5985, 1433, 389, 636, 25, 3306]
    static let udpServices: [UInt16] = [53, 53, 123, 514, 161, 1812]

    private mutating func makeFlow() -> FlowState {
        let index = UInt64(nextFlow)
        nextFlow += 1
        let h = BenchmarkRandom.hash(seed, index)
        let h2 = BenchmarkRandom.hash(seed ^ 0x5555_5555_5555_5555, index)
        // Clients: 10.0.0.0/8, a bijection of the flow index (unique for 16M flows).
        let c = UInt32(truncatingIfNeeded: (index &* 2_654_435_761) & 0xFF_FFFF)
        let client = IPAddress(ipv4: 0x0A00_0000 | c)
        // Servers: 2,048 hosts, 172.16.1.1 ... 172.16.9.48 (250 per /24).
        let server = Self.serverAddress(Int((h >> 40) % UInt64(Self.serverCount)))
        let udp = Int(h % 100) < udpPercent
        let services = udp ? Self.udpServices : Self.tcpServices
        let serverPort = services[Int((h >> 8) % UInt64(services.count))]
        let clientPort = UInt16(1024 + (h >> 16) % 64_000)
        let spread = 2 * meanFlowLength - 16
        let length = 8 + Int(h2 % UInt64(spread + 1))
        let mac = UInt8(truncatingIfNeeded: h2 >> 56)
        let link = Frame.ethernet(source: Frame.MACAddress([0x02, 0, 0, 0, 0x10, mac]),
                                  destination: Frame.MACAddress([0x02, 0, 0, 0, 0x20, 0x01]))
        return FlowState(link: link, client: client, server: server, clientPort: clientPort, serverPort: serverPort,
                         udp: udp, length: length, clientSequence: UInt32(truncatingIfNeeded: h2),
                         serverSequence: UInt32(truncatingIfNeeded: h2 >> 32))
    }

    private mutating func payload(_ count: Int) -> [UInt8] {
        if let cached = payloads[count] { return cached }
        let bytes = Conversation.filler(count: count, seed: UInt8(truncatingIfNeeded: count))
        payloads[count] = bytes
        return bytes
    }

    /// Size classes of a data packet, weighted so that a 50-packet TCP session with its six
    /// handshake and close packets comes to the 7:4:1 IMIX ratio: 26 small, 19 medium, 5 large.
    private mutating func sizeClass() -> Int {
        let r = random.below(50)
        return r < 26 ? 0 : (r < 45 ? 1 : 2)
    }

    private mutating func emit(_ flow: inout FlowState) -> [UInt8] {
        defer { flow.sent += 1 }
        if flow.udp { return emitUDP(&flow) }
        let position = flow.sent
        let seq = flow.clientSequence, serverSeq = flow.serverSequence
        switch position {
        case 0:
            return tcp(&flow, fromClient: true, flags: .syn, seq: seq, ack: 0, options: Self.synOptions)
        case 1:
            return tcp(&flow, fromClient: false, flags: [.syn, .ack], seq: serverSeq, ack: seq &+ 1, options: Self.synOptions)
        case 2:
            flow.clientSequence &+= 1
            flow.serverSequence &+= 1
            return tcp(&flow, fromClient: true, flags: .ack, seq: flow.clientSequence, ack: flow.serverSequence)
        case flow.length - 3:
            return tcp(&flow, fromClient: true, flags: [.fin, .ack], seq: seq, ack: serverSeq)
        case flow.length - 2:
            return tcp(&flow, fromClient: false, flags: [.fin, .ack], seq: serverSeq, ack: seq &+ 1)
        case flow.length - 1:
            return tcp(&flow, fromClient: true, flags: .ack, seq: seq &+ 1, ack: serverSeq &+ 1)
        default:
            let fromClient = random.below(10) < 4
            let bytes: Int
            switch kind {
            case .imix: bytes = [0, 536, 1460][sizeClass()]
            case .small: bytes = 6
            }
            let data = payload(bytes)
            let flags: TCPSpec.Flags = bytes == 0 ? .ack : [.psh, .ack]
            let frame = fromClient
                ? tcp(&flow, fromClient: true, flags: flags, seq: seq, ack: serverSeq, payload: data)
                : tcp(&flow, fromClient: false, flags: flags, seq: serverSeq, ack: seq, payload: data)
            if fromClient { flow.clientSequence &+= UInt32(bytes) } else { flow.serverSequence &+= UInt32(bytes) }
            return frame
        }
    }

    private mutating func emitUDP(_ flow: inout FlowState) -> [UInt8] {
        let fromClient = flow.sent == 0 || random.below(2) == 0
        let bytes: Int
        switch kind {
        case .imix: bytes = [12, 548, 1472][sizeClass()]
        case .small: bytes = 18
        }
        let data = payload(bytes)
        let layer = ipLayer(&flow, fromClient: fromClient)
        let (sourcePort, destinationPort) = fromClient ? (flow.clientPort, flow.serverPort) : (flow.serverPort, flow.clientPort)
        return layer.udp(sourcePort: sourcePort, destinationPort: destinationPort, payload: data)
    }

    private func ipLayer(_ flow: inout FlowState, fromClient: Bool) -> IPLayer {
        let id: UInt16
        if fromClient { id = flow.clientID; flow.clientID &+= 1 } else { id = flow.serverID; flow.serverID &+= 1 }
        let link = fromClient ? flow.link : flow.link.reversed
        return fromClient ? link.ipv4(source: flow.client, destination: flow.server, identification: id)
                          : link.ipv4(source: flow.server, destination: flow.client, identification: id)
    }

    private func tcp(_ flow: inout FlowState, fromClient: Bool, flags: TCPSpec.Flags, seq: UInt32, ack: UInt32,
                     options: [UInt8] = [], payload: [UInt8] = []) -> [UInt8] {
        let layer = ipLayer(&flow, fromClient: fromClient)
        let (sourcePort, destinationPort) = fromClient ? (flow.clientPort, flow.serverPort) : (flow.serverPort, flow.clientPort)
        var frame = layer.tcp(sourcePort: sourcePort, destinationPort: destinationPort, flags: flags, sequence: seq,
                              acknowledgment: flags.contains(.ack) ? ack : 0, window: 64240, options: options, payload: payload)
        // Minimum frames: pad to the Ethernet minimum of 60 bytes (an Ethernet trailer after the IP packet).
        if kind == .small, frame.count < 60 { frame.append(contentsOf: repeatElement(0, count: 60 - frame.count)) }
        return frame
    }
}
