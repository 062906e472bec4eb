import ArgumentParser

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
        ]
    )
}

enum FlowAuditVersion {
    static let string = "0.1.0"
}
