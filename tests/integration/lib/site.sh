# Shared by the report tests (sourced): a scratch folder, a store with a
# few seconds of this machine's data, the site rmon-reportgen writes from
# it, and Debian's nginx serving that site on 127.0.0.1 with a prefix,
# configuration and pid of its own (never the system's service).
dir=$(mktemp -d)
chmod 755 "$dir" # nginx's workers run as another user when the test runs as root
pids=()
nginx_pid=
cleanup() {
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

need() {
	command -v "$1" >/dev/null || [ -x "$1" ] || { echo "$1 is not installed (${2:-})"; exit 77; }
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_site: stores about SECONDS (default 6) of this machine's metrics in
# $dir/data and writes the site into $dir/www.
make_site() {
	local seconds=${1:-6} i
	"$RMON_BIN/rmon-stored" --data "$dir/data" 2>>"$dir/stored.log" &
	pids+=($!)
	for i in $(seq 200); do [ -d "$dir/data/db" ] && break; sleep 0.05; done
	"$RMON_BIN/rmon-collectd" --data "$dir/data" --interval 1s 2>>"$dir/collectd.log" &
	pids+=($!)
	# Wait on the data, not the clock: enough samples for every graph.
	for i in $(seq 300); do
		n=$("$RMON_BIN/rmon" query 'node_load1' --data "$dir/data" --from -1h 2>/dev/null | wc -l)
		[ "$n" -ge "$seconds" ] && break
		sleep 0.2
	done
	"$RMON_BIN/rmon-reportgen" --data "$dir/data" --out "$dir/www" --once 2>>"$dir/reportgen.log" ||
		{ cat "$dir/reportgen.log"; return 1; }
}

# start_nginx: serves $dir/www on 127.0.0.1:$port (set here).
start_nginx() {
	port=$(free_port)
	server_block || return 1
	mkdir -p "$dir/nginx/tmp"
	cat >"$dir/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	access_log $dir/nginx/access.log;
	client_body_temp_path $dir/nginx/tmp/body;
	proxy_temp_path $dir/nginx/tmp/proxy;
	fastcgi_temp_path $dir/nginx/tmp/fastcgi;
	uwsgi_temp_path $dir/nginx/tmp/uwsgi;
	scgi_temp_path $dir/nginx/tmp/scgi;
$(sed 's/^/\t/' "$dir/server.conf")
}
CONF
	/usr/sbin/nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" &
	nginx_pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		kill -0 "$nginx_pid" 2>/dev/null || { cat "$dir/nginx/error.log"; return 1; }
		sleep 0.05
	done
	return 1
}

# server_block: the server block of docs/reports.md, for $dir/www on $port.
server_block() {
	# The block the documentation shows, with this test's address and folder.
	awk '/^```nginx/ { on = 1; next } /^```/ { on = 0 } on' docs/reports.md |
		sed -e "s|listen 80;|listen 127.0.0.1:$port;|" -e "s|/var/lib/rmon/www|$dir/www|" \
			-e '/server_name/d' >"$dir/server.conf"
	grep -q "listen 127.0.0.1:$port;" "$dir/server.conf" || { echo "docs/reports.md: no nginx block"; return 1; }
}
