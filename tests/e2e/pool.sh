#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pool.sh: the upstream connection pool (issue 5), against dot-peer.c test
# upstreams that answer any name (so nothing is ever "cached"):
#   1. the socket appears only once the prewarmed TLS connections are up
#      (two: a lookup's A and AAAA each lead a connection, upstream.h), and
#      200 sequential lookups use those two TLS handshakes and no more;
#   2. 200 concurrent lookups from 50 clients use at most
#      connections_per_upstream connections;
#   3. an upstream that closes after every answer still serves every lookup;
#   4. a stalled upstream (TCP accepted, no TLS) costs at most connect_ms
#      before the next one answers;
#   5. ordered failover: first upstream killed -> the second answers; first
#      back -> it answers again;
#   6. queries are padded to 128-octet blocks inside TLS (and not with
#      padding = false);
#   7. TLS session resumption after idle connections were closed;
#   8. opportunistic mode: a certificate for another name is tolerated (and
#      logged), no TLS at all falls back to plain TCP port 53; strict mode
#      does neither and sends nothing;
#   9. an IPv6 upstream without an IPv6 route is not tried, and a change of
#      the host's addresses makes the daemon re-check its upstreams;
#  10. the server's RFC 7828 keepalive shortens the idle timeout, and a server
#      that closes idle connections early is learned and closed before;
#  11. round_robin spreads queries, fastest prefers the quicker upstream;
#  12. with no usable upstream (dead or stalled), lookups fail (TRYAGAIN)
#      within query_ms;
#  13. connections are never shared across identities: the same address
#      and port under another auth_name gets its own connections (which fail
#      verification) while the right identity keeps working.
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

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_make_cert ca other other.test
n_failed=0
fail() { e2e_log "FAIL: $*"; n_failed=$((n_failed + 1)); }
ok() { e2e_log "ok: $*"; }

# peer NAME ADDR PORT [dot-peer options]: start a test upstream, wait until it listens.
peer() {
    local name=$1 addr=$2 port=$3
    shift 3
    rm -f "$d/$name.ready"
    "$d/dot-peer" --listen "$addr" --port "$port" --log "$d/$name.log" \
        --ready "$d/$name.ready" "$@" 2>>"$d/$name.err" &
    eval "PEER_$name=$!"
    E2E_PIDS="$E2E_PIDS $!"
    e2e_wait_for 50 "dot-peer $name" test -e "$d/$name.ready" || e2e_hard "dot-peer $name did not start"
}
stop_peer() {
    local pid
    eval "pid=\$PEER_$1"
    e2e_stop_pid "$pid" "dot-peer $1" || true
}
count() { grep -c "^$2" "$d/$1.log" 2>/dev/null || true; }

# config FILE MODE UPSTREAMS... where each upstream is ADDR@AUTH_NAME; extra
# settings come from the EXTRA variable.
config() {
    local file=$1 mode=$2 ups="" u
    shift 2
    for u in "$@"; do
        ups="${ups:+$ups, }{ address = \"${u%%@*}\"; port = 853; auth_name = \"${u#*@}\"; }"
    done
    cat >"$file" <<EOF
mode = "$mode";
ca_file = "$d/ca.pem";
upstreams = ( $ups );
timeouts = { query_ms = ${QUERY_MS:-3000}; connect_ms = ${CONNECT_MS:-1000}; attempts = 2; };
pool = { connections_per_upstream = 2; max_inflight = 64; idle_timeout_s = ${IDLE_S:-30}; prewarm = ${PREWARM:-true}; };
socket = "$d/run/socket";
control_socket = "$d/run/control"; user = "root"; log_level = "debug";
${EXTRA:-}
EOF
}
mkdir -p "$d/run"

# stats KEY: the daemon's counter KEY (SIGUSR1).
stats() { e2e_stats "$1"; }

# lookups N PREFIX: N sequential getent ahostsv4 of fresh names; prints failures.
lookups() {
    e2e_via dot sh -c 'f=0; i=0; while [ $i -lt "$1" ]; do
        getent ahostsv4 "$2-$i.test" >/dev/null || f=$((f + 1)); i=$((i + 1)); done; echo $f' \
        sh "$1" "$2"
}

