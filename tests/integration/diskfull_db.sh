#!/usr/bin/env bash
# The file system under the database fills up (the WAL's has room): the
# store pauses LMDB commits with one line and keeps running, agents keep
# being acknowledged (their samples are in the WAL), and once space returns
# commits resume by themselves and every acknowledged sample is stored.
set -eu
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/small_fs.sh"
series=50 samples=400
port=$(free_port)
mkdir -p "$dir/store"
small_fs "$dir/store/db" 4m
start_store "$dir/store" --listen 127.0.0.1:$port
fill_fs "$dir/store/db"
ship_as web1 --series $series --samples $samples --rounds-per-batch 20 --timeout 60 |
	tee "$dir/ship.out"
grep -q "acked 20 dropped 0" "$dir/ship.out"
wait_for "database disk full, commits paused" "$stored_log" 20
sleep 2 # a few more commits fail meanwhile: still one line
[ "$(grep -c "database disk full" "$stored_log")" -eq 1 ]
kill -0 "$stored_pid"
# rmon stats says so, though nothing is committed meanwhile.
"$RMON_BIN/rmon" stats --data "$dir/store" | tee "$dir/stats"
grep -q "^DISK FULL         under the database: commits paused" "$dir/stats"
free_fs "$dir/store/db"
wait_for "database disk space is back, commits resumed" "$stored_log" 20
kill -0 "$stored_pid"
! "$RMON_BIN/rmon" stats --data "$dir/store" | grep "DISK FULL"
stop_store
check_host "$dir/store" web1 $series $samples
