import Testing
@testable import Policy

@Suite struct ServiceTests {
    @Test(arguments: [
        ("tcp/443", "tcp/443"), ("udp/123", "udp/123"), ("tcp/49152-65535", "tcp/49152-65535"),
        ("tcp+udp/389", "tcp+udp/389"), ("udp+tcp/389", "tcp+udp/389"), ("TCP/80", "tcp/80"),
        ("icmp/echo", "icmp/echo"), ("icmp", "icmp"), ("icmpv6/echo", "icmpv6/echo"), ("icmpv6", "icmpv6"),
        ("icmp/3", "icmp/3"), ("ip/50", "ip/50"), ("tcp/1-1", "tcp/1"), ("tcp/65535", "tcp/65535"),
    ])
    func parsesAndNormalises(text: String, normal: String) throws {
        let service = try Service.parse(text).get()
        #expect(service.description == normal)
    }

    @Test(arguments: [
        ("tcp/0", "port 0 out of range in service 'tcp/0' (ports are 1-65535)"),
        ("tcp/65536", "port 65536 out of range in service 'tcp/65536' (ports are 1-65535)"),
        ("tcp/500-400", "port range 500-400 in service 'tcp/500-400' has its low end above its high end"),
        ("tcp/80,443", "service 'tcp/80,443' lists several ports; write one service per port or range"),
        ("tcp", "service 'tcp' needs a port: write tcp/PORT or tcp/LOW-HIGH"),
        ("tcp/http", "bad port 'http' in service 'tcp/http' (ports are 1-65535)"),
        ("tcp/1-2-3", "bad port range '1-2-3' in service 'tcp/1-2-3'"),
        ("tpc/443", "unknown protocol 'tpc' in service 'tpc/443' (did you mean 'tcp'?)"),
        ("sctp/443", "unknown protocol 'sctp' in service 'sctp/443' (use tcp, udp, tcp+udp, icmp, icmpv6 or ip)"),
        ("443", "service '443' has no protocol: write tcp/443 or udp/443"),
        ("ip/256", "IP protocol '256' in service 'ip/256' is not a number 0-255"),
        ("ip", "service 'ip' needs an IP protocol number: write ip/N (ESP is ip/50)"),
        ("icmp/ping", "unknown ICMP message 'ping' in service 'icmp/ping' (write icmp/echo, icmp/TYPE with a type 0-255, or icmp for any)"),
    ])
    func rejectsQuotingTheText(text: String, message: String) {
        #expect(throws: ServiceError(message)) { try Service.parse(text).get() }
    }

    @Test func matchesProtocolsAndPorts() throws {
        let both = try Service.parse("tcp+udp/389").get()
        #expect(both.matches(ipProtocol: 6, port: 389))
        #expect(both.matches(ipProtocol: 17, port: 389))
        #expect(!both.matches(ipProtocol: 6, port: 390))
        let range = try Service.parse("tcp/49152-65535").get()
        #expect(range.matches(ipProtocol: 6, port: 49152))
        #expect(range.matches(ipProtocol: 6, port: 65535))
        #expect(!range.matches(ipProtocol: 6, port: 49151))
        #expect(!range.matches(ipProtocol: 17, port: 50000))
        let echo = try Service.parse("icmp/echo").get()
        #expect(echo.matches(ipProtocol: 1, port: 8))
        #expect(echo.matches(ipProtocol: 1, port: 0))
        #expect(!echo.matches(ipProtocol: 1, port: 3))
        #expect(!echo.matches(ipProtocol: 58, port: 128))
        let echo6 = try Service.parse("icmpv6/echo").get()
        #expect(echo6.matches(ipProtocol: 58, port: 128))
        #expect(!echo6.matches(ipProtocol: 58, port: 1))
        let esp = try Service.parse("ip/50").get()
        #expect(esp.matches(ipProtocol: 50, port: 0))
        #expect(esp.matches(ipProtocol: 50, port: 4500))
        #expect(!esp.matches(ipProtocol: 51, port: 0))
    }

    @Test func coverAndOverlap() throws {
        let wide = try Service.parse("tcp/1000-2000").get()
        #expect(wide.covers(try Service.parse("tcp/1500").get()))
        #expect(!wide.covers(try Service.parse("tcp+udp/1500").get()))
        #expect(wide.overlaps(try Service.parse("tcp+udp/1500").get()))
        #expect(!wide.overlaps(try Service.parse("tcp/2001-3000").get()))
    }
}
