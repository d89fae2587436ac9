#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# map.sh: the shared answer map (issue 14) end to end, through the real
# module and daemon:
#   - the daemon publishes its map next to the socket (mode 0444, its owner);
#   - a repeated lookup, positive or negative, forward or reverse, is
#     answered from the map: the daemon sees no request for it, and the
#     answer is the one the socket gave;
#   - a hit costs the module no syscall at all (strace, when installed);
#   - expiry (TTL 2), a flush (SIGUSR2), a reload (SIGHUP) and a
#     resolv.conf change each send the next lookup back to the daemon;
#   - a crashed daemon's map answers what it holds only while its heartbeat
#     is recent (a time namespace 30 s ahead sees it dead), and a stopped
#     daemon's map is gone at once;
#   - a copy of the map owned by someone the socket rule does not trust (in
#     a shared directory) is ignored; owned by root, it is used.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
LOG=$d/helperd.log
n_failed=0
fail() {
    n_failed=$((n_failed + 1))
    e2e_log "FAILED: $*"
}

# A private, writable /etc (as resolvconf.sh): the test rewrites resolv.conf.
umount /etc/resolv.conf /etc/hosts || e2e_hard "cannot undo lib.sh's bind mounts"
mkdir "$d/etc"
cp -a /etc/. "$d/etc/" 2>"$d/cp.log" || { cat "$d/cp.log" >&2; e2e_hard "cannot copy /etc"; }
e2e_bind "$d/etc" /etc
# Never the machine's /etc: only the copy, in this test's mount namespace.
[ -n "${E2E_IN_NS:-}" ] && [ "$(stat -c %d:%i /etc)" = "$(stat -c %d:%i "$d/etc")" ] ||
    e2e_hard "/etc is not the test's private copy"
cp "$d/hosts" /etc/hosts
printf 'nameserver 127.0.0.1\nsearch s1.test\n' >/etc/resolv.conf

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_write_zones
cat >>"$d/zones/test.zone" <<'EOF'
short    2 A   192.0.2.30
early.s1   A   192.0.2.71
EOF
e2e_start_unbound main 127.0.0.1 server ca

# asked NAME: how many requests for NAME (family 4) reached the daemon.
asked() { grep -c "debug: lookup $1 (family 4)\$" "$LOG" || true; }
# lookup NAME: getent ahostsv4 NAME through the module, output in $d/out.
lookup() { e2e_via dot getent ahostsv4 "$1" >"$d/out" 2>&1; }
# want_asked WHAT NAME N
want_asked() {
    local got
    got=$(asked "$2")
    [ "$got" -eq "$3" ] || fail "$1: the daemon saw $got requests for $2, expected $3"
}
# log_grows REGEX N: the daemon's log has more than N lines matching REGEX.
log_grows() { [ "$(grep -c "$1" "$LOG" || true)" -gt "$2" ]; }

e2e_write_daemon_config "$d/helperd.conf"
e2e_start_daemon "$d/helperd.conf"
MAP=$E2E_SOCKET.map
[ -f "$MAP" ] || fail "no map at $MAP"
[ "$(stat -c %a:%u "$MAP")" = "444:0" ] || fail "the map is $(stat -c %a:%u "$MAP"), not 444:0"

# --- hits come from the map -------------------------------------------------------
lookup v4.test || fail "v4.test does not resolve"
cp "$d/out" "$d/first"
for _ in 1 2 3 4 5; do
    lookup v4.test || fail "v4.test does not resolve from the map"
    cmp -s "$d/out" "$d/first" || fail "the map's answer differs: $(cat "$d/out")"
done
want_asked "five lookups after the first" v4.test 1
if grep -a -q 'v4\.test' "$MAP"; then fail "the map names v4.test in clear"; fi
for _ in 1 2 3; do ! lookup nx.test || fail "nx.test resolves"; done
want_asked "NXDOMAIN, three lookups" nx.test 1
l0=$(e2e_stats lookups)
for _ in 1 2 3; do
    e2e_via dot getent hosts 192.0.2.1 >"$d/rev" 2>&1 || fail "no PTR for 192.0.2.1"
