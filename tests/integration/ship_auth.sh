#!/usr/bin/env bash
# Only agents that know their secret may write: a shared secret, a per-host
# secret that wins over it, wrong and missing credentials refused (the agent
# says why, the server logs the peer), a relay without credentials refused,
# and no listening beyond loopback without credentials.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
cat >"$dir/stored.conf" <<CONF
[ingest]
listen = 127.0.0.1:$port
secret = "shared s3cret of ours"
[host special]
secret = special-one-0123456
CONF
start_store "$dir/central" --config "$dir/stored.conf"
ship() { # HOST SECRET... : ships 10 batches, 3 s to succeed
	ship_as "$1" --series 5 --samples 10 --timeout 3 "${@:2}"
}
ship good --secret "shared s3cret of ours" >"$dir/good.out"
grep -q "acked 10 " "$dir/good.out"
ship special --secret special-one-0123456 >/dev/null
echo "shared and per-host secrets accepted"

! ship bad --secret wrong-wrong-wrong >/dev/null 2>"$dir/bad.log"
grep -q "wrong credentials" "$dir/bad.log"
grep -q "closing 127.0.0.1:[0-9]* host bad: wrong credentials" "$stored_log"
! ship special --secret "shared s3cret of ours" >/dev/null 2>"$dir/special.log"
grep -q "wrong credentials" "$dir/special.log"
! ship none >/dev/null 2>"$dir/none.log"
grep -q "requires credentials" "$dir/none.log"
echo "wrong, missing and other hosts' credentials refused"
stop_store
check_host "$dir/central" good 5 10
"$RMON_BIN/rmon" series 'bad/*' --data "$dir/central" | grep -q . && { echo "refused data was stored"; exit 1; }

# A relay needs credentials like any agent.
start_store "$dir/central" --config "$dir/stored.conf"
"$RMON_BIN/rmon-stored" --data "$dir/relay" --upstream 127.0.0.1:$port 2>"$dir/relay.log" &
relay=$!
pids+=($relay)
sleep 1.5
kill -TERM $relay; wait $relay || true
grep -q "requires credentials" "$dir/relay.log"
stop_store

# Listening beyond loopback needs credentials.
if "$RMON_BIN/rmon-stored" --data "$dir/open" --listen 0.0.0.0:$port 2>"$dir/open.log"; then
	echo "listened on 0.0.0.0 without credentials"; exit 1
fi
grep -q "only loopback addresses may be served without credentials" "$dir/open.log"
echo "0.0.0.0 without credentials refused"
