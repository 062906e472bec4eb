import FuzzSupport

/// A fixed, valid rule file for the site bindings to refer to.
let ruleFile = """
system: demo
title: Demo
source: Demo
roles:
  app: { description: App, monitored: true }
  license: { names: [license.vendor.example] }
  directory: { description: Directory }
rules:
  - id: license
    from: app
    to: license
    services: [tcp/443]
    required: true
  - id: smtp
    from: app
    to: directory
    services: [tcp/587]
    alternatives: [tcp/25, tcp/465]
"""

/// Site binding loading: YAML, the site schema, binding roles of a fixed rule file, and
/// compiling what loads into the matcher.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let text = String(decoding: unsafe fuzzInput(data, size), as: UTF8.self)
    let loader = PolicyLoader(readFile: { path in path.hasSuffix("site.yaml") ? text : ruleFile })
    let loaded = loader.load(site: "/fuzz/site.yaml", rules: [])
    if !loaded.hasErrors { _ = CompiledPolicy(loaded.policy) }
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzSite_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
