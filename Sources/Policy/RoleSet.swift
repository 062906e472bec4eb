/// A set of roles as a fixed-width bitset: role `i` of a compiled policy is bit `i`.
/// Holds up to ``RoleSet/capacity`` roles without allocating, so a per-flow role lookup copies
/// 64 bytes and never touches the heap.
public struct RoleSet: Sendable, Hashable, CustomStringConvertible {
    /// The number of distinct roles a policy may declare.
    public static let capacity = 512
    @usableFromInline static let wordCount = 8

    @usableFromInline var words: InlineArray<8, UInt64>

    /// The empty set.
    @inlinable
    public init() { words = InlineArray(repeating: 0) }

    /// The set holding the given role indices.
    public init(_ indices: some Sequence<Int>) {
        self.init()
        for index in indices { insert(index) }
    }

    @inlinable
    public var isEmpty: Bool {
        for i in 0..<Self.wordCount where words[i] != 0 { return false }
        return true
    }

    @inlinable
    public func contains(_ index: Int) -> Bool {
        precondition(index >= 0 && index < Self.capacity, "role index out of range")
        return words[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    @inlinable
    public mutating func insert(_ index: Int) {
        precondition(index >= 0 && index < Self.capacity, "role index out of range")
        words[index >> 6] |= 1 << UInt64(index & 63)
    }

    @inlinable
    public mutating func remove(_ index: Int) {
        precondition(index >= 0 && index < Self.capacity, "role index out of range")
        words[index >> 6] &= ~(1 << UInt64(index & 63))
    }

    @inlinable
    public mutating func formUnion(_ other: RoleSet) {
        for i in 0..<Self.wordCount { words[i] |= other.words[i] }
    }

    @inlinable
    public func union(_ other: RoleSet) -> RoleSet {
        var result = self
        result.formUnion(other)
        return result
    }

    @inlinable
    public func intersection(_ other: RoleSet) -> RoleSet {
        var result = self
        for i in 0..<Self.wordCount { result.words[i] &= other.words[i] }
        return result
    }

    /// True when the two sets share a role: the test a rule's `from`/`to` makes per flow.
    @inlinable
    public func intersects(_ other: RoleSet) -> Bool {
        for i in 0..<Self.wordCount where words[i] & other.words[i] != 0 { return true }
        return false
    }

    @inlinable
    public func isSubset(of other: RoleSet) -> Bool {
        for i in 0..<Self.wordCount where words[i] & ~other.words[i] != 0 { return false }
        return true
    }

    /// The role indices in ascending order.
    public var indices: [Int] {
        var out: [Int] = []
        for i in 0..<Self.wordCount {
            var word = words[i]
            while word != 0 {
                let bit = word.trailingZeroBitCount
                out.append(i * 64 + bit)
                word &= word - 1
            }
        }
        return out
    }

    public var count: Int {
        var total = 0
        for i in 0..<Self.wordCount { total += words[i].nonzeroBitCount }
        return total
    }

    public static func == (a: RoleSet, b: RoleSet) -> Bool {
        for i in 0..<wordCount where a.words[i] != b.words[i] { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for i in 0..<Self.wordCount { hasher.combine(words[i]) }
    }

    public var description: String { "RoleSet(\(indices))" }
}
