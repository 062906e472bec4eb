// Address conveniences: string literals for IP addresses and a MAC address type.

import Packets

extension IPAddress {
    /// Parses an address written in a test or scenario; invalid text is a programmer error and
    /// traps with the offending text. (IPAddress deliberately has no string-literal conformance:
    /// it would turn `IPAddress("bad")` into a trap instead of nil wherever the builder is imported.)
    public init(parsing text: String) {
        guard let address = IPAddress(text) else { preconditionFailure("invalid IP address '\(text)'") }
        self = address
    }
}

extension Frame {
    /// A 48-bit IEEE 802 MAC address, written `"02:00:00:00:00:01"`.
    public struct MACAddress: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The six bytes in transmission order.
        public var bytes: [UInt8]

        /// An address from six bytes. Traps unless exactly six are given (a programmer error).
        public init(_ bytes: [UInt8]) {
            precondition(bytes.count == 6, "a MAC address has 6 bytes, got \(bytes.count)")
            self.bytes = bytes
        }

        /// Parses `aa:bb:cc:dd:ee:ff` (or with `-`); nil for anything else.
        public init?(text: String) {
            let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
            guard parts.count == 6 else { return nil }
            var out: [UInt8] = []
            for part in parts {
                guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
                out.append(byte)
            }
            self.bytes = out
        }

        public init(stringLiteral value: String) {
            guard let address = MACAddress(text: value) else { preconditionFailure("invalid MAC address literal '\(value)'") }
            self = address
        }

        public var description: String {
            bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
        }

        /// ff:ff:ff:ff:ff:ff
        public static let broadcast: MACAddress = "ff:ff:ff:ff:ff:ff"
    }
}
