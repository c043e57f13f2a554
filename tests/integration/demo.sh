#!/usr/bin/env bash
# rmon demo runs the whole pipeline and stops everything it started; the
# data it leaves can be queried; bad flags exit 2.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$RMON_BIN/rmon" demo --duration 4s --data "$dir/data")
echo "$out"
# Live summaries read back from the store: over 100 series, samples stored.
series=$(echo "$out" | awk '/^ *[0-9]+s +series/ { n = $3 } END { print n + 0 }')
[ "$series" -gt 100 ] || { echo "only $series series"; exit 1; }
echo "$out" | grep -q "stopped rmon-reportgen, rmon-alertd, rmon-collectd and rmon-stored"
! pgrep -f "rmon-(stored|collectd) --data $dir/data" >/dev/null
"$RMON_BIN/rmon" query node_load1 --data "$dir/data" --from -1m | grep -q "node_load1"
[ "$("$RMON_BIN/rmon" query 'node_cpu_seconds_total{cpu="total",mode="idle"}' --data "$dir/data" --from -1m | wc -l)" -ge 3 ]
set +e
"$RMON_BIN/rmon" demo --duration soon >/dev/null 2>"$dir/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "expected exit 2 for a bad duration, got $rc"; exit 1; }
grep -q "bad duration 'soon'" "$dir/err"
# --smtp goes into a configuration file: anything but HOST:PORT is refused.
set +e
"$RMON_BIN/rmon" demo --smtp $'mail\n[receiver x]:25' --data "$dir/bad" >/dev/null 2>"$dir/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "expected exit 2 for a bad --smtp, got $rc"; exit 1; }
grep -q 'expected HOST:PORT' "$dir/err"
[ ! -e "$dir/bad" ]
if "$RMON_BIN/rmon" bogus 2>/dev/null; then exit 1; fi
echo ok

# The whole product: with rmon-alertd built, the demo's CPU burst trips the
# demo rule, whose alert fires, is mailed into the maildir and to a real
# SMTP server (aiosmtpd), and resolves; the report shows it.
if [ ! -x "$RMON_BIN/rmon-alertd" ]; then
	echo "rmon-alertd is not built: the alert part of the demo is not checked"
	echo ok
	exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/smtp" &
smtp=$!
trap 'kill $smtp 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
out=$("$RMON_BIN/rmon" demo --duration 60s --data "$dir/full" --smtp "127.0.0.1:$port")
echo "$out"
echo "$out" | grep -Eq "alert [0-9]+ demo_cpu_burst on .*-> firing" || { echo "the demo rule never fired"; tail -30 "$dir/full/demo.log"; exit 1; }
echo "$out" | grep -Eq "alert [0-9]+ demo_cpu_burst on .*-> resolved" || { echo "the demo alert never resolved"; tail -30 "$dir/full/demo.log"; exit 1; }
id=$(echo "$out" | grep -Eo "alert [0-9]+ demo_cpu_burst" | head -1 | cut -d' ' -f2)
# Everything it started has stopped, the burst too.
! pgrep -f "rmon-[a-z]+ --data $dir/full" >/dev/null
! pgrep -x rmon-demo-burn >/dev/null
# Its mail, in the maildir and at the SMTP server.
grep -l demo_cpu_burst "$dir/full/maildir/new/"* >/dev/null || { echo "no mail in the maildir"; exit 1; }
grep -rl demo_cpu_burst "$dir/smtp/new/" >/dev/null || { echo "no mail at the SMTP server"; exit 1; }
echo "$out" | grep -q "the mails:   $dir/full/maildir/new"
# The report: the alert's page, resolved, linked from the alerts page.
www=$(echo "$out" | sed -n 's|^  the report:  file://\(.*\)/index.html$|\1|p')
[ -f "$www/index.html" ] || { echo "no report at '$www'"; exit 1; }
grep -q "alerts/$id.html" "$www/alerts.html"
grep -q 'class="badge s-resolved">resolved' "$www/alerts/$id.html"
[ -s "$www/alerts/$id.svg" ]
/usr/bin/python3 tests/integration/lib/check_site.py "$www"
echo ok
