import Foundation
import LiveCapture
import Packets
import Testing

/// The backlog between the capture thread and the audit: a corpus capture of 975 Ethernet frames (none above 1,514 bytes) is
/// replayed into a veth pair and read through a `CaptureBacklog`.
private let backlogCapture = "/work/shared/corpus/OISF-suricata-verify/tests/bug-4663/input.pcap"

@Suite(.enabled(if: namespaceReplayPrerequisitesMissing == nil && FileManager.default.isReadableFile(atPath: backlogCapture),
                "needs root, iproute2 (ip), tcpreplay and the corpus capture"))
struct CaptureBacklogTests {
    static let capture = backlogCapture

    // As `flowaudit live` opens it: 8 MiB and no immediate mode, so that the kernel's ring (blocks
    // of packets, TPACKET_V3) holds the whole replay; immediate mode uses one 256 KiB slot per
    // packet at this snapshot length, and a top-speed replay overflows it.

    /// A namespace of its own for one test, torn down at the end of `body`.
    func withNamespace(_ tag: String, _ body: (_ host: String, _ names: [String: String]) throws -> Void) throws {
        let suffix = "\(tag)\(getpid() % 10_000)"
        let names = ["FA_NETNS": "fa-b\(suffix)", "FA_VETH_HOST": "fa-bh\(suffix)", "FA_VETH_NS": "fa-bn\(suffix)"]
        let (status, output) = try NamespaceReplayTests.run("netns-setup", [], names: names)
        defer { _ = try? NamespaceReplayTests.run("netns-teardown", [], names: names) }
        try #require(status == 0, "netns-setup: \(output)")
        try body(names["FA_VETH_HOST"]!, names)
    }

    /// Takes every batch until the capture has finished, in order.
    func drain(_ backlog: CaptureBacklog) -> [(CapturedPacket, [UInt8])] {
        var seen: [(CapturedPacket, [UInt8])] = []
        while true {
            switch backlog.next(timeout: .milliseconds(50)) {
            case .batch(let batch):
                for packet in batch.packets {
                    seen.append((packet, Array(batch.bytes[packet.dataOffset..<(packet.dataOffset + packet.capturedLength)])))
                }
                backlog.recycle(batch)
            case .idle:
                continue
            case .finished:
                return seen
            }
        }
    }

    @Test("a consumer that keeps up gets every packet, unchanged and in order, and nothing is dropped")
    func everyPacketThrough() throws {
        try withNamespace("a") { host, names in
            let session = try LiveCaptureSession(options: LiveCaptureOptions(interface: host, bufferSize: 8 << 20, immediateMode: false))
            let stopper = session.stopper
            let backlog = CaptureBacklog(session: session, capacity: 64 << 20)
            let (status, output) = try NamespaceReplayTests.run("netns-replay", [Self.capture, "--topspeed"], names: names)
            try #require(status == 0, "netns-replay: \(output)")
            let expected = try NamespaceReplayTests.records(ofPcap: Self.capture)
            try #require(expected.count == 975)
            // Give the kernel's block timeout (100 ms) time to hand the last packets over.
            Thread.sleep(forTimeInterval: 0.3)
            stopper.stop()
            let seen = drain(backlog)
            try #require(seen.count == expected.count, "got \(seen.count) of \(expected.count) packets: \(backlog.statistics)")
            for ((packet, bytes), (originalLength, original)) in zip(seen, expected) {
                #expect(packet.originalLength == originalLength)
                #expect(bytes == original)
            }
            #expect(seen.map(\.0.fileOffset) == (0..<Int64(expected.count)).map { $0 }, "running numbers in order")
            let statistics = backlog.statistics
            #expect(statistics.droppedByBacklog == 0)
            #expect(statistics.capture?.received == 975)
            #expect(statistics.capture?.droppedByKernel == 0)
            #expect(statistics.capture?.delivered == 975)
            #expect(backlog.error == nil)
        }
    }

