# Sourced by the alertd tests after lib/notify.sh: a store, rmon-alertd
# (killed, restarted, reloaded) and samples written into the ring by
# rmon-put, all on the test's data folder $data.
data=$dir/data
stored=
alertd=
putter=
cleanup_alertd() {
	# Daemons started after the first put hold the fifo open too: kill.
	for p in $putter $alertd $stored; do kill -9 "$p" 2>/dev/null || true; done
	for p in $putter $alertd $stored; do wait "$p" 2>/dev/null || true; done
	cleanup_notify
}
trap cleanup_alertd EXIT

start_stored() {
	"$RMON_BIN/rmon-stored" --data "$data" 2>>"$dir/stored.log" &
	stored=$!
	for _ in $(seq 200); do
		grep -q "draining into" "$dir/stored.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "rmon-stored did not start:"; cat "$dir/stored.log"; exit 1
}

# start_alertd ARGS...: waits until it runs (its log: $dir/alertd.log).
start_alertd() {
	local before
	before=$(grep -c "running on" "$dir/alertd.log" 2>/dev/null || true)
	"$RMON_BIN/rmon-alertd" --data "$data" -v "$@" 2>>"$dir/alertd.log" 7>&- &
	alertd=$!
	for _ in $(seq 200); do
		[ "$(grep -c "running on" "$dir/alertd.log" 2>/dev/null)" -gt "${before:-0}" ] && return 0
		kill -0 "$alertd" 2>/dev/null || break
		sleep 0.05
	done
	echo "rmon-alertd did not start:"; tail -20 "$dir/alertd.log"; exit 1
}

stop_alertd() {
	kill -TERM "$alertd"
	wait "$alertd"
	alertd=
}

kill9_alertd() {
	kill -9 "$alertd"
	wait "$alertd" 2>/dev/null || true
	alertd=
}

# put "SERIES VALUE": one sample into the ring, stamped now, through one
# rmon-put kept running (its stdin is fd 7), waiting for its "put N".
put_count=0
put() {
	if [ -z "$putter" ]; then
		mkfifo "$dir/put.in"
		"$RMON_BIN/rmon-put" --data "$data" <"$dir/put.in" >"$dir/put.out" 2>&1 &
		putter=$!
		exec 7>"$dir/put.in"
	fi
	echo "$1" >&7
	put_count=$((put_count + 1))
	for _ in $(seq 200); do
		grep -qx "put $put_count" "$dir/put.out" && return 0
		sleep 0.02
	done
	echo "rmon-put did not take '$1':"; cat "$dir/put.out"; exit 1
}

# wait_log PATTERN [N [SECONDS]]: waits (up to SECONDS, default 30) until
# alertd's log has N lines matching PATTERN (default 1).
wait_log() {
	local n=${2:-1} seconds=${3:-30}
	for _ in $(seq $((seconds * 10))); do
		[ "$(grep -c -- "$1" "$dir/alertd.log" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.1
	done
	echo "wanted $n lines '$1' in alertd's log:"; tail -30 "$dir/alertd.log"; exit 1
}

count_files() {
	find "$1" -maxdepth 1 -name "$2" 2>/dev/null | wc -l
}
