/// A flow's `uid`: a short, stable name for one flow, as Zeek's conn.log `uid` is one.
///
/// `C` followed by 17 base62 digits of a 96-bit hash of the flow's canonical key (protocol,
/// both addresses and ports, lower end first: the same whichever end turns out the initiator),
/// its outermost VLAN, its tunnel (kind and id) and its first packet's timestamp. It depends on
/// nothing else: the same capture always gives the same uids, whatever command reads it (`flows`
/// without a policy, `audit` whose rules may orient a flow differently), however it is read, and
/// in whichever run. Zeek's own uids are random per run; these are reproducible so a report and a
/// flow table of one capture can be joined on them.
public enum FlowUID {
    static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// The uid of `flow`.
    public static func of(_ flow: borrowing Flow) -> String {
        let key = flow.key
        var hasher = StableHasher()
        hasher.add(UInt64(key.protocolNumber) | UInt64(key.ipVersion) << 8 | UInt64(key.lowerPort) << 16 | UInt64(key.upperPort) << 32)
        hasher.add(key.lowerHigh)
        hasher.add(key.lowerLow)
        hasher.add(key.upperHigh)
        hasher.add(key.upperLow)
        hasher.add(UInt64(bitPattern: Int64(flow.vlan)))
        if let tunnel = flow.tunnel {
            hasher.add(UInt64(tunnel.kind.rawValue) | 1 << 40 | UInt64(tunnel.depth) << 48)
            hasher.add(tunnel.id.map { UInt64($0) } ?? UInt64.max)
        } else {
            hasher.add(0)
        }
        hasher.add(UInt64(bitPattern: flow.firstTimestamp))
        let (high, low) = hasher.finish()
        return text(high: high & 0xFFFF_FFFF, low: low)
    }

    /// `C` and the 96-bit value `high:low` (high holds 32 bits) in 17 base62 digits.
    static func text(high: UInt64, low: UInt64) -> String {
        // Long division of the 96-bit number by 62, in three 32-bit limbs (locals: no allocation
        // but the text's own).
        var (limb0, limb1, limb2) = (high & 0xFFFF_FFFF, low >> 32, low & 0xFFFF_FFFF)
        var out = [UInt8](repeating: digits[0], count: 18)
        out[0] = 0x43  // "C", as Zeek's connection uids begin
        var position = 17
        while position > 0 {
            var value = limb0
            limb0 = value / 62
            value = (value % 62) << 32 | limb1
            limb1 = value / 62
            value = (value % 62) << 32 | limb2
            limb2 = value / 62
            out[position] = digits[Int(value % 62)]
            position -= 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A seeded, deterministic 128-bit hash of 64-bit words (two independent multiply-xorshift
/// lanes with a murmur3 finaliser). Swift's `Hasher` is seeded per process, so it cannot name a
/// flow the same way twice.
struct StableHasher {
    var a: UInt64 = 0x9E37_79B9_7F4A_7C15
    var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    var count: UInt64 = 0

    mutating func add(_ word: UInt64) {
        a = Self.mix(a ^ word &* 0xFF51_AFD7_ED55_8CCD)
        b = Self.mix(b &+ (word ^ 0x94D0_49BB_1331_11EB) &* 0xC4CE_B9FE_1A85_EC53)
        count &+= 1
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    func finish() -> (UInt64, UInt64) {
        let high = Self.mix(a ^ count ^ (b >> 7))
        let low = Self.mix(b ^ (a << 9) ^ count)
        return (high, low)
    }
}
