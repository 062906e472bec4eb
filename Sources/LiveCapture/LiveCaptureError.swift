/// Why a live capture could not be listed, opened, filtered or continued, or why privileges could
/// not be dropped. Each case carries the interface (or user) and libpcap's own text where libpcap
/// gave one; `description` is the message for the user (the command exits with status 2).
public enum LiveCaptureError: Error, Equatable, Sendable {
    /// `pcap_findalldevs` failed.
    case listingFailed(message: String)
    /// The interface does not exist; `available` lists what `pcap_findalldevs` sees.
    case noSuchInterface(interface: String, available: [String], message: String)
    /// Opening the interface for capture was refused (PCAP_ERROR_PERM_DENIED).
    case permissionDenied(interface: String, message: String)
    /// Promiscuous mode was refused (PCAP_ERROR_PROMISC_PERM_DENIED).
    case promiscuousPermissionDenied(interface: String, message: String)
    /// The interface exists but is down (PCAP_ERROR_IFACE_NOT_UP).
    case interfaceNotUp(interface: String, message: String)
    /// libpcap could not compile the BPF expression; `message` is `pcap_geterr`'s text.
    case badFilter(expression: String, message: String)
    /// An option value that libpcap cannot take (a snapshot length of 0, a negative buffer size).
    case badOption(name: String, value: String, reason: String)
    /// Any other failure of `pcap_create`/`pcap_activate`/`pcap_setfilter`: libpcap's status code
    /// (0 when there is none) and text.
    case activationFailed(interface: String, status: Int32, message: String)
    /// `pcap_stats` failed.
    case statisticsFailed(interface: String, message: String)
    /// `--user`: no such user in the password database.
    case userNotFound(user: String)
    /// `--user`: a step of giving up root failed (`step` is the call, e.g. `setuid`).
    case dropPrivilegesFailed(user: String, step: String, errno: Int32, message: String)
}

extension LiveCaptureError: CustomStringConvertible {
    /// What the capture needs when libpcap refuses to open an interface.
    public static let privilegeHint =
        "capturing needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN " +
        "(for example: setcap cap_net_raw,cap_net_admin=eip /path/to/flowaudit)"

    public var description: String {
        switch self {
        case .listingFailed(let message):
            return "cannot list capture interfaces: \(message)"
        case .noSuchInterface(let interface, let available, let message):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "no such interface '\(interface)' (\(message)); available interfaces: \(list)"
        case .permissionDenied(let interface, let message):
            return "no permission to capture on interface '\(interface)' (\(message)); \(Self.privilegeHint)"
        case .promiscuousPermissionDenied(let interface, let message):
            return "no permission to put interface '\(interface)' in promiscuous mode (\(message)); " +
                "\(Self.privilegeHint), or capture without --promiscuous"
        case .interfaceNotUp(let interface, let message):
            return "interface '\(interface)' is not up (\(message))"
        case .badFilter(let expression, let message):
            return "bad capture filter '\(expression)': \(message)"
        case .badOption(let name, let value, let reason):
            return "bad value '\(value)' for \(name): \(reason)"
        case .activationFailed(let interface, let status, let message):
            let code = status == 0 ? "" : " [libpcap status \(status)]"
            return "cannot capture on interface '\(interface)': \(message)\(code)"
        case .statisticsFailed(let interface, let message):
            return "cannot read capture statistics of interface '\(interface)': \(message)"
        case .userNotFound(let user):
            return "cannot drop privileges: no user named '\(user)'"
        case .dropPrivilegesFailed(let user, let step, let errno, let message):
            return "cannot drop privileges to user '\(user)': \(step) failed: \(message) (errno \(errno))"
        }
    }
}
