#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# shutdown.sh: SIGTERM (issue 10) and the service-manager side of a start.
# The upstream is dot-peer.c with --delay, so a lookup stays in flight;
# the daemon runs as nobody (a start as root), with $NOTIFY_SOCKET pointing
# at notify-sink.c and $JOURNAL_STREAM naming its stderr, as under systemd.
#   1. READY=1 arrives once the socket is there; the log lines carry <N>
#      priority prefixes (stderr is "the journal"), <6> for the start-up line.
#   2. A lookup waiting for the upstream: SIGTERM, the daemon exits 0 within
#      1 s (timed), the lookup gets TRYAGAIN (h_errno TRY_AGAIN, not the
#      NO_RECOVERY of a daemon that just went away), STOPPING=1 arrives, the
#      socket and its query_ms link are gone.
#   3. A lookup still in the listen backlog (daemon stopped with SIGSTOP,
#      SIGTERM sent, then the connection queued): SIGCONT, exit within 1 s,
#      the connection is not accepted as a new lookup (no upstream query)
#      yet gets TRYAGAIN too.
#   4. JOURNAL_STREAM naming another file: plain "dot-helperd: level:" lines.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools ss
id nobody >/dev/null 2>&1 || e2e_skip "no user nobody to run the daemon as"

t_start=$(e2e_now_ms)
d=$E2E_DIR
n_failed=0
fail() { e2e_log "FAIL: $*"; n_failed=$((n_failed + 1)); }
ok() { e2e_log "ok: $*"; }
# The issue's bound. Sanitizer builds pay for the leak check at exit.
limit_ms=1000
[ "${SANITIZERS:-no}" != yes ] || limit_ms=2000
delay_ms=8000

build() {
    # shellcheck disable=SC2086
    ${CC:-cc} -std=gnu11 -O1 -o "$d/$1" "$(dirname "$0")/$1.c" "${@:2}" 2>"$d/$1-build.log" ||
        { cat "$d/$1-build.log" >&2; e2e_hard "cannot build $1.c"; }
}
# shellcheck disable=SC2046
build dot-peer -pthread $(pkg-config --cflags --libs libssl libcrypto)
build notify-sink
# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe

chmod 0711 "$d"
e2e_make_ca ca
e2e_make_cert ca server dns.test
chmod 0644 "$d/ca.pem"

"$d/dot-peer" --listen 127.0.0.1 --port 853 --cert "$d/server.pem" --key "$d/server.key" \
    --delay "$delay_ms" --log "$d/peer.log" --ready "$d/peer.ready" 2>>"$d/peer.err" &
E2E_PIDS="$E2E_PIDS $!"
e2e_wait_for 50 "dot-peer" test -e "$d/peer.ready" || e2e_hard "dot-peer did not start"
"$d/notify-sink" "$d/notify" "$d/notify.log" "$d/notify.ready" 2>>"$d/notify.err" &
E2E_PIDS="$E2E_PIDS $!"
e2e_wait_for 50 "notify-sink" test -e "$d/notify.ready" || e2e_hard "notify-sink did not start"

# query_ms above the peer's delay: only SIGTERM can end the lookup early.
e2e_write_daemon_config "$d/helperd.conf" --socket "$d/srv/socket" --query-ms 20000 --attempts 1
sed -i 's/^user = "root";$/user = "nobody";/' "$d/helperd.conf"
sed -i 's/^log_level = .*/log_level = "info";/' "$d/helperd.conf"

# start JOURNAL_STREAM: the daemon as systemd would run it.
start() {
    NOTIFY_SOCKET=$d/notify JOURNAL_STREAM=$1 e2e_start_daemon "$d/helperd.conf"
}

# notified STATE: notify-sink got STATE (bounded wait: it is a datagram).
notified() { grep -qx "$1" "$d/notify.log" 2>/dev/null; }

# probe_bg: one lookup through the module in the background; PROBE_PID.
probe_bg() {
    probe_t0=$(e2e_now_ms)
    e2e_via dot "$d/nss-probe" name4 slow.test >"$d/probe.out" 2>&1 &
    PROBE_PID=$!
}

