import FuzzSupport

/// The pcapng reader, then the flow table and the application parsers over every packet it
/// yields. An input that does not start with a section header block type gets one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    var bytes = unsafe fuzzInput(data, size)
    let sectionHeader: [UInt8] = [0x0A, 0x0D, 0x0D, 0x0A]
    if !bytes.starts(with: sectionHeader) { bytes = sectionHeader + bytes }
    meterCapture(bytes, name: "fuzz.pcapng")
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzPcapng_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
