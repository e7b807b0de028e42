"""The report in a real browser: headless Chromium opens it with the network off, no console error,
every chart drawn; one screenshot per page.

Chromium is Debian's `chromium` (/usr/bin/chromium, or $CHROMIUM), driven over the DevTools protocol
(`--remote-debugging-port` + websocket-client): no browser is downloaded. Screenshots go to
$ECOM_REPORT_SCREENSHOTS when set, else to the test's tmp dir.

The marts come from `fake_marts()`: a small deterministic generator with METRICS.md#marts's columns,
so this test needs no build. To check a real report instead (and make the docs screenshots):

    python -m ecom generate --scale 0.1 && python -m ecom build && python -m ecom report
    ECOM_REPORT_HTML=report.html ECOM_REPORT_SCREENSHOTS=docs python -m pytest tests/test_report_browser.py
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import ibis
import pytest

from ecom.report import write_report

AS_OF = dt.date(2024, 6, 30)
PLATFORMS = ("Google", "Facebook", "YouTube", "Email")
SOURCES = ("Search", "Organic", "Facebook", "Email", "Display")
CATEGORIES = ("Jeans", "Tops & Tees", "Sweaters", "Shorts", "Accessories", "Outerwear & Coats", "Socks", "Dresses")
SEGMENTS = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Need Attention",
    "At Risk",
    "Hibernating",
    "Lost",
)


def _ratio(a, b):
    return None if not b else a / b


def fake_marts(seed: int = 7, days: int = 240, n_products: int = 400, n_users: int = 1500) -> dict:
    """Plausible marts with METRICS.md's columns (values are consistent enough to look real, not exact)."""
    rng = random.Random(seed)
    start = AS_OF - dt.timedelta(days=days - 1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]

    # fact_campaign_performance: 3 campaigns per platform, every day
    campaigns = [(p, f"{p[:2].lower()}-{i:03d}") for p in PLATFORMS for i in range(1, 4)]
    quality = {c: rng.uniform(0.5, 4.0) for c in campaigns}
    camp_rows = []
    for d in dates:
        season = 1 + 0.3 * (d.timetuple().tm_yday % 90) / 90
        for p, cid in campaigns:
            spend = round(rng.uniform(20, 180) * season, 2)
            impressions = rng.randint(2000, 20000)
            clicks = int(impressions * rng.uniform(0.005, 0.05))
            orders = max(0, int(rng.gauss(spend * quality[(p, cid)] / 80, 1)))
            revenue = round(orders * rng.uniform(50, 110), 2)
            profit = round(revenue * rng.uniform(0.35, 0.55), 2)
            camp_rows.append(
                dict(
                    spend_date=d,
                    platform=p,
                    campaign_id=cid,
                    spend=spend,
                    clicks=clicks,
                    impressions=impressions,
                    attributed_orders=orders,
                    attributed_revenue=revenue,
                    attributed_gross_profit=profit,
                    ctr=_ratio(clicks, impressions),
                    cpc=_ratio(spend, clicks),
                    cpa=_ratio(spend, orders),
                    roas=_ratio(revenue, spend),
                    conversion_rate=_ratio(orders, clicks),
                )
            )

    # fact_daily_pnl(_advanced)
    spend_by_day: dict[dt.date, float] = {}
    for r in camp_rows:
        spend_by_day[r["spend_date"]] = spend_by_day.get(r["spend_date"], 0.0) + r["spend"]
    pnl = []
    for i, d in enumerate(dates):
        orders = int(60 + 25 * (i / days) + rng.randint(-10, 10))
        gross = round(orders * rng.uniform(70, 95), 2)
        returned = round(gross * rng.uniform(0.05, 0.12), 2)
        net = gross - returned
        cogs = round(net * rng.uniform(0.45, 0.55), 2)
        gp = net - cogs
        spend = spend_by_day[d]
        pnl.append(
            dict(
                date=d,
                orders=orders,
                items_sold=int(orders * 1.4),
                gross_revenue=gross,
                returned_revenue=returned,
                net_revenue=net,
                cogs=cogs,
                gross_profit=gp,
                gross_margin=_ratio(gp, net),
                ad_spend=spend,
                contribution_profit=gp - spend,
                roas=_ratio(net, spend),
                aov=_ratio(net, orders),
                customers=orders - 2,
                new_customers=orders // 3,
            )
        )
    adv = []
    cum = 0.0
    for i, r in enumerate(pnl):
        w7, w30 = pnl[max(0, i - 6) : i + 1], pnl[max(0, i - 29) : i + 1]
        cum += r["net_revenue"]
        s = {
            f"{m}_{n}d": sum(x[m] for x in w)
            for n, w in ((7, w7), (30, w30))
            for m in ("net_revenue", "ad_spend", "gross_profit")
        }
        mtd = sum(
            x["net_revenue"]
            for x in pnl[: i + 1]
            if x["date"].month == r["date"].month and x["date"].year == r["date"].year
        )
        ytd = sum(x["net_revenue"] for x in pnl[: i + 1] if x["date"].year == r["date"].year)
        adv.append(
            {
                **r,
                **s,
                "roas_7d": _ratio(s["net_revenue_7d"], s["ad_spend_7d"]),
                "roas_30d": _ratio(s["net_revenue_30d"], s["ad_spend_30d"]),
                "net_revenue_mtd": mtd,
                "net_revenue_ytd": ytd,
                "cumulative_net_revenue": cum,
                "net_revenue_7d_prev_year": 0.0,
                "yoy_growth_7d": None,
            }
        )

    # dim_customers / dim_customer_segments
    customers, segments = [], []
    for uid in range(1, n_users + 1):
        signup = start - dt.timedelta(days=rng.randint(0, 200))
        n_orders = rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 6))
        age = rng.randint(12, 70)
        band = next(
            b
            for lim, b in (
                (18, "<18"),
                (25, "18-24"),
                (35, "25-34"),
                (45, "35-44"),
                (55, "45-54"),
                (65, "55-64"),
                (200, "65+"),
            )
            if age < lim
        )
        first = last = None
        revenue = profit = 0.0
        if n_orders:
            first = start + dt.timedelta(days=rng.randint(0, days - 1))
            last = min(AS_OF, first + dt.timedelta(days=rng.randint(0, 120) * (n_orders > 1)))
            revenue = round(sum(rng.uniform(20, 160) for _ in range(n_orders)), 2)
            profit = round(revenue * rng.uniform(0.4, 0.55), 2)
        customers.append(
            dict(
                user_id=uid,
                signup_date=signup,
                age=age,
                age_band=band,
                gender=rng.choice("MF"),
                country="United States",
                state="Texas",
                city="Austin",
                acquisition_source=rng.choice(SOURCES),
                first_order_date=first,
                last_order_date=last,
                orders=n_orders,
                items=int(n_orders * 1.5),
                lifetime_net_revenue=revenue,
                lifetime_gross_profit=profit,
                avg_order_value=_ratio(revenue, n_orders),
                days_since_last_order=(AS_OF - last).days if last else None,
                tenure_days=(AS_OF - signup).days,
                is_customer=n_orders > 0,
            )
        )
        if n_orders:
            r, f, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
            fm = (f + m + 1) // 2
            seg = (
                ("Champions" if fm >= 4 else "Potential Loyalists" if fm >= 2 else "New Customers")
                if r >= 4
                else ("Loyal Customers" if fm >= 3 else "Need Attention")
                if r == 3
                else "At Risk"
                if fm >= 3
                else "Hibernating"
                if r == 2
                else "Lost"
            )
            segments.append(
                dict(
                    user_id=uid,
                    recency_days=(AS_OF - last).days,
                    frequency=n_orders,
                    monetary=revenue,
                    r_score=r,
                    f_score=f,
                    m_score=m,
                    fm_score=fm,
                    segment=seg,
                )
            )

    # fact_cohort_retention: cohorts from the first month to as_of's month
    cohort_rows = []
    first_month = dt.date(start.year, start.month, 1)
    mi = lambda d: d.year * 12 + d.month - 1  # noqa: E731
    for c in range(mi(first_month), mi(AS_OF) + 1):
        cm = dt.date(c // 12, c % 12 + 1, 1)
        size = rng.randint(80, 160)
        cum_rev = 0.0
        for k in range(0, mi(AS_OF) - c + 1):
            active = size if k == 0 else int(size * 0.25 * 0.8**k * rng.uniform(0.8, 1.2))
            rev = round(active * rng.uniform(60, 90), 2)
            cum_rev += rev
            cohort_rows.append(
                dict(
                    cohort_month=cm,
                    months_since_first=k,
                    cohort_size=size,
                    active_customers=active,
                    retention_rate=active / size,
                    net_revenue=rev,
                    cumulative_net_revenue_per_customer=cum_rev / size,
                )
            )

    # fact_product_performance / fact_inventory_forecast
    prods = []
    for pid in range(1, n_products + 1):
        cost = round(rng.uniform(3, 60), 2)
        retail = round(cost * rng.uniform(1.6, 2.6), 2)
        units = 0 if rng.random() < 0.12 else int(rng.paretovariate(1.3) * 3)
        returned = int(units * rng.uniform(0, 0.15))
        net = round(units * retail * rng.uniform(0.85, 1.0), 2)
        prods.append(
            dict(
                product_id=pid,
                name=f"{rng.choice(('Classic', 'Slim', 'Relaxed', 'Vintage'))} {rng.choice(CATEGORIES)} item {pid}",
                brand=rng.choice(("Acme", "Levi's", "Nike", "Zara")),
                category=rng.choice(CATEGORIES),
                department=rng.choice(("Men", "Women")),
                cost=cost,
                retail_price=retail,
                units_sold=units,
                units_returned=returned,
                net_revenue=net,
                cogs=units * cost,
                gross_profit=net - units * cost,
                margin_pct=_ratio(net - units * cost, net),
                return_rate=_ratio(returned, units + returned),
            )
        )
    total = sum(p["net_revenue"] for p in prods)
    ranked = sorted(prods, key=lambda p: (-round(p["net_revenue"], 2), p["product_id"]))
    running = 0.0
    for i, p in enumerate(ranked, 1):
        running += p["net_revenue"]
        p.update(
            revenue_rank=i,
            revenue_share=_ratio(p["net_revenue"], total),
            cumulative_revenue_share=_ratio(running, total),
        )
    inventory = []
    for p in prods:
        stock = rng.choice((0, 1, 2, 3, 5, 8, 12, 20, 40))
        window = rng.choice((0, 0, 1, 2, 3, 5, 9))
        adu = window / 30
        s, u, w = stock, window, 30
        status = (
            "out_of_stock"
            if s == 0
            else "dead_stock"
            if u == 0
            else "critical"
            if s * w < 7 * u
            else "low"
            if s * w < 14 * u
            else "overstocked"
            if s * w > 90 * u
            else "healthy"
        )
        reorder = 0 if status == "dead_stock" else max(0, -(-u * 44 // w) - s)
        last = None if window == 0 and rng.random() < 0.5 else AS_OF - dt.timedelta(days=rng.randint(0, 120))
        inventory.append(
            dict(
                product_id=p["product_id"],
                name=p["name"],
                brand=p["brand"],
                category=p["category"],
                department=p["department"],
                cost=p["cost"],
                stock_on_hand=stock,
                stock_value=stock * p["cost"],
                units_sold_window=window,
                avg_daily_units=adu,
                days_of_stock=_ratio(stock, adu),
                last_sale_date=last,
                days_since_last_sale=(AS_OF - last).days if last else None,
                inventory_status=status,
                reorder_qty=reorder,
                reorder_value=reorder * p["cost"],
            )
        )

    # fact_session_metrics
    sessions = []
    platform_of = {"Adwords": "Google", "Facebook": "Facebook", "YouTube": "YouTube", "Email": "Email"}
    for i in range(3000):
        src = rng.choice(("Email", "Adwords", "Organic", "YouTube", "Facebook", None))
        uid = rng.randint(1, n_users) if rng.random() < 0.6 else None
        begin = dt.datetime.combine(rng.choice(dates), dt.time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=dt.UTC)
        n_events = rng.randint(1, 9)
        cart = n_events >= 3 and rng.random() < 0.5
        duration = float(rng.randint(0, 1800))
        sessions.append(
            dict(
                session_id=f"s{i}",
                visitor_id=f"u{uid}" if uid else f"a{i}",
                user_id=uid,
                is_identified=uid is not None,
                session_date=begin.date(),
                session_start=begin,
                session_end=begin + dt.timedelta(seconds=duration),
                duration_seconds=duration,
                event_count=n_events,
                product_views=n_events // 2,
                has_cart=cart,
                has_purchase=cart and uid is not None and rng.random() < 0.5,
                landing_uri="/",
                landing_event_type="home",
                traffic_source=src,
                platform=platform_of.get(src),
                browser="Chrome",
            )
        )

    def mem(rows, schema):
        return ibis.memtable({k: [r[k] for r in rows] for k in schema}, schema=ibis.schema(schema))

    money = "float64"
    s_pnl = dict(
        date="date",
        orders="int64",
        items_sold="int64",
        gross_revenue=money,
        returned_revenue=money,
        net_revenue=money,
        cogs=money,
        gross_profit=money,
        gross_margin=money,
        ad_spend=money,
        contribution_profit=money,
        roas=money,
        aov=money,
        customers="int64",
        new_customers="int64",
    )
    s_adv = {
        **s_pnl,
        **{f"{m}_{n}d": money for n in (7, 30) for m in ("net_revenue", "ad_spend", "gross_profit")},
        "roas_7d": money,
        "roas_30d": money,
        "net_revenue_mtd": money,
        "net_revenue_ytd": money,
        "cumulative_net_revenue": money,
        "net_revenue_7d_prev_year": money,
        "yoy_growth_7d": money,
    }
    s_camp = dict(
        spend_date="date",
        platform="string",
        campaign_id="string",
        spend=money,
        clicks="int64",
        impressions="int64",
        attributed_orders="int64",
        attributed_revenue=money,
        attributed_gross_profit=money,
        ctr=money,
        cpc=money,
        cpa=money,
        roas=money,
        conversion_rate=money,
    )
    s_cohort = dict(
        cohort_month="date",
        months_since_first="int64",
        cohort_size="int64",
        active_customers="int64",
        retention_rate=money,
        net_revenue=money,
        cumulative_net_revenue_per_customer=money,
    )
    s_prod = dict(
        product_id="int64",
        name="string",
        brand="string",
        category="string",
        department="string",
        cost=money,
        retail_price=money,
        units_sold="int64",
        units_returned="int64",
        net_revenue=money,
        cogs=money,
        gross_profit=money,
        margin_pct=money,
        return_rate=money,
        revenue_rank="int64",
        revenue_share=money,
        cumulative_revenue_share=money,
    )
    s_inv = dict(
        product_id="int64",
        name="string",
        brand="string",
        category="string",
        department="string",
        cost=money,
        stock_on_hand="int64",
        stock_value=money,
        units_sold_window="int64",
        avg_daily_units=money,
        days_of_stock=money,
        last_sale_date="date",
        days_since_last_sale="int64",
        inventory_status="string",
        reorder_qty="int64",
        reorder_value=money,
    )
    s_cust = dict(
        user_id="int64",
        signup_date="date",
        age="int64",
        age_band="string",
        gender="string",
        country="string",
        state="string",
        city="string",
        acquisition_source="string",
        first_order_date="date",
        last_order_date="date",
        orders="int64",
        items="int64",
        lifetime_net_revenue=money,
        lifetime_gross_profit=money,
        avg_order_value=money,
        days_since_last_order="int64",
        tenure_days="int64",
        is_customer="boolean",
    )
    s_seg = dict(
        user_id="int64",
        recency_days="int64",
        frequency="int64",
        monetary=money,
        r_score="int64",
        f_score="int64",
        m_score="int64",
        fm_score="int64",
        segment="string",
    )
    s_sess = dict(
        session_id="string",
        visitor_id="string",
        user_id="int64",
        is_identified="boolean",
        session_date="date",
        session_start="timestamp('UTC')",
        session_end="timestamp('UTC')",
        duration_seconds=money,
        event_count="int64",
        product_views="int64",
        has_cart="boolean",
        has_purchase="boolean",
        landing_uri="string",
        landing_event_type="string",
        traffic_source="string",
        platform="string",
        browser="string",
    )
    s_vars = dict(name="string", value="string")
    build_vars = dict(
        as_of=AS_OF.isoformat(),
        session_timeout_minutes="30",
        attribution_lookback_hours="24",
        velocity_window_days="30",
        critical_days="7",
        low_days="14",
        overstock_days="90",
        lead_time_days="14",
        cover_days="30",
    )
    return {
        "fact_daily_pnl": mem(pnl, s_pnl),
        "fact_daily_pnl_advanced": mem(adv, s_adv),
        "fact_campaign_performance": mem(camp_rows, s_camp),
        "fact_session_metrics": mem(sessions, s_sess),
        "fact_cohort_retention": mem(cohort_rows, s_cohort),
        "fact_product_performance": mem(prods, s_prod),
        "fact_inventory_forecast": mem(inventory, s_inv),
        "dim_customers": mem(customers, s_cust),
        "dim_customer_segments": mem(segments, s_seg),
        "_ecom_vars": mem([{"name": k, "value": v} for k, v in build_vars.items()], s_vars),
    }


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One headless Chromium with one page, driven by CDP commands over a websocket."""

    def __init__(self, exe: str, width: int = 1440, height: int = 900):
        import websocket  # websocket-client

        self.profile = tempfile.mkdtemp(prefix="ecom-chromium-")
        port = _free_port()
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
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
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
