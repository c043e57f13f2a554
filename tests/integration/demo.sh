#!/usr/bin/env bash
# rmon demo runs the whole pipeline and stops everything it started; the
# data it leaves can be queried; bad flags exit 2.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$RMON_BIN/rmon" demo --duration 4s --data "$dir/data")
echo "$out"
# Live summaries read back from the store: over 100 series, samples stored.
series=$(echo "$out" | awk '/^ *[0-9]+s +series/ { n = $3 } END { print n + 0 }')
[ "$series" -gt 100 ] || { echo "only $series series"; exit 1; }
echo "$out" | grep -q "stopped rmon-reportgen, rmon-alertd, rmon-collectd and rmon-stored"
! pgrep -f "rmon-(stored|collectd) --data $dir/data" >/dev/null
"$RMON_BIN/rmon" query node_load1 --data "$dir/data" --from -1m | grep -q "node_load1"
[ "$("$RMON_BIN/rmon" query 'node_cpu_seconds_total{cpu="total",mode="idle"}' --data "$dir/data" --from -1m | wc -l)" -ge 3 ]
set +e
"$RMON_BIN/rmon" demo --duration soon >/dev/null 2>"$dir/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "expected exit 2 for a bad duration, got $rc"; exit 1; }
grep -q "bad duration 'soon'" "$dir/err"
if "$RMON_BIN/rmon" bogus 2>/dev/null; then exit 1; fi
echo ok
