import Flows
import Foundation
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

// Real inputs for the tests of the audit's parts: the demo rule file of AuditorTests compiled
// with a small site, frames written by PacketBuilder, decoded by the real decoder, and flows
// metered by the real flow meter.

/// The demo rule file (``ruleFile``) and a site binding its roles, plus `extraSite` lines,
/// loaded and compiled.
func demoPolicy(extraSite: String = "") throws -> CompiledPolicy {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-parts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try ruleFile.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
    let site = """
    site: test
    rules: [demo.yaml]
    roles:
      app: [10.1.0.10]
      directory: [10.1.0.2]
      clients: [10.2.0.0/24]

    """ + extraSite
    try site.write(to: folder.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
    let loaded = PolicyLoader().load(site: folder.appendingPathComponent("site.yaml").path, rules: [])
    #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
    return CompiledPolicy(loaded.policy)
}

/// A frame decoded as the flow meter decodes it, with its capture time.
struct DecodedFrame {
    var timestamp: Int64
    var bytes: [UInt8]
    var packet: DecodedPacket
}

/// Decodes Ethernet frames; only those carrying payload when `payloadOnly`.
func decode(_ frames: [TimedFrame], payloadOnly: Bool = true) -> [DecodedFrame] {
    frames.compactMap { timed in
        var packet = DecodedPacket()
        _ = PacketDecoder.decode(timed.frame.span, linkType: .ethernet, wireLength: timed.frame.count, into: &packet)
        if payloadOnly && packet.payloadCapturedLength == 0 { return nil }
        return DecodedFrame(timestamp: timed.timestamp, bytes: timed.frame, packet: packet)
    }
}

/// Hands each payload packet of `frames` to `parsers` as the flow meter would, as flow `id`;
/// a packet is from the initiator when its source is `initiator`.
func feed(_ frames: [TimedFrame], flow id: UInt64, initiator: IPAddress, to parsers: inout PayloadParsers, names: inout NameBinder) {
    for frame in decode(frames) {
        parsers.inspect(flow: id, at: frame.timestamp, fromInitiator: frame.packet.source == initiator, packet: frame.packet,
                        frame: frame.bytes.span, names: &names)
    }
}

/// The flows the real flow meter makes of `frames`, in the order they ended.
func meterFlows(_ frames: [TimedFrame]) -> [Flow] {
    let sink = FlowCollector()
    var meter = FlowMeter(seed: 1, observer: sink)
    for timed in frames {
        let record = CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                    originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0)
        meter.processPacket(record, timed.frame.span)
        meter.expireIdleFlows()
    }
    meter.finish()
    return sink.flows
}

/// The one flow of `frames`.
func meterFlow(_ frames: [TimedFrame]) throws -> Flow {
    let flows = meterFlows(frames)
    #expect(flows.count == 1)
    return try #require(flows.first)
}

/// A name binder that learned the DNS answers in `frames` (a resolver's replies).
func binder(learning frames: [TimedFrame] = [], policy: CompiledPolicy? = nil, graceSeconds: Int? = nil) -> NameBinder {
    var names = NameBinder(graceSeconds: graceSeconds ?? policy?.dnsGrace ?? SiteBinding.defaultDNSGrace,
                           siteNames: policy?.policy.site?.names ?? [])
    var parsers = PayloadParsers(detectsServices: false)
    feed(frames, flow: 1, initiator: app, to: &parsers, names: &names)
    return names
}

/// A DNS exchange in which the resolver answers that `name` is `address`.
func dnsAnswer(_ name: String, _ address: IPAddress, at time: Int64, ttl: UInt32 = 300) -> [TimedFrame] {
    talk.udpExchange(client: Endpoint(app, 40000), server: Endpoint(resolver, 53), at: time,
                     request: DNSPayload.query(name: name).bytes(),
                     response: DNSPayload.response(name: name, answers: [.a(name, address, ttl: ttl)]).bytes())
}
