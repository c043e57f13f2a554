#!/usr/bin/env bash
# The container images of deploy/container/Containerfile, built with
# Debian's podman on a Debian 12 base made by debootstrap (no registry is
# reachable here): the agent image stays under 40 MB and holds no shell;
# the server image's store, started as its non-root user with a volume,
# takes the agent container's stream (the agent reading the host's /proc
# and /sys mounted read-only), survives kill -9 with every acknowledged
# sample kept, and rmon in the container reads it back.
set -eu
case ${RMON_BUILD:-release} in */release | release) ;; *)
	echo "the images are tested with the release variant's run"; exit 77 ;;
esac
for tool in podman runc debootstrap; do
	command -v $tool >/dev/null || { echo "$tool is not installed (.ci/install-deps)"; exit 77; }
done
. tests/integration/lib/deb_root.sh
. tests/integration/lib/ship.sh
cache=${RMON_TEST_CACHE:-/var/tmp/rmon-test-cache}
mkdir -p "$cache"
rc=0
deb_base "$cache/deb12-minbase.tar" || rc=$?
[ $rc -eq 0 ] || exit $rc
echo "Debian 12 base ready after ${SECONDS}s"
# What this machine needs (docs/install.md, "Container images"): runc, as
# crun refuses its cgroup layout; limits it can keep; the host's network
# for apt in the build and for loopback between the containers.
pod() { podman --runtime runc "$@"; }
limits=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
tag=test-$$
names=()
cleanup() {
	for n in "${names[@]}"; do pod rm -f "$n" >/dev/null 2>&1 || true; done
	pod volume rm -f "rmon-data-$tag" >/dev/null 2>&1 || true
	pod rmi -f "localhost/rmon-agent:$tag" "localhost/rmon-server:$tag" >/dev/null 2>&1 || true
	# The build stages' images that this run made, and only those.
	comm -13 <(sort "$cache/images.$tag" 2>/dev/null) <(pod images -a -q --no-trunc | sort) |
		xargs -r podman rmi -f >/dev/null 2>&1 || true
	rm -f "$cache/images.$tag"
}
trap cleanup EXIT
pod image exists localhost/deb12:base || pod import "$cache/deb12-minbase.tar" localhost/deb12:base >/dev/null
pod images -a -q --no-trunc >"$cache/images.$tag"
for target in agent server; do
	pod build -q --network host "${limits[@]}" --build-arg BASE=localhost/deb12:base \
		-f deploy/container/Containerfile --target $target -t "localhost/rmon-$target:$tag" . \
		>"/tmp/rmon-build-$tag.log" 2>&1 || { tail -30 "/tmp/rmon-build-$tag.log"; rm -f "/tmp/rmon-build-$tag.log"; exit 1; }
	rm -f "/tmp/rmon-build-$tag.log"
	echo "image $target built after ${SECONDS}s"
done
size=$(pod image inspect --format '{{.Size}}' "localhost/rmon-agent:$tag")
echo "agent image: $((size / 1000000)) MB; server image: $(($(pod image inspect --format '{{.Size}}' "localhost/rmon-server:$tag") / 1000000)) MB"
[ "$size" -le 40000000 ] || { echo "the agent image is over 40 MB"; exit 1; }
! pod run --rm "${limits[@]}" --entrypoint /bin/sh "localhost/rmon-agent:$tag" -c true 2>/dev/null ||
	{ echo "the agent image has a shell"; exit 1; }

# One look at the host from the agent image.
pod run --rm --network host "${limits[@]}" -v /proc:/host/proc:ro -v /sys:/host/sys:ro \
	"localhost/rmon-agent:$tag" --once --print --root /host >"$cache/print.$tag" 2>&1 || true
grep -q '/node_load1 ' "$cache/print.$tag" || { head "$cache/print.$tag"; rm -f "$cache/print.$tag"; exit 1; }
echo "agent --once --print: $(wc -l <"$cache/print.$tag") series"
rm -f "$cache/print.$tag"

port=$(free_port)
run_store() {
	names+=("rmon-store-$tag")
	pod run -d --name "rmon-store-$tag" --network host "${limits[@]}" \
		-v "rmon-data-$tag:/var/lib/rmon" "localhost/rmon-server:$tag" --listen "127.0.0.1:$port" >/dev/null
	for _ in $(seq 300); do
		pod logs "rmon-store-$tag" 2>&1 | grep -q "taking agents' streams" && return 0
		sleep 0.1
	done
	pod logs "rmon-store-$tag"; echo "the store did not start"; return 1
}
run_store
[ "$(pod exec "rmon-store-$tag" id -un)" = rmon ] || { echo "the store does not run as rmon"; exit 1; }
names+=("rmon-agent-$tag")
pod run -d --name "rmon-agent-$tag" --network host --pid host "${limits[@]}" \
	-v /proc:/host/proc:ro -v /sys:/host/sys:ro "localhost/rmon-agent:$tag" \
	--root /host --interval 1s --server "127.0.0.1:$port" >/dev/null
times() { pod exec "rmon-store-$tag" rmon query 'rmon_collect_duration_seconds' --from -1h --format csv 2>/dev/null | tail -n +2 | cut -d, -f2; }
count() { times | wc -l; }
for _ in $(seq 300); do [ "$(count)" -ge 5 ] && break; sleep 0.2; done
times >"$cache/before.$tag"
before=$(wc -l <"$cache/before.$tag")
[ "$before" -ge 5 ] || { pod logs "rmon-agent-$tag"; pod logs "rmon-store-$tag"; echo "no samples from the agent"; exit 1; }
echo "the store holds $before collections from the agent container"

# kill -9 the store's container; a new one on the same volume recovers,
# and the agent's spool resends what was not acknowledged.
pod kill -s KILL "rmon-store-$tag" >/dev/null
pod rm -f "rmon-store-$tag" >/dev/null
run_store
for _ in $(seq 300); do [ "$(count)" -gt "$before" ] && break; sleep 0.2; done
times >"$cache/after.$tag"
after=$(wc -l <"$cache/after.$tag")
lost=$(comm -23 <(sort "$cache/before.$tag") <(sort "$cache/after.$tag") | wc -l)
rm -f "$cache/before.$tag" "$cache/after.$tag"
[ "$after" -gt "$before" ] && [ "$lost" -eq 0 ] ||
	{ pod logs "rmon-store-$tag"; echo "after kill -9: $after collections, before: $before, lost $lost"; exit 1; }
echo "after kill -9 and a new container: $after collections (before: $before), nothing lost"
