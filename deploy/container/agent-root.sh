#!/bin/sh
# agent-root.sh STAGE OUT: lays out in OUT the whole root of the agent's
# image: rmon-collectd from STAGE, the shared libraries it links (as ldd
# finds them), those it opens at run time for secrets and TLS, the CA
# certificates, the dynamic loader, and a passwd line for the user rmon.
set -eu
stage=$1 out=$2
bin=$stage/usr/bin/rmon-collectd
install -d "$out/usr/bin" "$out/etc/rmon" "$out/var/lib/rmon/spool" "$out/tmp" "$out/host"
install -m 755 "$bin" "$out/usr/bin/"
[ -f "$stage/etc/rmon/collectd.conf" ] && install -m 644 "$stage/etc/rmon/collectd.conf" "$out/etc/rmon/"
libs=$(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }')
# Opened with dlopen only when a secret or TLS is configured (net/ossl.h).
for so in libssl.so.3 libcrypto.so.3; do
	libs="$libs $(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64|64bit|amd64/ { print $NF; exit }')"
done
for lib in $libs; do
	[ -n "$lib" ] || continue
	install -D -m 644 "$(readlink -f "$lib")" "$out$lib"
done
chmod 755 "$out"/lib*/ld-linux* "$out"/lib*/*/ld-linux* 2>/dev/null || true
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
fi
printf 'root:x:0:0:root:/:/nonexistent\nrmon:x:999:999:Rusty Monitor:/var/lib/rmon:/nonexistent\n' >"$out/etc/passwd"
printf 'root:x:0:\nrmon:x:999:\n' >"$out/etc/group"
chown -R 999:999 "$out/var/lib/rmon"
chmod 1777 "$out/tmp"
