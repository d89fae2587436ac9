# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# compare.sh: the differential harness shared by lookup.sh and
# differential.sh (sourced after lib.sh and e2e_init): run one command
# through "hosts: files dot" and through "hosts: files dns", normalise,
# compare, and check what the dot run printed (nss-probe, built by
# lib.sh's e2e_build_probe, prints what getent hides).
# Uses $d, the test's temporary directory.
# shellcheck disable=SC2154

n_checks=0
n_failed=0
failed_list=""
rc_dot=0
rc_dns=0

# Normalisers: the order of addresses is not part of the contract.
norm_sort() { LC_ALL=C sort; }
# getent ahosts* prints the canonical name on the first line only: keep it
# apart, then compare the (address, socket type) pairs as a set.
norm_ahosts() {
    local all
    all=$(cat)
    printf '%s\n' "$all" | awk 'NR == 1 && NF >= 3 { print "canonical name: " $3 }'
    printf '%s\n' "$all" | awk 'NF { print $1, $2 }' | LC_ALL=C sort
}

short() { printf '%.60s' "${*#"$d/"}"; }

# compare NORMALISER CMD...: run CMD through dot and through dns, compare.
# Leaves the dot run in $d/dot.raw and its status in $rc_dot for expect().
compare() {
    local norm=$1 v
    shift
    n_checks=$((n_checks + 1))
    rc_dot=0
    e2e_via dot "$@" >"$d/dot.raw" 2>"$d/dot.err" || rc_dot=$?
    rc_dns=0
    e2e_via dns "$@" >"$d/dns.raw" 2>"$d/dns.err" || rc_dns=$?
    for v in dot dns; do
        "$norm" <"$d/$v.raw" >"$d/$v.out"
    done
    if [ "$rc_dot" -ne "$rc_dns" ] || ! cmp -s "$d/dns.out" "$d/dot.out" ||
        ! cmp -s "$d/dns.err" "$d/dot.err"; then
        n_failed=$((n_failed + 1))
        failed_list="$failed_list
  mismatch: $(short "$@")"
        {
            printf 'MISMATCH: %s\n' "$(short "$@")"
            printf '  exit status: through dns %s, through dot %s\n' "$rc_dns" "$rc_dot"
            diff -u --label "through dns" --label "through dot" "$d/dns.out" "$d/dot.out" | head -n 20 | sed 's/^/  /' || true
            if ! cmp -s "$d/dns.err" "$d/dot.err"; then
                printf '  stderr:\n'
                diff -u --label "through dns" --label "through dot" "$d/dns.err" "$d/dot.err" | sed 's/^/  /' || true
            fi
        } >&2
        return 1
    fi
}

# expect LABEL RC [REGEX [COUNT]]: the dot run exited RC and, when given,
# printed at least one line matching REGEX (exactly COUNT when given);
# with no REGEX, it printed nothing.
expect() {
    local label=$1 rc=$2 re=${3:-} count=${4:-} got
    if [ "$rc_dot" -ne "$rc" ]; then
        printf 'UNEXPECTED: %s: exit status %s, expected %s\n' "$label" "$rc_dot" "$rc" >&2
        head -n 5 "$d/dot.raw" | sed 's/^/  | /' >&2
        n_failed=$((n_failed + 1))
        failed_list="$failed_list
  unexpected (both paths): $label"
        return 1
    fi
    if [ -z "$re" ]; then
        [ ! -s "$d/dot.raw" ] && return 0
        printf 'UNEXPECTED: %s: output where none was expected\n' "$label" >&2
    else
        got=$(grep -cE -- "$re" "$d/dot.raw" || true)
        if [ -n "$count" ] && [ "$got" -eq "$count" ]; then return 0; fi
        if [ -z "$count" ] && [ "$got" -ge 1 ]; then return 0; fi
        printf 'UNEXPECTED: %s: %s line(s) match /%s/, expected %s\n' \
            "$label" "$got" "$re" "${count:-at least 1}" >&2
    fi
    head -n 5 "$d/dot.raw" | sed 's/^/  | /' >&2
    n_failed=$((n_failed + 1))
    failed_list="$failed_list
  unexpected (both paths): $label"
    return 1
}
