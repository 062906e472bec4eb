@_exported import Flows
@_exported import Packets
@_exported import Policy

/// The input libFuzzer hands a target, copied into an array (inputs are small).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard size > 0, let data = unsafe data else { return [] }
    // SAFETY: libFuzzer guarantees `size` readable bytes at `data` for the duration of the call,
    // and the array copies them before it returns.
    return unsafe Array(UnsafeBufferPointer(start: data, count: size))
}

/// Ends the run with the problems found, so libFuzzer keeps the input as a crash.
public func failInvariant(_ problems: [String], input: String) -> Never {
    fatalError("invariant broken on \(input): " + problems.joined(separator: "; "))
}

/// Meters `packets` (pointing into `bytes`) with a small table (64 flows, 16 fragment entries,
/// payload inspection on) in two batches, so idle expiry between batches and the batched lookup
/// path both run, and checks ``FlowInvariants`` at the end.
public func meterPackets(_ packets: [CapturedPacket], bytes: [UInt8], input: String) {
    let invariants = FuzzObserver(parseAll: false)
    var configuration = FlowMeterConfiguration()
    configuration.inspectedPacketsPerFlow = 4
    configuration.maximumFlows = 64
    configuration.maximumFragmentEntries = 16
    var meter = FlowMeter(configuration: configuration, seed: 1, observer: invariants)
    let half = packets.count / 2
    meter.process(Array(packets[..<half]), bytes.span)
    meter.process(Array(packets[half...]), bytes.span)
    meter.finish()
    let problems = invariants.check(meter.statistics, packetsRead: packets.count)
    if !problems.isEmpty { failInvariant(problems, input: input) }
}

/// Reads `bytes` as a capture file, meters every packet into a flow table with the default
/// configuration and payload inspection on, and checks ``FlowInvariants`` at the end.
public func meterCapture(_ bytes: [UInt8], name: String) {
    guard let reader = try? CaptureFileReader(bytes: bytes, name: name) else { return }
    let invariants = FuzzObserver(parseAll: true)
    var configuration = FlowMeterConfiguration()
    configuration.inspectedPacketsPerFlow = 4
    configuration.maximumFlows = 4_096
    configuration.maximumFragmentEntries = 256
    var meter = FlowMeter(configuration: configuration, seed: 1, observer: invariants)
    var packets = 0
    while true {
        do {
            let more = try reader.nextBatch { batch, view in
                packets += batch.count
                meter.process(batch, view)
            }
            if !more { break }
        } catch {
            let summary = reader.summary
            if summary.error == nil { failInvariant(["an error was thrown but not recorded: \(error)"], input: name) }
            break
        }
    }
    let summary = reader.summary
    meter.finish()
    var problems = invariants.check(meter.statistics, packetsRead: packets)
    if summary.packets != packets { problems.append("summary counts \(summary.packets) packets, \(packets) were handed out") }
    if let first = summary.firstTimestamp, let last = summary.lastTimestamp {
        for time in [first, last] where time < 0 || time > Int64(UInt32.max) * 1_000_000_000 + 999_999_999 {
            problems.append("timestamp \(time) outside the clamped range")
        }
    }
    if !problems.isEmpty { failInvariant(problems, input: name) }
}

/// The fuzz targets' flow observer: checks ``FlowInvariants`` of every ended flow and hands each
/// inspected frame to the application parsers, as the audit would.
final class FuzzObserver: FlowObserver {
    let invariants = FlowInvariants()
    /// DNS alone (false) or DNS, TLS and HTTP (true).
    let parseAll: Bool

    init(parseAll: Bool) { self.parseAll = parseAll }

    var inspectsPayload: Bool { true }

    func flowEnded(_ flow: borrowing Flow) { invariants.flowEnded(flow) }

    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        _ = try? DNSMessage.parse(frame)
        guard parseAll else { return }
        _ = try? TLSHello.parse(frame)
        _ = try? HTTPRequestHead.parse(frame)
    }

    func check(_ statistics: FlowMeterStatistics, packetsRead: Int) -> [String] {
        invariants.check(statistics, packetsRead: packetsRead)
    }
}

/// libFuzzer's driver (`LLVMFuzzerRunDriver`, in libclang_rt.fuzzer): parses libFuzzer's flags
/// and runs `callback` on every input.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The program's entry point: SwiftPM links an executable target's `main` to `<Target>_main`,
/// which each target defines by calling this with its `LLVMFuzzerTestOneInput`.
public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
    var count = argc
    var arguments = unsafe argv
    // SAFETY: argc and argv are the process's own, valid for its lifetime; libFuzzer reads them
    // (and may rewrite the local copies) during the call.
    return unsafe withUnsafeMutablePointer(to: &count) { countPointer in
        unsafe withUnsafeMutablePointer(to: &arguments) { argumentsPointer in
            unsafe llvmFuzzerRunDriver(countPointer, argumentsPointer, callback)
        }
    }
}
