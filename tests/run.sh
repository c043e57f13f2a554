#!/usr/bin/env bash
# Runs every unit test (build/<variant>/tests/test_*) and every integration
# test (tests/integration/*.sh), then prints "N passed, N failed".
# Usage: tests/run.sh BUILD_DIR [NAME_FILTER]
set -u
build=${1:?usage: tests/run.sh BUILD_DIR [FILTER]}
filter=${2:-}
export RMON_BUILD=$(cd "$build" && pwd)
export RMON_BIN=$RMON_BUILD/bin
export CMOCKA_MESSAGE_OUTPUT=TAP
# Sanitizer reports fail the run instead of scrolling by.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
# Descriptors the caller left open (ninja's pipe among them) are not handed
# on to the tests: a daemon a test leaves behind would otherwise keep the
# caller waiting for their end long after the run.  255 is bash's own.
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	[ "$fd" -gt 2 ] && [ "$fd" -lt 255 ] && eval "exec $fd>&-" 2>/dev/null
done
passed=0 failed=0 failures=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_unit() {
	local bin=$1 name out ok notok rc
	name=$(basename "$bin")
	out=$log/$name.out
	t0=$SECONDS
	timeout 900 "$bin" >"$out" 2>&1
	rc=$?
	took=$((SECONDS - t0))
	ok=$(grep -cE '^ok [0-9]+' "$out")
	# cmocka reports a skipped test as "not ok N # SKIP": not a failure
	notok=$(grep -E '^not ok [0-9]+' "$out" | grep -cv '# SKIP')
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then notok=1; fi
	passed=$((passed + ok))
	failed=$((failed + notok))
	if [ "$notok" -ne 0 ]; then
		failures+=("$name")
		echo "FAIL $name (exit $rc, ${took}s)"; sed 's/^/    /' "$out" | tail -40
	else
		echo "ok   $name ($ok, ${took}s)"
	fi
}

end_leftovers() { # TAG
	local pids
	# (unset in the subshell: grep and cut must not carry the tag themselves)
	pids=$(unset RMON_TEST_RUN; grep -lsxz "RMON_TEST_RUN=$1" /proc/[0-9]*/environ | cut -d/ -f3)
	[ -n "$pids" ] || return 0
	leftovers="    left running by the test, now killed: $(ps -o comm= -p "$(echo $pids | tr ' ' ,)" | sort | uniq -c | xargs)"
	kill -KILL $pids 2>/dev/null
	return 0
}

# The rings of /dev/shm a test made and left, mapped by no process now
# (a daemon it killed with -9 keeps its ring by design): removed, and
# named, so that a run of the suite does not leave gigabytes of them.
end_rings() { # BEFORE-LIST
	local ring n=0
	for ring in /dev/shm/rmon-*; do
		[ -e "$ring" ] || continue
		case " $1 " in *" ${ring##*/} "*) continue ;; esac
		grep -qsF "$ring" /proc/[0-9]*/maps && continue
		rm -f "$ring" && n=$((n + 1))
	done
	[ "$n" -eq 0 ] || leftovers="$leftovers${leftovers:+
}    left in /dev/shm by the test, now removed: $n ring(s)"
}

run_integration() {
	local script=$1 name out rc rings
	name=$(basename "$script" .sh)
	out=$log/$name.out
	t0=$SECONDS
	# Every process the test starts carries the tag: what is still running
	# once it ends is found and ended, whatever its parent or session.
	export RMON_TEST_RUN="$$-$name"
	rings=$(cd /dev/shm && echo rmon-*)
	timeout 900 bash "$script" >"$out" 2>&1
	rc=$?
	took=$((SECONDS - t0))
	leftovers=""
	end_leftovers "$RMON_TEST_RUN"
	end_rings "$rings"
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1)); echo "ok   integration/$name (${took}s)"
		# A slow test's milestones ("... after 95s"), to see where CI time goes.
		[ "$took" -lt 60 ] || grep -E ' after [0-9]+s' "$out" | sed 's/^/    /'
	elif [ "$rc" -eq 77 ]; then # the script says why it cannot run here
		echo "skip integration/$name: $(tail -1 "$out")"
	else
		failed=$((failed + 1)); failures+=("integration/$name")
		echo "FAIL integration/$name (exit $rc, ${took}s)"; sed 's/^/    /' "$out" | tail -60
	fi
	[ -z "$leftovers" ] || echo "$leftovers"
}

for bin in "$RMON_BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	case $(basename "$bin") in *"$filter"*) run_unit "$bin" ;; esac
done
for script in tests/integration/*.sh; do
	[ -f "$script" ] || continue
	case $(basename "$script") in *"$filter"*) run_integration "$script" ;; esac
done
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
