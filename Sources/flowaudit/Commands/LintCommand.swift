import ArgumentParser
import Policy

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate rule files and site bindings and print the model as it was understood.",
        discussion: """
            Each FILE is a rule file (it has a 'system:' key) or a site binding (a 'site:' key). \
            A site is loaded with the rule files its 'rules:' names plus the rule files given. \
            Writes every error, warning and note to standard error (flowaudit: error: \
            FILE:LINE:COL: message) with a count per file, then prints the normalised model of \
            each valid file on standard output (of every file with --print). Exit status: 0 when \
            no file has an error (warnings allowed), 2 otherwise.
            """
    )

    @Argument(help: "Rule files and site bindings.")
    var files: [String]

    @Flag(name: .customLong("print"), help: "Print the model of a file with errors too (as far as it could be read).")
    var printAlways = false

    func run() throws {
        let results = PolicyLoader().load(files: files)
        var failed = false
        var printed = 0
        for result in results {
            let diagnostics = (result.diagnostics + PolicyLinter.check(result.policy)).sortedForDisplay
            for diagnostic in diagnostics { printDiagnostic(diagnostic) }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.filter { $0.severity == .warning }.count
            let notes = diagnostics.filter { $0.severity == .note }.count
            var counts = "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
            if notes > 0 { counts += ", \(notes) note\(notes == 1 ? "" : "s")" }
            let name = result.policy.site.map { "site \($0.file)" } ?? "rule files"
            printStatus("\(name): \(counts)" + (result.hasErrors && !printAlways ? " (model not printed: fix the errors, or use --print)" : ""))
            if !result.hasErrors || printAlways {
                if printed > 0 { print("") }
                print(PolicyText.render(result.policy), terminator: "")
                printed += 1
            }
            failed = failed || result.hasErrors
        }
        if failed { throw ExitCode(2) }
    }
}
