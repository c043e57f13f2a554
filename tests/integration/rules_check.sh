#!/usr/bin/env bash
# `rmon rules check` as a person runs it on rule files (good ones, an
# include, bad ones with their exact file:line error and exit status 1),
# and `rmon rules test` evaluating the shipped rules against a live agent
# writing into a real store.
set -eu
dir=$(mktemp -d)
data=$dir/data
stored_pid= agent_pid=
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
	[ -n "$stored_pid" ] && kill "$stored_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	"$RMON_BIN/rmon-stored" --data "$data" --drop-ring 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
rmon() { "$RMON_BIN/rmon" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

# The built-in configuration.
out=$(rmon rules check)
[ "$out" = "<embedded>: 9 rules, 1 route, 1 receiver, 0 inhibitions, 0 mute windows: OK" ] || fail "default: $out"

# docs/alerting.md shows the built-in configuration as it is.
docs=$(dirname "$0")/../../docs/alerting.md
sed -n '/^<!-- default-config/,/^<!-- end default-config/p' "$docs" | sed '1,2d' | sed '$d' | sed '$d' >"$dir/doc.conf"
rmon rules default >"$dir/default.conf"
diff -u "$dir/default.conf" "$dir/doc.conf" || fail "docs/alerting.md shows another default configuration"

# A main file including rules.d/*.conf.
mkdir "$dir/rules.d"
cat >"$dir/alertd.conf" <<'EOF'
[alertd]
group_window = 1s
[receiver ops]
type = maildir
path = /tmp/rmon-rules-check-maildir
[route all]
receivers = ops
include = rules.d/*.conf
EOF
cat >"$dir/rules.d/disk.conf" <<'EOF'
[rule disk_busy]
expr = rate(node_disk_io_time_seconds_total[5m])
above = 0.9
for = 10m
receivers = ops
[mute nightly]
days = mon-fri
time = 02:00-04:00
EOF
out=$(rmon rules check "$dir/alertd.conf")
[ "$out" = "$dir/alertd.conf: 1 rule, 1 route, 1 receiver, 0 inhibitions, 1 mute window: OK" ] || fail "good: $out"

# Bad files: the exact message, exit status 1, the good file still said.
cat >"$dir/rules.d/bad.conf" <<'EOF'
# a rule whose clear level contradicts its threshold
[rule mem]
expr = 100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)
above = 90
clear = 95
EOF
rc=0
rmon rules check "$dir/alertd.conf" >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc for a bad file"
want="$dir/rules.d/bad.conf:2: [rule mem]: clear = 95 is above the threshold 90: a rule that fires above 90 clears at or below it"
[ "$(cat "$dir/err")" = "$want" ] || fail "got '$(cat "$dir/err")'"
rm "$dir/rules.d/bad.conf"
cat >"$dir/other.conf" <<'EOF'
[rule up]
expr = avg(rmon_collect_duration_seconds{[5m])
above = 1
EOF
rc=0
rmon rules check "$dir/alertd.conf" "$dir/other.conf" >"$dir/out" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc for a bad second file"
grep -q "^$dir/alertd.conf: 1 rule" "$dir/out" || fail "the good file was not reported"
grep -qF "$dir/other.conf:2: rule.expr = 'avg(rmon_collect_duration_seconds{[5m])': at character " "$dir/err" ||
	fail "got '$(cat "$dir/err")'"
printf '[rule x]\nexpr = x\nabove = 1\nreceivers = pager\n' >"$dir/other.conf"
rc=0
rmon rules check "$dir/other.conf" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc for an unknown receiver"
[ "$(cat "$dir/err")" = "$dir/other.conf:4: [rule x]: receiver 'pager' is not defined (none is defined)" ] ||
	fail "got '$(cat "$dir/err")'"
rc=0
rmon rules check "$dir/missing.conf" 2>"$dir/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "missing.conf" "$dir/err" || fail "a missing file: exit $rc, $(cat "$dir/err")"

# The shipped rules against a live agent: every instance has a value.
"$RMON_BIN/rmon-stored" --data "$data" 2>"$dir/stored.log" &
stored_pid=$!
for _ in $(seq 600); do [ -d "$data/db" ] && break; sleep 0.05; done
"$RMON_BIN/rmon-collectd" --data "$data" --interval 1s 2>"$dir/agent.log" &
agent_pid=$!
# Two collections committed: rates have two samples to go by.
for _ in $(seq 600); do
	n=$(rmon query 'node_load1' --data "$data" --from -1m 2>/dev/null | grep -c Z || true)
	[ "$n" -ge 3 ] && break
	sleep 0.1
done
host=$(rmon series node_load1 --data "$data" | cut -d/ -f1)
rmon rules test --data "$data" | tee "$dir/test"
for rule in cpu_saturated memory_exhausted disk_full swap_storm load_high host_down; do
	grep -qE "^$rule +$host" "$dir/test" || fail "no instance of $rule for $host"
done
grep -qE "^host_down +$host +ok +- +the last sample [0-9hms]+ ago" "$dir/test" || fail "host_down"
grep -qE "^memory_exhausted +$host +(ok|pending|firing) +[0-9.]+ " "$dir/test" || fail "memory"
# A rule that must fire, one that waits for its `for`.
cat >"$dir/now.conf" <<'EOF'
[rule up]
expr = 100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes
above = 0
[rule waits]
expr = max(node_load1[1m])
above = -1
for = 1h
EOF
rmon rules test --data "$data" --config "$dir/now.conf" | tee "$dir/test"
grep -qE "^up +$host +firing +[0-9.]+ " "$dir/test" || fail "up did not fire"
grep -qE "^waits +$host +pending " "$dir/test" || fail "waits is not pending"
echo ok
