#!/usr/bin/env bash
# rmon demo runs end to end and its self-check passes; bad flags exit 2.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$RMON_BIN/rmon" demo --duration 2s --data "$dir/data")
echo "$out"
grep -q "self-check passed" <<<"$out"
set +e
"$RMON_BIN/rmon" demo --duration soon >/dev/null 2>"$dir/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "expected exit 2 for a bad duration, got $rc"; exit 1; }
grep -q "bad duration 'soon'" "$dir/err"
"$RMON_BIN/rmon" bogus 2>/dev/null && exit 1
echo ok
