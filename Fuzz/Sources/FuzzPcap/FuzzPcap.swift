import FuzzSupport

/// The four pcap magic numbers (micro/nanoseconds, either byte order).
let magics: [[UInt8]] = [[0xD4, 0xC3, 0xB2, 0xA1], [0xA1, 0xB2, 0xC3, 0xD4], [0x4D, 0x3C, 0xB2, 0xA1], [0xA1, 0xB2, 0x3C, 0x4D]]

/// The pcap reader, then the flow table and the application parsers over every packet it
/// yields. An input that does not start with a pcap magic number gets one (chosen by its first
/// byte, which it replaces), so every input exercises the pcap walk.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    var bytes = unsafe fuzzInput(data, size)
    guard let first = bytes.first else { return 0 }
    if !magics.contains(where: { bytes.starts(with: $0) }) {
        bytes = magics[Int(first % 4)] + bytes.dropFirst()
    }
    meterCapture(bytes, name: "fuzz.pcap")
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzPcap_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
