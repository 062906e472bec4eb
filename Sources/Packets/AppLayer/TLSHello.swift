// TLS ClientHello and ServerHello (RFC 8446 4.1.2, 4.1.3; RFC 5246 7.4.1): versions and SNI.

/// Why a TLS hello could not be read. Raw values are stable report keys.
public enum TLSError: String, Error, Sendable, CaseIterable {
    /// The record or the handshake message continues past the bytes given (wait for more).
    case incomplete = "tls_incomplete"
    /// The payload does not start with a TLS handshake record (content type 22, version 3.x).
    case notHandshake = "tls_not_handshake"
    /// The handshake message is neither a ClientHello (1) nor a ServerHello (2).
    case notHello = "tls_not_hello"
    /// A record longer than TLS allows (2^14 + 2048 bytes).
    case recordTooLong = "tls_record_too_long"
    /// A length inside the hello runs past its container (session id, cipher suites,
    /// compression methods, extensions block), or a handshake message is implausibly long.
    case badLength = "tls_bad_length"
    /// An extension is cut short or its inner lengths disagree with its own.
    case badExtension = "tls_bad_extension"
    /// The server_name host name is empty, longer than 255 bytes, or not printable ASCII.
    case badServerName = "tls_bad_server_name"
}

/// A TLS protocol version as sent on the wire (0x0303 is TLS 1.2). An open set.
public struct TLSVersion: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ssl3 = TLSVersion(rawValue: 0x0300)
    public static let tls10 = TLSVersion(rawValue: 0x0301)
    public static let tls11 = TLSVersion(rawValue: 0x0302)
    public static let tls12 = TLSVersion(rawValue: 0x0303)
    public static let tls13 = TLSVersion(rawValue: 0x0304)

    /// A GREASE value (RFC 8701): 0x?a?a with both bytes equal.
    public var isGREASE: Bool { rawValue & 0x0F0F == 0x0A0A && rawValue >> 8 == rawValue & 0xFF }

    @inlinable public static func < (a: TLSVersion, b: TLSVersion) -> Bool { a.rawValue < b.rawValue }

    /// The versions with names, the one table of them: `name` as messages write it (`TLS 1.2`),
    /// `number` as rule files' `tls-minimum` and flow tables write it (`1.2`, `ssl3`).
    static let named: [(version: TLSVersion, name: String, number: String)] = [
        (.ssl3, "SSL 3.0", "ssl3"), (.tls10, "TLS 1.0", "1.0"), (.tls11, "TLS 1.1", "1.1"),
        (.tls12, "TLS 1.2", "1.2"), (.tls13, "TLS 1.3", "1.3"),
    ]

    /// The version `number` names (`1.2`, `ssl3`); nil for other text.
    public init?(number: String) {
        guard let entry = Self.named.first(where: { $0.number == number }) else { return nil }
        self = entry.version
    }

    /// `SSL 3.0`, `TLS 1.0` ... `TLS 1.3`; nil for a version without a name.
    public var name: String? { Self.named.first { $0.version == self }?.name }

    /// `ssl3`, `1.0` ... `1.3`, or the hex value (`0x7f1c`) for others.
    public var number: String { Self.named.first { $0.version == self }?.number ?? hex }

    /// `SSL 3.0`, `TLS 1.0` ... `TLS 1.3`, or the hex value (`0x7f1c`) for others.
    public var description: String { name ?? hex }

    /// The wire value in hex: `0x7f1c`.
    public var hex: String { "0x" + String(rawValue, radix: 16) }
}

/// What a ClientHello offers.
public struct TLSClientHello: Hashable, Sendable {
    /// The version in the record header (often 1.0 for compatibility).
    public var recordVersion: TLSVersion
    /// `legacy_version` (client_version before TLS 1.3).
    public var legacyVersion: TLSVersion
    /// The `server_name` host name, lower-cased; nil without the extension.
    public var serverName: String?
    /// The `supported_versions` list as sent (GREASE included); empty without the extension.
    public var supportedVersions: [TLSVersion]

    public init(recordVersion: TLSVersion, legacyVersion: TLSVersion, serverName: String?, supportedVersions: [TLSVersion]) {
        self.recordVersion = recordVersion
        self.legacyVersion = legacyVersion
        self.serverName = serverName
        self.supportedVersions = supportedVersions
    }

    /// The highest version offered: the largest non-GREASE `supported_versions` entry, else `legacyVersion`.
    public var highestVersion: TLSVersion {
        supportedVersions.filter { !$0.isGREASE }.max() ?? legacyVersion
    }
}

