#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# control.sh: dot-helperctl against a live dot-helperd over real TLS to a real
# Unbound on loopback:
#   - status shows the upstream up, its TLS version and the certificate's
#     notAfter; stats has every documented key and its counters move;
#   - query shows the answer, its TTL, upstream vs cache, the time; reverse too;
#   - flush and flush NAME empty the cache (Unbound's query log proves the
#     next lookup goes upstream, and that other names stay cached);
#   - reload applies a good file (exit 0) and refuses a bad one with FILE:LINE (exit 1);
#   - a caller that is not root gets exit 4 (file mode, and the daemon's own
#     SO_PEERCRED check), a daemon not running exit 3, usage errors exit 2;
#   - garbage on the control socket gets an error reply, the daemon goes on;
#   - a certificate that expires within 14 days is warned about, once.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools setpriv

t_start=$(e2e_now_ms)
d=$E2E_DIR
CTL=$top_builddir/tools/dot-helperctl
[ -x "$CTL" ] || e2e_hard "$CTL is missing (not built?)"
e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_make_cert ca soon dns.test 3
e2e_write_zones
e2e_start_unbound main 127.0.0.1 server ca
ULOG=$d/unbound-main.log

n_failed=0
n_ok=0
fail() {
    n_failed=$((n_failed + 1))
    e2e_log "FAILED: $*"
}
ok() {
    n_ok=$((n_ok + 1))
    e2e_log "ok: $*"
}

# ctl ARGS...: run the tool on our config; output in $d/ctl.out, stderr in
# $d/ctl.err, exit status in $rc.
ctl() {
    rc=0
    timeout 30 "$CTL" -c "$d/helperd.conf" "$@" >"$d/ctl.out" 2>"$d/ctl.err" || rc=$?
}
# expect WHAT STATUS: the last ctl exited with STATUS.
expect() {
    if [ "$rc" = "$2" ]; then
        ok "$1 (exit $rc)"
    else
        fail "$1: exit $rc, expected $2; stdout: $(head -c 400 "$d/ctl.out"); stderr: $(head -c 400 "$d/ctl.err")"
    fi
}
has() { grep -q -- "$1" "$d/ctl.out"; }
# stat_of KEY: one value from dot-helperctl stats.
stat_of() {
    "$CTL" -c "$d/helperd.conf" stats | sed -n "s/^$1=//p"
}
# upstream NAME TYPE: how many queries for NAME TYPE Unbound has logged.
upstream() {
    grep -c " $1\. $2 IN\$" "$ULOG" || true
}

e2e_write_daemon_config "$d/helperd.conf"
printf 'cache = { entries = 1000; };\n' >>"$d/helperd.conf"
e2e_start_daemon "$d/helperd.conf"
CONTROL=$d/run/control

# --- the socket itself ----------------------------------------------------------
mode=$(stat -c %a "$CONTROL" 2>/dev/null || echo none)
[ "$mode" = 600 ] && ok "control socket is mode 0600" || fail "control socket mode $mode, expected 600"

# --- status -----------------------------------------------------------------------
not_after=$(openssl x509 -in "$d/server.pem" -noout -enddate | sed 's/^notAfter=//')
not_after=$(date -u -d "$not_after" '+%Y-%m-%d %H:%M:%S UTC')
ctl status
expect "status" 0
cp "$d/ctl.out" "$d/status.txt"
has 'Upstream 127.0.0.1 port 853 (dns.test)' && has 'State: up' && has 'TLSv1.3' &&
    has "certificate valid until $not_after" && has 'strict mode' && has "Config: $d/helperd.conf" &&
    ok "status: upstream up, TLSv1.3, notAfter $not_after" ||
    fail "status does not show the upstream up with TLS and notAfter: $(cat "$d/ctl.out")"
e2e_log "status output:"
sed 's/^/    /' "$d/status.txt" >&2

