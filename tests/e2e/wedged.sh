#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# wedged.sh: DESIGN.md invariant 2, "a wedged daemon costs at most query_ms
# + 1 s" (issue 9, section 5). The daemon publishes timeouts.query_ms as the
# symbolic link SOCKET.query_ms; the module reads it once per lookup and
# gives up min(query_ms + 1000, 10000) ms after it started, or after 3000 ms
# when the link is missing or malformed. Each lookup below is one call into
# the module (getent ahosts: gethostbyname4_r; nss-probe name4:
# gethostbyname2_r), timed with CLOCK_MONOTONIC by wedge.c around the program
# alone. getent hosts makes two (AF_INET6, then AF_INET): twice the bound.
#   (a) a real dot-helperd with query_ms 500 and 3000: the link holds the
#       value; SIGSTOP: each lookup fails with TRY_AGAIN/status 2 within
#       [bound - 50 ms, bound + slack]; SIGCONT: it serves again; SIGTERM:
#       the socket and the link are gone;
#   (b) a peer that accepts and never answers, with a link of 700, with a
#       link of 20000 (capped at 10 s), and with none (3 s);
#   (c) a link holding garbage, an out-of-range value, or a regular file in
#       its place: 3 s.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
# What the bound may be overshot by: process start and the poll wake-up.
slack_ms=500
[ "${SANITIZERS:-no}" != yes ] || slack_ms=1500

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe
# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -O1 -o "$d/wedge" "$(dirname "$0")/wedge.c" 2>"$d/wedge-build.log" ||
    { cat "$d/wedge-build.log" >&2; e2e_hard "cannot build wedge.c with ${CC:-cc}"; }

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
n_failed=0
figures=""

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    n_failed=$((n_failed + 1))
}

# works LABEL: getent hosts v4.test through dot gives 192.0.2.1.
works() {
    local rc=0
    e2e_via dot getent hosts v4.test >"$d/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '^192\.0\.2\.1[[:space:]]*v4\.test$' "$d/out"; then
        fail "$1: getent hosts v4.test through dot: status $rc, expected 0 and 192.0.2.1"
        sed 's/^/  | /' "$d/out" >&2
    else
        e2e_log "ok: $1"
    fi
}

# bounded LABEL BOUND_MS N CMD...: CMD through dot makes N lookups that each
# give up after BOUND_MS: it must exit 2 (getent) or print TRY_AGAIN
# (nss-probe), in N * BOUND_MS - 50 .. N * BOUND_MS + slack ms.
bounded() {
    local label=$1 bound=$2 n=$3 rc=0 ms lo hi
    shift 3
    e2e_via dot "$d/wedge" time "$@" >"$d/out" 2>"$d/err" || rc=$?
    ms=$(sed -n 's/^elapsed_ms //p' "$d/err")
    lo=$((n * bound - 50))
    hi=$((n * bound + slack_ms))
    local ok=yes
    case $1 in
        */nss-probe) grep -q 'h_errno=TRY_AGAIN$' "$d/out" || ok=no ;;
        *) [ "$rc" -eq 2 ] && [ ! -s "$d/out" ] || ok=no ;;
    esac
    [ -n "$ms" ] && [ "$ms" -ge "$lo" ] && [ "$ms" -le "$hi" ] || ok=no
    if [ "$ok" != yes ]; then
        fail "$label: $(short "$@"): status $rc in ${ms:-?} ms, expected TRY_AGAIN (getent: 2, no output) in $lo..$hi ms"
        sed 's/^/  | /' "$d/out" "$d/err" >&2
    else
        e2e_log "ok: $label: $(short "$@") gave up in $ms ms (bound $n x $bound ms)"
        figures="$figures
  $label: $(short "$@"): $ms ms (bound $n x $bound)"
    fi
}

# link_is VALUE: the daemon's link holds VALUE.
link_is() {
    local got
    got=$(readlink "$E2E_SOCKET.query_ms" 2>/dev/null) || got="(none)"
    [ "$got" = "$1" ] || fail "$E2E_SOCKET.query_ms holds $got, expected $1"
}

# --- (a) a real daemon, stopped ---------------------------------------------------

for q in 500 3000; do
    e2e_write_daemon_config "$d/helperd-$q.conf" --auth-name dns.test --query-ms "$q"
    e2e_start_daemon "$d/helperd-$q.conf"
    link_is "$q"
    works "daemon with query_ms $q"
    kill -STOP "$E2E_DAEMON_PID"
    bound=$((q + 1000))
    bounded "query_ms $q, SIGSTOP" "$bound" 1 getent ahosts anything.test
    bounded "query_ms $q, SIGSTOP" "$bound" 1 "$d/nss-probe" name4 anything.test
    [ "$q" -ne 500 ] || bounded "query_ms $q, SIGSTOP" "$bound" 2 getent hosts anything.test
    kill -CONT "$E2E_DAEMON_PID"
    works "query_ms $q, SIGCONT"
    e2e_stop_daemon
    for f in "$E2E_SOCKET" "$E2E_SOCKET.query_ms"; do
        if [ -e "$f" ] || [ -L "$f" ]; then
            fail "query_ms $q: $f is still there after SIGTERM"
        fi
    done
done

# --- (b) and (c): a peer that accepts and never answers --------------------------

mkdir -p "$d/mute"
E2E_SOCKET=$d/mute/socket
"$d/wedge" mute "$E2E_SOCKET" 120 2>"$d/mute.log" &
mute_pid=$!
E2E_PIDS="$E2E_PIDS $mute_pid"
e2e_wait_for "$E2E_READY_DS" "the mute peer's socket" test -S "$E2E_SOCKET" ||
    e2e_hard "the mute peer did not listen"

# mute_case LABEL BOUND_MS: one lookup against the mute peer, then ahosts.
mute_case() {
    bounded "mute peer, $1" "$2" 1 getent ahosts anything.test
}

mute_case "no link" 3000
ln -s 700 "$E2E_SOCKET.query_ms"
mute_case "link 700" 1700
ln -sfn 20000 "$E2E_SOCKET.query_ms"
mute_case "link 20000 (capped)" 10000
# (check_query_ms covers every malformed form; these are the end to end.)
for garbage in garbage 60001 0500; do
    ln -sfn "$garbage" "$E2E_SOCKET.query_ms"
    mute_case "link '$garbage'" 3000
done
rm -f "$E2E_SOCKET.query_ms"
echo 700 >"$E2E_SOCKET.query_ms"
mute_case "a regular file, not a link" 3000
rm -f "$E2E_SOCKET.query_ms"
e2e_stop_pid "$mute_pid" "mute peer" || true

e2e_log "measured:$figures"
e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
