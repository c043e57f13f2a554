#!/usr/bin/env bash
# An agent given no --data uses ./var: where no store is there yet it says
# on stderr which absolute folder and ring it waits on; with --data, or
# with a store in ./var, it says nothing of the kind.
set -eu
dir=$(mktemp -d)
trap '(cd "$dir/here" && "$RMON_BIN/rmon-stored" --drop-ring) 2>/dev/null; rm -rf "$dir"' EXIT
mkdir "$dir/here" "$dir/elsewhere"
cd "$dir/elsewhere"
rc=0
"$RMON_BIN/rmon-collectd" --once 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 1 ]
grep -q "no --data given and no store in $dir/elsewhere/var (the default folder" "$dir/err"
grep -q "waiting for the ring /rmon-[0-9a-f]* of an rmon-stored --data $dir/elsewhere/var" "$dir/err"
grep -q "point the agent at another store.s folder with --data DIR or RMON_DATA=DIR" "$dir/err"
rc=0
"$RMON_BIN/rmon-collectd" --once --data var 2>"$dir/err" || rc=$?
[ $rc -eq 1 ] && ! grep -q "no --data given" "$dir/err"
cd "$dir/here"
"$RMON_BIN/rmon-stored" 2>"$dir/stored.log" &
pid=$!
for _ in $(seq 100); do [ -d var/db ] && grep -q draining "$dir/stored.log" && break; sleep 0.05; done
"$RMON_BIN/rmon-collectd" --once 2>"$dir/err"
! grep -q "no --data given" "$dir/err"
kill -TERM $pid
wait $pid
echo ok
