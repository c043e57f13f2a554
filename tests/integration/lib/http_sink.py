#!/usr/bin/python3
"""A local HTTP receiver for the webhook, SMS and push tests, on 127.0.0.1.

Each request is written to DIR as NNNN.json: {"method", "path", "headers",
"body"} (body as text), through a .tmp and a rename.  Prints "ready PORT".

Usage: http_sink.py --port PORT --dir DIR [--basic USER:PASSWORD]
                    [--bearer TOKEN] [--statuses 500,200]
  --basic     answer 401 unless the request carries these credentials
  --bearer    answer 401 unless Authorization is "Bearer TOKEN"
  --statuses  the status of each request in turn (the last one repeats)
"""
import argparse
import base64
import http.server
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--basic")
    ap.add_argument("--bearer")
    ap.add_argument("--statuses", default="200")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    statuses = [int(s) for s in args.statuses.split(",")]
    state = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            sys.stderr.write("http_sink: " + (fmt % a) + "\n")

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            auth = self.headers.get("Authorization", "")
            ok = True
            if args.basic:
                ok = auth == "Basic " + base64.b64encode(args.basic.encode()).decode()
            if args.bearer:
                ok = auth == "Bearer " + args.bearer
            if not ok:
                self.send_response(401)
                self.end_headers()
                self.wfile.write(b"bad credentials")
                return
            i = state["n"]
            state["n"] += 1
            status = statuses[min(i, len(statuses) - 1)]
            if status // 100 == 2:
                record = {
                    "method": "POST",
                    "path": self.path,
                    "headers": {k: v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }
                base = os.path.join(args.dir, "%04d" % (len(os.listdir(args.dir)) + 1))
                with open(base + ".tmp", "w") as f:
                    json.dump(record, f)
                os.rename(base + ".tmp", base + ".json")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"status %d from the test sink" % status)

    server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", args.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
