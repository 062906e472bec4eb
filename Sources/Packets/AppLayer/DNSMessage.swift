// DNS messages (RFC 1035 4.1): header, questions and answer records, over UDP or TCP.

/// Why a DNS message was refused. Raw values are stable report keys.
public enum DNSError: String, Error, Sendable, CaseIterable {
    /// The message ends inside its header, a name or a record.
    case truncated = "dns_truncated"
    /// Over TCP: the 2-byte length announces more bytes than the payload holds (wait for more).
    case incomplete = "dns_incomplete"
    /// Over TCP: the length prefix is smaller than a DNS header.
    case badTCPLength = "dns_bad_tcp_length"
    /// The section counts announce more questions or records than the message can hold.
    case badCount = "dns_bad_count"
    /// A compression pointer that does not point strictly before the labels it continues (a
    /// loop, a self reference or a forward pointer), or too many pointers in one name.
    case pointerLoop = "dns_pointer_loop"
    /// A label length byte with the reserved 0x40/0x80 prefixes (a "label" longer than 63 bytes).
    case labelTooLong = "dns_label_too_long"
    /// A name longer than 255 bytes on the wire (RFC 1035 2.3.4).
    case nameTooLong = "dns_name_too_long"
    /// An A record whose data is not 4 bytes, AAAA not 16, or a CNAME whose name does not fill its data.
    case badRecordLength = "dns_bad_rdata_length"
}

/// A DNS record type (RFC 1035 3.2.2 and the IANA registry). An open set.
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let srv = DNSRecordType(rawValue: 33)
    public static let opt = DNSRecordType(rawValue: 41)
    public static let https = DNSRecordType(rawValue: 65)

    public var description: String {
        switch rawValue {
        case 1: "A"
        case 2: "NS"
        case 5: "CNAME"
        case 6: "SOA"
        case 12: "PTR"
        case 15: "MX"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 41: "OPT"
        case 65: "HTTPS"
        default: "TYPE\(rawValue)"
        }
    }
}

/// One question: the name asked for, its type and class.
public struct DNSQuestion: Hashable, Sendable {
    /// Lower-cased presentation form without the trailing dot (`www.example.com`; `.` is the root).
    public var name: String
    public var type: DNSRecordType
    public var recordClass: UInt16

    public init(name: String, type: DNSRecordType, recordClass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

/// What an answer record says.
public enum DNSRecordData: Hashable, Sendable {
    /// An A (IPv4) or AAAA (IPv6) address.
    case address(IPAddress)
    /// A CNAME target, in the same form as ``DNSQuestion/name``.
    case name(String)
    /// Any other type: where its data lies in the message (offsets from the message's first byte).
    case other(Range<Int>)
}

/// One resource record of the answer section.
public struct DNSRecord: Hashable, Sendable {
    /// The owner name, in the same form as ``DNSQuestion/name``.
    public var name: String
    public var type: DNSRecordType
    public var recordClass: UInt16
    /// Time to live in seconds.
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: String, type: DNSRecordType, recordClass: UInt16 = 1, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }
}

/// A DNS message: its header, questions and answer records. Authority and additional records
/// are walked (so their counts and lengths are checked) but not decoded.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    /// The 16-bit flags word: QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    /// True for a response (QR set).
    public var isResponse: Bool { flags & 0x8000 != 0 }
    /// The opcode (0 standard query).
    public var opcode: UInt8 { UInt8(flags >> 11 & 0xF) }
    /// True when the server truncated the message (TC set).
    public var isTruncated: Bool { flags & 0x0200 != 0 }
    /// The response code (0 no error, 3 name error).
    public var responseCode: UInt8 { UInt8(flags & 0xF) }

    /// The most compression pointers followed in one name.
    public static let maximumPointers = 64
    /// The longest name on the wire, length bytes and terminating zero included (RFC 1035 2.3.4).
    public static let maximumNameLength = 255

