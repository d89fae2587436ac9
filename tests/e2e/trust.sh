#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# trust.sh: DESIGN.md invariant 6, "the module uses an answer only from the
# daemon" (common/peer.h has the rule). An impostor (fake-daemon.c) answers
# every lookup with 203.0.113.66, so whether the module used it shows:
#   - as root in a directory only root may write: trusted (the control case:
#     it proves the impostor's answers would show);
#   - as nobody in a shared sticky directory (mode 1777, like /tmp): refused
#     before the name is sent (the impostor logs the connection but never a
#     request), the lookup fails;
#   - as nobody in nobody's own directory: trusted, for nobody's own
#     programs (they fool only themselves);
#   - a setuid-root copy of a test program, run by nobody with
#     NSS_DOT_SOCKET naming that socket, ignores the variable
#     (secure_getenv): the impostor sees no connection at all.
# /run is a private tmpfs here, so no real daemon's socket is in the way.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools setpriv
getent passwd nobody >/dev/null || e2e_skip "no user nobody"

t_start=$(e2e_now_ms)
d=$E2E_DIR
# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe
${CC:-cc} -std=gnu11 -O1 -o "$d/fake-daemon" "$(dirname "$0")/fake-daemon.c" 2>"$d/fake-build.log" ||
    { cat "$d/fake-build.log" >&2; e2e_hard "cannot build fake-daemon.c"; }
# nobody must be able to reach its directories and run the programs.
chmod 0711 "$d"
mount -t tmpfs -o mode=0755 tmpfs /run || e2e_hard "cannot mount a tmpfs on /run"
nogroup=$(id -gn nobody)
as_nobody=(setpriv --reuid=nobody --regid="$nogroup" --clear-groups)
n_failed=0
n_checks=0

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    n_failed=$((n_failed + 1))
}

# start_fake DIR [as nobody]: an impostor listening on DIR/socket (FAKE_OPTS:
# more fake-daemon options).
start_fake() {
    local dir=$1 pid
    shift
    rm -f "$dir/ready"
    # shellcheck disable=SC2086 # FAKE_OPTS: extra options, split on purpose
    "$@" "$d/fake-daemon" --socket "$dir/socket" --log "$dir/fake.log" --ready "$dir/ready" \
        ${FAKE_OPTS:-} >>"$d/fake.out" 2>&1 &
    pid=$!
    E2E_PIDS="$E2E_PIDS $pid"
    e2e_wait_for "$E2E_READY_DS" "the impostor in $dir" test -e "$dir/ready" ||
        e2e_hard "the impostor in $dir did not start"
    FAKE_PID=$pid
}

# count WHAT DIR: lines of the impostor's log that start with WHAT.
count() { grep -c "^$1" "$2/fake.log" 2>/dev/null || true; }

# lookup LABEL SOCKET WANT [PREFIX...]: getent hosts through dot with
# NSS_DOT_SOCKET=SOCKET (run by PREFIX, e.g. setpriv); WANT "used" means the
# impostor's address must show, "refused" that it must not and the lookup
# must fail.
lookup() {
    local label=$1 sock=$2 want=$3 rc=0
    shift 3
    n_checks=$((n_checks + 1))
    E2E_SOCKET=$sock e2e_via dot "$@" getent hosts anything.test >"$d/out" 2>&1 || rc=$?
    if [ "$want" = used ]; then
        grep -q '^203\.0\.113\.66[[:space:]]*impostor\.test$' "$d/out" ||
            { fail "$label: the answer was not used (status $rc)"; sed 's/^/  | /' "$d/out" >&2; }
    else
        if [ "$rc" -ne 2 ] || grep -q 203.0.113.66 "$d/out"; then
            fail "$label: status $rc, expected 2 and no impostor answer"
            sed 's/^/  | /' "$d/out" >&2
        fi
    fi
    e2e_log "$label: status $rc ($want)"
}

# 1. Root, in a directory only root may write: trusted.
mkdir -m 0755 "$d/rootdir"
start_fake "$d/rootdir"
lookup "root impostor in a root directory" "$d/rootdir/socket" used
e2e_stop_pid "$FAKE_PID" impostor || true

