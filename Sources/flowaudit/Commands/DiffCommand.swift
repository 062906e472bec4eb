import ArgumentParser
import Reports

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two audit reports (audit --format json): what a change made appear or go away.",
        discussion: """
            Lists unexpected traffic groups that are new in AFTER and those that are gone, rules \
            newly missing, partial or blocked (naming those that went from observed to blocked), \
            rules resolved, and new or gone refused attempts and advisories. Groups are compared by \
            initiator, responder, service, VLAN and tunnel; rules by id. Exit status: 1 when AFTER \
            has a regression (a new unexpected group, a rule newly missing, partial or blocked), 0 \
            when it has none, 2 for a usage error or a file that cannot be read or is not an audit \
            report.
            """
    )

    enum Format: String, CaseIterable, ExpressibleByArgument { case text, json, junit }

    @Argument(help: "The earlier report (flowaudit audit --format json).")
    var before: String

    @Argument(help: "The later report.")
    var after: String

    @Option(help: "Output format.")
    var format: Format = .text

    @Option(help: "Write the comparison to this file instead of standard output.")
    var output: String = "-"

    func run() throws {
        let diff: ReportDiff
        do {
            diff = ReportDiff(before: before, try ReportDiff.read(before), after: after, try ReportDiff.read(after))
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        let out: ReportOutput
        do { out = try ReportOutput(replacing: output) } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        switch format {
        case .text: out.write(ReportDiffText.render(diff))
        case .json: out.write(ReportDiffJSON.render(diff))
        case .junit: out.write(ReportDiffJUnit.render(diff))
        }
        do { try out.commit() } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.usageOrIO)
        }
        if diff.exitStatus != 0 { throw ExitCode(diff.exitStatus) }
    }
}