    /// Parses one complete message, as carried in a UDP datagram (RFC 1035 4.2.1).
    ///
    /// Bytes after the last record are not read, so trailing garbage passes unnoticed.
    /// - Throws: a ``DNSError`` naming the first problem found.
    public static func parse(_ message: Span<UInt8>) throws(DNSError) -> DNSMessage {
        let count = message.count
        guard count >= 12 else { throw .truncated }
        let questionCount = Int(message.bigEndianUInt16(at: 4))
        let answerCount = Int(message.bigEndianUInt16(at: 6))
        let authorityCount = message.bigEndianUInt16(at: 8)
        let additionalCount = message.bigEndianUInt16(at: 10)
        // A question takes at least 5 bytes (root name, type, class), a record at least 11:
        // refuse counts the message cannot hold before reserving anything for them.
        let minimum = questionCount * 5 + (answerCount + Int(authorityCount) + Int(additionalCount)) * 11
        guard minimum <= count - 12 else { throw .badCount }

        var offset = 12
        var questions: [DNSQuestion] = []
        questions.reserveCapacity(questionCount)
        for _ in 0..<questionCount {
            guard offset < count else { throw .badCount }
            let name = try readName(message, at: &offset)
            guard count - offset >= 4 else { throw .truncated }
            questions.append(DNSQuestion(name: name, type: DNSRecordType(rawValue: message.bigEndianUInt16(at: offset)),
                                         recordClass: message.bigEndianUInt16(at: offset + 2)))
            offset += 4
        }
        var answers: [DNSRecord] = []
        answers.reserveCapacity(answerCount)
        for _ in 0..<answerCount {
            guard offset < count else { throw .badCount }
            answers.append(try readRecord(message, at: &offset))
        }
        for _ in 0..<(Int(authorityCount) + Int(additionalCount)) {
            guard offset < count else { throw .badCount }
            try skipRecord(message, at: &offset)
        }
        return DNSMessage(id: message.bigEndianUInt16(at: 0), flags: message.bigEndianUInt16(at: 2), questions: questions,
                          answers: answers, authorityCount: authorityCount, additionalCount: additionalCount)
    }

    /// Parses one message from the start of a TCP payload: a 2-byte length, then the message
    /// (RFC 1035 4.2.2). Bytes after it (a next message) are ignored.
    /// - Throws: ``DNSError/incomplete`` when the payload holds less than the announced length
    ///   (the message continues in a later segment); otherwise like ``parse(_:)``.
    public static func parse(tcpPayload payload: Span<UInt8>) throws(DNSError) -> DNSMessage {
        guard payload.count >= 2 else { throw .incomplete }
        let length = Int(payload.bigEndianUInt16(at: 0))
        guard length >= 12 else { throw .badTCPLength }
        guard payload.count - 2 >= length else { throw .incomplete }
        return try parse(payload.extracting(2..<(2 + length)))
    }

    /// Parses a message held in an array (UDP payload).
    public static func parse(_ message: [UInt8]) throws(DNSError) -> DNSMessage { try parse(message.span) }

    /// Parses a message with its TCP length prefix held in an array.
    public static func parse(tcpPayload payload: [UInt8]) throws(DNSError) -> DNSMessage { try parse(tcpPayload: payload.span) }

