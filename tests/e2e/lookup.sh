#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lookup.sh: DESIGN.md invariant 3 end to end. A real Unbound serves the test
# zones plain on 127.0.0.1@53 and over TLS on 127.0.0.1@853 (certificate for
# dns.test from a CA made here); dot-helperd resolves over that TLS port in
# strict mode. For every test name, getent hosts|ahosts|ahostsv4|ahostsv6
# (and getent hosts ADDR for reverse lookups) run once through "hosts: files
# dot" and once through "hosts: files dns" against the same Unbound: exit
# status, stdout and stderr must be the same after normalising the order.
# nss-probe.c adds what getent hides: h_errno and getaddrinfo's EAI_* code.
# Each case also asserts the expected data, so that two empty outputs never
# pass for a match.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
e2e_make_ca ca
e2e_make_cert ca server dns.test
e2e_start_unbound main 127.0.0.1 server ca
e2e_write_daemon_config "$d/helperd.conf" --address 127.0.0.1 --auth-name dns.test \
    --pin "$(e2e_spki_pin "$d/server.pem")"
e2e_start_daemon "$d/helperd.conf"

# The probe is built here (libc only, no sanitizer: the preload covers the
# module).
# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -O1 -o "$d/nss-probe" "$(dirname "$0")/nss-probe.c" 2>"$d/probe-build.log" ||
    { cat "$d/probe-build.log" >&2; e2e_hard "cannot build nss-probe.c with ${CC:-cc}"; }

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
  mismatch: ${*#"$d/"}"
        {
            printf 'MISMATCH: %s\n' "${*#"$d/"}"
            printf '  exit status: through dns %s, through dot %s\n' "$rc_dns" "$rc_dot"
            diff -u --label "through dns" --label "through dot" "$d/dns.out" "$d/dot.out" | sed 's/^/  /' || true
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
        sed 's/^/  | /' "$d/dot.raw" >&2
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
    sed 's/^/  | /' "$d/dot.raw" >&2
    n_failed=$((n_failed + 1))
    failed_list="$failed_list
  unexpected (both paths): $label"
    return 1
}

# check DB KEY RC [REGEX [COUNT]]: getent DB KEY through both, then expect.
check() {
    local db=$1 key=$2 norm=norm_sort
    shift 2
    case $db in ahosts*) norm=norm_ahosts ;; esac
    if compare "$norm" getent "$db" "$key"; then
        expect "getent $db $key" "$@" || true
    fi
}

# probe name|addr KEY: h_errno / EAI_* through both.
probe() {
    if compare norm_sort "$d/nss-probe" "$1" "$2"; then
        expect "nss-probe $1 $2" 0 '.' || true
    fi
}

A='[[:space:]]+'

# A only.
check hosts v4.test 0 "^192\.0\.2\.1${A}v4\.test$" 1
check ahosts v4.test 0 "^192\.0\.2\.1${A}STREAM v4\.test$" 1
check ahostsv4 v4.test 0 "^192\.0\.2\.1${A}STREAM v4\.test$" 1
check ahostsv6 v4.test 0 "^::ffff:192\.0\.2\.1${A}STREAM v4\.test$" 1
probe name v4.test

# AAAA only.
check hosts v6.test 0 "^2001:db8::1:1${A}v6\.test$" 1
check ahosts v6.test 0 "^2001:db8::1:1${A}STREAM v6\.test$" 1
check ahostsv4 v6.test 2
check ahostsv6 v6.test 0 "^2001:db8::1:1${A}STREAM v6\.test$" 1
probe name v6.test

# Both families.
check hosts both.test 0 "^2001:db8::2:2${A}both\.test$" 1
check ahosts both.test 0 "^(192\.0\.2\.2|2001:db8::2:2)${A}STREAM" 2
check ahostsv4 both.test 0 "^192\.0\.2\.2${A}STREAM both\.test$" 1
check ahostsv6 both.test 0 "^2001:db8::2:2${A}STREAM both\.test$" 1
probe name both.test

# CNAME chains: two hops to a name with both families, three hops to an
# A-only name. The canonical name and the aliases, in chain order.
check hosts cname.test 0 "^2001:db8::3:3${A}target\.test cname\.test cname-hop\.test$" 1
check ahosts cname.test 0 "^(192\.0\.2\.3|2001:db8::3:3)${A}STREAM" 2
check ahostsv4 cname.test 0 "^192\.0\.2\.3${A}STREAM target\.test$" 1
check ahostsv6 cname.test 0 "^2001:db8::3:3${A}STREAM target\.test$" 1
probe name cname.test
check hosts cname3.test 0 "^192\.0\.2\.1${A}v4\.test cname3\.test c3-hop1\.test c3-hop2\.test$" 1
check ahosts cname3.test 0 "^192\.0\.2\.1${A}STREAM v4\.test$" 1
check ahostsv4 cname3.test 0 "^192\.0\.2\.1${A}STREAM v4\.test$" 1
check ahostsv6 cname3.test 0 "^::ffff:192\.0\.2\.1${A}STREAM v4\.test$" 1
probe name cname3.test

# NXDOMAIN, and a CNAME into NXDOMAIN.
for db in hosts ahosts ahostsv4 ahostsv6; do
    check "$db" nx.test 2
    check "$db" dangling.test 2
done
probe name nx.test
probe name dangling.test

# A name with no address at all (TXT only): NODATA, not NXDOMAIN.
for db in hosts ahosts ahostsv4 ahostsv6; do
    check "$db" txt.test 2
done
probe name txt.test

# 40 A and 8 AAAA: more than fits a 512-byte UDP answer.
check hosts many.test 0 "^2001:db8::64:[1-8]${A}many\.test$" 8
check ahosts many.test 0 "${A}STREAM" 48
check ahostsv4 many.test 0 "^192\.0\.2\.1[0-3][0-9]${A}STREAM" 40
check ahostsv6 many.test 0 "^2001:db8::64:[1-8]${A}STREAM" 8
probe name many.test

# The spelling of the query: upper case, and an absolute name.
check hosts Both.TEST 0 "^2001:db8::2:2${A}" 1
check ahosts Both.TEST 0 "^(192\.0\.2\.2|2001:db8::2:2)${A}STREAM" 2
probe name Both.TEST
check hosts v4.test. 0 "^192\.0\.2\.1${A}" 1
check ahostsv4 v4.test. 0 "^192\.0\.2\.1${A}STREAM" 1
probe name v4.test.

# Reverse: IPv4 and IPv6 with a PTR, and without one.
check hosts 192.0.2.1 0 "^192\.0\.2\.1${A}v4\.test$" 1
check hosts 2001:db8::2:2 0 "^2001:db8::2:2${A}both\.test$" 1
check hosts 2001:db8::1:1 0 "^2001:db8::1:1${A}v6\.test$" 1
check hosts 192.0.2.200 2
check hosts 2001:db8::dead 2
probe addr 192.0.2.1
probe addr 2001:db8::2:2
probe addr 192.0.2.200
probe addr 2001:db8::dead

# The daemon must still be there after all of that.
kill -0 "$E2E_DAEMON_PID" 2>/dev/null || { n_failed=$((n_failed + 1)); e2e_log "dot-helperd died during the test"; }
e2e_stop_daemon

e2e_log "$n_checks comparisons, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || { printf 'failed:%s\n' "$failed_list" >&2; exit 1; }
