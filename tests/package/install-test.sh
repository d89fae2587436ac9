#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# install-test.sh: install, use, upgrade, remove and purge the Debian packages
# in a throwaway Debian 12 root, inside private mount, network, UTS and PID
# namespaces (tests/e2e/lib.sh: nothing of the machine's /etc is touched and
# only lo exists). Run by tests/package/run.sh, which builds the packages
# and the root; by hand:
#   PKG_V1=DIR PKG_V2=DIR PKG_ROOT_TAR=FILE bash tests/package/install-test.sh
# PKG_V1: the .debs to test; PKG_V2: the same rebuilt with a higher version;
# PKG_ROOT_TAR: an mmdebstrap tarball with the packages' dependencies.
#
# systemd is not PID 1 in the root: fake-systemctl stands in for systemctl,
# so the maintainer scripts' own deb-systemd-invoke calls start, restart and
# stop dot-helperd by hand, as the unit's User=/ExecStartPre=/ExecStart= say.
# The upstream is a real Unbound with a throwaway CA, outside the root in the
# same network namespace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$here/../e2e/lib.sh"
: "${PKG_V1:?}" "${PKG_V2:?}" "${PKG_ROOT_TAR:?}"
e2e_init "$@"
# shellcheck disable=SC2034 # read by lib.sh's messages
E2E_NAME=package

