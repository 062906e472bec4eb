import Dispatch
import Packets
import Synchronization

/// One batch as a ``ReadAheadSource``'s reader thread handed it on: its records, its bytes (the
/// reader's buffer kept, or a copy), its decoded packets, and the input and clock of its step.
struct ReadAheadSlot: Sendable {
    /// The records (offsets into the bytes), and the bytes when they had to be copied.
    var store = PacketStore()
    /// The buffer the bytes are in when the source's own buffer is kept, and where they start.
    var buffer: ReadBuffer?
    var bufferOffset = 0
    var bufferCount = 0
    var decoded: DecodedBatch
    var input = 0
    var clock: Int64?
}

/// What a ``ReadAheadSource``'s two threads share: filled slots in order, free slots, and how
/// the source ended.
///
/// A thread that finds nothing to take says so (`readerWaiting`, `consumerWaiting`) and sleeps on
/// its semaphore; the other wakes it once half the slots are ready for it (or at the end, or at
/// a stop), not for each one: waking a thread is a system call, and on a busy link one per
/// batch was several percent of the waking thread's time.
final class ReadAheadChannel: Sendable {
    struct State: Sendable {
        var filled: [ReadAheadSlot] = []
        var head = 0
        var free: [ReadAheadSlot] = []
        /// The source ended (false returned or an error thrown): no slot comes after the filled ones.
        var ended = false
        var error: CaptureFileError?
        /// The consumer went away: the reader hands nothing more on and stops once the source
        /// returns from its step (a merge reads one input to its end in one step).
        var stop = false
        /// The reader sleeps until slots are free; the consumer until slots are filled.
        var readerWaiting = false
        var consumerWaiting = false

        var waitingSlots: Int { filled.count - head }
    }
    let state = Mutex(State())
    /// Slots ready for the sleeping thread before it is woken.
    let wakeAt: Int
    /// Wakes the reader (signalled only while it waits, so it never counts above 1).
    let readerWake = DispatchSemaphore(value: 0)
    /// Wakes the consumer (likewise).
    let consumerWake = DispatchSemaphore(value: 0)
    /// Signalled once when the reader thread has let go of the source.
    let readerDone = DispatchSemaphore(value: 0)

    init(slots: Int, seed: UInt64) {
        wakeAt = max(1, slots / 2)
        state.withLock { $0.free = Array(repeating: ReadAheadSlot(decoded: DecodedBatch(seed: seed)), count: slots) }
    }

    /// Asks the reader to stop and wakes it if it sleeps.
    func stop() {
        let wake = state.withLock { state -> Bool in
            state.stop = true
            defer { state.readerWaiting = false }
            return state.readerWaiting
        }
        if wake { readerWake.signal() }
    }
}

/// What the reader finds when it looks for a free slot.
enum ReadAheadTake { case slot(ReadAheadSlot), stop, wait }

/// The reader thread's work, without the source's type (so the thread's closure captures no
/// generic metatype).
protocol ReadAheadReader: Sendable {
    func read(into channel: ReadAheadChannel)
}

/// Runs a ``PacketSource`` on a thread of its own, a few batches ahead of the pipeline that
/// meters them: the reading stage of `--threads 2`.
///
/// The reader thread does what the source does per batch (the `read()` system calls and the
/// kernel's copy, the record parser, the `--filter` expression, the merge of several inputs) and
/// hands each batch on in one of ``slots`` reused slots: its records, and its bytes either kept
/// where the source read them (a source whose buffer can be held, `BufferBackedPacketSource`:
/// the slot holds the ``ReadBuffer``, which the source does not write again while it is held) or
/// copied. While the pipeline has batches waiting, the reader decodes the batch too
/// (``DecodedBatch``); when the pipeline is the one waiting, the batch goes undecoded and the
/// meter decodes it itself, so the decoding is shared out by load. The pipeline's thread takes
/// the slots in order, meters them and hands them back.
///
/// The batches, their order and the input and clock of each step are the source's own, so every
/// result is the same as reading on the pipeline's thread: this stage only moves work to another
/// core. When the pipeline falls behind, the reader waits for a slot (a file is never dropped
/// from); memory is bounded by the slots and the buffers they hold.
///
/// The source belongs to the reader thread from ``init(_:slots:seed:)`` until ``finish()``
/// returns it. It must be a class (`AnyObject`): the thread reads which input a batch came from
/// (and which buffer holds it) while the source is handing it out.
public final class ReadAheadSource<Inner: PacketSource & AnyObject>: DecodingPacketSource {
    /// The source while the reader thread has it: handed over by `init`, given back by `finish`.
    private final class Holder: ReadAheadReader, @unchecked Sendable {
        // Only one thread uses `source` at a time: the reader thread from its start until it
        // signals `readerDone`, the owner of the ReadAheadSource after waiting for that signal.
        let source: Inner
        init(_ source: Inner) { self.source = source }

