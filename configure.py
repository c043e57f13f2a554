#!/usr/bin/env python3
"""Writes build.ninja for Rusty Monitor.

Usage: python3 configure.py [--variant=release|debug|asan|tsan] [--cc=gcc|clang]
                            [--prefix=/usr/local [--config-dir=/etc/rmon]
                             [--data-dir=/var/lib/rmon]]

Without --prefix the build is for the build tree: programs keep their data
in ./var and read no configuration file unless told (lib/paths.h).  With
--prefix it is an installed build: the folders are compiled in, and
`ninja install` (DESTDIR honoured) installs the programs, man pages and
default configuration files.

Sources are found by convention, so adding a file never means editing this:
  - every component folder (LAYERS) builds one static library from its .c files;
  - a .c file that defines `int main(` is a program named after the file;
  - tests/test_*.c are cmocka unit tests, tests/fuzz/fuzz_*.c libFuzzer harnesses;
  - a .proto file in a component folder is compiled by protoc-c at build time
    into build/VARIANT/gen/FOLDER/NAME.pb-c.[ch], which join the folder's library.
Each library is built twice: once for programs and once with RMON_TESTING
defined, which compiles in the fault-injection hooks that only tests use.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

# The component folders, highest floor first: each builds one library, and
# the libraries are linked in this order.  A folder includes only its own
# headers and those of the folders MAY_INCLUDE names for it (the rooms of
# docs/architecture.md); a folder it does not name may use any folder after
# it.  configure.py refuses any other include, naming the file and line.
LAYERS = ["bench", "cli", "reportgen", "alertd", "collectd", "store", "net", "shmring", "lib"]
MAY_INCLUDE = {
    "bench": {"reportgen", "alertd", "store", "net", "shmring", "lib"},
    "cli": {"reportgen", "alertd", "store", "shmring", "lib"},
    "reportgen": {"alertd", "store", "lib"},
    "alertd": {"store", "shmring", "lib"},
    "collectd": {"net", "shmring", "lib"},
    "store": {"net", "shmring", "lib"},
    "net": {"lib"},
    "shmring": {"lib"},
    "lib": set(),
}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([a-z_]+\.h)?', re.M)
# The store's readers see it through its readers' API only, from their own
# processes: of store/ they include store/query.h and nothing else.
STORE_READERS = {"cli", "reportgen", "alertd"}

# pkg-config name -> Debian package that provides it.
DEPENDENCIES = {
    "liburing": "liburing-dev",
    "jemalloc": "libjemalloc-dev",
    "lmdb": "liblmdb-dev",
    "msgpack": "libmsgpack-dev",
    "libesmtp-1.0": "libesmtp-dev",
    "cmocka": "libcmocka-dev",
    "libcurl": "libcurl4-openssl-dev",
    "libcrypto": "libssl-dev",
    "libssl": "libssl-dev",
    "zlib": "zlib1g-dev",
    "libprotobuf-c": "libprotobuf-c-dev",
    "snappy": "libsnappy-dev",
}
# Libraries whose headers we compile against but which are opened with
# dlopen only when needed (net/ossl.h): linking them costs every process
# 1.7 MiB of resident memory.
LOADED_AT_RUN_TIME = {"libcrypto", "libssl"}
# Libraries that the sanitizer variants must not link (they replace malloc).
NOT_WITH_SANITIZERS = {"jemalloc"}
# Programs that allocate next to nothing after start-up: jemalloc (and the
# libstdc++ it pulls in) would only add RSS to them.  See docs/architecture.md.
WITHOUT_JEMALLOC = {"rmon-collectd", "rmon-loadgen", "rmon-web"}

VARIANT_FLAGS = {
    "release": ("-O2 -g -DNDEBUG", ""),
    "debug": ("-O0 -g", ""),
    "asan": (
        "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined "
        "-fno-sanitize-recover=undefined",
        "-fsanitize=address,undefined",
    ),
    "tsan": ("-O1 -g -fsanitize=thread", "-fsanitize=thread"),
}

MAIN_RE = re.compile(r"^int\s+main\s*\(", re.M)


class Writer:
    """A minimal ninja file writer in the spirit of ninja_syntax.py."""

    def __init__(self):
        self.lines = []

    def comment(self, text):
        self.lines.append("# " + text)

    def variable(self, key, value):
        self.lines.append("%s = %s" % (key, value))

    def rule(self, name, command, description=None, deps=None, depfile=None,
             pool=None, generator=False):
        self.lines.append("rule " + name)
        self.lines.append("  command = " + command)
        if description:
            self.lines.append("  description = " + description)
        if deps:
            self.lines.append("  deps = " + deps)
        if depfile:
            self.lines.append("  depfile = " + depfile)
        if pool:
            self.lines.append("  pool = " + pool)
        if generator:
            self.lines.append("  generator = 1")

    def build(self, outputs, rule, inputs=(), implicit=(), order_only=(),
              variables=None):
        line = "build %s: %s" % (" ".join(outputs), rule)
        if inputs:
            line += " " + " ".join(inputs)
        if implicit:
            line += " | " + " ".join(implicit)
        if order_only:
            line += " || " + " ".join(order_only)
        self.lines.append(line)
        for key, value in (variables or {}).items():
            self.lines.append("  %s = %s" % (key, value))

    def default(self, targets):
        self.lines.append("default " + " ".join(targets))

    def text(self):
        return "\n".join(self.lines) + "\n"


def die(message):
    sys.stderr.write("configure.py: error: %s\n" % message)
    sys.exit(2)


def pkg_config(names):
    """Returns (cflags, libs) for the named packages, or dies naming the
    Debian package that is missing."""
    if not shutil.which("pkg-config"):
        die("pkg-config not found; install it with: apt-get install pkg-config")
    missing = []
    for name in names:
        if subprocess.call(["pkg-config", "--exists", name]) != 0:
            missing.append(name)
    if missing:
        packages = " ".join(DEPENDENCIES[m] for m in missing)
        die("missing %s; install with: apt-get install %s"
            % (", ".join(missing), packages))
    cflags = subprocess.check_output(["pkg-config", "--cflags"] + names, text=True)
    libs = subprocess.check_output(["pkg-config", "--libs"] + names, text=True)
    return cflags.strip(), libs.strip()


def sources_in(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.endswith(".c"))


def protos_in(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".proto"))


def is_program(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return MAIN_RE.search(f.read()) is not None


def check_includes():
    """Dies at the first include that goes up or sideways between folders."""
    for i, layer in enumerate(LAYERS):
        allowed = MAY_INCLUDE.get(layer, set(LAYERS[i + 1:])) | {layer}
        if not os.path.isdir(layer):
            continue
        for name in sorted(os.listdir(layer)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(layer, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INCLUDE_RE.finditer(text):
                if layer in STORE_READERS and m.group(1) == "store" and m.group(2) != "query.h":
                    die("%s:%d: includes store/%s; %s/ reads the store through store/query.h only"
                        % (path, text.count("\n", 0, m.start()) + 1, m.group(2), layer))
                if m.group(1) in LAYERS and m.group(1) not in allowed:
                    die("%s:%d: includes %s/, which %s/ may not use (%s; see "
                        "docs/architecture.md, Rooms and floors)"
                        % (path, text.count("\n", 0, m.start()) + 1, m.group(1), layer,
                           "it may include " + ", ".join(sorted(allowed))))


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def main():
    parser = argparse.ArgumentParser(description="Write build.ninja.")
    parser.add_argument("--variant", default="release", choices=sorted(VARIANT_FLAGS))
    parser.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    parser.add_argument("--prefix", help="an installed build, under PREFIX")
    parser.add_argument("--config-dir", default="/etc/rmon",
                        help="an installed build's configuration folder")
    parser.add_argument("--data-dir", default="/var/lib/rmon",
                        help="an installed build's data folder")
    args = parser.parse_args()
    for name, value in (("--prefix", args.prefix), ("--config-dir", args.config_dir),
                        ("--data-dir", args.data_dir)):
        if value is not None and (not value.startswith("/") or re.search(r'[\s"\\$]', value)):
            die("%s=%s: must be an absolute path without spaces, quotes or $" % (name, value))

    if not shutil.which(args.cc):
        die("compiler '%s' not found; install it with: apt-get install %s"
            % (args.cc, "clang" if "clang" in args.cc else "gcc"))
    if not shutil.which("ninja"):
        die("ninja not found; install it with: apt-get install ninja-build")

    check_includes()
    sanitized = args.variant in ("asan", "tsan")
    names = [n for n in DEPENDENCIES if not (sanitized and n in NOT_WITH_SANITIZERS)]
    dep_cflags, _ = pkg_config(names)
    linked = [n for n in names if n not in LOADED_AT_RUN_TIME]
    _, dep_libs = pkg_config(linked)
    _, lean_libs = pkg_config([n for n in linked if n != "jemalloc"])
    opt_flags, san_ldflags = VARIANT_FLAGS[args.variant]
    out = "build/" + args.variant

    n = Writer()
    n.comment("Generated by: python3 configure.py %s -- do not edit." % " ".join(sys.argv[1:]))
    n.variable("ninja_required_version", "1.10")
    n.variable("builddir", out)
    n.variable("cc", args.cc)
    # An installed build compiles its folders in (lib/paths.h).
    paths = ""
    if args.prefix:
        paths = " '-DRMON_CONFIG_DIR=\"%s\"' '-DRMON_DATA_DIR=\"%s\"'" % (
            args.config_dir, args.data_dir)
    n.variable("cflags", "-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow "
               "-Wno-unused-parameter -pthread -I. -I" + out + "/gen " + opt_flags + " " +
               dep_cflags + paths +
               # A distribution's hardening flags (dpkg-buildflags) come last.
               " " + os.environ.get("CPPFLAGS", "") + " " + os.environ.get("CFLAGS", ""))
    n.variable("ldflags", "-pthread -Wl,--as-needed " + san_ldflags + " " +
               os.environ.get("LDFLAGS", ""))
    n.variable("libs", dep_libs + " -lm -ldl")
    n.variable("lean_libs", lean_libs + " -lm -ldl")
    n.variable("prefix", args.prefix or "")
    n.rule("cc", "$cc -MMD -MF $out.d $cflags $extra -c $in -o $out",
           description="CC $out", deps="gcc", depfile="$out.d")
    n.rule("ar", "rm -f $out && ar crs $out $in", description="AR $out")
    n.rule("link", "$cc $ldflags -o $out $in -Wl,--start-group $archives "
           "-Wl,--end-group $libs", description="LINK $out")
    n.rule("configure", "python3 configure.py " + " ".join(sys.argv[1:]),
           description="CONFIGURE", generator=True, pool="console")
    n.rule("run", "$command", description="$desc", pool="console")
    n.rule("protoc", "protoc-c -I. --c_out=%s/gen $in" % out, description="PROTOC $in")
    n.build(["build.ninja"], "configure", implicit=["configure.py"])

    archives = {"": [], "-t": []}
    programs = []
    generated_headers = []
    for layer in LAYERS:
        for proto in protos_in(layer):
            if not shutil.which("protoc-c"):
                die("protoc-c not found (for %s); install it with: apt-get install "
                    "protobuf-c-compiler" % proto)
            base = "%s/gen/%s" % (out, os.path.splitext(proto)[0])
            n.build([base + ".pb-c.c", base + ".pb-c.h"], "protoc", [proto])
            generated_headers.append(base + ".pb-c.h")
    for layer in LAYERS:
        library_sources = []
        for src in sources_in(layer):
            if is_program(src):
                programs.append(src)
            else:
                library_sources.append(src)
        library_sources += ["%s/gen/%s.pb-c.c" % (out, os.path.splitext(p)[0])
                            for p in protos_in(layer)]
        if not library_sources:
            continue
        for flavour, extra in (("", ""), ("-t", "-DRMON_TESTING")):
            objects = []
            for src in library_sources:
                rel = src[len(out) + 5:] if src.startswith(out + "/gen/") else src
                obj = "%s/obj%s/%s.o" % (out, flavour, os.path.splitext(rel)[0])
                n.build([obj], "cc", [src], order_only=generated_headers,
                        variables={"extra": extra} if extra else None)
                objects.append(obj)
            archive = "%s/lib/librmon_%s%s.a" % (out, layer, flavour)
            n.build([archive], "ar", objects)
            archives[flavour].append(archive)

    binaries = []
    for src in programs:
        obj = "%s/obj/%s.o" % (out, os.path.splitext(src)[0])
        binary = "%s/bin/%s" % (out, stem(src))
        n.build([obj], "cc", [src], order_only=generated_headers)
        link_vars = {"archives": " ".join(archives[""])}
        if stem(src) in WITHOUT_JEMALLOC:
            link_vars["libs"] = "$lean_libs"
        n.build([binary], "link", [obj], implicit=archives[""], variables=link_vars)
        binaries.append(binary)

    tests = []
    for src in sources_in("tests"):
        if not stem(src).startswith("test_"):
            continue
        obj = "%s/obj-t/%s.o" % (out, os.path.splitext(src)[0])
        binary = "%s/tests/%s" % (out, stem(src))
        n.build([obj], "cc", [src], order_only=generated_headers,
                variables={"extra": "-DRMON_TESTING"})
        n.build([binary], "link", [obj], implicit=archives["-t"],
                variables={"archives": " ".join(archives["-t"])})
        tests.append(binary)

    # Man pages: docs/man/NAME.SECTION.scd -> $builddir/man/NAME.SECTION,
    # when Debian's scdoc is there (tests/integration/man_pages.sh says so).
    man_pages = []
    if shutil.which("scdoc"):
        n.rule("scdoc", "scdoc < $in > $out.tmp && mv $out.tmp $out", description="SCDOC $out")
        for name in sorted(os.listdir("docs/man") if os.path.isdir("docs/man") else []):
            if re.fullmatch(r"[a-z.-]+\.[1-8]\.scd", name):
                page = "%s/man/%s" % (out, name[:-4])
                n.build([page], "scdoc", ["docs/man/" + name])
                man_pages.append(page)
    n.build(["man"], "phony", man_pages)
    n.build(["all"], "phony", binaries + tests + man_pages)
    n.build(["test"], "run", ["all"], variables={
        "command": "tests/run.sh " + out, "desc": "TEST " + out})
    n.build(["bench"], "run", ["all"], variables={
        "command": out + "/bin/rmon-bench all", "desc": "BENCH " + out})
    # Only the rmon programs are installed; bench/'s (benchmarks, load
    # generators, rmon-put) stay in the build tree.
    installed = [b for b, src in zip(binaries, programs)
                 if os.path.basename(b).startswith("rmon") and not src.startswith("bench/")]
    if args.prefix:
        install = ("deploy/install.sh %s $prefix %s %s %s"
                   % (out, args.config_dir, args.data_dir, " ".join(installed)))
    else:
        install = ("echo 'ninja install: this build is for the build tree (data in ./var); "
                   "configure an installed one with python3 configure.py --prefix=/usr/local' "
                   ">&2; exit 2")
    n.build(["install"], "run", ["all"] + man_pages, variables={
        "command": install, "desc": "INSTALL $prefix"})
    n.build(["fuzz"], "run", variables={
        "command": "tests/fuzz/run.sh", "desc": "FUZZ"})
    c_files = "$$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')"
    n.build(["format"], "run", variables={
        "command": "clang-format -i " + c_files, "desc": "FORMAT"})
    n.build(["format-check"], "run", variables={
        "command": "clang-format --dry-run -Werror " + c_files,
        "desc": "FORMAT-CHECK"})
    n.default(["all"])

    with open("build.ninja", "w") as f:
        f.write(n.text())
    link = "build/bin"
    os.makedirs("build", exist_ok=True)
    if os.path.islink(link) or not os.path.exists(link):
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(args.variant + "/bin", link)
    print("configure.py: wrote build.ninja for the %s variant with %s; "
          "now run: ninja" % (args.variant, args.cc))


if __name__ == "__main__":
    main()
