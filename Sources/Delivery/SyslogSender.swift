#if canImport(Glibc)
import Glibc
#endif
import Audit
import Reports
import Packets
import Synchronization

/// A syslog collector: `HOST:PORT` or `udp://HOST:PORT` (one message per datagram, RFC 5426),
/// `tcp://HOST:PORT` (octet-counting framing, RFC 6587), `tls://HOST:PORT` (the same over TLS,
/// RFC 5425). HOST is an IPv4 or IPv6 address (`[::1]:514`) or `localhost`.
public struct SyslogEndpoint: Sendable, Equatable {
    public enum Transport: String, Sendable { case udp, tcp, tls }
    public var transport: Transport
    public var address: IPAddress
    public var port: UInt16
    /// As the user wrote it.
    public var target: String

    public init(target: String) throws(SyslogError) {
        var rest = Substring(target)
        var transport = Transport.udp
        if rest.hasPrefix("tcp://") { transport = .tcp; rest = rest.dropFirst(6) }
        else if rest.hasPrefix("tls://") { transport = .tls; rest = rest.dropFirst(6) }
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
        self.address = address
        self.port = port
        self.target = target
    }
}

/// Builds RFC 5424 messages for live-audit events, with structured data.
public struct SyslogFormatter: Sendable {
    public let hostname: String
    public let processID: Int32

    public init() {
        var name = [CChar](repeating: 0, count: 256)
        // SAFETY: gethostname writes at most name.count - 1 bytes into the array's storage.
        _ = unsafe name.withUnsafeMutableBufferPointer { unsafe gethostname($0.baseAddress!, $0.count - 1) }
        let hostBytes = name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        hostname = hostBytes.isEmpty ? "-" : String(decoding: hostBytes, as: UTF8.self)
        processID = getpid()
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
}

/// The connection of a syslog sink, used by its sender thread alone. Sockets are non-blocking:
/// every wait is a poll(2) that a stop can cut short.
public final class SyslogConnection: Sendable {
    enum SendOutcome { case sent, broken, interrupted }

    struct State {
        var descriptor: Int32 = -1
        var everConnected = false
        var lastError: String?
    }

    let endpoint: SyslogEndpoint
    /// Made on the main thread, then used by the sender thread alone: the lock is never contended.
    private let state = Mutex(State())

    var descriptor: Int32 {
        get { state.withLock { $0.descriptor } }
        set { state.withLock { $0.descriptor = newValue } }
    }
    private(set) var everConnected: Bool {
        get { state.withLock { $0.everConnected } }
        set { state.withLock { $0.everConnected = newValue } }
    }
    public private(set) var lastError: String? {
        get { state.withLock { $0.lastError } }
        set { state.withLock { $0.lastError = newValue } }
    }

    /// For `tls://`: the TLS channel (swift-nio-ssl).
    private let tls: SyslogTLSChannel?

    /// - Parameter trustRoots: for `tls://`, a PEM file of the CAs to trust (nil: the system's).
    public init(endpoint: SyslogEndpoint, trustRoots: String? = nil) throws(SyslogError) {
        self.endpoint = endpoint
        if endpoint.transport == .tls {
            do { tls = try SyslogTLSChannel(trustRoots: trustRoots) } catch {
                throw SyslogError(message: "TLS set-up for \(endpoint.target): \(error)")
            }
        } else {
            tls = nil
        }
    }

    deinit { close() }

    var isConnected: Bool { tls?.isActive ?? (descriptor >= 0) }

