# Sourced by tests that serve the report and rmon-web through Debian's
# nginx and fcgiwrap on 127.0.0.1, as docs/web.md sets them up: the site as
# static files, /rmon/action through fcgiwrap behind basic auth.
#
#   start_web DIR SITE DATA [PORT [CONFIG]]  -> $web_port, $web_url; users in
#       DIR/htpasswd, roles in DIR/web-users.conf; CONFIG: alertd's, for rule edits
#   add_web_user DIR USER PASSWORD
#   stop_web DIR

add_web_user() {
	local dir=$1 user=$2 password=$3
	printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$password")" >>"$dir/htpasswd"
}

start_web() {
	local dir=$1 site=$2 data=$3 user_line=""
	web_port=${4:-$(free_port)}
	local config=${5:-}
	[ "$(id -u)" -eq 0 ] && user_line="user root;"
	mkdir -p "$dir/nginx-tmp" "$site"
	touch "$dir/htpasswd"
	# A process group of its own: its preforked workers outlive their parent
	# when it is killed, and are ended with the group.
	setsid /usr/sbin/fcgiwrap -c 4 -s "unix:$dir/fcgi.sock" </dev/null >/dev/null 2>>"$dir/fcgiwrap.log" &
	echo $! >"$dir/fcgiwrap.pid"
	cat >"$dir/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	access_log $dir/nginx-access.log;
	client_body_temp_path $dir/nginx-tmp/body;
	fastcgi_temp_path $dir/nginx-tmp/fastcgi;
	proxy_temp_path $dir/nginx-tmp/proxy;
	uwsgi_temp_path $dir/nginx-tmp/uwsgi;
	scgi_temp_path $dir/nginx-tmp/scgi;
	server {
		listen 127.0.0.1:$web_port;
		root $site;
		location /rmon/action {
			auth_basic "Rusty Monitor";
			auth_basic_user_file $dir/htpasswd;
			client_max_body_size 64k;
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME $RMON_BIN/rmon-web;
			fastcgi_param SCRIPT_NAME /rmon/action;
			fastcgi_param REMOTE_USER \$remote_user;
			fastcgi_param RMON_DATA $data;
			fastcgi_param RMON_WEB_USERS $dir/web-users.conf;
			fastcgi_param RMON_CONFIG "$config";
			fastcgi_pass unix:$dir/fcgi.sock;
		}
	}
}
CONF
	/usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/nginx-error.log" </dev/null >/dev/null 2>&1 &
	echo $! >"$dir/nginx.pid.shell"
	web_url=http://127.0.0.1:$web_port
	for _ in $(seq 100); do
		curl -s -o /dev/null "$web_url/" && [ -S "$dir/fcgi.sock" ] && return 0
		sleep 0.1
	done
	echo "nginx did not start:"; cat "$dir/nginx-error.log"
	return 1
}

stop_web() {
	local dir=$1 f
	if [ -e "$dir/fcgiwrap.pid" ]; then # the group: fcgiwrap and its workers
		kill -KILL -- "-$(cat "$dir/fcgiwrap.pid")" 2>/dev/null || true
	fi
	for f in "$dir/nginx.pid.shell" "$dir/fcgiwrap.pid"; do
		[ -e "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null || true
		wait "$(cat "$f")" 2>/dev/null || true
		rm -f "$f"
	done
	return 0
}
