import Foundation
import LiveCapture
import Packets
import Testing

/// Why the namespace test cannot run here, or nil.
let namespaceReplayPrerequisitesMissing: String? = {
    if !runningAsRoot { return "needs root to create a network namespace" }
    for tool in ["/usr/sbin/ip", "/usr/bin/tcpreplay"] where !FileManager.default.isExecutableFile(atPath: tool) {
        return "needs \(tool) (iproute2, tcpreplay)"
    }
    if !FileManager.default.isReadableFile(atPath: NamespaceReplayTests.capture) {
        return "needs the corpus capture \(NamespaceReplayTests.capture)"
    }
    return nil
}()

/// Replays a corpus capture into a veth pair of a network namespace made for this test
/// (scripts/netns-setup, scripts/netns-replay) and captures it on the root-side end.
@Suite(.enabled(if: namespaceReplayPrerequisitesMissing == nil,
                "needs root, iproute2 (ip), tcpreplay and the corpus capture"))
struct NamespaceReplayTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts")
    static let capture = "/work/shared/corpus/OISF-suricata-verify/pcaps/20250129-dns-with-additionals.pcap"

    /// Runs one of the scripts with the namespace names in its environment.
    static func run(_ script: String, _ arguments: [String], names: [String: String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = scripts.appendingPathComponent(script)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(names) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The packet records of a little-endian microsecond pcap file: (original length, bytes).
    static func records(ofPcap path: String) throws -> [(Int, [UInt8])] {
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func word(_ at: Int) -> Int { Int(file[at]) | Int(file[at + 1]) << 8 | Int(file[at + 2]) << 16 | Int(file[at + 3]) << 24 }
        try #require(Array(file[0..<4]) == [0xd4, 0xc3, 0xb2, 0xa1])
        var result: [(Int, [UInt8])] = []
        var offset = 24
        while offset + 16 <= file.count {
            let captured = word(offset + 8)
            result.append((word(offset + 12), Array(file[(offset + 16)..<(offset + 16 + captured)])))
            offset += 16 + captured
        }
        return result
    }

    @Test func replayedPacketsArriveUnchangedAndAlone() throws {
        let suffix = String(getpid() % 100_000)
        let names = ["FA_NETNS": "fa-t\(suffix)", "FA_VETH_HOST": "fa-h\(suffix)", "FA_VETH_NS": "fa-n\(suffix)"]
        let (setupStatus, setupOutput) = try Self.run("netns-setup", [], names: names)
        defer { _ = try? Self.run("netns-teardown", [], names: names) }
        try #require(setupStatus == 0, "netns-setup: \(setupOutput)")
        // Running it twice keeps the same setup.
        #expect(try Self.run("netns-setup", [], names: names).0 == 0)

        let host = names["FA_VETH_HOST"]!
        #expect(try LiveInterface.interfaces().contains { $0.name == host && $0.isUp })
        let session = try LiveCaptureSession(options: LiveCaptureOptions(interface: host, timeout: .milliseconds(50)))
        #expect(session.linkType == .ethernet)

        let (replayStatus, replayOutput) = try Self.run("netns-replay", [Self.capture, "--topspeed"], names: names)
        try #require(replayStatus == 0, "netns-replay: \(replayOutput)")

        let expected = try Self.records(ofPcap: Self.capture)
        try #require(expected.count == 2)
        var seen: [(CapturedPacket, [UInt8])] = []
        for _ in 0..<100 where seen.count < expected.count {
            _ = try session.nextBatch { packets, bytes in
                for packet in packets {
                    var copy: [UInt8] = []
                    for index in packet.dataOffset..<(packet.dataOffset + packet.capturedLength) { copy.append(bytes[index]) }
                    seen.append((packet, copy))
                }
            }
        }
        // The pair is quiet: one more wait brings nothing the kernel made up.
        _ = try session.nextBatch { packets, _ in
            for packet in packets { seen.append((packet, [])) }
        }
        try #require(seen.count == expected.count)
        for ((packet, bytes), (originalLength, original)) in zip(seen, expected) {
            #expect(packet.originalLength == originalLength)
            #expect(bytes == original)
        }
        let statistics = try session.statistics()
        #expect(statistics.received == 2)
        #expect(statistics.droppedByKernel == 0)
        #expect(statistics.delivered == 2)

        // Rejected options are not passed to tcpreplay.
        #expect(try Self.run("netns-replay", [Self.capture, "--intf2=eth0"], names: names).0 == 2)
    }
}
