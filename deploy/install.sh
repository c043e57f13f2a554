#!/bin/sh
# deploy/install.sh - what `ninja install` runs for an installed build:
# the programs, their man pages, the default configuration files and the
# systemd units, under $DESTDIR (empty: this machine).
# Usage: deploy/install.sh BUILD_DIR PREFIX CONFIG_DIR DATA_DIR PROGRAM...
# An existing configuration file is never replaced; the units' paths are
# rewritten for PREFIX, CONFIG_DIR and DATA_DIR.  A man page or unit goes
# with its program: none for a program that is not built.  SYSTEMD_UNIT_DIR
# (default PREFIX/lib/systemd/system) says where the units go.
set -eu
build=$1 prefix=$2 config_dir=$3 data_dir=$4
shift 4
root=${DESTDIR:-}
here=$(dirname "$0")
units=${SYSTEMD_UNIT_DIR:-$prefix/lib/systemd/system}

install -d "$root$prefix/bin"
install -m 755 "$@" "$root$prefix/bin/"
programs=" "
for p in "$@"; do programs="$programs$(basename "$p") "; done
built() { case $programs in *" $1 "*) return 0 ;; esac; return 1; }

for page in "$build"/man/*.[1-8]; do
	[ -e "$page" ] || continue # no scdoc: no pages (configure.py says so)
	name=$(basename "$page")
	built "${name%%.*}" || continue
	section=${page##*.}
	install -d "$root$prefix/share/man/man$section"
	install -m 644 "$page" "$root$prefix/share/man/man$section/"
done

install -d "$root$config_dir"
for conf in "$here"/etc/*.conf; do
	target=$root$config_dir/$(basename "$conf")
	if [ -e "$target" ]; then
		echo "install.sh: keeping $target (the new default is $conf)" >&2
	else
		install -m 644 "$conf" "$target"
	fi
done

install -d "$root$units"
for unit in "$here"/systemd/*.service "$here"/systemd/*.timer; do
	[ -e "$unit" ] || continue
	name=$(basename "$unit")
	built "${name%.*}" || continue
	sed -e "s|/usr/bin/|$prefix/bin/|g" -e "s|/etc/rmon|$config_dir|g" \
		-e "s|/var/lib/rmon|$data_dir|g" "$unit" >"$root$units/$(basename "$unit").tmp"
	chmod 644 "$root$units/$(basename "$unit").tmp"
	mv "$root$units/$(basename "$unit").tmp" "$root$units/$(basename "$unit")"
done
echo "install.sh: installed $# programs into $root$prefix/bin, configuration in $root$config_dir"
