#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# differential.sh: DESIGN.md invariant 3 on a tricky zone. NSD (Debian's
# authoritative server) serves "tricky." and "other." (plus two reverse
# zones) on 127.0.0.3; the Unbound upstream resolves them through stub
# zones, plain on 127.0.0.1@53 for nss_dns and over TLS on @853 for
# dot-helperd. resolv.conf says "search sub.tricky tricky", and the daemon
# must read it too. Every case runs getent hosts|ahosts|ahostsv4|ahostsv6
# (or reverse getent hosts ADDR) and nss-probe through "hosts: files dot"
# and "hosts: files dns": status, output and h_errno/EAI must agree.
#
# Cases: 40 and 300 (+100 AAAA) addresses on one name (answers over 512 and
# over 4096 octets), CNAME chains 1, 3 and 8 deep (the 8 crossing into
# "other." and back), a CNAME loop, NXDOMAIN, NODATA, SERVFAIL (a delegation
# to a name server that does not exist), 63-octet labels and a 253-octet
# name, mixed case (also the same name asked in another case once cached), a
# wildcard, IPv4 and IPv6 PTR with one and two PTR names, and short names
# resolved through the search list.
#
# Names as glibc reads them (DESIGN.md invariant 7, issue 9): names that are
# not host names (a space, '@', '(', '"', UTF-8, an escaped dot, a bad
# escape, a leading dash, the empty name, the root) answered as nss_dns does
# per entry point; host names spelt with escapes; 400 A + 400 AAAA on one
# name and the 4093 A records one 64 KiB message holds; a PTR set whose
# first name is not a host name.
set -eu
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
e2e_need_build
e2e_need_tools nsd nsd-checkzone

t_start=$(e2e_now_ms)
d=$E2E_DIR
NSD_ADDR=127.0.0.3
REV4=100.51.198.in-addr.arpa.
REV6=9.b.d.0.1.0.0.2.ip6.arpa.

# --- the tricky zones -------------------------------------------------------------

L63=$(printf 'a%.0s' $(seq 63))
# 63 + 1 + 63 + 1 + 63 + 1 + 54 + 1 + 6 ("tricky") = 253 octets.
N253="$(printf 'b%.0s' $(seq 63)).$(printf 'c%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 63)).$(printf 'e%.0s' $(seq 54)).tricky"
[ "${#N253}" -eq 253 ] || e2e_hard "N253 is ${#N253} octets"

