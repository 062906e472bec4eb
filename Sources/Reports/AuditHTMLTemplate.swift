/// The HTML report's Mustache templates (``AuditHTML``): the page, its style sheet and its
/// script. Every `{{value}}` of the page is HTML-escaped by the template engine; the page has
/// no unescaped variable (`{{{…}}}` or `{{&…}}`). The style sheet and the script are partials
/// of constant text, hashed into the page's Content-Security-Policy: neither may contain a
/// Mustache tag.
enum AuditHTMLTemplate {
    static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src '{{styleHash}}'; script-src '{{scriptHash}}'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="flowaudit {{toolVersion}}">
<title>{{pageTitle}}</title>
<style>{{> style}}</style>
</head>
<body>
<header>
<h1>flowaudit audit report</h1>
<p class="meta">Site <code>{{site}}</code> · captures {{captureSpan}} · flowaudit {{toolVersion}}</p>
</header>
<section id="verdict" class="verdict {{verdictClass}}{{#incompleteLine}} incomplete-run{{/incompleteLine}}" aria-label="verdict">
<p class="verdict-word">{{verdict}}</p>
<p class="verdict-line">{{verdictLine}}</p>
{{#incompleteLine}}
<p class="verdict-word incomplete-word">INCOMPLETE</p>
<p class="incomplete">{{incompleteLine}}</p>
{{/incompleteLine}}
{{#gaps}}
<p class="gap">gap: {{.}}</p>
{{/gaps}}
</section>
<ul class="counts" aria-label="finding counts">
{{#counts}}
<li class="count {{countClass}}"><a href="#findings"><span class="count-value">{{countValue}}</span> <span class="count-label">{{countLabel}}</span></a><span class="count-hint">{{countHint}}</span></li>
{{/counts}}
</ul>
<p class="scope">{{scopeLine}}</p>
<nav aria-label="contents"><ul>
{{#systems}}
<li><a href="#{{systemAnchor}}">{{systemID}}</a></li>
{{/systems}}
<li><a href="#findings">findings</a></li>
<li><a href="#groups">unexpected traffic</a></li>
<li><a href="#advisories">advisories</a></li>
<li><a href="#evidence">evidence</a></li>
</ul></nav>
<main>
{{#systems}}
<section class="system" id="{{systemAnchor}}">
<h2>{{systemID}} — {{systemTitle}}</h2>
<p class="document">Document: {{documentSource}}{{#documentHref}} — <a class="document-link" href="{{documentHref}}">{{documentText}}</a>{{/documentHref}}. Rule file <a class="rule-file" href="{{ruleFileHref}}"><code>{{ruleFile}}</code></a> <span class="sha">sha256 {{ruleFileSHA}}</span>.</p>
<p class="rule-status">{{ruleCount}} rules: {{statusSummary}}</p>
{{#diagram}}
<figure class="diagram">
<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" aria-label="{{diagramTitle}}" width="{{svgWidth}}" height="{{svgHeight}}" viewBox="0 0 {{svgWidth}} {{svgHeight}}" data-edges="{{edgeCount}}">
<title>{{diagramTitle}}</title>
<defs>
<marker id="{{markerPrefix}}-allowed" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#1a7f37"/></marker>
<marker id="{{markerPrefix}}-unexpected" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="14" markerHeight="14" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#cf222e"/></marker>
<marker id="{{markerPrefix}}-tail" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse"><circle cx="5" cy="5" r="4.5" fill="#cf222e"/></marker>
<marker id="{{markerPrefix}}-missing" viewBox="0 0 12 12" refX="10.5" refY="6" markerWidth="13" markerHeight="13" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M1 1 L11 6 L1 11 z" fill="#ffffff" stroke="#9a6700" stroke-width="1.6"/></marker>
<marker id="{{markerPrefix}}-blocked" viewBox="0 0 8 16" refX="6" refY="8" markerWidth="8" markerHeight="16" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M6 0 L6 16" stroke="#6639ba" stroke-width="3.5"/><path d="M0 4 L0 12" stroke="#6639ba" stroke-width="1.5"/></marker>
<marker id="{{markerPrefix}}-attempt" viewBox="0 0 8 16" refX="6" refY="8" markerWidth="8" markerHeight="16" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M6 0 L6 16" stroke="#cf222e" stroke-width="3.5"/></marker>
<marker id="{{markerPrefix}}-not-seen" viewBox="0 0 12 12" refX="10.5" refY="6" markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M1 1 L11 6 L1 11" fill="none" stroke="#6e7781" stroke-width="1.6"/></marker>
</defs>
<g class="edges">
{{#edges}}
<g class="edge {{edgeKind}}" data-from="{{edgeFrom}}" data-to="{{edgeTo}}" data-kind="{{edgeKind}}"><title>{{edgeTitle}}</title><path class="line" d="{{path}}" marker-end="url(#{{markerEnd}})"{{#markerStart}} marker-start="url(#{{.}})"{{/markerStart}}/><text class="edge-label" x="{{labelX}}" y="{{labelY}}" text-anchor="middle" transform="rotate({{labelAngle}} {{labelX}} {{labelY}})">{{edgeLabel}}</text></g>
{{/edges}}
</g>
<g class="nodes">
{{#nodes}}
<g class="node {{nodeKind}}" data-role="{{nodeID}}"><title>{{nodeTitle}}</title><rect x="{{boxX}}" y="{{boxY}}" width="{{boxWidth}}" height="{{boxHeight}}" rx="6"/><text class="node-label" x="{{textX}}" y="{{labelY}}" text-anchor="middle">{{nodeLabel}}</text><text class="node-detail" x="{{textX}}" y="{{detailY}}" text-anchor="middle">{{nodeDetail}}</text></g>
{{/nodes}}
</g>
<g class="legend">
{{#legend}}
<g class="edge {{legendKind}}"><path class="line" d="{{legendPath}}" marker-end="url(#{{legendMarkerEnd}})"{{#legendMarkerStart}} marker-start="url(#{{.}})"{{/legendMarkerStart}}/><text class="legend-text" x="{{legendTextX}}" y="{{legendTextY}}">{{legendText}}</text></g>
{{/legend}}
</g>
</svg>
<figcaption>{{diagramTitle}}: one arrow per pair of roles and kind of traffic, from initiator to responder (both ends for rules either side may open), labelled with its services; “other hosts” are addresses that hold no role of this system. Hover an arrow or box for its rules, groups and bindings.{{#emptyDiagram}} No rule of this system has a bound role, and no unexpected traffic touched it.{{/emptyDiagram}}</figcaption>
</figure>
{{/diagram}}
<h3>Rules</h3>
<div class="table-wrap">
<table class="data rules" id="rules-{{systemID}}">
<thead><tr><th>status</th><th>rule</th><th>allows</th><th data-type="number">flows</th><th data-type="number">refused</th><th>first, last seen</th><th>evidence</th><th>reference</th></tr></thead>
<tbody>
{{#rules}}
<tr class="rule {{status}}" id="{{ruleAnchor}}" data-status="{{status}}">
<td class="status" data-sort="{{statusOrder}}"><span class="badge {{status}}">{{status}}</span></td>
<td class="rule-id"><code>{{ruleID}}</code><br>{{purpose}}<br><span class="requirement">{{requirement}}</span></td>
<td><code>{{services}}</code> {{fromRoles}} → {{toRoles}}{{#bothWays}} (either side opens){{/bothWays}}</td>
<td class="number" data-sort="{{completed}}">{{completed}}{{#unansweredNote}}<br><span class="unanswered">{{unansweredNote}}</span>{{/unansweredNote}}</td>
<td class="number" data-sort="{{refused}}">{{refused}}</td>
<td class="time" data-sort="{{ruleFirstSeen}}">{{ruleFirstSeen}}<br>{{ruleLastSeen}}</td>
<td class="evidence"><ul>{{#evidence}}<li>{{.}}</li>{{/evidence}}</ul>{{#ruleCommunityIDs}} <code class="cid">{{.}}</code>{{/ruleCommunityIDs}}</td>
<td class="reference"><span class="ref-text">{{ref}}</span> <a class="ref" href="{{refHref}}">{{refLinkText}}</a></td>
</tr>
{{/rules}}
</tbody>
</table>
</div>
</section>
{{/systems}}
<section id="findings">
<h2>Findings</h2>
<p>One row per finding: rules missing, partial or blocked, unexpected traffic (got through, or refused attempts), advisories.</p>
{{#noFindings}}<p class="none">No finding.</p>{{/noFindings}}
{{#listingCut}}<p class="listing-cut">{{listingCut}}</p>{{/listingCut}}
{{^noFindings}}
<div class="table-wrap">
<table class="data findings">
<thead><tr><th data-type="number">#</th><th>kind</th><th>finding</th><th>what</th><th>system</th><th data-type="number">flows</th><th>first, last seen</th><th>summary</th></tr></thead>
<tbody>
{{#findings}}
<tr class="finding {{category}}" data-category="{{category}}">
<td class="number" data-sort="{{findingNumber}}">{{findingNumber}}</td>
<td><span class="badge {{category}}">{{category}}</span></td>
<td>{{finding}}</td>
<td><a href="{{subjectHref}}"><code>{{subject}}</code></a></td>
<td>{{findingSystem}}</td>
<td class="number" data-sort="{{flows}}">{{flows}}</td>
<td class="time" data-sort="{{firstSeen}}">{{firstSeen}}<br>{{lastSeen}}</td>
<td>{{summary}}</td>
</tr>
{{/findings}}
</tbody>
</table>
</div>
{{/noFindings}}
</section>
<section id="groups">
<h2>Unexpected traffic</h2>
<p>Flows no rule allows, grouped by initiator, responder, service and VLAN: those that got through (<em>unexpected</em>) and those refused or never answered (<em>attempt</em>). Names are those the capture’s DNS answers, TLS server names and HTTP Host headers gave, or the site.</p>
{{#noGroups}}<p class="none">No unexpected traffic.</p>{{/noGroups}}
{{#listingCut}}<p class="listing-cut">{{listingCut}}</p>{{/listingCut}}
{{^noGroups}}
<div class="table-wrap">
<table class="data groups">
<thead><tr><th>kind</th><th>initiator</th><th>responder</th><th>service</th><th data-type="number">flows</th><th data-type="number">bytes</th><th>first, last seen</th><th>states, refused by</th><th>nearest rule</th><th>evidence</th></tr></thead>
<tbody>
{{#groups}}
<tr class="group {{groupKind}}" id="{{groupAnchor}}" data-kind="{{groupKind}}">
<td><span class="badge {{groupKind}}">{{groupKind}}</span></td>
<td><code>{{initiator}}</code>{{#initiatorNames}}<br><span class="names">{{initiatorNames}}</span>{{/initiatorNames}}{{#initiatorRoles}}<br><span class="roles">{{initiatorRoles}}</span>{{/initiatorRoles}}</td>
<td><code>{{responder}}</code>{{#responderNames}}<br><span class="names">{{responderNames}}</span>{{/responderNames}}{{#responderRoles}}<br><span class="roles">{{responderRoles}}</span>{{/responderRoles}}</td>
<td><code>{{service}}</code>{{#vlan}} vlan {{vlan}}{{/vlan}}{{#tunnel}}<br>tunnel {{tunnel}}{{/tunnel}}</td>
<td class="number" data-sort="{{groupFlows}}">{{groupFlows}}</td>
<td class="number" data-sort="{{bytes}}">{{bytes}}<br><span class="packets">{{packets}} packets</span></td>
<td class="time" data-sort="{{groupFirstSeen}}">{{groupFirstSeen}}<br>{{groupLastSeen}}</td>
<td>{{states}}{{#refusal}}<br><span class="refusal">{{refusal}}</span>{{/refusal}}</td>
<td>{{nearestRule}}{{#orientedByRule}}<br>first seen mid-stream: oriented by the rules{{/orientedByRule}}</td>
<td class="evidence">e.g. {{example}}<br>Community IDs:{{#groupCommunityIDs}} <code class="cid">{{.}}</code>{{/groupCommunityIDs}}{{#moreIDs}} ({{moreIDs}}){{/moreIDs}}<br>filter: <code class="filter">{{filter}}</code></td>
</tr>
{{/groups}}
</tbody>
</table>
</div>
{{/noGroups}}
{{#unlistedLine}}<p class="unlisted">{{unlistedLine}}</p>{{/unlistedLine}}
</section>
<section id="advisories">
<h2>Advisories</h2>
{{#noAdvisories}}<p class="none">No advisory.</p>{{/noAdvisories}}
{{^noAdvisories}}
<div class="table-wrap">
<table class="data advisories">
<thead><tr><th>kind</th><th>message</th><th>reference</th><th data-type="number">flows</th><th>example</th></tr></thead>
<tbody>
{{#advisories}}
<tr class="advisory" id="{{advisoryAnchor}}">
<td><span class="badge advisory">{{advisoryKind}}</span></td>
<td>{{message}}</td>
<td><code>{{reference}}</code></td>
<td class="number" data-sort="{{advisoryFlows}}">{{advisoryFlows}}</td>
<td class="evidence">{{advisoryExample}} <code class="cid">{{advisoryCommunityID}}</code></td>
</tr>
{{/advisories}}
</tbody>
</table>
</div>
{{/noAdvisories}}
</section>
<section id="notes">
<h2>Notes</h2>
<h3>Document requirements traffic cannot show</h3>
{{#noDocumentNotes}}<p class="none">None.</p>{{/noDocumentNotes}}
{{^noDocumentNotes}}
<ul>
{{#documentNotes}}
<li><strong>{{noteSystem}}</strong>: {{note}}</li>
{{/documentNotes}}
</ul>
{{/noDocumentNotes}}
<h3>Policy warnings</h3>
{{#noPolicyWarnings}}<p class="none">None.</p>{{/noPolicyWarnings}}
{{^noPolicyWarnings}}
<ul>
{{#policyWarnings}}
<li><code>{{.}}</code></li>
{{/policyWarnings}}
</ul>
{{/noPolicyWarnings}}
</section>
<section id="evidence">
<h2>Evidence</h2>
<p>Command line: <code>{{commandLine}}</code></p>
<p>{{decodeLine}}</p>
<table class="plain inputs">
<thead><tr><th>capture</th><th>format</th><th>packets</th><th>first packet</th><th>last packet</th><th>bytes</th><th>sha256</th></tr></thead>
<tbody>
{{#inputs}}
<tr><td><code>{{inputPath}}</code>{{#inputError}}<br><span class="error">{{inputError}}</span>{{/inputError}}</td><td>{{inputFormat}}</td><td class="number">{{inputPackets}}</td><td class="time">{{inputFirst}}</td><td class="time">{{inputLast}}</td><td class="number">{{inputSize}}</td><td><code class="sha">{{inputSHA}}</code></td></tr>
{{/inputs}}
</tbody>
</table>
<table class="plain policy-files">
<thead><tr><th>policy file</th><th>kind</th><th>sha256</th></tr></thead>
<tbody>
{{#policyFiles}}
<tr><td><code>{{policyPath}}</code></td><td>{{policyKind}}</td><td><code class="sha">{{policySHA}}</code></td></tr>
{{/policyFiles}}
</tbody>
</table>
</section>
</main>
<footer><p>Written by flowaudit {{toolVersion}}. The JSON report (<code>--format json</code>) holds every field of this page and more.</p></footer>
<script>{{> script}}</script>
</body>
</html>

"""#

    static let style = #"""
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1500px; padding: 16px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code { font: 12.5px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
a { color: #0550ae; }
.meta, .scope, .rule-status, figcaption, .requirement, .packets, .count-hint { color: var(--muted); }
.verdict { border: 2px solid; border-radius: 8px; padding: 10px 16px; margin: 12px 0; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.verdict p { margin: 2px 0; }
.verdict-word { font-size: 30px; font-weight: 700; letter-spacing: 0.04em; }
.verdict.fail { border-color: #cf222e; background: #ffebe9; }
.verdict.fail .verdict-word { color: #a40e26; }
.verdict.pass { border-color: #1a7f37; background: #dafbe1; }
.verdict.pass .verdict-word { color: #116329; }
.verdict.no-scope { border-color: #9a6700; background: #fff8c5; }
.verdict.no-scope .verdict-word { color: #7d4e00; }
.incomplete, .listing-cut { font-weight: 600; color: #7d4e00; }
.verdict.incomplete-run { border-style: dashed; border-width: 3px; }
.verdict-word.incomplete-word { color: #7d4e00; margin-top: 8px; }
.counts { display: flex; flex-wrap: wrap; gap: 10px; list-style: none; padding: 0; margin: 8px 0; }
.count { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 150px; }
.count a { color: inherit; text-decoration: none; }
.count-value { font-size: 24px; font-weight: 700; }
.count-hint { display: block; font-size: 12px; }
.count.failing { border: 2px solid #cf222e; }
.count.failing .count-value { color: #a40e26; }
.count.nonzero .count-value { color: #7d4e00; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
figure.diagram { margin: 8px 0 12px; break-inside: avoid; page-break-inside: avoid; }
svg.diagram { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.node rect { fill: #f6f8fa; stroke: #59636e; stroke-width: 1.2; }
.node.monitored rect { fill: #ddf4ff; stroke: #0550ae; stroke-width: 2.4; }
.node.unbound rect { fill: #fff; stroke: #8c959f; stroke-dasharray: 4 3; }
.node.other rect { fill: #eaeef2; stroke: #59636e; stroke-dasharray: 1.5 2.5; }
.node-label { font: 600 12.5px system-ui, "DejaVu Sans", Arial, sans-serif; fill: #1f2328; }
.node-detail { font: 10.5px ui-monospace, "DejaVu Sans Mono", monospace; fill: #59636e; }
.edge .line { fill: none; }
.edge.allowed .line { stroke: #1a7f37; stroke-width: 2; }
.edge.unexpected .line { stroke: #cf222e; stroke-width: 4; }
.edge.missing .line { stroke: #9a6700; stroke-width: 2.2; stroke-dasharray: 9 6; }
.edge.blocked .line { stroke: #6639ba; stroke-width: 2.2; }
.edge.attempt .line { stroke: #cf222e; stroke-width: 2.2; stroke-dasharray: 2 4; }
.edge.not-seen .line { stroke: #6e7781; stroke-width: 1.4; stroke-dasharray: 7 3 1.5 3; }
.edge-label { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; fill: #1f2328; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.legend-text { font: 12px system-ui, "DejaVu Sans", Arial, sans-serif; fill: #1f2328; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: var(--bg-alt); font-weight: 600; }
tbody tr:nth-child(even) { background: #fbfcfd; }
td.number { text-align: right; white-space: nowrap; }
td.time { font-size: 11.5px; white-space: nowrap; }
td.evidence { font-size: 12.5px; min-width: 18em; }
td.evidence ul { margin: 0; padding-left: 16px; }
code.cid, code.filter, code.sha { font-size: 11.5px; word-break: break-all; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.badge.observed { color: #116329; border-color: #1a7f37; }
.badge.missing, .badge.partial { color: #7d4e00; border-color: #9a6700; border-style: dashed; }
.badge.blocked { color: #512a97; border-color: #6639ba; }
.badge.unexpected { color: #fff; background: #cf222e; border-color: #cf222e; }
.badge.attempt { color: #a40e26; border-color: #cf222e; border-style: dotted; }
.badge.not-seen, .badge.unbound { color: #59636e; border-color: #8c959f; }
.badge.advisory { color: #7d4e00; border-color: #d4a72c; }
.badge.no-scope { color: #7d4e00; border-color: #9a6700; }
.refusal { font-weight: 600; }
.names { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.roles { color: var(--muted); font-size: 12px; }
.none { color: var(--muted); font-style: italic; }
.filter { margin: 6px 0 2px; display: flex; gap: 12px; align-items: center; }
.filter input { font: inherit; padding: 2px 6px; min-width: 18em; }
.filter .count { border: 0; padding: 0; min-width: 0; color: var(--muted); }
button.sort { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer; color: inherit; text-align: left; }
button.sort::after { content: " ↕"; color: #8c959f; }
th[aria-sort="ascending"] button.sort::after { content: " ▲"; color: var(--fg); }
th[aria-sort="descending"] button.sort::after { content: " ▼"; color: var(--fg); }
@media screen { tr.filtered-out { display: none; } }
@page { margin: 12mm; }
@media print {
  body { font-size: 9.5pt; max-width: none; padding: 0; }
  nav, .filter { display: none; }
  tr.filtered-out { display: table-row; }
  .table-wrap { overflow: visible; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  tr, .count, .verdict { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  td.evidence { min-width: 0; }
  td.time { white-space: normal; }
  svg.diagram { width: 100%; max-height: 235mm; border: 0; }
  a { color: inherit; }
  a.ref[href^="http"]::after, a.document-link[href^="http"]::after { content: " <" attr(href) ">"; font-size: 8pt; }
  button.sort::after { content: ""; }
  .badge, .count, .node rect, .edge .line { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""#

    static let script = #"""
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  function key(row, column, numeric) {
    var cell = row.cells[column];
    var value = !cell ? "" : (cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim());
    if (!numeric) return value.toLowerCase();
    var n = parseFloat(value);
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(table, column, th) {
    var body = table.tBodies[0];
    var numeric = th.getAttribute("data-type") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    each(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, column, numeric), y = key(b, column, numeric);
      var order = x < y ? -1 : (x > y ? 1 : 0);
      if (!ascending) order = -order;
      return order !== 0 ? order : Number(a.getAttribute("data-row")) - Number(b.getAttribute("data-row"));
    });
    each(rows, function (row) { body.appendChild(row); });
  }
  function filter(table, input, counter) {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    each(rows, function (row) {
      var text = row.textContent.toLowerCase();
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.classList.toggle("filtered-out", !match);
      if (match) shown += 1;
    });
    counter.textContent = shown === rows.length ? rows.length + " rows" : shown + " of " + rows.length + " rows";
  }
  each(document.querySelectorAll("table.data"), function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    var rows = table.tBodies[0].rows;
    each(rows, function (row, index) { row.setAttribute("data-row", String(index)); });
    each(table.tHead.rows[0].cells, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = "sort by this column";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, column, th); });
    });
    var bar = document.createElement("div");
    bar.className = "filter";
    var label = document.createElement("label");
    label.textContent = "Filter ";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "words every shown row contains";
    label.appendChild(input);
    var counter = document.createElement("span");
    counter.className = "count";
    counter.textContent = rows.length + " rows";
    bar.appendChild(label);
    bar.appendChild(counter);
    var wrap = table.parentNode;
    wrap.parentNode.insertBefore(bar, wrap);
    input.addEventListener("input", function () { filter(table, input, counter); });
  });
})();
"""#
}
