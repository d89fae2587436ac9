# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib.sh: the shared harness of the end-to-end tests (and of demo.sh).
#
# A test sources this file and calls e2e_init "$@" first. e2e_init re-executes
# the script inside fresh mount, network, UTS and PID namespaces (unshare), so
# that 127.0.0.1:53 and :853 are free, nothing reaches the outside, and every
# process still running when the script ends dies with the namespace. Inside,
# it brings up lo with one extra address per family (AI_ADDRCONFIG ignores
# 127.0.0.1 and ::1), makes a temporary directory, bind-mounts a minimal
# /etc/hosts and a resolv.conf naming only 127.0.0.1, and installs a cleanup
# trap that stops every process started here by PID.
#
# Then: e2e_make_ca / e2e_make_cert / e2e_spki_pin (throwaway PKI),
# e2e_start_unbound (a real Unbound serving the test zones plain and over TLS),
# e2e_write_daemon_config / e2e_start_daemon / e2e_stop_daemon (dot-helperd),
# e2e_via dot|dns CMD... (CMD with nsswitch.conf "hosts: files dot" or
# "hosts: files dns"). Nothing here touches the machine's real /etc files:
# every change is a bind mount inside the private mount namespace.
#
# Inputs (environment): top_builddir (absolute; module in .libs/, daemon in
# helperd/), SANITIZERS (yes|no), CC, E2E_VALGRIND (1: run the daemon under
# valgrind memcheck; make check-valgrind sets it). Exit codes: 77 skip, 99
# harness error.

E2E_SKIP=77
E2E_HARD=99

# Deadlines, in tenths of a second: every wait polls for its condition and
# gives up at the deadline. Sanitizer builds start slower.
E2E_READY_DS=${E2E_READY_DS:-150}
E2E_STOP_DS=${E2E_STOP_DS:-100}
# Upper bound for one command run through e2e_via (a hung lookup is a failure,
# not a hung test suite).
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-30}
# Under valgrind the daemon starts and stops several times slower; it exits
# with VALGRIND_STATUS when memcheck found an invalid access or a definite
# leak (see e2e_stop_daemon).
E2E_VALGRIND=${E2E_VALGRIND:-}
E2E_VALGRIND_STATUS=97
if [ -n "$E2E_VALGRIND" ]; then
    E2E_READY_DS=$((E2E_READY_DS * 3))
    E2E_STOP_DS=$((E2E_STOP_DS * 3))
fi

# Extra loopback addresses: getaddrinfo's AI_ADDRCONFIG needs an address of
# each family other than 127.0.0.1 and ::1.
E2E_LO4=127.0.0.2/8
E2E_LO6=2001:db8:ffff::1/128

e2e_log() { printf '%s: %s\n' "${E2E_NAME:-e2e}" "$*" >&2; }
e2e_skip() { e2e_log "SKIP: $*"; exit "$E2E_SKIP"; }
e2e_hard() { e2e_log "HARNESS ERROR: $*"; exit "$E2E_HARD"; }
e2e_fail() { e2e_log "FAIL: $*"; exit 1; }

# Milliseconds since the epoch.
e2e_now_ms() { date +%s%3N; }

# e2e_wait_for DECISECONDS WHAT CMD...: poll CMD until it succeeds or the
# deadline passes; returns 1 on timeout.
e2e_wait_for() {
    local limit=$1 what=$2 i=0
    shift 2
    while ! "$@"; do
        i=$((i + 1))
        if [ "$i" -ge "$limit" ]; then
            e2e_log "timed out after $((limit / 10)) s waiting for $what"
            return 1
        fi
        sleep 0.1
    done
}

# --- namespace ------------------------------------------------------------------

e2e_need_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || e2e_skip "$t is not installed"
    done
}

