import CPrefetch

/// The flow table's index: flow keys to flow indices, by open addressing with linear probing
/// over a power-of-two slot array.
///
/// A slot packs the upper 32 bits of the key's hash (its *tag*) with the flow's index + 1 (0 is
/// an empty slot), so a probe reads a flow record only when the tag matches: a lookup of a flow
/// touches its slot and, on a likely match, its record. Removal shifts the entries after the hole
/// back (no tombstones), so probe sequences stay as short as the table's load makes them however
/// many flows came and went. The array doubles when it would be more than half full.
struct FlowIndex {
    private(set) var slots: [UInt64] {
        didSet { address = FlowStore.address(of: slots) }
    }
    private(set) var mask: Int
    /// Where the slot array's elements start, for prefetch hints only (never dereferenced).
    private var address: UInt

    /// An empty index of `capacity` slots (a power of two).
    init(capacity: Int = 1024) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        slots = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        address = FlowStore.address(of: slots)
    }

    /// The slot a hash probes first.
    @inline(__always)
    func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> 32) & mask }

    /// Asks the CPU to fetch the slot `hash` probes first (a hint: it never faults).
    @inline(__always)
    func prefetchSlot(_ hash: UInt64) {
        flowaudit_prefetch_at(address, home(hash) &* MemoryLayout<UInt64>.stride)
    }

    /// The flow whose slot is the first `hash` probes, when that slot's tag is `hash`'s: the
    /// likely match, to prefetch its record. Nil when the first slot is empty or another tag's.
    @inline(__always)
    func likelyIndex(_ hash: UInt64) -> Int? {
        let slot = slots[home(hash)]
        guard slot != 0, slot >> 32 == hash >> 32 else { return nil }
        return Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
    }

    /// The index of the flow with `key` (whose hash is `hash`) among `flows`, or -1.
    @inline(__always)
    func find(_ key: FlowKey, hash: UInt64, in flows: borrowing FlowStore) -> Int {
        let tag = hash >> 32
        var position = Int(truncatingIfNeeded: tag) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return -1 }
            if slot >> 32 == tag {
                let index = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if flows[index].key == key { return index }
            }
            position = (position &+ 1) & mask
        }
    }

    /// Adds flow `index` under `hash`; `occupied` is the number of flows already in the index
    /// (the array doubles first when the new entry would fill more than half of it).
    mutating func insert(hash: UInt64, index: Int, occupied: Int) {
        if (occupied + 1) * 2 > slots.count { grow() }
        let tag = hash >> 32
        var position = Int(truncatingIfNeeded: tag) & mask
        while slots[position] != 0 { position = (position &+ 1) & mask }
        slots[position] = tag << 32 | UInt64(index + 1)
    }

    /// Removes flow `index` (added under `hash`) by backward-shift deletion. Nothing happens
    /// when it is not in the index.
    mutating func remove(hash: UInt64, index: Int) {
        let wanted = (hash >> 32) << 32 | UInt64(index + 1)
        var position = home(hash)
        while slots[position] != wanted {
            if slots[position] == 0 { return }
            position = (position &+ 1) & mask
        }
        var hole = position
        var probe = (hole &+ 1) & mask
        while slots[probe] != 0 {
            let home = Int(truncatingIfNeeded: slots[probe] >> 32) & mask
            // Move the entry back into the hole unless its home lies cyclically in (hole, probe].
            let distanceToProbe = (probe &- home) & mask
            let distanceToHole = (hole &- home) & mask
            if distanceToHole < distanceToProbe {
                slots[hole] = slots[probe]
                hole = probe
            }
            probe = (probe &+ 1) & mask
        }
        slots[hole] = 0
    }

    /// Doubles the slot array, re-inserting every entry.
    mutating func grow() {
        let capacity = slots.count * 2
        var newSlots = Array(repeating: UInt64(0), count: capacity)
        let newMask = capacity - 1
        for slot in slots where slot != 0 {
            var position = Int(truncatingIfNeeded: slot >> 32) & newMask
            while newSlots[position] != 0 { position = (position &+ 1) & newMask }
            newSlots[position] = slot
        }
        slots = newSlots
        mask = newMask
    }

    /// How many flows the index holds (a scan: for tests and invariant checks).
    var count: Int { slots.reduce(0) { $0 + ($1 == 0 ? 0 : 1) } }
}
