#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# threads.sh: the module under ThreadSanitizer (issue 12). The module's
# sources are built again here with -fsanitize=thread into a private
# libnss_dot.so.2, and threads.c (64 threads, each mixing getaddrinfo,
# gethostbyname_r, gethostbyname2_r and gethostbyaddr_r, every answer
# checked) runs against a real daemon and Unbound over TLS with that module.
# Any TSan report, or any wrong answer, fails the test. The sanitizer build
# skips it (ASan and TSan do not mix); the normal build runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
[ "${SANITIZERS:-no}" != yes ] || e2e_skip "ASan build: the module is not built for ThreadSanitizer here"

t_start=$(e2e_now_ms)
d=$E2E_DIR
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
# The module as its Makefile builds it, plus -fsanitize=thread.
mkdir -p "$d/tsan"
# shellcheck disable=SC2086
$cc -std=gnu11 -O1 -g -fPIC -shared -fsanitize=thread -fvisibility=hidden \
    -include "$top_builddir/build-config.h" -I"$src/common" -I"$src/nss" \
    -Wl,--version-script="$src/nss/libnss_dot.map" -o "$d/tsan/libnss_dot.so.2" \
    "$src"/nss/nss-dot.c "$src"/nss/nss-client.c "$src"/nss/nss-buffer.c "$src"/nss/nss-addr.c \
    "$src"/common/ipc.c "$src"/common/dname.c "$src"/common/query-ms.c "$src"/common/peer.c \
    "$src"/nss/nss-map.c "$src"/common/map.c "$src"/common/sha256.c "$src"/common/chacha20.c \
    2>"$d/tsan-build.log" || { cat "$d/tsan-build.log" >&2; e2e_skip "cannot build the module with -fsanitize=thread"; }
$cc -std=gnu11 -O1 -g -fsanitize=thread -pthread -o "$d/threads" "$(dirname "$0")/threads.c" \
    2>"$d/threads-build.log" || { cat "$d/threads-build.log" >&2; e2e_hard "cannot build threads.c"; }

e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/helperd.conf" --address 127.0.0.1 --auth-name dns.test
e2e_start_daemon "$d/helperd.conf"

threads=${THREADS:-64}
rounds=${ROUNDS:-20}
rc=0
E2E_MODULE_DIR=$d/tsan \
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$here/tsan.supp" \
    e2e_via dot "$d/threads" "$threads" "$rounds" >"$d/threads.out" 2>&1 || rc=$?
cat "$d/threads.out" >&2
if [ "$rc" -ne 0 ]; then
    grep -q 'WARNING: ThreadSanitizer' "$d/threads.out" && e2e_log "ThreadSanitizer reported a race"
    e2e_fail "threads exited $rc"
fi
grep -q "ThreadSanitizer" "$d/threads.out" && e2e_fail "ThreadSanitizer output in a passing run"
e2e_log "$threads threads x $rounds rounds x 4 calls under ThreadSanitizer: clean, $(($(e2e_now_ms) - t_start)) ms"
