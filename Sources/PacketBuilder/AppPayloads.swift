// Application payloads: DNS messages (well-formed and hostile), TLS hellos, HTTP requests.

import Packets

/// A DNS message to build (RFC 1035 4.1), with name compression. Names are written as given,
/// without validation, so over-long labels and names are easy to produce on purpose.
public struct DNSPayload: Hashable, Sendable {
    /// The data of an answer record; it also sets the record's type.
    public enum Data: Hashable, Sendable {
        case a(IPAddress)
        case aaaa(IPAddress)
        case cname(String)
        /// Any type with data written as given.
        case raw(type: UInt16, bytes: [UInt8])
    }

    public struct Question: Hashable, Sendable {
        public var name: String
        public var type: DNSRecordType
        public var recordClass: UInt16

        public init(name: String, type: DNSRecordType = .a, recordClass: UInt16 = 1) {
            self.name = name
            self.type = type
            self.recordClass = recordClass
        }
    }

    public struct Record: Hashable, Sendable {
        public var name: String
        public var ttl: UInt32
        public var data: Data
        public var recordClass: UInt16

        public init(name: String, ttl: UInt32 = 300, data: Data, recordClass: UInt16 = 1) {
            self.name = name
            self.ttl = ttl
            self.data = data
            self.recordClass = recordClass
        }

        public static func a(_ name: String, _ address: IPAddress, ttl: UInt32 = 300) -> Record {
            Record(name: name, ttl: ttl, data: .a(address))
        }

        public static func aaaa(_ name: String, _ address: IPAddress, ttl: UInt32 = 300) -> Record {
            Record(name: name, ttl: ttl, data: .aaaa(address))
        }

        public static func cname(_ name: String, _ target: String, ttl: UInt32 = 300) -> Record {
            Record(name: name, ttl: ttl, data: .cname(target))
        }
    }

    public var id: UInt16
    /// The flags word: 0x0100 for a query (RD), 0x8180 for a response (QR, RD, RA).
    public var flags: UInt16
    public var questions: [Question]
    public var answers: [Record]
    /// Records of the authority section (written after the answers, never compressed against).
    public var authorities: [Record]
    /// Use compression pointers for repeated name suffixes.
    public var compress: Bool
    /// Write these section counts instead of the real ones (question, answer, authority, additional).
    public var countOverrides: [UInt16]?

