// Writes a scenario's four files: site.yaml, the capture, expected.json and README.md.

import PacketBuilder
import Reports
import Packets

/// The files of one scenario, as bytes, keyed by file name.
struct ScenarioFiles {
    let scenario: Scenario
    let built: ScenarioBuilder

    init(_ scenario: Scenario) {
        self.scenario = scenario
        self.built = scenario.run()
    }

    var files: [(name: String, bytes: [UInt8])] {
        [
            ("site.yaml", Array(scenario.site.yaml().utf8)),
            (scenario.format.fileName, capture()),
            ("expected.json", Array(expectedJSON().utf8)),
            ("README.md", Array(readme().utf8)),
        ]
    }

    // MARK: Capture

    func capture() -> [UInt8] {
        let frames = built.frames
        switch scenario.format {
        case .pcap(let nanoseconds, let order):
            var writer = PcapWriter(linkType: .ethernet, snapshotLength: 65_535, nanosecondTimestamps: nanoseconds, byteOrder: order)
            for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
            return writer.bytes
        case .pcapng(let resolution, let order):
            var writer = PcapngWriter(byteOrder: order)
            let interface = writer.addInterface(linkType: .ethernet, snapshotLength: 65_535, resolution: resolution, name: "mirror0")
            for frame in frames { writer.appendEnhancedPacket(interface: interface, timestamp: frame.timestamp, data: frame.frame) }
            return writer.bytes
        }
    }

    // MARK: expected.json

    /// The audit command a user runs from the repository's root.
    var auditCommand: String {
        "flowaudit audit Captures/\(scenario.system)/\(scenario.format.fileName) --site Captures/\(scenario.system)/site.yaml"
    }

    var commandLine: String { auditCommand + " --format json" }

    var counts: [(String, Int)] {
        [
            ("unexpected", built.unexpected.count),
            ("attempt", built.attempts.count),
            ("missing", built.rules.filter { $0.status == .missing || $0.status == .partial }.count),
            ("blocked", built.rules.filter { $0.status == .blocked }.count),
            ("advisory", built.advisories.count),
        ]
    }

    func expectedJSON() -> String {
        var out = "{\n"
        out += "  \"system\": \(Format.json(scenario.system)),\n"
        out += "  \"site\": \"site.yaml\",\n"
        out += "  \"capture\": \(Format.json(scenario.format.fileName)),\n"
        out += "  \"command\": \(Format.json(commandLine)),\n"
        out += "  \"verdict\": \(Format.json(built.verdict)),\n"
        out += "  \"exit_status\": \(built.expectedExitStatus),\n"
        out += "  \"in_scope_flows\": \(built.inScopeFlows),\n"
        out += "  \"out_of_scope_flows\": \(built.outOfScopeFlows),\n"
        out += "  \"counts\": {" + counts.map { "\(Format.json($0.0)): \($0.1)" }.joined(separator: ", ") + "},\n"
        out += "  \"link_control\": {\"packets\": \(built.linkControlPackets), \"kinds\": ["
            + built.linkControlKinds.map(Format.json).joined(separator: ", ") + "]},\n"
        out += "  \"rules\": [\n"
        out += built.rules.map { rule in
            "    {\"id\": \(Format.json(rule.id)), \"status\": \(Format.json(rule.status.rawValue)), "
                + "\"hosts_missing\": [\(rule.hostsMissing.map(Format.json).joined(separator: ", "))], "
                + "\"why\": \(Format.json(rule.why))}"
        }.joined(separator: ",\n")
        out += "\n  ],\n"
        out += "  \"unexpected\": " + groups(built.unexpected) + ",\n"
        out += "  \"attempts\": " + groups(built.attempts) + ",\n"
        out += "  \"advisories\": ["
        out += built.advisories.isEmpty ? "" : "\n" + built.advisories.map { advisory in
            "    {\"kind\": \(Format.json(advisory.kind)), \"initiator\": \(Format.json(advisory.initiator)), "
                + "\"responder\": \(Format.json(advisory.responder)), \"why\": \(Format.json(advisory.why))}"
        }.joined(separator: ",\n") + "\n  "
        out += "]\n}\n"
        return out
    }

    private func groups(_ list: [ExpectedGroup]) -> String {
        if list.isEmpty { return "[]" }
        return "[\n" + list.map { group in
            var line = "    {\"initiator\": \(Format.json(group.initiator)), \"responder\": \(Format.json(group.responder)), "
                + "\"service\": \(Format.json(group.service)), "
            if let roles = group.roles {
                line += "\"initiator_roles\": [\(roles.initiator.map(Format.json).joined(separator: ", "))], "
                    + "\"responder_roles\": [\(roles.responder.map(Format.json).joined(separator: ", "))], "
            }
            return line + "\"why\": \(Format.json(group.why))}"
        }.joined(separator: ",\n") + "\n  ]"
    }