# e2e_init "$@": re-exec the calling script inside the namespaces, then set up
# the inside. Sets E2E_DIR (the temp dir) and E2E_NAME.
e2e_init() {
    E2E_NAME=$(basename "$0" .sh)
    # Set by debian/rules: the package build runs only the unit tests.
    [ -z "${NSS_DOT_SKIP_E2E:-}" ] ||
        e2e_skip "NSS_DOT_SKIP_E2E is set (package build); end-to-end tests run in CI: tests/run-all.sh"
    if [ -z "${E2E_IN_NS:-}" ]; then
        [ "$(id -u)" -eq 0 ] || e2e_skip "needs root (unshare, bind mounts, port 53)"
        e2e_need_tools unshare ip mount getent unbound openssl kdig timeout
        local script
        script=$(readlink -f "$0")
        # PID namespace first (a safety net: when the script ends, the kernel
        # kills whatever it left behind); plain mount+net+uts as a fallback.
        if unshare -m -n -u -p -f --kill-child --mount-proc true 2>/dev/null; then
            E2E_IN_NS=pid exec unshare -m -n -u -p -f --kill-child --mount-proc \
                bash "$script" "$@"
        elif unshare -m -n -u true 2>/dev/null; then
            E2E_IN_NS=nopid exec unshare -m -n -u bash "$script" "$@"
        fi
        e2e_skip "unshare -m -n -u is not permitted here"
    fi
    export -n E2E_IN_NS 2>/dev/null || true

    # A predictable, dot-free host name: glibc's resolver derives a search
    # domain from a dotted host name, the daemon might not.
    hostname nss-dot-e2e || e2e_hard "cannot set the host name in the UTS namespace"
    mount --make-rprivate / || e2e_hard "cannot make mounts private"
    ip link set lo up || e2e_hard "cannot bring lo up"
    ip addr add "$E2E_LO4" dev lo || e2e_hard "cannot add $E2E_LO4 to lo"
    [ -e /proc/sys/net/ipv6 ] || e2e_skip "the kernel has no IPv6 (AAAA and ahostsv6 cases need it)"
    ip -6 addr add "$E2E_LO6" dev lo nodad || e2e_hard "cannot add $E2E_LO6 to lo"

    local base=${TMPDIR:-/tmp}
    # Unix socket paths are limited to 108 bytes.
    [ "${#base}" -le 40 ] || base=/tmp
    E2E_DIR=$(mktemp -d "$base/nss-dot-e2e.XXXXXX") || e2e_hard "mktemp failed"
    E2E_PIDS=""
    E2E_DAEMON_PID=""
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP

    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$E2E_DIR/hosts"
    printf 'nameserver 127.0.0.1\n' >"$E2E_DIR/resolv.conf"
    e2e_write_nsswitch "$E2E_DIR/nsswitch-dot.conf" "files dot"
    e2e_write_nsswitch "$E2E_DIR/nsswitch-dns.conf" "files dns"
    e2e_bind "$E2E_DIR/hosts" /etc/hosts
    e2e_bind "$E2E_DIR/resolv.conf" /etc/resolv.conf
    # A running nscd would answer getent from its cache: hide its socket.
    local d
    for d in /run/nscd /var/run/nscd; do
        if [ -d "$d" ]; then
            mount -t tmpfs tmpfs "$d" || e2e_hard "cannot hide $d"
        fi
    done

    # Some tests run the build's programs as nobody, who may not get through
    # the directories above the build tree (a clone under /root): in this
    # mount namespace the build tree is seen under the test's directory
    # too, read-only, and used from there. The host sees no change.
    chmod 0711 "$E2E_DIR"
    if [ -n "${top_builddir:-}" ]; then
        mkdir -m 0755 "$E2E_DIR/build"
        { mount --bind "$top_builddir" "$E2E_DIR/build" &&
            mount -o remount,bind,ro "$E2E_DIR/build"; } ||
            e2e_hard "cannot bind-mount the build tree into $E2E_DIR"
        top_builddir=$E2E_DIR/build
    fi
    E2E_MODULE_DIR=""
    E2E_DAEMON=""
    if [ -n "${top_builddir:-}" ]; then
        E2E_MODULE_DIR="$top_builddir/.libs"
        E2E_DAEMON="$top_builddir/helperd/dot-helperd"
    fi
    E2E_SANITIZER_PRELOAD=""
    # A module linked against libasan cannot be loaded into an uninstrumented
    # getent without the runtime preloaded: trust the module over SANITIZERS.
    if [ "${SANITIZERS:-no}" != yes ] && [ -e "$E2E_MODULE_DIR/libnss_dot.so.2" ] &&
        command -v objdump >/dev/null 2>&1 &&
        objdump -p "$E2E_MODULE_DIR/libnss_dot.so.2" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
        e2e_log "note: SANITIZERS='${SANITIZERS:-}' but the module links libasan: treating it as SANITIZERS=yes"
        SANITIZERS=yes
    fi
    if [ "${SANITIZERS:-no}" = yes ]; then
        local cc=${CC:-cc} asan ubsan
        # CC may carry flags ("gcc -std=gnu11"): word splitting is wanted.
        # shellcheck disable=SC2086
        asan=$($cc -print-file-name=libasan.so)
        # shellcheck disable=SC2086
        ubsan=$($cc -print-file-name=libubsan.so)
        if [ ! -e "$asan" ] || [ ! -e "$ubsan" ]; then
            e2e_hard "SANITIZERS=yes but $cc has no libasan/libubsan"
        fi
        E2E_SANITIZER_PRELOAD="$asan $ubsan"
        E2E_READY_DS=$((E2E_READY_DS * 2))
    fi
}

