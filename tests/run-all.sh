#!/bin/bash
# The full test suite, as CI runs it: install the build dependencies, build
# warning-free, run `make check`, run part of it again with the daemon under
# valgrind memcheck, run every fuzz target for a bounded time
# (make fuzz-smoke), then build again with AddressSanitizer +
# UndefinedBehaviorSanitizer and run `make check` once more, then build the
# Debian packages and test them in a throwaway root (tests/package/run.sh).
# Run as root (the end-to-end tests use network and mount namespaces).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
./bootstrap >/dev/null

jobs=$(nproc)
normal="$top/build"
san=$(mktemp -d "${TMPDIR:-/tmp}/nss-dot-san.XXXXXX")
# Some tests run programs of the build as nobody (trust, control, root start).
chmod 0755 "$san"
trap 'rm -rf "$san"' EXIT

run_build() { # DIR CONFIGURE-ARGS...
    local dir=$1; shift
    mkdir -p "$dir"
    (cd "$dir" && "$top/configure" -q "$@" &&
        make -s -j"$jobs" CFLAGS="-O2 -g -Werror" &&
        if ! make -s -j"$jobs" CFLAGS="-O2 -g -Werror" check; then
            cat tests/e2e/*.log tests/*.log 2>/dev/null | tail -n 200
            exit 1
        fi)
}

# count FIELD LOG: a field of automake's test-suite.log summary.
count() { sed -n "s/^# $1: *\([0-9]*\)/\1/p" "$2" | head -n 1; }

echo "== normal build: make check"
run_build "$normal"
echo "== the daemon under valgrind memcheck: make check-valgrind"
(cd "$normal" && if ! make -s check-valgrind; then
    cat tests/e2e/*.log 2>/dev/null | tail -n 200
    exit 1
fi)
echo "== fuzz smoke: every parser's libFuzzer target for ${FUZZ_SECONDS:-30} s (clang)"
(cd "$normal" && make -s fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-30}")
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build: make check"
run_build "$san" --enable-sanitizers
pass=0 fail=0 skip=0
for log in "$normal/test-suite.log" "$normal/test-suite-valgrind.log" "$san/test-suite.log"; do
    pass=$((pass + $(count PASS "$log")))
    fail=$((fail + $(count FAIL "$log") + $(count ERROR "$log")))
    skip=$((skip + $(count SKIP "$log")))
done
echo "== Debian packages: build, lintian, install test, piuparts (tests/package/run.sh)"
pkg_rc=0
bash tests/package/run.sh || pkg_rc=$?
case $pkg_rc in
    0) pass=$((pass + 1)) ;;
    77) skip=$((skip + 1)) ;;
    *) exit 1 ;;
esac
echo "== all tests passed (both builds and the packages)"
echo "$pass passed, $fail failed, $skip skipped"
