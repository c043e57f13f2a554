# Sourced after ship.sh by the disk-full tests: small tmpfs file systems a
# test fills and frees, unmounted before the scratch folder goes. Mounting
# needs root (as in CI); elsewhere the test is skipped (exit 77).
small_mounts=()
small_cleanup() {
	for p in $stored_pid "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	pkill -9 -f -- "--data $dir/" 2>/dev/null || true
	pkill -9 -f -- "--spool $dir/" 2>/dev/null || true
	sleep 0.1
	for m in "${small_mounts[@]}"; do
		for _ in 1 2 3 4 5; do umount "$m" 2>/dev/null && break; sleep 0.2; done
		! mountpoint -q "$m" || umount -l "$m" || true
	done
	cleanup
}
trap small_cleanup EXIT

# small_fs DIR [SIZE]: a tmpfs of SIZE (default 4m) at DIR.
small_fs() {
	mkdir -p "$1"
	if ! mount -t tmpfs -o "size=${2:-4m}" tmpfs "$1" 2>"$dir/mount.err"; then
		echo "skip: cannot mount a tmpfs at $1 ($(cat "$dir/mount.err")); these tests need root"
		exit 77
	fi
	small_mounts+=("$1")
}

# fill_fs DIR: a file takes every free byte of DIR's file system.
fill_fs() {
	dd if=/dev/zero of="$1/filler" bs=4k status=none 2>/dev/null || true
}

# free_fs DIR: the space fill_fs took comes back.
free_fs() {
	rm -f "$1/filler"
}

# wait_for PATTERN FILE SECONDS: until FILE has a line matching PATTERN.
wait_for() {
	for _ in $(seq $(($3 * 20))); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching '$1' in $2 after $3 s:"
	tail -20 "$2"
	return 1
}
