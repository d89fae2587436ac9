#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# resolvconf.sh: the daemon follows /etc/resolv.conf while it runs (issue 9,
# class 3), as glibc (2.26 and later) does. /etc is a private writable copy
# inside the test's mount namespace, so the file can be replaced the ways
# resolvconf and NetworkManager replace it. The daemon runs as "nobody", as
# it runs in production (not root), so that a file it may not read is a
# case too. Unbound serves early.s1.test, late.s9.test, pick.{s1,s9}.test and
# dual.test / dual.test.s9.test (what ndots decides between).
#
# Cases, each compared with nss_dns where both must agree:
#   - written in place, renamed over, a symlink swapped (renamed over, and
#     with ln -sfn), the symlink's target renamed over in its own directory,
#     a chain of two symlinks (one relative) whose target is rewritten;
#     each switch must be seen within NOTICE_MS (the time is reported);
#   - options ndots in the file;
#   - a file that cannot be read (removed, a directory, mode 000, a
#     dangling symlink): the last good list stays, one warning per episode,
#     and the list follows again once the file is back;
#   - 1000 renames flipping between two lists while lookups run: every
#     lookup sees one list or the other (never a torn or empty one);
#   - search/ndots in the daemon's config win over the file.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
# A switch must be seen within NOTICE_MS; lookups poll for it up to twice that.
NOTICE_MS=${NOTICE_MS:-1000}
RC=/etc/resolv.conf
LOG=$d/helperd.log

# --- a private, writable /etc -----------------------------------------------------
# lib.sh bind-mounted single files over /etc/hosts and /etc/resolv.conf: a
# file cannot be renamed over a mount point, so /etc as a whole becomes a
# copy the test owns (the machine's /etc is not touched).
umount /etc/resolv.conf /etc/hosts || e2e_hard "cannot undo lib.sh's bind mounts"
mkdir "$d/etc"
cp -a /etc/. "$d/etc/" 2>"$d/cp.log" || { cat "$d/cp.log" >&2; e2e_hard "cannot copy /etc"; }
e2e_bind "$d/etc" /etc
cp "$d/hosts" /etc/hosts

# The daemon drops to nobody: it must reach its socket directory and the
# symlink targets under $d, but nothing else there.
id nobody >/dev/null 2>&1 || e2e_skip "no user nobody to run the daemon as"
chmod 0711 "$d"
mkdir -p "$d/run" "$d/nm" "$d/chain"
chown nobody "$d/run"
chmod 0755 "$d/nm" "$d/chain"

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_write_zones
cat >>"$d/zones/test.zone" <<'EOF'
early.s1     A 192.0.2.71
late.s9      A 192.0.2.74
pick.s1      A 192.0.2.76
pick.s9      A 192.0.2.79
dual         A 192.0.2.81
dual.test.s9 A 192.0.2.82
EOF
e2e_start_unbound main 127.0.0.1 server ca

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"

fail() {
    n_failed=$((n_failed + 1))
    failed_list="$failed_list
  $*"
    e2e_log "FAILED: $*"
}

# rc_text DOMAINS [OPTIONS]: resolv.conf text.
rc_text() {
    printf 'nameserver 127.0.0.1\nsearch %s\n' "$1"
    [ -z "${2:-}" ] || printf 'options %s\n' "$2"
}

# rename_over FILE DOMAINS [OPTIONS]: replace FILE atomically, as most tools do.
rename_over() {
    local f=$1
    shift
    rc_text "$@" >"$f.tmp"
    chmod 0644 "$f.tmp"
    mv -f "$f.tmp" "$f"
}

start() {
    e2e_write_daemon_config "$d/helperd.conf"
    sed -i 's/^user = "root";$/user = "nobody";/' "$d/helperd.conf"
    printf '%s\n' "$@" >>"$d/helperd.conf"
    e2e_start_daemon "$d/helperd.conf"
}

# dot_gives NAME ADDR: getent ahostsv4 NAME through the daemon prints ADDR.
dot_gives() {
    e2e_via dot getent ahostsv4 "$1" 2>/dev/null | grep -q "^$2 "
}

