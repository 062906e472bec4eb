// `flowaudit live --syslog`: the events sent to a collector over UDP (one message per datagram)
// and TCP (octet-counting framing) must be RFC 5424 messages carrying the same events as the
// JSON Lines output. The collector is a socket of the test on 127.0.0.1; a strict parser of the
// RFC 5424 syntax checks every message.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One RFC 5424 message, parsed strictly (section 6 ABNF).
struct SyslogMessage {
    struct Element { var id: String; var parameters: [(name: String, value: String)] }
    var priority: Int
    var version: Int
    var timestamp: String?
    var hostname: String?
    var appName: String?
    var processID: String?
    var messageID: String?
    var structuredData: [Element]
    var message: [UInt8]

    var facility: Int { priority / 8 }
    var severity: Int { priority % 8 }

    func parameter(_ name: String, of id: String = "flowaudit@32473") -> String? {
        structuredData.first { $0.id == id }?.parameters.first { $0.name == name }?.value
    }

    struct ParseError: Error, CustomStringConvertible {
        var offset: Int
        var problem: String
        var description: String { "byte \(offset): \(problem)" }
    }

    init(_ bytes: [UInt8]) throws(ParseError) {
        var p = Parser(bytes: bytes)
        try p.expect(UInt8(ascii: "<"), "PRI starts with '<'")
        let priDigits = p.take { $0 >= 0x30 && $0 <= 0x39 }
        guard (1...3).contains(priDigits.count) else { throw p.error("PRIVAL is 1 to 3 digits") }
        guard priDigits.count == 1 || priDigits.first != UInt8(ascii: "0") else { throw p.error("PRIVAL has a leading zero") }
        priority = Int(String(decoding: priDigits, as: UTF8.self))!
        guard priority <= 191 else { throw p.error("PRIVAL \(priority) is above 191") }
        try p.expect(UInt8(ascii: ">"), "PRI ends with '>'")
        let versionDigits = p.take { $0 >= 0x30 && $0 <= 0x39 }
        guard (1...3).contains(versionDigits.count), versionDigits.first != UInt8(ascii: "0") else { throw p.error("VERSION is a nonzero number") }
        version = Int(String(decoding: versionDigits, as: UTF8.self))!
        guard version == 1 else { throw p.error("VERSION \(version) is not 1") }
        try p.space()
        timestamp = try p.nilOr { p throws(ParseError) in try p.timestamp() }
        try p.space()
        hostname = try p.nilOr { p throws(ParseError) in try p.printable(maximum: 255, what: "HOSTNAME") }
        try p.space()
        appName = try p.nilOr { p throws(ParseError) in try p.printable(maximum: 48, what: "APP-NAME") }
        try p.space()
        processID = try p.nilOr { p throws(ParseError) in try p.printable(maximum: 128, what: "PROCID") }
        try p.space()
        messageID = try p.nilOr { p throws(ParseError) in try p.printable(maximum: 32, what: "MSGID") }
        try p.space()
        structuredData = []
        if p.peek == UInt8(ascii: "-") {
            p.offset += 1
        } else {
            guard p.peek == UInt8(ascii: "[") else { throw p.error("STRUCTURED-DATA is '-' or SD-ELEMENTs") }
            while p.peek == UInt8(ascii: "[") { structuredData.append(try p.element()) }
        }
        if p.atEnd {
            message = []
        } else {
            try p.space()
            message = Array(bytes[p.offset...])
            var body = message
            if body.starts(with: [0xEF, 0xBB, 0xBF]) { body.removeFirst(3) }
            guard String(validating: body, as: UTF8.self) != nil else { throw p.error("MSG is not UTF-8") }
        }
    }

    /// A cursor over the bytes of one message.
    struct Parser {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[offset] }

        func error(_ problem: String) -> ParseError { ParseError(offset: offset, problem: problem) }

        mutating func expect(_ byte: UInt8, _ what: String) throws(ParseError) {
            guard peek == byte else { throw error(what) }
            offset += 1
        }

        mutating func space() throws(ParseError) { try expect(0x20, "expected SP") }

        mutating func take(while predicate: (UInt8) -> Bool) -> ArraySlice<UInt8> {
            let start = offset
            while let byte = peek, predicate(byte) { offset += 1 }
            return bytes[start..<offset]
        }

