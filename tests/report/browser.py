"""Drive a real headless Chromium over a local HTML page: load it from file://, collect console
errors and failed or external requests, check that every <img> rendered (naturalWidth > 0), count
elements and optionally save a full-page PNG screenshot.

Uses Debian's ``chromium`` and ``chromium-driver`` packages through Selenium (never downloads a
browser). Also a command:  python tests/report/browser.py report.html out.png
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

# Chromium floods a closed network without the networking flags; a fresh profile keeps runs independent.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")

IMAGES_JS = """return Array.from(document.images).map(i => ({src: i.src.slice(0, 60), alt: i.alt,
    complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight}));"""


@dataclass
class PageCheck:
    """What the browser saw on one page."""

    url: str
    title: str = ""
    text: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    screenshot: Path | None = None

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not i["complete"] or i["naturalWidth"] <= 0]

    @property
    def ok(self) -> bool:
        """Loaded with no console error, no failed or external request, and every image rendered."""
        return not (self.console_errors or self.failed_requests or self.external_requests or self.broken_images)


def find_browser() -> tuple[str, str] | None:
    """Paths of (chromium, chromedriver), or None when either is missing. EVOKIT_CHROMIUM and
    EVOKIT_CHROMEDRIVER override the lookup on PATH."""
    chromium = os.environ.get("EVOKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("EVOKIT_CHROMEDRIVER") or shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def require_browser(what: str) -> None:
    """Fail (when the CI environment variable is set) or skip the calling test when selenium,
    chromium or chromedriver is missing; ``what`` names the test in the message."""
    import pytest

    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    if find_browser() is None:
        missing.append("chromium and chromedriver (apt-get install -y chromium chromium-driver)")
    if missing:
        message = f"{what} needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + "; skipped because CI is not set")


def _driver(width: int, height: int, profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError("chromium and chromedriver are not installed: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=found[1]), options=options)


def _network(driver: Any, url: str) -> tuple[list[str], list[str]]:
    """(failed requests, requests to anything but file:// and data:) made by the page at ``url``,
    from the performance log (the browser's own background requests are not the page's)."""
    failed, external, mine = [], [], {}
    entries: list[dict[str, Any]] = []
    for _ in range(20):  # the log arrives in pieces: read until it stops growing
        new = driver.get_log("performance")
        if not new and entries:
            break
        entries += new
        time.sleep(0.1)
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent" and params.get("documentURL") == url:
            request_url = params["request"]["url"]
            mine[params["requestId"]] = request_url
            if not request_url.startswith(("file:", "data:")):
                external.append(request_url[:200])
        elif message["method"] == "Network.loadingFailed" and params.get("requestId") in mine:
            failed.append(f"{mine[params['requestId']][:300]}: {params.get('errorText')}")
    return failed, external


def _screenshot(driver: Any, path: Path, width: int) -> None:
    """A PNG of the whole page (not just the window), at 1 CSS pixel per pixel."""
    import base64

    height = int(driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                             "clip": {"x": 0, "y": 0, "width": width,
                                                                      "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def check_page(page: str | Path, screenshot: str | Path | None = None, selectors: Sequence[str] = (),
               width: int = 1280, height: int = 900, timeout: float = 30.0) -> PageCheck:
    """Load ``page`` (a local file) in headless Chromium and report what happened; count the
    elements matching each CSS selector; save a full-page screenshot if ``screenshot`` is given."""
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="evokit-chromium-") as profile:
        driver = _driver(width, height, profile)
        try:
            driver.set_page_load_timeout(timeout)
            driver.get_log("performance")  # drop what the browser did before the page
            driver.get(url)
            deadline = time.monotonic() + timeout
            while not driver.execute_script("return document.readyState === 'complete' && "
                                            "Array.from(document.images).every(i => i.complete)"):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            result = PageCheck(url=url, title=driver.title,
                               text=driver.execute_script("return document.body ? document.body.innerText : ''"))
            result.images = driver.execute_script(IMAGES_JS)
            result.counts = {s: int(driver.execute_script("return document.querySelectorAll(arguments[0]).length", s))
                             for s in selectors}
            result.console_errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            result.failed_requests, result.external_requests = _network(driver, url)
            if screenshot is not None:
                result.screenshot = Path(screenshot)
                _screenshot(driver, result.screenshot, width)
        finally:
            driver.quit()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2):
        print("usage: python tests/report/browser.py PAGE.html [SCREENSHOT.png]", file=sys.stderr)
        return 2
    result = check_page(args[0], args[1] if len(args) == 2 else None)
    print(f"{result.url}: title {result.title!r}, {len(result.images)} image(s), "
          f"{len(result.broken_images)} broken, {len(result.console_errors)} console error(s), "
          f"{len(result.failed_requests)} failed and {len(result.external_requests)} external request(s)")
    for line in result.console_errors + result.failed_requests + result.external_requests:
        print("  " + line)
    if result.screenshot:
        print(f"screenshot: {result.screenshot}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
