#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# report.sh: turns one bench/run.sh CSV into the markdown report (machine,
# command, headline ratios against the best alternative, the latency and
# throughput table, costs, module sizes), and splices a report into
# docs/BENCHMARKS.md between its "bench:results" markers.
#
# usage: report.sh --csv FILE [--kdig FILE] [--module-dir DIR] [--command TEXT]
#                  [--previous CSV] > REPORT.md
# --previous: an earlier run's CSV (run.sh passes the newest committed one), to
# compare the socket path (the dot-nomap stack; dot in a run that had none) with.
#        report.sh --update-docs REPORT.md DOCS.md ELAPSED_SECONDS
set -eu

if [ "${1:-}" = --update-docs ]; then
    md=$2 doc=$3 elapsed=$4
    if ! grep -q '^<!-- bench:results:begin -->$' "$doc" ||
        ! grep -q '^<!-- bench:results:end -->$' "$doc"; then
        echo "report.sh: $doc has no bench:results markers" >&2
        exit 1
    fi
    tmp=$(mktemp "$doc.XXXXXX")
    awk -v md="$md" -v elapsed="$elapsed" '
        /^<!-- bench:results:begin -->$/ {
            print
            print ""
            while ((getline line < md) > 0) {
                # The report starts with its own title: the docs have theirs.
                if (line ~ /^# /)
                    continue
                print line
            }
            print ""
            printf "The whole run (package check, every phase, report) took %d s.\n\n", elapsed
            skip = 1
            next
        }
        /^<!-- bench:results:end -->$/ { skip = 0 }
        !skip { print }
    ' "$doc" >"$tmp"
    cat "$tmp" >"$doc"
    rm -f "$tmp"
    exit 0
fi

CSV="" KDIG="" MODULE_DIR="" COMMAND="bench/run.sh" PREVIOUS=""
while [ $# -gt 0 ]; do
    case $1 in
        --csv) CSV=$2 ;;
        --kdig) KDIG=$2 ;;
        --module-dir) MODULE_DIR=$2 ;;
        --command) COMMAND=$2 ;;
        --previous) PREVIOUS=$2 ;;
        *)
            echo "report.sh: unknown option $1" >&2
            exit 2
            ;;
    esac
    shift 2