/// What a ServerHello chose.
public struct TLSServerHello: Hashable, Sendable {
    public var recordVersion: TLSVersion
    /// `legacy_version` (server_version before TLS 1.3; 1.2 in a TLS 1.3 ServerHello).
    public var legacyVersion: TLSVersion
    /// The `supported_versions` selection (TLS 1.3 and later); nil without the extension.
    public var selectedVersion: TLSVersion?
    /// True for a HelloRetryRequest (a ServerHello with the special random, RFC 8446 4.1.3).
    public var isHelloRetryRequest: Bool

    public init(recordVersion: TLSVersion, legacyVersion: TLSVersion, selectedVersion: TLSVersion?, isHelloRetryRequest: Bool = false) {
        self.recordVersion = recordVersion
        self.legacyVersion = legacyVersion
        self.selectedVersion = selectedVersion
        self.isHelloRetryRequest = isHelloRetryRequest
    }

    /// The negotiated version: the `supported_versions` selection, else `legacyVersion`.
    public var version: TLSVersion { selectedVersion ?? legacyVersion }
}

/// The first handshake message of a TLS stream.
public enum TLSHello: Hashable, Sendable {
    case client(TLSClientHello)
    case server(TLSServerHello)

    /// The largest record TLS allows on the wire (RFC 5246 6.2.3: 2^14 + 2048).
    public static let maximumRecordLength = 16384 + 2048
    /// The longest hello accepted when it spans several records.
    public static let maximumHandshakeLength = 65536

    /// Parses the ClientHello or ServerHello at the start of a TCP payload (the stream's first
    /// bytes in that direction). A hello spread over several records is joined when all of them
    /// are in `payload`.
    /// - Throws: ``TLSError/incomplete`` when the payload ends before the hello does; another
    ///   ``TLSError`` when the bytes are not a well-formed hello.
    public static func parse(_ payload: Span<UInt8>) throws(TLSError) -> TLSHello {
        let count = payload.count
        guard count >= 1 else { throw .incomplete }
        guard payload[0] == 22 else { throw .notHandshake }
        guard count >= 2 else { throw .incomplete }
        guard payload[1] == 3 else { throw .notHandshake }
        guard count >= 5 else { throw .incomplete }
        let recordVersion = TLSVersion(rawValue: payload.bigEndianUInt16(at: 1))
        let recordLength = Int(payload.bigEndianUInt16(at: 3))
        guard recordLength <= maximumRecordLength else { throw .recordTooLong }
        guard recordLength >= 4 else { throw .badLength }
        guard count >= 9 else { throw .incomplete }
        let type = payload[5]
        guard type == 1 || type == 2 else { throw .notHello }
        let length = Int(payload[6]) << 16 | Int(payload.bigEndianUInt16(at: 7))
        guard length <= maximumHandshakeLength else { throw .badLength }
        if recordLength - 4 >= length {
            // The usual case: the whole hello in the first record.
            guard count - 9 >= length else { throw .incomplete }
            return try parseBody(payload.extracting(9..<(9 + length)), type: type, recordVersion: recordVersion)
        }
        // The hello continues in the next records: join their fragments (rare; allocates once).
        var joined: [UInt8] = []
        joined.reserveCapacity(length)
        var recordStart = 0
        var skip = 4    // the handshake header in the first record
        while joined.count < length {
            guard count - recordStart >= 5 else { throw .incomplete }
            guard payload[recordStart] == 22, payload[recordStart + 1] == 3 else { throw .badLength }
            let fragmentLength = Int(payload.bigEndianUInt16(at: recordStart + 3))
            guard fragmentLength <= maximumRecordLength, fragmentLength >= skip else { throw .badLength }
            let fragmentStart = recordStart + 5
            guard count - fragmentStart >= fragmentLength else { throw .incomplete }
            let take = min(fragmentLength - skip, length - joined.count)
            for index in (fragmentStart + skip)..<(fragmentStart + skip + take) { joined.append(payload[index]) }
            recordStart = fragmentStart + fragmentLength
            skip = 0
        }
        return try parseBody(joined.span, type: type, recordVersion: recordVersion)
    }

    /// Parses a hello held in an array.
    public static func parse(_ payload: [UInt8]) throws(TLSError) -> TLSHello { try parse(payload.span) }

