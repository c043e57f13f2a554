#!/usr/bin/env bash
# Per-connection limits: a sender over max_rate is slowed down, not refused
# (everything arrives, later); one defining more than max_series new series
# or sending frames over max_frame is refused with a reason it logs.
set -eu
. "$(dirname "$0")/lib/ship.sh"
port=$(free_port)
cat >"$dir/stored.conf" <<CONF
[store]
self_interval = 1s
[ingest]
listen = 127.0.0.1:$port
max_rate = 20000
max_series = 150
max_frame = 64KiB
CONF
start_store "$dir/central" --config "$dir/stored.conf"
start=$(date +%s%N)
ship_as slow --series 100 --samples 800 --timeout 30 >"$dir/slow.out"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "acked 800 dropped 0" "$dir/slow.out"
echo "80000 samples at max_rate 20000/s took ${elapsed_ms} ms"
[ "$elapsed_ms" -ge 2500 ]

! ship_as many --series 200 --samples 2 --timeout 3 >/dev/null 2>"$dir/many.log"
grep -q "more than 150 series on one connection" "$dir/many.log"
! ship_as big --series 100 --samples 40 --rounds-per-batch 40 --timeout 3 >/dev/null 2>"$dir/big.log"
grep -q "more than the 65536 allowed" "$dir/big.log"
echo "too many series and too large frames refused"
# rmon stats shows them, once the store recorded its figures again (every
# second here; give a loaded machine 20).
for _ in $(seq 40); do
	"$RMON_BIN/rmon" stats --data "$dir/central" >"$dir/stats"
	grep -Eq '^  over limit      [1-9]' "$dir/stats" &&
		grep -q '^network agents    0 connected' "$dir/stats" && break
	sleep 0.5
done
cat "$dir/stats"
grep -Eq '^network agents    0 connected, 80[0-9]{3} samples received$' "$dir/stats"
grep -Eq '^  over limit      [1-9][0-9]* frames over max_frame, series over max_series$' "$dir/stats"
grep -q '^  not own series  0 ' "$dir/stats"
grep -q '^  future          0 samples dropped' "$dir/stats"
grep -Eq '^  throttled       [1-9][0-9]* times paused by max_rate$' "$dir/stats"
grep -Eq '^  closed          [1-9][0-9]* connections' "$dir/stats"
! grep -q "DISK FULL" "$dir/stats"
stop_store
check_host "$dir/central" slow 100 800
