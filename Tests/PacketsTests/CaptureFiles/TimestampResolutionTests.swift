import Testing
@testable import Packets

@Suite struct TimestampResolutionTests {
    @Test func decimalUnits() {
        #expect(TimestampScale(.microseconds).nanoseconds(1_700_000_000_123_456) == 1_700_000_000_123_456_000)
        #expect(TimestampScale(.nanoseconds).nanoseconds(42) == 42)
        #expect(TimestampScale(.decimal(0)).nanoseconds(3) == 3_000_000_000)
        #expect(TimestampScale(.decimal(12)).nanoseconds(5_999) == 5)  // picoseconds, rounded down
        #expect(TimestampScale(.decimal(28)).nanoseconds(UInt64.max) == 1)  // 1.8e19 / 1e19
        #expect(TimestampScale(.decimal(29)).nanoseconds(UInt64.max) == 0)
    }

    @Test func binaryUnits() {
        // 2^-20 s: 2^20 ticks are one second; 2^14 ticks are 1/64 s.
        #expect(TimestampScale(.binary(20)).nanoseconds(3 << 20 + 1 << 14) == 3_015_625_000)
        #expect(TimestampScale(.binary(30)).nanoseconds(1) == 0)  // 0.93 ns, rounded down
        #expect(TimestampScale(.binary(1)).nanoseconds(3) == 1_500_000_000)
        #expect(TimestampScale(.binary(64)).nanoseconds(UInt64.max) == 999_999_999)
        #expect(TimestampScale(.binary(0)).nanoseconds(2) == 2_000_000_000)
    }

    @Test func offsetsAndSaturation() {
        #expect(TimestampScale(.nanoseconds, offsetSeconds: 10).nanoseconds(5) == 10_000_000_005)
        #expect(TimestampScale(.nanoseconds, offsetSeconds: -1).nanoseconds(5) == -999_999_995)
        #expect(TimestampScale(.nanoseconds).nanoseconds(UInt64.max) == Int64.max)
        #expect(TimestampScale(.decimal(0)).nanoseconds(UInt64.max) == Int64.max)
        #expect(TimestampScale(.nanoseconds, offsetSeconds: Int64.min).nanoseconds(0) == Int64.min)
    }

    @Test(arguments: [TimestampResolution.microseconds, .nanoseconds, .milliseconds, .decimal(0), .binary(20), .binary(10)])
    func writerTicksReadBackRoundedDown(resolution: TimestampResolution) {
        let scale = TimestampScale(resolution, offsetSeconds: 100)
        for nanoseconds: Int64 in [100_000_000_000, 1_700_000_000_123_456_789, 100_999_999_999] {
            let ticks = TimestampScale.ticks(nanoseconds: nanoseconds, resolution: resolution, offsetSeconds: 100)
            let back = scale.nanoseconds(ticks)
            #expect(back <= nanoseconds)
            #expect(nanoseconds - back < 1_000_000_000)
            // One more tick would pass the original time.
            #expect(scale.nanoseconds(ticks + 1) > nanoseconds)
        }
    }

    @Test func descriptions() {
        #expect(TimestampResolution.microseconds.description == "10^-6 s")
        #expect(TimestampResolution.binary(20).description == "2^-20 s")
        #expect(TimestampResolution.binary(20).rawValue == 0x94)
    }
}