        /// NILVALUE ("-" followed by SP) or the field `body` reads.
        mutating func nilOr(_ body: (inout Parser) throws(ParseError) -> String) throws(ParseError) -> String? {
            if peek == UInt8(ascii: "-") && (offset + 1 == bytes.count || bytes[offset + 1] == 0x20) {
                offset += 1
                return nil
            }
            return try body(&self)
        }

        /// 1*`maximum` PRINTUSASCII (33...126).
        mutating func printable(maximum: Int, what: String) throws(ParseError) -> String {
            let field = take { $0 >= 33 && $0 <= 126 }
            guard (1...maximum).contains(field.count) else { throw error("\(what) is 1 to \(maximum) printable ASCII characters") }
            return String(decoding: field, as: UTF8.self)
        }

        mutating func digits(_ count: Int, _ range: ClosedRange<Int>, _ what: String) throws(ParseError) -> Int {
            let field = bytes[offset..<min(bytes.count, offset + count)]
            guard field.count == count, field.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw error("\(what) is \(count) digits") }
            let value = Int(String(decoding: field, as: UTF8.self))!
            guard range.contains(value) else { throw error("\(what) \(value) is out of range") }
            offset += count
            return value
        }

        /// FULL-DATE "T" FULL-TIME (RFC 3339 with the restrictions of RFC 5424 6.2.3).
        mutating func timestamp() throws(ParseError) -> String {
            let start = offset
            let year = try digits(4, 0...9999, "year")
            try expect(UInt8(ascii: "-"), "'-' after the year")
            let month = try digits(2, 1...12, "month")
            try expect(UInt8(ascii: "-"), "'-' after the month")
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
            _ = try digits(2, 1...days, "day")
            try expect(UInt8(ascii: "T"), "'T' between date and time")
            _ = try digits(2, 0...23, "hour")
            try expect(UInt8(ascii: ":"), "':' after the hour")
            _ = try digits(2, 0...59, "minute")
            try expect(UInt8(ascii: ":"), "':' after the minute")
            _ = try digits(2, 0...59, "second")  // no leap second (6.2.3)
            if peek == UInt8(ascii: ".") {
                offset += 1
                let fraction = take { $0 >= 0x30 && $0 <= 0x39 }
                guard (1...6).contains(fraction.count) else { throw error("TIME-SECFRAC is 1 to 6 digits") }
            }
            if peek == UInt8(ascii: "Z") {
                offset += 1
            } else if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
                offset += 1
                _ = try digits(2, 0...23, "offset hours")
                try expect(UInt8(ascii: ":"), "':' in the offset")
                _ = try digits(2, 0...59, "offset minutes")
            } else {
                throw error("TIME-OFFSET is 'Z' or +HH:MM / -HH:MM")
            }
            return String(decoding: bytes[start..<offset], as: UTF8.self)
        }

        /// SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']' and '"'.
        mutating func sdName(_ what: String) throws(ParseError) -> String {
            let field = take { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\"") }
            guard (1...32).contains(field.count) else { throw error("\(what) is 1 to 32 printable characters but '=', ']', '\"'") }
            return String(decoding: field, as: UTF8.self)
        }

        /// "[" SD-ID *(SP SD-PARAM) "]"
        mutating func element() throws(ParseError) -> Element {
            try expect(UInt8(ascii: "["), "SD-ELEMENT starts with '['")
            let id = try sdName("SD-ID")
            if let at = id.firstIndex(of: "@") {
                let number = id[id.index(after: at)...]
                guard !id[..<at].isEmpty, !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber) else {
                    throw error("SD-ID '\(id)' is not name@private-enterprise-number")
                }
            }
            var parameters: [(String, String)] = []
            while peek == 0x20 {
                offset += 1
                let name = try sdName("PARAM-NAME")
                try expect(UInt8(ascii: "="), "'=' after PARAM-NAME")
                try expect(UInt8(ascii: "\""), "PARAM-VALUE starts with '\"'")
                var value: [UInt8] = []
                while true {
                    guard let byte = peek else { throw error("PARAM-VALUE is not closed") }
                    offset += 1
                    if byte == UInt8(ascii: "\"") { break }
                    if byte == UInt8(ascii: "]") { throw error("']' in PARAM-VALUE is not escaped") }
                    if byte == UInt8(ascii: "\\"), let next = peek,
                       next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next == UInt8(ascii: "]") {
                        value.append(next)
                        offset += 1
                        continue
                    }
                    value.append(byte)
                }
                guard let text = String(validating: value, as: UTF8.self) else { throw error("PARAM-VALUE is not UTF-8") }
                parameters.append((name, text))
            }
            try expect(UInt8(ascii: "]"), "SD-ELEMENT ends with ']'")
            return Element(id: id, parameters: parameters)
        }
    }
}

