#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# root-start.sh: dot-helperd started as root with user = "nobody" (issue 10,
# "a bug first"), and the rule for the sockets' directory (dot-helperd(8),
# START AS ROOT):
#   1. the directory is missing: the daemon creates it (0755, owned by
#      nobody), publishes the socket and SOCKET.query_ms, runs as nobody with
#      no capabilities (/proc/PID/status: Uid, Gid, Groups, Cap*,
#      NoNewPrivs), resolves, and on SIGTERM exits 0 and removes the socket,
#      its query_ms link and the control socket;
#   2. a root-owned directory that holds only the daemon's own leftovers
#      (an earlier start as root) is taken over;
#   3. a directory that holds other files, and a sticky world-writable one
#      (like /tmp): the daemon refuses to start, says why and what to do, and
#      changes nothing;
#   4. the systemd way (User=, RuntimeDirectory=): started as nobody in a
#      directory nobody owns, it never switches user and works the same.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
id nobody >/dev/null 2>&1 || e2e_skip "no user nobody to run the daemon as"
e2e_need_tools setpriv

t_start=$(e2e_now_ms)
d=$E2E_DIR
uid=$(id -u nobody)
gid=$(id -g nobody)
n_failed=0
fail() { e2e_log "FAIL: $*"; n_failed=$((n_failed + 1)); }
ok() { e2e_log "ok: $*"; }

# nobody must get through the test directory to its sockets, and read the CA.
chmod 0711 "$d"
e2e_make_ca ca
e2e_make_cert ca server dns.test
chmod 0644 "$d/ca.pem"
e2e_start_unbound main 127.0.0.1 server ca

# conf FILE DIR [USER]: a daemon config with both sockets in DIR.
conf() {
    e2e_write_daemon_config "$1" --socket "$2/socket"
    sed -i -e "s|^control_socket = .*|control_socket = \"$2/control\";|" \
        -e "s/^user = \"root\";$/user = \"${3:-nobody}\";/" "$1"
    chmod 0644 "$1"
}

resolves() {
    local rc=0
    e2e_via dot getent hosts v4.test >"$d/out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^192\.0\.2\.1[[:space:]]*v4\.test$' "$d/out"; then
        ok "$1: getent hosts v4.test through dot"
    else
        fail "$1: getent hosts v4.test through dot: status $rc"
        sed 's/^/  | /' "$d/out" >&2
    fi
}

# field PID NAME: the value of NAME: in /proc/PID/status, tabs as spaces.
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr '\t' ' ' | sed 's/ *$//'; }

# Whether this shell may empty a bounding set (CAP_SETPCAP, bit 8): only then
# must the daemon's be empty.
setpcap=no
[ $((0x$(field $$ CapEff) >> 8 & 1)) -eq 0 ] || setpcap=yes

# no_privileges LABEL PID: runs as nobody with no way back to root.
no_privileges() {
    local label=$1 pid=$2 f v before=$n_failed
    v=$(field "$pid" Uid)
    [ "$v" = "$uid $uid $uid $uid" ] || fail "$label: Uid: $v, expected $uid 4 times"
    v=$(field "$pid" Gid)
    [ "$v" = "$gid $gid $gid $gid" ] || fail "$label: Gid: $v, expected $gid 4 times"
    v=$(field "$pid" Groups)
    [ -z "$v" ] || fail "$label: Groups: $v, expected none"
    for f in CapInh CapPrm CapEff CapAmb; do
        v=$(field "$pid" $f)
        [ "$((0x$v))" -eq 0 ] || fail "$label: $f: $v, expected 0"
    done
    v=$(field "$pid" CapBnd)
    if [ "$setpcap" = yes ] && [ "$((0x$v))" -ne 0 ]; then
        fail "$label: CapBnd: $v, expected 0"
    fi
    [ "$n_failed" -ne "$before" ] || ok "$label: Uid/Gid $uid/$gid, CapPrm/CapEff/CapInh/CapAmb 0, CapBnd $v (setpcap $setpcap)"
}

# gone LABEL FILE...: none of the files is left.
gone() {
    local label=$1 f
    shift
    for f in "$@"; do
        if [ -e "$f" ] || [ -L "$f" ]; then
            fail "$label: $f is still there after SIGTERM"
        fi
    done
}

