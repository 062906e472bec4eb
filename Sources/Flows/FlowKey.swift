import Packets

/// A flow's canonical bidirectional key: both directions of a conversation produce the same
/// key. The two ends are ordered as `lower` and `upper` (by address, then port); a key never has
/// a source or destination. For ICMP echo the ports hold the identifier; for protocols without
/// ports they are 0.
public struct FlowKey: Hashable, Sendable {
    public var lowerHigh: UInt64
    public var lowerLow: UInt64
    public var upperHigh: UInt64
    public var upperLow: UInt64
    public var lowerPort: UInt16
    public var upperPort: UInt16
    public var protocolNumber: UInt8
    /// 4 or 6.
    public var ipVersion: UInt8

    /// Builds the key of a packet from `source`:`sourcePort` to `destination`:`destinationPort`.
    /// - Returns: the key, and whether the source is the key's lower end.
    @inlinable
    public static func make(source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
                            protocolNumber: UInt8, ipVersion: UInt8) -> (key: FlowKey, sourceIsLower: Bool) {
        let sourceIsLower: Bool
        if source.high != destination.high {
            sourceIsLower = source.high < destination.high
        } else if source.low != destination.low {
            sourceIsLower = source.low < destination.low
        } else {
            sourceIsLower = sourcePort <= destinationPort
        }
        if sourceIsLower {
            return (FlowKey(lowerHigh: source.high, lowerLow: source.low, upperHigh: destination.high,
                            upperLow: destination.low, lowerPort: sourcePort, upperPort: destinationPort,
                            protocolNumber: protocolNumber, ipVersion: ipVersion), true)
        }
        return (FlowKey(lowerHigh: destination.high, lowerLow: destination.low, upperHigh: source.high,
                        upperLow: source.low, lowerPort: destinationPort, upperPort: sourcePort,
                        protocolNumber: protocolNumber, ipVersion: ipVersion), false)
    }

    @inlinable
    public init(lowerHigh: UInt64, lowerLow: UInt64, upperHigh: UInt64, upperLow: UInt64, lowerPort: UInt16,
                upperPort: UInt16, protocolNumber: UInt8, ipVersion: UInt8) {
        self.lowerHigh = lowerHigh
        self.lowerLow = lowerLow
        self.upperHigh = upperHigh
        self.upperLow = upperLow
        self.lowerPort = lowerPort
        self.upperPort = upperPort
        self.protocolNumber = protocolNumber
        self.ipVersion = ipVersion
    }

    @inlinable public var lower: IPAddress { IPAddress(high: lowerHigh, low: lowerLow, isIPv4: ipVersion == 4) }
    @inlinable public var upper: IPAddress { IPAddress(high: upperHigh, low: upperLow, isIPv4: ipVersion == 4) }

    /// A 64-bit hash mixed with `seed` (random per table, so a crafted capture cannot aim
    /// collisions at it). Both directions hash alike because the key is canonical.
    @inlinable @inline(__always)
    func hash(seed: UInt64) -> UInt64 {
        var h = seed ^ (lowerLow &* 0x9E37_79B9_7F4A_7C15)
        h = (h ^ (h >> 31) ^ upperLow) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 29) ^ lowerHigh ^ (upperHigh &<< 1)) &* 0x94D0_49BB_1331_11EB
        h ^= UInt64(lowerPort) | UInt64(upperPort) << 16 | UInt64(protocolNumber) << 32 | UInt64(ipVersion) << 40
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }
}
