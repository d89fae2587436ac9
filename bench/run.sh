#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh: the benchmark (make bench). nss-dot against what a user would pick
# instead, all behind the same simulated DoT upstream, in one invocation:
#
#   dot       getaddrinfo -> libnss_dot.so.2 -> dot-helperd --TLS--> proxy, the
#             answer map on (the default): cached answers read from the map
#   dot-nomap the same with cache.shared_map = false: every lookup over the
#             Unix socket (the socket path)
#   dot-nagle the same as dot --TLS--> proxy -N: an upstream that leaves Nagle
#             on, as Unbound as shipped does (issue 13)
#   unbound   getaddrinfo -> nss_dns -> Unbound (caching forwarder, TLS) --> proxy
#   stubby    getaddrinfo -> nss_dns -> Stubby (strict) --TLS--> proxy
#   resolved  getaddrinfo -> nss-resolve -> systemd-resolved (DNSOverTLS=yes) --> proxy
#   nscd      getaddrinfo -> nscd (hosts cache, shared) -> nss_dns -> its own Unbound
#             (configured as the unbound stack's) --TLS--> proxy
#   files     getaddrinfo -> nss_files (a private hosts file): the floor of any NSS lookup
#   unix      no NSS: one raw request/reply over a Unix socket to bench/unix-echo,
#             the floor of any "module asks a local daemon" design
#
#   proxy     bench/delay-proxy: TLS with a throwaway CA, DELAY ms one way in each
#             direction, plain TCP to an authoritative Unbound serving the zone "test."
#             A second one (-N) on another address holds every write behind an
#             unacknowledged one, as Nagle does (see delay-proxy.c).
#
# For each delay (default 0 and 10 ms): the proxy and every stack's daemon are
# started fresh (cold start: the first lookup right after each daemon is ready,
# COLD_RUNS restarts), then the workloads run with the stacks alternating:
# cached (4 names, warmed up) and uncached (a name never asked before, from a
# wildcard) with 1, 8 and 64 client threads. Costs: each daemon's CPU time per
# 10,000 lookups (from /proc), its peak RSS (VmHWM), and the TLS connections
# the proxy saw during the run.
#
# Then three more phases (issue 15): two at scale, and the allocations.
#
#   clients   CLIENTS (1024) client threads, each looking up a new name, for
#             CLIENTS_DURATION seconds at CLIENTS_DELAY (10) ms, against nss-dot
#             (map on and off) and the DoT alternatives that are installed,
#             twice: each thread back to back (the machine saturated), then
#             each once per CLIENTS_PACE_US (paced); during each, another
#             client (1 thread, a cached name, as the user nobody) is
#             measured, and measured again alone before.
#   cache     nss-dot alone (0 ms): a daemon with room for a million answers
#             (shared_map = false: every lookup asks its cache over the socket)
#             filled through real lookups (getaddrinfo AF_INET, one address per
#             name) to each of CACHE_SIZES entries, then cached lookups of names
#             picked at random among those (1 and 8 threads), and as a control
#             at the same moment among the first size's only (CACHE_ROUNDS
#             alternating rounds of each: the median round kept, and the
#             median of the rounds' ratios); the daemon's RSS
#             per entry; then churn: cache.entries reloaded to the largest
#             size (full), new names with a TTL of 1 s for CHURN seconds at a
#             steady 4,000 lookups/s (16 threads, one every 4 ms each: below
#             saturation, so that a long loop iteration is a pause, not a
#             batch), and the event loop's long iterations (dot-helperctl
#             stats) around it; with perf, the same iterations again less the
#             time the daemon was preempted in them (perf record
#             --switch-events and its epoll_wait() entries and exits).
#             The same with the answer map on, as an extra row (no churn).
#   allocs    heap allocations per lookup in the daemons (0 ms): malloc, calloc
#             and realloc of the daemon's process counted with uprobes (perf
#             probe on libc, perf record -p), ALLOCS_LOOKUPS lookups each after
#             a warm-up: nss-dot uncached at 1 and 8 threads and cached with
#             the map off (dot-nomap: every lookup over the socket), each
#             allocation put by its call chain (dwarf unwinding) under OpenSSL,
#             cache storage (cache_put, cache_answer_new) or the daemon's own
#             (with the daemon function that asked); and the total of the DoT
#             alternatives' daemons, uncached. Without perf or uprobes it is
#             reported as not measured.
#
# Everything runs inside new mount, network, UTS and PID namespaces (unshare):
# loopback only, private /etc/hosts, nsswitch.conf, resolv.conf,
# resolved.conf and CA bundle as bind mounts that vanish with the namespace.
# The machine's own files are never written (bench/install-deps.sh saves and
# restores resolv.conf and nsswitch.conf around the package install).
#
# Output: bench/results/bench-TIMESTAMP.csv and .md (the tables), and with
# --update-docs the figures section of docs/BENCHMARKS.md.
#
# usage: run.sh [--quick] [--delays "0 10"] [--duration S] [--threads "1 8 64"]
#               [--stacks "dot dot-nomap dot-nagle unbound stubby resolved nscd files unix"]
#               [--api gai|gai4|ghbn]
#               [--cold-runs N] [--update-docs] [--keep] [--no-deps] [--debug CMD]
#               [--phases "delays clients cache allocs"] [--clients N] [--clients-delay MS]
#               [--clients-duration S] [--cache-sizes "1000 10000 100000 1000000"]
#               [--cache-map-max N] [--churn S] [--allocs-lookups N]
# --quick: 0.5 s per run, one cold start, 1.5 s of 1024 clients, cache sizes up
# to 100,000, 2 s of churn and 100 lookups per allocation count (default 200).
# --cache-map-max: the largest size measured with the answer map on (its fill
# costs as much again; default 100000).
# --debug CMD runs CMD (with bash -c) inside the namespace once the first
# phase's stacks are up, instead of the workloads; "via STACK PROGRAM..." runs a
# client of one stack there (e.g. --debug 'via resolved getent ahosts c1.test').
# environment: top_srcdir, top_builddir (absolute; make bench sets them)
set -eu

# --- options ---------------------------------------------------------------------

DELAYS="0 10"
DURATION=3
THREADS="1 8 64"
STACKS="dot dot-nomap dot-nagle unbound stubby resolved nscd files unix"
API=gai
COLD_RUNS=3
UPDATE_DOCS=no
KEEP=no
DEPS=yes
DEBUG_CMD=""
PHASES="delays clients cache allocs"
CLIENTS=1024
CLIENTS_DELAY=10
CLIENTS_DURATION=5
# The paced load: each of the CLIENTS threads asks once per this many µs
# (1024 threads: 4,096 lookups/s, well under what this kind of machine can
# do in all), so that p99 shows the daemon's queues, not a saturated CPU.
CLIENTS_PACE_US=250000
CACHE_SIZES="1000 10000 100000 1000000"
CACHE_MAP_MAX=100000
CACHE_DURATION=1
# Rounds of each cached measurement at a size, alternating with its control.
CACHE_ROUNDS=5
CHURN=10
ALLOCS_LOOKUPS=200
ARGS="$*"
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
    case $1 in
        --quick)
            DURATION=0.5 COLD_RUNS=1 CLIENTS_DURATION=1.5 CACHE_DURATION=0.5 CACHE_ROUNDS=1 CHURN=2
            CACHE_SIZES="1000 10000 100000" CACHE_MAP_MAX=10000 ALLOCS_LOOKUPS=100
            ;;
        --phases) PHASES=$2 && shift ;;
        --clients) CLIENTS=$2 && shift ;;
        --clients-delay) CLIENTS_DELAY=$2 && shift ;;
        --clients-duration) CLIENTS_DURATION=$2 && shift ;;
        --cache-sizes) CACHE_SIZES=$2 && shift ;;
        --cache-map-max) CACHE_MAP_MAX=$2 && shift ;;
        --churn) CHURN=$2 && shift ;;
        --allocs-lookups) ALLOCS_LOOKUPS=$2 && shift ;;
        --delays) DELAYS=$2 && shift ;;
        --duration) DURATION=$2 && shift ;;
        --threads) THREADS=$2 && shift ;;
        --stacks) STACKS=$2 && shift ;;
        --api) API=$2 && shift ;;
        --cold-runs) COLD_RUNS=$2 && shift ;;
        --update-docs) UPDATE_DOCS=yes ;;
        --keep) KEEP=yes ;;
        --no-deps) DEPS=no ;;
        --debug) DEBUG_CMD=$2 KEEP=yes && shift ;;
        -h | --help)
            sed -n '2,/^set -eu/p' "$0" | sed -e 's/^# \{0,1\}//' -e '/^set -eu/d'
            exit 0
            ;;
        *)
            echo "run.sh: unknown option $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# The benchmark's own probe group: uprobes are the host's, not the
# namespace's, so they are added under a name nothing else uses, removed at
# the end of the phase, and removed again by the outer script whatever
# happened inside (alloc_probes_drop), a run killed midway included.
ALLOC_GROUP=nssdotbench
ALLOC_PROBES=""

# alloc_probes_drop: remove the group's probes, if there are any.
alloc_probes_drop() {
    command -v perf >/dev/null 2>&1 || return 0
    perf probe -l "$ALLOC_GROUP:*" 2>/dev/null | grep -q . || return 0
    perf probe -q -d "$ALLOC_GROUP:*" >/dev/null 2>&1 || log "could not remove the probes $ALLOC_GROUP:*"
    ALLOC_PROBES=""
}