    /// The random value of a HelloRetryRequest: SHA-256 of "HelloRetryRequest".
    static let helloRetryRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    /// Parses a ClientHello (`type` 1) or ServerHello (2) body of exactly `body.count` bytes.
    static func parseBody(_ body: Span<UInt8>, type: UInt8, recordVersion: TLSVersion) throws(TLSError) -> TLSHello {
        let count = body.count
        // legacy_version (2), random (32), session id length (1).
        guard count >= 35 else { throw .badLength }
        let legacyVersion = TLSVersion(rawValue: body.bigEndianUInt16(at: 0))
        var isHelloRetryRequest = true
        for index in 0..<32 where body[2 + index] != helloRetryRandom[index] { isHelloRetryRequest = false }
        let sessionLength = Int(body[34])
        guard sessionLength <= 32, count - 35 >= sessionLength else { throw .badLength }
        var offset = 35 + sessionLength
        if type == 1 {
            guard count - offset >= 2 else { throw .badLength }
            let suitesLength = Int(body.bigEndianUInt16(at: offset))
            guard suitesLength % 2 == 0, count - offset - 2 >= suitesLength else { throw .badLength }
            offset += 2 + suitesLength
            guard count - offset >= 1 else { throw .badLength }
            let compressionLength = Int(body[offset])
            guard count - offset - 1 >= compressionLength else { throw .badLength }
            offset += 1 + compressionLength
        } else {
            // cipher_suite (2), compression_method (1).
            guard count - offset >= 3 else { throw .badLength }
            offset += 3
        }
        var serverName: String? = nil
        var supportedVersions: [TLSVersion] = []
        var selectedVersion: TLSVersion? = nil
        // Extensions are optional before TLS 1.3 (an SSL 3.0 / TLS 1.0 hello may end here).
        if offset < count {
            guard count - offset >= 2 else { throw .badLength }
            let extensionsLength = Int(body.bigEndianUInt16(at: offset))
            offset += 2
            guard count - offset >= extensionsLength else { throw .badLength }
            let end = offset + extensionsLength
            while offset < end {
                guard end - offset >= 4 else { throw .badExtension }
                let extensionType = body.bigEndianUInt16(at: offset)
                let length = Int(body.bigEndianUInt16(at: offset + 2))
                let start = offset + 4
                guard end - start >= length else { throw .badExtension }
                offset = start + length
                switch (extensionType, type) {
                case (0, 1) where serverName == nil:
                    serverName = try readServerName(body, start: start, length: length)
                case (43, 1):
                    guard length >= 1 else { throw .badExtension }
                    let listLength = Int(body[start])
                    guard listLength == length - 1, listLength % 2 == 0 else { throw .badExtension }
                    var index = start + 1
                    while index < start + length {
                        supportedVersions.append(TLSVersion(rawValue: body.bigEndianUInt16(at: index)))
                        index += 2
                    }
                case (43, 2):
                    guard length == 2 else { throw .badExtension }
                    selectedVersion = TLSVersion(rawValue: body.bigEndianUInt16(at: start))
                default:
                    break
                }
            }
        }
        if type == 1 {
            return .client(TLSClientHello(recordVersion: recordVersion, legacyVersion: legacyVersion, serverName: serverName,
                                          supportedVersions: supportedVersions))
        }
        return .server(TLSServerHello(recordVersion: recordVersion, legacyVersion: legacyVersion, selectedVersion: selectedVersion,
                                      isHelloRetryRequest: isHelloRetryRequest))
    }

    /// The first host_name of a server_name extension (RFC 6066 3); nil when the list has none.
    static func readServerName(_ body: Span<UInt8>, start: Int, length: Int) throws(TLSError) -> String? {
        // An empty extension is what a server sends back to acknowledge SNI.
        if length == 0 { return nil }
        guard length >= 2, Int(body.bigEndianUInt16(at: start)) == length - 2 else { throw .badExtension }
        var offset = start + 2
        let end = start + length
        while offset < end {
            guard end - offset >= 3 else { throw .badExtension }
            let nameType = body[offset]
            let nameLength = Int(body.bigEndianUInt16(at: offset + 1))
            let nameStart = offset + 3
            guard end - nameStart >= nameLength else { throw .badExtension }
            offset = nameStart + nameLength
            guard nameType == 0 else { continue }
            guard nameLength >= 1, nameLength <= 255 else { throw .badServerName }
            var text: [UInt8] = []
            text.reserveCapacity(nameLength)
            for index in nameStart..<(nameStart + nameLength) {
                let byte = body[index]
                guard byte > 0x20, byte < 0x7F else { throw .badServerName }
                text.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
            }
            return String(decoding: text, as: UTF8.self)
        }
        return nil
    }
}
