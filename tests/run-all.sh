#!/bin/bash
# The full test suite, as CI runs it: install the build dependencies, build
# warning-free, run `make check`, then build again with AddressSanitizer +
# UndefinedBehaviorSanitizer and run `make check` once more.
# Run as root (the end-to-end tests use network and mount namespaces).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
./bootstrap >/dev/null

jobs=$(nproc)
normal="$top/build"
san=$(mktemp -d "${TMPDIR:-/tmp}/nss-dot-san.XXXXXX")
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

echo "== normal build: make check"
run_build "$normal"
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build: make check"
run_build "$san" --enable-sanitizers
echo "== all tests passed"
