"""A service manager's notify socket, as systemd offers it to a Type=notify
unit: binds the datagram socket at argv[1] and writes each message it
receives to argv[2], one per line with newlines as '|', until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out + ".tmp", "w"):
    pass
os.rename(out + ".tmp", out)  # the file exists once the socket does
while True:
    msg = s.recv(4096).decode("utf-8", "replace")
    with open(out, "a") as f:
        f.write(msg.replace("\n", "|") + "\n")