die() {
    log "ERROR: $*"
    exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
LOADGEN=$top_builddir/bench/loadgen
PROXY=$top_builddir/bench/delay-proxy
ECHO_SERVER=$top_builddir/bench/unix-echo
MODULE_DIR=$top_builddir/.libs
DAEMON=$top_builddir/helperd/dot-helperd
CTL=$top_builddir/tools/dot-helperctl
RESULTS=$top_srcdir/bench/results

# --- outside the namespace: packages, checks, then re-exec inside ---------------

if [ -z "${BENCH_IN_NS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || die "needs root (unshare, bind mounts, ports 53/853)"
    t0=$(date +%s)
    if [ "$DEPS" = yes ]; then
        sh "$here/install-deps.sh" || die "bench/install-deps.sh failed"
    fi
    for f in "$LOADGEN" "$PROXY" "$ECHO_SERVER" "$DAEMON" "$CTL" "$MODULE_DIR/libnss_dot.so.2"; do
        [ -e "$f" ] || die "$f is missing: run 'make bench' from the build directory"
    done
    for t in unshare ip ss openssl unbound kdig timeout awk; do
        command -v "$t" >/dev/null 2>&1 || die "$t is not installed"
    done
    mkdir -p "$RESULTS"
    # The newest committed run: the report compares the socket path with it.
    BENCH_PREVIOUS=$(git -C "$top_srcdir" ls-files 'bench/results/bench-*.csv' 2>/dev/null |
        sort | tail -n 1)
    [ -z "$BENCH_PREVIOUS" ] || BENCH_PREVIOUS=$top_srcdir/$BENCH_PREVIOUS
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    if [ -n "${BENCH_VIA_MAKE:-}" ]; then
        BENCH_COMMAND="make bench${ARGS:+ BENCH_ARGS=\"$ARGS\"}"
    else
        BENCH_COMMAND="bench/run.sh${ARGS:+ $ARGS}"
    fi
    export BENCH_STAMP=$stamp BENCH_COMMAND BENCH_PREVIOUS top_srcdir top_builddir
    rc=0
    BENCH_IN_NS=1 unshare -m -n -u -p -f --kill-child --mount-proc \
        bash "$here/run.sh" "${ORIG_ARGS[@]}" --no-deps || rc=$?
    alloc_probes_drop # whatever the run inside left (the allocs phase)
    [ -z "$DEBUG_CMD" ] || exit "$rc"
    [ "$rc" -eq 0 ] || die "the benchmark failed (status $rc)"
    md=$RESULTS/bench-$stamp.md
    [ -s "$md" ] || die "no report was written"
    elapsed=$(($(date +%s) - t0))
    if [ "$UPDATE_DOCS" = yes ]; then
        bash "$here/report.sh" --update-docs "$md" "$top_srcdir/docs/BENCHMARKS.md" "$elapsed"
        log "updated docs/BENCHMARKS.md"
    fi
    cat "$md"
    log "results: $RESULTS/bench-$stamp.csv and .md; total time ${elapsed} s"
    exit 0
fi
export -n BENCH_IN_NS

# --- inside: the namespace ----------------------------------------------------------

UPSTREAM_ADDR=127.0.0.10 # authoritative Unbound, plain DNS
PROXY_ADDR=127.0.0.11    # delay-proxy, DoT on 853
NAGLE_ADDR=127.0.0.12    # delay-proxy -N (Nagle on), DoT on 853
UNBOUND_ADDR=127.0.0.21  # Unbound caching forwarder (nss_dns)
STUBBY_ADDR=127.0.0.22   # Stubby (nss_dns)
NSCD_UNBOUND_ADDR=127.0.0.23 # the Unbound forwarder behind nscd (nss_dns)
AUTH_NAME=dns.test
CACHED_NAMES=c1.test,c2.test,c3.test,c4.test
FILES_NAMES=f1.test,f2.test,f3.test,f4.test
READY_DS=150 # deadline for a daemon to become ready, tenths of a second
CMD_TIMEOUT=120

hostname nss-dot-bench
mount --make-rprivate /
W=$(mktemp -d /tmp/nss-dot-bench.XXXXXX)
ip link set lo up
# systemd-resolved answers "network down" to everything unless a non-loopback
# link with a routable address is up: a veth pair whose two ends are both in
# this namespace (it leads nowhere), with an RFC 2544 benchmarking address.
# Nothing is sent through it: every address the bench uses is on lo.
VETH_NOTE=""
if ! { ip link add bench0 type veth peer name bench1 && ip addr add 198.18.0.1/15 dev bench0 &&
    ip link set bench1 up && ip link set bench0 up; } 2>"$W/veth.log"; then
    VETH_NOTE="no veth support: $(head -n 1 "$W/veth.log")"
fi
PIDS=""
# DPID: each stack's daemon; AUXPID: a second daemon of the stack (nscd's
# Unbound), counted in its CPU time and peak RSS.
declare -A DPID AUXPID REASON

stop_pid() {
    local pid=$1 i=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -ge 100 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM HUP
    for pid in $PIDS; do
        stop_pid "$pid"
    done
    # Uprobes outlive the namespace: the allocations phase's, if it was cut short.
    [ -z "${ALLOC_PROBES:-}" ] || alloc_probes_drop
    if [ "$KEEP" = yes ] || [ "$rc" -ne 0 ]; then
        log "kept $W"
    else
        rm -rf "$W"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# start_bg LOG CMD...: start CMD in the background, remember its PID in LAST_PID.
start_bg() {
    local logf=$1
    shift
    "$@" >>"$logf" 2>&1 &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}

forget_pid() {
    local p out=""
    for p in $PIDS; do
        [ "$p" = "$1" ] || out="$out $p"
    done
    PIDS=$out
}

# wait_until PID WHAT CMD...: poll CMD every 10 ms until it succeeds; fails when
# PID dies or after READY_DS tenths of a second.
wait_until() {
    local pid=$1 what=$2 i=0
    shift 2
    while ! "$@" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || {
            log "$what: the process exited"
            return 1
        }
        i=$((i + 1))
        [ "$i" -lt $((READY_DS * 10)) ] || {
            log "$what: not ready after $((READY_DS / 10)) s"
            return 1
        }
        sleep 0.01
    done
}

udp_bound() { [ -n "$(ss -Hlnu "src $1:53")" ]; }

# Private /etc files for the whole namespace.
cat >"$W/hosts" <<EOF
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
192.0.2.91	f1.test
2001:db8::91	f1.test
192.0.2.92	f2.test
2001:db8::92	f2.test
192.0.2.93	f3.test
2001:db8::93	f3.test
192.0.2.94	f4.test
2001:db8::94	f4.test
EOF
mount --bind "$W/hosts" /etc/hosts
# A running nscd would answer from its cache; systemd's and others' sockets
# must not be reached: a private /run.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd /run/lock
# nscd's socket is at a path compiled into glibc (/run/nscd/socket): the nscd
# stack's daemon and its clients see $W/nscd-run there (a bind mount in their
# own mount namespace), every other client this empty directory: a client
# that found the socket would ask nscd first.
mkdir -p /run/nscd "$W/nscd-run"

write_nsswitch() {
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: %s\n' "$2" >"$1"
}
write_nsswitch "$W/nsswitch-dot.conf" "files dot"
write_nsswitch "$W/nsswitch-dot-nomap.conf" "files dot"
write_nsswitch "$W/nsswitch-dot-nagle.conf" "files dot"
write_nsswitch "$W/nsswitch-dot-big.conf" "files dot"
write_nsswitch "$W/nsswitch-dot-bigmap.conf" "files dot"
write_nsswitch "$W/nsswitch-unbound.conf" "files dns"
write_nsswitch "$W/nsswitch-stubby.conf" "files dns"
write_nsswitch "$W/nsswitch-resolved.conf" "files resolve"
# nscd's clients ask nscd first; nscd itself looks up through files and dns.
write_nsswitch "$W/nsswitch-nscd.conf" "files dns"
write_nsswitch "$W/nsswitch-files.conf" "files"
printf 'nameserver %s\n' "$UNBOUND_ADDR" >"$W/resolv-unbound.conf"
printf 'nameserver %s\n' "$STUBBY_ADDR" >"$W/resolv-stubby.conf"
printf 'nameserver %s\n' "$NSCD_UNBOUND_ADDR" >"$W/resolv-nscd-daemon.conf"
# Nothing listens there: a stack that fell through to plain DNS would fail.
printf 'nameserver 127.0.0.99\n' >"$W/resolv-none.conf"
mount --bind "$W/resolv-none.conf" /etc/resolv.conf

# --- throwaway PKI: CA + certificate for dns.test -----------------------------------

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=nss-dot bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$W/ca.key" -out "$W/ca.pem" >"$W/openssl.log" 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$AUTH_NAME" \
    -keyout "$W/server.key" -out "$W/server.csr" >>"$W/openssl.log" 2>&1
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s\n' \
    "$AUTH_NAME" >"$W/leaf.ext"
openssl x509 -req -in "$W/server.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -days 2 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$W/leaf.ext" -out "$W/server.pem" \
    >>"$W/openssl.log" 2>&1
# systemd-resolved has no CA option: it trusts the system store, so the
# namespace's system store is our CA alone.
mount --bind "$W/ca.pem" /etc/ssl/certs/ca-certificates.crt

# --- the upstream: an authoritative Unbound on plain port 53 --------------------------

mkdir -p "$W/upstream"
{
    cat <<'EOF'
$ORIGIN test.
$TTL 3600
@        SOA   ns.test. hostmaster.test. 1 3600 600 86400 3600
@        NS    ns.test.
ns       A     127.0.0.10
*.wild   A     192.0.2.50
*.wild   AAAA  2001:db8::50
*.churn  1 A     192.0.2.51
*.churn  1 AAAA  2001:db8::51
EOF
    for i in 1 2 3 4; do
        printf 'c%s A 192.0.2.%s\nc%s AAAA 2001:db8::%s\n' "$i" "$i" "$i" "$i"
    done
} >"$W/test.zone"
cat >"$W/upstream.conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$W/upstream"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    interface-automatic: no
    interface: $UPSTREAM_ADDR@53
    do-ip6: no
    so-reuseport: no
    incoming-num-tcp: 256
    tcp-idle-timeout: 120000
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    do-not-query-address: 0.0.0.0/0
    minimal-responses: yes
    local-zone: "test." nodefault
auth-zone:
    name: "test."
    zonefile: "$W/test.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
remote-control:
    control-enable: no
EOF
unbound-checkconf "$W/upstream.conf" >"$W/upstream.check" 2>&1 ||
    die "unbound-checkconf: $(cat "$W/upstream.check")"
start_bg "$W/upstream.log" unbound -d -c "$W/upstream.conf"
UPSTREAM_PID=$LAST_PID
upstream_ok() { kdig @"$UPSTREAM_ADDR" +time=1 +retry=0 +short SOA test. | grep -q hostmaster; }
wait_until "$UPSTREAM_PID" "upstream Unbound" upstream_ok || die "the upstream Unbound did not start"

# --- the stacks -------------------------------------------------------------------------

# dot, dot-nomap and dot-nagle: the same daemon; dot-nomap without the answer
# map, dot-nagle with its own upstream.
for s in dot:$PROXY_ADDR dot-nomap:$PROXY_ADDR dot-nagle:$NAGLE_ADDR dot-big:$PROXY_ADDR \
    dot-bigmap:$PROXY_ADDR; do
    cat >"$W/${s%%:*}.conf" <<EOF
ca_file = "$W/ca.pem";
upstreams = ( { address = "${s#*:}"; port = 853; auth_name = "$AUTH_NAME"; } );
socket = "$W/${s%%:*}/socket";
control_socket = "$W/${s%%:*}/control";
user = "root";
log_level = "info";
EOF
    mkdir -p "$W/${s%%:*}"
done
printf 'cache = { shared_map = false; };\n' >>"$W/dot-nomap.conf"
# The cache phase's daemons (dot-big: the socket path; dot-bigmap: the map on):
# room for the largest size and a tenth more, so that the fill evicts nothing.
cp "$W/dot-big.conf" "$W/dot-big.base"
cp "$W/dot-bigmap.conf" "$W/dot-bigmap.base"
CACHE_MAX=0
for n in $CACHE_SIZES; do
    [ "$n" -le "$CACHE_MAX" ] || CACHE_MAX=$n
done
printf 'cache = { entries = %d; shared_map = false; };\n' $((CACHE_MAX + CACHE_MAX / 10)) >>"$W/dot-big.conf"
printf 'cache = { entries = %d; };\n' $((CACHE_MAX + CACHE_MAX / 10)) >>"$W/dot-bigmap.conf"

# The Unbound forwarder of the unbound stack, and the same one behind nscd.
for s in unbound:$UNBOUND_ADDR unbound-nscd:$NSCD_UNBOUND_ADDR; do
    cat >"$W/${s%%:*}.conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$W"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    interface-automatic: no
    interface: ${s#*:}@53
    do-ip6: no
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    tls-cert-bundle: "$W/ca.pem"
    local-zone: "test." nodefault
forward-zone:
    name: "."
    forward-addr: $PROXY_ADDR@853#$AUTH_NAME
    forward-tls-upstream: yes
remote-control:
    control-enable: no
EOF
done

# nscd as Debian ships it (/etc/nscd.conf), the hosts cache only; nothing
# persistent (the real /var/cache/nscd is never written: see stack_start).
# Its socket, pid file and shared cache live in $W/nscd-run.
cat >"$W/nscd.conf" <<EOF
	logfile			$W/nscd-debug.log
	debug-level		0
	paranoia		no
	enable-cache		passwd		no
	enable-cache		group		no
	enable-cache		services	no
	enable-cache		netgroup	no
	enable-cache		hosts		yes
	positive-time-to-live	hosts		3600
	negative-time-to-live	hosts		20
	suggested-size		hosts		211
	check-files		hosts		yes
	persistent		hosts		no
	shared			hosts		yes
	max-db-size		hosts		33554432
EOF

mkdir -p "$W/stubby"
cat >"$W/stubby.yml" <<EOF
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list:
  - GETDNS_TRANSPORT_TLS
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
edns_client_subnet_private: 1
round_robin_upstreams: 0
idle_timeout: 10000
tls_ca_file: "$W/ca.pem"
appdata_dir: "$W/stubby"
listen_addresses:
  - $STUBBY_ADDR
upstream_recursive_servers:
  - address_data: $PROXY_ADDR
    tls_port: 853
    tls_auth_name: "$AUTH_NAME"
EOF

cat >"$W/resolved.conf" <<EOF
[Resolve]
DNS=$PROXY_ADDR#$AUTH_NAME
Domains=~.
FallbackDNS=
DNSOverTLS=yes
DNSSEC=no
Cache=yes
CacheFromLocalhost=yes
DNSStubListener=no
LLMNR=no
MulticastDNS=no
ReadEtcHosts=no
EOF
RESOLVED_BIN=""
for f in /lib/systemd/systemd-resolved /usr/lib/systemd/systemd-resolved; do
    [ -x "$f" ] && RESOLVED_BIN=$f && break
done
if [ -d /etc/systemd ]; then
    [ -e /etc/systemd/resolved.conf ] || touch "$W/resolved.conf.empty"
    if [ -e /etc/systemd/resolved.conf ]; then
        mount --bind "$W/resolved.conf" /etc/systemd/resolved.conf
    fi
    # Drop-ins would override ours.
    for d in /etc/systemd/resolved.conf.d /usr/lib/systemd/resolved.conf.d /run/systemd/resolved.conf.d; do
        [ ! -d "$d" ] || mount -t tmpfs tmpfs "$d"
    done
fi

# stack_start STACK: start the stack's daemon and wait until it is ready.
# Sets DPID[STACK]; on failure sets REASON[STACK] and returns 1.
stack_start() {
    local s=$1
    case $s in
        dot | dot-*)
            "$DAEMON" --check-config -c "$W/$s.conf" >>"$W/$s.log" 2>&1 || {
                REASON[$s]="dot-helperd --check-config failed"
                return 1
            }
            rm -f "$W/$s/socket"
            start_bg "$W/$s.log" "$DAEMON" -f -c "$W/$s.conf"
            DPID[$s]=$LAST_PID
            wait_until "$LAST_PID" dot-helperd test -S "$W/$s/socket" || {
                REASON[$s]="dot-helperd did not start (see its log)"
                return 1
            }
            ;;
        unbound)
            start_bg "$W/unbound.log" unbound -d -c "$W/unbound.conf"
            DPID[unbound]=$LAST_PID
            wait_until "$LAST_PID" "Unbound forwarder" udp_bound "$UNBOUND_ADDR" || {
                REASON[unbound]="unbound did not start: $(tail -n 1 "$W/unbound.log")"
                return 1
            }
            ;;
        stubby)
            command -v stubby >/dev/null 2>&1 || {
                REASON[stubby]="stubby is not installed"
                return 1
            }
            start_bg "$W/stubby.log" stubby -C "$W/stubby.yml" -v 4
            DPID[stubby]=$LAST_PID
            wait_until "$LAST_PID" Stubby udp_bound "$STUBBY_ADDR" || {
                REASON[stubby]="stubby did not start: $(tail -n 1 "$W/stubby.log")"
                return 1
            }
            ;;
        resolved)
            [ -z "$VETH_NOTE" ] || {
                REASON[resolved]="systemd-resolved answers nothing without a non-loopback link; $VETH_NOTE"
                return 1
            }
            [ -n "$RESOLVED_BIN" ] || {
                REASON[resolved]="systemd-resolved is not installed"
                return 1
            }
            [ -e /lib/x86_64-linux-gnu/libnss_resolve.so.2 ] || [ -e /usr/lib/x86_64-linux-gnu/libnss_resolve.so.2 ] || {
                REASON[resolved]="libnss-resolve is not installed"
                return 1
            }
            rm -rf /run/systemd/resolve
            start_bg "$W/resolved.log" env SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL="${BENCH_RESOLVED_LOG_LEVEL:-info}" \
                "$RESOLVED_BIN"
            DPID[resolved]=$LAST_PID
            wait_until "$LAST_PID" systemd-resolved test -S /run/systemd/resolve/io.systemd.Resolve || {
                REASON[resolved]="systemd-resolved did not start: $(tail -n 1 "$W/resolved.log")"
                return 1
            }
            ;;
        nscd)
            command -v nscd >/dev/null 2>&1 || {
                REASON[nscd]="nscd is not installed"
                return 1
            }
            start_bg "$W/unbound-nscd.log" unbound -d -c "$W/unbound-nscd.conf"
            AUXPID[nscd]=$LAST_PID
            wait_until "$LAST_PID" "Unbound forwarder behind nscd" udp_bound "$NSCD_UNBOUND_ADDR" || {
                REASON[nscd]="unbound (behind nscd) did not start: $(tail -n 1 "$W/unbound-nscd.log")"
                return 1
            }
            rm -f "$W/nscd-run/"*
            # In a mount namespace of its own (unshare execs sh, sh execs
            # nscd: one PID): its NSS configuration, resolv.conf, /run/nscd,
            # and nothing persistent outside $W. -F: no fork, no debug log.
            # The inner sh expands its own positional parameters:
            # shellcheck disable=SC2016
            start_bg "$W/nscd.log" unshare -m -- sh -c 'mount --bind "$1" /etc/nsswitch.conf &&
                mount --bind "$2" /etc/resolv.conf && mount --bind "$3" /run/nscd &&
                { [ ! -d /var/cache/nscd ] || mount -t tmpfs tmpfs /var/cache/nscd; } &&
                exec nscd -F -f "$4"' sh "$W/nsswitch-nscd.conf" "$W/resolv-nscd-daemon.conf" \
                "$W/nscd-run" "$W/nscd.conf"
            DPID[nscd]=$LAST_PID
            wait_until "$LAST_PID" nscd test -S "$W/nscd-run/socket" || {
                REASON[nscd]="nscd did not start: $(tail -n 1 "$W/nscd.log")"
                return 1
            }
            ;;
        unix)
            rm -f "$W/echo.sock"
            start_bg "$W/unix-echo.log" "$ECHO_SERVER" "$W/echo.sock"
            DPID[unix]=$LAST_PID
            wait_until "$LAST_PID" unix-echo test -S "$W/echo.sock" || {
                REASON[unix]="unix-echo did not start"
                return 1
            }
            ;;
        files) DPID[files]="" ;;
    esac
}

