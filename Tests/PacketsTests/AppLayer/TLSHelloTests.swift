import Testing
import Packets
import PacketBuilder

@Suite struct TLSHelloTests {
    @Test func clientHelloWithSNIAndSupportedVersions() throws {
        let hello = try TLSHello.parse(TLSPayload.clientHello(serverName: "License.Example.COM", supportedVersions: [.tls13, .tls12]))
        #expect(hello == .client(TLSClientHello(recordVersion: .tls10, legacyVersion: .tls12, serverName: "license.example.com",
                                                supportedVersions: [.tls13, .tls12])))
        guard case let .client(client) = hello else { return }
        #expect(client.highestVersion == .tls13)
    }

    @Test func greaseVersionsAreListedButNotHighest() throws {
        let grease = TLSVersion(rawValue: 0x7A7A)
        #expect(grease.isGREASE && !TLSVersion.tls13.isGREASE && !TLSVersion(rawValue: 0x7A7B).isGREASE)
        guard case let .client(client) = try TLSHello.parse(TLSPayload.clientHello(supportedVersions: [grease, .tls12, .tls11])) else {
            Issue.record("not a ClientHello"); return
        }
        #expect(client.supportedVersions == [grease, .tls12, .tls11])
        #expect(client.highestVersion == .tls12)
        #expect(client.serverName == nil)
    }

    @Test func legacyClientHelloWithoutExtensions() throws {
        let bare = try TLSHello.parse(TLSPayload.legacyClientHello())
        #expect(bare == .client(TLSClientHello(recordVersion: .tls10, legacyVersion: .tls10, serverName: nil, supportedVersions: [])))
        guard case let .client(withName) = try TLSHello.parse(TLSPayload.legacyClientHello(serverName: "old.example", version: .tls11)) else {
            Issue.record("not a ClientHello"); return
        }
        #expect(withName.serverName == "old.example")
        #expect(withName.highestVersion == .tls11)
    }

    @Test func serverHelloVersions() throws {
        let tls12 = try TLSHello.parse(TLSPayload.serverHello(legacyVersion: .tls12))
        #expect(tls12 == .server(TLSServerHello(recordVersion: .tls12, legacyVersion: .tls12, selectedVersion: nil)))
        guard case let .server(tls13) = try TLSHello.parse(TLSPayload.serverHello(selectedVersion: .tls13)) else {
            Issue.record("not a ServerHello"); return
        }
        #expect(tls13.version == .tls13 && tls13.legacyVersion == .tls12 && !tls13.isHelloRetryRequest)
        guard case let .server(retry) = try TLSHello.parse(TLSPayload.serverHello(selectedVersion: .tls13, helloRetryRequest: true)) else {
            Issue.record("not a ServerHello"); return
        }
        #expect(retry.isHelloRetryRequest)
        guard case let .server(tls10) = try TLSHello.parse(TLSPayload.serverHello(legacyVersion: .tls10, recordVersion: .tls10)) else {
            Issue.record("not a ServerHello"); return
        }
        #expect(tls10.version == .tls10)
    }

    @Test func helloSpreadOverSeveralRecords() throws {
        let split = TLSPayload.clientHello(serverName: "split.example", maximumFragment: 40)
        let whole = TLSPayload.clientHello(serverName: "split.example")
        #expect(split.count > whole.count + 5)        // really several records
        #expect(try TLSHello.parse(split) == TLSHello.parse(whole))
        for cut in 0..<split.count {
            #expect(throws: TLSError.incomplete) { try TLSHello.parse(Array(split.prefix(cut))) }
        }
    }

    @Test func everyTruncationIsIncomplete() {
        let bytes = TLSPayload.clientHello(serverName: "a.example")
        for cut in 0..<bytes.count {
            #expect(throws: TLSError.incomplete) { try TLSHello.parse(Array(bytes.prefix(cut))) }
        }
    }

    @Test func notAHandshake() {
        #expect(throws: TLSError.notHandshake) { try TLSHello.parse(HTTPPayload.get(host: "x")) }
        #expect(throws: TLSError.notHandshake) { try TLSHello.parse([23, 3, 3, 0, 2, 1, 2]) }      // application data
        #expect(throws: TLSError.notHandshake) { try TLSHello.parse([22, 2, 0, 0, 4, 1, 0, 0, 0]) } // not version 3.x
        let certificate = TLSPayload.records(TLSPayload.handshake(type: 11, body: [0, 0, 0]), version: .tls12, maximumFragment: 100)
        #expect(throws: TLSError.notHello) { try TLSHello.parse(certificate) }
    }

    @Test func recordTooLong() {
        #expect(throws: TLSError.recordTooLong) { try TLSHello.parse([22, 3, 1, 0x48, 0x01, 1, 0, 0, 0]) }
    }

    @Test func badServerNames() {
        #expect(throws: TLSError.badServerName) { try TLSHello.parse(TLSPayload.clientHello(serverName: "has space.example")) }
        #expect(throws: TLSError.badServerName) { try TLSHello.parse(TLSPayload.clientHello(serverName: "")) }
        #expect(throws: TLSError.badServerName) { try TLSHello.parse(TLSPayload.clientHello(serverName: String(repeating: "a", count: 256))) }
        #expect(throws: TLSError.badServerName) { try TLSHello.parse(TLSPayload.clientHello(serverName: "caf\u{E9}.example")) }
    }

    @Test func malformedExtensions() {
        // server_name whose list length disagrees with the extension length.
        let badList: [(type: UInt16, data: [UInt8])] = [(type: 0, data: [0, 9, 0, 0, 1, 0x61])]
        #expect(throws: TLSError.badExtension) { try TLSHello.parse(TLSPayload.clientHello(supportedVersions: nil, extraExtensions: badList)) }
        // supported_versions with an odd list.
        let badVersions: [(type: UInt16, data: [UInt8])] = [(type: 43, data: [3, 3, 4, 3])]
        #expect(throws: TLSError.badExtension) { try TLSHello.parse(TLSPayload.clientHello(supportedVersions: nil, extraExtensions: badVersions)) }
        // An extension announcing more bytes than the block holds: patch the last extension's length.
        var bytes = TLSPayload.clientHello(supportedVersions: [.tls13])
        bytes[bytes.count - 4] = 0x00
        bytes[bytes.count - 3] = 0x09
        #expect(throws: TLSError.badExtension) { try TLSHello.parse(bytes) }
    }

    @Test func badInnerLengths() {
        var bytes = TLSPayload.clientHello(serverName: "x.example")
        bytes[9 + 34] = 33                                 // session id longer than 32
        #expect(throws: TLSError.badLength) { try TLSHello.parse(bytes) }
        var odd = TLSPayload.clientHello(serverName: "x.example")
        odd[9 + 35 + 32 + 1] = 3                           // cipher suites length odd
        #expect(throws: TLSError.badLength) { try TLSHello.parse(odd) }
    }

    @Test func mutatedHellosNeverCrash() {
        var outcomes: Set<String> = []
        for bytes in mutations(of: TLSPayload.clientHello(serverName: "m.example"), count: 5000, seed: 0x715) +
                     mutations(of: TLSPayload.serverHello(selectedVersion: .tls13), count: 2000, seed: 0x716) {
            do { _ = try TLSHello.parse(bytes); outcomes.insert("parsed") } catch { outcomes.insert(error.rawValue) }
        }
        #expect(outcomes.contains("parsed") && outcomes.count >= 4)
    }

    @Test func versionNames() {
        #expect(TLSVersion.tls12.description == "TLS 1.2")
        #expect(TLSVersion.ssl3.description == "SSL 3.0")
        #expect(TLSVersion(rawValue: 0x7F1C).description == "0x7f1c")
        #expect(TLSVersion.tls11 < .tls12)
    }
}
