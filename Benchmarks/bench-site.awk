# Writes the roles: block of the benchmark's site from rule files (awk -f bench-site.awk Rules/*.yaml):
# 7,952 addresses of the captures' clients bound to the monitored roles, the 2,048 server addresses
# to the others, so nearly every flow is in scope and unexpected (the report's worst case).
# -v qualify=1 writes roles as system.role (rule files are role namespaces); qualify=0 writes the
# bare ids (rule files of revisions whose role ids were global).
FNR == 1 { inroles = 0 }
/^system:/ { sys = $2 }
/^roles:/ { inroles = 1; next }
/^[a-z]/ { inroles = 0 }
inroles && /^  [a-z0-9-]+:/ { role = $1; sub(":", "", role); if (qualify) role = sys "." role; order[++n] = role }
inroles && /monitored: *true/ { monitored[role] = 1 }
END {
  for (i = 1; i <= n; i++) if (order[i] in monitored) m[++nm] = order[i]; else o[++no] = order[i]
  for (k = 0; k < 2048; k++) {
    addr = sprintf("172.16.%d.%d", 1 + int(k / 250), 1 + k % 250)
    r = o[1 + k % no]; list[r] = list[r] (count[r]++ ? ", " : "") addr
  }
  for (i = 0; i < 7952; i++) {
    c = (i * 2654435761) % 16777216
    addr = sprintf("10.%d.%d.%d", int(c / 65536), int(c / 256) % 256, c % 256)
    r = m[1 + i % nm]; list[r] = list[r] (count[r]++ ? ", " : "") addr
  }
  for (i = 1; i <= n; i++) printf "  %s: [%s]\n", order[i], list[order[i]]
}
