import Packets
import Policy

/// The name binder: owns the names of the capture (the site's `names:`, DNS answers the payload
/// parsers hand it) and answers which names a flow's ends had while the flow lasted, the
/// responder's including the flow's own TLS SNI and HTTP Host.
struct NameBinder {
    private(set) var table: NameTable

    /// A binder with the site's static names (`names:` entries, valid at every moment).
    init(graceSeconds: Int, siteNames: [SiteBinding.NameBinding] = []) {
        table = NameTable(graceSeconds: graceSeconds)
        for binding in siteNames {
            for address in binding.addresses {
                table.bind(binding.name, to: address, source: .site, at: Int64.min, ttl: nil)
            }
        }
    }

    /// Binds the names a DNS response answers (the payload parsers' DNS reader).
    /// - Returns: the parser's error for a message it could not read, nil otherwise.
    mutating func learn(dnsPayload payload: Span<UInt8>, tcp: Bool, at time: Int64) -> DNSError? {
        table.learn(dnsPayload: payload, tcp: tcp, at: time)
    }

    /// Names of `address` during [from, to], plus, for a flow's responder, the flow's own SNI
    /// and HTTP Host (normalised, after the table's names, without repeats).
    func names(of address: IPAddress, from: Int64, to: Int64, extra: FlowExtras? = nil) -> [String] {
        var list = table.bindings.isEmpty ? [] : table.names(of: address, from: from, to: to)
        if let extra {
            for name in [extra.serverName, extra.httpHost].compactMap({ $0 }) {
                let normal = HostName.normalise(name)
                if !list.contains(normal) { list.append(normal) }
            }
        }
        return list
    }

    /// Names DNS answers gave `address` during [from, to].
    func dnsNames(of address: IPAddress, from: Int64, to: Int64) -> [String] {
        table.dnsNames(of: address, from: from, to: to)
    }

    /// Bumped whenever a name is bound or extended (see ``NameTable/generation``).
    var generation: Int { table.generation }
}