done
grep -q 'v4\.test' "$d/rev" || fail "reverse: wrong answer: $(cat "$d/rev")"
l1=$(e2e_stats lookups)
[ $((l1 - l0)) -eq 1 ] || fail "reverse: the daemon saw $((l1 - l0)) lookups for three, expected 1"
published=$(e2e_stats map_published)
[ "${published:-0}" -ge 3 ] || fail "map_published is '$published', expected at least 3"
# Why lookups still came: v4.test and nx.test missed the map once each.
missed=$(e2e_stats asked_map_miss)
[ "${missed:-0}" -ge 2 ] || fail "asked_map_miss is '$missed', expected at least 2"

# --- a hit makes no syscall -----------------------------------------------------------
# nss-probe calls the module's gethostbyname4_r once (it opens the map), then
# three times between two getppid() markers: nothing may come between them.
if command -v strace >/dev/null; then
    e2e_build_probe
    e2e_via dot strace -f -qq -o "$d/strace.out" "$d/nss-probe" hits v4.test >"$d/hits" 2>&1 ||
        fail "nss-probe hits: $(cat "$d/hits")"
    grep -qx 'hits: SUCCESS SUCCESS SUCCESS SUCCESS' "$d/hits" || fail "hits: $(cat "$d/hits")"
    between=$(awk '/getppid\(/ { n++; next } n == 1' "$d/strace.out")
    [ "$(grep -c 'getppid(' "$d/strace.out")" -eq 2 ] || fail "strace shows no markers"
    [ -z "$between" ] || fail "three map hits made syscalls: $(printf '%s' "$between" | head -5)"
else
    e2e_log "no strace: a hit's syscalls are not counted (scripts/install-deps.sh installs it)"
fi

# --- expiry -------------------------------------------------------------------------
t0=$(e2e_now_ms)
lookup short.test || fail "short.test does not resolve"
again() {
    lookup short.test || return 1
    [ "$(asked short.test)" -ge 2 ]
}
e2e_wait_for 60 "short.test to expire" again || fail "short.test never expired in the map"
dt=$(($(e2e_now_ms) - t0))
[ "$dt" -ge 1500 ] || fail "short.test reached the daemon again after $dt ms (TTL 2 s)"

# --- flush, reload, resolv.conf ------------------------------------------------------
n=$(asked v4.test)
f0=$(grep -c 'info: cache flushed' "$LOG" || true)
kill -USR2 "$E2E_DAEMON_PID"
e2e_wait_for 50 "the flush" log_grows 'info: cache flushed' "$f0" || fail "no flush"
lookup v4.test || fail "v4.test does not resolve after a flush"
want_asked "after a flush" v4.test $((n + 1))
lookup v4.test || fail "v4.test does not resolve"
want_asked "cached again after the flush" v4.test $((n + 1))

r0=$(grep -c 'info: reloaded' "$LOG" || true)
kill -HUP "$E2E_DAEMON_PID"
e2e_wait_for 50 "the reload" log_grows 'info: reloaded' "$r0" || fail "the daemon did not reload"
lookup v4.test || fail "v4.test does not resolve after a reload"
want_asked "after a reload" v4.test $((n + 2))

lookup early || fail "early (search s1.test) does not resolve"
lookup early || fail "early does not resolve from the map"
want_asked "early, twice" early 1
c0=$(grep -c 'search list from /etc/resolv.conf, changed' "$LOG" || true)
printf 'nameserver 127.0.0.1\nsearch s9.test\n' >/etc/resolv.conf
e2e_wait_for 50 "the resolv.conf change" log_grows 'search list from /etc/resolv.conf, changed' "$c0" ||
    fail "the daemon did not see resolv.conf change"
! lookup early || fail "early still resolves (from the map?) under search s9.test"
want_asked "early after the search list changed" early 2

