import Flows
import Packets

/// What the payload parsers learned about one flow.
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

/// The payload parsers: the one dispatch of a flow's first payload packets, for `audit`, `live`
/// and `flows` alike. DNS answers (from port 53 or 5353) feed the name binder; queries teach
/// nothing; a TCP payload is read for a TLS hello or an HTTP request head; with
/// ``detectsServices``, every payload is also matched against ``ServiceDetector``'s signatures.
/// What a flow taught is kept by flow id until the flow ends (``take(_:)``).
struct PayloadParsers {
    /// Payload packets of a flow the meter hands the parsers (the first ones of each flow).
    static let inspectedPacketsPerFlow = 4

    /// Recognise application protocols as well (`flows` reports them; the audit does not).
    let detectsServices: Bool
    /// What each open flow taught, by flow id; only flows that taught something have an entry.
    private(set) var extras: [UInt64: FlowExtras] = [:]
    /// Messages that could not be parsed, by reason (DNS and TLS parse errors).
    private(set) var malformed: [String: Int] = [:]

    init(detectsServices: Bool) { self.detectsServices = detectsServices }

    /// Reads one payload packet of flow `id`, seen at capture time `time`; DNS answers bind
    /// names in `names`.
    mutating func inspect(flow id: UInt64, at time: Int64, fromInitiator: Bool, packet: borrowing DecodedPacket,
                          frame: Span<UInt8>, names: inout NameBinder) {
        let start = packet.payloadOffset
        let payload = frame.extracting(start..<(start + packet.payloadCapturedLength))
        let ipProtocol = packet.ipProtocol
        let sourcePort = packet.sourcePort, destinationPort = packet.destinationPort
        if detectsServices, let service = ServiceDetector.detect(payload, ipProtocol: ipProtocol, fromInitiator: fromInitiator,
                                                                 sourcePort: sourcePort, destinationPort: destinationPort) {
            var entry = extras[id] ?? FlowExtras()
            if !entry.services.contains(service) {
                entry.services.append(service)
                extras[id] = entry
            }
        }
        if ipProtocol == IPProtocolNumber.udp || ipProtocol == IPProtocolNumber.tcp,
           sourcePort == 53 || sourcePort == 5353 {
            if let error = names.learn(dnsPayload: payload, tcp: ipProtocol == IPProtocolNumber.tcp, at: time) {
                malformed[error.rawValue, default: 0] += 1
            }
            return
        }
        if destinationPort == 53 || destinationPort == 5353 { return }  // queries teach nothing
        guard ipProtocol == IPProtocolNumber.tcp, payload.count > 0 else { return }
        var entry = extras[id] ?? FlowExtras()
        do {
            if try FlowExtras.readHello(payload, fromInitiator: fromInitiator, into: &entry) { extras[id] = entry }
        } catch {
            if error != .incomplete { malformed[error.rawValue, default: 0] += 1 }
        }
    }

    /// What flow `id` taught, while it is open.
    func extras(of id: UInt64) -> FlowExtras? { extras[id] }

    /// What flow `id` taught; forgets the flow (it ended).
    mutating func take(_ id: UInt64) -> FlowExtras? { extras.removeValue(forKey: id) }
}
