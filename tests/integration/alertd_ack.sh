#!/usr/bin/env bash
# Acknowledging and silencing from the command line stop the next repeat:
# three alerts fire with a one-minute repeat; one is acknowledged with
# `rmon alerts ack`, one silenced with `rmon silence add`; when the third
# is told again, the other two are not.  `rmon alerts` shows the marks.
set -eu
. "$(dirname "$0")/lib/notify.sh"
. "$(dirname "$0")/lib/alertd.sh"
needs_python_module aiosmtpd

port=$(free_port)
start_sink smtp smtp_sink.py --port "$port" --dir "$dir/mail"
cat >"$dir/alertd.conf" <<CONF
[receiver ops]
type = email
server = 127.0.0.1
port = $port
tls = none
from = rmon@example.com
to = ops@example.com
[route everything]
receivers = ops
group_window = 100ms
[rule hot]
expr = test_value
above = 10
repeat = 1m
summary = {host} is hot
CONF
start_stored
start_alertd --config "$dir/alertd.conf"
put 'ack1/test_value 20'
wait_log 'firing message' 1
put 'silenced1/test_value 20'
wait_log 'firing message' 2
put 'plain1/test_value 20'
wait_log 'firing message' 3
wait_files "$dir/mail" '*.eml' 3

id=$("$RMON_BIN/rmon" alerts --data "$data" --format json |
	/usr/bin/python3 -c 'import json,sys; print([a["id"] for a in json.load(sys.stdin) if a["host"] == "ack1"][0])')
"$RMON_BIN/rmon" alerts ack "$id" --comment "disk swap at noon" --data "$data"
"$RMON_BIN/rmon" silence add 'silenced1/*' --for 1h --comment "maintenance" --data "$data" | tee "$dir/silence"
grep -q '^silence 1 until ' "$dir/silence"
"$RMON_BIN/rmon" silence list --data "$data" | grep -q '^1  *active .*silenced1/\*  *maintenance$'
# rmon-alertd sees both within a second; the marks are written back.
for _ in $(seq 100); do
	"$RMON_BIN/rmon" alerts --data "$data" >"$dir/list"
	grep -q 'silenced #1' "$dir/list" && break
	sleep 0.1
done
cat "$dir/list"
grep -q "acked by $(id -un 2>/dev/null || true)\|acked by " "$dir/list"
grep -q 'silenced #1' "$dir/list"

# The repeat of the third comes a minute after it fired; then nothing else.
wait_log 'repeat message' 1 120
sleep 3
ls "$dir/mail"
[ "$(count_files "$dir/mail" '*.eml')" -eq 4 ]
grep -l '^Subject:.*plain1' "$dir/mail/0004.eml"
! grep -q 'ack1\|silenced1' "$dir/mail/0004.eml"
"$RMON_BIN/rmon" alerts log --data "$data" | tee "$dir/log"
[ "$(grep -c ' repeat ' "$dir/log")" -eq 1 ]

# Taking the silence back: the repeat it held goes out (it fires still).
"$RMON_BIN/rmon" silence rm 1 --data "$data"
wait_files "$dir/mail" '*.eml' 5
grep -q '^Subject:.*silenced1' "$dir/mail/0005.eml"
echo "alertd_ack: ok"
