// End to end, as root: each Captures/ scenario replayed with tcpreplay into a veth pair of a
// network namespace made for these tests, `flowaudit live` capturing on the other end. The live
// report must list what `flowaudit audit` lists for the file, its events must be written while
// the replay runs, and a stop by signal or --duration must still write a complete report.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// All tests that capture on the namespace's veth pair: one at a time, the namespace made once.
@Suite("flowaudit live", .serialized, .enabled(if: LiveNamespace.isAvailable, Comment(rawValue: LiveNamespace.missing ?? "")),
       LiveNamespaceScope())
struct LiveTests {}

extension LiveTests {
    @Suite("Captures/ scenarios replayed live")
    struct Scenarios {
        /// A scenario's capture file, relative to the package root.
        static func capture(_ system: String) throws -> String {
            "Captures/\(system)/\(try ScenarioAuditTests.Expected(system: system).capture)"
        }

        @Test("the live report lists the file audit's findings, events arrive during the replay",
              arguments: ScenarioAuditTests.systems)
        func liveMatchesFileAudit(system: String) throws {
            let capture = try Self.capture(system)
            let site = "Captures/\(system)/site.yaml"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")

            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", site, "--events", "jsonl", "--events-output", events,
                 "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            // The events file is opened once the capture is active.
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")

            // At the capture's own pace, as a network would deliver it.
            let replay = try LiveNamespace.replay(capture, speed: ["--multiplier=1"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            // Read before flowaudit is stopped: these events were written while the capture ran.
            // libpcap hands packets over in blocks (up to its timeout later) and events go out
            // through a sender thread, so the file is read once it has settled: no new line for
            // half a second (at most 5 s), still before the stop.
            var duringReplay = lines(of: events)
            var quiet = 0
            for _ in 0..<50 where quiet < 5 {
                usleep(100_000)
                let now = lines(of: events)
                quiet = now.count == duringReplay.count ? quiet + 1 : 0
                duringReplay = now
            }

            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited, "flowaudit live was killed by a signal instead of exiting")
            let stderr = live.stderr

            let fileAudit = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json"])
            let fileReport = try fileAudit.json()
            let liveReport = try jsonObject(at: report)

            // Same findings, same exit status.
            let expected = try ReportFindings(fileReport)
            let found = try ReportFindings(liveReport)
            #expect(found == expected, "live: \(found)\nfile: \(expected)\nstderr: \(stderr)")
            #expect(Int(status) == expected.exitStatus, "stderr: \(stderr)")
            #expect(Int(fileAudit.status) == expected.exitStatus)

            // Every packet reached the audit: nothing dropped, nothing left in the capture buffer.
            let captureCounts = try #require(liveReport["capture"] as? [String: Int], "the live report has no capture counts")
            let fileDecode = try #require(fileReport["decode"] as? [String: Any])
            let liveDecode = try #require(liveReport["decode"] as? [String: Any])
            let packets = try #require(fileDecode["packets"] as? Int)
            #expect(captureCounts["dropped_by_kernel"] == 0)
            #expect(captureCounts["dropped_by_interface"] == 0)
            #expect(captureCounts["received"] == packets, "the veth pair carried only the replayed packets")
            #expect(liveDecode["packets"] as? Int == packets,
                    "packets audited: \(liveDecode["packets"] ?? "none") of \(packets) received before the stop")
            #expect(!stderr.contains("dropped"), "stderr: \(stderr)")

            try checkEvents(duringReplay: duringReplay, all: lines(of: events), findings: found, stderr: stderr)
        }

