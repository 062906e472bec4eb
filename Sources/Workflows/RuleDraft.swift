import Foundation
import Audit
import Flows
import Packets
import Policy
import Reports

/// A draft rule file from observed traffic (`flowaudit learn`, docs/rules.md "Drafting a rule
/// file from traffic"): a starting point for a vendor's model, never a replacement for it.
///
/// Every flow in scope (an end holds a monitored role of the site) that got through (completed,
/// or a connectionless flow sent without reply) becomes evidence for one draft rule: the
/// initiator's roles (or, for a host holding none, a role of its own named after its address)
/// to the responder's, on the protocol and the responder's port (the client's ephemeral port
/// is never a service). Responder ports of 49152 and above seen on two or more ports between
/// the same roles collapse into the range `49152-65535`. A rule is one-way when every flow's
/// initiator was established by what the capture showed (a SYN, a SYN-ACK, an ICMP echo or the
/// first packet of a connectionless flow) and `direction: both` when some flow was first seen
/// mid-stream (oriented by the rules, a well-known port or the lower port): the capture did not
/// show who opened it. Refused attempts are listed as comments, not drafted.
public struct RuleDraft {
    /// One drafted rule's evidence.
    struct Evidence {
        var flows = 0
        var bases: [String: Int] = [:]
        var communityIDs: [String] = []
        var ports: Set<UInt16> = []
        var first: Int64 = .max
        var last: Int64 = .min
        var midstream = false
    }

    /// From roles, to roles, protocol, and the service (port, ICMP type, or nil).
    struct RuleKey: Hashable, Comparable {
        var from: [String]
        var to: [String]
        var protocolNumber: UInt8
        var port: Int  // -1: none; -2: the ephemeral range

        static func < (a: RuleKey, b: RuleKey) -> Bool {
            (a.from.joined(separator: ","), a.to.joined(separator: ","), a.protocolNumber, a.port)
                < (b.from.joined(separator: ","), b.to.joined(separator: ","), b.protocolNumber, b.port)
        }
    }

    struct DraftRole {
        var id: String
        var description: String
        var monitored: Bool
        var addresses: Set<IPAddress> = []
        var siteRole: String?
    }

    let policy: CompiledPolicy
    var roles: [String: DraftRole] = [:]
    var rules: [RuleKey: Evidence] = [:]
    var refused: [String: Int] = [:]
    public private(set) var flowsUsed = 0
    public private(set) var flowsIgnored = 0
    /// Draft roles for hosts that hold none of the site's roles, at most this many; the rest
    /// share one role bound to `any`.
    static let outsideRoleLimit = 256

    public init(policy: CompiledPolicy) {
        self.policy = policy
    }

    /// The draft role ids of an end: its site roles (bare id when no other system uses it, else
    /// `system-role`), or a role of its own when it holds none.
    mutating func roleIDs(_ set: RoleSet, address: IPAddress) -> [String] {
        var ids: [String] = []
        for index in set.indices {
            let qualified = policy.roleIDs[index]
            guard let role = policy.policy.roles.first(where: { $0.id == qualified }) else { continue }
            let clash = policy.policy.roles.contains { $0.localID == role.localID && $0.id != role.id }
            let id = clash ? "\(role.system)-\(role.localID)" : role.localID
            if roles[id] == nil {
                roles[id] = DraftRole(id: id, description: role.description, monitored: role.monitored, siteRole: qualified)
            }
            roles[id]!.addresses.insert(address)
            ids.append(id)
        }
        if !ids.isEmpty { return ids.sorted() }
        let outside = roles.values.filter { $0.siteRole == nil && $0.id != "other-hosts" }.count
        var id = "host-" + address.description.map { $0 == ":" || $0 == "." ? "-" : String($0) }.joined().lowercased()
        while id.contains("--") { id = id.replacingOccurrences(of: "--", with: "-") }
        if id.hasSuffix("-") { id.removeLast() }
        if roles[id] == nil && outside >= Self.outsideRoleLimit { id = "other-hosts" }
        if roles[id] == nil {
            roles[id] = DraftRole(id: id, description: id == "other-hosts" ? "Hosts beyond the draft's per-host roles" : "Host \(address) (no site role)",
                                  monitored: false)
        }
        roles[id]!.addresses.insert(address)
        return [id]
    }

