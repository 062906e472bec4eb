import Flows
import Packets
import Policy

/// Options of an audit run.
public struct AuditConfiguration: Sendable {
    public var meter = FlowMeterConfiguration()
    /// The TLS minimum when neither the rule files nor the site give one.
    public var defaultTLSMinimum: UInt16? = nil
    /// Re-match unexpected flows at the end with every name the capture taught (a DNS answer
    /// seen after the flow still binds it). Files only; a live audit decides as it goes.
    public var rematchAtEnd = true
    /// Unexpected groups (and advisories) kept at most; flows of further groups are not listed.
    public var maximumGroups = 100_000

    public init() {
        meter.inspectedPacketsPerFlow = 4
    }
}

/// A live-audit event: what happened to a flow or a rule, as it happened.
public enum AuditEvent: Sendable {
    /// An in-scope flow that no rule allows, at its first packet.
    case unexpectedFlowStarted(FlowEvidence, nearestRule: String?)
    /// An unexpected flow completed (the responder answered) or was refused.
    case unexpectedFlowChanged(FlowEvidence)
    /// A flow reported unexpected at its first packet turned out allowed when it ended (a name
    /// learned from its own TLS ClientHello or HTTP Host, or a later DNS answer, bound it).
    case unexpectedFlowCleared(FlowEvidence, rules: [String])
    /// A rule's first completed flow.
    case ruleObserved(rule: String, FlowEvidence)
    /// A flow of a rule was refused or got no answer.
    case ruleBlocked(rule: String, FlowEvidence)
}

/// The audit pipeline: capture → decode → flows → names → verdicts (DESIGN.md). Verdicts are
/// decided once per flow, when it ends, so names learned during the flow count.
public final class Auditor {
    public let policy: CompiledPolicy
    public let configuration: AuditConfiguration
    public private(set) var meter: FlowMeter
    public private(set) var names: NameTable
    /// Receives live events (flow start and state changes are only watched when set).
    public var onEvent: ((AuditEvent) -> Void)? {
        didSet { installLiveHooks() }
    }

    var extras: [UInt64: FlowExtras] = [:]
    var rules: [RuleAccumulator]
    var groups: UnexpectedGroups
    var advisories: AdvisoryBook
    var inScopeFlows = 0
    var outOfScopeFlows = 0
    var outOfScopePackets: UInt64 = 0
    var oneSidedFlows = 0
    /// Link control flows (neighbour discovery, DHCP, ...) counted apart from the audit.
    var linkControl = LinkControlCounts()
    var malformed: [String: Int] = [:]
    /// Flows reported live as unexpected at their start (id -> nearest rule text).
    var liveUnexpected: Set<UInt64> = []
    /// Verdicts of tuples whose ends have no names, valid while the name table's generation holds.
    var verdictCache: [VerdictKey: CachedVerdict] = [:]
    static let verdictCacheCapacity = 1 << 15

    public init(policy: CompiledPolicy, configuration: AuditConfiguration = AuditConfiguration()) {
        self.policy = policy
        self.configuration = configuration
        self.names = NameTable(graceSeconds: policy.dnsGrace)
        self.rules = policy.rules.map { RuleAccumulator(rule: $0) }
        self.groups = UnexpectedGroups(capacity: configuration.maximumGroups)
        self.advisories = AdvisoryBook(capacity: configuration.maximumGroups)
        self.meter = FlowMeter(configuration: configuration.meter)
        self.linkControl.audited = policy.policy.site?.auditLinkControl ?? false
        verdictCache.reserveCapacity(Self.verdictCacheCapacity)
        for binding in policy.policy.site?.names ?? [] {
            for address in binding.addresses {
                names.bind(binding.name, to: address, source: .site, at: Int64.min, ttl: nil)
            }
        }
        meter.observer = MeterLink(self)
    }

    // MARK: Running

    /// Audits capture files (`-` for standard input) as one capture, merged by timestamp; with
    /// a `filter`, only the packets it accepts.
    public func run(paths: [String], reading: CaptureRun.Reading = CaptureRun.Reading(),
                    filter: (any CapturePacketFilter)? = nil, progress: CaptureRun.Progress? = nil) -> [InputReport] {
        CaptureRun.run(paths: paths, meter: &meter, reading: reading, filter: filter, progress: progress)
    }