stack_stop() {
    local pid
    for pid in "${DPID[$1]:-}" "${AUXPID[$1]:-}"; do
        [ -n "$pid" ] || continue
        stop_pid "$pid"
        forget_pid "$pid"
    done
    DPID[$1]=""
    AUXPID[$1]=""
}

# stack_restart STACK: a fresh instance of STACK; when it cannot run, says
# why, leaves nothing of it running and returns 1.
stack_restart() {
    stack_stop "$1"
    stack_start "$1" && return 0
    log "$1: cannot run: ${REASON[$1]}"
    stack_stop "$1"
    return 1
}

# via STACK CMD...: run CMD as a client of STACK, with the stack's
# nsswitch.conf and resolv.conf bind-mounted in a child mount namespace (and
# nscd's /run/nscd for its clients; the others see an empty one).
# The inner sh expands its own positional parameters:
# shellcheck disable=SC2016
via() {
    local s=$1 resolv=$W/resolv-none.conf run_nscd=/run/nscd
    shift
    local env=(env -u NSS_DOT_SOCKET -u LD_LIBRARY_PATH)
    case $s in
        dot | dot-*) env=(env NSS_DOT_SOCKET="$W/$s/socket" LD_LIBRARY_PATH="$MODULE_DIR") ;;
        unbound | stubby) resolv=$W/resolv-$s.conf ;;
        # Its clients fall back to their own NSS only when nscd fails:
        # with no name server there, that shows as a failure.
        nscd) run_nscd=$W/nscd-run ;;
        unix)
            timeout -k 2 "$CMD_TIMEOUT" "$@"
            return
            ;;
    esac
    unshare -m -- sh -c 'mount --bind "$1" /etc/nsswitch.conf && mount --bind "$2" /etc/resolv.conf &&
        mount --bind "$3" /run/nscd && shift 3 && exec "$@"' \
        sh "$W/nsswitch-$s.conf" "$resolv" "$run_nscd" timeout -k 2 "$CMD_TIMEOUT" "${env[@]}" "$@"
}

