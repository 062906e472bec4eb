// The scenario model: one site's address table, the traffic built for it, and the findings that
// traffic was built to produce. Every scenario records its expectations as it injects the
// traffic, so `expected.json` comes from the generator's own knowledge, not from an audit run.

import PacketBuilder
import Packets

/// How a scenario's capture file is written.
enum ScenarioCaptureFormat: Equatable {
    /// pcap; `nanoseconds` picks the a1b23c4d magic.
    case pcap(nanoseconds: Bool, byteOrder: ByteOrder)
    /// pcapng with one Ethernet interface in the given timestamp unit.
    case pcapng(resolution: TimestampResolution, byteOrder: ByteOrder)

    var fileName: String {
        switch self {
        case .pcap: "capture.pcap"
        case .pcapng: "capture.pcapng"
        }
    }

    var summary: String {
        switch self {
        case .pcap(let nanoseconds, let order):
            "pcap, \(order == .bigEndian ? "big" : "little")-endian, \(nanoseconds ? "nanosecond" : "microsecond") timestamps"
        case .pcapng(let resolution, let order):
            "pcapng, \(order == .bigEndian ? "big" : "little")-endian, timestamps in \(resolution)"
        }
    }
}

/// The site binding a scenario writes as `site.yaml`: roles and names come from the scenario's
/// address table, so the file and the capture cannot disagree.
struct ScenarioSite {
    var name: String
    var comment: [String]
    /// The rule files, relative to the site file.
    var rulesFiles: [String]
    var roles: [(role: String, hosts: [String], comment: String?)]
    var names: [(name: String, addresses: [String])] = []
    var choose: [(rule: String, service: String)] = []
    var tlsMinimum: String? = nil
    var tlsMinimumComment: String? = nil
    /// Named machines (`hosts:`): name -> every address the machine uses.
    var hosts: [(name: String, addresses: [String], comment: String?)] = []
    /// Roles in the long form, scoped to 802.1Q VLAN ids.
    var vlanRoles: [(role: String, hosts: [String], vlan: [UInt16], comment: String?)] = []
    /// `audit-link-control:`, written only when set.
    var auditLinkControl: Bool? = nil

    init(name: String, comment: [String], rulesFile: String, roles: [(role: String, hosts: [String], comment: String?)],
         names: [(name: String, addresses: [String])] = [], choose: [(rule: String, service: String)] = [],
         tlsMinimum: String? = nil, tlsMinimumComment: String? = nil,
         hosts: [(name: String, addresses: [String], comment: String?)] = [],
         vlanRoles: [(role: String, hosts: [String], vlan: [UInt16], comment: String?)] = [], auditLinkControl: Bool? = nil) {
        self.init(name: name, comment: comment, rulesFiles: [rulesFile], roles: roles, names: names, choose: choose,
                  tlsMinimum: tlsMinimum, tlsMinimumComment: tlsMinimumComment, hosts: hosts, vlanRoles: vlanRoles,
                  auditLinkControl: auditLinkControl)
    }

    init(name: String, comment: [String], rulesFiles: [String], roles: [(role: String, hosts: [String], comment: String?)],
         names: [(name: String, addresses: [String])] = [], choose: [(rule: String, service: String)] = [],
         tlsMinimum: String? = nil, tlsMinimumComment: String? = nil,
         hosts: [(name: String, addresses: [String], comment: String?)] = [],
         vlanRoles: [(role: String, hosts: [String], vlan: [UInt16], comment: String?)] = [], auditLinkControl: Bool? = nil) {
        self.name = name
        self.comment = comment
        self.rulesFiles = rulesFiles
        self.roles = roles
        self.names = names
        self.choose = choose
        self.tlsMinimum = tlsMinimum
        self.tlsMinimumComment = tlsMinimumComment
        self.hosts = hosts
        self.vlanRoles = vlanRoles
        self.auditLinkControl = auditLinkControl
    }

    /// The YAML text, in a fixed order.
    func yaml() -> String {
        var out = comment.map { "# \($0)\n" }.joined()
        out += "site: \(name)\n"
        out += "rules: [\(rulesFiles.joined(separator: ", "))]\n"
        if let tlsMinimum {
            out += "tls-minimum: \"\(tlsMinimum)\"" + (tlsMinimumComment.map { "   # \($0)" } ?? "") + "\n"
        }
        if let auditLinkControl {
            out += "audit-link-control: \(auditLinkControl)\n"
        }
        if !hosts.isEmpty {
            out += "hosts:\n"
            for (name, addresses, note) in hosts {
                if let note { out += "  # \(note)\n" }
                out += "  \(name): [\(addresses.map(Self.scalar).joined(separator: ", "))]\n"
            }
        }
        out += "roles:\n"
        for (role, hosts, note) in roles {
            if let note { out += "  # \(note)\n" }
            out += "  \(role): [\(hosts.map(Self.scalar).joined(separator: ", "))]\n"
        }
        for (role, hosts, vlan, note) in vlanRoles {
            if let note { out += "  # \(note)\n" }
            out += "  \(role):\n"
            out += "    hosts: [\(hosts.map(Self.scalar).joined(separator: ", "))]\n"
            out += "    vlan: [\(vlan.map(String.init).joined(separator: ", "))]\n"
        }
        if !names.isEmpty {
            out += "names:\n"
            for (name, addresses) in names { out += "  \(name): [\(addresses.map(Self.scalar).joined(separator: ", "))]\n" }
        }
        if !choose.isEmpty {
            out += "choose:\n"
            for (rule, service) in choose { out += "  \(rule): \(service)\n" }
        }
        return out
    }

