#!/usr/bin/env bash
# Three agents ship over TCP while the central store is killed with -9 and
# restarted again and again: every acknowledged batch survives, unacked
# ones are resent from the agents' spools, and each sample is stored exactly
# once.  KILLS (default 6) sets how many kills, SAMPLES (600) how long
# the agents ship (5 ms a sample).
set -eu
. "$(dirname "$0")/lib/ship.sh"
kills=${KILLS:-6}
series=40 samples=${SAMPLES:-600}
port=$(free_port)
start_store "$dir/central" --listen 127.0.0.1:$port
for host in alpha beta gamma; do
	"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool-$host" --host $host \
		--series $series --samples $samples --rounds-per-batch 3 --pace-us 5000 \
		--timeout 60 >"$dir/$host.out" 2>"$dir/$host.log" &
	pids+=($!)
done
for i in $(seq "$kills"); do
	sleep "0.$(( RANDOM % 6 + 2 ))$(( RANDOM % 10 ))"
	kill9_store
	sleep "0.$(( RANDOM % 3 ))"
	start_store "$dir/central" --listen 127.0.0.1:$port
done
for p in "${pids[@]}"; do wait "$p"; done
pids=()
cat "$dir"/*.out
stop_store
for host in alpha beta gamma; do check_host "$dir/central" $host $series $samples; done
echo "store starts: $(grep -c 'draining into' "$stored_log"); reconnects: $(cat "$dir"/*.log | grep -c 'connected to')"
