/// Checks what must hold of a ``FlowMeter`` whatever its input: the fuzz targets and tests feed
/// it every flow the meter ends (it is the meter's observer), then ask for the violations once the
/// meter has finished.
///
/// - Every packet read is accounted for exactly once: skipped by reason, or decoded and then
///   counted in a flow, attached to a flow as an ICMP error, counted as an ICMP error quoting
///   no flow, or counted as a fragment whose first fragment never came; so is every inner packet
///   of a tunnel the meter followed.
/// - No flow ends before it starts.
/// - No counter wrapped: totals are summed with overflow checks, and no flow holds more packets
///   than were read.
public final class FlowInvariants: FlowObserver {
    /// Flows handed to ``flowEnded(_:)``.
    public private(set) var endedFlows: UInt64 = 0
    /// Packets (both directions) of those flows.
    public private(set) var flowPackets: UInt64 = 0
    /// ICMP errors attached to those flows.
    public private(set) var attachedICMPErrors: UInt64 = 0
    /// Problems found while flows ended.
    public private(set) var violations: [String] = []

    public init() {}

    /// Records one ended flow and checks it on its own.
    public func flowEnded(_ flow: borrowing Flow) {
        endedFlows &+= 1
        if flow.lastTimestamp < flow.firstTimestamp {
            note("flow \(flow.id) ends at \(flow.lastTimestamp), before its start \(flow.firstTimestamp)")
        }
        let (packets, wrapped) = flow.initiatorPackets.addingReportingOverflow(flow.responderPackets)
        if wrapped { note("flow \(flow.id): packet counts wrap when added") }
        let (total, overflow) = flowPackets.addingReportingOverflow(packets)
        if overflow { note("flow packet total wraps") }
        flowPackets = total
        let (errors, errorOverflow) = attachedICMPErrors.addingReportingOverflow(UInt64(flow.icmpErrors))
        if errorOverflow { note("ICMP error total wraps") }
        attachedICMPErrors = errors
    }

    /// The violations, given the meter's statistics after ``FlowMeter/finish()`` and the number
    /// of packets the reader handed out. Empty when everything holds.
    public func check(_ statistics: FlowMeterStatistics, packetsRead: Int) -> [String] {
        var problems = violations
        if statistics.packets != UInt64(packetsRead) {
            problems.append("the meter counted \(statistics.packets) packets, the reader handed out \(packetsRead)")
        }
        var skipped: UInt64 = 0
        for count in statistics.skipped {
            let (sum, overflow) = skipped.addingReportingOverflow(count)
            if overflow { problems.append("skipped counts wrap") }
            skipped = sum
        }
        let (accounted, overflow) = statistics.decoded.addingReportingOverflow(skipped)
        if overflow || accounted != statistics.packets {
            problems.append("decoded \(statistics.decoded) + skipped \(skipped) != packets \(statistics.packets)")
        }
        var used = flowPackets
        for part in [attachedICMPErrors, statistics.unmatchedICMPErrors, statistics.unmatchedFragments] {
            let (sum, wrapped) = used.addingReportingOverflow(part)
            if wrapped { problems.append("decoded packet totals wrap") }
            used = sum
        }
        // Each inner packet of a tunnel is metered as a packet of its own flow as well.
        var metered = statistics.decoded
        for count in statistics.tunnelledPackets {
            let (sum, wrapped) = metered.addingReportingOverflow(count)
            if wrapped { problems.append("tunnelled packet totals wrap") }
            metered = sum
        }
        if used != metered {
            problems.append("flows hold \(flowPackets) packets, \(attachedICMPErrors) ICMP errors attached, "
                + "\(statistics.unmatchedICMPErrors) ICMP errors unmatched, \(statistics.unmatchedFragments) fragments "
                + "unmatched: \(used), but \(statistics.decoded) packets were decoded and \(metered - statistics.decoded) "
                + "inner packets of tunnels metered")
        }
        if statistics.flowsCreated != endedFlows {
            problems.append("\(statistics.flowsCreated) flows created, \(endedFlows) ended")
        }
        if statistics.peakActiveFlows < 0 || UInt64(statistics.peakActiveFlows) > statistics.flowsCreated {
            problems.append("peak open flows \(statistics.peakActiveFlows) exceeds the \(statistics.flowsCreated) created")
        }
        return problems
    }

    func note(_ problem: String) {
        if violations.count < 16 { violations.append(problem) }
    }
}
