#!/usr/bin/env bash
# Email to a real SMTP server on 127.0.0.1 (aiosmtpd), as a person checks a
# receiver with `rmon receivers test`: plain delivery with both parts and
# the inline graph read by Python's email package; STARTTLS with a
# certificate made here and AUTH; a server that refuses at DATA, then
# accepts: delivered once, after a retry; a wrong password and an untrusted
# certificate are clear failures.
set -eu
. "$(dirname "$0")/lib/notify.sh"
needs_python_module aiosmtpd
data=$dir/data

# A store with a series to draw: samples over the last minutes.
"$RMON_BIN/rmon-stored" --data "$data" 2>"$dir/stored.log" &
stored=$!
trap 'kill $stored 2>/dev/null; wait $stored 2>/dev/null; cleanup_notify' EXIT
start=$(( ($(date +%s) - 600) * 1000000000 ))
"$RMON_BIN/rmon-loadgen" --data "$data" --series 1 --samples 3000 --start-ns $start
for _ in $(seq 100); do
	"$RMON_BIN/rmon" series --data "$data" 2>/dev/null | grep -q rmon_loadgen_value && break
	sleep 0.1
done
series='loadgen/rmon_loadgen_value{s="0"}'

# 1. Plain SMTP: both parts, the graph inline, the envelope with Cc.
port=$(free_port)
start_sink plain smtp_sink.py --port "$port" --dir "$dir/plain"
cat >"$dir/alertd.conf" <<CONF
[receiver ops]
type = email
server = 127.0.0.1
port = $port
tls = none
from = Rusty Monitor <rmon@example.com>
to = ops@example.com
cc = lead@example.com
CONF
"$RMON_BIN/rmon" receivers --config "$dir/alertd.conf" | tee "$dir/list"
grep -q "^ops  *email  *email to ops@example.com via 127.0.0.1:$port (no TLS)" "$dir/list"
"$RMON_BIN/rmon" receivers test ops --config "$dir/alertd.conf" --data "$data" --series "$series" | tee "$dir/out"
grep -q "^delivered to ops" "$dir/out"
wait_files "$dir/plain" '*.eml' 1
/usr/bin/python3 "$lib/check_mail.py" "$dir/plain/0001.eml" >"$dir/mail"
cat "$dir/mail" | grep -v '^text:' 
grep -qx 'from: Rusty Monitor <rmon@example.com>' "$dir/mail"
grep -qx 'to: ops@example.com' "$dir/mail"
grep -qx 'cc: lead@example.com' "$dir/mail"
grep -qx 'subject: FIRING \[info\] Test notice from rmon receivers test' "$dir/mail"
grep -q '^message-id: <test\.' "$dir/mail"
grep -qx 'defects: 0' "$dir/mail"
! grep -q 'part-defects\|bad-header-line' "$dir/mail"
grep -qx 'part: multipart/related' "$dir/mail"
grep -qx 'part: multipart/alternative' "$dir/mail"
grep -qx 'part: text/plain' "$dir/mail"
grep -qx 'part: text/html' "$dir/mail"
grep -qx 'part: image/png' "$dir/mail"
grep -q '^image-png: True' "$dir/mail"
grep -qx 'image-referenced: True' "$dir/mail"
grep -qx 'html-has-script: False' "$dir/mail"
grep -qx 'text: FIRING: Test notice from rmon receivers test' "$dir/mail"
[ "$(sed -n 1p "$dir/plain/0001.env")" = rmon@example.com ]
grep -qx lead@example.com "$dir/plain/0001.env"
stop_sinks

# 2. STARTTLS with a self-signed certificate, and AUTH.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
port=$(free_port)
start_sink tls smtp_sink.py --port "$port" --dir "$dir/tls" --tls-cert "$dir/cert.pem" \
	--tls-key "$dir/key.pem" --auth "alerts:s3cret pass"
cat >"$dir/tls.conf" <<CONF
[receiver secure]
type = email
server = localhost
port = $port
tls = starttls
ca_file = $dir/cert.pem
user = alerts
password = "s3cret pass"
from = rmon@example.com
to = ops@example.com

[receiver wrongpw]
type = email
server = localhost
port = $port
ca_file = $dir/cert.pem
user = alerts
password = wrong
from = rmon@example.com
to = ops@example.com

[receiver untrusted]
type = email
server = localhost
port = $port
user = alerts
password = "s3cret pass"
from = rmon@example.com
to = ops@example.com

[receiver notls]
type = email
server = 127.0.0.1
port = $port
tls = none
from = rmon@example.com
to = ops@example.com
CONF
"$RMON_BIN/rmon" receivers --config "$dir/tls.conf" | tee "$dir/list"
! grep -q "s3cret\|wrong" "$dir/list"
grep -q "^secure  *email  *email to ops@example.com via localhost:$port (STARTTLS, AUTH as alerts)" "$dir/list"
"$RMON_BIN/rmon" receivers test secure --config "$dir/tls.conf" --data "$data" | tee "$dir/out"
grep -q "^delivered to secure" "$dir/out"
wait_files "$dir/tls" '*.eml' 1
/usr/bin/python3 "$lib/check_mail.py" "$dir/tls/0001.eml" >"$dir/mail"
grep -qx 'part: text/html' "$dir/mail"
rc=0
"$RMON_BIN/rmon" receivers test wrongpw --config "$dir/tls.conf" --data "$data" --retry-for 1s 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 1 ]
grep -q "given up after .*refused: 530 .*(was the password refused?)" "$dir/err"
! grep -q "wrong" <(sed 's/wrongpw//g' "$dir/err")
rc=0
"$RMON_BIN/rmon" receivers test untrusted --config "$dir/tls.conf" --data "$data" --retry-for 1s 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 1 ]
grep -q "refused: the server's certificate is not trusted" "$dir/err"
rc=0
"$RMON_BIN/rmon" receivers test notls --config "$dir/tls.conf" --data "$data" --retry-for 1s 2>"$dir/err" || rc=$?
cat "$dir/err"
[ $rc -eq 1 ]
[ "$(find "$dir/tls" -name '*.eml' | wc -l)" -eq 1 ] # nothing else got through
stop_sinks

# 3. A server that refuses at DATA twice, then accepts: delivered once.
port=$(free_port)
start_sink flaky smtp_sink.py --port "$port" --dir "$dir/flaky" --reject-data 2
sed "s/port = .*/port = $port/" "$dir/alertd.conf" >"$dir/flaky.conf"
"$RMON_BIN/rmon" receivers test ops --config "$dir/flaky.conf" --data "$data" | tee "$dir/out"
grep -q "^delivered to ops" "$dir/out"
sleep 0.5
[ "$(find "$dir/flaky" -name '*.eml' | wc -l)" -eq 1 ]
echo ok
