#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# socket-abuse.sh: garbage on the lookup socket hurts only the client that
# sends it (DESIGN.md invariant 4). For each misbehaving client of
# sock-abuse.c, the daemon must answer as the contract says (close, or a
# reply with the right status), stay up, and go on serving real lookups;
# a flood past the client cap is told TRYAGAIN while the daemon survives;
# every state before the request is complete is closed by its deadline.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

d=$E2E_DIR
${CC:-cc} -std=gnu11 -O1 -o "$d/sock-abuse" "$(dirname "$0")/sock-abuse.c" 2>"$d/abuse-build.log" ||
    { cat "$d/abuse-build.log" >&2; e2e_hard "cannot build sock-abuse.c with ${CC:-cc}"; }

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/helperd.conf" --auth-name dns.test
# A cap the floods below go past (one user, 1100 and 1030 connections).
printf 'clients = { per_user = 256; };\n' >>"$d/helperd.conf"
# The flood holds more descriptors than the default soft limit of 1024.
ulimit -n 4096
e2e_start_daemon "$d/helperd.conf"
n_failed=0

still_serves() {
    local out
    if ! kill -0 "$E2E_DAEMON_PID" 2>/dev/null; then
        e2e_log "FAIL: $1: the daemon died"
        n_failed=$((n_failed + 1))
    elif ! out=$(e2e_via dot getent hosts v4.test) || [ "${out%%[[:space:]]*}" != 192.0.2.1 ]; then
        e2e_log "FAIL: $1: getent hosts v4.test through dot no longer works"
        n_failed=$((n_failed + 1))
    else
        e2e_log "ok: $1"
    fi
}

# Every state of a client before its request is complete has a deadline
# (idle, half a header, the header alone, part of a body): each is closed
# at the 2 s request deadline, not before and not long after.
for mode in garbage hugelen badversion replyop badname slow idle header partbody; do
    if ! timeout 20 "$d/sock-abuse" "$E2E_SOCKET" "$mode"; then
        e2e_log "FAIL: $mode: the daemon did not answer as the contract says"
        n_failed=$((n_failed + 1))
    fi
    still_serves "$mode"
done
if ! timeout 30 "$d/sock-abuse" "$E2E_SOCKET" flood 1100; then
    e2e_log "FAIL: flood: connections over the cap were not told TRYAGAIN"
    n_failed=$((n_failed + 1))
fi
still_serves "flood of 1100 idle connections"
# The same with 1030 connections that each send a header and nothing more
# (they used to keep their slots): all closed by the deadline or refused.
if ! timeout 30 "$d/sock-abuse" "$E2E_SOCKET" flood 1030 header; then
    e2e_log "FAIL: flood of header-only connections: not all closed or refused in time"
    n_failed=$((n_failed + 1))
fi
still_serves "flood of 1030 header-only connections"
e2e_stop_daemon
e2e_log "$n_failed failed"
[ "$n_failed" -eq 0 ] || exit 1