        /// The reader thread: each batch of the source into a free slot, in order, then the end.
        func read(into channel: ReadAheadChannel) {
            var source = self.source
            // The same object, to ask which input (and buffer) a batch came from while it is handed out.
            let reference = source
            let backed = reference as? any BufferBackedPacketSource
            var stopped = false
            var error: CaptureFileError?
            while !stopped {
                var more = false
                do {
                    more = try source.nextBatch { batch, bytes in
                        guard !stopped, var slot = takeFreeSlot(channel) else {
                            stopped = true
                            return
                        }
                        slot.store.removeAll()
                        if let (buffer, offset) = backed?.batchBuffer {
                            // The records are copied; the bytes stay in the source's buffer, held.
                            slot.store.append(records: batch)
                            slot.buffer = buffer
                            slot.bufferOffset = offset
                            slot.bufferCount = bytes.count
                        } else {
                            slot.store.append(batch: batch, from: bytes)
                        }
                        // Decoding is shared out by load: while the pipeline has batches waiting,
                        // this thread decodes; when the pipeline is waiting for this one, the batch
                        // goes at once and the pipeline decodes it (the same decoder, so the same
                        // result).
                        if channel.state.withLock({ !$0.consumerWaiting && $0.waitingSlots > 0 }) {
                            if slot.buffer != nil {
                                slot.decoded.decode(slot.store.packets, bytes)
                            } else {
                                slot.store.withBytes { copied in slot.decoded.decode(slot.store.packets, copied) }
                            }
                        } else {
                            slot.decoded.clear()
                        }
                        slot.input = reference.currentInput
                        slot.clock = nil
                        push(slot, channel)
                    }
                } catch let thrown {
                    error = thrown
                }
                guard more, error == nil, !stopped else { break }
                if let clock = reference.clock {
                    // A source whose time passes without packets: the clock goes through as an empty slot.
                    guard var slot = takeFreeSlot(channel) else { break }
                    slot.store.removeAll()
                    slot.decoded.clear()
                    slot.input = reference.currentInput
                    slot.clock = clock
                    push(slot, channel)
                }
            }
            let wake = channel.state.withLock { state -> Bool in
                state.ended = true
                state.error = error
                defer { state.consumerWaiting = false }
                return state.consumerWaiting
            }
            if wake { channel.consumerWake.signal() }
        }

        /// Waits for a free slot; nil once the consumer has gone.
        func takeFreeSlot(_ channel: ReadAheadChannel) -> ReadAheadSlot? {
            while true {
                let take = channel.state.withLock { state -> ReadAheadTake in
                    if state.stop { return .stop }
                    if let slot = state.free.popLast() { return .slot(slot) }
                    state.readerWaiting = true
                    return .wait
                }
                switch take {
                case .slot(let slot): return slot
                case .stop: return nil
                case .wait: channel.readerWake.wait()
                }
            }
        }

        func push(_ slot: consuming ReadAheadSlot, _ channel: ReadAheadChannel) {
            let slot = slot
            let wake = channel.state.withLock { state -> Bool in
                state.filled.append(slot)
                guard state.consumerWaiting && state.waitingSlots >= channel.wakeAt else { return false }
                state.consumerWaiting = false
                return true
            }
            if wake { channel.consumerWake.signal() }
        }
    }

    /// What the consumer takes from the channel.
    private enum Next { case slot(ReadAheadSlot), end(CaptureFileError?) }

