import Packets

/// The two address families, kept apart: an IPv4 address never matches an IPv6 binding.
public enum AddressFamily: Sendable, Hashable {
    case ipv4
    case ipv6

    /// The largest address value of the family.
    var maximum: UInt128 { self == .ipv4 ? UInt128(UInt32.max) : UInt128.max }
    /// Address width in bits.
    var bitWidth: Int { self == .ipv4 ? 32 : 128 }
}

/// An inclusive range of addresses of one family. IPv4 values are the 32-bit address
/// (10.0.0.1 is 0x0A000001); IPv6 values are the 128-bit address.
public struct AddressRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var family: AddressFamily
    public var low: UInt128
    public var high: UInt128

    public init(family: AddressFamily, low: UInt128, high: UInt128) {
        precondition(low <= high && high <= family.maximum, "address range bounds out of order")
        self.family = family
        self.low = low
        self.high = high
    }

    /// The range of one CIDR block; host bits of `address` are ignored.
    public init(network address: IPAddress, prefixLength: Int) {
        let family: AddressFamily = address.isIPv4 ? .ipv4 : .ipv6
        precondition(prefixLength >= 0 && prefixLength <= family.bitWidth, "prefix length out of range")
        let value = address.value
        let hostBits = family.bitWidth - prefixLength
        let hostMask: UInt128 = hostBits == 0 ? 0 : (hostBits == 128 ? UInt128.max : (UInt128(1) << UInt128(hostBits)) - 1)
        self.init(family: family, low: value & ~hostMask, high: (value & ~hostMask) | hostMask)
    }

    /// The range holding exactly one address.
    public init(_ address: IPAddress) {
        self.init(family: address.isIPv4 ? .ipv4 : .ipv6, low: address.value, high: address.value)
    }

    /// The range parsed from CIDR text (`192.0.2.0/24`), for built-in tables. Traps on bad text:
    /// only for literals written in this module.
    init(cidr text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPAddress(parts[0]), let length = Int(parts[1]) else {
            preconditionFailure("bad built-in CIDR literal \(text)")
        }
        self.init(network: address, prefixLength: length)
    }

    public func contains(_ address: IPAddress) -> Bool {
        (address.isIPv4 ? AddressFamily.ipv4 : .ipv6) == family && address.value >= low && address.value <= high
    }

    /// How many addresses the range holds, saturating at `UInt128.max`.
    public var count: UInt128 {
        let span = high - low
        return span == UInt128.max ? span : span + 1
    }

    public var lowAddress: IPAddress { IPAddress(family: family, value: low) }
    public var highAddress: IPAddress { IPAddress(family: family, value: high) }

    /// `a.b.c.d/n` when the range is one CIDR block, `low-high` otherwise, `low` for one address.
    public var description: String {
        if low == high { return lowAddress.description }
        let span = high - low
        if span & (span &+ 1) == 0, low & span == 0 {
            let hostBits = span == UInt128.max ? 128 : (span &+ 1).trailingZeroBitCount
            return "\(lowAddress)/\(family.bitWidth - hostBits)"
        }
        return "\(lowAddress)-\(highAddress)"
    }

    public static func < (a: AddressRange, b: AddressRange) -> Bool {
        if a.family != b.family { return a.family == .ipv4 }
        if a.low != b.low { return a.low < b.low }
        return a.high < b.high
    }
}

extension IPAddress {
    /// The address as a number within its family: the 32-bit value for IPv4, 128 bits for IPv6.
    public var value: UInt128 {
        isIPv4 ? UInt128(ipv4Value) : (UInt128(high) << 64 | UInt128(low))
    }

    /// The address of `family` with numeric `value`.
    public init(family: AddressFamily, value: UInt128) {
        if family == .ipv4 {
            self.init(ipv4: UInt32(truncatingIfNeeded: value))
        } else {
            self.init(high: UInt64(truncatingIfNeeded: value >> 64), low: UInt64(truncatingIfNeeded: value))
        }
    }
}

/// Sorted, disjoint, non-adjacent address ranges with union and difference.
struct AddressRangeList: Sendable, Hashable {
    private(set) var ranges: [AddressRange] = []

    init() {}

    init(_ ranges: some Sequence<AddressRange>) {
        self.ranges = Self.normalise(Array(ranges))
    }

    static func normalise(_ input: [AddressRange]) -> [AddressRange] {
        let sorted = input.sorted()
        var out: [AddressRange] = []
        for range in sorted {
            if let last = out.last, last.family == range.family, last.high == last.family.maximum || last.high + 1 >= range.low {
                out[out.count - 1].high = max(last.high, range.high)
            } else {
                out.append(range)
            }
        }
        return out
    }

    func union(_ other: AddressRangeList) -> AddressRangeList {
        AddressRangeList(ranges + other.ranges)
    }

    func subtracting(_ other: AddressRangeList) -> AddressRangeList {
        var out: [AddressRange] = []
        for range in ranges {
            var pieces = [range]
            for cut in other.ranges where cut.family == range.family {
                var next: [AddressRange] = []
                for piece in pieces {
                    if cut.high < piece.low || cut.low > piece.high { next.append(piece); continue }
                    if cut.low > piece.low { next.append(AddressRange(family: piece.family, low: piece.low, high: cut.low - 1)) }
                    if cut.high < piece.high { next.append(AddressRange(family: piece.family, low: cut.high + 1, high: piece.high)) }
                }
                pieces = next
            }
            out += pieces
        }
        return AddressRangeList(out)
    }

    func contains(_ address: IPAddress) -> Bool {
        let family: AddressFamily = address.isIPv4 ? .ipv4 : .ipv6
        let value = address.value
        // Binary search for the last range starting at or before the address.
        var lowIndex = 0, highIndex = ranges.count
        while lowIndex < highIndex {
            let mid = (lowIndex + highIndex) / 2
            let r = ranges[mid]
            if r.family == family ? r.low <= value : r.family == .ipv4 {
                lowIndex = mid + 1
            } else {
                highIndex = mid
            }
        }
        guard lowIndex > 0 else { return false }
        let candidate = ranges[lowIndex - 1]
        return candidate.family == family && value <= candidate.high
    }

    /// True when every address of `other` is in this list.
    func covers(_ other: AddressRangeList) -> Bool {
        other.subtracting(self).ranges.isEmpty
    }

    func overlaps(_ other: AddressRangeList) -> Bool {
        other.subtracting(self).ranges != other.ranges
    }
}
