// End to end: `flowaudit audit --format html` over the Captures/ scenarios, loaded in headless
// Chromium (its DOM after the page's script ran, and a screenshot), checked by an HTML validator,
// and fed a capture whose DNS answer names a host `<script>`.

import Foundation
import PacketBuilder
import Packets
import Testing

/// Headless Chromium, as Debian's `chromium` package installs it (`scripts/ensure-deps --test`).
enum Chromium {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["FLOWAUDIT_CHROMIUM"] { return path }
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    /// Runs Chromium headless on `page` with a fresh profile, under a time limit (as root it
    /// needs --no-sandbox).
    static func run(_ page: URL, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        let chromium = try #require(path, "no chromium: run scripts/ensure-deps --test", sourceLocation: sourceLocation)
        let profile = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: profile) }
        return try CLI.runProcess("/usr/bin/timeout", [
            "120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
        ] + arguments + [page.absoluteString])
    }

    /// The page's DOM after its script ran (`--dump-dom`).
    static func dom(_ page: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let result = try run(page, ["--dump-dom", "--virtual-time-budget=2000"], sourceLocation: sourceLocation)
        #expect(result.status == 0, "chromium: \(result.stderr.suffix(2000))", sourceLocation: sourceLocation)
        return result.stdout
    }
}

/// What the tests read from a page: parsed by Python's own HTML parser into JSON.
struct PageFacts {
    var json: [String: Any]

    /// Parses `html` (a file's text or Chromium's DOM dump).
    init(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("page.html")
        try html.write(to: file, atomically: true, encoding: .utf8)
        let result = try CLI.runProcess("/usr/bin/env", ["python3", "-c", Self.script, file.path])
        #expect(result.status == 0, "python3: \(result.stderr)", sourceLocation: sourceLocation)
        json = try result.json(sourceLocation: sourceLocation)
    }

    subscript(key: String) -> Any? { json[key] }
    func list(_ key: String) -> [[String: Any]] { json[key] as? [[String: Any]] ?? [] }
    func strings(_ key: String) -> [String] { json[key] as? [String] ?? [] }

    /// A tree from html.parser (void elements closed, end tags matched up the stack), then the
    /// facts the tests check.
    static let script = #"""
import json, sys
from html.parser import HTMLParser
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []
    def classes(self):
        return set((self.attrs.get("class") or "").split())
    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()
    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)
    def find(self, tag=None, cls=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())]
    def ancestor(self, tag, cls=None):
        n = self.parent
        while n is not None and not (n.tag == tag and (cls is None or cls in n.classes())):
            n = n.parent
        return n
class Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.current = self.root
    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node
    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))
    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent
    def handle_data(self, data):
        self.current.children.append(data)
b = Builder()
b.feed(open(sys.argv[1], encoding="utf-8").read())
b.close()
root = b.root
out = {}
html = root.find("html")
out["html_classes"] = sorted(html[0].classes()) if html else []
metas = [m for m in root.find("meta") if (m.attrs.get("http-equiv") or "").lower() == "content-security-policy"]
out["csp"] = metas[0].attrs.get("content") if metas else None
out["styles"] = [s.text() for s in root.find("style")]
out["scripts"] = [{"src": s.attrs.get("src"), "text": s.text()} for s in root.find("script")]
fetching = []
for n in root.walk():
    if n.tag in ("img", "iframe", "object", "embed", "source", "audio", "video", "image", "frame", "portal"):
        fetching.append(n.tag)
    if n.tag == "link":
        fetching.append("link " + (n.attrs.get("rel") or ""))
    if n.tag == "script" and n.attrs.get("src"):
        fetching.append("script src")
    if n.tag == "use" and not (n.attrs.get("href") or n.attrs.get("xlink:href") or "#").startswith("#"):
        fetching.append("use")
    if "style" in n.attrs:
        fetching.append("style attribute on " + n.tag)
for s in out["styles"]:
    if "url(" in s or "@import" in s:
        fetching.append("css url")
