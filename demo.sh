#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: nss-dot's main job, end to end, on a fresh Debian 12 machine.
#
#   sudo bash demo.sh
#
# Installs the build dependencies (scripts/install-deps.sh), builds nss-dot
# (out of tree, in build/), then, inside private mount and network namespaces
# so the machine's own /etc/nsswitch.conf, /etc/resolv.conf and ports are
# never touched: makes a throwaway CA and a certificate for dns.test, starts
# Unbound serving a small test zone over TLS on 127.0.0.1:853, starts
# dot-helperd (strict: CA + name + SPKI pin) and resolves a few names through
# the NSS module with getent ("hosts: files dot"), then shows dot-helperctl
# status (the daemon as an administrator sees it). Everything it started is
# stopped and its temporary files removed at the end.
#
# Environment: DEMO_BUILDDIR (default: build/ in the source tree), CC.
set -eu

top_srcdir=$(cd "$(dirname "$0")" && pwd)
if [ -f "$top_srcdir/config.status" ]; then
    # Already configured in the source tree: an out-of-tree build would be
    # refused, so use the in-tree one.
    top_builddir=$top_srcdir
else
    top_builddir=${DEMO_BUILDDIR:-$top_srcdir/build}
fi
SANITIZERS=no
CC=${CC:-cc}
export top_srcdir top_builddir SANITIZERS CC

if [ -z "${E2E_IN_NS:-}" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "demo.sh needs root (packages, namespaces, port 853): sudo bash demo.sh" >&2
        exit 1
    fi
    cd "$top_srcdir"
    bash scripts/install-deps.sh
    mkdir -p "$top_builddir"
    log=$top_builddir/demo-build.log
    echo "== building nss-dot in $top_builddir (log: $log)"
    if ! {
        { [ -x configure ] || ./bootstrap; } &&
            cd "$top_builddir" &&
            { [ -f Makefile ] || "$top_srcdir/configure"; } &&
            make -j"$(nproc)"
    } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "demo.sh: the build failed; see $log" >&2
        exit 1
    fi
    cd "$top_srcdir"
fi

# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
# From here on, inside the namespaces (e2e_init re-executes this script).
e2e_init "$@"
e2e_need_build

d=$E2E_DIR
e2e_make_ca ca
e2e_make_cert ca server dns.test
pin=$(e2e_spki_pin "$d/server.pem")
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/dot-helperd.conf" --address 127.0.0.1 --port 853 \
    --auth-name dns.test --pin "$pin"
e2e_start_daemon "$d/dot-helperd.conf"

cat <<EOF
== the setup (private namespaces; the machine's own files and ports are untouched)
   upstream:    Unbound, DNS over TLS on 127.0.0.1:853, certificate for dns.test
                from a throwaway CA, SPKI pin $pin
   daemon:      dot-helperd -f -c $d/dot-helperd.conf (strict: CA + auth_name + pin)
   module:      $top_builddir/.libs/libnss_dot.so.2
   nsswitch:    hosts: files dot        (no "dns": every answer below came over TLS)
EOF

n_bad=0
# show WANT HEADING CMD...: print a heading, run CMD through the module, show
# its exit status when it is not 0; count it when it is not WANT.
show() {
    local want=$1 rc=0
    printf '\n== %s\n$ %s\n' "$2" "${*:3}"
    shift 2
    e2e_via dot "$@" || rc=$?
    [ "$rc" -eq 0 ] || echo "(exit status $rc)"
    [ "$rc" -eq "$want" ] || n_bad=$((n_bad + 1))
}

show 0 "forward lookup, IPv4 and IPv6 (gethostbyname2)" getent hosts both.test
show 0 "every address, as getaddrinfo returns them" getent ahosts both.test
show 0 "reverse lookup, IPv4 (PTR)" getent hosts 192.0.2.1
show 0 "reverse lookup, IPv6 (PTR)" getent hosts 2001:db8::2:2
show 0 "a CNAME chain: canonical name first, then the aliases" getent hosts cname.test
show 2 "a name that does not exist (NXDOMAIN): getent exits 2" getent hosts nx.test

# What the administrator sees: the daemon's state over its control socket.
printf '\n== the daemon, as the administrator sees it\n$ dot-helperctl status\n'
"$top_builddir/tools/dot-helperctl" -c "$d/dot-helperd.conf" status || n_bad=$((n_bad + 1))

e2e_stop_daemon
echo
if [ "$n_bad" -eq 0 ]; then
    echo "== done: every lookup above went program -> libnss_dot.so.2 -> dot-helperd -> TLS -> Unbound"
else
    echo "== $n_bad lookup(s) above did not give the expected result" >&2
    exit 1
fi
