#!/usr/bin/env bash
# Prometheus scrapes the store's /metrics ([exposition] listen): one scrape
# carries every host's newest values with host as a label and the sample's
# own timestamp; prometheus reports the target up and returns, exactly,
# the last value and time a remote host shipped; a tricky label value
# (quotes, a backslash, braces, non-ASCII) arrives unchanged; match[]
# picks series, a bad selector is a 400 naming the place; promtool check
# metrics finds no error; a series older than max_age is left out.
set -u
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/prom.sh"
lib=$(dirname "$0")/lib
failed=0
check() { # WHAT COMMAND...
	if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
port=$(free_port) expo_port=$(free_port) prom_port=$(free_port)
cat >"$dir/stored.conf" <<CONF
[exposition]
listen = 127.0.0.1:$expo_port
max_age = 1h
CONF
start_store "$dir/central" --listen 127.0.0.1:$port --config "$dir/stored.conf" ||
	{ cat "$stored_log"; exit 1; }
now_ms=$(($(date +%s) * 1000))
ship_as web1 --series 3 --samples 500 --start-ns $((now_ms * 1000000)) >/dev/null ||
	{ echo "loadgen failed"; exit 1; }
ship_as old1 --series 1 --samples 5 --start-ns $(((now_ms - 7200000) * 1000000)) >/dev/null
python3 "$lib/hostile_names.py" $port >/dev/null || { echo "hostile_names failed"; exit 1; }
url=http://127.0.0.1:$expo_port/metrics
stored_scrape() { # both hosts committed (LMDB commits every second)
	curl -sf "$url" >"$dir/all.txt" && grep -q '^rmon_loadgen_value{host="web1"' "$dir/all.txt" &&
		grep -q '{host="tricky"' "$dir/all.txt"
}
wait_for "the store's /metrics" 30 stored_scrape || { cat "$stored_log"; exit 1; }
last_ts=$((now_ms + 499))
exact_line() { grep -qx "rmon_loadgen_value{host=\"web1\",s=\"0\"} 499 $last_ts" "$dir/all.txt"; }
check "the newest value with its own timestamp, host as a label" exact_line
check "a series older than max_age is left out" bash -c "! grep -q 'host=\"old1\"' '$dir/all.txt'"
tricky_escaped() { grep -qF 'm{host="tricky",k="a\"b\\c ü,}{ €"} 42' "$dir/all.txt"; }
check "the tricky label value escaped for the format" tricky_escaped
promtool check metrics <"$dir/all.txt" >"$dir/promtool.out" 2>&1
rc=$?
check "promtool check metrics: no error" [ $rc -eq 0 -o $rc -eq 3 ]
curl -sf "$url?match%5B%5D=web1%2Frmon_loadgen_value%7Bs%3D%221%22%7D&match[]=tricky/*" >"$dir/match.txt"
matched() { [ "$(grep -vc '^#' "$dir/match.txt")" -eq 2 ] && grep -q 's="1"' "$dir/match.txt" && grep -q 'host="tricky"' "$dir/match.txt"; }
check "match[] picks the series of either selector" matched
bad_selector() {
	[ "$(curl -s -o "$dir/bad.txt" -w '%{http_code}' "$url?match[]=web1/x%7B")" = 400 ] &&
		grep -q "at character" "$dir/bad.txt"
}
check "a bad selector: 400 naming the place" bad_selector
om() { curl -sf -H 'Accept: application/openmetrics-text' "$url" | grep -q "^rmon_loadgen_value{host=\"web1\",s=\"0\"} 499 $((last_ts / 1000)).$(printf %03d $((last_ts % 1000)))$"; }
check "OpenMetrics: timestamps in seconds" om

cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: rmon-store
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$expo_port"]
    metric_relabel_configs:       # each host becomes an instance of its own
      - source_labels: [host]
        target_label: instance
CONF
# The samples are older than prometheus' head block allows by default only
# when they are hours old; these are seconds old.
start_prometheus $prom_port "$dir/prometheus.yml" || { tail "$dir/prometheus.log"; exit 1; }
check "prometheus reports the store up" wait_for "the target up" 60 target_up $prom_port rmon-store
value_at() { # the value and time prometheus holds for a selector
	curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
		/usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(len(r) == 1 and "%s %s" % (r[0]["value"][1], r[0]["metric"].get("instance")) or "none")'
}
exact_value() { [ "$(prom_value $prom_port 'rmon_loadgen_value{host="web1",s="2"}')" = 499 ]; }
check "promtool query instant returns the value web1 shipped" wait_for "the value" 30 exact_value
instance() { [ "$(value_at 'rmon_loadgen_value{s="2"}')" = "499 web1" ]; }
check "host relabelled as the instance" instance
exact_time() {
	curl -sf "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode 'query=timestamp(rmon_loadgen_value{s="0"})' |
		grep -q "\"$((last_ts / 1000)).$(printf %03d $((last_ts % 1000)) | sed 's/0*$//')\""
}
check "the sample's own timestamp kept" exact_time
tricky_in_prom() {
	curl -sf "http://127.0.0.1:$prom_port/api/v1/series" --data-urlencode 'match[]={host="tricky"}' |
		/usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]; sys.exit(0 if r and r[0]["k"] == "a\"b\\c \u00fc,}{ \u20ac" else 1)'
}
check "the tricky label value arrives unchanged" tricky_in_prom
self_metrics() { curl -sf "$url" | grep -q '^rmon_store_samples_total{host='; }
check "the store's own rmon_* series are exposed" wait_for "rmon_store_*" 30 self_metrics
[ $failed -eq 0 ] || { tail -n 5 "$stored_log" "$dir/prometheus.log"; exit 1; }
echo "all checks passed"