out["fetching"] = fetching
verdict = root.find("section", "verdict")
out["verdict_word"] = verdict[0].find("p", "verdict-word")[0].text() if verdict else None
out["verdict_classes"] = sorted(verdict[0].classes()) if verdict else []
out["incomplete"] = [p.text() for p in root.find("p", "incomplete")]
out["counts"] = {li.find("span", "count-label")[0].text(): li.find("span", "count-value")[0].text() for li in root.find("li", "count")}
diagrams = []
for svg in root.find("svg", "diagram"):
    section = svg.ancestor("section", "system")
    edges = []
    for g in svg.find("g", "edges")[0].find("g", "edge"):
        paths = g.find("path", "line")
        edges.append({"from": g.attrs.get("data-from"), "to": g.attrs.get("data-to"), "kind": g.attrs.get("data-kind"),
                      "classes": sorted(g.classes()), "marker_end": paths[0].attrs.get("marker-end") if paths else None,
                      "label": "".join(t.text() for t in g.find("text", "edge-label"))})
    legend = [sorted(g.classes()) for g in svg.find("g", "legend")[0].find("g", "edge")] if svg.find("g", "legend") else []
    markers = [m.attrs.get("id") for m in svg.find("marker")]
    diagrams.append({"section": section.attrs.get("id") if section else None, "edges": edges, "legend": legend, "markers": markers,
                     "nodes": [g.attrs.get("data-role") for g in svg.find("g", "node")]})
out["diagrams"] = diagrams
rules = []
for tr in root.find("tr", "rule"):
    table = tr.ancestor("table")
    section = tr.ancestor("section", "system")
    refs = [a.attrs.get("href") for a in tr.find("a", "ref")]
    texts = [s.text() for s in tr.find("span", "ref-text")]
    rules.append({"id": tr.attrs.get("id"), "status": tr.attrs.get("data-status"), "refs": refs, "ref_text": texts[0] if texts else None,
                  "table": table.attrs.get("id") if table else None, "section": section.attrs.get("id") if section else None})
out["rules"] = rules
out["findings"] = [tr.attrs.get("data-category") for tr in root.find("tr", "finding")]
out["groups"] = [{"id": tr.attrs.get("id"), "kind": tr.attrs.get("data-kind"), "text": tr.text(),
                  "names": [s.text() for s in tr.find("span", "names")]} for tr in root.find("tr", "group")]
out["advisories"] = [tr.attrs.get("id") for t in root.find("table", "advisories") for tr in t.find("tr", "advisory")]
out["ids"] = [n.attrs["id"] for n in root.walk() if "id" in n.attrs]
tables = []
for t in root.find("table", "data"):
    ths = t.find("th")
    body = t.find("tbody")
    tables.append({"classes": sorted(t.classes()), "headers": len(ths), "sort_buttons": sum(1 for th in ths if th.find("button", "sort")),
                   "rows": len(body[0].find("tr")) if body else 0,
                   "filter_before": any("filter" in sib.classes() for sib in t.parent.parent.children if isinstance(sib, Node)) if t.parent and t.parent.parent else False})
out["tables"] = tables
out["document_links"] = [{"href": a.attrs.get("href"), "section": (a.ancestor("section", "system").attrs.get("id") if a.ancestor("section", "system") else None)}
                         for a in root.find("a", "document-link")]
out["system_text"] = {s.attrs.get("id"): s.find("p", "document")[0].text() for s in root.find("section", "system") if s.find("p", "document")}
print(json.dumps(out))
"""#
}

/// A PNG decoded (Python's zlib; no imaging library), reduced to facts per horizontal band.
struct ScreenshotBands {
    var width: Int
    var height: Int
    var bandHeight: Int
    /// Per band: pixels that are not (near) white, and pixels near each named colour.
    var nonWhite: [Int]
    var colours: [String: [Int]]

    init(png: URL, bandHeight: Int, colours: [String: (Int, Int, Int)], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let spec = colours.map { "\($0.key)=\($0.value.0),\($0.value.1),\($0.value.2)" }.joined(separator: ";")
        let result = try CLI.runProcess("/usr/bin/env", ["python3", "-c", Self.script, png.path, "\(bandHeight)", spec])
        #expect(result.status == 0, "python3: \(result.stderr)", sourceLocation: sourceLocation)
        let json = try result.json(sourceLocation: sourceLocation)
        width = json["width"] as? Int ?? 0
        height = json["height"] as? Int ?? 0
        self.bandHeight = bandHeight
        nonWhite = json["non_white"] as? [Int] ?? []
        self.colours = json["colours"] as? [String: [Int]] ?? [:]
    }

    static let script = #"""
