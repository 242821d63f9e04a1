"""The live page of ``evokit serve`` in a real headless Chromium, against a real server and a
real (tiny) job: the token, the form, the job page's live plots, Stop and Resume, the best
model's download link, the delete button, and a phone's width.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package. When the CI
environment variable is set, a missing browser fails the test; elsewhere it is skipped.
With EVOKIT_SCREENSHOTS=1 the screenshot of the job page is kept as docs/images/service-job.png
(and the phone's as docs/images/service-phone.png).
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "report"))
sys.path.insert(0, str(HERE))
from browser import _driver, _screenshot, require_browser  # noqa: E402
from server import Server  # noqa: E402

TOKEN = "page-test-token-0123"
# The docs' screenshots are taken again only on request (EVOKIT_SCREENSHOTS=1), else into a temporary folder.
IMAGES = (REPO / "docs" / "images" if os.environ.get("EVOKIT_SCREENSHOTS")
          else Path(tempfile.mkdtemp(prefix="evokit-shots-")))
POINTS_JS = """const g = document.getElementById('scatter');
return g && g.data && g.data[0] ? g.data[0].x.length : -1;"""
FITS_JS = "return [document.documentElement.scrollWidth, window.innerWidth];"


@pytest.fixture(scope="module", autouse=True)
def browser():
    require_browser("the page test")


class Watch:
    """What the page did, from the browser's console and performance logs, read as the test goes
    (each read empties Chromium's buffers)."""

    def __init__(self, driver: Any, origin: str):
        self.driver = driver
        self.origin = origin
        self.console: list[str] = []
        self.requests: dict[str, str] = {}
        self.failed: list[str] = []
        self.bad_status: list[str] = []

    def read(self) -> "Watch":
        self.console += [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            method = message["method"]
            if method == "Network.requestWillBeSent":
                self.requests[params["requestId"]] = params["request"]["url"]
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                self.bad_status.append(f"{params['response']['status']} {params['response']['url'][:200]}")
            elif (method == "Network.loadingFailed" and params["requestId"] in self.requests
                  and not params.get("canceled") and params.get("errorText") != "net::ERR_ABORTED"):
                # (a closed EventSource, or a download the browser hands over, ends as ERR_ABORTED)
                self.failed.append(f"{self.requests[params['requestId']][:200]}: {params.get('errorText')}")
        return self

    @property
    def external(self) -> list[str]:
        return sorted({u[:200] for u in self.requests.values()
                       if not u.startswith((self.origin + "/", "data:", "blob:", "about:", "chrome"))})


def wait(what: str, condition: Callable[[], Any], timeout: float = 60.0, step: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(step)


def text(driver: Any, element_id: str) -> str:
    return driver.execute_script("const e = document.getElementById(arguments[0]); return e ? e.textContent : null",
                                 element_id) or ""


def hash_of(driver: Any) -> str:
    return driver.execute_script("return location.hash") or ""


def visible(driver: Any, selector: str) -> bool:
    return bool(driver.execute_script("const e = document.querySelector(arguments[0]);"
                                      "return !!e && !e.closest('[hidden]') && e.offsetParent !== null", selector))


def phone(driver: Any) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})


def fits(driver: Any, where: str) -> None:
    time.sleep(0.6)  # Plotly redraws at the new width after a resize event
    width, inner = driver.execute_script(FITS_JS)
    assert inner == 390 and width <= inner, f"{where}: the page is {width} px wide in a {inner} px window"


def test_page_runs_a_search_live(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    started = time.monotonic()
    laps = []
    lap = lambda name: laps.append(f"{name} {time.monotonic() - started:.1f}")  # noqa: E731
    server = Server(tmp_path / "root", token=TOKEN).start()
    # Keras (to load the downloaded model at the end) imports while the browser waits on the job.
    preload = threading.Thread(target=importlib.import_module, args=("keras",), daemon=True)
    preload.start()
    profile = tempfile.mkdtemp(prefix="evokit-chromium-", dir=tmp_path)
    driver = _driver(1280, 900, profile)
    try:
        driver.set_page_load_timeout(60)
        driver.get_log("performance")  # drop what the browser did before the page
        watch = Watch(driver, server.url)
        driver.get(server.url + "/")

        lap("server+browser")
        # The server wants a token: the page asks for it before anything else.
        wait("the token field", lambda: visible(driver, "#token-input"), 30)
        assert not visible(driver, "#new-job")
        driver.find_element(By.ID, "token-input").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "#token-form button[type=submit]").click()
        wait("the form", lambda: visible(driver, "#new-job"), 30)
        assert driver.execute_script("return localStorage.getItem('evokit-token')") == TOKEN
        wait("the empty job list", lambda: "No jobs yet" in driver.find_element(By.TAG_NAME, "main").text, 15)

        lap("token")
        # A bad config: the server's message, naming the field, shows next to the form.
        driver.find_element(By.CSS_SELECTOR, "details.toml summary").click()
        box = driver.find_element(By.ID, "f-config")
        box.send_keys("this is not [toml")
        driver.find_element(By.ID, "f-submit").click()
        error = wait("the refusal", lambda: text(driver, "form-error"), 30)
        assert "config" in error and visible(driver, "#form-error"), error
        assert hash_of(driver) in ("", "#/")
        box.clear()

        lap("refusal")
        # The form's own fields: a tiny search on digits.
        driver.find_element(By.ID, "f-name").send_keys("page test")
        Select(driver.find_element(By.ID, "f-dataset")).select_by_value("digits")
        Select(driver.find_element(By.ID, "f-encoding")).select_by_value("deepga")
        Select(driver.find_element(By.ID, "f-search")).select_by_value("ga")
        for check in driver.find_elements(By.CSS_SELECTOR, "input[name=objectives]"):
            if check.is_selected() != (check.get_attribute("value") == "accuracy"):
                check.click()
        for key, value in {"generations": 3, "population": 4, "epochs": 1, "final-epochs": 1, "seed": 0}.items():
            field = driver.find_element(By.ID, f"f-{key}")
            field.clear()
            field.send_keys(str(value))
        driver.find_element(By.ID, "f-submit").click()

        job_id = wait("the job page", lambda: hash_of(driver).startswith("#/jobs/") and hash_of(driver)[7:], 60)
        assert "/" not in job_id, job_id
        status, job, _ = server.request("GET", f"/api/jobs/{job_id}")
        assert status == 200 and job["name"] == "page test" and job["dataset"] == "digits"
        wait("the job's name", lambda: text(driver, "view").startswith("← all jobspage test"), 30)
        watch.read()

        lap("submitted")
        # The scatter gains points while the job runs.
        first = wait("a first candidate on the scatter", lambda: max(driver.execute_script(POINTS_JS), 0), 240)
        later = wait("more candidates", lambda: (n := driver.execute_script(POINTS_JS)) > first and n, 120, 0.1)
        assert text(driver, "job-state") == "running", text(driver, "job-state")
        assert later > first >= 1
        lap("grew")
        stop = driver.find_element(By.ID, "stop")
        assert stop.is_enabled() and not driver.find_element(By.ID, "resume").is_enabled()
        stop.click()
        wait("stopping or stopped", lambda: text(driver, "job-state") in ("stopping", "stopped"), 15)
        wait("stopped", lambda: text(driver, "job-state") == "stopped", 180)
        assert driver.find_element(By.ID, "resume").is_enabled() and not stop.is_enabled()
        lap("stopped")
        stopped_at = driver.execute_script(POINTS_JS)
        watch.read()
        driver.find_element(By.ID, "resume").click()
        wait("finished", lambda: text(driver, "job-state") == "finished", 300, 0.3)
        lap("finished")
        job = server.wait_for(job_id, ["finished"], 10)
        points = driver.execute_script(POINTS_JS)
        ok = sum(1 for line in (server.root / "jobs" / job_id / "run" / "candidates.jsonl").read_text().splitlines()
                 if json.loads(line)["status"] == "ok")
        assert stopped_at <= points == ok, (stopped_at, points, ok)  # one point per candidate, none twice
        generations = driver.execute_script("return document.getElementById('convergence').data[0].x")
        assert generations == list(range(4)), generations
        assert text(driver, "job-generation") == "3 / 3" or text(driver, "job-generation").startswith("3")
        assert driver.find_element(By.ID, "delete").is_enabled() and not stop.is_enabled()
        assert driver.find_elements(By.CSS_SELECTOR, ".modebar-btn") and not driver.find_elements(
            By.CSS_SELECTOR, ".modebar-btn[data-title^='Share']")  # no button that uploads the chart

        # Hovering a point shows that candidate's network and values.
        ActionChains(driver).move_to_element(
            driver.find_element(By.CSS_SELECTOR, "#scatter .scatterlayer .trace:first-child .point")).perform()
        wait("the hovered candidate", lambda: " > " in text(driver, "candidate"), 10)
        shown = text(driver, "candidate")
        assert "dense(10, softmax)" in shown and "val_accuracy" in shown and "params" in shown, shown

        # The best model's link downloads a model that loads and predicts ten classes.
        href = driver.find_element(By.ID, "link-best").get_attribute("href")
        assert href.startswith(server.url + f"/api/jobs/{job_id}/models/best.keras") and f"token={TOKEN}" in href
        model_file = tmp_path / "best.keras"
        with urllib.request.urlopen(href, timeout=60) as response:
            model_file.write_bytes(response.read())
        for key in ("report", "pareto", "config", "log"):
            link = driver.find_element(By.ID, f"link-{key}").get_attribute("href")
            with urllib.request.urlopen(link, timeout=60) as response:
                assert response.status == 200 and response.read(), key

        lap("downloads")
        # A picture of the job page at a desktop's width.
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.5)
        IMAGES.mkdir(parents=True, exist_ok=True)
        _screenshot(driver, IMAGES / "service-job.png", 1280)

        lap("screenshot")
        # A phone's width: nothing wider than the window, on the job page and on the list.
        phone(driver)
        fits(driver, "the job page")
        plot_width = driver.execute_script("return document.getElementById('scatter').getBoundingClientRect().width")
        assert 200 < plot_width <= 390, plot_width
        _screenshot(driver, IMAGES / "service-phone.png", 390)
        phone(driver)
        driver.find_element(By.CSS_SELECTOR, ".back a").click()
        wait("the job in the list", lambda: driver.find_elements(By.CSS_SELECTOR, f"tr[data-id='{job_id}']"), 15)
        assert "finished" in driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{job_id}']").text
        fits(driver, "the job list")

        lap("phone")
        # Delete, after a confirmation, goes back to the (now empty) list.
        driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{job_id}'] a").click()
        wait("the delete button", lambda: driver.find_elements(By.ID, "delete")
             and driver.find_element(By.ID, "delete").is_enabled(), 15)
        driver.find_element(By.ID, "delete").click()
        driver.switch_to.alert.accept()
        wait("the empty list", lambda: "No jobs yet" in driver.find_element(By.TAG_NAME, "main").text, 15)
        assert server.request("GET", f"/api/jobs/{job_id}")[0] == 404

        lap("deleted")
        watch.read()
        refusal = [e for e in watch.console if "/api/jobs - Failed to load resource" in e and " 422 " in e]
        assert [e for e in watch.console if e not in refusal] == [], watch.console
        assert len(refusal) <= 1 and watch.bad_status == [f"422 {server.url}/api/jobs"], watch.bad_status
        assert watch.failed == [] and watch.external == [], (watch.failed, watch.external)
    finally:
        driver.quit()
        server.stop()

    import keras
    import numpy as np

    model = keras.models.load_model(model_file)
    assert model.input_shape[1:] == (8, 8, 1), model.input_shape
    assert model.predict(np.zeros((3, 8, 8, 1), "float32"), verbose=0).shape == (3, 10)
    preload.join()
    lap("keras")
    print("page test:", ", ".join(laps))
