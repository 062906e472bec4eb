import Foundation
import Packets
import Yams

/// Reads a composed YAML tree with positions, collecting every diagnostic of a file instead of
/// stopping at the first.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    /// One key/value pair of a mapping, with the key's text.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    // MARK: Diagnostics

    func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(file: file) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.error, location(node), message))
    }

    func warning(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.warning, location(node), message))
    }

    func note(_ node: Node?, _ message: String) {
        diagnostics.append(Diagnostic(.note, location(node), message))
    }

    var hasErrors: Bool { diagnostics.containsErrors }

    // MARK: Parsing

    /// Composes the file's single YAML document. A syntax error becomes a diagnostic with the
    /// line and column libyaml reports.
    func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text, .basic) else {
                diagnostics.append(Diagnostic(.error, SourceLocation(file: file, line: 1, column: 1), "the file is empty"))
                return nil
            }
            return node
        } catch let error as YamlError {
            diagnostics.append(Self.diagnostic(for: error, file: file, text: text))
            return nil
        } catch {
            diagnostics.append(Diagnostic(.error, SourceLocation(file: file), "cannot parse YAML: \(error)"))
            return nil
        }
    }

    static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        func withContext(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "YAML syntax error: \(problem)" }
            return "YAML syntax error: \(problem) (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return Diagnostic(.error, at(mark), withContext(problem, context))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(.error, at(context.mark), "duplicate key \(keys) in a mapping")
        case .reader(let problem, let offset, _, _):
            var line = 1, column = 1
            if let offset {
                for character in text.prefix(offset) {
                    if character == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return Diagnostic(.error, SourceLocation(file: file, line: line, column: column), "cannot read the file: \(problem)")
        default:
            return Diagnostic(.error, SourceLocation(file: file), "YAML error: \(error)")
        }
    }

    // MARK: Typed access

    /// Human text for a node's kind.
    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): s.string.isEmpty ? "an empty value" : "the scalar '\(s.string)'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }

    /// The entries of a mapping node, or an error naming `what` when the node is not one.
    func mapping(_ node: Node, _ what: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(what) must be a mapping, found \(Self.kind(node))")
            return nil
        }
        var out: [Entry] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                error(key, "a key in \(what) must be text, found \(Self.kind(key))")
                continue
            }
            out.append(Entry(key: scalar.string, keyNode: key, value: value))
        }
        return out
    }

    /// Rejects keys outside `allowed` (with a suggestion) and reports missing `required` keys at
    /// the mapping. `context` completes the sentence: "in rule 'smtp-otp'".
    func checkKeys(_ entries: [Entry], in node: Node, allowed: [String], required: [String], context: String) {
        for entry in entries where !allowed.contains(entry.key) {
            error(entry.keyNode, "unknown key '\(entry.key)' \(context)\(Suggestion.didYouMean(entry.key, in: allowed))")
        }
        for key in required where !entries.contains(where: { $0.key == key }) {
            error(node, "missing required key '\(key)' \(context)")
        }
    }

    /// A non-empty text value. When `numbers` is false (text is meant: a version, a name), a
    /// plain scalar that YAML reads as a number is taken as written, with a note saying so.
    func string(_ node: Node, _ what: String, allowEmpty: Bool = false, numbers: Bool = false) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, "\(what) must be text, found \(Self.kind(node))")
            return nil
        }
        let text = scalar.string.trimmed()
        if text.isEmpty && !allowEmpty {
            error(node, "\(what) is empty")
            return nil
        }
        if !numbers, scalar.style == .plain, Self.isNumber(scalar.string) {
            // YAML would read `1.2` as a number and `1.10` as 1.1: the text is taken as written.
            note(node, "\(what) '\(scalar.string)' is a number in YAML; read as the text '\(text)' as written (quote it to say so: \"\(text)\")")
        }
        return text
    }

    /// The bytes any of YAML's int and float spellings may hold besides the dot (digits, signs,
    /// `_`, `:`, the radix prefixes, hex digits, exponents, `inf` and `nan` in their cases).
    static let numberBytes: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "0123456789+-_:xXoObBaAbBcCdDeEfFiInN".utf8 { table[Int(byte)] = true }
        return table
    }()

    /// True when YAML's core schema reads a plain scalar as an integer or a float.
    static func isNumber(_ text: String) -> Bool {
        // Every spelling of YAML's int and float patterns has at most one dot and only these
        // characters: addresses and names (most of a site) are told apart without the patterns.
        var dots = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                dots += 1
                if dots > 1 { return false }
            } else if !Self.numberBytes[Int(byte)] {
                return false
            }
        }
        let tag = Resolver.default.resolveTag(of: Node.scalar(Node.Scalar(text)))
        return tag == .int || tag == .float
    }

    /// `true` or `false` (YAML 1.1 spellings such as `yes` are refused: they read ambiguously).
    func bool(_ node: Node, _ what: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            error(node, "\(what) must be true or false, found \(Self.kind(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true": return true
        case "false": return false
        default:
            error(node, "\(what) must be true or false, found \(Self.kind(node))")
            return nil
        }
    }

    /// A duration in whole seconds, written as the command line takes durations: `90`, `90s`,
    /// `5m`, `1h` (a number without a unit is seconds).
    func duration(_ node: Node, _ what: String) -> Int? {
        guard case .scalar(let scalar) = node else {
            error(node, "\(what) must be a duration (90, 90s, 5m, 1h), found \(Self.kind(node))")
            return nil
        }
        var text = Substring(scalar.string.trimmed())
        var scale = 1
        if text.hasSuffix("s") { text = text.dropLast() }
        else if text.hasSuffix("m") { scale = 60; text = text.dropLast() }
        else if text.hasSuffix("h") { scale = 3600; text = text.dropLast() }
        guard let value = Int(text), value >= 0, !value.multipliedReportingOverflow(by: scale).overflow,
              value * scale <= 100 * 365 * 86400 else {
            error(node, "\(what) must be a duration of whole seconds, minutes or hours (90, 90s, 5m, 1h), found \(Self.kind(node))")
            return nil
        }
        return value * scale
    }

    /// A non-negative integer.
    func integer(_ node: Node, _ what: String) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string), value >= 0 else {
            error(node, "\(what) must be a whole number of seconds, found \(Self.kind(node))")
            return nil
        }
        return value
    }

    /// A list of text items; a single scalar counts as a one-item list.
    func stringList(_ node: Node, _ what: String, numbers: Bool = false) -> [(String, Node)] {
        switch node {
        case .scalar:
            if let text = string(node, what, numbers: numbers) { return [(text, node)] }
            return []
        case .sequence(let sequence):
            var out: [(String, Node)] = []
            for item in sequence {
                if let text = string(item, "an item of \(what)", numbers: numbers) { out.append((text, item)) }
            }
            return out
        default:
            error(node, "\(what) must be text or a list, found \(Self.kind(node))")
            return []
        }
    }

    /// A TLS version: "1.0", "1.1", "1.2" or "1.3".
    func tlsVersion(_ node: Node) -> TLSVersion? {
        guard let text = string(node, "tls-minimum") else { return nil }
        guard let version = TLSVersion(number: text), version >= .tls10 else {
            error(node, "unknown TLS version '\(text)' in tls-minimum (use \"1.0\", \"1.1\", \"1.2\" or \"1.3\")")
            return nil
        }
        return version
    }

    /// An id: lower-case letters, digits and hyphens.
    func identifier(_ node: Node, _ what: String) -> String? {
        guard let text = string(node, what) else { return nil }
        guard Self.isIdentifier(text) else {
            error(node, "\(what) '\(text)' must use only a-z, 0-9 and '-'")
            return nil
        }
        return text
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }
    }
}
