import Flows
import Packets
import Policy

/// What the payload inspector learned about one flow.
public struct FlowExtras: Sendable {
    public var serverName: String?
    public var httpHost: String?
    /// Highest version the ClientHello offered, and the version the ServerHello chose.
    public var offeredTLS: UInt16?
    public var chosenTLS: UInt16?
    /// Application protocols recognised in the payload, in the order first seen (STARTTLS gives
    /// `smtp` then `tls`).
    public var services: [AppService] = []

    public init() {}

    /// The TLS version of the flow: the one the server chose, else the highest the client offered.
    public var tlsVersion: UInt16? { chosenTLS ?? offeredTLS }

    /// Reads a TLS hello (first byte 22) or an HTTP request head (from the initiator, first
    /// byte a capital letter) from one TCP payload into `entry`.
    /// - Returns: true when `entry` learned something.
    /// - Throws: the TLS parser's error for a hello it could not read.
    static func readHello(_ payload: Span<UInt8>, fromInitiator: Bool, into entry: inout FlowExtras) throws(TLSError) -> Bool {
        guard payload.count > 0 else { return false }
        let first = payload[0]
        if first == 0x16 {
            switch try TLSHello.parse(payload) {
            case .client(let hello):
                // An SNI that is an address literal (RFC 6066 forbids it) names nothing.
                if let name = hello.serverName.flatMap(HostHeader.name) { entry.serverName = name }
                entry.offeredTLS = hello.highestVersion.rawValue
                return true
            case .server(let hello):
                guard !hello.isHelloRetryRequest else { return false }
                entry.chosenTLS = hello.version.rawValue
                return true
            }
        } else if fromInitiator, first >= 0x41, first <= 0x5A {
            if let head = try? HTTPRequestHead.parse(payload), let host = head.host.flatMap(HostHeader.name) {
                entry.httpHost = host
                return true
            }
        }
        return false
    }
}

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

/// The payload inspector of `flowaudit flows`: learns names from DNS answers, reads TLS hellos
/// and HTTP request heads, and recognises each flow's application protocol
/// (``ServiceDetector``), from the first ``inspectedPacketsPerFlow`` payload packets of each flow.
/// One entry per open flow that taught something; removed when the flow ends.
public final class FlowInspector {
    /// Payload packets of a flow looked at (the audit's number, see ``AuditConfiguration``).
    public static let inspectedPacketsPerFlow = 4

    public private(set) var names: NameTable
    var extras: [UInt64: FlowExtras] = [:]
    /// Messages that could not be parsed, by reason (DNS and TLS parse errors).
    public private(set) var malformed: [String: Int] = [:]

    public init(dnsGraceSeconds: Int = SiteBinding.defaultDNSGrace) {
        names = NameTable(graceSeconds: dnsGraceSeconds)
    }

    public func inspect(_ flow: Flow, fromInitiator: Bool, packet: DecodedPacket, frame: Span<UInt8>) {
        let start = packet.payloadOffset
        let payload = frame.extracting(start..<(start + packet.payloadCapturedLength))
        let ipProtocol = packet.ipProtocol
        let id = flow.id
        var entry = extras[id]
        var changed = false
        if let service = ServiceDetector.detect(payload, ipProtocol: ipProtocol, fromInitiator: fromInitiator,
                                                sourcePort: packet.sourcePort, destinationPort: packet.destinationPort) {
            var value = entry ?? FlowExtras()
            if !value.services.contains(service) {
                value.services.append(service)
                entry = value
                changed = true
            }
        }
        if ipProtocol == IPProtocolNumber.udp || ipProtocol == IPProtocolNumber.tcp,
           packet.sourcePort == 53 || packet.sourcePort == 5353 {
            learnDNS(payload, tcp: ipProtocol == IPProtocolNumber.tcp, at: flow.lastTimestamp)
        } else if ipProtocol == IPProtocolNumber.tcp {
            var value = entry ?? FlowExtras()
            do {
                if try FlowExtras.readHello(payload, fromInitiator: fromInitiator, into: &value) {
                    entry = value
                    changed = true
                }
            } catch {
                if error != .incomplete { malformed[error.rawValue, default: 0] += 1 }
            }
        }
        if changed { extras[id] = entry }
    }

    func learnDNS(_ payload: Span<UInt8>, tcp: Bool, at time: Int64) {
        if let error = names.learn(dnsPayload: payload, tcp: tcp, at: time) { malformed[error.rawValue, default: 0] += 1 }
    }

    /// The facts of a flow that ends now; forgets the flow.
    public func end(_ flow: borrowing Flow) -> FlowFacts {
        let extra = extras.removeValue(forKey: flow.id)
        var list = names.bindings.isEmpty ? [] : names.names(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp)
        if let extra {
            for name in [extra.serverName, extra.httpHost].compactMap({ $0 }) {
                let normal = NameTable.normalise(name)
                if !list.contains(normal) { list.append(normal) }
            }
        }
        let services = extra?.services ?? []
        return FlowFacts(service: services.isEmpty ? nil : services.map(\.rawValue).joined(separator: ","),
                         names: list, tlsVersion: extra?.tlsVersion)
    }
}
