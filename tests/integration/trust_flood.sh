#!/usr/bin/env bash
# Unauthenticated floods change nothing: connections announcing 16 MiB
# frames, sending junk, or holding half a HELLO, reopened as fast as the
# server closes them, leave the store's RSS within 64 MiB of its idle
# figure, and an honest agent shipping meanwhile gets every batch acked.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
attacker="$(dirname "$0")/lib/attacker.py"
# Under ASan freed memory waits in a quarantine: the bound is on live memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
start_store "$dir/central" --listen 127.0.0.1:$port
rss() { awk '/^VmRSS/ { print $2 }' /proc/$stored_pid/status; }
sleep 1
idle=$(rss)
ship_as honest --series 20 --samples 600 --pace-us 10000 --timeout 60 \
	>"$dir/honest.out" 2>"$dir/honest.log" &
honest=$!
pids+=($honest)
peak=$idle
watch_rss() { while kill -0 "$1" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done; }
for kind in big junk slow; do
	n=${CONNECTIONS:-100}; [ $kind = slow ] && n=$((n * 6))
	python3 "$attacker" flood $port $n 3 $kind &
	watch_rss $!
	echo "after the $kind flood: RSS peak $((peak / 1024)) MiB, idle $((idle / 1024)) MiB"
done
wait $honest
pids=()
cat "$dir/honest.out"
grep -q "acked 600 dropped 0" "$dir/honest.out"
kill -0 "$stored_pid"
grep -q "more than the 4096 allowed" "$stored_log"
if [ $((peak - idle)) -gt $((64 * 1024)) ]; then
	echo "the store's RSS grew by $(((peak - idle) / 1024)) MiB under the flood"; exit 1
fi
stop_store
check_host "$dir/central" honest 20 600
echo "RSS within 64 MiB of idle, honest agent complete"
