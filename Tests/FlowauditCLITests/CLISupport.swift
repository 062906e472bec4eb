// Running the built executables: where they are, how to run them, temporary folders.

import Foundation
import Testing

/// The result of one run of a built executable.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutData: Data

    /// The standard output parsed as a JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: stdoutData)
        return try #require(object as? [String: Any], "standard output is not a JSON object: \(stdout.prefix(300))",
                            sourceLocation: sourceLocation)
    }
}

enum CLI {
    /// The package root: two levels above this file's folder.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder of the running test bundle: the build products folder that also holds the
    /// executables, whatever `--scratch-path` the build used.
    static var productsFolders: [URL] {
        var folders: [URL] = []
        for path in [Bundle.main.executablePath, CommandLine.arguments.first].compactMap({ $0 }) {
            // The bundle is products/X.xctest on Linux, products/X.xctest/Contents/MacOS/X on macOS.
            var url = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
            while url.path.contains(".xctest") { url = url.deletingLastPathComponent() }
            if !folders.contains(url) { folders.append(url) }
        }
        folders.append(packageRoot.appendingPathComponent(".build/debug"))
        return folders
    }

    /// The path of the built executable `name`, searched next to the test bundle first.
    static func executable(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        for folder in productsFolders {
            let candidate = folder.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let searched = productsFolders.map(\.path).joined(separator: ", ")
        Issue.record("no built '\(name)' in \(searched); build the package (swift build) before running these tests",
                     sourceLocation: sourceLocation)
        throw CLIError.notBuilt(name)
    }

    /// Runs a built executable in the package root and waits for it.
    static func run(_ name: String, _ arguments: [String]) throws -> CLIResult {
        try runProcess(try executable(name), arguments)
    }

    /// Runs the program at `path` in the package root and waits for it, standard input empty.
    static func runProcess(_ path: String, _ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let outData = try Data(contentsOf: outURL)
        let errData = try Data(contentsOf: errURL)
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// A schema the report tests validate against: the file the environment variable names, else
    /// `.build/schemas/NAME` as `scripts/ensure-deps --test` fetches it; nil when neither exists.
    static func schema(_ name: String, environment variable: String) -> String? {
        if let path = ProcessInfo.processInfo.environment[variable] { return path }
        let fetched = packageRoot.appendingPathComponent(".build/schemas/\(name)").path
        return FileManager.default.fileExists(atPath: fetched) ? fetched : nil
    }

    /// A new empty folder under the system's temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("flowaudit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

enum CLIError: Error {
    case notBuilt(String)
}
