#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# faults.sh: upstream faults over real TLS (issue 12), each from a dot-peer.c
# written to misbehave, listed first (selection "ordered") before a
# well-behaved dot-peer:
#   1. a reply with the query's ID for another question (another name; another
#      type): the address it carries is never used;
#   2. a length prefix, then silence;
#   3. TLS, then garbage: a length prefix shorter than a DNS header, a prefix
#      longer than what follows, a right prefix over bytes that are not DNS;
#   4. the first upstream (slow but good) killed with SIGKILL while 50 lookups
#      are in flight.
# For each: every lookup is answered by failover or fails (status 2) within
# timeouts.query_ms + slack (times reported), none hangs; the daemon logs the
# misbehaviour (warning or info) and never the query name above debug; it
# stays up and a fresh lookup right after succeeds.
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
n_failed=0
fail() { e2e_log "FAIL: $*"; n_failed=$((n_failed + 1)); }
ok() { e2e_log "ok: $*"; }

BAD=192.0.2.66  # what a misbehaving peer would give
GOOD=192.0.2.4  # the well-behaved second upstream
SLOW=192.0.2.3  # the slow first upstream of the kill case
QUERY_MS=2000
SLACK=1000
[ "${SANITIZERS:-no}" != yes ] || SLACK=2000

# peer NAME ADDR [dot-peer options]: a TLS test upstream on ADDR:853; waits
# until it listens.
peer() {
    local name=$1 addr=$2
    shift 2
    rm -f "$d/$name.ready"
    "$d/dot-peer" --listen "$addr" --port 853 --cert "$d/server.pem" --key "$d/server.key" \
        --log "$d/$name.log" --ready "$d/$name.ready" "$@" 2>>"$d/$name.err" &
    eval "PEER_$name=$!"
    E2E_PIDS="$E2E_PIDS $!"
    e2e_wait_for 50 "dot-peer $name" test -e "$d/$name.ready" || e2e_hard "dot-peer $name did not start"
}
stop_peer() {
    local pid
    eval "pid=\$PEER_$1"
    e2e_stop_pid "$pid" "dot-peer $1" || true
}

# config FILE ADDR...: strict, ordered, one upstream per ADDR (auth_name dns.test).
config() {
    local file=$1 ups="" a
    shift
    for a in "$@"; do
        ups="${ups:+$ups, }{ address = \"$a\"; port = 853; auth_name = \"dns.test\"; }"
    done
    cat >"$file" <<EOF
mode = "strict";
ca_file = "$d/ca.pem";
upstreams = ( $ups );
selection = "ordered";
timeouts = { query_ms = $QUERY_MS; connect_ms = 1000; attempts = 2; };
pool = { connections_per_upstream = 2; max_inflight = 64; idle_timeout_s = 30; prewarm = true; };
socket = "$d/run/socket";
control_socket = "$d/run/control"; user = "root"; log_level = "debug";
EOF
}
mkdir -p "$d/run"

# burst PREFIX N: N concurrent "getent ahostsv4 PREFIX-I.test" (I = 0..N-1),
# each bounded by its own timeout (a hang shows as status 124); prints one
# line per lookup: "I STATUS MS FIRST-ADDRESS" (address "-" when none).
burst() {
    e2e_via dot sh -c 'i=0; while [ $i -lt "$2" ]; do
        ( t0=$(date +%s%3N); rc=0
          out=$(timeout -k 1 "$3" getent ahostsv4 "$1-$i.test" 2>/dev/null) || rc=$?
          a=$(printf "%s\n" "$out" | awk "NR == 1 {print \$1}")
          echo "$i $rc $(($(date +%s%3N) - t0)) ${a:--}" ) &
        i=$((i + 1)); done; wait' sh "$1" "$2" "$(((QUERY_MS + SLACK) / 1000 + 8))"
}

