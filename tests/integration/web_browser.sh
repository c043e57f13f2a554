#!/usr/bin/env bash
# From a browser, through nginx, fcgiwrap and rmon-web: a person signs in,
# acknowledges a firing alert on its report page and silences its host
# from the host page; `rmon alerts` and `rmon silence list` see both, the
# regenerated pages show them, and alertd sends no repeat for the acked
# alert.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/notify.sh"
. "$here/lib/alertd.sh"
. "$here/lib/web.sh"
needs_python_module selenium
[ -x /usr/bin/chromedriver ] || { echo "needs Debian's chromium-driver"; exit 77; }
trap 'rc=$?; stop_web "$dir"; cleanup_alertd; exit $rc' EXIT
site=$dir/site
web_port=$(free_port)
cat >"$dir/alertd.conf" <<CONF
[alertd]
flap_window = 1s
[report]
url = http://127.0.0.1:$web_port/
[web]
action_url = /rmon/action
[receiver local]
type = maildir
path = maildir
[route everything]
receivers = local
[rule hot]
expr = test_value
above = 10
clear = 5
repeat = 1m
severity = critical
summary = {host} is hot: {value}
include = rules.d/*.conf
CONF
start_stored
start_alertd --config "$dir/alertd.conf"
put 'web1/test_value 1'
wait_log 'pass over commit'
put 'web1/test_value 20'
wait_log 'firing'
"$RMON_BIN/rmon-reportgen" --data "$data" --out "$site" --config "$dir/alertd.conf" --once
id=$("$RMON_BIN/rmon" alerts --data "$data" --format json | /usr/bin/python3 -c '
import json, sys
print([a for a in json.load(sys.stdin) if a["state"] == "firing"][0]["id"])')
grep -q 'name="do" value="ack"' "$site/alerts/$id.html" || { echo "no ack form on the alert page"; exit 1; }

printf '[roles]\nbob = operator\nalice = admin\n' >"$dir/web-users.conf"
add_web_user "$dir" bob 'b0b-secret'
add_web_user "$dir" alice 'al1ce-secret'
start_web "$dir" "$site" "$data" "$web_port" "$dir/alertd.conf"
artefacts=${RMON_BUILD:-$dir}/artefacts/web_browser
host_page=$(cd "$site" && ls hosts/web1*/index.html 2>/dev/null | head -1)
[ -n "$host_page" ] || host_page=$(cd "$site" && grep -l 'name="do" value="silence"' -r . | head -1 | sed 's|^\./||')
/usr/bin/python3 "$lib/web_browser.py" "$web_url" bob 'b0b-secret' "alerts/$id.html" "$host_page" "$artefacts"

"$RMON_BIN/rmon" alerts --data "$data" >"$dir/alerts"
cat "$dir/alerts"
grep -q 'bob' "$dir/alerts" || { echo "the ack is not in rmon alerts"; exit 1; }
"$RMON_BIN/rmon" silence list --data "$data" >"$dir/silences"
cat "$dir/silences"
grep -q 'web1/\*' "$dir/silences"
"$RMON_BIN/rmon-reportgen" --data "$data" --out "$site" --config "$dir/alertd.conf" --once
grep -q 'bob' "$site/alerts/$id.html" || { echo "the regenerated page does not show the ack"; exit 1; }
grep -q 'swapping the disk tonight &lt;b&gt;bold&lt;/b&gt;' "$site/alerts/$id.html" || { echo "the comment is not shown as text"; exit 1; }

# An admin raises the rule's threshold: the drop-in is written, rmon-alertd
# reloads it by itself, and a threshold that breaks the rule is refused.
curl -s -u alice:al1ce-secret "$web_url/rmon/action?do=rule&rule=hot" >"$dir/form"
token=$(sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$dir/form")
code=$(curl -s -o "$dir/body" -w '%{http_code}' -u alice:al1ce-secret \
	--data "do=rule&rule=hot&token=$token&threshold=50" "$web_url/rmon/action")
[ "$code" = 200 ] || { echo "rule edit: $code"; cat "$dir/body"; exit 1; }
grep -q 'threshold = 50' "$dir/rules.d/50-web.conf"
wait_log "the web's rule edits changed"
curl -s -u alice:al1ce-secret "$web_url/rmon/action?do=rule&rule=hot" >"$dir/form"
token=$(sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$dir/form")
cp "$dir/rules.d/50-web.conf" "$dir/before"
code=$(curl -s -o "$dir/body" -w '%{http_code}' -u alice:al1ce-secret \
	--data "do=rule&rule=hot&token=$token&clear=80" "$web_url/rmon/action")
[ "$code" = 400 ] || { echo "a breaking edit was taken: $code"; exit 1; }
grep -q 'clear 80 is above the threshold 50' "$dir/body"
cmp "$dir/before" "$dir/rules.d/50-web.conf"
echo "web_browser: acknowledged alert $id and silenced web1 from the pages; screenshots in $artefacts"
