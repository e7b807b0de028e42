"""The report in a real browser: headless Chromium opens it with the network off; the controls drive
the tiles, charts and tables, whose numbers equal the marts queried through Ibis for the same range
and filters; the campaign table sorts, searches and exports; no console error, no request; one
screenshot per page at 1400 px and at 420 px.

Chromium is Debian's `chromium`, driven over the DevTools protocol (tests/browser.py). Screenshots go to
$ECOM_REPORT_SCREENSHOTS when set, else to the test's tmp dir.

The marts come from `fake_marts()` (tests/report_fixtures.py): a small deterministic generator with
the marts' columns (docs/contract.md#models), so this test needs no build. The README's screenshots
come from a real build:

    python -m ecom generate --scale 0.1 && python -m ecom build && python -m ecom report
    ECOM_REPORT_HTML=report.html ECOM_REPORT_SCREENSHOTS=docs ECOM_REPORT_RANGE=ytd \\
        python -m pytest tests/test_report_browser.py -k screenshots
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import time
from pathlib import Path

import ibis
import pytest

from ecom.outputs.report import write_report
from tests.browser import Browser, chromium
from tests.report_fixtures import (
    AS_OF,
    CAMPAIGN_SCHEMA,
    INV_SCHEMA,
    fake_marts,
    fake_values,
    mem_records,
    write_fake_report,
)

PAGES = ("overview", "marketing", "customers", "products")


def open_report(html: Path, width: int) -> Browser:
    """Chromium on the report, offline, the first page drawn; skips without chromium."""
    exe = chromium()
    if not exe:
        pytest.skip("headless Chromium not installed (apt-get install chromium); set CHROMIUM to its path")
    pytest.importorskip("websocket", reason="websocket-client not installed (pip install -e .[test])")
    b = Browser(exe, width=width)
    # the window cannot be narrower than 500 px: emulate the screen
    b.send("Emulation.setDeviceMetricsOverride", width=width, height=b.height, deviceScaleFactor=1, mobile=False)
    b.open_offline(html)
    b.wait_for("document.readyState === 'complete' && !!window.reportStatus && window.reportStatus.ready")
    return b


def check_clean(b: Browser) -> None:
    """No console error, no exception, no request but the file itself (and the CSV's blob)."""
    b.send("Runtime.evaluate", expression="1")  # drain pending events
    assert not b.errors(), b.errors()
    assert b.eval("window.reportStatus.errors") == []
    requests = b.requests()
    assert all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests


CHARTS = """Array.from(document.querySelectorAll('.page.active .card')).filter(c => c.querySelector('canvas'))
  .map(c => { const canvas = c.querySelector('canvas'), ch = Chart.getChart(canvas),
    box = canvas.getBoundingClientRect();
    return {title: c.querySelector('h3').textContent, period: c.querySelector('.period').textContent,
            width: box.width, height: box.height, labels: ch.data.labels,
            series: Object.fromEntries(ch.data.datasets.map(d => [d.label, d.data]))}; })"""
TILES = """Object.fromEntries(Array.from(document.querySelectorAll('.page.active .tile'))
  .map(t => [t.dataset.label, t.dataset.value === '' ? null : Number(t.dataset.value)]))"""


HELP = """Object.fromEntries(Array.from(document.querySelectorAll('.page.active .tile'))
  .map(t => [t.dataset.label, t.querySelector('.help')?.textContent ?? '']))"""


def b_previous(b: Browser) -> dict:
    """The tiles' values over the comparison period."""
    return b.eval(TILES.replace("dataset.value", "dataset.previous"))


def show(b: Browser, page: str) -> None:
    b.eval(f"window.report.show('{page}')")
    b.wait_for(f"window.reportStatus.page === '{page}'")


def charts_by_title(b: Browser) -> dict[str, dict]:
    return {c["title"]: c for c in b.eval(CHARTS)}


@pytest.fixture(scope="module")
def fake(tmp_path_factory, project):
    """(html path, marts, vars) of a report of fake_marts()."""
    return write_fake_report(tmp_path_factory.mktemp("report") / "report.html", project)


@pytest.fixture(scope="module")
def wide(fake):
    b = open_report(fake[0], 1400)
    yield b
    b.close()


def sums(t: ibis.Table, **aggs) -> dict:
    return t.aggregate(**aggs).to_pyarrow().to_pylist()[0]


def ratio(a, b):
    return None if a is None or not b else a / b


def in_range(t: ibis.Table, column: str, start: dt.date, end: dt.date) -> ibis.Table:
    return t.filter(t[column].between(start, end))


def approx(x):
    # money is embedded to the cent per row: sums agree to a few cents in a million
    return None if x is None else pytest.approx(x, rel=1e-6, abs=1e-6)


@pytest.mark.browser
def test_pages_draw_offline(wide: Browser):
    print(
        f"first page interactive after {wide.eval('window.reportStatus.readyMs'):.0f} ms"
        " (headless Chromium, fake marts; a benchmark figure, not a limit)"
    )
    for page in PAGES:
        show(wide, page)
        charts = wide.eval(CHARTS)
        assert charts, page
        for c in charts:
            assert c["width"] > 100 and c["height"] > 100, (page, c["title"])
            assert any(v is not None for s in c["series"].values() for v in s), (page, c["title"])
            assert c["period"], (page, c["title"])  # every chart states its period
    check_clean(wide)


@pytest.mark.browser
def test_default_range_tiles_equal_the_marts(wide: Browser, fake):
    _, marts, _ = fake
    show(wide, "overview")
    tiles = wide.eval(TILES)
    pnl = marts["fact_daily_pnl"]
    start = AS_OF - dt.timedelta(days=29)  # the default range: the last 30 days to as_of
    s = sums(
        in_range(pnl, "date", start, AS_OF),
        net=pnl.net_revenue.sum(),
        spend=pnl.ad_spend.sum(),
        orders=pnl.orders.sum(),
        cp=pnl.contribution_profit.sum(),
    )
    last7 = sums(
        in_range(pnl, "date", AS_OF - dt.timedelta(days=6), AS_OF), net=pnl.net_revenue.sum(), spend=pnl.ad_spend.sum()
    )
    assert tiles["Net revenue"] == approx(s["net"])
    assert tiles["Ad spend"] == approx(s["spend"])
    assert tiles["Blended ROAS"] == approx(s["net"] / s["spend"])
    assert tiles["Blended ROAS, last 7 days"] == approx(last7["net"] / last7["spend"])
    assert tiles["Contribution profit"] == approx(s["cp"])
    assert tiles["Orders"] == s["orders"]
    assert tiles["Average order value"] == approx(s["net"] / s["orders"])
    # compared with the 30 days before: 2024-05-02 to 2024-05-31
    before = sums(in_range(pnl, "date", dt.date(2024, 5, 2), dt.date(2024, 5, 31)), net=pnl.net_revenue.sum())
    assert b_previous(wide)["Net revenue"] == approx(before["net"])
    # custom dates are bounded by the data's first date and as_of
    wide.eval("window.report.setRange('2000-01-01', '2030-01-01')")
    assert wide.eval("[window.report.state.start, window.report.state.end]") == [
        # fake_marts(): 240 days to as_of, from 2023-11-04; the monthly cohorts start on 2023-11-01
        "2023-11-01",
        AS_OF.isoformat(),
    ]
    wide.eval("window.report.preset(30)")
    check_clean(wide)


@pytest.mark.browser
def test_range_and_platform_filter_drive_the_marketing_page(wide: Browser, fake):
    _, marts, _ = fake
    show(wide, "marketing")
    wide.eval("window.report.preset(90)")
    wide.eval("window.report.filter('Platform', 'Google')")
    start = AS_OF - dt.timedelta(days=89)
    tiles = wide.eval(TILES)
    c = marts["fact_campaign_performance"]
    g = in_range(c, "spend_date", start, AS_OF).filter(c.platform == "Google")
    s = sums(
        g,
        spend=g.spend.sum(),
        revenue=g.attributed_revenue.sum(),
        orders=g.attributed_orders.sum(),
        clicks=g.clicks.sum(),
        imps=g.impressions.sum(),
    )
    assert tiles["Spend"] == approx(s["spend"])
    assert tiles["Attributed revenue"] == approx(s["revenue"])
    assert tiles["Attributed ROAS"] == approx(s["revenue"] / s["spend"])
    assert tiles["CPA"] == approx(s["spend"] / s["orders"])
    assert tiles["CTR"] == approx(s["clicks"] / s["imps"])
    pnl = in_range(marts["fact_daily_pnl"], "date", start, AS_OF)
    p = sums(pnl, net=pnl.net_revenue.sum(), spend=pnl.ad_spend.sum())
    assert tiles["Blended ROAS"] == approx(p["net"] / p["spend"])  # all platforms: the P&L has none

    charts = charts_by_title(wide)
    models = charts["Platform ROAS under each attribution model"]
    assert models["labels"] == ["Google", "Facebook", "YouTube", "Email"]
    a = marts["fact_attribution_models"]
    a = in_range(a, "date", start, AS_OF).filter(a.channel == "Google")
    expected = {
        r["attribution_model"]: r["revenue"] / r["spend"]
        for r in a.group_by("attribution_model")
        .aggregate(revenue=a.credited_revenue.sum(), spend=a.spend.sum())
        .to_pyarrow()
        .to_pylist()
    }
    assert list(models["series"]) == ["last_touch", "first_touch", "linear", "position_based", "time_decay"]
    for model, values in models["series"].items():
        assert values[0] == approx(expected[model]), model
        assert values[1:] == [None, None, None]  # the other platforms are filtered out
    funnel = charts["Funnel by channel (sessions)"]
    f = marts["fact_funnel_daily"]
    f = in_range(f, "session_date", start, AS_OF).filter(f.channel == "Google")
    fs = sums(f, sessions=f.sessions.sum(), carts=f.cart_sessions.sum())
    assert funnel["series"]["sessions"][0] == fs["sessions"]
    assert funnel["series"]["cart sessions"][0] == fs["carts"]
    wide.eval("window.report.filter('Platform', '')")
    check_clean(wide)


def table_js(title: str, js: str) -> str:
    """Run `js` with `c` bound to the card titled `title` on the active page."""
    return (
        "(() => { const c = Array.from(document.querySelectorAll('.page.active .card'))"
        f".find(c => c.querySelector('h3')?.textContent === {json.dumps(title)}); {js} }})()"
    )


def read_csv(b: Browser, title: str) -> list[dict]:
    """Click the table's Export CSV and parse what it wrote."""
    b.eval(table_js(title, "c.querySelector('.tools button').click();"))
    return list(csv.DictReader(io.StringIO(b.eval("window.lastCsv.text"))))


@pytest.mark.browser
def test_campaign_table_sorts_searches_and_exports(wide: Browser, fake, tmp_path):
    _, marts, _ = fake
    show(wide, "marketing")
    wide.eval("window.report.preset(30)")
    wide.send("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
    start = AS_OF - dt.timedelta(days=29)
    c = in_range(marts["fact_campaign_performance"], "spend_date", start, AS_OF)
    per_campaign = {
        (r["platform"], r["campaign_id"]): r
        for r in c.group_by("platform", "campaign_id")
        .aggregate(spend=c.spend.sum(), revenue=c.attributed_revenue.sum())
        .to_pyarrow()
        .to_pylist()
    }
    rows = read_csv(wide, "Campaigns")
    assert len(rows) == len(per_campaign) == 12  # every campaign, none capped
    spends = [float(r["Spend"]) for r in rows]
    assert spends == sorted(spends, reverse=True)  # by spend, largest first
    for r in rows:
        e = per_campaign[r["Platform"], r["Campaign"]]
        assert float(r["Spend"]) == approx(e["spend"])
        assert float(r["Attributed ROAS"]) == approx(e["revenue"] / e["spend"])

    # click "Spend" (sorted largest first): smallest first
    wide.eval(
        table_js("Campaigns", "Array.from(c.querySelectorAll('th')).find(th => th.textContent === 'Spend').click();")
    )
    # search: the Facebook campaigns only
    wide.eval(
        table_js(
            "Campaigns",
            "const s = c.querySelector('input.search'); s.value = 'fa-'; s.dispatchEvent(new Event('input'));",
        )
    )
    assert wide.eval(table_js("Campaigns", "return c.querySelectorAll('tbody tr').length;")) == 3
    rows = read_csv(wide, "Campaigns")
    assert [(r["Platform"], r["Campaign"]) for r in rows] == sorted(
        (k for k in per_campaign if k[1].startswith("fa-")), key=lambda k: per_campaign[k]["spend"]
    )
    name = wide.eval("window.lastCsv.name")
    assert "2024-06-01_2024-06-30" in name
    # the file the button saved (Chromium writes it asynchronously: wait for it to be complete)
    expected, saved = wide.eval("window.lastCsv.text"), tmp_path / name
    deadline = time.monotonic() + 10
    while not (saved.exists() and saved.read_text() == expected) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert saved.read_text() == expected
    wide.eval(
        table_js(
            "Campaigns", "const s = c.querySelector('input.search'); s.value = ''; s.dispatchEvent(new Event('input'));"
        )
    )
    check_clean(wide)


@pytest.mark.browser
def test_spend_without_attributed_revenue(wide: Browser, fake):
    _, marts, _ = fake
    show(wide, "marketing")
    start = AS_OF - dt.timedelta(days=2)
    wide.eval(f"window.report.setRange('{start}', '{AS_OF}')")
    c = in_range(marts["fact_campaign_performance"], "spend_date", start, AS_OF)
    # a campaign is its platform and its id (fact_campaign_performance's key)
    g = c.group_by("platform", "campaign_id").aggregate(spend=c.spend.sum(), revenue=c.attributed_revenue.sum())
    expected = g.filter((g.spend > 0) & (g.revenue == 0)).to_pyarrow().to_pylist()
    assert expected  # the fake marts have such a campaign in these 3 days
    rows = read_csv(wide, "Spend without attributed revenue")
    assert {(r["Platform"], r["Campaign"]): float(r["Spend"]) for r in rows} == {
        (r["platform"], r["campaign_id"]): approx(r["spend"]) for r in expected
    }
    wide.eval("window.report.preset(30)")
    check_clean(wide)


@pytest.mark.browser
def test_custom_range_and_segment_drive_the_customers_page(wide: Browser, fake):
    _, marts, _ = fake
    show(wide, "customers")
    start, end = dt.date(2024, 2, 10), dt.date(2024, 4, 20)
    wide.eval(f"window.report.setRange('{start}', '{end}')")
    wide.eval("window.report.filter('Segment', 'Champions')")
    tiles = wide.eval(TILES)
    c, s = marts["dim_customers"], marts["dim_customer_segments"]
    j = c.filter(c.is_customer).join(s, "user_id")
    # month grain: the cohorts of every month the range touches, February to April
    j = j.filter((j.segment == "Champions") & j.first_order_date.between(dt.date(2024, 2, 1), dt.date(2024, 4, 30)))
    e = sums(j, n=j.count(), revenue=j.lifetime_net_revenue.sum(), orders=j.orders.sum())
    assert e["n"] > 0
    assert tiles["New customers"] == e["n"]
    # compared with as many whole months before: November 2023 to January 2024
    previous = b_previous(wide)
    p = c.filter(c.is_customer).join(s, "user_id")
    p = p.filter((p.segment == "Champions") & p.first_order_date.between(dt.date(2023, 11, 1), dt.date(2024, 1, 31)))
    assert previous["New customers"] == p.count().execute()
    assert tiles["Lifetime net revenue per customer"] == approx(e["revenue"] / e["n"])
    assert tiles["Orders per customer"] == approx(e["orders"] / e["n"])

    wide.eval("window.report.filter('Segment', '')")
    econ = {r["Channel"]: r for r in read_csv(wide, "CAC, LTV and LTV:CAC by acquisition channel")}
    m = marts["fact_channel_economics"]
    m = m.filter(m.cohort_month.between(dt.date(2024, 2, 1), end))
    for r in (
        m.group_by("channel")
        .aggregate(
            new=m.new_customers.sum(),
            spend=m.spend.sum(),
            r30=m.revenue_30d.sum(),
            n30=m.new_customers.sum(where=m.revenue_30d.notnull()),
        )
        .to_pyarrow()
        .to_pylist()
    ):
        got = econ[r["channel"]]
        assert int(got["New customers"]) == r["new"]
        cac = ratio(r["spend"], r["new"])
        assert (float(got["CAC"]) if got["CAC"] else None) == approx(cac)
        assert (float(got["LTV 30d"]) if got["LTV 30d"] else None) == approx(ratio(r["r30"], r["n30"]))
    # as_of 2024-06-30: April's 30-day window ended 05-29, May's 06-29, June's has not
    assert "30-day LTV: cohorts from 2024-06 on" in wide.eval("document.querySelector('.page.active').textContent")
    check_clean(wide)


@pytest.mark.browser
def test_category_filter_drives_the_products_page(wide: Browser, fake):
    _, marts, _ = fake
    show(wide, "products")
    wide.eval("window.report.filter('Category', 'Jeans')")
    tiles = wide.eval(TILES)
    i = marts["fact_inventory_forecast"]
    i = i.filter(i.category == "Jeans")
    e = sums(
        i,
        n=i.count(),
        over=(i.inventory_status == "overstocked").sum(),
        dead=(i.inventory_status == "dead_stock").sum(),
        stock=i.stock_on_hand.sum(),
        units=i.avg_daily_units.sum(),
        selling=i.stock_on_hand.sum(where=i.units_sold_window > 0),
    )
    assert tiles["Products"] == e["n"]
    assert tiles["Overstocked"] == e["over"] and tiles["Dead stock"] == e["dead"]
    assert tiles["Average coverage"] == approx(e["selling"] / e["units"])
    status = charts_by_title(wide)["Products by inventory status"]
    # every status shown, with 0 when no product has it
    assert status["labels"] == ["out_of_stock", "dead_stock", "critical", "low", "overstocked", "healthy"]
    assert sum(status["series"]["Products"]) == e["n"]
    wide.eval("window.report.filter('Category', '')")
    check_clean(wide)


def small_marts_with_product_name(name: str) -> dict:
    """Small fake marts whose every product is called `name`."""
    marts = fake_marts(n_products=20, n_users=50)
    for mart in ("fact_product_performance", "fact_inventory_forecast"):
        rows = marts[mart].to_pyarrow()
        marts[mart] = ibis.memtable(rows.set_column(rows.schema.get_field_index("name"), "name", [[name] * len(rows)]))
    return marts


@pytest.mark.browser
def test_long_product_names_wrap_and_leave_the_figures_in_view(tmp_path, project):
    """Every cell kept to one line: thelook's product names (up to 224 characters, the one below 139)
    made the Products table 1,872 px wide in its 1,324 px card at 1400 px, its units, revenue and
    margin behind a horizontal scroll, and the Overstocked table 1,454 px."""
    name = (
        "Aeropostale Womens; Juniors Green Aero NYC Athletics Popover Hoodie Coordinated with Aero's White "
        "Solid Basic Cami; Camisole Size Large (L)"
    )
    marts = small_marts_with_product_name(name)
    b = open_report(write_report(project, marts.__getitem__, fake_values(marts, project), tmp_path / "r.html"), 1400)
    try:
        show(b, "products")
        widths = b.eval(
            """Array.from(document.querySelectorAll('.page.active .card')).filter(c => c.querySelector('table.data'))
              .map(c => { const s = c.querySelector('.scroll'); return [c.querySelector('h3').textContent,
                                                                        s.scrollWidth, s.clientWidth]; })"""
        )
        assert [t for t, _, _ in widths] == ["Products", "Overstocked", "Dead stock (no sales in the window)"]
        assert all(scroll <= client for _, scroll, client in widths), widths
        check_clean(b)
    finally:
        b.close()


@pytest.mark.browser
def test_a_name_holding_html_comment_and_script_tags_is_shown_as_written(tmp_path, project):
    """The data lies in a <script> element, where `<!--<script>` in a value (a product or campaign
    name typed by a person) sends the HTML parser into a state in which the element's own
    `</script>` no longer ends it: the page's code was then read as data, and nothing drew."""
    name = '<!--<script>Hoodie <img src=x onerror="window.injected=1"> & <b>Co</b>'
    marts = small_marts_with_product_name(name)
    b = open_report(write_report(project, marts.__getitem__, fake_values(marts, project), tmp_path / "r.html"), 1400)
    try:
        show(b, "products")
        cells = b.eval("Array.from(document.querySelectorAll('.page.active table.data td')).map(td => td.textContent)")
        assert name in cells  # as text: no element made of it
        assert b.eval("document.querySelectorAll('.page.active td img, .page.active td b').length") == 0
        assert b.eval("window.injected") is None
        check_clean(b)
    finally:
        b.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1400, 420])
