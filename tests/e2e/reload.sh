#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# reload.sh: reloading the config on SIGHUP (issue 10), against dot-peer.c
# test upstreams that log every accept, handshake, query and close, and a
# notify-listen.c stand-in for systemd's $NOTIFY_SOCKET:
#   1. RELOADING=1 then READY=1 reach the notify socket; an unchanged
#      upstream keeps its connection (no new accept or handshake at the
#      peer), lookups go on, and cached answers are kept;
#   2. log_level, cache.entries (shrinking evicts) and timeouts.query_ms
#      (the SOCKET.query_ms link follows) change on a reload;
#   3. replacing the upstream: lookups go to the new one, and the old one's
#      connection closes;
#   4. a lookup in flight on an upstream that a reload removes completes,
#      and that connection closes afterwards;
#   5. a bad config (an unknown key, a strict upstream without
#      authentication, a CA store that can't be loaded) is logged as
#      FILE:LINE (FILE for the CA store), and the running config keeps
#      serving; a key a reload can't change (socket) is warned about and kept;
#   6. a new ca_file: new connections (nothing authenticated under the old
#      store is kept), lookups work;
#   7. 20 reloads switching between upstream sets under concurrent lookups:
#      none fails, and the daemon exits cleanly (sanitizer builds: nothing
#      reported).
# ok() never fails, so "checks && ok || fail" is if-then-else here; the sh -c
# scripts expand their own parameters.
# shellcheck disable=SC2015,SC2016
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

d=$E2E_DIR
t_start=$(e2e_now_ms)
e2e_build_helper dot-peer
e2e_build_helper notify-listen

e2e_make_ca ca
e2e_make_cert ca server dns.test
n_failed=0
fail() { e2e_log "FAIL: $*"; n_failed=$((n_failed + 1)); }
ok() { e2e_log "ok: $*"; }

# peer NAME ADDR [dot-peer options]: a test upstream on ADDR@853.
peer() {
    local name=$1 addr=$2
    shift 2
    rm -f "$d/$name.ready"
    "$d/dot-peer" --listen "$addr" --port 853 --log "$d/$name.log" --ready "$d/$name.ready" \
        --cert "$d/server.pem" --key "$d/server.key" "$@" 2>>"$d/$name.err" &
    E2E_PIDS="$E2E_PIDS $!"
    e2e_wait_for 50 "dot-peer $name" test -e "$d/$name.ready" || e2e_hard "dot-peer $name did not start"
}
count() { grep -c "^$2" "$d/$1.log" 2>/dev/null || true; }

# conf: (re)writes the one config file the daemon reads (-c), from UPS
# (addresses, auth_name dns.test) and CA, QUERY_MS, ENTRIES, LOG_LEVEL, SOCK.
CONF=$d/reload.conf
conf() {
    local ups="" a
    for a in $UPS; do
        ups="${ups:+$ups, }{ address = \"$a\"; port = 853; auth_name = \"dns.test\"; }"
    done
    cat >"$CONF.new" <<EOF
mode = "strict";
ca_file = "${CA:-$d/ca.pem}";
upstreams = ( $ups );
timeouts = { query_ms = ${QUERY_MS:-3000}; connect_ms = 1000; attempts = 2; };
pool = { connections_per_upstream = 2; max_inflight = 64; idle_timeout_s = 30; prewarm = true; };
cache = { entries = ${ENTRIES:-1000}; };
socket = "${SOCK:-$d/run/socket}";
control_socket = "$d/run/control"; user = "root"; log_level = "${LOG_LEVEL:-debug}";
EOF
    mv "$CONF.new" "$CONF"
}
mkdir -p "$d/run"

# reload: SIGHUP, then wait until the daemon says it is done (one more READY=1).
NLOG=$d/notify.log
readies() { grep -c '^READY=1$' "$NLOG" 2>/dev/null || true; }
reload() {
    local before
    before=$(readies)
    kill -HUP "$E2E_DAEMON_PID"
    e2e_wait_for 100 "READY=1 after a reload" sh -c "[ \$(grep -c '^READY=1\$' '$NLOG') -gt $before ]" ||
        e2e_hard "no READY=1 after SIGHUP"
}