# stopped_within LABEL T0: the daemon (SIGTERM already sent) exits 0 within
# limit_ms of T0; the lookup in flight got TRYAGAIN; nothing is left.
stopped_within() {
    local label=$1 t0=$2 rc=0 ms prc=0 pms
    wait "$E2E_DAEMON_PID" || rc=$?
    ms=$(($(e2e_now_ms) - t0))
    E2E_DAEMON_PID=""
    if [ "$rc" -eq 0 ] && [ "$ms" -le "$limit_ms" ]; then
        ok "$label: exited with status 0 $ms ms after SIGTERM (limit $limit_ms ms)"
    else
        fail "$label: exit status $rc $ms ms after SIGTERM; expected 0 within $limit_ms ms"
    fi
    SIGTERM_MS="$SIGTERM_MS $ms"
    wait "$PROBE_PID" || prc=$?
    pms=$(($(e2e_now_ms) - probe_t0))
    if grep -q 'h_errno=TRY_AGAIN' "$d/probe.out" && [ "$pms" -lt "$delay_ms" ]; then
        ok "$label: the lookup in flight got TRY_AGAIN after $pms ms"
    else
        fail "$label: the lookup in flight: status $prc after $pms ms, expected TRY_AGAIN before the upstream's $delay_ms ms"
        sed 's/^/  | /' "$d/probe.out" >&2
    fi
    local f
    for f in "$E2E_SOCKET" "$E2E_SOCKET.query_ms"; do
        if [ -e "$f" ] || [ -L "$f" ]; then fail "$label: $f is left"; fi
    done
}
SIGTERM_MS=""

# --- 1 and 2: READY=1, journal prefixes, a lookup waiting for the upstream ----------
: >"$d/helperd.log"
start "$(stat -c %d:%i "$d/helperd.log")"
e2e_wait_for 50 "READY=1" notified READY=1 || fail "no READY=1 on \$NOTIFY_SOCKET"
grep -q '^<6>dot-helperd [^ ]* starting: strict mode' "$d/helperd.log" ||
    fail "stderr is the journal: no '<6>dot-helperd VERSION starting:' line"
if grep -q '^dot-helperd: ' "$d/helperd.log"; then
    fail "stderr is the journal: plain 'dot-helperd: level:' lines too"
fi
queries=$(grep -c '^query' "$d/peer.log" || true)
probe_bg
e2e_wait_for 100 "the lookup to reach the upstream" \
    eval '[ "$(grep -c "^query" "$d/peer.log" || true)" -gt "$queries" ]' ||
    e2e_hard "the lookup never reached dot-peer"
t0=$(e2e_now_ms)
kill -TERM "$E2E_DAEMON_PID"
stopped_within "lookup waiting for the upstream" "$t0"
notified STOPPING=1 || fail "no STOPPING=1 on \$NOTIFY_SOCKET"
grep -q '^<6>SIGTERM: shutting down' "$d/helperd.log" || fail "no '<6>SIGTERM: shutting down' line"

# --- 3: a lookup still in the listen backlog ------------------------------------------
: >"$d/notify.log"
start "$(stat -c %d:%i "$d/helperd.log")"
e2e_wait_for 50 "READY=1" notified READY=1 || fail "no READY=1 on \$NOTIFY_SOCKET (second start)"
# SIGTERM first, then the connection: the daemon sees both at once and must
# not accept it (it stops accepting), yet answer it.
queries=$(grep -c '^query' "$d/peer.log" || true)
kill -STOP "$E2E_DAEMON_PID"
kill -TERM "$E2E_DAEMON_PID"
probe_bg
# ss shows a listening socket's queued connections as its Recv-Q; the socket
# is listed under the name it was bound to (SOCKET.new, renamed since).
queued() {
    [ "$(ss -xlnH | awk -v s="$E2E_SOCKET" 'index($5, s) == 1 { print $3; exit }')" -ge 1 ] 2>/dev/null
}
e2e_wait_for 100 "the lookup to be queued" queued || e2e_hard "the lookup never reached the listen queue"
t0=$(e2e_now_ms)
kill -CONT "$E2E_DAEMON_PID"
stopped_within "lookup in the listen backlog" "$t0"
[ "$(grep -c '^query' "$d/peer.log" || true)" -eq "$queries" ] ||
    fail "lookup in the listen backlog: accepted after SIGTERM (it reached the upstream)"
notified STOPPING=1 || fail "no STOPPING=1 on \$NOTIFY_SOCKET (second start)"

# --- 4: JOURNAL_STREAM set but stderr elsewhere: plain lines ----------------------------
lines=$(wc -l <"$d/helperd.log")
start "$(stat -c %d:%i "$d/notify.log")"
e2e_stop_daemon
tail -n +"$((lines + 1))" "$d/helperd.log" >"$d/plain.log"
if grep -q '^dot-helperd: info: dot-helperd [^ ]* starting:' "$d/plain.log" &&
    ! grep -q '^<[0-9]>' "$d/plain.log"; then
    ok "JOURNAL_STREAM of another file: plain 'dot-helperd: level:' lines"
else
    fail "JOURNAL_STREAM of another file: expected plain lines"
    sed 's/^/  | /' "$d/plain.log" >&2
fi

e2e_log "SIGTERM to exit:$SIGTERM_MS ms"
e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
