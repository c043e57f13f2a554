#!/usr/bin/env bash
# rmon-web behind Debian's nginx and fcgiwrap with basic auth, driven with
# curl as a browser would and as an attacker would: no credentials, a
# wrong password, GET for a change, a forged or replayed token, hostile
# fields: each refused with its status and nothing changed; the form's
# change lands once, in the store that `rmon silence list` reads.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/ship.sh"
. "$here/lib/web.sh"
dir=$(mktemp -d)
data=$dir/data
site=$dir/site
trap 'rc=$?; stop_web "$dir"; rm -rf "$dir"; exit $rc' EXIT
mkdir -p "$data"
# rmon-alertd makes its store when it first runs; the endpoint needs it
"$RMON_BIN/rmon-alertd" --data "$data" 2>"$dir/alertd.log" &
alertd=$!
for _ in $(seq 100); do [ -e "$data/alertd/data.mdb" ] && break; sleep 0.1; done
kill "$alertd"; wait "$alertd" || true
[ -e "$data/alertd/data.mdb" ] || { echo "rmon-alertd made no store"; cat "$dir/alertd.log"; exit 1; }
printf '[roles]\nbob = operator\n* = viewer\n' >"$dir/web-users.conf"
add_web_user "$dir" bob 'b0b-secret'
add_web_user "$dir" carol 'c4rol-secret'
start_web "$dir" "$site" "$data"
action=$web_url/rmon/action
status() { curl -s -o "$dir/body" -w '%{http_code}' "$@"; }

[ "$(status "$action?do=silence")" = 401 ] || { echo "no credentials let in"; exit 1; }
[ "$(status -u bob:wrong "$action?do=silence")" = 401 ] || { echo "wrong password let in"; exit 1; }
[ "$(status -u carol:c4rol-secret "$action?do=silence")" = 403 ] || { echo "a viewer may act"; exit 1; }

[ "$(status -u bob:b0b-secret "$action?do=silence&selector=web1%2F*")" = 200 ] || { echo "no form for bob"; cat "$dir/body"; exit 1; }
token=$(sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$dir/body")
[ -n "$token" ] || { echo "no token in the form"; cat "$dir/body"; exit 1; }
form="do=silence&token=$token&selector=web1%2F*&for=2h&comment=%3Cb%3Ereboot%3C%2Fb%3E"
[ "$(status -u bob:b0b-secret "$action?$form")" = 405 ] || { echo "GET made a change"; exit 1; }
[ "$(status -u bob:b0b-secret -X DELETE "$action")" = 405 ] || { echo "DELETE was not refused"; exit 1; }
# a forged token: its MAC's last digit changed (to a digit it is not)
last=${token: -1}
forged=${token%?}$([ "$last" = 0 ] && echo 1 || echo 0)
[ "$(status -u bob:b0b-secret --data "do=silence&token=$forged&selector=web1%2F*&for=2h" "$action")" = 403 ] || { echo "a forged token was taken"; exit 1; }
[ "$(status -u bob:b0b-secret --data "do=silence&token=$token&selector=web1%2F%7B&for=2h" "$action")" = 400 ]
grep -q "field &#39;selector" "$dir/body"
[ "$(status -u bob:b0b-secret --data "do=silence&token=$token&selector=web1%2F*&for=99y" "$action")" = 400 ]
grep -q "field &#39;for" "$dir/body"
"$RMON_BIN/rmon" silence list --data "$data" >"$dir/list" 2>&1 || true
if grep -q 'web1/\*' "$dir/list"; then echo "a refused form changed the store"; exit 1; fi

[ "$(status -u bob:b0b-secret --data "$form" "$action")" = 200 ] || { cat "$dir/body"; exit 1; }
grep -q 'is in place for 2h' "$dir/body"
[ "$(status -u bob:b0b-secret --data "$form" "$action")" = 403 ] || { echo "a replayed token was taken"; exit 1; }
grep -q 'already used' "$dir/body"
"$RMON_BIN/rmon" silence list --data "$data" >"$dir/list"
cat "$dir/list"
[ "$(grep -c 'web1/\*' "$dir/list")" -eq 1 ]
grep -q 'bob' "$dir/list"
echo "web_nginx: nginx + fcgiwrap + basic auth: refusals refused, one silence made by bob"