def test_screenshots(fake, tmp_path, width):
    """Every page at `width` px, saved to $ECOM_REPORT_SCREENSHOTS (the README's come from a real
    build: ECOM_REPORT_HTML); at 420 px nothing is wider than the screen."""
    out = Path(os.environ.get("ECOM_REPORT_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    html = Path(os.environ.get("ECOM_REPORT_HTML") or fake[0])
    b = open_report(html, width)
    try:
        if os.environ.get("ECOM_REPORT_RANGE"):  # a preset of the period control, e.g. ytd
            b.eval(f"window.report.preset({json.dumps(os.environ['ECOM_REPORT_RANGE'])})")
        for page in PAGES:
            show(b, page)
            assert b.eval("document.documentElement.scrollWidth") <= width, page
            suffix = "" if width == 1400 else f"-{width}"
            b.screenshot(out / f"report-{page}{suffix}.png")
            assert (out / f"report-{page}{suffix}.png").stat().st_size > 10_000
        check_clean(b)
    finally:
        b.close()


@pytest.mark.browser
def test_a_range_before_the_daily_rows_selects_whole_months(tmp_path, project):
    path, marts, _ = write_fake_report(tmp_path / "r.html", project, days=800, n_products=10, n_users=20)
    b = open_report(path, 1400)
    try:
        # daily rows from 2022-07-01: May and June 2022 are monthly rows, selected whole
        b.eval("window.report.setRange('2022-05-15', '2022-08-10')")
        tiles = b.eval(TILES)
        pnl = marts["fact_daily_pnl"]
        e = sums(in_range(pnl, "date", dt.date(2022, 5, 1), dt.date(2022, 8, 10)), net=pnl.net_revenue.sum())
        assert tiles["Net revenue"] == approx(e["net"])
        period = b.eval(CHARTS)[0]["period"]
        assert period == "2022-05-15 to 2022-08-10 (whole months before 2022-07-01)"
        assert b.eval(HELP)["Net revenue"] == period  # the tile says so too, as its chart does
        check_clean(b)
    finally:
        b.close()


# ------------------------------------------------------------------------------------------------
# A report of hand-made marts whose figures are worked out by hand
# ------------------------------------------------------------------------------------------------


def campaign_rows(*rows: tuple) -> ibis.Table:
    """fact_campaign_performance from (date, platform, campaign_id, spend, attributed revenue)."""
    base = dict.fromkeys(CAMPAIGN_SCHEMA, 0)
    return mem_records(
        CAMPAIGN_SCHEMA,
        [
            {**base, "spend_date": d, "platform": p, "campaign_id": c, "spend": spend, "attributed_revenue": revenue}
            for d, p, c, spend, revenue in rows
        ],
    )


def inventory_rows(*rows: tuple) -> ibis.Table:
    """fact_inventory_forecast from (product_id, category, stock, units sold in the 30-day window, status)."""
    base = dict.fromkeys(INV_SCHEMA, 0) | dict(name="p", brand="b", department="Men", last_sale_date=None)
    return mem_records(
        INV_SCHEMA,
        [
            {
                **base,
                "product_id": pid,
                "category": category,
                "stock_on_hand": stock,
                "units_sold_window": sold,
                "avg_daily_units": sold / 30,
                "inventory_status": status,
            }
            for pid, category, stock, sold, status in rows
        ],
    )


JUNE = dt.date(2024, 6, 10), dt.date(2024, 6, 15), dt.date(2024, 6, 20)


@pytest.fixture(scope="module")
def handmade(tmp_path_factory, project) -> Browser:
    """Fake marts with hand-made campaigns (every id on two platforms, as in thelook) and inventory."""
    marts = fake_marts(days=90, n_products=10, n_users=100)
    marts["fact_campaign_performance"] = campaign_rows(
        (JUNE[0], "Email", "c1", 4.0, 20.0),
        (JUNE[2], "Email", "c1", 6.0, 30.0),
        (JUNE[0], "Google", "c1", 40.0, 20.0),
        (JUNE[1], "Email", "c2", 20.0, 30.0),
        (JUNE[1], "Google", "c2", 10.0, 25.0),
        (dt.date(2024, 5, 1), "Google", "c1", 1.0, 1000.0),  # before the default range
    )
    marts["fact_inventory_forecast"] = inventory_rows(
        (1, "Jeans", 30, 60, "healthy"),
        (2, "Jeans", 100, 0, "dead_stock"),
        (3, "Jeans", 0, 3, "out_of_stock"),
        (4, "Tops & Tees", 45, 30, "healthy"),
        (5, "Tops & Tees", 10, 0, "dead_stock"),
        (6, "Socks", 20, 0, "dead_stock"),
    )
    path = write_report(
        project, marts.__getitem__, fake_values(marts, project), tmp_path_factory.mktemp("h") / "r.html"
    )
    b = open_report(path, 1400)
    yield b
    b.close()


@pytest.mark.browser
def test_a_campaign_is_its_platform_and_its_id(handmade: Browser):
    """Campaign ids shared by platforms: per (platform, id) in June, Email c1 (4 + 6 spend, 20 + 30
    revenue) 50 / 10 = 5.0, Google c2 25 / 10 = 2.5, Email c2 30 / 20 = 1.5, Google c1 20 / 40 = 0.5
    (its May row is outside the range). By id alone the chart showed c2 55 / 30 and c1 70 / 50."""
    show(handmade, "overview")
    top = charts_by_title(handmade)["Top 10 campaigns by attributed ROAS"]
    assert top["labels"] == ["Email · c1", "Google · c2", "Email · c2", "Google · c1"]
    assert top["series"]["Attributed ROAS"] == [approx(5.0), approx(2.5), approx(1.5), approx(0.5)]
    show(handmade, "marketing")
    options = "Array.from(document.querySelectorAll('select[data-filter=Campaign] option')).map(o => o.value)"
    assert handmade.eval(options) == ["", "Email · c1", "Email · c2", "Google · c1", "Google · c2"]
    handmade.eval("window.report.filter('Campaign', 'Email · c1')")
    tiles = handmade.eval(TILES)
    assert (tiles["Spend"], tiles["Attributed revenue"], tiles["Attributed ROAS"]) == (10.0, 50.0, approx(5.0))
    handmade.eval("window.report.filter('Campaign', '')")
    check_clean(handmade)


@pytest.mark.browser
def test_exported_text_a_spreadsheet_would_run_as_a_formula_stays_text(tmp_path, project):
    """A campaign id typed as a formula was exported as it was: a spreadsheet opening the CSV ran it
    (CSV injection). Text starting with =, +, -, @ now starts with an apostrophe, which spreadsheets
    read as "text" and do not show; numbers stay as they are."""
    marts = fake_marts(days=90, n_products=10, n_users=100)
    formula = '=HYPERLINK("http://x.example","c")'
    marts["fact_campaign_performance"] = campaign_rows(
        (JUNE[0], "Email", formula, 4.0, 20.0),
        (JUNE[0], "Google", "-10% promo", 2.0, 0.0),
        (JUNE[0], "Google", "c1", 0.1, 20.0),
        (JUNE[1], "Google", "c1", 0.2, 0.0),
    )
    b = open_report(write_report(project, marts.__getitem__, fake_values(marts, project), tmp_path / "r.html"), 1400)
    try:
        show(b, "marketing")
        rows = read_csv(b, "Campaigns")
        # and a sum written as the figure it is: 0.1 + 0.2 was 0.30000000000000004 (float noise)
        assert {r["Campaign"]: r["Spend"] for r in rows} == {f"'{formula}": "4", "'-10% promo": "2", "c1": "0.3"}
        check_clean(b)
    finally:
        b.close()


@pytest.mark.browser
def test_values_are_written_as_read_and_charts_are_named(wide: Browser):
    """$999,995 read "$1000.00k" (rounded in the wrong unit), one day "1 days"; a chart's canvas
    had no name for a screen reader."""
    written = {
        ("money_compact", 999_995): "$1.00M",
        ("money_compact", -999_995): "-$1.00M",
        ("money_compact", 1_234_567): "$1.23M",
        ("money_compact", 999): "$999",
        ("money_compact", 1_000): "$1.00k",
        ("days", 1): "1 day",
        ("days", 2.4): "2 days",
        ("days", 0): "0 days",
    }
    for (kind, value), text in written.items():
        assert wide.eval(f"window.report.format('{kind}', {value})") == text
    show(wide, "marketing")
    named = wide.eval(
        """Array.from(document.querySelectorAll('.page.active .card')).filter(c => c.querySelector('canvas'))
          .map(c => { const v = c.querySelector('canvas'), h = c.querySelector('h3').textContent;
                      return [v.getAttribute('role'), v.getAttribute('aria-label'), h]; })"""
    )
    assert named and all(role == "img" and heading.startswith(label) for role, label, heading in named), named
    check_clean(wide)


@pytest.mark.browser
def test_a_page_without_dates_says_the_period_does_not_apply(wide: Browser):
    """The products page (inventory and sales at as_of) selects no dates, yet the header said
    "compared with <the previous period>" there as on the dated pages, and its period control took
    input that changed nothing on the page."""
    compare = "document.getElementById('range-compare').textContent"
    disabled = "['range-preset', 'range-start', 'range-end'].map(id => document.getElementById(id).disabled)"
    show(wide, "products")
    assert wide.eval(compare) == "the period does not apply to this page (figures at as_of)"
    assert wide.eval(disabled) == [True, True, True]
    show(wide, "overview")
    assert wide.eval(disabled) == [False, False, False]
    wide.eval("window.report.preset(30)")  # the default 30 days, 2024-06-01 to 06-30, against the 30 before
    assert wide.eval(compare) == "compared with 2024-05-02 to 2024-05-31"
    check_clean(wide)


@pytest.mark.browser
def test_marketing_tables_show_every_column_at_1400_px(wide: Browser):
    """The funnel table (11 columns) shared a row with its chart: at 1400 px its last columns were
    behind a horizontal scroll."""
    show(wide, "marketing")
    widths = wide.eval(
        """Array.from(document.querySelectorAll('.page.active .card')).filter(c => c.querySelector('table.data'))
          .map(c => { const s = c.querySelector('.scroll'); return [c.querySelector('h3').textContent,
                                                                    s.scrollWidth, s.clientWidth]; })"""
    )
    assert "Funnel by channel" in [t for t, _, _ in widths]
    assert all(scroll <= client for _, scroll, client in widths), widths


@pytest.mark.browser
def test_tiles_over_monthly_rows_state_their_months(handmade: Browser):
    """30 days from 2024-05-29 touch May and June: the customers' tiles count both months whole, and
    say so (they stated no period: the range control says 30 days)."""
    show(handmade, "customers")
    handmade.eval("window.report.setRange('2024-05-29', '2024-06-27')")
    assert handmade.eval(HELP)["New customers"] == "months 2024-05 to 2024-06"
    assert handmade.eval(HELP)["Lifetime net revenue per customer"] == "months 2024-05 to 2024-06 · to as_of"
    handmade.eval("window.report.preset(30)")
    check_clean(handmade)


@pytest.mark.browser
def test_days_of_stock_leave_dead_stock_out(handmade: Browser):
    """Stock of the products sold in the 30-day window over their daily units: Jeans (30 + 0) /
    (60 + 3) * 30 = 14.29 (product 2's 100 unsold units left out), Tops & Tees 45 / 1 = 45, Socks
    nothing sold: no value; all (30 + 45) / (63 + 30) * 30 = 24.19 (with dead stock 66.13)."""
    show(handmade, "products")
    assert handmade.eval(TILES)["Average coverage"] == approx(75 / 3.1)
    chart = charts_by_title(handmade)["Days of stock by category"]
    assert chart["labels"] == ["Tops & Tees", "Jeans"]
    assert chart["series"]["Days of stock"] == [approx(45.0), approx(30 / 2.1)]
    assert "dead stock left out" in handmade.eval(HELP)["Average coverage"]
    check_clean(handmade)


@pytest.mark.browser
def test_a_sum_of_no_rows_is_zero(handmade: Browser):
    """No product of the handmade inventory is overstocked: the tile said "—" (no value) where the
    count is 0. Socks has one product, dead stock, none overstocked; Spend under a platform with no
    campaign (YouTube: none in the handmade campaigns) is $0, and its ROAS has no value."""
    show(handmade, "products")
    assert handmade.eval(TILES)["Overstocked"] == 0
    handmade.eval("window.report.filter('Category', 'Socks')")
    tiles = handmade.eval(TILES)
    assert (tiles["Products"], tiles["Dead stock"], tiles["Overstocked"]) == (1, 1, 0)
    handmade.eval("window.report.filter('Category', '')")
    show(handmade, "marketing")
    handmade.eval("window.report.filter('Platform', 'YouTube')")
    tiles = handmade.eval(TILES)
    assert (tiles["Spend"], tiles["Attributed ROAS"]) == (0, None)
    handmade.eval("window.report.filter('Platform', '')")
    check_clean(handmade)


@pytest.mark.browser
def test_count_axes_tick_whole_numbers(handmade: Browser):
    """Hand-made inventory: 1 out of stock, 3 dead stock, 2 healthy. Chart.js stepped the count
    axis by 0.5 or less, which the count format rounds: "0, 1, 1, 2, 2, 3, 3", a misread axis."""
    show(handmade, "products")
    ticks = handmade.eval(
        """Array.from(document.querySelectorAll('.page.active .card')).filter(c =>
             c.querySelector('h3')?.textContent === 'Products by inventory status')
           .map(c => Chart.getChart(c.querySelector('canvas')).scales.y.ticks.map(t => t.value))[0]"""
    )
    assert ticks == list(range(len(ticks))) and ticks[-1] >= 3, ticks
    check_clean(handmade)


def press(b: Browser, key: str, code: int) -> None:
    """A real key press on the focused element (what a keyboard sends)."""
    text = {"Enter": {"text": "\r"}}.get(key, {})
    b.send("Input.dispatchKeyEvent", type="keyDown", key=key, code=key, windowsVirtualKeyCode=code, **text)
    b.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=key, windowsVirtualKeyCode=code)


FOCUSED = "(e => e.dataset.filter || e.textContent)(document.activeElement)"


@pytest.mark.browser
def test_filters_and_sorting_work_from_the_keyboard(handmade: Browser):
    """A keyboard user: the arrow keys step the Platform filter (each step redrew the page and sent
    the focus to the top of the document: the next step did nothing), and a column header is
    reached and sorts with Enter (headers took mouse clicks only). In June, by hand, spend per
    campaign: Google c1 40, Email c2 20, Email c1 4 + 6 = 10, Google c2 10."""
    show(handmade, "marketing")
    handmade.eval("document.querySelector('select[data-filter=Platform]').focus()")
    press(handmade, "ArrowDown", 40)
    assert handmade.eval("window.report.state.filters['marketing:Platform']") == "Google"
    assert handmade.eval(FOCUSED) == "Platform"
    press(handmade, "ArrowDown", 40)
    assert handmade.eval("window.report.state.filters['marketing:Platform']") == "Facebook"
    handmade.eval("window.report.filter('Platform', '')")

    spend = table_js(
        "Campaigns", "return Array.from(c.querySelectorAll('tbody tr td:nth-child(3)')).map(td => td.textContent);"
    )
    assert handmade.eval(spend) == ["$40.00", "$20.00", "$10.00", "$10.00"]
    handmade.eval(table_js("Campaigns", "c.querySelector('input.search').focus();"))
    press(handmade, "Tab", 9)  # Export CSV
    press(handmade, "Tab", 9)  # the first column header
    assert handmade.eval(FOCUSED) == "Platform"
    press(handmade, "Tab", 9)
    press(handmade, "Tab", 9)
    assert handmade.eval(FOCUSED) == "Spend"
    press(handmade, "Enter", 13)  # sorted largest first: now smallest first
    assert handmade.eval(spend) == ["$10.00", "$10.00", "$20.00", "$40.00"]
    assert handmade.eval(FOCUSED) == "Spend"
    sort = table_js("Campaigns", "const th = c.querySelector('th[aria-sort]'); return [th.dataset.key, th.ariaSort];")
    assert handmade.eval(sort) == ["spend", "ascending"]
    press(handmade, "Enter", 13)
    assert handmade.eval(spend) == ["$40.00", "$20.00", "$10.00", "$10.00"]
    check_clean(handmade)
