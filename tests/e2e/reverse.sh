#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# reverse.sh: reverse lookups (gethostbyaddr) of every address class glibc's
# nss_dns treats specially, through "hosts: files dot" and "hosts: files dns"
# against the same Unbound (issue 9, section 2). The rules, from glibc 2.36
# (resolv/nss_dns/dns-host.c and inet/gethstbyad_r.c):
#   - AF_INET6, length 16, IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible
#     (::a.b.c.d) but not ::1: looked up as a.b.c.d in in-addr.arpa and
#     answered as AF_INET with length 4;
#   - an all-zero 16-byte address: HOST_NOT_FOUND from glibc's wrapper before
#     any module runs; called directly, nss_dns unmaps :: to 0.0.0.0;
#   - a length short of the family's: UNAVAIL, EAFNOSUPPORT, NETDB_INTERNAL;
#     any longer length is accepted, the first 4 or 16 bytes looked up, and
#     the answer says h_length = the length passed.
# Uses the test zones of lib.sh (2.0.192.in-addr.arpa: .1 v4.test, .2
# both.test). Each address runs through getent hosts where getent can say
# it, through nss-probe addrx (gethostbyaddr_r with an explicit family and
# length, printing h_addrtype, h_length and the bytes) and, for the classes
# the wrapper hides, nss-probe direct (the module's own entry point).
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
e2e_write_daemon_config "$d/helperd.conf" --address 127.0.0.1 --auth-name dns.test
e2e_start_daemon "$d/helperd.conf"

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe

A='[[:space:]]+'

# host ADDR RC [REGEX [COUNT]]: getent hosts ADDR through both, then expect.
host() {
    local key=$1
    shift
    if compare norm_sort getent hosts "$key"; then
        expect "getent hosts $key" "$@" || true
    fi
}

# addrx FAMILY LEN ADDR REGEX [COUNT]: gethostbyaddr_r through both.
addrx() {
    local fam=$1 len=$2 key=$3
    shift 3
    if compare norm_sort "$d/nss-probe" addrx "$fam" "$len" "$key"; then
        expect "nss-probe addrx $fam $len $key" 0 "$@" || true
    fi
}

# direct FAMILY LEN ADDR REGEX [COUNT]: the module's gethostbyaddr2_r, called
# directly, through both (_nss_dot_* and _nss_dns_*).
direct() {
    local fam=$1 len=$2 key=$3
    shift 3
    if compare norm_sort "$d/nss-probe" direct "$fam" "$len" "$key"; then
        expect "nss-probe direct $fam $len $key" 0 "$@" || true
    fi
}

# The baseline: plain IPv4 with its PTR.
host 192.0.2.2 0 "^192\.0\.2\.2${A}both\.test$" 1
addrx AF_INET 4 192.0.2.2 '^gethostbyaddr: h_addrtype 2 h_length 4$' 1

# IPv4-compatible and IPv4-mapped: both answered from 2.2.0.192.in-addr.arpa,
# as AF_INET with length 4 (so getent prints the IPv4 address).
for a in ::192.0.2.2 ::ffff:192.0.2.2; do
    host "$a" 0 "^192\.0\.2\.2${A}both\.test$" 1
    addrx AF_INET6 16 "$a" '^gethostbyaddr: h_addrtype 2 h_length 4$' 1
    addrx AF_INET6 16 "$a" '^gethostbyaddr: bytes c0 00 02 02$' 1
    direct AF_INET6 16 "$a" '^direct: name both\.test$' 1
done
host ::192.0.2.1 0 "^192\.0\.2\.1${A}v4\.test$" 1
host ::ffff:192.0.2.1 0 "^192\.0\.2\.1${A}v4\.test$" 1
# Compatible and mapped, without a PTR.
host ::192.0.2.200 2
host ::ffff:192.0.2.200 2
addrx AF_INET6 16 ::192.0.2.200 '^gethostbyaddr: rc=.* h_errno=HOST_NOT_FOUND$' 1

