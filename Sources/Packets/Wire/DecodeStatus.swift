/// Why a packet was not turned into a flow update, or `ok`. Stable snake_case keys become report
/// keys (Zeek's "weirds", but typed). Everything except `ok` is counted by the caller; nothing
/// here allocates or formats per packet.
public enum DecodeStatus: UInt8, CaseIterable, Sendable {
    case ok = 0
    /// A well-formed frame that carries no IP (ARP, LLDP, 802.3 LLC, ...): not an error.
    case notIP
    /// The interface's link type is not one flowaudit decodes (counted by link type too).
    case unsupportedLinkType
    case truncatedLinkHeader
    case truncatedVLANTag
    case vlanTooDeep
    case unknownLoopbackFamily
    case truncatedPPPoE
    case truncatedMPLS
    case badIPVersion
    case truncatedIPv4
    case ipv4BadIHL
    case ipv4BadTotalLength
    case ipv4TotalLengthBeyondFrame
    case truncatedIPv6
    case ipv6PayloadLengthBeyondFrame
    case truncatedIPv6Extension
    case ipv6ExtensionBeyondPayload
    case truncatedTCP
    case tcpBadDataOffset
    case tcpDataOffsetBeyondSegment
    case truncatedUDP
    case udpBadLength
    case truncatedICMP
    case icmpQuotedTruncated
    /// IEEE 802.11 management frames (beacons, probes, association): no IP, counted.
    case wirelessManagement
    /// IEEE 802.11 control frames (RTS, CTS, ACK, block ack): no IP, counted.
    case wirelessControl
    /// IEEE 802.11 data frames without a body (Null, QoS Null).
    case wirelessNoData
    /// IEEE 802.11 data frames with the Protected flag: encrypted, nothing to decode.
    case wirelessProtected

    /// The report key, e.g. `tcp_bad_data_offset`.
    public var key: String {
        switch self {
        case .ok: "ok"
        case .notIP: "not_ip"
        case .unsupportedLinkType: "unsupported_link_type"
        case .truncatedLinkHeader: "truncated_link_header"
        case .truncatedVLANTag: "truncated_vlan_tag"
        case .vlanTooDeep: "vlan_too_deep"
        case .unknownLoopbackFamily: "unknown_loopback_family"
        case .truncatedPPPoE: "truncated_pppoe"
        case .truncatedMPLS: "truncated_mpls"
        case .badIPVersion: "bad_ip_version"
        case .truncatedIPv4: "truncated_ipv4"
        case .ipv4BadIHL: "ipv4_bad_ihl"
        case .ipv4BadTotalLength: "ipv4_bad_total_length"
        case .ipv4TotalLengthBeyondFrame: "ipv4_total_length_beyond_frame"
        case .truncatedIPv6: "truncated_ipv6"
        case .ipv6PayloadLengthBeyondFrame: "ipv6_payload_length_beyond_frame"
        case .truncatedIPv6Extension: "truncated_ipv6_extension"
        case .ipv6ExtensionBeyondPayload: "ipv6_extension_beyond_payload"
        case .truncatedTCP: "truncated_tcp"
        case .tcpBadDataOffset: "tcp_bad_data_offset"
        case .tcpDataOffsetBeyondSegment: "tcp_data_offset_beyond_segment"
        case .truncatedUDP: "truncated_udp"
        case .udpBadLength: "udp_bad_length"
        case .truncatedICMP: "truncated_icmp"
        case .icmpQuotedTruncated: "icmp_quoted_truncated"
        case .wirelessManagement: "wireless_management"
        case .wirelessControl: "wireless_control"
        case .wirelessNoData: "wireless_no_data"
        case .wirelessProtected: "wireless_protected"
        }
    }

    /// A sentence for people, used once per reason in a report.
    public var explanation: String {
        switch self {
        case .ok: "decoded"
        case .notIP: "frame carries no IP (ARP, LLDP, LLC, ...)"
        case .unsupportedLinkType: "link type not supported"
        case .truncatedLinkHeader: "frame shorter than its link-layer header"
        case .truncatedVLANTag: "802.1Q/802.1ad tag cut short"
        case .vlanTooDeep: "more than 16 stacked VLAN tags"
        case .unknownLoopbackFamily: "loopback header names an address family other than IPv4/IPv6"
        case .truncatedPPPoE: "PPPoE session header cut short"
        case .truncatedMPLS: "MPLS label stack cut short"
        case .badIPVersion: "IP version field is neither 4 nor 6"
        case .truncatedIPv4: "IPv4 header cut short"
        case .ipv4BadIHL: "IPv4 header length (IHL) below 5"
        case .ipv4BadTotalLength: "IPv4 total length smaller than its header"
        case .ipv4TotalLengthBeyondFrame: "IPv4 total length beyond the frame"
        case .truncatedIPv6: "IPv6 header cut short"
        case .ipv6PayloadLengthBeyondFrame: "IPv6 payload length beyond the frame"
        case .truncatedIPv6Extension: "IPv6 extension header chain runs off the captured bytes"
        case .ipv6ExtensionBeyondPayload: "IPv6 extension header runs beyond the payload length"
        case .truncatedTCP: "TCP header cut short"
        case .tcpBadDataOffset: "TCP data offset below 5"
        case .tcpDataOffsetBeyondSegment: "TCP data offset beyond the segment"
        case .truncatedUDP: "UDP header cut short"
        case .udpBadLength: "UDP length below 8"
        case .truncatedICMP: "ICMP header cut short"
        case .icmpQuotedTruncated: "ICMP error quotes a truncated header"
        case .wirelessManagement: "802.11 management frame (beacon, probe, association, ...): no IP"
        case .wirelessControl: "802.11 control frame (RTS, CTS, ACK, ...): no IP"
        case .wirelessNoData: "802.11 data frame without a body (Null, QoS Null)"
        case .wirelessProtected: "802.11 data frame encrypted (Protected flag): not decoded"
        }
    }
}

extension DecodeStatus: Error {}
