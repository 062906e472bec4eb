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
        var id = Array((attempt ? "A-" : "U-").utf8)
        let digits = Array("0123456789abcdef".utf8)
        for byte in digest.prefix(5) {
            id.append(digits[Int(byte >> 4)])
            id.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: id, as: UTF8.self)
    }
}
