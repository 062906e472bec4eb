import Flows
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

@Suite struct PayloadParsersTests {
    @Test func aDNSAnswerFromPort53BindsItsNamesAndTeachesTheFlowNothing() {
        var parsers = PayloadParsers(detectsServices: false)
        var names = NameBinder(graceSeconds: 60)
        feed(dnsAnswer("License.Vendor.Example", licenseAddress, at: t0), flow: 7, initiator: app, to: &parsers, names: &names)
        #expect(names.names(of: licenseAddress, from: t0, to: t0) == ["license.vendor.example"])
        #expect(parsers.extras.isEmpty && parsers.malformed.isEmpty)
    }

    @Test func malformedAnswersAreCountedButTheSameBytesSentToPort53AreNotRead() {
        var parsers = PayloadParsers(detectsServices: false)
        var names = NameBinder(graceSeconds: 60)
        // A client sending the resolver a pointer loop: a query direction, never read.
        let toResolver = talk.udpStream(source: Endpoint(app, 40000), destination: Endpoint(resolver, 53), at: t0,
                                        payloads: [DNSPayload.pointerLoop()])
        feed(toResolver, flow: 1, initiator: app, to: &parsers, names: &names)
        #expect(parsers.malformed.isEmpty)
        // The resolver answering with it: read, refused, counted.
        let fromResolver = talk.udpStream(source: Endpoint(resolver, 53), destination: Endpoint(app, 40001), at: t0,
                                          payloads: [DNSPayload.pointerLoop()])
        feed(fromResolver, flow: 2, initiator: resolver, to: &parsers, names: &names)
        #expect(parsers.malformed.values.reduce(0, +) == 1)
        #expect(names.table.bindings.isEmpty)
    }

    @Test func tlsHellosGiveTheServerNameAndBothVersions() throws {
        var parsers = PayloadParsers(detectsServices: false)
        var names = NameBinder(graceSeconds: 60)
        let session = talk.tcpSession(client: Endpoint(app, 40002), server: Endpoint(licenseAddress, 443), at: t0,
                                      clientData: [TLSPayload.legacyClientHello(serverName: "license.vendor.example", version: .tls11)],
                                      serverData: [TLSPayload.serverHello(legacyVersion: .tls10)])
        feed(session, flow: 3, initiator: app, to: &parsers, names: &names)
        let extra = try #require(parsers.extras(of: 3))
        #expect(extra.serverName == "license.vendor.example")
        #expect(extra.offeredTLS == 0x0302 && extra.chosenTLS == 0x0301 && extra.tlsVersion == 0x0301)
        #expect(extra.services.isEmpty)  // the audit does not recognise services
        // Taken once, when the flow ends.
        #expect(parsers.take(3) != nil && parsers.take(3) == nil)
        // An SNI is the flow's own claim, not a binding of the address.
        #expect(names.table.bindings.isEmpty)
    }

    @Test func anHTTPHostIsReadFromTheInitiatorOnly() {
        var parsers = PayloadParsers(detectsServices: false)
        var names = NameBinder(graceSeconds: 60)
        let request = HTTPPayload.get(host: "Portal.Example:8443")
        let asked = talk.tcpSession(client: Endpoint(clientHost, 40003), server: Endpoint(app, 8443), at: t0, clientData: [request])
        feed(asked, flow: 4, initiator: clientHost, to: &parsers, names: &names)
        #expect(parsers.extras(of: 4)?.httpHost == "portal.example")  // the port dropped
        // The same bytes sent by the responder are not a request.
        let echoed = talk.tcpSession(client: Endpoint(clientHost, 40004), server: Endpoint(app, 8443), at: t0, serverData: [request])
        feed(echoed, flow: 5, initiator: clientHost, to: &parsers, names: &names)
        #expect(parsers.extras(of: 5) == nil)
    }

    @Test func servicesAreRecognisedOnlyWhenAsked() {
        let session = talk.tcpSession(client: Endpoint(clientHost, 40005), server: Endpoint(app, 8080), at: t0,
                                      clientData: [HTTPPayload.get(host: "app.example")], serverData: [HTTPPayload.okResponse()])
        var flows = PayloadParsers(detectsServices: true)
        var names = NameBinder(graceSeconds: 60)
        feed(session, flow: 6, initiator: clientHost, to: &flows, names: &names)
        #expect(flows.extras(of: 6)?.services.map(\.rawValue) == ["http"])
        #expect(flows.extras(of: 6)?.httpHost == "app.example")
        var audit = PayloadParsers(detectsServices: false)
        feed(session, flow: 6, initiator: clientHost, to: &audit, names: &names)
        #expect(audit.extras(of: 6)?.services == [])
    }

    @Test func theFlowsCommandsInspectorUsesTheSameParsers() throws {
        // `flows` and the audit read one payload the same way: names from DNS, then SNI.
        let inspector = FlowInspector()
        let frames = TimedFrame.merge([
            dnsAnswer("license.vendor.example", licenseAddress, at: t0),
            talk.tcpSession(client: Endpoint(app, 40006), server: Endpoint(licenseAddress, 443), at: t0 + s,
                            clientData: [TLSPayload.clientHello(serverName: "Other.Example")]),
        ])
        let rows = FactsCollector(inspector)
        var configuration = FlowMeterConfiguration()
        configuration.inspectedPacketsPerFlow = FlowInspector.inspectedPacketsPerFlow
        var meter = FlowMeter(configuration: configuration, seed: 1, observer: rows)
        for timed in frames {
            meter.processPacket(CapturedPacket(timestamp: timed.timestamp, capturedLength: timed.frame.count,
                                               originalLength: timed.frame.count, linkType: .ethernet, dataOffset: 0, fileOffset: 0),
                                timed.frame.span)
        }
        meter.finish()
        let facts = rows.facts
        let tls = try #require(facts.first { $0.service == "tls" })
        #expect(tls.names == ["license.vendor.example", "other.example"])
        #expect(tls.tlsVersion == 0x0304)
        #expect(facts.contains { $0.service == "dns" })
        #expect(inspector.names.names(of: licenseAddress, from: t0, to: t0 + s) == ["license.vendor.example"])
    }
}

/// What `flowaudit flows` does with its inspector: payload packets in, facts out as flows end.
final class FactsCollector: FlowObserver {
    let inspector: FlowInspector
    var facts: [FlowFacts] = []

    init(_ inspector: FlowInspector) { self.inspector = inspector }

    var inspectsPayload: Bool { true }
    func flowEnded(_ flow: borrowing Flow) { facts.append(inspector.end(flow)) }
    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        inspector.inspect(copy flow, fromInitiator: fromInitiator, packet: copy packet, frame: frame)
    }
}
