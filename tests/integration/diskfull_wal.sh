#!/usr/bin/env bash
# The file system under the WAL fills up: the store stops taking batches
# with one line (agents are not acknowledged and keep their spools), stays
# up, and once space returns takes them again by itself; every sample
# arrives exactly once.
set -eu
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/small_fs.sh"
series=100 samples=600 # 1.4 MB of WAL: past the first 1 MiB segment
port=$(free_port)
mkdir -p "$dir/store"
small_fs "$dir/store/wal" 4m
printf '[store]\nwal_segment_size = 1MiB\n' >"$dir/stored.conf"
start_store "$dir/store" --listen 127.0.0.1:$port --config "$dir/stored.conf"
fill_fs "$dir/store/wal"
ship_as web1 --series $series --samples $samples --rounds-per-batch 20 --timeout 120 \
	>"$dir/ship.out" 2>"$dir/ship.log" &
loadgen=$!
pids+=($loadgen)
wait_for "disk full, draining stopped until space returns" "$stored_log" 30
sleep 2 # batches are refused meanwhile: still one line, nothing acknowledged past it
[ "$(grep -c "disk full" "$stored_log")" -eq 1 ]
kill -0 "$stored_pid" && kill -0 $loadgen
"$RMON_BIN/rmon" stats --data "$dir/store" | tee "$dir/stats"
grep -q "^DISK FULL         under the WAL: draining stopped" "$dir/stats"
free_fs "$dir/store/wal"
wait_for "disk space is back, draining again" "$stored_log" 30
! "$RMON_BIN/rmon" stats --data "$dir/store" | grep "DISK FULL"
wait $loadgen
cat "$dir/ship.out"
grep -q "acked 30 dropped 0" "$dir/ship.out"
stop_store
check_host "$dir/store" web1 $series $samples
