/// A map from every value of an unsigned key space to a ``RoleSet``, stored as sorted segment
/// starts: segment `i` covers `starts[i]` up to `starts[i + 1] - 1` (the last one to the
/// key's maximum). Lookup is one binary search, whatever the number of bindings.
struct IntervalTable<Key: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// Segment starts, ascending; `starts[0] == 0`.
    private(set) var starts: [Key]
    /// Index into `pool` of each segment's roles.
    private(set) var setIndices: [UInt32]
    /// The distinct role sets, `pool[0]` empty.
    private(set) var pool: [RoleSet]

    /// Builds the table from `(low, high, role)` triples (inclusive bounds) by sweeping the
    /// sorted boundaries once: O(n log n) in the number of triples.
    init(_ intervals: [(low: Key, high: Key, role: Int)], roleCount: Int) {
        var events: [(position: Key, role: Int, delta: Int)] = []
        events.reserveCapacity(intervals.count * 2)
        for interval in intervals {
            events.append((interval.low, interval.role, 1))
            if interval.high != Key.max { events.append((interval.high + 1, interval.role, -1)) }
        }
        events.sort { $0.position < $1.position }
        var counts = [Int](repeating: 0, count: max(roleCount, 1))
        var current = RoleSet()
        var starts: [Key] = [0]
        var setIndices: [UInt32] = [0]
        var pool: [RoleSet] = [RoleSet()]
        var poolIndex: [RoleSet: UInt32] = [RoleSet(): 0]
        var i = 0
        while i < events.count {
            let position = events[i].position
            while i < events.count && events[i].position == position {
                let event = events[i]
                counts[event.role] += event.delta
                if counts[event.role] > 0 { current.insert(event.role) } else { current.remove(event.role) }
                i += 1
            }
            let index: UInt32
            if let existing = poolIndex[current] {
                index = existing
            } else {
                index = UInt32(pool.count)
                pool.append(current)
                poolIndex[current] = index
            }
            if setIndices.last == index { continue }
            if starts.last == position {
                setIndices[setIndices.count - 1] = index
                // Merge with the previous segment when the replacement made them equal.
                if setIndices.count >= 2 && setIndices[setIndices.count - 2] == index {
                    starts.removeLast()
                    setIndices.removeLast()
                }
            } else {
                starts.append(position)
                setIndices.append(index)
            }
        }
        self.starts = starts
        self.setIndices = setIndices
        self.pool = pool
    }

    /// The roles of `key`.
    func lookup(_ key: Key) -> RoleSet {
        // The last start <= key; starts[0] == 0 so one always exists.
        var low = 0, high = starts.count
        while high - low > 1 {
            let mid = (low + high) / 2
            if starts[mid] <= key { low = mid } else { high = mid }
        }
        return pool[Int(setIndices[low])]
    }

    /// The number of segments (for tests).
    var segmentCount: Int { starts.count }
}

/// Which rules list a service for each port (or ICMP type) of one IP protocol.
struct PortTable: Sendable {
    private var starts: [UInt16]
    private var ruleLists: [[Int32]]

    init(_ entries: [(ports: ClosedRange<UInt16>, rule: Int)]) {
        var boundaries: Set<UInt16> = [0]
        for entry in entries {
            boundaries.insert(entry.ports.lowerBound)
            if entry.ports.upperBound != UInt16.max { boundaries.insert(entry.ports.upperBound + 1) }
        }
        let sorted = boundaries.sorted()
        var starts: [UInt16] = []
        var lists: [[Int32]] = []
        for (index, start) in sorted.enumerated() {
            let end = index + 1 < sorted.count ? sorted[index + 1] - 1 : UInt16.max
            var rules: [Int32] = []
            for entry in entries where entry.ports.lowerBound <= start && entry.ports.upperBound >= end {
                if !rules.contains(Int32(entry.rule)) { rules.append(Int32(entry.rule)) }
            }
            rules.sort()
            if let last = lists.last, last == rules { continue }
            starts.append(start)
            lists.append(rules)
        }
        self.starts = starts
        self.ruleLists = lists
    }

    /// The rules (ascending indices) whose services include `port`.
    func rules(for port: UInt16) -> [Int32] {
        var low = 0, high = starts.count
        while high - low > 1 {
            let mid = (low + high) / 2
            if starts[mid] <= port { low = mid } else { high = mid }
        }
        return ruleLists[low]
    }
}
