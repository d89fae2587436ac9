#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build.sh OUTDIR [DCH-VERSION]: build the Debian packages from this source
# tree the way the README says (dpkg-buildpackage -us -uc -b), in a copy
# under OUTDIR, so that nothing is written next to the source tree. The
# .debs, .buildinfo and .changes end up in OUTDIR. With DCH-VERSION, the
# copy first gets a changelog entry with that version (an upgrade to test).
# Extra dpkg-buildpackage options may come in DPKG_BUILDPACKAGE_OPTS, and
# DEB_BUILD_OPTIONS is passed through (nocheck skips the unit tests).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR [DCH-VERSION]}
version=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src="$out/nss-dot"
rm -rf "$src"
mkdir -p "$src"
# The tracked and untracked-but-not-ignored files (a work tree's changes
# count, its build products do not); a tree without git: all of it but build/.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # $f is expanded by the inner sh
    (cd "$top" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
        tar --null -T - -cf -) | tar -xf - -C "$src"
else
    tar -C "$top" --exclude=./build --exclude='./build-*' -cf - . | tar -xf - -C "$src"
fi
if [ -n "$version" ]; then
    (cd "$src" && DEBFULLNAME="nss-dot package test" DEBEMAIL="pkgtest@localhost" \
        dch --newversion "$version" --distribution unstable --force-distribution \
        "Rebuild for the upgrade test (tests/package)." >/dev/null 2>&1)
fi
cd "$src"
# shellcheck disable=SC2086
dpkg-buildpackage -us -uc -b ${DPKG_BUILDPACKAGE_OPTS:-}
ls -l "$out"/*.deb