# parallel CLIENTS EACH PREFIX: CLIENTS processes doing EACH lookups at once.
parallel() {
    e2e_via dot sh -c 'c=0; while [ $c -lt "$1" ]; do
        ( i=0; while [ $i -lt "$2" ]; do getent ahostsv4 "$3-$c-$i.test" >/dev/null ||
            echo fail; i=$((i + 1)); done ) & c=$((c + 1)); done; wait' sh "$1" "$2" "$3" |
        grep -c fail || true
}

answer_of() { e2e_via dot getent ahostsv4 "$1" 2>/dev/null | awk 'NR == 1 {print $1}'; }

# --- 1 and 2: one handshake for sequential lookups; bounded connections ------------
peer a 127.0.0.1 853 --cert "$d/server.pem" --key "$d/server.key"
config "$d/c1.conf" strict 127.0.0.1@dns.test
e2e_start_daemon "$d/c1.conf"
# Prewarm: the socket appears only once both TLS connections are up.
if awk '/TLS to 127.0.0.1 port 853 established/ {tls++; last = NR} /ready on/ {ready = NR}
        END {exit !(tls == 2 && ready && last < ready)}' "$d/helperd.log"; then
    ok "prewarm: both TLS connections were up before the socket appeared"
else
    fail "prewarm: the socket appeared before both TLS connections were up"
fi
failures=$(lookups 200 seq)
hs=$(stats handshakes)
[ "$failures" = 0 ] && [ "$hs" = 2 ] && [ "$(count a handshake)" = 2 ] &&
    ok "200 sequential lookups: 0 failed, the $hs prewarmed TLS handshakes and no more" ||
    fail "200 sequential lookups: $failures failed, $hs handshakes (daemon), $(count a handshake) (upstream); expected 0 and 2"
# A name that can't be put in a query is refused alone: no connection dies.
e2e_via dot getent hosts "bad\\" >/dev/null 2>&1 || true
e2e_via dot getent hosts 'a\1.test' >/dev/null 2>&1 || true
lookups 2 afterbad >/dev/null
hs=$(stats handshakes)
[ "$hs" = 2 ] && ok "names with stray escapes are refused without touching the connections" ||
    fail "names with stray escapes cost $hs handshakes (expected still 2)"
failures=$(parallel 50 4 par)
conns=$(count a accept)
[ "$failures" = 0 ] && [ "$conns" -le 2 ] &&
    ok "200 concurrent lookups from 50 clients: 0 failed over $conns connection(s)" ||
    fail "200 concurrent lookups: $failures failed, $conns connections (at most 2 allowed)"
queries=$(count a query)
[ "$queries" -ge 400 ] || fail "expected the upstream to see 400 queries, it saw $queries"
# 6a. padding on: every query inside TLS is a multiple of 128 octets.
unpadded=$(awk '$1 == "query" && $2 % 128 != 0' "$d/a.log" | wc -l)
[ "$unpadded" = 0 ] && ok "padding: all $queries queries are multiples of 128 octets" ||
    fail "padding: $unpadded of $queries queries are not a multiple of 128 octets"
e2e_stop_daemon

# 6b. padding off.
EXTRA='padding = false;' config "$d/c1b.conf" strict 127.0.0.1@dns.test
: >"$d/a.log"
e2e_start_daemon "$d/c1b.conf"
lookups 5 nopad >/dev/null
unpadded=$(awk '$1 == "query" && $2 % 128 != 0' "$d/a.log" | wc -l)
[ "$unpadded" -gt 0 ] && ok "padding = false: queries are not padded" ||
    fail "padding = false: queries still padded"
e2e_stop_daemon

# --- 7: resumption after the idle connection was closed ---------------------------
IDLE_S=1 config "$d/c7.conf" strict 127.0.0.1@dns.test
: >"$d/a.log"
e2e_start_daemon "$d/c7.conf"
lookups 2 warm >/dev/null
# The idle limit is 1 s: wait for the close (bounded), then look up again.
e2e_wait_for 50 "the idle closes" sh -c "[ \$(grep -c '^close' '$d/a.log') -ge 2 ]" ||
    fail "the idle connections never closed"
lookups 2 resume >/dev/null
resumed=$(stats resumed)
[ "${resumed:-0}" -ge 1 ] && ok "TLS session resumed after an idle close ($resumed)" ||
    fail "no TLS session resumption after an idle close"
e2e_stop_daemon
stop_peer a