step() { printf '\n== package: %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }

R=$E2E_DIR/root
# Unmount the root's /proc and /run before lib.sh's cleanup removes $E2E_DIR.
pkg_cleanup() {
    local rc=$?
    set +e
    local pid
    if pid=$(cat "$R/run/fake-systemd/dot-helperd.pid" 2>/dev/null); then
        kill "$pid" 2>/dev/null
    fi
    umount -l "$R/proc" 2>/dev/null || true
    umount -l "$R/run" 2>/dev/null || true
    (exit "$rc")
    e2e_cleanup
}
trap pkg_cleanup EXIT
mkdir "$R"
tar -xf "$PKG_ROOT_TAR" -C "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mkdir -p "$R/run/systemd/system" "$R/tmp/pkgtest"
# In place of the real systemctl (which ignores every command in a chroot),
# diverted the Debian way so that it is part of the root before the install.
chroot "$R" dpkg-divert --quiet --local --rename --add /usr/bin/systemctl
install -m 0755 "$here/fake-systemctl" "$R/usr/bin/systemctl"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
printf 'nameserver 127.0.0.1\n' >"$R/etc/resolv.conf"
mkdir "$R/tmp/pkgtest/v1" "$R/tmp/pkgtest/v2"
cp "$PKG_V1"/libnss-dot_*.deb "$PKG_V1"/dot-helperd_*.deb "$R/tmp/pkgtest/v1/"
cp "$PKG_V2"/libnss-dot_*.deb "$PKG_V2"/dot-helperd_*.deb "$R/tmp/pkgtest/v2/"

# in_root CMD...: CMD in the root, as apt and dpkg would run there.
in_root() {
    chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
apt_root() { # apt-get ARGS...: logged, output kept for the checks
    local out=$E2E_DIR/apt.out
    printf '$ apt-get %s\n' "$*" >>"$E2E_DIR/apt.log"
    if ! in_root apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >"$out" 2>&1; then
        cat "$out" >&2
        e2e_fail "apt-get $* failed in the root"
    fi
    cat "$out" >>"$E2E_DIR/apt.log"
}
# The root's files, without what changes by itself (package database, logs,
# caches, the test's own /tmp, the /proc and /run mounts).
file_list() {
    (cd "$R" && find . -xdev \( -path ./proc -o -path ./run -o -path ./tmp -o -path ./dev \
        -o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/log \
        -o -path ./var/cache \) -prune -o -print | LC_ALL=C sort)
}
# debs DIR PACKAGE...: the root's paths of those packages' .debs in /tmp/pkgtest/DIR.
debs() {
    local dir=$1 p f
    shift
    for p in "$@"; do
        for f in "$R/tmp/pkgtest/$dir/${p}"_*.deb; do
            [ -e "$f" ] || e2e_hard "no $p .deb in $dir"
            printf '%s\n' "${f#"$R"}"
        done
    done
}
# apt_install DIR PACKAGE...: apt-get install those .debs in the root.
apt_install() {
    local list
    mapfile -t list < <(debs "$@")
    apt_root install --no-install-recommends "${list[@]}"
}
daemon_pid() { cat "$R/run/fake-systemd/dot-helperd.pid" 2>/dev/null || true; }
daemon_running() { in_root systemctl is-active dot-helperd.service; }
hosts_line() { grep '^hosts:' "$R/etc/nsswitch.conf"; }
DOT='dot [!SUCCESS=return]'

# --- the upstream: Unbound over TLS with a throwaway CA -------------------------
step "upstream: Unbound on 127.0.0.1:853 with a certificate for dns.test"
e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server
cp "$E2E_DIR/ca.pem" "$R/tmp/pkgtest/ca.pem"
chmod 0644 "$R/tmp/pkgtest/ca.pem"

t0=$(date +%s)
before_files=$E2E_DIR/files.before
file_list >"$before_files"
cp "$R/etc/nsswitch.conf" "$E2E_DIR/nsswitch.orig"

# --- install ------------------------------------------------------------------
step "install: apt-get install ./libnss-dot_*.deb ./dot-helperd_*.deb"
apt_install v1 libnss-dot dot-helperd
unit=$R/lib/systemd/system/dot-helperd.service
grep -q '^ExecStart=/usr/sbin/dot-helperd' "$unit" || e2e_fail "the installed unit does not start /usr/sbin/dot-helperd"
sed "s/^\(hosts:.*[[:space:]]\)dns$/\1$DOT dns/" "$E2E_DIR/nsswitch.orig" >"$E2E_DIR/nsswitch.want"
cmp "$E2E_DIR/nsswitch.want" "$R/etc/nsswitch.conf" ||
    { diff -u "$E2E_DIR/nsswitch.want" "$R/etc/nsswitch.conf" >&2 || true; e2e_fail "nsswitch.conf after install"; }
ok "nsswitch.conf is the original with '$DOT' before dns, byte for byte: $(hosts_line)"
[ ! -e "$R/etc/nsswitch.conf.nss.libnss-dot-will-install" ] || e2e_fail "dh-nss flag file left behind"
in_root getent passwd dot-helperd >/dev/null || e2e_fail "no dot-helperd user"
ok "system user: $(in_root getent passwd dot-helperd)"
[ -L "$R/etc/systemd/system/multi-user.target.wants/dot-helperd.service" ] || e2e_fail "unit not enabled"
ok "unit enabled (multi-user.target.wants symlink)"
daemon_running || e2e_fail "dot-helperd was not started by the postinst: $(cat "$R/tmp/fake-systemctl.log")"
[ "$(stat -c %u "/proc/$(daemon_pid)")" = "$(in_root id -u dot-helperd)" ] || e2e_fail "dot-helperd does not run as dot-helperd"
ok "postinst started dot-helperd (pid $(daemon_pid)) as user dot-helperd"
! grep -q 'dot-helperd is not running' "$E2E_DIR/apt.out" || e2e_fail "libnss-dot warned although the daemon runs"
[ -f "$R/lib/x86_64-linux-gnu/libnss_dot.so.2" ] || [ -n "$(find "$R/lib" -name libnss_dot.so.2)" ] ||
    e2e_fail "no libnss_dot.so.2 in /lib"
if [ -e "$here/../../tools/dot-helperctl.c" ]; then
    [ -x "$R/usr/sbin/dot-helperctl" ] || e2e_fail "tools/dot-helperctl.c exists but the package has no /usr/sbin/dot-helperctl"
    [ -e "$R/usr/share/man/man8/dot-helperctl.8.gz" ] || e2e_fail "no dot-helperctl(8) in the package"
    ok "dot-helperctl and its man page are installed"
fi

# --- configure and resolve ------------------------------------------------------
step "configure the test upstream, restart, resolve with getent in the root"
# As an admin would: the test's CA, and the test's upstream first in the list.
sed -i -e 's|^#ca_file = .*|ca_file = "/tmp/pkgtest/ca.pem";|' \
    -e 's|^upstreams = ($|&\n  { address = "127.0.0.1"; auth_name = "dns.test"; },|' "$R/etc/dot-helperd.conf"
if ! grep -q '^ca_file = "/tmp/pkgtest/ca.pem";' "$R/etc/dot-helperd.conf" ||
    ! grep -q 'address = "127.0.0.1"; auth_name = "dns.test"' "$R/etc/dot-helperd.conf"; then
    e2e_hard "the sample config changed shape; adjust the test's edit"
fi
in_root dot-helperd --check-config || e2e_fail "the edited config is rejected"
cp "$R/etc/dot-helperd.conf" "$E2E_DIR/conf.edited"
in_root systemctl restart dot-helperd.service || e2e_fail "restart failed: $(tail -n 5 "$R/tmp/dot-helperd.log")"
out=$(in_root timeout 10 getent hosts v4.test) || e2e_fail "getent hosts v4.test failed in the root"
[ "$out" = "192.0.2.1       v4.test" ] || e2e_fail "getent hosts v4.test: '$out'"
ok "getent hosts v4.test: $out"
out=$(in_root timeout 10 getent ahostsv6 both.test | head -n 1) || e2e_fail "getent ahostsv6 both.test failed"
case $out in 2001:db8::2:2*) ;; *) e2e_fail "getent ahostsv6 both.test: '$out'" ;; esac
ok "getent ahostsv6 both.test: $out"
out=$(in_root timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups getent hosts 192.0.2.1) ||
    e2e_fail "reverse lookup as nobody failed"
