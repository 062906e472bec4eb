import CPcap
import Glibc
import Packets

/// One interface as `pcap_findalldevs` lists it.
public struct LiveInterface: Sendable, Equatable {
    /// One address of an interface. `netmask`, `broadcast` and `destination` are absent when
    /// libpcap has none (or they are not IPv4/IPv6).
    public struct Address: Sendable, Equatable {
        public var address: IPAddress
        public var netmask: IPAddress?
        public var broadcast: IPAddress?
        /// The other end of a point-to-point link.
        public var destination: IPAddress?

        public init(address: IPAddress, netmask: IPAddress? = nil, broadcast: IPAddress? = nil,
                    destination: IPAddress? = nil) {
            self.address = address
            self.netmask = netmask
            self.broadcast = broadcast
            self.destination = destination
        }
    }

    /// The name to pass to `--interface`, e.g. `eth0`.
    public var name: String
    /// libpcap's human-readable description, when it has one.
    public var description: String?
    /// IPv4 and IPv6 addresses (link-layer addresses are left out).
    public var addresses: [Address]
    public var isUp: Bool
    public var isRunning: Bool
    public var isLoopback: Bool
    public var isWireless: Bool

    public init(name: String, description: String? = nil, addresses: [Address] = [],
                isUp: Bool = false, isRunning: Bool = false, isLoopback: Bool = false,
                isWireless: Bool = false) {
        self.name = name
        self.description = description
        self.addresses = addresses
        self.isUp = isUp
        self.isRunning = isRunning
        self.isLoopback = isLoopback
        self.isWireless = isWireless
    }

    /// The interfaces libpcap can capture on, in `pcap_findalldevs` order. Listing needs no
    /// privileges, but without them some interfaces may be missing.
    public static func interfaces() throws(LiveCaptureError) -> [LiveInterface] {
        var errorBuffer = PcapText.errorBuffer()
        var list: UnsafeMutablePointer<pcap_if_t>? = nil
        // SAFETY: `list` and `errorBuffer` (PCAP_ERRBUF_SIZE bytes) outlive the call.
        guard unsafe pcap_findalldevs(&list, &errorBuffer) == 0 else {
            throw .listingFailed(message: PcapText.string(errorBuffer))
        }
        // SAFETY: the list came from pcap_findalldevs just above and is freed exactly once, after
        // every entry has been copied into Swift values.
        defer { unsafe pcap_freealldevs(list) }
        var result: [LiveInterface] = []
        var entry = unsafe list
        // SAFETY: each `entry` is a node of the list libpcap built; `next` is nil at the end.
        while let node = unsafe entry {
            let device = unsafe node.pointee
            let flags = unsafe device.flags
            let interface = LiveInterface(
                name: unsafe PcapText.string(device.name) ?? "",
                description: unsafe PcapText.string(device.description),
                addresses: unsafe addresses(device.addresses),
                isUp: flags & UInt32(PCAP_IF_UP) != 0,
                isRunning: flags & UInt32(PCAP_IF_RUNNING) != 0,
                isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0,
                isWireless: flags & UInt32(PCAP_IF_WIRELESS) != 0)
            result.append(interface)
            unsafe entry = device.next
        }
        return result
    }

    /// The IPv4 and IPv6 entries of a `pcap_addr` list.
    private static func addresses(_ first: UnsafeMutablePointer<pcap_addr>?) -> [Address] {
        var result: [Address] = []
        var entry = unsafe first
        // SAFETY: a node of the address list of a pcap_if_t that is still allocated.
        while let node = unsafe entry {
            let item = unsafe node.pointee
            if let address = unsafe ipAddress(item.addr) {
                result.append(Address(address: address,
                                      netmask: unsafe ipAddress(item.netmask),
                                      broadcast: unsafe ipAddress(item.broadaddr),
                                      destination: unsafe ipAddress(item.dstaddr)))
            }
            unsafe entry = item.next
        }
        return result
    }

    /// The address in a `sockaddr` when it is AF_INET or AF_INET6, else nil.
    static func ipAddress(_ socketAddress: UnsafeMutablePointer<sockaddr>?) -> IPAddress? {
        // SAFETY: libpcap allocates each sockaddr with the full size of its family
        // (sockaddr_in or sockaddr_in6), so rebinding to that family's struct reads only
        // allocated bytes.
        guard let pointer = unsafe socketAddress else { return nil }
        switch Int32(unsafe pointer.pointee.sa_family) {
        case AF_INET:
            let value = unsafe UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in.self).sin_addr.s_addr
            return IPAddress(ipv4: UInt32(bigEndian: value))
        case AF_INET6:
            let address = unsafe UnsafeRawPointer(pointer).loadUnaligned(as: sockaddr_in6.self).sin6_addr
            var high: UInt64 = 0
            var low: UInt64 = 0
            // SAFETY: the closure only reads the 16 bytes of the local in6_addr copy.
            unsafe withUnsafeBytes(of: address) { bytes in
                for index in 0..<8 { high = high << 8 | UInt64(unsafe bytes[index]) }
                for index in 8..<16 { low = low << 8 | UInt64(unsafe bytes[index]) }
            }
            return IPAddress(high: high, low: low)
        default:
            return nil
        }
    }
}
