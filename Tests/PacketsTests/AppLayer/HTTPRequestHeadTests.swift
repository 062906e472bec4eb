import Testing
import Packets
import PacketBuilder

@Suite struct HTTPRequestHeadTests {
    @Test func hostFromAGet() throws {
        #expect(try HTTPRequestHead.parse(HTTPPayload.get(host: "Intranet.Example.com")) == HTTPRequestHead(method: "GET", host: "intranet.example.com"))
    }

    @Test(arguments: [
        ("www.example.com:8080", "www.example.com"),
        ("10.0.0.5:80", "10.0.0.5"),
        ("[2001:DB8::1]:8443", "2001:db8::1"),
        ("[::1]", "::1"),
        ("  spaced.example \t", "spaced.example"),
    ])
    func portsAndBracketsAreStripped(value: String, host: String) throws {
        #expect(try HTTPRequestHead.parse(HTTPPayload.request(method: "POST", host: value)).host == host)
    }

    @Test func headerNameIsCaseInsensitiveAndMayComeLate() throws {
        let text = "OPTIONS * HTTP/1.1\nUser-Agent: x\nhOsT: late.example\n\n"
        #expect(try HTTPRequestHead.parse(Array(text.utf8)) == HTTPRequestHead(method: "OPTIONS", host: "late.example"))
        let notHost = "GET / HTTP/1.1\r\nHostname: no.example\r\nX-Host: no\r\n\r\n"
        #expect(try HTTPRequestHead.parse(Array(notHost.utf8)).host == nil)
    }

    @Test func requestWithoutHost() throws {
        #expect(try HTTPRequestHead.parse(Array("GET / HTTP/1.0\r\n\r\n".utf8)) == HTTPRequestHead(method: "GET", host: nil))
        #expect(try HTTPRequestHead.parse(Array("GET / HTTP/1.1\r\nHost:\r\n\r\n".utf8)).host == nil)
    }

    @Test func everyTruncationBeforeTheHostLineIsIncomplete() throws {
        let bytes = HTTPPayload.request(path: "/index.html", host: "cut.example", headers: [("Accept", "*/*")])
        let hostLineEnd = bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1 + "Host: cut.example\r\n".utf8.count
        for cut in 0..<hostLineEnd {
            #expect(throws: HTTPError.incomplete) { try HTTPRequestHead.parse(Array(bytes.prefix(cut))) }
        }
        #expect(try HTTPRequestHead.parse(Array(bytes.prefix(hostLineEnd))).host == "cut.example")
    }

    @Test func notARequest() {
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(HTTPPayload.okResponse()) }
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(TLSPayload.clientHello(serverName: "x")) }
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(Array("get / HTTP/1.1\r\n".utf8)) }
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(Array("GET / FTP/1.1\r\n".utf8)) }
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(Array("GET  / HTTP/1.1\r\n".utf8)) }
        #expect(throws: HTTPError.notRequest) { try HTTPRequestHead.parse(Array((String(repeating: "A", count: 30) + " / HTTP/1.1\r\n").utf8)) }
    }

    @Test func badHosts() {
        for value in ["two words.example", "host.example:80a", "host.example:123456", "[::1", "[::1]x", "a/b", String(repeating: "h", count: 256)] {
            #expect(throws: HTTPError.badHost, "\(value)") { try HTTPRequestHead.parse(HTTPPayload.get(host: value)) }
        }
    }

    @Test func headSectionIsCapped() {
        let bytes = HTTPPayload.request(host: nil, headers: [("X-Filler", String(repeating: "f", count: 20000))])
        #expect(throws: HTTPError.tooLong) { try HTTPRequestHead.parse(bytes) }
    }

    @Test func mutatedRequestsNeverCrash() {
        var outcomes: Set<String> = []
        for bytes in mutations(of: HTTPPayload.get(host: "m.example:8080"), count: 3000, seed: 0x477) {
            do { _ = try HTTPRequestHead.parse(bytes); outcomes.insert("parsed") } catch { outcomes.insert(error.rawValue) }
        }
        #expect(outcomes.contains("parsed") && outcomes.count >= 3)
    }
}