/// A collector socket on 127.0.0.1, port chosen by the kernel.
final class CollectorSocket {
    let descriptor: Int32
    let port: UInt16
    let isStream: Bool

    init(stream: Bool) throws {
        isStream = stream
        let descriptor = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketFailure(step: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        // SAFETY: `address` is a local sockaddr_in, passed with its own size for the call.
        let bound = unsafe withUnsafePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(descriptor); throw SocketFailure(step: "bind", code: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: as above; getsockname writes at most `length` bytes into `address`.
        let named = unsafe withUnsafeMutablePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { close(descriptor); throw SocketFailure(step: "getsockname", code: errno) }
        if stream {
            guard listen(descriptor, 4) == 0 else { close(descriptor); throw SocketFailure(step: "listen", code: errno) }
            // Accepting later must not block if the sender never connected.
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    /// UDP: the datagrams waiting, without blocking.
    func datagrams() -> [[UInt8]] {
        var result: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            // SAFETY: recv writes at most buffer.count bytes into the array's own storage.
            let count = unsafe buffer.withUnsafeMutableBytes { unsafe recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 { break }
            result.append(Array(buffer[0..<count]))
        }
        return result
    }

    /// TCP: everything the one connection sent, once the sender has closed it.
    func streamBytes() throws -> [UInt8] {
        // No address buffers: accept(2) takes null pointers.
        let connection = accept(descriptor, nil, nil)
        guard connection >= 0 else { throw SocketFailure(step: "accept (no connection from flowaudit)", code: errno) }
        defer { close(connection) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            // SAFETY: recv writes at most buffer.count bytes into the array's own storage.
            let count = unsafe buffer.withUnsafeMutableBytes { unsafe recv(connection, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw SocketFailure(step: "recv", code: errno) }
            if count == 0 { return result }
            result += buffer[0..<count]
        }
    }

    /// Splits an RFC 6587 octet-counted stream: MSG-LEN SP SYSLOG-MSG, repeated.
    static func octetCountedFrames(_ stream: [UInt8]) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            var length = 0
            let start = offset
            while offset < stream.count, stream[offset] >= 0x30, stream[offset] <= 0x39 {
                length = length * 10 + Int(stream[offset] - 0x30)
                offset += 1
            }
            guard offset > start, stream[start] != 0x30, offset < stream.count, stream[offset] == 0x20 else {
                throw SocketFailure(step: "octet-counting frame at byte \(start)", code: 0)
            }
            offset += 1
            guard offset + length <= stream.count else { throw SocketFailure(step: "frame at byte \(start) cut short", code: 0) }
            frames.append(Array(stream[offset..<(offset + length)]))
            offset += length
        }
        return frames
    }
}

struct SocketFailure: Error, CustomStringConvertible {
    var step: String
    var code: Int32
    var description: String { code == 0 ? step : "\(step) failed: errno \(code)" }
}

@Suite("RFC 5424 parser of the syslog tests")
struct SyslogParserTests {
    static let good = #"<132>1 2026-11-21T10:00:00.123456Z host flowaudit 42 unexpected-flow [flowaudit@32473 event="unexpected-flow" rule="a\"b\\c\]d"] text"#

    @Test("a well-formed message, escapes undone")
    func wellFormed() throws {
        let message = try SyslogMessage(Array(Self.good.utf8))
        #expect(message.priority == 132 && message.facility == 16 && message.severity == 4)
        #expect(message.timestamp == "2026-11-21T10:00:00.123456Z")
        #expect(message.hostname == "host" && message.appName == "flowaudit" && message.processID == "42")
        #expect(message.messageID == "unexpected-flow")
        #expect(message.parameter("rule") == #"a"b\c]d"#)
        #expect(message.message == Array("text".utf8))
        let bare = try SyslogMessage(Array("<0>1 - - - - - -".utf8))
        #expect(bare.timestamp == nil && bare.structuredData.isEmpty && bare.message.isEmpty)
    }

    @Test("malformed messages are refused", arguments: [
        "<192>1 2026-11-21T10:00:00Z h a 1 m - x",           // PRI above 191
        "<013>1 2026-11-21T10:00:00Z h a 1 m - x",           // leading zero
        "<13>2 2026-11-21T10:00:00Z h a 1 m - x",            // version
        "<13>1 2026-11-21t10:00:00Z h a 1 m - x",            // lowercase t
        "<13>1 2026-02-30T10:00:00Z h a 1 m - x",            // no such day
        "<13>1 2026-11-21T10:00:00.1234567Z h a 1 m - x",    // 7 fraction digits
        "<13>1 2026-11-21T10:00:00 h a 1 m - x",             // no offset
        "<13>1 2026-11-21T10:00:00Z h a 1 m x",              // no structured data
        "<13>1 2026-11-21T10:00:00Z h a 1 m [x@1 a=\"]\"]",  // unescaped ]
        "<13>1 2026-11-21T10:00:00Z h a 1 m [x@y a=\"b\"]",  // enterprise number not numeric
        "<13>1 2026-11-21T10:00:00Z h a 1 m [x@1 a=\"b\"",   // element not closed
        "<13>1 2026-11-21T10:00:00Z h a 1 0123456789012345678901234567890123 - x",  // MSGID too long
    ])
    func malformed(text: String) {
        #expect(throws: SyslogMessage.ParseError.self) { try SyslogMessage(Array(text.utf8)) }
    }
}

extension LiveTests {
    @Suite("flowaudit live --syslog")
    struct Syslog {
        @Test("each event reaches the collector as one RFC 5424 message", arguments: ["udp", "tcp"])
        func eventsAsSyslog(transport: String) throws {
            let system = "remotespark"
            let collector = try CollectorSocket(stream: transport == "tcp")
            let target = transport == "tcp" ? "tcp://127.0.0.1:\(collector.port)" : "127.0.0.1:\(collector.port)"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--syslog", target,
                 "--events", "jsonl", "--events-output", events, "--format", "json",
                 "--output", folder.appendingPathComponent("report.json").path], folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--multiplier=4"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited && status == 1, "stderr: \(live.stderr)")

            let raw = transport == "tcp" ? try CollectorSocket.octetCountedFrames(try collector.streamBytes()) : collector.datagrams()
            let jsonEvents = try lines(of: events).map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            try #require(!jsonEvents.isEmpty)
            #expect(raw.count == jsonEvents.count, "\(raw.count) syslog messages for \(jsonEvents.count) events")

            for (bytes, event) in zip(raw, jsonEvents) {
                let text = String(decoding: bytes, as: UTF8.self)
                let message: SyslogMessage
                do { message = try SyslogMessage(bytes) } catch {
                    Issue.record("not RFC 5424 (\(error)): \(text)")
                    continue
                }
                let kind = try #require(event["event"] as? String)
                let flow = try #require(event["flow"] as? [String: Any])
                #expect(message.facility == 16, "local0: \(text)")
                #expect(message.severity == (kind == "rule-observed" || kind == "unexpected-flow-cleared" ? 5 : 4), "\(text)")
                #expect(message.timestamp == event["time"] as? String, "\(text)")
                #expect(message.hostname != nil)
                #expect(message.appName == "flowaudit")
                #expect(message.processID == String(live.process.processIdentifier))
                #expect(message.messageID == kind)
                #expect(message.structuredData.map(\.id) == ["flowaudit@32473"], "\(text)")
                #expect(message.parameter("event") == kind)
                #expect(message.parameter("initiator") == flow["initiator"] as? String)
                #expect(message.parameter("responder") == flow["responder"] as? String)
                #expect(message.parameter("protocol") == flow["protocol"] as? String)
                #expect(message.parameter("state") == flow["state"] as? String)
                #expect(message.parameter("communityID") == flow["community_id"] as? String)
                #expect(message.parameter("port") == (flow["responder_port"] as? Int).map(String.init))
                #expect(message.parameter("rule") == event["rule"] as? String)
                #expect(!message.message.isEmpty, "MSG carries the readable line: \(text)")
            }
        }
    }
}
