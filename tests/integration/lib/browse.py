#!/usr/bin/python3
"""Loads pages of the report in headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium) as a person would see them:
light and dark (prefers-color-scheme), a desktop and a phone-sized window.
Fails on any console error, any image that did not load (lazy ones are
scrolled into view first), or a page wider than the phone's screen;
saves a full-page screenshot of each as ARTEFACTS/NAME-MODE-SIZE.png.

Usage: browse.py BASE_URL ARTEFACTS PATH...
"""
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SIZES = {"desktop": (1366, 900, False), "phone": (390, 844, True)}


def make_driver(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait_for(driver, script, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if driver.execute_script(script):
            return
        time.sleep(0.1)
    raise AssertionError(f"{driver.current_url}: timed out waiting for {what}")


def main():
    base, artefacts, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(artefacts, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        driver = make_driver(profile)
        try:
            for path in paths:
                for mode in ("light", "dark"):
                    for size, (w, h, mobile) in SIZES.items():
                        failures += look(driver, base, path, mode, size, w, h, mobile,
                                         artefacts)
        finally:
            driver.quit()
    for f in failures:
        print(f)
    print(f"{len(paths)} pages x 2 schemes x 2 sizes, {len(failures)} problems")
    return 1 if failures else 0


def look(driver, base, path, mode, size, w, h, mobile, artefacts):
    problems = []
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": mode}]})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})
    driver.get_log("browser")  # what earlier pages said is not this page's
    driver.get(f"{base}/{path}")
    wait_for(driver, "return document.readyState === 'complete'", "the page to load")
    # Lazy images load once near the viewport: scroll through the page.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    for y in range(0, height + h, h // 2):
        driver.execute_script(f"window.scrollTo(0, {y})")
        time.sleep(0.05)
    wait_for(driver, "return [...document.images].every(i => i.complete)", "the images")
    broken = driver.execute_script(
        "return [...document.images].filter(i => !i.naturalWidth).map(i => i.src)")
    for src in broken:
        problems.append(f"{path} {mode} {size}: image did not load: {src}")
    n_images = driver.execute_script("return document.images.length")
    scheme = driver.execute_script(
        "return matchMedia('(prefers-color-scheme: dark)').matches")
    if scheme != (mode == "dark"):
        problems.append(f"{path}: the {mode} scheme was not applied")
    background = driver.execute_script(
        "return getComputedStyle(document.body).backgroundColor")
    dark_bg = background in ("rgb(17, 20, 24)",)
    if dark_bg != (mode == "dark"):
        problems.append(f"{path} {mode}: body background {background}")
    if mobile:
        wide = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        if wide > 2:
            problems.append(f"{path} {mode} {size}: page {wide}px wider than the screen")
    for entry in driver.get_log("browser"):
        if entry["level"] in ("SEVERE", "ERROR"):
            problems.append(f"{path} {mode} {size}: console: {entry['message']}")
    driver.execute_script("window.scrollTo(0, 0)")
    name = path.replace("/", "_").replace(".html", "")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True})
    import base64
    with open(os.path.join(artefacts, f"{name}-{mode}-{size}.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"{path} {mode} {size}: {n_images} images, all loaded" if not broken
          else f"{path} {mode} {size}: {len(broken)} of {n_images} images broken")
    return problems


if __name__ == "__main__":
    sys.exit(main())
