#!/usr/bin/env bash
# Builds every libFuzzer harness tests/fuzz/fuzz_*.c with clang (ASan +
# UBSan + coverage) against the project's library sources, then runs each
# for FUZZ_SECONDS (default 20) on its seed corpus tests/fuzz/corpus/NAME/;
# FUZZ_ONLY=TEXT builds and runs only the harnesses whose name holds TEXT.
set -eu
seconds=${FUZZ_SECONDS:-20}
out=build/fuzz
mkdir -p "$out"
command -v clang >/dev/null || { echo "fuzz: clang not found; apt-get install clang" >&2; exit 2; }
cflags="-std=c11 -D_GNU_SOURCE -DRMON_TESTING -g -O1 -I. -I$out/gen -fsanitize=fuzzer,address,undefined $(pkg-config --cflags msgpack lmdb liburing libcrypto libprotobuf-c snappy libcurl zlib)"
libs="$(pkg-config --libs msgpack lmdb liburing libprotobuf-c snappy libcurl libesmtp-1.0 zlib) -lm -ldl -pthread"
# Code generated from .proto files, as configure.py does.
for proto in $(ls */*.proto 2>/dev/null); do
	mkdir -p "$out/gen"
	protoc-c -I. --c_out="$out/gen" "$proto"
done
# Of reportgen/, what rmon-web reads a request with (it needs lib/ only).
lib_sources="$(ls lib/*.c shmring/*.c net/*.c store/*.c collectd/*.c alertd/*.c reportgen/web_form.c reportgen/web_token.c reportgen/web_users.c 2>/dev/null | xargs grep -L '^int main' || true) $(ls "$out"/gen/*/*.pb-c.c 2>/dev/null || true)"
# The library once, in objects of its own (coverage without libFuzzer's
# main), in parallel; each harness then links what it uses from the archive.
mkdir -p "$out/obj"
rm -f "$out"/obj/*.o "$out/librmon_fuzz.a"
printf '%s\n' $lib_sources | xargs -P "$(nproc)" -I{} sh -c \
	'clang $0 -c -o "$1/obj/$(echo "$2" | tr / _).o" "$2"' \
	"${cflags/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" "$out" {}
ar rcs "$out/librmon_fuzz.a" "$out"/obj/*.o
status=0
for harness in tests/fuzz/fuzz_*.c; do
	[ -f "$harness" ] || continue
	name=$(basename "$harness" .c)
	case $name in *"${FUZZ_ONLY:-}"*) ;; *) continue ;; esac
	echo "== $name"
	clang $cflags -o "$out/$name" "$harness" "$out/librmon_fuzz.a" $libs
	corpus=tests/fuzz/corpus/${name#fuzz_}
	mkdir -p "$out/$name.corpus"
	seeds=""
	[ -d "$corpus" ] && seeds=$corpus
	if ! "$out/$name" -max_total_time="$seconds" -print_final_stats=1 "$out/$name.corpus" $seeds \
		>"$out/$name.log" 2>&1; then
		status=1
		echo "fuzz: $name FAILED; its log:"
		tail -40 "$out/$name.log"
	else
		grep -E 'number_of_executed_units|new_units_added' "$out/$name.log"
	fi
done
exit $status
