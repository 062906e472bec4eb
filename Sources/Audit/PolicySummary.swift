import Policy

/// The few facts about the loaded policy that reports show besides the audit's results: where
/// each rule, `prefer:` entry and site binding is written (SARIF locates findings there), the
/// roles of each rule file with their bindings in words (the HTML report's diagrams) and each
/// rule file's source document. Built once from the ``Policy`` by the command that renders, so
/// that the renderers read report data only and never the policy itself.
public struct PolicySummary: Sendable, Hashable {
    /// A place in a policy file: 1-based line and column; line 0 means the file as a whole.
    public struct Place: Sendable, Hashable {
        public var file: String
        public var line: Int
        public var column: Int

        public init(file: String, line: Int = 0, column: Int = 0) {
            self.file = file
            self.line = line
            self.column = column
        }
    }

    /// One rule of a rule file, as SARIF describes it.
    public struct Rule: Sendable, Hashable {
        /// `system/id`.
        public var qualifiedID: String
        public var system: String
        public var purpose: String
        public var ref: String
        public var required: Bool
        public var each: Bool
        public var place: Place

        public init(qualifiedID: String, system: String, purpose: String, ref: String, required: Bool, each: Bool, place: Place) {
            self.qualifiedID = qualifiedID
            self.system = system
            self.purpose = purpose
            self.ref = ref
            self.required = required
            self.each = each
            self.place = place
        }
    }

    /// A role of a rule file with the site's binding, its hosts written out.
    public struct Role: Sendable, Hashable {
        /// A site machine bound to the role: its name and addresses.
        public struct Machine: Sendable, Hashable {
            public var name: String
            public var addresses: [String]

            public init(name: String, addresses: [String]) {
                self.name = name
                self.addresses = addresses
            }
        }

        /// Hosts the site binds on some VLANs only.
        public struct VLANBinding: Sendable, Hashable {
            public var hosts: [String]
            public var vlans: [UInt16]

            public init(hosts: [String], vlans: [UInt16]) {
                self.hosts = hosts
                self.vlans = vlans
            }
        }

        /// `system.role`.
        public var id: String
        public var system: String
        /// The id as the rule file writes it.
        public var localID: String
        public var description: String
        public var monitored: Bool
        /// True when some host (the document's or the site's) binds the role.
        public var isBound: Bool
        public var machines: [Machine]
        /// Hosts the site binds for any VLAN; nil when the site does not bind the role.
        public var siteHosts: [String]?
        public var vlanBindings: [VLANBinding]
        /// Hosts the rule file gives.
        public var documentHosts: [String]

        public init(id: String, system: String, localID: String, description: String, monitored: Bool, isBound: Bool,
                    machines: [Machine] = [], siteHosts: [String]? = nil, vlanBindings: [VLANBinding] = [],
                    documentHosts: [String] = []) {
            self.id = id
            self.system = system
            self.localID = localID
            self.description = description
            self.monitored = monitored
            self.isBound = isBound
            self.machines = machines
            self.siteHosts = siteHosts
            self.vlanBindings = vlanBindings
            self.documentHosts = documentHosts
        }
    }

    /// Every rule of every rule file, in load order.
    public var rules: [Rule]
    /// `system/id` of each `prefer:` entry -> where it is written.
    public var preferPlaces: [String: Place]
    /// The site file, when a site is loaded.
    public var sitePlace: Place?
    /// Qualified role id -> the site's `roles:` entries that bind it.
    public var bindingPlaces: [String: [Place]]
    /// Roles in first-declaration order.
    public var roles: [Role]
    /// System -> the source document its rule file names (the first file of that system).
    public var documentSources: [String: String]

    public init(rules: [Rule] = [], preferPlaces: [String: Place] = [:], sitePlace: Place? = nil,
                bindingPlaces: [String: [Place]] = [:], roles: [Role] = [], documentSources: [String: String] = [:]) {
        self.rules = rules
        self.preferPlaces = preferPlaces
        self.sitePlace = sitePlace
        self.bindingPlaces = bindingPlaces
        self.roles = roles
        self.documentSources = documentSources
    }

    public init(_ policy: Policy) {
        func place(_ location: SourceLocation) -> Place { Place(file: location.file, line: location.line, column: location.column) }
        rules = policy.rules.map { applied in
            let rule = applied.rule
            return Rule(qualifiedID: rule.qualifiedID, system: rule.system, purpose: rule.purpose, ref: rule.ref,
                        required: rule.required, each: rule.each, place: place(rule.location))
        }
        preferPlaces = [:]
        for entry in policy.prefer { preferPlaces["\(entry.system)/\(entry.id)"] = place(entry.location) }
        sitePlace = nil
        bindingPlaces = [:]
        if let site = policy.site {
            sitePlace = place(site.location)
            for entry in site.roles {
                // `system.role` as written, or a bare role: the one loaded role of that name.
                let ids = entry.role.contains(".") ? [entry.role] : policy.roles.filter { $0.localID == entry.role }.map(\.id)
                for id in ids { bindingPlaces[id, default: []].append(place(entry.location)) }
            }
        }
        roles = policy.roles.map { role in
            Role(id: role.id, system: role.system, localID: role.localID, description: role.description,
                 monitored: role.monitored, isBound: role.isBound,
                 machines: role.machines.map { Role.Machine(name: $0.name, addresses: $0.addresses.map(\.description)) },
                 siteHosts: role.siteHosts.map { $0.map(\.description) },
                 vlanBindings: role.vlanBindings.map { Role.VLANBinding(hosts: $0.hosts.map(\.description), vlans: $0.vlans) },
                 documentHosts: role.documentHosts.map(\.description))
        }
        documentSources = [:]
        for set in policy.ruleSets where documentSources[set.system] == nil { documentSources[set.system] = set.source }
    }
}
