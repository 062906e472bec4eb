import PacketBuilder
import Packets
import Testing

@Suite("ServiceDetector: the application protocol from the payload")
struct ServiceDetectionTests {
    static func detect(_ bytes: [UInt8], tcp: Bool = true, fromInitiator: Bool = true, ports: (UInt16, UInt16) = (40000, 9999)) -> AppService? {
        ServiceDetector.detect(bytes.span, ipProtocol: tcp ? IPProtocolNumber.tcp : IPProtocolNumber.udp, fromInitiator: fromInitiator,
                               sourcePort: ports.0, destinationPort: ports.1)
    }

    @Test("each protocol's own framing, on ports that are not its own")
    func signatures() {
        #expect(Self.detect(TLSPayload.clientHello(serverName: "a.example")) == .tls)
        #expect(Self.detect(TLSPayload.serverHello(selectedVersion: .tls13), fromInitiator: false) == .tls)
        #expect(Self.detect(HTTPPayload.get(host: "a.example")) == .http)
        #expect(Self.detect(HTTPPayload.okResponse(), fromInitiator: false) == .http)
        #expect(Self.detect(Array("SSH-2.0-OpenSSH_9.6\r\n".utf8), fromInitiator: false) == .ssh)
        #expect(Self.detect(Array("EHLO mail.example\r\n".utf8)) == .smtp)
        #expect(Self.detect(DNSPayload.query(name: "a.example").bytes(), tcp: false) == .dns)
        #expect(Self.detect(DNSPayload.query(name: "a.example").tcpBytes()) == .dns)
        #expect(Self.detect([0, 0, 0, 0x44, 0xFE, 0x53, 0x4D, 0x42] + [UInt8](repeating: 0, count: 0x40)) == .smb)
        #expect(Self.detect([0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]) == .ldap)
        #expect(Self.detect([0x03, 0x00, 0x00, 0x13, 0x0E, 0xE0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x03, 0, 0, 0]) == .rdp)
        #expect(Self.detect([0x3C, 0x31, 0x33, 0x34, 0x3E] + Array("syslog".utf8), tcp: false) == .syslog)
        var stun: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]
        stun += [UInt8](repeating: 7, count: 12)
        #expect(Self.detect(stun, tcp: false) == .stun)
        #expect(Self.detect([0x23] + [UInt8](repeating: 0, count: 47), tcp: false, ports: (40000, 123)) == .ntp)
    }

    @Test("no service from a port alone, or from bytes that only start like a protocol")
    func nothingFromNoise() {
        let filler = Conversation.filler(count: 64)
        #expect(Self.detect(filler, ports: (40000, 22)) == nil)
        #expect(Self.detect(filler, tcp: false, ports: (40000, 53)) == nil)
        #expect(Self.detect([0x23] + [UInt8](repeating: 0, count: 47), tcp: false, ports: (40000, 9999)) == nil, "NTP's shape off port 123")
        #expect(Self.detect(Array("SSH-x".utf8)) == nil)
        #expect(Self.detect(Array("GET /\r\n".utf8)) == nil, "no HTTP version")
        #expect(Self.detect([0x16, 0x03, 0x01, 0x00, 0x05, 0x0B]) == nil, "a handshake record that is no hello")
        #expect(Self.detect([]) == nil)
        // Random payloads: nothing recognised in most, and never a crash on a cut or mutated one.
        var generator = SeededGenerator(seed: 7)
        var recognised = 0
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if Self.detect(bytes, tcp: Bool.random(using: &generator)) != nil { recognised += 1 }
        }
        #expect(recognised < 20, "\(recognised) of 2000 random payloads recognised")
        for mutated in mutations(of: TLSPayload.clientHello(serverName: "a.example"), count: 500, seed: 3) {
            _ = Self.detect(mutated)
            _ = Self.detect(mutated, tcp: false)
        }
    }
}
