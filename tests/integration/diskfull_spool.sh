#!/usr/bin/env bash
# The file system under a sender's spool is full while the server is down:
# the sender says so once and holds what it was handed in memory; when space
# returns it writes it all to the spool by itself and says so. Killed with -9
# after that and restarted once the server is up, it delivers every sample
# exactly once: what it accepted was on disk.
set -eu
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/small_fs.sh"
series=50 samples=400
port=$(free_port)
small_fs "$dir/spool" 4m
fill_fs "$dir/spool"
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool" --host solo \
	--series $series --samples $samples --rounds-per-batch 20 --timeout 60 \
	>"$dir/first.out" 2>"$dir/first.log" &
pid=$!
pids+=($pid)
wait_for "spool disk full, batches held in memory" "$dir/first.log" 20
wait_for "spooled 20" "$dir/first.out" 20
sleep 1.5 # retried meanwhile: still one line
[ "$(grep -c "spool disk full" "$dir/first.log")" -eq 1 ]
kill -0 $pid
free_fs "$dir/spool"
wait_for "spool disk space is back, held batches written" "$dir/first.log" 20
kill -9 $pid
wait $pid 2>/dev/null || true
start_store "$dir/central" --listen 127.0.0.1:$port
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool" --host solo \
	--series $series --samples 0 --timeout 30 | tee "$dir/second.out"
grep -q "acked 20 dropped 0" "$dir/second.out"
stop_store
check_host "$dir/central" solo $series $samples
