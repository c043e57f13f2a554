#!/usr/bin/env bash
# The server is down: an agent spools its batches to disk and is killed
# with -9; restarted once the server is up, it sends what the spool held,
# in order, and nothing is lost or doubled.
set -eu
. "$(dirname "$0")/lib/ship.sh"
series=30 samples=500
port=$(free_port)
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool" --host solo \
	--series $series --samples $samples --rounds-per-batch 5 --timeout 60 >"$dir/first.out" 2>"$dir/first.log" &
pid=$!
pids+=($pid)
for _ in $(seq 100); do grep -q spooled "$dir/first.out" && break; sleep 0.05; done
grep "spooled 100" "$dir/first.out"
kill -9 $pid
wait $pid 2>/dev/null || true
ls "$dir/spool" | grep -q '\.spool$'
start_store "$dir/central" --listen 127.0.0.1:$port
# --samples 0: generate nothing new, send what the spool holds.
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool" --host solo \
	--series $series --samples 0 --timeout 30 | tee "$dir/second.out"
grep -q "acked 100 dropped 0" "$dir/second.out"
stop_store
check_host "$dir/central" solo $series $samples
