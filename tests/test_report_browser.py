"""The report in a real browser: headless Chromium opens it with the network off, no console error,
every chart drawn; one screenshot per page.

Chromium is Debian's `chromium` (/usr/bin/chromium, or $CHROMIUM), driven over the DevTools protocol
(`--remote-debugging-port` + websocket-client): no browser is downloaded. Screenshots go to
$ECOM_REPORT_SCREENSHOTS when set, else to the test's tmp dir.

The marts come from `fake_marts()` (tests/report_fixtures.py): a small deterministic generator with
the marts' columns (docs/contract.md#models), so this test needs no build. To check a real report
instead (and make the docs screenshots):

    python -m ecom generate --scale 0.1 && python -m ecom build && python -m ecom report
    ECOM_REPORT_HTML=report.html ECOM_REPORT_SCREENSHOTS=docs python -m pytest tests/test_report_browser.py
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from ecom.report import write_report
from tests.report_fixtures import fake_marts
from tests.services import free_port, stop


@pytest.fixture(scope="module")
def fake_report(tmp_path_factory) -> Path:
    marts = fake_marts()
    return write_report(marts.__getitem__, tmp_path_factory.mktemp("report") / "report.html")


def test_report_is_self_contained(fake_report: Path):
    text = fake_report.read_text()
    # plotly.js inlined exactly once, nothing loaded from elsewhere
    assert text.count("<script>") == 2
    head, plotly_js, rest = text.split("<script>", 1)[0], *text.split("<script>", 1)[1].split("</script>", 1)
    assert "plotly.js v" in plotly_js
    page = head + rest
    assert "<script src" not in page and "<link" not in page and "http" not in page
    assert "as of <b>2024-06-30</b>" in text
    assert "overstock_days = <b>90</b>" in text  # build parameters printed


# ------------------------------------------------------------------------------------------------
# Chromium over the DevTools protocol
# ------------------------------------------------------------------------------------------------

PAGES = ("overview", "marketing", "customers", "products")


def _chromium() -> str | None:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found or not _may_install_chromium():
        return found
    # CI runs as root on a machine that may be new: install Debian's Chromium rather than skip.
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        subprocess.run(
            cmd, check=False, capture_output=True, timeout=900, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
    return shutil.which("chromium")


def _may_install_chromium() -> bool:
    return os.environ.get("CI") == "true" and os.geteuid() == 0 and shutil.which("apt-get") is not None


class Browser:
    """One headless Chromium with one page, driven by CDP commands over a websocket."""

    def __init__(self, exe: str, width: int = 1440, height: int = 900):
        import websocket  # websocket-client

        self.profile = tempfile.mkdtemp(prefix="ecom-chromium-")
        port = free_port()
        self.proc = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--mute-audio",
                # no network: every host name fails to resolve and no proxy is reachable
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=127.0.0.1:9",
                f"--user-data-dir={self.profile}",
                f"--remote-debugging-port={port}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        ws_url = None
        while time.monotonic() < deadline and ws_url is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                ws_url = targets[0]["webSocketDebuggerUrl"] if targets else None
            except OSError:
                time.sleep(0.2)
        if ws_url is None:
            self.close()
            raise RuntimeError("chromium did not open its DevTools port")
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        self.width, self.height = width, height

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, js: str):
        r = self.send("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{js}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, js: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.eval(js):
            if time.monotonic() > deadline:
                raise TimeoutError(js)
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=h, deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)
        png = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(png))
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        stop(self.proc)
        shutil.rmtree(self.profile, ignore_errors=True)


CHART_STATE = """(() => {
  const page = document.querySelector('.page.active');
  return Array.from(page.querySelectorAll('.chart')).map(div => {
    const svg = div.querySelector('svg.main-svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const marks = div.querySelectorAll(
      '.trace, .point, .bars path, .slice path, .hm image, .heatmaplayer image, canvas').length;
    return {id: div.id, width: box.width, height: box.height, marks: marks};
  });
})()"""


def check_report(html: Path, out_dir: Path, prefix: str = "report-") -> dict[str, list[dict]]:
    """Open the report offline, visit each page, assert charts drew and nothing failed; screenshot each."""
    exe = _chromium()
    assert exe, "chromium not found"
    out_dir.mkdir(parents=True, exist_ok=True)
    b = Browser(exe)
    try:
        b.send("Runtime.enable")
        b.send("Log.enable")
        b.send("Network.enable")
        b.send("Page.enable")
        b.send("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1, uploadThroughput=-1)
        b.send("Page.navigate", url=html.resolve().as_uri())
        b.wait_for("document.readyState === 'complete' && !!window.reportStatus")
        states = {}
        for page in PAGES:
            b.eval(f"window.showPage('{page}')")
            b.wait_for(
                "Array.from(document.querySelectorAll('.page.active .chart'))"
                ".every(d => d.dataset.rendered && d.querySelector('svg.main-svg'))"
            )
            time.sleep(0.3)
            states[page] = b.eval(CHART_STATE)
            b.screenshot(out_dir / f"{prefix}{page}.png")
        status = b.eval("window.reportStatus")
        b.send("Runtime.evaluate", expression="1")  # drain pending events
    finally:
        b.close()
    errors = [
        e
        for e in b.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    requests = [e["params"]["request"]["url"] for e in b.events if e.get("method") == "Network.requestWillBeSent"]
    assert not errors, errors
    assert status["errors"] == [], status
    assert status["rendered"] == status["total"] > 0, status
    assert all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests
    for page, charts in states.items():
        assert charts, f"no chart on page {page}"
        for c in charts:
            assert c["width"] > 100 and c["height"] > 100 and c["marks"] > 0, (page, c)
    return states


@pytest.mark.browser
def test_report_renders_offline_in_chromium(fake_report: Path, tmp_path: Path):
    if not _chromium():
        pytest.skip("headless Chromium not installed (apt-get install chromium); set CHROMIUM to its path")
    pytest.importorskip("websocket", reason="websocket-client not installed (pip install -e .[test])")
    out = Path(os.environ.get("ECOM_REPORT_SCREENSHOTS") or tmp_path)
    html = Path(os.environ.get("ECOM_REPORT_HTML") or fake_report)
    states = check_report(html, out)
    assert sum(len(c) for c in states.values()) >= 14
    for page in PAGES:
        assert (out / f"report-{page}.png").stat().st_size > 10_000
