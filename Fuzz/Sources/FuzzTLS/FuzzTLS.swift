import FuzzSupport

/// TLS ClientHello and ServerHello parsing (records, handshake, extensions).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let bytes = unsafe fuzzInput(data, size)
    if case .client(let hello)? = try? TLSHello.parse(bytes), let name = hello.serverName, name.utf8.count > 65_535 {
        failInvariant(["server name longer than its extension can hold"], input: "tls")
    }
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzTLS_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
