import CPcap
import Packets

/// BPF filter expressions compiled by libpcap.
enum BPFFilter {
    /// Compiles `expression` for the activated `handle` and sets it as the capture filter.
    /// The netmask is the interface's IPv4 netmask when libpcap finds one (it only matters for
    /// `ip broadcast`), else PCAP_NETMASK_UNKNOWN.
    static func install(_ expression: String, on handle: PcapHandle, interface: String) throws(LiveCaptureError) {
        var network: bpf_u_int32 = 0
        var netmask: bpf_u_int32 = 0
        var errorBuffer = PcapText.errorBuffer()
        // SAFETY: all three out-parameters outlive the call; the name is a temporary C string.
        if unsafe pcap_lookupnet(interface, &network, &netmask, &errorBuffer) != 0 {
            netmask = PCAP_NETMASK_UNKNOWN
        }
        // SAFETY: a zeroed bpf_program (null instructions), filled by pcap_compile.
        var program = unsafe bpf_program()
        // SAFETY: the handle is activated; `program` is filled by pcap_compile and freed below
        // once pcap_setfilter has copied it into the kernel (or failed).
        guard unsafe pcap_compile(handle.pointer, &program, expression, 1, netmask) == 0 else {
            throw .badFilter(expression: expression, message: handle.lastError)
        }
        defer { unsafe pcap_freecode(&program) }
        // SAFETY: as above; `program` holds the compiled code.
        guard unsafe pcap_setfilter(handle.pointer, &program) == 0 else {
            throw .activationFailed(interface: interface, status: 0,
                                    message: "cannot set filter '\(expression)': \(handle.lastError)")
        }
    }
}

extension LiveCaptureSession {
    /// Checks that libpcap compiles `expression` for `linkType`, without opening any interface,
    /// so a bad `--filter` is rejected before capturing starts. Ethernet is the usual link type;
    /// the session compiles the filter again for the interface's real link type when it opens.
    /// - Throws: ``LiveCaptureError/badFilter(expression:message:)`` with libpcap's text
    ///   (for example `can't parse filter expression: syntax error`).
    public static func validateFilter(_ expression: String, linkType: LinkType = .ethernet,
                                      snapshotLength: Int = LiveCaptureOptions.defaultSnapshotLength) throws(LiveCaptureError) {
        // SAFETY: pcap_open_dead allocates a handle that is closed by the PcapHandle's deinit.
        guard let dead = unsafe pcap_open_dead(dataLink(linkType), Int32(clamping: snapshotLength)) else {
            throw .badFilter(expression: expression, message: "libpcap could not allocate a handle")
        }
        let handle = unsafe PcapHandle(dead)
        // SAFETY: a zeroed bpf_program (null instructions), filled by pcap_compile.
        var program = unsafe bpf_program()
        // SAFETY: `handle` is alive; the program is freed right after a successful compile.
        guard unsafe pcap_compile(handle.pointer, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .badFilter(expression: expression, message: handle.lastError)
        }
        unsafe pcap_freecode(&program)
    }
}