ok "getent hosts 192.0.2.1 as nobody: $out"
grep -q 'v4.test' "$E2E_DIR/unbound-main.log" || e2e_fail "Unbound never saw the query"
rc=0
in_root timeout 10 getent hosts nx.test >/dev/null || rc=$?
[ "$rc" = 2 ] || e2e_fail "getent hosts nx.test: status $rc, want 2"
ok "getent hosts nx.test: status 2 (not found)"

step "fail closed: with the daemon stopped, no lookup falls through to plaintext dns"
in_root systemctl stop dot-helperd.service
rc=0
in_root timeout 10 getent hosts multi.test >/dev/null || rc=$?
[ "$rc" = 2 ] || e2e_fail "getent hosts multi.test with the daemon stopped: status $rc, want 2"
! grep -q 'multi.test' "$E2E_DIR/unbound-main.log" || e2e_fail "multi.test reached Unbound with the daemon stopped"
ok "getent hosts multi.test fails (status 2) and Unbound (plain on :53 too) saw no query"
in_root systemctl start dot-helperd.service

# --- upgrade --------------------------------------------------------------------
v2=$(dpkg-deb -f "$R"/tmp/pkgtest/v2/dot-helperd_*.deb Version)
step "upgrade to $v2 keeps the edited conffile and restarts the daemon"
pid1=$(daemon_pid)
: >"$R/tmp/fake-systemctl.log"
apt_install v2 libnss-dot dot-helperd
# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
[ "$(in_root dpkg-query -W -f '${Version}' dot-helperd)" = "$v2" ] || e2e_fail "dot-helperd not at $v2"
cmp "$E2E_DIR/conf.edited" "$R/etc/dot-helperd.conf" || e2e_fail "the upgrade changed the edited /etc/dot-helperd.conf"
[ ! -e "$R/etc/dot-helperd.conf.dpkg-new" ] && [ ! -e "$R/etc/dot-helperd.conf.dpkg-dist" ] ||
    e2e_fail "the upgrade left a .dpkg-new/.dpkg-dist"
ok "/etc/dot-helperd.conf kept byte for byte, no .dpkg-dist"
cmp "$E2E_DIR/nsswitch.want" "$R/etc/nsswitch.conf" || e2e_fail "the upgrade changed nsswitch.conf"
ok "nsswitch.conf unchanged by the upgrade"
grep -q '^systemctl .*restart dot-helperd.service' "$R/tmp/fake-systemctl.log" || e2e_fail "the upgrade did not restart dot-helperd"
daemon_running && [ "$(daemon_pid)" != "$pid1" ] || e2e_fail "dot-helperd not running a new process after the upgrade"
out=$(in_root timeout 10 getent hosts v4.test) || e2e_fail "getent after the upgrade"
ok "restarted (pid $pid1 -> $(daemon_pid)), getent hosts v4.test: $out"

step "upgrade with a config the new daemon rejects: the running daemon is kept"
printf 'no_such_setting = 1;\n' >>"$R/etc/dot-helperd.conf"
pid2=$(daemon_pid)
: >"$R/tmp/fake-systemctl.log"
mapfile -t list < <(debs v2 dot-helperd)
apt_root install --reinstall --no-install-recommends "${list[@]}"
grep -q 'was NOT restarted' "$E2E_DIR/apt.out" || e2e_fail "the postinst did not say it kept the old daemon"
grep -q 'no_such_setting' "$E2E_DIR/apt.out" || e2e_fail "the postinst did not print the config error"
! grep -q 'restart' "$R/tmp/fake-systemctl.log" || e2e_fail "dot-helperd was restarted with a bad config"
[ "$(daemon_pid)" = "$pid2" ] && daemon_running || e2e_fail "the running dot-helperd did not survive"
in_root timeout 10 getent hosts v4.test >/dev/null || e2e_fail "no resolution after the refused restart"
ok "postinst printed: $(grep -m1 'no_such_setting' "$E2E_DIR/apt.out"); pid $pid2 still resolves"
cp "$E2E_DIR/conf.edited" "$R/etc/dot-helperd.conf"

# --- remove -----------------------------------------------------------------------
step "remove: nsswitch.conf back to the original, daemon stopped"
pid=$(daemon_pid)
apt_root remove libnss-dot dot-helperd
cmp "$E2E_DIR/nsswitch.orig" "$R/etc/nsswitch.conf" ||
    { diff -u "$E2E_DIR/nsswitch.orig" "$R/etc/nsswitch.conf" >&2 || true; e2e_fail "nsswitch.conf after remove"; }
