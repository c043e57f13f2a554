#!/usr/bin/python3
"""Checks a site written by rmon-reportgen, as a strict reader would.

Usage: check_site.py OUT [--hostile TEXT] [--max-host-kb N] [--max-index-kb N]

- every .html file parses with html5lib in strict mode (no parse error);
- every local link and image it references exists; images are non-empty,
  SVG graphs parse as XML with an <svg> root;
- nothing refers outside the site (no http:, https:, // URLs, no script src);
- TEXT (a hostile label value) never appears raw in any page or graph, and
  is shown as text on at least one page;
- weights: a host page <= --max-host-kb, index.html <= --max-index-kb.
Prints one line per problem and exits 1 when there is any.
"""
import argparse
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import html5lib

problems = []


def problem(path, what):
    problems.append(f"{path}: {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hostile")
    ap.add_argument("--max-host-kb", type=int, default=100)
    ap.add_argument("--max-index-kb", type=int, default=300)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    pages = images = 0
    shown_as_text = False
    checked_images = set()
    for root, _dirs, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, out)
            if name.endswith(".tmp"):
                problem(rel, "a temporary file was left behind")
            if args.hostile and (name.endswith(".html") or name.endswith(".svg")):
                if args.hostile.encode() in open(path, "rb").read():
                    problem(rel, "holds the hostile text raw")
            if not name.endswith(".html"):
                continue
            pages += 1
            data = open(path, "rb").read()
            if rel.startswith("hosts/") and len(data) > args.max_host_kb * 1024:
                problem(rel, f"{len(data)} bytes: over {args.max_host_kb} KB")
            if rel == "index.html" and len(data) > args.max_index_kb * 1024:
                problem(rel, f"{len(data)} bytes: over {args.max_index_kb} KB")
            parser = html5lib.HTMLParser(strict=False, namespaceHTMLElements=False)
            try:
                doc = parser.parse(data)
            except Exception as e:  # strict parsing raises at the first error
                problem(rel, f"does not parse: {e}")
                continue
            for pos, err, vars_ in parser.errors:
                problem(rel, f"HTML5 parse error at {pos}: {err} {vars_ or ''}")
            if args.hostile and args.hostile in "".join(doc.itertext()):
                shown_as_text = True
            for el in doc.iter():
                tag = el.tag if isinstance(el.tag, str) else ""
                if tag == "script" and el.get("src"):
                    problem(rel, f"script from {el.get('src')}")
                if tag == "link" and not el.get("href", "").startswith("data:"):
                    problem(rel, f"external resource {el.get('href')}")
                for attr in ("src", "href"):
                    url = el.get(attr)
                    if url is None:
                        continue
                    if url.startswith(("http:", "https:", "//")):
                        problem(rel, f"refers outside the site: {url}")
                        continue
                    if url.startswith(("#", "mailto:", "data:")):
                        continue
                    target = os.path.normpath(os.path.join(
                        root, urllib.parse.unquote(url.split("#")[0])))
                    if not target.startswith(out):
                        problem(rel, f"{url} leaves the site")
                    elif not os.path.isfile(target):
                        problem(rel, f"{url}: no such file")
                    elif tag == "img" and target not in checked_images:
                        checked_images.add(target)
                        images += 1
                        check_image(os.path.relpath(target, out), target)
    if args.hostile and not shown_as_text:
        problem(out, "the hostile text is shown on no page")
    if pages == 0:
        problem(out, "no page")
    for p in problems:
        print(p)
    print(f"{pages} pages, {images} images checked, {len(problems)} problems")
    return 1 if problems else 0


def check_image(rel, path):
    size = os.path.getsize(path)
    if size == 0:
        problem(rel, "empty image")
        return
    if path.endswith(".svg"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            problem(rel, f"not valid SVG: {e}")
            return
        if not root.tag.endswith("svg"):
            problem(rel, f"root element is {root.tag}, not svg")
    elif path.endswith(".png"):
        if open(path, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
            problem(rel, "not a PNG")


if __name__ == "__main__":
    sys.exit(main())
