import Testing
@testable import Packets

@Suite struct IPAddressTests {
    @Test func parsesAndPrintsBothFamilies() {
        #expect(parse("10.1.2.3")?.description == "10.1.2.3")
        #expect(parse("10.1.2.3")?.isIPv4 == true)
        #expect(parse("2001:db8::1")?.description == "2001:db8::1")
        #expect(parse("2001:DB8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(parse("::")?.description == "::")
        #expect(parse("::1")?.description == "::1")
        #expect(parse("::ffff:1.2.3.4")?.description == "::ffff:1.2.3.4")
        #expect(parse("::ffff:1.2.3.4")?.isIPv4 == false)
        #expect(parse("fe80::1:2")?.description == "fe80::1:2")
        #expect(parse("0.0.0.0")?.description == "0.0.0.0")
        #expect(parse("255.255.255.255")?.description == "255.255.255.255")
        #expect(parse("10.0.0.1")?.description == "10.0.0.1")
        #expect(parse("192.168.100.200")?.description == "192.168.100.200")
    }

    @Test func rejectsMalformedText() {
        for text in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "::1%eth0",
                     "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4 ", "1.2.3.1000", "1.2.3.00", "1.2.3.٣", "1.2.3.４"] {
            #expect(parse(text) == nil, "\(text)")
        }
    }
}

private func parse(_ text: String) -> IPAddress? { IPAddress(text) }
