import Packets

/// Where a name for an address came from.
public enum NameSource: String, Sendable, Hashable, Comparable {
    case site
    case dns
    case sni
    case httpHost = "http-host"

    public static func < (a: NameSource, b: NameSource) -> Bool { a.rawValue < b.rawValue }
}

/// One name known for an address, with where it came from and when it holds.
public struct NameBinding: Sendable, Hashable {
    public var name: String
    public var source: NameSource
    /// Capture time (ns) the binding was first seen.
    public var firstSeen: Int64
    /// Capture time (ns) until which it holds: the answer's TTL plus the grace period, renewed
    /// by each new answer. `Int64.max` for static names.
    public var validUntil: Int64
}

/// What the name table and the per-message DNS limits left out.
public struct NameTableStatistics: Sendable, Equatable {
    /// Bindings not stored: the address already had `maximumNamesPerAddress` names, or the
    /// table held `maximumAddresses` addresses.
    public var droppedBindings: Int = 0
    /// DNS responses that hit a ``DNSNameLimits`` bound.
    public var dnsMessagesCut: Int = 0
    /// Totals of ``DNSNameCuts`` over all responses.
    public var dnsAddressRecordsCut: Int = 0
    public var dnsAliasesCut: Int = 0
    public var dnsChainsCut: Int = 0
    public var dnsNamesCut: Int = 0

    public init() {}
}

/// Names learned from the capture (DNS answers, SNI, HTTP Host) and the site file, per address.
/// Bounded: at most `maximumNamesPerAddress` names per address and `maximumAddresses` addresses;
/// what does not fit is counted, not stored. One DNS response binds at most what
/// ``dnsLimits`` lets through (64 addresses × 32 names by default), counted in ``statistics``.
public struct NameTable: Sendable {
    public private(set) var bindings: [IPAddress: [NameBinding]] = [:]
    /// Seconds a DNS binding outlives its TTL.
    public var graceNanoseconds: Int64
    public var maximumNamesPerAddress = 32
    public var maximumAddresses = 1 << 18
    public var dropped: Int { statistics.droppedBindings }
    /// Bounds on what one DNS response binds.
    public var dnsLimits = DNSNameLimits()
    public private(set) var statistics = NameTableStatistics()
    /// Bumped whenever a binding is added or extended: verdicts cached under an older
    /// generation may have missed a name.
    public private(set) var generation: Int = 0

    public init(graceSeconds: Int) {
        graceNanoseconds = Int64(graceSeconds) * 1_000_000_000
    }

    /// Binds `name` to `address` from `source` at capture time `time` for `ttl` seconds (+ grace).
    public mutating func bind(_ name: String, to address: IPAddress, source: NameSource, at time: Int64, ttl: UInt32?) {
        let name = HostName.normalise(name)
        guard !name.isEmpty else { return }
        let until = ttl.map { Self.saturatingSum(time, Int64($0) * 1_000_000_000, graceNanoseconds) } ?? Int64.max
        generation &+= 1
        if var list = bindings[address] {
            if let i = list.firstIndex(where: { $0.name == name && $0.source == source }) {
                list[i].validUntil = max(list[i].validUntil, until)
                list[i].firstSeen = min(list[i].firstSeen, time)
            } else if list.count < maximumNamesPerAddress {
                list.append(NameBinding(name: name, source: source, firstSeen: time, validUntil: until))
            } else {
                statistics.droppedBindings &+= 1
                return
            }
            bindings[address] = list
        } else {
            guard bindings.count < maximumAddresses else {
                statistics.droppedBindings &+= 1
                return
            }
            bindings[address] = [NameBinding(name: name, source: source, firstSeen: time, validUntil: until)]
        }
    }

    /// Counts what the DNS limits cut from one response.
    public mutating func record(_ cuts: DNSNameCuts) {
        guard !cuts.isEmpty else { return }
        statistics.dnsMessagesCut &+= 1
        statistics.dnsAddressRecordsCut &+= cuts.addresses
        statistics.dnsAliasesCut &+= cuts.aliases
        statistics.dnsChainsCut &+= cuts.chains
        statistics.dnsNamesCut &+= cuts.names
    }

    /// a + b + c, saturating at the ends of `Int64` (times come from the input).
    static func saturatingSum(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        saturatingSum(saturatingSum(a, b), c)
    }

    @inline(__always)
    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : sum
    }

    /// Names of `address` that hold at some moment of [from, to] (a flow's lifetime, widened
    /// backwards by the grace period: applications cache answers).
    public func names(of address: IPAddress, from: Int64, to: Int64) -> [String] {
        guard let list = bindings[address] else { return [] }
        var out: [String] = []
        for binding in list where binding.validUntil >= from && binding.firstSeen <= Self.saturatingSum(to, graceNanoseconds) {
            if !out.contains(binding.name) { out.append(binding.name) }
        }
        return out
    }

    /// Names DNS answers gave `address` that hold at some moment of [from, to].
    public func dnsNames(of address: IPAddress, from: Int64, to: Int64) -> [String] {
        guard let list = bindings[address] else { return [] }
        return list.filter { $0.source == .dns && $0.validUntil >= from && $0.firstSeen <= Self.saturatingSum(to, graceNanoseconds) }.map(\.name)
    }

    /// Every binding of `address`, sorted by name.
    public func allBindings(of address: IPAddress) -> [NameBinding] {
        (bindings[address] ?? []).sorted { ($0.name, $0.source) < ($1.name, $1.source) }
    }
}

extension NameTable {
    /// Binds each address a DNS response answers to its names (CNAME chains followed, within
    /// `dnsLimits`). Queries are ignored.
    /// - Returns: the parser's error for a message it could not read, nil otherwise.
    mutating func learn(dnsPayload payload: Span<UInt8>, tcp: Bool, at time: Int64) -> DNSError? {
        do {
            let message = tcp ? try DNSMessage.parse(tcpPayload: payload) : try DNSMessage.parse(payload)
            guard message.isResponse else { return nil }
            var cuts = DNSNameCuts()
            for answer in message.addressNames(limits: dnsLimits, cuts: &cuts) {
                for name in answer.names { bind(name, to: answer.address, source: .dns, at: time, ttl: answer.ttl) }
            }
            record(cuts)
            return nil
        } catch {
            return error
        }
    }
}
