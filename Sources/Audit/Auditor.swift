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
        meter.inspectedPacketsPerFlow = PayloadParsers.inspectedPacketsPerFlow
    }
}

/// The audit pipeline: capture → decode → flows → payload parsers → name binder → classifier →
/// findings, with live events (DESIGN.md, docs/architecture.md). Verdicts are decided once per
/// flow, when it ends, so names learned during the flow count. The parts are held by the flow
/// meter's observer (``AuditParts``); this type owns the meter and builds the report.
public final class Auditor {
    public let policy: CompiledPolicy
    public let configuration: AuditConfiguration
    public private(set) var meter: FlowMeter
    /// The audit's parts, which the meter tells about each flow (it holds them as its observer).
    let parts: AuditParts
    /// Every name the capture and the site taught so far.
    public var names: NameTable { parts.binder.table }
    /// Receives live events (flow start and state changes are only watched when set).
    public var onEvent: ((AuditEvent) -> Void)? {
        get { parts.events.handler }
        set {
            parts.events.handler = newValue
            // The meter reads what its observer watches when it is set.
            meter.observer = parts
        }
    }

    public init(policy: CompiledPolicy, configuration: AuditConfiguration = AuditConfiguration()) {
        self.policy = policy
        self.configuration = configuration
        parts = AuditParts(policy: policy, configuration: configuration)
        meter = FlowMeter(configuration: configuration.meter, observer: parts)
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

    /// Meters packets `range` of a batch.
    public func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, range: Range<Int>) {
        meter.process(batch, bytes, range: range)
    }

    /// Meters packets `range` of a batch decoded ahead for this audit's meter.
    public func process(_ batch: borrowing [CapturedPacket], _ bytes: Span<UInt8>, decoded: inout DecodedBatch,
                        range: Range<Int>) {
        meter.process(batch, bytes, decoded: &decoded, range: range)
    }

    /// The seed of the meter's flow hash.
    public var hashSeed: UInt64 { meter.hashSeed }

    /// Moves the clock of a live audit and ends idle flows.
    public func advanceClock(to time: Int64) { meter.advanceClock(to: time) }

    /// Ends every open flow (end of input or of a live capture).
    public func finishFlows() { meter.finish() }

    // MARK: Report

    /// Builds the report once all flows have ended.
    public func report(inputs: [InputEvidence], policyFiles: [PolicyFileEvidence], policyWarnings: [String],
                       commandLine: [String], toolVersion: String, capture: LiveCaptureCounts? = nil) -> AuditReport {
        if configuration.rematchAtEnd { parts.findings.rematch(names: parts.binder, classifier: parts.classifier) }
        let findings = parts.findings
        let (completedGroups, attemptGroups) = findings.groups.report()
        var decode = meter.statistics
        decode.peakActiveFlows = meter.statistics.peakActiveFlows
        var report = AuditReport(
            toolVersion: toolVersion, commandLine: commandLine, site: policy.policy.site?.file,
            systems: policy.policy.ruleSets.map { (system: $0.system, title: $0.title, file: $0.file) },
            inputs: inputs, policyFiles: policyFiles, policyWarnings: policyWarnings,
            rules: findings.ruleResults(),
            unexpected: completedGroups, attempts: attemptGroups,
            advisories: findings.advisories.sorted,
            documentNotes: policy.policy.ruleSets.flatMap { set in set.notes.map { (system: set.system, note: $0) } },
            inScopeFlows: findings.inScopeFlows, outOfScopeFlows: findings.outOfScopeFlows,
            outOfScopePackets: findings.outOfScopePackets, oneSidedFlows: findings.oneSidedFlows,
            unlistedUnexpectedFlows: findings.groups.unlistedFlows, namesLearned: names.bindings.count,
            nameTable: names.statistics, malformedMessages: parts.parsers.malformed,
            linkControl: linkControlCounts(), decode: decode, capture: capture)
        report.namedAddresses = names.bindings.keys.sorted()
        return report
    }

    func linkControlCounts() -> LinkControlCounts {
        var counts = parts.findings.linkControl
        counts.arpFrames = meter.statistics.arpFrames
        counts.lldpFrames = meter.statistics.lldpFrames
        counts.llcFrames = meter.statistics.llcFrames
        return counts
    }

