import CPcap

/// Text from libpcap's C strings and error buffers.
enum PcapText {
    /// A zeroed buffer of PCAP_ERRBUF_SIZE bytes for libpcap calls that report into `errbuf`.
    static func errorBuffer() -> [CChar] {
        [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    }

    /// The text of a NUL-terminated buffer (all of it when there is no NUL), decoded as UTF-8.
    static func string(_ buffer: [CChar]) -> String {
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<end].lazy.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The text of a C string libpcap owns, or nil for a null pointer.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        // SAFETY: libpcap hands out NUL-terminated strings that stay valid until the owning
        // handle or list is freed; the text is copied here before that.
        guard let pointer = unsafe pointer else { return nil }
        return unsafe String(cString: pointer)
    }

    /// `pcap_geterr`'s text for an open handle.
    static func lastError(_ handle: OpaquePointer) -> String {
        // SAFETY: `handle` is a live pcap_t; pcap_geterr returns its internal error buffer,
        // copied at once.
        unsafe string(pcap_geterr(handle)) ?? "unknown libpcap error"
    }
}
