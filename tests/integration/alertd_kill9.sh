#!/usr/bin/env bash
# kill -9 of rmon-alertd at random moments of a storm of firing and
# resolving alerts, restarted each time: in the end every episode's firing
# and resolved message reached the SMTP server (nothing owed is lost), and
# a message arrives twice only under the same Message-ID (the server took
# it just before the kill).
set -eu
. "$(dirname "$0")/lib/notify.sh"
. "$(dirname "$0")/lib/alertd.sh"
needs_python_module aiosmtpd

port=$(free_port)
start_sink smtp smtp_sink.py --port "$port" --dir "$dir/mail"
cat >"$dir/alertd.conf" <<CONF
[alertd]
flap_window = 1s
group_window = 200ms
[receiver ops]
type = email
server = 127.0.0.1
port = $port
tls = none
from = rmon@example.com
to = ops@example.com
[route everything]
receivers = ops
[rule storm]
expr = storm_value
above = 10
clear = 5
group_by = s
CONF
start_stored
start_alertd --config "$dir/alertd.conf"
series=12
rounds=${ROUNDS:-6}
set_all() {
	for s in $(seq 0 $((series - 1))); do put "web1/storm_value{s=\"$s\"} $1"; done
}
kills=0
for round in $(seq "$rounds"); do
	# half the series fire, then all resolve; a kill somewhere in each half
	set_all 20
	sleep "0.$((RANDOM % 9 + 1))"
	kill9_alertd; kills=$((kills + 1))
	start_alertd --config "$dir/alertd.conf"
	sleep 1
	set_all 1
	sleep "1.$((RANDOM % 9))"
	kill9_alertd; kills=$((kills + 1))
	start_alertd --config "$dir/alertd.conf"
	sleep 0.5
done
# Quiet: everything resolved and nothing owed.
for _ in $(seq 300); do
	set_all 1
	"$RMON_BIN/rmon" alerts --data "$data" --format json >"$dir/active.json"
	"$RMON_BIN/rmon" alerts log --data "$data" --limit 0 --format json >"$dir/log.json"
	if grep -qx '\[\]' "$dir/active.json" && ! grep -q '"state":"owed"' "$dir/log.json"; then
		break
	fi
	sleep 0.5
done
sleep 1
"$RMON_BIN/rmon" alerts log --data "$data" --limit 0 --format json >"$dir/log.json"
"$RMON_BIN/rmon" alerts history --data "$data" --limit 1000000 --format json >"$dir/history.json"
echo "kills: $kills"
/usr/bin/python3 - "$dir" <<'PY'
import email, email.policy, glob, json, os, sys
d = sys.argv[1]
log = json.load(open(os.path.join(d, "log.json")))
history = json.load(open(os.path.join(d, "history.json")))
seen = {}
for path in sorted(glob.glob(os.path.join(d, "mail", "*.eml"))):
    msg = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    seen[msg["Message-ID"]] = seen.get(msg["Message-ID"], 0) + 1
owed = [m for m in log if m["state"] != "delivered"]
assert not owed, "still owed or given up: %r" % owed
lost = [m["message_id"] for m in log if m["message_id"] not in seen]
assert not lost, "logged but never received: %r" % lost
strangers = [i for i in seen if i not in {m["message_id"] for m in log}]
assert not strangers, "received but never logged: %r" % strangers
told = {}
for m in log:
    for a in m["alerts"]:
        told.setdefault(a, set()).add(m["kind"])
fired = {e["alert"] for e in history if e["to"] == "firing"}
resolved = {e["alert"] for e in history if e["to"] == "resolved"}
missing = [a for a in fired if "firing" not in told.get(a, ())]
assert not missing, "episodes that fired without a firing message: %r" % missing
missing = [a for a in resolved if "resolved" not in told.get(a, ())]
assert not missing, "episodes that resolved without a resolved message: %r" % missing
dups = sum(n - 1 for n in seen.values())
print("episodes fired: %d, messages logged: %d, mails received: %d, lost: 0, "
      "duplicates (same Message-ID): %d" % (len(fired), len(log), sum(seen.values()), dups))
assert len(fired) >= 1
PY
echo "alertd_kill9: ok"
