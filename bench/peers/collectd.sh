#!/bin/sh
# collectd.sh - Debian's collectd as the agent peer of `rmon-bench agent`:
# the read plugins of the same families as rmon-collectd's (cpu, load,
# memory, disks, filesystems, network, tcp, misc, processes, cgroups,
# thermal), at the same interval, with no write plugin (csv and network
# off, values stopped after the cache): it pays for reading only, as rmon-collectd pushing into a ring
# nearly does.  The unixsock plugin lets `values` count what it collects.
#
# usage: collectd.sh install            apt-get install collectd-core if missing
#        collectd.sh run DIR INTERVAL_S  write DIR/collectd.conf, exec collectd -f
#        collectd.sh start DIR INTERVAL_S  the same in the background (DIR/collectd.pid)
#        collectd.sh stop DIR            stop what start started
#        collectd.sh values DIR          the values collectd holds now (a count)
set -eu
here=$(dirname "$0")
# shellcheck source=bench/peers/common.sh
. "$here/common.sh"
exe=/usr/sbin/collectd

config() {
	mkdir -p "$1"
	cat >"$1/collectd.conf" <<CONF
Interval $2
FQDNLookup false
Hostname "rmon-bench"
BaseDir "$1"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin swap
LoadPlugin vmem
LoadPlugin disk
LoadPlugin df
LoadPlugin interface
LoadPlugin protocols
LoadPlugin tcpconns
LoadPlugin contextswitch
LoadPlugin entropy
LoadPlugin fhcount
LoadPlugin processes
LoadPlugin cgroups
LoadPlugin thermal
LoadPlugin unixsock
<Plugin tcpconns>
  ListeningPorts false
  AllPortsSummary true
</Plugin>
<Plugin unixsock>
  SocketFile "$1/collectd.sock"
</Plugin>
# Values stop after the cache (which unixsock reads): with no write plugin
# the default chain would log an error for every value.
PostCacheChain "read-only"
<Chain "read-only">
  Target "stop"
</Chain>
CONF
}

# LISTVAL names every value list; GETVAL of each says how many values it
# holds (a disk's octets are two: read and write).
values() {
	/usr/bin/python3 - "$1/collectd.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
def ask(line):
    f.write(line + "\n"); f.flush()
    head = f.readline()
    n = int(head.split(" ", 1)[0])
    if n < 0:
        raise SystemExit("collectd: " + head.strip())
    return [f.readline() for _ in range(n)]
total = 0
for entry in ask("LISTVAL"):
    ident = entry.split(" ", 1)[1].strip()
    total += len(ask('GETVAL "%s"' % ident))
print(total)
PY
}

case "${1:-}" in
install) peer_install "$exe" collectd-core ;;
run)
	peer_install "$exe" collectd-core
	config "${2:?collectd.sh run DIR INTERVAL_S}" "${3:?collectd.sh run DIR INTERVAL_S}"
	echo $$ >"$2/collectd.pid"
	exec "$exe" -f -C "$2/collectd.conf"
	;;
start)
	"$0" run "${2:?collectd.sh start DIR INTERVAL_S}" "${3:?collectd.sh start DIR INTERVAL_S}" \
		>"$2.log" 2>&1 &
	;;
stop) peer_stop "${2:?collectd.sh stop DIR}/collectd.pid" ;;
values) values "${2:?collectd.sh values DIR}" ;;
*)
	echo "usage: collectd.sh install | run DIR INTERVAL_S | start DIR INTERVAL_S | stop DIR | values DIR" >&2
	exit 2
	;;
esac
