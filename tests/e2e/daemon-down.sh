#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daemon-down.sh: DESIGN.md invariant 2 end to end ("the module never hangs a
# program"). With dot-helperd configured for a 5 s query timeout, a lookup
# through "hosts: files dot" must fail with getent's status 2 in well under a
# second when the daemon is not there:
#   - the daemon was started, answered, and was stopped with SIGTERM;
#   - the daemon was killed with SIGKILL (its socket file may be left behind);
#   - NSS_DOT_SOCKET names a path that does not exist;
#   - NSS_DOT_SOCKET names a regular file, not a socket.
# Then the daemon is started again and lookups work again.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
# "At once": far below the configured query timeout. Sanitizer builds pay for
# loading the sanitizer runtimes into getent.
limit_ms=1000
[ "${SANITIZERS:-no}" != yes ] || limit_ms=2000

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/helperd.conf" --auth-name dns.test \
    --query-ms 5000 --connect-ms 1000 --attempts 2
# The socket path with no daemon behind it: a killed daemon's answer map
# still answers what it holds for a few seconds (map.sh tests that).
echo 'cache = { shared_map = false; };' >>"$d/helperd.conf"
n_failed=0

# works LABEL: getent hosts v4.test through dot gives 192.0.2.1.
works() {
    local rc=0
    e2e_via dot getent hosts v4.test >"$d/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '^192\.0\.2\.1[[:space:]]*v4\.test$' "$d/out"; then
        printf 'FAIL: %s: getent hosts v4.test through dot: status %s, expected 0 and 192.0.2.1\n' "$1" "$rc" >&2
        sed 's/^/  | /' "$d/out" >&2
        n_failed=$((n_failed + 1))
    else
        e2e_log "ok: $1"
    fi
}

# fails_fast LABEL: getent hosts and getent ahosts through dot both exit 2,
# print nothing on stdout, and each returns within limit_ms.
fails_fast() {
    local label=$1 db rc t0 ms
    for db in hosts ahosts; do
        rc=0
        t0=$(e2e_now_ms)
        e2e_via dot getent "$db" v4.test >"$d/out" 2>"$d/err" || rc=$?
        ms=$(($(e2e_now_ms) - t0))
        if [ "$rc" -ne 2 ] || [ -s "$d/out" ] || [ "$ms" -ge "$limit_ms" ]; then
            printf 'FAIL: %s: getent %s v4.test through dot: status %s in %s ms; expected status 2, no output, under %s ms\n' \
                "$label" "$db" "$rc" "$ms" "$limit_ms" >&2
            sed 's/^/  | /' "$d/out" "$d/err" >&2
            n_failed=$((n_failed + 1))
        else
            e2e_log "ok: $label: getent $db failed with status 2 in $ms ms"
        fi
    done
}

# 1. Up, then stopped with SIGTERM (e2e_stop_daemon waits for the exit):
# the socket and its query_ms link (see wedged.sh) go with it.
e2e_start_daemon "$d/helperd.conf"
works "daemon running"
[ "$(readlink "$E2E_SOCKET.query_ms" 2>/dev/null)" = 5000 ] ||
    { printf 'FAIL: %s.query_ms does not hold 5000\n' "$E2E_SOCKET" >&2; n_failed=$((n_failed + 1)); }
e2e_stop_daemon
for f in "$E2E_SOCKET" "$E2E_SOCKET.query_ms"; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        printf 'FAIL: %s is still there after SIGTERM\n' "$f" >&2
        n_failed=$((n_failed + 1))
    fi
done
fails_fast "daemon stopped with SIGTERM"

# 2. Killed with SIGKILL: no chance to remove its socket.
e2e_start_daemon "$d/helperd.conf"
works "daemon restarted"
{
    kill -KILL "$E2E_DAEMON_PID"
    wait "$E2E_DAEMON_PID" || true
} 2>/dev/null
E2E_DAEMON_PID=""
if [ -e "$E2E_SOCKET" ]; then
    fails_fast "daemon killed, stale socket file left"
else
    fails_fast "daemon killed"
fi

# 3. NSS_DOT_SOCKET names nothing.
saved_socket=$E2E_SOCKET
E2E_SOCKET=$d/no/such/dir/socket
fails_fast "NSS_DOT_SOCKET=nonexistent path"

# 4. NSS_DOT_SOCKET names a regular file.
: >"$d/not-a-socket"
E2E_SOCKET=$d/not-a-socket
fails_fast "NSS_DOT_SOCKET=regular file"
E2E_SOCKET=$saved_socket

# 5. And back: a new daemon serves again (replacing any stale socket file).
e2e_start_daemon "$d/helperd.conf"
works "daemon started again after a crash"
e2e_stop_daemon

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
