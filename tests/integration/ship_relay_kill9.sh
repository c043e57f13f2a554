#!/usr/bin/env bash
# A relay between two agents and the central store is killed with -9 and
# restarted again and again: what it acknowledged is either upstream or in
# its own spool, so the central store ends up with every sample exactly once.
set -eu
. "$(dirname "$0")/lib/ship.sh"
kills=${KILLS:-5}
series=30 samples=500
central_port=$(free_port)
relay_port=$(free_port)
# The relay says the machine's host name; it may carry east and west.
printf '[host %s]\ncarries = east, west\n' "$(hostname)" >"$dir/central.conf"
start_store "$dir/central" --listen 127.0.0.1:$central_port --config "$dir/central.conf"
central_pid=$stored_pid
pids+=($central_pid)
start_store "$dir/relay" --listen 127.0.0.1:$relay_port --upstream 127.0.0.1:$central_port
for host in east west; do
	"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$relay_port --spool "$dir/spool-$host" --host $host \
		--series $series --samples $samples --rounds-per-batch 2 --pace-us 6000 \
		--timeout 60 >"$dir/$host.out" 2>"$dir/$host.log" &
	pids+=($!)
done
for i in $(seq "$kills"); do
	sleep "0.$(( RANDOM % 6 + 2 ))"
	kill9_store
	start_store "$dir/relay" --listen 127.0.0.1:$relay_port --upstream 127.0.0.1:$central_port
done
for p in "${pids[@]:1}"; do wait "$p"; done
cat "$dir"/east.out "$dir"/west.out
# The agents are done; the relay sends what its spool still holds (it
# retries every second at most after a kill), then stops.
sleep 3
stop_store
stored_pid=$central_pid
stop_store
pids=()
for host in east west; do check_host "$dir/central" $host $series $samples; done
echo "relay starts: $(grep -c "relaying to" "$stored_log")"