write_nsd_zones() {
    local z=$d/nsd i
    mkdir -p "$z"
    {
        cat <<'EOF'
$ORIGIN tricky.
$TTL 300
@          SOA   ns.tricky. hostmaster.tricky. 1 3600 600 86400 60
@          NS    ns.tricky.
ns         A     127.0.0.3
v4         A     198.51.100.1
v6         AAAA  2001:db9::6
both       A     198.51.100.2
both       AAAA  2001:db9::1
nodata     TXT   "no address here"
c1         CNAME v4
c3         CNAME c3a
c3a        CNAME c3b.tricky.
c3b        CNAME both
c8         CNAME c8-1
c8-1       CNAME c8-2.other.
c8-4       CNAME c8-5
c8-5       CNAME c8-6
c8-6       CNAME c8-7
c8-7       CNAME c8-8
c8-8       A     198.51.100.8
c8-8       AAAA  2001:db9::8
cross      CNAME host.other.
loop1      CNAME loop2
loop2      CNAME loop1
dangling   CNAME nowhere.tricky.
broken     NS    ns.nowhere.tricky.
MiXeD      A     198.51.100.10
MixCname   CNAME MiXeD-Target.TRICKY.
MiXeD-Target A   198.51.100.11
*.wild     A     198.51.100.99
*.wild     AAAA  2001:db9::99
short      A     198.51.100.50
host       A     198.51.100.51
host.sub   A     198.51.100.52
nodata.sub TXT   "none here either"
a\.b       A     198.51.100.30
sp\032ace  A     198.51.100.31
caf\195\169 A    198.51.100.32
_under     A     198.51.100.33
-lead      A     198.51.100.34
mid.-dash  A     198.51.100.35
under      CNAME bad\032target
EOF
        # 400 A + 400 AAAA on one name, and the most A records that one
        # 64 KiB message over TCP holds for "max.tricky.": 12 octets of
        # header, 16 of question, 11 of OPT, then 16 per compressed A record.
        for i in $(seq 0 399); do printf 'many800 A 198.19.%s.%s\n' $((i / 200)) $((1 + i % 200)); done
        for i in $(seq 0 399); do printf 'many800 AAAA 2001:db9::8:%x\n' "$i"; done
        for i in $(seq 0 4092); do printf 'max A 198.20.%s.%s\n' $((i / 250)) $((1 + i % 250)); done
        printf '%s A 198.51.100.63\n' "$L63"
        printf '%s.%s AAAA 2001:db9::63\n' "$L63" "$L63"
        printf '%s. A 198.51.100.253\n' "$N253"
        for i in $(seq 1 40); do printf 'many40 A 198.18.0.%s\n' "$i"; done
        for i in $(seq 0 299); do printf 'many300 A 198.18.%s.%s\n' $((1 + i / 200)) $((1 + i % 200)); done
        for i in $(seq 1 100); do printf 'many300 AAAA 2001:db9::3:%x\n' "$i"; done
    } >"$z/tricky.zone"
    cat >"$z/other.zone" <<'EOF'
$ORIGIN other.
$TTL 300
@          SOA   ns.tricky. hostmaster.tricky. 1 3600 600 86400 60
@          NS    ns.tricky.
host       A     198.51.100.77
c8-2       CNAME c8-3
c8-3       CNAME c8-4.tricky.
EOF
    cat >"$z/rev4.zone" <<EOF
\$ORIGIN $REV4
\$TTL 300
@   SOA   ns.tricky. hostmaster.tricky. 1 3600 600 86400 60
@   NS    ns.tricky.
1   PTR   v4.tricky.
2   PTR   one.tricky.
2   PTR   two.tricky.
4   PTR   bad\032name.tricky.
4   PTR   good.tricky.
5   PTR   good.tricky.
5   PTR   bad\032name.tricky.
EOF
    {
        printf '%s %s\n%s\n' "\$ORIGIN" "$REV6" "\$TTL 300"
        printf '@ SOA ns.tricky. hostmaster.tricky. 1 3600 600 86400 60\n@ NS ns.tricky.\n'
        printf '%s PTR both.tricky.\n' "$(e2e_ptr6 20010db9000000000000000000000001)"
        printf '%s PTR one.tricky.\n' "$(e2e_ptr6 20010db9000000000000000000000002)"
        printf '%s PTR two.tricky.\n' "$(e2e_ptr6 20010db9000000000000000000000002)"
    } >"$z/rev6.zone"
    for i in tricky:tricky. other:other. rev4:$REV4 rev6:$REV6; do
        nsd-checkzone "${i#*:}" "$z/${i%%:*}.zone" >"$d/nsd-check.log" 2>&1 ||
            { cat "$d/nsd-check.log" >&2; e2e_hard "nsd-checkzone rejects ${i%%:*}.zone"; }
    done
}

write_nsd_zones
e2e_start_nsd "$NSD_ADDR" tricky:tricky. other:other. "rev4:$REV4" "rev6:$REV6"
e2e_make_ca ca
e2e_make_cert ca server dns.test
E2E_UNBOUND_STUBS="tricky. other. $REV4 $REV6"
E2E_UNBOUND_STUB_ADDR=$NSD_ADDR
e2e_start_unbound main 127.0.0.1 server ca
# The search list, for nss_dns and (read at start) for the daemon. Written
# in place: /etc/resolv.conf is a bind mount of this very file.
printf 'nameserver 127.0.0.1\nsearch sub.tricky tricky\n' >"$d/resolv.conf"
e2e_write_daemon_config "$d/helperd.conf" --address 127.0.0.1 --auth-name dns.test
e2e_start_daemon "$d/helperd.conf"
grep -q 'search list: 2 domain(s), first sub.tricky, ndots 1' "$d/helperd.log" ||
    e2e_fail "dot-helperd did not read the search list from /etc/resolv.conf"

# shellcheck source=compare.sh source-path=SCRIPTDIR
. "$(dirname "$0")/compare.sh"
e2e_build_probe

