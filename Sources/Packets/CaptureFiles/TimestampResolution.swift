/// A pcapng interface's timestamp unit, as its `if_tsresol` option byte states it: with the top
/// bit clear, the unit is 10^-n seconds; with it set, 2^-n seconds (n = the low 7 bits).
/// The default, without the option, is microseconds.
public struct TimestampResolution: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let microseconds = TimestampResolution(rawValue: 6)
    public static let milliseconds = TimestampResolution(rawValue: 3)
    public static let nanoseconds = TimestampResolution(rawValue: 9)

    /// 10^-`exponent` seconds.
    public static func decimal(_ exponent: UInt8) -> TimestampResolution {
        TimestampResolution(rawValue: exponent & 0x7F)
    }

    /// 2^-`exponent` seconds.
    public static func binary(_ exponent: UInt8) -> TimestampResolution {
        TimestampResolution(rawValue: 0x80 | (exponent & 0x7F))
    }

    /// True when the unit is a negative power of two.
    public var isBinary: Bool { rawValue & 0x80 != 0 }
    /// The n of 10^-n or 2^-n.
    public var exponent: Int { Int(rawValue & 0x7F) }
}

extension TimestampResolution: CustomStringConvertible {
    /// `10^-6 s` or `2^-20 s`.
    public var description: String { isBinary ? "2^-\(exponent) s" : "10^-\(exponent) s" }
}

/// Converts an interface's timestamp ticks to nanoseconds since the epoch, saturating at the ends
/// of `Int64` for hostile resolutions and offsets instead of trapping.
struct TimestampScale: Sendable {
    private enum Mode: UInt8 { case multiply, divide, binary, zero }
    private let mode: Mode
    private let factor: UInt64
    private let shift: Int
    private let offset: Int64

    /// - Parameters:
    ///   - resolution: the interface's unit.
    ///   - offsetSeconds: `if_tsoffset`, added to every timestamp.
    init(_ resolution: TimestampResolution, offsetSeconds: Int64 = 0) {
        let exponent = resolution.exponent
        if resolution.isBinary {
            mode = .binary
            factor = 0
            shift = exponent
        } else if exponent <= 9 {
            mode = .multiply
            factor = Self.powerOfTen(9 - exponent)
            shift = 0
        } else if exponent - 9 <= 19 {
            mode = .divide
            factor = Self.powerOfTen(exponent - 9)
            shift = 0
        } else {
            mode = .zero  // 10^-29 s or finer: any 64-bit tick count is under a nanosecond
            factor = 0
            shift = 0
        }
        let (product, overflow) = offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        offset = overflow ? (offsetSeconds < 0 ? .min : .max) : product
    }

    private static func powerOfTen(_ n: Int) -> UInt64 {
        var value: UInt64 = 1
        for _ in 0..<n { value *= 10 }
        return value
    }

    /// Nanoseconds since the epoch for `ticks` units.
    @inline(__always)
    func nanoseconds(_ ticks: UInt64) -> Int64 {
        let unsigned: UInt64
        switch mode {
        case .multiply:
            let (product, overflow) = ticks.multipliedReportingOverflow(by: factor)
            unsigned = overflow ? .max : product
        case .divide:
            unsigned = ticks / factor
        case .binary:
            unsigned = Self.binaryNanoseconds(ticks, shift: shift)
        case .zero:
            unsigned = 0
        }
        let base = unsigned > UInt64(Int64.max) ? Int64.max : Int64(unsigned)
        let (sum, overflow) = base.addingReportingOverflow(offset)
        return overflow ? (offset < 0 ? .min : .max) : sum
    }

    /// ticks × 10^9 / 2^shift, saturating.
    private static func binaryNanoseconds(_ ticks: UInt64, shift: Int) -> UInt64 {
        let billion: UInt64 = 1_000_000_000
        if shift == 0 {
            let (product, overflow) = ticks.multipliedReportingOverflow(by: billion)
            return overflow ? .max : product
        }
        if shift >= 64 {
            // Whole seconds are zero; the product's high word shifted by (shift - 64).
            let high = ticks.multipliedFullWidth(by: billion).high
            return shift - 64 >= 64 ? 0 : high >> UInt64(shift - 64)
        }
        let seconds = ticks >> UInt64(shift)
        let fraction = ticks & ((1 << UInt64(shift)) - 1)
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: billion)
        if overflow { return .max }
        // fraction < 2^shift, so fraction × 10^9 / 2^shift < 10^9: the shifted 128-bit product fits.
        let product = fraction.multipliedFullWidth(by: billion)
        let part = (product.high << UInt64(64 - shift)) | (product.low >> UInt64(shift))
        let (sum, carry) = whole.addingReportingOverflow(part)
        return carry ? .max : sum
    }

    /// The tick count a writer stores for `nanoseconds` (rounded down; clamped at zero).
    static func ticks(nanoseconds: Int64, resolution: TimestampResolution, offsetSeconds: Int64) -> UInt64 {
        let (shifted, overflow) = nanoseconds.subtractingReportingOverflow(
            offsetSeconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue)
        guard !overflow, shifted > 0 else { return 0 }
        let value = UInt64(shifted)
        let exponent = resolution.exponent
        let billion: UInt64 = 1_000_000_000
        if resolution.isBinary {
            if exponent >= 64 { return .max }
            let seconds = value / billion
            let fraction = value % billion
            let (wholeTicks, overflow) = seconds.multipliedReportingOverflow(by: 1 << UInt64(exponent))
            if overflow { return .max }
            // fraction × 2^exponent / 10^9 < 2^exponent: dividingFullWidth cannot overflow.
            let product = fraction.multipliedFullWidth(by: 1 << UInt64(exponent))
            let fractionTicks = billion.dividingFullWidth(product).quotient
            let (sum, carry) = wholeTicks.addingReportingOverflow(fractionTicks)
            return carry ? .max : sum
        }
        if exponent <= 9 { return value / powerOfTen(9 - exponent) }
        if exponent - 9 > 19 { return .max }
        let (product, tooBig) = value.multipliedReportingOverflow(by: powerOfTen(exponent - 9))
        return tooBig ? .max : product
    }
}
