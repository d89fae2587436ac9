#!/bin/bash
# The module is loaded into every process on the host: it must link libc
# alone and export nothing but the _nss_dot_* entry points.
set -eu
mod="${top_builddir:?}/.libs/libnss_dot.so.2"
[ -f "$mod" ] || { echo "no module at $mod"; exit 99; }
if [ "${SANITIZERS:-no}" = yes ]; then
    echo "sanitizer build links the sanitizer runtimes: skipped"
    exit 77
fi
needed=$(objdump -p "$mod" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
echo "NEEDED: $needed"
[ "$needed" = "libc.so.6 " ] || { echo "FAIL: the module must link libc only"; exit 1; }
exported=$(nm -D --defined-only "$mod" | awk '$2 ~ /[TDBRVW]/ {print $3}' | sort)
echo "exported:" $exported
want="_nss_dot_gethostbyaddr2_r _nss_dot_gethostbyaddr_r _nss_dot_gethostbyname2_r _nss_dot_gethostbyname3_r _nss_dot_gethostbyname4_r _nss_dot_gethostbyname_r"
[ "$(echo $exported)" = "$want" ] || { echo "FAIL: exports must be exactly: $want"; exit 1; }
soname_ok=$(objdump -p "$mod" | awk '/SONAME/ {print $2}')
[ "$soname_ok" = "libnss_dot.so.2" ] || { echo "FAIL: SONAME is '$soname_ok'"; exit 1; }
echo "module ok: $(stat -c %s "$mod") bytes unstripped"
