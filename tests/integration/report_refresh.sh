#!/usr/bin/env bash
# The rmon-reportgen daemon refreshes at once when alertd's store changes:
# a silence added with `rmon silence add` shows on the alerts page within
# 5 s although the refresh interval is an hour; its hostile comment shows
# as text.  SIGTERM stops the daemon with status 0.
set -eu
. tests/integration/lib/site.sh
need gnuplot "Debian package gnuplot-nox"
need "$RMON_BIN/rmon-alertd" "built from alertd/"
make_site 3
# alertd makes its store (and keeps watching, as in production).
"$RMON_BIN/rmon-alertd" --data "$dir/data" 2>>"$dir/alertd.log" &
pids+=($!)
for _ in $(seq 200); do [ -d "$dir/data/alertd" ] && break; sleep 0.05; done
"$RMON_BIN/rmon-reportgen" --data "$dir/data" --out "$dir/www" --interval 1h 2>>"$dir/daemon.log" &
daemon=$!
pids+=($daemon)
# The first pass makes the alerts page.
for _ in $(seq 300); do grep -q "pages written" "$dir/daemon.log" 2>/dev/null && break; sleep 0.1; done
grep -q "pages written" "$dir/daemon.log" || { cat "$dir/daemon.log"; exit 1; }
! grep -q "window &lt;b&gt;" "$dir/www/alerts.html"
comment='window <b>swap</b> & reboot'
start=$(date +%s%N)
"$RMON_BIN/rmon" silence add 'vm/*' --for 1h --comment "$comment" --data "$dir/data"
for _ in $(seq 100); do
	grep -q 'window &lt;b&gt;swap&lt;/b&gt; &amp; reboot' "$dir/www/alerts.html" && break
	sleep 0.05
done
ms=$((($(date +%s%N) - start) / 1000000))
grep -q 'window &lt;b&gt;swap&lt;/b&gt; &amp; reboot' "$dir/www/alerts.html" ||
	{ echo "the silence is not on the alerts page after ${ms} ms"; cat "$dir/daemon.log"; exit 1; }
echo "the silence shows on the alerts page ${ms} ms after it was added"
[ "$ms" -le 5000 ]
! grep -q '<b>swap' "$dir/www/alerts.html"
/usr/bin/python3 tests/integration/lib/check_site.py "$dir/www"
kill -TERM "$daemon"
wait "$daemon"
echo ok
