/// Decides, packet by packet, which packets of a capture file are read: libpcap's offline BPF
/// filter (`--filter`), as a live capture's kernel filter decides which packets arrive.
public protocol CapturePacketFilter: AnyObject {
    /// True when `packet`, whose captured bytes are `data`, passes the filter.
    func accepts(_ packet: CapturedPacket, _ data: Span<UInt8>) -> Bool
    /// Why filtering cannot go on (the expression does not compile for a link type met in an
    /// input), once that happened; packets are rejected from then on.
    var failure: String? { get }
}

/// Packets copied out of a reader's batch with their bytes, for reading several inputs at once
/// (a batch's bytes live only during the reader's callback). One array of bytes and one of
/// records, both reused.
@safe
package struct PacketStore {
    /// The stored packets; each one's ``CapturedPacket/dataOffset`` is an offset in ``withBytes(_:)``'s span.
    package private(set) var packets: [CapturedPacket] = []
    private var bytes: [UInt8] = []

    package init() {}

    package mutating func removeAll() {
        packets.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Appends `packet`, copying its bytes out of `data` (the span its offsets point into).
    package mutating func append(_ packet: CapturedPacket, from data: Span<UInt8>) {
        let range = packet.dataRange
        var copy = packet
        copy.dataOffset = bytes.count
        unsafe data.withUnsafeBufferPointer { buffer in
            // SAFETY: `range` lies inside the span (the reader checked every record against its
            // view, and the span's subscripts would trap otherwise); `buffer` is valid in the closure.
            unsafe bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[range]))
        }
        packets.append(copy)
    }

    /// Appends every packet of `batch`, copying the bytes they point into out of `data` as one
    /// block (from the first packet's byte to the last one's end), so that the copy is one
    /// `memcpy` per batch, not one per packet.
    package mutating func append(batch: borrowing [CapturedPacket], from data: Span<UInt8>) {
        guard !batch.isEmpty else { return }
        var low = Int.max, high = 0
        for i in batch.indices {
            low = min(low, batch[i].dataOffset)
            high = max(high, batch[i].dataOffset + batch[i].capturedLength)
        }
        // The span's bounds are checked here: a record outside it traps rather than reads past it.
        precondition(low >= 0 && high <= data.count, "batch records outside their byte span")
        let shift = bytes.count - low
        unsafe data.withUnsafeBufferPointer { buffer in
            // SAFETY: `low..<high` lies inside the span (checked above); `buffer` is valid in the closure.
            unsafe bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[low..<high]))
        }
        packets.reserveCapacity(packets.count + batch.count)
        for i in batch.indices {
            var copy = batch[i]
            copy.dataOffset += shift
            packets.append(copy)
        }
    }

    /// Appends the records of `batch` alone, their offsets unchanged: for a holder that keeps the
    /// bytes they point into where they are (a ``ReadBuffer``).
    package mutating func append(records batch: borrowing [CapturedPacket]) {
        packets.append(contentsOf: copy batch)  // one block copy of plain integers
    }

    /// Lends the stored bytes to `body`.
    package func withBytes<Result>(_ body: (Span<UInt8>) -> Result) -> Result {
        body(bytes.span)
    }

    /// True when the packet at `index` equals `other` (whose bytes are in `data`): the same
    /// timestamp, lengths, link type and captured bytes.
    package func packet(at index: Int, equals other: CapturedPacket, in data: Span<UInt8>) -> Bool {
        let mine = packets[index]
        guard mine.timestamp == other.timestamp, mine.capturedLength == other.capturedLength,
              mine.originalLength == other.originalLength, mine.linkType == other.linkType else { return false }
        let span = bytes.span
        for i in 0..<mine.capturedLength where span[mine.dataOffset + i] != data[other.dataOffset + i] {
            return false
        }
        return true
    }
}
