// Audits of small captures built with PacketBuilder, for the renderers to render: a rule file
// and site written to a temporary folder, a pcap of the frames, the Auditor run on it.
// Hostile text reaches the report the ways a capture or a policy can put it there: a DNS
// answer's owner name (quotes, commas, a backslash; line feeds, control bytes and non-ASCII
// bytes come out as RFC 4343 `\DDD` escapes), a TLS server name (quotes, commas, backslash),
// and rule text from the YAML rule file (line feeds, tabs, a control character, quotes,
// commas, non-ASCII characters as they are).

import Audit
import Foundation
import PacketBuilder
import Packets
import Policy
import Testing

enum Fixture {
    static let second: Int64 = 1_000_000_000
    /// 2023-11-14T22:13:20Z.
    static let t0: Int64 = 1_700_000_000 * second

    static let app = IPAddress("10.1.0.10")!
    static let directory = IPAddress("10.1.0.2")!
    static let resolver = IPAddress("10.1.0.53")!
    static let licenseAddress = IPAddress("198.18.0.7")!
    static let hostileAddress = IPAddress("198.51.100.77")!
    static let sniAddress = IPAddress("198.51.100.88")!
    static let busyAddress = IPAddress("203.0.113.5")!
    static let refusingAddress = IPAddress("203.0.113.9")!

    /// The owner name a DNS answer gives `hostileAddress`, as UTF-8 label bytes: a quote, a
    /// comma, a backslash, a line feed, a control byte and a non-ASCII letter.
    static let hostileDNSName = "we\"ird,ho\\st\nx\u{01}é.example"
    /// The name the report carries for it: lower case, the bytes outside printable ASCII (and
    /// `\` itself) written `\DDD` / `\\` as RFC 4343 2.1 asks.
    static let hostileDNSNameInReport = "we\"ird,ho\\\\st\\010x\\001\\195\\169.example"
    /// A TLS server name with the bytes SNI allows that CSV and JSON must quote or escape.
    static let hostileSNI = "evil\",sni\\name.example"

    /// Rule text with what the YAML file can carry: a quote, commas, a line feed, a tab, a
    /// control character (YAML's `\x01`), non-ASCII letters, an emoji.
    static let hostilePurpose = "Directory \"lookups\", LDAP\nsecond line\twith tab \u{01} ctrl — é 日本 😀"
    static let hostileRef = "Ports, row 2 \"quoted\""

    static let ruleFile = """
    system: demo
    title: Demo product
    source: Demo network requirements
    tls-minimum: "1.2"
    roles:
      app: { description: App server, monitored: true }
      license: { description: License server, names: [license.vendor.example] }
      directory: { description: Directory }
      clients: { description: Clients }
    rules:
      - id: license
        purpose: License check
        from: app
        to: license
        services: [tcp/443]
        required: true
        ref: "Ports, row 1"
      - id: ldap
        purpose: "Directory \\"lookups\\", LDAP\\nsecond line\\twith tab \\x01 ctrl — é 日本 😀"
        from: app
        to: directory
        services: [tcp/389, tcp/636]
        required: true
        ref: "Ports, row 2 \\"quoted\\""
      - id: backup
        purpose: Backups, nightly
        from: app
        to: directory
        services: [tcp/873]
        required: true
        ref: "Ports, row 4"
      - id: portal
        purpose: Portal
        from: clients
        to: app
        services: [tcp/8443]
        ref: "Ports, row 3"
    """

    static let site = """
    site: test
    rules: [demo.yaml]
    roles:
      app: [10.1.0.10]
      directory: [10.1.0.2]
      clients: [10.2.0.0/24]
    """

    static let talk = Conversation()

    static func dnsAnswer() -> [TimedFrame] {
        let answer = DNSPayload(flags: 0x8180, questions: [.init(name: "license.vendor.example")], answers: [
            .a("license.vendor.example", licenseAddress),
            .a(hostileDNSName, hostileAddress),
        ], compress: false).bytes()
        return talk.udpExchange(client: Endpoint(app, 40000), server: Endpoint(resolver, 53), at: t0,
                                request: DNSPayload.query(name: "license.vendor.example").bytes(), response: answer)
    }