# Require the built module and daemon (a test run by make check after make).
e2e_need_build() {
    [ -n "${top_builddir:-}" ] || e2e_hard "top_builddir is not set"
    [ -e "$E2E_MODULE_DIR/libnss_dot.so.2" ] || e2e_hard "$E2E_MODULE_DIR/libnss_dot.so.2 is missing (not built?)"
    [ -x "$E2E_DAEMON" ] || e2e_hard "$E2E_DAEMON is missing (not built?)"
}

e2e_bind() {
    mount --bind "$1" "$2" || e2e_hard "cannot bind-mount $1 on $2"
}

e2e_write_nsswitch() {
    cat >"$1" <<EOF
passwd:   files
group:    files
shadow:   files
hosts:    $2
networks: files
protocols: files
services: files
EOF
}

# Print the last lines of every log when the test did not pass: in CI the
# temp dir is gone afterwards.
e2e_dump_logs() {
    local f
    for f in "$E2E_DIR"/*.log; do
        [ -s "$f" ] || continue
        printf '%s\n' "----- ${f##*/} (last 40 lines) -----" >&2
        tail -n 40 "$f" >&2
    done
}

# e2e_stop_pid PID NAME: SIGTERM, wait (bounded), SIGKILL as a last resort.
# Returns the process's exit status (only meaningful for our own children).
e2e_stop_pid() {
    local pid=$1 what=$2 i=0 rc=0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; return "$rc"; }
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$(e2e_state "$pid")" != Z ]; do
        i=$((i + 1))
        if [ "$i" -ge "$E2E_STOP_DS" ]; then
            e2e_log "$what (pid $pid) ignored SIGTERM for $((E2E_STOP_DS / 10)) s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

# Process state letter (Z for a zombie that only needs reaping).
e2e_state() {
    local s
    s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || s=""
    printf '%s' "$s"
}

e2e_cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM HUP
    if [ -n "$E2E_DAEMON_PID" ]; then
        e2e_stop_pid "$E2E_DAEMON_PID" dot-helperd || true
        E2E_DAEMON_PID=""
    fi
    for pid in $E2E_PIDS; do
        e2e_stop_pid "$pid" "process" || true
    done
    if [ "$rc" -ne 0 ] && [ "$rc" -ne "$E2E_SKIP" ] && [ -n "${E2E_DIR:-}" ]; then
        e2e_dump_logs
    fi
    # Never let rm reach the build tree through its bind mount.
    if [ -n "${E2E_DIR:-}" ] && mountpoint -q "$E2E_DIR/build" 2>/dev/null; then
        umount "$E2E_DIR/build" 2>/dev/null || umount -l "$E2E_DIR/build" 2>/dev/null || true
    fi
    if [ -n "${E2E_DIR:-}" ] && mountpoint -q "$E2E_DIR/build" 2>/dev/null; then
        e2e_log "cannot unmount $E2E_DIR/build: leaving $E2E_DIR in place"
    elif [ -n "${E2E_DIR:-}" ] && [ -z "${E2E_KEEP:-}" ]; then
        rm -rf "$E2E_DIR"
    elif [ -n "${E2E_DIR:-}" ]; then
        e2e_log "kept $E2E_DIR (E2E_KEEP is set)"
    fi
    exit "$rc"
}

# --- throwaway PKI --------------------------------------------------------------

