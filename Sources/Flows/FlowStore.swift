import CPrefetch

/// Flow records in fixed chunks of 4,096, so the store grows by one chunk at a time: no doubling
/// slack and no copy of every record on growth, and memory follows the flows open at once.
struct FlowStore {
    static let chunkShift = 12
    static let chunkSize = 1 << chunkShift

    private var chunks: [[FlowRecord]] = []
    /// Where each chunk's records start, for prefetch hints only. A chunk is made with room for
    /// all its records and is never copied, so its records do not move.
    private var chunkAddresses: [UInt] = []
    private(set) var count = 0

    subscript(index: Int) -> FlowRecord {
        get { chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
        // Sorry, an underscored accessor: `_modify` yields the record in place, so updating a
        // flow does not copy its ~180 bytes out and back (the `modify` spelling is not in 6.2).
        _modify { yield &chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
    }

    /// Asks the CPU to fetch record `index` into the cache (a hint: nothing for an index not in use).
    func prefetch(_ index: Int) {
        let chunk = index >> Self.chunkShift
        guard index >= 0, chunk < chunkAddresses.count else { return }
        // The record's first 128 bytes (what a packet reads and writes): two or three cache lines,
        // as records are not line-aligned.
        let offset = (index & (Self.chunkSize - 1)) &* MemoryLayout<FlowRecord>.stride
        flowaudit_prefetch_at(chunkAddresses[chunk], offset)
        flowaudit_prefetch_at(chunkAddresses[chunk], offset &+ 64)
        flowaudit_prefetch_at(chunkAddresses[chunk], offset &+ 127)
    }

    /// Appends a record and returns its index.
    mutating func append(_ flow: FlowRecord) -> Int {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [FlowRecord] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
            chunkAddresses.append(Self.address(of: chunks[chunks.count - 1]))
        }
        chunks[count >> Self.chunkShift].append(flow)
        count += 1
        return count - 1
    }

    /// The address of an array's first element, as a number: for prefetch hints, which never
    /// fault and never read, so a stale address costs a useless hint, nothing more.
    static func address<T>(of array: [T]) -> UInt {
        // SAFETY: the pointer is turned into a number inside the closure and never dereferenced.
        unsafe array.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }
}
