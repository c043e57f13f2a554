# shellcheck shell=sh
# common.sh - what the peer scripts share: installing a Debian package
# when its program is missing, and stopping a peer started in the
# background.  Sourced by the scripts beside it.

# peer_install PROGRAM PACKAGE: PROGRAM is there, or apt-get installs
# PACKAGE; exits 1 with a message naming the package when it cannot, or
# when RMON_BENCH_NO_INSTALL is set (tests install nothing).
peer_install() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ -x "$1" ] && return 0
	if [ -n "${RMON_BENCH_NO_INSTALL:-}" ]; then
		echo "$2 is not installed (RMON_BENCH_NO_INSTALL is set: not installing it)" >&2
		exit 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "$2 is not installed and installing it needs root: apt-get install $2" >&2
		exit 1
	fi
	echo "installing $2 (apt-get install -y $2)" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" \
		>"${TMPDIR:-/tmp}/rmon-bench-apt-$2.log" 2>&1; then
		echo "apt-get install $2 failed: $(tail -n 1 "${TMPDIR:-/tmp}/rmon-bench-apt-$2.log")" >&2
		exit 1
	fi
}

# peer_stop PIDFILE: SIGTERM, then SIGKILL after 5 s.
peer_stop() {
	[ -f "$1" ] || { echo "no $1: nothing to stop" >&2; exit 1; }
	pid=$(cat "$1")
	kill "$pid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
		sleep 0.5
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$1"
}