# --- 3: an upstream that closes after every answer ---------------------------------
peer b 127.0.0.1 853 --cert "$d/server.pem" --key "$d/server.key" --close-after-answer
config "$d/c3.conf" strict 127.0.0.1@dns.test
e2e_start_daemon "$d/c3.conf"
f1=$(lookups 30 closeseq)
f2=$(parallel 10 3 closepar)
[ "$f1" = 0 ] && [ "$f2" = 0 ] &&
    ok "an upstream closing after every answer: 60 lookups, none failed" ||
    fail "an upstream closing after every answer: $f1 sequential and $f2 concurrent lookups failed"
backoffs=$(grep -c 'warning: upstream' "$d/helperd.log" || true)
[ "$backoffs" = 0 ] || fail "a server closing connections was treated as a failure ($backoffs warnings)"
e2e_stop_daemon
stop_peer b

# --- 4: a stalled upstream costs at most connect_ms ---------------------------------
peer stall 127.0.0.3 853 --stall
peer good 127.0.0.4 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.4
PREWARM=false CONNECT_MS=500 config "$d/c4.conf" strict 127.0.0.3@dns.test 127.0.0.4@dns.test
e2e_start_daemon "$d/c4.conf"
t0=$(e2e_now_ms)
got=$(answer_of stalled.test)
ms=$(($(e2e_now_ms) - t0))
limit=$((500 + 700))
[ "${SANITIZERS:-no}" != yes ] || limit=$((limit + 800))
[ "$got" = 192.0.2.4 ] && [ "$ms" -lt "$limit" ] &&
    ok "stalled first upstream: answered by the second in $ms ms (connect_ms 500)" ||
    fail "stalled first upstream: got '$got' in $ms ms; expected 192.0.2.4 within $limit ms"
e2e_stop_daemon
stop_peer stall
stop_peer good

# --- 5: ordered failover and return ------------------------------------------------
peer first 127.0.0.5 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.5
peer second 127.0.0.6 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.6
config "$d/c5.conf" strict 127.0.0.5@dns.test 127.0.0.6@dns.test
e2e_start_daemon "$d/c5.conf"
got=$(answer_of before.test)
[ "$got" = 192.0.2.5 ] && ok "ordered: the first upstream answers" || fail "ordered: got '$got', expected 192.0.2.5"
stop_peer first
got=$(answer_of during.test)
[ "$got" = 192.0.2.6 ] && ok "ordered: first killed, the second answers" ||
    fail "ordered: first killed: got '$got', expected 192.0.2.6"
peer first 127.0.0.5 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.5
# Backoff starts at 1 s and the background probe brings it back: poll, bounded.
back=""
for i in $(seq 40); do
    if [ "$(answer_of "after-$i.test")" = 192.0.2.5 ]; then
        back=$i
        break
    fi
    sleep 0.25
done
[ -n "$back" ] && ok "ordered: the first upstream answers again once it is back" ||
    fail "ordered: the first upstream never came back into use"
e2e_stop_daemon
stop_peer first
stop_peer second

# --- 8: opportunistic vs strict ----------------------------------------------------
peer wrong 127.0.0.7 853 --cert "$d/other.pem" --key "$d/other.key" --answer 192.0.2.7
config "$d/c8s.conf" strict 127.0.0.7@dns.test
e2e_start_daemon "$d/c8s.conf"
got=$(answer_of wrongname.test)
[ -z "$got" ] && [ "$(count wrong query)" = 0 ] &&
    ok "strict: a certificate for another name fails, nothing sent" ||
    fail "strict: a certificate for another name gave '$got' ($(count wrong query) queries sent)"
e2e_stop_daemon
config "$d/c8o.conf" opportunistic 127.0.0.7@dns.test
e2e_start_daemon "$d/c8o.conf"
got=$(answer_of wrongname.test)
[ "$got" = 192.0.2.7 ] && grep -q 'continuing unauthenticated' "$d/helperd.log" &&
    [ "$(stats unauthenticated)" -ge 1 ] &&
    ok "opportunistic: a certificate for another name is used, logged and counted" ||
    fail "opportunistic: a certificate for another name gave '$got'"
e2e_stop_daemon
stop_peer wrong

