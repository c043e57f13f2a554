# Run by deb_install.sh inside a private mount namespace:
#   deb_chroot.sh WORK_DIR BASE_TARBALL
# WORK_DIR/build holds the packages.  Installs them into a fresh root made
# from BASE_TARBALL and runs the daemons there as their units would.
set -eu
dir=$1 base=$2
root=$dir/root
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	umount -R "$root/sys" "$root/proc" "$root/dev/shm" 2>/dev/null || true
}
trap cleanup EXIT
mkdir "$root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mkdir -p "$root/sys" "$root/dev/shm"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# As in any chroot: packages' maintainer scripts start no service.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
as_rmon() { chroot --userspec=rmon:rmon "$root" env -i PATH=/usr/bin:/bin HOME=/var/lib/rmon "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

arch=$(dpkg --print-architecture)
version=$(sed -n '1s/.*(\(.*\)).*/\1/p' "$dir/build/rmon-0.1.0/debian/changelog")
cp "$dir/build/rmon-agent_${version}_$arch.deb" "$dir/build/rmon-server_${version}_$arch.deb" "$root/tmp/"
in_root apt-get update -qq
in_root apt-get install -y -qq /tmp/rmon-server_"$version"_$arch.deb /tmp/rmon-agent_"$version"_$arch.deb \
	>"$dir/apt.log" 2>&1 || { tail -30 "$dir/apt.log"; fail "apt install"; }
echo "installed rmon-server and rmon-agent $version with apt"

# What the packages set up.
in_root getent passwd rmon | grep -q ':/var/lib/rmon:/usr/sbin/nologin$' || fail "no rmon system user"
[ "$(in_root stat -c '%U:%G %a' /var/lib/rmon)" = "rmon:rmon 750" ] || fail "/var/lib/rmon: $(in_root stat -c '%U:%G %a' /var/lib/rmon)"
for f in /etc/rmon/collectd.conf /etc/rmon/stored.conf /etc/nginx/sites-available/rmon.conf \
	/lib/systemd/system/rmon-stored.service /lib/systemd/system/rmon-collectd.service \
	/usr/share/man/man8/rmon-stored.8.gz /usr/share/man/man8/rmon-collectd.8.gz \
	/usr/share/man/man1/rmon.1.gz /usr/share/man/man5/rmon-stored.conf.5.gz; do
	[ -e "$root$f" ] || fail "$f is not installed"
done
in_root dpkg-query -W -f='${Conffiles}\n' rmon-agent | grep -q /etc/rmon/collectd.conf ||
	fail "/etc/rmon/collectd.conf is not a conffile"
[ -L "$root/etc/systemd/system/multi-user.target.wants/rmon-stored.service" ] ||
	fail "rmon-stored.service is not enabled"

# An agent with no store yet says where it looked and how to point it
# elsewhere.
rc=0
as_rmon /usr/bin/rmon-collectd --once 2>"$dir/agent-alone.log" || rc=$?
[ $rc -eq 1 ] || fail "rmon-collectd --once without a store exited $rc"
grep -q "no --data given and no store in /var/lib/rmon (the default folder)" "$dir/agent-alone.log" &&
	grep -q -- "--data DIR or RMON_DATA=DIR" "$dir/agent-alone.log" ||
	{ cat "$dir/agent-alone.log"; fail "the lone agent does not say where it looked"; }

# The store reads /etc/rmon/stored.conf without --config: a bad line there
# is named.
cp "$root/etc/rmon/stored.conf" "$dir/stored.conf.orig"
printf '[store]\ncommit_interval = soon\n' >>"$root/etc/rmon/stored.conf"
rc=0
as_rmon /usr/bin/rmon-stored 2>"$dir/bad.log" || rc=$?
[ $rc -eq 2 ] && grep -q "/etc/rmon/stored.conf:[0-9]*: store.commit_interval = 'soon'" "$dir/bad.log" ||
	{ cat "$dir/bad.log"; fail "rmon-stored did not read /etc/rmon/stored.conf"; }
cp "$dir/stored.conf.orig" "$root/etc/rmon/stored.conf"
# The operator's edit, which an upgrade must keep: a label on every series.
echo 'labels = "site=chroot"' >>"$root/etc/rmon/collectd.conf"

# start_unit NAME: runs NAME.service's ExecStart as its User and Group,
# with its UMask, after making its StateDirectory and CacheDirectory as
# systemd does, and waits for READY=1 on a notify socket of its own.
start_unit() {
	local name=$1 unit=$root/lib/systemd/system/$1.service exec user group umask d said
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	user=$(sed -n 's/^User=//p' "$unit")
	group=$(sed -n 's/^Group=//p' "$unit")
	umask=$(sed -n 's/^UMask=//p' "$unit")
	for d in $(sed -n 's/^StateDirectory=//p' "$unit"); do
		in_root install -d -o "$user" -g "$group" -m "$(sed -n 's/^StateDirectoryMode=//p' "$unit")" "/var/lib/$d"
	done
	for d in $(sed -n 's/^CacheDirectory=//p' "$unit"); do
		in_root install -d -o "$user" -g "$group" -m "$(sed -n 's/^CacheDirectoryMode=//p' "$unit")" "/var/cache/$d"
	done
	mkdir -p "$root/run/notify"
	said=$dir/$name.said
	rm -f "$root/run/notify/$name" "$said"
	/usr/bin/python3 "$here/notify_listener.py" "$root/run/notify/$name" "$said" &
	pids+=($!)
	for _ in $(seq 200); do [ -e "$said" ] && break; sleep 0.05; done
	chmod 666 "$root/run/notify/$name"
	chroot --userspec="$user:$group" "$root" env -i PATH=/usr/bin:/bin \
		NOTIFY_SOCKET=/run/notify/$name sh -c "umask $umask; exec $exec" 2>>"$dir/$name.log" &
	pids+=($!)
	eval "pid_${name//-/_}=$!"
	for _ in $(seq 600); do grep -q '^READY=1' "$said" 2>/dev/null && break; sleep 0.1; done
	grep -q '^READY=1' "$said" || { cat "$dir/$name.log"; fail "$name never said READY=1"; }
	echo "$name ($exec as $user): $(grep '^READY=1' "$said" | tail -1)"
}
stop_unit() { # NAME: SIGTERM, as systemctl stop sends it, and the exit
	local var=pid_${1//-/_}
	kill -TERM "${!var}"
	wait "${!var}" || fail "$1 exited $? on SIGTERM"
}

servers=(rmon-stored)
for p in rmon-alertd rmon-reportgen; do
	if [ -x "$root/usr/bin/$p" ]; then servers+=("$p"); else echo "note: $p is not in this build's packages"; fi
done
for s in "${servers[@]}"; do start_unit "$s"; done
start_unit rmon-collectd
host=$(in_root hostname)
wait_series() { # SELECTOR: a reader without flags sees it
	for _ in $(seq 300); do
		as_rmon /usr/bin/rmon series "$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	fail "rmon series '$1' found nothing"
}
wait_series 'node_load1{site="chroot"}'
as_rmon /usr/bin/rmon series 'node_load1' | tee "$dir/series"
grep -q "node_load1{site=\"chroot\"}" "$dir/series" || fail "the agent did not read /etc/rmon/collectd.conf"
as_rmon /usr/bin/rmon query 'node_load1' --format csv | tail -2

# A reload as systemctl reload sends it.
kill -HUP "$pid_rmon_collectd"
for _ in $(seq 100); do grep -q "configuration reloaded" "$dir/rmon-collectd.log" && break; sleep 0.1; done
grep -q "configuration reloaded" "$dir/rmon-collectd.log" || fail "rmon-collectd did not reload"

if [ -x "$root/usr/bin/rmon-reportgen" ]; then
	for _ in $(seq 600); do [ -s "$root/var/cache/rmon/www/index.html" ] && break; sleep 0.1; done
	[ -s "$root/var/cache/rmon/www/index.html" ] || fail "rmon-reportgen wrote no index.html"
	echo "rmon-reportgen wrote /var/cache/rmon/www/index.html"
fi

# Upgrade to the same build as version $version+1 (the maintainer
# scripts of both run as in a real upgrade), the daemons stopped by the
# old prerm as systemd would and started again after.
for s in rmon-collectd "${servers[@]}"; do stop_unit "$s"; done
samples_before=$(as_rmon /usr/bin/rmon query node_load1 --from -1d --format csv | wc -l)
next=${version%-*}-$((${version##*-} + 1))
for p in rmon-agent rmon-server; do
	dpkg-deb -R "$root/tmp/${p}_${version}_$arch.deb" "$dir/$p.unpacked"
	sed -i "s/^Version: .*/Version: $next/" "$dir/$p.unpacked/DEBIAN/control"
	dpkg-deb -b "$dir/$p.unpacked" "$root/tmp/${p}_${next}_$arch.deb" >/dev/null
done
in_root apt-get install -y -qq /tmp/rmon-server_"$next"_$arch.deb /tmp/rmon-agent_"$next"_$arch.deb \
	>"$dir/upgrade.log" 2>&1 || { tail -30 "$dir/upgrade.log"; fail "apt upgrade"; }
[ "$(in_root dpkg-query -W -f='${Version}' rmon-server)" = "$next" ] || fail "not upgraded"
grep -q 'site=chroot' "$root/etc/rmon/collectd.conf" || fail "the upgrade lost the edited collectd.conf"
[ -d "$root/var/lib/rmon/db" ] || fail "the upgrade lost the store"
for s in "${servers[@]}"; do start_unit "$s"; done
start_unit rmon-collectd
samples_after=$(as_rmon /usr/bin/rmon query node_load1 --from -1d --format csv | wc -l)
[ "$samples_after" -ge "$samples_before" ] || fail "samples before the upgrade: $samples_before, after: $samples_after"
echo "upgraded to $next: the edited configuration and $samples_before lines of node_load1 kept"
for s in rmon-collectd "${servers[@]}"; do stop_unit "$s"; done
ls "$root/dev/shm" | grep -q '^rmon-' || fail "no ring in /dev/shm before the removal"

# Purge: nothing of Rusty Monitor is left but the system user.
in_root apt-get purge -y -qq rmon-server rmon-agent >"$dir/purge.log" 2>&1 ||
	{ tail -30 "$dir/purge.log"; fail "apt purge"; }
for f in /etc/rmon /var/lib/rmon /var/cache/rmon /usr/bin/rmon /usr/bin/rmon-stored \
	/usr/bin/rmon-collectd /lib/systemd/system/rmon-stored.service /etc/nginx/sites-available/rmon.conf \
	/etc/systemd/system/multi-user.target.wants/rmon-stored.service; do
	[ ! -e "$root$f" ] || fail "$f is left after the purge"
done
! ls "$root/dev/shm" | grep -q '^rmon-' || fail "the ring is left after the purge"
echo "purged: no file of the packages, no data, no ring left"
echo ok
