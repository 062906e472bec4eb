import Packets

/// The name an HTTP `Host` header (or a TLS server name) binds.
enum HostHeader {
    /// `name` from `name`, `name:port` or `name.`; nil for an address literal (`10.0.0.5`,
    /// `10.0.0.5:80`, `[2001:db8::1]:443`), which names no host, and for empty text.
    static func name(_ value: String) -> String? {
        // The common case, a plain name (no port, no brackets, ending in a letter as every top-level
        // domain does, so not an IPv4 literal): taken as it is, without parsing.
        if let last = value.utf8.last, (last | 0x20) >= 0x61, (last | 0x20) <= 0x7A,
           !value.utf8.contains(0x3A), value.utf8.first != 0x20, value.utf8.first != 0x09 {
            return value
        }
        var text = Substring(value)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        if text.hasPrefix("[") { return nil }  // an IPv6 literal, with or without a port
        if let colon = text.lastIndex(of: ":") {
            let port = text[text.index(after: colon)...]
            // A second colon means an unbracketed IPv6 address: no name.
            if text[..<colon].contains(":") { return nil }
            guard port.allSatisfy(\.isASCIIDigit) else { return nil }
            text = text[..<colon]
        }
        while text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        if IPAddress(String(text)) != nil { return nil }
        return String(text)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