# CPU time of a process and all its threads, in microseconds: the scheduler's
# runtime (/proc/PID/task/*/schedstat, nanoseconds) where the kernel has it,
# else utime+stime from /proc/PID/stat (clock ticks).
cpu_us() {
    local pid=$1 t sum=0 v
    if [ -z "$pid" ] || [ ! -d "/proc/$pid" ]; then
        echo ""
        return
    fi
    if [ -r "/proc/$pid/schedstat" ]; then
        for t in /proc/"$pid"/task/*/schedstat; do
            read -r v _ <"$t" 2>/dev/null || v=0
            sum=$((sum + v))
        done
        echo $((sum / 1000))
    else
        read -r -a f <"/proc/$pid/stat"
        # Fields 14 and 15 (utime, stime), after a "(comm)" without spaces.
        echo $(((f[13] + f[14]) * 1000000 / $(getconf CLK_TCK)))
    fi
}

# stack_sum FUNC STACK: FUNC (a per-PID figure, "" when none) of the
# stack's daemons, added up.
stack_sum() {
    local a b
    a=$("$1" "${DPID[$2]:-}")
    b=$("$1" "${AUXPID[$2]:-}")
    if [ -z "$a" ]; then
        echo "$b"
    else
        echo $((a + ${b:-0}))
    fi
}
stack_cpu_us() { stack_sum cpu_us "$1"; }

# status_kb PID FIELD: a kB field of /proc/PID/status (VmHWM, VmRSS), "" if none.
status_kb() {
    local pid=$1
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then
        echo ""
        return
    fi
    awk -v f="$2:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null || true
}
vmhwm_kb() { status_kb "$1" VmHWM; }
stack_vmhwm_kb() { stack_sum vmhwm_kb "$1"; }

# proxy_counters STACK: the counters of the proxy the stack uses; SIGUSR1
# makes it print a line; wait for that line.
proxy_counters() {
    local before after i=0 plog=$W/proxy.log ppid=$PROXY_PID
    if [ "$1" = dot-nagle ]; then
        plog=$W/proxy-nagle.log ppid=$NAGLE_PID
    fi
    before=$(grep -c '^delay-proxy: stats' "$plog" || true)
    kill -USR1 "$ppid"
    while :; do
        after=$(grep -c '^delay-proxy: stats' "$plog" || true)
        [ "$after" -le "$before" ] || break
        i=$((i + 1))
        [ "$i" -lt 200 ] || {
            echo "? ?"
            return
        }
        sleep 0.01
    done
    grep '^delay-proxy: stats' "$plog" | tail -n 1 |
        sed -n 's/.*accepted=\([0-9]*\) handshakes=\([0-9]*\).*/\1 \2/p'
}

CSV=$RESULTS/bench-$BENCH_STAMP.csv
[ -z "$DEBUG_CMD" ] || CSV=$W/debug.csv
echo "delay_ms,workload,threads,stack,api,lookups,failures,seconds,lps,p50_us,p90_us,p99_us,max_us,mean_us,daemon_cpu_us,daemon_cpu_ms_per_10k,client_cpu_ms_per_10k,tls_conns,tls_handshakes,vmhwm_kb,note,exec_to_answer_us,extra" >"$CSV"