# dot_rc NAME: the exit status of getent ahostsv4 NAME through the daemon.
dot_rc() {
    local rc=0
    e2e_via dot getent ahostsv4 "$1" >/dev/null 2>&1 || rc=$?
    printf '%s' "$rc"
}

# switched WHAT NAME ADDR: since $t_change (when the file was replaced),
# poll lookups (bounded: 2 * NOTICE_MS) until NAME gives ADDR; the time it
# took is reported, and over NOTICE_MS is a failure.
notice_times=""
switched() {
    local what=$1 name=$2 addr=$3 ms i
    n_checks=$((n_checks + 1))
    for i in $(seq 1 500); do
        ms=$(($(e2e_now_ms) - t_change))
        if dot_gives "$name" "$addr"; then
            ms=$(($(e2e_now_ms) - t_change))
            notice_times="$notice_times
  $what: $ms ms"
            e2e_log "$what: seen after $ms ms ($i lookup(s))"
            [ "$ms" -le "$NOTICE_MS" ] || fail "$what: seen after $ms ms, over $NOTICE_MS ms"
            return 0
        fi
        [ "$ms" -lt $((2 * NOTICE_MS)) ] || break
    done
    fail "$what: $name did not give $addr within $((2 * NOTICE_MS)) ms"
    return 1
}

# both NAME RC [REGEX [COUNT]]: getent ahosts NAME through dot and dns agree,
# and the dot run exited RC (and printed REGEX, COUNT times).
both() {
    local name=$1
    shift
    if compare norm_ahosts getent ahosts "$name"; then
        expect "getent ahosts $name" "$@" || true
    fi
}

# log_count REGEX: lines of the daemon's log matching REGEX.
log_count() {
    grep -cE -- "$1" "$LOG" || true
}

# log_reaches REGEX N: the log has at least N lines matching REGEX.
log_reaches() {
    [ "$(log_count "$1")" -ge "$2" ]
}

A='[[:space:]]+'

# --- start: a plain file, search s1.test ------------------------------------------
rc_text s1.test >"$RC"
start
grep -q 'info: search list from /etc/resolv.conf, at start: 1 domain(s), ndots 1$' "$LOG" ||
    fail "the search list read at start is not logged at info"
both early 0 "^192\.0\.2\.71${A}STREAM early\.s1\.test$" 1
both late 2

# --- written in place (same inode) ------------------------------------------------
ino=$(stat -c %i "$RC")
t_change=$(e2e_now_ms)
rc_text s9.test >"$RC"
[ "$(stat -c %i "$RC")" = "$ino" ] || e2e_hard "the in-place write made a new file"
switched "written in place" late 192.0.2.74 || true
both late 0 "^192\.0\.2\.74${A}STREAM late\.s9\.test$" 1
both early 2
grep -qE 'info: search list from /etc/resolv.conf, changed: 1 domain\(s\), ndots 1$' "$LOG" ||
    fail "the change is not logged at info"
if grep -E 'info:.*s9\.test' "$LOG" >/dev/null; then
    fail "a search domain is logged above debug"
fi

# --- renamed over -----------------------------------------------------------------
t_change=$(e2e_now_ms)
rename_over "$RC" s1.test
switched "renamed over" early 192.0.2.71 || true
both early 0 "^192\.0\.2\.71${A}STREAM early\.s1\.test$" 1
both late 2

# --- a symlink swapped: renamed over (resolvconf), then ln -sfn -----------------------
rc_text s9.test >"$d/nm/a.conf"
rc_text s1.test >"$d/nm/b.conf"
t_change=$(e2e_now_ms)
ln -s "$d/nm/a.conf" /etc/.resolv.conf.link
mv -T /etc/.resolv.conf.link "$RC"
switched "symlink renamed over" late 192.0.2.74 || true
both late 0 "^192\.0\.2\.74${A}STREAM" 1
both early 2
t_change=$(e2e_now_ms)
ln -sfn "$d/nm/b.conf" "$RC"
switched "symlink swapped with ln -sfn" early 192.0.2.71 || true
both early 0 "^192\.0\.2\.71${A}STREAM" 1
both late 2

