#!/usr/bin/env bash
# The whole path with a real SMTP server on 127.0.0.1: a sample that
# crosses a threshold enters the ring, rmon-stored commits it, rmon-alertd
# fires and mails (both parts, the graph inline, the link to the alert's
# page); its resolution sends a resolved mail threaded under the firing
# one; a restart sends nothing twice; a hostile label value reaches the
# mail escaped; `rmon alerts` and `rmon alerts log` show what happened.
set -eu
. "$(dirname "$0")/lib/notify.sh"
. "$(dirname "$0")/lib/alertd.sh"
needs_python_module aiosmtpd

port=$(free_port)
start_sink smtp smtp_sink.py --port "$port" --dir "$dir/mail"
cat >"$dir/alertd.conf" <<CONF
[alertd]
flap_window = 1s
[report]
url = http://mon.example.com/rmon
[receiver ops]
type = email
server = 127.0.0.1
port = $port
tls = none
from = rmon@example.com
to = ops@example.com
[route everything]
receivers = ops
[rule hot]
expr = test_value
above = 10
clear = 5
severity = critical
group_by = zone
summary = {host} zone {labels.zone} is hot: {value}
CONF
"$RMON_BIN/rmon" rules check "$dir/alertd.conf"
start_stored
start_alertd --config "$dir/alertd.conf"
put 'web1/test_value{zone="a"} 1'
wait_log 'pass over commit'
put 'web1/test_value{zone="a"} 20'
wait_files "$dir/mail" '*.eml' 1
/usr/bin/python3 "$lib/check_mail.py" "$dir/mail/0001.eml" >"$dir/m1"
grep -v '^text:' "$dir/m1"
grep -qx 'subject: FIRING \[critical\] web1 zone a is hot: 20' "$dir/m1"
grep -qx 'defects: 0' "$dir/m1"
grep -qx 'part: text/plain' "$dir/m1"
grep -qx 'part: text/html' "$dir/m1"
grep -q '^image-png: True' "$dir/m1"
grep -qx 'image-referenced: True' "$dir/m1"
grep -q 'http://mon.example.com/rmon/alerts/1.html' "$dir/m1"
firing_id=$(sed -n 's/^message-id: //p' "$dir/m1")
[ -n "$firing_id" ]

"$RMON_BIN/rmon" alerts --data "$data" | tee "$dir/list"
grep -q '^1 *firing *critical .* hot web1{zone="a"} *web1 zone a is hot: 20$' "$dir/list"

# Resolved: below the clear level, for the flap window.
put 'web1/test_value{zone="a"} 1'
wait_files "$dir/mail" '*.eml' 2
/usr/bin/python3 "$lib/check_mail.py" "$dir/mail/0002.eml" >"$dir/m2"
grep -q '^subject: RESOLVED \[critical\] web1 zone a is hot' "$dir/m2"
grep -qx "in-reply-to: $firing_id" "$dir/m2"
grep -qx "references: $firing_id" "$dir/m2"
"$RMON_BIN/rmon" alerts log --data "$data" | tee "$dir/log"
[ "$(grep -c ' delivered ' "$dir/log")" -eq 2 ]
"$RMON_BIN/rmon" alerts history --data "$data" | tee "$dir/history"
grep -q 'firing -> resolved' "$dir/history"

# A restart sends nothing again.
stop_alertd
start_alertd --config "$dir/alertd.conf"
put 'web1/test_value{zone="a"} 2'
wait_log 'pass over commit .*: 1 series changed' 1
sleep 2
[ "$(count_files "$dir/mail" '*.eml')" -eq 2 ]

# A hostile label value: markup, quotes and what looks like a header.
hostile='<img src=x onerror=alert(1)>\" & \\r\\nBcc: evil@example.com'
put "web1/test_value{zone=\"$hostile\"} 50"
wait_files "$dir/mail" '*.eml' 3
/usr/bin/python3 "$lib/check_mail.py" "$dir/mail/0003.eml" >"$dir/m3"
grep -v '^text:' "$dir/m3"
! grep -q '^bcc:' "$dir/m3"
! grep -q '^bad-header-line' "$dir/m3"
grep -qx 'defects: 0' "$dir/m3"
grep -qx 'html-has-script: False' "$dir/m3"
/usr/bin/python3 - "$dir/mail/0003.eml" <<'PY'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
html = msg.get_body(("html",)).get_content()
assert "<img src=x" not in html, "raw markup in the HTML part"
assert "&lt;img src=x onerror=alert(1)&gt;" in html, "the value is not shown escaped"
env = open(sys.argv[1][:-4] + ".env").read().split()
assert env[1:] == ["ops@example.com"], env
PY
"$RMON_BIN/rmon" alerts --data "$data" >"$dir/list2"
cat "$dir/list2"
grep -q 'onerror' "$dir/list2"
echo "alertd_mail: ok"
