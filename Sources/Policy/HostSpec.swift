import Packets

/// One entry of a role binding: an address, a CIDR block, a range, a DNS name (exact or
/// `*.suffix`) or a built-in set.
public enum HostSpec: Sendable, Hashable, CustomStringConvertible {
    /// One IPv4 or IPv6 address.
    case address(IPAddress)
    /// A CIDR block, stored normalised (host bits cleared).
    case network(IPAddress, prefixLength: Int)
    /// An inclusive range `low-high` of one family, low <= high.
    case range(IPAddress, IPAddress)
    /// An exact DNS name, lower case, without a trailing dot.
    case name(String)
    /// `*.suffix`: any name strictly below `suffix` (not `suffix` itself); stored without `*.`.
    case nameSuffix(String)
    /// `any`, `internet` or `private`.
    case builtin(BuiltinSet)

    /// The normalised text, as `lint` prints it.
    public var description: String {
        switch self {
        case .address(let a): a.description
        case .network(let a, let length): "\(a)/\(length)"
        case .range(let a, let b): "\(a)-\(b)"
        case .name(let n): n
        case .nameSuffix(let s): "*.\(s)"
        case .builtin(let b): b.rawValue
        }
    }

    /// The addresses the entry covers; empty for names (they bind through the names known
    /// for an address).
    public var ranges: [AddressRange] {
        switch self {
        case .address(let a): [AddressRange(a)]
        case .network(let a, let length): [AddressRange(network: a, prefixLength: length)]
        case .range(let a, let b): [AddressRange(family: a.isIPv4 ? .ipv4 : .ipv6, low: a.value, high: b.value)]
        case .name, .nameSuffix: []
        case .builtin(let set): set.ranges
        }
    }

    /// True for `.name` and `.nameSuffix`.
    public var isName: Bool {
        switch self {
        case .name, .nameSuffix: true
        default: false
        }
    }

    /// The result of parsing: the spec and, when the text was accepted with a correction, a
    /// warning to show.
    public struct Parsed: Sendable, Hashable {
        public var spec: HostSpec
        public var warning: String?
    }

    /// Parses host text: `10.0.0.1`, `2001:db8::1`, `10.0.0.0/24`, `10.0.0.1-10.0.0.9`,
    /// `mail.example.com`, `*.example.com`, `any`, `internet`, `private`.
    /// A CIDR block with host bits set is accepted, normalised, and reported with a warning.
    public static func parse(_ raw: String) -> Result<Parsed, HostSpecError> {
        let text = raw.trimmed(lineBreaks: false)
        if text.isEmpty { return .failure(HostSpecError("empty host entry")) }
        if let builtin = BuiltinSet(rawValue: text.lowercased()) {
            return .success(Parsed(spec: .builtin(builtin)))
        }
        if text.utf8.contains(UInt8(ascii: "/")) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let address = IPAddress(parts[0]) else {
                return .failure(HostSpecError("invalid CIDR block '\(raw)': '\(parts[0])' is not an IPv4 or IPv6 address"))
            }
            let width = address.isIPv4 ? 32 : 128
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]), length <= width else {
                return .failure(HostSpecError("invalid CIDR block '\(raw)': prefix length '\(parts[1])' is not 0-\(width)"))
            }
            let range = AddressRange(network: address, prefixLength: length)
            let network = range.lowAddress
            let spec: HostSpec = length == width ? .address(address) : .network(network, prefixLength: length)
            if network != address {
                return .success(Parsed(spec: spec, warning: "CIDR block '\(raw)' has host bits set; read as \(network)/\(length)"))
            }
            return .success(Parsed(spec: spec))
        }
        if let address = IPAddress(text) {
            return .success(Parsed(spec: .address(address)))
        }
        if text.utf8.contains(UInt8(ascii: "-")) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            let low = parts.count == 2 ? IPAddress(parts[0]) : nil
            let high = parts.count == 2 ? IPAddress(parts[1]) : nil
            if low != nil || high != nil || (parts.count == 2 && looksLikeAddress(String(parts[0])) && looksLikeAddress(String(parts[1]))) {
                guard let low, let high else {
                    let bad = low == nil ? parts[0] : parts[1]
                    return .failure(HostSpecError("invalid address range '\(raw)': '\(bad)' is not an IPv4 or IPv6 address"))
                }
                guard low.isIPv4 == high.isIPv4 else {
                    return .failure(HostSpecError("invalid address range '\(raw)': the two ends are of different address families"))
                }
                guard low.value <= high.value else {
                    return .failure(HostSpecError("invalid address range '\(raw)': \(low) is above \(high)"))
                }
                return .success(Parsed(spec: low == high ? .address(low) : .range(low, high)))
            }
        }
        if looksLikeAddress(text) {
            let kind = text.utf8.contains(UInt8(ascii: ":")) ? "IPv6" : "IPv4"
            return .failure(HostSpecError("invalid \(kind) address '\(raw)'"))
        }
        switch parseName(text) {
        case .success(let spec): return .success(Parsed(spec: spec))
        case .failure(let error): return .failure(HostSpecError("invalid host '\(raw)': \(error.message)"))
        }
    }

    /// Text made only of digits and dots, or holding a colon: an attempt at an address rather
    /// than a name.
    static func looksLikeAddress(_ text: String) -> Bool {
        // A colon never appears in a DNS name.
        if text.utf8.contains(UInt8(ascii: ":")) { return true }
        return !text.isEmpty && text.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "." }
    }

    /// Parses and normalises a DNS name or `*.suffix` (lower case, trailing dot dropped).
    public static func parseName(_ raw: String) -> Result<HostSpec, HostSpecError> {
        var text = HostName.normalise(raw)
        var wildcard = false
        if text.hasPrefix("*.") {
            wildcard = true
            text.removeFirst(2)
        }
        if text.utf8.contains(UInt8(ascii: "*")) {
            return .failure(HostSpecError("a wildcard is allowed only as a leading '*.' label"))
        }
        guard !text.isEmpty else { return .failure(HostSpecError("empty name")) }
        guard text.utf8.count <= 253 else { return .failure(HostSpecError("name longer than 253 characters")) }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty else { return .failure(HostSpecError("empty label")) }
            guard label.utf8.count <= 63 else { return .failure(HostSpecError("label '\(label)' longer than 63 characters")) }
            if let bad = label.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
                return .failure(HostSpecError("character '\(bad)' is not allowed in a DNS name (write international names in their xn-- form)"))
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return .failure(HostSpecError("label '\(label)' starts or ends with a hyphen"))
            }
        }
        if labels.count > 1, labels.last!.allSatisfy({ $0.isNumber }) {
            return .failure(HostSpecError("the last label '\(labels.last!)' is all digits, which no DNS name has"))
        }
        return .success(wildcard ? .nameSuffix(text) : .name(text))
    }
}

/// Why host text was refused; `message` quotes the text.
public struct HostSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
