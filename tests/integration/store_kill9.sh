#!/usr/bin/env bash
# kill -9 the store again and again while a producer floods the ring; after
# the last restart every sample the ring accepted is stored exactly once.
# ITERATIONS (default 30) sets how many kills; RMON_STORED_ARGS adds flags.
set -eu
iterations=${ITERATIONS:-30}
series=50 samples=40000
dir=$(mktemp -d)
data=$dir/data
stored_pid=
cleanup() {
	[ -n "$stored_pid" ] && kill -9 "$stored_pid" 2>/dev/null || true
	"$RMON_BIN/rmon-stored" --data "$data" --drop-ring 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

start_store() {
	"$RMON_BIN/rmon-stored" --data "$data" ${RMON_STORED_ARGS:-} 2>>"$dir/stored.log" &
	stored_pid=$!
}

start_store
"$RMON_BIN/rmon-loadgen" --data "$data" --series $series --samples $samples --pace-us 100 >"$dir/loadgen.out" &
loadgen_pid=$!
for i in $(seq "$iterations"); do
	sleep "0.$(( RANDOM % 4 ))$(( RANDOM % 10 ))"
	kill -9 "$stored_pid"
	wait "$stored_pid" 2>/dev/null || true
	start_store
done
kill -0 "$loadgen_pid" 2>/dev/null && echo "the producer was still pushing after the last kill, as intended"
wait "$loadgen_pid"
cat "$dir/loadgen.out"
grep -q "accepted $((series * samples)) dropped 0" "$dir/loadgen.out"
sleep 2 # let the last store drain the ring
kill -TERM "$stored_pid"
wait "$stored_pid"
stored_pid=

# Every series holds samples 0..N-1 exactly once: count, distinct times, sum.
"$RMON_BIN/rmon" query 'loadgen/*' --data "$data" --from 0 --to now+1d --format csv |
	awk -F'",' -v want=$samples -v series=$series '
		NR == 1 { next }
		{ split($2, f, ","); key = $1 SUBSEP f[1]; if (key in seen) dup++; seen[key] = 1;
		  n[$1]++; sum[$1] += f[2] }
		END {
			expect = want * (want - 1) / 2; bad = 0; count = 0
			for (s in n) { count++; if (n[s] != want || sum[s] != expect) { bad++; print "series " s ": " n[s] " samples, sum " sum[s] } }
			if (count != series) { print count " series instead of " series; bad++ }
			if (dup) { print dup " duplicated samples"; bad++ }
			if (bad) exit 1
			print "all " series " series complete: " want " samples each, no duplicates"
		}'
echo "store restarts logged: $(grep -c 'draining into' "$dir/stored.log")"
