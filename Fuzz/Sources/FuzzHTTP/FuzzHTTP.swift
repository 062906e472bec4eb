import FuzzSupport

/// HTTP/1.x request head parsing (request line and Host header).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let bytes = unsafe fuzzInput(data, size)
    if let head = try? HTTPRequestHead.parse(bytes), let host = head.host, host.utf8.count > bytes.count {
        failInvariant(["a Host value longer than the input"], input: "http")
    }
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzHTTP_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
