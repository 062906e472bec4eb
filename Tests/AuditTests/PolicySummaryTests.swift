// PolicySummary: what SARIF and the HTML report read of the policy, taken from a loaded rule
// file and site — rule and prefer places, site bindings (bare and qualified role names), roles
// with machines, VLAN-limited and document hosts, the rule file's source document.

import Foundation
import Policy
import Testing
@testable import Audit

struct PolicySummaryTests {
    /// The 1-based line of the first line of `text` that starts with `prefix`.
    func line(of prefix: String, in text: String) throws -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.hasPrefix(prefix) }) + 1
    }

    @Test func placesRolesAndSources() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-summary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = """
        site: test
        rules: [demo.yaml]
        hosts:
          node-a: [10.1.0.10, "2001:db8::10"]
        roles:
          app: [node-a]
          demo.directory: [10.1.0.2]
          clients:
            hosts: [10.2.0.0/24]
            vlan: [20]

        """
        try ruleFile.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
        let sitePath = folder.appendingPathComponent("site.yaml").path
        try site.write(toFile: sitePath, atomically: true, encoding: .utf8)
        let loaded = PolicyLoader().load(site: sitePath, rules: [])
        #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
        let summary = PolicySummary(loaded.policy)

        #expect(summary.rules.map(\.qualifiedID) == loaded.policy.rules.map(\.qualifiedID))
        let license = try #require(summary.rules.first { $0.qualifiedID == "demo/license" })
        #expect(license.purpose == "License check" && license.ref == "Ports, row 1" && license.required && !license.each)
        #expect(license.place.file.hasSuffix("demo.yaml"))
        #expect(license.place.line == (try line(of: "  - id: license", in: ruleFile)))
        #expect(summary.preferPlaces["demo/ldaps"]?.line == (try line(of: "  - { id: ldaps", in: ruleFile)))

        #expect(summary.sitePlace?.file == sitePath)
        #expect(summary.bindingPlaces["demo.app"]?.map(\.line) == [try line(of: "  app:", in: site)])
        #expect(summary.bindingPlaces["demo.directory"]?.map(\.line) == [try line(of: "  demo.directory:", in: site)])
        #expect(summary.bindingPlaces["demo.clients"]?.map(\.line) == [try line(of: "  clients:", in: site)])
        #expect(summary.bindingPlaces["demo.license"] == nil)

        #expect(summary.roles.map(\.id) == loaded.policy.roles.map(\.id))
        let app = try #require(summary.roles.first { $0.id == "demo.app" })
        #expect(app.localID == "app" && app.system == "demo" && app.description == "App server" && app.monitored && app.isBound)
        #expect(app.machines == [.init(name: "node-a", addresses: ["10.1.0.10", "2001:db8::10"])])
        let clients = try #require(summary.roles.first { $0.id == "demo.clients" })
        #expect(clients.vlanBindings == [.init(hosts: ["10.2.0.0/24"], vlans: [20])] && !clients.monitored)
        let licenseRole = try #require(summary.roles.first { $0.id == "demo.license" })
        #expect(licenseRole.documentHosts == ["license.vendor.example"] && licenseRole.siteHosts == nil && licenseRole.isBound)

        #expect(summary.documentSources == ["demo": "Demo network requirements"])
    }
}
