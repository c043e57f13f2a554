#!/usr/bin/env bash
# The Kubernetes manifests of deploy/kubernetes, checked offline (no API
# server here): kustomize builds them, and tests/integration/lib/k8s_check.py
# checks that they are consistent and hardened and pass our programs only
# options they know.
set -eu
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml is not installed"; exit 77; }
if command -v kubectl >/dev/null; then
	kubectl kustomize deploy/kubernetes >/dev/null
	echo "kubectl kustomize: the manifests build"
else
	echo "note: kubectl is not installed; kustomize was not run"
fi
/usr/bin/python3 tests/integration/lib/k8s_check.py deploy/kubernetes "$RMON_BIN"
