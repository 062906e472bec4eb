// `flowaudit live` under faults, end to end in the tests' network namespace: a collector that
// accepts and never reads, a collector that restarts, a full disk, a missing output folder,
// SIGHUP, a closed standard output, an interface that goes down and up, kernel drops, and the
// metrics endpoint scraped while the capture runs. Each test checks what the report says and
// that every event or packet is accounted for: delivered, or counted as dropped.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A capture with thousands of flows (so thousands of events) and a site that puts half of its
/// clients in scope: written once per test process with flowaudit-gen.
enum BusyCapture {
    struct Files { var capture: String; var site: String; var packets: Int }

    static let files: Result<Files, any Error> = Result {
        let folder = try CLI.temporaryFolder()
        let capture = folder.appendingPathComponent("busy.pcap").path
        let generated = try CLI.run("flowaudit-gen", ["bench", "--kind", "imix", "--packets", "30000", "--flows", "3000", "--seed", "1",
                                                      "--output", capture])
        guard generated.status == 0 else { throw SocketFailure(step: "flowaudit-gen: \(generated.stderr)", code: 0) }
        let site = folder.appendingPathComponent("site.yaml").path
        try """
            site: busy
            rules: [\(CLI.packageRoot.path)/Rules/arksspr.yaml]
            roles:
              arksspr.internal-server: [10.0.0.0/9]
              arksspr.domain-controllers: [172.16.1.0/24, 172.16.2.0/24]
              arksspr.database-server: [172.16.3.0/24]
              arksspr.mail-server: [172.16.4.0/24]
              arksspr.internal-clients: [172.16.5.0/24]

            """.write(toFile: site, atomically: true, encoding: .utf8)
        return Files(capture: capture, site: site, packets: 30000)
    }

    static func get() throws -> Files { try files.get() }
}

/// A TCP syslog collector the test controls: it can accept and never read, read, close, or be
/// started again on the same port.
final class TestCollector {
    let listener: Int32
    let port: UInt16

