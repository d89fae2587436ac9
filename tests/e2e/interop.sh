#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# interop.sh: dot-helperd against the DoT servers people run, as Debian 12
# ships them (issue 13), each serving lib.sh's test zone on loopback, plain
# on ADDR@53 and over TLS on ADDR@853 with a certificate from a CA made here:
#
#   knot-resolver  kresd 5.6 on 127.0.0.4, forwarding the test zones to the
#                  harness's Unbound (policy.STUB), reorder_RR(false) so that
#                  both paths see addresses in the same order
#   dnsdist        dnsdist 1.7 on 127.0.0.3 with default frontend options (no
#                  maxInFlight: it answers one query of a connection at a
#                  time) in front of the harness's Unbound
#   unbound        Unbound 1.17 on 127.0.0.1 as shipped: no TCP_NODELAY on
#                  the connections it accepts, nothing preloaded (lib.sh's
#                  configuration; only its idle timeout is shortened)
#
# For each server, with a fresh daemon: the differential (a dozen names x
# getent hosts|ahosts|ahostsv4|ahostsv6, and reverse lookups) through "hosts:
# files dot" against nss_dns on the same server's plain port; then timed
# getaddrinfo(AF_UNSPEC) lookups of names never asked before (a wildcard),
# through gai-time.c: 100 one after another, 50 at once, one after the idle
# connections closed (twice: the first close is the server's or, when it
# announced its idle timeout, the daemon's; the second the daemon's, which
# learned to close first), and two after the server was restarted. Every answer must be right and every lookup faster than
# INTEROP_LIMIT_MS (100 ms on loopback; three times that in sanitizer
# builds, whose daemon and module run several times slower). The figures are
# logged, one "figures:" line per server.
#
# INTEROP_SERVERS="knot-resolver dnsdist unbound" picks servers; a server
# that is not installed is skipped (the test skips when none is).
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools ss

t_start=$(e2e_now_ms)
d=$E2E_DIR
INTEROP_SERVERS=${INTEROP_SERVERS:-knot-resolver dnsdist unbound}
INTEROP_LIMIT_MS=${INTEROP_LIMIT_MS:-100}
[ "${SANITIZERS:-no}" != yes ] || INTEROP_LIMIT_MS=$((INTEROP_LIMIT_MS * 3))
# How long the servers keep an idle TLS client: dnsdist's default (2 s,
# setTCPRecvTimeout) is short already; Unbound's (30 s) and Knot
# Resolver's (10 s) are shortened so that the test waits seconds.
IDLE_MS=1000
WILD4=192.0.2.77
WILD6=2001:db8::77

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_write_zones
printf '*.wild A %s\n*.wild AAAA %s\n' "$WILD4" "$WILD6" >>"$d/zones/test.zone"
E2E_UNBOUND_EXTRA="    tcp-idle-timeout: $IDLE_MS"
# The backend of the other two, and the third server itself.
e2e_start_unbound main 127.0.0.1 server ca
UNBOUND_PID=${E2E_PIDS##* }

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
${CC:-cc} -std=gnu11 -O1 -pthread -o "$d/gai-time" "$(dirname "$0")/gai-time.c" \
    2>"$d/gai-time-build.log" ||
    { cat "$d/gai-time-build.log" >&2; e2e_hard "cannot build gai-time.c"; }

figures=""
# forget PID: stop a server of ours and drop it from the cleanup list.
forget() {
    e2e_stop_pid "$1" "server" || true
    local pid rest=""
    for pid in $E2E_PIDS; do
        [ "$pid" = "$1" ] || rest="$rest $pid"
    done
    E2E_PIDS=$rest
}

# --- the servers ------------------------------------------------------------------

start_kresd() {
    local addr=127.0.0.4 conf=$d/kresd.conf
    mkdir -p "$d/kresd"
    cat >"$conf" <<EOF
-- written by tests/e2e/interop.sh
net.listen('$addr', 53, { kind = 'dns' })
net.listen('$addr', 853, { kind = 'tls' })
net.tls('$d/server.pem', '$d/server.key')
net.tcp_in_idle($IDLE_MS)
-- Answers in the order the zone has them, as the other path sees them.
reorder_RR(false)
-- The test zones are not signed, and there is no root to ask.
trust_anchors.remove('.')
cache.open(10 * MB, 'lmdb://$d/kresd/cache')
policy.add(policy.suffix(policy.STUB({ '127.0.0.1@53' }),
    policy.todnames({ 'test.', '2.0.192.in-addr.arpa.', '8.b.d.0.1.0.0.2.ip6.arpa.' })))
EOF
    kresd -n -q -c "$conf" "$d/kresd" >>"$d/kresd.log" 2>&1 &
    SERVER_PID=$!
    E2E_PIDS="$E2E_PIDS $SERVER_PID"
}

start_dnsdist() {
    local addr=127.0.0.3 conf=$d/dnsdist.conf
    # Frontend options are dnsdist's defaults. The backend's health check
    # asks for a name the backend has (the default, a.root-servers.net,
    # has no answer here); no security poll (it would ask the network).
    cat >"$conf" <<EOF
-- written by tests/e2e/interop.sh
setLocal('$addr:53')
addTLSLocal('$addr:853', '$d/server.pem', '$d/server.key', { provider = 'openssl' })
newServer({ address = '127.0.0.1:53', checkName = 'test.', checkType = 'SOA' })
setSecurityPollSuffix('')
EOF
    dnsdist --supervised --disable-syslog -C "$conf" >>"$d/dnsdist.log" 2>&1 &
    SERVER_PID=$!
    E2E_PIDS="$E2E_PIDS $SERVER_PID"
}

start_unbound() {
    e2e_start_unbound main 127.0.0.1 server ca
    SERVER_PID=${E2E_PIDS##* }
}

# start_server NAME: start it (again), set SERVER_PID, wait until both its
# ports answer the test zone.
start_server() {
    case $1 in
        knot-resolver) start_kresd ;;
        dnsdist) start_dnsdist ;;
        unbound)
            start_unbound
            return
            ;;
    esac
    e2e_wait_for "$E2E_READY_DS" "$1 on $ADDR@53" e2e_alive_and "$SERVER_PID" e2e_dns_ok "$ADDR" ||
        e2e_hard "$1 did not answer on $ADDR@53"
    e2e_wait_for "$E2E_READY_DS" "$1 on $ADDR@853" \
        e2e_alive_and "$SERVER_PID" e2e_dot_ok "$ADDR" server ca ||
        e2e_hard "$1 did not answer over TLS on $ADDR@853"
}

