import Flows
import Packets

/// The name a flow's client claims for its server (TLS ClientHello SNI, HTTP Host), read from one
/// payload as the audit reads it: for tools that meter flows themselves (`flowaudit learn`) and
/// need the names the audit gives a flow's responder.
public enum ClaimedName {
    /// The normalised server name in `payload` (a TCP payload the initiator sent), or nil: an
    /// SNI or Host that is an address literal names nothing, and a hello split over segments
    /// is not read.
    public static func of(tcpPayload payload: Span<UInt8>, fromInitiator: Bool) -> String? {
        guard fromInitiator, payload.count > 0 else { return nil }
        let first = payload[0]
        if first == 0x16 {
            guard case .client(let hello)? = try? TLSHello.parse(payload) else { return nil }
            return hello.serverName.flatMap(HostHeader.name).map(NameTable.normalise)
        }
        if first >= 0x41, first <= 0x5A, let head = try? HTTPRequestHead.parse(payload) {
            return head.host.flatMap(HostHeader.name).map(NameTable.normalise)
        }
        return nil
    }
}
