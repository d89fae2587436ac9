#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# install-deps.sh: the Debian 12 packages that building nss-dot and running
# its whole test suite (unit tests, the end-to-end tests with a real Unbound,
# the interop tests against Unbound, Knot Resolver and dnsdist as shipped,
# the Debian package build and its install test) need. Run as root. When
# every package is already installed it does nothing, so re-runs are fast
# and work offline.
set -eu

# systemd: only for systemd-analyze (tests/unit-security.sh runs it with
# --offline=true, which needs no systemd as PID 1); groff-base: groff for
# tests/man-pages.sh.
packages="build-essential autoconf automake libtool pkg-config libssl-dev libconfig-dev
check unbound nsd knot-resolver dnsdist openssl iproute2 util-linux knot-dnsutils ca-certificates systemd groff-base
clang libclang-rt-14-dev valgrind tcpdump strace"
# The Debian package build and its install test (tests/package/).
packages="$packages debhelper dh-nss devscripts dpkg-dev fakeroot lintian mmdebstrap piuparts"

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || status=""
    [ "$status" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all build and test dependencies are installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing:$missing; run as root (sudo bash $0)" >&2
    exit 1
fi
if [ "${CI:-}" = true ] || [ ! -t 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
fi
echo "install-deps: installing:$missing"
# Debian's unbound, nsd, knot-resolver and dnsdist packages start their
# services on install, all on port 53: on a machine with a service manager
# the second would fail and fail the install. The tests run their own instances in private namespaces,
# so keep the packages from starting anything (policy-rc.d, honoured by
# invoke-rc.d and deb-systemd-invoke), unless the machine already has a
# policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# nss-dot install-deps.sh: no service starts during the install\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $packages