    static func readRecord(_ message: Span<UInt8>, at offset: inout Int) throws(DNSError) -> DNSRecord {
        let name = try readName(message, at: &offset)
        guard message.count - offset >= 10 else { throw .truncated }
        let type = DNSRecordType(rawValue: message.bigEndianUInt16(at: offset))
        let recordClass = message.bigEndianUInt16(at: offset + 2)
        let ttl = message.bigEndianUInt32(at: offset + 4)
        let length = Int(message.bigEndianUInt16(at: offset + 8))
        let start = offset + 10
        guard message.count - start >= length else { throw .truncated }
        offset = start + length
        let data: DNSRecordData
        switch type {
        case .a:
            guard length == 4 else { throw .badRecordLength }
            data = .address(IPAddress.ipv4(message, at: start))
        case .aaaa:
            guard length == 16 else { throw .badRecordLength }
            data = .address(IPAddress.ipv6(message, at: start))
        case .cname:
            var end = start
            let target = try readName(message, at: &end)
            guard end == start + length else { throw .badRecordLength }
            data = .name(target)
        default:
            data = .other(start..<(start + length))
        }
        return DNSRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    /// Moves `offset` past a record without decoding it: the name's labels up to its end or
    /// first pointer, the fixed fields and the data.
    static func skipRecord(_ message: Span<UInt8>, at offset: inout Int) throws(DNSError) {
        let count = message.count
        var position = offset
        var wireLength = 1
        while true {
            guard position < count else { throw .truncated }
            let length = Int(message[position])
            if length == 0 { position += 1; break }
            switch length >> 6 {
            case 0:
                wireLength += 1 + length
                guard wireLength <= maximumNameLength else { throw .nameTooLong }
                position += 1 + length
            case 3:
                guard count - position >= 2 else { throw .truncated }
                guard (length & 0x3F) << 8 | Int(message[position + 1]) < position else { throw .pointerLoop }
                position += 2
            default:
                throw .labelTooLong
            }
            if case 3 = length >> 6 { break }
        }
        guard count - position >= 10 else { throw .truncated }
        let dataLength = Int(message.bigEndianUInt16(at: position + 8))
        guard count - position - 10 >= dataLength else { throw .truncated }
        offset = position + 10 + dataLength
    }

    /// Reads a possibly compressed name at `offset` and moves `offset` past it (past its first
    /// pointer, when it has one).
    ///
    /// Every pointer must point strictly before the start of the label run that contains it, so
    /// the runs visited move strictly backwards and the walk ends; the pointer count and the
    /// name length are capped as well.
    /// - Returns: the lower-cased name without trailing dot; `.` for the root. Bytes other than
    ///   printable ASCII, `.` and `\` inside a label are written `\DDD` (RFC 4343 2.1).
    static func readName(_ message: Span<UInt8>, at offset: inout Int) throws(DNSError) -> String {
        let count = message.count
        var position = offset
        var runStart = offset
        var end: Int? = nil
        var pointers = 0
        var wireLength = 1          // the terminating zero
        var text: [UInt8] = []
        while true {
            guard position < count else { throw .truncated }
            let length = Int(message[position])
            switch length >> 6 {
            case 0:
                if length == 0 {
                    offset = end ?? position + 1
                    if text.isEmpty { return "." }
                    return String(decoding: text, as: UTF8.self)
                }
                wireLength += 1 + length
                guard wireLength <= maximumNameLength else { throw .nameTooLong }
                guard count - position - 1 >= length else { throw .truncated }
                if !text.isEmpty { text.append(UInt8(ascii: ".")) }
                for index in (position + 1)...(position + length) {
                    appendEscaped(message[index], to: &text)
                }
                position += 1 + length
            case 3:
                guard count - position >= 2 else { throw .truncated }
                let target = (length & 0x3F) << 8 | Int(message[position + 1])
                guard target < runStart else { throw .pointerLoop }
                pointers += 1
                guard pointers <= maximumPointers else { throw .pointerLoop }
                if end == nil { end = position + 2 }
                position = target
                runStart = target
            default:
                throw .labelTooLong
            }
        }
    }

    @inline(__always)
    static func appendEscaped(_ byte: UInt8, to text: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            text.append(byte | 0x20)
        case UInt8(ascii: "."), UInt8(ascii: "\\"):
            text.append(UInt8(ascii: "\\"))
            text.append(byte)
        case 0x21...0x7E:
            text.append(byte)
        default:
            text.append(UInt8(ascii: "\\"))
            text.append(UInt8(ascii: "0") + byte / 100)
            text.append(UInt8(ascii: "0") + byte / 10 % 10)
            text.append(UInt8(ascii: "0") + byte % 10)
        }
    }
}

/// An address from an answer and every name that leads to it in the same message.
public struct DNSAddressNames: Hashable, Sendable {
    public var address: IPAddress
    /// The A/AAAA owner name first, then the aliases whose CNAME chains end at it, nearest first.
    public var names: [String]
    /// The TTL of the address record, in seconds.
    public var ttl: UInt32

    public init(address: IPAddress, names: [String], ttl: UInt32) {
        self.address = address
        self.names = names
        self.ttl = ttl
    }
}

