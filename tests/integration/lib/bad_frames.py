"""Sends broken streams to an ingest server on 127.0.0.1:PORT, one
connection each, and checks that the server answers with an ERROR frame
(or at least closes) and stays up.  Usage: bad_frames.py PORT"""
import os
import socket
import struct
import sys

port = int(sys.argv[1])


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def msgpack_str(s):
    b = s.encode()
    return bytes([0xA0 | len(b)]) + b


def hello(host):
    # [1, 1, host, "bad_frames", bin(32 nonce), false]
    return frame(b"\x96\x01\x01" + msgpack_str(host) + msgpack_str("bad_frames")
                 + b"\xc4\x20" + os.urandom(32) + b"\xc2")


def auth_nil():
    return frame(b"\x92\x03\xc0")


def read_frames(sock):
    """Reads until the server closes; returns the frames' payloads."""
    data = b""
    sock.settimeout(5)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    frames = []
    while len(data) >= 4:
        (n,) = struct.unpack(">I", data[:4])
        if len(data) < 4 + n:
            break
        frames.append(data[4:4 + n])
        data = data[4 + n:]
    return frames


def attempt(name, chunks, expect_error=True):
    s = socket.create_connection(("127.0.0.1", port))
    for c in chunks:
        try:
            s.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            break
    s.shutdown(socket.SHUT_WR)
    frames = read_frames(s)
    s.close()
    errors = [f for f in frames if f[:2] == b"\x93\x08"]
    if expect_error and not errors:
        sys.exit("%s: no ERROR frame before the close (got %r)" % (name, frames))
    print("%s: closed with %s" % (name, errors[-1][:60] if errors else "no error frame"))


# Garbage instead of a hello.
attempt("garbage", [frame(os.urandom(200))])
# A header announcing 4 GiB.
attempt("oversized", [b"\xff\xff\xff\xff" + b"x" * 100])
# A frame of a known type with wrong fields.
attempt("bad hello", [frame(b"\x93\x01\x01\xc0")])
# Samples before the hello.
attempt("out of order", [frame(b"\x93\x06\x01\x90")])
# A truncated frame, then the stream ends: nothing to answer, just closed.
attempt("truncated", [struct.pack(">I", 1000) + b"\x96\x01"], expect_error=False)
# A proper hello, then a SAMPLES frame announcing more samples than bytes.
attempt("lying count", [hello("liar"), auth_nil(),
                        frame(b"\x93\x06\x01\xdd\x7f\xff\xff\xff\x93\x01\x01")])
# A proper hello, then a sample of a series never defined.
attempt("undefined series", [hello("liar"), auth_nil(),
                             frame(b"\x93\x06\x01\x91\x93\x05\x01\xcb" + b"\x00" * 8)])
# A proper hello, then a definition whose id is not its name's.
attempt("forged id", [hello("liar"), auth_nil(),
                      frame(b"\x92\x05\x91\x92\x07" + msgpack_str("liar/m"))])
# A definition of another host's series (left out), then a sample of it.
attempt("other host", [hello("liar"), auth_nil(),
                       frame(b"\x92\x05\x91\x92\x07" + msgpack_str("victim/m")),
                       frame(b"\x93\x06\x01\x91\x93\x07\x01\xcb" + b"\x00" * 8)])
print("all refused")
