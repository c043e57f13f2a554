#!/usr/bin/python3
"""Reads a mail as a client would (Python's email package) and prints what a
test checks, one "name: value" a line: the headers decoded, each part's
type, the text part, and facts about the HTML part and the inline image.

Usage: check_mail.py FILE
"""
import email
import email.policy
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    # Raw header lines: none may carry a bare CR or LF.
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if b"\r" in line:
            print("bad-header-line:", line)
    for name in ("From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
                 "Date", "Auto-Submitted", "Bcc"):
        if msg[name] is not None:
            print("%s: %s" % (name.lower(), msg[name]))
    print("defects:", len(msg.defects))
    for part in msg.walk():
        print("part:", part.get_content_type())
        if part.defects:
            print("part-defects:", part.get_content_type(), part.defects)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    if text is not None:
        for line in text.get_content().splitlines():
            print("text:", line)
    if html is not None:
        content = html.get_content()
        print("html-bytes:", len(content))
        print("html-has-script:", "<script" in content.lower())
        for part in msg.walk():
            cid = part.get("Content-ID")
            if part.get_content_type() == "image/png" and cid:
                data = part.get_content()
                print("image-cid:", cid)
                print("image-png:", data[:8] == b"\x89PNG\r\n\x1a\n", len(data))
                print("image-referenced:", ("cid:" + cid.strip("<>")) in content)


if __name__ == "__main__":
    main()
