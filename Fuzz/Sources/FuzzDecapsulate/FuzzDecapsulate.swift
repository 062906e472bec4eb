import FuzzSupport
import PacketBuilder

/// The outer packets the first byte of each record selects (modulo the count): each carries the
/// record's bytes as the payload a tunnel detector reads (tunnel header and inner packet).
let outers: [@Sendable ([UInt8]) -> [UInt8]] = {
    let v4 = Frame.ethernet().ipv4(source: "192.0.2.1", destination: "192.0.2.2")
    let v6 = Frame.ethernet().ipv6(source: "2001:db8::1", destination: "2001:db8::2")
    return [
        { v4.udp(sourcePort: 49152, destinationPort: 4789, payload: $0) },   // VXLAN
        { v4.udp(sourcePort: 49152, destinationPort: 4790, payload: $0) },   // VXLAN-GPE
        { v4.udp(sourcePort: 49152, destinationPort: 6081, payload: $0) },   // Geneve
        { v4.udp(sourcePort: 2152, destinationPort: 2152, payload: $0) },    // GTP-U
        { v6.udp(sourcePort: 3544, destinationPort: 50000, payload: $0) },   // Teredo
        { v4.payload(protocol: 47, $0) },                                     // GRE, ERSPAN, PPTP
        { v6.payload(protocol: 47, $0) },
        { v4.payload(protocol: 4, $0) },                                      // IP in IP
        { v6.payload(protocol: 41, $0) },
        { Frame.ethernet().wrap($0, etherType: 0x8847) },                     // MPLS, pseudowires
        { Frame.ethernet().wrap($0, etherType: 0x8864) },                     // PPPoE session
    ]
}()

/// Decapsulation: tunnel detection and validation, inner decoding at any depth, and the flows
/// of outer and inner packets, without a capture file around them. The input is a run of
/// records `[outer selector][length, 2 bytes big-endian][payload]`; the flow invariants (every
/// packet and every inner packet accounted for once) are checked at the end.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let bytes = unsafe fuzzInput(data, size)
    var frames: [[UInt8]] = []
    var offset = 0
    while bytes.count - offset >= 3 {
        let selector = Int(bytes[offset]) % outers.count
        let length = min(Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]), bytes.count - offset - 3)
        frames.append(outers[selector](Array(bytes[(offset + 3)..<(offset + 3 + length)])))
        offset += 3 + length
    }
    var packets: [CapturedPacket] = []
    var joined: [UInt8] = []
    var time: Int64 = 1_700_000_000_000_000_000
    for frame in frames {
        time += 1_000_000
        packets.append(CapturedPacket(timestamp: time, capturedLength: frame.count, originalLength: frame.count,
                                      linkType: .ethernet, interface: 0, dataOffset: joined.count, fileOffset: 0))
        joined += frame
    }
    meterPackets(packets, bytes: joined, input: "decapsulate")
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzDecapsulate_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