check() {
    local db=$1 key=$2 norm=norm_sort
    shift 2
    case $db in ahosts*) norm=norm_ahosts ;; esac
    if compare "$norm" getent "$db" "$key"; then
        expect "getent $db $(short "$key")" "$@" || true
    fi
}

norm_probe() {
    LC_ALL=C sort
}

probe() {
    if compare norm_probe "$d/nss-probe" "$1" "$2"; then
        expect "nss-probe $1 $(short "$2")" 0 '.' || true
    fi
}

# all4 NAME "RC RC RC RC": getent hosts, ahosts, ahostsv4 and ahostsv6 agree
# and exit with these codes (one code: the same for all four); then the probe.
all4() {
    local name=$1 db rc re
    # shellcheck disable=SC2086
    set -- $2 $2 $2 $2
    for db in hosts ahosts ahostsv4 ahostsv6; do
        rc=$1
        shift
        re=''
        [ "$rc" -ne 0 ] || re='.'
        check "$db" "$name" "$rc" $re || true
    done
    probe name "$name"
}

A='[[:space:]]+'

# Plain answers (through the search list: as-is first, one dot).
check hosts v4.tricky 0 "^198\.51\.100\.1${A}v4\.tricky$" 1
check ahosts both.tricky 0 "^(198\.51\.100\.2|2001:db9::1)${A}STREAM" 2
all4 v6.tricky "0 0 2 0"

# 40 addresses (over 512 octets), and 300 A + 100 AAAA (over 4096): every
# one comes back, through the module's ERANGE retries.
check hosts many40.tricky 0 "^198\.18\.0\.[0-9]+${A}many40\.tricky$" 40
check ahostsv4 many40.tricky 0 "${A}STREAM" 40
probe name many40.tricky
check hosts many300.tricky 0 "^2001:db9::3:[0-9a-f]+${A}many300\.tricky$" 100
check ahostsv4 many300.tricky 0 "^198\.18\.[12]\.[0-9]+${A}STREAM" 300
check ahostsv6 many300.tricky 0 "^2001:db9::3:[0-9a-f]+${A}STREAM" 100
check ahosts many300.tricky 0 "${A}STREAM" 400
probe name many300.tricky

# CNAME chains: 1, 3 and 8 deep (the 8 crossing into other. and back), and
# one straight into another zone.
check hosts c1.tricky 0 "^198\.51\.100\.1${A}v4\.tricky c1\.tricky$" 1
all4 c1.tricky 0
check hosts c3.tricky 0 "^2001:db9::1${A}both\.tricky c3\.tricky c3a\.tricky c3b\.tricky$" 1
all4 c3.tricky 0
check hosts c8.tricky 0 "^2001:db9::8${A}c8-8\.tricky c8\.tricky c8-1\.tricky c8-2\.other c8-3\.other c8-4\.tricky c8-5\.tricky c8-6\.tricky c8-7\.tricky$" 1
all4 c8.tricky 0
all4 cross.tricky 0
check ahostsv4 cross.tricky 0 "^198\.51\.100\.77${A}STREAM host\.other$" 1

# A CNAME loop, a CNAME into nothing, NXDOMAIN, NODATA, SERVFAIL.
all4 loop1.tricky 2
all4 dangling.tricky 2
all4 nx.tricky 2
all4 nodata.tricky 2
all4 x.broken.tricky 2
all4 broken.tricky 2

# The longest label and the longest name.
check hosts "$L63.tricky" 0 "^198\.51\.100\.63${A}$L63\.tricky$" 1
all4 "$L63.tricky" 0
all4 "$L63.$L63.tricky" "0 0 2 0"
check hosts "$N253" 0 "^198\.51\.100\.253${A}$N253$" 1
all4 "$N253" 0
# One octet more is answered NOTFOUND at once, without a query.
rc_dot=0
e2e_via dot getent hosts "$L63${L63:0:1}.tricky" >"$d/dot.raw" 2>&1 || rc_dot=$?
expect "getent hosts <64-octet label>" 2 || true

