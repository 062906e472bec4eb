import Flows
import Packets

/// The facts of one flow that a finding shows as its evidence.
public struct FlowEvidence: Sendable, Hashable {
    public var flowID: UInt64
    public var protocolName: String
    public var initiator: IPAddress
    public var initiatorPort: UInt16?
    public var responder: IPAddress
    public var responderPort: UInt16?
    public var state: String
    public var initiatorReason: String
    public var start: Int64
    public var end: Int64
    public var packets: UInt64
    public var bytes: UInt64
    public var communityID: String
    /// The flow's uid (``FlowUID``), as `flowaudit flows` prints it.
    public var uid: String
    /// For a refused attempt: who refused it and how (`RST from 10.0.0.2`,
    /// `ICMP destination unreachable: administratively prohibited (3/13) from 10.0.0.1`).
    public var refusal: String?
    /// The flow's packets show only one direction, yet acknowledge the other side's data.
    public var oneSided: Bool
    public var vlan: Int32?
    /// The tunnel that carried the flow (nil for a flow not inside a tunnel).
    public var tunnel: TunnelContext?

    public init(_ flow: Flow) {
        flowID = flow.id
        protocolName = flow.protocolName
        initiator = flow.initiator
        responder = flow.responder
        initiatorPort = flow.hasPorts ? flow.initiatorPort : nil
        responderPort = flow.hasPorts ? flow.responderPort : nil
        state = flow.state.name
        initiatorReason = flow.initiatorReason.name
        start = flow.firstTimestamp
        end = flow.lastTimestamp
        packets = flow.initiatorPackets + flow.responderPackets
        bytes = flow.initiatorBytes + flow.responderBytes
        communityID = CommunityID.of(flow)
        uid = FlowUID.of(flow)
        oneSided = flow.looksOneSided
        vlan = flow.vlan >= 0 ? flow.vlan : nil
        tunnel = flow.tunnel
        refusal = FlowEvidence.refusal(of: flow)
    }

    /// How a flow that did not complete was refused, or why nothing answered.
    static func refusal(of flow: Flow) -> String? {
        switch flow.state {
        case .rejected:
            let sender = flow.rstSenderIsInitiator == true ? flow.initiator : flow.responder
            return "refused by RST from \(sender)"
        case .unreachable:
            let reporter = flow.icmpErrorReporter.map { "\($0)" } ?? "?"
            let v6 = flow.key.ipVersion == 6
            return "refused by \(ICMPText.describe(type: flow.icmpErrorType, code: flow.icmpErrorCode, v6: v6)) from \(reporter)"
        case .attempted:
            return "no answer to \(flow.initiatorPackets) SYN\(flow.initiatorPackets == 1 ? "" : "s")"
        case .unanswered:
            return "no reply to \(flow.initiatorPackets) packet\(flow.initiatorPackets == 1 ? "" : "s")"
        default:
            return nil
        }
    }
}

/// ICMP type and code names for refusal messages (RFC 792, RFC 1812, RFC 4443).
public enum ICMPText {
    public static func describe(type: UInt8, code: UInt8, v6: Bool) -> String {
        if v6 {
            switch type {
            case 1:
                let reasons = ["no route to destination", "administratively prohibited", "beyond scope of source address",
                               "address unreachable", "port unreachable", "source address failed ingress/egress policy",
                               "reject route to destination"]
                let reason = Int(code) < reasons.count ? reasons[Int(code)] : "code \(code)"
                return "ICMPv6 destination unreachable: \(reason) (1/\(code))"
            case 2: return "ICMPv6 packet too big (2/\(code))"
            case 3: return "ICMPv6 time exceeded (3/\(code))"
            case 4: return "ICMPv6 parameter problem (4/\(code))"
            default: return "ICMPv6 type \(type) code \(code)"
            }
        }
        switch type {
        case 3:
            let reasons = ["net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
                           "fragmentation needed", "source route failed", "destination network unknown",
                           "destination host unknown", "source host isolated", "network administratively prohibited",
                           "host administratively prohibited", "network unreachable for TOS", "host unreachable for TOS",
                           "administratively prohibited", "host precedence violation", "precedence cutoff in effect"]
            let reason = Int(code) < reasons.count ? reasons[Int(code)] : "code \(code)"
            return "ICMP destination unreachable: \(reason) (3/\(code))"
        case 4: return "ICMP source quench (4/\(code))"
        case 5: return "ICMP redirect (5/\(code))"
        case 11: return "ICMP time exceeded (11/\(code))"
        case 12: return "ICMP parameter problem (12/\(code))"
        default: return "ICMP type \(type) code \(code)"
        }
    }
}

/// A rule's status after the audit (DESIGN.md, "Status per rule").
public enum RuleStatus: String, Sendable, Hashable, CaseIterable {
    /// Some allowed flow completed.
    case observed
    /// Flows were attempted, none completed.
    case blocked
    /// No flow at all, for a required rule.
    case missing
    /// An `each` rule that some of its hosts showed and others did not.
    case partial
    /// No flow at all, for an optional rule (not a finding).
    case notSeen = "not-seen"
    /// The rule's roles have no binding in the site.
    case unbound
}

