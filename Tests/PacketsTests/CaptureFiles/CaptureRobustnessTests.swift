import PacketBuilder
import Testing
@testable import Packets

/// Hostile input: cut at every byte and seeded bit flips never crash, hang or grow without
/// bound, and a cut file yields a prefix of the packets.
@Suite struct CaptureRobustnessTests {
    static func samplePcap() -> [UInt8] {
        var writer = PcapWriter(nanosecondTimestamps: true, byteOrder: .bigEndian)
        for index in 0..<12 { writer.append(frame(index, length: 20 + index * 13), timestamp: Int64(index) * 7) }
        return writer.bytes
    }

    static func samplePcapng() -> [UInt8] {
        var writer = PcapngWriter()
        writer.addInterface(linkType: .ethernet, resolution: .binary(20), timestampOffset: 3, name: "em0")
        writer.addInterface(linkType: .raw, snapshotLength: 50)
        writer.appendEnhancedPacket(interface: 0, timestamp: 9_000_000_000, data: frame(0, length: 61))
        writer.appendSimplePacket(data: frame(1, length: 80))
        writer.appendBlock(type: 0x8000_0001, body: [1, 2, 3])
        writer.beginSection(byteOrder: .bigEndian)
        writer.addInterface(linkType: .linuxSLL, resolution: .nanoseconds)
        writer.appendObsoletePacket(interface: 0, timestamp: 77, data: frame(2, length: 33))
        writer.appendEnhancedPacket(interface: 0, timestamp: 78, data: frame(3, length: 1))
        return writer.bytes
    }

    @Test(arguments: [("cut.pcap", samplePcap()), ("cut.pcapng", samplePcapng())])
    func cuttingAtEveryByteYieldsAPrefix(name: String, bytes: [UInt8]) {
        let (full, _) = readAll(bytes: bytes, name: name)
        #expect(full.error == nil)
        #expect(full.packets.count >= 4)
        let headerLength = name.hasSuffix("pcapng") ? 28 : 24
        for length in 0..<bytes.count {
            let (cut, summary) = readAll(bytes: Array(bytes.prefix(length)), name: name)
            #expect(cut.batchesWellFormed)
            #expect(full.packets.starts(with: cut.packets), "cut at \(length)")
            if length >= headerLength {
                #expect(cut.error == nil, "cut at \(length)")
                #expect((summary?.warnings.count ?? 0) <= 1, "cut at \(length)")
            } else {
                #expect(cut.error != nil, "cut at \(length)")
            }
        }
    }

    @Test(arguments: [("flip.pcap", samplePcap(), UInt64(1)), ("flip.pcapng", samplePcapng(), UInt64(2))])
    func seededBitFlipsNeverCrash(name: String, bytes: [UInt8], seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var errors = 0
        for _ in 0..<3_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let bit = Int.random(in: 0..<(damaged.count * 8), using: &random)
                damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            }
            let (result, _) = readAll(bytes: damaged, name: name)
            #expect(result.batchesWellFormed)
            // Every packet takes at least 12 bytes of the file.
            #expect(result.packets.count <= damaged.count / 12)
            if result.error != nil { errors += 1 }
        }
        // The flips do reach the error paths.
        #expect(errors > 100)
    }

    @Test func hostileTimestampUnitsSaturate() {
        var writer = PcapngWriter()
        writer.addInterface(linkType: .ethernet, resolution: .decimal(0), timestampOffset: Int64.max)
        writer.addInterface(linkType: .ethernet, resolution: .decimal(127), timestampOffset: Int64.min)
        writer.addInterface(linkType: .ethernet, resolution: .binary(127))
        writer.addInterface(linkType: .ethernet, resolution: .binary(0))
        for interface in 0..<4 {
            writer.appendBlock(type: 6, body: [UInt8(interface), 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0])
        }
        let firstPacket = writer.bytes.count - 3 * 32
        writer.appendBlock(type: 6, body: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let (result, summary) = readAll(bytes: writer.bytes, name: "t.pcapng")
        #expect(result.error == nil)
        // Saturated conversions, then clamped into 1970...2106 (the end of pcap's 32-bit seconds).
        let latest = Int64(UInt32.max) * 1_000_000_000 + 999_999_999
        #expect(result.packets.map(\.timestamp) == [latest, 0, 0, latest, latest])
        // Interface 2's 2^-127 s ticks are 0 ns: in range. The others are clamped and counted;
        // only the first is a warning, with its block's offset.
        #expect(summary?.clampedTimestamps == 4)
        #expect(summary?.warnings.count == 1)
        #expect(summary?.warnings.first?.description.hasPrefix("t.pcapng: byte \(firstPacket - 32): timestamp ") == true)
    }
}
