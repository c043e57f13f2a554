#!/usr/bin/env bash
# A relay restarted with nothing pending still defines, on its upstream
# connection, every series it forwards: the store above takes samples only
# of series defined on the same connection.
set -eu
. "$(dirname "$0")/lib/ship.sh"
central_port=$(free_port)
port=$(free_port) # the relay's
printf '[host %s]\ncarries = east\n' "$(hostname)" >"$dir/central.conf"
start_store "$dir/central" --listen 127.0.0.1:$central_port --config "$dir/central.conf"
central_pid=$stored_pid
pids+=($central_pid)
start_relay() {
	start_store "$dir/relay" --listen 127.0.0.1:$port --upstream 127.0.0.1:$central_port
}
start_relay
hour_ago=$(( ($(date +%s) - 3600) * 1000000000 ))
ship_as east --series 5 --samples 100 --start-ns $hour_ago >/dev/null 2>&1
sleep 2 # the relay forwards and is acknowledged: its spool is empty
stop_store
start_relay
# Known series, new samples: no new definition reaches the relay's drainer.
ship_as east --series 5 --samples 100 >/dev/null 2>&1
sleep 3
stop_store
stored_pid=$central_pid
stop_store
pids=()
n=$("$RMON_BIN/rmon" query 'east/rmon_loadgen_value{s="0"}' --data "$dir/central" --from 0 \
	--to $(( $(date +%s) + 86400 )) --format csv | tail -n +2 | wc -l)
if [ "$n" -ne 200 ]; then
	echo "the central store holds $n samples of east's series, not 200"; exit 1
fi
echo "after the relay's restart every sample arrived"
