import Packets

/// How reports show a flow's tunnel (docs/report.md, "Tunnels"): the encapsulation, its id
/// and the outer endpoints, as Zeek's tunnel.log records them.
public enum TunnelFormat {
    /// `vxlan vni 5001 192.0.2.1 -> 192.0.2.2`, with `depth 2` for a tunnel inside another.
    public static func text(_ tunnel: TunnelContext) -> String {
        var out = tunnel.kind.name
        if let id = tunnel.id { out += " \(tunnel.kind.idName) \(id)" }
        out += " \(tunnel.outerSource) -> \(tunnel.outerDestination)"
        if tunnel.depth > 1 { out += " depth \(tunnel.depth)" }
        return out
    }

    /// `{"type":"vxlan","id":5001,"id_kind":"vni","outer_source":"192.0.2.1","outer_destination":"192.0.2.2","depth":1}`
    /// (`id` and `id_kind` only when the tunnel has an id).
    public static func json(_ tunnel: TunnelContext) -> String {
        var fields = ["\"type\":\(Format.json(tunnel.kind.name))"]
        if let id = tunnel.id {
            fields.append("\"id\":\(id)")
            fields.append("\"id_kind\":\(Format.json(tunnel.kind.idName))")
        }
        fields.append("\"outer_source\":\(Format.json(tunnel.outerSource.description))")
        fields.append("\"outer_destination\":\(Format.json(tunnel.outerDestination.description))")
        fields.append("\"depth\":\(tunnel.depth)")
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The tunnelled inner packets of an input, `vxlan 120, gre 4`, or nil when there were none.
    public static func packetCounts(_ counts: [(TunnelKind, UInt64)]) -> String? {
        counts.isEmpty ? nil : counts.map { "\($0.0.name) \($0.1)" }.joined(separator: ", ")
    }
}
