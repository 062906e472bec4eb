import Foundation
import Testing
@testable import Packets

/// gzip and zstd inputs through the reader: every buffer size and both opening modes (a file
/// that would be mapped is read through the decompressor) give the plain file's packets, and a
/// cut gives an error after the packets before it.
@Suite struct CompressedInputTests {
    static func compress(_ tool: String, _ arguments: [String], _ path: String) throws -> String {
        let output = path + (tool.hasSuffix("gzip") ? ".gz" : ".zst")
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments + [path]
        process.standardOutput = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        #expect(process.terminationStatus == 0)
        return output
    }

    static let tools: [(String, [String], CaptureCompression)] = [
        ("/bin/gzip", ["-c"], .gzip), ("/usr/bin/zstd", ["-q", "-c"], .zstd),
    ]

    @Test(arguments: [4_096, 10_000, 1 << 20])
    func compressedGivesThePlainPackets(bufferSize: Int) throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        for (name, bytes) in ByteSourceTests.sources() {
            let path = directory + "/" + name
            try ByteSource.writeFile(path: path, bytes: bytes, append: false)
            let (expected, _) = readAll(bytes: bytes, name: path)
            for (tool, arguments, compression) in Self.tools where FileManager.default.isExecutableFile(atPath: tool) {
                let compressed = try Self.compress(tool, arguments, path)
                for mapFiles in [false, true] {
                    let reader = try CaptureFileReader.open(path: compressed, mapFiles: mapFiles, bufferSize: bufferSize)
                    let read = readAll(reader)
                    #expect(read.error == nil, "\(compressed) \(mapFiles)")
                    #expect(read.batchesWellFormed)
                    #expect(read.packets == expected.packets, "\(compressed) buffer \(bufferSize) map \(mapFiles)")
                    #expect(reader.summary.compression == compression)
                    #expect(reader.summary.bytesRead == Int64(bytes.count))
                    #expect(reader.summary.compressedBytesRead == Int64(try Data(contentsOf: URL(fileURLWithPath: compressed)).count))
                }
            }
        }
    }

    @Test func cutGzipEndsWithAnErrorAfterThePacketsBeforeIt() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let bytes = ByteSourceTests.bigPcap()
        let path = directory + "/big.pcap"
        try ByteSource.writeFile(path: path, bytes: bytes, append: false)
        let compressed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Self.compress("/bin/gzip", ["-c"], path))))
        let cutAt = compressed.count / 2
        let cut = directory + "/cut.pcap.gz"
        try ByteSource.writeFile(path: cut, bytes: Array(compressed[..<cutAt]), append: false)
        let (expected, _) = readAll(bytes: bytes, name: path)
        let reader = try CaptureFileReader.open(path: cut)
        let read = readAll(reader)
        let error = try #require(read.error)
        guard case .corruptCompression(let errorPath, let format, let compressedOffset, let offset, _) = error else {
            Issue.record("expected a compression error, got \(error)")
            return
        }
        #expect(errorPath == cut && format == "gzip" && compressedOffset == Int64(cutAt))
        #expect(offset > 0 && offset < Int64(bytes.count))
        #expect(!read.packets.isEmpty && read.packets.count < expected.packets.count)
        #expect(Array(expected.packets.prefix(read.packets.count)) == read.packets, "the packets before the cut, intact")
        #expect(reader.summary.error == error)
    }
}