    /// IPv6 addresses and `*.` patterns are quoted; everything else is written plain.
    static func scalar(_ text: String) -> String {
        text.contains(":") || text.hasPrefix("*") ? "\"\(text)\"" : text
    }
}

/// A rule's expected status.
enum ExpectedStatus: String {
    case observed, blocked, missing, partial, notSeen = "not-seen", unbound
}

struct ExpectedRule {
    var id: String
    var status: ExpectedStatus
    var hostsMissing: [String]
    var why: String
}

/// An unexpected group or an attempt group: initiator, responder, service (`tcp/443`).
struct ExpectedGroup {
    var initiator: String
    var responder: String
    var service: String
    var why: String
    /// The qualified roles of each end (`arksspr.internal-server`), when the scenario checks them.
    var roles: (initiator: [String], responder: [String])? = nil
}

struct ExpectedAdvisory {
    var kind: String
    var initiator: String
    var responder: String
    var why: String
}

/// A scenario: its files' contents come from ``build(_:)``.
struct Scenario {
    /// The folder name under Captures/, and the rule file's system.
    var system: String
    var title: String
    var format: ScenarioCaptureFormat
    var site: ScenarioSite
    /// One paragraph for the README: the site and its story.
    var story: String
    var build: (inout ScenarioBuilder) -> Void

    static var all: [Scenario] { [.arksspr, .netwrixPrivilegeSecure, .nextronAnalysisCockpit, .remoteSpark, .twoProducts] }

    /// The built traffic and expectations.
    func run() -> ScenarioBuilder {
        var builder = ScenarioBuilder(system: system)
        build(&builder)
        return builder
    }
}

/// Builds a scenario's conversations on a fixed clock and records what each was built to show.
struct ScenarioBuilder {
    /// 2025-03-03 09:00:00 UTC, in nanoseconds: every capture starts here.
    static let epoch: Int64 = 1_740_992_400 * 1_000_000_000
    /// Time between the starts of consecutive conversations.
    static let step: Int64 = 400_000_000

    let system: String
    private(set) var conversations: [[TimedFrame]] = []
    private(set) var rules: [ExpectedRule] = []
    private(set) var unexpected: [ExpectedGroup] = []
    private(set) var attempts: [ExpectedGroup] = []
    private(set) var advisories: [ExpectedAdvisory] = []
    /// Link control packets (ARP, ND, MLD, DHCP, DHCPv6, IGMP, ...) and their kinds, in order of first use.
    private(set) var linkControlPackets = 0
    private(set) var linkControlKinds: [String] = []
    /// Lines for the README: the traffic of the scenario, in the order it was added.
    private(set) var traffic: [String] = []
    /// Conversations (one flow each) with a monitored end, and without.
    private(set) var inScopeFlows = 0
    private(set) var outOfScopeFlows = 0
    private var outOfScope = false
    private var clock: Int64 = ScenarioBuilder.epoch + 100_000_000
    private var nextPort: UInt16 = 50_100
    private var nextISN: UInt32 = 0x1000_0000

    init(system: String) { self.system = system }

    // MARK: Expectations

    /// `rule` is the id in the scenario's rule file, or `system/id` when the site loads several files.
    /// `hosts` are the hosts missing from an `each` rule: `hosts:` names, or addresses of unnamed hosts.
    mutating func expect(_ rule: String, _ status: ExpectedStatus, missing hosts: [String] = [], _ why: String) {
        let id = rule.contains("/") ? rule : "\(system)/\(rule)"
        rules.append(ExpectedRule(id: id, status: status, hostsMissing: hosts, why: why))
    }

    mutating func expectUnexpected(_ initiator: IPAddress, _ responder: IPAddress, _ service: String,
                                   roles: (initiator: [String], responder: [String])? = nil, _ why: String) {
        unexpected.append(ExpectedGroup(initiator: initiator.description, responder: responder.description, service: service, why: why,
                                        roles: roles))
    }