    /// - Parameter receiveBuffer: SO_RCVBUF of the accepted connection (small: a stuck collector
    ///   that buffers little).
    init(port: UInt16 = 0, receiveBuffer: Int32? = nil) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketFailure(step: "socket", code: errno) }
        var one: Int32 = 1
        // SAFETY: passes a local Int32 with its own size.
        _ = unsafe setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if var size = receiveBuffer {
            // SAFETY: as above; accepted connections inherit the listener's buffer size.
            _ = unsafe setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        // SAFETY: `address` is a local sockaddr_in, passed with its own size for the call.
        let bound = unsafe withUnsafePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { close(fd); throw SocketFailure(step: "bind/listen on port \(port)", code: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: getsockname writes at most `length` bytes into `address`.
        _ = unsafe withUnsafeMutablePointer(to: &address) { pointer in
            unsafe pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { unsafe getsockname(fd, $0, &length) }
        }
        listener = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(listener) }

    /// Waits (at most `seconds`) for flowaudit to connect.
    func accept(seconds: Int32 = 20) throws -> Int32 {
        var descriptor = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        // SAFETY: `descriptor` holds the 1 entry passed, alive for the call.
        guard unsafe poll(&descriptor, 1, seconds * 1000) > 0 else { throw SocketFailure(step: "no connection from flowaudit", code: 0) }
        let connection = Glibc.accept(listener, nil, nil)
        guard connection >= 0 else { throw SocketFailure(step: "accept", code: errno) }
        return connection
    }

    /// Reads from `connection` until `done(bytes)` holds, the peer closes, or `seconds` pass.
    static func read(_ connection: Int32, seconds: Int32 = 30, until done: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let end = ContinuousClock.now.advanced(by: .seconds(Int(seconds)))
        while !done(result), ContinuousClock.now < end {
            var descriptor = [pollfd(fd: connection, events: Int16(POLLIN), revents: 0)]
            // SAFETY: `descriptor` holds the 1 entry passed, alive for the call.
            guard unsafe poll(&descriptor, 1, 100) > 0 else { continue }
            // SAFETY: recv writes at most buffer.count bytes into the array's own storage.
            let count = unsafe buffer.withUnsafeMutableBytes { unsafe recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            result += buffer[0..<count]
        }
        return result
    }

    /// The complete RFC 6587 octet-counted frames at the start of `stream` (a frame cut short
    /// at the end, a message interrupted by the stop, is left out).
    static func completeFrames(_ stream: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            var length = 0
            var cursor = offset
            while cursor < stream.count, stream[cursor] >= 0x30, stream[cursor] <= 0x39 {
                length = length * 10 + Int(stream[cursor] - 0x30)
                cursor += 1
            }
            guard cursor < stream.count, stream[cursor] == 0x20, cursor + 1 + length <= stream.count else { break }
            frames.append(Array(stream[(cursor + 1)..<(cursor + 1 + length)]))
            offset = cursor + 1 + length
        }
        return frames
    }
}

/// The `sinks` entries of a live report, by kind.
func sinks(_ report: [String: Any]) throws -> [String: [String: Any]] {
    let list = try #require(report["sinks"] as? [[String: Any]], "the live report has no sinks")
    var byKind: [String: [String: Any]] = [:]
    for sink in list { byKind[try #require(sink["kind"] as? String)] = sink }
    return byKind
}

func completeness(_ report: [String: Any]) throws -> [String: Any] {
    try #require(report["completeness"] as? [String: Any], "the report has no completeness")
}

/// Every message offered to an output was delivered or counted as dropped.
func expectAccounted(_ sink: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
    let offered = sink["offered"] as? Int ?? -1
    let sent = sink["sent"] as? Int ?? -1
    let dropped = sink["dropped"] as? Int ?? -1
    #expect(offered == sent + dropped, "offered \(offered) = sent \(sent) + dropped \(dropped): \(sink)", sourceLocation: sourceLocation)
    let causes = ["dropped_queue_full", "dropped_write_error", "dropped_at_exit"].map { sink[$0] as? Int ?? -1 }.reduce(0, +)
    #expect(dropped == causes, "dropped is the sum of its causes: \(sink)", sourceLocation: sourceLocation)
}

/// Waits until `condition` holds or `seconds` pass (a guard against hangs, not a timing check).
func eventually(seconds: Int = 30, _ condition: () -> Bool) -> Bool {
    let end = ContinuousClock.now.advanced(by: .seconds(seconds))
    while ContinuousClock.now < end {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

extension LiveTests {
    @Suite("flowaudit live under faults")
    struct Faults {
        @Test("a collector that accepts and never reads: the capture loses no packet, SIGTERM stops it, drops are counted")
        func stuckCollector() throws {
            let busy = try BusyCapture.get()
            let collector = try TestCollector(receiveBuffer: 4096)
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", busy.site, "--syslog", "tcp://127.0.0.1:\(collector.port)",
                 "--queue-size", "50", "--events", "jsonl", "--events-output", events, "--format", "json", "--output", report.path],
                folder: folder)
            defer { live.ensureStopped() }
            let connection = try collector.accept()
            defer { close(connection) }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(busy.capture, speed: ["--pps=15000"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            #expect(eventually { live.process.isRunning && lines(of: events).count > 500 }, "events: \(lines(of: events).count)")

            let (status, exited) = live.stop(with: SIGTERM)
            #expect(exited, "flowaudit was killed instead of stopping: \(live.stderr)")
            #expect(status == 3, "undelivered events make the run INCOMPLETE: \(live.stderr)")
            let result = try jsonObject(at: report)
            let capture = try #require(result["capture"] as? [String: Int])
            #expect(capture["dropped_by_kernel"] == 0, "the stuck collector must not cost packets: \(capture)")
            #expect(capture["received"] == busy.packets)
            let bySink = try sinks(result)
            let syslog = try #require(bySink["syslog-tcp"])
            let file = try #require(bySink["file"])
            expectAccounted(syslog)
            expectAccounted(file)
            #expect((syslog["dropped_queue_full"] as? Int ?? 0) > 0, "the queue overflowed: \(syslog)")
            // The file keeps up, but the flows ended at the stop come in a burst that a 50-message
            // queue may not hold: whatever it dropped is counted too.
            #expect(file["sent"] as? Int == lines(of: events).count, "\(file)")
            #expect(syslog["offered"] as? Int == file["offered"] as? Int)
            let state = try completeness(result)
            #expect(state["status"] as? String == "INCOMPLETE")
            #expect(state["dropped_events"] as? Int == (syslog["dropped"] as? Int ?? 0) + (file["dropped"] as? Int ?? 0))

            // What the collector finally reads is exactly what flowaudit counted as sent.
            let frames = TestCollector.completeFrames(TestCollector.read(connection, seconds: 20))
            #expect(frames.count == syslog["sent"] as? Int, "\(frames.count) messages received, \(syslog)")
        }

        @Test("a collector that restarts: flowaudit reconnects and every event is received or counted")
        func collectorRestart() throws {
            let system = "remotespark"
            var collector: TestCollector? = try TestCollector()
            let port = collector!.port
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--syslog", "tcp://127.0.0.1:\(port)",
                 "--events", "jsonl", "--events-output", events, "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            let first = try collector!.accept()
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            try #require(eventually { !lines(of: events).isEmpty })
            // Read until the collector has every event written so far, then restart it.
            // The file and the collector are fed by two sender threads: read until both hold the same
            // events (the condition is looked at again every 100 ms, data or not).
            let before = TestCollector.read(first, seconds: 20) {
                let frames = TestCollector.completeFrames($0).count
                return frames > 0 && frames == lines(of: events).count
            }
            let framesBefore = TestCollector.completeFrames(before).count
            try #require(framesBefore > 0 && framesBefore == lines(of: events).count, "\(framesBefore) of \(lines(of: events).count)")
            close(first)
            collector = nil  // closes the listener: the collector is down
            collector = try TestCollector(port: port)
            let linesBefore = lines(of: events).count

            let again = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(again.status == 0, "netns-replay: \(again.output)")
            let second = try collector!.accept()
            defer { close(second) }
            #expect(eventually { lines(of: events).count > linesBefore })
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited, "stderr: \(live.stderr)")
            let after = TestCollector.completeFrames(TestCollector.read(second, seconds: 20)).count

            let result = try jsonObject(at: report)
            let syslog = try #require(try sinks(result)["syslog-tcp"])
            expectAccounted(syslog)
            #expect(syslog["reconnects"] as? Int == 1, "\(syslog)")
            #expect(syslog["dropped"] as? Int == 0, "nothing lost across the restart: \(syslog)")
            #expect(framesBefore + after == syslog["sent"] as? Int, "received \(framesBefore) + \(after), \(syslog)")
            #expect(syslog["offered"] as? Int == lines(of: events).count)
            #expect(status == 1, "complete, with findings: \(live.stderr)")
        }

        @Test("events to /dev/full: ENOSPC with the path and errno, exit 2, the report still written")
        func eventsToFullDisk() throws {
            let system = "remotespark"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events-output", "/dev/full",
                 "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            try #require(eventually { live.stderr.contains("listening on") }, "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited && status == 2, "stderr: \(live.stderr)")
            #expect(live.stderr.contains("/dev/full: No space left on device (errno 28)"), "stderr: \(live.stderr)")
            let file = try #require(try sinks(try jsonObject(at: report))["file"])
            expectAccounted(file)
            #expect(file["errno"] as? Int == 28 && file["sent"] as? Int == 0, "\(file)")
        }

        @Test("the report to /dev/full: exit 2 naming the path and errno; a missing output folder: exit 2 before the capture")
        func reportNotWritable() throws {
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let full = try CLI.run("flowaudit", ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/remotespark/site.yaml",
                                                 "--duration", "250ms", "--events-output", folder.appendingPathComponent("e").path,
                                                 "--format", "json", "--output", "/dev/full"])
            #expect(full.status == 2, "stderr: \(full.stderr)")
            #expect(full.stderr.contains("/dev/full: cannot write the report: No space left on device (errno 28)"), "stderr: \(full.stderr)")

            let missing = folder.appendingPathComponent("no/such/folder/report.json").path
            let events = folder.appendingPathComponent("events").path
            // A long duration: the check must come before the capture, not after it.
            let early = try CLI.run("flowaudit", ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/remotespark/site.yaml",
                                                  "--duration", "1h", "--events-output", events, "--output", missing])
            #expect(early.status == 2)
            #expect(early.stderr.contains("--output \(missing): cannot write the report: the folder"), "stderr: \(early.stderr)")
            #expect(!FileManager.default.fileExists(atPath: events), "nothing was started")
        }

        @Test("SIGHUP reopens the events file: events before it in the rotated file, after it in the new one, none lost")
        func hangUpReopens() throws {
            let system = "remotespark"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let rotated = events + ".1"
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events", "jsonl",
                 "--events-output", events, "--format", "json", "--output", report.path], folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            try #require(eventually { !lines(of: events).isEmpty })
            try FileManager.default.moveItem(atPath: events, toPath: rotated)
            kill(live.process.processIdentifier, SIGHUP)
            try #require(eventually { FileManager.default.fileExists(atPath: events) }, "SIGHUP did not reopen: \(live.stderr)")
            #expect(live.process.isRunning, "SIGHUP must not end the capture")
            let again = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(again.status == 0, "netns-replay: \(again.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited && status == 1, "stderr: \(live.stderr)")
            let file = try #require(try sinks(try jsonObject(at: report))["file"])
            expectAccounted(file)
            #expect(file["reopens"] as? Int == 1)
            #expect(!lines(of: events).isEmpty, "events after the SIGHUP went to the new file")
            #expect(lines(of: rotated).count + lines(of: events).count == file["sent"] as? Int)
            #expect(file["dropped"] as? Int == 0)
        }

        @Test("a closed standard output (| head -1): a clean stop, the report on --output")
        func closedStandardOutput() throws {
            let system = "remotespark"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let report = folder.appendingPathComponent("report.json")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try CLI.executable("flowaudit"))
            process.arguments = ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events", "jsonl",
                                 "--format", "json", "--output", report.path]
            process.currentDirectoryURL = CLI.packageRoot
            let pipe = Pipe()
            process.standardOutput = pipe
            let stderrURL = folder.appendingPathComponent("stderr")
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
            try #require(eventually { ((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "").contains("listening on") })
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            // `head -1`: one line, then the reader goes away.
            var first: [UInt8] = []
            while !first.contains(0x0A) {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                first += chunk
            }
            #expect(first.contains(0x0A), "no event line on standard output")
            try pipe.fileHandleForReading.close()
            // More events: the next write meets EPIPE and flowaudit stops by itself.
            let again = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(again.status == 0, "netns-replay: \(again.output)")
            let stopped = eventually { !process.isRunning }
            if !stopped { kill(process.processIdentifier, SIGINT) }
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            #expect(stopped, "flowaudit did not stop when its standard output closed: \(stderr)")
            #expect(process.terminationReason == .exit, "killed by a signal (SIGPIPE?): \(stderr)")
            #expect(process.terminationStatus == 1, "findings, complete: \(stderr)")
            #expect(stderr.contains("standard output was closed by its reader"), "stderr: \(stderr)")
            let stdout = try #require(try sinks(try jsonObject(at: report))["stdout"])
            expectAccounted(stdout)
            #expect(stdout["errno"] as? Int == Int(EPIPE), "\(stdout)")
        }

        @Test("the interface goes down and up: the gap is reported with its times, capture resumes, exit 3")
        func interfaceDownAndUp() throws {
            let system = "remotespark"
            let capture = try Scenarios.capture(system)
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")
            let ip = try #require(LiveNamespace.tool("ip"))
            let tools = folder.appendingPathComponent("ip")
            try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
            func link(_ state: String) throws {
                // Its own folder: RunningCommand's stdout and stderr files must not replace flowaudit's.
                let command = try RunningCommand(executable: ip, ["link", "set", "dev", LiveNamespace.hostInterface, state], folder: tools)
                #expect(command.waitForExit().status == 0)
            }
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events", "jsonl",
                 "--events-output", events, "--format", "json", "--output", report.path], folder: folder)
            defer {
                live.ensureStopped()
                try? link("up")
            }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            try link("down")
            try #require(eventually { live.stderr.contains("went down") }, "the down link was not noticed: \(live.stderr)")
            try link("up")
            try #require(eventually { live.stderr.contains("is up again") }, "the link's return was not noticed: \(live.stderr)")
            let replay = try LiveNamespace.replay(capture, speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited && status == 3, "stderr: \(live.stderr)")

            let result = try jsonObject(at: report)
            let state = try completeness(result)
            #expect(state["status"] as? String == "INCOMPLETE")
            let gaps = try #require(state["gaps"] as? [[String: Any]])
            #expect(gaps.count == 1 && gaps.first?["kind"] as? String == "link-down", "\(gaps)")
            #expect(gaps.first?["start"] is String && gaps.first?["end"] is String, "\(gaps)")
            // Capture resumed: every packet replayed after the link came back was audited.
            let fileReport = try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/\(system)/site.yaml", "--format", "json"]).json()
            let packets = try #require((fileReport["decode"] as? [String: Any])?["packets"] as? Int)
            #expect((result["decode"] as? [String: Any])?["packets"] as? Int == packets)
            #expect((result["capture"] as? [String: Int])?["dropped_by_kernel"] == 0)
        }

        @Test("drops (kernel and backlog): INCOMPLETE, exit 3, every received packet audited or counted; --allow-loss keeps the findings' status",
              arguments: [false, true])
        func kernelDrops(allowLoss: Bool) throws {
            let busy = try BusyCapture.get()
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events").path
            let report = folder.appendingPathComponent("report.json")
            // A 64 KiB capture buffer and a top-speed replay: the kernel must drop.
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", busy.site, "--buffer-size", "65536", "--backlog-size", "1048576",
                 "--events-output", events,
                 "--format", "json", "--output", report.path] + (allowLoss ? ["--allow-loss"] : []), folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(busy.capture, speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited, "stderr: \(live.stderr)")
            let result = try jsonObject(at: report)
            let capture = try #require(result["capture"] as? [String: Int])
            // The kernel's ring is tiny; the backlog behind it too (1 MiB, the least accepted).
            let dropped = try #require(capture["dropped_by_kernel"]) + (try #require(capture["dropped_by_backlog"]))
            try #require(dropped > 0, "no drops to test with: \(capture)")
            let audited = try #require((result["decode"] as? [String: Any])?["packets"] as? Int)
            #expect(capture["received"] == busy.packets)
            #expect(audited + dropped == busy.packets, "audited \(audited) + dropped \(dropped) of \(busy.packets)")
            let state = try completeness(result)
            #expect(state["status"] as? String == "INCOMPLETE")
            #expect((state["dropped_by_kernel"] as? Int ?? -1) + (state["dropped_by_backlog"] as? Int ?? -1) == dropped)
            #expect(state["loss_allowed"] as? Bool == allowLoss)
            let summary = try #require(result["summary"] as? [String: Any])
            #expect(summary["exit_status"] as? Int == Int(status))
            if allowLoss {
                #expect(status == 1, "findings decide the status with --allow-loss: \(live.stderr)")
            } else {
                #expect(status == 3, "stderr: \(live.stderr)")
            }
        }

        @Test("--metrics-listen: a scrape during the capture shows the packets, outputs and findings")
        func metricsScrape() throws {
            let system = "remotespark"
            let capture = try Scenarios.capture(system)
            let curl = try #require(LiveNamespace.tool("curl"), "the metrics test needs curl")
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let events = folder.appendingPathComponent("events.jsonl").path
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--events", "jsonl",
                 "--events-output", events, "--metrics-listen", "127.0.0.1:0", "--format", "json",
                 "--output", folder.appendingPathComponent("report.json").path], folder: folder)
            defer { live.ensureStopped() }
            try #require(eventually { live.stderr.contains("listening on") }, "flowaudit live did not start: \(live.stderr)")
            let url = try #require(live.stderr.split(whereSeparator: { $0 == " " || $0 == "\n" }).last { $0.hasPrefix("http://") }.map(String.init),
                                   "no metrics address: \(live.stderr)")
            let tools = folder.appendingPathComponent("curl")
            try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
            let replay = try LiveNamespace.replay(capture, speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let packets = try #require((try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/\(system)/site.yaml", "--format", "json"])
                .json()["decode"] as? [String: Any])?["packets"] as? Int)

            func scrape() throws -> [String: Double] {
                let command = try RunningCommand(executable: curl, ["-sf", url], folder: tools)
                _ = command.waitForExit()
                let text = (try? String(contentsOf: command.stdoutURL, encoding: .utf8)) ?? ""
                var values: [String: Double] = [:]
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    let parts = line.split(separator: " ")
                    if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
                }
                return values
            }
            // The counters are refreshed a few times a second and the events sender runs on its own
            // thread: wait until the replay's packets are counted and the sink's count has caught up
            // with what it wrote.
            var values: [String: Double] = [:]
            let sent = "flowaudit_sink_sent_total{sink=\"\(events)\",type=\"file\"}"
            #expect(eventually {
                values = (try? scrape()) ?? [:]
                return values["flowaudit_packets_total"] == Double(packets) && values[sent] == Double(lines(of: events).count)
            }, "\(values)")
            #expect(live.process.isRunning, "scraped during the capture")
            #expect(values["flowaudit_dropped_packets_total{cause=\"kernel\"}"] == 0)
            #expect((values["flowaudit_bytes_total"] ?? 0) > 0)
            #expect(values["flowaudit_open_flows"] != nil)
            #expect((values[sent] ?? 0) > 0, "\(values)")
            #expect((values["flowaudit_findings_total{kind=\"unexpected-flow\"}"] ?? 0) > 0, "\(values)")
            let (_, exited) = live.stop(with: SIGINT)
            #expect(exited)
        }
    }
}