    /// Batches the reader may hand on ahead of the pipeline.
    public let slots: Int
    /// The hash seed batches are decoded with.
    public let seed: UInt64
    public private(set) var currentInput = 0
    public private(set) var clock: Int64?
    private let channel: ReadAheadChannel
    private let holder: Holder
    private var ended = false
    private var joined = false

    /// Starts reading `source` on a new thread, at most `slots` batches ahead, decoding batches
    /// for a meter whose hash seed is `seed` (``FlowMeter/hashSeed``).
    public init(_ source: Inner, slots: Int = 8, seed: UInt64) {
        self.slots = max(1, slots)
        self.seed = seed
        let channel = ReadAheadChannel(slots: self.slots, seed: seed)
        let holder = Holder(source)
        self.channel = channel
        self.holder = holder
        let reader: any ReadAheadReader = holder
        DispatchQueue(label: "flowaudit.read-ahead").async {
            reader.read(into: channel)
            channel.readerDone.signal()
        }
    }

    deinit {
        if !joined {
            channel.stop()
            channel.readerDone.wait()
        }
    }

    /// Hands out the next batch the reader handed on, waiting for it if the reader is behind.
    public func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool {
        try nextBatch(decodedFor: seed) { batch, bytes, _ in body(batch, bytes) }
    }

    /// Hands out the next batch the reader handed on, with its decoded packets (or marked
    /// undecoded), waiting for it if the reader is behind. `seed` must be the one this source
    /// decodes with.
    public func nextBatch(decodedFor seed: UInt64,
                          _ body: (borrowing [CapturedPacket], Span<UInt8>, inout DecodedBatch) -> Void)
        throws(CaptureFileError) -> Bool {
        precondition(seed == self.seed, "batches decoded with another hash seed")
        guard !ended else { return false }
        var next: Next
        while true {
            let taken = channel.state.withLock { state -> Next? in
                if state.head < state.filled.count {
                    let slot = state.filled[state.head]
                    state.filled[state.head] = ReadAheadSlot(decoded: DecodedBatch(seed: slot.decoded.seed))
                    state.head += 1
                    if state.head == state.filled.count {
                        state.filled.removeAll(keepingCapacity: true)
                        state.head = 0
                    }
                    return .slot(slot)
                }
                if state.ended { return .end(state.error) }
                state.consumerWaiting = true
                return nil
            }
            if let taken {
                next = taken
                break
            }
            channel.consumerWake.wait()
        }
        switch next {
        case .end(let error):
            ended = true
            join()
            if let error { throw error }
            return false
        case .slot(var slot):
            currentInput = slot.input
            // As the source's own clock after the step: nil after its packets, its time after a
            // step in which it moved (a slot of its own, after that step's packets).
            clock = slot.clock
            if !slot.store.packets.isEmpty {
                // The decoded packets are lent mutably (the meter swaps them in), the records and
                // bytes borrowed: the store is moved out of the slot meanwhile, so that each array
                // keeps one owner and is reused, not copied, when the reader fills the slot again.
                let store = slot.store
                slot.store = PacketStore()
                if let buffer = slot.buffer {
                    buffer.withBytes(offset: slot.bufferOffset, count: slot.bufferCount) { bytes in
                        body(store.packets, bytes, &slot.decoded)
                    }
                } else {
                    store.withBytes { bytes in body(store.packets, bytes, &slot.decoded) }
                }
                slot.store = store
            }
            // The source's buffer is let go before the slot goes back, so that the source may
            // reuse it once no other slot holds it.
            slot.buffer = nil
            let wake = channel.state.withLock { state -> Bool in
                state.free.append(slot)
                guard state.readerWaiting && state.free.count >= channel.wakeAt else { return false }
                state.readerWaiting = false
                return true
            }
            if wake { channel.readerWake.signal() }
            return true
        }
    }

    /// Waits for the reader thread to let go of the source and returns it (its summaries and
    /// counts are then final). Reading stops first if the source has not ended.
    public func finish() -> Inner {
        if !ended {
            channel.stop()
            ended = true
        }
        join()
        return holder.source
    }

    private func join() {
        guard !joined else { return }
        channel.readerDone.wait()
        joined = true
    }
}
