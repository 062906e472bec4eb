import Glibc
import LiveCapture
import Packets
import Testing

/// Real captures on the loopback interface. Capturing needs root (or CAP_NET_RAW and
/// CAP_NET_ADMIN); without it these tests are skipped with that reason.
@Suite(.enabled(if: runningAsRoot, "capturing on lo needs root (or CAP_NET_RAW and CAP_NET_ADMIN)"))
struct LiveCaptureSessionTests {
    /// Ethernet (14) + IPv4 (20) + UDP (8) in front of each payload on Linux's loopback.
    static let headerBytes = 14 + 20 + 8

    /// A packet copied out of a batch, for checking after the batch is gone.
    struct Seen {
        var packet: CapturedPacket
        var bytes: [UInt8]
    }

    /// Calls `nextBatch` until `count` packets were seen, the source ends, or `attempts` batches
    /// passed (each waits at most the session's timeout).
    static func collect(_ session: LiveCaptureSession, count: Int, attempts: Int = 100) throws -> [Seen] {
        var seen: [Seen] = []
        for _ in 0..<attempts where seen.count < count {
            let more = try session.nextBatch { packets, bytes in
                for packet in packets {
                    var copy: [UInt8] = []
                    for index in packet.dataOffset..<(packet.dataOffset + packet.capturedLength) { copy.append(bytes[index]) }
                    seen.append(Seen(packet: packet, bytes: copy))
                }
            }
            if !more { break }
        }
        return seen
    }

    /// Immediate mode (TPACKET_V2 on Linux) and buffered mode (TPACKET_V3, blocks handed over
    /// at the timeout) must both deliver every packet.
    @Test(arguments: [true, false])
    func capturesExactlyTheDatagramsSentToAFilteredPort(immediateMode: Bool) throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(
            interface: "lo", immediateMode: immediateMode, filter: "udp and port \(port.port)"))
        #expect(session.linkType == .ethernet)
        #expect(session.snapshotLength == LiveCaptureOptions.defaultSnapshotLength)
        #expect(session.filter == "udp and port \(port.port)")

        let before = Int64(time(nil)) * 1_000_000_000
        let payloads: [[UInt8]] = (1...5).map { size in [UInt8](repeating: UInt8(size), count: size * 100) }
        for payload in payloads { try port.send(payload) }

        let seen = try Self.collect(session, count: payloads.count)
        try #require(seen.count == payloads.count)
        for (index, (item, payload)) in zip(seen, payloads).enumerated() {
            let length = Self.headerBytes + payload.count
            #expect(item.packet.linkType == .ethernet)
            #expect(item.packet.capturedLength == length)
            #expect(item.packet.originalLength == length)
            #expect(item.packet.fileOffset == Int64(index))
            #expect(item.packet.interface == 0)
            #expect(item.packet.timestamp >= before)
            #expect(Array(item.bytes[12..<14]) == [0x08, 0x00])  // EtherType IPv4
            #expect(item.bytes[14 + 9] == 17)                      // protocol UDP
            #expect(Array(item.bytes[30..<34]) == [127, 0, 0, 1])  // destination address
            #expect(Array(item.bytes[36..<38]) == [UInt8(port.port >> 8), UInt8(port.port & 0xff)])
            #expect(Array(item.bytes[Self.headerBytes...]) == payload)
        }
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.packet.timestamp <= $1.packet.timestamp })

        let statistics = try session.statistics()
        #expect(statistics.received >= UInt64(payloads.count))
        #expect(statistics.delivered == UInt64(payloads.count))
        #expect(statistics.droppedByKernel == 0)
    }

    /// The snapshot length cuts packets; the original length stays the wire length.
    @Test func snapshotLengthTruncatesCapturedBytes() throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(
            interface: "lo", snapshotLength: 64, filter: "udp and dst port \(port.port)"))
        #expect(session.snapshotLength == 64)
        try port.send([UInt8](repeating: 0xab, count: 500))
        let seen = try Self.collect(session, count: 1)
        try #require(seen.count == 1)
        #expect(seen[0].packet.capturedLength == 64)
        #expect(seen[0].bytes.count == 64)
        #expect(seen[0].packet.originalLength == Self.headerBytes + 500)
    }

    /// With no matching traffic, a call returns after the timeout with an empty batch, so the
    /// caller can do periodic work.
    @Test func timeoutHandsOutAnEmptyBatch() throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(
            interface: "lo", timeout: .milliseconds(20), filter: "udp and port \(port.port)"))
        var calls = 0
        var packetCount = -1
        let more = try session.nextBatch { packets, bytes in
            calls += 1
            packetCount = packets.count
            #expect(bytes.count == 0)
        }
        #expect(more)
        #expect(calls == 1)
        #expect(packetCount == 0)
    }

    /// stop() from another task ends a capture that would otherwise block for a minute.
    @Test func stopEndsABlockingCapture() async throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(
            interface: "lo", timeout: .seconds(60), filter: "udp and port \(port.port)"))
        let stopper = session.stopper
        #expect(!stopper.isStopped)
        let reader = Task.detached { () throws -> (Bool, Bool) in
            let first = try session.nextBatch { _, _ in }
            let second = try session.nextBatch { _, _ in Issue.record("batch after stop") }
            return (first, second)
        }
        try await Task.sleep(for: .milliseconds(200))  // let the reader block in libpcap first
        stopper.stop()
        let (first, second) = try await reader.value
        #expect(!first)
        #expect(!second)
        #expect(stopper.isStopped)
    }

    @Test func durationEndsTheCapture() throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(
            interface: "lo", timeout: .milliseconds(10), filter: "udp and port \(port.port)",
            duration: .milliseconds(50)))
        var batches = 0
        while try session.nextBatch({ _, _ in }) {
            batches += 1
            try #require(batches < 1000, "the duration never ended the capture")
        }
        #expect(try session.nextBatch { _, _ in Issue.record("batch after the end") } == false)
    }

    @Test func unknownInterfaceListsTheAvailableOnes() {
        #expect {
            try LiveCaptureSession(options: LiveCaptureOptions(interface: "fa-nosuch0"))
        } throws: { error in
            guard case .noSuchInterface(let name, let available, let message)? = error as? LiveCaptureError else { return false }
            return name == "fa-nosuch0" && available.contains("lo") && message.contains("No such device")
                && (error as! LiveCaptureError).description.contains("available interfaces:")
        }
    }

    @Test func badFilterOnOpenCarriesLibpcapText() {
        #expect(throws: LiveCaptureError.badFilter(expression: "udp port 99999",
                                                   message: "illegal port number 99999 > 65535")) {
            try LiveCaptureSession(options: LiveCaptureOptions(interface: "lo", filter: "udp port 99999"))
        }
    }
}