import json, struct, sys, zlib
path, band, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3]
targets = {}
for item in filter(None, spec.split(";")):
    name, rgb = item.split("=")
    targets[name] = tuple(int(v) for v in rgb.split(","))
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, bytearray()
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    pos += 12 + length
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and interlace == 0 and colour in (2, 6), "unexpected PNG layout"
    elif kind == b"IDAT":
        idat += body
    elif kind == b"IEND":
        break
raw = zlib.decompress(bytes(idat))
bpp = 3 if colour == 2 else 4
stride = width * bpp
prev = bytearray(stride)
i = 0
bands = (height + band - 1) // band
non_white = [0] * bands
counts = {name: [0] * bands for name in targets}
for y in range(height):
    kind = raw[i]
    line = bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    if kind == 1:
        for x in range(bpp, stride):
            line[x] = (line[x] + line[x - bpp]) & 255
    elif kind == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif kind == 3:
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            line[x] = (line[x] + ((left + prev[x]) >> 1)) & 255
    elif kind == 4:
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
    prev = line
    row = y // band
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        if r < 247 or g < 247 or b < 247:
            non_white[row] += 1
            for name, (tr, tg, tb) in targets.items():
                if abs(r - tr) <= 24 and abs(g - tg) <= 24 and abs(b - tb) <= 24:
                    counts[name][row] += 1
        elif targets:
            for name, (tr, tg, tb) in targets.items():
                if abs(r - tr) <= 3 and abs(g - tg) <= 3 and abs(b - tb) <= 3:
                    counts[name][row] += 1