    /// Adds an ended flow: `names` gives the names known for an address during the flow.
    public mutating func add(_ flow: borrowing Flow, names: (IPAddress) -> [String]) {
        let linkControl = LinkControlKind.of(flow)
        if linkControl != nil { flowsIgnored += 1; return }
        let vlan: UInt16? = flow.vlan >= 0 ? UInt16(truncatingIfNeeded: flow.vlan) : nil
        let tunnelID = flow.tunnel?.id
        let initiatorSet = policy.roles(for: flow.initiator, names: names(flow.initiator), vlan: vlan, tunnelID: tunnelID)
        let responderSet = policy.roles(for: flow.responder, names: names(flow.responder), vlan: vlan, tunnelID: tunnelID)
        // In scope only (an end holds a monitored role): the model is the product's, and a rule
        // between two unmonitored roles could never be exercised by an audit.
        guard policy.isInScope(initiatorRoles: initiatorSet, responderRoles: responderSet) else { flowsIgnored += 1; return }
        let service: Int
        if flow.hasPorts {
            service = Int(flow.responderPort)
        } else if [IPProtocolNumber.icmp, IPProtocolNumber.icmpv6].contains(flow.protocolNumber) {
            service = Int(flow.icmpType)
        } else {
            service = -1
        }
        let through = PacketExtraction.gotThrough(flow)
        guard through else {
            let text = "\(flow.initiator) -> \(flow.responder) \(flow.protocolName)" + (service >= 0 ? "/\(service)" : "") + " (\(flow.state.name))"
            refused[text, default: 0] += 1
            flowsIgnored += 1
            return
        }
        flowsUsed += 1
        let key = RuleKey(from: roleIDs(initiatorSet, address: flow.initiator), to: roleIDs(responderSet, address: flow.responder),
                          protocolNumber: flow.protocolNumber, port: service)
        var evidence = rules[key] ?? Evidence()
        evidence.flows += 1
        let reason = flow.initiatorReason
        let basis: String
        switch reason {
        case .syn: basis = "SYN seen"
        case .synAck: basis = "SYN-ACK seen"
        case .echoReply: basis = "echo reply seen"
        case .firstPacket: basis = "first packet"
        case .rule: basis = "mid-stream, oriented by the site's rules"
        case .wellKnownPort: basis = "mid-stream, port heuristic (well-known port)"
        case .lowerPort: basis = "mid-stream, port heuristic (lower port)"
        }
        if reason == .rule || reason == .wellKnownPort || reason == .lowerPort { evidence.midstream = true }
        evidence.bases[basis, default: 0] += 1
        if evidence.communityIDs.count < 3 { evidence.communityIDs.append(CommunityID.of(flow)) }
        if service >= 0 { evidence.ports.insert(UInt16(service)) }
        evidence.first = min(evidence.first, flow.firstTimestamp)
        evidence.last = max(evidence.last, flow.lastTimestamp)
        rules[key] = evidence
    }

    /// Collapses ephemeral responder ports (49152 and above) seen on two or more ports between
    /// the same roles and protocol into one range rule.
    func collapsed() -> [(RuleKey, Evidence)] {
        var out: [RuleKey: Evidence] = [:]
        var ephemeral: [RuleKey: [(RuleKey, Evidence)]] = [:]
        for (key, evidence) in rules {
            if (key.protocolNumber == IPProtocolNumber.tcp || key.protocolNumber == IPProtocolNumber.udp) && key.port >= 49152 {
                var range = key
                range.port = -2
                ephemeral[range, default: []].append((key, evidence))
            } else {
                out[key] = evidence
            }
        }
        for (range, members) in ephemeral {
            if members.count < 2 {
                out[members[0].0] = members[0].1
                continue
            }
            var merged = Evidence()
            for (_, e) in members.sorted(by: { $0.0 < $1.0 }) {
                merged.flows += e.flows
                for (basis, count) in e.bases { merged.bases[basis, default: 0] += count }
                for id in e.communityIDs where merged.communityIDs.count < 3 { merged.communityIDs.append(id) }
                merged.ports.formUnion(e.ports)
                merged.first = min(merged.first, e.first)
                merged.last = max(merged.last, e.last)
                merged.midstream = merged.midstream || e.midstream
            }
            out[range] = merged
        }
        return out.sorted { $0.key < $1.key }
    }

