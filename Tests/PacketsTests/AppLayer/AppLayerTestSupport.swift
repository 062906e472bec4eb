// Mutation helpers; the seeded generator is PacketBuilder.SeededGenerator.

import PacketBuilder


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