# e2e_make_ca NAME: $E2E_DIR/NAME.key + NAME.pem, a self-signed EC P-256 CA.
e2e_make_ca() {
    local name=$1 d=$E2E_DIR
    cat >"$d/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
CN = nss-dot e2e CA $name
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -config "$d/$name.cnf" -keyout "$d/$name.key" -out "$d/$name.pem" -days 60 \
        >"$d/openssl.out" 2>&1 || { cat "$d/openssl.out" >&2; e2e_hard "openssl: cannot make CA $name"; }
}

# e2e_make_cert CA NAME HOST [DAYS]: $E2E_DIR/NAME.key + NAME.pem, a server
# certificate for DNS:HOST signed by CA, valid from now for DAYS days (default
# 30: longer than the daemon's 14-day expiry warning).
e2e_make_cert() {
    local ca=$1 name=$2 host=$3 days=${4:-30} d=$E2E_DIR
    cat >"$d/$name.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $host
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$host
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -config "$d/$name.cnf" -keyout "$d/$name.key" -out "$d/$name.csr" &&
        openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" \
            -set_serial "0x$(openssl rand -hex 8)" -days "$days" \
            -extfile "$d/$name.cnf" -extensions leaf_ext -out "$d/$name.pem"; } \
        >"$d/openssl.out" 2>&1 || { cat "$d/openssl.out" >&2; e2e_hard "openssl: cannot make certificate $name"; }
}

# e2e_spki_pin CERT.pem: base64(SHA-256(DER SubjectPublicKeyInfo)), the form
# kdig +tls-pin takes and prints.
e2e_spki_pin() {
    openssl x509 -in "$1" -noout -pubkey |
        openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -binary |
        openssl base64 -A
}

# --- Unbound --------------------------------------------------------------------

# The test zones. Unbound has default local zones for "test." and for the
# RFC 6303 reverse zones of the documentation prefixes: turned off with
# "nodefault" below so that the auth zones are served.
E2E_ZONES="test. 2.0.192.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa."

# e2e_ptr6 ADDR: the ip6.arpa owner name of a fully written IPv6 address
# given as 32 hex digits.
e2e_ptr6() {
    printf '%s' "$1" | rev | sed 's/./&./g'
    printf 'ip6.arpa.'
}

# Write the zone files into $E2E_DIR/zones/. The data: documentation addresses
# (192.0.2.0/24, 2001:db8::/32) under "test.".
e2e_write_zones() {
    local z=$E2E_DIR/zones i
    mkdir -p "$z"
    {
        cat <<'EOF'
$ORIGIN test.
$TTL 300
@        SOA   ns.test. hostmaster.test. 1 3600 600 86400 60
@        NS    ns.test.
ns       A     127.0.0.1
dns      A     127.0.0.1
v4       A     192.0.2.1
v6       AAAA  2001:db8::1:1
both     A     192.0.2.2
both     AAAA  2001:db8::2:2
cname    CNAME cname-hop.test.
cname-hop CNAME target.test.
target   A     192.0.2.3
target   AAAA  2001:db8::3:3
cname3   CNAME c3-hop1.test.
c3-hop1  CNAME c3-hop2.test.
c3-hop2  CNAME v4.test.
dangling CNAME nowhere.test.
txt      TXT   "no address here"
multi    A     192.0.2.4
multi    A     192.0.2.5
multi    A     192.0.2.6
EOF
        for i in $(seq 100 139); do
            printf 'many     A     192.0.2.%s\n' "$i"
        done
        for i in $(seq 1 8); do
            printf 'many     AAAA  2001:db8::64:%x\n' "$i"
        done
    } >"$z/test.zone"
    cat >"$z/v4.zone" <<'EOF'
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@        SOA   ns.test. hostmaster.test. 1 3600 600 86400 60
@        NS    ns.test.
1        PTR   v4.test.
2        PTR   both.test.
EOF
    {
        cat <<'EOF'
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
$TTL 300
@        SOA   ns.test. hostmaster.test. 1 3600 600 86400 60
@        NS    ns.test.
EOF
        printf '%s PTR v6.test.\n' "$(e2e_ptr6 20010db8000000000000000000010001)"
        printf '%s PTR both.test.\n' "$(e2e_ptr6 20010db8000000000000000000020002)"
    } >"$z/v6.zone"
}

