#!/usr/bin/env bash
# rmon query --step gives windows on multiples of the step, whatever --from
# is (the first window is the one holding --from), and its usage errors
# have no empty field.
set -eu
dir=$(mktemp -d)
data=$dir/data
trap '"$RMON_BIN/rmon-stored" --data "$data" --drop-ring; rm -rf "$dir"' EXIT
"$RMON_BIN/rmon-stored" --data "$data" 2>"$dir/stored.log" &
pid=$!
# Values 0..599, one a millisecond from 1764000000 (a multiple of 200 ms).
"$RMON_BIN/rmon-loadgen" --data "$data" --series 1 --samples 600 --start-ns 1764000000000000000
for _ in $(seq 100); do
	"$RMON_BIN/rmon" query rmon_loadgen_value --data "$data" --from 1764000000 --to 1764000001 |
		grep -q '  599$' && break
	sleep 0.05
done
"$RMON_BIN/rmon" query rmon_loadgen_value --data "$data" --from 1764000000.13 --to 1764000000.45 \
	--step 200ms --agg count --format json | tee "$dir/json"
# Windows [0, 200) and [200, 400) ms and [400, 600): whole, not cut at 130 or 450 ms.
grep -q '"points":\[\[1764000000.000,200\],\[1764000000.200,200\],\[1764000000.400,200\]\]' "$dir/json"
"$RMON_BIN/rmon" query rmon_loadgen_value --data "$data" --from 1764000000.13 --to 1764000001 \
	--step 200ms --agg min --format csv | tee "$dir/csv"
[ "$(sed -n 2p "$dir/csv" | cut -d, -f2-)" = "2025-11-24T16:00:00.000Z,0" ]
rc=0
"$RMON_BIN/rmon" query 'up{a=b}' --data "$data" 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 2 ] && grep -q "^rmon query: bad selector 'up{a=b}'" "$dir/err"
rc=0
"$RMON_BIN/rmon" query up --step 0s --data "$data" 2>"$dir/err" || rc=$?
[ $rc -eq 2 ] && grep -q "^rmon query: --step must be longer than 0" "$dir/err"
kill -TERM $pid
wait $pid
echo ok
