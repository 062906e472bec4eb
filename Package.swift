// swift-tools-version: 6.2
import PackageDescription

/// Every target builds with strict memory safety as an error: `unsafe` appears only where a
/// `// SAFETY:` note justifies it (the mmap file source, LiveCapture, the flow table's prefetch hints).
let strict: [SwiftSetting] = [
    .strictMemorySafety(),
    .treatWarning("StrictMemorySafety", as: .error),
]

let package = Package(
    name: "flowaudit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flowaudit", targets: ["flowaudit"]),
        .executable(name: "flowaudit-gen", targets: ["flowaudit-gen"]),
        // For the fuzz targets (Fuzz/, a package of its own that depends on this one by path).
        .library(name: "FlowauditFuzzable", targets: ["Packets", "Flows", "Policy", "PacketBuilder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // SHA-256 for the evidence manifest at hardware speed (BoringSSL's assembly, SHA-NI).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Live mode: the metrics endpoint (HTTP) and TLS syslog (RFC 5425).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // Prometheus exposition of the live counters (--metrics-listen).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // CSV of findings (audit --format csv): RFC 4180 quoting.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // The HTML and JUnit reports (audit --format html, junit): Mustache templates, escaped for
        // HTML or XML.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Compressed captures (.gz, .zst), read as streams: zlib's inflate and zstd's streaming
        // decoder. compress-nio covers zlib only, and its decompressor cannot tell the end of a
        // gzip member from input that stops inside one (both return without error), which a
        // reader must to report a truncated file.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Capture files (plain, gzip or zstd), header views and decoding. No libpcap.
        .target(name: "Packets", dependencies: ["CZlib", "CZstd"], swiftSettings: strict),
        // The CPU's prefetch hint, for the flow table's batched lookups (C: Swift has no spelling).
        .target(name: "CPrefetch"),
        // The CPUs a process may use (sched_getaffinity), for the default of --threads.
        .target(name: "CAffinity"),
        // Flow key, flow table, connection state, initiator inference, idle eviction.
        .target(name: "Flows", dependencies: ["Packets", "CPrefetch"], swiftSettings: strict),
        // Rule files and site bindings, address and service sets, the compiled matcher.
        .target(name: "Policy", dependencies: ["Packets", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // The pipeline: source -> decode -> flows -> names -> verdicts; findings and report model
        // (with the PolicySummary that the renderers read instead of the Policy).
        .target(
            name: "Audit",
            dependencies: ["Packets", "Flows", "Policy", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Renderers (text, JSON, JUnit XML, SARIF, CSV, HTML, JSON Lines, live event lines) and
        // report comparison and merging. They read report data only (the AuditReport and its
        // PolicySummary): no Policy, no sockets.
        .target(
            name: "Reports",
            dependencies: [
                "Packets", "Flows", "Audit",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Live event delivery over the network and to files: the event sinks with their queues
        // and counters, syslog over UDP, TCP and TLS (RFC 5424/5425/6587). The only module besides
        // the executable that uses NIO.
        .target(
            name: "Delivery",
            dependencies: [
                "Packets", "Audit", "Reports",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Workflows that need the compiled policy and are not reports: packet extraction
        // (`extract`) and drafting a rule file from traffic (`learn`).
        .target(
            name: "Workflows",
            dependencies: ["Packets", "Flows", "Policy", "Audit", "Reports"],
            swiftSettings: strict
        ),
        // The only module that imports CPcap: live interfaces, BPF (live and offline), kernel drop counts.
        .target(name: "LiveCapture", dependencies: ["CPcap", "Packets"], swiftSettings: strict),
        // Frame and capture builder: tests, the scenario generator and the benchmarks use it.
        .target(name: "PacketBuilder", dependencies: ["Packets"], swiftSettings: strict),
        .executableTarget(
            name: "flowaudit",
            dependencies: [
                "Packets", "Flows", "Policy", "Audit", "Reports", "Delivery", "Workflows", "LiveCapture", "CAffinity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "flowaudit-gen",
            dependencies: [
                "Packets", "PacketBuilder", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "PacketsTests", dependencies: ["Packets", "PacketBuilder"], swiftSettings: strict),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "Packets", "PacketBuilder"], swiftSettings: strict),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "Packets", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Policy", "Flows", "Packets", "PacketBuilder"], swiftSettings: strict),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Audit", "Flows", "Packets", "Policy", "PacketBuilder"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DeliveryTests",
            dependencies: ["Delivery", "Reports", "Audit", "Flows", "Packets", "PacketBuilder"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WorkflowsTests",
            dependencies: ["Workflows", "Reports", "Audit", "Flows", "Packets", "Policy", "PacketBuilder"],
            swiftSettings: strict
        ),
        .testTarget(name: "LiveCaptureTests", dependencies: ["LiveCapture", "Packets", "PacketBuilder"], swiftSettings: strict),
        .testTarget(name: "FlowauditCLITests", dependencies: ["Packets", "PacketBuilder"], swiftSettings: strict),
    ]
)