# --- the symlink stays, its target is renamed over (NetworkManager) -------------------
t_change=$(e2e_now_ms)
rename_over "$d/nm/b.conf" s9.test
switched "symlink target renamed over" late 192.0.2.74 || true
both late 0 "^192\.0\.2\.74${A}STREAM" 1
both early 2

# --- two links, one relative: /etc/resolv.conf -> chain/rc -> ../nm/c.conf ------------
rc_text s1.test >"$d/nm/c.conf"
ln -s ../nm/c.conf "$d/chain/rc"
t_change=$(e2e_now_ms)
ln -sfn "$d/chain/rc" "$RC"
switched "two-link chain swapped in" early 192.0.2.71 || true
t_change=$(e2e_now_ms)
rc_text s9.test >"$d/nm/c.conf"
switched "end of a two-link chain written in place" late 192.0.2.74 || true
both late 0 "^192\.0\.2\.74${A}STREAM" 1
both early 2

# --- options ndots in the file --------------------------------------------------------
t_change=$(e2e_now_ms)
rename_over "$RC" s9.test ndots:2
switched "ndots:2 renamed over" dual.test 192.0.2.82 || true
both dual.test 0 "^192\.0\.2\.82${A}STREAM dual\.test\.s9\.test$" 1
t_change=$(e2e_now_ms)
rename_over "$RC" s9.test ndots:1
switched "ndots:1 renamed over" dual.test 192.0.2.81 || true
both dual.test 0 "^192\.0\.2\.81${A}STREAM dual\.test$" 1

# --- cannot be read: the last good list stays, one warning ------------------------------
WARN='warning: cannot read /etc/resolv\.conf'
STILL='debug: still cannot read /etc/resolv\.conf'
AGAIN='info: /etc/resolv\.conf can be read again'
w0=$(log_count "$WARN")
s0=$(log_count "$STILL")
a0=$(log_count "$AGAIN")
rm "$RC"
e2e_wait_for 20 "the removal to be noticed" log_reaches "$WARN" $((w0 + 1)) ||
    fail "a removed resolv.conf is not logged"
[ "$(dot_rc late)" -eq 0 ] || fail "removed: the last good list (s9.test) was not kept"
mkdir "$RC"
e2e_wait_for 20 "a directory in its place to be noticed" log_reaches "$STILL" $((s0 + 1)) ||
    fail "a directory as resolv.conf was not looked at"
rmdir "$RC"
e2e_wait_for 20 "the directory's removal to be noticed" log_reaches "$STILL" $((s0 + 2)) ||
    fail "the directory's removal was not looked at"
rc_text s1.test >"$RC.tmp"
chmod 0000 "$RC.tmp"
mv -f "$RC.tmp" "$RC"
e2e_wait_for 20 "a mode 000 file to be noticed" log_reaches "$STILL" $((s0 + 3)) ||
    fail "a mode 000 resolv.conf was not looked at"
[ "$(dot_rc late)" -eq 0 ] || fail "mode 000: the last good list (s9.test) was not kept"
t_change=$(e2e_now_ms)
chmod 0644 "$RC"
switched "readable again (chmod)" early 192.0.2.71 || true
[ "$(log_count "$WARN")" -eq $((w0 + 1)) ] ||
    fail "one unreadable episode logged $(($(log_count "$WARN") - w0)) warnings, not 1"
[ "$(log_count "$AGAIN")" -eq $((a0 + 1)) ] || fail "the recovery is not logged once"
both early 0 "^192\.0\.2\.71${A}STREAM" 1

# A dangling symlink; then its target appears (its directory is watched).
ln -sfn "$d/nm/later.conf" "$RC"
e2e_wait_for 20 "a dangling symlink to be noticed" log_reaches "$WARN" $((w0 + 2)) ||
    fail "a dangling symlink is not logged"
