import Foundation
import Testing
@testable import Audit

@Suite struct FileDigestTests {
    @Test func knownAnswers() throws {
        #expect(FileDigest.sha256(bytes: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)").path
        // Larger than the 1 MiB read buffer, so several chunks are hashed.
        let bytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let digest = try #require(FileDigest.sha256(path: path))
        #expect(digest.size == Int64(bytes.count))
        #expect(digest.digest == FileDigest.sha256(bytes: bytes))
        let background = BackgroundDigests(paths: [path, "-", "/nonexistent/file"])
        #expect(background.digest(of: path)?.digest == digest.digest)
        #expect(background.digest(of: "-") == nil && background.digest(of: "/nonexistent/file") == nil)
    }
}
