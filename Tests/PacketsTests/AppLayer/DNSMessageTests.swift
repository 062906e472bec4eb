import Testing
import Packets
import PacketBuilder

@Suite struct DNSMessageTests {
    let chain = DNSPayload.response(id: 0xBEEF, name: "WWW.Example.com", answers: [
        .cname("www.example.com", "www.example.com.cdn.net", ttl: 60),
        .cname("www.example.com.cdn.net", "edge7.cdn.net", ttl: 30),
        .a("edge7.cdn.net", IPAddress(parsing: "192.0.2.7"), ttl: 20),
        .aaaa("edge7.cdn.net", IPAddress(parsing: "2001:db8::7"), ttl: 20),
    ])

    @Test func parsesHeaderQuestionsAndAnswers() throws {
        let message = try DNSMessage.parse(chain.bytes())
        #expect(message.id == 0xBEEF)
        #expect(message.isResponse && message.opcode == 0 && message.responseCode == 0 && !message.isTruncated)
        #expect(message.questions == [DNSQuestion(name: "www.example.com", type: .a)])
        #expect(message.answers == [
            DNSRecord(name: "www.example.com", type: .cname, ttl: 60, data: .name("www.example.com.cdn.net")),
            DNSRecord(name: "www.example.com.cdn.net", type: .cname, ttl: 30, data: .name("edge7.cdn.net")),
            DNSRecord(name: "edge7.cdn.net", type: .a, ttl: 20, data: .address(IPAddress(parsing: "192.0.2.7"))),
            DNSRecord(name: "edge7.cdn.net", type: .aaaa, ttl: 20, data: .address(IPAddress(parsing: "2001:db8::7"))),
        ])
    }

    @Test func compressedAndUncompressedAgree() throws {
        var plain = chain
        plain.compress = false
        let compressed = chain.bytes(), uncompressed = plain.bytes()
        #expect(compressed.count < uncompressed.count)
        #expect(compressed.contains { $0 & 0xC0 == 0xC0 })
        #expect(try DNSMessage.parse(compressed) == DNSMessage.parse(uncompressed))
    }

    @Test func knownBytesOfAQuery() throws {
        // dig-style query for example.com A, id 0x1234, RD.
        let bytes: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                              7, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x63, 0x6F, 0x6D, 0, 0, 1, 0, 1]
        #expect(DNSPayload.query(name: "example.com").bytes() == bytes)
        let message = try DNSMessage.parse(bytes)
        #expect(!message.isResponse)
        #expect(message.questions == [DNSQuestion(name: "example.com", type: .a, recordClass: 1)])
        #expect(message.answers.isEmpty)
    }

    @Test func overTCPWithLengthPrefix() throws {
        let tcp = chain.tcpBytes()
        #expect(try DNSMessage.parse(tcpPayload: tcp) == DNSMessage.parse(chain.bytes()))
        #expect(try DNSMessage.parse(tcpPayload: tcp + [0, 12, 1, 2]).id == 0xBEEF)       // a next message follows
        for cut in 0..<tcp.count {
            #expect(throws: DNSError.incomplete) { try DNSMessage.parse(tcpPayload: Array(tcp.prefix(cut))) }
        }
        #expect(throws: DNSError.badTCPLength) { try DNSMessage.parse(tcpPayload: [0, 11] + Array(repeating: 0, count: 11)) }
    }

    @Test func addressNamesFollowCNAMEChains() throws {
        let message = try DNSMessage.parse(chain.bytes())
        #expect(message.addressNames() == [
            DNSAddressNames(address: IPAddress(parsing: "192.0.2.7"), names: ["edge7.cdn.net", "www.example.com.cdn.net", "www.example.com"], ttl: 20),
            DNSAddressNames(address: IPAddress(parsing: "2001:db8::7"), names: ["edge7.cdn.net", "www.example.com.cdn.net", "www.example.com"], ttl: 20),
        ])
        #expect(message.addressNames(maximumChain: 1).first?.names == ["edge7.cdn.net", "www.example.com.cdn.net"])
    }

    @Test func addressNamesWithSeveralAliasesAndACycle() throws {
        let payload = DNSPayload.response(name: "a.test", answers: [
            .cname("a.test", "target.test"), .cname("b.test", "target.test"),
            .cname("x.test", "y.test"), .cname("y.test", "x.test"),               // a cycle elsewhere
            .cname("target.test", "a.test"),                                     // and one through the target
            .a("target.test", IPAddress(parsing: "10.0.0.1")),
        ])
        let names = try DNSMessage.parse(payload.bytes()).addressNames()
        #expect(names.map(\.names) == [["target.test", "a.test", "b.test"]])
    }

    @Test func addressNamesStayWithinTheLimitsAndCountWhatTheyCut() throws {
        // A chain of 12 CNAMEs to one name, 300 more aliases of it, and 100 addresses for it.
        var answers: [DNSPayload.Record] = (0..<12).map { .cname("d\($0 + 1).example", $0 == 0 ? "t.example" : "d\($0).example") }
        answers += (0..<300).map { .cname("c\($0).example", "t.example") }
        answers += (0..<100).map { .a("t.example", IPAddress("198.18.0.\($0 + 1)")!) }
        let message = try DNSMessage.parse(DNSPayload.response(name: "t.example", answers: answers).bytes())
        var cuts = DNSNameCuts()
        let limits = DNSNameLimits(addressRecords: 10, chainDepth: 8, fanIn: 4, namesPerAddress: 32)
        let bound = message.addressNames(limits: limits, cuts: &cuts)
        #expect(bound.count == 10)
        #expect(bound.map(\.address) == (0..<10).map { IPAddress("198.18.0.\($0 + 1)")! })
        // The owner, its first 4 aliases in record order (the chain's first step among them),
        // then the chain to depth 8.
        #expect(bound[0].names == ["t.example", "d1.example", "c0.example", "c1.example", "c2.example", "d2.example",
                                   "d3.example", "d4.example", "d5.example", "d6.example", "d7.example", "d8.example"])
        #expect(Set(bound.map(\.names)).count == 1)
        #expect(cuts.addresses == 90)
        #expect(cuts.aliases == 300 + 1 - 4)   // t.example's aliases past the 4th (d2...d12 have one each)
        #expect(cuts.chains == 1)              // d9 -> ... still going at depth 8, once per owner name
        #expect(cuts.names == 0)
        var tight = DNSNameCuts()
        let few = message.addressNames(limits: DNSNameLimits(namesPerAddress: 5), cuts: &tight)
        #expect(few.allSatisfy { $0.names.count == 5 })
        #expect(tight.names == 1)
    }

    @Test func escapesOddLabelBytes() throws {
        var bytes = DNSPayload.query(name: "x").bytes()
        bytes.replaceSubrange(12..<15, with: [4, UInt8(ascii: "a"), UInt8(ascii: "."), 0, UInt8(ascii: "\\"), 0])
        #expect(try DNSMessage.parse(bytes).questions.first?.name == "a\\.\\000\\\\")
        #expect(try DNSMessage.parse(DNSPayload.query(name: ".").bytes()).questions.first?.name == ".")
    }

    // MARK: Hostile messages

    @Test func pointerToItselfIsALoop() {
        #expect(throws: DNSError.pointerLoop) { try DNSMessage.parse(DNSPayload.pointerLoop()) }
    }

    @Test func mutualPointersAreALoop() {
        #expect(throws: DNSError.pointerLoop) { try DNSMessage.parse(DNSPayload.mutualPointers()) }
    }

    @Test func forwardPointerIsRefused() {
        // Question name points forward to a name placed after the question.
        var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        bytes += [0xC0, 18, 0, 1, 0, 1]
        bytes += [1, UInt8(ascii: "a"), 0]
        #expect(throws: DNSError.pointerLoop) { try DNSMessage.parse(bytes) }
    }

    @Test func overLongLabel() throws {
        let label = String(repeating: "x", count: 64)
        #expect(throws: DNSError.labelTooLong) { try DNSMessage.parse(DNSPayload.query(name: "\(label).com").bytes()) }
        #expect(try DNSMessage.parse(DNSPayload.query(name: String(repeating: "x", count: 63)).bytes()).questions.count == 1)
    }

    @Test func overLongName() throws {
        let label = String(repeating: "y", count: 63)
        // 4 labels of 63 take 256 bytes with the terminating zero: one too many.
        let tooLong = [label, label, label, label].joined(separator: ".")
        #expect(throws: DNSError.nameTooLong) { try DNSMessage.parse(DNSPayload.query(name: tooLong).bytes()) }
        let longest = [label, label, label, String(repeating: "y", count: 61)].joined(separator: ".")   // 255 bytes
        #expect(try DNSMessage.parse(DNSPayload.query(name: longest).bytes()).questions.first?.name.count == 253)
    }

    @Test func countsBeyondTheData() {
        var payload = chain
        payload.countOverrides = [1, 5, 0, 0]
        #expect(throws: DNSError.badCount) { try DNSMessage.parse(payload.bytes()) }
        payload.countOverrides = [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]
        #expect(throws: DNSError.badCount) { try DNSMessage.parse(payload.bytes()) }
        payload.countOverrides = [1, 4, 0, 1]      // an additional record that is not there
        #expect(throws: DNSError.badCount) { try DNSMessage.parse(payload.bytes()) }
    }

    @Test func recordDataLengthsAreChecked() throws {
        let badA = DNSPayload.response(name: "a.test", answers: [DNSPayload.Record(name: "a.test", data: .raw(type: 1, bytes: [1, 2, 3, 4, 5]))])
        #expect(throws: DNSError.badRecordLength) { try DNSMessage.parse(badA.bytes()) }
        let badAAAA = DNSPayload.response(name: "a.test", answers: [DNSPayload.Record(name: "a.test", data: .raw(type: 28, bytes: [1, 2, 3, 4]))])
        #expect(throws: DNSError.badRecordLength) { try DNSMessage.parse(badAAAA.bytes()) }
        // A CNAME whose data holds a name plus a stray byte.
        let badCNAME = DNSPayload.response(name: "a.test", answers: [
            DNSPayload.Record(name: "a.test", data: .raw(type: 5, bytes: [1, UInt8(ascii: "b"), 0, 0xFF]))])
        #expect(throws: DNSError.badRecordLength) { try DNSMessage.parse(badCNAME.bytes()) }
        let other = DNSPayload.response(name: "a.test", type: .txt, answers: [
            DNSPayload.Record(name: "a.test", data: .raw(type: 16, bytes: [2, 0x68, 0x69]))])
        #expect(try DNSMessage.parse(other.bytes()).answers.first?.data == .other(36..<39))
    }

    @Test func everyTruncationFailsCleanly() {
        let bytes = chain.bytes()
        for cut in 0..<bytes.count {
            do {
                _ = try DNSMessage.parse(Array(bytes.prefix(cut)))
                Issue.record("a message cut at \(cut) of \(bytes.count) bytes parsed")
            } catch {
                #expect(cut >= 12 || error == .truncated)
            }
        }
    }

    @Test func mutatedMessagesNeverCrash() {
        var parsed = 0, refused: [DNSError: Int] = [:]
        for bytes in mutations(of: chain.bytes(), count: 5000, seed: 0xD15) {
            do { _ = try DNSMessage.parse(bytes); parsed += 1 } catch { refused[error, default: 0] += 1 }
        }
        #expect(parsed + refused.values.reduce(0, +) == 5000)
        #expect(refused.count >= 3)      // the mutations reach several distinct checks
    }

    @Test func errorKeysAreStable() {
        #expect(DNSError.allCases.map(\.rawValue) == ["dns_truncated", "dns_incomplete", "dns_bad_tcp_length", "dns_bad_count",
                                                      "dns_pointer_loop", "dns_label_too_long", "dns_name_too_long", "dns_bad_rdata_length"])
    }
}

@Suite struct DNSAuthoritySectionTests {
    @Test func authorityRecordsAreWalkedNotDecoded() throws {
        var payload = DNSPayload.response(name: "a.test", answers: [.a("a.test", IPAddress(parsing: "10.0.0.1"))])
        payload.authorities = [DNSPayload.Record(name: "test", data: .raw(type: 2, bytes: [2, 0x6E, 0x73, 0xC0, 19]))]
        let message = try DNSMessage.parse(payload.bytes())
        #expect(message.authorityCount == 1)
        #expect(message.answers.count == 1)
        // The authority record's data announced longer than the message holds.
        var bytes = payload.bytes()
        bytes[bytes.count - 6] = 0x10
        #expect(throws: DNSError.truncated) { try DNSMessage.parse(bytes) }
    }
}
