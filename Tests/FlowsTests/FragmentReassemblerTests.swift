import Packets
import Testing
@testable import Flows

@Suite struct FragmentReassemblerTests {
    static let second: Int64 = 1_000_000_000

    static func key(_ id: UInt32, source: UInt8 = 1) -> FragmentKey {
        FragmentKey(source: IPAddress("10.0.0.\(source)")!, destination: IPAddress("10.0.1.1")!,
                    identification: id, protocolNumber: 17)
    }

    @Test func laterFragmentsGetTheFirstFragmentsPorts() {
        var table = FragmentReassembler()
        #expect(table.firstFragment(Self.key(1), sourcePort: 5000, destinationPort: 53, at: 0) == (0, 0))
        #expect(table.laterFragment(Self.key(1), isLast: false, ipLength: 100, at: 1) ?? (0, 0) == (5000, 53))
        #expect(table.laterFragment(Self.key(2), isLast: false, ipLength: 100, at: 1) == nil)  // another datagram
        #expect(table.laterFragment(Self.key(1), isLast: true, ipLength: 60, at: 2) ?? (0, 0) == (5000, 53))
        // The last fragment ended the entry: a straggler is now a fragment without its first one.
        #expect(table.laterFragment(Self.key(1), isLast: false, ipLength: 60, at: 3) == nil)
        #expect(table.statistics.entriesCompleted == 1)
    }

    @Test func fragmentsBeforeTheFirstOneAreHandedOverWithIt() {
        var table = FragmentReassembler()
        #expect(table.laterFragment(Self.key(7), isLast: false, ipLength: 100, at: 0) == nil)
        #expect(table.laterFragment(Self.key(7), isLast: true, ipLength: 40, at: 1) == nil)
        let pending = table.firstFragment(Self.key(7), sourcePort: 1, destinationPort: 2, at: 2)
        #expect(pending == (2, 140))
        #expect(table.count == 1)
        table.finish()
        #expect(table.statistics.unmatchedFragments == 0)
    }

    @Test func entriesPastTheTimeoutExpireOldestFirst() {
        var table = FragmentReassembler(maximumEntries: 100, timeout: 10 * Self.second)
        _ = table.laterFragment(Self.key(1), isLast: false, ipLength: 10, at: 0)   // waits for its first fragment
        _ = table.firstFragment(Self.key(2), sourcePort: 1, destinationPort: 2, at: 5 * Self.second)
        _ = table.firstFragment(Self.key(3), sourcePort: 1, destinationPort: 2, at: 12 * Self.second)
        // Key 1 (created at 0) is past 10 s; key 2 (5 s) is not.
        #expect(table.statistics.entriesExpired == 1)
        #expect(table.statistics.unmatchedFragments == 1)
        _ = table.firstFragment(Self.key(4), sourcePort: 1, destinationPort: 2, at: 16 * Self.second)
        #expect(table.statistics.entriesExpired == 2)
        #expect(table.count == 2)
        #expect(table.laterFragment(Self.key(3), isLast: true, ipLength: 10, at: 16 * Self.second) ?? (0, 0) == (1, 2))
    }

    @Test func aFullTableEvictsItsOldestEntry() {
        var table = FragmentReassembler(maximumEntries: 3, timeout: 60 * Self.second)
        for id in 0..<3 { _ = table.firstFragment(Self.key(UInt32(id)), sourcePort: UInt16(id), destinationPort: 9, at: Int64(id)) }
        // Key 0 is renewed by a new first fragment: it moves to the back of the queue.
        _ = table.firstFragment(Self.key(0), sourcePort: 0, destinationPort: 9, at: 3)
        _ = table.firstFragment(Self.key(9), sourcePort: 9, destinationPort: 9, at: 4)
        #expect(table.statistics.entriesEvicted == 1)
        #expect(table.count == 3)
        #expect(table.laterFragment(Self.key(1), isLast: false, ipLength: 10, at: 5) == nil)  // key 1 was the oldest
        #expect(table.laterFragment(Self.key(0), isLast: false, ipLength: 10, at: 5) ?? (9, 9) == (0, 9))
    }

    @Test func captureTimeGoingBackwardsDoesNotReorderTheQueue() {
        var table = FragmentReassembler(maximumEntries: 10, timeout: 10 * Self.second)
        _ = table.firstFragment(Self.key(1), sourcePort: 1, destinationPort: 1, at: 20 * Self.second)
        _ = table.firstFragment(Self.key(2), sourcePort: 2, destinationPort: 2, at: 0)  // stamped with the clock, 20 s
        _ = table.firstFragment(Self.key(3), sourcePort: 3, destinationPort: 3, at: 29 * Self.second)
        #expect(table.statistics.entriesExpired == 0)
        _ = table.firstFragment(Self.key(4), sourcePort: 4, destinationPort: 4, at: 31 * Self.second)
        #expect(table.statistics.entriesExpired == 2)
    }

    /// The flood that made the old table scan itself for every packet: full, with exactly one
    /// entry past its timeout at each new first fragment. The work stays a small constant per
    /// fragment, and the queue stays within a small multiple of the table.
    @Test func aTimedFloodCostsConstantWorkPerFragment() {
        let capacity = 65_536, total = 100_000
        let step: Int64 = 60 * Self.second / Int64(capacity - 1)
        var table = FragmentReassembler(maximumEntries: capacity, timeout: 60 * Self.second)
        var largestQueue = 0
        for index in 0..<total {
            let key = Self.key(UInt32(index % 50_000), source: UInt8(1 + index / 50_000))
            _ = table.firstFragment(key, sourcePort: 1, destinationPort: 2, at: Int64(index) * step)
            largestQueue = max(largestQueue, table.queuedItems)
        }
        #expect(table.statistics.entriesExpired == UInt64(total - capacity))
        #expect(table.statistics.entriesEvicted == 0)
        #expect(table.count == capacity)
        #expect(table.statistics.queueSteps <= UInt64(2 * total))
        #expect(largestQueue <= capacity)
    }

    /// Entries that end by their last fragment leave stale queue items; compaction keeps the
    /// queue near the table's size however many datagrams pass.
    @Test func staleQueueItemsAreCompacted() {
        var table = FragmentReassembler(maximumEntries: 1_000, timeout: 60 * Self.second)
        var largestQueue = 0
        for index in 0..<50_000 {
            let key = Self.key(UInt32(index))
            _ = table.firstFragment(key, sourcePort: 1, destinationPort: 2, at: Int64(index))
            _ = table.laterFragment(key, isLast: true, ipLength: 10, at: Int64(index))
            largestQueue = max(largestQueue, table.queuedItems)
        }
        #expect(table.count == 0)
        #expect(table.statistics.entriesCompleted == 50_000)
        #expect(largestQueue <= 1_024)
        #expect(table.statistics.queueSteps <= 3 * 50_000)
    }
}