    static func licenseSession() -> [TimedFrame] {
        talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(licenseAddress, 443), at: t0 + second,
                        clientData: [TLSPayload.clientHello(serverName: "license.vendor.example")],
                        serverData: [TLSPayload.serverHello(legacyVersion: .tls12, selectedVersion: .tls13)])
    }

    /// A TLS 1.0 session to the license server: allowed, with a tls-below-minimum advisory.
    static func legacyLicenseSession() -> [TimedFrame] {
        talk.tcpSession(client: Endpoint(app, 40008), server: Endpoint(licenseAddress, 443), at: t0 + 8 * second,
                        clientData: [TLSPayload.legacyClientHello(serverName: "license.vendor.example", version: .tls10)],
                        serverData: [TLSPayload.serverHello(legacyVersion: .tls10)])
    }

    /// One flow to the address the hostile DNS name names: an unexpected group of one flow.
    static func hostileSession() -> [TimedFrame] {
        talk.tcpSession(client: Endpoint(app, 40002), server: Endpoint(hostileAddress, 8080), at: t0 + 2 * second)
    }

    /// One TLS flow whose ClientHello names the hostile server name: an unexpected group.
    static func sniSession() -> [TimedFrame] {
        talk.tcpSession(client: Endpoint(app, 40003), server: Endpoint(sniAddress, 443), at: t0 + 3 * second,
                        clientData: [TLSPayload.clientHello(serverName: hostileSNI)],
                        serverData: [TLSPayload.serverHello(legacyVersion: .tls12, selectedVersion: .tls13)])
    }

    /// Two flows to the same unexpected service: a group of two.
    static func busySessions() -> [TimedFrame] {
        TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40004), server: Endpoint(busyAddress, 9000), at: t0 + 4 * second),
            talk.tcpSession(client: Endpoint(app, 40005), server: Endpoint(busyAddress, 9000), at: t0 + 5 * second),
        ])
    }

    /// LDAP refused by the directory's RST: `demo/ldap` blocked.
    static func ldapRefused() -> [TimedFrame] {
        talk.tcpRejected(client: Endpoint(app, 40006), server: Endpoint(directory, 389), at: t0 + 6 * second)
    }

    /// SMTP nobody answered: an unexpected attempt.
    static func unansweredAttempt() -> [TimedFrame] {
        talk.tcpUnanswered(client: Endpoint(app, 40007), server: Endpoint(refusingAddress, 25), at: t0 + 7 * second)
    }

    /// Every conversation above: findings of every kind but no-scope. Rules: license observed,
    /// ldap blocked, backup missing, portal not seen; unexpected: the DNS query, the hostile
    /// name's flow, the SNI flow, the busy pair; one attempt; one advisory.
    static func fullCapture() -> [TimedFrame] {
        TimedFrame.merge([dnsAnswer(), licenseSession(), hostileSession(), sniSession(), busySessions(),
                          ldapRefused(), unansweredAttempt(), legacyLicenseSession()])
    }
}

/// A folder holding the policy and captures of one test; removed when the value goes.
final class Workspace {
    let folder: URL
    var sitePath: String { folder.appendingPathComponent("site.yaml").path }
    var rulePath: String { folder.appendingPathComponent("demo.yaml").path }

    init(ruleFile: String = Fixture.ruleFile, site: String = Fixture.site) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ruleFile.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
        try site.write(to: folder.appendingPathComponent("site.yaml"), atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func loadPolicy() throws -> Policy {
        let loaded = PolicyLoader().load(site: sitePath, rules: [])
        #expect(!loaded.hasErrors, "\(loaded.diagnostics)")
        return loaded.policy
    }

    /// Writes `frames` as `name` (a pcap) and audits it (with `more` captures after it) as
    /// `flowaudit audit` does, with the policy files' digests in the evidence.
    func audit(_ frames: [TimedFrame], name: String = "capture.pcap", more: [String] = []) throws -> AuditReport {
        var writer = PcapWriter()
        for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
        try writer.write(to: path(name))
        let policy = try loadPolicy()
        let auditor = Auditor(policy: CompiledPolicy(policy))
        let paths = [path(name)] + more.map(path)
        let inputs = auditor.run(paths: paths)
        let evidence = zip(inputs, paths).map { input, path in
            InputEvidence(report: input, sha256: FileDigest.sha256(path: path)?.digest, size: nil)
        }
        let policyFiles = [PolicyFileEvidence(path: sitePath, kind: "site", sha256: FileDigest.sha256(path: sitePath)?.digest),
                           PolicyFileEvidence(path: rulePath, kind: "rules", sha256: FileDigest.sha256(path: rulePath)?.digest)]
        return auditor.report(inputs: evidence, policyFiles: policyFiles, policyWarnings: [],
                              commandLine: ["flowaudit", "audit", name], toolVersion: "test")
    }
}

/// The finding categories `flowaudit audit` fails on by default.
let defaultFailOn: Set<FindingCategory> = [.unexpected, .missing, .blocked, .noScope]

/// An RFC 4180 reader written for these tests, strict where the RFC is: a field is either
/// plain (no quote, comma, CR or LF in it) or enclosed in double quotes with its quotes doubled;
/// records end in CRLF (the last one may end without it). Anything else is an error naming the
/// byte offset.
enum RFC4180 {
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var problem: String
        var description: String { "CSV byte \(offset): \(problem)" }
    }

    static func parse(_ text: String) throws -> [[String]] {
        let bytes = Array(text.utf8)
        var records: [[String]] = []
        var record: [String] = []
        var index = 0
        func field(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
        guard !bytes.isEmpty else { return [] }
        while true {
            var value: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                while true {
                    guard index < bytes.count else { throw Malformed(offset: index, problem: "unterminated quoted field") }
                    if bytes[index] == UInt8(ascii: "\"") {
                        if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                            value.append(UInt8(ascii: "\"")); index += 2; continue
                        }
                        index += 1
                        break
                    }
                    value.append(bytes[index]); index += 1
                }
            } else {
                while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != 0x0D {
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") || b == 0x0A { throw Malformed(offset: index, problem: "quote or line feed in an unquoted field") }
                    value.append(b); index += 1
                }
            }
            record.append(field(value[...]))
            if index == bytes.count { records.append(record); return records }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                throw Malformed(offset: index, problem: "expected a comma or CRLF after a field")
            }
            index += 2
            records.append(record)
            record = []
            if index == bytes.count { return records }
        }
    }
}

/// Parses JSON with Foundation's parser, a second reader independent of `JSONValue`.
func foundationJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