/// What the audit found for one rule.
public struct RuleResult: Sendable {
    public var qualifiedID: String
    public var system: String
    public var purpose: String
    public var ref: String
    public var required: Bool
    public var each: Bool
    public var from: [String]
    public var to: [String]
    public var services: [String]
    public var direction: String
    public var status: RuleStatus
    public var completedFlows: Int
    public var attemptedFlows: Int
    /// UDP flows that got no reply: sent, which is what a one-way service does.
    public var unansweredFlows: Int
    public var oneSidedFlows: Int
    public var bytes: UInt64
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    /// One completed flow, and up to three refused attempts.
    public var example: FlowEvidence?
    public var blockedExamples: [FlowEvidence]
    /// Community IDs of the first 100 refused or unanswered attempts (``attemptedFlows`` counts all).
    public var blockedCommunityIDs: [String]
    /// For `each` rules: addresses that showed the flow, and the hosts that did not (by their
    /// site name: a `hosts:` machine or a static name, else the address).
    public var hostsSeen: [IPAddress]
    public var hostsMissing: [String]
    /// Unbound roles, or other remarks.
    public var notes: [String]
}

/// Unexpected flows between one initiator and one responder on one service.
public struct UnexpectedGroup: Sendable {
    public var initiator: IPAddress
    public var responder: IPAddress
    public var protocolName: String
    public var protocolNumber: UInt8
    /// Responder port (TCP/UDP), ICMP type, or nil for other protocols.
    public var port: UInt16?
    public var initiatorNames: [String]
    public var responderNames: [String]
    public var initiatorRoles: [String]
    public var responderRoles: [String]
    public var flows: Int
    public var packets: UInt64
    public var bytes: UInt64
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// How flows of this group ended: state name -> count.
    public var states: [String: Int]
    /// The nearest rule, in words ("matches arksspr/smtp-otp but for port 2525").
    public var nearestRule: String?
    public var example: FlowEvidence
    /// Community IDs of the group's first 100 flows (``flows`` counts all of them).
    public var communityIDs: [String]
    /// The uids of the same flows, in the same order.
    public var uids: [String]
    /// The flows' outermost 802.1Q VLAN id.
    public var vlan: UInt16?
    /// True when the group's flows were oriented by the rules (first seen mid-stream).
    public var orientedByRule: Bool

    /// `tcp/443`, `icmp/8`, `ip/50`.
    public var service: String { port.map { "\(protocolName)/\($0)" } ?? protocolName }

    /// A capture filter (BPF, as tcpdump, tshark, Wireshark's capture filter and `flowaudit flows
    /// --filter` take it) that selects the group's packets, to list every flow of the group.
    public var filter: String {
        var text = vlan.map { "vlan \($0) and " } ?? ""
        text += "host \(initiator) and host \(responder) and "
        switch protocolNumber {
        case 6, 17: text += port.map { "\(protocolName) port \($0)" } ?? protocolName
        case 1: text += "icmp"
        case 58: text += "icmp6"
        default: text += "\(initiator.isIPv4 ? "ip" : "ip6") proto \(protocolNumber)"
        }
        return text
    }
}

/// Something the document discourages that traffic showed.
public struct Advisory: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A TLS handshake below the document's minimum.
        case tlsBelowMinimum = "tls-below-minimum"
        /// A service the document asks to avoid (`prefer:`), e.g. plain LDAP.
        case preferred = "prefer"
        /// A TLS ClientHello named a server (SNI) that none of the DNS answers for the address
        /// it went to named: a stale cache, a shared front end, or domain fronting.
        case sniMismatch = "sni-mismatch"
        /// Packets carried a loose or strict source route (IPv4 LSRR/SSRR, IPv6 routing type
        /// 0): the flow was matched on its next hop, and the final destination is another host.
        case sourceRoute = "source-route"
    }
    public var kind: Kind
    public var message: String
    /// The rule or prefer entry it concerns (`system/id`).
    public var reference: String?
    public var flows: Int
    public var example: FlowEvidence
}

/// Finding categories, for `--fail-on`.
public enum FindingCategory: String, Sendable, CaseIterable {
    /// Completed flows no rule allows.
    case unexpected
    /// Unexpected flows that never completed (a firewall stopped them).
    case attempt
    /// Required rules with no flow, or `each` rules with hosts missing.
    case missing
    /// Rules whose flows were all refused.
    case blocked
    case advisory
    /// The capture has flows but none in scope (``Verdict/noScope``).
    case noScope = "no-scope"
}

/// One input as the evidence manifest lists it.
public struct InputEvidence: Sendable {
    public var report: InputReport
    /// SHA-256 of the file's bytes; nil for standard input or an unreadable file.
    public var sha256: String?
    public var size: Int64?

