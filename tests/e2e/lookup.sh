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

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe

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
