import Packets
import Testing
@testable import Policy

@Suite struct IntervalTableTests {
    @Test func overlappingIntervalsSplitIntoSegments() {
        let table = IntervalTable<UInt32>([(10, 20, 0), (15, 30, 1), (31, 40, 1), (UInt32.max - 1, UInt32.max, 2)], roleCount: 3)
        #expect(table.lookup(9) == RoleSet())
        #expect(table.lookup(10) == RoleSet([0]))
        #expect(table.lookup(14) == RoleSet([0]))
        #expect(table.lookup(15) == RoleSet([0, 1]))
        #expect(table.lookup(20) == RoleSet([0, 1]))
        #expect(table.lookup(21) == RoleSet([1]))
        #expect(table.lookup(40) == RoleSet([1]))
        #expect(table.lookup(41) == RoleSet())
        #expect(table.lookup(UInt32.max) == RoleSet([2]))
        // 0, [10], [15], [21] (30 and 31 merge), [41], [max-1]
        #expect(table.segmentCount == 6)
    }

    @Test func wholeSpaceAndEmptyTable() {
        let all = IntervalTable<UInt128>([(0, UInt128.max, 3)], roleCount: 4)
        #expect(all.lookup(0) == RoleSet([3]))
        #expect(all.lookup(UInt128.max) == RoleSet([3]))
        #expect(all.segmentCount == 1)
        let empty = IntervalTable<UInt32>([], roleCount: 0)
        #expect(empty.lookup(12345).isEmpty)
    }

    @Test func roleSetBitsAcrossWords() {
        var set = RoleSet([0, 63, 64, 511])
        #expect(set.indices == [0, 63, 64, 511])
        #expect(set.count == 4)
        set.remove(63)
        #expect(!set.contains(63) && set.contains(64))
        #expect(set.intersects(RoleSet([511])))
        #expect(!set.intersects(RoleSet([1, 2])))
        #expect(RoleSet([64]).isSubset(of: set))
        #expect(set.union(RoleSet([5])).indices == [0, 5, 64, 511])
    }

    /// A site binding 10,000 single addresses (every third address of 10.100.0.0/16 from the
    /// start) next to a block holding all of them: every address must map to the right roles.
    @Test func tenThousandAddressSiteCompilesAndMatches() throws {
        let rules = """
            system: big
            title: Big site
            source: Test
            roles:
              clients: { description: Clients }
              servers: { description: Server block, monitored: true }
              gateway: { description: Gateway }
            rules:
              - { id: web, purpose: Web, from: clients, to: gateway, services: [tcp/8080], ref: t }
            """
        func address(_ i: Int) -> IPAddress { IPAddress(ipv4: 0x0A64_0000 + UInt32(i)) }
        var site = "site: big\nrules: [big.yaml]\nroles:\n  servers: [10.100.0.0/16]\n  gateway: [10.200.0.1]\n  clients:\n"
        for i in 0..<10_000 { site += "    - \(address(i * 3))\n" }
        let (policy, diagnostics) = Fixtures.compile(site: site, rules: ["big.yaml": rules])
        #expect(diagnostics.isEmpty)
        let clients = try #require(policy.roleBit("big.clients")), servers = try #require(policy.roleBit("big.servers"))
        let both = RoleSet([clients, servers]), serversOnly = RoleSet([servers])
        var wrong = 0
        for i in 0..<30_000 where policy.roles(for: address(i)) != (i % 3 == 0 ? both : serversOnly) { wrong += 1 }
        #expect(wrong == 0)
        #expect(policy.roles(for: IPAddress(ipv4: 0x0A63_FFFF)).isEmpty)
        #expect(policy.roles(for: IPAddress(ipv4: 0x0A65_0000)).isEmpty)
        let gateway = Fixtures.address("10.200.0.1")
        #expect(policy.match(FlowQuery(initiator: address(29_997), responder: gateway, ipProtocol: 6, responderPort: 8080)).isAllowed)
        let miss = policy.match(FlowQuery(initiator: address(29_998), responder: gateway, ipProtocol: 6, responderPort: 8080))
        #expect(!miss.isAllowed)
        #expect(miss.nearMiss?.reason == .wrongInitiator)
        // 0, then a segment at and after each client, the block's end, the gateway and after it.
        #expect(policy.ipv4.segmentCount == 20_004)
    }
}
