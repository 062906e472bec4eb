import CPcap
import Packets

/// A BPF filter expression applied to the packets of capture files, as tcpdump -r applies its
/// expression: compiled by libpcap for each link type met (`pcap_open_dead` with that link
/// type, then `pcap_compile`) and run on every packet with `pcap_offline_filter`, the same
/// interpreter that filters a live capture in user space.
public final class OfflinePacketFilter: CapturePacketFilter {
    /// The expression as given.
    public let expression: String
    /// Why filtering stopped: the expression does not compile for a link type met in an input.
    public private(set) var failure: String?

    private var programs: [LinkType: CompiledProgram] = [:]
    /// The last program used, and its link type: consecutive packets nearly always share one.
    private var lastLinkType: LinkType?
    private var lastProgram: CompiledProgram?

    /// Compiles `expression` for Ethernet at once, so that an expression libpcap cannot parse is
    /// refused before any input is read; other link types are compiled when first met.
    /// - Throws: ``LiveCaptureError/badFilter(expression:message:)`` with libpcap's text.
    public init(expression: String) throws(LiveCaptureError) {
        self.expression = expression
        let ethernet = try CompiledProgram(expression: expression, linkType: .ethernet)
        programs[.ethernet] = ethernet
    }

    public func accepts(_ packet: CapturedPacket, _ data: Span<UInt8>) -> Bool {
        guard failure == nil else { return false }
        let program: CompiledProgram
        if let last = lastProgram, lastLinkType == packet.linkType {
            program = last
        } else if let known = programs[packet.linkType] {
            program = known
        } else {
            do {
                program = try CompiledProgram(expression: expression, linkType: packet.linkType)
            } catch {
                failure = "--filter '\(expression)' cannot be applied to packets of link type \(packet.linkType.rawValue) "
                    + "(\(packet.linkType.name)): \(error.message)"
                return false
            }
            programs[packet.linkType] = program
        }
        lastLinkType = packet.linkType
        lastProgram = program
        return program.matches(packet, data)
    }
}

extension LiveCaptureError {
    /// libpcap's text for a bad filter, any other error's description otherwise.
    var message: String {
        if case .badFilter(_, let message) = self { return message }
        return description
    }
}

/// One compiled BPF program, freed with its owner.
@safe
private final class CompiledProgram {
    private var program: bpf_program

    init(expression: String, linkType: LinkType) throws(LiveCaptureError) {
        // SAFETY: pcap_open_dead allocates a handle that only compiles; closed by PcapHandle's deinit.
        guard let dead = unsafe pcap_open_dead(LiveCaptureSession.dataLink(linkType), Int32(CaptureFileReader.maximumBlockLength)) else {
            throw .badFilter(expression: expression, message: "libpcap could not allocate a handle")
        }
        let handle = unsafe PcapHandle(dead)
        // SAFETY: a zeroed bpf_program (null instructions), filled by pcap_compile.
        var compiled = unsafe bpf_program()
        // SAFETY: `handle` is alive; pcap_compile fills `compiled`, which this object frees in deinit.
        guard unsafe pcap_compile(handle.pointer, &compiled, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .badFilter(expression: expression, message: handle.lastError)
        }
        unsafe program = compiled
    }

    deinit {
        // SAFETY: the program was filled by pcap_compile and is freed exactly once.
        unsafe pcap_freecode(&program)
    }

    /// Runs the program on `packet` (its captured bytes `data`): true when it accepts it.
    func matches(_ packet: CapturedPacket, _ data: Span<UInt8>) -> Bool {
        let seconds = packet.timestamp / 1_000_000_000
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(seconds)
        header.ts.tv_usec = Int((packet.timestamp - seconds * 1_000_000_000) / 1000)
        header.caplen = UInt32(clamping: data.count)
        header.len = UInt32(clamping: max(packet.originalLength, data.count))
        let zero: UInt8 = 0
        return unsafe data.withUnsafeBufferPointer { buffer in
            // SAFETY: the program reads at most `caplen` (= buffer.count) bytes from the pointer,
            // valid in this closure; an empty packet gets a valid pointer to one byte it never reads.
            unsafe withUnsafePointer(to: zero) { empty in
                unsafe pcap_offline_filter(&program, &header, buffer.baseAddress ?? empty) != 0
            }
        }
    }
}