# kv KEY LINE: the value of KEY=... in a RESULT line.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# record DELAY WORKLOAD THREADS STACK OUTPUT CPU0 CPU1 "PROXY0" "PROXY1" [EXEC_NS]:
# one CSV row from a loadgen output and the counters around it. ROW_HWM (peak
# RSS, kB) and ROW_EXTRA (key=value;... without commas) go into the row too,
# and are cleared.
ROW_HWM="" ROW_EXTRA=""
record() {
    local delay=$1 wl=$2 threads=$3 s=$4 out=$5 c0=$6 c1=$7 p0=$8 p1=$9 t_exec=${10:-}
    local res note="" dcpu="" per10k="" conns="" hs="" n first ccpu c10k="" startup="" done_ns
    res=$(printf '%s\n' "$out" | grep '^RESULT' || true)
    if [ -z "$res" ]; then
        log "  $s: no result: $(printf '%s' "$out" | tail -n 2 | tr '\n,' '  ')"
        note="no result: $(printf '%s' "$out" | tail -n 1 | tr ',' ';')"
        echo "$delay,$wl,$threads,$s,$API,,,,,,,,,,,,,,,,$note,,$ROW_EXTRA" >>"$CSV"
        ROW_HWM="" ROW_EXTRA=""
        return 0
    fi
    n=$(kv lookups "$res")
    if [ -n "$c0" ] && [ -n "$c1" ]; then
        dcpu=$((c1 - c0))
        [ "$n" -eq 0 ] || per10k=$(awk -v c="$dcpu" -v n="$n" 'BEGIN { printf "%.1f", c / 1000 * 10000 / n }')
    fi
    # shellcheck disable=SC2086
    set -- $p0 $p1
    if [ $# -eq 4 ] && [ "$1" != "?" ] && [ "$3" != "?" ]; then
        conns=$(($3 - $1))
        hs=$(($4 - $2))
    fi
    first=$(printf '%s\n' "$out" | sed -n 's/^  first failure: //p' | head -n 1 | tr ',' ';')
    [ -z "$first" ] || note="first failure: $first"
    ccpu=$(kv client_cpu_us "$res")
    [ -z "$ccpu" ] || [ "$n" -eq 0 ] || c10k=$(awk -v c="$ccpu" -v n="$n" 'BEGIN { printf "%.1f", c / 1000 * 10000 / n }')
    if [ -n "$t_exec" ]; then
        done_ns=$(kv done_realtime_ns "$(printf '%s\n' "$out" | grep '^READY' || true)")
        [ -z "$done_ns" ] || startup=$(((done_ns - t_exec) / 1000))
    fi
    printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
        "$delay" "$wl" "$threads" "$s" "$API" "$n" "$(kv failures "$res")" "$(kv seconds "$res")" \
        "$(kv lps "$res")" "$(kv p50_us "$res")" "$(kv p90_us "$res")" "$(kv p99_us "$res")" \
        "$(kv max_us "$res")" "$(kv mean_us "$res")" "$dcpu" "$per10k" "$c10k" "$conns" "$hs" "$ROW_HWM" \
        "$note" "$startup" "$ROW_EXTRA" >>"$CSV"
    ROW_HWM="" ROW_EXTRA=""
    log "  $(printf '%s\n' "$out" | head -n 1)${startup:+; exec to answer $((startup / 1000)) ms}"
}

# run_load DELAY WORKLOAD THREADS STACK LOADGEN-ARGS...: one measured run.
run_load() {
    local delay=$1 wl=$2 threads=$3 s=$4
    shift 4
    local c0 c1 p0 p1 out
    c0=$(stack_cpu_us "$s")
    p0=$(proxy_counters "$s")
    out=$(via "$s" "$LOADGEN" -a "$API" -t "$threads" -l "$s" "$@" 2>&1) || true
    c1=$(stack_cpu_us "$s")
    p1=$(proxy_counters "$s")
    record "$delay" "$wl" "$threads" "$s" "$out" "$c0" "$c1" "$p0" "$p1"
}

# run_cold DELAY STACK K: (re)start the stack's daemon with a client already
# waiting for it to become ready; the client's first lookup is the sample.
run_cold() {
    local delay=$1 s=$2 k=$3 cond p0 p1 t_exec lg_pid out prime=(-P localhost)
    stack_stop "$s"
    case $s in
        dot | dot-nomap | dot-nagle)
            rm -f "$W/$s/socket"
            cond=path:$W/$s/socket
            ;;
        nscd)
            rm -f "$W/nscd-run/socket"
            # nscd binds its socket before it listens: a client in between
            # is refused, falls back to its own NSS and fails.
            cond=unix:$W/nscd-run/socket
            # A lookup while nscd is down would make glibc skip nscd for
            # the next 100 lookups: the client reads its configuration at
            # the first lookup instead.
            prime=()
            ;;
        unbound) cond=udp:$UNBOUND_ADDR:53 ;;
        stubby) cond=udp:$STUBBY_ADDR:53 ;;
        resolved)
            rm -rf /run/systemd/resolve
            cond=path:/run/systemd/resolve/io.systemd.Resolve
            ;;
    esac
    p0=$(proxy_counters "$s")
    start_bg "$W/cold.out" via "$s" "$LOADGEN" -a "$API" -l "$s" -n 1 -W 0 "${prime[@]}" \
        -R "$cond" -p "cold$delay-$s-$k.wild.test"
    lg_pid=$LAST_PID
    t_exec=$(date +%s%N)
    if ! stack_start "$s"; then
        stop_pid "$lg_pid"
        forget_pid "$lg_pid"
        return 1
    fi
    wait "$lg_pid" || true
    forget_pid "$lg_pid"
    p1=$(proxy_counters "$s")
    out=$(cat "$W/cold.out")
    : >"$W/cold.out"
    record "$delay" cold 1 "$s" "$out" "" "" "$p0" "$p1" "$t_exec"
}

# rotate N WORDS...: the words, starting at index N mod count (stacks take turns).
rotate() {
    local n=$1
    shift
    local -a a=("$@")
    local k c=${#a[@]}
    for ((k = 0; k < c; k++)); do
        printf '%s ' "${a[$(((k + n) % c))]}"
    done
}

DNS_STACKS=""
FLOOR_STACKS=""
for s in $STACKS; do
    case $s in
        dot | dot-nomap | dot-nagle | unbound | stubby | resolved | nscd) DNS_STACKS="$DNS_STACKS $s" ;;
        files | unix) FLOOR_STACKS="$FLOOR_STACKS $s" ;;
        *) die "unknown stack $s" ;;
    esac
done

# start_proxies DELAY / stop_proxies: both delay proxies (PROXY_PID, NAGLE_PID).
start_proxies() {
    rm -f "$W/proxy.ready"
    start_bg "$W/proxy.log" "$PROXY" -l "$PROXY_ADDR:853" -u "$UPSTREAM_ADDR:53" \
        -c "$W/server.pem" -k "$W/server.key" -d "$1" -r "$W/proxy.ready"
    PROXY_PID=$LAST_PID
    wait_until "$PROXY_PID" delay-proxy test -e "$W/proxy.ready" || die "delay-proxy did not start"
    rm -f "$W/proxy-nagle.ready"
    start_bg "$W/proxy-nagle.log" "$PROXY" -l "$NAGLE_ADDR:853" -u "$UPSTREAM_ADDR:53" \
        -c "$W/server.pem" -k "$W/server.key" -d "$1" -N -r "$W/proxy-nagle.ready"
    NAGLE_PID=$LAST_PID
    wait_until "$NAGLE_PID" "delay-proxy -N" test -e "$W/proxy-nagle.ready" ||
        die "delay-proxy -N did not start"
}

stop_proxies() {
    stop_pid "$PROXY_PID"
    forget_pid "$PROXY_PID"
    stop_pid "$NAGLE_PID"
    forget_pid "$NAGLE_PID"
    tail -n 1 "$W/proxy.log" >&2
}

has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }

# --- the phases: one per delay --------------------------------------------------------

