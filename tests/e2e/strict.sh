#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# strict.sh: DESIGN.md invariant 1 end to end ("strict means strict").
# Four Unbound instances on loopback, each plain on @53 and TLS on @853:
#   ref   127.0.0.1   the reference for "through dns" (dot-helperd never uses it)
#   good  127.0.0.11  certificate for dns.test from the test CA
#   other 127.0.0.12  certificate for other.test from the test CA
#   rogue 127.0.0.13  certificate for dns.test from a CA the daemon doesn't trust
# For each configuration dot-helperd is (re)started against one instance and
# `getent hosts v4.test` / `getent ahosts v4.test` run through the module:
# a configuration that must fail gives exit status 2 and no output, and the
# instance's query log shows that no query reached it (no answer was used
# from, and nothing was asked over, a connection that failed validation);
# one that must work gives what "hosts: files dns" gives, and the instance
# logged the query.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build

t_start=$(e2e_now_ms)
d=$E2E_DIR
e2e_make_ca ca
e2e_make_ca rogue-ca
e2e_make_cert ca server dns.test
e2e_make_cert ca other dns-other.test
e2e_make_cert rogue-ca rogue dns.test
e2e_start_unbound ref 127.0.0.1 server ca
e2e_start_unbound good 127.0.0.11 server ca
e2e_start_unbound other 127.0.0.12 other ca
e2e_start_unbound rogue 127.0.0.13 rogue rogue-ca
# An impostor that sends the real server's (public) certificate along after
# its own leaf: the handshake proves only the leaf's key. Its own leaf comes
# from the rogue CA, or from the trusted CA (a mis-issued certificate: the
# case pins exist for).
cat "$d/rogue.pem" "$d/server.pem" >"$d/stuffed.pem"
cp "$d/rogue.key" "$d/stuffed.key"
e2e_make_cert ca misissued dns.test
cat "$d/misissued.pem" "$d/server.pem" >"$d/stuffed2.pem"
cp "$d/misissued.key" "$d/stuffed2.key"
e2e_start_unbound stuffed 127.0.0.14 stuffed rogue-ca
e2e_start_unbound stuffed2 127.0.0.15 stuffed2 ca
pin_server=$(e2e_spki_pin "$d/server.pem")
pin_other=$(e2e_spki_pin "$d/other.pem")
pin_rogue=$(e2e_spki_pin "$d/rogue.pem")
[ "$pin_server" != "$pin_other" ] || e2e_hard "two keys with one pin"

# The reference answer, through nss_dns against "ref".
rc=0
e2e_via dns getent hosts v4.test >"$d/ref.hosts" || rc=$?
if [ "$rc" -ne 0 ] || ! grep -q '^192\.0\.2\.1[[:space:]]' "$d/ref.hosts"; then
    e2e_hard "getent hosts v4.test through dns: status $rc, $(cat "$d/ref.hosts")"
fi
e2e_via dns getent ahosts v4.test >"$d/ref.ahosts" ||
    e2e_hard "getent ahosts v4.test through dns failed"

n_failed=0
n_cases=0

# queries_seen INSTANCE: how many queries for v4.test INSTANCE has logged.
queries_seen() {
    grep -c 'v4\.test\. A\{1,4\} IN' "$d/unbound-$1.log" || true
}