# --- the checks --------------------------------------------------------------------

check() {
    local db=$1 key=$2 norm=norm_sort
    shift 2
    case $db in ahosts*) norm=norm_ahosts ;; esac
    if compare "$norm" getent "$db" "$key"; then
        expect "$SERVER: getent $db $key" "$@" || true
    fi
}

A='[[:space:]]+'

differential() {
    local name db rc
    for name in v4.test v6.test both.test Both.TEST cname.test cname3.test multi.test \
        many.test nx.test dangling.test txt.test "d-$SERVER.wild.test"; do
        for db in hosts ahosts ahostsv4 ahostsv6; do
            case $name:$db in
                nx.* | dangling.* | txt.* | v6.test:ahostsv4) rc=2 ;;
                *) rc=0 ;;
            esac
            if [ "$rc" -eq 0 ]; then check "$db" "$name" 0 '.'; else check "$db" "$name" 2; fi
        done
    done
    check hosts 192.0.2.1 0 "^192\.0\.2\.1${A}v4\.test$" 1
    check hosts 2001:db8::2:2 0 "^2001:db8::2:2${A}both\.test$" 1
    check hosts 192.0.2.200 2
}

# timed LABEL THREADS NAME...: lookups of wildcard names through dot, THREADS
# at a time; every one must give exactly the wildcard's two addresses within
# the limit. Appends to $d/times-$SERVER (all of this server's times).
timed() {
    local label=$1 threads=$2 out=$d/timed.out bad
    shift 2
    if ! e2e_via dot "$d/gai-time" -c "$threads" "$@" >"$out" 2>"$d/timed.err"; then
        n_failed=$((n_failed + 1))
        failed_list="$failed_list
  $SERVER: $label: gai-time failed: $(head -c 200 "$d/timed.err")"
        return 0
    fi
    bad=$(awk -v want="$WILD4,$WILD6" -v lim="$INTEROP_LIMIT_MS" \
        '$3 != 0 || $4 != want || $2 > lim' "$out")
    if [ -n "$bad" ] || [ "$(wc -l <"$out")" -ne $# ]; then
        n_failed=$((n_failed + 1))
        failed_list="$failed_list
  $SERVER: $label: wrong, missing or slower than $INTEROP_LIMIT_MS ms:
$(printf '%s\n' "$bad" | head -n 5 | sed 's/^/    /')"
    fi
    awk -v l="$label" '{ print l, $2 }' "$out" >>"$d/times-$SERVER"
}

# figure LABEL p50|max: over the lookups timed with LABEL.
figure() {
    awk -v l="$1" '$1 == l { print $2 }' "$d/times-$SERVER" | LC_ALL=C sort -n |
        awk -v w="$2" '{ v[NR] = $1 } END {
            if (!NR) { print "-"; exit }
            if (w == "max") print v[NR]; else print v[int((NR + 1) / 2)] }'
}

