import Audit
import Foundation

/// The diagram of one system in the HTML report: its roles as boxes, and one edge per ordered
/// pair of roles and kind of traffic (docs/report.md, "`flowaudit audit --format html`").
///
/// The layout is computed, not searched, so the same report always gives the same picture: the
/// role with the most edges (the product's server, in the vendor documents at hand) sits in the
/// middle and the others on an ellipse around it in the rule file's order; with fewer than four
/// roles, or no role touching three others, all roles sit on the ellipse.
struct HTMLDiagram {
    /// What an edge stands for.
    enum Kind: String, CaseIterable {
        /// A rule whose flows got through (`observed`).
        case allowed
        /// Unexpected traffic that got through.
        case unexpected
        /// A required rule with no flow, or an `each` rule some host did not show (`partial`).
        case missing
        /// A rule whose flows were all refused or unanswered.
        case blocked
        /// Unexpected traffic that was refused (or a TCP handshake nobody answered).
        case attempt
        /// An optional rule with no flow.
        case notSeen = "not-seen"

        var legend: String {
            switch self {
            case .allowed: "allowed, seen"
            case .unexpected: "unexpected, got through"
            case .missing: "required, missing"
            case .blocked: "allowed, blocked"
            case .attempt: "unexpected, refused"
            case .notSeen: "optional, not seen"
            }
        }
    }

    /// The pseudo-role of hosts that hold no role of the system (an unexpected group's far end).
    static let otherID = "(other hosts)"

    struct Node {
        var id: String
        var label: String
        var detail: String
        var title: String
        var kind: String
        var x: Double
        var y: Double
    }

    struct Edge {
        var from: String
        var to: String
        var kind: Kind
        /// Services (rules) or services of the groups, in first-seen order.
        var services: [String]
        /// The rules or groups behind the edge, for its tooltip.
        var members: [String]
        var bothWays: Bool
    }

    var nodes: [Node] = []
    var edges: [Edge] = []

    /// Box size, margins and the legend's rows.
    static let boxWidth = 200.0, boxHeight = 44.0, margin = 24.0, legendRow = 26.0, legendColumn = 236.0

