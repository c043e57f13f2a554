#!/usr/bin/env bash
# Readiness as a Type=notify unit sees it: rmon-stored and rmon-collectd
# send READY=1 on $NOTIFY_SOCKET once serving (the store's ring exists and
# takes samples, the agent has collected into it), RELOADING=1 then READY=1
# around the agent's SIGHUP reload, STOPPING=1 on SIGTERM; a SIGHUP does
# not stop the store.  All of them found one data folder through
# $RMON_DATA, each started from a different folder, without --data.
set -eu
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	RMON_DATA=$dir/data "$RMON_BIN/rmon-stored" --drop-ring 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
mkdir "$dir/a" "$dir/b" "$dir/c"
/usr/bin/python3 tests/integration/lib/notify_listener.py "$dir/notify" "$dir/said" &
pids+=($!)
wait_for() { # seconds, file, pattern
	for _ in $(seq $(($1 * 20))); do grep -q -- "$3" "$2" 2>/dev/null && return 0; sleep 0.05; done
	echo "no '$3' in $2 after $1 s:"; cat "$2" 2>/dev/null; return 1
}
for _ in $(seq 200); do [ -e "$dir/said" ] && break; sleep 0.05; done
export RMON_DATA=$dir/data

(cd "$dir/a" && NOTIFY_SOCKET=$dir/notify exec "$RMON_BIN/rmon-stored" 2>"$dir/stored.log") &
stored=$!
pids+=($stored)
wait_for 30 "$dir/said" "^READY=1|STATUS=draining into $dir/data$"
kill -HUP $stored
wait_for 10 "$dir/stored.log" "SIGHUP: rmon-stored reads its configuration at start only"
kill -0 $stored # still serving

(cd "$dir/b" && NOTIFY_SOCKET=$dir/notify exec "$RMON_BIN/rmon-collectd" --interval 200ms \
	2>"$dir/agent.log") &
agent=$!
pids+=($agent)
wait_for 30 "$dir/said" "^READY=1|STATUS=collecting every 0.2s as host .* into $dir/data$"
! grep -q "no --data given" "$dir/agent.log"
kill -HUP $agent
wait_for 10 "$dir/agent.log" "configuration reloaded"
wait_for 10 "$dir/said" "^RELOADING=1|MONOTONIC_USEC=[0-9]*$"
for _ in $(seq 200); do
	[ "$(grep -c '^READY=1|STATUS=collecting' "$dir/said")" -ge 2 ] && break
	sleep 0.05
done
[ "$(grep -c '^READY=1|STATUS=collecting' "$dir/said")" -ge 2 ] # again after the reload

# A reader in a third folder finds the same store; the agent's own series
# arrive there.
cd "$dir/c"
for _ in $(seq 200); do
	"$RMON_BIN/rmon" series 'rmon_collect_duration_seconds' 2>/dev/null | grep -q . && break
	sleep 0.1
done
"$RMON_BIN/rmon" series 'rmon_collect_duration_seconds' | grep -q rmon_collect_duration_seconds

kill -TERM $agent $stored
wait $agent
wait $stored
for _ in $(seq 200); do [ "$(grep -c '^STOPPING=1$' "$dir/said")" -eq 2 ] && break; sleep 0.05; done
[ "$(grep -c '^STOPPING=1$' "$dir/said")" -eq 2 ]
cat "$dir/said"
echo ok
