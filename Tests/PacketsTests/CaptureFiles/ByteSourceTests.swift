import Foundation
import Testing
@testable import Packets

/// Window and buffer edges: files larger than the mapping window, records larger than the window
/// or the read buffer, and pipes, all give the same packets as reading from memory.
@Suite struct ByteSourceTests {
    /// A pcap file of IMIX packets with a few 20,000-byte ones (larger than an 8 KiB window).
    static func bigPcap() -> [UInt8] {
        var writer = PcapWriter(snapshotLength: 65_535, byteOrder: .bigEndian)
        for index in 0..<3_000 {
            let length = index % 500 == 250 ? 20_000 : imixLength(index)
            writer.append(frame(index, length: length), timestamp: Int64(index) * 1_000)
        }
        return writer.bytes
    }

    static func bigPcapng() -> [UInt8] {
        var writer = PcapngWriter()
        writer.addInterface(linkType: .ethernet)
        writer.addInterface(linkType: .raw, resolution: .nanoseconds)
        for index in 0..<3_000 {
            if index == 1_500 {
                writer.beginSection(byteOrder: .bigEndian)
                writer.addInterface(linkType: .linuxSLL2)
                writer.appendBlock(type: 0x0000_0BAD, body: [UInt8](repeating: 7, count: 30_000))
            }
            let length = index % 500 == 250 ? 20_000 : imixLength(index)
            if index < 1_500 {
                writer.appendEnhancedPacket(interface: index % 2, timestamp: Int64(index) * 1_000, data: frame(index, length: length))
            } else {
                writer.appendEnhancedPacket(interface: 0, timestamp: Int64(index) * 1_000, data: frame(index, length: length))
            }
        }
        return writer.bytes
    }

    static func sources() -> [(String, [UInt8])] { [("big.pcap", bigPcap()), ("big.pcapng", bigPcapng())] }

    @Test(arguments: [4_096, 8_192, 65_536, 1 << 20])
    func mappedWindowsGiveTheSamePacketsAsMemory(windowSize: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        for (name, bytes) in Self.sources() {
            let path = directory + "/" + name
            try ByteSource.writeFile(path: path, bytes: bytes, append: false)
            let (expected, _) = readAll(bytes: bytes, name: path)
            #expect(expected.packets.count == 3_000)
            let reader = try CaptureFileReader.open(path: path, mapFiles: true, windowSize: windowSize)
            let mapped = readAll(reader)
            #expect(mapped.error == nil)
            #expect(mapped.batchesWellFormed)
            #expect(mapped.packets == expected.packets)
            #expect(reader.summary.bytesRead == Int64(bytes.count))
            #expect(reader.summary.warnings.isEmpty)
        }
    }

