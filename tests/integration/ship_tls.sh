#!/usr/bin/env bash
# TLS: with a self-signed certificate made here, an agent that trusts it
# ships; one that trusts another certificate, or speaks plain TCP, does not.
set -eu
. "$(dirname "$0")/lib/ship.sh"
make_cert() { # NAME: a self-signed certificate for 127.0.0.1 and localhost
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rmon test $1" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$dir/$1.key" -out "$dir/$1.crt" 2>/dev/null
}
make_cert server
make_cert stranger
port=$(free_port)
cat >"$dir/stored.conf" <<CONF
[ingest]
listen = 127.0.0.1:$port
secret = tls-and-a-long-secret
tls_cert = $dir/server.crt
tls_key = $dir/server.key
CONF
start_store "$dir/central" --config "$dir/stored.conf"
grep -q "(TLS) with credentials" "$stored_log"
"$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool-ok" --host secure \
	--secret tls-and-a-long-secret --tls-ca "$dir/server.crt" --series 20 --samples 200 \
	--rounds-per-batch 4 --timeout 10 | tee "$dir/ok.out"
grep -q "acked 50 dropped 0" "$dir/ok.out"
grep -q "host secure connected from 127.0.0.1:[0-9]* (TLS)" "$stored_log"

! "$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool-stranger" --host other \
	--secret tls-and-a-long-secret --tls-ca "$dir/stranger.crt" --series 2 --samples 2 --timeout 3 \
	>/dev/null 2>"$dir/stranger.log"
grep -q "certificate refused" "$dir/stranger.log"
! "$RMON_BIN/rmon-loadgen" --server 127.0.0.1:$port --spool "$dir/spool-plain" --host plain \
	--secret tls-and-a-long-secret --series 2 --samples 2 --timeout 3 >/dev/null 2>"$dir/plain.log"
echo "an untrusted certificate and plain TCP are refused"
stop_store
check_host "$dir/central" secure 20 200
