#!/usr/bin/env bash
# SIGHUP reloads the agent's configuration; an invalid new file is reported
# and the running configuration kept; SIGTERM stops it cleanly.
set -eu
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
printf 'host = alpha\n[collector processes]\nenabled = false\n' >"$dir/agent.conf"
"$RMON_BIN/rmon-collectd" --print --interval 200ms --config "$dir/agent.conf" >"$dir/out" 2>"$dir/err" &
pid=$!
sleep 1
printf 'host = beta\n[collector processes]\nenabled = false\n' >"$dir/agent.conf"
kill -HUP "$pid"
sleep 1
printf 'interval = 1ms\n' >"$dir/agent.conf"
kill -HUP "$pid"
sleep 1
kill -TERM "$pid"
wait "$pid"
pid=
grep -q '^alpha/node_load1 ' "$dir/out"
grep -q '^beta/node_load1 ' "$dir/out"
# After the bad reload the agent still runs as beta.
tail -1 "$dir/out" | grep -q '^beta/'
grep -q "keeping the running configuration: .*agent.conf:1: interval = '1ms': must be at least 100ms" "$dir/err"
grep -q "configuration reloaded" "$dir/err"
! grep -q 'node_processes_state' "$dir/out"
echo ok
