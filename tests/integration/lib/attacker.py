"""A hostile host against an ingest server on 127.0.0.1:PORT (the trust
tests, docs/protocol.md "Trust").

  attacker.py flood PORT CONNECTIONS SECONDS KIND
      keeps CONNECTIONS unauthenticated connections busy for SECONDS, each
      reopened as soon as the server closes it.  KIND: big (a header
      announcing 16 MiB, then junk), junk (random bytes), slow (most of a
      large HELLO, then nothing).  Prints what it did.
  attacker.py foreign PORT HOST SECRET VICTIM_SERIES TS_NS
      authenticates as HOST and sends one sample of VICTIM_SERIES's id at
      TS_NS without defining it, then with a definition; prints the
      server's answers ("ERROR code message" or "ACK seq")."""
import hashlib
import hmac
import os
import selectors
import socket
import struct
import sys
import time


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def mp_str(s):
    b = s.encode() if isinstance(s, str) else s
    if len(b) < 32:
        return bytes([0xA0 | len(b)]) + b
    return b"\xd9" + bytes([len(b)]) + b if len(b) < 256 else b"\xda" + struct.pack(">H", len(b)) + b


def mp_u64(v):
    return b"\xcf" + struct.pack(">Q", v)


def hello(host, nonce, relay=False):
    return frame(b"\x96\x01\x01" + mp_str(host) + mp_str("attacker") + b"\xc4\x20" + nonce
                 + (b"\xc3" if relay else b"\xc2"))


def series_id(name):
    """lib/series_name.c's series_id, for forging nothing but asking right."""
    m = (1 << 64) - 1

    def mix(x):
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & m
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & m
        return x ^ (x >> 31)

    b = name.encode()
    h = 0x9E3779B97F4A7C15 ^ ((len(b) * 0xFF51AFD7ED558CCD) & m)
    i = 0
    while i + 8 <= len(b):
        (k,) = struct.unpack("<Q", b[i:i + 8])
        h = (mix(h ^ k) + 0x9E3779B97F4A7C15) & m
        i += 8
    tail = int.from_bytes(b[i:], "little")
    h = mix(h ^ tail ^ ((len(b) - i) << 56))
    return h or 1


def flood(port, n, seconds, kind):
    sel = selectors.DefaultSelector()
    junk = os.urandom(1 << 16)
    opened = closed = sent = 0

    def open_one():
        nonlocal opened
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        first = {"big": b"\x01\x00\x00\x00", "junk": b"",
                 "slow": struct.pack(">I", 4000) + b"\x96\x01\x01" + b"x" * 3000}[kind]
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, [first])
        opened += 1

    for _ in range(n):
        open_one()
    end = time.time() + seconds
    while time.time() < end:
        for key, events in sel.select(timeout=0.1):
            s = key.fileobj
            gone = False
            if events & selectors.EVENT_READ:
                try:
                    gone = s.recv(65536) == b""
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    gone = True
            if not gone and events & selectors.EVENT_WRITE:
                pending = key.data
                data = pending[0] if pending[0] else (b"" if kind == "slow" else junk)
                try:
                    if data:
                        k = s.send(data)
                        sent += k
                        pending[0] = data[k:] if pending[0] else b""
                    elif kind == "slow":
                        sel.modify(s, selectors.EVENT_READ, pending)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    gone = True
            if gone:
                sel.unregister(s)
                s.close()
                closed += 1
                open_one()
    print("flood %s: %d connections opened, %d closed by the server, %d MiB sent"
          % (kind, opened, closed, sent >> 20))


def read_frame(s):
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data[4:]


def answer(s):
    p = read_frame(s)
    if p is None:
        return "CLOSED"
    if p[:2] == b"\x93\x08":
        code = p[2]
        msg = p[4:] if p[3] & 0xE0 == 0xA0 else p[5:]  # fixstr or str8
        return "ERROR %d %s" % (code, msg.decode(errors="replace"))
    if p[:2] == b"\x92\x07":
        return "ACK"
    return "OTHER %r" % p[:8]


def foreign(port, host, secret, victim, ts):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    nonce = os.urandom(32)
    s.sendall(hello(host, nonce))
    challenge = read_frame(s)
    server_nonce = challenge[4:36]  # [2, bin8(32) nonce, bool]
    mac = hmac.new(secret.encode(), b"rmon/1 agent" + server_nonce + nonce + host.encode(),
                   hashlib.sha256).digest()
    s.sendall(frame(b"\x92\x03\xc4\x20" + mac))
    read_frame(s)  # WELCOME
    own = host + "/node_load1"
    s.sendall(frame(b"\x92\x05\x91\x92" + mp_u64(series_id(own)) + mp_str(own)))
    sample = b"\x91\x93" + mp_u64(series_id(victim)) + b"\xd3" + struct.pack(">q", ts) \
        + b"\xcb" + struct.pack(">d", 666.0)
    s.sendall(frame(b"\x93\x06\x01" + sample))
    print("undefined:", answer(s))
    s.close()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(hello(host, nonce))
    server_nonce = read_frame(s)[4:36]
    mac = hmac.new(secret.encode(), b"rmon/1 agent" + server_nonce + nonce + host.encode(),
                   hashlib.sha256).digest()
    s.sendall(frame(b"\x92\x03\xc4\x20" + mac))
    read_frame(s)
    s.sendall(frame(b"\x92\x05\x91\x92" + mp_u64(series_id(victim)) + mp_str(victim)))
    s.sendall(frame(b"\x93\x06\x02" + sample))
    print("defined:", answer(s))
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "foreign":
        foreign(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        sys.exit(__doc__)