# E2E_UNBOUND_STUBS="zone. ...": zones Unbound resolves by asking the
# authoritative server at E2E_UNBOUND_STUB_ADDR (e.g. an NSD on 127.0.0.3)
# instead of serving them itself; it may then query loopback addresses only.
E2E_UNBOUND_STUBS=${E2E_UNBOUND_STUBS:-}
E2E_UNBOUND_STUB_ADDR=${E2E_UNBOUND_STUB_ADDR:-127.0.0.3}

# E2E_UNBOUND_EXTRA: more lines for Unbound's server: clause (each indented
# four spaces), e.g. a shorter tcp-idle-timeout for a test of idle closes.
E2E_UNBOUND_EXTRA=${E2E_UNBOUND_EXTRA:-}

# The "who may Unbound ask" lines: nobody, or loopback only with stubs.
e2e_unbound_no_query() {
    if [ -z "$E2E_UNBOUND_STUBS" ]; then
        printf '    # Never ask anyone else.\n    do-not-query-localhost: yes\n'
        printf '    do-not-query-address: 0.0.0.0/0\n    do-not-query-address: ::/0\n'
        return
    fi
    printf '    # Ask the stub on loopback, nobody else (every IPv4 block but 127/8).\n'
    printf '    do-not-query-localhost: no\n    do-not-query-address: ::/0\n'
    printf '    do-not-query-address: %s\n' 0.0.0.0/2 64.0.0.0/3 96.0.0.0/4 112.0.0.0/5 \
        120.0.0.0/6 124.0.0.0/7 126.0.0.0/8 128.0.0.0/1
}

# e2e_start_nsd ADDR FILE:ORIGIN...: start NSD answering each zone from
# $E2E_DIR/nsd/FILE.zone (written by the caller) for ORIGIN, plain on
# ADDR@53; ready once the first zone's SOA answers.
e2e_start_nsd() {
    local addr=$1 z=$E2E_DIR/nsd conf=$E2E_DIR/nsd/nsd.conf pid zone
    shift
    cat >"$conf" <<EOF
server:
    ip-address: $addr
    port: 53
    username: ""
    chroot: ""
    zonesdir: "$z"
    database: ""
    pidfile: "$z/nsd.pid"
    xfrdfile: "$z/xfrd.state"
    xfrdir: "$z"
    zonelistfile: "$z/zone.list"
    logfile: "$E2E_DIR/nsd.log"
    server-count: 1
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
EOF
    for zone in "$@"; do
        printf 'zone:\n    name: "%s"\n    zonefile: "%s.zone"\n' "${zone#*:}" "${zone%%:*}" >>"$conf"
    done
    nsd -d -c "$conf" >>"$E2E_DIR/nsd.log" 2>&1 &
    pid=$!
    E2E_PIDS="$E2E_PIDS $pid"
    e2e_wait_for "$E2E_READY_DS" "nsd on $addr@53" e2e_alive_and "$pid" \
        e2e_soa_ok "$addr" "${1#*:}" || e2e_hard "nsd did not answer on $addr@53"
}

# e2e_soa_ok ADDR ZONE [kdig options]: ADDR answers ZONE's SOA.
e2e_soa_ok() {
    local addr=$1 zone=$2
    shift 2
    kdig @"$addr" "$@" +time=1 +retry=0 +short SOA "$zone" 2>/dev/null | grep -q hostmaster
}

