import Flows

/// The audit as what ``CapturePipeline`` meters into: a live capture runs its backlog through the
/// pipeline into the auditor, whose meter feeds the audit's parts.
extension Auditor: PacketMetering {
    /// Ends every open flow (``finishFlows()``).
    public func finish() { finishFlows() }
    /// The meter's counts so far.
    public var statistics: FlowMeterStatistics { meter.statistics }
}
