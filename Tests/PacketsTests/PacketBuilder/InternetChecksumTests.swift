import Testing
import Packets
import PacketBuilder

@Suite struct InternetChecksumTests {
    // RFC 1071 4.1 example: the sum of 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
    @Test func rfc1071Example() {
        #expect(InternetChecksum.compute([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == 0x220D)
    }

    @Test func oddLengthPadsWithZero() {
        #expect(InternetChecksum.compute([0x12, 0x34, 0x56]) == ~UInt16(0x1234 + 0x5600))
    }

    @Test func chunkedSumEqualsWholeSum() {
        let data = (0..<301).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let whole = InternetChecksum.compute(data)
        let partial = InternetChecksum.add(data[0..<100])
        #expect(InternetChecksum.finish(InternetChecksum.add(data[100...], to: partial)) == whole)
    }

    @Test func pseudoHeaderMatchesIndependentSum() {
        let v4 = InternetChecksum.pseudoHeaderSum(source: ip("10.0.0.1"), destination: ip("192.168.1.2"), protocol: 6, length: 40)
        #expect(UInt32(~InternetChecksum.finish(v4)) == pseudoHeader(source: [10, 0, 0, 1], destination: [192, 168, 1, 2], protocol: 6, length: 40))
        let a = ip("2001:db8::1"), b = ip("2001:db8::2")
        let v6 = InternetChecksum.pseudoHeaderSum(source: a, destination: b, protocol: 58, length: 70_000)
        #expect(UInt32(~InternetChecksum.finish(v6)) == pseudoHeader(source: a.bytes, destination: b.bytes, protocol: 58, length: 70_000))
    }
}