# e2e_start_unbound NAME ADDR CERT [CA]: start an Unbound instance named NAME
# that answers the test zones authoritatively, plain on ADDR@53 and over TLS on
# ADDR@853 with $E2E_DIR/CERT.pem + CERT.key. It never queries anything
# outside (no recursion target is allowed, and the namespace has only lo).
# Logs every query it answers to $E2E_DIR/unbound-NAME.log. Waits until both
# ports answer; the TLS one is checked with kdig against $E2E_DIR/CA.pem
# (default "ca") and the name in CERT, so the instance serves what we think.
e2e_start_unbound() {
    local name=$1 addr=$2 cert=$3 ca=${4:-ca} d=$E2E_DIR
    local ud=$d/unbound-$name conf=$d/unbound-$name.conf zone
    [ -d "$d/zones" ] || e2e_write_zones
    mkdir -p "$ud"
    cat >"$conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$ud"
    pidfile: "$ud/unbound.pid"
    logfile: "$d/unbound-$name.log"
    use-syslog: no
    verbosity: 1
    log-queries: yes
    log-replies: no
    log-time-ascii: yes
    num-threads: 1
    interface-automatic: no
    interface: $addr@53
    interface: $addr@853
    tls-port: 853
    tls-service-key: "$d/$cert.key"
    tls-service-pem: "$d/$cert.pem"
    do-ip4: yes
    do-ip6: yes
    do-udp: yes
    do-tcp: yes
    so-reuseport: no
    outgoing-range: 16
    incoming-num-tcp: 64
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    module-config: "iterator"
$(e2e_unbound_no_query)
    hide-identity: yes
    hide-version: yes
    minimal-responses: yes
    # Answers in zone-file order, so both paths see the same order.
    rrset-roundrobin: no
EOF
    [ -z "$E2E_UNBOUND_EXTRA" ] || printf '%s\n' "$E2E_UNBOUND_EXTRA" >>"$conf"
    for zone in $E2E_ZONES $E2E_UNBOUND_STUBS; do
        printf '    local-zone: "%s" nodefault\n' "$zone" >>"$conf"
    done
    for zone in $E2E_UNBOUND_STUBS; do
        printf 'stub-zone:\n    name: "%s"\n    stub-addr: %s\n' "$zone" "$E2E_UNBOUND_STUB_ADDR" >>"$conf"
    done
    cat >>"$conf" <<EOF
auth-zone:
    name: "test."
    zonefile: "$d/zones/test.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
auth-zone:
    name: "2.0.192.in-addr.arpa."
    zonefile: "$d/zones/v4.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
auth-zone:
    name: "8.b.d.0.1.0.0.2.ip6.arpa."
    zonefile: "$d/zones/v6.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
remote-control:
    control-enable: no
EOF
    unbound-checkconf "$conf" >"$d/unbound-$name.check" 2>&1 ||
        { cat "$d/unbound-$name.check" >&2; e2e_hard "unbound-checkconf rejects $conf"; }
    unbound -d -c "$conf" >>"$d/unbound-$name.log" 2>&1 &
    local pid=$!
    E2E_PIDS="$E2E_PIDS $pid"
    e2e_wait_for "$E2E_READY_DS" "unbound $name on $addr@53" \
        e2e_alive_and "$pid" e2e_dns_ok "$addr" ||
        e2e_hard "unbound $name did not answer on $addr@53"
    e2e_wait_for "$E2E_READY_DS" "unbound $name on $addr@853 (TLS)" \
        e2e_alive_and "$pid" e2e_dot_ok "$addr" "$cert" "$ca" ||
        e2e_hard "unbound $name did not answer over TLS on $addr@853"
}

# e2e_alive_and PID CMD...: CMD succeeds; aborts the wait when PID died.
e2e_alive_and() {
    local pid=$1
    shift
    if ! kill -0 "$pid" 2>/dev/null || [ "$(e2e_state "$pid")" = Z ]; then
        e2e_hard "process $pid exited early"
    fi
    "$@"
}

# An SOA answer for test. over plain DNS.
e2e_dns_ok() {
    kdig @"$1" -p 53 +time=1 +retry=0 +short SOA test. 2>/dev/null | grep -q hostmaster
}

# e2e_cert_name CERT: the first DNS name in $E2E_DIR/CERT.pem's SAN.
e2e_cert_name() {
    openssl x509 -in "$E2E_DIR/$1.pem" -noout -ext subjectAltName 2>/dev/null |
        sed -n 's/.*DNS:\([^,]*\).*/\1/p' | head -n 1
}

# e2e_dot_ok ADDR CERT CA: an SOA answer for test. over TLS on ADDR@853, the
# chain validated against CA and the certificate's own name.
e2e_dot_ok() {
    kdig @"$1" -p 853 +tls-ca="$E2E_DIR/$3.pem" +tls-hostname="$(e2e_cert_name "$2")" \
        +time=1 +retry=0 +short SOA test. 2>/dev/null | grep -q hostmaster
}

# --- dot-helperd ----------------------------------------------------------------

