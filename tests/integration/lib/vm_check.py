"""Checks that a receiver holds, sample for sample, what rmon-loadgen
shipped as HOST: SERIES series rmon_loadgen_value{s="0".."N-1"}, each with
values 0..SAMPLES-1 at START_MS + K ms exactly, nothing missing, nothing
twice.  Reads VictoriaMetrics' /api/v1/export (KIND vm) or Prometheus'
/api/v1/query_range-free /api/v1/query of a range vector (KIND prom).
Usage: vm_check.py vm|prom URL HOST SERIES SAMPLES START_MS"""
import json
import sys
import urllib.parse
import urllib.request

kind, url, host, series, samples, start = sys.argv[1:7]
series, samples, start = int(series), int(samples), int(start)
selector = '{__name__="rmon_loadgen_value",host="%s"}' % host
got = {}
if kind == "vm":
    urllib.request.urlopen(url + "/internal/force_flush").read()
    body = urllib.request.urlopen(url + "/api/v1/export?" + urllib.parse.urlencode({"match[]": selector})).read()
    for line in body.decode().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        s = r["metric"]["s"]
        got.setdefault(s, []).extend(zip(r["timestamps"], r["values"]))
else:
    q = "%s[1d]" % selector
    body = urllib.request.urlopen(url + "/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": (start + samples) / 1000 + 60})).read()
    for r in json.loads(body)["data"]["result"]:
        got.setdefault(r["metric"]["s"], []).extend((round(float(t) * 1000), float(v)) for t, v in r["values"])
bad = []
if len(got) != series:
    bad.append("%d series instead of %d" % (len(got), series))
for s, points in sorted(got.items()):
    points.sort()
    want = [(start + k, float(k)) for k in range(samples)]
    if [(int(t), float(v)) for t, v in points] != want:
        have = len(points)
        bad.append("series s=%s: %d samples, first %s last %s" % (s, have, points[:1], points[-1:]))
if bad:
    print(host + ": " + "; ".join(bad[:5]))
    sys.exit(1)
print("%s: %d series, %d samples each, exact values and timestamps" % (host, series, samples))
