import Testing
@testable import Policy

@Suite struct ExplainTests {
    @Test(arguments: [
        ("10.0.0.5 -> 10.0.0.2 tcp/445", 6, 445),
        ("10.0.0.5->10.0.0.2 udp/53", 17, 53),
        ("2001:db8::1 -> 2001:db8::2 icmpv6/echo", 58, 128),
        ("10.0.0.5 -> 10.0.0.2 icmp/echo", 1, 8),
        ("10.0.0.5 -> 10.0.0.2 icmp/3", 1, 3),
        ("10.0.0.5 -> 10.0.0.2 ip/50", 50, 0),
    ])
    func parsesFlows(text: String, ipProtocol: Int, port: Int) throws {
        let query = try ExplainQuery.parse(text).get()
        #expect(query.ipProtocol == UInt8(ipProtocol))
        #expect(query.port == UInt16(port))
    }

    @Test func namesAndNameEqualsAddress() throws {
        let query = try ExplainQuery.parse("app -> License.Vendor.Example.=203.0.113.9 tcp/443").get()
        #expect(query.initiator == ExplainQuery.End(address: nil, name: "app"))
        #expect(query.responder == ExplainQuery.End(address: Fixtures.address("203.0.113.9"), name: "license.vendor.example"))
    }

    @Test(arguments: [
        ("10.0.0.5 10.0.0.2 tcp/445", "cannot read '10.0.0.5 10.0.0.2 tcp/445': write \"SRC -> DST PROTO/PORT\", e.g. \"10.0.0.5 -> 10.0.0.2 tcp/445\""),
        ("10.0.0.5 -> 10.0.0.2 tcp/1-9", "'tcp/1-9' names more than one protocol or port; explain one flow, e.g. tcp/445"),
        ("10.0.0.5 -> 10.0.0.2 tcp+udp/53", "'tcp+udp/53' names more than one protocol or port; explain one flow, e.g. tcp/445"),
        ("10.0.0.5 -> 10.0.0.2 tcp/0", "port 0 out of range in service 'tcp/0' (ports are 1-65535)"),
        ("10.0.0.5 -> 10.0.0.2 icmp", "'icmp' names no ICMP message; write icmp/echo or icmp/TYPE"),
        ("10.0.0.300 -> 10.0.0.2 tcp/1", "'10.0.0.300' is neither an address nor a DNS name (write an address, a name, or name=address)"),
        ("a=b -> 10.0.0.2 tcp/1", "'b' in 'a=b' is not an IPv4 or IPv6 address"),
    ])
    func rejectsBadQueries(text: String, message: String) {
        #expect(throws: ExplainError(message)) { try ExplainQuery.parse(text).get() }
    }

    @Test func explainsAllowedAndRefusedFlows() throws {
        let policy = CompiledPolicyTests.plain
        let allowed = try policy.explain(try ExplainQuery.parse("10.0.0.10 -> mail.corp.example tcp/587").get()).get()
        #expect(allowed.result.isAllowed)
        #expect(allowed.inScope)
        #expect(allowed.text == """
            flow: 10.0.0.10 -> 10.0.0.25 tcp/587
              initiator 10.0.0.10: roles vendor.app
              responder 10.0.0.25 (mail.corp.example): roles vendor.mail
            in scope: an end holds a monitored role
            allowed by vendor/smtp  vendor.app -> vendor.mail  tcp/587 (alternatives tcp/25, tcp/465)  one-way  [r4]

            """)
        let refused = try policy.explain(try ExplainQuery.parse("10.0.0.10 -> cdn.vendor.example=203.0.113.9 tcp/8443").get()).get()
        #expect(!refused.result.isAllowed)
        #expect(refused.text.hasSuffix("not allowed: no rule allows this flow\nnearest rule: matches vendor/updates but for port 8443 (it allows tcp/443)\n"))
        #expect(throws: ExplainError("the site's names: do not resolve 'x.example'; write x.example=ADDRESS")) {
            try policy.explain(try ExplainQuery.parse("10.0.0.10 -> x.example tcp/1").get()).get()
        }
    }
}
