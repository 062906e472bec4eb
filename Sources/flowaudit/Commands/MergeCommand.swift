import ArgumentParser
import Audit
import Reports

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge JSON audit reports of shards of one site's traffic into one report.",
        discussion: """
            Give the reports in capture order (the order 'flowaudit audit' would read the shards). \
            A rule is missing only when no shard saw it; groups of unexpected traffic with the same \
            initiator, responder, service, VLAN and tunnel become one (counts summed, first and last \
            seen the earliest and latest, evidence concatenated up to the auditor's caps); statistics \
            are summed and incompleteness carried. When no flow is open across a shard boundary the \
            merged report equals auditing the shards together (docs/report.md says what differs when \
            flows are cut). Reports made with other rule files or another site (other SHA-256 digests \
            of the policy files) are refused. Exit status as 'audit': 0, 1 for findings in --fail-on, \
            2 for a usage error or a report that cannot be read or merged, 3 when INCOMPLETE.
            """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument { case text, json }

    @Argument(help: "JSON audit reports (flowaudit audit --format json), in capture order.")
    var reports: [String]

    @Option(help: "Output format: text (a summary) or json (the merged report, the layout of audit --format json).")
    var format: Format = .text

    @Option(help: "Write the merged report to this file instead of standard output.")
    var output: String = "-"

    @Option(name: .customLong("fail-on"), help: "Finding categories that make the exit status 1, as for audit.")
    var failOn: String = "unexpected,missing,blocked,no-scope"

    func validate() throws {
        guard !reports.isEmpty else { throw ValidationError("Give at least one report to merge.") }
        _ = try categories()
    }

    func categories() throws -> Set<FindingCategory> { try AuditOptions.failOnCategories(failOn) }

    func run() throws {
        let merge: ReportMerge
        do {
            var parsed: [(path: String, report: JSONValue)] = []
            for path in reports { parsed.append((path, try ReportMerge.read(path))) }
            merge = try ReportMerge(parsed, failOn: try categories(), commandLine: CommandLine.arguments)
        } catch let failure as ReportMerge.Failure {
            printError("\(failure)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        for warning in merge.warnings { printWarning("\(warning)") }
        let out: ReportOutput
        do { out = try ReportOutput(replacing: output) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        switch format {
        case .json: out.write(merge.merged.text + "\n")
        case .text: out.write(merge.text())
        }
        do { try out.commit() } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        if merge.exitStatus != 0 { throw ExitCode(merge.exitStatus) }
    }
}
