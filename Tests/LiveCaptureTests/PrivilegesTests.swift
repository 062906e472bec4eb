import Foundation
import LiveCapture
import Testing

/// Tests that change the process's user run in a child process: this test binary again, with a
/// filter selecting one child test and an environment variable enabling it, so the test runner
/// itself keeps root.
@Suite struct PrivilegesTests {
    static let childVariable = "FLOWAUDIT_LIVE_PRIVILEGES_CHILD"
    static let childRole = ProcessInfo.processInfo.environment[childVariable]

    /// Runs `testName` of this binary in a child process (as `nobody` through setpriv when
    /// `asNobody`), and returns its exit status and output.
    static func runChild(_ testName: String, role: String, asNobody: Bool) throws -> (status: Int32, output: String) {
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let process = Process()
        var arguments = [binary, "--testing-library", "swift-testing", "--filter", testName]
        if asNobody {
            let nobody = try #require(try Privileges.lookUp(user: "nobody"))
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            arguments = ["--reuid=\(nobody.uid)", "--regid=\(nobody.gid)", "--clear-groups", "--"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            arguments.removeFirst()
        }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[childVariable] = role
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: runningAsRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root and setpriv to start a child as nobody"))
    func openingWithoutPrivilegesIsRefusedWithAClearMessage() throws {
        let (status, output) = try Self.runChild("unprivilegedChild", role: "unprivileged", asNobody: true)
        #expect(status == 0, "child output:\n\(output)")
        #expect(output.contains("unprivilegedChild() passed"), "child output:\n\(output)")
    }

    @Test(.enabled(if: runningAsRoot, "needs root to drop privileges in a child"))
    func droppingPrivilegesKeepsTheOpenCapture() throws {
        let (status, output) = try Self.runChild("dropPrivilegesChild", role: "drop", asNobody: false)
        #expect(status == 0, "child output:\n\(output)")
        #expect(output.contains("dropPrivilegesChild() passed"), "child output:\n\(output)")
    }

    /// Child: as nobody, opening `lo` fails with PCAP_ERROR_PERM_DENIED's message.
    @Test(.enabled(if: childRole == "unprivileged", "runs only as a child of openingWithoutPrivilegesIsRefusedWithAClearMessage"))
    func unprivilegedChild() throws {
        #expect(!runningAsRoot)
        #expect {
            try LiveCaptureSession(options: LiveCaptureOptions(interface: "lo"))
        } throws: { error in
            guard let error = error as? LiveCaptureError, case .permissionDenied("lo", let message) = error else { return false }
            return message.contains("Operation not permitted") && error.description.contains("CAP_NET_RAW and CAP_NET_ADMIN")
        }
    }

    /// Child: opens `lo` as root, drops to nobody, then still captures on the open handle while
    /// a new open is refused.
    @Test(.enabled(if: childRole == "drop", "runs only as a child of droppingPrivilegesKeepsTheOpenCapture"))
    func dropPrivilegesChild() throws {
        let port = try LoopbackUDPPort()
        let session = try LiveCaptureSession(options: LiveCaptureOptions(interface: "lo", filter: "udp and port \(port.port)"))
        try session.dropPrivileges(toUser: "nobody")
        let nobody = try #require(try Privileges.lookUp(user: "nobody"))
        #expect(getuid() == nobody.uid && geteuid() == nobody.uid)
        #expect(getgid() == nobody.gid && getegid() == nobody.gid)
        #expect(setuid(0) != 0)

        try port.send([1, 2, 3, 4])
        var captured = 0
        for _ in 0..<100 where captured == 0 {
            guard try session.nextBatch({ packets, _ in captured += packets.count }) else { break }
        }
        #expect(captured == 1)
        #expect(throws: LiveCaptureError.self) {
            try LiveCaptureSession(options: LiveCaptureOptions(interface: "lo"))
        }
    }
}
