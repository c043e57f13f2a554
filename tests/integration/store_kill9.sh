#!/usr/bin/env bash
# kill -9 the store again and again while a producer floods the ring; after
# the last restart every sample the ring accepted is stored exactly once.
# ITERATIONS (default 30) sets how many kills, SAMPLES (default 40000) how
# many samples each series gets; RMON_STORED_ARGS adds flags.
set -eu
iterations=${ITERATIONS:-30}
series=50 samples=${SAMPLES:-40000}
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

# Every series holds samples 0..N-1 exactly once.
. "$(dirname "$0")/lib/check.sh"
check_host "$data" loadgen $series $samples
echo "store restarts logged: $(grep -c 'draining into' "$dir/stored.log")"
