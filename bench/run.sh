#!/usr/bin/env bash
# Runs rmon-bench: every scenario in turn (`rmon-bench all`), or the ones
# named, with rmon-bench's options (--quick, --json, --plot FILE.svg).
# Usage: bench/run.sh BUILD_DIR [OPTIONS] [SCENARIO...]
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR [OPTIONS] [SCENARIO...]}
shift
options=()
scenarios=()
for arg in "$@"; do
	case $arg in -*) options+=("$arg") ;; *) scenarios+=("$arg") ;; esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(all)
status=0
for s in "${scenarios[@]}"; do
	"$build/bin/rmon-bench" "${options[@]}" "$s" || status=1
done
exit $status