    mutating func expectAttempt(_ initiator: IPAddress, _ responder: IPAddress, _ service: String, _ why: String) {
        attempts.append(ExpectedGroup(initiator: initiator.description, responder: responder.description, service: service, why: why))
    }

    mutating func expectAdvisory(_ kind: String, _ initiator: IPAddress, _ responder: IPAddress, _ why: String) {
        advisories.append(ExpectedAdvisory(kind: kind, initiator: initiator.description, responder: responder.description, why: why))
    }

    /// Exit status of `flowaudit audit` with the default `--fail-on unexpected,missing,blocked`.
    var expectedExitStatus: Int {
        verdict == "PASS" ? 0 : 1
    }

    /// The report's verdict: FAIL when there are unexpected flows or missing, partial or blocked
    /// rules, whatever `--fail-on` says; NO-SCOPE when the capture has flows and none is in scope.
    var verdict: String {
        if inScopeFlows == 0 && outOfScopeFlows > 0 { return "NO-SCOPE" }
        let failing = !unexpected.isEmpty || rules.contains { [.missing, .partial, .blocked].contains($0.status) }
        return failing ? "FAIL" : "PASS"
    }

    // MARK: Traffic

    /// The next conversation's start time, and the clock moved on.
    private mutating func slot() -> Int64 {
        defer { clock += Self.step }
        return clock
    }

    /// A fresh ephemeral port.
    mutating func port() -> UInt16 {
        defer { nextPort += 7 }
        return nextPort
    }

    private mutating func isn() -> (UInt32, UInt32) {
        defer { nextISN &+= 0x0101_0101 }
        return (nextISN, nextISN &+ 0x4000_0000)
    }

    private mutating func add(_ frames: [TimedFrame], _ line: String) {
        conversations.append(frames)
        traffic.append(outOfScope ? line + " (out of scope)" : line)
        if outOfScope { outOfScopeFlows += 1 } else { inScopeFlows += 1 }
    }

    /// The conversations added from here on have no monitored end: the audit counts them as out
    /// of scope and reports nothing else about them.
    mutating func startOutOfScope() { outOfScope = true }

    private static func endpoint(_ address: IPAddress, _ port: UInt16) -> String { Endpoint(address, port).description }

    /// A complete TCP session from an ephemeral port.
    mutating func tcp(_ client: IPAddress, _ server: IPAddress, _ port: UInt16, link: Frame = .ethernet(),
                      clientData: [[UInt8]] = [Conversation.filler(count: 120)], serverData: [[UInt8]] = [Conversation.filler(count: 300, seed: 7)],
                      close: Conversation.Close = .fin, _ note: String) {
        let (c, s) = isn()
        let from = Endpoint(client, self.port())
        add(Conversation(link: link).tcpSession(client: from, server: Endpoint(server, port), at: slot(), clientData: clientData,
                                                serverData: serverData, close: close, clientISN: c, serverISN: s),
            "tcp \(from) -> \(Self.endpoint(server, port)): \(note)")
    }

    /// A TCP session that opens with a TLS ClientHello (SNI `serverName`, offering 1.3 and 1.2)
    /// answered by a TLS 1.2 ServerHello.
    mutating func tls(_ client: IPAddress, _ server: IPAddress, _ port: UInt16 = 443, serverName: String?, link: Frame = .ethernet(), _ note: String) {
        tcp(client, server, port, link: link,
            clientData: [TLSPayload.clientHello(serverName: serverName)],
            serverData: [TLSPayload.serverHello(legacyVersion: .tls12)], note)
    }

    /// A TCP session whose ClientHello and ServerHello are TLS 1.0.
    mutating func tls10(_ client: IPAddress, _ server: IPAddress, _ port: UInt16 = 443, serverName: String?, link: Frame = .ethernet(), _ note: String) {
        tcp(client, server, port, link: link,
            clientData: [TLSPayload.legacyClientHello(serverName: serverName, version: .tls10)],
            serverData: [TLSPayload.serverHello(legacyVersion: .tls10, cipherSuite: 0x002F, recordVersion: .tls10)], note)
    }

    /// A TCP session already running when the capture starts: data both ways, no handshake and
    /// no teardown (its first packet is at the capture's first instant).
    mutating func midstream(_ client: IPAddress, clientPort: UInt16, _ server: IPAddress, _ port: UInt16, link: Frame = .ethernet(), _ note: String) {
        let from = Endpoint(client, clientPort)
        let frames = Conversation(link: link).tcpMidstream(
            client: from, server: Endpoint(server, port), at: Self.epoch,
            clientData: [Conversation.filler(count: 200), Conversation.filler(count: 90, seed: 3)],
            serverData: [Conversation.filler(count: 600, seed: 5), Conversation.filler(count: 60, seed: 9)])
        add(frames, "tcp \(from) -> \(Self.endpoint(server, port)) (already running at capture start): \(note)")
    }

