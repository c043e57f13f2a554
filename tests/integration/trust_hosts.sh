#!/usr/bin/env bash
# Who may write what, with the real rmon-stored: empty and short secrets
# are configuration errors naming file and line; with only per-host secrets
# on 0.0.0.0 every other host name is refused (as an agent and as a relay);
# a host with its own secret cannot write another host's series, defined or
# not, and its far-future stamp does not hide the victim's real samples.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
attacker="$(dirname "$0")/lib/attacker.py"
web1_secret="web1's own long secret"
evil_secret="evil's own long secret"

# Empty and short secrets, in each section that takes one.
n=0
for section in "[ingest]" "[host web1]" "[upstream]"; do
	for secret in '""' 'fifteen-bytes!!'; do
		n=$((n + 1))
		printf '# a comment\n%s\nsecret = %s\n' "$section" "$secret" >"$dir/bad$n.conf"
		rc=0
		timeout 5 "$RMON_BIN/rmon-stored" --data "$dir/bad" --config "$dir/bad$n.conf" \
			--listen 127.0.0.1:$port 2>"$dir/bad$n.log" || rc=$?
		if [ $rc -ne 2 ] || ! grep -q "bad$n.conf:3: .*secret.*must be at least 16 bytes" "$dir/bad$n.log"; then
			echo "$section secret = $secret: exit $rc"; cat "$dir/bad$n.log"; exit 1
		fi
	done
done
printf '[server]\naddress = 127.0.0.1:%s\nsecret = "short"\n' $port >"$dir/agent.conf"
rc=0
timeout 5 "$RMON_BIN/rmon-collectd" --config "$dir/agent.conf" --data "$dir/agent" --once \
	>/dev/null 2>"$dir/agent.log" || rc=$?
if [ $rc -ne 2 ] || ! grep -q "agent.conf:3: .*secret.*must be at least 16 bytes" "$dir/agent.log"; then
	echo "the agent's short secret: exit $rc"; cat "$dir/agent.log"; exit 1
fi
echo "empty and short secrets refused with file and line"

# [host NAME] settings are checked where they are written too.
printf '[host web1]\ncarries = ,\n' >"$dir/carries.conf"
printf '[host web1]\nmax_frame = 1KiB\n' >"$dir/frame.conf"
printf '[host web1]\ncolour = blue\n' >"$dir/unknown.conf"
for f in carries frame unknown; do
	rc=0
	timeout 5 "$RMON_BIN/rmon-stored" --data "$dir/bad" --config "$dir/$f.conf" \
		--listen 127.0.0.1:$port 2>"$dir/$f.log" || rc=$?
	if [ $rc -ne 2 ] || ! grep -q "$f.conf:2: " "$dir/$f.log"; then
		echo "$f.conf: exit $rc"; cat "$dir/$f.log"; exit 1
	fi
done

# Per-host secrets only, on every address (connections go to 127.0.0.1).
cat >"$dir/stored.conf" <<CONF
[store]
self_interval = 1s
[ingest]
listen = 0.0.0.0:$port
[host web1]
secret = "$web1_secret"
[host evil]
secret = "$evil_secret"
CONF
start_store "$dir/central" --config "$dir/stored.conf"
! ship_as stranger --series 2 --samples 2 --timeout 3 >/dev/null 2>"$dir/stranger.log"
grep -q "requires credentials" "$dir/stranger.log"
! ship_as stranger --secret "$web1_secret" --series 2 --samples 2 --timeout 3 >/dev/null 2>"$dir/stranger2.log"
grep -q "wrong credentials" "$dir/stranger2.log"
grep -q "host stranger: no secret for this host" "$stored_log"
printf '[upstream]\nsecret = "%s"\n' "$web1_secret" >"$dir/relay.conf"
"$RMON_BIN/rmon-stored" --data "$dir/relay" --config "$dir/relay.conf" \
	--upstream 127.0.0.1:$port 2>"$dir/relay.log" &
relay=$!
pids+=($relay)
sleep 1.5
kill -TERM $relay; wait $relay || true
grep -q "wrong credentials\|may not relay" "$dir/relay.log"
echo "hosts without a secret refused on 0.0.0.0, as agents and as a relay"

# web1's series exist; evil, with its own secret, sends one of their ids
# stamped in 2100, undefined and then defined.
ship_as web1 --secret "$web1_secret" --series 5 --samples 100 \
	--start-ns $(( ($(date +%s) - 3600) * 1000000000 )) >/dev/null 2>&1
victim='web1/rmon_loadgen_value{s="0"}'
python3 "$attacker" foreign $port evil "$evil_secret" "$victim" 4102444800000000000 | tee "$dir/foreign.out"
[ "$(grep -c "ERROR 9 " "$dir/foreign.out")" -eq 2 ]
# web1 goes on an hour later (now): those samples are stored.
ship_as web1 --secret "$web1_secret" --series 5 --samples 100 >/dev/null 2>&1
# rmon stats shows the refusals once the store recorded its figures again
# (every second here; give a loaded machine 20).
for _ in $(seq 40); do
	"$RMON_BIN/rmon" stats --data "$dir/central" >"$dir/stats"
	grep -q '^network agents    0 connected, 1000 samples received$' "$dir/stats" && break
	sleep 0.5
done
cat "$dir/stats"
grep -q '^network agents    0 connected, 1000 samples received$' "$dir/stats"
grep -Eq '^  not own series  [1-9][0-9]* frames or definitions refused$' "$dir/stats"
stop_store
"$RMON_BIN/rmon" query "$victim" --data "$dir/central" --from 0 --to $(( $(date +%s) + 100 * 366 * 86400 )) --format csv >"$dir/victim.csv"
count=$(($(wc -l <"$dir/victim.csv") - 1))
if [ "$count" -ne 200 ] || grep -q ",666" "$dir/victim.csv"; then
	echo "web1's series holds $count samples (200 expected):"; tail -3 "$dir/victim.csv"; exit 1
fi
echo "evil could not write web1's series; web1's 200 samples all stored"
