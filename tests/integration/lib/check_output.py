"""Checks that files hold what a person or a program may safely read: no
raw control character but the line ends (no ESC, CR, DEL, C1 controls),
well-formed UTF-8, no line or paragraph separator and no bidi control; with
--json each file is also one JSON document.  Prints one line per file and
exits 1 when any file fails.  Usage: check_output.py [--json] FILE..."""
import json
import sys

UNSAFE = set(range(0x20)) - {0x0A} | {0x7F} | set(range(0x80, 0xA0)) \
    | {0x2028, 0x2029} | set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))

as_json = sys.argv[1] == "--json"
bad = total_bytes = raw_total = 0
for path in sys.argv[2 if as_json else 1:]:
    data = open(path, "rb").read()
    problems = []
    raw = [i for i, b in enumerate(data) if (b < 0x20 and b != 0x0A) or b == 0x7F]
    if raw:
        problems.append("raw control byte 0x%02x at %d" % (data[raw[0]], raw[0]))
    try:
        text = data.decode("utf-8", errors="strict")
        unsafe = [c for c in text if ord(c) in UNSAFE]
        if unsafe:
            problems.append("unsafe character U+%04X" % ord(unsafe[0]))
        if as_json:
            json.loads(text)
    except UnicodeDecodeError as e:
        problems.append("not UTF-8: %s" % e)
    except ValueError as e:
        problems.append("not JSON: %s" % e)
    print("%s: %d bytes, %s" % (path, len(data), "; ".join(problems) or "clean"))
    bad += bool(problems)
    total_bytes += len(data)
    raw_total += len(raw)
files = len(sys.argv) - (2 if as_json else 1)
print("checked %d files, %d bytes: %d raw control characters, %d %s" % (
    files, total_bytes, raw_total, bad,
    "invalid JSON documents" if as_json else "files with unsafe text"))
sys.exit(1 if bad else 0)