# Case: as asked, as in the zone, and the same name again in other cases
# once the daemon has it cached.
check hosts MIXED.TRICKY 0 "^198\.51\.100\.10${A}MIXED\.TRICKY$" 1
check hosts mixed.tricky 0 "^198\.51\.100\.10${A}mixed\.tricky$" 1
all4 MiXeD.tricky 0
# (Unbound hands back owner names in lower case, and a suffix shared with
# the question as the question spells it.)
check hosts mixcname.tricky 0 "^198\.51\.100\.11${A}mixed-target\.tricky mixcname\.tricky$" 1
all4 MIXCNAME.Tricky 0

# A wildcard.
all4 anything.wild.tricky 0
all4 a.b.wild.TRICKY 0

# The search list: short names, a name found only under a search domain
# after its as-is try failed, NODATA under a domain, nothing anywhere.
check hosts short 0 "^198\.51\.100\.50${A}short\.tricky$" 1
all4 short 0
check hosts host 0 "^198\.51\.100\.52${A}host\.sub\.tricky$" 1
all4 host 0
all4 host.sub 0
all4 nodata 2
all4 nothere 2
all4 v4.tricky. 0
all4 short. 2

# Names whose text form needs escaping (DESIGN.md invariant 7): nss_dns
# refuses names that are not host names (res_hnok) without a query, and a
# name spelt with escapes that is a host name is asked for as its octets.
for n in 'a b.tricky' 'a@b.tricky' 'a(b.tricky' 'a"b.tricky' 'a\065b.tricky' \
    "$(printf 'caf\303\251.tricky')" 'a\.b.tricky' 'v\4.tricky' 'sp\032ace.tricky' \
    'a\\b.tricky' 'trailing\.tricky' ''; do
    all4 "$n" 2
done
# (getent takes a leading dash for an option: the probe only.)
probe name -lead.tricky
all4 mid.-dash.tricky 0
# A name that is asked (a host name spelt with escapes) and is not there
# is answered at once: its NXDOMAIN matches the question octet for octet.
t0=$(e2e_now_ms)
rc_dot=0
e2e_via dot getent ahosts 'a\065b.tricky' >"$d/dot.raw" 2>&1 || rc_dot=$?
t_esc=$(($(e2e_now_ms) - t0))
e2e_log "getent ahosts a\\065b.tricky (NXDOMAIN) answered in $t_esc ms"
expect "getent ahosts a\\065b.tricky" 2 || true
if [ "$t_esc" -gt 1000 ]; then
    n_failed=$((n_failed + 1))
    failed_list="$failed_list
  slow: getent ahosts a\\065b.tricky took $t_esc ms"
fi
all4 '\118\052.tricky' 0
check hosts '\118\052.tricky' 0 "^198\.51\.100\.1${A}v4\.tricky$" 1
all4 '\086\052.TRICKY' 0
all4 '_under.tricky' 0
all4 under.tricky 2
all4 . 2

# Big answers: 400 A + 400 AAAA, and the most A records one message holds.
# (CNAME chains longer than Unbound follows are in chains.sh.)
check hosts many800.tricky 0 "^2001:db9::8:[0-9a-f]+${A}many800\.tricky$" 400
check ahosts many800.tricky 0 "${A}STREAM" 800
check ahostsv4 many800.tricky 0 "${A}STREAM" 400
check ahostsv6 many800.tricky 0 "${A}STREAM" 400
probe name many800.tricky
check ahostsv4 max.tricky 0 "${A}STREAM" 4093
check hosts max.tricky 0 "^198\.20\.[0-9]+\.[0-9]+${A}max\.tricky$" 4093
probe name max.tricky

# Reverse: IPv4 and IPv6, one PTR name and two (a bad one first, last), and none.
for a in 198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 2001:db9::1 2001:db9::2 2001:db9::3; do
    compare norm_sort getent hosts "$a" || true
    probe addr "$a"
done
check hosts 198.51.100.1 0 "^198\.51\.100\.1${A}v4\.tricky$" 1
check hosts 2001:db9::2 0 "^2001:db9::2${A}(one|two)\.tricky" 1

kill -0 "$E2E_DAEMON_PID" 2>/dev/null || { n_failed=$((n_failed + 1)); e2e_log "dot-helperd died during the test"; }
e2e_stop_daemon

e2e_log "$n_checks comparisons, $n_failed failed, $(($(e2e_now_ms) - t_start)) ms"
[ "$n_failed" -eq 0 ] || { printf 'failed:%s\n' "$failed_list" >&2; exit 1; }
