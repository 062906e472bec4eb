// The text helpers every renderer shares: ISO 8601 UTC timestamps with microseconds (checked
// against known instants and against Foundation's calendar), durations in seconds, JSON string
// literals (RFC 8259 7), terminal widths and truncation, counts with their noun.

import Foundation
import Reports
import Testing

@Suite("Format helpers")
struct FormatTests {
    static let second: Int64 = 1_000_000_000

    static let instants: [(Int64, String)] = [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (1_709_642_096 * second + 789_012_000, "2024-03-05T12:34:56.789012Z"),   // docs/report.md's example
        (1_709_251_199 * second + 999_999_999, "2024-02-29T23:59:59.999999Z"),   // a leap day; nanoseconds cut, not rounded
        (951_782_400 * second, "2000-02-29T00:00:00.000000Z"),                    // 2000 is a leap year (divisible by 400)
        (4_107_542_400 * second, "2100-03-01T00:00:00.000000Z"),                  // 2100 is not
        (4_294_967_295 * second, "2106-02-07T06:28:15.000000Z"),                  // the end of 32-bit pcap seconds
        (-1, "1969-12-31T23:59:59.999999Z"),                                      // before the epoch
        (-86_400 * second, "1969-12-31T00:00:00.000000Z"),
        (999, "1970-01-01T00:00:00.000000Z"),
        (1000, "1970-01-01T00:00:00.000001Z"),
    ]

    @Test("timestamps of known instants", arguments: instants)
    func knownInstants(nanoseconds: Int64, expected: String) {
        #expect(Format.timestamp(nanoseconds) == expected)
    }

    @Test("timestamps agree with Foundation's Gregorian calendar over 1970-2106")
    func agreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Int64.random(in: 0...4_294_967_295, using: &generator)
            let micro = Int64.random(in: 0..<1_000_000, using: &generator)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                                  c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, micro)
            #expect(Format.timestamp(seconds * Self.second + micro * 1000) == expected)
        }
    }

    @Test("extreme times neither trap nor print garbage")
    func extremeTimes() {
        for time in [Int64.max, Int64.min, Int64.min + 1] {
            let text = Format.timestamp(time)
            #expect(text.wholeMatch(of: /-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil, "\(text)")
        }
    }

    static let durationCases: [(Int64, String)] = [
        (Int64(0), "0.000000"),
        (999, "0.000000"),
        (1000, "0.000001"),
        (1_500_000_000, "1.500000"),
        (12_000_345_000, "12.000345"),
        (86_400 * second, "86400.000000"),
        (Int64.max, "9223372036.854775"),
    ]

    @Test("durations in seconds with microseconds", arguments: durationCases)
    func durations(nanoseconds: Int64, expected: String) {
        #expect(Format.duration(nanoseconds) == expected)
    }

    @Test("a negative duration (a clock that stepped back) is not printed negative")
    func negativeDuration() {
        #expect(Format.duration(-5 * Self.second) == "0.000000")
        #expect(Format.duration(Int64.min) == "0.000000")
    }

    @Test("JSON string literals escape what RFC 8259 requires and nothing is lost")
    func jsonLiterals() throws {
        #expect(Format.json("plain") == "\"plain\"")
        #expect(Format.json("a\"b\\c") == #""a\"b\\c""#)
        #expect(Format.json("\n\r\t") == #""\n\r\t""#)
        #expect(Format.json("\u{00}\u{1F}") == #""\u0000\u001f""#)
        // DEL and non-ASCII need no escape.
        #expect(Format.json("\u{7F}é") == "\"\u{7F}é\"")
        for scalar in (0...0x7F).compactMap(Unicode.Scalar.init) {
            let text = "x" + String(Character(scalar)) + "y"
            let literal = Format.json(text)
            #expect(!literal.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "U+\(String(scalar.value, radix: 16))")
            #expect(try JSONValue.parse(Array(literal.utf8)).string == text)
            #expect(try foundationJSON(literal) as? String == text)
        }
    }

    @Test("visible width: colour sequences take no room, combining marks join their letter")
    func visibleWidth() {
        #expect(Format.visibleWidth("abc") == 3)
        #expect(Format.visibleWidth("") == 0)
        #expect(Format.visibleWidth("\u{1B}[31;1mFAIL\u{1B}[0m") == 4)
        #expect(Format.visibleWidth("\u{1B}[1m== demo\u{1B}[0m  x") == 10)
        #expect(Format.visibleWidth("e\u{301}") == 1)
        #expect(Format.visibleWidth("é…") == 2)
        #expect(Format.column("\u{1B}[32mok\u{1B}[0m", 5) == "\u{1B}[32mok\u{1B}[0m   ")
        #expect(Format.aligned("7", 3, right: true) == "  7")
        #expect(Format.column("toolong", 3) == "toolong")
    }

    @Test("visible width: East Asian wide characters and emoji take two terminal cells")
    func wideCharacters() {
        // A terminal gives East Asian Wide and Fullwidth characters (UAX #11) two cells, so a
        // column after a name holding them is pushed right by one cell per character.
        #expect(Format.visibleWidth("日本") == 4)
        #expect(Format.visibleWidth("a😀") == 3)
        #expect(Format.visibleWidth("한국어.example") == 14)
        // A wide character that would cross the cut is left out whole.
        #expect(Format.truncated("日本語テキスト", 6) == "日本…")
        #expect(Format.visibleWidth(Format.column("日本", 6)) == 6)
    }

    @Test("truncation cuts to the width with an ellipsis as the last character")
    func truncation() {
        #expect(Format.truncated("abcdef", 4) == "abc…")
        #expect(Format.visibleWidth(Format.truncated("abcdef", 4)) == 4)
        #expect(Format.truncated("abcd", 4) == "abcd")
        #expect(Format.truncated("abc", 10) == "abc")
        #expect(Format.truncated("abcdef", 1) == "…")
        #expect(Format.truncated("abcdef", 0) == "")
        // A letter with its combining accent is one character and stays whole.
        #expect(Format.truncated("e\u{301}e\u{301}e\u{301}", 2) == "e\u{301}…")
        for width in 0...8 {
            let cut = Format.truncated("0123456789", width)
            #expect(Format.visibleWidth(cut) == width, "width \(width): \(cut)")
        }
    }

    @Test("control characters from packets are shown as ?")
    func printable() {
        #expect(Format.printable("a\u{1B}[2Jb\nc\u{7F}d\u{85}é") == "a?[2Jb?c?d?é")
        #expect(Format.printable("plain") == "plain")
    }

    @Test("counts take the singular for one and the plural otherwise")
    func counts() {
        #expect(Format.count(1, "packet") == "1 packet")
        #expect(Format.count(0, "packet") == "0 packets")
        #expect(Format.count(2, "flow") == "2 flows")
        #expect(Format.count(UInt64(1), "byte") == "1 byte")
        #expect(Format.count(1, "advisory", "advisories") == "1 advisory")
        #expect(Format.count(3, "advisory", "advisories") == "3 advisories")
    }

    @Test("endpoints: IPv6 addresses bracketed before the port")
    func endpoints() {
        #expect(Format.endpoint("10.0.0.1", isIPv6: false, port: 443) == "10.0.0.1:443")
        #expect(Format.endpoint("2001:db8::1", isIPv6: true, port: 443) == "[2001:db8::1]:443")
        #expect(Format.endpoint("2001:db8::1", isIPv6: true, port: nil) == "2001:db8::1")
    }
}
