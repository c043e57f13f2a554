#!/usr/bin/env bash
# The Debian packages as an operator meets them, on a fresh Debian 12 root
# made by debootstrap: dpkg-buildpackage builds rmon-agent and rmon-server
# from this tree, lintian finds nothing that docs/packaging.md does not
# explain, apt installs both, and the daemons started the way their
# systemd units start them (ExecStart, User, StateDirectory, UMask,
# NOTIFY_SOCKET: systemd is not PID 1 here) find /etc/rmon and
# /var/lib/rmon without a flag; then an upgrade keeps the data and an
# edited configuration, and a purge leaves nothing behind.
set -eu
# The packages are built from the tree, whatever the variant under test:
# once, with the release build's run, is enough.
case ${RMON_BUILD:-release} in */release | release) ;; *)
	echo "the packages are tested with the release variant's run"; exit 77 ;;
esac
for tool in dpkg-buildpackage debootstrap lintian unshare chroot; do
	command -v $tool >/dev/null || { echo "$tool is not installed (.ci/install-deps)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root for chroot and mounts"; exit 77; }
. tests/integration/lib/deb_root.sh
cache=${RMON_TEST_CACHE:-/var/tmp/rmon-test-cache}
mkdir -p "$cache"
rc=0
deb_base "$cache/deb12-minbase.tar" || rc=$?
[ $rc -eq 0 ] || exit $rc
echo "Debian 12 base ready after ${SECONDS}s"
dir=$(mktemp -d /var/tmp/rmon-deb.XXXXXX)
trap 'rm -rf "$dir"' EXIT

if [ -n "${RMON_DEB_DIR:-}" ]; then # packages built already (while working on this test)
	mkdir -p "$dir/build" && cp -r "$RMON_DEB_DIR"/. "$dir/build/"
else
	deb_build "$dir/build"
fi
ls "$dir/build"/*.deb
echo "packages built after ${SECONDS}s"

# lintian: every tag still reported is explained in docs/packaging.md.
explained=$(sed -n '/^### Lintian/,/^###* [^L]/p' docs/packaging.md |
	sed -n 's/^| `\([a-z0-9.-]*\)` | .*/\1/p' | paste -sd, -)
[ -n "$explained" ] || { echo "docs/packaging.md explains no lintian tag"; exit 1; }
lintian -I --pedantic --suppress-tags "$explained" "$dir"/build/rmon_*.changes 2>&1 |
	grep -v '^running with root privileges' >"$dir/lintian" || true
if [ -s "$dir/lintian" ]; then
	echo "lintian tags not explained in docs/packaging.md:"; cat "$dir/lintian"; exit 1
fi
echo "lintian: clean but for the tags docs/packaging.md explains ($explained), after ${SECONDS}s"

# The rest runs in a mount namespace of its own: the root's /proc, /sys
# and /dev/shm vanish with it, whatever happens.
unshare --mount --propagation private bash tests/integration/lib/deb_chroot.sh \
	"$dir" "$cache/deb12-minbase.tar"
