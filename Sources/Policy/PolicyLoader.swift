import Foundation
import Yams

/// What a YAML file is, decided by its top-level keys (`site:` or `system:`).
public enum PolicyFileKind: Sendable, Hashable {
    case ruleFile
    case site
}

/// A loaded policy with every diagnostic of every file read.
public struct PolicyLoadResult: Sendable {
    /// The policy as far as it could be understood: files or entries with errors are left out.
    public var policy: Policy
    /// Errors and warnings of all files, in display order.
    public var diagnostics: [Diagnostic]
    /// True when any file had an error: the policy must not be used for an audit.
    public var hasErrors: Bool { diagnostics.containsErrors }
}

/// Reads rule files and site bindings from disk (or any text source) and validates them.
public struct PolicyLoader: Sendable {
    /// Returns a file's text; throws when it cannot be read.
    public var readFile: @Sendable (String) throws -> String

    public init(readFile: @escaping @Sendable (String) throws -> String = PolicyLoader.readFromDisk) {
        self.readFile = readFile
    }

    /// Reads a UTF-8 file.
    @Sendable public static func readFromDisk(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw CocoaError(.fileReadInapplicableStringEncoding)
        }
        return text
    }

    /// Parses the text of one rule file.
    public static func parseRuleFile(_ text: String, file: String) -> (ruleSet: RuleSet?, diagnostics: [Diagnostic]) {
        let reader = YAMLReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.diagnostics) }
        let set = RuleFileParser.parse(root, reader: reader)
        return (set, reader.diagnostics)
    }

    /// Parses the text of one site binding. Its `rules:` paths are resolved against `file`'s
    /// directory but not read.
    public static func parseSite(_ text: String, file: String) -> (site: SiteBinding?, diagnostics: [Diagnostic]) {
        let reader = YAMLReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.diagnostics) }
        let site = SiteParser.parse(root, reader: reader)
        return (site, reader.diagnostics)
    }

    /// The kind of a file's text: a mapping with `site:` is a site binding, one with `system:`
    /// a rule file. nil when it is neither (or not YAML).
    public static func kind(of text: String) -> PolicyFileKind? {
        guard let root = try? Yams.compose(yaml: text, .basic), case .mapping(let mapping) = root else { return nil }
        let keys = mapping.keys.compactMap(\.string)
        if keys.contains("site") { return .site }
        if keys.contains("system") { return .ruleFile }
        return nil
    }

    /// Loads a site binding (when given), the rule files it names, and `rules` (more rule
    /// files, as `--rules` gives them). A file named twice is read once.
    public func load(site sitePath: String?, rules rulePaths: [String]) -> PolicyLoadResult {
        var diagnostics: [Diagnostic] = []
        var site: SiteBinding?
        var paths: [String] = []
        if let sitePath {
            switch read(sitePath) {
            case .success(let text):
                let parsed = Self.parseSite(text, file: sitePath)
                diagnostics += parsed.diagnostics
                site = parsed.site
                paths += parsed.site?.ruleFiles ?? []
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
            }
        }
        paths += rulePaths
        var seen: Set<String> = []
        var sets: [RuleSet] = []
        for path in paths where seen.insert(PathText.normalise(path)).inserted {
            switch read(path) {
            case .success(let text):
                let parsed = Self.parseRuleFile(text, file: path)
                diagnostics += parsed.diagnostics
                if let set = parsed.ruleSet { sets.append(set) }
            case .failure(let diagnostic):
                diagnostics.append(diagnostic)
            }
        }
        if sitePath != nil, site != nil, paths.isEmpty {
            diagnostics.append(Diagnostic(.warning, SourceLocation(file: sitePath!), "no rule files: the site names none in 'rules:' and none were given"))
        }
        let assembled = Policy.assemble(ruleSets: sets, site: site)
        return PolicyLoadResult(policy: assembled.policy, diagnostics: (diagnostics + assembled.diagnostics).sortedForDisplay)
    }

    /// Loads files of either kind as `lint` takes them: every site binding found is loaded with
    /// its own rule files plus all the plain rule files given; without a site, the rule files
    /// are loaded together. Files that are neither kind are reported.
    public func load(files: [String]) -> [PolicyLoadResult] {
        var sites: [String] = []
        var ruleFiles: [String] = []
        var unreadable: [Diagnostic] = []
        for file in files {
            switch read(file) {
            case .success(let text):
                switch Self.kind(of: text) {
                case .site: sites.append(file)
                case .ruleFile: ruleFiles.append(file)
                case nil:
                    // Parse as a rule file: that reports the YAML error or the missing keys.
                    let parsed = Self.parseRuleFile(text, file: file)
                    if parsed.diagnostics.containsErrors && Self.isYAML(text) {
                        unreadable.append(Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "not a rule file or site binding: it has neither a 'system:' nor a 'site:' key"))
                    } else {
                        unreadable += parsed.diagnostics
                    }
                }
            case .failure(let diagnostic):
                unreadable.append(diagnostic)
            }
        }
        var results: [PolicyLoadResult] = []
        if sites.isEmpty {
            var result = load(site: nil, rules: ruleFiles)
            result.diagnostics = (unreadable + result.diagnostics).sortedForDisplay
            results.append(result)
        } else {
            for (index, site) in sites.enumerated() {
                var result = load(site: site, rules: ruleFiles)
                if index == 0 { result.diagnostics = (unreadable + result.diagnostics).sortedForDisplay }
                results.append(result)
            }
        }
        return results
    }

    static func isYAML(_ text: String) -> Bool { (try? Yams.compose(yaml: text, .basic)) != nil }

    private func read(_ path: String) -> Result<String, Diagnostic> {
        do {
            return .success(try readFile(path))
        } catch {
            let reason: String
            if let cocoa = error as? CocoaError, cocoa.code == .fileReadNoSuchFile {
                reason = "no such file"
            } else if let cocoa = error as? CocoaError, cocoa.code == .fileReadInapplicableStringEncoding {
                reason = "the file is not UTF-8 text"
            } else {
                reason = "\(error.localizedDescription)"
            }
            return .failure(Diagnostic(.error, SourceLocation(file: path), "cannot read the file: \(reason)"))
        }
    }
}
