#!/usr/bin/env bash
# Hostile names from the network change nothing: a raw-socket peer on
# 127.0.0.1 sends HELLO host names and series names with control
# characters, terminal escapes, bidi overrides and invalid UTF-8, and tries
# to forge log lines.  The store refuses each, stores none, and logs each
# refusal on one line; `rmon series` and `rmon query` (text, CSV, JSON)
# print no raw control character, the JSON parses, the CSV reads back, and
# a tricky but valid name (quotes, backslashes, non-ASCII) reads back
# exactly.  The agent escapes a hostile interface name it reads from /proc
# instead of printing it raw.  Every check runs, so a failing run lists all
# that failed.
set -u
. "$(dirname "$0")/lib/ship.sh"
lib=$(dirname "$0")/lib
failed=0
check() { # WHAT COMMAND...
	if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
port=$(free_port)
start_store "$dir/central" --listen 127.0.0.1:$port || { cat "$stored_log"; exit 1; }
check "every hostile attempt refused" python3 "$lib/hostile_names.py" $port
check "the store is still up" kill -0 "$stored_pid"
stop_store

out=$dir/out
mkdir "$out"
"$RMON_BIN/rmon" series --data "$dir/central" >"$out/series.txt" 2>"$out/series.err"
for format in text csv json; do
	"$RMON_BIN/rmon" query '*' --data "$dir/central" --from 0 --to now+1d \
		--format $format >"$out/query.$format" 2>"$out/query.$format.err"
done
check "no raw control character in any output" python3 "$lib/check_output.py" \
	"$out/series.txt" "$out/series.err" "$out"/query.text "$out"/query.csv "$out"/query.*.err
check "the JSON output is one valid document" python3 "$lib/check_output.py" --json \
	"$out/query.json"
check "the store's log is clean" python3 "$lib/check_output.py" "$stored_log"

no_forged_line() { ! grep -q "^info ingest: host admin" "$stored_log"; }
check "no forged log line" no_forged_line
refusals_logged() {
	grep -q "closing 127.0.0.1:[0-9]*: HELLO frame: bad host name \"lf\\\\nhost\"" "$stored_log" &&
		grep -q "host evil: bad series name \"evil/m{k=\\\\\"\\\\x1b\]0;pwned\\\\x07\\\\\"}\"" "$stored_log" &&
		grep -q "says: \"bye\\\\ninfo ingest: host admin" "$stored_log"
}
check "each refusal logged on one line, the values escaped" refusals_logged
nothing_hostile_stored() {
	! grep -q "^evil\|^lf\|^relay1\|^x" "$out/series.txt" &&
		[ "$(grep -c "^tricky/" "$out/series.txt")" -eq 1 ]
}
check "no hostile series stored, the tricky one stored" nothing_hostile_stored
read_back() { # the tricky name, exactly, from the JSON and the CSV
	python3 - "$out/query.json" "$out/query.csv" <<'PY'
import csv, json, sys
want = 'tricky/m{k="a\\"b\\\\c \u00fc,}{ \u20ac"}'
json_names = {s["series"] for s in json.load(open(sys.argv[1], encoding="utf-8"))}
csv_rows = list(csv.reader(open(sys.argv[2], encoding="utf-8", newline="")))
csv_names = {row[0] for row in csv_rows[1:]}
ok = want in json_names and want in csv_names and all(len(r) == 3 for r in csv_rows)
print("json:", want in json_names, "csv:", want in csv_names)
sys.exit(0 if ok else 1)
PY
}
check "the tricky name reads back exactly from JSON and CSV" read_back

# The agent: an interface whose name holds an OSC escape, BEL, RLO and
# 0xff (Linux allows any byte in one but '/', ':' and white space).
root=$dir/root
cp -r "$(dirname "$0")/../fixtures/linux-6.18" "$root"
printf '  \033]0;pwn\007\342\200\256\377: 3267 29 0 0 0 0 0 0 3267 29 0 0 0 0 0 0\n' \
	>>"$root/proc/net/dev"
"$RMON_BIN/rmon-collectd" --once --print --root "$root" >"$out/agent.txt" 2>"$out/agent.err"
check "the agent's output is clean" python3 "$lib/check_output.py" "$out/agent.txt" "$out/agent.err"
agent_escaped() {
	grep -q '/node_network_receive_bytes_total{device="\\\\x1b\]0;pwn\\\\x07\\\\u202e\\\\xff"} 3267$' \
		"$out/agent.txt"
}
check "the agent keeps the interface's series, its name escaped" agent_escaped

# A hostile store: its ERROR text forges a line in the agent's log.
server_port=$(free_port)
python3 "$lib/hostile_names.py" --server $server_port 30 >"$out/server.out" &
hostile_server=$!
pids+=($hostile_server)
for _ in $(seq 200); do grep -q listening "$out/server.out" && break; sleep 0.05; done
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$server_port --spool "$dir/spool" --host agent1 \
	--series 1 --samples 1 --timeout 2 >/dev/null 2>"$out/agent_ship.err"
kill $hostile_server
wait $hostile_server 2>/dev/null
agent_log_clean() {
	grep -q 'refused: "no\\ninfo ingest: host admin' "$out/agent_ship.err" &&
		! grep -q "^info ingest: host admin" "$out/agent_ship.err" &&
		python3 "$lib/check_output.py" "$out/agent_ship.err"
}
check "a store's ERROR text cannot forge a line in the agent's log" agent_log_clean

# A machine whose own name breaks the host rule (set in a UTS namespace of
# our own, where the system allows one): the agent says so and stops.
hostile_hostname() {
	if ! unshare -Ur --uts true 2>/dev/null; then
		echo "skipped: no user namespaces here"
		return 0
	fi
	local rc=0
	unshare -Ur --uts sh -c 'printf "evil\033]0;x\007" >/proc/sys/kernel/hostname &&
		exec "$0" --once --print' "$RMON_BIN/rmon-collectd" \
		>"$out/hostname.txt" 2>"$out/hostname.err" || rc=$?
	[ $rc -eq 2 ] && grep -q 'bad host name "evil\\x1b\]0;x\\x07"' "$out/hostname.err" &&
		python3 "$lib/check_output.py" "$out/hostname.txt" "$out/hostname.err"
}
check "an agent on a machine with a hostile host name refuses to start" hostile_hostname

if [ $failed -ne 0 ]; then
	echo "--- store log"; cat "$stored_log"
	echo "--- rmon series"; cat -v "$out/series.txt"
	echo "$failed checks failed"
	exit 1
fi
echo "hostile names refused, every output clean"
