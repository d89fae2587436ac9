#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# man-pages.sh: every manual page in man/ is installed by `make install`, and
# every installed page renders without a single warning: groff -ww (all
# warnings) for a terminal, and man --warnings when man-db is there. The
# pages are taken from a `make install-man` into a temporary DESTDIR and
# rendered from its mandir, so that an alias page (".so man8/libnss_dot.8")
# is checked through the page it points to, as man finds it once installed.
# New pages are picked up by the glob; one left out of dist_man_MANS fails.
# Skips (77) without groff (Debian: groff-base, from scripts/install-deps.sh).
set -eu
[ -n "${top_srcdir:-}" ] && [ -n "${top_builddir:-}" ] ||
    { echo "man-pages: top_srcdir and top_builddir must be set" >&2; exit 99; }
command -v groff >/dev/null 2>&1 || { echo "man-pages: SKIP: no groff" >&2; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nss-dot-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
make -s -C "$top_builddir" install-man DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; echo "man-pages: make install-man failed" >&2; exit 99; }
mandir=$(find "$tmp/root" -type d -name 'man[1-8]' -print -quit)
[ -n "$mandir" ] || { echo "man-pages: make install-man installed no page" >&2; exit 1; }
mandir=${mandir%/*}

n=0
failed=0
for src in "$top_srcdir"/man/*.[1-8]; do
    page=${src##*/}
    rel=man${page##*.}/$page
    n=$((n + 1))
    if [ ! -e "$mandir/$rel" ]; then
        echo "man-pages: FAIL: $page is not installed by make install (dist_man_MANS?)" >&2
        failed=$((failed + 1))
        continue
    fi
    # From the mandir, where a .so request finds its target.
    warn=$(cd "$mandir" && LC_ALL=C.UTF-8 MANWIDTH=80 groff -ww -man -z -Tutf8 "$rel" 2>&1) || true
    if [ -z "$warn" ] && command -v man >/dev/null 2>&1; then
        warn=$(cd "$mandir" && LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$rel" 2>&1 >/dev/null) || true
    fi
    if [ -n "$warn" ]; then
        echo "man-pages: FAIL: $rel:" >&2
        printf '%s\n' "$warn" | sed 's/^/  | /' >&2
        failed=$((failed + 1))
    else
        echo "man-pages: ok: $rel"
    fi
done
[ "$n" -gt 0 ] || { echo "man-pages: no page in $top_srcdir/man" >&2; exit 99; }
echo "man-pages: $n page(s), $failed failed"
[ "$failed" -eq 0 ]
