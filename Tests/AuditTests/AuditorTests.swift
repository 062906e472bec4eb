import Foundation
import PacketBuilder
import Packets
import Policy
import Testing
@testable import Audit

/// A small rule file: a monitored app server that must reach a license server by name on
/// tcp/443 and a directory on tcp/389 (with LDAPS preferred), and may receive tcp/8443.
let ruleFile = """
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
    purpose: Directory lookups
    from: app
    to: directory
    services: [tcp/389, tcp/636]
    required: true
    ref: "Ports, row 2"
  - id: portal
    purpose: Portal
    from: clients
    to: app
    services: [tcp/8443]
    ref: "Ports, row 3"
prefer:
  - { id: ldaps, avoid: tcp/389, use: tcp/636, reason: "Use LDAPS" }
"""

let app = IPAddress("10.1.0.10")!
let directory = IPAddress("10.1.0.2")!
let clientHost = IPAddress("10.2.0.50")!
let resolver = IPAddress("10.1.0.53")!
let licenseAddress = IPAddress("198.18.0.7")!  // not bound by the site: only DNS or SNI can name it

/// Writes the rule file, a site and a capture of `frames` into a temporary folder, audits them
/// and returns the report.
func audit(_ frames: [TimedFrame]) throws -> AuditReport {
    let policy = try demoPolicy()
    let capture = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-audit-\(UUID().uuidString).pcap").path
    defer { try? FileManager.default.removeItem(atPath: capture) }
    var writer = PcapWriter()
    for frame in frames { writer.append(frame.frame, timestamp: frame.timestamp) }
    try writer.write(to: capture)
    let auditor = Auditor(policy: policy)
    let inputs = auditor.run(paths: [capture])
    return auditor.report(inputs: inputs.map { InputEvidence(report: $0, sha256: nil, size: nil) }, policyFiles: [],
                          policyWarnings: [], commandLine: [], toolVersion: "test")
}

func status(_ report: AuditReport, _ id: String) -> RuleStatus? {
    report.rules.first { $0.qualifiedID == id }?.status
}

let talk = Conversation()
let s: Int64 = 1_000_000_000
let t0: Int64 = 1_700_000_000 * s

