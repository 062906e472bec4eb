// The method and Host header of an HTTP/1.x request (RFC 9112 3, RFC 9110 7.2).

/// Why an HTTP request head could not be read. Raw values are stable report keys.
public enum HTTPError: String, Error, Sendable, CaseIterable {
    /// The payload does not start with `METHOD SP target SP HTTP/x.y`.
    case notRequest = "http_not_request"
    /// The payload ends before the Host header or the end of the header section.
    case incomplete = "http_incomplete"
    /// The request line or header section is longer than the caps allow.
    case tooLong = "http_too_long"
    /// The Host value is longer than 255 bytes, has a bad port, or characters no host has.
    case badHost = "http_bad_host"
}

/// The method and Host of a request.
public struct HTTPRequestHead: Hashable, Sendable {
    /// The method token as sent (`GET`).
    public var method: String
    /// The Host header value, lower-cased, port removed, IPv6 brackets removed; nil when the
    /// header section ends without a (non-empty) Host.
    public var host: String?

    public init(method: String, host: String?) {
        self.method = method
        self.host = host
    }

    /// The longest method token accepted.
    public static let maximumMethodLength = 24
    /// The most bytes scanned for the request line and headers.
    public static let maximumHeadLength = 16384
    /// The longest host name returned.
    public static let maximumHostLength = 255

    /// Reads the request line and headers at the start of a TCP payload, up to the first Host
    /// header (header names compare case-insensitively; lines may end in CRLF or LF).
    /// - Throws: ``HTTPError/notRequest`` for anything that is not a request line;
    ///   ``HTTPError/incomplete`` when the bytes end before Host or the blank line.
    public static func parse(_ payload: Span<UInt8>) throws(HTTPError) -> HTTPRequestHead {
        let count = min(payload.count, maximumHeadLength)
        // Method: 1...24 of A-Z, '-', '_', then one space.
        var offset = 0
        while offset < count, isMethodByte(payload[offset]) {
            offset += 1
            guard offset <= maximumMethodLength else { throw .notRequest }
        }
        guard offset < count else { throw offset == payload.count ? .incomplete : .tooLong }
        guard offset > 0, payload[offset] == UInt8(ascii: " ") else { throw .notRequest }
        var methodBytes: [UInt8] = []
        for index in 0..<offset { methodBytes.append(payload[index]) }
        let method = String(decoding: methodBytes, as: UTF8.self)
        offset += 1
        // Request target: visible bytes up to a space.
        let targetStart = offset
        while offset < count, payload[offset] > 0x20, payload[offset] < 0x7F { offset += 1 }
        guard offset < count else { throw count == payload.count ? .incomplete : .tooLong }
        guard offset > targetStart, payload[offset] == UInt8(ascii: " ") else { throw .notRequest }
        offset += 1
        // "HTTP/" digit "." digit, then CRLF or LF.
        let version: [UInt8] = Array("HTTP/".utf8)
        for expected in version {
            guard offset < count else { throw .incomplete }
            guard payload[offset] == expected else { throw .notRequest }
            offset += 1
        }
        guard count - offset >= 3 else { throw .incomplete }
        guard isDigit(payload[offset]), payload[offset + 1] == UInt8(ascii: "."), isDigit(payload[offset + 2]) else { throw .notRequest }
        offset += 3
        offset = try skipLineEnd(payload, at: offset, count: count)

        // Header lines until an empty one.
        while true {
            let lineStart = offset
            while offset < count, payload[offset] != UInt8(ascii: "\n") { offset += 1 }
            guard offset < count else { throw count == payload.count ? .incomplete : .tooLong }
            var lineEnd = offset   // at the LF
            offset += 1
            if lineEnd > lineStart, payload[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            if lineEnd == lineStart { return HTTPRequestHead(method: method, host: nil) }
            if isHostName(payload, from: lineStart, to: lineEnd) {
                var valueStart = lineStart + 5
                var valueEnd = lineEnd
                while valueStart < valueEnd, isSpace(payload[valueStart]) { valueStart += 1 }
                while valueEnd > valueStart, isSpace(payload[valueEnd - 1]) { valueEnd -= 1 }
                if valueStart == valueEnd { return HTTPRequestHead(method: method, host: nil) }
                return HTTPRequestHead(method: method, host: try host(payload, from: valueStart, to: valueEnd))
            }
        }
    }

    /// Parses a request head held in an array.
    public static func parse(_ payload: [UInt8]) throws(HTTPError) -> HTTPRequestHead { try parse(payload.span) }

    static func skipLineEnd(_ payload: Span<UInt8>, at offset: Int, count: Int) throws(HTTPError) -> Int {
        guard offset < count else { throw .incomplete }
        if payload[offset] == UInt8(ascii: "\n") { return offset + 1 }
        guard payload[offset] == UInt8(ascii: "\r") else { throw .notRequest }
        guard offset + 1 < count else { throw .incomplete }
        guard payload[offset + 1] == UInt8(ascii: "\n") else { throw .notRequest }
        return offset + 2
    }

    /// True when the line starts with `host:` in any case.
    static func isHostName(_ payload: Span<UInt8>, from start: Int, to end: Int) -> Bool {
        guard end - start >= 5 else { return false }
        let name: [UInt8] = [UInt8(ascii: "h"), UInt8(ascii: "o"), UInt8(ascii: "s"), UInt8(ascii: "t")]
        for index in 0..<4 where payload[start + index] | 0x20 != name[index] { return false }
        return payload[start + 4] == UInt8(ascii: ":")
    }

    /// The host part of a Host value: port and IPv6 brackets removed, lower-cased, checked.
    static func host(_ payload: Span<UInt8>, from start: Int, to end: Int) throws(HTTPError) -> String {
        var hostStart = start, hostEnd = end
        var portStart: Int? = nil
        if payload[start] == UInt8(ascii: "[") {
            var close = start + 1
            while close < end, payload[close] != UInt8(ascii: "]") { close += 1 }
            guard close < end else { throw .badHost }
            hostStart = start + 1
            hostEnd = close
            if close + 1 < end {
                guard payload[close + 1] == UInt8(ascii: ":") else { throw .badHost }
                portStart = close + 2
            }
        } else {
            var index = start
            while index < end, payload[index] != UInt8(ascii: ":") { index += 1 }
            if index < end {
                hostEnd = index
                portStart = index + 1
            }
        }
        if let portStart {
            guard end - portStart <= 5 else { throw .badHost }
            for index in portStart..<end where !isDigit(payload[index]) { throw .badHost }
        }
        guard hostEnd > hostStart, hostEnd - hostStart <= maximumHostLength else { throw .badHost }
        var text: [UInt8] = []
        text.reserveCapacity(hostEnd - hostStart)
        for index in hostStart..<hostEnd {
            let byte = payload[index]
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): text.append(byte | 0x20)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                text.append(byte)
            case UInt8(ascii: ":") where hostStart > start:   // inside IPv6 brackets
                text.append(byte)
            default:
                throw .badHost
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    @inline(__always) static func isMethodByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
