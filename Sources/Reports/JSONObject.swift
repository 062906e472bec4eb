/// Builds one JSON object by appending UTF-8 bytes to a single buffer (no array of fields to
/// join, no temporary string per value: numbers are written digit by digit, strings that need
/// no escaping are copied as they are).
struct JSONObject {
    private var bytes: [UInt8]
    private var empty = true

    init(capacity: Int = 256) {
        bytes = [UInt8(ascii: "{")]
        bytes.reserveCapacity(capacity)
    }

    private mutating func key(_ name: String) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: String, _ value: String) {
        key(name)
        literal(value)
    }

    mutating func string(_ name: String, _ value: String?) {
        key(name)
        if let value { literal(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    /// `value` as a JSON string literal (RFC 8259 7): copied as it is when it needs no escaping
    /// (addresses, ids, times: nearly every value), else escaped by ``Format/json(_:)``.
    private mutating func literal(_ value: String) {
        if value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            bytes.append(contentsOf: Format.json(value).utf8)
        } else {
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
        }
    }

    mutating func number(_ name: String, _ value: some BinaryInteger) {
        key(name)
        if let unsigned = UInt64(exactly: value) {
            digits(unsigned)
        } else if let signed = Int64(exactly: value) {
            bytes.append(UInt8(ascii: "-"))
            digits(signed.magnitude)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// The decimal digits of `value`.
    private mutating func digits(_ value: UInt64) {
        let start = bytes.count
        var rest = value
        repeat {
            bytes.append(UInt8(truncatingIfNeeded: 48 &+ rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            literal(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A value that is already JSON.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    mutating func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
