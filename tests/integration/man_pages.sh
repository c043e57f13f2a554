#!/usr/bin/env bash
# The man pages are built from docs/man/*.scd by scdoc and cannot drift:
# every installed program has one, every option of every --help (and of
# every rmon command) is in it, every setting docs/ lists is in the
# configuration page, and each page renders without a groff warning.
set -eu
command -v scdoc >/dev/null || { echo "scdoc is not installed (apt-get install scdoc)"; exit 77; }
/usr/bin/python3 tests/integration/lib/man_drift.py "$RMON_BIN"
man=$RMON_BUILD/man
n=0
for src in docs/man/*.scd; do
	page=$man/$(basename "$src" .scd)
	[ -s "$page" ] || { echo "$page was not built from $src (ninja man)"; exit 1; }
	[ ! "$src" -nt "$page" ] || { echo "$page is older than $src: run ninja"; exit 1; }
	warnings=$(groff -man -ww -z "$page" 2>&1 || true)
	[ -z "$warnings" ] || { echo "$page: $warnings"; exit 1; }
	MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q '^NAME' || { echo "$page does not render"; exit 1; }
	n=$((n + 1))
done
echo "$n man pages render"
