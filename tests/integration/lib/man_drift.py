"""Checks that the man pages (docs/man/*.scd) cannot drift from the
programs and docs/: every option each program's --help prints, every
command of rmon and their options, and every configuration key that
docs/collectd.md and docs/stored.md list, appear in the page that
describes them.  Usage: man_drift.py BIN_DIR; prints what is missing and
exits 1, or prints a summary."""
import glob
import os
import re
import subprocess
import sys

bindir = sys.argv[1]
MAN = "docs/man"
# bench/'s programs (benchmarks, load generators) stay in the build tree.
NOT_INSTALLED = {os.path.basename(p)[:-2] for p in glob.glob("bench/*.c")}
problems = []
checked = 0


def page_of(name):
    for section in "18":
        path = "%s/%s.%s.scd" % (MAN, name, section)
        if os.path.exists(path):
            return path, open(path, encoding="utf-8").read()
    return None, None


def options_of(help_text):
    """The options a --help lists: ('-d', '--data') pairs."""
    found = []
    for line in help_text.splitlines():
        m = re.match(r"^\s+(?:(-\w), )?(--[\w-]+)", line)
        if m:
            found.append((m.group(1), m.group(2)))
    return found


def run_help(argv):
    out = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        problems.append("%s --help exited %d" % (" ".join(argv), out.returncode))
    return out.stdout


def check_options(what, argv, page_path, text):
    global checked
    for letter, name in options_of(run_help(argv)):
        checked += 1
        if "*%s*" % name not in text:
            problems.append("%s: %s is missing from %s" % (what, name, page_path))
        if letter and "*%s*" % letter not in text:
            problems.append("%s: %s (%s) is missing from %s" % (what, letter, name, page_path))


programs = sorted(p for p in os.listdir(bindir)
                  if p.startswith("rmon") and p not in NOT_INSTALLED)
for program in programs:
    path, text = page_of(program)
    if not path:
        problems.append("%s has no man page %s/%s.[18].scd" % (program, MAN, program))
        continue
    check_options(program, [os.path.join(bindir, program)], path, text)
    if program == "rmon":
        top = run_help([os.path.join(bindir, "rmon")])
        commands = re.findall(r"^  (\w+)  ", top.split("commands:", 1)[-1], re.M)
        if not commands:
            problems.append("rmon --help lists no commands")
        for command in commands:
            checked += 1
            if not re.search(r"^\*%s\*" % command, text, re.M):
                problems.append("rmon %s: no entry *%s* in %s" % (command, command, path))
            check_options("rmon " + command, [os.path.join(bindir, "rmon"), command],
                          path, text)


def ini_keys(markdown, heading):
    """[section] headers and keys of the ```ini blocks under a heading."""
    body = markdown.split(heading, 1)[1]
    body = re.split(r"^## ", body, flags=re.M)[0]
    keys = set()
    for block in re.findall(r"```ini\n(.*?)```", body, re.S):
        for line in block.splitlines():
            m = re.match(r"^\[(\w+)", line) or re.match(r"^(\w+) *=", line)
            if m:
                keys.add(m.group(1))
    return keys


for doc, page in (("docs/collectd.md", "rmon-collectd.conf"),
                  ("docs/stored.md", "rmon-stored.conf")):
    path, text = page_of(page)
    if not path:
        path, text = "%s/%s.5.scd" % (MAN, page), None
    if text is None and os.path.exists(path):
        text = open(path, encoding="utf-8").read()
    if text is None:
        problems.append("%s has no man page %s" % (doc, path))
        continue
    markdown = open(doc, encoding="utf-8").read()
    keys = ini_keys(markdown, "## Configuration")
    # Settings tables: | `[section] key`, `key2` | ...
    for cell in re.findall(r"^\| (`\[[^|]*)\|", markdown, re.M):
        for m in re.finditer(r"`(?:\[(\w+)[^\]]*\] )?(\w+)`", cell):
            keys.update(k for k in m.groups() if k)
    for key in sorted(keys):
        checked += 1
        if not re.search(r"\b%s\b" % re.escape(key), text):
            problems.append("%s: setting %s is missing from %s" % (doc, key, path))

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print("man pages: %d programs, %d options, commands and settings, none missing"
      % (len(programs), checked))
