import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The `flowaudit` command tree. One file per command under `Commands/`; `run()` only passes
/// arguments on to the library modules.
@main
struct FlowAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flowaudit",
        abstract: "Audit packet captures against a vendor's documented network flows.",
        version: FlowAuditVersion.string,
        subcommands: [
            AuditCommand.self,
            LiveCommand.self,
            InterfacesCommand.self,
            FlowsCommand.self,
            LintCommand.self,
            ExplainCommand.self,
            DiffCommand.self,
            MergeCommand.self,
            ExtractCommand.self,
            LearnCommand.self,
        ]
    )
}

extension FlowAudit {
    /// Runs the command, with ArgumentParser's usage-error status (64, EX_USAGE) mapped to 2, the
    /// documented status of usage and I/O errors (see ``ExitStatus``), and its messages in the
    /// one form flowaudit writes errors in (`flowaudit: error: ...`, see Diagnostics.swift).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error).rawValue
            if error is ExitCode || code == 0 {
                exit(withError: error)  // a status of our own, or --help and --version
            }
            writeStandardError(usageMessage(fullMessage(for: error)))
            Glibc.exit(code == 64 ? ExitStatus.usageOrIO : code)
        }
    }

    /// ArgumentParser's `Error: problem` (and the usage lines after it) as
    /// `flowaudit: error: problem`, the usage lines kept.
    static func usageMessage(_ message: String) -> String {
        var text = message
        for prefix in ["Error: ", "error: "] where text.hasPrefix(prefix) {
            text = "flowaudit: error: " + text.dropFirst(prefix.count)
        }
        if !text.hasPrefix("flowaudit: ") { text = "flowaudit: error: " + text }
        if !text.hasSuffix("\n") { text += "\n" }
        return text
    }
}

/// The exit statuses of `audit` and `live` (README, --help).
enum ExitStatus {
    /// Nothing in `--fail-on` was found and the audit saw everything.
    static let pass: Int32 = 0
    /// Findings in `--fail-on`.
    static let findings: Int32 = 1
    /// A usage error (ArgumentParser's 64 mapped here), an input or policy that could not be
    /// read, an output that could not be written.
    static let usageOrIO: Int32 = 2
    /// The report is INCOMPLETE: packets dropped, the interface down for a while, events not
    /// delivered, or a capture file cut short (unless `--allow-loss`).
    static let incomplete: Int32 = 3
}

enum FlowAuditVersion {
    static let string = "0.1.0"
}
