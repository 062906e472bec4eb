/// Builds one JSON object by appending to a single string (no array of fields to join).
struct JSONObject {
    private(set) var text: String
    private var empty = true

    init(capacity: Int = 256) {
        text = "{"
        text.reserveCapacity(capacity)
    }

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        text += "\""
        text += name
        text += "\":"
    }

    mutating func string(_ name: String, _ value: String) {
        key(name)
        literal(value)
    }

    mutating func string(_ name: String, _ value: String?) {
        key(name)
        if let value { literal(value) } else { text += "null" }
    }

    /// `value` as a JSON string literal, appended in place when it needs no escaping (addresses,
    /// ids, times: nearly every value).
    private mutating func literal(_ value: String) {
        if value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            text += Format.json(value)
        } else {
            text += "\""
            text += value
            text += "\""
        }
    }

    mutating func number(_ name: String, _ value: some BinaryInteger) {
        key(name)
        text += String(value)
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            literal(value)
        }
        text += "]"
    }

    /// A value that is already JSON.
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    mutating func finish() -> String {
        text += "}"
        return text
    }
}