has_phase delays || DELAYS=""
for delay in $DELAYS; do
    log "=== one-way delay $delay ms (round trip $((2 * delay)) ms)"
    start_proxies "$delay"
    if [ "$delay" = 0 ]; then
        # The upstream path's own cost, from a DoT client: a warm query.
        kdig @"$PROXY_ADDR" -p 853 +tls-ca="$W/ca.pem" +tls-hostname="$AUTH_NAME" +keepopen \
            A c1.test A c2.test A c3.test >"$W/kdig.out" 2>&1 || true
        grep -E ';; (Received|From)|Time' "$W/kdig.out" | head -n 6 >&2 || true
    fi

    # Cold start, COLD_RUNS times per stack; the last instance stays up.
    for s in $DNS_STACKS; do
        [ -z "${REASON[$s]:-}" ] || continue
        for ((k = 1; k <= COLD_RUNS; k++)); do
            run_cold "$delay" "$s" "$k" || {
                log "$s: cannot run: ${REASON[$s]}"
                stack_stop "$s"
                break
            }
        done
    done
    for s in $FLOOR_STACKS; do
        [ -z "${REASON[$s]:-}" ] || continue
        stack_restart "$s" || true
    done

    if [ -n "$DEBUG_CMD" ]; then
        export W LOADGEN MODULE_DIR CMD_TIMEOUT
        export -f via
        bash -c "$DEBUG_CMD" || log "--debug command failed with status $?"
        exit 0
    fi

    w=0
    for wl in cached uncached; do
        for threads in $THREADS; do
            w=$((w + 1))
            # shellcheck disable=SC2046,SC2086
            for s in $(rotate "$w" $DNS_STACKS $FLOOR_STACKS); do
                [ -z "${REASON[$s]:-}" ] || continue
                case $wl/$s in
                    uncached/files | uncached/unix) continue ;;
                    cached/files)
                        run_load "$delay" "$wl" "$threads" "$s" -d "$DURATION" -N "$FILES_NAMES" ;;
                    cached/unix)
                        run_load "$delay" "$wl" "$threads" "$s" -d "$DURATION" -a unix \
                            -S "$W/echo.sock" -N "$CACHED_NAMES" ;;
                    cached/*)
                        # Fill the stack's cache (A and AAAA of each name) first.
                        via "$s" "$LOADGEN" -a "$API" -n 8 -W 0 -N "$CACHED_NAMES" >/dev/null 2>&1 || true
                        run_load "$delay" "$wl" "$threads" "$s" -d "$DURATION" -W 2 -N "$CACHED_NAMES" ;;
                    uncached/*)
                        run_load "$delay" "$wl" "$threads" "$s" -d "$DURATION" -W 1 \
                            -p "u$delay-$s-$threads-%t-%i.wild.test" ;;
                esac
            done
        done
    done

    # Peak RSS of each daemon over the phase, then stop everything.
    for s in $DNS_STACKS $FLOOR_STACKS; do
        hwm=$(stack_vmhwm_kb "$s")
        [ -z "$hwm" ] || echo "$delay,rss,,$s,,,,,,,,,,,,,,,,$hwm,," >>"$CSV"
        stack_stop "$s"
    done
    stop_proxies
done

# --- scale (issue 15): many clients at once, and a big cache ---------------------------

# ctl_stats STACK: dot-helperctl stats of a dot stack's daemon (key=value lines).
ctl_stats() { "$CTL" -c "$W/$1.conf" stats 2>/dev/null || true; }
# stat_of KEY STATS: one value.
stat_of() { printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -n 1; }
# stat_delta KEY BEFORE AFTER: AFTER's value minus BEFORE's ("" if either is missing).
stat_delta() {
    local a b
    a=$(stat_of "$1" "$2")
    b=$(stat_of "$1" "$3")
    [ -z "$a" ] || [ -z "$b" ] || echo $((b - a))
}
# machine_busy: the machine's busy and total CPU time so far (clock ticks,
# all CPUs), from /proc/stat.
machine_busy() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
vmrss_kb() { status_kb "$1" VmRSS; }

# The other client of the clients phase runs as another user: the daemon
# counts and queues per user.
OTHER_USER=()
if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
    OTHER_USER=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
fi

phase_clients() {
    local delay=$CLIENTS_DELAY s out
    local stacks=""
    for s in dot dot-nomap unbound stubby resolved; do
        case " $STACKS " in *" $s "*) stacks="$stacks $s" ;; esac
    done
    [ -n "$stacks" ] || return 0
    log "=== $CLIENTS clients at once, one-way delay $delay ms"
    # A socket per client thread, in the client and in the daemon.
    ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    # The other client (nobody) must reach the daemons' sockets in $W.
    chmod 0711 "$W"
    # The other client measures while the load runs: a second less.
    OTHER_D=$(awk -v d="$CLIENTS_DURATION" 'BEGIN { x = d - 1; print (x < 0.5 ? 0.5 : x) }')
    start_proxies "$delay"
    for s in $stacks; do
        [ -z "${REASON[$s]:-}" ] || continue
        stack_restart "$s" || continue
        via "$s" "$LOADGEN" -a "$API" -n 8 -W 0 -N c1.test >/dev/null 2>&1 || true
        # The other client alone, then beside the load.
        out=$(via "$s" "${OTHER_USER[@]}" "$LOADGEN" -a "$API" -t 1 -l "$s" -d "$OTHER_D" -W 2 \
            -N c1.test 2>&1) || true
        ROW_EXTRA="user=${OTHER_USER[*]:+nobody}"
        record "$delay" clients-other-alone 1 "$s" "$out" "" "" "" ""
        clients_load "$s" clients "k$delay-$s" && clients_load "$s" clients-paced "p$delay-$s" \
            -i "$CLIENTS_PACE_US"
        stack_stop "$s"
    done
    stop_proxies
}

# clients_load STACK WL PREFIX [LOADGEN OPTIONS...]: the CLIENTS threads of
# one load (workload WL, names PREFIX-...), with the other client measured
# beside it (WL-other-load); false when the load did not start.
clients_load() {
    local s=$1 wl=$2 prefix=$3 delay=$CLIENTS_DELAY out lg_pid c0 c1 p0 p1 st0 st1 k v extra x0 x1
    shift 3
    rm -f "$W/clients.go" "$W/clients.out"
    st0=$(ctl_stats "$s")
    p0=$(proxy_counters "$s")
    start_bg "$W/clients.out" via "$s" "$LOADGEN" -a "$API" -t "$CLIENTS" -l "$s" \
        -d "$CLIENTS_DURATION" -W 1 -G "$W/clients.go" -p "$prefix-%t-%i.wild.test" "$@"
    lg_pid=$LAST_PID
    if ! wait_until "$lg_pid" "$CLIENTS client threads" test -e "$W/clients.go"; then
        wait "$lg_pid" || true
        forget_pid "$lg_pid"
        record "$delay" "$wl" "$CLIENTS" "$s" "$(cat "$W/clients.out")" "" "" "" ""
        return 1
    fi
    c0=$(stack_cpu_us "$s")
    x0="$(cpu_us "$PROXY_PID") $(cpu_us "$UPSTREAM_PID") $(machine_busy)"
    out=$(via "$s" "${OTHER_USER[@]}" "$LOADGEN" -a "$API" -t 1 -l "$s" -d "$OTHER_D" -W 0 \
        -N c1.test 2>&1) || true
    ROW_EXTRA="user=${OTHER_USER[*]:+nobody}"
    record "$delay" "$wl-other-load" 1 "$s" "$out" "" "" "" ""
    wait "$lg_pid" || true
    forget_pid "$lg_pid"
    c1=$(stack_cpu_us "$s")
    x1="$(cpu_us "$PROXY_PID") $(cpu_us "$UPSTREAM_PID") $(machine_busy)"
    p1=$(proxy_counters "$s")
    st1=$(ctl_stats "$s")
    # Where the machine's CPU went: the proxy, the upstream, all CPUs busy.
    # shellcheck disable=SC2086
    extra=$(echo $x0 $x1 | awk -v hz="$(getconf CLK_TCK)" '{
        printf "proxy_cpu_us=%d;upstream_cpu_us=%d;machine_busy_pct=%.0f;machine_cpu_us=%d",
            $5 - $1, $6 - $2, ($8 - $4 > 0 ? 100 * ($7 - $3) / ($8 - $4) : 0), ($7 - $3) * 1000000 / hz }')
    for k in pool.waited clients.queued_lookups clients.shed_per_user clients.shed_full \
        clients.evicted clients.timed_out loop.over_1ms loop.over_10ms pool.failures; do
        v=$(stat_delta "$k" "$st0" "$st1")
        [ -z "$v" ] || extra="$extra;$k=$v"
    done
    v=$(stat_of loop.longest_us "$st1")
    [ -z "$v" ] || extra="$extra;loop.longest_us=$v"
    ROW_EXTRA=${extra#;}
    ROW_HWM=$(stack_vmhwm_kb "$s")
    record "$delay" "$wl" "$CLIENTS" "$s" "$(cat "$W/clients.out")" "$c0" "$c1" "$p0" "$p1"
}

# cache_fill STACK FROM TO: look up the names b<FROM>..b<TO - 1>.wild.test,
# each once, 64 threads, getaddrinfo AF_INET (one answer, one address each).
cache_fill() {
    local s=$1 from=$2 to=$3 out pid=${DPID[$1]} c0 c1 st
    c0=$(stack_cpu_us "$s")
    out=$(via "$s" "$LOADGEN" -a gai4 -t 64 -l "$s" -W 0 -n $((to - from)) -o "$from" \
        -p "b%g.wild.test" 2>&1) || true
    c1=$(stack_cpu_us "$s")
    st=$(ctl_stats "$s")
    ROW_EXTRA="size=$to;entries=$(stat_of cache.entries "$st");rss_kb=$(vmrss_kb "$pid");loop.longest_us=$(stat_of loop.longest_us "$st");loop.over_1ms=$(stat_of loop.over_1ms "$st")"
    API=gai4 record 0 cache-fill 64 "$s" "$out" "$c0" "$c1" "" ""
}

# loop_on_cpu TID: from perf script --ns --show-switch-events -F tid,time,event
# of a daemon recorded with its epoll_wait() entries and exits and its
# context switches, the event loop's iterations (from an epoll_wait() exit
# to the next entry) on thread TID, each timed twice: wall-clock, as the
# daemon's loop.* counters do, and less the time the thread was preempted
# (switched out by the scheduler with the thread runnable: another process
# had the CPU, not the loop's work; a switch-out that waits, such as a page
# fault on disk, stays in, and so does one in sched_yield(), which the
# kernel marks as a preemption too but the daemon chose: the recording has
# its entries and exits). key=value pairs for ROW_EXTRA.
loop_on_cpu() {
    awk -v tid="$1" '
        $1 != tid { next }
        { t = $2; sub(/:$/, "", t); t += 0 }
        /sys_exit_epoll_wait/ { busy = 1; start = t; off = 0; out = -1; pre = 0; next }
        /sys_enter_sched_yield/ { yielding = 1; next }
        /sys_exit_sched_yield/ { yielding = 0; next }
        /PERF_RECORD_SWITCH OUT preempt/ { if (busy && !yielding) out = t; next }
        /PERF_RECORD_SWITCH IN/ { if (busy && out >= 0) { off += t - out; pre = 1; out = -1 } next }
        /sys_enter_epoll_wait/ {
            if (!busy) next
            busy = 0; n++; wall = t - start; own = wall - off
            w1 += wall > 0.001; o1 += own > 0.001; npre += pre; offs += off
            if (wall > wmax) wmax = wall
            if (own > omax) omax = own
        }
        END {
            printf "perf_iterations=%d;perf_over_1ms=%d;perf_longest_us=%.0f;", n, w1, wmax * 1e6
            printf "oncpu_over_1ms=%d;oncpu_longest_us=%.0f;preempted_iterations=%d;preempted_us=%.0f", o1, omax * 1e6, npre, offs * 1e6
        }'
}

# cache_churn STACK: cache.entries down to the largest size (a full cache),
# then new names with a TTL of 1 s for CHURN seconds: the LRU evicts and
# entries expire. The loop's counters around the reload and the churn.
cache_churn() {
    local s=$1 st0 st1 st2 out c0 c1 k v extra pid=${DPID[$1]} data perf_ok
    st0=$(ctl_stats "$s")
    {
        cat "$W/$s.base"
        printf 'cache = { entries = %d; shared_map = false; };\n' "$CACHE_MAX"
    } >"$W/$s.conf"
    "$CTL" -c "$W/$s.conf" reload >>"$W/$s.log" 2>&1 || log "$s: reload failed"
    st1=$(ctl_stats "$s")
    c0=$(stack_cpu_us "$s")
    # The loop's own time per iteration: perf's view of the same churn.
    data=$W/churn.perf
    perf_ok=no
    PERF_WHY="perf is not installed (linux-perf)"
    if command -v perf >/dev/null 2>&1 && perf version >/dev/null 2>&1 &&
        perf_begin "$data" "$pid" --switch-events \
            -e syscalls:sys_enter_epoll_wait -e syscalls:sys_exit_epoll_wait \
            -e syscalls:sys_enter_sched_yield -e syscalls:sys_exit_sched_yield; then
        perf_ok=yes
    fi
    out=$(via "$s" "$LOADGEN" -a gai4 -t 16 -i 4000 -l "$s" -W 0 -d "$CHURN" \
        -p "n%g.churn.test" 2>&1) || true
    [ "$perf_ok" = no ] || perf_end
    c1=$(stack_cpu_us "$s")
    st2=$(ctl_stats "$s")
    extra="size=$CACHE_MAX;entries_before=$(stat_of cache.entries "$st1");entries=$(stat_of cache.entries "$st2")"
    if [ "$perf_ok" = yes ] && perf script -i "$data" --ns --show-switch-events -F tid,time,event \
        >"$W/churn-script.txt" 2>"$W/perf-script.log"; then
        extra="$extra;$(loop_on_cpu "$pid" <"$W/churn-script.txt")"
        # Events perf could not keep merge or drop iterations: say so.
        v=$(grep -i 'lost' "$W/perf-script.log" | head -n 1 | tr ',;=' '  :' || true)
        [ -z "$v" ] || extra="$extra;oncpu_lost=$v"
    else
        [ "$perf_ok" = no ] || PERF_WHY="perf script failed: $(grep -v '^$' "$W/perf-script.log" | tail -n 1)"
        extra="$extra;oncpu_why=${PERF_WHY//[,;=]/ }"
    fi
    [ "$KEEP" = yes ] || rm -f "$data" "$W/churn-script.txt"
    extra="$extra;rss_kb=$(vmrss_kb "$pid");reload_entries_before=$(stat_of cache.entries "$st0")"
    for k in loop.over_1ms loop.over_10ms loop.iterations loop.busy_us; do
        extra="$extra;$k=$(stat_delta "$k" "$st1" "$st2");reload_$k=$(stat_delta "$k" "$st0" "$st1")"
    done
    k=loop.longest_us
    extra="$extra;${k}_before_reload=$(stat_of $k "$st0");${k}_before=$(stat_of $k "$st1");$k=$(stat_of $k "$st2")"
    ROW_EXTRA=$extra
    API=gai4 record 0 cache-churn 16 "$s" "$out" "$c0" "$c1" "" ""
}

# median_round OUT...: the index of the loadgen output whose p50 is the
# median of all (the lower middle one of an even count); a round without a
# result counts as the slowest.
median_round() {
    local i=0 o p
    for o in "$@"; do
        p=$(kv p50_us "$(printf '%s\n' "$o" | grep '^RESULT' || true)")
        echo "${p:-1e99} $i"
        i=$((i + 1))
    done | sort -g | awk -v m=$((($# - 1) / 2)) 'NR == m + 1 { print $2 }'
}

# round_p50s OUT...: their p50s in µs, "/" between (for ROW_EXTRA).
round_p50s() {
    local o p out=""
    for o in "$@"; do
        p=$(kv p50_us "$(printf '%s\n' "$o" | grep '^RESULT' || true)")
        out="$out/${p:-none}"
    done
    echo "${out#/}"
}

# median_ratio A B: from two round_p50s lists, the median of A[i] ÷ B[i]
# (empty when a round has no result).
median_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, "/"); split(b, y, "/")
        for (i = 1; i <= n; i++) {
            if (x[i] !~ /^[0-9.]+$/ || y[i] !~ /^[0-9.]+$/ || y[i] + 0 == 0)
                exit
            r[i] = x[i] / y[i]
        }
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
                t = r[j]; r[j] = r[j - 1]; r[j - 1] = t
            }
        printf "%.3f", n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
    }'
}

phase_cache() {
    local s n filled rss0 t out max c0 c1 first r hot hit c0s c1s ratio
    case " $STACKS " in *" dot "*) ;; *) return 0 ;; esac
    log "=== a big cache: $CACHE_SIZES entries (nss-dot, 0 ms)"
    start_proxies 0
    for s in dot-big dot-bigmap; do
        max=$CACHE_MAX
        [ "$s" = dot-big ] || max=$CACHE_MAP_MAX
        stack_restart "$s" || continue
        rss0=$(vmrss_kb "${DPID[$s]}")
        echo "0,cache-rss0,,$s,gai4,,,,,,,,,,,,,,,$rss0,,," >>"$CSV"
        filled=0
        first=${CACHE_SIZES%% *}
        for n in $CACHE_SIZES; do
            [ "$n" -le "$max" ] || continue
            cache_fill "$s" "$filled" "$n"
            filled=$n
            for t in 1 8; do
                # A control at the same moment: names picked among the
                # first size's only (in this same cache: the 1,000-entry
                # working set, its entries as hot as in a cache that
                # small), alternating with the size's own names round by
                # round, so that drift of the shared machine between
                # sizes and within one falls on both alike. Each is
                # recorded as its median round (by p50).
                hot=() hit=() c0s=() c1s=()
                for ((r = 0; r < CACHE_ROUNDS; r++)); do
                    if [ "$n" != "$first" ]; then
                        hot[r]=$(via "$s" "$LOADGEN" -a gai4 -t "$t" -l "$s" -d "$CACHE_DURATION" -W 2 \
                            -p "b%r.wild.test" -r "$first" 2>&1) || true
                    fi
                    c0s[r]=$(stack_cpu_us "$s")
                    hit[r]=$(via "$s" "$LOADGEN" -a gai4 -t "$t" -l "$s" -d "$CACHE_DURATION" -W 2 \
                        -p "b%r.wild.test" -r "$n" 2>&1) || true
                    c1s[r]=$(stack_cpu_us "$s")
                done
                ratio=""
                if [ "$n" != "$first" ]; then
                    r=$(median_round "${hot[@]}")
                    ROW_EXTRA="size=$n;rounds=$CACHE_ROUNDS;round_p50s=$(round_p50s "${hot[@]}")"
                    API=gai4 record 0 cache-hot "$t" "$s" "${hot[r]}" "" "" "" ""
                    # Each round's size ÷ its control, the median of those.
                    ratio=$(median_ratio "$(round_p50s "${hit[@]}")" "$(round_p50s "${hot[@]}")")
                fi
                r=$(median_round "${hit[@]}")
                ROW_EXTRA="size=$n;rounds=$CACHE_ROUNDS;round_p50s=$(round_p50s "${hit[@]}")${ratio:+;hot_ratio=$ratio}"
                API=gai4 record 0 cache-hit "$t" "$s" "${hit[r]}" "${c0s[r]}" "${c1s[r]}" "" ""
            done
        done
        [ "$s" != dot-big ] || cache_churn "$s"
        stack_stop "$s"
    done
    stop_proxies
}

# --- heap allocations per lookup (issue 15) --------------------------------------------

# The libc allocator entry points counted, as perf probe names them.
ALLOC_FUNCS="malloc calloc realloc"

# alloc_probes PID: uprobes on the allocator entry points of the libc that
# process PID maps, in the group ALLOC_GROUP (what an earlier run left there
# is removed first). On failure sets ALLOC_WHY and returns 1.
alloc_probes() {
    local libc f
    if ! command -v perf >/dev/null 2>&1 || ! perf version >/dev/null 2>&1; then
        ALLOC_WHY="perf is not installed (linux-perf)"
        return 1
    fi
    libc=$(awk '$6 ~ /\/libc\.so\.6$/ { print $6; exit }' "/proc/$1/maps" 2>/dev/null)
    [ -n "$libc" ] || {
        ALLOC_WHY="no libc.so.6 in the daemon's memory map"
        return 1
    }
    libc=$(readlink -f "$libc")
    alloc_probes_drop
    for f in $ALLOC_FUNCS; do
        # Event names are unique across groups: not plain "malloc".
        perf probe -q -x "$libc" --add "$ALLOC_GROUP:bench_$f=$f" >"$W/perf-probe.log" 2>&1 || {
            ALLOC_WHY="perf probe -x $libc --add $f failed (no uprobes?): $(grep -v '^$' "$W/perf-probe.log" | head -n 1)"
            return 1
        }
        ALLOC_PROBES="$ALLOC_PROBES $ALLOC_GROUP:bench_$f"
    done
}

# perf_begin DATA PID ARGS...: perf record of process PID into DATA with ARGS
# (events, options), started disabled and enabled once attached (its
# control FIFOs), so that it records from the moment this returns; then the
# measured load, then perf_end. On failure sets PERF_WHY and returns 1.
perf_begin() {
    local data=$1 pid=$2 line=""
    shift 2
    rm -f "$W/perf.ctl" "$W/perf.ack"
    mkfifo "$W/perf.ctl" "$W/perf.ack"
    # Both ends held open here, read and write: neither perf's open nor
    # ours blocks, and perf reads "enable" whenever it is ready for it.
    exec {PERF_CTL}<>"$W/perf.ctl" {PERF_ACK}<>"$W/perf.ack"
    # -B: no build-id pass at the end; perf script finds the files by path.
    start_bg "$W/perf.log" perf record -q -B -D -1 --control "fifo:$W/perf.ctl,$W/perf.ack" \
        -o "$data" "$@" -p "$pid"
    PERF_PID=$LAST_PID
    echo enable >&"$PERF_CTL"
    read -r -t 20 -u "$PERF_ACK" line || true
    [ "$line" != ack ] || return 0
    PERF_WHY="perf record did not start: $(grep -v '^$' "$W/perf.log" | tail -n 1 | tr ',' ';')"
    perf_stop
    return 1
}

# perf_end: stops what perf_begin started, the data written.
perf_end() {
    local line=""
    echo disable >&"$PERF_CTL"
    read -r -t 20 -u "$PERF_ACK" line || true
    perf_stop
}

perf_stop() {
    # perf record ends on SIGTERM as on SIGINT, writing what it has.
    stop_pid "$PERF_PID"
    forget_pid "$PERF_PID"
    exec {PERF_CTL}>&- {PERF_ACK}>&-
}

# alloc_classify FILE: the samples of a perf script -F event,ip,sym,dso
# output, counted by call chain (innermost frame first): "openssl" when a
# frame is OpenSSL's (its library, or an SSL_/CRYPTO_/EVP_/OSSL_ symbol, or
# frames of no known symbol right under the daemon's tls_* calls), else
# "cache" when the chain has cache_put or cache_answer_new (memory the cache
# keeps), else "daemon", with the first daemon function above the allocator.
# Prints key=value;... for the CSV's extra column.
alloc_classify() {
    awk -v daemon="$(readlink -f "$DAEMON")" '
    function flush(    i, dso, cls, site, k, unk) {
        if (nf == 0 && !insample)
            return
        insample = 0
        total++
        cls = ""; site = ""; unk = 0
        for (i = 1; i <= nf; i++) {
            # An inlined frame belongs to the next frame at the same address.
            dso = D[i]
            for (k = i + 1; dso == "" && k <= nf && IP[k] == IP[i]; k++)
                dso = D[k]
            if (dso ~ /\/lib(ssl|crypto)\.so/ || S[i] ~ /^(SSL|CRYPTO|EVP|OSSL|ossl)_/) {
                cls = "openssl"
                break
            }
            if (dso == daemon) {
                if (site == "")
                    site = S[i]
                if (S[i] == "cache_put" || S[i] == "cache_answer_new")
                    cls = "cache"
                # OpenSSL without symbols, called by the daemon'\''s TLS layer.
                if (site == S[i] && unk && S[i] ~ /^tls_(read|write|flush|handshake)$/) {
                    cls = "openssl"
                    break
                }
            } else if (S[i] == "[unknown]" && site == "")
                unk = 1
        }
        if (cls == "")
            cls = "daemon"
        N[cls]++
        if (cls == "daemon")
            SITE[site == "" ? "?" : site]++
        nf = 0
    }
    /^[^\t]/ { flush(); insample = 1; next }
    /^\t/ {
        line = $0
        sub(/^\t[ ]*/, "", line)
        ip = line; sub(/ .*/, "", ip)
        rest = substr(line, length(ip) + 2)
        dso = ""
        if (rest ~ /\(inlined\)$/)
            sub(/ \(inlined\)$/, "", rest)
        else if (match(rest, / \([^()]*\)$/)) {
            dso = substr(rest, RSTART + 2, RLENGTH - 3)
            rest = substr(rest, 1, RSTART - 1)
        }
        sub(/\+0x[0-9a-f]+$/, "", rest)
        nf++
        IP[nf] = ip; S[nf] = rest; D[nf] = dso
        next
    }
    /^$/ { flush() }
    END {
        flush()
        printf "allocs=%d;daemon=%d;openssl=%d;cache=%d;sites=", total, N["daemon"], N["openssl"], N["cache"]
        sep = ""
        for (k in SITE) {
            gsub(/[,;= ]/, "_", k)
            printf "%s%s:%d", sep, k, SITE[k]
            sep = " "
        }
        print ""
    }'
}

