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
# logged the query. Then misbehaving servers (dot-peer.c: TLS 1.1 only,
# garbage, a stall, nothing listening) must fail closed; and a capture of
# every packet on lo (tcpdump) shows none to or from port 53 and no name in
# clear on any port.
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

# No plaintext, proved on the wire: from here on every packet on lo is
# captured (the reference lookups through dns above are the last plain DNS
# of this test). At the end: no packet to or from port 53, and the names
# asked never appear in clear on any port (TLS hides them; a plain query
# would carry their labels, e.g. \002v4\004test).
capture=""
if command -v tcpdump >/dev/null; then
    tcpdump -i lo -nn -U --immediate-mode -s 0 -w "$d/wire.pcap" >"$d/tcpdump.log" 2>&1 &
    capture=$!
    E2E_PIDS="$E2E_PIDS $capture"
    e2e_wait_for "$E2E_READY_DS" "tcpdump" grep -q 'listening on' "$d/tcpdump.log" ||
        e2e_hard "tcpdump did not start: $(cat "$d/tcpdump.log")"
else
    e2e_log "no tcpdump: the wire is not checked (scripts/install-deps.sh installs it)"
fi

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

# Misbehaving servers, each strict configuration must fail without a byte
# in clear: one that speaks TLS 1.1 at most, garbage after the handshake, a
# stall, nothing listening.
${CC:-cc} -std=gnu11 -O1 -pthread -o "$d/dot-peer" "$(dirname "$0")/dot-peer.c" \
    $(pkg-config --cflags --libs libssl libcrypto) 2>"$d/peer-build.log" ||
    { cat "$d/peer-build.log" >&2; e2e_hard "cannot build dot-peer.c"; }
# fault LABEL ADDRESS [dot-peer options | none]: a peer at ADDRESS:853
# (none: nothing listens), the daemon strict against it; lookups of
# leak-LABEL.test fail (status 2, no output) within the query timeout.
fault() {
    local label=$1 addr=$2 peer="" rc t0 ms conf=$d/helperd-fault-$1.conf
    shift 2
    n_cases=$((n_cases + 1))
    if [ "$1" != none ]; then
        "$d/dot-peer" --listen "$addr" --port 853 --cert "$d/server.pem" --key "$d/server.key" \
            --ready "$d/peer-$label.ready" "$@" >>"$d/peer.log" 2>&1 &
        peer=$!
        E2E_PIDS="$E2E_PIDS $peer"
        e2e_wait_for "$E2E_READY_DS" "dot-peer $label" test -e "$d/peer-$label.ready" ||
            e2e_hard "dot-peer $label did not start"
    fi
    e2e_write_daemon_config "$conf" --address "$addr" --auth-name dns.test \
        --query-ms 1000 --connect-ms 500 --attempts 1
    e2e_start_daemon "$conf"
    rc=0
    t0=$(e2e_now_ms)
    e2e_via dot getent ahostsv4 "leak-$label.test" >"$d/fault.out" 2>&1 || rc=$?
    ms=$(($(e2e_now_ms) - t0))
    e2e_stop_daemon
    [ -z "$peer" ] || e2e_stop_pid "$peer" dot-peer || true
    if [ "$rc" -ne 2 ] || [ -s "$d/fault.out" ] || [ "$ms" -gt 4000 ]; then
        n_failed=$((n_failed + 1))
        printf 'FAIL: %s: status %s in %s ms, expected 2 with no output within the query timeout\n' \
            "$label" "$rc" "$ms" >&2
        sed 's/^/  | /' "$d/fault.out" >&2
    else
        e2e_log "ok: $label fails closed in $ms ms"
    fi
}
fault tls11 127.0.0.21 --tls-max 1.1
fault garbage 127.0.0.22 --garbage body
fault stall 127.0.0.23 --stall
fault nothing 127.0.0.24 none

if [ -n "$capture" ]; then
    e2e_stop_pid "$capture" tcpdump || true
    n_cases=$((n_cases + 1))
    packets=$(tcpdump -nn -r "$d/wire.pcap" 2>/dev/null | wc -l)
    port53=$(tcpdump -nn -r "$d/wire.pcap" 'port 53' 2>/dev/null | wc -l)
    clear=0
    # grep reads lines: a length octet of 10 is a newline, so newlines on
    # both sides become \001 first, and matches are counted one by one.
    for name in v4 leak-tls11 leak-garbage leak-stall leak-nothing; do
        label=$(printf "\\$(printf '%03o' ${#name})%s" "$name" | tr '\n' '\001')
        n=$(tr '\n' '\001' <"$d/wire.pcap" | LC_ALL=C grep -a -o -F "$label" | wc -l)
        clear=$((clear + n))
    done
    if [ "$packets" -lt 10 ] || [ "$port53" -ne 0 ] || [ "$clear" -ne 0 ]; then
        n_failed=$((n_failed + 1))
        printf 'FAIL: on the wire: %s packets, %s to or from port 53, %s with a name in clear\n' \
            "$packets" "$port53" "$clear" >&2
    else
        e2e_log "ok: on the wire: $packets packets captured, none to or from port 53, no name in clear"
    fi
fi

e2e_log "$n_cases configurations, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || exit 1
