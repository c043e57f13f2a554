#!/usr/bin/env bash
# lib/plot's graphs as a reader sees them: test_plot draws a gallery (1 hour
# to 1 year, a hostile title, a threshold, an alert span); Python's XML
# parser reads every SVG and headless Chromium shows them in light and dark
# scheme and on a phone (tests/integration/lib/plot_look.py).  Screenshots
# are kept in $RMON_BUILD/artefacts/plot_svg.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for need in gnuplot chromium /usr/bin/chromedriver; do
	command -v "$need" >/dev/null || { echo "$need is not installed"; exit 77; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "python3-selenium is not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
RMON_PLOT_GALLERY=$dir "$RMON_BUILD/tests/test_plot" >"$dir/test.out" 2>&1 || { cat "$dir/test.out"; exit 1; }
ls -la "$dir"
timeout 300 /usr/bin/python3 "$here/lib/plot_look.py" "$dir" "$RMON_BUILD/artefacts/plot_svg"