/// Bounds on the names one DNS message may bind, so binding stays linear in the message
/// whatever a hostile response holds.
public struct DNSNameLimits: Hashable, Sendable {
    /// A/AAAA answers used per message; later ones are counted in ``DNSNameCuts/addresses``.
    public var addressRecords: Int = 64
    /// CNAME steps followed back from an address record's owner.
    public var chainDepth: Int = 8
    /// Aliases followed per CNAME target (how many names may point at one name).
    public var fanIn: Int = 16
    /// Names listed per address (the owner included).
    public var namesPerAddress: Int = 32

    public init(addressRecords: Int = 64, chainDepth: Int = 8, fanIn: Int = 16, namesPerAddress: Int = 32) {
        self.addressRecords = addressRecords
        self.chainDepth = chainDepth
        self.fanIn = fanIn
        self.namesPerAddress = namesPerAddress
    }
}

/// What ``DNSNameLimits`` cut from one message.
public struct DNSNameCuts: Hashable, Sendable {
    /// A/AAAA answers past ``DNSNameLimits/addressRecords``.
    public var addresses: Int = 0
    /// CNAME records not followed because their target already had ``DNSNameLimits/fanIn`` aliases.
    public var aliases: Int = 0
    /// Chains still going at ``DNSNameLimits/chainDepth`` (once per address record's owner name).
    public var chains: Int = 0
    /// Names not listed for an address past ``DNSNameLimits/namesPerAddress`` (once per owner name).
    public var names: Int = 0

    public init() {}

    /// True when nothing was cut.
    public var isEmpty: Bool { addresses == 0 && aliases == 0 && chains == 0 && names == 0 }
}

extension DNSMessage {
    /// For each A/AAAA answer (class IN), the names that resolve to its address: the owner name,
    /// then every alias whose CNAME chain in this message leads to it, within `limits`.
    ///
    /// Linear in the message: one pass indexes the CNAME records by target (at most
    /// `limits.fanIn` aliases each), the alias walk runs once per distinct owner name, and at
    /// most `limits.addressRecords` addresses with at most `limits.namesPerAddress` names each
    /// come out. What the limits cut is counted in `cuts`.
    public func addressNames(limits: DNSNameLimits, cuts: inout DNSNameCuts) -> [DNSAddressNames] {
        // Aliases by CNAME target, in record order.
        var aliasesOf: [String: [String]] = [:]
        for alias in answers where alias.type == .cname && alias.recordClass == 1 {
            guard case let .name(target) = alias.data else { continue }
            if aliasesOf[target, default: []].count < limits.fanIn {
                aliasesOf[target, default: []].append(alias.name)
            } else {
                cuts.aliases += 1
            }
        }
        var namesOf: [String: [String]] = [:]
        var result: [DNSAddressNames] = []
        for record in answers where record.recordClass == 1 {
            guard case let .address(address) = record.data, record.type == .a || record.type == .aaaa else { continue }
            guard result.count < limits.addressRecords else {
                cuts.addresses += 1
                continue
            }
            if let names = namesOf[record.name] {
                result.append(DNSAddressNames(address: address, names: names, ttl: record.ttl))
                continue
            }
            // Breadth first backwards from the owner; each name once, so cycles end.
            var names = [record.name]
            var seen: Set<String> = [record.name]
            var frontier = [record.name]
            var depth = 0
            var full = false
            while !frontier.isEmpty && !full {
                if depth == limits.chainDepth {
                    if frontier.contains(where: { aliasesOf[$0] != nil }) { cuts.chains += 1 }
                    break
                }
                var next: [String] = []
                walk: for target in frontier {
                    for alias in aliasesOf[target] ?? [] where !seen.contains(alias) {
                        guard names.count < limits.namesPerAddress else {
                            cuts.names += 1
                            full = true
                            break walk
                        }
                        seen.insert(alias)
                        names.append(alias)
                        next.append(alias)
                    }
                }
                frontier = next
                depth += 1
            }
            namesOf[record.name] = names
            result.append(DNSAddressNames(address: address, names: names, ttl: record.ttl))
        }
        return result
    }

    /// ``addressNames(limits:cuts:)`` with the default limits but a chain depth of `maximumChain`,
    /// dropping the counts of what was cut.
    public func addressNames(maximumChain: Int = 8) -> [DNSAddressNames] {
        var cuts = DNSNameCuts()
        return addressNames(limits: DNSNameLimits(chainDepth: maximumChain), cuts: &cuts)
    }
}