# alloc_count STACK WL THREADS CHAIN LOADGEN-ARGS...: count the allocations
# of the stack's daemon while loadgen runs (CHAIN yes: with call chains,
# classified; no: the total only), one CSV row (workload WL).
alloc_count() {
    local s=$1 wl=$2 threads=$3 chain=$4 pid=${DPID[$1]} line out f ev cg=() extra note="" p0 p1
    shift 4
    local data=$W/$wl-$s-$threads.perf
    [ "$chain" = no ] || cg=(--call-graph "dwarf,2048" -m 8192)
    ev=()
    for f in $ALLOC_FUNCS; do
        ev+=(-e "$ALLOC_GROUP:bench_$f")
    done
    if perf_begin "$data" "$pid" "${cg[@]}" "${ev[@]}"; then
        p0=$(proxy_counters "$s")
        out=$(via "$s" "$LOADGEN" -a gai -t "$threads" -l "$s" -W 0 "$@" 2>&1) || true
        perf_end
        p1=$(proxy_counters "$s")
    else
        note="not measured: $PERF_WHY"
        out=""
    fi
    if [ -z "$note" ] && ! perf script -i "$data" -F event,ip,sym,dso >"$W/perf-script.txt" \
        2>"$W/perf-script.log"; then
        note="not measured: perf script failed: $(grep -v '^$' "$W/perf-script.log" | tail -n 1 | tr ',' ';')"
    fi
    [ "$KEEP" = yes ] || rm -f "$data"
    if [ -z "$note" ]; then
        if [ "$chain" = no ]; then
            extra="allocs=$(grep -c "$ALLOC_GROUP:" "$W/perf-script.txt" || true)"
        else
            extra=$(alloc_classify <"$W/perf-script.txt")
        fi
        # Samples perf could not keep make the count a floor: say so.
        line=$(grep -i 'lost' "$W/perf-script.log" | head -n 1 | tr ',;=' '  :' || true)
        [ -z "$line" ] || extra="$extra;lost=$line"
        ROW_EXTRA=$extra
        API=gai record 0 "$wl" "$threads" "$s" "$out" "" "" "$p0" "$p1"
        log "    allocations: ${extra%%;sites=*}"
    else
        log "  $s: $note"
        printf '0,%s,%s,%s,gai,,,,,,,,,,,,,,,,%s,,\n' "$wl" "$threads" "$s" "$note" >>"$CSV"
    fi
}

