// JSONValue against RFC 8259: what a conforming parser must accept and refuse, members kept in
// order, numbers kept as written, and error offsets that point at the byte at fault.

import Foundation
import Reports
import Testing

@Suite("JSONValue (RFC 8259)")
struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func offset(_ text: String) -> Int? {
        do { _ = try parse(text); return nil } catch { return (error as? JSONValue.SyntaxError)?.offset }
    }

    @Test("object members keep their order, duplicates and all, and the text comes back byte for byte")
    func memberOrderAndTextRoundTrip() throws {
        let text = #"{"z":1,"a":[true,false,null],"m":{"y":"x","b":-0.5e+10},"a2":"\u00e9"}"#
        let value = try parse(text)
        #expect(value.members?.map(\.0) == ["z", "a", "m", "a2"])
        #expect(value["m"]?.members?.map(\.0) == ["y", "b"])
        // Numbers keep their text: -0.5e+10 is not rewritten as -5000000000.
        #expect(value["m"]?["b"] == .number("-0.5e+10"))
        // Escapes are decoded on reading; writing gives a compact text that reads back equal.
        #expect(value["a2"]?.string == "é")
        let written = value.text
        #expect(try parse(written) == value)
        #expect(written == #"{"z":1,"a":[true,false,null],"m":{"y":"x","b":-0.5e+10},"a2":"é"}"#)
    }

    @Test("white space RFC 8259 allows around every token is skipped")
    func whiteSpace() throws {
        let value = try parse(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\n\"b\":\"c\" }\r\n")
        #expect(value == .object([("a", .array([.number("1"), .number("2")])), ("b", .string("c"))]))
    }

    @Test("integers beyond 2^53 are read exactly, as 64-bit counters need")
    func largeIntegersExact() throws {
        let value = try parse(#"[18446744073709551615, 9223372036854775807, -9223372036854775808, 9007199254740993]"#)
        let items = try #require(value.array)
        #expect(items[0].uint64 == UInt64.max)
        #expect(items[1].int64 == Int64.max)
        #expect(items[2].int64 == Int64.min)
        // 2^53 + 1 is not a double: a parser through Double would give ...992.
        #expect(items[3].int64 == 9_007_199_254_740_993)
        #expect(items[0].int64 == nil, "UInt64.max does not fit an Int64")
        #expect(value.text == "[18446744073709551615,9223372036854775807,-9223372036854775808,9007199254740993]")
    }

    @Test("string escapes: the two-character ones, \\u with surrogate pairs, the solidus")
    func stringEscapes() throws {
        let value = try parse(#""q\"b\\s\/n\nr\rt\tb\bf\f u\u0001 e\u00E9 g\ud83d\ude00""#)
        #expect(value.string == "q\"b\\s/n\nr\rt\tb\u{08}f\u{0C} u\u{01} eé g😀")
    }

    @Test("every character from U+0000 to U+007F and beyond survives writing and reading")
    func everyASCIICharacterRoundTrips() throws {
        var text = ""
        for scalar in (0...0x7F).compactMap(Unicode.Scalar.init) { text.unicodeScalars.append(scalar) }
        text += "é日本😀\u{2028}\u{FEFF}"
        let written = JSONValue.object([("k\"\n", .string(text))]).text
        // RFC 8259 7: control characters must be escaped; none may appear raw.
        #expect(!written.utf8.contains { $0 < 0x20 })
        #expect(try parse(written)["k\"\n"]?.string == text)
        // An independent parser reads the same.
        let foundation = try #require(try foundationJSON(written) as? [String: String])
        #expect(foundation["k\"\n"] == text)
    }

    static let faults: [(String, Int)] = [
              (#"{"a":1,}"#, 7),           // a member name expected at the '}'
              (#"{"a" 1}"#, 5),            // ':' expected at the '1'
              (#"[1,2"#, 4),               // the input ends where ',' or ']' is due
              (#"[1 2]"#, 3),              // ',' or ']' expected at the '2'
              (#"{"a":tru}"#, 5),          // 'true' misspelt, starting at byte 5
              (#"{"a":1} x"#, 8),          // text after the value
              (#""abc"#, 4),               // unterminated string: the input ends at byte 4
              ("", 0),
          ]

    @Test("syntax errors name the byte offset of the fault", arguments: faults)
    func errorOffsets(text: String, expected: Int) {
        #expect(offset(text) == expected, "\(text)")
    }

    @Test("a raw control character or a bad escape is refused at the offending byte")
    func offsetsInsideStrings() {
        // RFC 8259 7: U+0000 to U+001F must be escaped. The tab is byte 3; the bad escape's
        // letter is byte 3 as well.
        for text in ["[\"a\tb\"]", #"["\x"]"#] {
            #expect(offset(text) != nil, "\(text)")
            #expect(offset(text) == 3, "\(text)")
        }
    }

    @Test("nesting deeper than 256 levels is refused, not a stack overflow")
    func deepNesting() throws {
        #expect(offset(String(repeating: "[", count: 100_000)) == 256)
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try parse(fine).array?.count == 1)
    }

    @Test("numbers outside RFC 8259's grammar that Double() refuses too are refused",
          arguments: ["-", "1e", "--1", "1e+-2", "0x10", "1.5.2", "1e5e5", "- 1", "Infinity", "NaN"])
    func malformedNumbers(text: String) {
        #expect(offset(text) != nil, "\(text)")
    }

    @Test("numbers RFC 8259's grammar forbids but Double() reads are refused",
          arguments: ["+1", "01", "-01", "1.", ".5", "1.e5"])
    func numbersOutsideTheGrammar(text: String) {
        // RFC 8259 6: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT );
        // frac = decimal-point 1*DIGIT. No plus sign, no leading zero, digits after the point.
        #expect(offset(text) != nil, "\(text)")
    }

    @Test("setting a member replaces it in place or appends it")
    func setting() throws {
        let value = try parse(#"{"a":1,"b":2}"#)
        #expect(value.setting("a", .int(9)).text == #"{"a":9,"b":2}"#)
        #expect(value.setting("c", .string("x")).text == #"{"a":1,"b":2,"c":"x"}"#)
        #expect(JSONValue.array([]).setting("a", .null) == .array([]))
    }
}
