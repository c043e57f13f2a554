# Sourced by the notifier tests: a real SMTP server (smtp_sink.py) and local
# HTTP receivers (http_sink.py) on 127.0.0.1, started and waited for.
# Makes the test's folder $dir, removed at exit with the sinks stopped.
lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(mktemp -d)
cleanup_notify() {
	stop_sinks
	[ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup_notify EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# needs_python_module MODULE: exit 77 (skip) when Debian's python lacks it.
needs_python_module() {
	/usr/bin/python3 -c "import $1" 2>/dev/null || { echo "needs /usr/bin/python3 with $1"; exit 77; }
}

# start_sink NAME SCRIPT ARGS...: runs a sink in the background, waits for
# its "ready" line; its pid goes into sink_pids, its log into $dir/NAME.log.
sink_pids=()
start_sink() {
	local name=$1 script=$2
	shift 2
	/usr/bin/python3 "$lib/$script" "$@" >"$dir/$name.log" 2>&1 &
	sink_pids+=($!)
	for _ in $(seq 200); do
		grep -q '^ready' "$dir/$name.log" && return 0
		kill -0 "${sink_pids[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "$name did not start:"; cat "$dir/$name.log"; exit 1
}

stop_sinks() {
	local pid
	for pid in "${sink_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${sink_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	sink_pids=()
}

# wait_files DIR PATTERN N: waits (up to 30 s) until DIR holds N files
# matching PATTERN.
wait_files() {
	local d=$1 pattern=$2 n=$3
	for _ in $(seq 300); do
		[ "$(find "$d" -maxdepth 1 -name "$pattern" 2>/dev/null | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "wanted $n $pattern in $d, found:"; ls -la "$d"; exit 1
}
