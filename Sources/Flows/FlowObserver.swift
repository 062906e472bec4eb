import Packets

/// What a ``FlowMeter`` tells about the flows it keeps: the flow table's observers (the audit,
/// `flowaudit flows`' inspector, `extract` and `learn`) implement it. Only ``flowEnded(_:)`` is
/// required; the other events have defaults that do nothing.
///
/// The meter holds its observer strongly (``FlowMeter/observer``), so an observer must not own
/// the meter that calls it. It reads ``observesFlowChanges`` and ``inspectsPayload`` when it is
/// given the observer, so a meter whose observer wants neither builds no ``Flow`` value per
/// packet.
public protocol FlowObserver: AnyObject {
    /// Each flow as it ends (closed and lingered, reset, idle, reused, table full, capture end):
    /// once per flow.
    func flowEnded(_ flow: borrowing Flow)
    /// Each new flow after its first packet was counted (only when ``observesFlowChanges``).
    func flowStarted(_ flow: borrowing Flow)
    /// A flow whose connection state changed, after the change, with the state before (only when
    /// ``observesFlowChanges``).
    func flowStateChanged(_ flow: borrowing Flow, from oldState: ConnectionState)
    /// One of the first ``FlowMeterConfiguration/inspectedPacketsPerFlow`` packets of a flow that
    /// carry payload: the flow, whether the packet came from the initiator, its decoded headers
    /// and its frame (only when ``inspectsPayload``).
    func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>)
    /// A prior for flows whose first packet does not show who started them (mid-stream TCP,
    /// UDP from a well-known port): true when only a -> b is expected, false when only b -> a
    /// is, nil when it cannot tell.
    func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool?
    /// Whether ``flowStarted(_:)`` and ``flowStateChanged(_:from:)`` are wanted.
    var observesFlowChanges: Bool { get }
    /// Whether ``inspectPayload(of:fromInitiator:packet:frame:)`` is wanted.
    var inspectsPayload: Bool { get }
}

extension FlowObserver {
    public func flowStarted(_ flow: borrowing Flow) {}
    public func flowStateChanged(_ flow: borrowing Flow, from oldState: ConnectionState) {}
    public func inspectPayload(of flow: borrowing Flow, fromInitiator: Bool, packet: borrowing DecodedPacket, frame: Span<UInt8>) {}
    public func initiatorHint(a: IPAddress, portA: UInt16, b: IPAddress, portB: UInt16, protocolNumber: UInt8) -> Bool? { nil }
    public var observesFlowChanges: Bool { false }
    public var inspectsPayload: Bool { false }
}

/// An observer that keeps every ended flow, in the order they ended: for tools that want the
/// flows of a capture as a list, and for tests.
public final class FlowCollector: FlowObserver {
    public private(set) var flows: [Flow] = []

    public init() {}

    public func flowEnded(_ flow: borrowing Flow) { flows.append(copy flow) }
}