    func close() {
        tls?.close()
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Connects (TCP: waits at most `timeout`, or until `wake` is signalled). True on success;
    /// `lastError` says why not.
    public func connect(timeout: Duration) -> Bool { connect(timeout: timeout, wake: nil) }

    func connect(timeout: Duration, wake: WakePipe?) -> Bool {
        if let tls {
            if let error = tls.connect(endpoint: endpoint, timeout: timeout) {
                lastError = error
                return false
            }
            everConnected = true
            return true
        }
        close()
        let isIPv4 = endpoint.address.isIPv4
        let type = endpoint.transport == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue
        let fd = socket(isIPv4 ? AF_INET : AF_INET6, Int32(type) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            lastError = "socket: \(errnoText(errno))"
            return false
        }
        if endpoint.transport != .udp {
            // A small send buffer: the sink's queue, which counts what it drops, is the buffer
            // that matters, not megabytes hidden in the kernel.
            var size: Int32 = 64 << 10
            // SAFETY: passes a local Int32 with its own size.
            _ = unsafe setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var result: Int32
        if isIPv4 {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = endpoint.port.bigEndian
            sa.sin_addr.s_addr = endpoint.address.ipv4Value.bigEndian
            result = unsafe withUnsafePointer(to: &sa) { pointer in
                // SAFETY: `pointer` is a valid sockaddr_in for the call; connect copies it.
                unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = endpoint.port.bigEndian
            let bytes = endpoint.address.bytes
            unsafe withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in
                // SAFETY: sin6_addr is 16 bytes and `bytes` holds 16.
                for i in 0..<16 { unsafe raw[i] = bytes[i] }
            }
            result = unsafe withUnsafePointer(to: &sa) { pointer in
                // SAFETY: `pointer` is a valid sockaddr_in6 for the call; connect copies it.
                unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        if result != 0 && errno == EINPROGRESS {
            let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            var descriptors = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0),
                               pollfd(fd: wake?.reader ?? -1, events: Int16(POLLIN), revents: 0)]
            // SAFETY: `descriptors` holds exactly the entries passed, alive for the call.
            let ready = unsafe poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready > 0 && descriptors[0].revents != 0 {
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                // SAFETY: getsockopt writes one Int32 into the local.
                _ = unsafe getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                result = code == 0 ? 0 : -1
                errno = code
            } else {
                result = -1
                errno = ETIMEDOUT
            }
        }
        guard result == 0 else {
            lastError = "cannot reach syslog collector \(endpoint.target): \(errnoText(errno))"
            Glibc.close(fd)
            return false
        }
        descriptor = fd
        everConnected = true
        return true
    }

    /// True when a stream's collector has closed or reset the connection (checked before each
    /// message, so that messages are not written into a connection the peer has left).
    private func peerHasClosed() -> Bool {
        var descriptors = [pollfd(fd: descriptor, events: Int16(POLLIN) | Int16(0x2000 /* POLLRDHUP */), revents: 0)]
        // SAFETY: `descriptors` holds exactly the 1 entry passed, alive for the call.
        guard unsafe poll(&descriptors, 1, 0) > 0 else { return false }
        let events = descriptors[0].revents
        if events & (Int16(0x2000 /* POLLRDHUP */) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { return true }
        // Data from the collector: not expected; read and ignore it.
        var buffer = [UInt8](repeating: 0, count: 4096)
        // SAFETY: recv writes at most buffer.count bytes into the array's own storage.
        let n = unsafe buffer.withUnsafeMutableBytes { unsafe recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return n == 0
    }

    /// Sends one message. Waits in poll(2) while the socket's buffer is full, checking
    /// `shouldGiveUp` every 50 ms.
    func send(_ bytes: [UInt8], wake: WakePipe, shouldGiveUp: () -> Bool) -> SendOutcome {
        if let tls {
            let outcome = tls.send(bytes, wake: wake, shouldGiveUp: shouldGiveUp)
            if outcome == .broken { lastError = "the collector \(endpoint.target) closed the TLS connection" }
            return outcome
        }
        if endpoint.transport != .udp && peerHasClosed() {
            lastError = "the collector \(endpoint.target) closed the connection"
            close()
            return .broken
        }
        var sent = 0
        while sent < bytes.count {
            let n = SystemCall.retrying {
                unsafe bytes.withUnsafeBytes { raw in
                    // SAFETY: the pointer and count describe `bytes` from `sent` on, valid for the call.
                    unsafe Glibc.send(descriptor, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                }
            }
            if n >= 0 {
                sent += n
                continue
            }
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK {
                if shouldGiveUp() {
                    if sent > 0 { close() }  // a partial frame: the connection is no use any more
                    return .interrupted
                }
                var descriptors = [pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0),
                                   pollfd(fd: wake.reader, events: Int16(POLLIN), revents: 0)]
                // SAFETY: `descriptors` holds exactly the 2 entries passed, alive for the call.
                _ = unsafe poll(&descriptors, 2, 50)
                if descriptors[1].revents != 0 { wake.drain() }
                continue
            }
            lastError = "sending to \(endpoint.target): \(errnoText(code)) (errno \(code))"
            if endpoint.transport != .udp { close() }
            return .broken
        }
        return .sent
    }
}

public struct SyslogError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