# e2e_write_daemon_config FILE [--address A] [--port P] [--auth-name N]
#   [--pin PIN]... [--ca FILE] [--query-ms N] [--connect-ms N] [--attempts N]
#   [--socket PATH]
# Defaults: 127.0.0.1:853, auth_name dns.test, ca $E2E_DIR/ca.pem, socket
# $E2E_DIR/run/socket. --auth-name "" leaves auth_name out.
e2e_write_daemon_config() {
    local file=$1
    shift
    local address=127.0.0.1 port=853 auth=dns.test ca=$E2E_DIR/ca.pem
    local query_ms=2000 connect_ms=1000 attempts=2 pins="" sock=$E2E_DIR/run/socket
    while [ $# -gt 0 ]; do
        case $1 in
            --address) address=$2 ;;
            --port) port=$2 ;;
            --auth-name) auth=$2 ;;
            --pin) pins="${pins:+$pins, }\"$2\"" ;;
            --ca) ca=$2 ;;
            --query-ms) query_ms=$2 ;;
            --connect-ms) connect_ms=$2 ;;
            --attempts) attempts=$2 ;;
            --socket) sock=$2 ;;
            *) e2e_hard "e2e_write_daemon_config: unknown option $1" ;;
        esac
        shift 2
    done
    local up="address = \"$address\"; port = $port;"
    [ -z "$auth" ] || up="$up auth_name = \"$auth\";"
    [ -z "$pins" ] || up="$up spki_pins = ( $pins );"
    mkdir -p "$E2E_DIR/run"
    cat >"$file" <<EOF
# written by tests/e2e/lib.sh
mode = "strict";
ca_file = "$ca";
upstreams = ( { $up } );
timeouts = { query_ms = $query_ms; connect_ms = $connect_ms; attempts = $attempts; };
socket = "$sock";
control_socket = "$E2E_DIR/run/control";
user = "root";
log_level = "debug";
EOF
}

# e2e_start_daemon CONFIG: check the config, start dot-helperd in the
# foreground and wait until its lookup socket exists (it binds a temporary
# name and renames it into place). Sets E2E_DAEMON_PID and
# E2E_SOCKET. Logs to $E2E_DIR/helperd.log (appended across restarts).
e2e_start_daemon() {
    local conf=$1 log=$E2E_DIR/helperd.log
    [ -z "$E2E_DAEMON_PID" ] || e2e_hard "dot-helperd is already running"
    E2E_SOCKET=$(sed -n 's/^socket = "\(.*\)";$/\1/p' "$conf")
    [ -n "$E2E_SOCKET" ] || e2e_hard "no socket in $conf"
    printf '===== %s: dot-helperd -c %s\n' "$(date +%T.%3N)" "$conf" >>"$log"
    "$E2E_DAEMON" --check-config -c "$conf" >>"$log" 2>&1 ||
        e2e_fail "dot-helperd --check-config rejects $conf: $(tail -n 3 "$log")"
    # A stale socket file (from a killed daemon) is not readiness: wait for
    # the new daemon's rename to replace it.
    local stale
    stale=$(stat -c %d:%i "$E2E_SOCKET" 2>/dev/null) || stale=""
    local wrap=()
    if [ -n "$E2E_VALGRIND" ]; then
        command -v valgrind >/dev/null || e2e_hard "E2E_VALGRIND set but valgrind is not installed"
        wrap=(valgrind --quiet --error-exitcode="$E2E_VALGRIND_STATUS" --leak-check=full
            --show-leak-kinds=definite --errors-for-leak-kinds=definite
            --log-file="$E2E_DIR/valgrind.%p.log")
    fi
    "${wrap[@]}" "$E2E_DAEMON" -f -c "$conf" >>"$log" 2>&1 &
    E2E_DAEMON_PID=$!
    local i=0
    while [ ! -S "$E2E_SOCKET" ] || [ "$(stat -c %d:%i "$E2E_SOCKET" 2>/dev/null)" = "$stale" ]; do
        if ! kill -0 "$E2E_DAEMON_PID" 2>/dev/null || [ "$(e2e_state "$E2E_DAEMON_PID")" = Z ]; then
            local rc=0
            wait "$E2E_DAEMON_PID" || rc=$?
            E2E_DAEMON_PID=""
            e2e_fail "dot-helperd exited with status $rc before its socket appeared"
        fi
        i=$((i + 1))
        [ "$i" -lt "$E2E_READY_DS" ] ||
            e2e_fail "dot-helperd did not create $E2E_SOCKET within $((E2E_READY_DS / 10)) s"
        sleep 0.1
    done
}

