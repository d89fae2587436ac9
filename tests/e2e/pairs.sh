#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pairs.sh: the pool learns whether a server answers the two questions of a
# lookup (A and AAAA) together when they share a connection, and every
# lookup still takes one round trip (upstream.h, "pairs").
#
# Two DoT servers with a real round trip between the daemon and them: the
# benchmark's delay proxy (bench/delay-proxy.c, DELAY_MS one way, in front
# of the harness's Unbound), once as a server that answers at once
# (TCP_NODELAY, as Knot Resolver) and once as one that leaves Nagle on (as
# Unbound as shipped does: an answer written while an earlier one is not
# yet ACKed waits for that ACK, one more round trip). Against each, with a
# fresh daemon, LOOKUPS getaddrinfo(AF_UNSPEC) lookups of new names, one
# after another:
#
#   - the upstream's "pairs" (dot-helperctl stats) ends "together" for the
#     first and "apart" for the second;
#   - once learned (the last half), every lookup takes one round trip
#     (under 1.6 RTT): sharing a connection costs the Nagle-on server
#     nothing, because it is not done there;
#   - while learning, the Nagle-on server costs a few lookups a second
#     round trip: PAIR_APART_LEARNING (3) samples apart, and a sample or two
#     that a nudge (upstream.h) racing the held answer makes come together
#     late; at most 5 of the first 12.
#
# These are timings, and make check runs two tests at once on a machine that
# may have two CPUs: a run that misses them is run again with a fresh
# daemon and new names, ATTEMPTS times at most, and the test fails only if
# every attempt does (each one is logged). A real regression misses them
# every time.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

d=$E2E_DIR
CTL=$top_builddir/tools/dot-helperctl
DELAY_MS=5
RTT_MS=$((2 * DELAY_MS))
LOOKUPS=24
ATTEMPTS=3
# One round trip, with room for the daemon, the module and a busy machine;
# a second round trip is RTT_MS more.
LIMIT_MS=$((RTT_MS * 16 / 10))
[ "${SANITIZERS:-no}" != yes ] || LIMIT_MS=$((LIMIT_MS + 4))

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_write_zones
printf '*.wild A 192.0.2.77\n*.wild AAAA 2001:db8::77\n' >>"$d/zones/test.zone"
e2e_start_unbound main 127.0.0.1 server ca

${CC:-cc} -std=gnu11 -O1 -pthread -o "$d/gai-time" "$(dirname "$0")/gai-time.c" \
    2>"$d/gai-time-build.log" ||
    { cat "$d/gai-time-build.log" >&2; e2e_hard "cannot build gai-time.c"; }
# shellcheck disable=SC2046
${CC:-cc} -std=gnu11 -O2 -o "$d/delay-proxy" "$top_srcdir/bench/delay-proxy.c" \
    $(pkg-config --cflags --libs libssl libcrypto) 2>"$d/delay-proxy-build.log" ||
    { cat "$d/delay-proxy-build.log" >&2; e2e_hard "cannot build bench/delay-proxy.c"; }

# start_proxy ADDR [-N]: a delay proxy on ADDR@853 in front of Unbound's port 53.
start_proxy() {
    local addr=$1
    shift
    rm -f "$d/proxy-$addr.ready"
    "$d/delay-proxy" -l "$addr:853" -u 127.0.0.1:53 -c "$d/server.pem" -k "$d/server.key" \
        -d "$DELAY_MS" -r "$d/proxy-$addr.ready" "$@" >>"$d/proxy-$addr.log" 2>&1 &
    E2E_PIDS="$E2E_PIDS $!"
    e2e_wait_for "$E2E_READY_DS" "delay proxy on $addr" test -e "$d/proxy-$addr.ready" ||
        e2e_hard "the delay proxy on $addr did not start"
}
start_proxy 127.0.0.21
start_proxy 127.0.0.22 -N

# attempt KIND ADDR PAIRS MAX-SLOW-FIRST TRY: a fresh daemon against ADDR;
# its lookups and what it learned. Fails (status 1, $WHY) when a figure is
# off; wrong answers fail the test at once.
attempt() {
    local kind=$1 addr=$2 try=$5 names=() i out slow_first slow_last pairs
    e2e_write_daemon_config "$d/helperd-$kind.conf" --address "$addr"
    e2e_start_daemon "$d/helperd-$kind.conf"
    for ((i = 1; i <= LOOKUPS; i++)); do
        names+=("n$i-$kind-$try.wild.test")
    done
    out=$d/times-$kind
    e2e_via dot "$d/gai-time" "${names[@]}" >"$out" 2>"$d/gai-time-$kind.err" ||
        e2e_fail "$kind: gai-time failed: $(head -c 200 "$d/gai-time-$kind.err")"
    awk '$3 != 0 || $4 != "192.0.2.77,2001:db8::77"' "$out" | grep -q . &&
        e2e_fail "$kind: wrong answers: $(awk '$3 != 0 || $4 != "192.0.2.77,2001:db8::77"' "$out" | head -3)"
    slow_first=$(head -n $((LOOKUPS / 2)) "$out" | awk -v l="$LIMIT_MS" '$2 >= l' | wc -l)
    slow_last=$(tail -n $((LOOKUPS / 2)) "$out" | awk -v l="$LIMIT_MS" '$2 >= l' | wc -l)
    pairs=$("$CTL" -c "$d/helperd-$kind.conf" stats | sed -n 's/^upstream\.0\.pairs=//p')
    e2e_log "figures: $kind (attempt $try): pairs=$pairs; lookups over $LIMIT_MS ms: $slow_first of the first $((LOOKUPS / 2)), $slow_last of the last; times (ms): $(awk '{ printf "%s ", $2 }' "$out")"
    e2e_stop_daemon
    WHY=""
    [ "$pairs" = "$3" ] || WHY="pairs is '$pairs', not '$3'"
    [ "$slow_last" = 0 ] || WHY="$slow_last of the last $((LOOKUPS / 2)) lookups took more than one round trip"
    [ "$slow_first" -le "$4" ] ||
        WHY="$slow_first of the first $((LOOKUPS / 2)) lookups took more than one round trip (at most $4)"
    [ -z "$WHY" ]
}

# run KIND ADDR PAIRS MAX-SLOW-FIRST: attempt, up to ATTEMPTS times.
run() {
    local try
    for ((try = 1; try <= ATTEMPTS; try++)); do
        if attempt "$@" "$try"; then
            [ "$try" = 1 ] || e2e_log "$1: met at attempt $try of $ATTEMPTS"
            return 0
        fi
        e2e_log "$1: attempt $try: $WHY"
    done
    e2e_fail "$1: $WHY (in each of $ATTEMPTS attempts)"
}

run prompt 127.0.0.21 together 0
run nagle 127.0.0.22 apart 5
e2e_log "ok: the prompt server shares a connection, the Nagle-on one does not, one round trip each"