ok "nsswitch.conf identical to the original: $(hosts_line)"
! [ -d "/proc/$pid" ] || [ "$(e2e_state "$pid")" = Z ] || e2e_fail "dot-helperd (pid $pid) still runs after remove"
[ ! -e "$R/run/dot-helperd/socket" ] || e2e_fail "socket left after remove"
ok "dot-helperd (pid $pid) stopped by the prerm; conffile kept: $(in_root dpkg-query -W -f '${db:Status-Abbrev}' dot-helperd)"
rc=0
in_root timeout 10 getent hosts v4.test >/dev/null || rc=$?
ok "getent hosts v4.test through plain dns again: status $rc"

# --- purge ------------------------------------------------------------------------
step "purge: no file of the packages left"
apt_root purge libnss-dot dot-helperd
after_files=$E2E_DIR/files.after
file_list >"$after_files"
# Left on purge on purpose (debian/dot-helperd.README.Debian): the system
# user, i.e. lines in passwd/group/shadow/gshadow and the backups of those
# files written when it was added.
allowed='^\./etc/(passwd|group|shadow|gshadow)-$'
extra=$(comm -13 "$before_files" "$after_files" | grep -Ev "$allowed" || true)
missing=$(comm -23 "$before_files" "$after_files" || true)
[ -z "$extra$missing" ] ||
    e2e_fail "the root's files differ after purge; new: [$extra] gone: [$missing]"
leftover=$(comm -13 "$before_files" "$after_files" | tr '\n' ' ')
ok "file list identical to before the install${leftover:+ (plus the allowed $leftover)}"
cmp "$E2E_DIR/nsswitch.orig" "$R/etc/nsswitch.conf" || e2e_fail "nsswitch.conf after purge"
ok "nsswitch.conf identical to the original"

# --- other hosts lines --------------------------------------------------------
# nsswitch_case ORIGINAL-HOSTS-LINE WANTED-HOSTS-LINE: install, compare, purge, compare.
nsswitch_case() {
    local orig=$1 want=$2
    {
        printf '# a comment line: hosts: files dns\n'
        printf 'passwd:   files systemd\n'
        printf '%s\n' "$orig"
        printf 'networks: files # dns here is a comment\n'
    } >"$R/etc/nsswitch.conf"
    cp "$R/etc/nsswitch.conf" "$E2E_DIR/case.orig"
    sed "s/^hosts:.*/$(printf '%s' "$want" | sed 's/[][\\/&]/\\&/g')/" "$E2E_DIR/case.orig" >"$E2E_DIR/case.want"
    apt_install v2 libnss-dot dot-helperd
    cmp "$E2E_DIR/case.want" "$R/etc/nsswitch.conf" ||
        { diff -u "$E2E_DIR/case.want" "$R/etc/nsswitch.conf" >&2 || true; e2e_fail "install with '$orig'"; }
    apt_root purge libnss-dot dot-helperd
    cmp "$E2E_DIR/case.orig" "$R/etc/nsswitch.conf" ||
        { diff -u "$E2E_DIR/case.orig" "$R/etc/nsswitch.conf" >&2 || true; e2e_fail "purge with '$orig'"; }
    ok "'$orig' -> '$want' -> back"
}
step "other hosts lines: install and purge, byte for byte"
nsswitch_case 'hosts:	files mdns4_minimal [NOTFOUND=return] resolve [!UNAVAIL=return] myhostname dns # local' \
    "hosts:	files mdns4_minimal [NOTFOUND=return] $DOT resolve [!UNAVAIL=return] myhostname dns # local"
nsswitch_case 'hosts: files myhostname' "hosts: files myhostname $DOT"
nsswitch_case 'hosts: files dns [NOTFOUND=return] mdns' "hosts: files $DOT dns [NOTFOUND=return] mdns"

cp "$E2E_DIR/nsswitch.orig" "$R/etc/nsswitch.conf"
step "install where services may not start (policy-rc.d): the postinst says so loudly"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
apt_install v2 libnss-dot dot-helperd
rm "$R/usr/sbin/policy-rc.d"
! daemon_running || e2e_fail "dot-helperd started despite policy-rc.d"
grep -q 'dot-helperd is not running' "$E2E_DIR/apt.out" || e2e_fail "no warning with the daemon down"
ok "warned: $(grep -m1 'dot-helperd is not running' "$E2E_DIR/apt.out")"
apt_root purge libnss-dot dot-helperd
cmp "$E2E_DIR/nsswitch.orig" "$R/etc/nsswitch.conf" || e2e_fail "nsswitch.conf after the last purge"
in_root getent passwd dot-helperd >/dev/null || e2e_hard "the dot-helperd user went away?"
ok "after purge only the dot-helperd user is left (documented in README.Debian)"

printf '\n== package: all install-test checks passed in %s s\n' "$(($(date +%s) - t0))"
