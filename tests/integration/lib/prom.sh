# Sourced by the Prometheus tests after ship.sh: a real prometheus from
# Debian's package on 127.0.0.1 with its storage in the scratch folder,
# waited for through its HTTP API (never by sleeping a guess).

command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	{ echo "prometheus and promtool are needed (apt-get install prometheus)"; exit 77; }

# start_prometheus PORT CONFIG [ARGS...]: runs prometheus in the background.
start_prometheus() {
	local port=$1 config=$2
	shift 2
	mkdir -p "$dir/prom-data"
	prometheus --config.file="$config" --storage.tsdb.path="$dir/prom-data" \
		--web.listen-address=127.0.0.1:$port "$@" >>"$dir/prometheus.log" 2>&1 &
	prom_pid=$!
	pids+=("$prom_pid")
	wait_for "prometheus ready" 120 curl -sf "http://127.0.0.1:$port/-/ready"
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
	local what=$1 seconds=$2 end
	shift 2
	end=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $end ]; then echo "timed out waiting for $what"; return 1; fi
		sleep 0.2
	done
}

# target_up PORT JOB: prometheus reports every target of JOB up.
target_up() {
	curl -sf "http://127.0.0.1:$1/api/v1/targets" | /usr/bin/python3 -c '
import json, sys
job = sys.argv[1]
t = [x for x in json.load(sys.stdin)["data"]["activeTargets"] if x["labels"]["job"] == job]
sys.exit(0 if t and all(x["health"] == "up" for x in t) else 1)' "$2"
}

# prom_value PORT QUERY: the single value of an instant query (promtool).
prom_value() {
	promtool query instant -o json "http://127.0.0.1:$1" "$2" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
if len(r) != 1: sys.exit(1)
print(r[0]["value"][1])'
}
