import FuzzSupport

/// Rule file loading: YAML, the rule schema, and compiling what loads into the matcher.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let text = String(decoding: unsafe fuzzInput(data, size), as: UTF8.self)
    let loaded = PolicyLoader(readFile: { _ in text }).load(site: nil, rules: ["fuzz.yaml"])
    if !loaded.hasErrors { _ = CompiledPolicy(loaded.policy) }
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzRules_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
