// End to end: what a tcpdump, tshark or Zeek user expects of the output. The flow table's
// columns, uids and services; the progress line on a terminal; one error format; lint's output;
// durations and usage errors.

import Foundation
import PacketBuilder
import Packets
import Testing

/// Runs flowaudit on a pseudo-terminal (script(1)): standard output and error both go to it.
enum Terminal {
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/script") }

    static func run(_ arguments: [String], environment extra: [String: String?] = [:]) throws -> String {
        let flowaudit = try CLI.executable("flowaudit")
        let command = ([flowaudit] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = CLI.packageRoot
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// `text` without ANSI escape sequences and carriage returns.
    static func plain(_ text: String) -> String {
        var out = ""
        var escape = false
        for scalar in text.unicodeScalars {
            if escape {
                if scalar.value >= 0x40 && scalar.value <= 0x7E && scalar != "[" { escape = false }
                continue
            }
            if scalar == "\u{1B}" { escape = true; continue }
            if scalar == "\r" { continue }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}

@Suite("Output as people expect: the flow table, uids and services, progress, errors, lint, durations")
struct OutputHabitsTests {
    static let start: Int64 = 1_750_000_000 * 1_000_000_000
    static let second: Int64 = 1_000_000_000
    static let longName = "a-very-long-host-name-that-does-not-fit.storage.example.com"

    /// One flow per application protocol, most on ports that are not the protocol's own (the
    /// service comes from the payload), plus one on port 22 whose payload is not SSH.
    static func serviceFrames() -> [(frames: [TimedFrame], responder: String, service: String?)] {
        let c = Conversation()
        let t = start
        let client = "10.9.0.1"
        let kerberos: [UInt8] = [0x6A, 0x12, 0x30, 0x10, 0xA1, 0x03, 0x02, 0x01, 0x05, 0xA2, 0x03, 0x02, 0x01, 0x0A, 0xA4, 0x02, 0x30, 0x00, 0, 0]
        let ldapBind: [UInt8] = [0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]
        let smb2: [UInt8] = [0x00, 0x00, 0x00, 0x44, 0xFE, 0x53, 0x4D, 0x42] + [UInt8](repeating: 0, count: 0x40)
        return [
            // DNS first: it binds the long name to the TLS server below.
            (c.udpExchange(client: Endpoint(client, 40000), server: Endpoint("10.9.0.53", 53), at: t,
                           request: DNSPayload.query(name: longName).bytes(),
                           response: DNSPayload.response(name: longName, answers: [.a(longName, IPAddress(parsing: "10.9.0.43"))]).bytes()),
             "10.9.0.53", "dns"),
            (c.tcpSession(client: Endpoint(client, 40001), server: Endpoint("10.9.0.43", 8443), at: t + second,
                          clientData: [TLSPayload.clientHello(serverName: "sni.example.com")],
                          serverData: [TLSPayload.serverHello(selectedVersion: .tls13)]),
             "10.9.0.43", "tls"),
            (c.tcpSession(client: Endpoint(client, 40002), server: Endpoint("10.9.0.80", 8080), at: t + 2 * second,
                          clientData: [HTTPPayload.get(host: "web.example.com")], serverData: [HTTPPayload.okResponse()]),
             "10.9.0.80", "http"),
            (c.tcpSession(client: Endpoint(client, 40003), server: Endpoint("10.9.0.22", 2222), at: t + 3 * second,
                          clientData: [Array("SSH-2.0-OpenSSH_9.6\r\n".utf8)], serverData: [Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)]),
             "10.9.0.22", "ssh"),
            (c.tcpSession(client: Endpoint(client, 40004), server: Endpoint("10.9.0.45", 4450), at: t + 4 * second,
                          clientData: [smb2], serverData: [smb2]),
             "10.9.0.45", "smb"),
            (c.tcpSession(client: Endpoint(client, 40005), server: Endpoint("10.9.0.89", 3890), at: t + 5 * second,
                          clientData: [ldapBind], serverData: [Conversation.filler(count: 20)]),
             "10.9.0.89", "ldap"),
            (c.udpExchange(client: Endpoint(client, 40006), server: Endpoint("10.9.0.88", 8888), at: t + 6 * second,
                           request: kerberos, response: Conversation.filler(count: 30)),
             "10.9.0.88", "kerberos"),
            // Port 22, but the payload is no SSH banner: no service.
            (c.tcpSession(client: Endpoint(client, 40007), server: Endpoint("10.9.0.23", 22), at: t + 7 * second,
                          clientData: [Conversation.filler(count: 64)], serverData: [Conversation.filler(count: 64)]),
             "10.9.0.23", nil),
        ]
    }

    static func capture(in folder: URL) throws -> (path: String, flows: [(responder: String, service: String?)]) {
        let conversations = serviceFrames()
        let path = try FlowsCommandTests.write(FlowsCommandTests.pcap(TimedFrame.merge(conversations.map(\.frames))), "services.pcap", in: folder)
        return (path, conversations.map { ($0.responder, $0.service) })
    }

    static func flows(_ result: CLIResult) throws -> [[String: Any]] {
        try #require(try result.json()["flows"] as? [[String: Any]])
    }

    // MARK: uid and service

    @Test("each flow has a uid like Zeek's, unique, the same in every run and however the capture is read")
    func stableUIDs() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (path, _) = try Self.capture(in: folder)
        let first = try Self.flows(try CLI.run("flowaudit", ["flows", path, "--format", "json"]))
        let uids = first.compactMap { $0["uid"] as? String }
        #expect(uids.count == first.count && !uids.isEmpty)
        #expect(Set(uids).count == uids.count, "unique: \(uids)")
        for uid in uids {
            #expect(uid.count == 18 && uid.hasPrefix("C") && uid.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }, "\(uid)")
        }
        let again = try Self.flows(try CLI.run("flowaudit", ["flows", path, "--format", "json", "--batch-packets", "1", "--read-buffer", "4096"]))
        // Keyed by Community ID: the same flow gets the same uid.
        func byCommunity(_ rows: [[String: Any]]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: rows.map { ($0["community_id"] as? String ?? "", $0["uid"] as? String ?? "") })
        }
        #expect(byCommunity(again) == byCommunity(first))
        // CSV and text carry the same uids.
        let csv = try CLI.run("flowaudit", ["flows", path, "--format", "csv"])
        let header = try #require(csv.stdout.split(separator: "\n").first).split(separator: ",")
        #expect(header.prefix(2) == ["start", "uid"] && header.contains("service") && header.contains("tls_version") && header.contains("names"))
        let text = try CLI.run("flowaudit", ["flows", path]).stdout
        for uid in uids {
            #expect(csv.stdout.contains(",\(uid),"), "CSV has \(uid)")
            #expect(text.contains(" \(uid) "), "text has \(uid)")
        }
    }

    @Test("the audit report's groups and evidence list the uids the flow table gives the same flows")
    func uidsInTheAuditReport() throws {
        let system = "remotespark"
        let capture = "Captures/\(system)/\(try ScenarioAuditTests.Expected(system: system).capture)"
        let flows = try Self.flows(try CLI.run("flowaudit", ["flows", capture, "--format", "json"]))
        let uidByCommunity = Dictionary(uniqueKeysWithValues: flows.map { ($0["community_id"] as? String ?? "", $0["uid"] as? String ?? "") })
        let report = try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/\(system)/site.yaml", "--format", "json"]).json()
        let groups = (report["unexpected"] as? [[String: Any]] ?? []) + (report["attempts"] as? [[String: Any]] ?? [])
        #expect(!groups.isEmpty)
        for group in groups {
            let communityIDs = try #require(group["community_ids"] as? [String])
            let uids = try #require(group["uids"] as? [String], "a group lists uids: \(group.keys)")
            #expect(uids == communityIDs.map { uidByCommunity[$0] ?? "?" })
            let example = try #require(group["example"] as? [String: Any])
            #expect(example["uid"] as? String == uidByCommunity[example["community_id"] as? String ?? ""])
        }
        let text = try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/\(system)/site.yaml"]).stdout
        let uid = try #require((groups.first?["uids"] as? [String])?.first)
        #expect(text.contains("uid: \(uid)") || text.contains("uids: \(uid)"), "\(text.prefix(3000))")
    }

    @Test("service comes from the payload: DNS, TLS, HTTP, SSH, SMB, LDAP, Kerberos on other ports; none for a port alone")
    func services() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (path, expected) = try Self.capture(in: folder)
        let result = try CLI.run("flowaudit", ["flows", path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try Self.flows(result)
        #expect(rows.count == expected.count)
        for (responder, service) in expected {
            let row = try #require(rows.first { $0["responder"] as? String == responder }, "a flow to \(responder)")
            #expect(row["service"] as? String == service, "\(responder): \(row["service"] ?? "none")")
        }
        let csv = try CLI.run("flowaudit", ["flows", path, "--format", "csv"]).stdout
        let lines = csv.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let serviceColumn = try #require(header.firstIndex(of: "service"))
        let responderColumn = try #require(header.firstIndex(of: "responder"))
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let want = expected.first { $0.responder == fields[responderColumn] }?.service ?? ""
            #expect(fields[serviceColumn] == want, "\(line)")
        }
    }

    // MARK: The text table

    /// The start offset of each column: where its title starts in the header (right-aligned
    /// titles end where their column ends).
    static func columnRanges(_ header: String) -> [(title: String, start: Int)] {
        var out: [(String, Int)] = []
        let characters = Array(header)
        var index = 0
        while index < characters.count {
            while index < characters.count, characters[index] == " " { index += 1 }
            let start = index
            while index < characters.count, characters[index] != " " { index += 1 }
            if index > start { out.append((String(characters[start..<index]), start)) }
        }
        return out
    }

    /// Every row has a column boundary (a blank before a cell) where the header has one.
    static func checkAligned(_ table: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let header = table.first else { return }
        let columns = columnRanges(header)
        let leftAligned = ["start", "uid", "proto", "initiator", "responder", "service", "state", "history", "tls", "names",
                           "initiator-by", "community-id", "tunnel"]
        for row in table.dropFirst() {
            let characters = Array(row)
            for column in columns where leftAligned.contains(column.title) {
                #expect(column.start < characters.count && characters[column.start] != " " && characters[column.start - (column.start > 0 ? 1 : 0)] == " "
                            || column.start == 0,
                        "column \(column.title) starts at \(column.start) in: \(row)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("the text table: aligned columns, a names column cut with an ellipsis, the TLS version, plurals right")
    func textTable() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (path, expected) = try Self.capture(in: folder)
        let result = try CLI.run("flowaudit", ["flows", path])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let table = Array(lines.prefix { !$0.isEmpty })
        #expect(table.count == expected.count + 1)
        let header = try #require(table.first)
        for title in ["uid", "service", "tls", "names", "state"] { #expect(header.contains(" \(title) "), "\(header)") }
        Self.checkAligned(table)
        // The TLS flow: its version, its SNI and the DNS name, cut to the column with "…".
        let tlsRow = try #require(table.first { $0.contains("10.9.0.43:8443") })
        #expect(tlsRow.contains(" 1.3 "), "\(tlsRow)")
        #expect(tlsRow.contains("…"), "the names are longer than the column: \(tlsRow)")
        #expect(!tlsRow.contains(Self.longName + ","), "\(tlsRow)")
        // JSON carries them whole.
        let json = try Self.flows(try CLI.run("flowaudit", ["flows", path, "--format", "json"]))
        let tls = try #require(json.first { $0["responder"] as? String == "10.9.0.43" })
        #expect(tls["names"] as? [String] == [Self.longName, "sni.example.com"])
        #expect(tls["tls_version"] as? String == "1.3")
        // Counts in words: "1 packet", "2 packets".
        let onePacket = try FlowsCommandTests.write(FlowsCommandTests.pcap(
            Conversation().tcpUnanswered(client: Endpoint("10.9.1.1", 40000), server: Endpoint("10.9.1.2", 80), at: Self.start, retransmissions: 0)),
            "one.pcap", in: folder)
        let one = try CLI.run("flowaudit", ["flows", onePacket])
        #expect(one.stdout.contains(" 1 packet\n") && !one.stdout.contains(" 1 packets"), "\(one.stdout)")
        #expect(result.stdout.contains(" packets\n"), "\(result.stdout)")
    }

    @Test("past the first 1,000 flows the widths hold: a later long name is cut with an ellipsis, numbers never are")
    func widthsFixedAfterMeasuredRows() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let c = Conversation()
        var conversations: [[TimedFrame]] = []
        for index in 0..<1001 {
            conversations.append(c.udpExchange(client: Endpoint("10.8.\(index / 250).\(index % 250 + 1)", 40000), server: Endpoint("10.8.9.1", 9999),
                                               at: Self.start + Int64(index) * 1_000_000, request: Conversation.filler(count: 10),
                                               response: Conversation.filler(count: 10)))
        }
        // Two minutes later, when the UDP flows have ended idle: a TLS flow whose SNI is long,
        // and whose byte counts are wider than any measured.
        conversations.append(c.tcpSession(client: Endpoint("10.8.8.1", 40001), server: Endpoint("10.8.9.2", 443), at: Self.start + 120 * Self.second,
                                          clientData: [TLSPayload.clientHello(serverName: Self.longName)],
                                          serverData: [Conversation.filler(count: 1400), Conversation.filler(count: 1400)]))
        let path = try FlowsCommandTests.write(FlowsCommandTests.pcap(TimedFrame.merge(conversations)), "many.pcap", in: folder)
        let result = try CLI.run("flowaudit", ["flows", path])
        #expect(result.status == 0, "\(result.stderr)")
        let table = Array(result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).prefix { !$0.isEmpty })
        #expect(table.count == 1003)
        let last = try #require(table.last)
        #expect(last.contains("10.8.9.2:443") && last.contains("…") && !last.contains(Self.longName), "\(last)")
        #expect(last.contains(" 2960 ") || last.contains(" 2800 ") || last.range(of: #" [0-9]{4} "#, options: .regularExpression) != nil, "the byte count whole: \(last)")
        Self.checkAligned(table)
        let json = try Self.flows(try CLI.run("flowaudit", ["flows", path, "--format", "json"]))
        #expect(json.contains { ($0["names"] as? [String]) == [Self.longName] })
    }

    @Test("on a terminal the table is coloured and stays aligned; NO_COLOR and --no-color keep it plain")
    func colourKeepsAlignment() throws {
        try #require(Terminal.available, "needs script(1) for a terminal")
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (path, expected) = try Self.capture(in: folder)
        let coloured = try Terminal.run(["flows", path], environment: ["NO_COLOR": nil])
        #expect(coloured.contains("\u{1B}["), "colour on a terminal")
        let table = Array(Terminal.plain(coloured).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).prefix { !$0.isEmpty })
        #expect(table.count == expected.count + 1, "\(table)")
        Self.checkAligned(table)
        // Without the escapes, the coloured table is the plain one.
        let plain = try Terminal.run(["flows", path, "--no-color"])
        #expect(!plain.contains("\u{1B}["))
        #expect(Terminal.plain(coloured) == Terminal.plain(plain))
        #expect(!(try Terminal.run(["flows", path], environment: ["NO_COLOR": "1"])).contains("\u{1B}["))
        // The audit report's rule labels line up coloured or not.
        let site = "Captures/remotespark/site.yaml", capture = "Captures/remotespark/capture.pcap"
        let report = Terminal.plain(try Terminal.run(["audit", capture, "--site", site], environment: ["NO_COLOR": nil]))
        let plainReport = Terminal.plain(try Terminal.run(["audit", capture, "--site", site, "--no-color"]))
        #expect(report == plainReport)
    }

    // MARK: Progress

    @Test("a progress line on a terminal for a large input; none with --quiet, none off a terminal, none for a small file")
    func progressLine() throws {
        try #require(Terminal.available, "needs script(1) for a terminal")
        let capture = "Captures/remotespark/capture.pcap", site = "Captures/remotespark/site.yaml"
        // The hidden threshold stands in for 100 MB, so the test need not write that much.
        for command in [["flows", capture, "--output", "/dev/null"], ["audit", capture, "--site", site, "--output", "/dev/null"]] {
            let shown = try Terminal.run(command + ["--progress-threshold", "0"])
            #expect(shown.contains("flowaudit: 100% of 15 kB, ") && shown.contains(" packets/s, ETA "), "\(command[0]): \(shown.debugDescription)")
            let quiet = try Terminal.run(command + ["--progress-threshold", "0", "--quiet"])
            #expect(!quiet.contains("packets/s"), "\(command[0]) --quiet: \(quiet.debugDescription)")
            let small = try Terminal.run(command)
            #expect(!small.contains("packets/s"), "\(command[0]) below 100 MB: \(small.debugDescription)")
            let notTerminal = try CLI.run("flowaudit", command + ["--progress-threshold", "0"])
            #expect(!notTerminal.stderr.contains("packets/s") && !notTerminal.stderr.contains("%"), "\(notTerminal.stderr)")
        }
        // Standard input has no size: no progress line.
        let piped = try Terminal.run(["flows", "-", "--progress-threshold", "0"])
        #expect(!piped.contains("packets/s"))
    }

    // MARK: Errors

    @Test("every error has one form: flowaudit: error: FILE:LINE:COL: message")
    func oneErrorFormat() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rules = folder.appendingPathComponent("bad.yaml").path
        try "system: bad\ntitle: Bad\nsource: here\nroles:\n  a: { description: A, monitored: true }\nrules:\n  - id: r\n    purpose: p\n    from: a\n    to: b\n    services: [tcp/80]\n    ref: row 1\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let site = folder.appendingPathComponent("site.yaml").path
        try "site: s\nrules: [bad.yaml]\nroles:\n  a: [10.0.0.1]\n".write(toFile: site, atomically: true, encoding: .utf8)
        let audit = try CLI.run("flowaudit", ["audit", "Captures/remotespark/capture.pcap", "--site", site])
        #expect(audit.status == 2)
        #expect(audit.stderr.contains("flowaudit: error: \(rules):10:9: "), "\(audit.stderr)")
        let lint = try CLI.run("flowaudit", ["lint", rules])
        #expect(lint.status == 2)
        #expect(lint.stderr.contains("flowaudit: error: \(rules):10:9: "), "\(lint.stderr)")
        let explain = try CLI.run("flowaudit", ["explain", "--site", "Captures/arksspr/site.yaml", "not a flow"])
        #expect(explain.status == 2 && explain.stderr.hasPrefix("flowaudit: error: "), "\(explain.stderr)")
        let missing = try CLI.run("flowaudit", ["flows", folder.appendingPathComponent("none.pcap").path])
        #expect(missing.stderr.hasPrefix("flowaudit: error: \(folder.appendingPathComponent("none.pcap").path): no such file"), "\(missing.stderr)")
        let usage = try CLI.run("flowaudit", ["flows", "--no-such-option"])
        #expect(usage.status == 2 && usage.stderr.hasPrefix("flowaudit: error: "), "\(usage.stderr)")
        let diff = try CLI.run("flowaudit", ["diff", rules, rules])
        #expect(diff.status == 2 && diff.stderr.hasPrefix("flowaudit: error: "), "\(diff.stderr)")
        // Every line of standard error, in every run above, is in the form.
        for result in [audit, lint, explain, missing, usage, diff] {
            let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.hasPrefix("flowaudit: error: ") || first.hasPrefix("flowaudit: warning: ") || first.hasPrefix("flowaudit: note: "), "\(first)")
        }
    }

    // MARK: Lint

    @Test("the shipped rules lint with no warning; the model is printed only for a valid file or with --print")
    func lint() throws {
        let rules = try FileManager.default.contentsOfDirectory(atPath: CLI.packageRoot.appendingPathComponent("Rules").path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "Rules/\($0)" }
        #expect(rules.count >= 4)
        let shipped = try CLI.run("flowaudit", ["lint"] + rules)
        #expect(shipped.status == 0, "\(shipped.stderr)")
        #expect(!shipped.stderr.contains("warning:") && !shipped.stderr.contains("error:"), "\(shipped.stderr)")
        #expect(shipped.stderr.contains("0 errors, 0 warnings"))
        #expect(shipped.stdout.contains("rule file Rules/arksspr.yaml"), "the model of valid files")

        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.yaml").path
        try "system: broken\ntitle: Broken\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let invalid = try CLI.run("flowaudit", ["lint", broken])
        #expect(invalid.status == 2)
        #expect(invalid.stdout.isEmpty, "no model for an invalid file: \(invalid.stdout)")
        #expect(invalid.stderr.contains("missing required key 'roles'"))
        let printed = try CLI.run("flowaudit", ["lint", "--print", broken])
        #expect(printed.status == 2)
        #expect(printed.stdout.contains("system broken"), "\(printed.stdout)")
    }

    @Test("a number where text is meant is read as written, and lint says so with its place")
    func numbersReadAsWritten() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Rules/arksspr.yaml"), encoding: .utf8)
        #expect(original.contains("tls-minimum: \"1.2\""))
        let path = folder.appendingPathComponent("arksspr.yaml").path
        try original.replacingOccurrences(of: "tls-minimum: \"1.2\"", with: "tls-minimum: 1.2")
            .replacingOccurrences(of: "title: ARKSSPR self-service password reset", with: "title: 1.10")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let tlsLine = try #require(lines.firstIndex { $0.hasPrefix("tls-minimum:") }) + 1
        let titleLine = try #require(lines.firstIndex { $0.hasPrefix("title:") }) + 1
        let result = try CLI.run("flowaudit", ["lint", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("flowaudit: note: \(path):\(tlsLine):14: tls-minimum '1.2' is a number in YAML; read as the text '1.2'"), "\(result.stderr)")
        #expect(result.stderr.contains("flowaudit: note: \(path):\(titleLine):8: title '1.10' is a number in YAML; read as the text '1.10'"), "\(result.stderr)")
        #expect(result.stdout.contains("system arksspr: 1.10 ") && result.stdout.contains("tls-minimum 1.2"), "\(result.stdout.prefix(300))")
    }

    // MARK: Durations and usage errors

    @Test("durations are 90, 90s, 5m or 1h wherever one is taken; a bad one is a usage error, exit 2")
    func durations() throws {
        let capture = "Captures/remotespark/capture.pcap"
        let reference = try CLI.run("flowaudit", ["flows", capture, "--format", "csv"])
        for (tcp, udp) in [("300", "60"), ("300s", "60s"), ("5m", "1m"), ("5m", "60")] {
            let result = try CLI.run("flowaudit", ["flows", capture, "--format", "csv", "--tcp-timeout", tcp, "--udp-timeout", udp])
            #expect(result.status == 0, "\(tcp) \(udp): \(result.stderr)")
            #expect(result.stdout == reference.stdout, "\(tcp) \(udp) are the defaults")
        }
        let hour = try CLI.run("flowaudit", ["audit", capture, "--site", "Captures/remotespark/site.yaml", "--tcp-timeout", "1h", "--udp-timeout", "90", "--format", "json"])
        #expect(hour.status != 2, "\(hour.stderr)")
        // A short UDP timeout splits flows: the value is taken in seconds.
        let split = try CLI.run("flowaudit", ["flows", capture, "--format", "json", "--udp-timeout", "90s"])
        #expect(split.status == 0)
        for bad in ["5x", "0", "-1", "m", ""] {
            let result = try CLI.run("flowaudit", ["flows", capture, "--tcp-timeout", bad])
            #expect(result.status == 2, "--tcp-timeout '\(bad)': \(result.status)")
            #expect(result.stderr.hasPrefix("flowaudit: error: "), "\(result.stderr)")
        }
        // The site's dns-grace takes the same forms.
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (value, valid) in [("3600", true), ("3600s", true), ("60m", true), ("1h", true), ("1x", false)] {
            let site = folder.appendingPathComponent("site-\(value).yaml").path
            let original = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Captures/remotespark/site.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "../../Rules/", with: CLI.packageRoot.appendingPathComponent("Rules").path + "/")
            try (original + "\ndns-grace: \(value)\n").write(toFile: site, atomically: true, encoding: .utf8)
            let result = try CLI.run("flowaudit", ["lint", site])
            #expect((result.status == 0) == valid, "dns-grace: \(value): \(result.stderr)")
        }
    }

    @Test("usage errors exit 2, never 64, in every command")
    func usageErrorsExitTwo() throws {
        let cases: [[String]] = [
            ["audit", "Captures/remotespark/capture.pcap"],                      // --site missing
            ["audit", "Captures/remotespark/capture.pcap", "--site", "x", "--fail-on", "nonsense"],
            ["flows"],
            ["flows", "--format", "xml", "Captures/remotespark/capture.pcap"],
            ["lint"],
            ["explain", "a -> b tcp/1"],                                          // --site missing
            ["diff", "only-one.json"],
            ["live", "-i", "lo", "--site", "x", "--every", "soon"],
            ["no-such-command"],
        ]
        for arguments in cases {
            let result = try CLI.run("flowaudit", arguments)
            #expect(result.status == 2, "\(arguments): exit \(result.status)")
            #expect(result.stderr.hasPrefix("flowaudit: error: "), "\(arguments): \(result.stderr)")
        }
    }
}
