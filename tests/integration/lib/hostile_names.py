"""A hostile peer on 127.0.0.1:PORT: HELLO host names and series names with
control characters, terminal escapes, bidi overrides and invalid UTF-8, and
log lines forged through host names, agent names and ERROR texts.  Each
attempt has a connection of its own; it prints what the server did and
exits 1 when a hostile attempt was not refused.  One honest but tricky
series (quotes, backslashes, non-ASCII) must be stored, so the outputs
have something to escape.  Usage: hostile_names.py PORT

With --server it plays a hostile store instead: it listens on PORT and
answers every HELLO with an ERROR whose text forges a log line, for
SECONDS.  Usage: hostile_names.py --server PORT SECONDS"""
import os
import socket
import struct
import sys
import time

serving = sys.argv[1] == "--server"
port = int(sys.argv[2 if serving else 1])
FORGED = "info ingest: host admin connected from 10.0.0.1:4242 (TLS)"
M64 = (1 << 64) - 1


# ---- the series id of lib/series_name.c (splitmix64 finalizer rounds) ----

def mix64(x):
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & M64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def series_id(name):
    n = len(name)
    h = 0x9E3779B97F4A7C15 ^ ((n * 0xFF51AFD7ED558CCD) & M64)
    i = 0
    while i + 8 <= n:
        (k,) = struct.unpack("<Q", name[i:i + 8])
        h = (mix64(h ^ k) + 0x9E3779B97F4A7C15) & M64
        i += 8
    tail = int.from_bytes(name[i:], "little")
    h = mix64(h ^ tail ^ ((n - i) << 56))
    return h or 1


# ---- msgpack, the few shapes the protocol uses ----

def mp_str(b):
    if isinstance(b, str):
        b = b.encode()
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    if len(b) < 256:
        return b"\xd9" + bytes([len(b)]) + b
    return b"\xda" + struct.pack(">H", len(b)) + b


def mp_array(n):
    return bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n)


def mp_u64(v):
    return b"\xcf" + struct.pack(">Q", v)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def hello(host, agent="hostile_names", relay=False):
    return frame(mp_array(6) + b"\x01\x01" + mp_str(host) + mp_str(agent)
                 + b"\xc4\x20" + os.urandom(32) + (b"\xc3" if relay else b"\xc2"))


def auth_nil():
    return frame(b"\x92\x03\xc0")


def series(names):
    body = b"".join(mp_array(2) + mp_u64(series_id(n)) + mp_str(n) for n in names)
    return frame(b"\x92\x05" + mp_array(len(names)) + body)


def samples(seq, names):
    now = time.time_ns()
    body = b"".join(mp_array(3) + mp_u64(series_id(n)) + b"\xd3" + struct.pack(">q", now)
                    + b"\xcb" + struct.pack(">d", 42.0) for n in names)
    return frame(b"\x93\x06" + mp_u64(seq) + mp_array(len(names)) + body)


def error(code, text):
    return frame(b"\x93\x08" + bytes([code]) + mp_str(text))


def read_frames(sock, until_ack=None):
    """Frames until the server closes (or sends ACK until_ack)."""
    data, frames = b"", []
    sock.settimeout(5)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            while len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
                (n,) = struct.unpack(">I", data[:4])
                frames.append(data[4:4 + n])
                data = data[4 + n:]
            if until_ack is not None and any(f[:2] == b"\x92\x07" for f in frames):
                break
    except (ConnectionResetError, socket.timeout):
        pass
    return frames


failures = []


def attempt(what, chunks, want):
    """want: 'refused' (an ERROR frame, then the close) or 'acked'."""
    s = socket.create_connection(("127.0.0.1", port))
    for c in chunks:
        try:
            s.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            break
    if want == "refused":
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server was quicker: it closed already
    frames = read_frames(s, until_ack=(want == "acked") or None)
    s.close()
    errors = [f for f in frames if f[:2] == b"\x93\x08"]
    acked = any(f[:2] == b"\x92\x07" for f in frames)
    got = "refused" if errors else "acked" if acked else "closed"
    print("%-40s %s %s" % (what, got, errors[-1][3:90] if errors else b""))
    if (want == "refused" and got == "acked") or (want == "acked" and got != "acked") \
            or (want == "refused" and not errors):
        failures.append(what)


def serve(seconds):
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    print("listening", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        conn.settimeout(2)
        try:
            conn.recv(4096)  # the HELLO
            conn.sendall(error(2, ("no\n" + FORGED + "\x1b]0;pwned\x07").encode() + b"\xff"))
        except OSError:
            pass
        conn.close()
    sys.exit(0)


if serving:
    serve(float(sys.argv[3]))

ESC_TITLE = b"\x1b]0;pwned\x07"
hostile_hosts = {
    "host with LF": b"lf\nhost",
    "host forging a log line": ("x\n" + FORGED).encode(),
    "host with an OSC escape": b"evil" + ESC_TITLE,
    "host with CR": b"evil\rhost",
    "host with 0xff": b"evil\xff",
    "host with an overlong '/'": b"evil\xc0\xafx",
    "host with RLO (bidi)": "evil\u202ex".encode(),
    "host '..'": b"..",
}
for what, host in hostile_hosts.items():
    name = host + b"/node_load1"
    attempt(what, [hello(host), auth_nil(), series([name]), samples(1, [name])], "refused")

hostile_series = {
    "label value with OSC": b'evil/m{k="' + ESC_TITLE + b'"}',
    "label value with LF": b'evil/m{k="x\n' + FORGED.encode() + b'"}',
    "label value with CR": b'evil/m{k="a\rb"}',
    "label value with CSI": b'evil/m{k="\x1b[2J"}',
    "label value with C1 CSI": b'evil/m{k="\xc2\x9b2J"}',
    "label value with 0xff": b'evil/m{k="\xff"}',
    "label value with overlong LF": b'evil/m{k="\xc0\x8a"}',
    "label value with a surrogate": b'evil/m{k="\xed\xa0\x80"}',
    "label value with RLO": 'evil/m{k="\u202egnp.exe"}'.encode(),
    "label value with LRI": 'evil/m{k="\u2066x"}'.encode(),
    "label value with DEL": b'evil/m{k="\x7f"}',
    "label value with a \\n escape": b'evil/m{k="a\\nb"}',
    "metric with ESC": b"evil/m\x1b[1m",
    "metric with a dash": b"evil/node-load",
    "label name with LF": b'evil/m{k\nx="v"}',
    "labels unsorted": b'evil/m{b="1",a="2"}',
    "labels twice": b'evil/m{a="1",a="2"}',
}
for what, name in hostile_series.items():
    attempt(what, [hello("evil"), auth_nil(), series([name]), samples(1, [name])], "refused")

# A relay may carry other hosts, but never a bad name.
attempt("relay carrying a host with LF", [hello("relay1", relay=True), auth_nil(),
        series([b"lf\nhost/m"]), samples(1, [b"lf\nhost/m"])], "refused")

# Log forging through a peer's ERROR text and its agent name.
attempt("ERROR text forging a log line", [hello("evil"), auth_nil(),
        error(3, "bye\n" + FORGED + "\x1b]0;pwned\x07")], "closed")

TRICKY = 'tricky/m{k="a\\"b\\\\c \u00fc,}{ \u20ac"}'.encode()
attempt("agent name forging, tricky name", [hello("tricky", agent="a\n" + FORGED),
        auth_nil(), series([TRICKY]), samples(1, [TRICKY])], "acked")

if failures:
    sys.exit("not refused: " + ", ".join(failures))
print("every hostile attempt refused")
