#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cache.sh: the daemon's answer cache end to end. Unbound serves the test
# zones (plus a few names with short TTLs) and logs every query it gets, so
# the upstream queries the daemon sends are counted there:
#   - a name with TTL 2 is asked once, then again only once it expired;
#   - a name with TTL 0 is asked every time;
#   - NXDOMAIN and NODATA are cached (RFC 2308, SOA MINIMUM 60), and expire
#     after cache.negative_ttl;
#   - with cache.entries = 2 the least recently used name is evicted;
#   - 100 clients asking the same uncached (TTL 0) name while the upstream
#     is frozen (SIGSTOP) make one upstream query (coalescing);
#   - with cache.serve_stale_s, once Unbound is dead an expired name is still
#     answered (RFC 8767), and a name never asked is not.
#   - SIGUSR2 flushes the cache: a cached name is asked again.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_write_zones
cat >>"$d/zones/test.zone" <<'EOF'
ttl2     2 A   192.0.2.20
ttl0     0 A   192.0.2.21
stale    2 A   192.0.2.22
coal     0 A   192.0.2.23
lru-a      A   192.0.2.24
lru-b      A   192.0.2.25
lru-c      A   192.0.2.26
negshort   TXT "no address"
EOF
e2e_start_unbound main 127.0.0.1 server ca
UNBOUND_PID=${E2E_PIDS##* }
ULOG=$d/unbound-main.log

n_failed=0
fail() {
    n_failed=$((n_failed + 1))
    e2e_log "FAILED: $*"
}

# upstream NAME TYPE: how many queries for NAME TYPE Unbound has logged.
upstream() {
    grep -c " $1\. $2 IN\$" "$ULOG" || true
}

# lookup NAME: getent ahostsv4 NAME through the module (A queries only).
lookup() {
    e2e_via dot getent ahostsv4 "$1" >"$d/out" 2>&1
}

# want_count WHAT NAME TYPE N: Unbound saw exactly N queries for NAME TYPE.
want_count() {
    local got
    got=$(upstream "$2" "$3")
    [ "$got" -eq "$4" ] || fail "$1: $got upstream queries for $2 $3, expected $4"
}

# start CACHE_SETTINGS [daemon options]: (re)start the daemon with a cache
# group added to the config written by lib.sh.
start() {
    local cache=$1
    shift
    e2e_stop_daemon
    e2e_write_daemon_config "$d/helperd.conf" "$@"
    # The daemon's own cache, through the socket: the answer map (which
    # keeps an answer to its TTL whatever the LRU does) is map.sh's.
    printf 'cache = { shared_map = false; %s };\n' "$cache" >>"$d/helperd.conf"
    e2e_start_daemon "$d/helperd.conf"
}

# elapsed_ms_since T: milliseconds since T.
past() { [ $(($(e2e_now_ms) - $1)) -ge "$2" ]; }

# --- TTL expiry, TTL 0, negative caching ------------------------------------------
start 'entries = 1000; negative_ttl = 300;'
t0=$(e2e_now_ms)
lookup ttl2.test || fail "ttl2.test does not resolve"
lookup ttl2.test || fail "ttl2.test does not resolve the second time"
lookup TTL2.Test. || fail "TTL2.Test. does not resolve"
want_count "TTL 2, three lookups at once" ttl2.test A 1
# Ask until the daemon asks upstream again: that must be after ~2 s.
again() {
    lookup ttl2.test || return 1
    [ "$(upstream ttl2.test A)" -ge 2 ]
}
e2e_wait_for 60 "ttl2.test to expire" again || fail "ttl2.test never expired"
dt=$(($(e2e_now_ms) - t0))
[ "$dt" -ge 1500 ] || fail "ttl2.test was asked again after $dt ms (TTL 2 s)"

for _ in 1 2 3; do lookup ttl0.test || fail "ttl0.test does not resolve"; done
want_count "TTL 0, three lookups" ttl0.test A 3

for _ in 1 2 3; do ! lookup nx-cached.test || fail "nx-cached.test resolves"; done
want_count "NXDOMAIN, three lookups" nx-cached.test A 1
for _ in 1 2 3; do ! lookup negshort.test || fail "negshort.test resolves"; done
want_count "NODATA, three lookups" negshort.test A 1

# negative_ttl caps the SOA's 60 s.
start 'entries = 1000; negative_ttl = 1;'
! lookup nx-short.test || fail "nx-short.test resolves"
t0=$(e2e_now_ms)
nx_again() {
    ! lookup nx-short.test || return 1
    [ "$(upstream nx-short.test A)" -ge 2 ]
}
e2e_wait_for 50 "nx-short.test to expire" nx_again || fail "the NXDOMAIN never expired"
dt=$(($(e2e_now_ms) - t0))
[ "$dt" -ge 700 ] || fail "nx-short.test was asked again after $dt ms (negative_ttl 1 s)"

# --- LRU ------------------------------------------------------------------------
start 'entries = 2;'
lookup lru-a.test || fail "lru-a.test does not resolve"
lookup lru-b.test || fail "lru-b.test does not resolve"
lookup lru-a.test || fail "lru-a.test does not resolve" # a is now the most recently used
lookup lru-c.test || fail "lru-c.test does not resolve" # evicts b
lookup lru-a.test || fail "lru-a.test does not resolve"
lookup lru-c.test || fail "lru-c.test does not resolve"
want_count "LRU: a kept" lru-a.test A 1
want_count "LRU: c kept" lru-c.test A 1
lookup lru-b.test || fail "lru-b.test does not resolve"
want_count "LRU: b evicted" lru-b.test A 2

# --- flush (SIGUSR2, until the control tool exists) ------------------------------
lookup lru-b.test || fail "lru-b.test does not resolve"
want_count "flush: still cached before the flush" lru-b.test A 2
kill -USR2 "$E2E_DAEMON_PID"
e2e_wait_for 50 "the flush" grep -q 'info: cache flushed' "$d/helperd.log" || fail "no flush logged"
lookup lru-b.test || fail "lru-b.test does not resolve after a flush"
want_count "flush: asked again after the flush" lru-b.test A 3

# --- coalescing -----------------------------------------------------------------
start 'entries = 1000;' --query-ms 10000 --attempts 1
# Connected already (prewarm); the query waits in the socket while Unbound
# is frozen, and the lookups pile up behind it.
lookup v4.test || fail "v4.test does not resolve"
kill -STOP "$UNBOUND_PID"
pids=""
for i in $(seq 1 100); do
    e2e_via dot getent ahostsv4 coal.test >"$d/coal.$i" 2>&1 &
    pids="$pids $!"
done
all_in() { [ "$(grep -c 'lookup coal.test (family 4)' "$d/helperd.log")" -ge 100 ]; }
e2e_wait_for 100 "100 lookups of coal.test to reach the daemon" all_in ||
    fail "the lookups did not all reach the daemon"
kill -CONT "$UNBOUND_PID"
n_ok=0
for p in $pids; do
    if wait "$p"; then n_ok=$((n_ok + 1)); fi
done
[ "$n_ok" -eq 100 ] || fail "coalescing: $n_ok of 100 lookups succeeded"
grep -q '^192\.0\.2\.23 ' "$d/coal.100" || fail "coalescing: wrong answer: $(head -n 1 "$d/coal.100")"
want_count "coalescing: 100 clients, TTL 0" coal.test A 1

# --- serve-stale ----------------------------------------------------------------
start 'entries = 1000; serve_stale_s = 60;' --query-ms 1000 --attempts 1
lookup stale.test || fail "stale.test does not resolve"
t0=$(e2e_now_ms)
e2e_stop_pid "$UNBOUND_PID" unbound || true
e2e_wait_for 50 "stale.test to expire" past "$t0" 2500 || e2e_hard "the clock"
lookup stale.test || fail "serve-stale: stale.test not answered with Unbound gone"
grep -q '^192\.0\.2\.22 ' "$d/out" || fail "serve-stale: wrong answer: $(head -n 1 "$d/out")"
t1=$(e2e_now_ms)
lookup stale.test || fail "serve-stale: second stale answer missing"
dt=$(($(e2e_now_ms) - t1))
[ "$dt" -lt 900 ] || fail "serve-stale: the second stale answer took $dt ms (should be at once)"
! lookup never-asked.test || fail "serve-stale: a name never cached resolved"

kill -0 "$E2E_DAEMON_PID" 2>/dev/null || fail "dot-helperd died during the test"
e2e_stop_daemon
e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ]
