#if canImport(Glibc)
import Glibc
#endif
import Audit
import Packets

/// Sends live-audit events as RFC 5424 syslog messages with structured data, over UDP (one
/// message per datagram, RFC 5426) or TCP (octet-counting framing, RFC 6587).
public final class SyslogSender {
    public enum Transport: String, Sendable { case udp, tcp }
    let descriptor: Int32
    let transport: Transport
    let hostname: String
    let processID: Int32

    /// Connects to `target`: `HOST:PORT`, `udp://HOST:PORT`, `tcp://HOST:PORT`; HOST is an IPv4
    /// or IPv6 address (`[::1]:514`) or `localhost`.
    public init(target: String) throws(SyslogError) {
        var rest = Substring(target)
        var transport = Transport.udp
        if rest.hasPrefix("tcp://") { transport = .tcp; rest = rest.dropFirst(6) }
        else if rest.hasPrefix("udp://") { rest = rest.dropFirst(6) }
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            throw SyslogError(message: "'\(target)' is not HOST:PORT (for example 10.0.0.9:514 or tcp://[2001:db8::9]:6514)")
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { host = "127.0.0.1" }
        guard let address = IPAddress(host) else {
            throw SyslogError(message: "'\(host)' is not an IP address (names are not resolved; give the collector's address)")
        }
        self.transport = transport
        let fd = socket(address.isIPv4 ? AF_INET : AF_INET6, Int32(transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SyslogError(message: "socket: \(SyslogSender.errorText())") }
        descriptor = fd
        let result: Int32
        if address.isIPv4 {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = address.ipv4Value.bigEndian
            result = unsafe withUnsafePointer(to: &sa) { pointer in
                // SAFETY: `pointer` is a valid sockaddr_in for the call; connect copies it.
                unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            let bytes = address.bytes
            unsafe withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in
                // SAFETY: sin6_addr is 16 bytes and `bytes` holds 16.
                for i in 0..<16 { unsafe raw[i] = bytes[i] }
            }
            result = unsafe withUnsafePointer(to: &sa) { pointer in
                // SAFETY: `pointer` is a valid sockaddr_in6 for the call; connect copies it.
                unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard result == 0 else {
            let text = SyslogSender.errorText()
            close(fd)
            throw SyslogError(message: "cannot reach syslog collector \(target): \(text)")
        }
        var name = [CChar](repeating: 0, count: 256)
        // SAFETY: gethostname writes at most name.count bytes into the array's storage.
        _ = unsafe name.withUnsafeMutableBufferPointer { unsafe gethostname($0.baseAddress!, $0.count - 1) }
        let hostBytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        hostname = hostBytes.isEmpty ? "-" : String(decoding: hostBytes, as: UTF8.self)
        processID = getpid()
    }

    deinit { close(descriptor) }

    static func errorText() -> String {
        // SAFETY: strerror returns a static NUL-terminated string, copied at once.
        unsafe String(cString: strerror(errno))
    }

    /// The RFC 5424 message for an event (facility local0; warning for findings, notice otherwise).
    public func message(_ event: AuditEvent, at time: Int64) -> String {
        let severity: Int
        switch event {
        case .ruleObserved, .unexpectedFlowCleared: severity = 5
        default: severity = 4
        }
        let e = EventText.evidence(event)
        var data = "[flowaudit@32473 event=\"\(escape(EventText.kind(event)))\" initiator=\"\(e.initiator)\" responder=\"\(e.responder)\""
            + " protocol=\"\(e.protocolName)\" state=\"\(e.state)\" communityID=\"\(escape(e.communityID))\""
        if let port = e.responderPort { data += " port=\"\(port)\"" }
        if let rule = EventText.rule(event) { data += " rule=\"\(escape(rule))\"" }
        data += "]"
        return "<\(16 * 8 + severity)>1 \(Format.timestamp(time)) \(hostname) flowaudit \(processID) \(EventText.kind(event)) \(data) "
            + EventText.line(event, at: time)
    }

    /// Param values escape `"`, `\` and `]` (RFC 5424 6.3.3).
    func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "\"" || c == "\\" || c == "]" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    public func send(_ event: AuditEvent, at time: Int64) {
        var text = message(event, at: time)
        if transport == .tcp { text = "\(text.utf8.count) " + text }
        var bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = unsafe bytes.withUnsafeMutableBytes { raw in
                // SAFETY: the pointer and count describe `bytes` from `sent` on, valid for the call.
                unsafe Glibc.send(descriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return  // the collector went away: events still reach the report
            }
            sent += n
        }
    }
}

public struct SyslogError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
