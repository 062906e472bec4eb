import Packets

/// Timeouts and options of a ``FlowMeter``. Times are nanoseconds of capture time.
public struct FlowMeterConfiguration: Sendable {
    /// TCP flow idle timeout (default 5 minutes).
    public var tcpIdleTimeout: Int64 = 300_000_000_000
    /// UDP, ICMP and other protocols' idle timeout (default 1 minute).
    public var otherIdleTimeout: Int64 = 60_000_000_000
    /// How long a TCP flow that closed (FIN both ways) or was reset stays in the table for its
    /// trailing packets (the last ACK, repeated RSTs) before it is handed on (default 5 s, as Zeek's
    /// `tcp_close_delay`). A SYN on its tuple ends it at once and starts a new flow.
    public var closeLinger: Int64 = 5_000_000_000
    /// How stale a flow's place in its activity list may get before a packet moves it to the
    /// back (default 1 s): idle flows end at most this much after their timeout.
    public var requeueInterval: Int64 = 1_000_000_000
    /// Payload-carrying packets per flow passed to the payload inspector (0: none).
    public var inspectedPacketsPerFlow: Int = 0
    /// Flows kept open at most (default 2 million, about 500 MB): a capture with more distinct
    /// conversations open at once (a scan, a flood, a hostile file) ends the flow idle longest
    /// for each new one, so memory stays bounded. Such flows end with reason `table-full`.
    public var maximumFlows: Int = 2_000_000
    /// Fragment bookkeeping entries kept at most (first fragments waiting for the rest).
    public var maximumFragmentEntries: Int = 65_536
    /// How long (capture time) a fragment entry waits for the rest of its datagram (default 60 s).
    public var fragmentTimeout: Int64 = 60_000_000_000

    public init() {}
}

/// Counts of what the meter saw.
public struct FlowMeterStatistics: Sendable {
    public var packets: UInt64 = 0
    /// Packets that updated a flow.
    public var decoded: UInt64 = 0
    /// Packets not turned into a flow update, by ``DecodeStatus`` raw value.
    public var skipped: [UInt64] = Array(repeating: 0, count: DecodeStatus.allCases.count)
    /// Packets of link types flowaudit does not decode, by link type.
    public var unsupportedLinkTypes: [LinkType: UInt64] = [:]
    /// ICMP errors quoting a packet of no flow in the table.
    public var unmatchedICMPErrors: UInt64 = 0
    /// Non-first fragments whose first fragment never came (counted when the entry is dropped).
    public var unmatchedFragments: UInt64 = 0
    /// The fragment table's counts (entries created, completed, expired, evicted, peak).
    public var fragments = FragmentStatistics()
    public var flowsCreated: UInt64 = 0
    public var flowsEnded: UInt64 = 0
    public var peakActiveFlows: Int = 0
    /// Flows ended early because the table was full.
    public var evictedFlows: UInt64 = 0
    /// Frames that carry no IP, by kind: ARP/RARP (link control) and the rest.
    public var arpFrames: UInt64 = 0
    public var lldpFrames: UInt64 = 0
    /// 802.3 LLC frames that are not SNAP-encapsulated IP (spanning tree, CDP, ...).
    public var llcFrames: UInt64 = 0
    public var otherNonIPFrames: UInt64 = 0
    /// Inner packets metered as flows of their own, by ``TunnelKind`` raw value.
    public var tunnelledPackets: [UInt64] = Array(repeating: 0, count: TunnelKind.allCases.count)
    /// Tunnel payloads whose inner packet did not decode, by ``DecodeStatus`` raw value (the
    /// outer packet was metered as its own flow all the same).
    public var tunnelInnerSkipped: [UInt64] = Array(repeating: 0, count: DecodeStatus.allCases.count)
    /// Inner packets not followed because they lie deeper than
    /// ``PacketDecoder/maximumTunnelDepth`` tunnels.
    public var tunnelTooDeep: UInt64 = 0
    /// Packets with a loose or strict source route that still had hops to go.
    public var sourceRoutedPackets: UInt64 = 0

    public init() {}

    /// The tunnelled packet counts, nonzero ones only, in enum order.
    public var tunnelledByKind: [(TunnelKind, UInt64)] {
        TunnelKind.allCases.compactMap { kind in
            let n = tunnelledPackets[Int(kind.rawValue)]
            return n == 0 ? nil : (kind, n)
        }
    }

    /// The undecodable inner packets with their reasons, nonzero ones only.
    public var tunnelInnerSkippedByReason: [(DecodeStatus, UInt64)] {
        DecodeStatus.allCases.compactMap { status in
            let n = tunnelInnerSkipped[Int(status.rawValue)]
            return n == 0 ? nil : (status, n)
        }
    }

    mutating func countNonIP(etherType: UInt16) {
        switch etherType {
        case 0x0806, 0x8035: arpFrames &+= 1
        case 0x88CC: lldpFrames &+= 1
        case 0: llcFrames &+= 1
        default: otherNonIPFrames &+= 1
        }
    }

    /// The skipped counts with their reasons, nonzero ones only, in enum order.
    public var skippedByReason: [(DecodeStatus, UInt64)] {
        DecodeStatus.allCases.compactMap { status in
            let n = skipped[Int(status.rawValue)]
            return status == .ok || n == 0 ? nil : (status, n)
        }
    }
}
