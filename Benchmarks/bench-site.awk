# Writes the roles: block of a benchmark site from rule files (awk -f bench-site.awk Rules/*.yaml).
# Every site binds 10,000 addresses of the benchmark captures (flowaudit-gen bench): the 2,048
# server addresses (172.16.1.1 ... 172.16.9.48, which every flow talks to) and the client
# addresses of the first 7,952 flows (10.0.0.0/8).
#
# -v scope=worst (the default): the 7,952 client addresses to the monitored roles, the 2,048
#   servers to the others, and the whole client block 10.0.0.0/8 to the first monitored role as
#   well, so every flow is in scope and nearly every one unexpected (the report's worst case).
#   (Before 2026-12-07 the block was not bound: only the first 7,952 flows were in scope, 8% of
#   imix-5m's.)
# -v scope=scoped: the first 61 servers (3% of 2,048; flows pick their server uniformly) to the
#   monitored roles, the other 1,987 servers and the 7,952 clients to the others, so about 3% of
#   the flows are in scope.
# -v qualify=1 writes roles as system.role (rule files are role namespaces); qualify=0 writes the
# bare ids (rule files of revisions whose role ids were global).
FNR == 1 { inroles = 0 }
/^system:/ { sys = $2 }
/^roles:/ { inroles = 1; next }
/^[a-z]/ { inroles = 0 }
inroles && /^  [a-z0-9-]+:/ { role = $1; sub(":", "", role); if (qualify) role = sys "." role; order[++n] = role }
inroles && /monitored: *true/ { monitored[role] = 1 }
function bind(r, addr) { list[r] = list[r] (count[r]++ ? ", " : "") addr }
END {
  if (scope == "") scope = "worst"
  if (scope != "worst" && scope != "scoped") { print "bench-site.awk: scope must be worst or scoped" > "/dev/stderr"; exit 2 }
  for (i = 1; i <= n; i++) if (order[i] in monitored) m[++nm] = order[i]; else o[++no] = order[i]
  for (k = 0; k < 2048; k++) {
    addr = sprintf("172.16.%d.%d", 1 + int(k / 250), 1 + k % 250)
    if (scope == "scoped" && k < 61) bind(m[1 + k % nm], addr); else bind(o[1 + k % no], addr)
  }
  for (i = 0; i < 7952; i++) {
    c = (i * 2654435761) % 16777216
    addr = sprintf("10.%d.%d.%d", int(c / 65536), int(c / 256) % 256, c % 256)
    if (scope == "worst") bind(m[1 + i % nm], addr); else bind(o[1 + i % no], addr)
  }
  if (scope == "worst") bind(m[1], "10.0.0.0/8")
  for (i = 1; i <= n; i++) printf "  %s: [%s]\n", order[i], list[order[i]]
}
