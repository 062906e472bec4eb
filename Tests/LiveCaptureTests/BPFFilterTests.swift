import LiveCapture
import Packets
import Testing

@Suite struct BPFFilterTests {
    @Test(arguments: ["udp port 53", "tcp and (port 443 or port 80)", "ip6 and not icmp6", "vlan and udp"])
    func validExpressionsCompile(_ expression: String) throws {
        try LiveCaptureSession.validateFilter(expression)
    }

    /// libpcap's own wording, as `tcpdump -d 'tcp and ('` prints it.
    @Test func syntaxErrorCarriesLibpcapText() {
        #expect(throws: LiveCaptureError.badFilter(expression: "tcp and (",
                                                   message: "can't parse filter expression: syntax error")) {
            try LiveCaptureSession.validateFilter("tcp and (")
        }
    }

    @Test func unknownPortAndIllegalPortNumber() {
        #expect(throws: LiveCaptureError.badFilter(expression: "port foo", message: "unknown port 'foo'")) {
            try LiveCaptureSession.validateFilter("port foo")
        }
        #expect(throws: LiveCaptureError.badFilter(expression: "udp port 99999",
                                                   message: "illegal port number 99999 > 65535")) {
            try LiveCaptureSession.validateFilter("udp port 99999")
        }
    }

    @Test func messageNamesTheExpression() {
        let error = LiveCaptureError.badFilter(expression: "tcp and (", message: "can't parse filter expression: syntax error")
        #expect(error.description == "bad capture filter 'tcp and (': can't parse filter expression: syntax error")
    }

    /// Link-layer keywords depend on the link type: raw IP has no Ethernet addresses.
    @Test func filterIsCheckedAgainstTheLinkType() throws {
        try LiveCaptureSession.validateFilter("ether host 01:02:03:04:05:06", linkType: .ethernet)
        #expect(throws: LiveCaptureError.self) {
            try LiveCaptureSession.validateFilter("ether host 01:02:03:04:05:06", linkType: .raw)
        }
    }

    @Test func linkTypeMappingTurnsDLTRawIntoLinktypeRaw() {
        let raw = LiveCaptureSession.dataLink(.raw)
        #expect(raw != 101)
        #expect(LiveCaptureSession.linkType(dataLink: raw) == .raw)
        #expect(LiveCaptureSession.linkType(dataLink: 1) == .ethernet)
        #expect(LiveCaptureSession.dataLink(.linuxSLL2) == 276)
    }
}