peer plain 127.0.0.8 53 --plain --answer 192.0.2.8
config "$d/c9s.conf" strict 127.0.0.8@dns.test
e2e_start_daemon "$d/c9s.conf"
got=$(answer_of notls.test)
[ -z "$got" ] && [ "$(count plain query)" = 0 ] &&
    ok "strict: no TLS on 853 fails, nothing sent in plaintext" ||
    fail "strict: no TLS gave '$got' ($(count plain query) plaintext queries)"
e2e_stop_daemon
config "$d/c9o.conf" opportunistic 127.0.0.8@dns.test
e2e_start_daemon "$d/c9o.conf"
got=$(answer_of notls.test)
[ "$got" = 192.0.2.8 ] && [ "$(stats plain_fallbacks)" -ge 1 ] &&
    grep -q 'using plain DNS over TCP port 53' "$d/helperd.log" &&
    ok "opportunistic: no TLS falls back to plain TCP port 53, logged and counted" ||
    fail "opportunistic: no TLS gave '$got'"
e2e_stop_daemon
stop_peer plain

# --- 9: routes and network changes -------------------------------------------------
peer v4 127.0.0.9 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.9
# No route to 2001:db8:dead::1 in this namespace: it must be skipped at once.
QUERY_MS=5000 config "$d/c10.conf" strict 2001:db8:dead::1@dns.test 127.0.0.9@dns.test
sed -i 's/address = 2001:db8:dead::1@dns.test; port = 853; auth_name = 2001:db8:dead::1@dns.test/address = "2001:db8:dead::1"; port = 853; auth_name = "dns.test"/' "$d/c10.conf"
e2e_start_daemon "$d/c10.conf"
t0=$(e2e_now_ms)
got=$(answer_of noroute.test)
ms=$(($(e2e_now_ms) - t0))
[ "$got" = 192.0.2.9 ] && [ "$ms" -lt 1000 ] && grep -q '2001:db8:dead::1: no route' "$d/helperd.log" &&
    ok "an IPv6 upstream without a route is skipped ($ms ms)" ||
    fail "an IPv6 upstream without a route: got '$got' in $ms ms"
ip addr add 127.0.0.10/8 dev lo
e2e_wait_for 50 "the network change" grep -q 'network changed: re-checking upstreams' "$d/helperd.log" &&
    ok "an address change makes the daemon re-check its upstreams" ||
    fail "the daemon did not notice an address change"
got=$(answer_of afterchange.test)
[ "$got" = 192.0.2.9 ] || fail "after a network change: got '$got', expected 192.0.2.9"
e2e_stop_daemon
stop_peer v4

# --- 10: keepalive and learning the server's idle limit -----------------------------
peer ka 127.0.0.11 853 --cert "$d/server.pem" --key "$d/server.key" --keepalive 5
config "$d/c11.conf" strict 127.0.0.11@dns.test
e2e_start_daemon "$d/c11.conf"
answer_of keepalive.test >/dev/null
e2e_wait_for 30 "the keepalive close" grep -q 'closing idle connection to 127.0.0.11' "$d/helperd.log" &&
    ok "the server's keepalive (500 ms) closes idle connections sooner than idle_timeout_s" ||
    fail "the server's keepalive was not honoured"
e2e_stop_daemon
stop_peer ka

peer early 127.0.0.12 853 --cert "$d/server.pem" --key "$d/server.key" --idle-close 1500
config "$d/c12.conf" strict 127.0.0.12@dns.test
e2e_start_daemon "$d/c12.conf"
answer_of early1.test >/dev/null
e2e_wait_for 40 "the server's idle close" grep -q 'upstream 127.0.0.12 closed a connection' "$d/helperd.log" ||
    fail "the server never closed the idle connection"
answer_of early2.test >/dev/null
e2e_wait_for 40 "our idle close" grep -q 'closing idle connection to 127.0.0.12' "$d/helperd.log" &&
    ok "learned to close idle connections before a server that closes them at 1.5 s" ||
    fail "did not learn the server's idle limit"
warnings=$(grep -c 'warning: upstream 127.0.0.12' "$d/helperd.log" || true)
[ "$warnings" = 0 ] || fail "a server closing idle connections caused $warnings warnings (backoff)"
e2e_stop_daemon
stop_peer early

