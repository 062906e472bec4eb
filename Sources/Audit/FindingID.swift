import Crypto
import Flows

extension UnexpectedGroup {
    /// The group's finding id, as the text and JSON reports show it and `flowaudit extract
    /// --finding` takes it: `U-` (unexpected traffic that got through) or `A-` (a refused
    /// attempt) and ten hex digits of the SHA-256 of the group's identity (initiator, responder,
    /// service, VLAN and tunnel). It depends on nothing else, so it is the same in every audit
    /// of traffic holding the group, in any shard, and in a merged report.
    public func findingID(attempt: Bool) -> String {
        var identity = "\(attempt ? "attempt" : "unexpected")|\(initiator)|\(responder)|\(service)|\(vlan.map { String($0) } ?? "-")"
        if let tunnel = example.tunnel { identity += "|\(tunnel)" }
        let digest = SHA256.hash(data: Array(identity.utf8))
        let hex = digest.prefix(5).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
        return (attempt ? "A-" : "U-") + hex
    }
}
