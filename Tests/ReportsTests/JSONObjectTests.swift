// The byte builder every JSON report object is written with: integers of every width and sign
// written as Swift prints them, strings escaped by RFC 8259 only where they must be, members in
// the order given, and the result read back by Foundation's parser.

import Foundation
@testable import Reports
import Testing

@Suite("JSONObject")
struct JSONObjectTests {
    @Test("integers of every width and sign are written as Swift prints them")
    func integers() throws {
        let values: [Int64] = [0, 1, 9, 10, 99, 100, 12_345, -1, -10, -9_999, Int64.max, Int64.min, Int64(Int32.min)]
        for value in values {
            var o = JSONObject()
            o.number("n", value)
            #expect(o.finish() == "{\"n\":\(value)}")
        }
        var o = JSONObject()
        o.number("a", UInt64.max)
        o.number("b", Int8.min)
        o.number("c", UInt16(65_535))
        o.number("d", UInt8(0))
        #expect(o.finish() == "{\"a\":18446744073709551615,\"b\":-128,\"c\":65535,\"d\":0}")
    }

    @Test("strings are escaped where RFC 8259 requires it and read back exactly")
    func strings() throws {
        let values = ["plain", "", "quote \" here", "back\\slash", "line\nfeed\ttab\r", "\u{1}\u{1f}", "é ü 名前 🙂", "</script>"]
        var o = JSONObject()
        for (index, value) in values.enumerated() { o.string("s\(index)", value) }
        o.string("none", nil as String?)
        o.strings("list", values)
        o.bool("yes", true)
        o.bool("no", false)
        o.raw("nested", "{\"x\":[1,2]}")
        let text = o.finish()
        #expect(!text.contains("\n") && !text.contains("\u{1}"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for (index, value) in values.enumerated() { #expect(parsed["s\(index)"] as? String == value) }
        #expect(parsed["none"] is NSNull)
        #expect(parsed["list"] as? [String] == values)
        #expect(parsed["yes"] as? Bool == true && parsed["no"] as? Bool == false)
        #expect((parsed["nested"] as? [String: Any])?["x"] as? [Int] == [1, 2])
        // Members keep the order they were written in.
        #expect(text.hasPrefix("{\"s0\":\"plain\",\"s1\":\"\","))
    }

    @Test("an object with no member is {}")
    func empty() {
        var o = JSONObject()
        #expect(o.finish() == "{}")
    }
}
