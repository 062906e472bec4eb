import ArgumentParser
import Policy

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Tell which rule would allow a flow, or why none does.",
        discussion: """
            FLOW is "SRC -> DST PROTO/PORT", e.g. "10.0.0.5 -> 10.0.0.2 tcp/445", "a -> b icmp/echo" \
            or "a -> b ip/50". SRC and DST are addresses, names that the site's 'names:' resolve, \
            or name=address. Exit status: 0 allowed, 1 not allowed, 2 invalid input.
            """
    )

    @Option(help: "The site binding; its 'rules:' are loaded too.")
    var site: String

    @Option(parsing: .upToNextOption, help: "More rule files.")
    var rules: [String] = []

    @Argument(help: "The flow: \"SRC -> DST PROTO/PORT\".")
    var flow: String

    func run() throws {
        let query: ExplainQuery
        switch ExplainQuery.parse(flow) {
        case .success(let parsed): query = parsed
        case .failure(let error):
            printError(error.message)
            throw ExitCode(2)
        }
        let loaded = PolicyLoader().load(site: site, rules: rules)
        if loaded.hasErrors {
            for diagnostic in loaded.diagnostics where diagnostic.severity == .error { printDiagnostic(diagnostic) }
            throw ExitCode(2)
        }
        let warnings = loaded.diagnostics.filter { $0.severity == .warning }.count
        if warnings > 0 {
            printWarning("\(warnings) warning\(warnings == 1 ? "" : "s") in the rule files or site; 'flowaudit lint \(site)' lists them")
        }
        let compiled = CompiledPolicy(loaded.policy)
        switch compiled.explain(query) {
        case .success(let explanation):
            print(explanation.text, terminator: "")
            if !explanation.result.isAllowed { throw ExitCode(1) }
        case .failure(let error):
            printError(error.message)
            throw ExitCode(2)
        }
    }
}