done
[ -r "$CSV" ] || {
    echo "report.sh: --csv FILE is required" >&2
    exit 2
}

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
stamp=$(basename "$CSV" .csv)
stamp=${stamp#bench-}

cat <<EOF
# nss-dot benchmark $stamp

- **Command**: \`$COMMAND\` (as root, from the build directory), results in
  \`bench/results/bench-$stamp.csv\`
- **Tree**: $(git -C "$(dirname "$0")/.." describe --always --dirty 2>/dev/null || echo unknown) ($(git -C "$(dirname "$0")/.." log -1 --format=%cd --date=short 2>/dev/null || echo '?')), built in the build directory at the time of the run
- **Machine**: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1),
  kernel $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?'),
  glibc $(pkgver libc6)
- **Stacks**: nss-dot (this tree: libnss_dot.so.2 + dot-helperd, the answer map on as by
  default, and off: the socket path); nss_dns → Unbound
  $(pkgver unbound) caching forwarder over TLS; nss_dns → Stubby $(pkgver stubby) strict;
  nss-resolve → systemd-resolved $(pkgver systemd-resolved) with DNSOverTLS=yes;
  nscd $(pkgver nscd) (hosts cache, shared) → nss_dns → Unbound as above;
  floors: \`files\` and a raw Unix-socket round trip (bench/unix-echo)
- **Upstream**: bench/delay-proxy (TLS 1.3, TCP_NODELAY, one write per message) in
  front of an authoritative Unbound; the delay is one way, in each direction.
  "nss-dot, Nagle-on upstream": the same daemon against \`delay-proxy -N\`, which
  holds every write behind an unacknowledged one as Unbound as shipped does
- **Client**: bench/loadgen, $(awk -F, 'NR == 2 { print $5 }' "$CSV") (getaddrinfo
  AF_UNSPEC unless said otherwise), hints without AI_ADDRCONFIG, nsswitch \`hosts: files X\`
EOF

awk -F, -v kdig="$KDIG" -v prev="$PREVIOUS" '
function fmt_t(us) {
    if (us == "")
        return "?"
    if (us + 0 < 10000)
        return sprintf("%.0f µs", us)
    return sprintf("%.1f ms", us / 1000)
}
function fmt_lps(x) {
    if (x == "")
        return "?"
    if (x + 0 >= 1000)
        return sprintf("%.1fk/s", x / 1000)
    return sprintf("%.0f/s", x)
}
function ratio(a, b) {
    if (a == "" || b == "" || b + 0 == 0)
        return ""
    return a / b
}
function fmt_ratio(r) {
    return r == "" ? "—" : sprintf("%.2f×", r)
}
function has(d, wl, t, s) { return ((d, wl, t, s, "p50") in V) }
# Best (lowest, or highest for lps) alternative for a field; sets BEST_S.
function best_alt(d, wl, t, f, hi,    k, s, v, b) {
    b = ""
    BEST_S = ""
    for (k = 1; k <= nalt; k++) {
        s = alts[k]
        if (!has(d, wl, t, s) || V[d, wl, t, s, "fail"] + 0 > 0)
            continue
        v = V[d, wl, t, s, f]
        if (v == "")
            continue
        if (b == "" || (hi ? v + 0 > b + 0 : v + 0 < b + 0)) {
            b = v
            BEST_S = s
        }
    }
    return b
}
function median_of(list,    n, a, i, j, tmp) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++)
        for (j = i + 1; j <= n; j++)
            if (a[j] + 0 < a[i] + 0) {
                tmp = a[i]; a[i] = a[j]; a[j] = tmp
            }
    CMIN = a[1]
    CMAX = a[n]
    if (n % 2)
        return a[(n + 1) / 2]
    return (a[n / 2] + a[n / 2 + 1]) / 2
}
# Track the worst value of a target row, per thread count ("" for one cell),
# in the table TGROUP names.
function target(name, t, r, goal, hi) {
    if (r == "")
        return
    if (!((name, t) in TW) || (hi ? r + 0 < TW[name, t] + 0 : r + 0 > TW[name, t] + 0))
        TW[name, t] = r
    TG[name] = goal
    TH[name] = hi
    if (!(name in TO)) {
        TO[name] = ++ntargets
        TN[ntargets] = name
        TGR[name] = TGROUP
    }
}
# The target table of one group: the worst cell of each row, met or not.
function print_targets(grp,    i, j, n, ok, t, v, good, f) {
    threads_header("target", 1, "goal | met", 2)
    for (j = 1; j <= ntargets; j++) {
        n = TN[j]
        if (TGR[n] != grp)
            continue
        ok = 1
        f = (n in TF) ? TF[n] : "%.2f"
        printf "| %s |", n
        for (i = 1; i <= ntc; i++) {
            t = tc[i]
            if (!((n, t) in TW)) {
                printf " |"
                continue
            }
            v = TW[n, t]
            good = TH[n] ? v + 0 >= TG[n] : v + 0 <= TG[n]
            if (!good)
                ok = 0
            printf " %s |", good ? sprintf(f, v) : sprintf("**" f "**", v)
        }
        printf " %s " f " | %s |\n", TH[n] ? "≥" : "≤", TG[n], ok ? "yes" : "**no**"
    }
}
# Per-lookup microseconds of a CPU column (us over the run, lookups).
function per_lookup(us, n) {
    if (us == "" || n == "" || n + 0 == 0)
        return ""
    return us / n
}
function fmt_us(x) {
    if (x == "")
        return "—"
    if (x + 0 < 0.1)
        return sprintf("%.3f", x)
    return sprintf("%.1f", x)
}
# Geometric mean of the ratios in list (space-separated), "" if none.
function geomean(list,    n, a, i, sum) {
    n = split(list, a, " ")
    if (n == 0)
        return ""
    sum = 0
    for (i = 1; i <= n; i++) {
        if (a[i] + 0 <= 0)
            return ""
        sum += log(a[i])
    }
    return exp(sum / n)
}
function has_any(s) { return (s in seen) && !(s in UNAV) }
# p50 / p99 of stack a ÷ stack b (inv: b ÷ a), a cell; "" when either is missing.
function lat_cell(d, t, a, b, inv,    r1, r2) {
    if (!has(d, "cached", t, a) || !has(d, "cached", t, b))
        return ""
    if (inv) {
        r1 = ratio(V[d, "cached", t, b, "p50"], V[d, "cached", t, a, "p50"])
        r2 = ratio(V[d, "cached", t, b, "p99"], V[d, "cached", t, a, "p99"])
    } else {
        r1 = ratio(V[d, "cached", t, a, "p50"], V[d, "cached", t, b, "p50"])
        r2 = ratio(V[d, "cached", t, a, "p99"], V[d, "cached", t, b, "p99"])
    }
    return fmt_ratio(r1) " / " fmt_ratio(r2)
}
function lps_cell(d, wl, t, a, b) {
    if (!has(d, wl, t, a) || !has(d, wl, t, b))
        return ""
    return fmt_ratio(ratio(V[d, wl, t, a, "lps"], V[d, wl, t, b, "lps"]))
}
function dcpu_lookup(d, t, s) {
    if (!has(d, "cached", t, s))
        return ""
    return per_lookup(V[d, "cached", t, s, "dcpu_us"], V[d, "cached", t, s, "n"])
}
# The socket path against the previous run, cached, one cell: sets PR_P50 and
# PR_LPS (raw: previous ÷ this p50, this ÷ previous lookups/s) and PN_P50,
# PN_LPS (the same, each run against its own unix-socket floor).
function prev_cmp(d, t,    pp, pl, up, ul, tp, tl, xp, xl) {
    PR_P50 = PR_LPS = PN_P50 = PN_LPS = ""
    if (PSTACK == "" || !has(d, "cached", t, "dot-nomap") || !((d, t, PSTACK, "p50") in P))
        return 0
    pp = P[d, t, PSTACK, "p50"]; pl = P[d, t, PSTACK, "lps"]
    tp = V[d, "cached", t, "dot-nomap", "p50"]; tl = V[d, "cached", t, "dot-nomap", "lps"]
    PR_P50 = ratio(pp, tp)
    PR_LPS = ratio(tl, pl)
    if (((d, t, "unix", "p50") in P) && has(d, "cached", t, "unix")) {
        up = P[d, t, "unix", "p50"]; ul = P[d, t, "unix", "lps"]
        xp = V[d, "cached", t, "unix", "p50"]; xl = V[d, "cached", t, "unix", "lps"]
        PN_P50 = ratio(pp / up, tp / xp)
        PN_LPS = ratio(tl / xl, pl / ul)
    }
    return 1
}
# The head of a table with a column per thread count, between NLEAD
# columns LEAD and NTAIL columns TAIL ("a | b" for two).
function threads_header(lead, nlead, tail, ntail,    i) {
    printf "| %s |", lead
    for (i = 1; i <= ntc; i++)
        printf " %s thread%s |", tc[i], tc[i] == 1 ? "" : "s"
    print ntail ? " " tail " |" : ""
    printf "|"
    for (i = 1; i <= nlead + ntc + ntail; i++)
        printf " --- |"
    print ""
}

function map_section(    di, d, i, t, m, line, any, cell, name, a, b, c, e, glist, r, f, n, cs) {
    print ""
    print "## The answer map (issue 14): nss-dot against files, nscd and the socket path"
    print ""
    print "nss-dot runs with `hosts: files dot` (every lookup first misses in the hosts file, as"
    print "users run it) and its default configuration, the answer map on; \"map off\" is the same"
    print "daemon with `cache = { shared_map = false; }`: every lookup over the Unix socket."
    print "Against files the ratio is nss-dot ÷ files (lower is better; 1.00: as fast as a"
    print "hosts-file hit). Against nscd and the socket path it is theirs ÷ nss-dot for latency"
    print "and nss-dot ÷ theirs for throughput (above 1: nss-dot better). CPU per lookup is in µs."
    print ""
    threads_header("delay (one way) | measure", 2, "", 0)
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        for (m = 1; m <= 10; m++) {
            line = ""
            any = 0
            for (i = 1; i <= ntc; i++) {
                t = tc[i]
                cell = ""
                if (m == 1) {
                    name = "cached p50 / p99: nss-dot ÷ files (lower is better)"
                    cell = lat_cell(d, t, "dot", "files", 0)
                } else if (m == 2) {
                    name = "cached throughput: nss-dot ÷ files"
                    cell = lps_cell(d, "cached", t, "dot", "files")
                } else if (m == 3) {
                    name = "cached p50 / p99: nscd ÷ nss-dot"
                    cell = lat_cell(d, t, "dot", "nscd", 1)
                } else if (m == 4) {
                    name = "cached throughput: nss-dot ÷ nscd"
                    cell = lps_cell(d, "cached", t, "dot", "nscd")
                } else if (m == 5) {
                    name = "cached p50 / p99: map off ÷ map on"
                    cell = lat_cell(d, t, "dot", "dot-nomap", 1)
                } else if (m == 6) {
                    name = "cached throughput: map on ÷ map off"
                    cell = lps_cell(d, "cached", t, "dot", "dot-nomap")
                } else if (m == 7) {
                    name = "uncached p50: map off ÷ map on (what publishing costs a miss)"
                    if (has(d, "uncached", t, "dot") && has(d, "uncached", t, "dot-nomap"))
                        cell = fmt_ratio(ratio(V[d, "uncached", t, "dot-nomap", "p50"], V[d, "uncached", t, "dot", "p50"]))
                } else if (m == 8) {
                    name = "daemon CPU per cached lookup: map on · map off · nscd"
                    a = dcpu_lookup(d, t, "dot"); b = dcpu_lookup(d, t, "dot-nomap"); c = dcpu_lookup(d, t, "nscd")
                    if (a != "" || b != "" || c != "")
                        cell = fmt_us(a) " · " fmt_us(b) " · " fmt_us(c)
                } else if (m == 9) {
                    name = "client CPU per cached lookup: map on · map off · files · nscd"
                    split("dot dot-nomap files nscd", cs, " ")
                    cell = ""
                    e = 0
                    for (f = 1; f <= 4; f++) {
                        r = has(d, "cached", t, cs[f]) && V[d, "cached", t, cs[f], "ccpu"] != "" ? V[d, "cached", t, cs[f], "ccpu"] / 10 : ""
                        if (r != "")
                            e = 1
                        cell = cell (f > 1 ? " · " : "") fmt_us(r)
                    }
                    if (!e)
                        cell = ""
                } else if (m == 10) {
                    name = "map off vs the previous run (" PNAME ", " label[PSTACK] "): p50 previous ÷ this · throughput this ÷ previous; raw, then each against its run'\''s unix floor"
                    if (prev_cmp(d, t)) {
                        cell = fmt_ratio(PR_P50) " · " fmt_ratio(PR_LPS)
                        if (PN_P50 != "")
                            cell = cell "; " fmt_ratio(PN_P50) " · " fmt_ratio(PN_LPS)
                    }
                }
                if (cell != "")
                    any = 1
                line = line " " (cell == "" ? "—" : cell) " |"
            }
            if (any)
                printf "| %s ms | %s |%s\n", d, name, line
        }
    }

    # The targets of issue 14.
    TGROUP = "issue 14"
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        for (i = 1; i <= ntc; i++) {
            t = tc[i]
            if (has(d, "cached", t, "dot") && has(d, "cached", t, "files") && V[d, "cached", t, "dot", "fail"] + 0 == 0) {
                if (t == 1) {
                    target("cached p50 within 1.2× of a files hit (nss-dot ÷ files)", t,
                           ratio(V[d, "cached", t, "dot", "p50"], V[d, "cached", t, "files", "p50"]), 1.2, 0)
                    target("cached p99 within 1.5× of a files hit (nss-dot ÷ files)", t,
                           ratio(V[d, "cached", t, "dot", "p99"], V[d, "cached", t, "files", "p99"]), 1.5, 0)
                } else {
                    target("cached throughput at least 0.8× files (nss-dot ÷ files)", t,
                           ratio(V[d, "cached", t, "dot", "lps"], V[d, "cached", t, "files", "lps"]), 0.8, 1)
                }
            } else if (has(d, "cached", t, "dot") && has(d, "cached", t, "files")) {
                # Failed lookups: the cell does not count as met.
                target(t == 1 ? "cached p50 within 1.2× of a files hit (nss-dot ÷ files)" : "cached throughput at least 0.8× files (nss-dot ÷ files)",
                       t, t == 1 ? 999 : 0, t == 1 ? 1.2 : 0.8, t == 1 ? 0 : 1)
            }
            a = dcpu_lookup(d, t, "dot"); b = dcpu_lookup(d, t, "dot-nomap")
            if (a != "" && b != "" && b + 0 > 0) {
                n = "daemon CPU per cached lookup ~0 (map on ÷ map off)"
                TF[n] = "%.3f"
                target(n, t, a / b, 0.01, 0)
            }
        }
    }
    # The socket path against the previous run: per thread count, the
    # geometric mean over the delays of both speed ratios (p50, throughput),
    # each against the unix floor of its own run (raw when a run has none): one
    # cell of a run on a shared machine drifts by tens of percent.
    for (i = 1; i <= ntc; i++) {
        t = tc[i]
        glist = ""
        for (di = 1; di <= nd; di++) {
            d = delays[di]
            if (!prev_cmp(d, t))
                continue
            if (PN_P50 != "")
                glist = glist " " PN_P50 " " PN_LPS
            else
                glist = glist " " PR_P50 " " PR_LPS
        }
        r = geomean(glist)
        if (r != "")
            target("map off no slower than the previous run (this ÷ previous speed, against the unix floor; geometric mean of p50 and throughput over delays)", t, r, 0.95, 1)
    }
    print ""
    print "### Targets (issue 14): the worst cell over delays, cached workload"
    print ""
    print_targets("issue 14")
}
# Heap allocations per lookup: one row of the table (the daemon'\''s own,
# OpenSSL'\''s and cache storage with call chains, the total only without).
function alloc_row(name, wl, s, t,    key, n, k, m, i, j, tmp, SK, SV, sites, w) {
    key = wl SUBSEP s SUBSEP t
    if (!((key, "ok") in AL))
        return
    if (!AL[key, "ok"]) {
        printf "| %s | %s | — | — | — | — |\n", name, AL[key, "note"] != "" ? AL[key, "note"] : "no result"
        return
    }
    n = AL[key, "n"]
    w = (AL[key, "fail"] + 0 > 0) ? " (" AL[key, "fail"] " of " n " failed)" : ""
    if (AL[key, "lost"] != "")
        w = w " (perf lost samples: at least this)"
    if (AL[key, "conns"] + 0 > 0)
        w = w " (" AL[key, "conns"] " new TLS connection" (AL[key, "conns"] + 0 == 1 ? "" : "s") " upstream during the count)"
    if (!((key, "daemon") in AL)) {
        printf "| %s | %.2f%s | — | — | — | — |\n", name, AL[key, "allocs"] / n, w
        return
    }
    # The call sites, most allocations first.
    m = split(AL[key, "sites"], tmp, " ")
    for (i = 1; i <= m; i++) {
        k = index(tmp[i], ":")
        SK[i] = substr(tmp[i], 1, k - 1)
        SV[i] = substr(tmp[i], k + 1) + 0
    }
    for (i = 1; i <= m; i++)
        for (j = i + 1; j <= m; j++)
            if (SV[j] > SV[i] || (SV[j] == SV[i] && SK[j] < SK[i])) {
                k = SV[i]; SV[i] = SV[j]; SV[j] = k
                k = SK[i]; SK[i] = SK[j]; SK[j] = k
            }
    sites = ""
    for (i = 1; i <= m; i++)
        sites = sites (i > 1 ? ", " : "") "`" SK[i] "` " sprintf(SV[i] / n < 0.1 ? "%.2f" : "%.1f", SV[i] / n)
    printf "| %s | %.2f%s | %.2f | %.2f | %.2f | %s |\n", name, AL[key, "allocs"] / n, w, AL[key, "daemon"] / n,
           AL[key, "openssl"] / n, AL[key, "cache"] / n, sites == "" ? "—" : sites
}
function alloc_section(    k, s) {
    print ""
    print "### Heap allocations per lookup"
    print ""
    if (ANOTE != "") {
        print toupper(substr(ANOTE, 1, 1)) substr(ANOTE, 2) "."
        return
    }
    print "malloc, calloc and realloc of the daemon'\''s process, counted with uprobes on libc (`perf probe`,"
    print "`perf record -p`) over " ALN " lookups (getaddrinfo AF_UNSPEC: A and AAAA) after a warm-up, 0 ms,"
    print "divided by the lookups. nss-dot'\''s are put by call chain (dwarf unwinding): OpenSSL (a frame"
    print "of libssl or libcrypto), cache storage (under `cache_put` or `cache_answer_new`: memory the"
    print "cache keeps, not per-query overhead), and the daemon'\''s own, named by the first daemon function"
    print "above the allocator. The alternatives'\'' daemons: the total only. A TLS connection opened"
    print "upstream during a count (its handshake allocates) is noted in the row."
    print ""
    print "| lookup | all | the daemon'\''s own | OpenSSL | cache storage | the daemon'\''s own, by call site |"
    print "| --- | --- | --- | --- | --- | --- |"
    alloc_row("nss-dot, uncached, 1 thread", "allocs-uncached", "dot", 1)
    alloc_row("nss-dot, uncached, 8 threads", "allocs-uncached", "dot", 8)
    alloc_row("nss-dot, map off, cached, 1 thread", "allocs-cached", "dot-nomap", 1)
    for (k = 1; k <= nalt; k++) {
        s = alts[k]
        alloc_row(label[s] ", uncached, 1 thread", "allocs-uncached", s, 1)
    }
}
# A target row of issue 15: one measured text, a goal, met or not.
function t15(name, measured, met, goal) {
    T15[++n15] = "| " name " | " measured " | " goal " | " (met == "" ? "—" : met ? "yes" : "**no**") " |"
}
function fmt_int(x) {
    x = sprintf("%.0f", x)
    while (x ~ /[0-9][0-9][0-9][0-9]/)
        sub(/[0-9][0-9][0-9]($|,)/, ",&", x)
    return x
}
function fmt_x(r) { return r == "" ? "—" : sprintf("%.2f", r) }
function rtts(us, rtt) { return rtt > 0 && us != "" ? sprintf("%.1f", us / rtt) : "—" }
function scale_section(    di, d, rtt, r, b, bs, k, s, v, i, t, m, lim, txt, met, worst, wt, wd, key, key1, base, sz, n, rss, hwm, a1, a2, l1, l2, ok, okc, rounds, cells, goodall, o, mi, o1, o2, h1, h2, any) {
    n15 = 0
    # 1. At the round-trip limit: the 64-thread uncached cell against 64 / RTT.
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        if (d + 0 == 0 || !has(d, "uncached", 64, "dot"))
            continue
        rtt = 2 * d * 1000
        lim = 64 / (rtt / 1e6)
        r = V[d, "uncached", 64, "dot", "lps"] / lim
        txt = sprintf("nss-dot %.2f (%s of %s; mean %.1f ms = RTT + %.2f ms)", r, fmt_lps(V[d, "uncached", 64, "dot", "lps"]), fmt_lps(lim),
                      V[d, "uncached", 64, "dot", "mean"] / 1000, (V[d, "uncached", 64, "dot", "mean"] - rtt) / 1000)
        b = best_alt(d, "uncached", 64, "lps", 1)
        if (b != "")
            txt = txt sprintf("; %s %.2f (mean %.1f ms = RTT + %.2f ms)", label[BEST_S], b / lim, V[d, "uncached", 64, BEST_S, "mean"] / 1000,
                              (V[d, "uncached", 64, BEST_S, "mean"] - rtt) / 1000)
        if (V[d, "uncached", 64, "dot", "fail"] + 0 > 0)
            txt = txt "; **" V[d, "uncached", 64, "dot", "fail"] " failed**"
        t15("64-client uncached throughput ≥ 90 % of the closed-loop limit (64 threads ÷ RTT), " d " ms one way", txt,
            r >= 0.9 && V[d, "uncached", 64, "dot", "fail"] + 0 == 0, "≥ 0.90")
    }
    # 2. 1,024 clients: back to back (the machine saturated), then paced.
    for (pw = 1; pw <= 2; pw++) {
    W1 = pw == 1 ? "clients" : "clients-paced"
    if ((W1, "dot", CLT, "ok") in C && C[W1, "dot", CLT, "ok"]) {
        rtt = 2 * CLD * 1000
        how = pw == 1 ? "back to back" : "paced, " fmt_lps(C[W1, "dot", CLT, "lps"]) " in all"
        key = W1 SUBSEP "dot" SUBSEP CLT
        t15(fmt_int(CLT) " clients at " CLD " ms, " how ": failed lookups (nss-dot)", fmt_int(C[key, "fail"]) " of " fmt_int(C[key, "n"]),
            C[key, "fail"] + 0 == 0, "0")
        txt = "nss-dot " rtts(C[key, "p99"], rtt) " RTT (p50 " rtts(C[key, "p50"], rtt) ")"
        b = ""; bs = ""
        for (k = 1; k <= nalt; k++) {
            s = alts[k]
            if (!((W1, s, CLT, "ok") in C) || !C[W1, s, CLT, "ok"])
                continue
            v = C[W1, s, CLT, "p99"]
            if (b == "" || v + 0 < b + 0) { b = v; bs = s }
        }
        if (bs != "")
            txt = txt "; " label[bs] " " rtts(b, rtt) " RTT" (C[W1, bs, CLT, "fail"] + 0 > 0 ? " (" fmt_int(C[W1, bs, CLT, "fail"]) " failed)" : "")
        if (pw == 1)
            txt = txt sprintf("; the machine %s %% busy: mean ≥ threads ÷ what it can do", X[W1, "dot", CLT, "machine_busy_pct"])
        t15(fmt_int(CLT) " clients at " CLD " ms, " how ": p99 in round trips", txt, rtt > 0 && C[key, "p99"] / rtt <= 3, "≤ 3")
        key = "clients-other-alone" SUBSEP "dot" SUBSEP 1
        key1 = W1 "-other-load" SUBSEP "dot" SUBSEP 1
        if (C[key, "ok"] && C[key1, "ok"]) {
            r = C[key1, "p50"] / C[key, "p50"]; v = C[key1, "p99"] / C[key, "p99"]
            txt = sprintf("nss-dot p50 %.2f×, p99 %.2f× (max %s)", r, v, fmt_t(C[key1, "max"]))
            key = "clients-other-alone" SUBSEP "dot-nomap" SUBSEP 1
            key1 = W1 "-other-load" SUBSEP "dot-nomap" SUBSEP 1
            if (C[key, "ok"] && C[key1, "ok"])
                txt = txt sprintf("; map off p50 %.2f×, p99 %.2f× (max %s)", C[key1, "p50"] / C[key, "p50"], C[key1, "p99"] / C[key, "p99"], fmt_t(C[key1, "max"]))
            for (k = 1; k <= nalt; k++) {
                s = alts[k]
                key = "clients-other-alone" SUBSEP s SUBSEP 1
                key1 = W1 "-other-load" SUBSEP s SUBSEP 1
                if ((key, "ok") in C && C[key, "ok"] && C[key1, "ok"])
                    txt = txt sprintf("; %s p50 %.2f×, p99 %.2f× (max %s)", label[s], C[key1, "p50"] / C[key, "p50"], C[key1, "p99"] / C[key, "p99"], fmt_t(C[key1, "max"]))
            }
            # Judged on nss-dot'\''s p50: its cached lookups are answered by
            # the answer map without the daemon, so their p99 under load is
            # the machine'\''s scheduler (a thousand runnable threads on its
            # CPUs), shown beside the alternatives'\''.
            t15("another user'\''s cached lookups unaffected by the " fmt_int(CLT) " clients, " how " (under load ÷ alone; judged on nss-dot'\''s p50, p99 is the machine'\''s CPUs)", txt,
                r <= 1.5, "p50 ≤ 1.5")
        }
    }
    }
    # 3. A big cache (the socket path: shared_map = false).
    if (ncs > 0) {
        base = csizes[1]
        for (i = 1; i <= 2; i++) {
            t = i == 1 ? 1 : 8
            key1 = "cache-hit" SUBSEP "dot-big" SUBSEP t SUBSEP base
            if (!C[key1, "ok"])
                continue
            # Judged on each size against the control measured with it
            # (the first size'\''s names in the same cache, alternating
            # round by round: the machine'\''s drift falls on both); the
            # ratio to the first size measured at its own fill, minutes
            # earlier, beside it. A CSV from before the rounds (one control
            # right before each size), on that ratio, as it was then.
            worst = ""; txt = ""; ok = 1; cells = ""; okc = 1; rounds = ""
            for (k = 2; k <= ncs; k++) {
                key = "cache-hit" SUBSEP "dot-big" SUBSEP t SUBSEP csizes[k]
                if (!C[key, "ok"])
                    continue
                r = C[key, "p50"] / C[key1, "p50"]
                txt = txt (txt == "" ? "" : ", ") fmt_int(csizes[k]) ": " sprintf("%.2f", r)
                if (r > 1.1 || C[key, "fail"] + 0 > 0)
                    ok = 0
                a1 = "cache-hot" SUBSEP "dot-big" SUBSEP t SUBSEP csizes[k]
                if (C[a1, "ok"]) {
                    r = C[key, "hot_ratio"] != "" ? C[key, "hot_ratio"] : C[key, "p50"] / C[a1, "p50"]
                    cells = cells (cells == "" ? "" : ", ") fmt_int(csizes[k]) ": " sprintf("%.2f", r)
                    if (r > 1.1 || C[key, "fail"] + 0 > 0)
                        okc = 0
                    rounds = X["cache-hit", "dot-big", t, "rounds"]
                } else
                    okc = -1
            }
            if (cells != "" && okc >= 0 && rounds + 0 > 1) {
                txt = cells " (÷ " fmt_int(base) " of the same cache'\''s names at the same moment, the median of " \
                      rounds " alternating rounds'\'' ratios); ÷ the " fmt_int(base) "-entry cache at its fill: " txt
                ok = okc
            } else if (cells != "")
                txt = txt " (against " fmt_int(base) " of the same cache'\''s names at the same moment: " cells ")"
            t15("cached p50 at each size ÷ at " fmt_int(base) " entries, " t " thread" (t == 1 ? "" : "s") " (socket path)", txt, ok, "≤ 1.10")
        }
        sz = csizes[ncs]
        key = "cache-fill" SUBSEP "dot-big" SUBSEP 64 SUBSEP sz
        if (C[key, "rss_kb"] != "" && RSS0["dot-big"] != "" && C[key, "entries"] + 0 > 0) {
            v = (C[key, "rss_kb"] - RSS0["dot-big"]) * 1024 / C[key, "entries"]
            t15("daemon RSS per cached answer (one address) at " fmt_int(C[key, "entries"]) " entries", sprintf("%.0f B ((%.1f − %.1f MB) ÷ entries)", v, C[key, "rss_kb"] / 1024, RSS0["dot-big"] / 1024),
                v <= 300, "≤ 300 B")
        }
        key = "cache-churn" SUBSEP "dot-big" SUBSEP 16
        if ((key, "ok") in C && C[key, "ok"]) {
            v = X["cache-churn", "dot-big", 16, "loop.over_1ms"]
            txt = fmt_int(v) " of " fmt_int(X["cache-churn", "dot-big", 16, "loop.iterations"]) " iterations over 1 ms (" fmt_int(X["cache-churn", "dot-big", 16, "loop.over_10ms"]) " over 10 ms); longest "
            a1 = X["cache-churn", "dot-big", 16, "loop.longest_us"]; a2 = X["cache-churn", "dot-big", 16, "loop.longest_us_before"]
            if (a1 + 0 > a2 + 0)
                txt = txt fmt_int(a1) " µs"
            else if (v + 0 == 0)
                txt = txt "< 1 ms"
            else if (X["cache-churn", "dot-big", 16, "loop.over_10ms"] + 0 == 0)
                txt = txt "1–10 ms"
            else
                txt = txt "over 10 ms, at most " fmt_int(a2) " µs"
            # Judged on the time of the loop itself where perf measured
            # it: a preempted iteration is another process given the CPU,
            # not what eviction and expiry cost.
            ok = v + 0 == 0
            # perf must have seen the loop: as many iterations as its own
            # counter (within 5 %, recording started a moment later), else
            # the wall-clock count stands (no epoll_wait on this platform,
            # records lost).
            o = X["cache-churn", "dot-big", 16, "perf_iterations"]
            mi = X["cache-churn", "dot-big", 16, "loop.iterations"]
            if (o != "" && !(o + 0 > 0 && o + 0 >= 0.95 * mi && X["cache-churn", "dot-big", 16, "oncpu_lost"] == "")) {
                X["cache-churn", "dot-big", 16, "oncpu_why"] = "perf saw " fmt_int(o) " of its " fmt_int(mi) " iterations" \
                    (X["cache-churn", "dot-big", 16, "oncpu_lost"] != "" ? " (" X["cache-churn", "dot-big", 16, "oncpu_lost"] ")" : "")
                X["cache-churn", "dot-big", 16, "perf_iterations"] = ""
            }
            if (X["cache-churn", "dot-big", 16, "perf_iterations"] != "") {
                o = X["cache-churn", "dot-big", 16, "oncpu_over_1ms"]
                txt = "the loop'\''s own time (wall-clock less preemption, perf): " fmt_int(o) " over 1 ms, longest " \
                      fmt_int(X["cache-churn", "dot-big", 16, "oncpu_longest_us"]) " µs; wall-clock: " txt \
                      "; " fmt_int(X["cache-churn", "dot-big", 16, "preempted_iterations"]) " iterations preempted, " \
                      sprintf("%.0f", X["cache-churn", "dot-big", 16, "preempted_us"] / 1000) " ms in all"
                ok = o + 0 == 0
            } else if (X["cache-churn", "dot-big", 16, "oncpu_why"] != "")
                txt = txt "; the loop'\''s own time not measured: " X["cache-churn", "dot-big", 16, "oncpu_why"]
            t15("no event-loop iteration over 1 ms during churn (full cache of " fmt_int(X["cache-churn", "dot-big", 16, "size"]) ", evictions and expiries)", txt,
                ok, "0")
        }
    }
    # 4. Daemon CPU per uncached lookup against the best alternative.
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        txt = ""; ok = 1; any = 0
        for (i = 1; i <= ntc; i++) {
            t = tc[i]
            b = ""; bs = ""
            for (k = 1; k <= nalt; k++) {
                s = alts[k]
                if (!has(d, "uncached", t, s) || V[d, "uncached", t, s, "fail"] + 0 > 0 || V[d, "uncached", t, s, "dcpu"] == "")
                    continue
                v = V[d, "uncached", t, s, "dcpu"]
                if (b == "" || v + 0 < b + 0) { b = v; bs = s }
            }
            if (!has(d, "uncached", t, "dot") || b == "" || b + 0 == 0)
                continue
            r = V[d, "uncached", t, "dot", "dcpu"] / b
            any = 1
            txt = txt (txt == "" ? "" : "; ") t " thread" (t == 1 ? "" : "s") " " sprintf("%.2f", r) " (" sprintf("%.1f", V[d, "uncached", t, "dot", "dcpu"] / 10) " ÷ " sprintf("%.1f", b / 10) " µs, " label[bs] ")"
            if (r > 0.5)
                ok = 0
        }
        if (any)
            t15("daemon CPU per uncached lookup, nss-dot ÷ best alternative, " d " ms one way", txt, ok, "≤ 0.50")
    }
    # 5. Heap allocations: the daemon'\''s own per uncached lookup (OpenSSL'\''s
    # and what the cache keeps beside it, not judged).
    if (nal > 0) {
        txt = ""; ok = 1; any = 0; a1 = ""; a2 = ""; why = ANOTE
        for (t = 1; t <= 8; t += 7) {
            key = "allocs-uncached" SUBSEP "dot" SUBSEP t
            if (!AL[key, "ok"]) {
                if (why == "")
                    why = AL[key, "note"]
                continue
            }
            any = 1
            v = AL[key, "daemon"] / AL[key, "n"]
            if (v >= 0.05)
                ok = 0
            txt = txt (txt == "" ? "" : ", ") sprintf("%.2f at %d thread%s", v, t, t == 1 ? "" : "s") \
                  (AL[key, "lost"] != "" ? " (perf lost samples: at least this)" : "")
            a1 = a1 (a1 == "" ? "" : " · ") sprintf("%.2f", AL[key, "openssl"] / AL[key, "n"])
            a2 = a2 (a2 == "" ? "" : " · ") sprintf("%.2f", AL[key, "cache"] / AL[key, "n"])
        }
        n = "no per-query allocations on the hot path (the daemon'\''s own allocations per uncached lookup)"
        if (any) {
            txt = "nss-dot " txt "; beside it, not judged: OpenSSL " a1 ", cache storage " a2
            key = "allocs-cached" SUBSEP "dot-nomap" SUBSEP 1
            if (AL[key, "ok"])
                txt = txt sprintf("; a cached lookup, map off: %.2f of its own", AL[key, "daemon"] / AL[key, "n"])
            t15(n, txt, ok, "< 0.05")
        } else
            t15(n, why ~ /^not measured/ ? why : "not measured" (why != "" ? ": " why : ""), "", "< 0.05")
    }
    if (n15 == 0 && ncl == 0 && ncs == 0)
        return
    print ""
    print "## At the round-trip limit, with many clients, with a big cache, and allocations (issue 15)"
    print ""
    print "### Targets (issue 15)"
    print ""
    print "| target | measured | goal | met |"
    print "| --- | --- | --- | --- |"
    for (i = 1; i <= n15; i++)
        print T15[i]
    if (ncl > 0) {
        rtt = 2 * CLD * 1000
        print ""
        print "### " fmt_int(CLT) " clients at once"
        print ""
        print "One client process with " fmt_int(CLT) " threads, each looking up a new name (getaddrinfo AF_UNSPEC, a"
        print "wildcard) for the phase'\''s duration at " CLD " ms one way (RTT " 2 * CLD " ms), each stack freshly"
        print "started: first each thread one lookup after another (back to back: the machine saturated),"
        print "then each thread at a steady pace (paced: the total in the lookups/s column). During each,"
        print "another client (1 thread, a cached name, as the user nobody) runs; it was measured alone"
        print "just before. p50/p99 in round trips; daemon CPU per lookup in µs; peak RSS is the"
        print "daemon'\''s VmHWM after both loads."
        print ""
        print "| stack | load | lookups/s | failed | p50 · p99 (RTT) | daemon CPU per lookup | peak RSS | other client alone: p50 · p99 · max · lookups/s | beside the load | under load ÷ alone (p50 · p99) |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        for (k = 1; k <= ncl; k++) {
            s = cls[k]
            for (pw = 1; pw <= 2; pw++) {
            W1 = pw == 1 ? "clients" : "clients-paced"
            if (pw == 2 && !((W1, s, CLT, "ok") in C))
                continue
            key = W1 SUBSEP s SUBSEP CLT
            o1 = "clients-other-alone" SUBSEP s SUBSEP 1
            o2 = W1 "-other-load" SUBSEP s SUBSEP 1
            if (!C[key, "ok"]) {
                printf "| %s | %s | no result: %s | | | | | | | |\n", label[s], pw == 1 ? "back to back" : "paced", C[key, "note"]
                continue
            }
            printf "| %s | %s | %s | %s | %s · %s | %s | %s | %s · %s · %s · %s | %s · %s · %s · %s | %s · %s |\n", label[s], pw == 1 ? "back to back" : "paced", fmt_lps(C[key, "lps"]),
                   (C[key, "fail"] + 0 > 0 ? "**" fmt_int(C[key, "fail"]) " of " fmt_int(C[key, "n"]) "**" : "0 of " fmt_int(C[key, "n"])),
                   rtts(C[key, "p50"], rtt), rtts(C[key, "p99"], rtt),
                   (C[key, "dcpu_us"] != "" && C[key, "n"] > 0 ? sprintf("%.1f µs", C[key, "dcpu_us"] / C[key, "n"]) : "—"),
                   C[key, "hwm"] != "" ? sprintf("%.1f MB", C[key, "hwm"] / 1024) : "—",
                   fmt_t(C[o1, "p50"]), fmt_t(C[o1, "p99"]), fmt_t(C[o1, "max"]), fmt_lps(C[o1, "lps"]),
                   fmt_t(C[o2, "p50"]), fmt_t(C[o2, "p99"]), fmt_t(C[o2, "max"]), fmt_lps(C[o2, "lps"]),
                   C[o1, "ok"] && C[o2, "ok"] ? fmt_ratio(C[o2, "p50"] / C[o1, "p50"]) : "—",
                   C[o1, "ok"] && C[o2, "ok"] ? fmt_ratio(C[o2, "p99"] / C[o1, "p99"]) : "—"
            }
        }
        print ""
        print "During the load: CPU per lookup of the client process, the proxy, the upstream and the whole"
        print "machine (all CPUs, everything running), how busy the machine was, and the mean latency"
        print "(with every thread always in a lookup, mean = threads ÷ lookups/s: a machine that can do"
        print "X lookups/s at most keeps the mean at or above " fmt_int(CLT) " ÷ X). nss-dot'\''s counters from"
        print "`dot-helperctl stats` (deltas over the load; the loop'\''s longest iteration since the daemon"
        print "started):"
        print ""
        for (k = 1; k <= ncl; k++) {
            s = cls[k]
            for (pw = 1; pw <= 2; pw++) {
            W1 = pw == 1 ? "clients" : "clients-paced"
            key = W1 SUBSEP s SUBSEP CLT
            if (!C[key, "ok"] || C[key, "n"] + 0 == 0)
                continue
            txt = sprintf("CPU per lookup: client %.1f µs, proxy %.1f µs, upstream %.1f µs, machine %.1f µs (%s %% busy); mean latency %.1f ms (%s RTT)",
                          C[key, "ccpu"] / 10, X[W1, s, CLT, "proxy_cpu_us"] / C[key, "n"],
                          X[W1, s, CLT, "upstream_cpu_us"] / C[key, "n"], X[W1, s, CLT, "machine_cpu_us"] / C[key, "n"],
                          X[W1, s, CLT, "machine_busy_pct"], C[key, "mean"] / 1000, rtts(C[key, "mean"], rtt))
            if ((W1, s, CLT, "pool.waited") in X)
                txt = txt sprintf("; pool.waited %s, clients.queued_lookups %s, clients.shed_per_user %s, clients.shed_full %s, clients.evicted %s, clients.timed_out %s, pool.failures %s; loop.over_1ms %s, loop.over_10ms %s, loop.longest_us %s",
                                  X[W1, s, CLT, "pool.waited"], X[W1, s, CLT, "clients.queued_lookups"], X[W1, s, CLT, "clients.shed_per_user"],
                                  X[W1, s, CLT, "clients.shed_full"], X[W1, s, CLT, "clients.evicted"], X[W1, s, CLT, "clients.timed_out"],
                                  X[W1, s, CLT, "pool.failures"], X[W1, s, CLT, "loop.over_1ms"], X[W1, s, CLT, "loop.over_10ms"],
                                  X[W1, s, CLT, "loop.longest_us"])
            if (C[key, "note"] != "")
                txt = txt "; " C[key, "note"]
            printf "- %s, %s: %s.\n", label[s], pw == 1 ? "back to back" : "paced", txt
            }
        }
    }
    if (ncs > 0) {
        base = csizes[1]
        print ""
        print "### A big cache"
        print ""
        print "nss-dot alone at 0 ms, getaddrinfo AF_INET (one answer with one address per name). The"
        print "daemon (`cache = { entries = " fmt_int(csizes[ncs] * 1.1) "; shared_map = false; }`: every lookup asks its cache"
        print "over the socket) is filled through real lookups of new names (64 threads, each name once)"
        print "to each size; then names picked at random among those cached are looked up, 1 and 8"
        print "threads (p50 · p99, the ratio of p50 to the " fmt_int(base) "-entry p50). RSS is the daemon'\''s VmRSS"
        print "after the fill (" sprintf("%.1f MB", RSS0["dot-big"] / 1024) " before it). Control: alternating with each size'\''s"
        print "own lookups, round by round, names picked among the first " fmt_int(base) " only, in the same cache (its"
        print "p50, and the size'\''s p50 ÷ it: where there were rounds, the median of the rounds'\'' ratios, each"
        print "p50 shown being its median round): the machine'\''s drift falls on both alike, while the ratio to"
        print "the " fmt_int(base) "-entry cache spans minutes of it. \"map on\": the same with the answer map (4,096"
        print "slots by default), filled separately, up to the sizes shown."
        print ""
        print "| entries | fill: lookups/s | cache.entries | RSS | 1 thread | ÷ " fmt_int(base) " | control | 8 threads | ÷ " fmt_int(base) " | control | map on: 1 thread · 8 threads (p50) |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        for (k = 1; k <= ncs; k++) {
            sz = csizes[k]
            key = "cache-fill" SUBSEP "dot-big" SUBSEP 64 SUBSEP sz
            a1 = "cache-hit" SUBSEP "dot-big" SUBSEP 1 SUBSEP sz
            a2 = "cache-hit" SUBSEP "dot-big" SUBSEP 8 SUBSEP sz
            l1 = "cache-hit" SUBSEP "dot-big" SUBSEP 1 SUBSEP base
            l2 = "cache-hit" SUBSEP "dot-big" SUBSEP 8 SUBSEP base
            o1 = "cache-hit" SUBSEP "dot-bigmap" SUBSEP 1 SUBSEP sz
            o2 = "cache-hit" SUBSEP "dot-bigmap" SUBSEP 8 SUBSEP sz
            h1 = "cache-hot" SUBSEP "dot-big" SUBSEP 1 SUBSEP sz
            h2 = "cache-hot" SUBSEP "dot-big" SUBSEP 8 SUBSEP sz
            printf "| %s | %s%s | %s | %s | %s · %s%s | %s | %s | %s · %s%s | %s | %s | %s |\n", fmt_int(sz), fmt_lps(C[key, "lps"]),
                   (C[key, "fail"] + 0 > 0 ? " **" C[key, "fail"] " failed**" : ""), fmt_int(C[key, "entries"]),
                   C[key, "rss_kb"] != "" ? sprintf("%.1f MB", C[key, "rss_kb"] / 1024) : "—",
                   fmt_t(C[a1, "p50"]), fmt_t(C[a1, "p99"]), (C[a1, "fail"] + 0 > 0 ? " **" C[a1, "fail"] " failed**" : ""),
                   C[a1, "ok"] && C[l1, "ok"] ? fmt_ratio(C[a1, "p50"] / C[l1, "p50"]) : "—",
                   C[h1, "ok"] ? fmt_t(C[h1, "p50"]) ", " fmt_ratio(C[a1, "hot_ratio"] != "" ? C[a1, "hot_ratio"] : C[a1, "p50"] / C[h1, "p50"]) : "—",
                   fmt_t(C[a2, "p50"]), fmt_t(C[a2, "p99"]), (C[a2, "fail"] + 0 > 0 ? " **" C[a2, "fail"] " failed**" : ""),
                   C[a2, "ok"] && C[l2, "ok"] ? fmt_ratio(C[a2, "p50"] / C[l2, "p50"]) : "—",
                   C[h2, "ok"] ? fmt_t(C[h2, "p50"]) ", " fmt_ratio(C[a2, "hot_ratio"] != "" ? C[a2, "hot_ratio"] : C[a2, "p50"] / C[h2, "p50"]) : "—",
                   C[o1, "ok"] ? fmt_t(C[o1, "p50"]) " · " fmt_t(C[o2, "p50"]) : "—"
        }
        key = "cache-churn" SUBSEP "dot-big" SUBSEP 16
        if ((key, "ok") in C) {
            print ""
            printf "Churn: `cache.entries` reloaded to %s (the cache full: %s entries; the reload'\''s loop\n", fmt_int(X["cache-churn", "dot-big", 16, "size"]),
                   fmt_int(X["cache-churn", "dot-big", 16, "entries_before"])
            printf "iterations: %s, %s µs busy in all, the longest since the start %s µs after it), then new\n", X["cache-churn", "dot-big", 16, "reload_loop.iterations"],
                   fmt_int(X["cache-churn", "dot-big", 16, "reload_loop.busy_us"]), fmt_int(X["cache-churn", "dot-big", 16, "loop.longest_us_before"])
            printf "names with a TTL of 1 s, %s for %.0f s\n",
                   fmt_lps(C[key, "lps"]), C[key, "seconds"]
            printf "(16 threads, one lookup every 4 ms each: the loop is not saturated, so a long iteration is\n"
            printf "a pause): each insert evicts the least recently used entry, and the churned entries expire\n"
            printf "(they stay until evicted). p50 · p99\n"
            printf "%s · %s, %s failed; %s loop iterations, %s µs busy (mean %.0f µs), %s over 1 ms, %s over\n", fmt_t(C[key, "p50"]), fmt_t(C[key, "p99"]),
                   fmt_int(C[key, "fail"]), fmt_int(X["cache-churn", "dot-big", 16, "loop.iterations"]), fmt_int(X["cache-churn", "dot-big", 16, "loop.busy_us"]),
                   (X["cache-churn", "dot-big", 16, "loop.iterations"] > 0 ? X["cache-churn", "dot-big", 16, "loop.busy_us"] / X["cache-churn", "dot-big", 16, "loop.iterations"] : 0),
                   fmt_int(X["cache-churn", "dot-big", 16, "loop.over_1ms"]), fmt_int(X["cache-churn", "dot-big", 16, "loop.over_10ms"])
            printf "10 ms; loop.longest_us %s before the reload, %s before the churn, %s after; %s entries\n",
                   fmt_int(X["cache-churn", "dot-big", 16, "loop.longest_us_before_reload"]), fmt_int(X["cache-churn", "dot-big", 16, "loop.longest_us_before"]),
                   fmt_int(X["cache-churn", "dot-big", 16, "loop.longest_us"]), fmt_int(X["cache-churn", "dot-big", 16, "entries"])
            printf "after, RSS %.1f MB. Daemon CPU %.1f µs per churned lookup (perf recording it, when it did).\n", X["cache-churn", "dot-big", 16, "rss_kb"] / 1024,
                   (C[key, "n"] > 0 ? C[key, "dcpu_us"] / C[key, "n"] : 0)
            if (X["cache-churn", "dot-big", 16, "perf_iterations"] != "") {
                print ""
                printf "The same iterations seen by perf (`perf record --switch-events` with the daemon'\''s\n"
                printf "epoll_wait() and sched_yield() entries and exits; recording slows the daemon a little, and\n"
                printf "the loop counters above are from the same recorded run): %s iterations, %s over\n",
                       fmt_int(X["cache-churn", "dot-big", 16, "perf_iterations"]), fmt_int(X["cache-churn", "dot-big", 16, "perf_over_1ms"])
                printf "1 ms wall-clock (longest %s µs); %s of them preempted (another process given the CPU\n",
                       fmt_int(X["cache-churn", "dot-big", 16, "perf_longest_us"]), fmt_int(X["cache-churn", "dot-big", 16, "preempted_iterations"])
                printf "mid-iteration: 16 client threads, the proxy and the upstream share 2 CPUs), %.0f ms in all;\n",
                       X["cache-churn", "dot-big", 16, "preempted_us"] / 1000
                printf "less that, the loop'\''s own time: %s over 1 ms, longest %s µs.\n",
                       fmt_int(X["cache-churn", "dot-big", 16, "oncpu_over_1ms"]), fmt_int(X["cache-churn", "dot-big", 16, "oncpu_longest_us"])
            }
            print ""
            printf "While filling (64 threads, saturated: an iteration serves a batch of events, so these are\n"
            printf "not pauses): loop.longest_us and loop.over_1ms since the start, after each fill:"
            for (k = 1; k <= ncs; k++) {
                key = "cache-fill" SUBSEP "dot-big" SUBSEP 64 SUBSEP csizes[k]
                printf "%s %s: %s µs, %s", k == 1 ? "" : ";", fmt_int(csizes[k]), fmt_int(C[key, "loop.longest_us"]), fmt_int(C[key, "loop.over_1ms"])
            }
            print "."
        }
    }
    if (nal > 0)
        alloc_section()
}
BEGIN {
    nstack = split("dot dot-nomap dot-nagle unbound stubby resolved nscd files unix", order, " ")
    label["dot"] = "nss-dot"
    label["dot-nomap"] = "nss-dot, map off"
    label["dot-nagle"] = "nss-dot, Nagle-on upstream"
    label["unbound"] = "nss_dns→Unbound"
    label["stubby"] = "nss_dns→Stubby"
    label["resolved"] = "nss-resolve→resolved"
    label["nscd"] = "nscd→nss_dns→Unbound"
    label["files"] = "files"
    label["unix"] = "unix socket"
    # The DoT resolvers nss-dot replaces (the targets of issue 4); nscd, a cache in
    # front of one of them, has its own rows in the answer map section.
    nalt = split("unbound stubby resolved", alts, " ")
    TGROUP = "issue 4"
    # The previous run: its socket path (dot-nomap, or dot before the map
    # existed) and its unix floor, cached workload.
    if (prev != "") {
        while ((getline line < prev) > 0) {
            split(line, c, ",")
            if (c[2] != "cached" || c[7] + 0 > 0 || c[10] == "")
                continue
            if (c[4] == "dot-nomap")
                PNOMAP = 1
            P[c[1], c[3], c[4], "p50"] = c[10]
            P[c[1], c[3], c[4], "lps"] = c[9]
        }
        close(prev)
        PSTACK = PNOMAP ? "dot-nomap" : "dot"
        PNAME = prev
        sub(/.*\//, "", PNAME)
    }
}
NR == 1 { next }
{
    d = $1; wl = $2; t = $3; s = $4
    if (wl == "unavailable") {
        UNAV[s] = $21
        seen[s] = 1
        next
    }
    # Heap allocations per lookup (issue 15): counts in the extra column.
    if (wl ~ /^allocs/) {
        if (wl == "allocs-none") {
            ANOTE = $21
            nal++
            next
        }
        key = wl SUBSEP s SUBSEP t
        ne = split($23, ex, ";")
        for (k = 1; k <= ne; k++) {
            eq = index(ex[k], "=")
            if (eq)
                AL[key, substr(ex[k], 1, eq - 1)] = substr(ex[k], eq + 1)
        }
        AL[key, "n"] = $6; AL[key, "fail"] = $7; AL[key, "note"] = $21; AL[key, "conns"] = $18
        AL[key, "ok"] = $6 + 0 > 0 && AL[key, "allocs"] != ""
        if ($6 + 0 > ALN + 0)
            ALN = $6
        nal++
        next
    }
    # The scale phases (issue 15): their own tables. Key: workload, stack,
    # threads and, for the cache, the size (from the extra column).
    if (wl ~ /^(clients|cache-)/) {
        ne = split($23, ex, ";")
        sz = ""
        for (k = 1; k <= ne; k++) {
            eq = index(ex[k], "=")
            if (eq == 0)
                continue
            X[wl, s, t, substr(ex[k], 1, eq - 1)] = substr(ex[k], eq + 1)
            if (substr(ex[k], 1, eq - 1) == "size")
                sz = substr(ex[k], eq + 1)
        }
        if (wl == "cache-rss0") {
            RSS0[s] = $20
            next
        }
        if (wl == "cache-fill" || wl == "cache-hit" || wl == "cache-hot") {
            key = wl SUBSEP s SUBSEP t SUBSEP sz
            if (wl == "cache-fill" && !((s, sz) in CSZ)) {
                CSZ[s, sz] = 1
                if (s == "dot-big")
                    csizes[++ncs] = sz
            }
            for (k = 1; k <= ne; k++) {
                eq = index(ex[k], "=")
                if (eq)
                    C[key, substr(ex[k], 1, eq - 1)] = substr(ex[k], eq + 1)
            }
        } else {
            key = wl SUBSEP s SUBSEP t
            if (wl == "clients" && !(s in CLS)) {
                CLS[s] = 1
                cls[++ncl] = s
                CLD = d
                CLT = t
            }
        }
        C[key, "p50"] = $10; C[key, "p99"] = $12; C[key, "lps"] = $9; C[key, "fail"] = $7
        C[key, "n"] = $6; C[key, "dcpu_us"] = $15; C[key, "max"] = $13; C[key, "ccpu"] = $17; C[key, "hwm"] = $20; C[key, "mean"] = $14
        C[key, "seconds"] = $8; C[key, "note"] = $21
        C[key, "ok"] = $10 != ""
        next
    }
    if (!(d in seen_d)) {
        seen_d[d] = 1
        delays[++nd] = d
    }
    seen[s] = 1
    if (wl == "rss") {
        RSS[d, s] = $20
        next
    }
    if (wl == "cold") {
        if ($10 != "" && $7 + 0 == 0)
            COLD[d, s] = COLD[d, s] " " $10
        else
            COLDFAIL[d, s]++
        CCONN[d, s] += $18
        if ($22 != "")
            COLDX[d, s] = COLDX[d, s] " " $22
        next
    }
    if (!((wl, t) in seen_wt)) {
        seen_wt[wl, t] = 1
        if (wl == "cached")
            tc[++ntc] = t
    }
    V[d, wl, t, s, "p50"] = $10
    V[d, wl, t, s, "p99"] = $12
    V[d, wl, t, s, "lps"] = $9
    V[d, wl, t, s, "fail"] = $7
    V[d, wl, t, s, "n"] = $6
    V[d, wl, t, s, "dcpu"] = $16
    V[d, wl, t, s, "dcpu_us"] = $15
    V[d, wl, t, s, "ccpu"] = $17
    V[d, wl, t, s, "conns"] = $18
    V[d, wl, t, s, "note"] = $21
    V[d, wl, t, s, "mean"] = $14
}
END {
    ns = 0
    for (k = 1; k <= nstack; k++)
        if (order[k] in seen)
            st[++ns] = order[k]

    # --- headline -----------------------------------------------------------
    print ""
    print "## Headline: nss-dot against the best alternative in the same run"
    print ""
    print "Ratios above 1 mean nss-dot is better (faster, more throughput, less CPU). The best"
    print "alternative is the fastest of nss_dns→Unbound, nss_dns→Stubby and nss-resolve→resolved"
    print "for that cell (named in brackets); stacks with failures in a cell are not counted."
    print "nscd (a cache in front of nss_dns→Unbound) is compared in the answer map section."
    print ""
    threads_header("delay (one way) | measure", 2, "", 0)
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        rtt_us = 2 * d * 1000
        for (m = 1; m <= 10; m++) {
            line = ""
            any = 0
            for (i = 1; i <= ntc; i++) {
                t = tc[i]
                cell = "—"
                if (m == 1 || m == 2) {
                    wl = "cached"; f = m == 1 ? "p50" : "p99"
                    name = (m == 1 ? "cached p50" : "cached p99") " vs best alternative"
                    b = best_alt(d, wl, t, f, 0)
                    if (has(d, wl, t, "dot") && b != "") {
                        r = ratio(b, V[d, wl, t, "dot", f])
                        cell = fmt_ratio(r) " (" label[BEST_S] ")"
                        any = 1
                    }
                } else if (m == 3 || m == 4) {
                    # Targets: 1.3x the Unbound forwarder, 2x resolved, p50 and p99.
                    alt = m == 3 ? "unbound" : "resolved"
                    name = "cached p50 / p99 vs " label[alt]
                    if (has(d, "cached", t, "dot") && has(d, "cached", t, alt)) {
                        r1 = ratio(V[d, "cached", t, alt, "p50"], V[d, "cached", t, "dot", "p50"])
                        r2 = ratio(V[d, "cached", t, alt, "p99"], V[d, "cached", t, "dot", "p99"])
                        cell = fmt_ratio(r1) " / " fmt_ratio(r2)
                        target("cached p50 and p99 vs " label[alt], t, r1, alt == "unbound" ? 1.3 : 2, 1)
                        target("cached p50 and p99 vs " label[alt], t, r2, alt == "unbound" ? 1.3 : 2, 1)
                        any = 1
                    }
                } else if (m == 5) {
                    name = "cached p50 / p99: nss-dot ÷ files (the one row where lower is better)"
                    if (has(d, "cached", t, "dot") && has(d, "cached", t, "files")) {
                        r1 = ratio(V[d, "cached", t, "dot", "p50"], V[d, "cached", t, "files", "p50"])
                        r2 = ratio(V[d, "cached", t, "dot", "p99"], V[d, "cached", t, "files", "p99"])
                        cell = fmt_ratio(r1) " / " fmt_ratio(r2)
                        if (r1 != "")
                            target("cached p50 within 1.6× of files (nss-dot ÷ files)", t, r1, 1.6, 0)
                        any = 1
                    }
                } else if (m == 6) {
                    name = "uncached p50 vs best alternative"
                    b = best_alt(d, "uncached", t, "p50", 0)
                    if (has(d, "uncached", t, "dot") && b != "") {
                        r = ratio(b, V[d, "uncached", t, "dot", "p50"])
                        cell = fmt_ratio(r) " (" label[BEST_S] ")"
                        any = 1
                    }
                } else if (m == 7) {
                    name = "uncached p50 ÷ round trip"
                    if (d > 0 && has(d, "uncached", t, "dot")) {
                        r = ratio(V[d, "uncached", t, "dot", "p50"], rtt_us)
                        cell = sprintf("%.2f RTT", r)
                        target("uncached p50 within 1.1 round trips (RTTs)", t, r, 1.1, 0)
                        any = 1
                    }
                } else if (m == 8 || m == 9) {
                    wl = m == 8 ? "cached" : "uncached"
                    name = wl " throughput vs best alternative"
                    b = best_alt(d, wl, t, "lps", 1)
                    if (has(d, wl, t, "dot") && b != "") {
                        r = ratio(V[d, wl, t, "dot", "lps"], b)
                        cell = fmt_ratio(r) " (" label[BEST_S] ")"
                        if (t == 64 && V[d, wl, t, "dot", "fail"] + 0 == 0)
                            target("64-thread throughput vs best alternative", t, r, 1, 1)
                        else if (t == 64)
                            target("64-thread throughput vs best alternative", t, 0, 1, 1)
                        any = 1
                    }
                } else if (m == 10) {
                    # The same daemon against an upstream that leaves Nagle on
                    # (Unbound as shipped, emulated by delay-proxy -N).
                    name = "uncached p50, Nagle-on upstream (nss-dot; ÷ round trip)"
                    if (has(d, "uncached", t, "dot-nagle")) {
                        v = V[d, "uncached", t, "dot-nagle", "p50"]
                        cell = fmt_t(v)
                        if (d > 0) {
                            r = ratio(v, rtt_us)
                            cell = cell sprintf("; %.2f RTT", r)
                            target("uncached p50 within 1.1 RTTs, Nagle-on upstream", t, r, 1.1, 0)
                        }
                        any = 1
                    }
                }
                line = line " " cell " |"
            }
            if (any)
                printf "| %s ms | %s |%s\n", d, name, line
        }
        # Cold start and CPU, one cell each.
        if ((d, "dot") in COLD) {
            cm = median_of(COLD[d, "dot"])
            best = ""; bs = ""
            for (k = 1; k <= nalt; k++)
                if ((d, alts[k]) in COLD) {
                    v = median_of(COLD[d, alts[k]])
                    if (best == "" || v + 0 < best + 0) { best = v; bs = alts[k] }
                }
            cm = median_of(COLD[d, "dot"])
            cell = best == "" ? "—" : fmt_ratio(ratio(best, cm)) " (" label[bs] ")"
            if (d > 0) {
                cell = cell sprintf("; nss-dot %.2f RTT", cm / rtt_us)
                target("cold first lookup within 1.2 round trips (RTTs)", 1, cm / rtt_us, 1.2, 0)
            }
            printf "| %s ms | cold first lookup (median) vs best alternative | %s |", d, cell
            for (i = 2; i <= ntc; i++)
                printf " |"
            print ""
        }
        line = ""
        any = 0
        for (i = 1; i <= ntc; i++) {
            t = tc[i]
            cells = ""
            split("cached uncached", wls, " ")
            for (w = 1; w <= 2; w++) {
                wl = wls[w]
                b = ""; bs = ""
                for (k = 1; k <= nalt; k++) {
                    s = alts[k]
                    if (!has(d, wl, t, s) || V[d, wl, t, s, "fail"] + 0 > 0 || V[d, wl, t, s, "dcpu"] == "")
                        continue
                    v = V[d, wl, t, s, "dcpu"]
                    if (b == "" || v + 0 < b + 0) { b = v; bs = s }
                }
                if (has(d, wl, t, "dot") && b != "" && V[d, wl, t, "dot", "dcpu"] + 0 > 0) {
                    r = ratio(b, V[d, wl, t, "dot", "dcpu"])
                    cells = cells (cells == "" ? "" : "; ") wl " " fmt_ratio(r) " (" label[bs] ")"
                    target("daemon CPU per lookup vs best alternative (best ÷ nss-dot)", t, r, 1, 1)
                    any = 1
                }
            }
            line = line " " (cells == "" ? "—" : cells) " |"
        }
        if (any)
            printf "| %s ms | daemon CPU per lookup vs best alternative |%s\n", d, line
    }

    # --- targets ------------------------------------------------------------
    print ""
    print "### Targets (issue 4): the worst cell over delays and workloads"
    print ""
    print_targets("issue 4")

    # --- the answer map (issue 14) ------------------------------------------
    if (has_any("dot") && (has_any("files") || has_any("nscd") || has_any("dot-nomap")))
        map_section()

    # --- issue 15 -----------------------------------------------------------
    scale_section()

    # --- the main table -----------------------------------------------------
    print ""
    print "## Latency and throughput"
    print ""
    print "Each cell: p50 / p99 latency of one lookup · lookups per second over all threads."
    print "Cached: 4 names (A+AAAA) asked after a warm-up; uncached: a new name every lookup"
    print "(a wildcard); cold: the first lookup (a new name) by a client that was waiting for the"
    print "daemon to become ready (its socket or UDP port exists), median (min–max) of the restarts;"
    print "\"daemon start → first answer\" adds the daemon'\''s own start-up. RTT = 2 × the one-way delay."
    print ""
    printf "| delay | workload | threads |"
    for (k = 1; k <= ns; k++)
        printf " %s |", label[st[k]]
    print ""
    printf "| --- | --- | --- |"
    for (k = 1; k <= ns; k++)
        printf " --- |"
    print ""
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        printf "| %s ms | cold | 1 |", d
        for (k = 1; k <= ns; k++) {
            s = st[k]
            if (s in UNAV)
                cell = "n/a"
            else if ((d, s) in COLD) {
                mm = median_of(COLD[d, s])
                cell = fmt_t(mm) " (" fmt_t(CMIN) "–" fmt_t(CMAX) ")"
                if (COLDFAIL[d, s])
                    cell = cell " **" COLDFAIL[d, s] " failed**"
            } else if (COLDFAIL[d, s])
                cell = "**failed**"
            else
                cell = "—"
            printf " %s |", cell
        }
        print ""
        printf "| %s ms | cold: daemon start → first answer | 1 |", d
        for (k = 1; k <= ns; k++) {
            s = st[k]
            cell = "—"
            if ((d, s) in COLDX) {
                mm = median_of(COLDX[d, s])
                cell = fmt_t(mm) " (" fmt_t(CMIN) "–" fmt_t(CMAX) ")"
            }
            printf " %s |", cell
        }
        print ""
        split("cached uncached", wls, " ")
        for (w = 1; w <= 2; w++) {
            wl = wls[w]
            for (i = 1; i <= ntc; i++) {
                t = tc[i]
                printf "| %s ms | %s | %s |", d, wl, t
                for (k = 1; k <= ns; k++) {
                    s = st[k]
                    if (s in UNAV)
                        cell = "n/a"
                    else if (has(d, wl, t, s)) {
                        cell = fmt_t(V[d, wl, t, s, "p50"]) " / " fmt_t(V[d, wl, t, s, "p99"]) " · " fmt_lps(V[d, wl, t, s, "lps"])
                        if (V[d, wl, t, s, "fail"] + 0 > 0)
                            cell = cell " **" V[d, wl, t, s, "fail"] " of " V[d, wl, t, s, "n"] " failed**"
                    } else
                        cell = "—"
                    printf " %s |", cell
                }
                print ""
            }
        }
    }
    for (k = 1; k <= ns; k++)
        if (st[k] in UNAV)
            printf "\nn/a %s: %s\n", label[st[k]], UNAV[st[k]]

    # --- costs --------------------------------------------------------------
    print ""
    print "## Costs"
    print ""
    print "Each cell: the daemon'\''s CPU time (user+system, all threads) per 10,000 lookups ·"
    print "the client process'\''s own CPU per 10,000 lookups (NSS module, getaddrinfo, loadgen) ·"
    print "new TLS connections the upstream saw during the run. Peak RSS is the daemon'\''s VmHWM"
    print "at the end of the phase. The unix floor'\''s daemon is bench/unix-echo."
    print ""
    printf "| delay | workload | threads |"
    for (k = 1; k <= ns; k++)
        printf " %s |", label[st[k]]
    print ""
    printf "| --- | --- | --- |"
    for (k = 1; k <= ns; k++)
        printf " --- |"
    print ""
    for (di = 1; di <= nd; di++) {
        d = delays[di]
        split("cached uncached", wls, " ")
        for (w = 1; w <= 2; w++) {
            wl = wls[w]
            for (i = 1; i <= ntc; i++) {
                t = tc[i]
                printf "| %s ms | %s | %s |", d, wl, t
                for (k = 1; k <= ns; k++) {
                    s = st[k]
                    if (has(d, wl, t, s)) {
                        dc = V[d, wl, t, s, "dcpu"]
                        cell = (dc == "" ? "—" : dc " ms") " · " V[d, wl, t, s, "ccpu"] " ms · " V[d, wl, t, s, "conns"]
                    } else
                        cell = "—"
                    printf " %s |", cell
                }
                print ""
            }
        }
        printf "| %s ms | peak RSS | |", d
        for (k = 1; k <= ns; k++) {
            s = st[k]
            printf " %s |", ((d, s) in RSS) ? sprintf("%.1f MB", RSS[d, s] / 1024) : "—"
        }
        print ""
    }
    if (kdig != "") {
        print ""
        print "## The upstream path itself (0 ms delay)"
        print ""
        print "kdig over TLS to the proxy, three queries on one connection (+keepopen); the"
        print "first pays the handshake, the others are warm:"
        print ""
        print "```"
        while ((getline line < kdig) > 0)
            if (line ~ /^;; (Received|From|Time)/ || line ~ /^;; .*(TLS|Time)/)
                print line
        print "```"
    }
}
' "$CSV"

