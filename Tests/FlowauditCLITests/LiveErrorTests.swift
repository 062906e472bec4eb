// `flowaudit live` refusing to start: a filter libpcap cannot compile, an interface that does not
// exist, a user without the capture privileges. Each is one clear message and exit status 2,
// and no report is written.

import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Filters are checked before any interface is opened, so these run without root.
@Suite("flowaudit live: bad capture filters")
struct LiveFilterErrorTests {
    @Test("a filter libpcap cannot compile: exit 2 with libpcap's message", arguments: [
        ("tcp port nonsense", "unknown port 'nonsense'"),
        ("host 10.0.0.1 and (", "syntax error"),
    ])
    func badFilter(filter: String, libpcapMessage: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = folder.appendingPathComponent("report.json")
        let result = try CLI.run("flowaudit", ["live", "-i", "lo", "--site", "Captures/arksspr/site.yaml", "--filter", filter,
                                               "--format", "json", "--output", report.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad capture filter '\(filter)'"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(libpcapMessage), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one message: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: report.path))
    }
}

extension LiveTests {
    @Suite("flowaudit live refuses to start")
    struct Refusals {
        @Test("an unknown interface: exit 2, and the message lists the interfaces there are")
        func unknownInterface() throws {
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let report = folder.appendingPathComponent("report.json")
            let result = try CLI.run("flowaudit", ["live", "-i", "fa-no-such0", "--site", "Captures/arksspr/site.yaml",
                                                   "--format", "json", "--output", report.path])
            #expect(result.status == 2)
            #expect(result.stderr.contains("no such interface 'fa-no-such0'"), "stderr: \(result.stderr)")
            let listed = try #require(result.stderr.split(separator: "\n").first?.components(separatedBy: "available interfaces: ").last)
            let names = Set(listed.components(separatedBy: ", "))
            #expect(names.contains("lo"), "stderr: \(result.stderr)")
            #expect(names.contains(LiveNamespace.hostInterface), "stderr: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: report.path))
        }

        @Test("without capture privileges (as nobody): exit 2, and the message names CAP_NET_RAW and CAP_NET_ADMIN")
        func withoutPrivileges() throws {
            // nobody must be able to run the binary and read the policy: copies in a folder anyone reads.
            let folder = try CLI.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let manager = FileManager.default
            let system = "remotespark"
            for sub in ["Rules", "Captures/\(system)", "out"] {
                try manager.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            let binary = folder.appendingPathComponent("flowaudit")
            try manager.copyItem(atPath: try CLI.executable("flowaudit"), toPath: binary.path)
            for file in ["Rules/\(system).yaml", "Captures/\(system)/site.yaml"] {
                try manager.copyItem(at: CLI.packageRoot.appendingPathComponent(file), to: folder.appendingPathComponent(file))
            }
            for path in [folder.path, binary.path, "\(folder.path)/Rules", "\(folder.path)/Captures", "\(folder.path)/Captures/\(system)"] {
                try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
            try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: "\(folder.path)/out")
            let report = "\(folder.path)/out/report.json"

            let setpriv = try #require(LiveNamespace.tool("setpriv"))
            let command = try RunningCommand(
                executable: setpriv,
                ["--reuid=nobody", "--regid=nogroup", "--clear-groups", binary.path, "live", "-i", LiveNamespace.hostInterface,
                 "--site", "Captures/\(system)/site.yaml", "--format", "json", "--output", report],
                folder: folder, directory: folder)
            let (status, exited) = command.waitForExit()
            let stderr = command.stderr
            #expect(exited && status == 2, "stderr: \(stderr)")
            #expect(stderr.contains("no permission to capture on interface '\(LiveNamespace.hostInterface)'"), "stderr: \(stderr)")
            #expect(stderr.contains("CAP_NET_RAW") && stderr.contains("CAP_NET_ADMIN"), "stderr: \(stderr)")
            #expect(!manager.fileExists(atPath: report))
        }
    }
}
