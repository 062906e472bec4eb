import Foundation
import ArgumentParser
import Audit
import Flows
import LiveCapture
import Packets
import Policy
import Reports
import Workflows

/// Report formats of `flowaudit audit` and `flowaudit live`.
enum AuditFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json, junit, sarif, csv, html
}

extension FindingCategory: ExpressibleByArgument {}

/// Options shared by `audit` and `live`: the policy, the report and the exit policy.
struct AuditOptions: ParsableArguments {
    @Option(help: "Site binding (YAML): where this deployment's roles live; names its rule files.")
    var site: String

    @Option(name: .customLong("rules"), parsing: .upToNextOption, help: "More rule files to load with the site's.")
    var rules: [String] = []

    @Option(help: ArgumentHelp(
        "Report format.",
        discussion: "text; json (the full report); junit (JUnit XML for CI servers); sarif (SARIF 2.1.0, findings at their rule's line); csv (one row per finding); html (one self-contained page for people: verdict, a diagram per system, tables)."))
    var format: AuditFormat = .text

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String = "-"

    @Option(name: .customLong("fail-on"), help: ArgumentHelp(
        "Finding categories that make the exit status 1, comma separated (unexpected, attempt, missing, blocked, advisory, no-scope), or 'none'.",
        discussion: "It changes only the exit status: the report's verdict (PASS, FAIL, NO-SCOPE) follows from the findings alone."))
    var failOn: String = "unexpected,missing,blocked,no-scope"

    @Flag(name: .customLong("no-color"), help: "Never colour the text report (so does a non-empty NO_COLOR in the environment).")
    var noColour = false

    /// True when the environment asks for no colour (NO_COLOR set and not empty, no-color.org).
    static var noColorRequested: Bool { !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty }

    func validate() throws {
        _ = try failOnCategories()
    }

    func failOnCategories() throws -> Set<FindingCategory> { try Self.failOnCategories(failOn) }

    /// The categories of a `--fail-on` value (`unexpected,missing`, or `none`).
    static func failOnCategories(_ failOn: String) throws -> Set<FindingCategory> {
        if failOn == "none" || failOn.isEmpty { return [] }
        var set: Set<FindingCategory> = []
        for word in failOn.split(separator: ",") {
            let name = String(word).trimmed()
            guard let category = FindingCategory(rawValue: name) else {
                throw ValidationError("Unknown --fail-on category '\(name)': use \(FindingCategory.allCases.map(\.rawValue).joined(separator: ", ")) or none.")
            }
            set.insert(category)
        }
        return set
    }

    /// Loads and compiles the policy; prints its diagnostics; exits 2 on errors.
    func loadPolicy() throws -> (CompiledPolicy, warnings: [String], files: [PolicyFileEvidence]) {
        let loaded = PolicyLoader().load(site: site, rules: rules)
        // Errors always go to standard error; warnings too when the report is not text on the
        // terminal (the text report lists them itself).
        for diagnostic in loaded.diagnostics where diagnostic.severity == .error || format != .text || output != "-" {
            printDiagnostic(diagnostic)
        }
        if loaded.hasErrors {
            printError("the rules or the site are invalid: nothing was audited (run 'flowaudit lint' for details)")
            throw ExitCode(2)
        }
        var files = [PolicyFileEvidence(path: site, kind: "site", sha256: FileDigest.sha256(path: site)?.digest)]
        for set in loaded.policy.ruleSets {
            files.append(PolicyFileEvidence(path: set.file, kind: "rules", sha256: FileDigest.sha256(path: set.file)?.digest))
        }
        let warnings = loaded.diagnostics.filter { $0.severity != .error }.map(\.description)
        return (CompiledPolicy(loaded.policy), warnings, files)
    }

    /// Renders the report, writes it (to a temporary file renamed over `--output` once
    /// complete), and returns the exit status: 2 for an input or output error, 3 when the
    /// report is INCOMPLETE (unless loss is allowed), 1 for findings in `--fail-on`, else 0.
    func finish(_ report: AuditReport, auditor: Auditor, inputError: Bool) throws -> Int32 {
        let categories = try failOnCategories()
        let counts = report.counts
        let failing = categories.contains { counts[$0, default: 0] > 0 }
        let incomplete = !report.completeness.isComplete && !report.completeness.lossAllowed
        var status: Int32 = inputError ? 2 : (incomplete ? ExitStatus.incomplete : (failing ? 1 : 0))
        let out: ReportOutput
        do { out = try ReportOutput(replacing: output) } catch {
            printError("\(error)")
            return 2
        }
        switch format {
        case .json:
            AuditJSON.write(report, failOn: categories, exitStatus: status, to: out)
        case .junit:
            out.write(AuditJUnit.render(report, failOn: categories, exitStatus: status))
        case .sarif:
            out.write(AuditSARIF.render(report, policy: PolicySummary(auditor.policy.policy), failOn: categories, exitStatus: status))
        case .csv:
            out.write(AuditCSV.render(report))
        case .html:
            let names = auditor.names
            out.write(AuditHTML.render(report, policy: PolicySummary(auditor.policy.policy), failOn: categories, exitStatus: status,
                                       outputPath: output == "-" ? nil : output,
                                       names: { address in names.allBindings(of: address).map(\.name) }))
        case .text:
            let names = auditor.names
            out.write(AuditText.render(report, failOn: categories, exitStatus: status, colour: out.isTerminal && !noColour && !Self.noColorRequested,
                                       names: { address in names.allBindings(of: address).map(\.name) }))
        }
        do { try out.commit() } catch {
            printError("\(error)")
            status = 2
        }
        return status
    }
}

