#!/usr/bin/env bash
# The systemd units of deploy/systemd as installed (paths rewritten to this
# build's programs): systemd-analyze verify finds nothing wrong (their man
# pages included), systemd-analyze security rates each at most 2.0, and
# each has the hardening, readiness and reload that docs/install.md
# promises.  systemd is not PID 1 on these machines, so the units are
# checked offline; tests/integration/deb_install.sh starts the daemons as
# their units would.
set -eu
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed (apt-get install systemd)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/units" "$dir/man/man1" "$dir/man/man5" "$dir/man/man8"
for page in "$RMON_BUILD"/man/*.[1-8]; do
	[ -e "$page" ] && cp "$page" "$dir/man/man${page##*.}/"
done
status=0
for unit in deploy/systemd/*.service; do
	name=$(basename "$unit")
	program=${name%.service}
	bin=$RMON_BIN/$program
	if [ ! -x "$bin" ]; then # rmon-alertd and rmon-reportgen come from their own branches
		echo "note: $program is not built here; checking $name with /bin/sleep in its place"
		bin=/bin/sleep
		sed -e "s|^ExecStart=/usr/bin/$program.*|ExecStart=/bin/sleep infinity|" "$unit" >"$dir/units/$name"
	else
		sed -e "s|/usr/bin/|$RMON_BIN/|g" "$unit" >"$dir/units/$name"
		# Every option the unit passes is one the program knows.
		for opt in $(sed -n 's/^ExecStart=[^ ]*//p' "$unit" | grep -o -- '--[a-z-]*' || true); do
			"$bin" --help | grep -q -- "$opt" || { echo "$name: $program has no $opt"; status=1; }
		done
	fi
	for want in '^Type=notify$' '^User=rmon$' '^ProtectSystem=strict$' '^ProtectHome=' \
		'^NoNewPrivileges=yes$' '^PrivateTmp=yes$' '^CapabilityBoundingSet=$' \
		'^RemoveIPC=no$\|^ReadWritePaths=\|^CacheDirectory=' '^StateDirectory=\|^ReadWritePaths='; do
		grep -q "$want" "$unit" || { echo "$name: no line matching $want"; status=1; }
	done
	case $program in
	rmon-stored | rmon-reportgen) ! grep -q "^ExecReload=" "$unit" || { echo "$name: $program has no reload"; status=1; } ;;
	*) grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" || { echo "$name: no reload by SIGHUP"; status=1; } ;;
	esac
	out=$(cd "$dir/units" && MANPATH=$dir/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "./$name" 2>&1 || true)
	if [ -n "$out" ]; then
		echo "systemd-analyze verify $name:"; echo "$out"; status=1
	fi
	score=$(cd "$dir/units" && systemd-analyze security --offline=yes "./$name" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	[ -n "$score" ] || { echo "systemd-analyze security $name gave no score"; status=1; continue; }
	echo "$name: exposure $score"
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "$name: exposure $score is above 2.0"; status=1; }
done
exit $status
