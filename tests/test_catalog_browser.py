"""The `ecom docs` catalog in headless Chromium (tests/browser.py), network off: no console error, no
request, a search finds a column by a word of its description, and a click on the lineage graph
opens the model (or the exposure). Runs in CI like the report's browser test (Chromium installed
there when missing)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ecom.core.docstrings import model_docs
from ecom.core.vars import resolve_vars
from ecom.outputs.catalog import catalog, write_catalog
from ecom.targets.base import Location
from tests.browser import Browser, chromium
from tests.conftest import EXPOSURE, SNAPSHOT_AS_OF

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(project, tmp_path_factory) -> Path:
    # the project's own exposures (the report's pages) and the test's, which reads a mart not here
    with_exposure = dataclasses.replace(project, exposures={**project.exposures, EXPOSURE.name: EXPOSURE})
    values = resolve_vars(project.vars, {"as_of": SNAPSHOT_AS_OF}, lambda _: None)
    data = catalog(with_exposure, values, (lambda _: Location("raw", "p"), Location("ecom", "p")))
    data["models"].update({name: {**data["models"][name], "build": build} for name, build in BUILDS.items()})
    return write_catalog(data, tmp_path_factory.mktemp("docs") / "catalog.html", "html")


# two models' last builds as catalog() writes them: _ecom_build may hold no row count (rows NULL)
BUILDS = {
    "stg_orders": {"rows": 1234567, "seconds": 0.5, "built_at": "2024-06-30T08:00:00+00:00"},
    "stg_users": {"rows": None, "seconds": 1.25, "built_at": "2024-06-30T08:00:01+00:00"},
}


@pytest.fixture(scope="module")
def browser(page):
    exe = chromium()
    if not exe:
        pytest.skip("headless Chromium not installed (apt-get install chromium); set CHROMIUM to its path")
    pytest.importorskip("websocket", reason="websocket-client not installed (pip install -e .[test])")
    b = Browser(exe)
    b.open_offline(page)
    b.wait_for("document.readyState === 'complete' && window.catalogStatus && window.catalogStatus.ready")
    yield b
    b.close()


def _word_of_one_column(project) -> tuple[str, str]:
    """A word found in one column's description only, and in no name, grain or model description."""
    docs = model_docs(project)
    elsewhere = " ".join([*docs, *(f"{d.grain} {d.description} {' '.join(d.columns)}" for d in docs.values())])
    places: dict[str, set[str]] = {}
    for name, doc in docs.items():
        for column, text in doc.columns.items():
            for word in re.findall(r"[a-z]{7,}", text.lower()):
                places.setdefault(word, set()).add(f"{name}.{column}")
    for word, where in sorted(places.items()):
        if len(where) == 1 and word not in elsewhere.lower():
            return word, where.pop()
    raise AssertionError("no word belongs to one column only")


def _center(b: Browser, js_rect: str) -> tuple[float, float]:
    r = b.eval(f"(() => {{ const r = {js_rect}; return [r.left + r.width / 2, r.top + r.height / 2]; }})()")
    return r[0], r[1]


def test_search_finds_a_column_by_a_word_of_its_description(browser, project):
    word, column = _word_of_one_column(project)
    browser.eval("document.getElementById('search').focus()")
    browser.send("Input.insertText", text=word.upper())  # case does not matter
    browser.wait_for("!document.getElementById('results').hidden")
    labels = browser.eval("Array.from(document.querySelectorAll('#results .result')).map(a => a.dataset.label)")
    assert labels == [column]
    browser.click(*_center(browser, "document.querySelector('#results .result').getBoundingClientRect()"))
    model, name = column.split(".")
    browser.wait_for(f"window.catalogStatus.current === '{model}'")
    row = browser.eval(f"document.getElementById('col-{model}-{name}').innerText")
    assert row.startswith(name) and word in row.lower()


def _node_center(b: Browser, node: str) -> tuple[float, float]:
    b.eval("window.scrollTo(0, 0)")
    b.wait_for("window.scrollY === 0")  # a condition, not a guessed delay
    return _center(
        b,
        f"""(() => {{
        const box = document.getElementById('lineage').getBoundingClientRect();
        const p = window.catalogGraph.getElementById('{node}').renderedPosition();
        return {{left: box.left + p.x, top: box.top + p.y, width: 0, height: 0}};
      }})()""",
    )


def test_a_click_on_the_lineage_opens_the_model_and_the_exposure(browser):
    browser.eval("location.hash = ''")
    browser.wait_for("window.catalogStatus.current === null")
    browser.click(*_node_center(browser, "fact_daily_pnl"))
    browser.wait_for("window.catalogStatus.current === 'fact_daily_pnl'")
    text = browser.eval("document.getElementById('model').innerText")
    assert text.startswith("fact_daily_pnl\n")
    read_by = next(line for line in text.splitlines() if line.startswith("Read by: "))
    assert read_by.startswith("Read by: fact_daily_pnl_advanced, ") and read_by.endswith(", weekly_review (exposure)")
    assert "One row per date" in text and "SELECT" in text
    browser.click(*_node_center(browser, "exposure:weekly_review"))
    browser.wait_for("window.catalogStatus.current === 'exposure:weekly_review'")
    assert "The Monday review" in browser.eval("document.getElementById('model').innerText")


def test_a_build_line_with_and_without_a_row_count(browser):
    """A NULL row count threw "Cannot read properties of null" and left the model's page unfinished."""
    lines = {}
    for name in BUILDS:
        browser.eval(f"location.hash = 'model={name}'")
        browser.wait_for(f"window.catalogStatus.current === '{name}'", timeout=10)
        lines[name] = browser.eval("document.querySelector('#model .build')?.textContent ?? null")
    assert lines == {
        "stg_orders": "Built 2024-06-30T08:00:00+00:00: 1,234,567 rows in 0.5 s",
        "stg_users": "Built 2024-06-30T08:00:01+00:00 in 1.25 s",
    }
    assert browser.errors() == []


def test_no_console_error_and_no_request(browser, tmp_path):
    browser.eval("1")  # take in pending events
    assert browser.errors() == []
    requests = browser.requests()
    assert requests and all(u.startswith("file:") for u in requests), requests
    browser.screenshot(tmp_path / "catalog.png")
    assert (tmp_path / "catalog.png").stat().st_size > 10_000
