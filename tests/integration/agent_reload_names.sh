#!/usr/bin/env bash
# SIGHUP with a new host name and new static labels renames what the agent
# sends from then on (it remembers names between collections, so this
# checks the memory is dropped), shipping to a store.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
start_store "$dir/central" --listen 127.0.0.1:$port
printf 'host = before\n[server]\naddress = 127.0.0.1:%s\n' $port >"$dir/agent.conf"
"$RMON_BIN/rmon-collectd" --config "$dir/agent.conf" --data "$dir/agent" --interval 200ms \
	2>"$dir/agent.log" &
agent=$!
pids+=($agent)
wait_for() { # TEXT: up to 20 s for the agent's log to say it (sanitizer builds are slow)
	for _ in $(seq 200); do grep -q "$1" "$dir/agent.log" && return 0; sleep 0.1; done
	echo "the agent never logged '$1':"; cat "$dir/agent.log"; return 1
}
wait_for "connected to"
sleep 1
printf 'host = after\nlabels = "dc=eu1"\n[server]\naddress = 127.0.0.1:%s\n' $port >"$dir/agent.conf"
kill -HUP $agent
wait_for "configuration reloaded"
sleep 2
kill -TERM $agent
wait $agent
pids=()
sleep 1 # the store commits what arrived last
stop_store
"$RMON_BIN/rmon" series 'before/node_load1' --data "$dir/central" | grep -q .
"$RMON_BIN/rmon" series 'after/node_load1' --data "$dir/central" | grep -q 'dc="eu1"'
n=$("$RMON_BIN/rmon" query 'after/node_load1' --data "$dir/central" --from -1h --format csv | wc -l)
echo "after the reload: $n samples of after/node_load1{dc=\"eu1\"}"
[ "$n" -ge 4 ]
