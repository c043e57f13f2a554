# Shared by the shipping tests (sourced): a scratch folder, a free loopback
# port, a store that can be killed and restarted, and the check that a
# loadgen host's series hold samples 0..N-1 exactly once.
dir=$(mktemp -d)
stored_pid=
stored_log=$dir/stored.log
pids=()
cleanup() {
	for p in $stored_pid "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	pkill -9 -f -- "--data $dir/" 2>/dev/null || true # whatever a failed step left
	[ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_store DATA ARGS...: runs rmon-stored in the background.
start_store() {
	local data=$1 before
	shift
	before=$(grep -c "taking agents' streams" "$stored_log" 2>/dev/null || true)
	"$RMON_BIN/rmon-stored" --data "$data" "$@" 2>>"$stored_log" &
	stored_pid=$!
	# Ready once it listens (or gone).
	for _ in $(seq 100); do
		[ "$(grep -c "taking agents' streams" "$stored_log")" -gt "${before:-0}" ] && return 0
		kill -0 "$stored_pid" 2>/dev/null || return 1
		sleep 0.05
	done
}

# ship_as HOST ARGS...: rmon-loadgen shipping as HOST to the store on
# $port, with a spool of its own.
ship_as() {
	local host=$1
	shift
	"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --host "$host" \
		--spool "$(mktemp -d -p "$dir" "spool-$host-XXXX")" "$@"
}

# kill9_store: kill -9 the running store and reap it.
kill9_store() {
	kill -9 "$stored_pid"
	wait "$stored_pid" 2>/dev/null || true
}

stop_store() {
	kill -TERM "$stored_pid"
	wait "$stored_pid"
	stored_pid=
}

. "$(dirname "${BASH_SOURCE[0]}")/check.sh"
