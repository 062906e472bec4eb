// swift-tools-version: 6.2
// libFuzzer targets for every untrusted input flowaudit reads (docs/fuzzing.md). A package of its
// own, so `swift build` and `swift test` of the main package never build them; `scripts/fuzz
// TARGET SECONDS` builds one in release with `-sanitize=fuzzer,address` and runs it.
import PackageDescription

let strict: [SwiftSetting] = [
    .strictMemorySafety(),
    .treatWarning("StrictMemorySafety", as: .error),
]

/// One executable per input; libFuzzer supplies `main`, the target `LLVMFuzzerTestOneInput`.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"], swiftSettings: strict)
}

let package = Package(
    name: "flowaudit-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "flowaudit", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "FlowauditFuzzable", package: "flowaudit")],
            swiftSettings: strict
        ),
        fuzzTarget("FuzzPcap"),
        fuzzTarget("FuzzPcapng"),
        fuzzTarget("FuzzDecode"),
        .executableTarget(name: "FuzzDecapsulate", dependencies: ["FuzzSupport", .product(name: "FlowauditFuzzable", package: "flowaudit")],
                          swiftSettings: strict),
        fuzzTarget("FuzzDNS"),
        fuzzTarget("FuzzTLS"),
        fuzzTarget("FuzzHTTP"),
        fuzzTarget("FuzzRules"),
        fuzzTarget("FuzzSite"),
    ]
)
