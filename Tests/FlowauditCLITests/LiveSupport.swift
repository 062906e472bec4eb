// Support for the end-to-end tests of `flowaudit live`: a network namespace with a veth pair made
// for these tests (scripts/netns-setup), replays into it (scripts/netns-replay), a running live
// process, and the findings of a report as compared between a live run and a file audit.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The namespace and veth pair of the live tests, and what running them needs.
enum LiveNamespace {
    /// Names unique to this test process, so that runs in other checkouts do not collide.
    static let names: [String: String] = {
        let id = getpid()
        return ["FA_NETNS": "fa-e\(id)", "FA_VETH_HOST": "fa-e\(id)h", "FA_VETH_NS": "fa-e\(id)n"]
    }()
    /// The end in the root namespace, where flowaudit captures.
    static var hostInterface: String { names["FA_VETH_HOST"]! }

    static let scripts = CLI.packageRoot.appendingPathComponent("scripts")

    /// The full path of `tool` on PATH (and the sbin folders, which a sudo PATH may lack), or nil.
    static func tool(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return folders.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the namespace tests cannot run here, or nil.
    static let missing: String? = {
        if geteuid() != 0 { return "the live tests need root (network namespaces, raw capture)" }
        for name in ["ip", "tcpreplay", "setpriv"] where tool(name) == nil {
            return "the live tests need '\(name)' (iproute2, tcpreplay, util-linux)"
        }
        return nil
    }()

    static var isAvailable: Bool { missing == nil }

    /// Runs one of the namespace scripts with the names in its environment; (status, output).
    @discardableResult
    static func script(_ name: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = scripts.appendingPathComponent(name)
        process.arguments = arguments
        process.currentDirectoryURL = CLI.packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(names) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Removes the namespaces of earlier test processes that ended without their teardown (a
    /// crash): `fa-e<pid>` whose process is gone.
    static func removeLeftovers() {
        guard let ip = tool("ip") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = ["netns", "list"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in listing.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("fa-e"), let id = Int32(name.dropFirst(4)), id != getpid(), kill(id, 0) != 0, errno == ESRCH else { continue }
            let teardown = Process()
            teardown.executableURL = scripts.appendingPathComponent("netns-teardown")
            teardown.environment = ProcessInfo.processInfo.environment.merging(["FA_NETNS": name, "FA_VETH_HOST": "\(name)h"]) { $1 }
            teardown.standardOutput = FileHandle.nullDevice
            teardown.standardError = FileHandle.nullDevice
            if (try? teardown.run()) != nil { teardown.waitUntilExit() }
        }
    }

    /// Starts a replay of `capture` into the namespace's end without waiting for it.
    static func startReplay(_ capture: String, speed: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = scripts.appendingPathComponent("netns-replay")
        process.arguments = [capture] + speed
        process.currentDirectoryURL = CLI.packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(names) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, pipe)
    }

    /// Replays `capture` and waits until tcpreplay has sent its last packet.
    static func replay(_ capture: String, speed: [String]) throws -> (status: Int32, output: String) {
        let (process, pipe) = try startReplay(capture, speed: speed)
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// Creates the namespace once before the suite it is attached to and removes it after.
struct LiveNamespaceScope: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard LiveNamespace.isAvailable else {
            try await function()
            return
        }
        LiveNamespace.removeLeftovers()
        let (status, output) = try LiveNamespace.script("netns-setup")
        defer {
            if let (status, output) = try? LiveNamespace.script("netns-teardown"), status != 0 {
                Issue.record("netns-teardown failed (\(status)): \(output)")
            }
        }
        guard status == 0 else {
            Issue.record("netns-setup failed (\(status)): \(output)")
            return
        }
        try await function()
    }
}

/// A running `flowaudit live` (or any command), its standard output and error going to files.
final class RunningCommand {
    let process = Process()
    let folder: URL
    let stdoutURL: URL
    let stderrURL: URL

    init(executable: String, _ arguments: [String], folder: URL, directory: URL = CLI.packageRoot) throws {
        self.folder = folder
        stdoutURL = folder.appendingPathComponent("stdout")
        stderrURL = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Starts `flowaudit ARGUMENTS` from the build products.
    static func flowaudit(_ arguments: [String], folder: URL) throws -> RunningCommand {
        try RunningCommand(executable: try CLI.executable("flowaudit"), arguments, folder: folder)
    }

    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits until `path` exists (flowaudit creates its events file once the capture is open) or
    /// the process has exited; true when the file is there.
    func waitForFile(_ path: String, checks: Int = 300) -> Bool {
        for _ in 0..<checks {
            if FileManager.default.fileExists(atPath: path) { return true }
            if !process.isRunning { return FileManager.default.fileExists(atPath: path) }
            usleep(50_000)
        }
        return false
    }

    /// Waits until `path` holds at least one complete line (or the process has exited).
    func waitForLine(in path: String, checks: Int = 600) -> Bool {
        for _ in 0..<checks {
            if let data = FileManager.default.contents(atPath: path), data.contains(UInt8(ascii: "\n")) { return true }
            if !process.isRunning { return false }
            usleep(50_000)
        }
        return false
    }

    /// Sends `signal` and waits for the exit.
    func stop(with signal: Int32 = SIGINT) -> (status: Int32, exited: Bool) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        return waitForExit()
    }

    /// Waits for the exit; `exited` is false when a signal ended the process.
    func waitForExit() -> (status: Int32, exited: Bool) {
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .exit)
    }

    /// Ends the process if a failed expectation left it running.
    func ensureStopped() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The findings of a JSON report that a live run and a file audit of the same packets must share:
/// everything but timestamps, flow identifiers and capture-specific counts.
struct ReportFindings: Equatable, CustomStringConvertible {
    var exitStatus: Int
    var counts: [String: Int]
    var rules: [String: String]
    var hostsMissing: [String: [String]]
    var unexpected: Set<String>
    var attempts: Set<String>
    var advisories: Set<String>

    init(_ report: [String: Any]) throws {
        let summary = try #require(report["summary"] as? [String: Any], "the report has no summary")
        exitStatus = try #require(summary["exit_status"] as? Int)
        counts = try #require(summary["counts"] as? [String: Int])
        rules = [:]
        hostsMissing = [:]
        for rule in try #require(report["rules"] as? [[String: Any]], "the report has no rules") {
            let id = try #require(rule["id"] as? String)
            rules[id] = try #require(rule["status"] as? String)
            hostsMissing[id] = rule["hosts_missing"] as? [String] ?? []
        }
        unexpected = Set(try ScenarioAuditTests.groups(report["unexpected"]))
        attempts = Set(try ScenarioAuditTests.groups(report["attempts"]))
        advisories = Set(try #require(report["advisories"] as? [[String: Any]]).map { advisory in
            let example = try #require(advisory["example"] as? [String: Any])
            return "\(try #require(advisory["kind"] as? String)) \(try #require(example["initiator"] as? String)) -> \(try #require(example["responder"] as? String))"
        })
    }

    var description: String {
        "exit \(exitStatus), counts \(counts), rules \(rules.sorted { $0.key < $1.key }), unexpected \(unexpected.sorted()), "
            + "attempts \(attempts.sorted()), advisories \(advisories.sorted())"
    }
}

/// Reads a JSON object from a file.
func jsonObject(at url: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let data = try Data(contentsOf: url)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any],
                        "\(url.path) is not a JSON object: \(String(decoding: data.prefix(300), as: UTF8.self))",
                        sourceLocation: sourceLocation)
}

/// The complete lines of a text file (none when it does not exist); a last line without its
/// newline is still being written and is left out.
func lines(of path: String) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var parts = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast()  // empty after a final newline, or an unfinished line
    return parts
}