extension LiveTests {
    @Suite("flowaudit live --syslog tls://")
    struct SyslogTLS {
        /// True once a socket listens on 127.0.0.1:`port` (/proc/net/tcp, state 0A).
        static func listening(port: UInt16) -> Bool {
            let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
            let local = "0100007F:" + String(format: "%04X", port)
            return table.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ")
                return fields.count > 3 && fields[1] == local && fields[3] == "0A"
            }
        }

        @Test("events reach a TLS collector (RFC 5425) with a self-signed certificate; without trusting it, exit 2")
        func eventsOverTLS() throws {
            let openssl = try #require(LiveNamespace.tool("openssl"), "the TLS test needs openssl")
            let system = "remotespark"
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let certificate = folder.appendingPathComponent("cert.pem").path
            let key = folder.appendingPathComponent("key.pem").path
            let tools = folder.appendingPathComponent("openssl")
            try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
            let made = try RunningCommand(executable: openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                                                                "-days", "1", "-subj", "/CN=collector", "-addext", "subjectAltName=IP:127.0.0.1"],
                                          folder: tools)
            try #require(made.waitForExit().status == 0, "openssl req: \(made.stderr)")

            let port = try TestCollector().port  // a free port, released at once
            let server = Process()
            server.executableURL = URL(fileURLWithPath: openssl)
            server.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-quiet"]
            let received = folder.appendingPathComponent("received")
            _ = FileManager.default.createFile(atPath: received.path, contents: nil)
            server.standardOutput = try FileHandle(forWritingTo: received)
            server.standardError = FileHandle.nullDevice
            let input = Pipe()  // s_server ends its connection when its standard input ends: kept open
            server.standardInput = input
            try server.run()
            defer {
                // s_server does not end on SIGTERM while it serves a connection.
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            try #require(eventually { Self.listening(port: port) }, "openssl s_server did not start")

            let untrusted = try CLI.run("flowaudit", ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml",
                                                      "--syslog", "tls://127.0.0.1:\(port)", "--duration", "1"])
            #expect(untrusted.status == 2, "stderr: \(untrusted.stderr)")
            #expect(untrusted.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "stderr: \(untrusted.stderr)")