    /// The diagram of `system`: nodes from the rule file's roles (`roles`, in its order), edges
    /// from the report's rules and unexpected groups.
    init(system: String, roles: [PolicySummary.Role], report: AuditReport) {
        let prefix = system + "."
        var order: [String] = roles.filter { $0.system == system }.map(\.id)
        var edgeIndex: [String: Int] = [:]
        func add(_ from: String, _ to: String, _ kind: Kind, services: [String], member: String, both: Bool) {
            for id in [from, to] where !order.contains(id) { order.append(id) }
            let key = "\(from)\u{0}\(to)\u{0}\(kind.rawValue)"
            if let index = edgeIndex[key] {
                for service in services where !edges[index].services.contains(service) { edges[index].services.append(service) }
                if !edges[index].members.contains(member) { edges[index].members.append(member) }
                edges[index].bothWays = edges[index].bothWays || both
            } else {
                edgeIndex[key] = edges.count
                edges.append(Edge(from: from, to: to, kind: kind, services: services, members: [member], bothWays: both))
            }
        }
        for rule in report.rules where rule.system == system {
            let kind: Kind
            switch rule.status {
            case .observed: kind = .allowed
            case .missing, .partial: kind = .missing
            case .blocked: kind = .blocked
            case .notSeen: kind = .notSeen
            case .unbound: continue
            }
            for from in rule.from {
                for to in rule.to {
                    add(from, to, kind, services: rule.services, member: "\(rule.qualifiedID) (\(rule.status.rawValue))",
                        both: rule.direction == "both")
                }
            }
        }
        for (groups, kind) in [(report.unexpected, Kind.unexpected), (report.attempts, Kind.attempt)] {
            for group in groups {
                let from = group.initiatorRoles.filter { $0.hasPrefix(prefix) }
                let to = group.responderRoles.filter { $0.hasPrefix(prefix) }
                // A group that touches none of this system's roles belongs to another diagram.
                if from.isEmpty && to.isEmpty { continue }
                for a in from.isEmpty ? [Self.otherID] : from {
                    for b in to.isEmpty ? [Self.otherID] : to {
                        add(a, b, kind, services: [group.service], member: FindingText.groupName(group), both: false)
                    }
                }
            }
        }
        // The "other hosts" box goes last, whatever order the groups named it in.
        if let index = order.firstIndex(of: Self.otherID) { order.append(order.remove(at: index)) }

        let byID = Dictionary(roles.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        nodes = order.map { id in
            guard let role = byID[id] else {
                let other = id == Self.otherID
                return Node(id: id, label: other ? "other hosts" : id, detail: other ? "no role of this system" : "",
                            title: other ? "Hosts that hold no role of this system" : id, kind: "other", x: 0, y: 0)
            }
            return Node(id: id, label: role.localID, detail: Self.binding(role), title: Self.tooltip(role),
                        kind: !role.isBound ? "unbound" : (role.monitored ? "monitored" : "role"), x: 0, y: 0)
        }
        layOut()
    }

    /// The site's binding in a few words: machines, else hosts (`10.10.0.5, 2001:db8:10::5`).
    static func binding(_ role: PolicySummary.Role) -> String {
        guard role.isBound else { return "unbound" }
        var items = role.machines.map(\.name)
        if items.isEmpty {
            items = role.siteHosts ?? []
            for binding in role.vlanBindings {
                let vlans = binding.vlans.isEmpty ? "" : " vlan \(binding.vlans.map(String.init).joined(separator: ","))"
                items += binding.hosts.map { "\($0)\(vlans)" }
            }
            if items.isEmpty { items = role.documentHosts }
        }
        let shown = items.prefix(2).joined(separator: ", ")
        let text = items.count > 2 ? "\(shown) +\(items.count - 2)" : shown
        return clip(text, 29)
    }

    static func tooltip(_ role: PolicySummary.Role) -> String {
        var lines = ["\(role.id): \(role.description)"]
        if role.monitored { lines.append("monitored (a flow touching it is in scope)") }
        if !role.machines.isEmpty {
            lines.append("machines: " + role.machines.map { "\($0.name) (\($0.addresses.joined(separator: ", ")))" }
                .joined(separator: "; "))
        }
        if let site = role.siteHosts, !site.isEmpty { lines.append("site: " + site.joined(separator: ", ")) }
        for binding in role.vlanBindings {
            lines.append("site, vlan \(binding.vlans.map(String.init).joined(separator: ",")): "
                + binding.hosts.joined(separator: ", "))
        }
        if !role.documentHosts.isEmpty { lines.append("document: " + role.documentHosts.joined(separator: ", ")) }
        if !role.isBound { lines.append("unbound: the site binds no host to it") }
        return lines.joined(separator: "\n")
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    // MARK: Layout

    var ringRadius: (x: Double, y: Double) = (0, 0)
    var centre: (x: Double, y: Double) = (0, 0)
    var width = 0.0
    var height = 0.0
    /// Legend entries per row.
    var legendColumns = 1
    var hub: Int? = nil

    mutating func layOut() {
        let count = nodes.count
        var degree = Array(repeating: 0, count: count)
        let index = Dictionary(nodes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var neighbours = Array(repeating: Set<Int>(), count: count)
        for edge in edges {
            guard let a = index[edge.from], let b = index[edge.to], a != b else { continue }
            neighbours[a].insert(b)
            neighbours[b].insert(a)
        }
        for i in 0..<count { degree[i] = neighbours[i].count }
        if count >= 4, let best = degree.indices.max(by: { degree[$0] < degree[$1] || (degree[$0] == degree[$1] && $0 > $1) }),
           degree[best] >= 3 {
            hub = best
        }
        let ring = nodes.indices.filter { $0 != hub }
        let n = Double(max(ring.count, 1))
        // Neighbours on the ellipse must not overlap: at the top and bottom they sit side by side
        // (the box's width apart), at the sides one above the other.
        var rx = max(hub == nil ? 180.0 : 330.0, n * (Self.boxWidth + 20) / (2 * Double.pi))
        var ry = max(hub == nil ? 120.0 : 215.0, n * (Self.boxHeight + 22) / (2 * Double.pi), rx * 0.6)
        if ring.count <= 1 { rx = 0; ry = 0 }
        if ring.count == 2 && hub == nil { ry = 0 }
        ringRadius = (rx, ry)
        width = 2 * (rx + Self.boxWidth / 2 + Self.margin)
        legendColumns = max(1, Int((width - 2 * Self.margin) / Self.legendColumn))
        if legendColumns < 3 {
            width = max(width, 3 * Self.legendColumn + 2 * Self.margin)
            legendColumns = 3
        }
        // Room above the top boxes for self-loops.
        let loopRoom = edges.contains { $0.from == $0.to } ? 70.0 : 0
        centre = (width / 2, Self.margin + loopRoom + ry + Self.boxHeight / 2)
        let legendRows = (Kind.allCases.count + legendColumns - 1) / legendColumns
        height = centre.y + ry + Self.boxHeight / 2 + Self.margin + Double(legendRows) * Self.legendRow + 16
        if let hub {
            nodes[hub].x = centre.x
            nodes[hub].y = centre.y
        }
        for (position, i) in ring.enumerated() {
            // From the top, clockwise; two nodes sit left and right.
            let start = ring.count == 2 ? Double.pi : -Double.pi / 2
            let angle = start + 2 * Double.pi * Double(position) / n
            nodes[i].x = centre.x + rx * cos(angle)
            nodes[i].y = centre.y + ry * sin(angle)
        }
    }

    /// An edge as drawn: its path, where its label goes, and its markers.
    struct DrawnEdge {
        var edge: Edge
        var path: String
        var labelX: Double
        var labelY: Double
        /// Degrees, within -90...90 so the label never reads upside down.
        var labelAngle: Double
        var label: String
    }

    /// Each edge's path: arrows of one pair of roles bow apart, each clipped at the two boxes'
    /// borders; self-loops are arcs above their box.
    func drawnEdges() -> [DrawnEdge] {
        let index = Dictionary(nodes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Edges of one unordered pair, in edge order.
        var pairs: [String: [Int]] = [:]
        var loops: [Int: Int] = [:]
        for (i, edge) in edges.enumerated() {
            guard let a = index[edge.from], let b = index[edge.to] else { continue }
            pairs["\(min(a, b)) \(max(a, b))", default: []].append(i)
        }
        let ring = nodes.indices.filter { $0 != hub }
        var result: [DrawnEdge] = []
        for (i, edge) in edges.enumerated() {
            guard let a = index[edge.from], let b = index[edge.to] else { continue }
            let label = Self.servicesLabel(edge.services)
            let hw = Self.boxWidth / 2 + 3, hh = Self.boxHeight / 2 + 3
            if a == b {
                let level = loops[a, default: 0]
                loops[a] = level + 1
                let x = nodes[a].x, top = nodes[a].y - Self.boxHeight / 2 - 2
                let lift = 28.0 + 16 * Double(level), spread = 26.0 + 10 * Double(level)
                let path = "M\(svgNumber(x - spread)) \(svgNumber(top)) C\(svgNumber(x - spread)) \(svgNumber(top - lift)) \(svgNumber(x + spread)) \(svgNumber(top - lift)) \(svgNumber(x + spread)) \(svgNumber(top))"
                result.append(DrawnEdge(edge: edge, path: path, labelX: x, labelY: top - lift * 0.75 - 4, labelAngle: 0, label: label))
                continue
            }
            let group = pairs["\(min(a, b)) \(max(a, b))"] ?? [i]
            let k = Double(group.count)
            let slot = Double(group.firstIndex(of: i) ?? 0)
            // Arrows of one pair bow apart (a quadratic curve whose middle lies `bow` off the
            // straight line), so their lines and labels do not meet; a lone arrow is straight.
            let bow = (slot - (k - 1) / 2) * 24
            // The normal of the pair's canonical direction (lower index to higher), so the two
            // directions of one pair fall on different sides.
            let (lo, hi) = (min(a, b), max(a, b))
            let dx0 = nodes[hi].x - nodes[lo].x, dy0 = nodes[hi].y - nodes[lo].y
            let length0 = max((dx0 * dx0 + dy0 * dy0).squareRoot(), 1)
            let normal = (x: -dy0 / length0, y: dx0 / length0)
            let from = (x: nodes[a].x, y: nodes[a].y), to = (x: nodes[b].x, y: nodes[b].y)
            let control = (x: (from.x + to.x) / 2 + normal.x * 2 * bow, y: (from.y + to.y) / 2 + normal.y * 2 * bow)
            // Each end leaves its box on the way to the control point.
            let d0 = (x: control.x - from.x, y: control.y - from.y), d1 = (x: control.x - to.x, y: control.y - to.y)
            let t0 = Self.exit(from: from, direction: d0, centre: (from.x, from.y), hw: hw, hh: hh)
            let t1 = Self.exit(from: to, direction: d1, centre: (to.x, to.y), hw: hw, hh: hh)
            let p = (x: from.x + d0.x * t0, y: from.y + d0.y * t0)
            let q = (x: to.x + d1.x * t1, y: to.y + d1.y * t1)
            // Labels of spokes alternate between two distances from the hub, so neighbouring
            // spokes' labels do not meet.
            var at = 0.5
            if let hub, a == hub || b == hub, let position = ring.firstIndex(of: a == hub ? b : a) {
                let outward = position % 2 == 0 ? 0.62 : 0.42
                at = a == hub ? outward : 1 - outward
            }
            // The point of the curve at `at`, and its direction there.
            let u = 1 - at
            let lx = u * u * p.x + 2 * u * at * control.x + at * at * q.x
            let ly = u * u * p.y + 2 * u * at * control.y + at * at * q.y
            let tx = u * (control.x - p.x) + at * (q.x - control.x), ty = u * (control.y - p.y) + at * (q.y - control.y)
            // The label runs along its edge, just above it, never upside down.
            var angle = atan2(ty, tx) * 180 / Double.pi
            if angle > 90 { angle -= 180 } else if angle <= -90 { angle += 180 }
            let up = (angle + 270) * Double.pi / 180
            let path = bow == 0
                ? "M\(svgNumber(p.x)) \(svgNumber(p.y)) L\(svgNumber(q.x)) \(svgNumber(q.y))"
                : "M\(svgNumber(p.x)) \(svgNumber(p.y)) Q\(svgNumber(control.x)) \(svgNumber(control.y)) \(svgNumber(q.x)) \(svgNumber(q.y))"
            result.append(DrawnEdge(edge: edge, path: path, labelX: lx + 4 * cos(up), labelY: ly + 4 * sin(up), labelAngle: angle, label: label))
        }
        return result
    }

    /// The parameter along `direction` at which a ray from `point` (inside the box) leaves the
    /// box of half sizes `hw`, `hh` around `centre`.
    static func exit(from point: (x: Double, y: Double), direction d: (x: Double, y: Double), centre: (Double, Double),
                     hw: Double, hh: Double) -> Double {
        var t = Double.infinity
        if d.x > 1e-9 { t = min(t, (centre.0 + hw - point.x) / d.x) }
        if d.x < -1e-9 { t = min(t, (centre.0 - hw - point.x) / d.x) }
        if d.y > 1e-9 { t = min(t, (centre.1 + hh - point.y) / d.y) }
        if d.y < -1e-9 { t = min(t, (centre.1 - hh - point.y) / d.y) }
        return t.isFinite ? min(max(t, 0), 1) : 0
    }

    /// `tcp/80, tcp/443`; more than two services are cut (`+2`), the tooltip has them all.
    static func servicesLabel(_ services: [String]) -> String {
        services.count > 2 ? services.prefix(2).joined(separator: ", ") + " +\(services.count - 2)" : services.joined(separator: ", ")
    }
}

/// A coordinate with one decimal, as SVG attributes take it.
func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    return String(format: "%.1f", value)
}
