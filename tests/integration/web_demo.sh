#!/usr/bin/env bash
# The whole product from a browser: `rmon demo --web PORT` serves its report
# with the forms through nginx, fcgiwrap and rmon-web; once its CPU burst
# fires the demo rule, a person in headless Chromium signs in, acknowledges
# the firing alert and silences the host through the pages; `rmon alerts`
# and `rmon silence list` see both, and the pages the demo regenerates show
# both.  Ctrl-C ends the demo, and nginx and fcgiwrap with it; so does a
# kill -9 of the demo.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/notify.sh"
for program in nginx fcgiwrap; do
	PATH=$PATH:/usr/sbin:/sbin command -v $program >/dev/null ||
		{ echo "needs Debian's $program"; exit 77; }
done
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
	{ echo "needs Debian's chromium and chromium-driver"; exit 77; }
needs_python_module selenium
# Without nginx (hidden in a mount namespace of the test's own, where
# the test may make one) the demo says which package to install, and
# starts nothing.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir "$dir/empty"
	set +e
	unshare -m sh -c 'mount --bind "$1" /usr/sbin && mount --bind "$1" /sbin &&
		PATH=/usr/bin:/bin exec "$2" demo --web 1 --data "$3"' sh "$dir/empty" "$RMON_BIN/rmon" \
		"$dir/no-nginx" >"$dir/out0" 2>&1
	rc=$?
	set -e
	[ "$rc" = 1 ] || { echo "without nginx: exit $rc, not 1"; cat "$dir/out0"; exit 1; }
	grep -q 'needs nginx (on PATH or in /usr/sbin): apt-get install nginx' "$dir/out0" ||
		{ echo "without nginx, no word of the package:"; cat "$dir/out0"; exit 1; }
	[ ! -e "$dir/no-nginx/db" ] && [ ! -e "$dir/no-nginx/web-password" ] ||
		{ echo "without nginx, the demo went on"; ls "$dir/no-nginx"; exit 1; }
fi
demo=
trap 'rc=$?; [ -n "$demo" ] && kill -INT $demo 2>/dev/null && wait $demo; cleanup_notify; exit $rc' EXIT
data=$dir/data
port=$(free_port)
"$RMON_BIN/rmon" demo --web "$port" --duration 4m --data "$data" >"$dir/out" 2>"$dir/err" &
demo=$!

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or fail.
wait_for() {
	local what=$1 seconds=$2
	shift 2
	for _ in $(seq $((seconds * 10))); do
		"$@" && return 0
		kill -0 $demo 2>/dev/null || { echo "the demo ended waiting for $what:"; cat "$dir/out" "$dir/err"; exit 1; }
		sleep 0.1
	done
	echo "timed out waiting for $what:"; cat "$dir/out" "$dir/err"; tail -20 "$data/demo.log"; exit 1
}
wait_for "the site" 30 grep -q "^  open http://127.0.0.1:$port/ (user demo, password in $data/web-password)" "$dir/out"
[ "$(stat -c %a "$data/web-password")" = 600 ] || { echo "the password file is not 0600"; exit 1; }
password=$(cat "$data/web-password")
# Printed once, at the start.
[ "$(grep -c -- "$password" "$dir/out")" = 1 ] || { echo "the password is not printed once"; exit 1; }
url=http://127.0.0.1:$port
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/")
[ "$code" = 401 ] || { echo "the site without credentials: $code, not 401"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -u "demo:wrong$password" "$url/rmon/action?do=silence&selector=x")
[ "$code" = 401 ] || { echo "a wrong password: $code, not 401"; exit 1; }

wait_for "the demo alert to fire" 90 grep -Eq "alert [0-9]+ demo_cpu_burst on .*-> firing" "$dir/out"
id=$(grep -Eo "alert [0-9]+ demo_cpu_burst" "$dir/out" | head -1 | cut -d' ' -f2)
host=$("$RMON_BIN/rmon" alerts --data "$data" --format json | /usr/bin/python3 -c '
import json, sys
print([a for a in json.load(sys.stdin) if a["id"] == int(sys.argv[1])][0]["host"])' "$id")
www=$data/www
# rmon-reportgen writes every 10 s: the alert's page with its ack form.
wait_for "the alert's page with its forms" 30 grep -q 'name="do" value="ack"' "$www/alerts/$id.html"
host_page=$(cd "$www" && grep -l 'name="do" value="silence"' hosts/*/index.html | head -1)
[ -n "$host_page" ] || { echo "no host page with a silence form"; ls -R "$www/hosts"; exit 1; }

artefacts=${RMON_BUILD:-$dir}/artefacts/web_demo
/usr/bin/python3 "$lib/web_browser.py" "$url" demo "$password" "alerts/$id.html" "$host_page" "$artefacts"

"$RMON_BIN/rmon" alerts --data "$data" --format json >"$dir/alerts.json"
/usr/bin/python3 - "$dir/alerts.json" "$id" <<'PY'
import json, sys
alerts = json.load(open(sys.argv[1]))
a = [a for a in alerts if a["id"] == int(sys.argv[2])][0]
print(a)
assert a["acked_by"] == "demo" and a["acked_at"] > 0, f"alert {a['id']} is not acked by demo"
PY
"$RMON_BIN/rmon" alerts --data "$data" | tee "$dir/alerts" | grep -q 'acked by demo' || { echo "the ack is not in rmon alerts"; exit 1; }
"$RMON_BIN/rmon" silence list --data "$data" | tee "$dir/silences"
grep -q "$host/\*" "$dir/silences" || { echo "the silence of $host is not in rmon silence list"; exit 1; }
grep -q 'maintenance' "$dir/silences"
# The pages the demo regenerates show both: the ack on the alert's page,
# the silence on the alerts page.
shows_both() {
	grep -q 'swapping the disk tonight &lt;b&gt;bold&lt;/b&gt;' "$www/alerts/$id.html" &&
		grep -q 'name="do" value="unack"' "$www/alerts/$id.html" &&
		grep -q "<code>$host/\*</code>" "$www/alerts.html" &&
		grep -q 'name="do" value="unsilence"' "$www/alerts.html"
}
wait_for "the regenerated pages to show the ack and the silence" 30 shows_both

# Ctrl-C: the demo stops what it started, nginx and fcgiwrap too.
kill -INT $demo
wait $demo
demo=
grep -q "stopped nginx and fcgiwrap" "$dir/out"
if pgrep -f "$data/web-server" >/dev/null; then
	echo "left running:"; pgrep -af "$data/web-server"; exit 1
fi
! pgrep -f "rmon-[a-z]+ --data $data" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/" || true)
[ "$code" = 000 ] || { echo "something still answers on $port: $code"; exit 1; }

# Killed outright, the demo cannot stop them in order: they stop by
# themselves (their parent-death signal), nginx and fcgiwrap included.
"$RMON_BIN/rmon" demo --web "$port" --data "$dir/killed" >"$dir/out2" 2>&1 &
demo=$!
wait_for "the second demo's site" 30 grep -q "^  open http://127.0.0.1:$port/" "$dir/out2"
kill -9 $demo
wait $demo 2>/dev/null || true
demo=
for _ in $(seq 50); do pgrep -f "$dir/killed" >/dev/null || break; sleep 0.1; done
if pgrep -f "$dir/killed" >/dev/null; then
	echo "left running after kill -9:"; pgrep -af "$dir/killed"; exit 1
fi
echo "web_demo: acknowledged alert $id and silenced $host from the demo's pages; screenshots in $artefacts"