            let events = folder.appendingPathComponent("events.jsonl").path
            let report = folder.appendingPathComponent("report.json")
            let live = try RunningCommand.flowaudit(
                ["live", "-i", LiveNamespace.hostInterface, "--site", "Captures/\(system)/site.yaml", "--syslog", "tls://127.0.0.1:\(port)",
                 "--syslog-ca", certificate, "--events", "jsonl", "--events-output", events, "--format", "json", "--output", report.path],
                folder: folder)
            defer { live.ensureStopped() }
            try #require(live.waitForFile(events), "flowaudit live did not start: \(live.stderr)")
            let replay = try LiveNamespace.replay(try Scenarios.capture(system), speed: ["--topspeed"])
            try #require(replay.status == 0, "netns-replay: \(replay.output)")
            let (status, exited) = live.stop(with: SIGINT)
            #expect(exited && status == 1, "stderr: \(live.stderr)")

            let tls = try #require(try sinks(try jsonObject(at: report))["syslog-tls"])
            expectAccounted(tls)
            let sent = try #require(tls["sent"] as? Int)
            #expect(sent == lines(of: events).count && sent > 0, "\(tls)")
            var frames: [[UInt8]] = []
            #expect(eventually {
                frames = TestCollector.completeFrames(Array((try? Data(contentsOf: received)) ?? Data()))
                return frames.count == sent
            }, "\(frames.count) messages received of \(sent)")
            for frame in frames {
                #expect(throws: Never.self) { _ = try SyslogMessage(frame) }
            }
        }
    }
}