# --- stats ------------------------------------------------------------------------
ctl stats
expect "stats" 0
missing=""
for k in version pid started_at uptime_s config.file config.loaded_at mode loop.iterations \
    loop.busy_us loop.longest_us loop.over_1ms loop.over_10ms lookups \
    cache.entries cache.hits cache.misses cache.stale_served cache.coalesced \
    cache.upstream_queries pool.queries pool.answers pool.failures pool.connections \
    pool.handshakes pool.resumptions pool.unauthenticated pool.plain_fallbacks pool.waited \
    pool.waiting upstreams \
    upstream.0.address upstream.0.port upstream.0.auth_name upstream.0.pins upstream.0.state \
    upstream.0.backoff_ms upstream.0.last_error upstream.0.srtt_ms upstream.0.rtt_p50_ms \
    upstream.0.rtt_p99_ms upstream.0.rtt_samples upstream.0.connections upstream.0.queries \
    upstream.0.answers upstream.0.failures upstream.0.validation_failures \
    upstream.0.handshakes upstream.0.resumptions upstream.0.tls_version \
    upstream.0.cert_not_after upstream.0.pin upstream.0.pairs; do
    grep -q "^$k=" "$d/ctl.out" || missing="$missing $k"
done
[ -z "$missing" ] && ok "stats: every documented key is there" || fail "stats lacks:$missing"
bad=$(grep -cv '^[a-z0-9_.]*=' "$d/ctl.out" || true)
[ "$bad" = 0 ] || fail "stats: $bad lines are not key=value"
grep -q '^upstream.0.tls_version=TLSv1.3$' "$d/ctl.out" && grep -q '^upstream.0.state=up$' "$d/ctl.out" ||
    fail "stats: upstream 0 is not up over TLSv1.3"
want_na=$(date -u -d "$(openssl x509 -in "$d/server.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)
grep -q "^upstream.0.cert_not_after=$want_na\$" "$d/ctl.out" ||
    fail "stats: cert_not_after is not $want_na: $(grep cert_not_after "$d/ctl.out")"
lookups0=$(stat_of lookups)
queries0=$(stat_of upstream.0.queries)
e2e_via dot getent ahostsv4 v4.test >/dev/null || fail "v4.test does not resolve through the module"
lookups1=$(stat_of lookups)
queries1=$(stat_of upstream.0.queries)
[ "$lookups1" -gt "$lookups0" ] && [ "$queries1" -gt "$queries0" ] &&
    ok "stats: lookups $lookups0 -> $lookups1, upstream.0.queries $queries0 -> $queries1" ||
    fail "stats: counters did not move (lookups $lookups0 -> $lookups1, queries $queries0 -> $queries1)"
[ "$(stat_of upstream.0.rtt_samples)" -ge 1 ] || fail "stats: no RTT sample after an answer"

# --- query --------------------------------------------------------------------------
ctl query both.test -t A
expect "query both.test -t A" 0
has '^both.test: 192.0.2.2$' && has 'A: from upstream 127.0.0.1 port 853, TTL 300 s' &&
    has '^-- Time: [0-9.]* ms$' &&
    ok "query: answer from the upstream with its TTL and time" ||
    fail "query both.test: $(cat "$d/ctl.out")"
ctl query both.test -t A
has '^both.test: 192.0.2.2$' && has 'A: from the cache, TTL left [0-9]* s' &&
    ok "query again: from the cache" || fail "second query both.test: $(cat "$d/ctl.out")"
[ "$(upstream both.test A)" = 1 ] || fail "query: Unbound saw $(upstream both.test A) queries for both.test A, expected 1"
ctl query both.test
expect "query both.test (A and AAAA)" 0
has '192.0.2.2' && has '2001:db8::2:2' && has 'AAAA: from upstream' && has 'A: from the cache' ||
    fail "query both.test, both families: $(cat "$d/ctl.out")"
ctl query 192.0.2.1
expect "query 192.0.2.1 (reverse)" 0
has '^192.0.2.1: v4.test' && has 'PTR: from upstream' || fail "reverse query: $(cat "$d/ctl.out")"
ctl query cname.test -t AAAA
has '2001:db8::3:3' && has 'canonical name target.test' || fail "query cname.test: $(cat "$d/ctl.out")"
ctl query nx.test
expect "query of a name that does not exist" 1
has 'NXDOMAIN' || fail "query nx.test: $(cat "$d/ctl.out")"

