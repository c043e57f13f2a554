#!/usr/bin/env bash
# remote_write into a real victoria-metrics and a real prometheus
# (--web.enable-remote-write-receiver), both from Debian's packages, on
# 127.0.0.1: every sample a remote host shipped arrives with its value and
# millisecond timestamp exact; victoria-metrics stopped mid-stream, a
# second host shipped into the store meanwhile, rmon-stored killed -9 while
# the receiver is still down and started again, then the receiver back:
# nothing is lost, nothing doubled; the lag and failures are the store's
# own rmon_remote_write_* series.
set -u
. "$(dirname "$0")/lib/ship.sh"
. "$(dirname "$0")/lib/prom.sh"
lib=$(dirname "$0")/lib
command -v victoria-metrics >/dev/null || { echo "victoria-metrics is needed (apt-get install victoria-metrics)"; exit 77; }
failed=0
check() { # WHAT COMMAND...
	if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1"; failed=$((failed + 1)); fi
}
port=$(free_port) vm_port=$(free_port) prom_port=$(free_port)
vm_url=http://127.0.0.1:$vm_port
start_vm() {
	victoria-metrics -httpListenAddr 127.0.0.1:$vm_port -storageDataPath "$dir/vm" \
		-search.latencyOffset 0s >>"$dir/vm.log" 2>&1 &
	vm_pid=$!
	pids+=($vm_pid)
	wait_for "victoria-metrics" 60 curl -sf "$vm_url/health"
}
start_vm || { tail -n 20 "$dir/vm.log"; exit 1; }
start_prometheus $prom_port /dev/null --web.enable-remote-write-receiver ||
	{ tail -n 20 "$dir/prometheus.log"; exit 1; }
cat >"$dir/stored.conf" <<CONF
[store]
self_interval = 1s
[remote_write vm]
url = $vm_url/api/v1/write
min_backoff = 50ms
max_backoff = 1s
batch_samples = 3000
[remote_write prom]
url = http://127.0.0.1:$prom_port/api/v1/write
CONF
start_store "$dir/central" --listen 127.0.0.1:$port --config "$dir/stored.conf" ||
	{ cat "$stored_log"; exit 1; }
start_ms=$(($(date +%s) * 1000 - 60000))
ship_as web1 --series 20 --samples 2000 --start-ns $((start_ms * 1000000)) >/dev/null ||
	{ echo "loadgen failed"; exit 1; }
check "victoria-metrics holds every sample of web1, exact" \
	wait_for "web1 in victoria-metrics" 60 python3 "$lib/vm_check.py" vm "$vm_url" web1 20 2000 $start_ms
python3 "$lib/vm_check.py" vm "$vm_url" web1 20 2000 $start_ms
check "prometheus holds every sample of web1, exact" \
	wait_for "web1 in prometheus" 60 python3 "$lib/vm_check.py" prom http://127.0.0.1:$prom_port web1 20 2000 $start_ms

# The outage: the receiver goes, web2 ships meanwhile, the store is killed
# -9 while the receiver is still down and comes back, then the receiver.
kill -TERM $vm_pid
wait $vm_pid 2>/dev/null
ship_as web2 --series 20 --samples 3000 --start-ns $(((start_ms + 1000) * 1000000)) >/dev/null ||
	{ echo "loadgen failed"; exit 1; }
failing() { "$RMON_BIN/rmon" query "$(hostname)/rmon_remote_write_failing{remote=\"vm\"}" --data "$dir/central" --from -5s | grep -q ' 1$'; }
check "the failure is the store's own series rmon_remote_write_failing" wait_for "failing" 30 failing
grep -q "remote_write vm: .*retrying with back-off" "$stored_log"
check "the failure is said once" [ "$(grep -c "remote_write vm: .*retrying" "$stored_log")" -eq 1 ]
kill9_store
start_store "$dir/central" --listen 127.0.0.1:$port --config "$dir/stored.conf" ||
	{ cat "$stored_log"; exit 1; }
start_vm || { tail -n 20 "$dir/vm.log"; exit 1; }
check "after the outage and a kill -9: every sample of web2 arrives, exact" \
	wait_for "web2 in victoria-metrics" 90 python3 "$lib/vm_check.py" vm "$vm_url" web2 20 3000 $((start_ms + 1000))
python3 "$lib/vm_check.py" vm "$vm_url" web2 20 3000 $((start_ms + 1000))
check "web1 still exact: nothing doubled" python3 "$lib/vm_check.py" vm "$vm_url" web1 20 2000 $start_ms
check "prometheus got web2 too" \
	wait_for "web2 in prometheus" 60 python3 "$lib/vm_check.py" prom http://127.0.0.1:$prom_port web2 20 3000 $((start_ms + 1000))
# The store's own figures are forwarded too, so a batch is nearly always
# on its way: caught up means a lag under a second, and none rejected.
caught_up() {
	"$RMON_BIN/rmon" query "$(hostname)/rmon_remote_write_lag_seconds{remote=\"vm\"}" --data "$dir/central" --from -3s |
		awk 'END { exit !(NR > 0 && $NF < 1) }'
}
check "rmon_remote_write_lag_seconds back under a second" wait_for "caught up" 30 caught_up
none_rejected() {
	"$RMON_BIN/rmon" query "$(hostname)/rmon_remote_write_rejected_samples_total" --data "$dir/central" --from -3s |
		awk '/^ / { n++; if ($NF != 0) bad = 1 } END { exit bad || n == 0 }'
}
check "no sample rejected by either receiver" none_rejected
[ $failed -eq 0 ] || { tail -n 20 "$stored_log"; exit 1; }
echo "all checks passed"
