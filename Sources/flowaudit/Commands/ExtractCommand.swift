import Foundation
import ArgumentParser
import Audit
import Flows
import Packets
import Policy
import Reports
import Workflows

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Write the packets of one finding to a pcap or pcapng file, and print its capture filter.",
        discussion: """
            Audits the captures as 'flowaudit audit' does, finds the finding FINDING (the id the \
            text and JSON reports show: U-… for unexpected traffic, A-… for a refused unexpected \
            attempt, or a rule id such as arksspr/smtp-otp for the rule's refused attempts), reads \
            the captures again and writes every packet of the finding's flows (ICMP errors that \
            refused them included) to OUT: pcapng when its name ends in .pcapng, else pcap with \
            nanosecond timestamps. Prints the BPF capture filter (tcpdump, Wireshark) that selects \
            the group. Exit status: 0 written, 2 for a usage error, an unknown finding, or an input \
            or output that cannot be read or written.
            """
    )

    @OptionGroup var capture: CaptureInputs

    @Option(help: "Site binding (YAML), as for audit.")
    var site: String

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: "More rule files to load with the site's.")
    var rules: [String] = []

    @Option(help: "The finding's id, as the report shows it (U-…, A-…, or a rule id).")
    var finding: String

    @Option(name: .customShort("w"), help: ArgumentHelp("The capture file to write (.pcapng: pcapng; else pcap).", valueName: "file"))
    var write: String

    @OptionGroup var timeouts: TimeoutOptions
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if capture.paths.contains("-") {
            throw ValidationError("extract reads the captures twice: name capture files, not standard input")
        }
    }

    func run() throws {
        let policy = try Extraction.loadPolicy(site: site, rules: rules)
        let report = try Extraction.audit(paths: capture.paths, policy: policy, timeouts: timeouts, threadOptions: threadOptions)
        let findings = ExtractableFinding.all(in: report, blockedOnly: false)
        guard let target = findings.first(where: { $0.id == finding }) else {
            let known = findings.map { "\($0.id) (\($0.kind.rawValue): \($0.title))" }
            printError("no finding '\(finding)' in the audit of \(capture.paths.joined(separator: ", "))"
                + (known.isEmpty ? ": it has no unexpected traffic and no refused attempts" : "; its findings with packets: \n  " + known.joined(separator: "\n  ")))
            throw ExitCode(ExitStatus.usageOrIO)
        }
        let written = try Extraction.extract([target], paths: capture.paths, outputs: [write], policy: policy, timeouts: timeouts, threadOptions: threadOptions)
        print("\(target.id): \(target.title)")
        print("wrote \(written.files[0].packets) packets of \(written.flows[0]) flow\(written.flows[0] == 1 ? "" : "s") to \(write)")
        print("filter: \(written.filters[0])")
    }
}

/// What `extract` and `audit --extract` share: the policy, the audit, and the extraction.
enum Extraction {
    static func loadPolicy(site: String, rules: [String]) throws -> CompiledPolicy {
        let loaded = PolicyLoader().load(site: site, rules: rules)
        for diagnostic in loaded.diagnostics where diagnostic.severity == .error { printDiagnostic(diagnostic) }
        if loaded.hasErrors {
            printError("the rules or the site are invalid (run 'flowaudit lint' for details)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        return CompiledPolicy(loaded.policy)
    }

    static func audit(paths: [String], policy: CompiledPolicy, timeouts: TimeoutOptions, threadOptions: ThreadOptions) throws -> AuditReport {
        let auditor = Auditor(policy: policy, configuration: timeouts.auditConfiguration)
        let inputs = auditor.run(paths: paths, reading: timeouts.reading(threadOptions))
        var failed = false
        for input in inputs {
            if let error = input.error ?? input.summary.error {
                printError("\(error)")
                if input.summary.packets == 0 { failed = true }
            }
        }
        if failed { throw ExitCode(ExitStatus.usageOrIO) }
        return auditor.report(inputs: [], policyFiles: [], policyWarnings: [], commandLine: CommandLine.arguments,
                              toolVersion: FlowAuditVersion.string)
    }

    /// Writes each finding's packets to its output; returns what each file holds, each
    /// finding's flow count and its capture filter.
    static func extract(_ findings: [ExtractableFinding], paths: [String], outputs: [String], policy: CompiledPolicy,
                        timeouts: TimeoutOptions, threadOptions: ThreadOptions) throws -> (files: [PacketExtraction.Written], flows: [Int], filters: [String]) {
        let extraction = PacketExtraction(paths: paths, meter: timeouts.auditConfiguration.meter, policy: policy,
                                          reading: timeouts.reading(threadOptions), targets: findings.count) { flow in
            var indices: [Int] = []
            for index in findings.indices where findings[index].matches(flow) { indices.append(index) }
            return indices
        }
        do {
            let files = try extraction.write(paths: paths, to: outputs, reading: timeouts.reading(threadOptions))
            let filters = findings.indices.map { findings[$0].filter ?? PacketExtraction.filter(extraction.keys[$0]) }
            return (files, extraction.flows, filters)
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
    }
}
