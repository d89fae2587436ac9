#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# unit-security.sh: DESIGN.md invariant 8 for the systemd unit:
# `systemd-analyze security --offline=true etc/dot-helperd.service` must give
# an overall exposure of at most 1.5 (prints the score either way). Offline
# mode reads the unit file alone, so it needs no running systemd (a build
# container is fine). Skips (77) without systemd-analyze (Debian package
# systemd; scripts/install-deps.sh installs it) or when it is too old for
# --offline (systemd < 250).
set -eu
limit=1.5
unit=${top_srcdir:-$(dirname "$0")/..}/etc/dot-helperd.service
[ -r "$unit" ] || { echo "unit-security: $unit is missing" >&2; exit 99; }
command -v systemd-analyze >/dev/null 2>&1 || { echo "unit-security: SKIP: no systemd-analyze" >&2; exit 77; }

rc=0
out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || rc=$?
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for dot-helperd\.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
    if printf '%s\n' "$out" | grep -q -- "--offline"; then
        echo "unit-security: SKIP: systemd-analyze does not know --offline" >&2
        exit 77
    fi
    printf '%s\n' "$out" >&2
    echo "unit-security: FAIL: no overall exposure level (status $rc)" >&2
    exit 1
fi
if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }'; then
    echo "unit-security: ok: exposure $score (limit $limit)"
else
    printf '%s\n' "$out" | grep '✗' >&2 || true
    echo "unit-security: FAIL: exposure $score is above $limit" >&2
    exit 1
fi
