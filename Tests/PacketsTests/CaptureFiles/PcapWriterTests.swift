import Testing
@testable import Packets

@Suite struct PcapWriterTests {
    static let variants: [(Bool, ByteOrder)] = [(false, .littleEndian), (false, .bigEndian), (true, .littleEndian), (true, .bigEndian)]

    @Test(arguments: variants)
    func roundTripsEveryVariant(nanoseconds: Bool, order: ByteOrder) throws {
        var writer = PcapWriter(linkType: .linuxSLL, snapshotLength: 65_535, nanosecondTimestamps: nanoseconds, byteOrder: order)
        let base: Int64 = 1_700_000_000_123_456_789
        let count = 1_300  // more than two batches
        for index in 0..<count {
            writer.append(frame(index, length: imixLength(index)), timestamp: base + Int64(index) * 1_234_567,
                          originalLength: imixLength(index) + index % 3)
        }
        let (result, summary) = readAll(bytes: writer.bytes, name: "v.pcap")
        #expect(result.error == nil)
        #expect(result.batchesWellFormed)
        #expect(result.batches == 3)
        #expect(result.packets.count == count)
        var offset: Int64 = 24
        for (index, packet) in result.packets.enumerated() {
            let exact = base + Int64(index) * 1_234_567
            let expected = nanoseconds ? exact : exact / 1000 * 1000
            #expect(packet.timestamp == expected)
            #expect(packet.data == frame(index, length: imixLength(index)))
            #expect(packet.originalLength == imixLength(index) + index % 3)
            #expect(packet.linkType == .linuxSLL)
            #expect(packet.interface == 0)
            #expect(packet.fileOffset == offset)
            offset += 16 + Int64(imixLength(index))
        }
        let summaryValue = try #require(summary)
        #expect(summaryValue.format == .pcap(byteOrder: order, nanosecondTimestamps: nanoseconds, versionMajor: 2, versionMinor: 4))
        #expect(summaryValue.packets == count)
        #expect(summaryValue.capturedBytes == Int64((0..<count).map(imixLength).reduce(0, +)))
        #expect(summaryValue.originalBytes == Int64((0..<count).map { imixLength($0) + $0 % 3 }.reduce(0, +)))
        #expect(summaryValue.firstTimestamp == result.packets.first?.timestamp)
        #expect(summaryValue.lastTimestamp == result.packets.last?.timestamp)
        #expect(summaryValue.bytesRead == Int64(writer.bytes.count))
        #expect(summaryValue.warnings.isEmpty)
        #expect(summaryValue.interfaces == [CaptureInterface(
            id: 0, linkType: .linuxSLL, snapshotLength: 65_535,
            timestampResolution: nanoseconds ? .nanoseconds : .microseconds, packets: count)])
        #expect(summaryValue.linkTypes.map(\.linkType) == [.linuxSLL])
        #expect(summaryValue.linkTypes.map(\.packets) == [count])
    }

    @Test func headerBytesAreTheStandardOnes() {
        let little = PcapWriter(linkType: .ethernet, snapshotLength: 65_535)
        #expect(little.bytes == [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 1, 0, 0, 0])
        let big = PcapWriter(linkType: .raw, snapshotLength: 65_535, nanosecondTimestamps: true, byteOrder: .bigEndian)
        #expect(big.bytes == [0xA1, 0xB2, 0x3C, 0x4D, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 101])
    }

    @Test func cutsPacketsToTheSnapshotLength() {
        var writer = PcapWriter(snapshotLength: 100)
        writer.append(frame(1, length: 300), timestamp: 5_000_000_000)
        let (result, _) = readAll(bytes: writer.bytes)
        #expect(result.packets.map(\.capturedLength) == [100])
        #expect(result.packets.map(\.originalLength) == [300])
        #expect(result.packets.first?.data == Array(frame(1, length: 300).prefix(100)))
    }

    @Test func clampsTimestampsOutsideTheFileRange() {
        var writer = PcapWriter(nanosecondTimestamps: true)
        writer.append([1], timestamp: -5)
        writer.append([2], timestamp: Int64.max)
        let (result, _) = readAll(bytes: writer.bytes)
        #expect(result.packets.map(\.timestamp) == [0, Int64(UInt32.max) * 1_000_000_000 + 999_999_999])
    }
}
