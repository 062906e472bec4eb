import Packets

/// Who may initiate a rule's flows.
public enum Direction: String, Sendable, Hashable {
    /// Only `from` initiates (the default).
    case oneWay = "one-way"
    /// Either side initiates: `to` may also open the same services towards `from`.
    case both
}

/// A role as one rule file declares it.
public struct RoleDeclaration: Sendable, Hashable {
    /// The role id (`[a-z0-9-]+`), unique in its file; each rule file is its own namespace.
    public var id: String
    public var description: String
    /// The product's own servers: a flow touching one is in scope.
    public var monitored: Bool
    /// DNS names (exact or `*.suffix`) the document itself gives.
    public var names: [HostSpec]
    /// Addresses, blocks, ranges or built-in sets the document itself gives.
    public var addresses: [HostSpec]
    public var location: SourceLocation
}

/// One allowed flow of a vendor document.
public struct Rule: Sendable, Hashable {
    /// The `system` of the rule file.
    public var system: String
    /// The id, unique in its file.
    public var id: String
    public var purpose: String
    /// Role ids allowed to initiate (for `both`, either side).
    public var from: [String]
    public var to: [String]
    /// The services as written in the rule file.
    public var services: [Service]
    /// Services a site may choose instead of ``services``.
    public var alternatives: [Service]
    public var direction: Direction
    /// The document says the flow is mandatory: an audit reports it `missing` when unseen.
    public var required: Bool
    /// Every host of `from` must show the flow on its own.
    public var each: Bool
    /// Table and row of the document.
    public var ref: String
    /// A reading the rule's author chose, kept for the report.
    public var note: String?
    public var location: SourceLocation

    /// `system/id`, the id reports use.
    public var qualifiedID: String { "\(system)/\(id)" }
}

/// A discouraged service and what to use instead (`prefer:`).
public struct PreferEntry: Sendable, Hashable {
    public var system: String
    public var id: String
    public var avoid: Service
    public var use: Service?
    public var reason: String
    public var ref: String?
    public var location: SourceLocation

    public var qualifiedID: String { "\(system)/\(id)" }
}

/// One rule file: one vendor document.
public struct RuleSet: Sendable, Hashable {
    /// The file as the user named it (or as resolved from a site's `rules:`).
    public var file: String
    public var system: String
    public var title: String
    public var source: String
    public var tlsMinimum: TLSVersion?
    public var roles: [RoleDeclaration]
    public var rules: [Rule]
    public var prefer: [PreferEntry]
    public var notes: [String]
    public var location: SourceLocation
}

/// A site's binding of roles to hosts.
public struct SiteBinding: Sendable, Hashable {
    /// One `roles:` entry of the site.
    public struct RoleBinding: Sendable, Hashable {
        /// The role as written: `internal-server` or `arksspr.internal-server`.
        public var role: String
        /// Address, block, range, name and built-in set entries.
        public var hosts: [HostSpec]
        /// Entries that name a machine of the site's `hosts:` (its addresses are not in ``hosts``).
        public var machines: [String]
        /// 802.1Q VLAN ids the binding is limited to (the flow's outermost tag); empty: any.
        public var vlans: [UInt16]
        /// Tunnel ids (VXLAN/Geneve VNI, GRE key, GTP-U TEID, ERSPAN session) the binding is
        /// limited to (the tunnel that carried the flow); empty: any, tunnelled or not.
        public var tunnelIDs: [UInt32]
        public var location: SourceLocation

        public init(role: String, hosts: [HostSpec], machines: [String] = [], vlans: [UInt16] = [], tunnelIDs: [UInt32] = [],
                    location: SourceLocation) {
            self.role = role
            self.hosts = hosts
            self.machines = machines
            self.vlans = vlans
            self.tunnelIDs = tunnelIDs
            self.location = location
        }
    }

    /// One `hosts:` entry: a machine by name with every address it uses (IPv4 and IPv6 of one
    /// node, a second NIC). `each` rules count machines, not addresses.
    public struct Machine: Sendable, Hashable {
        public var name: String
        public var addresses: [IPAddress]
        public var location: SourceLocation
    }

    /// One `names:` entry: a static name binding, like a hosts file line.
    public struct NameBinding: Sendable, Hashable {
        /// Lower case, no trailing dot.
        public var name: String
        public var addresses: [IPAddress]
        public var location: SourceLocation
    }

    /// One `choose:` entry.
    public struct Choice: Sendable, Hashable {
        /// The rule as written: `smtp-otp` or `arksspr/smtp-otp`.
        public var rule: String
        public var service: Service
        public var location: SourceLocation
    }

    public var file: String
    public var name: String
    /// Rule file paths resolved against the site file's directory.
    public var ruleFiles: [String]
    public var roles: [RoleBinding]
    /// Named machines (`hosts:`), in file order.
    public var machines: [Machine]
    public var names: [NameBinding]
    public var choose: [Choice]
    /// Seconds a DNS-learned binding outlives its TTL.
    public var dnsGrace: Int
    public var tlsMinimum: TLSVersion?
    /// Audit link control traffic (neighbour discovery, ARP, DHCP, ...) like any other flow
    /// instead of counting it apart.
    public var auditLinkControl: Bool = false
    public var location: SourceLocation

    /// The machine named `name`, if the site's `hosts:` declares it.
    public func machine(_ name: String) -> Machine? { machines.first { $0.name == name } }

    /// The default ``dnsGrace``.
    public static let defaultDNSGrace = 3600
}
