import Foundation
@testable import Packets

/// A packet as a test sees it: metadata plus a copy of its bytes.
struct ReadPacket: Equatable, CustomStringConvertible {
    var timestamp: Int64
    var capturedLength: Int
    var originalLength: Int
    var linkType: LinkType
    var interface: Int
    var fileOffset: Int64
    var data: [UInt8]

    var description: String {
        "ts=\(timestamp) cap=\(capturedLength) orig=\(originalLength) lt=\(linkType.rawValue) if=\(interface) at=\(fileOffset)"
    }
}

/// Everything a reader handed out, and how it ended.
struct ReadResult {
    var packets: [ReadPacket] = []
    var error: CaptureFileError?
    var batches = 0
    /// False if a batch broke an invariant (empty batch, too many packets, data outside the span).
    var batchesWellFormed = true
}

/// Reads every batch of `reader`, copying the packets out; stops after the first error (and checks
/// that the reader then reports the end).
func readAll(_ reader: CaptureFileReader) -> ReadResult {
    var result = ReadResult()
    while true {
        do {
            let more = try reader.nextBatch { packets, span in
                result.batches += 1
                if packets.isEmpty || packets.count > CaptureFileReader.batchLimit { result.batchesWellFormed = false }
                for packet in packets {
                    guard packet.dataOffset >= 0, packet.capturedLength >= 0,
                          packet.dataOffset + packet.capturedLength <= span.count else {
                        result.batchesWellFormed = false
                        continue
                    }
                    var data: [UInt8] = []
                    data.reserveCapacity(packet.capturedLength)
                    for index in 0..<packet.capturedLength { data.append(span[packet.dataOffset + index]) }
                    result.packets.append(ReadPacket(
                        timestamp: packet.timestamp, capturedLength: packet.capturedLength,
                        originalLength: packet.originalLength, linkType: packet.linkType,
                        interface: packet.interface, fileOffset: packet.fileOffset, data: data))
                }
            }
            if !more { break }
        } catch {
            result.error = error
            // After an error the reader has ended.
            if (try? reader.nextBatch { _, _ in }) != false { result.batchesWellFormed = false }
            break
        }
    }
    return result
}

/// Reads bytes in memory; the open error, if any, is returned as the result's error.
func readAll(bytes: [UInt8], name: String = "test.pcap") -> (ReadResult, CaptureFileSummary?) {
    do {
        let reader = try CaptureFileReader(bytes: bytes, name: name)
        let result = readAll(reader)
        return (result, reader.summary)
    } catch {
        var result = ReadResult()
        result.error = error
        return (result, nil)
    }
}

/// Deterministic packet bytes: packet `index` of `length` bytes.
func frame(_ index: Int, length: Int) -> [UInt8] {
    var state = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ 1
    return (0..<length).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

// SeededGenerator (SplitMix64) comes from PacketBuilder.

/// IMIX-like packet sizes.
func imixLength(_ index: Int) -> Int {
    switch index % 12 {
    case 0..<7: return 60
    case 7..<11: return 576
    default: return 1514
    }
}

/// A fresh directory for one test's files, removed by the caller with `removeTemporaryDirectory`.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "flowaudit-capture-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeTemporaryDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The shared capture corpus: `../shared/corpus` from the package root (or from an ancestor of
/// it, for worktrees nested one level deeper); nil when absent.
let corpusRoot: String? = {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }  // CaptureFiles, PacketsTests, Tests
    for _ in 0..<3 {
        let candidate = directory.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("MANIFEST.tsv").path) {
            return candidate.path
        }
        directory.deleteLastPathComponent()
    }
    return nil
}()

/// One MANIFEST.tsv row.
struct CorpusEntry {
    var file: String
    var format: String
    var byteOrder: String
    var linkTypes: String
    var packets: Int
    var notes: String
}

let corpusManifest: [CorpusEntry] = {
    guard let root = corpusRoot,
          let text = try? String(contentsOfFile: root + "/MANIFEST.tsv", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().compactMap { line in
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 12, let packets = Int(fields[8]) else { return nil }
        return CorpusEntry(file: fields[0], format: fields[5], byteOrder: fields[6], linkTypes: fields[7], packets: packets, notes: fields[11])
    }
}()