    /// A SYN and two retransmissions, never answered.
    mutating func noAnswer(_ client: IPAddress, _ server: IPAddress, _ port: UInt16, link: Frame = .ethernet(), _ note: String) {
        let from = Endpoint(client, self.port())
        add(Conversation(link: link).tcpUnanswered(client: from, server: Endpoint(server, port), at: slot(), clientISN: isn().0),
            "tcp \(from) -> \(Self.endpoint(server, port)) SYN x3, no answer: \(note)")
    }

    /// A SYN answered by RST from the server.
    mutating func rejected(_ client: IPAddress, _ server: IPAddress, _ port: UInt16, link: Frame = .ethernet(), _ note: String) {
        let from = Endpoint(client, self.port())
        add(Conversation(link: link).tcpRejected(client: from, server: Endpoint(server, port), at: slot(), clientISN: isn().0),
            "tcp \(from) -> \(Self.endpoint(server, port)) SYN answered by RST: \(note)")
    }

    /// A SYN answered by ICMP "administratively prohibited" from `firewall`.
    mutating func prohibited(_ client: IPAddress, _ server: IPAddress, _ port: UInt16, firewall: IPAddress, link: Frame = .ethernet(), _ note: String) {
        let from = Endpoint(client, self.port())
        add(Conversation(link: link).tcpUnreachable(client: from, server: Endpoint(server, port), firewall: firewall, at: slot(), clientISN: isn().0),
            "tcp \(from) -> \(Self.endpoint(server, port)) SYN answered by ICMP administratively prohibited from \(firewall): \(note)")
    }

    /// One UDP request and its answer. `clientPort` defaults to an ephemeral port.
    mutating func udp(_ client: IPAddress, clientPort: UInt16? = nil, _ server: IPAddress, _ port: UInt16, link: Frame = .ethernet(),
                      request: [UInt8] = Conversation.filler(count: 48), response: [UInt8] = Conversation.filler(count: 48, seed: 1), _ note: String) {
        let from = Endpoint(client, clientPort ?? self.port())
        add(Conversation(link: link).udpExchange(client: from, server: Endpoint(server, port), at: slot(), request: request, response: response),
            "udp \(from) -> \(Self.endpoint(server, port)), answered: \(note)")
    }

    /// UDP datagrams one way, no answer (syslog).
    mutating func udpOneWay(_ client: IPAddress, _ server: IPAddress, _ port: UInt16, count: Int = 3, link: Frame = .ethernet(), _ note: String) {
        let from = Endpoint(client, self.port())
        let payloads = (0..<count).map { Array("<134>1 2025-03-03T09:00:0\($0)Z message \($0)".utf8) }
        add(Conversation(link: link).udpStream(source: from, destination: Endpoint(server, port), at: slot(), payloads: payloads),
            "udp \(from) -> \(Self.endpoint(server, port)), \(count) datagrams, no answer: \(note)")
    }

    /// A DNS query for `name` and its answer (A or AAAA records, CNAMEs first).
    mutating func dns(_ client: IPAddress, _ resolver: IPAddress, _ name: String, type: DNSRecordType = .a, answers: [DNSPayload.Record],
                      link: Frame = .ethernet(), _ note: String) {
        let id = UInt16(truncatingIfNeeded: 0x4000 &+ conversations.count)
        udp(client, resolver, 53, link: link, request: DNSPayload.query(id: id, name: name, type: type).bytes(),
            response: DNSPayload.response(id: id, name: name, type: type, answers: answers).bytes(), note)
    }

    /// An ICMP echo request and reply.
    mutating func ping(_ client: IPAddress, _ server: IPAddress, link: Frame = .ethernet(), _ note: String) {
        let identifier = UInt16(truncatingIfNeeded: 0x0200 &+ conversations.count)
        add(Conversation(link: link).icmpEcho(client: client, server: server, at: slot(), identifier: identifier, count: 2),
            "icmp echo \(client) -> \(server), answered: \(note)")
    }

    /// Link control frames (built with ``LinkControl``), 1 ms apart from the next slot. They are
    /// counted in the report's `link_control` section, neither in scope nor out of scope, and are
    /// never unexpected (the site does not set `audit-link-control`).
    mutating func linkControl(_ kind: String, _ frames: [[UInt8]], _ note: String) {
        let start = slot()
        conversations.append(frames.enumerated().map { TimedFrame(timestamp: start + Int64($0.offset) * 1_000_000, frame: $0.element) })
        linkControlPackets += frames.count
        if !linkControlKinds.contains(kind) { linkControlKinds.append(kind) }
        traffic.append("link control, \(kind), \(frames.count) packet\(frames.count == 1 ? "" : "s"): \(note)")
    }

    /// The frames of every conversation in time order.
    var frames: [TimedFrame] { TimedFrame.merge(conversations) }
}
