#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a ``ByteSource`` reads into, as an object a batch's bytes can be kept alive by.
///
/// A reader thread (`ReadAheadSource`, Flows) hands a batch on to the metering thread with a
/// reference to the buffer its bytes are in, instead of copying them. The rule that makes that
/// sound: **bytes a source has handed out are never written while anyone else holds the buffer.**
/// The source only appends past what it has read so far; before it moves or reallocates bytes
/// (compaction, growth) it checks that it holds the only reference, and otherwise continues in
/// another buffer (``ByteSource`` keeps a few, reused once every other holder let go).
@safe
package final class ReadBuffer: @unchecked Sendable {
    // Sendable by the rule above: a holder other than the source only reads bytes the source
    // will not write again while the holder keeps its reference.

    /// The allocation (malloc'd, owned by this object).
    package private(set) var base: UnsafeMutableRawPointer
    /// Bytes allocated.
    package private(set) var capacity: Int

    package init(capacity: Int) {
        let size = max(1, capacity)
        // SAFETY: a fresh allocation owned by this object, freed in deinit.
        guard let memory = unsafe malloc(size) else { fatalError("out of memory allocating a \(size)-byte read buffer") }
        unsafe base = memory
        self.capacity = size
    }

    deinit {
        // SAFETY: `base` was allocated with malloc/realloc by this object.
        unsafe free(base)
    }

    /// Grows the allocation to `capacity` bytes, keeping its bytes. Only for the sole holder (the
    /// caller checks), since the bytes may move.
    package func grow(to capacity: Int) {
        guard capacity > self.capacity else { return }
        // SAFETY: `base` is this object's malloc'd block; realloc keeps its bytes.
        guard let grown = unsafe realloc(base, capacity) else {
            fatalError("out of memory growing the capture read buffer to \(capacity) bytes")
        }
        unsafe base = grown
        self.capacity = capacity
    }

    /// Lends `count` bytes from `offset` (bytes the source wrote before handing them out).
    package func withBytes<Result>(offset: Int, count: Int, _ body: (Span<UInt8>) -> Result) -> Result {
        precondition(offset >= 0 && count >= 0 && count <= capacity - offset, "bytes outside the read buffer")
        // SAFETY: [base + offset, base + offset + count) lies inside the allocation (checked above)
        // and was initialised by the source before it handed the bytes out; the source does not
        // write them while this holder has the buffer. The span does not escape `body`.
        let raw = unsafe UnsafeRawBufferPointer(start: base + offset, count: count)
        let bytes = unsafe raw.assumingMemoryBound(to: UInt8.self)
        return unsafe body(bytes.span)
    }
}

/// A ``PacketSource`` whose batches' bytes can be kept without a copy: while its `nextBatch` is
/// calling `body`, the buffer that holds the batch's span and where the span starts in it (nil
/// when the bytes are somewhere a holder cannot keep: they must then be copied).
package protocol BufferBackedPacketSource: PacketSource {
    var batchBuffer: (buffer: ReadBuffer, offset: Int)? { get }
}
