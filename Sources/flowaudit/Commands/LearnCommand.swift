import ArgumentParser
import Audit
import Flows
import Packets
import Policy
import Reports
import Workflows

struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Draft a rule file from the traffic a capture shows between a site's roles.",
        discussion: """
            A starting point for a vendor's model, never a replacement: the draft allows what the \
            capture showed, not what the vendor's document allows. Every flow that got through and \
            touches a host holding a monitored role of the site becomes evidence for a rule from the \
            initiator's roles to the responder's on the responder's port (a host with no role gets \
            a role of its own); ephemeral responder ports (49152 and above, two or more between \
            the same roles) collapse into one range; each rule is commented with the basis of its \
            direction (SYN seen, first packet, or a mid-stream guess, then direction: both) and \
            the flows that justify it (count, times, Community IDs). Refused attempts are listed \
            as comments. The draft passes 'flowaudit lint'; audited with a site that loads it, the \
            same capture shows no unexpected traffic. See docs/rules.md.
            """
    )

    @OptionGroup var capture: CaptureInputs

    @Option(help: "Site binding (YAML): its roles name the hosts of the draft.")
    var site: String

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: "More rule files to load with the site's.")
    var rules: [String] = []

    @Option(name: .customLong("system"), help: "The draft's system id ([a-z0-9-]+).")
    var system: String = "learned"

    @Option(name: .shortAndLong, help: "Write the draft to this file instead of standard output.")
    var output: String = "-"

    @OptionGroup var timeouts: TimeoutOptions
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard !system.isEmpty, system.allSatisfy({ ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }) else {
            throw ValidationError("--system '\(system)': use lower-case letters, digits and '-'")
        }
        if capture.paths.contains("-") {
            throw ValidationError("learn reads the captures twice: name capture files, not standard input")
        }
    }

    func run() throws {
        let policy = try Extraction.loadPolicy(site: site, rules: rules)
        // First pass: the audit, for the names DNS answers, TLS and HTTP give addresses.
        let auditor = Auditor(policy: policy, configuration: timeouts.auditConfiguration)
        let inputs = auditor.run(paths: capture.paths, reading: timeouts.reading(threadOptions))
        for input in inputs {
            if let error = input.error ?? input.summary.error {
                printError("\(error)")
                if input.summary.packets == 0 { throw ExitCode(ExitStatus.usageOrIO) }
            }
        }
        let names = auditor.names
        // Second pass: the flows, oriented as the audit orients them.
        let drafter = Drafter(policy: policy, names: names)
        var meter = FlowMeter(configuration: timeouts.auditConfiguration.meter, observer: drafter)
        _ = CaptureRun.run(paths: capture.paths, meter: &meter, reading: timeouts.reading(threadOptions))
        let draft = drafter.draft
        let out: ReportOutput
        do { out = try ReportOutput(replacing: output) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        out.write(draft.yaml(system: system, captures: capture.paths, site: site))
        do { try out.commit() } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        if output != "-" { printStatus("learn: \(draft.flowsUsed) flows drafted into \(output); check it against the vendor's document") }
    }
}

/// The observer of `learn`'s second metering: each flow, oriented as the audit orients it, with
/// the names of its ends (the audit's name table, and the name its client claims in a TLS hello
/// or HTTP Host, which names its responder as in the audit), drafted into rules.
final class Drafter: FlowObserver {
    let policy: CompiledPolicy
    let names: NameTable
    var draft: RuleDraft
    /// The server name each open flow's client claimed.
    var claimed: [UInt64: String] = [:]

    init(policy: CompiledPolicy, names: NameTable) {
        self.policy = policy
        self.names = names
        draft = RuleDraft(policy: policy)
    }

    var inspectsPayload: Bool { true }

    func flowEnded(_ flow: borrowing Flow) {
        let first = flow.firstTimestamp, last = flow.lastTimestamp, responder = flow.responder
        let claim = claimed.removeValue(forKey: flow.id)
        let names = names
        draft.add(flow) { address in
            var list = names.names(of: address, from: first, to: last)
            if address == responder, let claim, !list.contains(claim) { list.append(claim) }
            return list
        }
    }

    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {
        guard packet.ipProtocol == IPProtocolNumber.tcp, fromInitiator else { return }
        let id = flow.id
        guard claimed[id] == nil else { return }
        let start = packet.payloadOffset
        let payload = frame.extracting(start..<(start + packet.payloadCapturedLength))
        if let name = ClaimedName.of(tcpPayload: payload, fromInitiator: fromInitiator) { claimed[id] = name }
    }

    func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? {
        policy.orientationHint(a: a, portA: portA, b: b, portB: portB, ipProtocol: protocolNumber)
    }
}
