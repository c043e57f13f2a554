#!/usr/bin/env bash
# An interrupted rmon-bench leaves nothing behind: Ctrl-C (SIGINT) or
# SIGTERM in the middle of a short e2e run (rmon-stored, rmon-alertd,
# rmon-reportgen, the simulated hosts and, when installed, aiosmtpd all
# running) ends it by that signal, and then no process of the run is left,
# its scratch folder under /tmp is gone and so are the shared-memory rings
# its daemons made.
set -eu
export RMON_BENCH_NO_INSTALL=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Under tests/run.sh every process of the test carries its tag: what
# still has it besides this script's shells (aiosmtpd and gnuplot name no
# folder of the run).
leftovers() {
	[ -n "${RMON_TEST_RUN:-}" ] || return 0
	grep -lsxz "RMON_TEST_RUN=$RMON_TEST_RUN" /proc/[0-9]*/environ | cut -d/ -f3 |
		while read -r p; do
			c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
			case $c in bash | grep | cut | cat | timeout) ;; *) echo "$p $c" ;; esac
		done
}

# ours FOLDER: whether a process of this test names FOLDER.
ours() {
	local p
	for p in $(leftovers | cut -d' ' -f1); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$1" && return 0
	done
	return 1
}

# interrupt SIGNAL: runs the e2e scenario, sends SIGNAL once it measures.
interrupt() {
	local sig=$1 before pid scratch="" status
	before=$(ls -d /tmp/rmon-bench.* 2>/dev/null || true)
	ls /dev/shm >"$out/shm.before"
	# With job control the background job takes SIGINT as a terminal's
	# Ctrl-C would deliver it (a script's background jobs ignore it).
	set -m
	"$RMON_BIN/rmon-bench" --quick e2e --seconds 30 >"$out/stdout" 2>"$out/stderr" &
	pid=$!
	set +m
	for _ in $(seq 300); do
		grep -q 'acked' "$out/stderr" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || { echo "rmon-bench ended early:"; cat "$out/stderr"; exit 1; }
		sleep 0.1
	done
	grep -q 'acked' "$out/stderr" || { echo "no progress line in 30 s:"; cat "$out/stderr"; exit 1; }
	# The new scratch folder that this run's daemons name: another
	# rmon-bench on the machine makes folders of its own.
	for d in /tmp/rmon-bench.*; do
		case " $before " in *" $d "*) continue ;; esac
		[ -z "${RMON_TEST_RUN:-}" ] || ours "$d" || continue
		scratch=$d
	done
	[ -n "$scratch" ] || { echo "no scratch folder of the run"; exit 1; }
	pgrep -f "$scratch" >/dev/null || { echo "no daemon of the run running"; exit 1; }
	kill "-$sig" "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq $((128 + $(kill -l "$sig"))) ] ||
		{ echo "SIG$sig: exit status $status, wanted death by the signal"; cat "$out/stderr"; exit 1; }
	# The cleanup finishes in a process of its own just after, and a
	# gnuplot of rmon-reportgen's pool ends once its pipe closes.
	for _ in $(seq 100); do
		[ ! -e "$scratch" ] && ! pgrep -f "$scratch" >/dev/null && [ -z "$(leftovers)" ] && break
		sleep 0.1
	done
	if pgrep -f "$scratch" >/dev/null; then
		echo "SIG$sig: left running:"; pgrep -af "$scratch"; exit 1
	fi
	[ -z "$(leftovers)" ] || { echo "SIG$sig: left running: $(leftovers)"; exit 1; }
	[ ! -e "$scratch" ] || { echo "SIG$sig: $scratch left behind"; find "$scratch" | head; exit 1; }
	# New rings that no process maps: a store running beside this test
	# (another test run on the machine) maps its own.
	ls /dev/shm >"$out/shm.after"
	comm -13 "$out/shm.before" "$out/shm.after" | while read -r ring; do
		grep -qsF "/dev/shm/$ring" /proc/[0-9]*/maps || echo "$ring"
	done >"$out/shm.left"
	if [ -s "$out/shm.left" ]; then
		echo "SIG$sig: rings left in /dev/shm:"; cat "$out/shm.left"; exit 1
	fi
	echo "SIG$sig: ended, nothing left"
}

interrupt INT
interrupt TERM