# --- modules ---------------------------------------------------------------------
echo
echo "## NSS modules"
echo
echo "| module | file size | stripped | NEEDED |"
echo "| --- | --- | --- | --- |"
module_row() {
    local f=$1 name=$2 size stripped needed tmp
    [ -e "$f" ] || return 0
    f=$(readlink -f "$f")
    size=$(stat -c %s "$f")
    tmp=$(mktemp)
    if strip --strip-unneeded -o "$tmp" "$f" 2>/dev/null; then
        stripped=$(stat -c %s "$tmp")
    else
        stripped="?"
    fi
    rm -f "$tmp"
    needed=$(objdump -p "$f" 2>/dev/null | awk '/NEEDED/ { printf "%s%s", sep, $2; sep = ", " }')
    printf '| %s | %s B | %s B | %s |\n' "$name" "$size" "$stripped" "${needed:-?}"
}
if [ -n "$MODULE_DIR" ] && [ -e "$MODULE_DIR/libnss_dot.so.2" ]; then
    module_row "$MODULE_DIR/libnss_dot.so.2" "libnss_dot.so.2 (this build)"
fi
for m in dns files resolve mdns4_minimal myhostname systemd; do
    for dir in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
        if [ -e "$dir/libnss_$m.so.2" ]; then
            module_row "$dir/libnss_$m.so.2" "libnss_$m.so.2"
            break
        fi
    done
done
if [ -n "$MODULE_DIR" ] && [ -e "$MODULE_DIR/libnss_dot.so.2" ]; then
    tmp=$(mktemp)
    strip --strip-unneeded -o "$tmp" "$MODULE_DIR/libnss_dot.so.2" 2>/dev/null || cp "$MODULE_DIR/libnss_dot.so.2" "$tmp"
    size=$(stat -c %s "$tmp")
    rm -f "$tmp"
    needed=$(objdump -p "$MODULE_DIR/libnss_dot.so.2" | awk '/NEEDED/ { printf "%s ", $2 }')
    met=yes
    if [ "$size" -ge 20480 ] || [ "$needed" != "libc.so.6 " ]; then
        met="**no**"
    fi
    echo
    echo "Target (issue 4): module under 20 KB (stripped, as packages install it) linking libc only:"
    echo "$size B, NEEDED ${needed% }: $met."
fi
