import Foundation
import Testing
@testable import Policy

/// `trimmed` stands in for Foundation's trimming of site and rule text: it must trim what
/// Foundation trims, and nothing more.
@Suite struct TrimmingTests {
    static let samples = ["", " ", "\t10.0.0.1 ", "10.0.0.1", "  mail.example.com\n", "\n\r\n", "a b", "\u{00A0}x\u{2003}",
                          "\u{2028}y\u{0085}", "tcp/443\u{000B}", "é ", " \u{0301}a"]

    @Test(arguments: samples)
    func trimsAsFoundationDoes(text: String) {
        #expect(text.trimmed() == text.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(text.trimmed(lineBreaks: false) == text.trimmingCharacters(in: .whitespaces))
    }
}
