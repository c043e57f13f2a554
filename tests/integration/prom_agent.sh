#!/usr/bin/env bash
# A stock Prometheus scrapes the agent in place of node_exporter: the agent
# serves /metrics ([exposition] listen) with no store running, prometheus
# reports the target up and `promtool query instant` returns the value the
# agent served; the names and label names of every family both have are
# node_exporter's own (prometheus-node-exporter runs beside it), no cpu
# "total" is exposed, promtool check metrics finds no error (only the
# naming lints node_exporter's own output has), gzip is served, and a
# request other than GET /metrics gets its error status.
set -u
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/prom.sh"
failed=0
check() { # WHAT COMMAND...
	if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
agent_port=$(free_port) ne_port=$(free_port) prom_port=$(free_port)
cat >"$dir/agent.conf" <<CONF
interval = 1s
labels = rack=r1
[exposition]
listen = 127.0.0.1:$agent_port
CONF
"$RMON_BIN/rmon-collectd" --config "$dir/agent.conf" --data "$dir/agent" 2>"$dir/agent.log" &
agent_pid=$!
pids+=($agent_pid)
wait_for "the agent's /metrics" 30 curl -sf "http://127.0.0.1:$agent_port/metrics" || exit 1
ne_ok=0
if command -v prometheus-node-exporter >/dev/null; then
	prometheus-node-exporter --web.listen-address=127.0.0.1:$ne_port >"$dir/ne.log" 2>&1 &
	pids+=($!)
	wait_for "node_exporter" 30 curl -sf "http://127.0.0.1:$ne_port/metrics" && ne_ok=1
fi

curl -sf "http://127.0.0.1:$agent_port/metrics" >"$dir/ours.txt"
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"http://127.0.0.1:$agent_port/metrics" >"$dir/ours.om"
promtool check metrics <"$dir/ours.txt" >"$dir/promtool.out" 2>&1
rc=$?
only_naming_lints() { # exit 3 = lint problems; 1 = the exposition does not parse
	[ $rc -eq 0 ] || { [ $rc -eq 3 ] && ! grep -v -e "camelCase" -e "abbreviated units" \
		-e 'base unit "bytes" instead of "bits"' "$dir/promtool.out" | grep -q .; }
}
check "promtool check metrics: no error, only node_exporter's naming lints" only_naming_lints
om_ends() { [ "$(tail -1 "$dir/ours.om")" = "# EOF" ] && grep -q '^# TYPE node_cpu_seconds counter$' "$dir/ours.om"; }
check "OpenMetrics when asked: counter families without _total, # EOF" om_ends
no_total_cpu() { ! grep -q 'cpu="total"' "$dir/ours.txt" && grep -q '^node_cpu_seconds_total{cpu="0",mode="idle"' "$dir/ours.txt"; }
check "no cpu=\"total\": sums over cpus add up as node_exporter's" no_total_cpu
gzip_served() {
	curl -sf -H 'Accept-Encoding: gzip' -D "$dir/gz.head" "http://127.0.0.1:$agent_port/metrics" |
		gunzip | grep -q '^node_load1{rack="r1"} ' && grep -qi '^Content-Encoding: gzip' "$dir/gz.head"
}
check "gzip when asked" gzip_served
statuses() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$agent_port/")" = 404 ] &&
		[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$agent_port/metrics")" = 405 ]
}
check "only GET /metrics is served (404, 405)" statuses
if [ $ne_ok = 1 ]; then
	curl -sf "http://127.0.0.1:$ne_port/metrics" >"$dir/ne.txt"
	same_names() {
		/usr/bin/python3 - "$dir/ours.txt" "$dir/ne.txt" <<'PY'
import re, sys
def load(path, ignore=()):
    fams = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ', line)
        names = frozenset(k for k in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(2) or "") if k not in ignore)
        fams.setdefault(m.group(1), set()).add(names)
    return fams
ours, theirs = load(sys.argv[1], ignore=("rack",)), load(sys.argv[2])
both = sorted(set(ours) & set(theirs))
bad = [(n, ours[n], theirs[n]) for n in both if ours[n] != theirs[n]]
for b in bad:
    print("label names differ:", *b)
print(len(both), "families in both,", len(bad), "differ")
sys.exit(1 if bad or len(both) < 50 else 0)
PY
	}
	check "families both have carry node_exporter's label names" same_names
else
	echo "note: prometheus-node-exporter missing: names not compared"
fi

cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rmon-agent
    static_configs:
      - targets: ["127.0.0.1:$agent_port"]
CONF
start_prometheus $prom_port "$dir/prometheus.yml" || { tail "$dir/prometheus.log"; exit 1; }
check "prometheus reports the agent up" wait_for "the target up" 60 target_up $prom_port rmon-agent
served=$(grep '^node_boot_time_seconds' "$dir/ours.txt" | awk '{print $2}')
same_value() { [ "$(prom_value $prom_port 'node_boot_time_seconds{job="rmon-agent",rack="r1"}')" = "$served" ]; }
check "promtool query instant returns the value the agent served ($served)" wait_for "the value" 30 same_value
count_cpus() { [ "$(prom_value $prom_port 'count(node_cpu_seconds_total{mode="idle"})')" = "$(nproc)" ]; }
check "one idle series per CPU, as node_exporter has" wait_for "cpus" 30 count_cpus
# Memory: the same agent storing into a store, once with /metrics scraped
# every second and once without, side by side.
start_store "$dir/store" --listen 127.0.0.1:$(free_port) || { cat "$stored_log"; exit 1; }
kill -TERM $agent_pid
wait $agent_pid 2>/dev/null
"$RMON_BIN/rmon-collectd" --config "$dir/agent.conf" --data "$dir/store" 2>"$dir/agent.log" &
agent_pid=$!
pids+=($agent_pid)
"$RMON_BIN/rmon-collectd" --interval 1s --data "$dir/store" 2>"$dir/plain.log" &
plain_pid=$!
pids+=($plain_pid)
stored_too() { "$RMON_BIN/rmon" query "$(hostname)/node_load1{rack=\"r1\"}" --data "$dir/store" --from -1m | grep -q .; }
check "the exposed values reach the store as well" wait_for "the store" 60 stored_too
sleep 5 # five collections and scrapes: the memory both settle at
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
plain=$(awk '/VmRSS/ {print $2}' /proc/$plain_pid/status)
# What /metrics allocates is anonymous memory; the rest of the RSS
# difference is pages of zlib and of the HTTP code, shared with every
# other process that maps them.
heap=$(awk '/^Anonymous/ {print $2}' /proc/$agent_pid/smaps_rollup)
plain_heap=$(awk '/^Anonymous/ {print $2}' /proc/$plain_pid/smaps_rollup)
echo "agent RSS: ${rss} kB scraped every second, ${plain} kB without /metrics"
echo "agent anonymous memory: ${heap} kB scraped every second, ${plain_heap} kB without /metrics"
case "$RMON_BUILD" in
*asan* | *tsan*) echo "the memory check is skipped under sanitizers" ;;
*) check "/metrics allocates at most 512 kB in the agent" [ "$heap" -le $((plain_heap + 512)) ] ;;
esac
[ $failed -eq 0 ] || { tail -n 5 "$dir/agent.log" "$dir/prometheus.log"; exit 1; }
echo "all checks passed"