        /// The events: written as things happened (so before the replay ended), each a JSON object,
        /// one first-success event per observed rule, each refused flow once.
        func checkEvents(duringReplay: [String], all: [String], findings: ReportFindings, stderr: String) throws {
            try #require(!duringReplay.isEmpty, "no event was written while the replay ran; stderr: \(stderr)")
            #expect(Array(all.prefix(duringReplay.count)) == duringReplay, "events written during the replay changed afterwards")

            let early = try duringReplay.map(LiveEvent.init(line:))
            let every = try all.map(LiveEvent.init(line:))
            for event in every {
                #expect(["unexpected-flow", "unexpected-flow-update", "unexpected-flow-cleared", "rule-observed", "rule-blocked"].contains(event.kind))
            }

            // An unexpected flow is announced at its first packet, so before the replay ended.
            let announced = Set(early.filter { $0.kind == "unexpected-flow" }.map(\.group))
            for group in findings.unexpected.union(findings.attempts) {
                #expect(announced.contains(group), "no unexpected-flow event for \(group) before the replay ended")
            }

            // A flow announced as unexpected that the final report allows is cleared by an event.
            let cleared = Set(every.filter { $0.kind == "unexpected-flow-cleared" }.map(\.group))
            for group in announced where !findings.unexpected.union(findings.attempts).contains(group) {
                #expect(cleared.contains(group), "\(group) was announced unexpected, is allowed in the report, and was never cleared")
            }

            // A rule's first success is announced once; every rule the report shows as observed has it.
            var observed: [String: Int] = [:]
            for event in every where event.kind == "rule-observed" { observed[event.rule ?? "", default: 0] += 1 }
            for (rule, count) in observed {
                #expect(count == 1, "\(count) rule-observed events for \(rule): \(all.filter { $0.contains("\"rule-observed\",\"rule\":\"\(rule)\"") })")
            }
            let observedRules = Set(findings.rules.filter { $0.value == "observed" || $0.value == "partial" }.keys)
            #expect(Set(observed.keys) == observedRules)

            // A refused flow of a rule is announced once; every blocked rule has such an event.
            var refusals: [String: Int] = [:]
            for event in every where event.kind == "rule-blocked" { refusals["\(event.rule ?? "") flow \(event.flowID)", default: 0] += 1 }
            for (refusal, count) in refusals {
                #expect(count == 1, "\(count) rule-blocked events for \(refusal)")
            }
            let blockedRules = Set(findings.rules.filter { $0.value == "blocked" }.keys)
            let refusedRules = Set(every.filter { $0.kind == "rule-blocked" }.compactMap(\.rule))
            #expect(blockedRules.isSubset(of: refusedRules), "blocked rules without a rule-blocked event: \(blockedRules.subtracting(refusedRules))")
        }
    }

    @Suite("stopping flowaudit live")
    struct Stopping {
        @Test("a signal in the middle of a replay ends the capture with a complete report", arguments: [SIGINT, SIGTERM])
        func signalMidRun(signal: Int32) throws {
            let system = "arksspr"
            let capture = try Scenarios.capture(system)
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events", "jsonl",
                 "--events-output", events, "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")

            let (replay, replayOutput) = try LiveNamespace.startReplay(capture, speed: ["--multiplier=1"])
            defer {
                if replay.isRunning { replay.interrupt() }
                _ = replayOutput.fileHandleForReading.readDataToEndOfFile()
                replay.waitUntilExit()
            }
            // Stop once the first finding was announced, while packets still flow.
            try #require(live.waitForLine(in: events), "no event during the replay: \(live.stderr)")
            let (status, exited) = live.stop(with: signal)
            #expect(replay.isRunning, "the replay ended before the signal; the stop was not mid-run")
            #expect(exited, "flowaudit live was ended by signal \(signal) instead of exiting")

            let result = try jsonObject(at: report)
            let findings = try ReportFindings(result)
            #expect(Int(status) == findings.exitStatus, "stderr: \(live.stderr)")
            #expect(status == 1, "some required rules had no traffic yet: findings; stderr: \(live.stderr)")
            #expect(findings.rules.count == (try ScenarioAuditTests.Expected(system: system)).rules.count)
            let counts = try #require(result["capture"] as? [String: Int], "no capture counts")
            #expect(Set(counts.keys) == ["received", "dropped_by_kernel", "dropped_by_interface", "dropped_by_backlog", "peak_backlog_bytes"])
            let received = try #require(counts["received"])
            #expect(received > 0 && received < 180, "received \(received) of the capture's 180 packets")
            #expect(counts["dropped_by_kernel"] == 0)
            let decode = try #require(result["decode"] as? [String: Any])
            #expect((decode["packets"] as? Int ?? 0) > 0)
            let summary = try #require(result["summary"] as? [String: Any])
            #expect(summary["in_scope_flows"] as? Int ?? 0 > 0)
        }

