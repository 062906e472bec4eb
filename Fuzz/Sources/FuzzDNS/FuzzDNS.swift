import FuzzSupport

/// DNS messages over UDP and TCP, and the name binding of their answers under the per-message
/// limits: the result never exceeds them, whatever the message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // SAFETY: libFuzzer passes `size` readable bytes at `data`; fuzzInput copies them.
    let bytes = unsafe fuzzInput(data, size)
    let limits = DNSNameLimits()
    for message in [try? DNSMessage.parse(bytes), try? DNSMessage.parse(tcpPayload: bytes)] {
        guard let message else { continue }
        var cuts = DNSNameCuts()
        let bound = message.addressNames(limits: limits, cuts: &cuts)
        if bound.count > limits.addressRecords || bound.contains(where: { $0.names.count > limits.namesPerAddress || $0.names.isEmpty }) {
            failInvariant(["address names beyond the limits: \(bound.count) addresses"], input: "dns")
        }
        if cuts.addresses < 0 || cuts.aliases < 0 || cuts.addresses > message.answers.count || cuts.aliases > message.answers.count {
            failInvariant(["cut counts out of range: \(cuts)"], input: "dns")
        }
    }
    return 0
}

/// The entry point SwiftPM links `main` to: libFuzzer's driver over `fuzz`.
@_cdecl("FuzzDNS_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    // SAFETY: the process's own argc and argv, passed on unchanged.
    unsafe runFuzzer(argc, argv, fuzz)
}