    @Test("a consumer that does not keep up: the backlog holds at most its capacity, drops the newest and counts every packet")
    func fullBacklogDropsAndCounts() throws {
        try withNamespace("b") { host, names in
            let session = try LiveCaptureSession(options: LiveCaptureOptions(interface: host, bufferSize: 8 << 20, immediateMode: false,
                                                                             maximumBatchPackets: 16))
            let stopper = session.stopper
            // About 45 of the capture's packets (890 bytes each on average) fit.
            let capacity = 40_000
            let backlog = CaptureBacklog(session: session, capacity: capacity)
            let (status, output) = try NamespaceReplayTests.run("netns-replay", [Self.capture, "--topspeed"], names: names)
            try #require(status == 0, "netns-replay: \(output)")
            // Nothing is taken while the replay runs and the kernel hands its blocks over.
            Thread.sleep(forTimeInterval: 0.5)
            stopper.stop()
            let seen = drain(backlog)
            let statistics = backlog.statistics
            let delivered = try #require(statistics.capture?.delivered)
            #expect(statistics.capture?.droppedByKernel == 0)
            #expect(delivered == 975)
            #expect(statistics.droppedByBacklog > 0, "a \(capacity)-byte backlog cannot hold 975 packets: \(statistics)")
            #expect(UInt64(seen.count) + statistics.droppedByBacklog == delivered, "taken \(seen.count) + dropped = delivered: \(statistics)")
            // What was kept is in order and unchanged (each packet's running number says which of
            // the file's it is); a batch that did not fit was dropped whole, so the backlog never
            // held more than its capacity.
            let expected = try NamespaceReplayTests.records(ofPcap: Self.capture)
            for (packet, bytes) in seen {
                let index = Int(packet.fileOffset)
                try #require(expected.indices.contains(index))
                #expect(bytes == expected[index].1)
            }
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.0.fileOffset < $1.0.fileOffset })
            #expect(seen.first?.0.fileOffset == 0)
            #expect(statistics.peakBytes <= capacity, "peak \(statistics.peakBytes) bytes")
        }
    }

    @Test("as a PacketSource: each packet handed out once, its wire bytes counted, a clock on every step, false once finished")
    func backlogAsPacketSource() throws {
        try withNamespace("c") { host, names in
            let session = try LiveCaptureSession(options: LiveCaptureOptions(interface: host, bufferSize: 8 << 20, immediateMode: false))
            let stopper = session.stopper
            let backlog = CaptureBacklog(session: session, capacity: 64 << 20)
            var source = CaptureBacklogSource(backlog: backlog, wait: .milliseconds(20))
            // Before the replay: a step that waited for nothing still tells the time.
            let start = LiveClock.now()
            let started = try source.nextBatch { _, _ in }
            #expect(started)
            let firstClock = try #require(source.clock)
            #expect(firstClock >= start && firstClock <= source.now && source.now <= LiveClock.now())
            let (status, output) = try NamespaceReplayTests.run("netns-replay", [Self.capture, "--topspeed"], names: names)
            try #require(status == 0, "netns-replay: \(output)")
            let expected = try NamespaceReplayTests.records(ofPcap: Self.capture)
            Thread.sleep(forTimeInterval: 0.3)
            stopper.stop()
            var seen: [[UInt8]] = []
            var steps = 0
            var clocks: [Int64?] = []
            var nows: [Int64] = []
            while true {
                let more = try source.nextBatch { batch, bytes in
                    for packet in batch {
                        let frame = bytes.extracting(packet.dataRange)
                        seen.append((0..<frame.count).map { frame[$0] })
                    }
                }
                guard more else { break }
                steps += 1
                clocks.append(source.clock)
                nows.append(source.now)
            }
            // While batches wait, the clock is the last packet's time: never missing, never past
            // the wall clock.
            #expect(steps >= 1)
            #expect(zip(clocks, nows).allSatisfy { clock, now in clock.map { $0 <= now } ?? false })
            #expect(seen.count == expected.count)
            #expect(seen == expected.map(\.1))
            #expect(source.bytesSeen == expected.reduce(0) { $0 + UInt64($1.0) })
            #expect(source.clock == nil, "no clock once the capture ended")
            var afterEnd = 0
            let again = try source.nextBatch { batch, _ in afterEnd += batch.count }
            #expect(!again && afterEnd == 0)
            #expect(backlog.error == nil)
        }
    }
}