# ::1 is not unmapped (files answers it first); called directly, the module
# asks ip6.arpa as nss_dns does (Unbound's default localhost PTR).
host ::1 0 "^::1${A}localhost" 1
addrx AF_INET6 16 ::1 '^gethostbyaddr: h_addrtype 10 h_length 16$' 1
direct AF_INET6 16 ::1 '^direct: name localhost$' 1
# The edges around it: ::0.0.0.2 is compatible, ::ffff:0.0.0.1 is mapped
# (the ::1 exception is for the compatible form only); both unmapped into
# 0.in-addr.arpa (NXDOMAIN from Unbound's default zone).
for a in ::0.0.0.2 ::ffff:0.0.0.1 ::0.0.1.1; do
    host "$a" 2
    addrx AF_INET6 16 "$a" '^gethostbyaddr: rc=.* h_errno=HOST_NOT_FOUND$' 1
    direct AF_INET6 16 "$a" '^direct: NOTFOUND errno=0 h_errno=HOST_NOT_FOUND$' 1
done
# Neither mapped nor compatible (one bit off each prefix): IPv6, ip6.arpa.
for a in ::1:0:0:1 ::fffe:c000:202 ::1:ffff:c000:202; do
    host "$a" 2
    direct AF_INET6 16 "$a" '^direct: ' 1
done

# ::, and any all-zero 16 bytes: HOST_NOT_FOUND from glibc's wrapper. Called
# directly, :: is 0.0.0.0 (NXDOMAIN), as in nss_dns.
host :: 2
host 0.0.0.0 2
addrx AF_INET6 16 :: '^gethostbyaddr: rc=.* h_errno=HOST_NOT_FOUND$' 1
addrx AF_INET 16 0.0.0.0 '^gethostbyaddr: rc=.* h_errno=HOST_NOT_FOUND$' 1
direct AF_INET6 16 :: '^direct: NOTFOUND errno=0 h_errno=HOST_NOT_FOUND$' 1
direct AF_INET 16 0.0.0.0 '^direct: NOTFOUND errno=0 h_errno=HOST_NOT_FOUND$' 1

# Lengths. AF_INET takes any length from 4 up, AF_INET6 any from 16 up;
# the first 4 or 16 bytes are asked, h_length is what was passed.
for len in 5 16 64; do
    addrx AF_INET "$len" 192.0.2.2 "^gethostbyaddr: h_addrtype 2 h_length $len\$" 1
    addrx AF_INET "$len" 192.0.2.2 '^gethostbyaddr: name both\.test$' 1
    direct AF_INET "$len" 192.0.2.2 "^direct: h_addrtype 2 h_length $len\$" 1
done
addrx AF_INET 16 192.0.2.2 '^gethostbyaddr: bytes c0 00 02 02( 00){12}$' 1
for len in 17 64; do
    addrx AF_INET6 "$len" 2001:db8::2:2 "^gethostbyaddr: h_addrtype 10 h_length $len\$" 1
    direct AF_INET6 "$len" 2001:db8::2:2 '^direct: name both\.test$' 1
done
# Longer than 16, a mapped or compatible address stays IPv6 (ip6.arpa).
addrx AF_INET6 17 ::ffff:192.0.2.2 '^gethostbyaddr: rc=' 1
direct AF_INET6 17 ::192.0.2.2 '^direct: ' 1
# Short lengths and other families: UNAVAIL, EAFNOSUPPORT, NETDB_INTERNAL.
for len in 0 3; do
    addrx AF_INET "$len" 192.0.2.2 '^gethostbyaddr: rc=' 1
    direct AF_INET "$len" 192.0.2.2 '^direct: UNAVAIL errno=.* h_errno=NETDB_INTERNAL$' 1
done
addrx AF_INET6 15 2001:db8::2:2 '^gethostbyaddr: rc=' 1
direct AF_INET6 15 2001:db8::2:2 '^direct: UNAVAIL errno=.* h_errno=NETDB_INTERNAL$' 1
direct AF_INET6 15 ::ffff:192.0.2.2 '^direct: UNAVAIL errno=.* h_errno=NETDB_INTERNAL$' 1
addrx 1 16 2001:db8::2:2 '^gethostbyaddr: rc=' 1
direct 1 16 2001:db8::2:2 '^direct: UNAVAIL errno=.* h_errno=NETDB_INTERNAL$' 1

kill -0 "$E2E_DAEMON_PID" 2>/dev/null || { n_failed=$((n_failed + 1)); e2e_log "dot-helperd died during the test"; }
e2e_stop_daemon

e2e_log "$n_checks comparisons, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || { printf 'failed:%s\n' "$failed_list" >&2; exit 1; }
