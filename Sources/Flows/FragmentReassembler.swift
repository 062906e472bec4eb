import Packets

/// A fragment's identity: (addresses, protocol, IP id), the key RFC 791 reassembly uses.
public struct FragmentKey: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var identification: UInt32
    public var protocolNumber: UInt8

    public init(source: IPAddress, destination: IPAddress, identification: UInt32, protocolNumber: UInt8) {
        self.source = source
        self.destination = destination
        self.identification = identification
        self.protocolNumber = protocolNumber
    }
}

/// What the fragment table did.
public struct FragmentStatistics: Sendable, Equatable {
    /// Entries created (a first fragment, or a later one that came first).
    public var entriesCreated: UInt64 = 0
    /// Entries ended by their datagram's last fragment.
    public var entriesCompleted: UInt64 = 0
    /// Entries dropped because they outlived the timeout.
    public var entriesExpired: UInt64 = 0
    /// Entries dropped, oldest first, because the table was full.
    public var entriesEvicted: UInt64 = 0
    /// Later fragments whose first fragment never came (counted when their entry goes).
    public var unmatchedFragments: UInt64 = 0
    /// The most entries held at once.
    public var peakEntries: Int = 0
    /// Queue items looked at by eviction (live and stale): the work eviction did, which stays
    /// within a small multiple of the fragments seen.
    public var queueSteps: UInt64 = 0

    public init() {}
}

/// Remembers, per fragmented datagram, the ports its first fragment carried, so later fragments
/// (which carry no transport header) join the right flow; fragments that come before the first
/// one are counted against their entry and handed over when it arrives.
///
/// Bounded: at most `maximumEntries` entries. Entries sit in a FIFO queue in the order they were
/// created, stamped with the capture clock at that moment (the latest time seen, so the stamps
/// never decrease along the queue). Before an entry is created, entries older than `timeout`
/// leave from the front of the queue; if the table is still full, the oldest entry leaves.
/// Entries that ended otherwise leave a stale queue item behind, skipped when reached; the queue
/// is compacted when stale items outnumber live ones. Every operation is O(1) amortised: no
/// operation scans the table.
public struct FragmentReassembler: Sendable {
    /// Entries kept at most.
    public var maximumEntries: Int
    /// Capture time (ns) an entry waits for the rest of its datagram.
    public var timeout: Int64
    public private(set) var statistics = FragmentStatistics()

    struct Entry {
        var sourcePort: UInt16
        var destinationPort: UInt16
        var portsKnown: Bool
        /// The capture clock when the entry was created.
        var created: Int64
        /// Matches the entry's queue item; an item with another number is stale.
        var sequence: UInt64
        var pendingPackets: UInt64
        var pendingBytes: UInt64
    }

    struct QueueItem {
        var key: FragmentKey
        var sequence: UInt64
    }

    var entries: [FragmentKey: Entry] = [:]
    /// Creation order; `queue[queueHead...]` are the items still queued.
    var queue: [QueueItem] = []
    var queueHead = 0
    var nextSequence: UInt64 = 0
    /// The latest capture time seen.
    var now: Int64 = .min

    /// - Parameters:
    ///   - maximumEntries: entries kept at most (at least 1).
    ///   - timeout: how long (ns of capture time) an entry waits for the rest of its datagram.
    public init(maximumEntries: Int = 65_536, timeout: Int64 = 60_000_000_000) {
        self.maximumEntries = max(1, maximumEntries)
        self.timeout = max(0, timeout)
    }

    /// Entries held now.
    public var count: Int { entries.count }

    /// Queue items held now (live and stale): at most about twice ``count`` plus a constant.
    public var queuedItems: Int { queue.count - queueHead }

    /// A first fragment (offset 0) with its ports: remembers them for the later fragments.
    /// - Returns: the packets and bytes of later fragments that came before it, to be added to
    ///   its flow now.
    public mutating func firstFragment(_ key: FragmentKey, sourcePort: UInt16, destinationPort: UInt16,
                                       at time: Int64) -> (packets: UInt64, bytes: UInt64) {
        advance(to: time)
        var pending: (UInt64, UInt64) = (0, 0)
        if let entry = entries[key] {
            if !entry.portsKnown { pending = (entry.pendingPackets, entry.pendingBytes) }
            entries[key] = nil  // replaced below, with a new place in the queue
        }
        insert(key, Entry(sourcePort: sourcePort, destinationPort: destinationPort, portsKnown: true,
                          created: now, sequence: 0, pendingPackets: 0, pendingBytes: 0))
        return pending
    }

