#!/usr/bin/env bash
# The report as a person sees it: headless Chromium loads the index, a
# host page and the alerts page through nginx, in light and dark and on a
# phone-sized screen, with no console error and every image loaded;
# the screenshots are kept in BUILD/artefacts/report/.
set -eu
. tests/integration/lib/site.sh
need /usr/sbin/nginx "Debian package nginx"
need /usr/bin/chromium "Debian package chromium"
need /usr/bin/chromedriver "Debian package chromium-driver"
need gnuplot "Debian package gnuplot-nox"
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "python3-selenium is not installed"; exit 77; }
make_site 8
start_nginx
host=$(grep -o 'hosts/[^/"]*/index.html' "$dir/www/index.html" | head -1)
artefacts=$RMON_BUILD/artefacts/report
rm -rf "$artefacts"
timeout 600 /usr/bin/python3 tests/integration/lib/browse.py "http://127.0.0.1:$port" "$artefacts" \
	index.html "$host" alerts.html config.html
ls "$artefacts" | grep -c png
echo ok