    static func service(_ key: RuleKey) -> String {
        let name = IPProtocolNumber.name(key.protocolNumber)
        switch key.protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp: break
        case IPProtocolNumber.icmp:
            return key.port == 8 || key.port == 0 ? "\(name)/echo" : "\(name)/\(key.port)"
        case IPProtocolNumber.icmpv6:
            return key.port == 128 || key.port == 129 ? "\(name)/echo" : "\(name)/\(key.port)"
        default: return name
        }
        return key.port == -2 ? "\(name)/49152-65535" : "\(name)/\(key.port)"
    }

    /// `text` as a YAML double-quoted scalar that reads back exactly (YAML 1.2, 7.3.1): backslash
    /// and quote escaped, line breaks and tabs by their escapes (a raw line break would be folded
    /// into a space), and every character YAML does not allow raw (C0 and C1 controls, DEL, the
    /// byte order mark, the Unicode line separators) as `\uXXXX`.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F...0x9F, 0xFEFF, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// The draft rule file (YAML, the format of docs/rules.md), every rule commented with its
    /// direction's basis and the flows that justify it.
    /// - Parameters:
    ///   - system: the draft's system id (`[a-z0-9-]+`).
    ///   - captures: the captures it was learned from, named in its header.
    public func yaml(system: String, captures: [String], site: String) -> String {
        let drafted = collapsed()
        var out = "# DRAFT written by flowaudit learn from \(captures.joined(separator: ", ")) with site \(site).\n"
            + "# A starting point for the vendor's model, never a replacement: every rule below is what the\n"
            + "# capture showed, not what the vendor's document allows. Check each against the document, set\n"
            + "# `required` and `ref` from it, and delete what the product must not do.\n"
            + "# \(flowsUsed) flows drafted; \(flowsIgnored) left out (link control, out of scope: no monitored role at either end, or refused).\n"
        out += "system: \(system)\n"
        out += "title: \(Self.quote("Draft learned from traffic (" + captures.joined(separator: ", ") + ")"))\n"
        out += "source: \(Self.quote("flowaudit learn over " + captures.joined(separator: ", ") + "; not a vendor document"))\n"
        out += "roles:\n"
        for role in roles.values.sorted(by: { $0.id < $1.id }) {
            out += "  \(role.id):\n"
            if let site = role.siteRole { out += "    # the site's role \(site); addresses: those seen in the drafted flows\n" }
            out += "    description: \(Self.quote(role.description))\n"
            if role.monitored { out += "    monitored: true\n" }
            let addresses = role.id == "other-hosts" ? ["any"] : role.addresses.sorted().map(\.description)
            out += "    addresses: [" + addresses.map { Self.quote($0) }.joined(separator: ", ") + "]\n"
        }
        out += drafted.isEmpty ? "rules: []\n" : "rules:\n"
        var used: Set<String> = []
        for (key, evidence) in drafted {
            var id = "\(key.from.joined(separator: "-"))-to-\(key.to.joined(separator: "-"))-"
                + Self.service(key).replacingOccurrences(of: "/", with: "-")
            if id.count > 120 { id = String(id.prefix(120)) }
            while id.hasSuffix("-") { id.removeLast() }
            var unique = id
            var n = 2
            while used.contains(unique) { unique = "\(id)-\(n)"; n += 1 }
            used.insert(unique)
            let bases = evidence.bases.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                .map { "\($0.key) (\($0.value) flow\($0.value == 1 ? "" : "s"))" }.joined(separator: ", ")
            out += "  # direction: \(evidence.midstream ? "both, since some flows were first seen mid-stream" : "one-way"); basis: \(bases)\n"
            out += "  # justified by \(evidence.flows) flow\(evidence.flows == 1 ? "" : "s"), \(Format.timestamp(evidence.first)) to \(Format.timestamp(evidence.last)); "
                + "Community IDs: \(evidence.communityIDs.joined(separator: ", "))\(evidence.flows > evidence.communityIDs.count ? ", …" : "")\n"
            if key.port == -2 {
                out += "  # responder ports seen: \(evidence.ports.sorted().map(String.init).joined(separator: ", "))\n"
            }
            out += "  - id: \(unique)\n"
            out += "    purpose: \(Self.quote("Observed " + Self.service(key) + " from " + key.from.joined(separator: ", ") + " to " + key.to.joined(separator: ", ")))\n"
            out += "    from: " + (key.from.count == 1 ? key.from[0] : "[" + key.from.joined(separator: ", ") + "]") + "\n"
            out += "    to: " + (key.to.count == 1 ? key.to[0] : "[" + key.to.joined(separator: ", ") + "]") + "\n"
            out += "    services: [\(Self.service(key))]\n"
            if evidence.midstream { out += "    direction: both\n" }
            out += "    required: false\n"
            out += "    ref: \(Self.quote("observed in " + captures.joined(separator: ", ") + " (draft: no document row)"))\n"
        }
        if !refused.isEmpty {
            out += "# Refused attempts (not drafted: the network stopped them):\n"
            for (text, count) in refused.sorted(by: { $0.key < $1.key }) {
                out += "#   \(text)\(count > 1 ? " x\(count)" : "")\n"
            }
        }
        return out
    }
}
