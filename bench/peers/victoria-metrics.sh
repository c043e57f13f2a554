#!/bin/sh
# victoria-metrics.sh - Debian's victoria-metrics (single node) as the store
# peer of `rmon-bench store`: on 127.0.0.1 with a data folder of the run's
# own, fed the same samples through its import API.
#
# usage: victoria-metrics.sh install          apt-get install victoria-metrics if missing
#        victoria-metrics.sh start DIR PORT   start it on 127.0.0.1:PORT, data in DIR/data,
#                                             pid in DIR/victoria-metrics.pid, log in DIR/log;
#                                             returns once it answers
#        victoria-metrics.sh stop DIR         stop what start started
set -eu
here=$(dirname "$0")
# shellcheck source=bench/peers/common.sh
. "$here/common.sh"
exe=victoria-metrics

case "${1:-}" in
install) peer_install "$exe" victoria-metrics ;;
start)
	dir=${2:?victoria-metrics.sh start DIR PORT}
	port=${3:?victoria-metrics.sh start DIR PORT}
	peer_install "$exe" victoria-metrics
	mkdir -p "$dir"
	# No retention limit: the benchmark's samples may be days old.
	"$exe" -httpListenAddr "127.0.0.1:$port" -storageDataPath "$dir/data" \
		-retentionPeriod 100y >"$dir/log" 2>&1 &
	echo $! >"$dir/victoria-metrics.pid"
	for _ in $(seq 1 300); do
		curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && exit 0
		kill -0 "$(cat "$dir/victoria-metrics.pid")" 2>/dev/null || { tail -n 5 "$dir/log" >&2; exit 1; }
		sleep 0.1
	done
	echo "victoria-metrics did not answer on 127.0.0.1:$port within 30 s" >&2
	exit 1
	;;
stop) peer_stop "${2:?victoria-metrics.sh stop DIR}/victoria-metrics.pid" ;;
*)
	echo "usage: victoria-metrics.sh install | start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
