#!/usr/bin/env bash
# rmon-reportgen killed with -9 in the middle of its passes: the site it
# leaves is whole (every file renamed into place complete), the next start
# removes the temporary files and finishes the site, which then checks
# clean: every page parses, every graph referenced exists and is valid.
set -eu
. tests/integration/lib/site.sh
need gnuplot "Debian package gnuplot-nox"
make_site 3
for round in 1 2 3 4 5; do
	rm -f "$dir/www/.reportgen-state"
	find "$dir/www" -name '*.svg' -delete # every graph to draw again: a long pass
	"$RMON_BIN/rmon-reportgen" --data "$dir/data" --out "$dir/www" --interval 1s 2>>"$dir/daemon.log" &
	pid=$!
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	# Whatever is in place is complete: every SVG there parses.
	for f in $(find "$dir/www" -name '*.svg'); do
		/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$f" ||
			{ echo "round $round: $f is not whole"; exit 1; }
	done
done
"$RMON_BIN/rmon-reportgen" --data "$dir/data" --out "$dir/www" --once 2>>"$dir/daemon.log"
[ -z "$(find "$dir/www" -name '*.tmp')" ] || { echo "temporary files left"; exit 1; }
/usr/bin/python3 tests/integration/lib/check_site.py "$dir/www"
echo ok