# e2e_stop_daemon: SIGTERM, wait (bounded). A clean exit is 0 (or death by
# the SIGTERM itself, 143); anything else (a sanitizer report, a crash) fails.
e2e_stop_daemon() {
    local rc=0
    [ -n "$E2E_DAEMON_PID" ] || return 0
    e2e_stop_pid "$E2E_DAEMON_PID" dot-helperd || rc=$?
    E2E_DAEMON_PID=""
    case $rc in
        0 | 143) ;;
        "$E2E_VALGRIND_STATUS")
            [ -z "$E2E_VALGRIND" ] || cat "$E2E_DIR"/valgrind.*.log >&2
            e2e_fail "valgrind memcheck found errors in dot-helperd (above)"
            ;;
        *) e2e_fail "dot-helperd exited with status $rc on SIGTERM" ;;
    esac
}

# e2e_build_probe: nss-probe.c into $E2E_DIR/nss-probe (libc only, no
# sanitizer: the preload covers the module); it prints what getent hides.
e2e_build_probe() {
    # CC may carry flags: word splitting is wanted.
    # shellcheck disable=SC2086
    ${CC:-cc} -std=gnu11 -O1 -o "$E2E_DIR/nss-probe" "$(dirname "${BASH_SOURCE[0]}")/nss-probe.c" \
        2>"$E2E_DIR/probe-build.log" ||
        { cat "$E2E_DIR/probe-build.log" >&2; e2e_hard "cannot build nss-probe.c with ${CC:-cc}"; }
}

# e2e_build_helper NAME: build tests/e2e/NAME.c (a test peer or listener; may
# use OpenSSL) into $E2E_DIR/NAME.
e2e_build_helper() {
    local name=$1 src
    src=$(dirname "${BASH_SOURCE[0]}")/$1.c
    # shellcheck disable=SC2046
    "${CC:-cc}" -std=gnu11 -O1 -pthread -o "$E2E_DIR/$name" "$src" \
        $(pkg-config --cflags --libs libssl libcrypto) 2>"$E2E_DIR/$name-build.log" ||
        { cat "$E2E_DIR/$name-build.log" >&2; e2e_hard "cannot build $name.c"; }
}

# e2e_stats KEY: the running daemon's counter KEY, after SIGUSR1 makes it log
# them (two "stats:" lines: the resolver's, then the pool's).
e2e_stats() {
    local before log=$E2E_DIR/helperd.log
    before=$(grep -c 'info: stats:' "$log" || true)
    kill -USR1 "$E2E_DAEMON_PID"
    e2e_wait_for 50 "the stats lines" sh -c "[ \$(grep -c 'info: stats:' '$log') -ge $((before + 2)) ]" ||
        e2e_hard "the daemon did not log its stats"
    grep 'info: stats:' "$log" | tail -n 2 | sed -n "s/.* $1=\([0-9]*\).*/\1/p" | tail -n 1
}

# --- running lookups ------------------------------------------------------------

# e2e_via dot|dns CMD...: run CMD in a child mount namespace whose
# /etc/nsswitch.conf says "hosts: files dot" (module from $top_builddir,
# socket $E2E_SOCKET) or "hosts: files dns" (glibc's nss_dns against the
# resolv.conf naming 127.0.0.1). Bounded by E2E_CMD_TIMEOUT seconds.
# The inner sh expands its own positional parameters:
# shellcheck disable=SC2016
e2e_via() {
    local via=$1
    shift
    case $via in
        dot)
            local preload=()
            if [ -n "$E2E_SANITIZER_PRELOAD" ]; then
                preload=(LD_PRELOAD="$E2E_SANITIZER_PRELOAD"
                    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
            fi
            unshare -m -- sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
                sh "$E2E_DIR/nsswitch-dot.conf" \
                timeout -k 2 "$E2E_CMD_TIMEOUT" \
                env NSS_DOT_SOCKET="${E2E_SOCKET:-$E2E_DIR/run/socket}" \
                LD_LIBRARY_PATH="$E2E_MODULE_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
                "${preload[@]}" "$@"
            ;;
        dns)
            unshare -m -- sh -c 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
                sh "$E2E_DIR/nsswitch-dns.conf" \
                timeout -k 2 "$E2E_CMD_TIMEOUT" env -u NSS_DOT_SOCKET "$@"
            ;;
        *) e2e_hard "e2e_via: dot or dns, not $via" ;;
    esac
}
