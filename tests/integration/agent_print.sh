#!/usr/bin/env bash
# rmon-collectd --once --print as a person runs it: every family this
# machine has appears, every line is "series value", values match the
# kernel's files, and valgrind finds no error.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$RMON_BIN/rmon-collectd" --once --print >"$dir/out" 2>"$dir/err"
wc -l <"$dir/out"
# Every line: a canonical series, one space, a number.
if grep -vE '^[^ /{]+/[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? (-?[0-9.e+-]+|inf|-inf|nan)$' "$dir/out"; then
	echo "the lines above are not 'series value'"; exit 1
fi
for metric in node_cpu_seconds_total node_context_switches_total node_load1 node_uptime_seconds \
	node_memory_MemTotal_bytes node_vmstat_pgfault node_disk_reads_completed_total \
	node_filesystem_avail_bytes node_network_receive_bytes_total node_tcp_connections \
	node_sockstat_sockets_used node_filefd_allocated node_processes_state \
	rmon_top_resident_memory_bytes rmon_collector_errors_total; do
	grep -q "/$metric[{ ]" "$dir/out" || { echo "missing $metric"; exit 1; }
done
[ -r /proc/pressure/cpu ] && { grep -q node_pressure_cpu_some_seconds_total "$dir/out" || { echo "missing PSI"; exit 1; }; }
# MemTotal as the kernel says it.
kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
grep -q "/node_memory_MemTotal_bytes $((kb * 1024))$" "$dir/out"
# A config error names file, line and setting, and exits 2.
printf 'interval = 1s\n[collector cpu]\nenabled = perhaps\n' >"$dir/bad.conf"
rc=0; "$RMON_BIN/rmon-collectd" --once --print --config "$dir/bad.conf" >/dev/null 2>"$dir/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "bad.conf:3: collector.enabled = 'perhaps'" "$dir/err"
# Without a store there is no ring: --once says so and fails.
rc=0; "$RMON_BIN/rmon-collectd" --once --data "$dir/none" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "is rmon-stored running" "$dir/err"
case "$RMON_BUILD" in
*asan* | *tsan*) echo "valgrind skipped under sanitizers" ;;
*)
	if command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=9 --leak-check=full "$RMON_BIN/rmon-collectd" --once --print >/dev/null
	fi ;;
esac
echo ok