    /// Feeds one batch from any packet source (a live capture).
    public func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>) {
        meter.process(batch, bytes)
    }

    /// Moves the clock of a live audit and ends idle flows.
    public func advanceClock(to time: Int64) { meter.advanceClock(to: time) }

    /// Ends every open flow (end of input or of a live capture).
    public func finishFlows() { meter.finish() }

    // MARK: Names

    func inspect(_ flow: Flow, fromInitiator: Bool, packet: DecodedPacket, frame: Span<UInt8>) {
        let start = packet.payloadOffset
        let payload = frame.extracting(start..<(start + packet.payloadCapturedLength))
        let sourcePort = packet.sourcePort, destinationPort = packet.destinationPort
        if packet.ipProtocol == IPProtocolNumber.udp || packet.ipProtocol == IPProtocolNumber.tcp,
           sourcePort == 53 || sourcePort == 5353 {
            learnDNS(payload, tcp: packet.ipProtocol == IPProtocolNumber.tcp, at: flow.lastTimestamp)
            return
        }
        if destinationPort == 53 || destinationPort == 5353 { return }  // queries teach nothing
        guard packet.ipProtocol == IPProtocolNumber.tcp, payload.count > 0 else { return }
        var entry = extras[flow.id] ?? FlowExtras()
        do {
            if try FlowExtras.readHello(payload, fromInitiator: fromInitiator, into: &entry) { extras[flow.id] = entry }
        } catch {
            if error != .incomplete { malformed[error.rawValue, default: 0] += 1 }
        }
    }

    func learnDNS(_ payload: Span<UInt8>, tcp: Bool, at time: Int64) {
        if let error = names.learn(dnsPayload: payload, tcp: tcp, at: time) { malformed[error.rawValue, default: 0] += 1 }
    }

    /// Names of an address during a flow, plus the flow's own SNI and Host for its responder.
    func names(of address: IPAddress, from: Int64, to: Int64, extra: FlowExtras? = nil) -> [String] {
        var list = names.bindings.isEmpty ? [] : names.names(of: address, from: from, to: to)
        if let extra {
            for name in [extra.serverName, extra.httpHost].compactMap({ $0 }) {
                let normal = NameTable.normalise(name)
                if !list.contains(normal) { list.append(normal) }
            }
        }
        return list
    }

    // MARK: Verdicts

    struct Verdict {
        var inScope: Bool
        /// nil when out of scope (not matched at all).
        var match: MatchResult?
        var query: FlowQuery
    }

    func verdict(_ flow: Flow, extra: FlowExtras?) -> Verdict {
        let port: UInt16
        if flow.hasPorts {
            port = flow.responderPort
        } else if flow.protocolNumber == IPProtocolNumber.icmp || flow.protocolNumber == IPProtocolNumber.icmpv6 {
            port = UInt16(flow.icmpType)
        } else {
            port = 0
        }
        let initiatorNames = names(of: flow.initiator, from: flow.firstTimestamp, to: flow.lastTimestamp)
        let responderNames = names(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp, extra: extra)
        // Flows whose ends have no names are decided by addresses alone: the same tuple gets the
        // same verdict until a name is learned, so it is decided once and cached.
        let cacheable = initiatorNames.isEmpty && responderNames.isEmpty
        let vlan: UInt16? = flow.vlan >= 0 ? UInt16(truncatingIfNeeded: flow.vlan) : nil
        let tunnelID = flow.tunnel?.id
        let cacheKey = VerdictKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber, port: port,
                                  vlan: vlan ?? UInt16.max, tunnelID: tunnelID.map(Int64.init) ?? -1)
        if cacheable, let cached = verdictCache[cacheKey], cached.generation == names.generation {
            return cached.verdict
        }
        let initiatorRoles = policy.roles(for: flow.initiator, names: initiatorNames, vlan: vlan, tunnelID: tunnelID)
        let responderRoles = policy.roles(for: flow.responder, names: responderNames, vlan: vlan, tunnelID: tunnelID)
        let query = FlowQuery(initiator: flow.initiator, responder: flow.responder, initiatorNames: initiatorNames,
                              responderNames: responderNames, ipProtocol: flow.protocolNumber, responderPort: port, vlan: vlan)
        let inScope = policy.isInScope(initiatorRoles: initiatorRoles, responderRoles: responderRoles)
        let verdict: Verdict
        if inScope {
            let match = policy.match(query, initiatorRoles: initiatorRoles, responderRoles: responderRoles, findNearMiss: false)
            verdict = Verdict(inScope: true, match: match, query: query)
        } else {
            verdict = Verdict(inScope: false, match: nil, query: query)
        }
        // Only in-scope verdicts are worth keeping: an out-of-scope one is two table lookups.
        if cacheable && inScope {
            if verdictCache.count >= Self.verdictCacheCapacity { verdictCache.removeAll(keepingCapacity: true) }
            verdictCache[cacheKey] = CachedVerdict(generation: names.generation, verdict: verdict)
        }
        return verdict
    }

    /// The nearest rule to an unexpected flow, in words (computed once per unexpected group).
    func nearestRule(_ verdict: Verdict) -> String? {
        guard let match = verdict.match else { return nil }
        return policy.nearMiss(verdict.query, initiatorRoles: match.initiatorRoles, responderRoles: match.responderRoles)
            .map { policy.describe($0, for: verdict.query) }
    }

    func flowEnded(_ flow: Flow) {
        let extra = extras.removeValue(forKey: flow.id)
        if !linkControl.audited, let kind = LinkControlKind.of(flow) {
            linkControl.add(kind, packets: flow.initiatorPackets &+ flow.responderPackets)
            liveUnexpected.remove(flow.id)
            return
        }
        let verdict = verdict(flow, extra: extra)
        if let hidden = flow.sourceRouteDestination {
            // In scope or not: the header's destination is only the next hop.
            let group = GroupKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber,
                                 port: verdict.query.responderPort, completed: flow.gotThrough, vlan: flow.vlan)
            addAdvisory(.sourceRoute, group: group, detail: hidden.description,
                        message: "\(flow.initiator) -> \(flow.responder) \(flow.protocolName)/\(verdict.query.responderPort) carries a source route "
                            + "whose final destination is \(hidden): the flow was matched on its next hop \(flow.responder)",
                        reference: nil, evidence: FlowEvidence(flow))
        }
        guard verdict.inScope, let match = verdict.match else {
            outOfScopeFlows += 1
            outOfScopePackets += flow.initiatorPackets + flow.responderPackets
            liveUnexpected.remove(flow.id)
            return
        }
        inScopeFlows += 1
        if flow.looksOneSided { oneSidedFlows += 1 }
        // The evidence (Community ID, refusal text) is built only if something keeps it.
        var cachedEvidence: FlowEvidence?
        func evidence() -> FlowEvidence {
            if let cachedEvidence { return cachedEvidence }
            let value = FlowEvidence(flow)
            cachedEvidence = value
            return value
        }
        let group = groupKey(flow, verdict)
        if policy.isAvoided(ipProtocol: flow.protocolNumber, port: verdict.query.responderPort) {
            // Advice belongs to the rule file that gives it: only the systems whose rules allow
            // the flow (or, for an unexpected flow, whose roles its ends hold) advise on it.
            let prefers = policy.preferAdvisories(ipProtocol: flow.protocolNumber, port: verdict.query.responderPort,
                                                  systems: policy.advisingSystems(match))
            if !prefers.isEmpty {
                let service = flow.hasPorts ? "\(flow.protocolName)/\(flow.responderPort)" : flow.protocolName
                addAdvisory(.preferred, group: group, detail: "",
                            message: "\(service) from \(flow.initiator) to \(flow.responder): "
                                + prefers.map(\.reason).joined(separator: "; "),
                            reference: prefers.map(\.qualifiedID).joined(separator: ", "), evidence: evidence())
            }
        }
        if let serverName = extra?.serverName.map(NameTable.normalise) {
            let resolved = names.dnsNames(of: flow.responder, from: flow.firstTimestamp, to: flow.lastTimestamp)
            if !resolved.isEmpty && !resolved.contains(serverName) {
                addAdvisory(.sniMismatch, group: group, detail: serverName,
                            message: "\(flow.initiator) asked \(flow.responder) for '\(serverName)' (SNI), but DNS answers named that address "
                                + resolved.sorted().map { "'\($0)'" }.joined(separator: ", "),
                            reference: nil, evidence: evidence())
            }
        }
        if match.isAllowed {
            for allowed in match.allowed {
                recordRuleFlow(allowed.rule, flow: flow, evidence: evidence)
            }
            if extra != nil { checkTLS(flow, rules: match.allowed.map(\.rule), group: group, extra: extra, evidence: evidence) }
            if liveUnexpected.remove(flow.id) != nil {
                onEvent?(.unexpectedFlowCleared(evidence(), rules: match.allowed.map { rules[$0.rule].rule.qualifiedID }))
            }
        } else {
            let isNew = addUnexpected(flow, verdict: verdict, match: match, evidence: evidence)
            if onEvent != nil, !liveUnexpected.contains(flow.id) {
                onEvent?(.unexpectedFlowStarted(evidence(), nearestRule: isNew ? groupNearest(flow, verdict) : nearestRule(verdict)))
            }
            liveUnexpected.remove(flow.id)
        }
    }

    /// Whether a flow counts for its rule as traffic that got through.
    static func counts(_ flow: Flow) -> (completed: Bool, unanswered: Bool) {
        if flow.gotThrough { return (true, false) }
        // A UDP (or other connectionless) flow with no reply is what a one-way service such
        // as syslog does: sent, not refused.
        if flow.state == .unanswered && flow.protocolNumber != IPProtocolNumber.tcp { return (false, true) }
        return (false, false)
    }

    func recordRuleFlow(_ index: Int, flow: Flow, evidence: () -> FlowEvidence) {
        let (completed, unanswered) = Self.counts(flow)
        rules[index].add(flow, evidence: evidence, completed: completed, unanswered: unanswered)
        if onEvent != nil {
            if completed || unanswered {
                // Announced once per rule: here, or already when a flow of it was established.
                if !rules[index].announced {
                    rules[index].announced = true
                    onEvent?(.ruleObserved(rule: rules[index].rule.qualifiedID, evidence()))
                }
            } else if flow.state != .rejected && flow.state != .unreachable {
                // Refusals (RST, ICMP) were announced when they happened; an attempt nobody
                // answered is known only now, when it times out.
                onEvent?(.ruleBlocked(rule: rules[index].rule.qualifiedID, evidence()))
            }
        }
    }

    /// One advisory per flow group when the TLS version is below the highest minimum of the
    /// rules that allow the flow (each rule file's own minimum, or the site's).
    func checkTLS(_ flow: Flow, rules indices: [Int], group: GroupKey, extra: FlowExtras?, evidence: () -> FlowEvidence) {
        guard let extra, let version = extra.chosenTLS ?? extra.offeredTLS else { return }
        var minimum: UInt16?
        var references: [String] = []
        for index in indices {
            guard let value = policy.tlsMinimum(rule: index)?.wireValue ?? configuration.defaultTLSMinimum, version < value else { continue }
            minimum = max(minimum ?? 0, value)
            references.append(rules[index].rule.qualifiedID)
        }
        guard let minimum else { return }
        let how = extra.chosenTLS != nil ? "negotiated" : "offered at most"
        let name = TLSVersionText.name(version)
        addAdvisory(.tlsBelowMinimum, group: group, detail: String(version),
                    message: "\(name) \(how) between \(flow.initiator) and \(flow.responder) (minimum \(TLSVersionText.name(minimum)))",
                    reference: references.joined(separator: ", "), evidence: evidence())
    }

    func addAdvisory(_ kind: Advisory.Kind, group: GroupKey, detail: String, message: @autoclosure () -> String, reference: String?,
                     evidence: @autoclosure () -> FlowEvidence) {
        advisories.add(kind, group: group, detail: detail, message: message(), reference: reference, evidence: evidence())
    }

    /// Adds an unexpected flow to its group; true when the group is new.
    @discardableResult
    func addUnexpected(_ flow: Flow, verdict: Verdict, match: MatchResult, evidence: () -> FlowEvidence) -> Bool {
        groups.add(groupKey(flow, verdict), flow, names: verdict.query) {
            GroupAccumulator(flow, verdict: verdict, nearest: nearestRule(verdict), evidence: evidence(),
                             initiatorRoles: policy.roleNames(match.initiatorRoles),
                             responderRoles: policy.roleNames(match.responderRoles))
        }
    }

    /// The unexpected group of a flow: its ends, protocol, the service port the verdict matched
    /// on (0 for protocols without one), and whether it got through.
    func groupKey(_ flow: Flow, _ verdict: Verdict) -> GroupKey {
        // A connectionless flow that got no reply went out as far as the capture can tell (a
        // one-way service such as syslog sends just that): unexpected, not a refused attempt,
        // unless an ICMP error refused it.
        let (completed, unanswered) = Self.counts(flow)
        return GroupKey(initiator: flow.initiator, responder: flow.responder, protocolNumber: flow.protocolNumber,
                        port: verdict.query.responderPort, completed: completed || unanswered, vlan: flow.vlan,
                        tunnelKind: flow.tunnel?.kind ?? .none, tunnelID: flow.tunnel?.id.map(Int64.init) ?? -1)
    }

    func groupNearest(_ flow: Flow, _ verdict: Verdict) -> String? {
        groups.groups[groupKey(flow, verdict)]?.nearest ?? nearestRule(verdict)
    }

    // MARK: Live hooks

    /// Tells the meter again what this auditor observes (flow starts and changes only with
    /// ``onEvent`` set).
    func installLiveHooks() {
        meter.observer = MeterLink(self)
    }

    /// A live audit's first look at a flow: unexpected at its first packet?
    func flowStarted(_ flow: Flow) {
        if !self.linkControl.audited, LinkControlKind.of(flow) != nil { return }
        let verdict = self.verdict(flow, extra: nil)
        guard verdict.inScope, let match = verdict.match, !match.isAllowed else { return }
        self.liveUnexpected.insert(flow.id)
        let nearest = self.nearestRule(verdict)
        self.onEvent?(.unexpectedFlowStarted(FlowEvidence(flow), nearestRule: nearest))
    }

    /// A live audit's look at a flow whose state changed: completed or refused.
    func flowStateChanged(_ flow: Flow) {
        if !self.linkControl.audited, LinkControlKind.of(flow) != nil { return }
        if self.liveUnexpected.contains(flow.id) {
            self.onEvent?(.unexpectedFlowChanged(FlowEvidence(flow)))
            return
        }
        let verdict = self.verdict(flow, extra: self.extras[flow.id])
        guard verdict.inScope, let match = verdict.match, match.isAllowed else { return }
        let evidence = FlowEvidence(flow)
        for allowed in match.allowed {
            let id = self.rules[allowed.rule].rule.qualifiedID
            if flow.isCompleted {
                if !self.rules[allowed.rule].announced {
                    self.rules[allowed.rule].announced = true
                    self.onEvent?(.ruleObserved(rule: id, evidence))
                }
            } else if flow.state == .rejected || flow.state == .unreachable {
                self.onEvent?(.ruleBlocked(rule: id, evidence))
            }
        }
    }

    /// The meter's observer for an auditor. The auditor owns its meter, so the meter holds this
    /// link, which refers back to the auditor without owning it.
    final class MeterLink: FlowObserver {
        unowned let auditor: Auditor
        let observesFlowChanges: Bool

        init(_ auditor: Auditor) {
            self.auditor = auditor
            observesFlowChanges = auditor.onEvent != nil
        }

        var inspectsPayload: Bool { true }
        func flowEnded(_ flow: borrowing Flow) { auditor.flowEnded(copy flow) }
        func flowStarted(_ flow: borrowing Flow) { auditor.flowStarted(copy flow) }
        func flowStateChanged(_ flow: borrowing Flow, from oldState: ConnectionState) { auditor.flowStateChanged(copy flow) }
        func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
            auditor.inspect(copy flow, fromInitiator: fromInitiator, packet: copy packet, frame: frame)
        }
        func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
            auditor.policy.orientationHint(a: a, portA: portA, b: b, portB: portB, ipProtocol: protocolNumber)
        }
    }

    // MARK: Report

    /// Builds the report once all flows have ended.
    public func report(inputs: [InputEvidence], policyFiles: [PolicyFileEvidence], policyWarnings: [String],
                       commandLine: [String], toolVersion: String, capture: LiveCaptureCounts? = nil) -> AuditReport {
        if configuration.rematchAtEnd { rematchUnexpected() }
        var ruleResults: [RuleResult] = []
        for index in rules.indices {
            ruleResults.append(rules[index].result(policy: policy, index: index))
        }
        let (completedGroups, attemptGroups) = groups.report()
        var decode = meter.statistics
        decode.peakActiveFlows = meter.statistics.peakActiveFlows
        var report = AuditReport(
            toolVersion: toolVersion, commandLine: commandLine, site: policy.policy.site?.file,
            systems: policy.policy.ruleSets.map { (system: $0.system, title: $0.title, file: $0.file) },
            inputs: inputs, policyFiles: policyFiles, policyWarnings: policyWarnings,
            rules: ruleResults,
            unexpected: completedGroups, attempts: attemptGroups,
            advisories: advisories.sorted,
            documentNotes: policy.policy.ruleSets.flatMap { set in set.notes.map { (system: set.system, note: $0) } },
            inScopeFlows: inScopeFlows, outOfScopeFlows: outOfScopeFlows, outOfScopePackets: outOfScopePackets,
            oneSidedFlows: oneSidedFlows, unlistedUnexpectedFlows: groups.unlistedFlows, namesLearned: names.bindings.count, nameTable: names.statistics, malformedMessages: malformed,
            linkControl: linkControlCounts(), decode: decode, capture: capture)
        report.namedAddresses = names.bindings.keys.sorted()
        return report
    }

    func linkControlCounts() -> LinkControlCounts {
        var counts = linkControl
        counts.arpFrames = meter.statistics.arpFrames
        counts.lldpFrames = meter.statistics.lldpFrames
        counts.llcFrames = meter.statistics.llcFrames
        return counts
    }

    /// Re-matches unexpected groups with every name the capture taught by its end.
    func rematchUnexpected() {
        for (key, group) in groups.groups {
            let initiatorNames = names(of: key.initiator, from: group.firstSeen, to: group.lastSeen)
            let responderNames = Array(Set(names(of: key.responder, from: group.firstSeen, to: group.lastSeen) + group.responderNames)).sorted()
            guard initiatorNames != group.initiatorNames || responderNames != group.responderNames else { continue }
            let query = FlowQuery(initiator: key.initiator, responder: key.responder, initiatorNames: initiatorNames,
                                  responderNames: responderNames, ipProtocol: key.protocolNumber, responderPort: key.port,
                                  vlan: key.vlan >= 0 ? UInt16(truncatingIfNeeded: key.vlan) : nil)
            let match = policy.match(query)
            guard match.isAllowed else { continue }
            for allowed in match.allowed { rules[allowed.rule].absorb(group, completed: key.completed) }
            groups.groups[key] = nil
        }
    }
}

/// TLS version names.
public enum TLSVersionText {
    public static func name(_ wire: UInt16) -> String {
        switch wire {
        case 0x0300: "SSL 3.0"
        case 0x0301: "TLS 1.0"
        case 0x0302: "TLS 1.1"
        case 0x0303: "TLS 1.2"
        case 0x0304: "TLS 1.3"
        default: "TLS 0x\(String(wire, radix: 16))"
        }
    }
}

struct VerdictKey: Hashable {
    var initiator: IPAddress
    var responder: IPAddress
    var protocolNumber: UInt8
    var port: UInt16
    /// The flow's VLAN id, or `UInt16.max` for an untagged flow.
    var vlan: UInt16
    /// The flow's tunnel id, or -1 outside a tunnel or for a tunnel without one.
    var tunnelID: Int64 = -1
}

struct CachedVerdict {
    var generation: Int
    var verdict: Auditor.Verdict
}

extension Auditor {
    /// Every rule's status so far, for progress tables during a live audit (no re-matching).
    public func ruleResultsSoFar() -> [RuleResult] {
        rules.indices.map { rules[$0].result(policy: policy, index: $0) }
    }
}