answer_of() { e2e_via dot getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 {print $1}'; }

# lookups N PREFIX WANT: N sequential lookups of fresh names; prints how many
# did not answer WANT.
lookups() {
    e2e_via dot sh -c 'f=0; i=0; while [ $i -lt "$1" ]; do
        a=$(getent ahostsv4 "$2-$i.test" | awk "NR == 1 {print \$1}")
        [ "$a" = "$3" ] || f=$((f + 1)); i=$((i + 1)); done; echo $f' sh "$1" "$2" "$3"
}

# Log lines after line $1 of the daemon's log.
log_since() { tail -n "+$(($1 + 1))" "$d/helperd.log"; }
log_mark() { wc -l <"$d/helperd.log"; }

# --- 1: notify, an unchanged upstream keeps its connection, the cache stays ----------
peer a 127.0.0.21 --answer 192.0.2.21
peer b 127.0.0.22 --answer 192.0.2.22
rm -f "$d/notify.ready"
"$d/notify-listen" "$d/notify.sock" "$NLOG" "$d/notify.ready" 2>>"$d/notify.err" &
E2E_PIDS="$E2E_PIDS $!"
e2e_wait_for 50 "notify-listen" test -e "$d/notify.ready" || e2e_hard "notify-listen did not start"

UPS=127.0.0.21 conf
export NOTIFY_SOCKET=$d/notify.sock
e2e_start_daemon "$CONF"
export -n NOTIFY_SOCKET
e2e_wait_for 50 "READY=1 at start" grep -q '^READY=1$' "$NLOG" || fail "no READY=1 at start"
got=$(answer_of cached.test)
[ "$got" = 192.0.2.21 ] || fail "before any reload: got '$got', expected 192.0.2.21"
acc=$(count a accept) hs=$(count a handshake) q=$(count a query)
mark=$(log_mark)
reload
if tail -n 2 "$NLOG" | sed -n 1p | grep -q '^RELOADING=1 MONOTONIC_USEC=[0-9][0-9]*$' &&
    tail -n 1 "$NLOG" | grep -q '^READY=1$'; then
    ok "a reload says RELOADING=1 (with MONOTONIC_USEC), then READY=1"
else
    fail "notify socket after a reload: $(tail -n 2 "$NLOG" | tr '\n' '|')"
fi
log_since "$mark" | grep -q 'upstream 127.0.0.21 port 853: kept by the reload' ||
    fail "the daemon did not log the upstream as kept"
failures=$(lookups 20 same 192.0.2.21)
[ "$failures" = 0 ] && [ "$(count a accept)" = "$acc" ] && [ "$(count a handshake)" = "$hs" ] &&
    ok "unchanged upstream: 20 lookups after the reload on the same connection ($acc accept, $hs handshake)" ||
    fail "unchanged upstream: $failures lookups failed; accepts $acc -> $(count a accept), handshakes $hs -> $(count a handshake)"
q=$(count a query)
got=$(answer_of cached.test)
[ "$got" = 192.0.2.21 ] && [ "$(count a query)" = "$q" ] &&
    ok "the cache survives a reload (cached.test asked no upstream)" ||
    fail "after a reload cached.test gave '$got' and cost $(($(count a query) - q)) upstream queries (expected 0)"

# --- 2: log_level, cache.entries, timeouts.query_ms ----------------------------------
[ "$(readlink "$d/run/socket.query_ms")" = 3000 ] || fail "query_ms link before: $(readlink "$d/run/socket.query_ms")"
LOG_LEVEL=info QUERY_MS=4000 ENTRIES=2 UPS=127.0.0.21 conf
mark=$(log_mark)
reload
link=$(readlink "$d/run/socket.query_ms")
[ "$link" = 4000 ] && ok "timeouts.query_ms 3000 -> 4000: the query_ms link follows" ||
    fail "timeouts.query_ms 3000 -> 4000: the link says '$link'"
failures=$(lookups 3 quiet 192.0.2.21)
debug=$(log_since "$mark" | grep -c 'debug:' || true)
[ "$failures" = 0 ] && [ "$debug" = 0 ] && ok "log_level debug -> info: no debug lines after the reload" ||
    fail "log_level debug -> info: $debug debug lines, $failures failed lookups"
entries=$(e2e_stats cache_entries)
[ -n "$entries" ] && [ "$entries" -le 2 ] && ok "cache.entries 1000 -> 2: $entries entries left" ||
    fail "cache.entries 1000 -> 2: $entries entries"
ENTRIES=1000 UPS=127.0.0.21 conf
reload
lookups 5 grow 192.0.2.21 >/dev/null
entries=$(e2e_stats cache_entries)
[ -n "$entries" ] && [ "$entries" -ge 5 ] && ok "cache.entries 2 -> 1000: the cache grows again ($entries)" ||
    fail "cache.entries 2 -> 1000: $entries entries"

# --- 3: replace the upstream ------------------------------------------------------------
QUERY_MS=4000 UPS=127.0.0.22 conf
mark=$(log_mark)
reload
got=$(answer_of replaced.test)
[ "$got" = 192.0.2.22 ] && ok "upstream replaced: lookups go to the new one" ||
    fail "upstream replaced: got '$got', expected 192.0.2.22"
e2e_wait_for 50 "the old upstream's connection to close" sh -c "[ \$(grep -c '^close' '$d/a.log') -ge 1 ]" &&
    log_since "$mark" | grep -q 'upstream 127.0.0.21 port 853: removed by the reload' &&
    ok "upstream replaced: the old one's connection closed" ||
    fail "upstream replaced: the old one's connection is still open ($(count a close) closes)"
QUERY_MS=4000 UPS="127.0.0.22 127.0.0.21" conf
reload
got=$(answer_of added.test)
e2e_wait_for 50 "the added upstream's prewarm" sh -c "[ \$(grep -c '^handshake' '$d/a.log') -ge 2 ]" &&
    [ "$got" = 192.0.2.22 ] && ok "upstream added: prewarmed, and the first in the list answers" ||
    fail "upstream added: got '$got', $(count a handshake) handshakes at 127.0.0.21"

# --- 4: a lookup in flight across a reload that removes its upstream -----------------------
peer slow 127.0.0.23 --answer 192.0.2.23 --delay 1500
QUERY_MS=4000 UPS=127.0.0.23 conf
reload
e2e_wait_for 50 "the prewarm to 127.0.0.23" sh -c "[ \$(grep -c '^handshake' '$d/slow.log') -ge 1 ]" ||
    fail "no prewarm connection to 127.0.0.23"
e2e_via dot getent ahostsv4 inflight.test >"$d/inflight.out" 2>&1 &
inflight=$!
e2e_wait_for 50 "the query at 127.0.0.23" sh -c "[ \$(grep -c '^query' '$d/slow.log') -ge 1 ]" ||
    fail "the in-flight lookup never reached 127.0.0.23"
QUERY_MS=4000 UPS=127.0.0.22 conf
reload
rc=0
wait "$inflight" || rc=$?
got=$(awk 'NR == 1 {print $1}' "$d/inflight.out")
[ "$rc" = 0 ] && [ "$got" = 192.0.2.23 ] &&
    ok "a lookup in flight on an upstream the reload removed completed ($got)" ||
    fail "in-flight lookup: status $rc, got '$got'"
e2e_wait_for 50 "127.0.0.23's connection to close" sh -c "[ \$(grep -c '^close' '$d/slow.log') -ge 1 ]" &&
    ok "the removed upstream's connection closed once its query was done" ||
    fail "the removed upstream's connection stayed open"
got=$(answer_of afterinflight.test)
[ "$got" = 192.0.2.22 ] || fail "after the in-flight reload: got '$got', expected 192.0.2.22"

# --- 5: bad configs keep the running one; a key a reload can't change ----------------------
n_bad=0
bad_reload() { # WHAT WANT: reload the current file, expect WANT in the log
    local what=$1 want=$2 mark
    mark=$(log_mark)
    reload
    if log_since "$mark" | grep -F 'error: reload failed, the running config stays: ' | grep -qF "$want" &&
        kill -0 "$E2E_DAEMON_PID" && [ "$(answer_of "bad$n_bad.test")" = 192.0.2.22 ]; then
        ok "$what: '$want' logged, the running config still answers"
    else
        fail "$what: expected '$want' in the log and answers from 127.0.0.22; log: $(log_since "$mark" | tail -n 3)"
    fi
    n_bad=$((n_bad + 1))
}
slow_accepts=$(count slow accept)
QUERY_MS=4000 UPS=127.0.0.23 conf
line=$(($(wc -l <"$CONF") + 1))
printf 'no_such_key = 1;\n' >>"$CONF"
bad_reload "an unknown key" "$CONF:$line: unknown setting 'no_such_key'"
QUERY_MS=4000 UPS=127.0.0.23 conf
sed -i 's/ auth_name = "dns.test";//' "$CONF"
bad_reload "a strict upstream with no authentication" \
    "$CONF:3: 'upstreams[0]' has neither 'auth_name' nor 'spki_pins'"
CA=$d/missing.pem QUERY_MS=4000 UPS=127.0.0.23 conf
bad_reload "a CA store that can't be loaded" "$CONF: ca_file: cannot load the CA store $d/missing.pem"
[ "$(count slow accept)" = "$slow_accepts" ] ||
    fail "a failed reload connected to 127.0.0.23 ($(count slow accept) accepts, $slow_accepts before)"
SOCK=$d/run/elsewhere QUERY_MS=4000 UPS=127.0.0.22 conf
mark=$(log_mark)
reload
got=$(answer_of fixed.test)
log_since "$mark" | grep -q "a reload cannot change 'socket' (restart to apply it)" &&
    [ "$got" = 192.0.2.22 ] && [ ! -e "$d/run/elsewhere" ] &&
    ok "socket can't change on a reload: warned, the old socket still serves" ||
    fail "socket change on a reload: got '$got'; log: $(log_since "$mark" | grep -c 'cannot change') warnings"

# --- 6: a new ca_file ------------------------------------------------------------------------
cp "$d/ca.pem" "$d/ca2.pem"
acc=$(count b accept)
CA=$d/ca2.pem QUERY_MS=4000 UPS=127.0.0.22 conf
reload
got=$(answer_of newca.test)
[ "$got" = 192.0.2.22 ] && [ "$(count b accept)" -gt "$acc" ] &&
    ok "a new ca_file: new connections under the new store, lookups work" ||
    fail "a new ca_file: got '$got'; accepts at 127.0.0.22 $acc -> $(count b accept)"

# --- 7: many reloads under load ----------------------------------------------------------------
e2e_via dot sh -c 'c=0; while [ $c -lt 8 ]; do
    ( i=0; while [ $i -lt 25 ]; do getent ahostsv4 "load-$c-$i.test" >/dev/null || echo fail
        i=$((i + 1)); done ) & c=$((c + 1)); done; wait' >"$d/load.out" 2>&1 &
load=$!
n=0
while [ $n -lt 20 ]; do
    case $((n % 3)) in
        0) UPS="127.0.0.21 127.0.0.22" ;;
        1) UPS=127.0.0.22 ;;
        2) UPS="127.0.0.23 127.0.0.21" ;;
    esac
    CA=$d/ca2.pem QUERY_MS=4000 conf
    reload
    n=$((n + 1))
done
wait "$load" || true
failures=$(grep -c fail "$d/load.out" || true)
# Under valgrind (make check-valgrind) the point is memcheck across the
# reloads: handshakes there are slow enough for some lookups to time out.
[ -z "$E2E_VALGRIND" ] || { e2e_log "under valgrind: $failures of 200 lookups timed out"; failures=0; }
[ "$failures" = 0 ] && kill -0 "$E2E_DAEMON_PID" &&
    ok "20 reloads under 200 concurrent lookups: none failed" ||
    fail "20 reloads under load: $failures of 200 lookups failed"
e2e_stop_daemon
ok "the daemon exited cleanly after all the reloads"

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
