/// One packet record as a capture source hands it out: its metadata and where its bytes are in
/// the batch's byte span. Plain integers, so a batch of them is one reused array.
public struct CapturedPacket: Sendable, Equatable {
    /// Capture time in nanoseconds since the Unix epoch.
    public var timestamp: Int64
    /// Bytes present in the capture (at most the snapshot length).
    public var capturedLength: Int
    /// Bytes the packet had on the wire.
    public var originalLength: Int
    /// Link-layer type of the packet's interface.
    public var linkType: LinkType
    /// Interface index: 0 for pcap; for pcapng, the index of the Interface Description Block
    /// counted across the whole file (section by section), so it is unique within one file.
    public var interface: Int
    /// Offset of the packet's first byte in the batch's byte span.
    public var dataOffset: Int
    /// Byte offset of the packet's record (or block) in its file or stream.
    public var fileOffset: Int64

    @inlinable
    public init(timestamp: Int64, capturedLength: Int, originalLength: Int, linkType: LinkType,
                interface: Int = 0, dataOffset: Int, fileOffset: Int64) {
        self.timestamp = timestamp
        self.capturedLength = capturedLength
        self.originalLength = originalLength
        self.linkType = linkType
        self.interface = interface
        self.dataOffset = dataOffset
        self.fileOffset = fileOffset
    }

    /// Where the packet's bytes are in the batch's byte span.
    @inlinable
    public var dataRange: Range<Int> { dataOffset..<(dataOffset + capturedLength) }
}

/// Something that hands out packets in batches: a capture file, standard input, several files
/// merged by timestamp, or a live interface. ``CapturePipeline`` (Flows) meters any of them.
/// A batch's byte span is valid only during the call to `body`.
public protocol PacketSource {
    /// Hands out what the source has next: calls `body` with each batch of packets and the bytes
    /// they point into, in capture order. A call may hand out no batch at all (a live source
    /// that waited and saw nothing; a merge that only compared inputs): ``clock`` then says how
    /// far time went.
    /// - Returns: false when the source has no more packets (and `body` was not called).
    /// - Throws: ``CaptureFileError`` when the source is corrupt; every packet before the
    ///   corruption has been handed out by earlier calls first.
    mutating func nextBatch(_ body: (borrowing [CapturedPacket], Span<UInt8>) -> Void) throws(CaptureFileError) -> Bool
    /// Which of the source's inputs the batches of the last ``nextBatch(_:)`` came from (an
    /// index into the files of a merge; 0 for a source of one input).
    var currentInput: Int { get }
    /// The capture clock after the last ``nextBatch(_:)``, for a source whose time also passes
    /// while no packet comes (a live capture's wall clock), so that flows idle past their
    /// timeout end without waiting for a packet. nil (files): time is the packets' timestamps.
    var clock: Int64? { get }
}

extension PacketSource {
    public var currentInput: Int { 0 }
    public var clock: Int64? { nil }
}