[ "$(dot_rc early)" -eq 0 ] || fail "dangling: the last good list (s1.test) was not kept"
t_change=$(e2e_now_ms)
rename_over "$d/nm/later.conf" s9.test
switched "dangling symlink's target created" late 192.0.2.74 || true
[ "$(log_count "$WARN")" -eq $((w0 + 2)) ] || fail "the second episode did not log exactly once"
both late 0 "^192\.0\.2\.74${A}STREAM" 1

# --- never a torn list: 1000 renames flip the list while lookups run --------------------
rename_over "$RC" s1.test
(
    for i in $(seq 1 500); do
        rename_over "$RC" s9.test
        rename_over "$RC" s1.test
    done
) &
flipper=$!
n76=0 n79=0 nbad=0 n=0
while kill -0 "$flipper" 2>/dev/null && [ "$n" -lt 300 ]; do
    n=$((n + 1))
    out=$(e2e_via dot getent ahostsv4 pick 2>&1 | head -n 1) || true
    case $out in
        192.0.2.76\ *) n76=$((n76 + 1)) ;;
        192.0.2.79\ *) n79=$((n79 + 1)) ;;
        *)
            nbad=$((nbad + 1))
            e2e_log "flip lookup $n: '$out'"
            ;;
    esac
done
wait "$flipper" || e2e_hard "the flipping writer failed"
e2e_log "flipping: $n lookups: $n76 through s1.test, $n79 through s9.test, $nbad neither"
[ "$nbad" -eq 0 ] || fail "$nbad of $n lookups during the flips saw neither list"
[ "$n" -ge 5 ] || e2e_hard "only $n lookups ran during the flips"
n_checks=$((n_checks + 1))

# --- the config's search and ndots win ---------------------------------------------------
e2e_stop_daemon
rename_over "$RC" s9.test ndots:2
start 'search = ( "s1.test" );' 'ndots = 1;'
grep -q 'search list from /etc/resolv.conf, at start: 1 domain(s), ndots 1 (search and ndots set in the config)$' "$LOG" ||
    fail "the config's search/ndots are not logged"
[ "$(dot_rc late)" -eq 2 ] || fail "config search: late found through the file's s9.test"
dot_gives early 192.0.2.71 || fail "config search: early not found through s1.test"
dot_gives dual.test 192.0.2.81 || fail "config ndots 1: dual.test did not go as is first"
e2e_via dns getent ahostsv4 dual.test | grep -q '^192\.0\.2\.82 ' ||
    e2e_hard "nss_dns does not read ndots:2 (the case above proves nothing)"
r0=$(log_count 'debug: read /etc/resolv\.conf')
rename_over "$RC" s9.test ndots:3
e2e_wait_for 20 "the new file to be read" log_reaches 'debug: read /etc/resolv\.conf' $((r0 + 1)) ||
    fail "config search: the changed file was not read"
[ "$(dot_rc late)" -eq 2 ] || fail "config search: the changed file's list won"
dot_gives dual.test 192.0.2.81 || fail "config ndots: the changed file's ndots won"
n_checks=$((n_checks + 5))

# Only ndots in the config: the file's list follows, its ndots does not.
e2e_stop_daemon
start 'ndots = 1;'
dot_gives late 192.0.2.74 || fail "config ndots only: the file's s9.test is not used"
dot_gives dual.test 192.0.2.81 || fail "config ndots only: the file's ndots:3 won"
t_change=$(e2e_now_ms)
rename_over "$RC" s1.test ndots:3
switched "renamed over, ndots set in the config" early 192.0.2.71 || true
dot_gives dual.test 192.0.2.81 || fail "config ndots only: the file's ndots:3 won after the change"
n_checks=$((n_checks + 3))

kill -0 "$E2E_DAEMON_PID" 2>/dev/null || fail "dot-helperd died during the test"
e2e_stop_daemon

printf 'time to notice:%s\n' "$notice_times" >&2
e2e_log "$n_checks checks, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || { printf 'failed:%s\n' "$failed_list" >&2; exit 1; }
