#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-smoke.sh SRC_FUZZ_DIR BUILD_FUZZ_DIR TARGET...: runs each libFuzzer
# target for FUZZ_SECONDS (default 30) on a copy of its seed corpus
# (SRC/corpus_NAME, where NAME is the target less "fuzz_"), so the source
# tree is never written. Fails on the first target that crashes, leaks or
# trips a sanitizer, naming the input that did it (in BUILD/artifacts/);
# prints one line per target: executions, coverage (cov: edges, ft:
# features) and corpus size. Bounded: each run stops after FUZZ_SECONDS.
set -eu
src=$1 build=$2
shift 2
secs=${FUZZ_SECONDS:-30}
export LSAN_OPTIONS="suppressions=$src/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mkdir -p "$build/artifacts"
status=0
for target in "$@"; do
    name=${target#fuzz_}
    seeds=$src/corpus_$name
    work=$build/run/corpus_$name
    log=$build/run/$target.log
    rm -rf "$work"
    mkdir -p "$work"
    [ -d "$seeds" ] && cp -p "$seeds"/. "$work"/ -r
    if "$build/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
        "$work" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
        printf 'fuzz-smoke: %-16s %s executions in %s s, %s, corpus %s inputs\n' \
            "$target" "${runs:-?}" "$secs" "${cov:-cov: ?}" "$(find "$work" -type f | wc -l)"
    else
        status=1
        printf 'fuzz-smoke: %s FAILED; the log ends:\n' "$target" >&2
        tail -n 30 "$log" >&2
        ls -1 "$build/artifacts/$target-"* 2>/dev/null | sed 's/^/  crasher: /' >&2 || true
    fi
done
exit "$status"
