#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh: the Debian package test, as CI runs it (tests/run-all.sh calls it
# after the two builds). As root on Debian 12, with the packages of
# scripts/install-deps.sh and access to the Debian archive:
#   1. build the packages with dpkg-buildpackage -us -uc -b (unit tests run,
#      end-to-end tests skip) and again, without tests, as a higher version
#      (the upgrade target);
#   2. lintian --pedantic on the .changes: any error or warning fails;
#   3. a throwaway Debian 12 root made by mmdebstrap (minbase plus the
#      packages' dependencies) from the archive this machine uses;
#   4. install-test.sh in that root (install, resolve, upgrade, remove, purge);
#   5. piuparts on the same root, unless NSS_DOT_PIUPARTS=no.
# NSS_DOT_PKG_ROOT_TAR=FILE keeps the root tarball there and reuses it when it
# exists (within one CI run or between runs by hand; never commit it).
# Exit: 0 pass, 1 fail, 77 skip (not root, a tool missing).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/package
t0=$(date +%s)
say() { printf '== package: %s (%ss)\n' "$*" "$(($(date +%s) - t0))"; }

if [ "$(id -u)" -ne 0 ]; then
    echo "package: SKIP: needs root (chroot, namespaces)"
    exit 77
fi
for t in dpkg-buildpackage dh dh_installnss dch lintian mmdebstrap unshare unbound kdig openssl; do
    command -v "$t" >/dev/null 2>&1 || { echo "package: SKIP: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nss-dot-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# build DIR [VERSION]: build.sh with its log in DIR.log, shown on failure.
build() {
    if ! bash "$here/build.sh" "$@" >"$1.log" 2>&1; then
        tail -n 60 "$1.log"
        echo "package: FAIL: dpkg-buildpackage (log above)"
        exit 1
    fi
}
version=$(cd "$top" && dpkg-parsechangelog -S Version)
say "dpkg-buildpackage -us -uc -b ($version)"
build "$work/v1"
sed -n 's/^# \(TOTAL\|PASS\|SKIP\|FAIL\|ERROR\): */  make check \1: /p' "$work/v1.log"
grep -m1 'end-to-end tests skipped' "$work/v1.log" | sed 's/^/  /'
for deb in "$work"/v1/*.deb; do
    printf '  %-48s %7s bytes\n' "${deb##*/}" "$(stat -c %s "$deb")"
done
say "dpkg-buildpackage $version+pkgtest1 (upgrade target, DEB_BUILD_OPTIONS=nocheck)"
DEB_BUILD_OPTIONS=nocheck build "$work/v2" "$version+pkgtest1"

say "lintian --pedantic"
lintian_rc=0
lintian --pedantic --fail-on error,warning "$work"/v1/*.changes >"$work/lintian.out" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.out" | sed 's/^/  /'
if [ "$lintian_rc" -ne 0 ]; then
    echo "package: FAIL: lintian reports errors or warnings (status $lintian_rc)"
    exit 1
fi
echo "  lintian: no error, no warning"

root_tar=${NSS_DOT_PKG_ROOT_TAR:-$work/root.tar}
if [ -s "$root_tar" ]; then
    say "reusing the root $root_tar"
else
    # The first alternative of every dependency that is not ours.
    deps=$(for deb in "$work"/v1/libnss-dot_*.deb "$work"/v1/dot-helperd_*.deb; do
        dpkg-deb -f "$deb" Depends | tr ',' '\n'
    done | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g; s/:any$//' |
        grep -v -x -e '' -e libnss-dot -e dot-helperd | sort -u | paste -sd, -)
    # The machine's own Debian sources (third-party ones left out).
    mirror=()
    if [ -e /etc/apt/sources.list.d/debian.sources ]; then
        mirror=(/etc/apt/sources.list.d/debian.sources)
    elif [ -e /etc/apt/sources.list ]; then
        mapfile -t mirror < <(grep -E '^deb [^#]*/debian(-security)?/? ' /etc/apt/sources.list || true)
    fi
    say "mmdebstrap --variant=minbase --include=$deps bookworm ${mirror[*]:-(default mirror)}"
    if ! mmdebstrap --quiet --format=tar --variant=minbase --include="$deps" bookworm "$root_tar.tmp" \
        "${mirror[@]}" >"$work/mmdebstrap.log" 2>&1; then
        tail -n 30 "$work/mmdebstrap.log"
        echo "package: FAIL: mmdebstrap"
        exit 1
    fi
    mv "$root_tar.tmp" "$root_tar"
fi
printf '  root: %s, %s MB\n' "$root_tar" "$(($(stat -c %s "$root_tar") / 1048576))"

say "install test (tests/package/install-test.sh)"
rc=0
PKG_V1=$work/v1 PKG_V2=$work/v2 PKG_ROOT_TAR=$root_tar bash "$here/install-test.sh" || rc=$?
[ "$rc" -eq 0 ] || { echo "package: FAIL: install test (status $rc)"; exit 1; }

if [ "${NSS_DOT_PIUPARTS:-yes}" != no ] && command -v piuparts >/dev/null 2>&1; then
    say "piuparts (install, purge, leftovers) on the same root"
    piuparts_mirror=""
    if [ -e /etc/apt/sources.list.d/debian.sources ]; then
        piuparts_mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources | head -n 1)
    elif [ -e /etc/apt/sources.list ]; then
        piuparts_mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\)\/\? .*/\2/p' /etc/apt/sources.list | head -n 1)
    fi
    piuparts_mirror=${piuparts_mirror:-http://deb.debian.org/debian}
    # piuparts takes a gzipped tarball or a directory: the directory is
    # quicker than compressing 200 MB.
    mkdir "$work/piuparts-base"
    tar -xf "$root_tar" -C "$work/piuparts-base"
    if ! piuparts --existing-chroot="$work/piuparts-base" --distribution=bookworm \
        --mirror="$piuparts_mirror main" --no-upgrade-test \
        "$work"/v1/libnss-dot_*.deb "$work"/v1/dot-helperd_*.deb >"$work/piuparts.log" 2>&1; then
        grep -E '^[0-9:.]+ (ERROR|FAIL)|^  ' "$work/piuparts.log" | tail -n 40
        echo "package: FAIL: piuparts"
        exit 1
    fi
    grep -E 'PASS|piuparts run ends' "$work/piuparts.log" | tail -n 2 | sed 's/^/  /'
fi
say "all package tests passed"
