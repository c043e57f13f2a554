#!/usr/bin/env bash
# The report served by Debian's nginx with the server block of
# docs/reports.md: every page and every graph they show comes back with
# its type, the generator's state does not; a second pass while nginx
# serves leaves no temporary file behind.
set -eu
. tests/integration/lib/site.sh
need /usr/sbin/nginx "Debian package nginx"
need gnuplot "Debian package gnuplot-nox"
make_site 5
/usr/bin/python3 tests/integration/lib/check_site.py "$dir/www"
start_nginx
base=http://127.0.0.1:$port
fetch() { # fetch PATH: prints the status and the content type
	curl -s -o "$dir/body" -w '%{http_code} %{content_type}\n' "$base/$1"
}
[ "$(fetch index.html)" = "200 text/html; charset=utf-8" ] || { fetch index.html; exit 1; }
[ "$(fetch "")" = "200 text/html; charset=utf-8" ]
host=$(grep -o 'hosts/[^/"]*/index.html' "$dir/www/index.html" | head -1)
[ -n "$host" ] || { echo "no host on the index"; exit 1; }
# Every page and image the pages link to, through nginx.
n=0
for page in index.html "$host" "${host%index.html}1y.html" alerts.html config.html; do
	[ "$(fetch "$page" | cut -d' ' -f1)" = 200 ] || { echo "$page: $(fetch "$page")"; exit 1; }
	cp "$dir/body" "$dir/page.html"
	for src in $(grep -o '<img src="[^"]*"' "$dir/page.html" | cut -d'"' -f2); do
		got=$(fetch "$(dirname "$page")/$src")
		case $got in
		"200 image/svg+xml") n=$((n + 1)) ;;
		*) echo "$page: $src: $got"; exit 1 ;;
		esac
		[ -s "$dir/body" ]
	done
done
[ "$n" -gt 10 ] || { echo "only $n graphs served"; exit 1; }
echo "$n graphs served"
# Hidden state and temporary files are refused.
[ "$(fetch .reportgen-state | cut -d' ' -f1)" = 403 ]
# A pass while nginx serves: renamed into place, nothing half written left.
"$RMON_BIN/rmon-reportgen" --data "$dir/data" --out "$dir/www" --once 2>>"$dir/reportgen.log"
[ -z "$(find "$dir/www" -name '*.tmp')" ]
[ "$(fetch index.html | cut -d' ' -f1)" = 200 ]
grep -q '"GET /index.html HTTP/1.1" 200' "$dir/nginx/access.log"
echo ok