@Suite struct AuditorTests {
    @Test func namesFromDNSWithCNAMEChainBindARoleByName() throws {
        let answer = DNSPayload.response(name: "license.vendor.example", answers: [
            .cname("license.vendor.example", "lic.cdn.example"), .a("lic.cdn.example", licenseAddress),
        ]).bytes()
        let frames = TimedFrame.merge([
            talk.udpExchange(client: Endpoint(app, 40000), server: Endpoint(resolver, 53), at: t0,
                             request: DNSPayload.query(name: "license.vendor.example").bytes(), response: answer),
            talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(licenseAddress, 443), at: t0 + s),
        ])
        let report = try audit(frames)
        #expect(status(report, "demo/license") == .observed)
        // The DNS query itself is in scope and allowed by nothing.
        #expect(report.unexpected.map(\.service) == ["udp/53"])
    }

    @Test func aDNSAnswerAfterTheFlowStillBindsItInAFileAudit() throws {
        let answer = DNSPayload.response(name: "license.vendor.example", answers: [.a("license.vendor.example", licenseAddress)]).bytes()
        let frames = TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(licenseAddress, 443), at: t0),
            talk.udpExchange(client: Endpoint(app, 40000), server: Endpoint(resolver, 53), at: t0 + 30 * s,
                             request: DNSPayload.query(name: "license.vendor.example").bytes(), response: answer),
        ])
        let report = try audit(frames)
        #expect(status(report, "demo/license") == .observed)
        #expect(!report.unexpected.contains { $0.responder == licenseAddress })
    }

    @Test func sniAndTLSVersionFromTheHandshake() throws {
        let frames = talk.tcpSession(client: Endpoint(app, 40002), server: Endpoint(licenseAddress, 443), at: t0,
                                     clientData: [TLSPayload.legacyClientHello(serverName: "license.vendor.example", version: .tls10)],
                                     serverData: [TLSPayload.serverHello(legacyVersion: .tls10)])
        let report = try audit(frames)
        #expect(status(report, "demo/license") == .observed)
        #expect(report.advisories.map(\.kind) == [.tlsBelowMinimum])
        #expect(report.advisories.first?.message.contains("TLS 1.0 negotiated") == true)
    }

    @Test func blockedAttemptsNameWhoRefused() throws {
        let firewall = IPAddress("10.1.0.1")!
        let frames = TimedFrame.merge([
            talk.tcpUnreachable(client: Endpoint(app, 40003), server: Endpoint(directory, 389), firewall: firewall, at: t0, code: 13),
            talk.tcpRejected(client: Endpoint(app, 40004), server: Endpoint(directory, 636), at: t0 + s),
        ])
        let report = try audit(frames)
        let ldap = try #require(report.rules.first { $0.qualifiedID == "demo/ldap" })
        #expect(ldap.status == .blocked && ldap.attemptedFlows == 2)
        let refusals = ldap.blockedExamples.compactMap(\.refusal).sorted()
        #expect(refusals == ["refused by ICMP destination unreachable: administratively prohibited (3/13) from 10.1.0.1",
                             "refused by RST from 10.1.0.2"])
        #expect(status(report, "demo/license") == .missing)
        #expect(report.counts[.blocked] == 1 && report.counts[.missing] == 1)
    }

    @Test func oneSidedCaptureIsNotBlocked() throws {
        // Only the app's packets of an established session are in the capture (a half-mirrored
        // port): its acknowledgements advance, so the directory was answering.
        let session = talk.tcpMidstream(client: Endpoint(app, 40005), server: Endpoint(directory, 636), at: t0,
                                        clientData: [[1, 2, 3]], serverData: [[4, 5, 6, 7], [8, 9]])
        let fromApp = session.filter { frame in
            var packet = DecodedPacket()
            _ = PacketDecoder.decode(frame.frame.span, linkType: .ethernet, wireLength: frame.frame.count, into: &packet)
            return packet.source == app
        }
        #expect(fromApp.count >= 2)
        let report = try audit(fromApp)
        let ldap = try #require(report.rules.first { $0.qualifiedID == "demo/ldap" })
        #expect(ldap.status == .observed)
        #expect(ldap.oneSidedFlows == 1)
        #expect(report.oneSidedFlows == 1)
    }

    @Test func midstreamFlowIsOrientedByTheRules() throws {
        // The capture starts mid-connection and the directory's packet comes first; the port
        // heuristic alone would agree here, so use a portal flow whose client port is lower
        // than 8443's... the rules say clients initiate to the app on 8443.
        let session = talk.tcpMidstream(client: Endpoint(clientHost, 9000), server: Endpoint(app, 8443), at: t0,
                                        clientData: [[1]], serverData: [[2]])
        let report = try audit(Array(session.reversed()).enumerated().map { TimedFrame(timestamp: t0 + Int64($0.offset), frame: $0.element.frame) })
        let portal = try #require(report.rules.first { $0.qualifiedID == "demo/portal" })
        #expect(portal.status == .observed)
        #expect(portal.example?.initiator == clientHost && portal.example?.initiatorReason == "rule")
    }

    @Test func unexpectedFlowsGroupWithNearestRuleAndAttemptsApart() throws {
        let frames = TimedFrame.merge([
            talk.tcpSession(client: Endpoint(app, 40010), server: Endpoint(directory, 3268), at: t0),
            talk.tcpSession(client: Endpoint(app, 40011), server: Endpoint(directory, 3268), at: t0 + s),
            talk.tcpUnanswered(client: Endpoint(app, 40012), server: Endpoint(IPAddress("203.0.113.9")!, 25), at: t0 + 2 * s),
            talk.tcpSession(client: Endpoint(app, 40013), server: Endpoint(directory, 389), at: t0 + 3 * s),
        ])
        let report = try audit(frames)
        #expect(report.unexpected.count == 1)
        let group = try #require(report.unexpected.first)
        #expect(group.flows == 2 && group.service == "tcp/3268" && group.responder == directory)
        #expect(group.nearestRule?.contains("demo/ldap") == true && group.nearestRule?.contains("3268") == true)
        #expect(report.attempts.map(\.service) == ["tcp/25"])
        #expect(report.advisories.map(\.kind) == [.preferred])
    }

    @Test func malformedDNSIsCountedNotTrusted() throws {
        let frames = talk.udpExchange(client: Endpoint(app, 40020), server: Endpoint(resolver, 53), at: t0,
                                      request: DNSPayload.query(name: "x.example").bytes(), response: DNSPayload.pointerLoop())
        let report = try audit(frames)
        #expect(report.malformedMessages.values.reduce(0, +) == 1)
        #expect(report.namesLearned == 0)
    }

    @Test func sniThatDisagreesWithDNSIsFlagged() throws {
        let answer = DNSPayload.response(name: "license.vendor.example", answers: [.a("license.vendor.example", licenseAddress)]).bytes()
        let frames = TimedFrame.merge([
            talk.udpExchange(client: Endpoint(app, 40000), server: Endpoint(resolver, 53), at: t0,
                             request: DNSPayload.query(name: "license.vendor.example").bytes(), response: answer),
            talk.tcpSession(client: Endpoint(app, 40001), server: Endpoint(licenseAddress, 443), at: t0 + s,
                            clientData: [TLSPayload.clientHello(serverName: "other.example")]),
            talk.tcpSession(client: Endpoint(app, 40002), server: Endpoint(licenseAddress, 443), at: t0 + 2 * s,
                            clientData: [TLSPayload.clientHello(serverName: "license.vendor.example")]),
        ])
        let report = try audit(frames)
        let mismatches = report.advisories.filter { $0.kind == .sniMismatch }
        #expect(mismatches.count == 1)
        #expect(mismatches.first?.message.contains("'other.example'") == true)
        #expect(status(report, "demo/license") == .observed)
    }
}
