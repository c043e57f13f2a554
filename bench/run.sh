#!/usr/bin/env bash
# Runs every benchmark program (build/<variant>/bin/bench-*) in turn.
# Usage: bench/run.sh BUILD_DIR [NAME_FILTER]
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR [FILTER]}
filter=${2:-}
for bin in "$build"/bin/bench-*; do
	[ -x "$bin" ] || continue
	case $(basename "$bin") in *"$filter"*) ;; *) continue ;; esac
	echo "== $(basename "$bin")"
	"$bin"
done
