// PacketExtraction (`flowaudit extract`, docs/report.md "Extracting a finding's packets"): the
// findings of an audited capture are metered again, each finding keeps exactly its flows, and
// the written pcap of a finding holds exactly the frames of those flows.

import Audit
import Flows
import Foundation
import PacketBuilder
import Packets
import Policy
import Reports
import Testing
import Workflows

struct PacketExtractionTests {
    @Test func eachFindingKeepsItsFlowsAndWritesTheirFrames() throws {
        let workspace = try Workspace()
        let report = try workspace.audit(Fixture.fullCapture())
        let capture = workspace.path("capture.pcap")
        let findings = ExtractableFinding.all(in: report, blockedOnly: false)
        // Four unexpected groups (DNS, hostile name, SNI, the busy pair), one attempt, one rule
        // with a refused attempt (demo/ldap).
        #expect(findings.map(\.kind) == [.unexpected, .unexpected, .unexpected, .unexpected, .attempt, .blocked])
        let busy = try #require(findings.firstIndex { $0.title.hasPrefix("\(Fixture.app) -> \(Fixture.busyAddress) ") })
        let ldap = try #require(findings.firstIndex { $0.id == "demo/ldap" })

        let extraction = PacketExtraction(paths: [capture], meter: FlowMeterConfiguration(),
                                          policy: CompiledPolicy(try workspace.loadPolicy()), reading: CaptureRun.Reading(),
                                          targets: findings.count, target: { flow in findings.indices.filter { findings[$0].matches(flow) } })
        #expect(extraction.flows[busy] == 2 && extraction.flows[ldap] == 1)
        #expect(extraction.flows.allSatisfy { $0 >= 1 })

        let outputs = findings.map { workspace.path($0.fileName) }
        let written = try extraction.write(paths: [capture], to: outputs, reading: CaptureRun.Reading())
        #expect(written.map(\.path) == outputs)
        #expect(written[busy].packets == Fixture.busySessions().count)
        #expect(written[ldap].packets == Fixture.ldapRefused().count)
        #expect(written[busy].bytes == Fixture.busySessions().reduce(0) { $0 + $1.frame.count })
        // The file is a capture the reader reads back, frame for frame.
        let reader = try CaptureFileReader.open(path: outputs[busy], mapFiles: false, bufferSize: 4096)
        var frames: [[UInt8]] = []
        while try reader.nextBatch({ batch, bytes in
            for record in batch {
                let frame = bytes.extracting(record.dataRange)
                var copy: [UInt8] = []
                for index in frame.indices { copy.append(frame[index]) }
                frames.append(copy)
            }
        }) {}
        #expect(frames == Fixture.busySessions().map(\.frame))
    }
}
