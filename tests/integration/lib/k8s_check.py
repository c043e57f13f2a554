"""Checks the Kubernetes manifests offline, as far as that goes without an
API server: every document parses as YAML and has its apiVersion, kind,
name and namespace; workloads' selectors match their pods' labels, every
container has resource requests and limits, runs as non-root with no
privilege escalation and every capability dropped, and mounts only
volumes the pod has; every ConfigMap, Secret and key a pod uses exists;
each Service selects a workload and targets a named port it has; the
agent runs in the host's PID namespace with /proc and /sys mounted
read-only; the store keeps its data on a persistent volume claim; and
every file a configuration includes is mounted.  With BIN_DIR, the
options passed to our programs are ones their --help lists.
Usage: k8s_check.py MANIFEST_DIR [BIN_DIR]"""
import glob
import os
import re
import subprocess
import sys

import yaml

folder = sys.argv[1]
bindir = sys.argv[2] if len(sys.argv) > 2 else None
problems = []
docs = []
for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
    if os.path.basename(path) == "kustomization.yaml":
        continue
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if doc is not None:
                docs.append((path, doc))


def need(cond, where, what):
    if not cond:
        problems.append("%s: %s" % (where, what))


by_kind = {}
for path, d in docs:
    where = "%s: %s/%s" % (os.path.basename(path), d.get("kind"), d.get("metadata", {}).get("name"))
    for field in ("apiVersion", "kind", "metadata"):
        need(field in d, where, "no " + field)
    need(d.get("metadata", {}).get("name"), where, "no metadata.name")
    if d.get("kind") != "Namespace":
        need(d.get("metadata", {}).get("namespace") == "rmon", where, "not in namespace rmon")
    by_kind.setdefault(d.get("kind"), {})[d["metadata"]["name"]] = (where, d)

configmaps = {n: d.get("data", {}) for n, (_, d) in by_kind.get("ConfigMap", {}).items()}
secrets = {n: dict(d.get("stringData", {}), **d.get("data", {}))
           for n, (_, d) in by_kind.get("Secret", {}).items()}
workloads = dict(by_kind.get("DaemonSet", {}), **by_kind.get("StatefulSet", {}))
need(workloads, folder, "no DaemonSet nor StatefulSet")


def help_of(program):
    path = os.path.join(bindir, os.path.basename(program))
    if not bindir or not os.path.exists(path):
        return None
    return subprocess.run([path, "--help"], capture_output=True, text=True).stdout


for name, (where, w) in workloads.items():
    spec = w["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    for k, v in spec["selector"]["matchLabels"].items():
        need(labels.get(k) == v, where, "selector %s=%s does not match the pod's labels" % (k, v))
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    pod_sc = pod.get("securityContext", {})
    for v in volumes.values():
        if "configMap" in v:
            need(v["configMap"]["name"] in configmaps, where, "no ConfigMap " + v["configMap"]["name"])
        if "secret" in v:
            s = v["secret"]["secretName"]
            need(s in secrets, where, "no Secret " + s)
            for item in v["secret"].get("items", []):
                need(item["key"] in secrets.get(s, {}), where, "Secret %s has no key %s" % (s, item["key"]))
    mounted = {}  # path in the container -> (volume, subPath)
    for c in pod["containers"]:
        cw = "%s container %s" % (where, c["name"])
        res = c.get("resources", {})
        need(res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory"),
             cw, "no memory request and limit")
        need(res.get("limits", {}).get("cpu"), cw, "no cpu limit")
        sc = c.get("securityContext", {})
        need(sc.get("allowPrivilegeEscalation") is False, cw, "allowPrivilegeEscalation is not false")
        need(sc.get("capabilities", {}).get("drop") == ["ALL"], cw, "capabilities are not all dropped")
        need(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, cw, "may run as root")
        for m in c.get("volumeMounts", []):
            need(m["name"] in volumes or m["name"] in claims, cw, "mounts unknown volume " + m["name"])
            v = volumes.get(m["name"], {})
            if "subPath" in m and "configMap" in v:
                need(m["subPath"] in configmaps.get(v["configMap"]["name"], {}), cw,
                     "ConfigMap %s has no key %s" % (v["configMap"]["name"], m["subPath"]))
            mounted[m["mountPath"]] = (m["name"], m.get("subPath"), m.get("readOnly", False))
        argv = c.get("command", [])[:1] + c.get("args", [])
        program = c.get("command", ["/usr/bin/rmon-collectd"])[0] if "rmon" in c.get("image", "") else None
        text = help_of(program) if program else None
        if text is not None:
            for opt in [a for a in argv if a.startswith("--")]:
                need(re.search(r"\s%s\b" % re.escape(opt), text), cw,
                     "%s has no option %s" % (os.path.basename(program), opt))
        elif program:
            print("note: %s is not built here; its options are not checked" % program)
        # Every file a mounted configuration includes is mounted too.
        for path, (vol, sub, _) in list(mounted.items()):
            v = volumes.get(vol, {})
            if sub and "configMap" in v:
                text_conf = configmaps.get(v["configMap"]["name"], {}).get(sub, "")
                for inc in re.findall(r"^\s*include\s*=\s*(\S+)", text_conf, re.M):
                    base = os.path.dirname(inc)
                    need(base in mounted or inc in mounted, cw, "%s includes %s, which is not mounted" % (sub, inc))
                    secret_vol = volumes.get(mounted.get(base, ("",))[0], {}).get("secret")
                    if secret_vol:
                        keys = [i["path"] for i in secret_vol.get("items", [])] or \
                            list(secrets.get(secret_vol["secretName"], {}))
                        need(os.path.basename(inc) in keys, cw,
                             "%s includes %s, not in Secret %s" % (sub, inc, secret_vol["secretName"]))
        mounted.clear()
    if w["kind"] == "DaemonSet":
        need(pod.get("hostPID") is True, where, "the agent is not in the host's PID namespace")
        host_paths = {v["hostPath"]["path"]: n for n, v in volumes.items() if "hostPath" in v}
        for p in ("/proc", "/sys"):
            need(p in host_paths, where, "no hostPath volume for " + p)
            for c in pod["containers"]:
                for m in c.get("volumeMounts", []):
                    if m["name"] == host_paths.get(p):
                        need(m.get("readOnly") is True, where, p + " is not mounted read-only")
    if w["kind"] == "StatefulSet":
        need(claims, where, "no persistent volume claim")
        need(any(m["mountPath"] == "/var/lib/rmon" and m["name"] in claims
                 for c in pod["containers"] for m in c.get("volumeMounts", [])),
             where, "/var/lib/rmon is not on the persistent volume")

for name, (where, s) in by_kind.get("Service", {}).items():
    sel = s["spec"]["selector"]
    targets = [w for _, w in workloads.values()
               if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
    need(targets, where, "selects no workload")
    ports = {p["name"] for w in targets for c in w["spec"]["template"]["spec"]["containers"]
             for p in c.get("ports", [])}
    for p in s["spec"]["ports"]:
        need(p["targetPort"] in ports, where, "target port %s is no container's" % p["targetPort"])

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print("kubernetes: %d documents, %d workloads, %d services: consistent"
      % (len(docs), len(workloads), len(by_kind.get("Service", {}))))
