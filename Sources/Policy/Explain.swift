import Foundation
import Packets

/// A flow typed by a user for `flowaudit explain`: `"10.0.0.5 -> 10.0.0.2 tcp/445"`.
/// Each end is an address, a name the site's static `names:` resolve, or `name=address`.
public struct ExplainQuery: Sendable, Hashable {
    /// One end of the flow as typed.
    public struct End: Sendable, Hashable {
        public var address: IPAddress?
        /// Lower case, no trailing dot.
        public var name: String?
    }

    public var initiator: End
    public var responder: End
    public var ipProtocol: UInt8
    /// Port, or ICMP type; 0 for `ip/N`.
    public var port: UInt16

    /// Parses `SRC -> DST PROTO/PORT`.
    /// - Returns: the query, or a message quoting what could not be read.
    public static func parse(_ text: String) -> Result<ExplainQuery, ExplainError> {
        let arrow = text.components(separatedBy: "->")
        guard arrow.count == 2 else {
            return .failure(ExplainError("cannot read '\(text)': write \"SRC -> DST PROTO/PORT\", e.g. \"10.0.0.5 -> 10.0.0.2 tcp/445\""))
        }
        let source = arrow[0].trimmingCharacters(in: .whitespaces)
        let rest = arrow[1].split(separator: " ", omittingEmptySubsequences: true)
        guard !source.isEmpty, rest.count == 2 else {
            return .failure(ExplainError("cannot read '\(text)': write \"SRC -> DST PROTO/PORT\", e.g. \"10.0.0.5 -> 10.0.0.2 tcp/445\""))
        }
        let initiator: End, responder: End
        switch parseEnd(source) {
        case .success(let end): initiator = end
        case .failure(let error): return .failure(error)
        }
        switch parseEnd(String(rest[0])) {
        case .success(let end): responder = end
        case .failure(let error): return .failure(error)
        }
        let serviceText = String(rest[1])
        let service: Service
        switch Service.parse(serviceText) {
        case .success(let parsed): service = parsed
        case .failure(let error): return .failure(ExplainError(error.message))
        }
        switch service {
        case .transport(let protocols, let ports):
            guard protocols != .both, ports.lowerBound == ports.upperBound else {
                return .failure(ExplainError("'\(serviceText)' names more than one protocol or port; explain one flow, e.g. tcp/445"))
            }
            return .success(ExplainQuery(initiator: initiator, responder: responder, ipProtocol: protocols == .tcp ? Service.tcp : Service.udp, port: ports.lowerBound))
        case .icmp(let version, let message):
            let number = version == 6 ? Service.icmpv6 : Service.icmpv4
            switch message {
            case .any:
                return .failure(ExplainError("'\(serviceText)' names no ICMP message; write \(serviceText)/echo or \(serviceText)/TYPE"))
            case .echo:
                return .success(ExplainQuery(initiator: initiator, responder: responder, ipProtocol: number, port: version == 6 ? 128 : 8))
            case .type(let type):
                return .success(ExplainQuery(initiator: initiator, responder: responder, ipProtocol: number, port: UInt16(type)))
            }
        case .ip(let number):
            return .success(ExplainQuery(initiator: initiator, responder: responder, ipProtocol: number, port: 0))
        }
    }

    static func parseEnd(_ text: String) -> Result<End, ExplainError> {
        if let address = IPAddress(text) { return .success(End(address: address, name: nil)) }
        var nameText = text
        var address: IPAddress?
        if let equals = text.firstIndex(of: "=") {
            nameText = String(text[..<equals])
            let addressText = String(text[text.index(after: equals)...])
            guard let parsed = IPAddress(addressText) else {
                return .failure(ExplainError("'\(addressText)' in '\(text)' is not an IPv4 or IPv6 address"))
            }
            address = parsed
        }
        guard case .success(.name(let name)) = HostSpec.parseName(nameText) else {
            return .failure(ExplainError("'\(text)' is neither an address nor a DNS name (write an address, a name, or name=address)"))
        }
        return .success(End(address: address, name: name))
    }
}

/// Why an explain query was refused.
public struct ExplainError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The answer to an explain query.
public struct Explanation: Sendable {
    public var flow: FlowQuery
    public var result: MatchResult
    public var inScope: Bool
    /// The report, one line per fact.
    public var text: String
}

extension CompiledPolicy {
    /// Resolves a query's names through the site's static `names:` and says which rules allow
    /// the flow, or why none does.
    public func explain(_ query: ExplainQuery) -> Result<Explanation, ExplainError> {
        func resolve(_ end: ExplainQuery.End) -> Result<(IPAddress, [String]), ExplainError> {
            if let address = end.address {
                return .success((address, (end.name.map { [$0] } ?? []) + policy.staticNames(of: address)))
            }
            let name = end.name ?? ""
            guard let address = policy.site?.names.first(where: { $0.name == name })?.addresses.first else {
                return .failure(ExplainError("the site's names: do not resolve '\(name)'; write \(name)=ADDRESS"))
            }
            return .success((address, [name]))
        }
        let initiator: (IPAddress, [String]), responder: (IPAddress, [String])
        switch resolve(query.initiator) {
        case .success(let value): initiator = value
        case .failure(let error): return .failure(error)
        }
        switch resolve(query.responder) {
        case .success(let value): responder = value
        case .failure(let error): return .failure(error)
        }
        let flow = FlowQuery(initiator: initiator.0, responder: responder.0, initiatorNames: initiator.1, responderNames: responder.1,
                             ipProtocol: query.ipProtocol, responderPort: query.port)
        let result = match(flow)
        let inScope = isInScope(initiatorRoles: result.initiatorRoles, responderRoles: result.responderRoles)
        var lines: [String] = []
        let service = query.ipProtocol == Service.tcp || query.ipProtocol == Service.udp || query.ipProtocol == Service.icmpv4 || query.ipProtocol == Service.icmpv6
            ? "\(Self.protocolName(query.ipProtocol))/\(query.port)" : Self.protocolName(query.ipProtocol)
        lines.append("flow: \(flow.initiator) -> \(flow.responder) \(service)")
        func describeEnd(_ label: String, _ address: IPAddress, _ names: [String], _ roles: RoleSet) -> String {
            let nameText = names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"
            let roleText = roleNames(roles)
            return "  \(label) \(address)\(nameText): roles \(roleText.isEmpty ? "none" : roleText.joined(separator: ", "))"
        }
        lines.append(describeEnd("initiator", flow.initiator, flow.initiatorNames, result.initiatorRoles))
        lines.append(describeEnd("responder", flow.responder, flow.responderNames, result.responderRoles))
        lines.append(inScope ? "in scope: an end holds a monitored role" : "out of scope: neither end holds a monitored role")
        if result.isAllowed {
            for match in result.allowed {
                let reversed = match.reversed ? "  (reverse direction of a both-ways rule)" : ""
                lines.append("allowed by \(PolicyText.ruleLine(policy.rules[match.rule]))\(reversed)")
            }
        } else {
            lines.append("not allowed: no rule allows this flow")
            if let miss = result.nearMiss {
                lines.append("nearest rule: \(describe(miss, for: flow))")
            } else {
                lines.append("nearest rule: none shares both roles, or a service and one role, with this flow")
            }
        }
        return .success(Explanation(flow: flow, result: result, inScope: inScope, text: lines.joined(separator: "\n") + "\n"))
    }
}