extension String {
    func trimmed() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit captures against the vendor rules bound to a site.",
        discussion: """
            Reads the captures (pcap or pcapng, plain or gzip/zstd-compressed) as one capture merged \
            by timestamp, only the packets --filter accepts when given, groups packets into flows and decides \
            each flow when it ends: allowed by which rules, unexpected, or out of scope. Reports \
            every rule's status (observed, blocked, missing, partial, unbound), unexpected flows and \
            attempts, and advisories. The verdict is FAIL when unexpected traffic got through or a \
            required rule is missing, partial or blocked, and NO-SCOPE when no flow touches a monitored \
            host (nothing was audited). Exit status: 0 when nothing in --fail-on was found, 1 when \
            something was, 2 for a usage error, an input that could not be read at all or a report \
            that could not be written (the report is still written for what could be read), 3 when \
            the report is INCOMPLETE: a capture cut short or unreadable from some record on was \
            audited up to there (unless --allow-loss). The report is written to a temporary file \
            and renamed over --output once complete.
            """
    )

    @OptionGroup var capture: CaptureInputs
    var captures: [String] { capture.paths }

    @OptionGroup var options: AuditOptions
    @OptionGroup var timeouts: TimeoutOptions
    @OptionGroup var threadOptions: ThreadOptions
    @OptionGroup var progressOptions: ProgressOptions

    @Option(help: ArgumentHelp(
        "Digest of each input for the evidence manifest (sha256, or none).",
        discussion: "SHA-256 runs on the second core while the audit runs; on a multi-gigabyte capture it can take longer than the audit itself."))
    var digest: DigestChoice = .sha256

    enum DigestChoice: String, CaseIterable, ExpressibleByArgument { case sha256, none }

    @Flag(name: .customLong("allow-loss"), help: "Report captures cut short or unreadable from some record on, but keep them out of the exit status (no exit 3).")
    var allowLoss = false

    @Option(name: .customLong("extract"), help: ArgumentHelp(
        "Write the packets of each unexpected group, refused unexpected attempt and blocked rule to a file of its own in this folder.",
        discussion: "Files are named by finding id (U-….pcap, A-….pcap, blocked-SYSTEM_RULE.pcap), as flowaudit extract writes them; each file's capture filter is printed on standard error.",
        valueName: "dir"))
    var extract: String?

    func validate() throws {
        if let extract {
            let type = (try? FileManager.default.attributesOfItem(atPath: extract))?[.type] as? FileAttributeType
            guard type == .typeDirectory, FileManager.default.isWritableFile(atPath: extract) else {
                throw ValidationError("--extract \(extract): not a writable folder")
            }
            if captures.contains("-") { throw ValidationError("--extract reads the captures again: name capture files, not standard input") }
        }
    }

    func run() throws {
        let filter = try capture.packetFilter()
        let (policy, warnings, files) = try options.loadPolicy()
        let configuration = timeouts.auditConfiguration
        let auditor = Auditor(policy: policy, configuration: configuration)
        // The evidence manifest's digests are computed on the other core while the audit runs.
        let digests = BackgroundDigests(paths: digest == .sha256 ? captures : [])
        let progress = progressOptions.line(for: captures)
        let inputs = auditor.run(paths: captures, reading: timeouts.reading(threadOptions), filter: filter, progress: progress?.hook)
        progress?.finish()
        var inputError = false
        if let failure = filter?.failure {
            printError("\(failure)")
            inputError = true
        }
        var evidence: [InputEvidence] = []
        var completeness = Completeness()
        completeness.lossAllowed = allowLoss
        for input in inputs {
            for warning in input.summary.warnings {
                printWarning("\(warning)")
                if case .truncatedRecord = warning {
                    completeness.gaps.append(Completeness.Gap(kind: "truncated-input", detail: warning.description))
                }
            }
            if let error = input.error ?? input.summary.error {
                printError("\(error)")
                // A capture read up to a corrupt record is audited as far as it goes (INCOMPLETE);
                // one that could not be read at all is an input error.
                if input.summary.packets > 0 {
                    completeness.gaps.append(Completeness.Gap(kind: "unreadable-rest", detail: "\(error)"))
                } else {
                    inputError = true
                }
            }
            let digest = digests.digest(of: input.summary.path)
            evidence.append(InputEvidence(report: input, sha256: digest?.digest, size: digest?.size))
        }
        var report = auditor.report(inputs: evidence, policyFiles: files, policyWarnings: warnings,
                                    commandLine: CommandLine.arguments, toolVersion: FlowAuditVersion.string)
        report.completeness = completeness
        if let extract, !inputError {
            let findings = ExtractableFinding.all(in: report, blockedOnly: true)
            let written = try Extraction.extract(findings, paths: captures, outputs: findings.map { extract + "/" + $0.fileName },
                                                 policy: policy, timeouts: timeouts, threadOptions: threadOptions)
            for (index, finding) in findings.enumerated() {
                printStatus("extract: \(written.files[index].path): \(written.files[index].packets) packets of \(finding.id) (\(finding.title)); filter: \(written.filters[index])")
            }
        }
        let status = try options.finish(report, auditor: auditor, inputError: inputError)
        if status != 0 { throw ExitCode(status) }
    }
}
