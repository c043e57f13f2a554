#!/usr/bin/env bash
# Malformed, truncated, oversized and lying frames each close their own
# connection with an ERROR frame and a log line naming the peer; the server
# stays up and an honest agent shipping at the same time is unaffected.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
start_store "$dir/central" --listen 127.0.0.1:$port
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool" --host honest \
	--series 20 --samples 400 --pace-us 5000 --timeout 30 >"$dir/honest.out" 2>"$dir/honest.log" &
honest=$!
pids+=($honest)
for _ in 1 2 3; do python3 "$(dirname "$0")/lib/bad_frames.py" $port; done
wait $honest
pids=()
cat "$dir/honest.out"
grep -q "acked 400 dropped 0" "$dir/honest.out"
if grep -q "refused\|retrying" "$dir/honest.log"; then
	echo "the honest agent was disturbed:"; cat "$dir/honest.log"; exit 1
fi
kill -0 "$stored_pid"
grep -c "closing 127.0.0.1:[0-9]*" "$stored_log"
grep -q "closing 127.0.0.1:[0-9]*: frame" "$stored_log"
grep -q "more than the [0-9]* allowed" "$stored_log"
grep -q "does not belong to host liar" "$stored_log"
stop_store
check_host "$dir/central" honest 20 400
"$RMON_BIN/rmon" series 'victim/*' --data "$dir/central" | grep -q . && { echo "a forged series was stored"; exit 1; }
echo "server up, honest agent complete"