    @Test(arguments: [4_096, 10_000, 1 << 20])
    func bufferedReadsGiveTheSamePacketsAsMemory(bufferSize: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        for (name, bytes) in Self.sources() {
            let path = directory + "/" + name
            try ByteSource.writeFile(path: path, bytes: bytes, append: false)
            let (expected, _) = readAll(bytes: bytes, name: path)
            let reader = try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: bufferSize)
            let read = readAll(reader)
            #expect(read.error == nil)
            #expect(read.batchesWellFormed)
            #expect(read.packets == expected.packets)
        }
    }

    /// A holder that keeps a batch's buffer (a reader thread handing batches on without copying
    /// them) finds its bytes unchanged however far the reader went on, through compactions and
    /// growth for records larger than the buffer; buffers given back are reused.
    @Test(arguments: [4_096, 10_000])
    func heldBuffersKeepTheirBytes(bufferSize: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        for (name, bytes) in Self.sources() {
            let path = directory + "/" + name
            try ByteSource.writeFile(path: path, bytes: bytes, append: false)
            let (expected, _) = readAll(bytes: bytes, name: path)
            let reader = try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: bufferSize)
            // Every batch held to the end: its records and its buffer.
            var held: [(packets: [CapturedPacket], buffer: ReadBuffer, offset: Int, count: Int)] = []
            while try reader.nextBatch({ batch, view in
                let (buffer, offset) = reader.batchBuffer!
                held.append((Array(copy batch), buffer, offset, view.count))
            }) {}
            var data: [[UInt8]] = []
            for batch in held {
                batch.buffer.withBytes(offset: batch.offset, count: batch.count) { view in
                    for packet in batch.packets {
                        data.append((packet.dataRange).map { view[$0] })
                    }
                }
            }
            #expect(data.count == expected.packets.count)
            #expect(data == expected.packets.map(\.data), "\(name): a held batch's bytes changed")
            #expect(Set(held.map { ObjectIdentifier($0.buffer) }).count > 1, "the reader went on in other buffers")

            // Three batches held at a time: the reader reuses the buffers given back.
            let again = try CaptureFileReader.open(path: path, mapFiles: false, bufferSize: bufferSize)
            var window: [(packets: [CapturedPacket], buffer: ReadBuffer, offset: Int)] = []
            var seen = Set<ObjectIdentifier>()
            var checked = 0
            while try again.nextBatch({ batch, _ in
                let (buffer, offset) = again.batchBuffer!
                seen.insert(ObjectIdentifier(buffer))
                window.append((Array(copy batch), buffer, offset))
            }) {
                if window.count > 3 {
                    let oldest = window.removeFirst()
                    let last = oldest.packets[oldest.packets.count - 1]
                    oldest.buffer.withBytes(offset: oldest.offset, count: last.dataOffset + last.capturedLength) { view in
                        for packet in oldest.packets {
                            #expect(packet.dataRange.map { view[$0] } == expected.packets[checked].data)
                            checked += 1
                        }
                    }
                }
            }
            #expect(checked > expected.packets.count / 2)
            #expect(seen.count <= 3 + 1 + 8, "buffers are reused, not made per batch (\(seen.count))")
        }
    }

    @Test func aTruncatedMappedFileWarnsLikeMemory() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let bytes = Array(Self.bigPcap().dropLast(7))
        let path = directory + "/cut.pcap"
        try ByteSource.writeFile(path: path, bytes: bytes, append: false)
        let (expected, expectedSummary) = readAll(bytes: bytes, name: path)
        let reader = try CaptureFileReader.open(path: path, mapFiles: true, windowSize: 4_096)
        let mapped = readAll(reader)
        #expect(mapped.packets == expected.packets)
        #expect(mapped.packets.count == 2_999)
        #expect(reader.summary.warnings == expectedSummary?.warnings)
        #expect(reader.summary.warnings.count == 1)
    }

    /// A FIFO fed by `cat`: the stream path, as for `tcpdump -w - | flowaudit audit -`.
    @Test func aPipeGivesTheSamePacketsAsTheMappedFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        for (name, bytes) in Self.sources() {
            let path = directory + "/" + name
            try ByteSource.writeFile(path: path, bytes: bytes, append: false)
            let fifo = directory + "/fifo-" + name
            // SAFETY: `fifo` is passed as a NUL-terminated C string valid for the call.
            #expect(unsafe mkfifo(fifo, 0o600) == 0)
            let cat = Process()
            cat.executableURL = URL(fileURLWithPath: "/bin/sh")
            cat.arguments = ["-c", "exec cat \"$0\" > \"$1\"", path, fifo]
            try cat.run()
            let piped = try CaptureFileReader.open(path: fifo, mapFiles: true, bufferSize: 8_192)
            let fromPipe = readAll(piped)
            cat.waitUntilExit()
            let mapped = readAll(try CaptureFileReader.open(path: path, mapFiles: true))
            #expect(fromPipe.error == nil)
            #expect(fromPipe.batchesWellFormed)
            #expect(fromPipe.packets.count == 3_000)
            #expect(fromPipe.packets == mapped.packets)
            #expect(piped.summary.bytesRead == Int64(bytes.count))
        }
    }

    @Test func writeFileAppends() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        var writer = PcapWriter()
        writer.append(frame(0, length: 10), timestamp: 1)
        let path = directory + "/a.pcap"
        try writer.write(to: path)
        writer.bytes.removeAll()
        writer.append(frame(1, length: 20), timestamp: 2)
        try writer.write(to: path, appending: true)
        let read = readAll(try CaptureFileReader.open(path: path))
        #expect(read.packets.map(\.capturedLength) == [10, 20])
        #expect(throws: CaptureFileError.self) { try writer.write(to: directory + "/missing/a.pcap") }
    }
}
