/// The activity list a flow waits on: idle flows are ended from the list heads, each list with
/// its own timeout.
public enum ActivityList: UInt8, CaseIterable, Sendable {
    /// Open TCP flows (TCP idle timeout).
    case tcp = 0
    /// Open flows of every other protocol (UDP, ICMP, ...; the other idle timeout).
    case other = 1
    /// TCP flows that closed (FIN both ways) or were reset, lingering for trailing packets.
    case closing = 2
}

/// Flows in order of last activity, one intrusive doubly linked list per ``ActivityList``,
/// indexed by flow index. Only the links live here, in two small arrays apart from the flow
/// records; which list a flow is on and when it was last queued are in its record
/// (``FlowRecord``), which every packet reads anyway, so a packet that does not move its flow
/// touches nothing here.
///
/// The expiry structure of the flow table: the flow at a list's head is the one idle longest
/// (to within the requeue interval the table uses), so ending idle flows looks only at heads and
/// costs O(1) per flow ended.
struct ActivityLists {
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var heads: InlineArray<3, Int32> = InlineArray(repeating: -1)
    private var tails: InlineArray<3, Int32> = InlineArray(repeating: -1)

    /// Makes room for flow index `index` (indices are handed out densely from 0).
    mutating func grow(toInclude index: Int) {
        while previous.count <= index {
            previous.append(-1)
            next.append(-1)
        }
    }

    /// The flow idle longest on `list`, or nil when the list is empty.
    func head(_ list: ActivityList) -> Int? {
        let value = heads[Int(list.rawValue)]
        return value < 0 ? nil : Int(value)
    }

    /// True when flow `index` is the last of the list it is on.
    func isTail(_ index: Int) -> Bool { next[index] < 0 }

    /// Appends flow `index` (not on any list) to the back of `list`.
    mutating func pushBack(_ index: Int, on list: ActivityList) {
        let l = Int(list.rawValue)
        let tail = tails[l]
        previous[index] = tail
        next[index] = -1
        if tail >= 0 { next[Int(tail)] = Int32(index) } else { heads[l] = Int32(index) }
        tails[l] = Int32(index)
    }

    /// Takes flow `index` off `list`, the list it is on.
    mutating func unlink(_ index: Int, from list: ActivityList) {
        let l = Int(list.rawValue)
        let p = previous[index], n = next[index]
        if p >= 0 { next[Int(p)] = n } else { heads[l] = n }
        if n >= 0 { previous[Int(n)] = p } else { tails[l] = p }
        previous[index] = -1
        next[index] = -1
    }

    /// Moves flow `index` from the list it is on (`current`) to the back of `list` (the same
    /// or another).
    mutating func moveToBack(_ index: Int, from current: ActivityList, to list: ActivityList) {
        if current == list && next[index] < 0 { return }
        unlink(index, from: current)
        pushBack(index, on: list)
    }
}
