#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# map-tsan.sh: the answer map's readers racing its writer under
# ThreadSanitizer (issue 14). check_map's race case is built again with
# -fsanitize=thread (with common/map.c and what it uses) and run alone:
# readers in four threads look entries up while one writer overwrites,
# evicts and resets them; every answer must be a whole reply, and TSan must
# report nothing (every shared word is an atomic; the seqlocks order them).
# tests/e2e/threads.sh covers the module's side against a real daemon.
set -eu
src=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
build=${top_builddir:-.}
cc=${CC:-cc}
d=$(mktemp -d "${TMPDIR:-/tmp}/nss-dot-map-tsan.XXXXXX")
trap 'rm -rf "$d"' EXIT
# shellcheck disable=SC2046
if ! $cc -std=gnu11 -O1 -g -fsanitize=thread -pthread -include "$build/build-config.h" \
    -I"$src/common" -I"$src/tests" -o "$d/check_map" "$src/tests/check_map.c" \
    "$src/common/map.c" "$src/common/ipc.c" "$src/common/dname.c" "$src/common/sha256.c" \
    "$src/common/chacha20.c" $(pkg-config --cflags --libs check) 2>"$d/build.log"; then
    cat "$d/build.log" >&2
    echo "map-tsan: SKIP: cannot build with -fsanitize=thread" >&2
    exit 77
fi
# A race report makes the run fail (exitcode), whatever the checks say.
if ! TSAN_OPTIONS="halt_on_error=1 exitcode=66" CK_FORK=no \
    CK_RUN_CASE=map_readers_racing_a_churning_writer_see_whole_entries "$d/check_map"; then
    echo "map-tsan: FAILED" >&2
    exit 1
fi
echo "map-tsan: no race reported, every answer whole" >&2
