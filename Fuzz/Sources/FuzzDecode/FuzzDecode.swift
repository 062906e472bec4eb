import FuzzSupport

/// Link types the first byte of each record selects (modulo the count).
let linkTypes: [LinkType] = [.ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .loop, .ipv4, .ipv6, LinkType(rawValue: 127)]

/// Link, IP, TCP, UDP and ICMP decoding and the flow table, without a capture file around them.
/// The input is a run of records `[link selector][time step][length, 2 bytes big-endian][frame]`;
/// each record is one packet, `time step` milliseconds after the previous one (255: one hour, so
/// idle expiry runs too). The flow invariants are checked at the end.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let bytes = unsafe fuzzInput(data, size)
    var packets: [CapturedPacket] = []
    var offset = 0
    var time: Int64 = 1_700_000_000_000_000_000
    while bytes.count - offset >= 4 {
        let selector = Int(bytes[offset]) % linkTypes.count
        let step = bytes[offset + 1]
        let length = min(Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]), bytes.count - offset - 4)
        time += step == 255 ? 3_600_000_000_000 : Int64(step) * 1_000_000
        // The original length sometimes exceeds the captured one (snaplen), as in real files.
        let original = length + (step & 1 == 1 ? Int(step) : 0)
        packets.append(CapturedPacket(timestamp: time, capturedLength: length, originalLength: original,
                                      linkType: linkTypes[selector], interface: 0, dataOffset: offset + 4,
                                      fileOffset: Int64(offset)))
        offset += 4 + length
    }
    meterPackets(packets, bytes: bytes, input: "decode")
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzDecode_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
