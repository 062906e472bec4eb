import Glibc

/// Watches whether a capture interface can carry traffic: administratively up (`IFF_UP`) and,
/// where the kernel knows, with its link (carrier) up. Read from sysfs
/// (`/sys/class/net/NAME/flags` and `operstate`), a few microseconds per check.
///
/// libpcap keeps capturing across a down/up on Linux (the socket stays bound; packets simply stop
/// and start again), but says nothing about the gap: this is what reports it.
public struct LinkMonitor: Sendable {
    public let interface: String

    public init(interface: String) {
        self.interface = interface
    }

    /// True when the interface is up with its link up; nil when sysfs has no such interface
    /// (not Linux, or the interface vanished).
    public func isLinkUp() -> Bool? {
        guard let flagsText = Self.read("/sys/class/net/\(interface)/flags") else { return nil }
        var hex = Substring(flagsText)
        if hex.hasPrefix("0x") { hex = hex.dropFirst(2) }
        guard let flags = UInt32(hex, radix: 16) else { return nil }
        if flags & UInt32(IFF_UP) == 0 { return false }
        // "down", "lowerlayerdown", "notpresent", "dormant" mean no traffic; "up", "unknown"
        // (loopback, tunnels) and "testing" are taken as up.
        switch Self.read("/sys/class/net/\(interface)/operstate") {
        case "down", "lowerlayerdown", "notpresent", "dormant": return false
        default: return true
        }
    }

    /// The first line of a small sysfs file.
    static func read(_ path: String) -> String? {
        // SAFETY: `open` reads the C string Swift passes for `path` only during the call.
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        // SAFETY: read writes at most buffer.count bytes into the array's own storage.
        let count = unsafe buffer.withUnsafeMutableBytes { unsafe Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].prefix { $0 != 0x0A }, as: UTF8.self)
    }
}
