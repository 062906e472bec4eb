// Test helpers: an independent one's-complement sum, field readers, a minimal pcap writer and
// a tshark runner (tests that use it are skipped when tshark is not installed).

import Foundation
import Packets
import PacketBuilder

/// The one's-complement sum of `bytes` as 16-bit big-endian words, folded (RFC 1071), written
/// here without the builder's code so it checks the builder independently.
func onesComplementSum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt16 {
    var sum = initial
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let high = UInt32(bytes[index]) << 8
        let low = index + 1 < bytes.endIndex ? UInt32(bytes[index + 1]) : 0
        sum += high | low
        sum = (sum & 0xFFFF) + (sum >> 16)
        index += 2
    }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return UInt16(sum)
}

/// The pseudo-header words summed (not folded), for TCP/UDP/ICMPv6 checks.
func pseudoHeader(source: [UInt8], destination: [UInt8], protocol proto: UInt8, length: Int) -> UInt32 {
    var words: [UInt8] = source + destination
    if source.count == 4 {
        words += [0, proto, UInt8(length >> 8), UInt8(length & 0xFF)]
    } else {
        words += [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), 0, 0, 0, proto]
    }
    return UInt32(onesComplementSum(words[...]))
}

func be16(_ bytes: [UInt8], _ offset: Int) -> UInt16 { UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1]) }
func be32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

/// Writes a little-endian microsecond pcap file of `frames` with `linkType`.
func writePcap(_ frames: [TimedFrame], linkType: LinkType, to url: URL) throws {
    var out: [UInt8] = []
    func le32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) } }
    le32(0xA1B2_C3D4)
    out += [2, 0, 4, 0]
    le32(0); le32(0); le32(262_144); le32(linkType.rawValue)
    for frame in frames {
        le32(UInt32(frame.timestamp / 1_000_000_000))
        le32(UInt32(frame.timestamp % 1_000_000_000 / 1000))
        le32(UInt32(frame.frame.count)); le32(UInt32(frame.frame.count))
        out += frame.frame
    }
    try Data(out).write(to: url)
}

let tsharkPath: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Decodes `frames` with tshark and returns, per frame, the requested fields (tab separated
/// columns, `aggregator` `,` for repeated fields). Checksum validation is turned on.
func tsharkFields(_ frames: [TimedFrame], linkType: LinkType, fields: [String]) throws -> [[String]] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-builder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("frames.pcap")
    try writePcap(frames, linkType: linkType, to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tsharkPath ?? "/usr/bin/tshark")
    var arguments = ["-n", "-r", file.path, "-T", "fields", "-E", "separator=\t", "-E", "aggregator=,",
                     "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
    for field in fields { arguments += ["-e", field] }
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = directory.path     // keep tshark away from any user profile
    process.environment = environment
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    return text.split(separator: "\n", omittingEmptySubsequences: true).map {
        $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

/// An address from text (traps on invalid text: test inputs are constants).
func ip(_ text: String) -> IPAddress { IPAddress(parsing: text) }
