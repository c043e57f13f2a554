#!/usr/bin/env bash
# rmon-stored and the rmon query commands as a person uses them: bad
# configs and selectors are clear errors, queries return what was stored.
set -eu
dir=$(mktemp -d)
data=$dir/data
trap '"$RMON_BIN/rmon-stored" --data "$data" --drop-ring; rm -rf "$dir"' EXIT
expect_fail() { # status, pattern, command...
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$dir/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || { echo "exit $rc, wanted $want: $*"; cat "$dir/out"; exit 1; }
	grep -q -- "$pattern" "$dir/out" || { echo "no '$pattern' in:"; cat "$dir/out"; exit 1; }
}
printf '[store]\ncommit_interval = 5x\n' >"$dir/bad.conf"
expect_fail 2 "bad.conf:2: store.commit_interval = '5x'" "$RMON_BIN/rmon-stored" --data "$data" --config "$dir/bad.conf"
printf '[store]\nsmell = nice\n' >"$dir/bad.conf"
expect_fail 2 "bad.conf:2: store.smell = 'nice': unknown setting" "$RMON_BIN/rmon-stored" --data "$data" --config "$dir/bad.conf"
expect_fail 1 "no store in" "$RMON_BIN/rmon" query up --data "$data"

"$RMON_BIN/rmon-stored" --data "$data" 2>"$dir/stored.log" &
pid=$!
"$RMON_BIN/rmon-loadgen" --data "$data" --series 3 --samples 500 --start-ns 1764000000000000000
sleep 1.5
"$RMON_BIN/rmon" series --data "$data" | sort >"$dir/series"
grep -q 'loadgen/rmon_loadgen_value{s="2"}' "$dir/series"
[ "$("$RMON_BIN/rmon" series 'rmon_loadgen_value{s=~"[01]"}' --data "$data" | wc -l)" -eq 2 ]
out=$("$RMON_BIN/rmon" query 'loadgen/rmon_loadgen_value{s="1"}' --data "$data" --from 1764000000 --to 1764000001)
echo "$out" | head -3
[ "$(echo "$out" | grep -c '2025-11-24T16:00:00')" -eq 500 ]
echo "$out" | grep -q '2025-11-24T16:00:00.499Z  499'
# Aggregated: 500 ms windows of values 0..499, average of the first is 249.5.
"$RMON_BIN/rmon" query 'rmon_loadgen_value{s="0"}' --data "$data" --from 1764000000 --to 1764000001 --step 500ms --format json >"$dir/json"
grep -q '\[1764000000.000,249.5\]' "$dir/json"
"$RMON_BIN/rmon" query 'rmon_loadgen_value{s="0"}' --data "$data" --from 1764000000 --to 1764000001 --step 1s --agg increase --format csv | grep -q ',499$'
expect_fail 2 "bad selector" "$RMON_BIN/rmon" query 'up{a=b}' --data "$data"
expect_fail 2 "bad time 'yesterday'" "$RMON_BIN/rmon" query up --from yesterday --data "$data"
expect_fail 2 "unknown aggregation 'median'" "$RMON_BIN/rmon" query up --agg median --data "$data"
"$RMON_BIN/rmon" stats --data "$data" | tee "$dir/stats"
grep -q "samples           1500" "$dir/stats"
kill -TERM $pid
wait $pid
grep -q "stopped after storing 1500 samples" "$dir/stored.log"
echo ok