    /// Every rule's status so far, for progress tables during a live audit (no re-matching).
    public func ruleResultsSoFar() -> [RuleResult] { parts.findings.ruleResults() }
}

/// The audit's parts, wired to the flow meter as its observer: flows end into the audit, the
/// first payload packets of each flow go to the payload parsers (which feed the name binder),
/// the policy orients flows whose start was not seen, and (live) flow starts and state changes
/// go to the event emission. The meter owns this object; it refers to nothing that owns the
/// meter.
final class AuditParts: FlowObserver {
    let policy: CompiledPolicy
    var parsers = PayloadParsers(detectsServices: false)
    var binder: NameBinder
    var classifier: FlowClassifier
    var findings: AuditFindings
    var events: AuditEventEmitter

    init(policy: CompiledPolicy, configuration: AuditConfiguration) {
        self.policy = policy
        binder = NameBinder(graceSeconds: policy.dnsGrace, siteNames: policy.policy.site?.names ?? [])
        classifier = FlowClassifier(policy: policy)
        findings = AuditFindings(policy: policy, defaultTLSMinimum: configuration.defaultTLSMinimum,
                                 maximumGroups: configuration.maximumGroups)
        events = AuditEventEmitter(ruleIDs: policy.rules.map(\.qualifiedID))
    }

    // MARK: FlowObserver

    var observesFlowChanges: Bool { events.isOn }
    var inspectsPayload: Bool { true }
    func flowEnded(_ flow: borrowing Flow) { ended(copy flow) }
    func flowStarted(_ flow: borrowing Flow) { started(copy flow) }
    func flowStateChanged(_ flow: borrowing Flow, from oldState: ConnectionState) { changed(copy flow) }

    /// One of a flow's first payload packets: to the payload parsers, which feed the name binder.
    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        parsers.inspect(flow: flow.id, at: flow.lastTimestamp, fromInitiator: fromInitiator, packet: packet, frame: frame, names: &binder)
    }

    func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
        policy.orientationHint(a: a, portA: portA, b: b, portB: portB, ipProtocol: protocolNumber)
    }

    // MARK: One flow through the parts

    /// A flow ended: classified once with every name its ends had, into the findings, then the
    /// events.
    func ended(_ flow: Flow) {
        let extra = parsers.take(flow.id)
        if let kind = classifier.linkControl(flow) {
            findings.addLinkControl(kind, flow)
            events.flowEndedQuietly(flow)
            return
        }
        let verdict = classifier.verdict(flow, extra: extra, names: binder)
        // The evidence (Community ID, refusal text) is built only if something keeps it.
        var cachedEvidence: FlowEvidence?
        func evidence() -> FlowEvidence {
            if let cachedEvidence { return cachedEvidence }
            let value = FlowEvidence(flow)
            cachedEvidence = value
            return value
        }
        switch findings.add(flow, verdict: verdict, extra: extra, names: binder, evidence: evidence) {
        case nil:
            events.flowEndedQuietly(flow)
        case .allowed(let match):
            if events.isOn { events.allowedFlowEnded(flow, rules: match.allowed.map(\.rule), evidence: evidence) }
        case .unexpected(let newGroup):
            guard events.isOn else { return }
            events.unexpectedFlowEnded(flow, nearest: {
                (newGroup ? self.findings.groupNearest(flow, verdict) : nil) ?? self.classifier.nearestRule(verdict)
            }, evidence: evidence)
        }
    }

    /// A flow's first packet (live): an unexpected flow is announced at once.
    func started(_ flow: Flow) {
        if classifier.linkControl(flow) != nil { return }
        let verdict = classifier.verdict(flow, extra: nil, names: binder)
        events.flowStarted(flow, verdict: verdict) { self.classifier.nearestRule($0) }
    }

    /// A flow's state changed (live): completed, refused or unreachable.
    func changed(_ flow: Flow) {
        if classifier.linkControl(flow) != nil { return }
        if events.unexpectedFlowChanged(flow) { return }
        let verdict = classifier.verdict(flow, extra: parsers.extras(of: flow.id), names: binder)
        events.ruleFlowChanged(flow, verdict: verdict)
    }
}
