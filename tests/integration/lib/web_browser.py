#!/usr/bin/python3
"""A person at the report pages in headless Chromium (Debian's chromium and
chromium-driver through python3-selenium): signed in by nginx's basic auth,
acknowledges a firing alert on its page and silences its host from the
host page, through rmon-web's confirmation forms, without JavaScript on
our side. Saves screenshots of each step into ARTEFACTS.

Usage: web_browser.py BASE_URL USER PASSWORD ALERT_PAGE HOST_PAGE ARTEFACTS
"""
import base64
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browse import make_driver, wait_for  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def submit_action(driver, page, action, artefacts, fill=None):
    """Clicks the page's form for action, fills the confirmation form,
    submits it and waits to be back on page."""
    driver.get(page)
    wait_for(driver, "return document.readyState === 'complete'", "the page")
    buttons = driver.find_elements(
        By.XPATH, f"//form[input[@name='do' and @value='{action}']]//button")
    if not buttons:
        raise AssertionError(f"{page}: no form for '{action}'")
    buttons[0].click()
    wait_for(driver, "return !!document.querySelector('form[method=post]')",
             f"the {action} confirmation form")
    for name, value in (fill or {}).items():
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    driver.save_screenshot(os.path.join(artefacts, f"web-{action}-confirm.png"))
    driver.find_element(By.CSS_SELECTOR, "form[method=post] button[type=submit]").click()
    wait_for(driver, f"return location.href === {page!r}", f"the way back to {page}")
    driver.save_screenshot(os.path.join(artefacts, f"web-{action}-done.png"))
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    if errors:
        raise AssertionError(f"console errors: {errors}")
    print(f"{action}: submitted, back on {page}")


def main():
    base, user, password, alert_page, host_page, artefacts = sys.argv[1:7]
    os.makedirs(artefacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        driver = make_driver(profile)
        try:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                                   {"headers": {"Authorization": f"Basic {token}"}})
            driver.set_window_size(1200, 900)
            submit_action(driver, f"{base}/{alert_page}", "ack", artefacts,
                          {"comment": "swapping the disk tonight <b>bold</b>"})
            submit_action(driver, f"{base}/{host_page}", "silence", artefacts,
                          {"for": "2h", "comment": "maintenance"})
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