    public init(report: InputReport, sha256: String?, size: Int64?) {
        self.report = report
        self.sha256 = sha256
        self.size = size
    }
}

/// The policy files as the evidence manifest lists them.
public struct PolicyFileEvidence: Sendable {
    public var path: String
    public var kind: String
    public var sha256: String?

    public init(path: String, kind: String, sha256: String?) {
        self.path = path
        self.kind = kind
        self.sha256 = sha256
    }
}

/// Everything an audit found: the model every renderer reads.
public struct AuditReport: Sendable {
    public static let schemaVersion = 1
    public var toolVersion: String
    public var commandLine: [String]
    public var site: String?
    public var systems: [(system: String, title: String, file: String)]
    public var inputs: [InputEvidence]
    public var policyFiles: [PolicyFileEvidence]
    public var policyWarnings: [String]
    public var rules: [RuleResult]
    /// Completed unexpected flows, grouped, most bytes first.
    public var unexpected: [UnexpectedGroup]
    /// Unexpected flows that never completed.
    public var attempts: [UnexpectedGroup]
    public var advisories: [Advisory]
    /// Notes from the rule files: requirements traffic cannot show.
    public var documentNotes: [(system: String, note: String)]
    public var inScopeFlows: Int
    public var outOfScopeFlows: Int
    public var outOfScopePackets: UInt64
    public var oneSidedFlows: Int
    /// Unexpected flows not listed because the group limit was reached (a scan or a flood).
    public var unlistedUnexpectedFlows: Int
    public var namesLearned: Int
    /// What the name table and the per-response DNS limits left out.
    public var nameTable = NameTableStatistics()
    /// The addresses the name table holds names for (``namesLearned`` of them), in address
    /// order: what `flowaudit merge` unites across shards, since one address named in two
    /// shards counts once.
    public var namedAddresses: [IPAddress] = []
    /// Application-layer messages that could not be parsed, by reason key.
    public var malformedMessages: [String: Int]
    /// Link control traffic, counted apart (or audited, when the site asks).
    public var linkControl: LinkControlCounts
    public var decode: FlowMeterStatistics
    /// Live capture only: libpcap's counts.
    public var capture: LiveCaptureCounts?
    /// What the audit did not see (drops, link-down periods, inputs cut short, lost events).
    public var completeness = Completeness()
    /// Live only: what each event output did (name, kind, sent, dropped by cause, reconnects).
    public var sinks: [SinkCounters] = []

    /// Findings per category.
    public var counts: [FindingCategory: Int] {
        var counts: [FindingCategory: Int] = [:]
        counts[.unexpected] = unexpected.count
        counts[.attempt] = attempts.count
        counts[.missing] = rules.filter { $0.status == .missing || $0.status == .partial }.count
        counts[.blocked] = rules.filter { $0.status == .blocked }.count
        counts[.advisory] = advisories.count
        counts[.noScope] = verdict == .noScope ? 1 : 0
        return counts
    }

    /// The verdict, from the findings alone (``FindingCategory`` and `--fail-on` decide only
    /// the exit status).
    public var verdict: Verdict {
        // Nothing in scope means nothing was audited: never a pass, whatever else the capture held.
        if inScopeFlows == 0 { return .noScope }
        let failing = !unexpected.isEmpty || rules.contains { $0.status == .missing || $0.status == .partial || $0.status == .blocked }
        return failing ? .fail : .pass
    }
}

/// What an audit concludes.
public enum Verdict: String, Sendable {
    /// No unexpected completed flow, no required rule missing or partial, no rule blocked.
    /// Refused unexpected attempts and advisories may still be listed.
    case pass = "PASS"
    /// Unexpected traffic got through, or a required flow is missing, partial or blocked.
    case fail = "FAIL"
    /// No flow touches a monitored host (the capture may hold other flows, or none): the site
    /// binds the wrong addresses, or the capture was taken in the wrong place or time. Nothing
    /// was audited.
    case noScope = "NO-SCOPE"
}

/// Packets libpcap received and dropped during a live capture.
public struct LiveCaptureCounts: Sendable {
    public var received: UInt64
    public var droppedByKernel: UInt64
    public var droppedByInterface: UInt64
    /// Packets read from the kernel and dropped because the audit was too far behind.
    public var droppedByBacklog: UInt64
    /// The most bytes of packets waiting for the audit at once.
    public var peakBacklogBytes: Int
    public init(received: UInt64, droppedByKernel: UInt64, droppedByInterface: UInt64,
                droppedByBacklog: UInt64 = 0, peakBacklogBytes: Int = 0) {
        self.received = received
        self.droppedByKernel = droppedByKernel
        self.droppedByInterface = droppedByInterface
        self.droppedByBacklog = droppedByBacklog
        self.peakBacklogBytes = peakBacklogBytes
    }
    /// Every packet lost before the audit.
    public var dropped: UInt64 { droppedByKernel &+ droppedByInterface &+ droppedByBacklog }
}
