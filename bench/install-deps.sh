#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# install-deps.sh: the Debian packages the benchmark needs (make bench calls
# this first; it does nothing when everything is installed).
#
# Installing systemd-resolved turns /etc/resolv.conf into a symlink to its stub
# file, and libnss-resolve / libnss-myhostname edit /etc/nsswitch.conf. On a
# machine where systemd is not PID 1 the stub never runs, so that would break
# the machine's own name resolution (and every later apt-get). Both files are
# therefore saved before the install and put back exactly (content, type,
# mode, owner) right after it, also when the install fails or is interrupted.
set -eu

PKGS="unbound stubby systemd-resolved libnss-resolve nscd knot-dnsutils openssl iproute2
      util-linux libssl-dev pkg-config gcc make binutils linux-perf"

log() { printf 'install-deps: %s\n' "$*" >&2; }

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    log "needs root to install:$missing"
    exit 1
fi

# What a file looks like: type, mode, owner, and content or link target.
describe() {
    if [ -L "$1" ]; then
        printf 'symlink %s\n' "$(readlink "$1")"
    elif [ -e "$1" ]; then
        stat -c '%F %a %u:%g' "$1"
        cksum <"$1"
    else
        echo absent
    fi
}

SAVED=$(mktemp -d /var/tmp/nss-dot-bench-etc.XXXXXX)
FILES="/etc/resolv.conf /etc/nsswitch.conf"
for f in $FILES; do
    if [ -e "$f" ] || [ -L "$f" ]; then
        cp -a "$f" "$SAVED/${f##*/}"
    fi
    describe "$f" >"$SAVED/${f##*/}.desc"
done

restore() {
    rc=0
    for f in $FILES; do
        b=$SAVED/${f##*/}
        if [ "$(describe "$f")" = "$(cat "$b.desc")" ]; then
            continue
        fi
        log "restoring $f (changed by the package install)"
        # rm first: cp onto a symlink would write through it.
        rm -f "$f"
        if [ -e "$b" ] || [ -L "$b" ]; then
            cp -a "$b" "$f"
        fi
        if [ "$(describe "$f")" != "$(cat "$b.desc")" ]; then
            log "FAILED to restore $f exactly: the saved copy is in $SAVED"
            rc=1
        fi
    done
    if [ "$rc" -eq 0 ]; then
        rm -rf "$SAVED"
    fi
    return "$rc"
}
# Unbound, Stubby and systemd-resolved all start a service on port 53 when
# installed; on a machine with a service manager they would collide and fail
# the install. nscd would start caching the machine's own lookups. The bench
# runs its own instances in namespaces: keep the packages from starting
# anything (policy-rc.d), unless the machine has a policy of its own.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# nss-dot bench/install-deps.sh: no service starts during the install\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    made_policy=1
fi
drop_policy() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap 'drop_policy; restore || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

log "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q -o DPkg::Lock::Timeout=300
# Word splitting of the package list is wanted.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 $missing
trap - EXIT INT TERM HUP
drop_policy
restore
log "done; /etc/resolv.conf and /etc/nsswitch.conf are as they were"