    // MARK: README.md

    func readme() -> String {
        var out = "# \(scenario.title): sample scenario\n\n"
        out += "Written by `flowaudit-gen scenarios` (Sources/flowaudit-gen/Scenario*.swift); do not edit by hand.\n\n"
        out += scenario.story + "\n\n"
        out += "Files: `site.yaml` (the site binding), `\(scenario.format.fileName)` (\(scenario.format.summary), "
        out += "\(built.frames.count) packets), `expected.json` (the findings the traffic was built to produce).\n\n"
        out += "```\n\(auditCommand)\n```\n\n"
        out += "Expected verdict: \(built.verdict); exit status \(built.expectedExitStatus) (default `--fail-on unexpected,missing,blocked`).\n\n"
        out += "## Rules\n\n| rule | status | what it shows |\n|---|---|---|\n"
        for rule in built.rules {
            let missing = rule.hostsMissing.isEmpty ? "" : " (hosts missing: \(rule.hostsMissing.joined(separator: ", ")))"
            out += "| `\(rule.id)` | \(rule.status.rawValue)\(missing) | \(rule.why) |\n"
        }
        out += section("Unexpected (completed)", built.unexpected)
        if built.linkControlPackets > 0 {
            out += "\n## Link control\n\n\(built.linkControlPackets) packets (\(built.linkControlKinds.joined(separator: ", ")))"
            out += " on the monitored hosts' links: counted in the report's `link_control` section, never unexpected.\n"
        }
        out += section("Attempts (unexpected, never completed)", built.attempts)
        if !built.advisories.isEmpty {
            out += "\n## Advisories\n\n"
            for advisory in built.advisories {
                out += "- \(advisory.kind), \(advisory.initiator) -> \(advisory.responder): \(advisory.why)\n"
            }
        }
        out += "\n## Traffic\n\n"
        for line in built.traffic { out += "- \(line)\n" }
        return out
    }

    private func section(_ title: String, _ list: [ExpectedGroup]) -> String {
        guard !list.isEmpty else { return "" }
        var out = "\n## \(title)\n\n"
        for group in list {
            let roles = group.roles.map { " (roles \($0.initiator.joined(separator: ", ")) -> \($0.responder.joined(separator: ", ")))" } ?? ""
            out += "- \(group.initiator) -> \(group.responder) \(group.service)\(roles): \(group.why)\n"
        }
        return out
    }
}


/// Captures/README.md: what the scenarios are and how to run and regenerate them.
enum ScenarioIndex {
    static func readme(_ scenarios: [ScenarioFiles]) -> String {
        var out = "# Sample scenarios\n\n"
        out += "One folder per vendor document in `Rules/`, and one (`two-products`) for a site that loads two of them: a site binding (`site.yaml`), a capture written by the project's "
        out += "own packet builder, and `expected.json`, the findings the capture was built to produce. Each scenario has compliant "
        out += "traffic for the required rules and deliberate trouble: unexpected flows (an unlisted internet host, an allowed port "
        out += "from the wrong role, a name the document does not give, the reverse of a one-way rule), a required rule with no "
        out += "traffic, attempts refused by silence, RST and ICMP administratively prohibited, a TLS 1.0 handshake, a flow "
        out += "already running when the capture starts, names bound by DNS answers with CNAME chains and by SNI, VLAN tags, "
        out += "IPv6 and out-of-scope traffic, a dual-stack HA pair bound by host name (`hosts:`), a role scoped to a VLAN, "
        out += "link control noise (ARP, neighbour and router discovery, MLD, IGMP, DHCP, DHCPv6, mDNS) that is never unexpected, "
        out += "and two products speaking LDAP to one domain controller, where only the document that prefers LDAPS advises. "
        out += "The folder's README lists what each finding demonstrates.\n\n"
        out += "| scenario | capture | verdict and findings (default --fail-on) |\n|---|---|---|\n"
        for files in scenarios {
            let counts = files.counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            out += "| [\(files.scenario.title)](\(files.scenario.system)/README.md) | \(files.scenario.format.summary) | "
            out += "\(files.built.verdict): \(counts); exit \(files.built.expectedExitStatus) |\n"
        }
        out += "\nRun one from the repository root:\n\n```\n\(scenarios.first.map(\.auditCommand) ?? "")\n```\n\n"
        out += "or all of them with `scripts/samples`. The files are written by `swift run flowaudit-gen scenarios` "
        out += "(Sources/flowaudit-gen/Scenario*.swift); the end-to-end tests (Tests/FlowauditCLITests) check that the audit "
        out += "reports exactly what `expected.json` lists and that regenerating gives these files byte for byte.\n"
        return out
    }
}