# --- a crashed daemon, then a stopped one ---------------------------------------------
lookup v4.test || fail "v4.test does not resolve"
kill -KILL "$E2E_DAEMON_PID"
wait "$E2E_DAEMON_PID" 2>/dev/null || true
E2E_DAEMON_PID=""
lookup v4.test || fail "the crashed daemon's map does not answer a name it holds"
! lookup v6.test || fail "a name the map does not hold resolves with the daemon gone"
# shellcheck disable=SC2016
if unshare --time --boottime 30 --fork true 2>/dev/null; then
    # 30 s later on the map's clock: past the daemon's last heartbeat.
    if unshare -m --time --boottime 30 --fork -- \
        sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
        sh "$E2E_DIR/nsswitch-dot.conf" timeout -k 2 "$E2E_CMD_TIMEOUT" \
        env NSS_DOT_SOCKET="$E2E_SOCKET" \
        LD_LIBRARY_PATH="$E2E_MODULE_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        getent ahostsv4 v4.test >"$d/out" 2>&1; then
        fail "a silent daemon's map still answers 30 s later"
    fi
else
    e2e_log "no time namespaces here: the heartbeat's end is left to check_map"
fi
rm -f "$E2E_SOCKET" "$MAP"

e2e_start_daemon "$d/helperd.conf"
lookup v4.test || fail "v4.test does not resolve after a restart"
lookup v4.test || fail "v4.test does not resolve"
e2e_stop_daemon
[ ! -e "$MAP" ] || fail "a stopped daemon left its map behind"
! lookup v4.test || fail "v4.test resolves with the daemon stopped"

# --- a /run that fills up ----------------------------------------------------------------
# The map's pages are allocated when it is made: a full tmpfs must not turn a
# read of a never-written slot into SIGBUS in the program doing the lookup.
# The default 4096 entries make a map of 2 MiB + 256 bytes.
mkdir "$d/tiny"
mount -t tmpfs -o size=2304k,mode=0755 tmpfs "$d/tiny" || e2e_hard "cannot mount a small tmpfs"
e2e_write_daemon_config "$d/tiny.conf" --socket "$d/tiny/socket"
e2e_start_daemon "$d/tiny.conf"
[ -f "$d/tiny/socket.map" ] || fail "no map on a tmpfs with room for it"
dd if=/dev/zero of="$d/tiny/fill" bs=4k 2>/dev/null || true
for name in v4.test v6.test nx.test mail.test www.test a.test b.test c.test; do
    rc=0
    lookup "$name" || rc=$?
    [ "$rc" -lt 128 ] || fail "getent $name died of signal $((rc - 128)) with the map's tmpfs full"
done
e2e_stop_daemon
rm -f "$d/tiny/fill"
# No room for the map at all: no map, and the socket answers.
mount -o remount,size=1m "$d/tiny" || e2e_hard "cannot shrink the small tmpfs"
e2e_start_daemon "$d/tiny.conf"
[ ! -e "$d/tiny/socket.map" ] || fail "a map that does not fit its tmpfs was made anyway"
lookup v4.test || fail "v4.test does not resolve without a map"
e2e_stop_daemon
umount "$d/tiny"

# --- a map the socket rule does not trust ------------------------------------------------
if id nobody >/dev/null 2>&1; then
    mkdir -m 1777 "$d/shared"
    e2e_write_daemon_config "$d/shared.conf" --socket "$d/shared/socket"
    e2e_start_daemon "$d/shared.conf"
    lookup v4.test || fail "v4.test does not resolve (shared directory)"
    n=$(asked v4.test)
    cp "$E2E_SOCKET.map" "$d/shared/copy"
    chown nobody "$d/shared/copy"
    mv -f "$d/shared/copy" "$E2E_SOCKET.map"
    lookup v4.test || fail "v4.test does not resolve with a hostile map"
    want_asked "a map owned by nobody in a shared directory is ignored" v4.test $((n + 1))
    chown root "$E2E_SOCKET.map"
    lookup v4.test || fail "v4.test does not resolve"
    want_asked "the same file owned by root is used" v4.test $((n + 1))
    e2e_stop_daemon
else
    e2e_log "no user nobody: the hostile map is left to the unit tests"
fi

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ]