# stop LABEL: SIGTERM, exit status 0, nothing left in the sockets' directory.
stop() {
    local rc=0 dir=${E2E_SOCKET%/*}
    e2e_stop_pid "$E2E_DAEMON_PID" dot-helperd || rc=$?
    E2E_DAEMON_PID=""
    [ "$rc" -eq 0 ] || fail "$1: dot-helperd exited with status $rc on SIGTERM"
    gone "$1" "$E2E_SOCKET" "$E2E_SOCKET.query_ms" "$E2E_SOCKET.new" "$dir/control" "$dir/control.new"
    [ -z "$(ls -A "$dir")" ] || fail "$1: $dir still holds: $(ls -A "$dir" | tr '\n' ' ')"
    ok "$1: stopped with status $rc, the sockets are gone"
}

owner() { stat -c '%U:%G %a' "$1"; }

# --- 1. a missing directory -----------------------------------------------------
conf "$d/helperd.conf" "$d/srv"
e2e_start_daemon "$d/helperd.conf"
pid=$E2E_DAEMON_PID
v=$(owner "$d/srv")
[ "$v" = "nobody:$(id -gn nobody) 755" ] || fail "missing directory: created as $v, expected nobody 755"
[ "$(readlink "$d/srv/socket.query_ms")" = 2000 ] || fail "missing directory: socket.query_ms does not hold 2000"
[ "$(stat -c %a "$d/srv/socket")" = 666 ] || fail "missing directory: the socket is not mode 0666"
resolves "missing directory"
no_privileges "missing directory" "$pid"
[ "$(field "$pid" NoNewPrivs)" = 1 ] || fail "missing directory: NoNewPrivs is not 1"
grep -q "running as user nobody (uid $uid, gid $gid) with no capabilities" "$d/helperd.log" ||
    fail "missing directory: no 'running as user nobody' line in the log"
grep -q "starting: strict mode, ordered selection, config $d/helperd.conf, upstreams 127\.0\.0\.1:853 (dns\.test)" \
    "$d/helperd.log" || fail "missing directory: no start-up line with the upstreams"
stop "missing directory"

# --- 2. a directory left by an earlier start as root --------------------------------
mkdir -m 0755 "$d/old"
ln -s 2000 "$d/old/socket.query_ms"
: >"$d/old/socket"
# A killed daemon's answer map and its half-made mkstemp file are its own too.
: >"$d/old/socket.map"
: >"$d/old/socket.map.Xy12Z9"
conf "$d/helperd-old.conf" "$d/old"
e2e_start_daemon "$d/helperd-old.conf"
v=$(owner "$d/old")
[ "$v" = "nobody:$(id -gn nobody) 755" ] || fail "leftover directory: $v after the start, expected nobody 755"
grep -q "took over $d/old for user nobody" "$d/helperd.log" || fail "leftover directory: no 'took over' line"
resolves "leftover directory"
no_privileges "leftover directory" "$E2E_DAEMON_PID"
stop "leftover directory"

# --- 3. directories the daemon must not take -----------------------------------------
# refused LABEL DIR REASON: the daemon exits 1 at once with the message, and
# DIR keeps its owner, mode and files.
refused() {
    local label=$1 dir=$2 reason=$3 rc=0 before t0 ms
    before=$(owner "$dir"; ls -A "$dir")
    conf "$d/helperd-refused.conf" "$dir"
    t0=$(e2e_now_ms)
    timeout 10 "$E2E_DAEMON" -f -c "$d/helperd-refused.conf" >"$d/refused.log" 2>&1 || rc=$?
    ms=$(($(e2e_now_ms) - t0))
    local want="dot-helperd: error: cannot publish sockets in $dir as user nobody: $reason; give the sockets a directory owned by nobody (systemd: RuntimeDirectory=)"
    if [ "$rc" -ne 1 ] || ! grep -qxF "$want" "$d/refused.log"; then
        fail "$label: status $rc, expected 1 and: $want"
        sed 's/^/  | /' "$d/refused.log" >&2
    else
        ok "$label: refused in $ms ms: $(grep ': error: ' "$d/refused.log")"
    fi
    [ "$(owner "$dir"; ls -A "$dir")" = "$before" ] || fail "$label: $dir was changed"
}
mkdir -m 0755 "$d/shared"
: >"$d/shared/other"
refused "a directory with other files (like /run)" "$d/shared" \
    "it holds files that are not the daemon's (other)"
mkdir -m 1777 "$d/sticky"
refused "a sticky world-writable directory (like /tmp)" "$d/sticky" \
    "it is writable by others (mode 1777)"
mkdir -m 0755 "$d/theirs"
chown daemon "$d/theirs" 2>/dev/null || chown 1 "$d/theirs"
refused "another user's directory" "$d/theirs" "it belongs to uid $(stat -c %u "$d/theirs")"

# --- 4. the systemd way: started as nobody in its own directory ------------------------
# setpriv stands in for User=, CapabilityBoundingSet= and NoNewPrivileges=.
mkdir -m 0755 "$d/rundir"
chown nobody:"$(id -gn nobody)" "$d/rundir"
conf "$d/helperd-unit.conf" "$d/rundir" dot-helperd
cat >"$d/as-nobody" <<EOF
#!/bin/sh
exec setpriv --reuid=$uid --regid=$gid --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs "$E2E_DAEMON" "\$@"
EOF
chmod 0755 "$d/as-nobody"
real_daemon=$E2E_DAEMON
E2E_DAEMON=$d/as-nobody
lines_before=$(wc -l <"$d/helperd.log")
e2e_start_daemon "$d/helperd-unit.conf"
E2E_DAEMON=$real_daemon
resolves "started as nobody (User=, RuntimeDirectory=)"
no_privileges "started as nobody" "$E2E_DAEMON_PID"
if tail -n +"$((lines_before + 1))" "$d/helperd.log" | grep -q "running as user"; then
    fail "started as nobody: the daemon switched user (the user setting must not apply)"
fi
stop "started as nobody"

e2e_log "$n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