    /// A later fragment (offset above 0) of `ipLength` bytes.
    /// - Returns: its datagram's ports when the first fragment was seen, else nil (the fragment is
    ///   counted against the entry until the first fragment comes).
    public mutating func laterFragment(_ key: FragmentKey, isLast: Bool, ipLength: Int, at time: Int64) -> (UInt16, UInt16)? {
        advance(to: time)
        if var entry = entries[key] {
            if entry.portsKnown {
                if isLast {
                    entries[key] = nil
                    statistics.entriesCompleted &+= 1
                }
                return (entry.sourcePort, entry.destinationPort)
            }
            entry.pendingPackets &+= 1
            entry.pendingBytes &+= UInt64(clamping: ipLength)
            entries[key] = entry
            return nil
        }
        insert(key, Entry(sourcePort: 0, destinationPort: 0, portsKnown: false, created: now, sequence: 0,
                          pendingPackets: 1, pendingBytes: UInt64(clamping: ipLength)))
        return nil
    }

    /// Drops every entry (end of input), counting fragments that never found their first one.
    public mutating func finish() {
        for entry in entries.values where !entry.portsKnown {
            statistics.unmatchedFragments &+= entry.pendingPackets
        }
        entries.removeAll()
        queue.removeAll()
        queueHead = 0
    }

    // MARK: Internals

    mutating func advance(to time: Int64) {
        if time > now { now = time }
    }

    /// Makes room (expired entries first, then the oldest if still full) and adds `entry`.
    mutating func insert(_ key: FragmentKey, _ entry: Entry) {
        // Entries created before `cutoff` have waited longer than the timeout.
        let (cutoff, overflow) = now.subtractingReportingOverflow(timeout)
        if !overflow {
            while let (index, front) = frontLive(), front.created < cutoff {
                remove(at: index, expired: true)
            }
        }
        while entries.count >= maximumEntries, let (index, _) = frontLive() {
            remove(at: index, expired: false)
        }
        var entry = entry
        entry.sequence = nextSequence
        nextSequence &+= 1
        entries[key] = entry
        queue.append(QueueItem(key: key, sequence: entry.sequence))
        statistics.entriesCreated &+= 1
        if entries.count > statistics.peakEntries { statistics.peakEntries = entries.count }
        compactIfMostlyStale()
    }

    /// The front queue item that is still live, with its entry; stale items before it are dropped.
    mutating func frontLive() -> (Int, Entry)? {
        while queueHead < queue.count {
            statistics.queueSteps &+= 1
            let item = queue[queueHead]
            if let entry = entries[item.key], entry.sequence == item.sequence { return (queueHead, entry) }
            popFront()
        }
        return nil
    }

    /// Removes the live entry of the front item at `index` (== queueHead).
    mutating func remove(at index: Int, expired: Bool) {
        let key = queue[index].key
        if let entry = entries.removeValue(forKey: key), !entry.portsKnown {
            statistics.unmatchedFragments &+= entry.pendingPackets
        }
        if expired { statistics.entriesExpired &+= 1 } else { statistics.entriesEvicted &+= 1 }
        popFront()
    }

    mutating func popFront() {
        queueHead += 1
        // Give back the consumed front once it is over half the array: amortised O(1).
        if queueHead >= 1024 && queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// Drops stale items once they outnumber live entries (each item is copied at most once per
    /// doubling of the queue: amortised O(1) per insertion).
    mutating func compactIfMostlyStale() {
        let queued = queue.count - queueHead
        guard queued >= 1024, queued > 2 * entries.count else { return }
        var kept: [QueueItem] = []
        kept.reserveCapacity(entries.count)
        for index in queueHead..<queue.count {
            let item = queue[index]
            if let entry = entries[item.key], entry.sequence == item.sequence { kept.append(item) }
        }
        statistics.queueSteps &+= UInt64(queued)
        queue = kept
        queueHead = 0
    }
}
