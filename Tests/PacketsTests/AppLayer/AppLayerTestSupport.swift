// A seeded generator for the mutation tests (SplitMix64: deterministic, no global state).

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` variants of `bytes`, each with 1 to 4 random bytes replaced, and some cut short.
func mutations(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
    var generator = SeededGenerator(seed: seed)
    var out: [[UInt8]] = []
    for _ in 0..<count {
        var copy = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            copy[Int.random(in: 0..<copy.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        }
        if Bool.random(using: &generator) { copy = Array(copy.prefix(Int.random(in: 0...copy.count, using: &generator))) }
        out.append(copy)
    }
    return out
}
