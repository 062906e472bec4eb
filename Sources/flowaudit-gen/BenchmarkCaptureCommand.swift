import ArgumentParser
import PacketBuilder
import Packets

extension BenchmarkKind: ExpressibleByArgument {}

/// `flowaudit-gen bench`: writes one synthetic benchmark capture, streaming it to disk.
struct BenchmarkCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Write a benchmark capture.",
        discussion: """
            imix: TCP sessions (SYN, SYN/ACK, ACK, data, FIN close) and a few percent UDP, IP packets \
            of 40, 576 and 1500 bytes in a 7:4:1 ratio. small: every frame 60 bytes (64 on the wire). \
            --concurrency flows are in flight at once, interleaved packet by packet; flows average \
            (--schedule-packets or --packets) / --flows packets. The stream depends only on the kind, \
            that mean, --concurrency and --seed, so the first N packets of a capture are written on \
            their own with --packets N and the full capture's count as --schedule-packets.
            """
    )

    enum Format: String, ExpressibleByArgument { case pcap, pcapng }

    @Option(help: "Traffic shape: imix or small.")
    var kind: BenchmarkKind

    @Option(help: "Packets to write.")
    var packets: Int

    @Option(help: "Flows the full schedule spreads its packets over (with --schedule-packets).")
    var flows: Int

    @Option(name: .customLong("schedule-packets"),
            help: "Packets of the full schedule that --flows refers to (default: --packets). Give the full file's count to write a prefix of it.")
    var schedulePackets: Int?

    @Option(help: "Flows in flight at once.")
    var concurrency: Int = 4096

    @Option(help: "Seed of the deterministic generator.")
    var seed: UInt64 = 1

    @Option(help: "Output file.")
    var output: String

    @Option(help: "Capture file format.")
    var format: Format = .pcap

    func validate() throws {
        guard packets > 0 else { throw ValidationError("--packets must be positive.") }
        guard flows > 0 else { throw ValidationError("--flows must be positive.") }
        guard concurrency > 0, concurrency <= 1 << 20 else { throw ValidationError("--concurrency must be in 1...1048576.") }
        guard flows < 1 << 24 else { throw ValidationError("--flows must be below 16,777,216 (client addresses are unique per flow).") }
        if let schedulePackets, schedulePackets < packets {
            throw ValidationError("--schedule-packets (\(schedulePackets)) must be at least --packets (\(packets)).")
        }
    }

    func run() throws {
        let total = schedulePackets ?? packets
        let mean = max(8, Int((Double(total) / Double(flows)).rounded()))
        var traffic = BenchmarkTraffic(kind: kind, seed: seed, concurrency: concurrency, meanFlowLength: mean)
        var sink = BenchmarkCaptureSink(path: output, format: format)
        var sizes: [Int: Int] = [:]
        for _ in 0..<packets {
            let packet = traffic.next()
            sizes[packet.frame.count, default: 0] += 1
            try sink.append(packet.frame, timestamp: packet.timestamp)
        }
        try sink.finish()
        let mix = sizes.sorted { $0.value > $1.value }.prefix(6).map { "\($0.key) B: \($0.value)" }.joined(separator: ", ")
        print("\(output): \(packets) packets, \(sink.bytesWritten) bytes, \(traffic.flowsStarted) flows started, "
              + "mean flow length \(mean); frame sizes \(mix)")
    }
}

/// Streams records to a file through an in-memory writer, flushing it every few megabytes.
struct BenchmarkCaptureSink {
    static let flushThreshold = 8 << 20

    let path: String
    private var pcap: PcapWriter?
    private var pcapng: PcapngWriter?
    private var started = false
    private(set) var bytesWritten = 0

    init(path: String, format: BenchmarkCaptureCommand.Format) {
        self.path = path
        switch format {
        case .pcap:
            var writer = PcapWriter(linkType: .ethernet, snapshotLength: 65_535)
            writer.bytes.reserveCapacity(Self.flushThreshold + 65_536)
            pcap = writer
        case .pcapng:
            var writer = PcapngWriter()
            writer.addInterface(linkType: .ethernet, snapshotLength: 65_535, resolution: .microseconds)
            writer.bytes.reserveCapacity(Self.flushThreshold + 65_536)
            pcapng = writer
        }
    }

    mutating func append(_ frame: [UInt8], timestamp: Int64) throws {
        if pcap != nil {
            pcap!.append(frame, timestamp: timestamp)
            if pcap!.bytes.count >= Self.flushThreshold { try flush() }
        } else {
            pcapng!.appendEnhancedPacket(interface: 0, timestamp: timestamp, data: frame)
            if pcapng!.bytes.count >= Self.flushThreshold { try flush() }
        }
    }

    mutating func flush() throws {
        if pcap != nil {
            try pcap!.write(to: path, appending: started)
            bytesWritten += pcap!.bytes.count
            pcap!.bytes.removeAll(keepingCapacity: true)
        } else {
            try pcapng!.write(to: path, appending: started)
            bytesWritten += pcapng!.bytes.count
            pcapng!.bytes.removeAll(keepingCapacity: true)
        }
        started = true
    }

    mutating func finish() throws { try flush() }
}
