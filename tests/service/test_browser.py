"""The web page in a real headless browser (Debian's Chromium driven through chromedriver's W3C WebDriver
protocol, spoken here with httpx: no Selenium): fill the form, upload speech, submit, watch the job
finish, see the timeline plot and the download buttons; every control has a label."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the service tests need the [service] extra: pip install '.[service]'")
uvicorn = pytest.importorskip("uvicorn", reason="the service tests need the [service] extra: pip install '.[service]'")
httpx = pytest.importorskip("httpx", reason="the service tests need the [service] extra: pip install '.[service]'")

from service_helpers import ALICE, TOKENS  # noqa: E402

from visemes.service.app import create_app  # noqa: E402
from visemes.service.config import ServiceConfig, parse_clients  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no headless browser: apt-get install chromium chromium-driver (Debian) to run the page test")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """The few W3C WebDriver commands the test needs."""

    def __init__(self, port: int):
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                         "--window-size=1200,1600"]}}}}
        self.session = self._ok(self.http.post("/session", json=caps))["sessionId"]

    @staticmethod
    def _ok(response) -> dict:
        body = response.json()
        assert response.status_code == 200, body
        return body["value"]

    def cmd(self, method: str, path: str, body: dict | None = None):
        return self._ok(self.http.request(method, f"/session/{self.session}{path}", json=body))

    def go(self, url: str) -> None:
        self.cmd("POST", "/url", {"url": url})

    def find(self, css: str) -> str:
        found = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def type(self, css: str, text: str) -> None:
        element = self.find(css)
        self.cmd("POST", f"/element/{element}/clear", {})
        self.cmd("POST", f"/element/{element}/value", {"text": text})

    def click(self, css: str) -> None:
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def js(self, script: str, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def quit(self) -> None:
        try:
            self.http.delete(f"/session/{self.session}")
        finally:
            self.http.close()


@pytest.fixture()
def served(tmp_path):
    """The app on a real loopback socket (uvicorn in a thread, its worker running)."""
    config = ServiceConfig(data_dir=tmp_path / "data", clients=parse_clients(TOKENS, "test"), poll_seconds=0.05)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


@pytest.fixture()
def browser():
    port = free_port()
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/status", timeout=2).json()["value"]["ready"]:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.1)
        wd = WebDriver(port)
        try:
            yield wd
        finally:
            wd.quit()
    finally:
        driver.terminate()
        try:
            driver.wait(10)
        except subprocess.TimeoutExpired:
            driver.kill()


def test_submit_watch_and_see_the_result_in_a_browser(served, browser, speech_wav: Path):
    b = browser
    b.go(served + "/")
    unlabeled = b.js("return [...document.querySelectorAll('input, select, textarea')]"
                     ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id)")
    assert unlabeled == [], f"controls without a label: {unlabeled}"
    b.type("#token", ALICE)
    b.cmd("POST", f"/element/{b.find('#audio')}/value", {"text": str(speech_wav)})  # the file chooser
    b.type("#text", "hello world")
    b.type("#lang", "en-US")
    b.click("#use_model")  # off: coarticulation curves (fast)
    b.click("#submit")
    deadline = time.monotonic() + 180
    status = ""
    while time.monotonic() < deadline:
        status = b.js("return document.getElementById('status').textContent")
        if "succeeded" in status or "failed" in status or "Refused" in status:
            break
        time.sleep(0.2)
    assert "succeeded" in status, status
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not b.js("const i = document.getElementById('plot');"
                                                   "return !i.hidden && i.complete && i.naturalWidth > 0"):
        time.sleep(0.1)
    assert b.js("return document.getElementById('plot').naturalWidth") > 300  # the timeline PNG is shown
    buttons = b.js("return [...document.querySelectorAll('#downloads button')].map(e => e.textContent)")
    assert {"Download json", "Download csv", "Download textgrid", "Download plot"} <= set(buttons), buttons
    assert b.js("return document.getElementById('status').getAttribute('aria-live')") == "polite"
