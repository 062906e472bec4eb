import Flows
import Packets
import Policy

/// What a flow is, as far as its first payload packets tell without a policy: the application
/// protocol, the names it was reached by and its TLS version (`flowaudit flows`).
public struct FlowFacts: Sendable, Equatable {
    /// Application protocols recognised, comma separated as in Zeek's `service`; nil for none.
    public var service: String?
    /// Names of the responder: DNS answers seen in the capture before or during the flow, the
    /// flow's TLS SNI and HTTP Host (lower case, in that order, without repeats).
    public var names: [String] = []
    /// The TLS version negotiated (or the highest offered when no ServerHello was seen).
    public var tlsVersion: UInt16?

    public init(service: String? = nil, names: [String] = [], tlsVersion: UInt16? = nil) {
        self.service = service
        self.names = names
        self.tlsVersion = tlsVersion
    }
}

/// The payload inspection of `flowaudit flows`: the audit's payload parsers (DNS answers, TLS
/// hellos, HTTP request heads) with application protocol recognition (``ServiceDetector``)
/// switched on, feeding a name binder without a site, from the first
/// ``inspectedPacketsPerFlow`` payload packets of each flow.
public final class FlowInspector {
    /// Payload packets of a flow looked at (the audit's number).
    public static let inspectedPacketsPerFlow = PayloadParsers.inspectedPacketsPerFlow

    var parsers = PayloadParsers(detectsServices: true)
    var binder: NameBinder
    /// Names learned from DNS answers.
    public var names: NameTable { binder.table }
    /// Messages that could not be parsed, by reason (DNS and TLS parse errors).
    public var malformed: [String: Int] { parsers.malformed }

    public init(dnsGraceSeconds: Int = SiteBinding.defaultDNSGrace) {
        binder = NameBinder(graceSeconds: dnsGraceSeconds)
    }

    public func inspect(_ flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        parsers.inspect(flow: flow.id, at: flow.lastTimestamp, fromInitiator: fromInitiator, packet: packet, frame: frame, names: &binder)
    }

    /// The facts of a flow that ends now; forgets the flow.
    public func end(_ flow: borrowing Flow) -> FlowFacts {
        let extra = parsers.take(flow.id)
        let names = binder.names(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp, extra: extra)
        let services = extra?.services ?? []
        return FlowFacts(service: services.isEmpty ? nil : services.map(\.rawValue).joined(separator: ","),
                         names: names, tlsVersion: extra?.tlsVersion)
    }
}