# --- flush ----------------------------------------------------------------------------
ctl query v6.test -t AAAA
n_v4=$(upstream v4.test A)
n_v6=$(upstream v6.test AAAA)
ctl flush v4.test
expect "flush v4.test" 0
has 'Flushed 1 cache entry of v4.test' || fail "flush NAME: $(cat "$d/ctl.out")"
ctl query v4.test -t A
has 'A: from upstream' || fail "after flush NAME: v4.test not asked upstream: $(cat "$d/ctl.out")"
ctl query v6.test -t AAAA
has 'AAAA: from the cache' || fail "after flush NAME: v6.test no longer cached: $(cat "$d/ctl.out")"
[ "$(upstream v4.test A)" = $((n_v4 + 1)) ] && [ "$(upstream v6.test AAAA)" = "$n_v6" ] &&
    ok "flush NAME: only that name went upstream again (Unbound's log)" ||
    fail "flush NAME: Unbound saw v4.test A $(upstream v4.test A) (was $n_v4), v6.test AAAA $(upstream v6.test AAAA) (was $n_v6)"
[ "$(stat_of cache.entries)" -gt 0 ] || fail "flush: the cache is empty before the flush"
ctl flush
expect "flush" 0
has '^Flushed [0-9]* cache entries.$' || fail "flush: $(cat "$d/ctl.out")"
[ "$(stat_of cache.entries)" = 0 ] && ok "flush: cache.entries=0" || fail "flush: cache.entries=$(stat_of cache.entries)"
ctl query v6.test -t AAAA
[ "$(upstream v6.test AAAA)" = $((n_v6 + 1)) ] && has 'AAAA: from upstream' &&
    ok "flush: the next lookup went upstream" || fail "flush: v6.test not asked again: $(cat "$d/ctl.out")"

# --- reload ---------------------------------------------------------------------------
# A good file: applied (exit 0). A bad one: refused with FILE:LINE (exit 1),
# the running config kept (lookups still answered).
ctl reload
expect "reload" 0
grep -q 'reload requested (dot-helperctl)' "$d/helperd.log" &&
    grep -q "reloaded $d/helperd.conf" "$d/helperd.log" &&
    ok "reload: applied" || fail "reload: $(cat "$d/ctl.out" "$d/ctl.err")"
cp "$d/helperd.conf" "$d/helperd.conf.good"
printf 'no_such_key = 1;\n' >>"$d/helperd.conf"
ctl reload
expect "reload of a bad file" 1
grep -q "$d/helperd.conf:[0-9]*: .*no_such_key" "$d/ctl.err" &&
    ok "reload of a bad file: FILE:LINE printed, exit 1" || fail "reload of a bad file: $(cat "$d/ctl.err")"
cp "$d/helperd.conf.good" "$d/helperd.conf"
ctl query v4.test
expect "query after a refused reload" 0

# The table again, now that counters have moved (for the log).
ctl status
expect "status after lookups" 0
e2e_log "status output after lookups:"
sed 's/^/    /' "$d/ctl.out" >&2

# --- usage --------------------------------------------------------------------------
for args in "" "bogus" "query" "query a.test -t MX" "status extra" "flush a b" "query a.test -t"; do
    # shellcheck disable=SC2086
    ctl $args
    expect "usage error for '$args'" 2
done
ctl --help
expect "--help" 0
has 'query NAME' || fail "--help does not list the commands"
ctl --version
expect "--version" 0
has '^dot-helperctl ' || fail "--version: $(cat "$d/ctl.out")"
# The daemon's own usage check (a PTR query of a name).
ctl query v4.test -t PTR
expect "PTR of a name (refused by the daemon)" 2