print(json.dumps({"width": width, "height": height, "non_white": non_white, "colours": counts}))
"""#
}

@Suite("audit --format html")
struct HTMLReportTests {
    /// The audit of one scenario as HTML (into a file) and as JSON.
    static func audit(_ system: String, in folder: URL) throws -> (page: URL, result: CLIResult, json: [String: Any]) {
        let expected = try ScenarioAuditTests.Expected(system: system)
        let arguments = ["audit", "Captures/\(system)/\(expected.capture)", "--site", "Captures/\(system)/site.yaml", "--digest", "none"]
        let page = folder.appendingPathComponent("\(system).html")
        let result = try CLI.run("flowaudit", arguments + ["--format", "html", "--output", page.path])
        #expect(Int(result.status) == expected.exitStatus, "stderr: \(result.stderr)")
        let json = try CLI.run("flowaudit", arguments + ["--format", "json"]).json()
        return (page, result, json)
    }

    /// The diagram edges a report's rules and groups call for in `system`: one per ordered pair
    /// of roles and kind (docs/report.md).
    static func expectedEdges(_ report: [String: Any], system: String) throws -> Set<String> {
        var edges: Set<String> = []
        for rule in report["rules"] as? [[String: Any]] ?? [] where rule["system"] as? String == system {
            let kind: String
            switch try #require(rule["status"] as? String) {
            case "observed": kind = "allowed"
            case "missing", "partial": kind = "missing"
            case "blocked": kind = "blocked"
            case "not-seen": kind = "not-seen"
            default: continue
            }
            for from in rule["from"] as? [String] ?? [] {
                for to in rule["to"] as? [String] ?? [] { edges.insert("\(from) -> \(to) \(kind)") }
            }
        }
        for (key, kind) in [("unexpected", "unexpected"), ("attempts", "attempt")] {
            for group in report[key] as? [[String: Any]] ?? [] {
                let from = (group["initiator_roles"] as? [String] ?? []).filter { $0.hasPrefix(system + ".") }
                let to = (group["responder_roles"] as? [String] ?? []).filter { $0.hasPrefix(system + ".") }
                if from.isEmpty && to.isEmpty { continue }
                for a in from.isEmpty ? ["(other hosts)"] : from {
                    for b in to.isEmpty ? ["(other hosts)"] : to { edges.insert("\(a) -> \(b) \(kind)") }
                }
            }
        }
        return edges
    }

    static let chromiumMissing = Chromium.path == nil

    @Test("Chromium's DOM: verdict, counts, one finding row per finding, rule references, one SVG edge per role pair and kind",
          .enabled(if: !chromiumMissing, "no chromium: run scripts/ensure-deps --test"), arguments: ScenarioAuditTests.systems)
    func dom(system: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (page, _, report) = try Self.audit(system, in: folder)
        let facts = try PageFacts(try Chromium.dom(page))

        // The verdict and the counts are those of the JSON report.
        #expect(facts["verdict_word"] as? String == report["verdict"] as? String)
        let summary = try #require(report["summary"] as? [String: Any])
        let counts = try #require(summary["counts"] as? [String: Int])
        let shown = try #require(facts["counts"] as? [String: String])
        for (label, key) in [("unexpected", "unexpected"), ("missing", "missing"), ("blocked", "blocked"), ("attempts", "attempt"),
                             ("advisories", "advisory")] {
            #expect(shown[label] == counts[key].map(String.init), "count \(label)")
        }

        // One finding row per finding, of its kind.
        let findings = facts.strings("findings")
        #expect(findings.count == counts.values.reduce(0, +), "finding rows: \(findings)")
        for (key, value) in counts { #expect(findings.filter { $0 == key }.count == value, "finding rows of kind \(key)") }
        let groups = facts.list("groups")
        #expect(groups.filter { $0["kind"] as? String == "unexpected" }.count == counts["unexpected"])
        #expect(groups.filter { $0["kind"] as? String == "attempt" }.count == counts["attempt"])
        #expect(facts.strings("advisories").count == counts["advisory"])
        // Each group row carries its evidence: Community IDs and the capture filter.
        for (row, group) in zip(groups, (report["unexpected"] as? [[String: Any]] ?? []) + (report["attempts"] as? [[String: Any]] ?? [])) {
            let text = try #require(row["text"] as? String)
            for id in group["community_ids"] as? [String] ?? [] { #expect(text.contains(id), "\(row["id"] ?? "?") lists \(id)") }
            #expect(text.contains(try #require(group["filter"] as? String)))
            if let refusal = (group["example"] as? [String: Any])?["refusal"] as? String { #expect(text.contains(refusal)) }
        }

        // Every rule has a row in its system's table, with its reference and a link for it.
        let rules = try #require(report["rules"] as? [[String: Any]])
        let rows = facts.list("rules")
        #expect(rows.count == rules.count)
        let ids = Set(facts.strings("ids"))
        for rule in rules {
            let id = try #require(rule["id"] as? String), system = try #require(rule["system"] as? String)
            let row = try #require(rows.first { $0["id"] as? String == "rule-\(id)" }, "no row for \(id)")
            #expect(row["status"] as? String == rule["status"] as? String)
            #expect(row["section"] as? String == "doc-\(system)")
            #expect(row["ref_text"] as? String == rule["ref"] as? String)
            let refs = try #require(row["refs"] as? [String])
            #expect(refs.count == 1, "\(id) has one reference link")
            // The sample rule files cite document sections: the link goes to the system's
            // document paragraph, which names the document.
            #expect(refs.first == "#doc-\(system)")
            #expect(ids.contains("doc-\(system)"))
        }
        let documents = try #require(facts["system_text"] as? [String: String])
        for entry in report["systems"] as? [[String: Any]] ?? [] {
            let system = try #require(entry["system"] as? String), file = try #require(entry["file"] as? String)
            #expect(documents["doc-\(system)"]?.contains(file) == true, "the document paragraph of \(system) names \(file)")
        }

        // One diagram per system, with one edge per ordered role pair and kind, classed by kind.
        let diagrams = facts.list("diagrams")
        let systems = try #require(report["systems"] as? [[String: Any]]).compactMap { $0["system"] as? String }
        #expect(diagrams.compactMap { $0["section"] as? String } == systems.map { "doc-\($0)" })
        for (system, diagram) in zip(systems, diagrams) {
            let edges = diagram["edges"] as? [[String: Any]] ?? []
            let drawn = edges.map { "\($0["from"] as? String ?? "?") -> \($0["to"] as? String ?? "?") \($0["kind"] as? String ?? "?")" }
            #expect(drawn.count == Set(drawn).count, "an edge drawn twice in \(system): \(drawn)")
            #expect(Set(drawn) == (try Self.expectedEdges(report, system: system)), "edges of \(system)")
            let nodes = Set(diagram["nodes"] as? [String] ?? [])
            for edge in edges {
                let kind = try #require(edge["kind"] as? String)
                #expect((edge["classes"] as? [String])?.contains(kind) == true, "class of \(edge)")
                #expect((edge["marker_end"] as? String)?.hasSuffix("-\(kind))") == true, "arrowhead of \(edge)")
                #expect(nodes.contains(edge["from"] as? String ?? "") && nodes.contains(edge["to"] as? String ?? ""), "boxes of \(edge)")
                #expect(!(edge["label"] as? String ?? "").isEmpty, "port label of \(edge)")
            }
            // The legend shows every kind.
            let legend = (diagram["legend"] as? [[String]] ?? []).flatMap { $0 }
            for kind in ["allowed", "unexpected", "missing", "blocked", "attempt", "not-seen"] { #expect(legend.contains(kind)) }
        }
        // The sample scenarios were built to show every kind the issue names.
        if system != "two-products" {
            let kinds = Set(diagrams.flatMap { ($0["edges"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String } })
            #expect(kinds.isSuperset(of: ["allowed", "unexpected", "missing", "blocked"]), "kinds drawn: \(kinds)")
        }

        // The script ran (its CSP hash matched): every data table got sort buttons and a filter.
        #expect((facts["html_classes"] as? [String])?.contains("js") == true, "the page's script did not run")
        let tables = facts.list("tables")
        #expect(tables.count == systems.count + 3)
        for table in tables {
            #expect(table["sort_buttons"] as? Int == table["headers"] as? Int, "sort buttons of \(table)")
            #expect(table["filter_before"] as? Bool == true, "filter of \(table)")
        }
    }

    @Test("self-contained: nothing fetched, the CSP names the page's own style and script by hash; every table visible without script",
          arguments: ["arksspr", "two-products"])
    func selfContained(system: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (page, _, report) = try Self.audit(system, in: folder)
        let html = try String(contentsOf: page, encoding: .utf8)
        let facts = try PageFacts(html)
        #expect(facts.strings("fetching").isEmpty, "elements that fetch: \(facts.strings("fetching"))")
        let csp = try #require(facts["csp"] as? String)
        #expect(csp.contains("default-src 'none'"))
        let styles = facts.strings("styles")
        let scripts = facts.list("scripts")
        #expect(styles.count == 1 && scripts.count == 1)
        #expect(scripts.first?["src"] is NSNull || scripts.first?["src"] == nil)
        for (kind, text) in [("style-src", styles.first ?? ""), ("script-src", scripts.first?["text"] as? String ?? "")] {
            let digest = try CLI.runProcess("/usr/bin/env", ["python3", "-c",
                "import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(sys.argv[1].encode()).digest()).decode())", text])
            let hash = digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(csp.contains("\(kind) 'sha256-\(hash)'"), "\(kind) hash \(hash) in \(csp)")
        }
        // Without the script the tables are all there: every finding has its row in the file.
        let counts = try #require((report["summary"] as? [String: Any])?["counts"] as? [String: Int])
        #expect(facts.strings("findings").count == counts.values.reduce(0, +))
        #expect(facts.list("rules").count == (report["rules"] as? [Any])?.count)
        // Print: filtered rows come back, nothing is cut or hidden.
        let style = styles.first ?? ""
        #expect(style.contains("@media print"))
        #expect(style.contains("@media screen { tr.filtered-out { display: none; } }"), "rows are hidden by the filter on screen only")
        #expect(style.contains("break-inside: avoid"))
        #expect(!html.contains("<details"), "no collapsed content")
    }

    @Test("screenshot: the size asked for; the verdict at the top and the diagram below it are drawn",
          .enabled(if: !chromiumMissing, "no chromium: run scripts/ensure-deps --test"), arguments: ["arksspr", "remotespark"])
    func screenshot(system: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (page, _, report) = try Self.audit(system, in: folder)
        let png = folder.appendingPathComponent("shot.png")
        let result = try Chromium.run(page, ["--screenshot=\(png.path)", "--window-size=1280,2000"])
        #expect(result.status == 0, "chromium: \(result.stderr.suffix(2000))")
        let verdictColours = ["FAIL": (255, 235, 233), "PASS": (218, 251, 225), "NO-SCOPE": (255, 248, 197)]
        let verdict = try #require(report["verdict"] as? String)
        let edgeColours = ["allowed": (26, 127, 55), "unexpected": (207, 34, 46), "blocked": (102, 57, 186), "missing": (154, 103, 0)]
        let bands = try ScreenshotBands(png: png, bandHeight: 50,
                                        colours: edgeColours.merging(["verdict": try #require(verdictColours[verdict])]) { a, _ in a })
        #expect(bands.width == 1280 && bands.height == 2000, "screenshot \(bands.width)x\(bands.height)")
        let count = bands.nonWhite.count
        #expect(count == 40)
        // The verdict box (the band with most of its background colour: anti-aliased text has
        // a few such pixels anywhere) is in the top 300 pixels, and holds more than its
        // background (the verdict's words).
        let verdictCounts = bands.colours["verdict"] ?? []
        let verdictBand = try #require(verdictCounts.indices.max { verdictCounts[$0] < verdictCounts[$1] })
        #expect(verdictCounts[verdictBand] > 0, "no \(verdict) box colour anywhere")
        #expect(verdictBand * bands.bandHeight < 300, "verdict box at \(verdictBand * bands.bandHeight) px")
        #expect(bands.nonWhite[verdictBand] > verdictCounts[verdictBand], "the verdict box is not blank")
        // The diagram: the band with the most edge colour lies below the verdict, is not blank,
        // and every kind the report has is drawn near it. (The red of unexpected edges is also
        // the FAIL box's border: it does not count for finding the diagram.)
        var edgeTotals = Array(repeating: 0, count: count)
        for kind in edgeColours.keys where kind != "unexpected" {
            for (index, value) in (bands.colours[kind] ?? []).enumerated() { edgeTotals[index] += value }
        }
        let diagramBand = try #require(edgeTotals.indices.max { edgeTotals[$0] < edgeTotals[$1] })
        #expect(edgeTotals[diagramBand] > 0, "no edge colour anywhere")
        #expect(diagramBand > verdictBand, "diagram band \(diagramBand) below the verdict band \(verdictBand)")
        #expect(bands.nonWhite[diagramBand] > edgeTotals[diagramBand], "the diagram band holds more than edges (boxes, labels)")
        let near = max(0, diagramBand - 8)...min(count - 1, diagramBand + 8)
        let systemName = try #require((report["systems"] as? [[String: Any]])?.first?["system"] as? String)
        let kinds = Set(try Self.expectedEdges(report, system: systemName).compactMap { $0.split(separator: " ").last.map(String.init) })
        for kind in edgeColours.keys where kinds.contains(kind) {
            #expect(near.contains { bands.colours[kind]?[$0] ?? 0 > 0 }, "\(kind) colour near the diagram band \(diagramBand)")
        }
        // The page fills the screenshot: most bands hold something.
        #expect(bands.nonWhite.filter { $0 > 0 }.count * 2 > count, "non-blank bands: \(bands.nonWhite)")
    }

    @Test("valid HTML (tidy)", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tidy"),
                                         "no tidy: run scripts/ensure-deps --test"),
          arguments: ScenarioAuditTests.systems)
    func valid(system: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (page, _, _) = try Self.audit(system, in: folder)
        let check = try CLI.runProcess("/usr/bin/tidy", ["-errors", "-quiet", "--show-warnings", "yes", page.path])
        #expect(check.status == 0, "tidy: \(check.stderr)")
        #expect(check.stderr.isEmpty, "tidy: \(check.stderr)")
    }

    // MARK: PASS, NO-SCOPE, INCOMPLETE

    /// A one-rule policy (the app 10.1.0.10 must reach the license server 10.1.0.20 on
    /// tcp/443) in `folder`; returns the site's path.
    static func simplePolicy(in folder: URL) throws -> String {
        let rules = """
        system: demo
        title: Demo
        source: Demo requirements
        roles:
          app: { description: App server, monitored: true }
          license: { description: License server }
        rules:
          - id: license
            purpose: License check
            from: app
            to: license
            services: [tcp/443]
            required: true
            ref: "Ports, row 1"
        """
        try rules.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
        let site = folder.appendingPathComponent("site.yaml")
        try "site: small\nrules: [demo.yaml]\nroles:\n  app: [10.1.0.10]\n  license: [10.1.0.20]\n"
            .write(to: site, atomically: true, encoding: .utf8)
        return site.path
    }

    @Test("PASS, NO-SCOPE and INCOMPLETE read as the text report says; empty tables say so; valid HTML",
          arguments: ["PASS", "NO-SCOPE", "INCOMPLETE"])
    func verdicts(expected: String) throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = try Self.simplePolicy(in: folder)
        let c = Conversation()
        let t: Int64 = 1_700_000_000 * 1_000_000_000
        let client = expected == "NO-SCOPE" ? "10.9.0.1" : "10.1.0.10"
        var bytes = FlowsCommandTests.pcap(c.tcpSession(client: Endpoint(client, 40000), server: Endpoint("10.1.0.20", 443), at: t,
                                                        clientData: [Conversation.filler(count: 100)], serverData: [Conversation.filler(count: 300)]))
        // Cut inside the last record: the audit sees the flow but the capture ends short.
        if expected == "INCOMPLETE" { bytes.removeLast(5) }
        let capture = try FlowsCommandTests.write(bytes, "capture.pcap", in: folder)
        let page = folder.appendingPathComponent("report.html")
        let result = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "html", "--output", page.path])
        let text = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--no-color"])
        #expect(result.status == text.status && result.status == ["PASS": 0, "NO-SCOPE": 1, "INCOMPLETE": 3][expected], "stderr: \(result.stderr)")
        let facts = try PageFacts(try String(contentsOf: page, encoding: .utf8))
        let verdict = expected == "NO-SCOPE" ? "NO-SCOPE" : "PASS"
        #expect(facts["verdict_word"] as? String == verdict)
        #expect((facts["verdict_classes"] as? [String])?.contains(verdict.lowercased()) == true)
        // The verdict line and the INCOMPLETE line are the text report's.
        let html = try String(contentsOf: page, encoding: .utf8)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let verdictLine = try #require(lines.first { $0.hasPrefix("\(verdict): ") })
        #expect(html.contains(verdictLine.replacingOccurrences(of: "'", with: "&#39;")), "\(verdictLine)")
        let incomplete = facts.strings("incomplete")
        if expected == "INCOMPLETE" {
            // The text report's last line, under its verdict.
            let line = try #require(lines.last { $0.hasPrefix("INCOMPLETE: ") })
            #expect(incomplete == [line])
            #expect(html.contains("<p class=\"verdict-word incomplete-word\">INCOMPLETE</p>"))
        } else {
            #expect(incomplete.isEmpty)
        }
        // Nothing in scope: the required rule is missing, and the scope itself is a finding.
        #expect(facts.strings("findings") == (expected == "NO-SCOPE" ? ["missing", "no-scope"] : []))
        #expect(facts.list("groups").isEmpty)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/tidy") {
            let check = try CLI.runProcess("/usr/bin/tidy", ["-errors", "-quiet", "--show-warnings", "yes", page.path])
            #expect(check.status == 0 && check.stderr.isEmpty, "tidy: \(check.stderr)")
        }
    }

    @Test("a scan: the tables list the first groups, say how many the report has, and the counts stay whole")
    func scan() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let site = try Self.simplePolicy(in: folder)
        let c = Conversation()
        let t: Int64 = 1_700_000_000 * 1_000_000_000
        let total = 2100
        // One datagram to each of 2,100 ports: 2,100 groups of one flow.
        let frames = TimedFrame.merge((0..<total).map { i in
            c.udpStream(source: Endpoint("10.1.0.10", 40000), destination: Endpoint("10.1.0.30", UInt16(1000 + i)),
                        at: t + Int64(i) * 1_000_000, payloads: [Conversation.filler(count: 20)])
        })
        let capture = try FlowsCommandTests.write(FlowsCommandTests.pcap(frames), "scan.pcap", in: folder)
        let page = folder.appendingPathComponent("report.html")
        let result = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "html", "--output", page.path])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let html = try String(contentsOf: page, encoding: .utf8)
        let facts = try PageFacts(html)
        #expect((facts["counts"] as? [String: String])?["unexpected"] == "\(total)")
        let listed = facts.list("groups").count
        #expect(listed > 0 && listed < total, "\(listed) group rows")
        #expect(facts.strings("findings").filter { $0 == "unexpected" }.count == listed)
        #expect(html.contains("These tables list the first \(listed) of \(total) unexpected groups"))
    }

    // MARK: Hostile names

    /// A rule file and site whose text holds markup, and a capture whose DNS answer names the
    /// unexpected responder `<script>…</script>`.
    static func hostileScenario(in folder: URL) throws -> (capture: String, site: String, name: String) {
        let rules = """
        system: demo
        title: "Demo <b>bold</b> & co"
        source: "Vendor guide (see vendor-guide.pdf, section <i>Ports</i>)"
        roles:
          app: { description: "App <server>", monitored: true }
          license: { description: License server, names: [c7.example] }
        rules:
          - id: license
            purpose: "License check <img src=x onerror=alert(1)>"
            from: app
            to: license
            services: [tcp/443]
            required: true
            ref: "https://vendor.example/doc?a=1&b=\\"><script>alert(2)</script>"
          - id: update
            purpose: Updates
            from: app
            to: license
            services: [tcp/8443]
            required: false
            ref: "javascript:alert(3)"
        """
        try rules.write(to: folder.appendingPathComponent("demo.yaml"), atomically: true, encoding: .utf8)
        let site = folder.appendingPathComponent("site.yaml")
        try "site: \"<b>hostile</b>\"\nrules: [demo.yaml]\nroles:\n  app: [10.1.0.10]\n".write(to: site, atomically: true, encoding: .utf8)
        let name = "<script>alert(1)</script>"
        let c = Conversation()
        let t: Int64 = 1_700_000_000 * 1_000_000_000, second: Int64 = 1_000_000_000
        let evil = IPAddress(parsing: "203.0.113.66")
        let frames = TimedFrame.merge([
            c.udpExchange(client: Endpoint("10.1.0.10", 40000), server: Endpoint("10.1.0.53", 53), at: t,
                          request: DNSPayload.query(name: name).bytes(),
                          response: DNSPayload.response(name: name, answers: [.a(name, evil)]).bytes()),
            c.tcpSession(client: Endpoint("10.1.0.10", 40001), server: Endpoint(evil, 443), at: t + second,
                         clientData: [TLSPayload.clientHello(serverName: "\"><svg onload=alert(4)>")], serverData: [Conversation.filler(count: 100)]),
        ])
        let capture = try FlowsCommandTests.write(FlowsCommandTests.pcap(frames), "hostile.pcap", in: folder)
        return (capture, site.path, name)
    }

    @Test("names from the capture and text from the rule files are escaped; only http(s) references become links")
    func hostileNames() throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (capture, site, name) = try Self.hostileScenario(in: folder)
        let page = folder.appendingPathComponent("report.html")
        let result = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "html", "--output", page.path, "--digest", "none"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let json = try CLI.run("flowaudit", ["audit", capture, "--site", site, "--format", "json", "--digest", "none"]).json()
        let groups = try #require(json["unexpected"] as? [[String: Any]])
        #expect(groups.contains { ($0["responder_names"] as? [String])?.contains(name) == true },
                "the capture names the responder \(name): \(groups)")

        let html = try String(contentsOf: page, encoding: .utf8)
        // The raw file: the markup is text, never a tag.
        #expect(html.components(separatedBy: "<script").count - 1 == 1, "one script element, the page's own")
        #expect(!html.contains("<img"), "no img element")
        #expect(!html.contains("<svg onload"))
        #expect(!html.contains("<b>") && !html.contains("<i>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("href=\"javascript:"))

        let facts = try PageFacts(html)
        #expect(facts.list("scripts").count == 1)
        // The name is shown as the capture gave it.
        let names = facts.list("groups").flatMap { $0["names"] as? [String] ?? [] }
        #expect(names.contains { $0.contains(name) }, "names shown: \(names)")
        // A URL reference is a link to itself; `javascript:` is text with a link to the document.
        let rules = facts.list("rules")
        let license = try #require(rules.first { $0["id"] as? String == "rule-demo/license" })
        #expect(license["refs"] as? [String] == ["https://vendor.example/doc?a=1&b=\"><script>alert(2)</script>"])
        let update = try #require(rules.first { $0["id"] as? String == "rule-demo/update" })
        #expect(update["ref_text"] as? String == "javascript:alert(3)")
        // The source names a document file: non-URL references link it.
        #expect(update["refs"] as? [String] == ["vendor-guide.pdf"])
        #expect(facts.list("document_links").first?["href"] as? String == "vendor-guide.pdf")

        if !Self.chromiumMissing {
            let dom = try PageFacts(try Chromium.dom(page))
            #expect(dom.list("scripts").count == 1, "no script element was injected")
            #expect(dom.strings("fetching").isEmpty, "\(dom.strings("fetching"))")
            #expect(dom.list("groups").flatMap { $0["names"] as? [String] ?? [] }.contains { $0.contains(name) })
            #expect((dom["html_classes"] as? [String])?.contains("js") == true)
        }
    }
}
