#!/usr/bin/env bash
# A relay whose upstream spool sits on a full file system, the central
# store down: it acknowledges its agent (the samples are in its own WAL),
# says once that it holds the upstream batches in memory, writes them to
# the spool by itself when space returns, and after a kill -9 and restart
# delivers them all to the central store, exactly once.
set -eu
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/small_fs.sh"
series=40 samples=300
central_port=$(free_port)
relay_port=$(free_port)
mkdir -p "$dir/relay"
printf '[host %s]\ncarries = solo\n' "$(hostname)" >"$dir/central.conf"
small_fs "$dir/relay/upstream-spool" 4m
fill_fs "$dir/relay/upstream-spool"
start_store "$dir/relay" --listen 127.0.0.1:$relay_port --upstream 127.0.0.1:$central_port
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$relay_port --spool "$dir/spool-solo" --host solo \
	--series $series --samples $samples --rounds-per-batch 20 --timeout 60 | tee "$dir/solo.out"
grep -q "acked 15 dropped 0" "$dir/solo.out"
wait_for "relay: spool disk full, batches held in memory" "$stored_log" 20
[ "$(grep -c "spool disk full" "$stored_log")" -eq 1 ]
free_fs "$dir/relay/upstream-spool"
wait_for "relay: spool disk space is back, held batches written" "$stored_log" 20
kill9_store
start_store "$dir/central" --config "$dir/central.conf" --listen 127.0.0.1:$central_port
central_pid=$stored_pid
pids+=($central_pid)
start_store "$dir/relay" --listen 127.0.0.1:$relay_port --upstream 127.0.0.1:$central_port
for _ in $(seq 150); do
	check_host "$dir/central" solo $series $samples >/dev/null 2>&1 && break
	sleep 0.2
done
stop_store
stored_pid=$central_pid
stop_store
pids=()
check_host "$dir/central" solo $series $samples
