#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# flood.sh: no local user can starve another (DESIGN.md invariants 4 and 6,
# issue 12). User A (nobody) runs flood.c: 2000 connections, half holding a
# header and nothing more, half asking for random names back to back. User
# B (root here) meanwhile asks too: every one of B's lookups must be
# answered (a cached name, and new names that need the upstream: NXDOMAIN,
# never TRY_AGAIN) within timeouts.query_ms, during the flood and after.
# Reports A's counts, B's slowest lookup and the daemon's peak RSS.
# Then the same with the daemon started under RLIMIT_NOFILE 64: it keeps
# serving B (clients.max shrinks to what the descriptors allow, and the
# user holding the most gives way).
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools setpriv prlimit
getent passwd nobody >/dev/null || e2e_skip "no user nobody"

t_start=$(e2e_now_ms)
d=$E2E_DIR
# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe
${CC:-cc} -std=gnu11 -O1 -o "$d/flood" "$(dirname "$0")/flood.c" 2>"$d/flood-build.log" ||
    { cat "$d/flood-build.log" >&2; e2e_hard "cannot build flood.c"; }
chmod 0711 "$d"
ulimit -n 8192
nogroup=$(id -gn nobody)
query_ms=2000
# Sanitizer builds pay for the runtimes in every getent.
slack_ms=500
[ "${SANITIZERS:-no}" != yes ] || slack_ms=1500
n_failed=0

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/helperd.conf" --auth-name dns.test --query-ms "$query_ms"
# A small share for A: 48 upstream queries in flight, the rest of A's wait
# in A's own queue, far below what the pool holds (2 x 1024 with one
# upstream), so B's queries always find room.
printf 'clients = { lookups_per_user = 48; };\n' >>"$d/helperd.conf"

# b_lookups LABEL SECONDS: B resolves until SECONDS have passed (at most 200
# lookups): v4.test, and a new name each time that the upstream must answer
# NXDOMAIN. Fails on any other answer or a lookup slower than query_ms.
b_lookups() {
    local label=$1 until=$(($(e2e_now_ms) + $2 * 1000)) n=0 worst=0 t0 ms out
    while [ "$n" -lt 200 ] && [ "$(e2e_now_ms)" -lt "$until" ]; do
        n=$((n + 1))
        t0=$(e2e_now_ms)
        out=$(e2e_via dot getent hosts v4.test || true)
        ms=$(($(e2e_now_ms) - t0))
        [ "$ms" -le "$worst" ] || worst=$ms
        if [ "${out%%[[:space:]]*}" != 192.0.2.1 ]; then
            printf 'FAIL: %s: B: getent hosts v4.test gave "%s" in %s ms\n' "$label" "$out" "$ms" >&2
            n_failed=$((n_failed + 1))
        fi
        t0=$(e2e_now_ms)
        out=$(e2e_via dot "$d/nss-probe" name "b-$label-$n.test" 2>&1 | grep 'gethostbyname2(AF_INET):' || true)
        ms=$(($(e2e_now_ms) - t0))
        [ "$ms" -le "$worst" ] || worst=$ms
        case $out in
            *HOST_NOT_FOUND*) ;;
            *)
                printf 'FAIL: %s: B: b-%s-%s.test: "%s" in %s ms (expected HOST_NOT_FOUND)\n' \
                    "$label" "$label" "$n" "$out" "$ms" >&2
                n_failed=$((n_failed + 1))
                ;;
        esac
    done
    if [ "$worst" -gt $((query_ms + slack_ms)) ]; then
        printf 'FAIL: %s: B: the slowest of %s lookup pairs took %s ms (query_ms %s)\n' \
            "$label" "$n" "$worst" "$query_ms" >&2
        n_failed=$((n_failed + 1))
    fi
    e2e_log "$label: B: $n lookup pairs, slowest $worst ms"
}

# flood_as_a SECONDS CONNS: user A's flood, in the background.
flood_as_a() {
    setpriv --reuid=nobody --regid="$nogroup" --clear-groups \
        "$d/flood" "$E2E_SOCKET" "$1" "$2" >"$d/flood.out" 2>&1 &
    FLOOD_PID=$!
    E2E_PIDS="$E2E_PIDS $FLOOD_PID"
}

# --- 1: 2000 connections ------------------------------------------------------------
e2e_start_daemon "$d/helperd.conf"
b_lookups "before" 1
flood_as_a 8 2000
b_lookups "during the flood" 6
wait "$FLOOD_PID" || true
e2e_log "A: $(cat "$d/flood.out")"
grep -q ' answers' "$d/flood.out" || { printf 'FAIL: the flood did not run\n' >&2; n_failed=$((n_failed + 1)); }
rss=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$E2E_DAEMON_PID/status")
e2e_log "daemon peak RSS under the flood: $rss"
b_lookups "after the flood" 1
kill -0 "$E2E_DAEMON_PID" || { printf 'FAIL: the daemon died\n' >&2; n_failed=$((n_failed + 1)); }
e2e_stop_daemon

# --- 2: RLIMIT_NOFILE 64 --------------------------------------------------------------
real=$E2E_DAEMON
printf '#!/bin/sh\nexec prlimit --nofile=64:64 -- "%s" "$@"\n' "$real" >"$d/daemon64"
chmod 0755 "$d/daemon64"
E2E_DAEMON=$d/daemon64
e2e_start_daemon "$d/helperd.conf"
E2E_DAEMON=$real
grep -q 'at most 32 lookup clients at once' "$d/helperd.log" ||
    { printf 'FAIL: the client cap did not follow RLIMIT_NOFILE\n' >&2; n_failed=$((n_failed + 1)); }
flood_as_a 6 300
b_lookups "flood at RLIMIT_NOFILE 64" 4
wait "$FLOOD_PID" || true
e2e_log "A (RLIMIT_NOFILE 64): $(cat "$d/flood.out")"
b_lookups "after, at RLIMIT_NOFILE 64" 1
kill -0 "$E2E_DAEMON_PID" || { printf 'FAIL: the daemon died\n' >&2; n_failed=$((n_failed + 1)); }
e2e_stop_daemon

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ]
