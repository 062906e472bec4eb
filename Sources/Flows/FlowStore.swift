/// Flow records in fixed chunks of 4,096, so the store grows by one chunk at a time: no doubling
/// slack and no copy of every record on growth, and memory follows the flows open at once.
struct FlowStore {
    static let chunkShift = 12
    static let chunkSize = 1 << chunkShift

    private var chunks: [[FlowRecord]] = []
    private(set) var count = 0

    subscript(index: Int) -> FlowRecord {
        get { chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
        // Sorry, an underscored accessor: `_modify` yields the record in place, so updating a
        // flow does not copy its ~180 bytes out and back (the `modify` spelling is not in 6.2).
        _modify { yield &chunks[index >> Self.chunkShift][index & (Self.chunkSize - 1)] }
    }

    /// Appends a record and returns its index.
    mutating func append(_ flow: FlowRecord) -> Int {
        if count & (Self.chunkSize - 1) == 0 {
            var chunk: [FlowRecord] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[count >> Self.chunkShift].append(flow)
        count += 1
        return count - 1
    }
}
