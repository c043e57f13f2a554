#!/usr/bin/python3
"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1 only.

Each accepted message is written to DIR as NNNN.eml (written to a .tmp and
renamed, so a test never reads half a message), with the envelope in
NNNN.env (MAIL FROM, then one RCPT TO a line).  Prints "ready PORT" on
stdout once it listens.

Usage: smtp_sink.py --port PORT --dir DIR [--tls-cert F --tls-key F]
                    [--auth USER:PASSWORD] [--reject-data N] [--delay S]
  --tls-cert/--tls-key  offer STARTTLS with this certificate (and require it
                        before AUTH)
  --auth                require AUTH (PLAIN or LOGIN) with these credentials
  --reject-data N       answer the first N DATA transfers with 451
  --delay S             wait S seconds before answering each DATA
"""
import argparse
import asyncio
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder, reject, delay):
        self.folder = folder
        self.reject = reject
        self.delay = delay
        self.count = 0
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.attempts <= self.reject:
            return "451 4.3.0 try again later (test sink)"
        self.count += 1
        base = os.path.join(self.folder, "%04d" % self.count)
        with open(base + ".env.tmp", "w") as f:
            f.write(envelope.mail_from + "\n")
            for rcpt in envelope.rcpt_tos:
                f.write(rcpt + "\n")
        os.rename(base + ".env.tmp", base + ".env")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 accepted as %04d" % self.count


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--auth")
    ap.add_argument("--reject-data", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    kwargs = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.auth:
        user, password = args.auth.split(":", 1)
        kwargs["authenticator"] = authenticator(user, password)
        kwargs["auth_required"] = True
        # Without TLS a test may still check AUTH on 127.0.0.1.
        kwargs["auth_require_tls"] = bool(args.tls_cert)
    controller = Controller(
        Sink(args.dir, args.reject_data, args.delay),
        hostname="127.0.0.1",
        port=args.port,
        server_hostname="sink.test",
        **kwargs,
    )
    controller.start()
    print("ready", args.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
