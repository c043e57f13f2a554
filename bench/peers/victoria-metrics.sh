#!/usr/bin/env bash
# victoria-metrics (single node, Debian's package) as a peer of rmon-bench's
# store scenario, on 127.0.0.1 with a data folder of the run's own.
#   victoria-metrics.sh start DIR PORT   installs the package when missing,
#                                        starts it with its data in DIR/data,
#                                        waits until it answers; its pid goes
#                                        to DIR/pid, its log to DIR/log
#   victoria-metrics.sh stop DIR         stops it and waits for it to exit
# Exit status 77 when it is missing and cannot be installed (a peer that is
# not there is skipped, not failed), 1 when it does not start.
set -eu
cmd=${1:?usage: victoria-metrics.sh start DIR PORT | stop DIR}
dir=${2:?usage: victoria-metrics.sh start DIR PORT | stop DIR}

install() {
	command -v victoria-metrics >/dev/null && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q victoria-metrics >"$dir/install.log" 2>&1 ||
			{ apt-get update -q >>"$dir/install.log" 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q victoria-metrics >>"$dir/install.log" 2>&1; } || true
	fi
	command -v victoria-metrics >/dev/null || { echo "victoria-metrics is not installed (Debian: victoria-metrics)" >&2; exit 77; }
}

case $cmd in
start)
	port=${3:?usage: victoria-metrics.sh start DIR PORT}
	mkdir -p "$dir"
	install
	# No retention limit: the benchmark's samples may be days old.
	victoria-metrics -httpListenAddr "127.0.0.1:$port" -storageDataPath "$dir/data" \
		-retentionPeriod 100y >"$dir/log" 2>&1 &
	echo $! >"$dir/pid"
	for _ in $(seq 1 300); do
		curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && exit 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || { tail -5 "$dir/log" >&2; exit 1; }
		sleep 0.1
	done
	echo "victoria-metrics did not answer on 127.0.0.1:$port within 30 s" >&2
	exit 1
	;;
stop)
	[ -f "$dir/pid" ] || exit 0
	pid=$(cat "$dir/pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; exit 0; }
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
	;;
*)
	echo "usage: victoria-metrics.sh start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac
