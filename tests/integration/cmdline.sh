#!/usr/bin/env bash
# Every program's command line, as a person types it: --help prints the
# usage on stdout and exits 0 without doing anything else (the store
# benchmark used to run instead; rmon-bench SCENARIO --help runs no scenario), --version prints the name and version on a line of
# its own, a bad option or value exits 2 with one line naming it.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
programs="rmon-collectd rmon-stored rmon-loadgen rmon-bench"
commands="demo query series stats"

check_help() { # name command...
	local name=$1
	shift
	timeout 5 "$@" --help >"$dir/out" 2>"$dir/err" || { echo "$name --help failed"; cat "$dir/err"; exit 1; }
	head -1 "$dir/out" | grep -q "^usage: $name " || { echo "$name --help: no usage line"; head -5 "$dir/out"; exit 1; }
	grep -q -- "--version" "$dir/out" || { echo "$name --help does not list --version"; exit 1; }
	[ ! -s "$dir/err" ] || { echo "$name --help wrote to stderr"; cat "$dir/err"; exit 1; }
	[ "$(timeout 5 "$@" --version | od -An -c | tr -d ' \n' | tail -c 2)" = '\n' ] ||
		{ echo "$name --version does not end its line"; exit 1; }
	timeout 5 "$@" --version | grep -qx "$name [0-9][0-9.]*" || { echo "$name --version"; exit 1; }
	set +e
	timeout 5 "$@" --no-such-option >"$dir/out" 2>"$dir/err"
	local rc=$?
	set -e
	[ "$rc" -eq 2 ] || { echo "$name --no-such-option: exit $rc, not 2"; exit 1; }
	grep -q "^$name: unknown option '--no-such-option'" "$dir/err" ||
		{ echo "$name: the error does not name the option"; cat "$dir/err"; exit 1; }
}

for p in $programs; do
	check_help "$p" "$RMON_BIN/$p"
done
check_help rmon "$RMON_BIN/rmon"
for c in $commands; do
	check_help "rmon $c" "$RMON_BIN/rmon" "$c"
done
# rmon-bench's scenarios read their own options: --help runs nothing.
for s in ring agent store ingest alert report web e2e; do
	check_help "rmon-bench $s" "$RMON_BIN/rmon-bench" "$s"
done

# Values are checked where they are read, and the message names option and value.
expect_usage_error() { # message command...
	local message=$1
	shift
	set +e
	"$@" >"$dir/out" 2>"$dir/err"
	local rc=$?
	set -e
	[ "$rc" -eq 2 ] || { echo "$*: exit $rc, not 2"; cat "$dir/err"; exit 1; }
	grep -qF -- "$message" "$dir/err" || { echo "$*: expected '$message'"; cat "$dir/err"; exit 1; }
}
expect_usage_error "rmon-collectd: --interval '10ms': must be at least 100ms" \
	"$RMON_BIN/rmon-collectd" --once --print --interval 10ms
expect_usage_error "rmon-collectd: option '--data' needs a value (DIR)" "$RMON_BIN/rmon-collectd" --data
expect_usage_error "rmon-stored: unexpected argument 'extra'" "$RMON_BIN/rmon-stored" --data "$dir/d" extra
expect_usage_error "rmon query: missing operand" "$RMON_BIN/rmon" query --data "$dir/d"
expect_usage_error "rmon-bench agent: --seconds 'x': expected a whole number" "$RMON_BIN/rmon-bench" agent --seconds x
expect_usage_error "rmon-bench: unknown scenario 'bogus'" "$RMON_BIN/rmon-bench" bogus
expect_usage_error "rmon: unknown command 'bogus'" "$RMON_BIN/rmon" bogus
expect_usage_error "rmon-bench alert: --trials 'x': expected a whole number" \
	"$RMON_BIN/rmon-bench" alert --trials x
expect_usage_error "rmon-bench web: --clients '0': must be from 1 to 64" "$RMON_BIN/rmon-bench" web --clients 0
# Options after operands, joined values and combined letters read alike.
"$RMON_BIN/rmon-collectd" -1p --root tests/fixtures/linux-6.18 --interval=1s >"$dir/a"
"$RMON_BIN/rmon-collectd" --root=tests/fixtures/linux-6.18 -p --once >"$dir/b"
grep -q "node_load1" "$dir/a" && grep -q "node_load1" "$dir/b"
echo ok
