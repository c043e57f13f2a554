#!/usr/bin/env bash
# The same kill -9 loop with the WAL written by pwrite + fdatasync, the path
# taken where io_uring is unavailable (old kernels, container seccomp).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '[store]\nio_uring = false\n' >"$dir/stored.conf"
RMON_STORED_ARGS="--config $dir/stored.conf" ITERATIONS=8 bash "$(dirname "$0")/store_kill9.sh"
