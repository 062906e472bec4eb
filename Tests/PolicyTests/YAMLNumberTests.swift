import Testing
import Yams
@testable import Policy

/// The plain scalars YAML reads as numbers are noted (`1.10` would become 1.1): the quick
/// screen in front of YAML's patterns must give the patterns' answer for every spelling.
@Suite struct YAMLNumberTests {
    static let spellings = [
        "0", "7", "+12", "-3", "1_000", "0x1F", "0X1F", "0o17", "017", "0b101", "190:20:30", "12:30",
        "1.5", "1.10", "1.", ".5", "1e5", "1.5e+3", "-2.5E-3", "190:20:30.15", ".inf", "-.Inf", "+.INF", ".NaN", ".nan",
        "10.0.0.1", "192.168.0.0/16", "10.0.0.1-10.0.0.9", "fe80::1", "::1", "2001:db8::", "1.2.3", "a.b", "abc", "_",
        "", "e", "0x", "-", ":", "1:2:3", "ab:cd", "1e", "inf", "nan", "1.5.", "smtp-otp", "host.example.com",
        "445", "0.0.0.0", "dead:beef", "1__2", "0b", "+", ".", "..", "FF", "ff", "1e+", "1 2", "１２",
    ]

    @Test func screenAgreesWithYAMLsPatterns() {
        for text in Self.spellings {
            let tag = Resolver.default.resolveTag(of: Node.scalar(Node.Scalar(text)))
            let yaml = tag == .int || tag == .float
            #expect(YAMLReader.isNumber(text) == yaml, "\(text)")
        }
    }

    @Test func addressesAndNamesAreNotNumbers() {
        #expect(!YAMLReader.isNumber("10.0.0.1"))
        #expect(!YAMLReader.isNumber("backup.example.org"))
        #expect(YAMLReader.isNumber("1.10"))
        #expect(YAMLReader.isNumber("0x1F"))
    }
}
