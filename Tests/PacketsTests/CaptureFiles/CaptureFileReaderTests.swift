import Foundation
import Testing
@testable import Packets

/// Bad input: every case ends with its own error or warning, after every packet before it.
@Suite struct CaptureFileReaderTests {
    /// Five 100-byte packets in a little-endian µs pcap; record k starts at 24 + 116 k.
    static func fivePackets() -> [UInt8] {
        var writer = PcapWriter()
        for index in 0..<5 { writer.append(frame(index, length: 100), timestamp: Int64(index) * 1_000_000_000) }
        return writer.bytes
    }

    static func patch32(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32, bigEndian: Bool = false) {
        for index in 0..<4 {
            let shift = bigEndian ? 24 - 8 * index : 8 * index
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt32(shift))
        }
    }

    @Test func missingFile() {
        #expect(throws: CaptureFileError.notFound(path: "/nonexistent/capture.pcap")) {
            try CaptureFileReader.open(path: "/nonexistent/capture.pcap")
        }
        #expect(CaptureFileError.notFound(path: "x.pcap").description == "x.pcap: no such file")
    }

    @Test func directory() {
        #expect(throws: CaptureFileError.isDirectory(path: "/tmp")) { try CaptureFileReader.open(path: "/tmp") }
    }

    @Test func emptyFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory + "/empty.pcap"
        try PcapWriter().write(to: path)
        try ByteSource.writeFile(path: path, bytes: [], append: false)
        #expect(throws: CaptureFileError.empty(path: path)) { try CaptureFileReader.open(path: path) }
        #expect(throws: CaptureFileError.empty(path: path)) { try CaptureFileReader.open(path: path, mapFiles: true) }
        #expect(throws: CaptureFileError.empty(path: "m")) { try CaptureFileReader(bytes: [], name: "m") }
    }

    @Test func notACapture() {
        let html = Array("<!DOCTYPE html>".utf8)
        let error = CaptureFileError.notACapture(path: "capture.pcap", magic: [0x3C, 0x21, 0x44, 0x4F])
        #expect(throws: error) { try CaptureFileReader(bytes: html, name: "capture.pcap") }
        #expect(error.description == "capture.pcap: not a pcap or pcapng file (first bytes 3c 21 44 4f)")
        #expect(throws: CaptureFileError.notACapture(path: "-", magic: [0xD4, 0xC3])) {
            try CaptureFileReader(bytes: [0xD4, 0xC3], name: "-")
        }
        #expect(CaptureFileError.notACapture(path: "-", magic: [0xD4, 0xC3]).description
            == "standard input: not a pcap or pcapng file (first bytes d4 c3)")
    }

    @Test func fileShorterThanItsHeader() {
        let header = Array(PcapWriter().bytes.prefix(10))
        let error = CaptureFileError.badFileHeader(path: "short.pcap", offset: 0,
                                                   reason: "input ends after 10 bytes, inside the 24-byte pcap file header")
        #expect(throws: error) { try CaptureFileReader(bytes: header, name: "short.pcap") }
        #expect(error.description == "short.pcap: byte 0: input ends after 10 bytes, inside the 24-byte pcap file header")

        let section = Array(PcapngWriter().bytes.prefix(20))
        let (result, _) = readAll(bytes: section, name: "short.pcapng")
        #expect(result.packets.isEmpty)
        #expect(result.error == .badFileHeader(path: "short.pcapng", offset: 0,
                                               reason: "input ends after 20 bytes, inside the 28-byte section header block"))
    }

    @Test func headerOnlyFileHasNoPackets() throws {
        let (result, summary) = readAll(bytes: PcapWriter().bytes)
        #expect(result.error == nil && result.packets.isEmpty && result.batches == 0)
        #expect(try #require(summary).warnings.isEmpty)
    }

    @Test func truncatedLastRecordIsAWarning() throws {
        let bytes = Array(Self.fivePackets().dropLast(20))
        let (result, summary) = readAll(bytes: bytes, name: "cut.pcap")
        #expect(result.error == nil)
        #expect(result.packets.count == 4)
        let warning = CaptureFileWarning.truncatedRecord(path: "cut.pcap", offset: 24 + 4 * 116, available: 96, length: 116)
        #expect(try #require(summary).warnings == [warning])
        #expect(warning.description == "cut.pcap: file ends 96 bytes into a 116-byte record at offset 488")
        #expect(summary?.error == nil)

        // Ending inside a record header.
        let (headerCut, headerSummary) = readAll(bytes: Array(Self.fivePackets().prefix(24 + 116 + 10)), name: "cut.pcap")
        #expect(headerCut.packets.count == 1 && headerCut.error == nil)
        #expect(headerSummary?.warnings == [.truncatedRecord(path: "cut.pcap", offset: 140, available: 10, length: 16)])
    }

    @Test func corruptRecordLengthEndsTheFileAfterThePacketsBeforeIt() throws {
        var bytes = Self.fivePackets()
        Self.patch32(&bytes, at: 24 + 3 * 116 + 8, 300_000)
        let reader = try CaptureFileReader(bytes: bytes, name: "bad.pcap")
        var counts: [Int] = []
        #expect(try reader.nextBatch { packets, _ in counts.append(packets.count) })
        #expect(counts == [3])
        let error = CaptureFileError.badRecordLength(path: "bad.pcap", offset: 372, length: 300_000,
                                                     reason: "record captured length 300000 exceeds the maximum 262144")
        #expect(throws: error) { try reader.nextBatch { _, _ in counts.append(-1) } }
        #expect(try reader.nextBatch { _, _ in counts.append(-1) } == false)
        #expect(counts == [3])
        #expect(reader.summary.error == error)
        #expect(reader.summary.packets == 3)
        #expect(error.description == "bad.pcap: byte 372: record captured length 300000 exceeds the maximum 262144")
    }

    @Test func corruptFirstRecordThrowsAtOnce() {
        var bytes = Self.fivePackets()
        Self.patch32(&bytes, at: 24 + 8, 0xFFFF_FFFF)
        let (result, _) = readAll(bytes: bytes, name: "bad.pcap")
        #expect(result.batches == 0)
        #expect(result.error?.offset == 24)
    }

    @Test func pcapSnapshotLengthAboveTheDefaultRaisesTheRecordLimit() {
        var writer = PcapWriter(snapshotLength: 1_000_000)
        writer.append(frame(0, length: 300_000), timestamp: 0)
        let (result, _) = readAll(bytes: writer.bytes)
        #expect(result.error == nil && result.packets.map(\.capturedLength) == [300_000])
    }

    @Test func pcapVersionsAreReadTheWayLibpcapReadsThem() throws {
        var bytes = Self.fivePackets()
        bytes[4] = 1; bytes[6] = 4  // 1.4: libpcap rejects it, and so do we
        #expect(throws: CaptureFileError.badFileHeader(path: "v.pcap", offset: 4, reason: "unsupported pcap version 1.4 (expected 2.4)")) {
            try CaptureFileReader(bytes: bytes, name: "v.pcap")
        }
        bytes[4] = 2; bytes[6] = 5  // 2.5: accepted, warned
        let (newer, newerSummary) = readAll(bytes: bytes, name: "v.pcap")
        #expect(newer.packets.count == 5)
        #expect(newerSummary?.warnings == [.unusualVersion(path: "v.pcap", major: 2, minor: 5)])
        // 2.2: caplen and len are in the old order (len first).
        var old = PcapWriter()
        old.append(frame(0, length: 60), timestamp: 0, originalLength: 1_000)
        var oldBytes = old.bytes
        oldBytes[6] = 2
        Self.patch32(&oldBytes, at: 24 + 8, 1_000)
        Self.patch32(&oldBytes, at: 24 + 12, 60)
        let (swapped, _) = readAll(bytes: oldBytes)
        #expect(swapped.packets.map(\.capturedLength) == [60])
        #expect(swapped.packets.map(\.originalLength) == [1_000])
    }

    @Test func linkTypeIsTheLowSixteenBitsOfItsField() throws {
        var bytes = Self.fivePackets()
        Self.patch32(&bytes, at: 20, 0x3400_0001)  // FCS length 3, FCS-present bit, Ethernet
        let (fcs, fcsSummary) = readAll(bytes: bytes)
        #expect(fcs.packets.allSatisfy { $0.linkType == .ethernet })
        #expect(fcsSummary?.warnings == [])
        Self.patch32(&bytes, at: 20, 0x0030_0000)  // reserved bits: warned, link type 0
        let (reserved, reservedSummary) = readAll(bytes: bytes, name: "r.pcap")
        #expect(reserved.packets.allSatisfy { $0.linkType == .null })
        #expect(reservedSummary?.warnings == [.reservedLinkTypeBits(path: "r.pcap", field: 0x0030_0000)])
    }

    // MARK: pcapng

    /// SHB (28 bytes), IDB (20), then three 100-byte EPBs (132 bytes each, at 48, 180, 312).
    static func threeBlocks(order: ByteOrder = .littleEndian) -> [UInt8] {
        var writer = PcapngWriter(byteOrder: order)
        writer.addInterface(linkType: .ethernet)
        for index in 0..<3 { writer.appendEnhancedPacket(interface: 0, timestamp: Int64(index), data: frame(index, length: 100)) }
        return writer.bytes
    }

    @Test(arguments: [
        (UInt32(7), "enhanced packet block length 7 is not a multiple of 4"),
        (UInt32(24), "enhanced packet block length 24 is less than the minimum 32"),
        (UInt32(17 << 20), "enhanced packet block length 17825792 exceeds the maximum 16777216"),
        (UInt32(136), "enhanced packet block length 136 disagrees with its trailing length 6"),  // reads the next block's type
    ])
    func corruptBlockLength(length: UInt32, reason: String) throws {
        // The middle block's length is impossible: reported, and the walk resumes at the next
        // sound block (the third, at 312).
        var bytes = Self.threeBlocks()
        Self.patch32(&bytes, at: 180 + 4, length)
        let (result, summary) = readAll(bytes: bytes, name: "x.pcapng")
        #expect(result.error == nil)
        #expect(result.packets.count == 2)
        let warning = CaptureFileWarning.resynchronised(path: "x.pcapng", offset: 180, resumedAt: 312, problem: reason)
        #expect(summary?.warnings == [warning])
        #expect(summary?.skippedBlocks == 1)
        #expect(warning.description == "x.pcapng: byte 180: \(reason); skipped 132 bytes to the next sound block, at byte 312")

        // The last block's length is impossible: no sound block follows, so it ends the input
        // as an error, after the packets before it.
        var last = Self.threeBlocks()
        Self.patch32(&last, at: 312 + 4, length == 136 ? 128 : length)
        let (cut, cutSummary) = readAll(bytes: last, name: "x.pcapng")
        #expect(cut.packets.count == 2)
        #expect(cut.error?.offset == 312)
        #expect(cutSummary?.error == cut.error)
        #expect(cut.error != nil)
    }

    @Test func unknownBlockShorterThanAnyBlock() {
        var bytes = Self.threeBlocks()
        Self.patch32(&bytes, at: 180, 0x0BAD)
        Self.patch32(&bytes, at: 184, 8)
        let (result, summary) = readAll(bytes: bytes, name: "x.pcapng")
        #expect(result.error == nil)
        #expect(summary?.warnings == [.resynchronised(path: "x.pcapng", offset: 180, resumedAt: 312,
                                                      problem: "block length 8 is less than the minimum 12")])
        #expect(result.packets.count == 2)
    }

    // A block whose length is sound but whose content is not costs that block only: it is
    // reported with its offset and skipped, and the blocks after it are read.

    @Test func capturedLengthBeyondItsBlockSkipsThatBlock() {
        var bytes = Self.threeBlocks(order: .bigEndian)
        Self.patch32(&bytes, at: 312 + 20, 101, bigEndian: true)
        bytes += Array(Self.threeBlocks(order: .bigEndian)[312...])  // one more good packet after it
        let (result, summary) = readAll(bytes: bytes, name: "x.pcapng")
        #expect(result.error == nil)
        #expect(result.packets.count == 3)
        #expect(summary?.skippedBlocks == 1)
        let warning = CaptureFileWarning.skippedBlock(
            path: "x.pcapng", offset: 312, reason: "enhanced packet block captured length 101 exceeds the block's 100 bytes of packet data")
        #expect(summary?.warnings == [warning])
        #expect(warning.description == "x.pcapng: byte 312: enhanced packet block captured length 101 exceeds the block's "
                + "100 bytes of packet data; block skipped")
    }

    @Test func packetOnAnUndeclaredInterfaceSkipsThatBlock() {
        var bytes = Self.threeBlocks()
        Self.patch32(&bytes, at: 312 + 8, 5)
        bytes += Array(Self.threeBlocks()[312...])
        let (result, summary) = readAll(bytes: bytes, name: "x.pcapng")
        #expect(result.error == nil)
        #expect(result.packets.count == 3)
        #expect(summary?.warnings == [.skippedBlock(path: "x.pcapng", offset: 312, reason: "packet block names interface 5, "
                                                   + "which no Interface Description Block of its section declares")])

        // Interface numbers restart with each section.
        var writer = PcapngWriter()
        writer.addInterface(linkType: .ethernet)
        writer.addInterface(linkType: .ethernet)
        writer.beginSection(byteOrder: .littleEndian)
        writer.addInterface(linkType: .ethernet)
        writer.appendBlock(type: 6, body: [1, 0, 0, 0] + [UInt8](repeating: 0, count: 16))  // interface 1
        let (restart, restartSummary) = readAll(bytes: writer.bytes, name: "y.pcapng")
        #expect(restart.packets.isEmpty)
        #expect(restartSummary?.warnings.map(\.description) == ["y.pcapng: byte 116: packet block names interface 1, which no "
                                                                + "Interface Description Block of its section declares; block skipped"])

        // A simple packet block needs interface 0.
        var noInterface = PcapngWriter()
        noInterface.appendBlock(type: 3, body: [4, 0, 0, 0, 1, 2, 3, 4])
        let (simple, simpleSummary) = readAll(bytes: noInterface.bytes, name: "z.pcapng")
        #expect(simple.error == nil)
        #expect(simpleSummary?.skippedBlocks == 1)
        #expect(simpleSummary?.warnings == [.skippedBlock(path: "z.pcapng", offset: 28,
                                                         reason: "simple packet block before any Interface Description Block of its section")])
    }

    @Test func truncatedLastBlockIsAWarning() throws {
        let bytes = Array(Self.threeBlocks().dropLast(50))
        let (result, summary) = readAll(bytes: bytes, name: "x.pcapng")
        #expect(result.error == nil)
        #expect(result.packets.count == 2)
        #expect(summary?.warnings == [.truncatedRecord(path: "x.pcapng", offset: 312, available: 82, length: 132)])
    }

    @Test func badSectionHeaders() {
        var order = Self.threeBlocks()
        order[8] = 0x11
        let (badOrder, _) = readAll(bytes: order, name: "x.pcapng")
        #expect(badOrder.error == .badFileHeader(path: "x.pcapng", offset: 0,
                                                 reason: "section header byte-order magic 11 3c 2b 1a is not 1a 2b 3c 4d in either order"))
        var writer = PcapngWriter()
        writer.addInterface(linkType: .ethernet)
        writer.appendEnhancedPacket(interface: 0, timestamp: 0, data: [1, 2, 3])
        let secondSection = writer.bytes.count
        writer.beginSection(byteOrder: .bigEndian)
        var bytes = writer.bytes
        bytes[secondSection + 12 + 1] = 2  // version 2.0
        let (version, _) = readAll(bytes: bytes, name: "v.pcapng")
        #expect(version.packets.count == 1)
        #expect(version.error == .badFileHeader(path: "v.pcapng", offset: Int64(secondSection),
                                                reason: "unsupported pcapng section header version 2.0 (expected 1.0)"))
        bytes[secondSection + 12 + 1] = 1
        bytes[secondSection + 14 + 1] = 1  // 1.1: read, warned
        let (minor, minorSummary) = readAll(bytes: bytes, name: "v.pcapng")
        #expect(minor.error == nil && minor.packets.count == 1)
        #expect(minorSummary?.warnings == [.unusualSectionVersion(path: "v.pcapng", offset: Int64(secondSection), major: 1, minor: 1)])
    }

    @Test func optionOverrunKeepsTheInterface() throws {
        var writer = PcapngWriter()
        writer.addInterface(linkType: .raw, resolution: .nanoseconds)
        writer.appendEnhancedPacket(interface: 0, timestamp: 5, data: [0x45])
        var bytes = writer.bytes
        bytes[28 + 16 + 2] = 200  // if_tsresol option claims 200 bytes
        let (result, summary) = readAll(bytes: bytes, name: "o.pcapng")
        #expect(result.error == nil)
        #expect(result.packets.map(\.timestamp) == [5_000])  // the resolution option was dropped: microseconds
        #expect(summary?.warnings == [.optionOverrun(path: "o.pcapng", offset: 28, blockType: 1)])
    }

    @Test func tooManyInterfaces() {
        var writer = PcapngWriter()
        for _ in 0...CaptureFileReader.maximumInterfaces { writer.addInterface(linkType: .ethernet) }
        let (result, summary) = readAll(bytes: writer.bytes, name: "many.pcapng")
        let offset = Int64(28 + 20 * CaptureFileReader.maximumInterfaces)
        #expect(result.error == .tooManyInterfaces(path: "many.pcapng", offset: offset, limit: CaptureFileReader.maximumInterfaces))
        #expect(summary?.interfaces.count == CaptureFileReader.maximumInterfaces)
    }

    @Test func warningsAreCapped() throws {
        var writer = PcapngWriter()
        for index in 0..<150 {
            writer.beginSection(byteOrder: .littleEndian)
            _ = index
        }
        var bytes = writer.bytes
        for section in 0..<151 { bytes[section * 28 + 14] = 3 }  // version 1.3 everywhere
        let (_, summary) = readAll(bytes: bytes, name: "w.pcapng")
        let value = try #require(summary)
        #expect(value.warnings.count == CaptureFileSummary.warningLimit)
        #expect(value.omittedWarnings == 151 - CaptureFileSummary.warningLimit)
        #expect(value.format == .pcapng(littleEndianSections: 151, bigEndianSections: 0))
    }
}