# scenario LABEL works|fails INSTANCE ADDRESS [config options...]
scenario() {
    local label=$1 want=$2 inst=$3 addr=$4 conf=$d/helperd-$n_cases.conf
    shift 4
    n_cases=$((n_cases + 1))
    e2e_write_daemon_config "$conf" --address "$addr" "$@"
    e2e_start_daemon "$conf"
    local before after rc_h=0 rc_a=0 t0 ms ok=1
    before=$(queries_seen "$inst")
    t0=$(e2e_now_ms)
    e2e_via dot getent hosts v4.test >"$d/dot.hosts" 2>"$d/dot.err" || rc_h=$?
    ms=$(($(e2e_now_ms) - t0))
    e2e_via dot getent ahosts v4.test >"$d/dot.ahosts" 2>>"$d/dot.err" || rc_a=$?
    after=$(queries_seen "$inst")
    if [ "$want" = works ]; then
        if [ "$rc_h" -ne 0 ] || ! cmp -s "$d/ref.hosts" "$d/dot.hosts" ||
            [ "$rc_a" -ne 0 ] || ! cmp -s "$d/ref.ahosts" "$d/dot.ahosts"; then
            ok=0
            {
                printf 'FAIL: %s: expected the lookup to work\n' "$label"
                printf '  getent hosts v4.test: status %s (dns: 0)\n' "$rc_h"
                diff -u --label "through dns" --label "through dot" "$d/ref.hosts" "$d/dot.hosts" | sed 's/^/  /'
                printf '  getent ahosts v4.test: status %s (dns: 0)\n' "$rc_a"
                diff -u --label "through dns" --label "through dot" "$d/ref.ahosts" "$d/dot.ahosts" | sed 's/^/  /'
            } >&2
        elif [ "$after" -le "$before" ]; then
            ok=0
            printf 'FAIL: %s: the answer did not come from %s (%s) as configured\n' "$label" "$inst" "$addr" >&2
        fi
    else
        if [ "$rc_h" -ne 2 ] || [ -s "$d/dot.hosts" ] || [ "$rc_a" -ne 2 ] || [ -s "$d/dot.ahosts" ]; then
            ok=0
            {
                printf 'FAIL: %s: expected the lookup to fail (status 2, no output)\n' "$label"
                printf '  getent hosts v4.test: status %s\n' "$rc_h"
                sed 's/^/  | /' "$d/dot.hosts"
                printf '  getent ahosts v4.test: status %s\n' "$rc_a"
                sed 's/^/  | /' "$d/dot.ahosts"
            } >&2
        fi
        if [ "$after" -ne "$before" ]; then
            ok=0
            printf 'FAIL: %s: %s received %s queries over a connection that failed validation\n' \
                "$label" "$inst" "$((after - before))" >&2
        fi
    fi
    if [ -s "$d/dot.err" ]; then
        ok=0
        printf 'FAIL: %s: getent wrote to stderr:\n' "$label" >&2
        sed 's/^/  | /' "$d/dot.err" >&2
    fi
    e2e_stop_daemon
    if [ "$ok" -eq 1 ]; then
        e2e_log "ok: $label ($want, getent hosts in $ms ms)"
    else
        n_failed=$((n_failed + 1))
        e2e_log "config was:"
        sed 's/^/  /' "$conf" >&2
    fi
}

# Baseline: the right name from the right CA.
scenario "name only, matching certificate" works good 127.0.0.11 --auth-name dns.test
# (a) The certificate names another host.
scenario "(a) certificate for dns-other.test, auth_name dns.test" fails other 127.0.0.12 \
    --auth-name dns.test
# (b) A wrong pin (another real key's), the right name.
scenario "(b) wrong spki pin, right auth_name" fails good 127.0.0.11 \
    --auth-name dns.test --pin "$pin_other"
# (c) The right pin alone.
scenario "(c) right spki pin, no auth_name" works good 127.0.0.11 \
    --auth-name "" --pin "$pin_server"
# (d) The right pin and the right name; a second, unrelated pin is harmless.
scenario "(d) right spki pin (one of two) and right auth_name" works good 127.0.0.11 \
    --auth-name dns.test --pin "$pin_other" --pin "$pin_server"
# (e) A certificate from a CA the daemon doesn't trust.
scenario "(e) certificate from an unknown CA" fails rogue 127.0.0.13 --auth-name dns.test
# With both a name and pins, both checks apply: a right pin does not excuse
# a wrong name, nor an untrusted chain.
scenario "right spki pin, wrong auth_name" fails good 127.0.0.11 \
    --auth-name dns-other.test --pin "$pin_server"
scenario "right spki pin and name, unknown CA" fails rogue 127.0.0.13 \
    --auth-name dns.test --pin "$pin_rogue"
# A pinned certificate the server sent along but did not prove.
scenario "pin only: impostor leaf + the pinned certificate sent along" fails stuffed 127.0.0.14 \
    --auth-name "" --pin "$pin_server"
scenario "name + pin: mis-issued leaf + the pinned certificate sent along" fails stuffed2 \
    127.0.0.15 --auth-name dns.test --pin "$pin_server"
# With a name, a pin may be any certificate of the verified chain (the CA).
scenario "right name + pin of the issuing CA" works good 127.0.0.11 --auth-name dns.test \
    --pin "$(e2e_spki_pin "$d/ca.pem")"

e2e_log "$n_cases configurations, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