    public init(id: UInt16 = 0x1234, flags: UInt16 = 0x8180, questions: [Question] = [], answers: [Record] = [],
                authorities: [Record] = [], compress: Bool = true, countOverrides: [UInt16]? = nil) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.compress = compress
        self.countOverrides = countOverrides
    }

    /// A standard query with recursion desired.
    public static func query(id: UInt16 = 0x1234, name: String, type: DNSRecordType = .a) -> DNSPayload {
        DNSPayload(id: id, flags: 0x0100, questions: [Question(name: name, type: type)])
    }

    /// A response repeating the question, with `answers`.
    public static func response(id: UInt16 = 0x1234, name: String, type: DNSRecordType = .a, answers: [Record]) -> DNSPayload {
        DNSPayload(id: id, flags: 0x8180, questions: [Question(name: name, type: type)], answers: answers)
    }

    /// The message as a UDP payload.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(id)
        out.appendBigEndian(flags)
        let counts = countOverrides ?? [UInt16(questions.count), UInt16(answers.count), UInt16(authorities.count), 0]
        for index in 0..<4 { out.appendBigEndian(index < counts.count ? counts[index] : 0) }
        var suffixes: [String: Int] = [:]
        for question in questions {
            writeName(question.name, to: &out, suffixes: &suffixes)
            out.appendBigEndian(question.type.rawValue)
            out.appendBigEndian(question.recordClass)
        }
        for record in answers + authorities {
            writeName(record.name, to: &out, suffixes: &suffixes)
            let type: UInt16
            var data: [UInt8] = []
            switch record.data {
            case let .a(address): type = 1; data = address.bytes
            case let .aaaa(address): type = 28; data = address.bytes
            case let .raw(t, bytes): type = t; data = bytes
            case .cname: type = 5
            }
            out.appendBigEndian(type)
            out.appendBigEndian(record.recordClass)
            out.appendBigEndian(record.ttl)
            if case let .cname(target) = record.data {
                let lengthAt = out.count
                out.appendBigEndian(UInt16(0))
                writeName(target, to: &out, suffixes: &suffixes)
                out.setBigEndian(UInt16(out.count - lengthAt - 2), at: lengthAt)
            } else {
                out.appendBigEndian(UInt16(truncatingIfNeeded: data.count))
                out += data
            }
        }
        return out
    }

    /// The message as a TCP payload: a 2-byte length, then the message.
    public func tcpBytes() -> [UInt8] {
        let message = bytes()
        var out: [UInt8] = []
        out.appendBigEndian(UInt16(truncatingIfNeeded: message.count))
        return out + message
    }

    /// Writes `name` (`a.b.c`; empty or `.` is the root), pointing to an earlier copy of its
    /// longest known suffix when compressing. Each label's length byte is its byte count
    /// truncated to 8 bits, unchecked.
    func writeName(_ name: String, to out: inout [UInt8], suffixes: inout [String: Int]) {
        let labels = name.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
        for index in labels.indices {
            let suffix = labels[index...].joined(separator: ".").lowercased()
            if compress, let target = suffixes[suffix] {
                out.appendBigEndian(UInt16(0xC000) | UInt16(target))
                return
            }
            if out.count < 0x4000 { suffixes[suffix] = out.count }
            let bytes = Array(labels[index].utf8)
            out.append(UInt8(truncatingIfNeeded: bytes.count))
            out += bytes
        }
        out.append(0)
    }

    /// A response whose question name is the label `a` followed by a pointer back to its own
    /// start: decoding it naively loops forever (`a.a.a...`).
    public static func pointerLoop(id: UInt16 = 0x1234) -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(id)
        out.appendBigEndian(UInt16(0x8180))
        out += [0, 1, 0, 0, 0, 0, 0, 0]
        out += [1, UInt8(ascii: "a"), 0xC0, 12]       // "a", then a pointer to offset 12
        out += [0, 1, 0, 1]
        return out
    }

    /// A response with two answers whose owner names point at each other (offsets X -> Y -> X).
    public static func mutualPointers(id: UInt16 = 0x1234) -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(id)
        out.appendBigEndian(UInt16(0x8180))
        out += [0, 0, 0, 2, 0, 0, 0, 0]
        // Answer 1 at offset 12: name = pointer to 28 (answer 2's name).
        out += [0xC0, 28, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]
        // Answer 2 at offset 28: name = pointer to 12 (answer 1's name).
        out += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 2]
        return out
    }
}

/// TLS handshake payloads (RFC 8446, RFC 5246) with deterministic random values.
public enum TLSPayload {
    /// A ClientHello in handshake records.
    /// - Parameters:
    ///   - serverName: the SNI host name; nil for no server_name extension.
    ///   - supportedVersions: the supported_versions list; nil for no extension (a TLS 1.2-style hello).
    ///   - legacyVersion: `legacy_version` (client_version).
    ///   - recordVersion: the record header version.
    ///   - extraExtensions: more (type, data) extensions, written after the others.
    ///   - maximumFragment: the most handshake bytes per record; smaller values split the hello over records.
    public static func clientHello(serverName: String? = nil, supportedVersions: [TLSVersion]? = [.tls13, .tls12],
                                   legacyVersion: TLSVersion = .tls12, recordVersion: TLSVersion = .tls10,
                                   cipherSuites: [UInt16] = [0x1301, 0x1302, 0x1303, 0xC02F, 0xC030],
                                   extraExtensions: [(type: UInt16, data: [UInt8])] = [], maximumFragment: Int = 16384) -> [UInt8] {
        var body: [UInt8] = []
        body.appendBigEndian(legacyVersion.rawValue)
        body += (0..<32).map { UInt8($0) }                  // random
        body.append(32)
        body += (0..<32).map { UInt8(0xA0 + $0) }           // legacy_session_id
        body.appendBigEndian(UInt16(cipherSuites.count * 2))
        for suite in cipherSuites { body.appendBigEndian(suite) }
        body += [1, 0]                                      // compression: null
        var extensions: [(UInt16, [UInt8])] = []
        if let serverName {
            let name = Array(serverName.utf8)
            var data: [UInt8] = []
            data.appendBigEndian(UInt16(truncatingIfNeeded: name.count + 3))
            data.append(0)
            data.appendBigEndian(UInt16(truncatingIfNeeded: name.count))
            extensions.append((0, data + name))
        }
        if let supportedVersions {
            var data: [UInt8] = [UInt8(truncatingIfNeeded: supportedVersions.count * 2)]
            for version in supportedVersions { data.appendBigEndian(version.rawValue) }
            extensions.append((43, data))
        }
        extensions += extraExtensions.map { ($0.type, $0.data) }
        body += extensionBlock(extensions)
        return records(handshake(type: 1, body: body), version: recordVersion, maximumFragment: maximumFragment)
    }

