"""The report in a real browser: headless Chromium opens it with the network off, no console error,
every chart drawn; one screenshot per page.

Chromium is Debian's `chromium`, driven over the DevTools protocol (tests/browser.py). Screenshots go to
$ECOM_REPORT_SCREENSHOTS when set, else to the test's tmp dir.

The marts come from `fake_marts()` (tests/report_fixtures.py): a small deterministic generator with
the marts' columns (docs/contract.md#models), so this test needs no build. To check a real report
instead (and make the docs screenshots):

    python -m ecom generate --scale 0.1 && python -m ecom build && python -m ecom report
    ECOM_REPORT_HTML=report.html ECOM_REPORT_SCREENSHOTS=docs python -m pytest tests/test_report_browser.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ecom.report import write_report
from tests.browser import Browser, chromium
from tests.report_fixtures import fake_marts


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
    exe = chromium()
    assert exe, "chromium not found"
    out_dir.mkdir(parents=True, exist_ok=True)
    b = Browser(exe)
    try:
        b.open_offline(html)
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
    errors, requests = b.errors(), b.requests()
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
    if not chromium():
        pytest.skip("headless Chromium not installed (apt-get install chromium); set CHROMIUM to its path")
    pytest.importorskip("websocket", reason="websocket-client not installed (pip install -e .[test])")
    out = Path(os.environ.get("ECOM_REPORT_SCREENSHOTS") or tmp_path)
    html = Path(os.environ.get("ECOM_REPORT_HTML") or fake_report)
    states = check_report(html, out)
    assert sum(len(c) for c in states.values()) >= 14
    for page in PAGES:
        assert (out / f"report-{page}.png").stat().st_size > 10_000