# 1b. The same daemon taking the request and then failing it: closing
# without a reply (it shed this client, or died mid-lookup), or replying
# with a body that does not decode or a header that is not one. TRY_AGAIN,
# never UNAVAIL, which "dot [!UNAVAIL=return] dns" would turn into a
# plaintext query of a name the daemon already has.
for mode in hangup garbage badmagic; do
    mkdir -m 0755 "$d/$mode"
    FAKE_OPTS=--$mode start_fake "$d/$mode"
    n_checks=$((n_checks + 1))
    E2E_SOCKET=$d/$mode/socket e2e_via dot "$d/nss-probe" name anything.test >"$d/$mode.out" 2>&1 || true
    if ! grep -q 'gethostbyname2(AF_INET): rc=.* h_errno=TRY_AGAIN' "$d/$mode.out" ||
        ! grep -q 'getaddrinfo(AF_UNSPEC): EAI_AGAIN' "$d/$mode.out" ||
        [ "$(count request "$d/$mode")" -lt 1 ]; then
        fail "a daemon that fails the request ($mode): expected TRY_AGAIN / EAI_AGAIN"
        sed 's/^/  | /' "$d/$mode.out" >&2
    else
        e2e_log "a daemon that fails the request ($mode): TRY_AGAIN"
    fi
    e2e_stop_pid "$FAKE_PID" impostor || true
done

# 2. nobody, in a sticky shared directory: refused, and never told the name.
mkdir -m 1777 "$d/shared"
start_fake "$d/shared" "${as_nobody[@]}"
lookup "nobody's impostor in a shared directory" "$d/shared/socket" refused
n_checks=$((n_checks + 1))
[ "$(count accept "$d/shared")" -ge 1 ] || fail "the module never connected to the impostor"
[ "$(count request "$d/shared")" -eq 0 ] || fail "the module sent its request to the impostor"
# The probe shows what the program sees: the module's UNAVAIL (EPERM).
E2E_SOCKET=$d/shared/socket e2e_via dot "$d/nss-probe" name anything.test >"$d/probe.out" 2>&1 || true
n_checks=$((n_checks + 1))
if grep -q 203.0.113.66 "$d/probe.out" || ! grep -q 'getaddrinfo(AF_UNSPEC): EAI_' "$d/probe.out"; then
    fail "nss-probe through the shared-directory impostor"
    sed 's/^/  | /' "$d/probe.out" >&2
fi
e2e_stop_pid "$FAKE_PID" impostor || true

# 3. nobody, in nobody's own directory: trusted for nobody's own programs.
mkdir -m 0755 "$d/mine"
chown nobody "$d/mine"
start_fake "$d/mine" "${as_nobody[@]}"
lookup "nobody's program, nobody's impostor in its own directory" "$d/mine/socket" used "${as_nobody[@]}"

# 4. A setuid-root program ignores NSS_DOT_SOCKET. The module must come
# from a system directory for a setuid program (LD_LIBRARY_PATH is ignored
# too), so it is overlaid onto the multiarch directory in this namespace.
if [ "${SANITIZERS:-no}" = yes ]; then
    e2e_log "setuid case skipped: a sanitizer module needs its runtime preloaded, which a setuid program ignores"
else
    libdir=$(dirname "$(ldd /bin/true | awk '/libc\.so/ { print $3 }')")
    mkdir "$d/modlib"
    cp "$E2E_MODULE_DIR/libnss_dot.so.2" "$d/modlib/"
    mount -t overlay overlay -o "lowerdir=$d/modlib:$libdir" "$libdir" ||
        e2e_hard "cannot overlay the module onto $libdir"
    install -m 4755 -o root "$d/nss-probe" "$d/suid-probe"
    before=$(count accept "$d/mine")
    n_checks=$((n_checks + 1))
    E2E_SOCKET=$d/mine/socket e2e_via dot "${as_nobody[@]}" "$d/suid-probe" name anything.test \
        >"$d/suid.out" 2>&1 || true
    if grep -q 203.0.113.66 "$d/suid.out" || [ "$(count accept "$d/mine")" -ne "$before" ]; then
        fail "a setuid-root program followed NSS_DOT_SOCKET"
        sed 's/^/  | /' "$d/suid.out" >&2
    fi
    # The same copy without the setuid bit does follow it (the test can fail).
    chmod 0755 "$d/suid-probe"
    n_checks=$((n_checks + 1))
    E2E_SOCKET=$d/mine/socket e2e_via dot "${as_nobody[@]}" "$d/suid-probe" name anything.test \
        >"$d/nosuid.out" 2>&1 || true
    grep -q 'canonname impostor.test' "$d/nosuid.out" ||
        { fail "the same program without setuid did not reach the impostor"; sed 's/^/  | /' "$d/nosuid.out" >&2; }
    e2e_log "setuid-root program: NSS_DOT_SOCKET ignored; without setuid: followed"
fi
e2e_stop_pid "$FAKE_PID" impostor || true

e2e_log "$n_checks checks, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ]
