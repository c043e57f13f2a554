#!/bin/sh
# node-exporter.sh - Debian's prometheus-node-exporter as the agent peer of
# `rmon-bench agent`: only the collectors of the same families as
# rmon-collectd's (cpu, load, pressure, memory, disks, filesystems,
# network, tcp, misc, processes, cgroups, hwmon), on 127.0.0.1, scraped by
# the benchmark at the agents' interval.
#
# usage: node-exporter.sh install          apt-get install prometheus-node-exporter if missing
#        node-exporter.sh run DIR PORT      exec the exporter on 127.0.0.1:PORT
#        node-exporter.sh start DIR PORT    the same in the background (DIR/node-exporter.pid)
#        node-exporter.sh stop DIR          stop what start started
set -eu
here=$(dirname "$0")
# shellcheck source=bench/peers/common.sh
. "$here/common.sh"
exe=/usr/bin/prometheus-node-exporter
collectors="cpu loadavg pressure meminfo vmstat diskstats filesystem netdev netclass netstat
sockstat tcpstat stat entropy filefd processes cgroups hwmon thermal_zone"

case "${1:-}" in
install) peer_install "$exe" prometheus-node-exporter ;;
run)
	peer_install "$exe" prometheus-node-exporter
	dir=${2:?node-exporter.sh run DIR PORT}
	port=${3:?node-exporter.sh run DIR PORT}
	mkdir -p "$dir"
	set -- --web.listen-address="127.0.0.1:$port" --collector.disable-defaults
	for c in $collectors; do set -- "$@" "--collector.$c"; done
	echo $$ >"$dir/node-exporter.pid"
	exec "$exe" "$@"
	;;
start)
	"$0" run "${2:?node-exporter.sh start DIR PORT}" "${3:?node-exporter.sh start DIR PORT}" \
		>"$2.log" 2>&1 &
	;;
stop) peer_stop "${2:?node-exporter.sh stop DIR}/node-exporter.pid" ;;
*)
	echo "usage: node-exporter.sh install | run DIR PORT | start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