        @Test("--duration ends a quiet capture by itself with the report")
        func durationEndsCapture() throws {
            let system = "remotespark"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--duration", "500ms",
                 "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            let (status, exited) = live.waitForExit()
            #expect(exited)
            let result = try jsonObject(at: report)
            let findings = try ReportFindings(result)
            // Nothing was sent, so every required rule is missing and every optional one not seen.
            let rules = try #require(result["rules"] as? [[String: Any]])
            #expect(!rules.isEmpty)
            for rule in rules {
                let required = try #require(rule["required"] as? Bool)
                #expect(rule["status"] as? String == (required ? "missing" : "not-seen"), "\(rule["id"] ?? "?")")
            }
            #expect(findings.counts["missing"] == rules.filter { $0["required"] as? Bool == true }.count)
            #expect(findings.unexpected.isEmpty && findings.attempts.isEmpty)
            #expect(status == 1 && findings.exitStatus == 1, "stderr: \(live.stderr)")
            #expect(result["capture"] as? [String: Int] == ["received": 0, "dropped_by_kernel": 0, "dropped_by_interface": 0, "dropped_by_backlog": 0, "peak_backlog_bytes": 0])
        }

        @Test("the capture thread keeps its priority; the audit thread runs at --audit-nice", arguments: [nil, 0, 7] as [Int?])
        func auditThreadNice(nice: Int?) throws {
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events").path
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/remotespark/site.yaml", "--events-output", events,
                 "--format", "json", "--output", folder.appendingPathComponent("report.json").path]
                    + (nice.map { ["--audit-nice", String($0)] } ?? []), folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            // /proc/PID/task/TID/stat: "TID (COMM) STATE ..." with the nice value the 19th field.
            func threads() -> [(name: String, tid: Int32, nice: Int)] {
                let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(live.process.processIdentifier)/task")) ?? []
                return tasks.compactMap { tid in
                    guard let stat = try? String(contentsOfFile: "/proc/\(live.process.processIdentifier)/task/\(tid)/stat", encoding: .utf8),
                          let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
                    let fields = stat[stat.index(after: close)...].split(separator: " ")
                    guard fields.count > 16, let niceValue = Int(fields[16]), let id = Int32(tid) else { return nil }
                    return (String(stat[stat.index(after: open)..<close]), id, niceValue)
                }
            }
            let expected = nice ?? 10
            // The audit (the main thread) lowers its priority right after starting the capture thread.
            try #require(eventually { threads().contains { $0.name == "capture" } }, "no capture thread: \(threads())")
            try #require(eventually { threads().first { $0.tid == live.process.processIdentifier }?.nice == expected },
                         "threads: \(threads())")
            #expect(threads().first { $0.name == "capture" }?.nice == 0, "threads: \(threads())")
            let (_, exited) = live.stop(with: SIGINT)
            #expect(exited)
        }

        @Test("--audit-nice outside 0-19 is a usage error")
        func auditNiceRange() throws {
            let result = try CLI.run("flowaudit", ["live", "-i", "lo", "--site", "Captures/remotespark/site.yaml", "--audit-nice", "20"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("--audit-nice must be between 0 and 19"), "\(result.stderr)")
        }

        @Test("--every prints the rule table so far while the capture runs")
        func everyPrintsTheRuleTable() throws {
            let system = "arksspr"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--duration", "1s",
                 "--every", "200ms", "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            let (_, exited) = live.waitForExit()
            #expect(exited)
            // Text events go to standard error: at least three tables in one second, each listing
            // every bound rule as not yet seen (nothing was sent).
            let tables = live.stderr.components(separatedBy: "rules so far:").count - 1
            #expect(tables >= 3, "stderr: \(live.stderr)")
            #expect(live.stderr.contains("not yet seen arksspr/smtp-mail"), "stderr: \(live.stderr)")
            #expect(!live.stderr.contains("observed     arksspr/"), "stderr: \(live.stderr)")
        }
    }
}

/// One line of `--events jsonl`, as the tests compare it.
struct LiveEvent {
    var kind: String
    var rule: String?
    var flowID: Int
    /// `initiator -> responder service`, as the report's groups are written.
    var group: String

    init(line: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let object = try #require(parsed as? [String: Any], "not a JSON object: \(line)")
        #expect(object["time"] is String, "no time: \(line)")
        let flow = try #require(object["flow"] as? [String: Any], "no flow: \(line)")
        // As the report writes a group's service: tcp/443, icmpv6/135 (the initiator's ICMP type), ip/2.
        let proto = try #require(flow["protocol"] as? String)
        let service: String
        if let port = flow["responder_port"] as? Int {
            service = "\(proto)/\(port)"
        } else if let type = flow["icmp_type"] as? Int {
            service = "\(proto)/\(type)"
        } else {
            service = proto
        }
        kind = try #require(object["event"] as? String)
        rule = object["rule"] as? String
        flowID = try #require(flow["flow_id"] as? Int)
        group = "\(try #require(flow["initiator"] as? String)) -> \(try #require(flow["responder"] as? String)) \(service)"
    }
}