    /// A TLS 1.0 (or other legacy) ClientHello: no supported_versions, and no extensions at all
    /// unless a server name is given.
    public static func legacyClientHello(serverName: String? = nil, version: TLSVersion = .tls10) -> [UInt8] {
        var body: [UInt8] = []
        body.appendBigEndian(version.rawValue)
        body += (0..<32).map { UInt8($0) }
        body.append(0)                                      // no session id
        body += [0, 4, 0x00, 0x2F, 0x00, 0x35]              // TLS_RSA_WITH_AES_128/256_CBC_SHA
        body += [1, 0]
        if let serverName {
            let name = Array(serverName.utf8)
            var data: [UInt8] = []
            data.appendBigEndian(UInt16(name.count + 3))
            data.append(0)
            data.appendBigEndian(UInt16(name.count))
            body += extensionBlock([(0, data + name)])
        }
        return records(handshake(type: 1, body: body), version: version, maximumFragment: 16384)
    }

    /// A ServerHello. `selectedVersion` adds a supported_versions extension (TLS 1.3 signals
    /// itself this way, with `legacyVersion` 1.2).
    public static func serverHello(legacyVersion: TLSVersion = .tls12, selectedVersion: TLSVersion? = nil, cipherSuite: UInt16 = 0x1301,
                                   recordVersion: TLSVersion = .tls12, helloRetryRequest: Bool = false) -> [UInt8] {
        var body: [UInt8] = []
        body.appendBigEndian(legacyVersion.rawValue)
        body += helloRetryRequest ? helloRetryRandom : (0..<32).map { UInt8(0x40 + $0) }
        body.append(32)
        body += (0..<32).map { UInt8(0xA0 + $0) }
        body.appendBigEndian(cipherSuite)
        body.append(0)
        if let selectedVersion {
            var data: [UInt8] = []
            data.appendBigEndian(selectedVersion.rawValue)
            body += extensionBlock([(43, data)])
        }
        return records(handshake(type: 2, body: body), version: recordVersion, maximumFragment: 16384)
    }

    /// A handshake message: type, 24-bit length, body.
    public static func handshake(type: UInt8, body: [UInt8]) -> [UInt8] {
        [type, UInt8(truncatingIfNeeded: body.count >> 16), UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)] + body
    }

    /// `data` cut into records of `contentType` (22 handshake) of at most `maximumFragment` bytes.
    public static func records(_ data: [UInt8], contentType: UInt8 = 22, version: TLSVersion, maximumFragment: Int) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        let size = max(1, maximumFragment)
        repeat {
            let end = min(data.count, start + size)
            out.append(contentType)
            out.appendBigEndian(version.rawValue)
            out.appendBigEndian(UInt16(truncatingIfNeeded: end - start))
            out += data[start..<end]
            start = end
        } while start < data.count
        return out
    }

    static func extensionBlock(_ extensions: [(UInt16, [UInt8])]) -> [UInt8] {
        var block: [UInt8] = []
        for (type, data) in extensions {
            block.appendBigEndian(type)
            block.appendBigEndian(UInt16(truncatingIfNeeded: data.count))
            block += data
        }
        var out: [UInt8] = []
        out.appendBigEndian(UInt16(truncatingIfNeeded: block.count))
        return out + block
    }

    static let helloRetryRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]
}

/// HTTP/1.1 request payloads.
public enum HTTPPayload {
    /// A request head: `METHOD path HTTP/1.1`, `Host` (when given) first, then `headers`, then a blank line.
    public static func request(method: String = "GET", path: String = "/", host: String?, headers: [(String, String)] = [],
                               body: [UInt8] = []) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\n"
        if let host { text += "Host: \(host)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + body
    }

    /// A GET request with a Host header.
    public static func get(host: String?, path: String = "/", headers: [(String, String)] = [("User-Agent", "flowaudit-test")]) -> [UInt8] {
        request(method: "GET", path: path, host: host, headers: headers)
    }

    /// A minimal `HTTP/1.1 200 OK` response with a body.
    public static func okResponse(body: [UInt8] = Array("ok".utf8)) -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }
}