phase_allocs() {
    local s t n=$ALLOCS_LOOKUPS t0 alts=""
    case " $STACKS " in *" dot "*) ;; *) return 0 ;; esac
    t0=$(date +%s)
    log "=== heap allocations per lookup ($n lookups each, 0 ms)"
    start_proxies 0
    ALLOC_WHY=""
    for s in dot dot-nomap unbound stubby resolved; do
        case " $STACKS " in *" $s "*) ;; *) continue ;; esac
        case $s in dot | dot-nomap) ;; *) alts="$alts $s" ;; esac
        [ -z "${REASON[$s]:-}" ] || continue
        stack_restart "$s" || continue
        if [ -z "$ALLOC_WHY" ] && [ -z "$ALLOC_PROBES" ]; then
            alloc_probes "${DPID[$s]}" || true
        fi
        if [ -n "$ALLOC_WHY" ]; then
            log "allocations not measured: $ALLOC_WHY"
            printf '0,allocs-none,,,gai,,,,,,,,,,,,,,,,not measured: %s,,\n' "${ALLOC_WHY//,/;}" >>"$CSV"
            stack_stop "$s"
            break
        fi
        case $s in
            dot)
                for t in 1 8; do
                    # The pool opens its connections and learns the server
                    # first: what is counted is the steady state (the new TLS
                    # connections during the count are in its row).
                    via "$s" "$LOADGEN" -a gai -t "$t" -n $((32 * t)) -W 0 \
                        -p "aw-$s-$t-%t-%i.wild.test" >/dev/null 2>&1 || true
                    alloc_count "$s" allocs-uncached "$t" yes -n "$n" -p "a-$s-$t-%t-%i.wild.test"
                done
                ;;
            dot-nomap)
                via "$s" "$LOADGEN" -a gai -n 8 -W 0 -N "$CACHED_NAMES" >/dev/null 2>&1 || true
                alloc_count "$s" allocs-cached 1 yes -n "$n" -N "$CACHED_NAMES"
                ;;
            *)
                via "$s" "$LOADGEN" -a gai -n 32 -W 0 -p "aw-$s-1-%t-%i.wild.test" >/dev/null 2>&1 || true
                alloc_count "$s" allocs-uncached 1 no -n "$n" -p "a-$s-1-%t-%i.wild.test"
                ;;
        esac
        stack_stop "$s"
    done
    alloc_probes_drop
    stop_proxies
    log "allocations: $(($(date +%s) - t0)) s"
}

if [ -z "$DEBUG_CMD" ]; then
    ! has_phase clients || phase_clients
    ! has_phase cache || phase_cache
    ! has_phase allocs || phase_allocs
fi

for s in $STACKS; do
    [ -z "${REASON[$s]:-}" ] || echo ",unavailable,,$s,,,,,,,,,,,,,,,,,${REASON[$s]//,/;}," >>"$CSV"
done
cp "$W/kdig.out" "$W/kdig-warm.txt" 2>/dev/null || true
bash "$here/report.sh" --csv "$CSV" --kdig "$W/kdig-warm.txt" --module-dir "$MODULE_DIR" \
    --command "$BENCH_COMMAND" --previous "${BENCH_PREVIOUS:-}" >"${CSV%.csv}.md"