# The daemon's TLS connections to the server (open, or closed by the server
# and not yet by the daemon).
daemon_conns() {
    ss -Htn state established state close-wait dst "$ADDR:853" | wc -l
}
no_daemon_conns() { [ "$(daemon_conns)" -eq 0 ]; }

names() {
    local prefix=$1 n=$2 i
    for i in $(seq 1 "$n"); do printf '%s%s.wild.test ' "$prefix" "$i"; done
}

# --- one server ---------------------------------------------------------------------

run_server() {
    SERVER=$1
    case $SERVER in
        knot-resolver)
            ADDR=127.0.0.4
            command -v kresd >/dev/null || { e2e_log "kresd is not installed: $SERVER skipped"; return; }
            ;;
        dnsdist)
            ADDR=127.0.0.3
            command -v dnsdist >/dev/null || { e2e_log "dnsdist is not installed: $SERVER skipped"; return; }
            ;;
        unbound) ADDR=127.0.0.1 ;;
        *) e2e_hard "unknown server $SERVER" ;;
    esac
    n_servers=$((n_servers + 1))
    local t0 closes
    t0=$(e2e_now_ms)
    e2e_log "--- $SERVER on $ADDR"
    : >"$d/times-$SERVER"
    if [ "$SERVER" = unbound ]; then
        SERVER_PID=$UNBOUND_PID
    else
        start_server "$SERVER"
    fi
    # nss_dns asks the same server's plain port.
    printf 'nameserver %s\n' "$ADDR" >"$d/resolv.conf"
    e2e_write_daemon_config "$d/helperd-$SERVER.conf" --address "$ADDR" --auth-name dns.test
    e2e_start_daemon "$d/helperd-$SERVER.conf"

    differential

    # shellcheck disable=SC2046
    timed sequential 1 $(names "s-" 100)
    # shellcheck disable=SC2046
    timed concurrent 50 $(names "c-" 50)

    # Idle connections close: the server closes them (dnsdist, Unbound), or
    # the daemon does when the server announced its idle timeout (Knot
    # Resolver's RFC 7828 keepalive); the second time the daemon closes them
    # first, having learned from the server's close.
    for closes in 1 2; do
        e2e_wait_for 100 "$SERVER's idle connections to close" no_daemon_conns ||
            e2e_fail "$SERVER: the connections stayed open"
        timed after-idle-close 1 "i-$closes.wild.test"
    done

    # A restart: the daemon's connections go with the old server.
    forget "$SERVER_PID"
    e2e_wait_for 50 "the daemon to see $SERVER go" no_daemon_conns ||
        e2e_fail "$SERVER: connections to the stopped server stayed open"
    start_server "$SERVER"
    timed after-restart 1 r1.wild.test
    timed after-restart 1 r2.wild.test

    kill -0 "$E2E_DAEMON_PID" 2>/dev/null ||
        { n_failed=$((n_failed + 1)); failed_list="$failed_list
  $SERVER: dot-helperd died"; }
    e2e_stop_daemon
    [ "$SERVER" = unbound ] || forget "$SERVER_PID"

    local fig
    fig="$SERVER: uncached p50 $(figure sequential p50) ms, max $(figure sequential max) ms;"
    fig="$fig 50 concurrent: max $(figure concurrent max) ms;"
    fig="$fig after an idle close: max $(figure after-idle-close max) ms;"
    fig="$fig after a restart: max $(figure after-restart max) ms ($(($(e2e_now_ms) - t0)) ms in all)"
    e2e_log "figures: $fig"
    figures="$figures
  $fig"
}

n_servers=0
for s in $INTEROP_SERVERS; do
    run_server "$s"
done
[ "$n_servers" -gt 0 ] || e2e_skip "none of the servers is installed"

e2e_log "$n_checks comparisons, $n_failed failed checks, limit $INTEROP_LIMIT_MS ms, $(($(e2e_now_ms) - t_start)) ms:$figures"
[ "$n_failed" -eq 0 ] || { printf 'failed:%s\n' "$failed_list" >&2; exit 1; }
