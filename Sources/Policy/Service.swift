/// A service a rule allows: `tcp/443`, `udp/123`, `tcp/49152-65535`, `tcp+udp/389`,
/// `icmp/echo`, `icmp`, `icmpv6/echo`, `icmpv6`, `ip/50`.
public enum Service: Sendable, Hashable, CustomStringConvertible {
    /// TCP and/or UDP on an inclusive port range (1-65535).
    case transport(TransportProtocols, ClosedRange<UInt16>)
    /// ICMP (`version` 4, IP protocol 1) or ICMPv6 (`version` 6, protocol 58).
    case icmp(version: Int, message: ICMPMessage)
    /// Any traffic of one IP protocol number (ESP is 50, GRE 47); addresses only, no ports.
    case ip(UInt8)

    /// Which transport protocols a ``Service/transport(_:_:)`` service names.
    public struct TransportProtocols: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let tcp = TransportProtocols(rawValue: 1)
        public static let udp = TransportProtocols(rawValue: 2)
        public static let both: TransportProtocols = [.tcp, .udp]
    }

    /// The ICMP messages a service may name.
    public enum ICMPMessage: Sendable, Hashable {
        /// Any message type.
        case any
        /// Echo request and reply (types 8/0 for ICMP, 128/129 for ICMPv6).
        case echo
        /// One message type by number.
        case type(UInt8)
    }

    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv4: UInt8 = 1
    public static let icmpv6: UInt8 = 58

    /// The normalised text: `tcp/443`, `tcp+udp/389`, `tcp/49152-65535`, `icmp/echo`, `ip/50`.
    public var description: String {
        switch self {
        case .transport(let protocols, let ports):
            let name = protocols == .both ? "tcp+udp" : (protocols == .tcp ? "tcp" : "udp")
            let portText = ports.lowerBound == ports.upperBound ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
            return "\(name)/\(portText)"
        case .icmp(let version, let message):
            let name = version == 6 ? "icmpv6" : "icmp"
            switch message {
            case .any: return name
            case .echo: return "\(name)/echo"
            case .type(let type): return "\(name)/\(type)"
            }
        case .ip(let number):
            return "ip/\(number)"
        }
    }

    /// The (IP protocol, port or ICMP type range) pairs this service covers: the compiled
    /// matcher indexes rules by them. `ip/N` covers every "port" of protocol N.
    public var entries: [(ipProtocol: UInt8, ports: ClosedRange<UInt16>)] {
        switch self {
        case .transport(let protocols, let ports):
            var out: [(UInt8, ClosedRange<UInt16>)] = []
            if protocols.contains(.tcp) { out.append((Self.tcp, ports)) }
            if protocols.contains(.udp) { out.append((Self.udp, ports)) }
            return out
        case .icmp(let version, let message):
            let number = version == 6 ? Self.icmpv6 : Self.icmpv4
            switch message {
            case .any: return [(number, 0...255)]
            case .echo: return version == 6 ? [(number, 128...129)] : [(number, 0...0), (number, 8...8)]
            case .type(let type): return [(number, UInt16(type)...UInt16(type))]
            }
        case .ip(let number):
            return [(number, 0...UInt16.max)]
        }
    }

    /// True when a flow of `ipProtocol` to responder port `port` (the ICMP type for ICMP;
    /// ignored for `ip/N`) is this service.
    public func matches(ipProtocol: UInt8, port: UInt16) -> Bool {
        entries.contains { $0.ipProtocol == ipProtocol && $0.ports.contains(port) }
    }

    /// True when this service allows everything `other` allows.
    public func covers(_ other: Service) -> Bool {
        other.entries.allSatisfy { entry in
            entries.contains { $0.ipProtocol == entry.ipProtocol && $0.ports.lowerBound <= entry.ports.lowerBound && $0.ports.upperBound >= entry.ports.upperBound }
        }
    }

    /// True when some flow is allowed by both services.
    public func overlaps(_ other: Service) -> Bool {
        entries.contains { a in
            other.entries.contains { b in a.ipProtocol == b.ipProtocol && a.ports.overlaps(b.ports) }
        }
    }

    /// The protocol names a service may start with.
    static let protocolNames = ["tcp", "udp", "tcp+udp", "udp+tcp", "icmp", "icmpv6", "ip"]

    /// Parses service text.
    /// - Returns: the service, or a message that quotes the offending text.
    public static func parse(_ raw: String) -> Result<Service, ServiceError> {
        let text = raw.trimmed(lineBreaks: false).lowercased()
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        let argument = parts.count > 1 ? String(parts[1]) : nil
        switch name {
        case "tcp", "udp", "tcp+udp", "udp+tcp":
            let protocols: TransportProtocols = name == "tcp" ? .tcp : (name == "udp" ? .udp : .both)
            guard let argument, !argument.isEmpty else {
                return .failure(ServiceError("service '\(raw)' needs a port: write \(name)/PORT or \(name)/LOW-HIGH"))
            }
            if argument.contains(",") {
                return .failure(ServiceError("service '\(raw)' lists several ports; write one service per port or range"))
            }
            let bounds = argument.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2 else {
                return .failure(ServiceError("bad port range '\(argument)' in service '\(raw)'"))
            }
            var values: [UInt16] = []
            for bound in bounds {
                guard !bound.isEmpty, bound.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                    return .failure(ServiceError("bad port '\(bound)' in service '\(raw)' (ports are 1-65535)"))
                }
                guard let value = Int(bound), value >= 1, value <= 65535 else {
                    return .failure(ServiceError("port \(bound) out of range in service '\(raw)' (ports are 1-65535)"))
                }
                values.append(UInt16(value))
            }
            let low = values[0], high = values.last!
            guard low <= high else {
                return .failure(ServiceError("port range \(low)-\(high) in service '\(raw)' has its low end above its high end"))
            }
            return .success(.transport(protocols, low...high))
        case "icmp", "icmpv6":
            let version = name == "icmp" ? 4 : 6
            guard let argument else { return .success(.icmp(version: version, message: .any)) }
            if argument == "echo" { return .success(.icmp(version: version, message: .echo)) }
            if !argument.isEmpty, argument.allSatisfy({ $0.isASCII && $0.isNumber }), let type = Int(argument), type <= 255 {
                return .success(.icmp(version: version, message: .type(UInt8(type))))
            }
            return .failure(ServiceError("unknown ICMP message '\(argument)' in service '\(raw)' (write \(name)/echo, \(name)/TYPE with a type 0-255, or \(name) for any)"))
        case "ip":
            guard let argument, !argument.isEmpty else {
                return .failure(ServiceError("service '\(raw)' needs an IP protocol number: write ip/N (ESP is ip/50)"))
            }
            guard argument.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(argument), number <= 255 else {
                return .failure(ServiceError("IP protocol '\(argument)' in service '\(raw)' is not a number 0-255"))
            }
            return .success(.ip(UInt8(number)))
        default:
            if argument == nil, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
                return .failure(ServiceError("service '\(raw)' has no protocol: write tcp/\(text) or udp/\(text)"))
            }
            let hint = Suggestion.didYouMean(name, in: protocolNames)
            return .failure(ServiceError("unknown protocol '\(name)' in service '\(raw)'\(hint.isEmpty ? " (use tcp, udp, tcp+udp, icmp, icmpv6 or ip)" : hint)"))
        }
    }
}

/// Why service text was refused; `message` quotes the text.
public struct ServiceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