# --- 11: round_robin and fastest ----------------------------------------------------
peer rr1 127.0.0.13 853 --cert "$d/server.pem" --key "$d/server.key"
peer rr2 127.0.0.14 853 --cert "$d/server.pem" --key "$d/server.key" --delay 60
EXTRA='selection = "round_robin";' config "$d/c13.conf" strict 127.0.0.13@dns.test 127.0.0.14@dns.test
e2e_start_daemon "$d/c13.conf"
lookups 20 rr >/dev/null
q1=$(count rr1 query) q2=$(count rr2 query)
[ "$q1" -ge 5 ] && [ "$q2" -ge 5 ] && ok "round_robin: queries spread ($q1 and $q2)" ||
    fail "round_robin: queries not spread ($q1 and $q2)"
e2e_stop_daemon
: >"$d/rr1.log"
: >"$d/rr2.log"
# The slow one first in the list: fastest must move to the quick one.
EXTRA='selection = "fastest";' config "$d/c14.conf" strict 127.0.0.14@dns.test 127.0.0.13@dns.test
e2e_start_daemon "$d/c14.conf"
lookups 40 fast >/dev/null
q1=$(count rr1 query) q2=$(count rr2 query)
[ "$q1" -ge 28 ] && ok "fastest: the quick upstream took $q1 of 40 queries (slow one: $q2)" ||
    fail "fastest: the quick upstream took only $q1 of 40 queries (slow one: $q2)"
e2e_stop_daemon
stop_peer rr1
stop_peer rr2

# --- 12: nothing usable: TRYAGAIN within query_ms -------------------------------------
peer stall2 127.0.0.15 853 --stall
QUERY_MS=1500 CONNECT_MS=1000 config "$d/c15.conf" strict 127.0.0.15@dns.test 127.0.0.16@dns.test
e2e_start_daemon "$d/c15.conf"
limit=2300
[ "${SANITIZERS:-no}" != yes ] || limit=3500
for name in dead1.test dead2.test; do
    rc=0
    t0=$(e2e_now_ms)
    e2e_via dot getent ahostsv4 "$name" >/dev/null 2>&1 || rc=$?
    ms=$(($(e2e_now_ms) - t0))
    [ "$rc" = 2 ] && [ "$ms" -lt "$limit" ] &&
        ok "no usable upstream (stalled + dead): $name failed in $ms ms (query_ms 1500)" ||
        fail "no usable upstream: $name: status $rc after $ms ms (expected 2 within $limit ms)"
done
e2e_stop_daemon
# The same with a long search list: still one deadline for the whole lookup.
cp "$d/resolv.conf" "$d/resolv.conf.saved"
printf 'nameserver 127.0.0.1\nsearch a.test b.test c.test d.test e.test f.test\n' >"$d/resolv.conf"
QUERY_MS=1500 CONNECT_MS=500 config "$d/c16.conf" strict 127.0.0.15@dns.test
e2e_start_daemon "$d/c16.conf"
rc=0
t0=$(e2e_now_ms)
# (ahostsv4: one NSS call; getent hosts makes two, one per family.)
e2e_via dot getent ahostsv4 shortname >/dev/null 2>&1 || rc=$?
ms=$(($(e2e_now_ms) - t0))
[ "$rc" = 2 ] && [ "$ms" -lt "$limit" ] &&
    ok "a stalled upstream and 6 search domains: failed in $ms ms (query_ms 1500)" ||
    fail "a stalled upstream and 6 search domains: status $rc after $ms ms (expected 2 within $limit ms)"
e2e_stop_daemon
cat "$d/resolv.conf.saved" >"$d/resolv.conf"
stop_peer stall2

# --- 13: identity: one address, two auth_names -------------------------------------
peer ident 127.0.0.17 853 --cert "$d/server.pem" --key "$d/server.key" --answer 192.0.2.17
EXTRA='selection = "round_robin";' config "$d/c17.conf" strict 127.0.0.17@dns.test 127.0.0.17@other.test
e2e_start_daemon "$d/c17.conf"
failures=$(lookups 10 ident)
verify_fail=$(grep -c 'upstream 127.0.0.17 port 853: certificate verification failed' "$d/helperd.log" || true)
[ "$failures" = 0 ] && [ "$verify_fail" -ge 1 ] &&
    ok "identity: the other.test entry got its own (failing) connections; 10 lookups through dns.test" ||
    fail "identity: $failures lookups failed, $verify_fail verification failures for other.test (expected 0 and >= 1)"
e2e_stop_daemon
stop_peer ident

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