# judge WHAT RESULTS ALLOWED...: every lookup in RESULTS (burst's lines) was
# answered with one of the ALLOWED addresses or failed with status 2, within
# QUERY_MS + SLACK; reports the counts and the slowest time.
judge() {
    local what=$1 results=$2
    shift 2
    local verdict
    verdict=$(printf '%s\n' "$results" | awk -v limit=$((QUERY_MS + SLACK)) -v allowed="$*" '
        BEGIN { n = split(allowed, al, " "); for (i = 1; i <= n; i++) ok[al[i]] = 1 }
        NF == 4 {
            total++; if ($3 > max) max = $3; sum += $3
            if ($2 == 0 && ($4 in ok)) answered++
            else if ($2 == 2) failed++
            else { bad++; why = why " [" $0 "]" }
            if ($3 > limit) { late++; why = why " [late: " $0 "]" }
        }
        END { printf "%d %d %d %d %d %d %s", total, answered, failed, bad, late, max,
                  total ? int(sum / total) : 0; print why }')
    # shellcheck disable=SC2086
    set -- $verdict
    local total=$1 answered=$2 failed=$3 bad=$4 late=$5 max=$6 mean=$7
    shift 7
    if [ "$total" -gt 0 ] && [ "$bad" = 0 ] && [ "$late" = 0 ]; then
        ok "$what: $total lookups, $answered answered, $failed failed (status 2); mean $mean ms, max $max ms (limit $((QUERY_MS + SLACK)))"
    else
        fail "$what: $total lookups, $answered answered, $failed failed, $bad wrong, $late late; max $max ms:$*"
    fi
}

# quiet_names PREFIX: no log line above debug carries a name of this case.
quiet_names() {
    local leaks
    leaks=$(grep -v ': debug: ' "$d/helperd.log" | grep -c -- "$1-" || true)
    [ "$leaks" = 0 ] || fail "$1: $leaks log lines above debug carry the query name"
}

# logged WHAT PATTERN: the daemon logged PATTERN at warning or info level.
logged() {
    grep -E ': (warning|info): ' "$d/helperd.log" | grep -q -E -- "$2" &&
        ok "$1: logged ($(grep -E ': (warning|info): ' "$d/helperd.log" | grep -E -- "$2" | head -n 1 | sed 's/^dot-helperd: //'))" ||
        fail "$1: nothing matching '$2' logged at warning or info"
}

# still_serving WHAT NAME: the daemon is up and answers NAME (via the good upstream).
still_serving() {
    local got
    if ! kill -0 "$E2E_DAEMON_PID" 2>/dev/null || [ "$(e2e_state "$E2E_DAEMON_PID")" = Z ]; then
        fail "$1: the daemon died"
        return
    fi
    got=$(e2e_via dot getent ahostsv4 "$2" 2>/dev/null | awk 'NR == 1 {print $1}') || true
    [ "$got" = "$GOOD" ] && ok "$1: the daemon is up and answers $2 afterwards" ||
        fail "$1: afterwards $2 gave '$got', expected $GOOD"
}

peer good 127.0.0.4 --answer "$GOOD"

# fault CASE PEER-OPTIONS... : the misbehaving peer on 127.0.0.3 before the
# good one; 4 sequential then 10 concurrent lookups of fresh names, then the
# checks. LOG_PATTERN says what the daemon must have logged.
fault() {
    local case=$1 results r i
    shift
    : >"$d/helperd.log"
    peer bad 127.0.0.3 --answer "$BAD" "$@"
    config "$d/$case.conf" 127.0.0.3 127.0.0.4
    e2e_start_daemon "$d/$case.conf"
    results=""
    for i in 0 1 2 3; do
        r=$(burst "$case-seq$i" 1)
        results="$results$r
"
    done
    results="$results$(burst "$case-par" 10)"
    judge "$case" "$results" "$GOOD"
    # Once seen, the fault must not cost every later lookup a whole try
    # (query_ms over 2 upstreams x 2 attempts): the connection is dropped and
    # the upstream backed off (its probe may let one more lookup pay).
    slow=$(printf '%s\n' "$results" | awk -v try=$((QUERY_MS / 4)) 'NF == 4 && $3 >= try' | wc -l)
    [ "$slow" -le 7 ] && ok "$case: $slow of 14 lookups paid a whole try ($((QUERY_MS / 4)) ms)" ||
        fail "$case: $slow of 14 lookups paid a whole try ($((QUERY_MS / 4)) ms): the bad upstream is never set aside"
    printf '%s\n' "$results" | grep -q " $BAD\$" && fail "$case: the misbehaving peer's address $BAD was used"
    [ "$(grep -c '^query' "$d/bad.log" || true)" -ge 1 ] ||
        fail "$case: the misbehaving peer saw no query (the case tested nothing)"
    logged "$case" "$LOG_PATTERN"
    quiet_names "$case"
    still_serving "$case" "$case-after.test"
    e2e_stop_daemon
    stop_peer bad
}

# --- 1: the right ID, another question -------------------------------------------
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: answer for another question' fault wq-name --wrong-question name
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: answer for another question' fault wq-type --wrong-question type

# --- 2: a length prefix, then silence ---------------------------------------------
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: no answer' fault silence --length-then-silence

# --- 3: TLS, then garbage -------------------------------------------------------------
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: malformed DNS message length' fault garbage-short --garbage short
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: no answer' fault garbage-long --garbage long
LOG_PATTERN='upstream 127\.0\.0\.3 port 853: malformed DNS answer' fault garbage-body --garbage body

# --- 4: the first upstream killed while 50 lookups are in flight -----------------------
# Slow but good: each answer takes 800 ms, inside the first try's share of
# query_ms (4000 ms over 2 upstreams x 2 attempts: 1000 ms). The daemon
# pipelines all 50 on one connection and the peer answers them one by one.
QUERY_MS=4000
: >"$d/helperd.log"
: >"$d/good.log"
peer slow 127.0.0.3 --answer "$SLOW" --delay 800
config "$d/kill.conf" 127.0.0.3 127.0.0.4
e2e_start_daemon "$d/kill.conf"
burst kill 50 >"$d/kill.results" &
burst_pid=$!
E2E_PIDS="$E2E_PIDS $burst_pid"
# Kill once the daemon has sent all 50 to the slow peer (its debug log says
# so), not after a guess; before the first answer (800 ms) if all goes well.
sent() { grep -c 'debug: query kill-[0-9]*\.test type 1 id [0-9]* to 127\.0\.0\.3 ' "$d/helperd.log" || true; }
all_sent() { [ "$(sent)" -ge 50 ]; }
e2e_wait_for 50 "50 queries sent to the slow peer" all_sent || true
n_sent=$(sent)
# shellcheck disable=SC2154 # set by peer's eval
kill -KILL "$PEER_slow"
wait "$PEER_slow" 2>/dev/null || true
# Others are served throughout: a lookup started now, while the 50 move on.
other=$(burst kill-other 1)
# Every lookup ends on its own (each has its own timeout): wait for them, bounded.
ended() { ! kill -0 "$1" 2>/dev/null || [ "$(e2e_state "$1")" = Z ]; }
e2e_wait_for $(((QUERY_MS + SLACK) / 100 + 100)) "the 50 lookups" ended "$burst_pid" ||
    fail "kill: the burst of 50 lookups did not end"
wait "$burst_pid" || true
e2e_log "kill: SIGKILL with $n_sent of 50 queries sent to the slow peer, $(grep -c '^query' "$d/slow.log") read by it"
results=$(cat "$d/kill.results")
[ "$(printf '%s\n' "$results" | grep -c .)" = 50 ] || fail "kill: $(printf '%s\n' "$results" | grep -c .) of 50 lookups reported"
judge "kill: 50 in flight, first upstream SIGKILLed" "$results" "$SLOW" "$GOOD"
e2e_log "kill: $(printf '%s\n' "$results" | grep -c " $SLOW\$" || true) answered by the slow peer before it died, $(printf '%s\n' "$results" | grep -c " $GOOD\$" || true) by failover"
judge "kill: a lookup started right after the kill" "$other" "$GOOD"
quiet_names kill
still_serving kill kill-after.test
e2e_stop_daemon

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
