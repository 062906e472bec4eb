import ArgumentParser
import Policy

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate rule files and site bindings and print the model as it was understood.",
        discussion: """
            Each FILE is a rule file (it has a 'system:' key) or a site binding (a 'site:' key). \
            A site is loaded with the rule files its 'rules:' names plus the rule files given. \
            Prints every error and warning (file:line:column), then the normalised model. \
            Exit status: 0 when no file has an error (warnings allowed), 2 otherwise.
            """
    )

    @Argument(help: "Rule files and site bindings.")
    var files: [String]

    func run() throws {
        let results = PolicyLoader().load(files: files)
        var failed = false
        for (index, result) in results.enumerated() {
            if index > 0 { print("") }
            let diagnostics = (result.diagnostics + PolicyLinter.check(result.policy)).sortedForDisplay
            for diagnostic in diagnostics { print(diagnostic) }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.filter { $0.severity == .warning }.count
            print("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            print("")
            print(PolicyText.render(result.policy), terminator: "")
            failed = failed || result.hasErrors
        }
        if failed { throw ExitCode(2) }
    }
}
