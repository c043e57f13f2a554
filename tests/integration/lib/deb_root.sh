# Sourced by the packaging tests: a Debian 12 root made by debootstrap from
# this machine's own apt mirror (cached, since it takes half a minute), and
# the packages built from this tree by dpkg-buildpackage.

# The mirror apt uses here, so the tests name no host of their own.
deb_mirror() {
	local uri
	uri=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v security | head -1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	echo "$uri"
}

# deb_base TARBALL: makes (once) a tarball of a minimal Debian 12 root.
deb_base() {
	local tarball=$1 tmp mirror
	[ -s "$tarball" ] && return 0
	mirror=$(deb_mirror)
	[ -n "$mirror" ] || { echo "no Debian mirror configured for apt here"; return 77; }
	tmp=$(mktemp -d "$(dirname "$tarball")/base.XXXXXX")
	# dpkg in the root skips its fsync per file (as Debian's own container
	# images do): every install in it, debootstrap's second stage first,
	# would otherwise wait on the disk for each of thousands of files.
	if ! { debootstrap --foreign --variant=minbase bookworm "$tmp/root" "$mirror" &&
		echo force-unsafe-io >"$tmp/root/etc/dpkg/dpkg.cfg.d/unsafe-io" &&
		unshare --mount --propagation private chroot "$tmp/root" /debootstrap/debootstrap --second-stage; } >"$tmp/log" 2>&1; then
		tail -5 "$tmp/log"
		rm -rf "$tmp"
		echo "debootstrap could not make a Debian 12 root from $mirror"
		return 77
	fi
	tar -C "$tmp/root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$tmp"
}

# deb_build OUT_DIR: builds the packages from this tree's files (tracked
# and new, as git lists them) in a copy, leaving the .debs in OUT_DIR.
deb_build() {
	local out=$1 src
	src=$out/rmon-0.1.0
	mkdir -p "$src"
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src"
	(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
		{ tail -40 "$out/build.log"; return 1; }
}
