#!/usr/bin/env bash
# Webhook, SMS and push receivers against local HTTP servers on 127.0.0.1,
# as `rmon receivers test` sends to them: the webhook's JSON document, the
# SMS form with basic auth (a wrong password refused, once per number),
# ntfy- and Gotify-style pushes, and a server failing once: delivered on
# the retry.
set -eu
. "$(dirname "$0")/lib/notify.sh"
data=$dir/data
field() { # FILE EXPR: a value out of a recorded request
	/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
hook=$(free_port) sms=$(free_port) push=$(free_port)
start_sink hook http_sink.py --port "$hook" --dir "$dir/hook" --bearer tok-123 --statuses 503,200
start_sink sms http_sink.py --port "$sms" --dir "$dir/sms" --basic AC123:authtoken
start_sink push http_sink.py --port "$push" --dir "$dir/push"
cat >"$dir/alertd.conf" <<CONF
[report]
url = https://mon.example.com/

[receiver hook]
type = webhook
url = http://127.0.0.1:$hook/hooks/secret-path
token = tok-123

[receiver text]
type = sms
url = http://127.0.0.1:$sms/2010-04-01/Accounts/AC123/Messages.json
user = AC123
password = authtoken
sms_to = +15550001111, +15550002222
sms_from = +15559990000

[receiver wrongsms]
type = sms
url = http://127.0.0.1:$sms/2010-04-01/Accounts/AC123/Messages.json
user = AC123
password = nope
sms_to = +15550001111
sms_from = +15559990000

[receiver phone]
type = push
url = http://127.0.0.1:$push/
topic = rmon-alerts

[receiver gotify]
type = push
format = gotify
url = http://127.0.0.1:$push
token = AbCdEf
CONF
"$RMON_BIN/rmon" receivers --config "$dir/alertd.conf" | tee "$dir/list"
! grep -q "secret-path\|tok-123\|authtoken" "$dir/list"

# The webhook: 503 first, then delivered; the document is valid JSON.
"$RMON_BIN/rmon" receivers test hook --config "$dir/alertd.conf" --data "$data" | tee "$dir/out"
grep -q "^delivered to hook" "$dir/out"
wait_files "$dir/hook" '*.json' 1
[ "$(find "$dir/hook" -name '*.json' | wc -l)" -eq 1 ]
r=$dir/hook/0001.json
[ "$(field "$r" 'r["path"]')" = /hooks/secret-path ]
[ "$(field "$r" 'r["headers"]["Content-Type"]')" = application/json ]
[ "$(field "$r" 'json.loads(r["body"])["kind"]')" = firing ]
[ "$(field "$r" 'json.loads(r["body"])["receiver"]')" = hook ]
[ "$(field "$r" 'json.loads(r["body"])["alerts"][0]["rule"]')" = receiver_test ]
[ "$(field "$r" 'json.loads(r["body"])["alerts"][0]["link"]')" = https://mon.example.com/ ]
[ "$(field "$r" 'json.loads(r["body"])["alerts"][0]["value"]')" = None ]

# SMS: a form per number, with basic auth.
"$RMON_BIN/rmon" receivers test text --config "$dir/alertd.conf" --data "$data" | tee "$dir/out"
grep -q "^delivered to text" "$dir/out"
wait_files "$dir/sms" '*.json' 2
for i in 1 2; do
	r=$dir/sms/000$i.json
	[ "$(field "$r" 'r["headers"]["Content-Type"]')" = application/x-www-form-urlencoded ]
	[ "$(field "$r" 'r["path"]')" = /2010-04-01/Accounts/AC123/Messages.json ]
done
to1=$(field "$dir/sms/0001.json" 'sorted(__import__("urllib.parse").parse.parse_qs(r["body"])["To"])[0]')
to2=$(field "$dir/sms/0002.json" 'sorted(__import__("urllib.parse").parse.parse_qs(r["body"])["To"])[0]')
[ "$to1,$to2" = "+15550001111,+15550002222" ]
body=$(field "$dir/sms/0001.json" '__import__("urllib.parse").parse.parse_qs(r["body"])["Body"][0]')
[ "$body" = "FIRING [info] Test notice from rmon receivers test https://mon.example.com/" ]
[ "$(field "$dir/sms/0001.json" '__import__("urllib.parse").parse.parse_qs(r["body"])["From"][0]')" = +15559990000 ]
rc=0
"$RMON_BIN/rmon" receivers test wrongsms --config "$dir/alertd.conf" --data "$data" --retry-for 1s 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 1 ]
grep -q "HTTP 401: bad credentials" "$dir/err"
! grep -q nope "$dir/err"
[ "$(find "$dir/sms" -name '*.json' | wc -l)" -eq 2 ]

# Push: ntfy's JSON publish, then Gotify's message with its key.
"$RMON_BIN/rmon" receivers test phone --config "$dir/alertd.conf" --data "$data" | grep -q "^delivered to phone"
"$RMON_BIN/rmon" receivers test gotify --config "$dir/alertd.conf" --data "$data" | grep -q "^delivered to gotify"
wait_files "$dir/push" '*.json' 2
r=$dir/push/0001.json
[ "$(field "$r" 'r["path"]')" = / ]
[ "$(field "$r" 'json.loads(r["body"])["topic"]')" = rmon-alerts ]
[ "$(field "$r" 'json.loads(r["body"])["title"]')" = "FIRING [info] Test notice from rmon receivers test" ]
[ "$(field "$r" 'json.loads(r["body"])["priority"]')" = 3 ]
[ "$(field "$r" 'json.loads(r["body"])["click"]')" = https://mon.example.com/ ]
field "$r" 'json.loads(r["body"])["message"]' >"$dir/message"
grep -q "^FIRING: Test notice from rmon receivers test" "$dir/message"
r=$dir/push/0002.json
[ "$(field "$r" 'r["path"]')" = /message ]
[ "$(field "$r" 'r["headers"]["X-Gotify-Key"]')" = AbCdEf ]
[ "$(field "$r" 'json.loads(r["body"])["priority"]')" = 6 ]
echo ok
