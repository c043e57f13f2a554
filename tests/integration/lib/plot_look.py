"""Looks at lib/plot's graphs as a reader does: each SVG parses as XML,
weighs at most 60 KB and carries no script; headless Chromium shows them
as <img> in light and dark scheme and on a phone-sized screen, every
image loaded, no console error, and the graph's own background follows
the scheme.  Screenshots go to the artefacts folder.

Usage: /usr/bin/python3 plot_look.py GALLERY_DIR ARTEFACTS_DIR"""
import glob
import os
import struct
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def png_pixel(data, x, y):
    """(r, g, b) at x, y of an 8-bit RGB or RGBA PNG (what Chromium saves)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("screenshot is not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                fail("unexpected PNG kind %d/%d" % (depth, colour))
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        previous = line
    return tuple(previous[x * bpp:x * bpp + 3])


def main():
    gallery, artefacts = sys.argv[1], sys.argv[2]
    os.makedirs(artefacts, exist_ok=True)
    graphs = sorted(glob.glob(os.path.join(gallery, "*.svg")))
    if len(graphs) < 5:
        fail("only %d graphs in %s" % (len(graphs), gallery))
    for path in graphs:
        ET.parse(path)  # raises on anything that is not well-formed XML
        text = open(path, encoding="utf-8").read()
        if "<script" in text:
            fail(path + ": a <script> element")
        if os.path.getsize(path) > 60 * 1024:
            fail("%s: %d bytes, more than 60 KB" % (path, os.path.getsize(path)))
        if "prefers-color-scheme:dark" not in text:
            fail(path + ": no dark-scheme style")
    page = os.path.join(gallery, "index.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write("<!doctype html><html lang=en><head><meta charset=utf-8>"
                "<meta name=viewport content='width=device-width'><title>graphs</title>"
                "<style>:root{color-scheme:light dark}body{margin:0}"
                "img{display:block;max-width:100%;height:auto}</style></head><body>")
        for path in graphs:
            f.write("<img alt='' src='%s'>" % os.path.basename(path))
        f.write("</body></html>")

    options = Options()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="plot-chromium-")
    options.add_argument("--user-data-dir=" + profile)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        for name, scheme, width in (("light", "light", 840), ("dark", "dark", 840),
                                    ("phone-dark", "dark", 390)):
            driver.set_window_size(width, 1400)
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]})
            driver.get("file://" + page)
            loaded = driver.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth,"
                " i.getBoundingClientRect().width, i.getBoundingClientRect().top])")
            for complete, natural, shown, _ in loaded:
                if not complete or natural == 0:
                    fail(name + ": an image did not load")
                if shown > width:
                    fail(name + ": an image wider than the screen")
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if errors:
                fail(name + ": console errors: %r" % errors)
            shot = os.path.join(artefacts, "plot-%s.png" % name)
            driver.save_screenshot(shot)
            # The graph's background, just inside its top left corner.
            top = int(loaded[0][3])
            r, g, b = png_pixel(open(shot, "rb").read(), 3, top + 3)
            dark = r + g + b < 200
            if dark != (scheme == "dark"):
                fail("%s: the background is rgb(%d, %d, %d)" % (name, r, g, b))
            print("%s: %d graphs, background rgb(%d, %d, %d), %s" % (name, len(loaded), r, g, b,
                                                                    shot))
    finally:
        driver.quit()
    print("ok")


main()
