#!/usr/bin/env bash
# Two machines' worth of real agents (rmon-collectd --server, host names
# overridden) ship through a relay to a central store: both hosts show up
# in `rmon series` at the relay and at the centre, with the same figures.
set -eu
. "$(dirname "$0")/lib/ship.sh"
central_port=$(free_port)
relay_port=$(free_port)
# The relay says the machine's host name; it may carry web1 and db1.
printf '[host %s]\ncarries = web1 db1\n' "$(hostname)" >"$dir/central.conf"
start_store "$dir/central" --listen 127.0.0.1:$central_port --config "$dir/central.conf"
central_pid=$stored_pid
printf '[store]\nself_interval = 1s\n' >"$dir/relay.conf"
start_store "$dir/relay" --config "$dir/relay.conf" --listen 127.0.0.1:$relay_port \
	--upstream 127.0.0.1:$central_port
relay_pid=$stored_pid
pids+=($central_pid $relay_pid)
for host in web1 db1; do
	printf 'host = %s\n[server]\naddress = 127.0.0.1:%s\n' $host $relay_port >"$dir/$host.conf"
	"$RMON_BIN/rmon-collectd" --config "$dir/$host.conf" --data "$dir/agent-$host" \
		--interval 200ms 2>"$dir/$host.log" &
	pids+=($!)
done
sleep 3
kill -TERM "${pids[@]:2}"
wait "${pids[@]:2}" || true
sleep 1 # the relay forwards its last batches
for p in $relay_pid $central_pid; do kill -TERM $p; wait $p; done
pids=()
stored_pid=
for where in relay central; do
	for host in web1 db1; do
		n=$("$RMON_BIN/rmon" series "$host/*" --data "$dir/$where" | wc -l)
		echo "$where: $host has $n series"
		[ "$n" -gt 100 ]
	done
done
# The same CPU figures at both ends.
for where in relay central; do
	"$RMON_BIN/rmon" query 'web1/node_cpu_seconds_total{cpu="0",mode="user"}' --data "$dir/$where" \
		--from -1h --format csv >"$dir/$where.csv"
done
[ "$(wc -l <"$dir/central.csv")" -ge 5 ]
cmp "$dir/relay.csv" "$dir/central.csv"
echo "relay and centre hold the same web1 cpu series ($(wc -l <"$dir/central.csv") lines)"
# The relay recorded its network side: agents connected, its forwarding.
"$RMON_BIN/rmon" stats --data "$dir/relay" | tee "$dir/stats.out"
grep -q "network agents" "$dir/stats.out"
"$RMON_BIN/rmon" query 'rmon_ingest_connections' --data "$dir/relay" --from -1h --format csv |
	awk -F, 'NR > 1 && $NF == 2 { two = 1 } END { exit !two }'
"$RMON_BIN/rmon" series 'rmon_relay_spool_pending_batches' --data "$dir/relay" | grep -q .
echo "the relay recorded two agents connected and its spool"