/// Exit statuses and messages that need no capture.
@Suite("exit statuses: usage errors, durations, captures cut short")
struct ExitStatusTests {
    @Test("usage errors exit 2 (not ArgumentParser's 64)")
    func usageError() throws {
        let result = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", "Captures/remotespark/site.yaml",
                                               "--no-such-option"])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("Unknown option '--no-such-option'"), "stderr: \(result.stderr)")
    }

    @Test("a zero or negative --duration says what is accepted", arguments: ["0", "-5", "0s", "-1m", "soon"])
    func badDuration(value: String) throws {
        let result = try CLI.run("flowaudit", ["live", "-i", "lo", "--site", "Captures/remotespark/site.yaml", "--duration", value])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("is not a positive duration: give a number above zero, in seconds or with a unit (90, 90s, 250ms, 5m, 2h)"),
                "stderr: \(result.stderr)")
    }

    @Test("audit of a capture cut short: INCOMPLETE, exit 3 (or the findings' status with --allow-loss); unreadable: exit 2")
    func truncatedCapture() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/capture.pcap"))
        let cut = folder.appendingPathComponent("cut.pcap")
        try original.prefix(original.count - 10).write(to: cut)
        let report = folder.appendingPathComponent("report.json")
        let site = "Captures/remotespark/site.yaml"
        let result = try CLI.run("flowaudit", ["audit", cut.path, "--site", site, "--format", "json", "--output", report.path])
        #expect(result.status == 3, "stderr: \(result.stderr)")
        let state = try completeness(try jsonObject(at: report))
        #expect(state["status"] as? String == "INCOMPLETE")
        #expect((state["gaps"] as? [[String: Any]])?.first?["kind"] as? String == "truncated-input")
        let allowed = try CLI.run("flowaudit", ["audit", cut.path, "--site", site, "--format", "json", "--allow-loss"])
        #expect(allowed.status == 1, "the findings decide: \(allowed.stderr)")
        let text = try CLI.run("flowaudit", ["audit", cut.path, "--site", site])
        #expect(text.stdout.contains("INCOMPLETE"), "\(text.stdout)")

        let garbage = folder.appendingPathComponent("garbage.pcap")
        try Data("not a capture at all".utf8).write(to: garbage)
        let unreadable = try CLI.run("flowaudit", ["audit", garbage.path, "--site", site, "--format", "json"])
        #expect(unreadable.status == 2, "stderr: \(unreadable.stderr)")
    }

    @Test("audit --output replaces the report only when it is complete: /dev/full leaves no partial file and exits 2")
    func reportRenamedIntoPlace() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = "Captures/remotespark/site.yaml"
        let capture = "Captures/remotespark/capture.pcap"
        let report = folder.appendingPathComponent("report.json")
        let good = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--output", report.path])
        #expect(good.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["report.json"], "no temporary file left")
        _ = try jsonObject(at: report)
        let full = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--output", "/dev/full"])
        #expect(full.status == 2)
        #expect(full.stderr.contains("/dev/full: cannot write the report: No space left on device (errno 28)"), "stderr: \(full.stderr)")
    }
}
