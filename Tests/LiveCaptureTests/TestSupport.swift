import Glibc

/// True when the tests run as root, which capturing on `lo` needs.
let runningAsRoot = geteuid() == 0

/// A UDP socket bound to 127.0.0.1 on a port the kernel picks, so the capture tests have a port
/// no other traffic uses; `send` writes datagrams to it through the loopback interface.
final class LoopbackUDPPort {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(step: "socket", code: errno) }
        var address = Self.loopback(port: 0)
        // SAFETY: `address` is a sockaddr_in local to this call, passed with its own size.
        let bound = unsafe withUnsafePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(descriptor); throw SocketError(step: "bind", code: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: as above; getsockname writes at most `length` bytes into `address`.
        let named = unsafe withUnsafeMutablePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { close(descriptor); throw SocketError(step: "getsockname", code: errno) }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    /// Sends one datagram with `payload` to this port on 127.0.0.1.
    func send(_ payload: [UInt8]) throws {
        var address = Self.loopback(port: port)
        // SAFETY: `payload`'s storage and `address` are valid for the duration of sendto.
        let sent = unsafe payload.withUnsafeBytes { bytes in
            unsafe withUnsafePointer(to: &address) { pointer in
                unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    unsafe sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == payload.count else { throw SocketError(step: "sendto", code: errno) }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}

struct SocketError: Error, CustomStringConvertible {
    var step: String
    var code: Int32
    var description: String { "\(step) failed: errno \(code)" }
}