# --- permission -----------------------------------------------------------------------
# nobody may read the config and reach the directory, not the socket.
chmod 755 "$d" "$d/run"
chmod 644 "$d/helperd.conf"
as_nobody() {
    rc=0
    setpriv --reuid nobody --regid nogroup --clear-groups \
        timeout 30 "$CTL" -c "$d/helperd.conf" "$@" >"$d/ctl.out" 2>"$d/ctl.err" || rc=$?
}
as_nobody status
expect "status as nobody" 4
grep -q 'permission denied' "$d/ctl.err" || fail "as nobody: no clear message: $(cat "$d/ctl.err")"
# A socket opened up by mistake: the daemon's SO_PEERCRED check still says no.
chmod 666 "$CONTROL"
as_nobody stats
expect "stats as nobody on a mode 0666 socket (SO_PEERCRED)" 4
grep -q 'for root' "$d/ctl.err" || fail "peer check: $(cat "$d/ctl.err")"
grep -q 'control: uid 65534 refused' "$d/helperd.log" || fail "the refused uid is not logged"
chmod 600 "$CONTROL"
chmod 700 "$d"

# --- garbage --------------------------------------------------------------------------
if python3 -c 'import socket' 2>/dev/null; then
    reply=$(python3 - "$CONTROL" <<'EOF'
import socket, sys
out = []
for req in (b"hello world\n", b"dot-helperctl/9 stats\n", b"dot-helperctl/1 stats\nstats\n",
            b"x" * 5000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    try:
        s.sendall(req)
    except OSError:
        pass
    data = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except OSError:
        pass
    out.append(data.decode(errors="replace").strip().splitlines()[-1] if data else "(nothing)")
    s.close()
print("|".join(out))
EOF
    )
    case $reply in
    "error usage malformed request|error version this daemon speaks dot-helperctl/1|error usage one request per connection|error usage request too long")
        ok "garbage gets error replies: $reply" ;;
    *) fail "garbage replies: $reply" ;;
    esac
    ctl stats
    expect "stats after garbage" 0
else
    e2e_log "python3 not usable: garbage case not run"
fi

# --- certificate expiry warning ----------------------------------------------------------
grep -q 'certificate expires' "$d/helperd.log" &&
    fail "a 30-day certificate was warned about" || ok "no expiry warning for a 30-day certificate"
e2e_stop_daemon
e2e_start_unbound soon 127.0.0.5 soon ca
e2e_write_daemon_config "$d/helperd.conf" --address 127.0.0.5
e2e_start_daemon "$d/helperd.conf"
for n in 1 2 3; do
    ctl query "v4.test" -t A
    ctl flush
done
# Fresh connections: a handshake each, and still one warning a day.
e2e_stop_daemon
e2e_start_daemon "$d/helperd.conf"
ctl query both.test -t A
warned=$(grep -c 'warning: upstream 127.0.0.5 port 853: certificate expires on .*, in 2 day(s)' "$d/helperd.log" || true)
# One line per daemon start (two starts): the daily check is per daemon.
[ "$warned" = 2 ] && ok "a certificate expiring in 3 days: one warning per daemon run ($warned)" ||
    fail "expiry warnings: $warned, expected 2: $(grep 'certificate' "$d/helperd.log" | tail -n 3)"
soon_na=$(date -u -d "$(openssl x509 -in "$d/soon.pem" -noout -enddate | sed 's/^notAfter=//')" '+%Y-%m-%d %H:%M:%S UTC')
ctl status
has "certificate valid until $soon_na" || fail "status does not show the soon certificate's notAfter"

# --- state change logs -------------------------------------------------------------------
grep -q 'info: upstream 127.0.0.5 port 853: up (TLSv1.3)' "$d/helperd.log" &&
    ok "the upstream's change to up is logged" || fail "no 'up' log line"

# --- not running ----------------------------------------------------------------------
pid=$E2E_DAEMON_PID
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
E2E_DAEMON_PID=""
ctl status
expect "status with a dead daemon's socket left behind" 3
grep -q 'not running' "$d/ctl.err" || fail "dead daemon: $(cat "$d/ctl.err")"
rm -f "$CONTROL"
ctl status
expect "status with no socket" 3
grep -q 'not running.*no such socket' "$d/ctl.err" || fail "no socket: $(cat "$d/ctl.err")"

e2e_log "$n_ok ok, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ]
