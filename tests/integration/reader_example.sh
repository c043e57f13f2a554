#!/usr/bin/env bash
# The example reader of docs/query.md, compiled from the page as a person
# would and run beside rmon-stored and rmon-collectd: it prints the newest
# value of the series each commit changes, woken by every commit.
set -eu
dir=$(mktemp -d)
data=$dir/data
stored='' collectd=''
cleanup() {
	[ -n "$collectd" ] && kill "$collectd" 2>/dev/null && wait "$collectd" 2>/dev/null
	[ -n "$stored" ] && kill "$stored" 2>/dev/null && wait "$stored" 2>/dev/null
	"$RMON_BIN/rmon-stored" --data "$data" --drop-ring
	rm -rf "$dir"
}
trap cleanup EXIT
# The program is the page's only C block.
awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' docs/query.md >"$dir/follow.c"
grep -q 'query_wait' "$dir/follow.c"
# This build's compiler and flags when build.ninja is this build's, else
# the system's with the sanitizers the folder's name says.
var() { sed -n "s/^$1 = //p" build.ninja; }
if [ -f build.ninja ] && [ "$(cd "$(var builddir)" 2>/dev/null && pwd)" = "$RMON_BUILD" ]; then
	cc=$(var cc) flags="$(var cflags) $(var ldflags)"
else
	cc=cc flags="-std=c11 -D_GNU_SOURCE -I. -pthread"
	case $RMON_BUILD in
	*asan) flags="$flags -fsanitize=address,undefined" ;;
	*tsan) flags="$flags -fsanitize=thread" ;;
	esac
fi
# shellcheck disable=SC2086
$cc $flags -o "$dir/follow" "$dir/follow.c" "$RMON_BUILD/lib/librmon_store.a" \
	"$RMON_BUILD/lib/librmon_lib.a" -llmdb -lm
"$RMON_BIN/rmon-stored" --data "$data" 2>"$dir/stored.log" &
stored=$!
for _ in $(seq 50); do [ -f "$data/db/data.mdb" ] && break; sleep 0.1; done
"$RMON_BIN/rmon-collectd" --data "$data" --interval 1s 2>"$dir/collectd.log" &
collectd=$!
sleep 1
timeout 4 "$dir/follow" "$data" >"$dir/out" 2>"$dir/err" || true
head -3 "$dir/out"
# Every series once at first, then the ones each commit changed.
[ "$(wc -l <"$dir/out")" -gt 100 ] || { echo "too little:"; cat "$dir/out" "$dir/err"; exit 1; }
load=$(grep '/node_load1 ' "$dir/out" | awk '{ print $2 }' | sort -u | wc -l)
[ "$load" -ge 3 ] || { echo "node_load1 seen at $load times, wanted 3 commits"; exit 1; }
echo ok
