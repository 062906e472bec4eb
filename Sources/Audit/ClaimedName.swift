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
        guard fromInitiator else { return nil }
        // The audit's own reader of hellos and request heads (FlowExtras.readHello).
        var entry = FlowExtras()
        guard (try? FlowExtras.readHello(payload, fromInitiator: true, into: &entry)) == true else { return nil }
        return (entry.serverName ?? entry.httpHost).map(HostName.normalise)
    }
}
