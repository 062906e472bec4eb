import Testing
@testable import Packets

@Suite struct PcapngWriterTests {
    @Test(arguments: [ByteOrder.littleEndian, .bigEndian])
    func roundTripsOneSection(order: ByteOrder) throws {
        var writer = PcapngWriter(byteOrder: order)
        writer.addInterface(linkType: .ethernet, snapshotLength: 0, name: "eth0")
        let base: Int64 = 1_600_000_000_000_001_000
        for index in 0..<700 {
            writer.appendEnhancedPacket(interface: 0, timestamp: base + Int64(index) * 1_000,
                                        data: frame(index, length: imixLength(index)))
        }
        let (result, summary) = readAll(bytes: writer.bytes, name: "one.pcapng")
        #expect(result.error == nil)
        #expect(result.batchesWellFormed)
        #expect(result.packets.count == 700)
        for (index, packet) in result.packets.enumerated() {
            #expect(packet.timestamp == base + Int64(index) * 1_000)
            #expect(packet.data == frame(index, length: imixLength(index)))
            #expect(packet.linkType == .ethernet)
        }
        let value = try #require(summary)
        let expectedFormat: CaptureFormat = order == .littleEndian
            ? .pcapng(littleEndianSections: 1, bigEndianSections: 0) : .pcapng(littleEndianSections: 0, bigEndianSections: 1)
        #expect(value.format == expectedFormat)
        #expect(value.interfaces.map(\.name) == ["eth0"])
        #expect(value.interfaces.map(\.packets) == [700])
        #expect(value.bytesRead == Int64(writer.bytes.count))
    }

    /// Two sections of different byte order, several interfaces with their own link types, units
    /// and offsets, all three packet block kinds and an unknown block.
    @Test func roundTripsSectionsInterfacesAndBlockKinds() throws {
        let second: Int64 = 1_000_000_000
        let base: Int64 = 1_700_000_000 * second
        var writer = PcapngWriter(byteOrder: .bigEndian)
        writer.addInterface(linkType: .ethernet, snapshotLength: 1_500, resolution: .milliseconds, name: "eth0")
        writer.addInterface(linkType: .raw, resolution: .nanoseconds, timestampOffset: 1_000, name: "tun0")
        writer.addInterface(linkType: .linuxSLL, resolution: .binary(20))
        writer.appendEnhancedPacket(interface: 0, timestamp: base + 123_456_789, data: frame(0, length: 2_000))
        writer.appendBlock(type: 0x0BAD_F00D, body: [1, 2, 3, 4, 5])
        writer.appendEnhancedPacket(interface: 1, timestamp: base + 2 * second + 987_654_321, data: frame(1, length: 40))
        writer.appendEnhancedPacket(interface: 2, timestamp: base + 3 * second + 3 * 15_625_000, data: frame(2, length: 70))
        writer.appendSimplePacket(data: frame(3, length: 64))
        writer.appendObsoletePacket(interface: 1, timestamp: base + 4 * second + 1, data: frame(4, length: 90), originalLength: 1_000)
        writer.beginSection(byteOrder: .littleEndian)
        writer.addInterface(linkType: .ipv4, snapshotLength: 128, resolution: .microseconds)
        writer.addInterface(linkType: .null)
        writer.appendEnhancedPacket(interface: 1, timestamp: base + 5 * second + 7_000, data: frame(5, length: 50))
        writer.appendSimplePacket(data: frame(6, length: 300))
        writer.appendEnhancedPacket(interface: 0, timestamp: base + 6 * second + 8_999, data: frame(7, length: 20))

        let (result, summary) = readAll(bytes: writer.bytes, name: "mixed.pcapng")
        #expect(result.error == nil)
        #expect(result.batchesWellFormed)
        let expected: [(Int64, Int, Int, LinkType, Int, [UInt8])] = [
            (base + 123_000_000, 1_500, 2_000, .ethernet, 0, Array(frame(0, length: 2_000).prefix(1_500))),
            (base + 2 * second + 987_654_321, 40, 40, .raw, 1, frame(1, length: 40)),
            (base + 3 * second + 3 * 15_625_000, 70, 70, .linuxSLL, 2, frame(2, length: 70)),
            (base + 3 * second + 3 * 15_625_000, 64, 64, .ethernet, 0, frame(3, length: 64)),  // SPB: previous time
            (base + 4 * second + 1, 90, 1_000, .raw, 1, frame(4, length: 90)),
            (base + 5 * second + 7_000, 50, 50, .null, 4, frame(5, length: 50)),
            (base + 5 * second + 7_000, 128, 300, .ipv4, 3, Array(frame(6, length: 300).prefix(128))),
            (base + 6 * second + 8_000, 20, 20, .ipv4, 3, frame(7, length: 20)),
        ]
        #expect(result.packets.count == expected.count)
        for (packet, want) in zip(result.packets, expected) {
            #expect(packet.timestamp == want.0)
            #expect(packet.capturedLength == want.1)
            #expect(packet.originalLength == want.2)
            #expect(packet.linkType == want.3)
            #expect(packet.interface == want.4)
            #expect(packet.data == want.5)
        }
        let value = try #require(summary)
        #expect(value.format == .pcapng(littleEndianSections: 1, bigEndianSections: 1))
        #expect(value.interfaces.map(\.id) == [0, 1, 2, 3, 4])
        #expect(value.interfaces.map(\.section) == [0, 0, 0, 1, 1])
        #expect(value.interfaces.map(\.idInSection) == [0, 1, 2, 0, 1])
        #expect(value.interfaces.map(\.name) == ["eth0", "tun0", nil, nil, nil])
        #expect(value.interfaces.map(\.linkType) == [.ethernet, .raw, .linuxSLL, .ipv4, .null])
        #expect(value.interfaces.map(\.snapshotLength) == [1_500, 0, 0, 128, 0])
        #expect(value.interfaces.map(\.timestampResolution) == [.milliseconds, .nanoseconds, .binary(20), .microseconds, .microseconds])
        #expect(value.interfaces.map(\.timestampOffset) == [0, 1_000, 0, 0, 0])
        #expect(value.interfaces.map(\.packets) == [2, 2, 1, 2, 1])
        #expect(value.linkTypes.map(\.linkType) == [.null, .ethernet, .raw, .linuxSLL, .ipv4])
        #expect(value.linkTypes.map(\.packets) == [1, 2, 2, 1, 2])
        #expect(value.packets == 8)
        #expect(value.capturedBytes == Int64(expected.map(\.1).reduce(0, +)))
        #expect(value.originalBytes == Int64(expected.map(\.2).reduce(0, +)))
        #expect(value.firstTimestamp == base + 123_000_000)
        #expect(value.lastTimestamp == base + 6 * second + 8_000)
        #expect(value.warnings.isEmpty)
    }

    @Test func writesTheSectionHeaderAsTheSpecificationShowsIt() {
        let writer = PcapngWriter(byteOrder: .bigEndian)
        #expect(writer.bytes == [0x0A, 0x0D, 0x0D, 0x0A, 0, 0, 0, 28, 0x1A, 0x2B, 0x3C, 0x4D, 0, 1, 0, 0,
                                 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 28])
    }
}
