extension String {
    /// The text without leading and trailing white space: spaces and tabs, and line breaks too
    /// when `lineBreaks` (as Foundation's `trimmingCharacters(in: .whitespaces)` and
    /// `.whitespacesAndNewlines`), without bridging to NSString: sites bind thousands of
    /// addresses, each trimmed once.
    func trimmed(lineBreaks: Bool = true) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isWhitespace && (lineBreaks || !Self.isLineBreak(scalar))
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        let end = scalars.index(after: last)
        if first == scalars.startIndex && end == scalars.endIndex { return self }
        return String(self[first..<end])
    }

    /// Line breaks in Foundation's `newlines` set: LF, VT, FF, CR, NEL, LS, PS.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }
}
