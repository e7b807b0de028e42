"""The report's data queries on small hand-made marts (docs/contract.md#models columns), hand-computed."""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from ecom import report
from tests.report_fixtures import (
    CAMPAIGN_SCHEMA,
    COHORT_SCHEMA,
    CUST_SCHEMA,
    INV_SCHEMA,
    PNL_SCHEMA,
    PRODUCT_SCHEMA,
    SEG_SCHEMA,
    SESSION_SCHEMA,
    VARS_SCHEMA,
    fake_marts,
    fake_marts_in_duckdb,
    mem,
)

D = dt.date
AS_OF = D(2024, 3, 31)


def pnl_row(date, net, spend, gp):
    # only the columns the KPIs read matter; the rest are filler of the right type
    return (date, 1, 1, net, 0.0, net, net - gp, gp, None, spend, gp - spend, None, None, 1, 0)


@pytest.fixture
def pnl():
    # as_of 2024-03-31 (2024 is a leap year): current window 2024-03-02..03-31 (30 days),
    # previous window 2024-02-01..03-01 (29 days of February + March 1 = 30 days)
    return mem(
        PNL_SCHEMA,
        [
            pnl_row(D(2024, 1, 31), 1000.0, 1000.0, 500.0),  # one day before the previous window
            pnl_row(D(2024, 2, 1), 100.0, 50.0, 40.0),  # first day of the previous window
            pnl_row(D(2024, 3, 1), 200.0, 0.0, 80.0),  # last day of the previous window, no spend
            pnl_row(D(2024, 3, 2), 300.0, 100.0, 120.0),  # first day of the current window
            pnl_row(D(2024, 3, 31), 50.0, 150.0, 20.0),  # as_of: last day of the current window
            pnl_row(D(2024, 4, 1), 999.0, 999.0, 999.0),  # after as_of: in no window
        ],
    )


def tables(**marts):
    return marts.__getitem__


def test_windows_are_30_days_ending_on_as_of():
    w = report.windows(AS_OF)
    assert w["current"] == (D(2024, 3, 2), D(2024, 3, 31))
    assert w["previous"] == (D(2024, 2, 1), D(2024, 3, 1))  # leap February: 29 + 1 days
    assert (w["current"][1] - w["current"][0]).days + 1 == 30
    assert (w["previous"][1] - w["previous"][0]).days + 1 == 30


def test_kpis_window_sums_and_changes(pnl):
    k = report.kpis(tables(fact_daily_pnl=pnl), AS_OF)
    # current = 03-02 + 03-31: net 300 + 50 = 350; spend 100 + 150 = 250; gp 120 + 20 = 140;
    # contribution = gp - spend per day: 20 + (-130) = -110
    # previous = 02-01 + 03-01: net 100 + 200 = 300; spend 50 + 0 = 50; gp 40 + 80 = 120; contribution -10 + 80 = 70
    assert k["net_revenue"]["current"] == pytest.approx(350.0)
    assert k["net_revenue"]["previous"] == pytest.approx(300.0)
    assert k["net_revenue"]["change"] == pytest.approx(50 / 300)  # (350 - 300) / 300
    assert k["ad_spend"]["current"] == pytest.approx(250.0)
    assert k["ad_spend"]["previous"] == pytest.approx(50.0)
    assert k["ad_spend"]["change"] == pytest.approx(4.0)  # (250 - 50) / 50
    assert k["gross_profit"]["current"] == pytest.approx(140.0)
    assert k["gross_profit"]["change"] == pytest.approx(20 / 120)
    assert k["contribution_profit"]["current"] == pytest.approx(-110.0)
    assert k["contribution_profit"]["previous"] == pytest.approx(70.0)
    # (-110 - 70) / |70|: negative, a worse result reads as a fall
    assert k["contribution_profit"]["change"] == pytest.approx(-180 / 70)


def test_kpi_roas_is_ratio_of_sums(pnl):
    k = report.kpis(tables(fact_daily_pnl=pnl), AS_OF)
    # current: 350 / 250 = 1.4 (the mean of the daily ratios would be (300/100 + 50/150) / 2 = 1.667)
    assert k["roas"]["current"] == pytest.approx(1.4)
    # previous: 300 / 50 = 6.0 (the day with no spend adds revenue to the numerator only)
    assert k["roas"]["previous"] == pytest.approx(6.0)
    assert k["roas"]["change"] == pytest.approx((1.4 - 6.0) / 6.0)


def test_kpi_roas_null_without_spend_and_change_null_without_previous(pnl):
    # a 1-day window on 2024-03-01: spend 0 -> ROAS NULL; previous day 02-29 has no row -> sums 0, change NULL
    k = report.kpis(tables(fact_daily_pnl=pnl), D(2024, 3, 1), days=1)
    assert k["roas"]["current"] is None
    assert k["net_revenue"]["current"] == pytest.approx(200.0)
    assert k["net_revenue"]["previous"] == 0.0
    assert k["net_revenue"]["change"] is None
    assert k["roas"]["change"] is None


def test_as_of_from_vars_else_latest_pnl_date(pnl):
    vars_table = mem(VARS_SCHEMA, [("as_of", "2024-03-31"), ("low_days", "14")])
    with_vars = tables(fact_daily_pnl=pnl, _ecom_vars=vars_table)
    assert report.read_build_vars(with_vars) == {"as_of": "2024-03-31", "low_days": "14"}
    assert report.resolve_as_of(with_vars, report.read_build_vars(with_vars)) == D(2024, 3, 31)
    without = tables(fact_daily_pnl=pnl)  # `_ecom_vars` absent: KeyError here, a not-found error on a backend
    assert report.read_build_vars(without) == {}
    assert report.resolve_as_of(without, {}) == D(2024, 4, 1)  # max(fact_daily_pnl.date)


def camp(date, platform, cid, spend, clicks, imps, orders, revenue, gp):
    return (date, platform, cid, spend, clicks, imps, orders, revenue, gp, None, None, None, None, None)


@pytest.fixture
def campaigns():
    return mem(
        CAMPAIGN_SCHEMA,
        [
            camp(D(2024, 3, 30), "Google", "1", 100.0, 10, 1000, 2, 300.0, 100.0),
            camp(D(2024, 3, 31), "Google", "1", 300.0, 30, 3000, 1, 100.0, 30.0),
            camp(D(2024, 3, 31), "Google", "2", 0.0, 0, 0, 1, 50.0, 20.0),  # no spend, no clicks
            camp(D(2024, 3, 31), "Facebook", "1", 200.0, 40, 2000, 0, 0.0, 0.0),  # same id, other platform
            camp(D(2024, 3, 31), "Email", "9", None, None, None, 0, 0.0, 0.0),  # NULL spend/clicks count as 0
            camp(D(2024, 1, 1), "Facebook", "7", 10.0, 1, 100, 3, 500.0, 200.0),  # outside the last 30 days
        ],
    )


def test_campaign_performance_ratios_of_sums(campaigns):
    rows = {
        (r["platform"], r["campaign_id"]): r
        for r in report.campaign_performance(tables(fact_campaign_performance=campaigns))
    }
    g1 = rows[("Google", "1")]
    # spend 100 + 300 = 400, revenue 300 + 100 = 400 -> ROAS 1.0 (mean of daily ratios: (3 + 1/3) / 2 = 1.667)
    assert g1["spend"] == pytest.approx(400.0)
    assert g1["roas"] == pytest.approx(1.0)
    assert g1["ctr"] == pytest.approx(40 / 4000)  # (10 + 30) / (1000 + 3000)
    assert g1["cpc"] == pytest.approx(10.0)  # 400 / 40
    assert g1["cpa"] == pytest.approx(400 / 3)  # 400 / (2 + 1)
    assert g1["conversion_rate"] == pytest.approx(3 / 40)
    g2 = rows[("Google", "2")]
    assert g2["roas"] is None and g2["cpc"] is None and g2["ctr"] is None  # zero denominators -> NULL
    assert rows[("Facebook", "1")]["cpa"] is None  # no orders
    assert rows[("Email", "9")]["spend"] == 0.0 and rows[("Email", "9")]["roas"] is None
    # Google 1 and Facebook 1 are two campaigns; ordered by spend, largest first
    assert [
        (r["platform"], r["campaign_id"])
        for r in report.campaign_performance(tables(fact_campaign_performance=campaigns))
    ][:2] == [("Google", "1"), ("Facebook", "1")]


def test_top_campaigns_by_roas_last_30_days_with_spend(campaigns):
    top = report.top_campaigns_by_roas(tables(fact_campaign_performance=campaigns), AS_OF, n=5)
    # in 03-02..03-31: Google 1 ROAS 1.0, Facebook 1 ROAS 0/200 = 0; Google 2 and Email 9 spent nothing;
    # Facebook 7 (ROAS 50) is from January
    assert [(r["platform"], r["campaign_id"], r["roas"]) for r in top] == [
        ("Google", "1", pytest.approx(1.0)),
        ("Facebook", "1", 0.0),
    ]


def test_platform_roas_and_spend_share(campaigns):
    rows = {r["platform"]: r for r in report.platform_roas(tables(fact_campaign_performance=campaigns))}
    # total spend 100 + 300 + 0 + 200 + 0 + 10 = 610
    # Google: spend 400, revenue 300 + 100 + 50 = 450 -> ROAS 1.125, 4 orders -> CPA 100, share 400 / 610
    assert rows["Google"]["roas"] == pytest.approx(450 / 400)
    assert rows["Google"]["cpa"] == pytest.approx(100.0)
    assert rows["Google"]["spend_share"] == pytest.approx(400 / 610)
    # Facebook: spend 210, revenue 500 -> ROAS 2.381, share 210 / 610
    assert rows["Facebook"]["roas"] == pytest.approx(500 / 210)
    assert rows["Facebook"]["spend_share"] == pytest.approx(210 / 610)
    assert rows["Email"]["roas"] is None and rows["Email"]["spend_share"] == 0.0
    assert sum(r["spend_share"] for r in rows.values()) == pytest.approx(1.0)


def test_daily_spend_by_platform(campaigns):
    rows = report.daily_spend_by_platform(tables(fact_campaign_performance=campaigns))
    got = {(r["spend_date"], r["platform"]): r["spend"] for r in rows}
    assert got[(D(2024, 3, 31), "Google")] == pytest.approx(300.0)  # 300 + 0
    assert got[(D(2024, 3, 31), "Email")] == 0.0
    assert len(rows) == 5


def test_segment_summary():
    segs = mem(
        SEG_SCHEMA,
        [
            (1, 3, 4, 100.0, 5, 5, 5, 5, "Champions"),
            (2, 200, 1, 50.0, 1, 1, 1, 1, "Lost"),
            (3, 1, 2, 300.0, 5, 4, 5, 5, "Champions"),
            (4, 90, 3, 50.0, 2, 3, 3, 3, "At Risk"),
        ],
    )
    rows = report.segment_summary(tables(dim_customer_segments=segs))
    assert [r["segment"] for r in rows] == ["Champions", "At Risk", "Lost"]  # the canonical segment order
    champ = rows[0]
    # 2 of 4 customers; monetary 100 + 300 = 400 of 500 total
    assert champ["customers"] == 2 and champ["customer_share"] == pytest.approx(0.5)
    assert champ["monetary"] == pytest.approx(400.0) and champ["monetary_share"] == pytest.approx(0.8)
    assert champ["avg_monetary"] == pytest.approx(200.0) and champ["avg_frequency"] == pytest.approx(3.0)


def cust(uid, source, orders, revenue, gp):
    first = D(2024, 1, 5) if orders else None
    return (
        uid,
        D(2024, 1, 1),
        30,
        "25-34",
        "F",
        "Japan",
        "Tokyo",
        "Tokyo",
        source,
        first,
        first,
        orders,
        orders,
        revenue,
        gp,
        revenue / orders if orders else None,
        None,
        90,
        orders > 0,
    )


@pytest.fixture
def customers():
    return mem(
        CUST_SCHEMA,
        [
            cust(1, "Search", 1, 100.0, 40.0),
            cust(2, "Search", 3, 300.0, 100.0),
            cust(3, "Search", 0, 0.0, 0.0),  # not a customer: not in LTV
            cust(4, None, 2, 40.0, 10.0),
            cust(5, "Email", 1, 300.0, 90.0),  # ties user 2 on revenue
        ],
    )


def test_ltv_by_source_over_customers_only(customers):
    rows = report.ltv_by_source(tables(dim_customers=customers))
    got = {r["acquisition_source"]: r for r in rows}
    # Search: users 1 and 2 (user 3 has no order): (100 + 300) / 2 = 200; profit (40 + 100) / 2 = 70
    assert got["Search"]["customers"] == 2
    assert got["Search"]["avg_ltv"] == pytest.approx(200.0)
    assert got["Search"]["avg_gross_profit"] == pytest.approx(70.0)
    assert got["(unknown)"]["avg_ltv"] == pytest.approx(40.0)  # NULL source is shown, not dropped
    assert [r["acquisition_source"] for r in rows] == ["Email", "Search", "(unknown)"]  # by mean LTV


def test_top_customers_ids_only_ranked_with_tie_break(customers):
    segs = mem(
        SEG_SCHEMA, [(2, 1, 3, 300.0, 5, 5, 5, 5, "Champions"), (5, 1, 1, 300.0, 5, 1, 5, 3, "Potential Loyalists")]
    )
    rows = report.top_customers(tables(dim_customers=customers, dim_customer_segments=segs), n=3)
    # revenue 300 (users 2 and 5: smaller id first), then 100 (user 1)
    assert [r["user_id"] for r in rows] == [2, 5, 1]
    assert rows[0]["segment"] == "Champions" and rows[2]["segment"] is None
    assert not {"city", "state", "country", "age", "gender"} & set(rows[0])  # no personal data


def test_cohort_retention_keeps_latest_cohorts():
    rows = [
        (D(2024, m, 1), k, 10, 10 if k == 0 else 2, 1.0 if k == 0 else 0.2, 0.0, 0.0)
        for m in (1, 2, 3)
        for k in range(0, 4 - m)
    ]
    got = report.cohort_retention(tables(fact_cohort_retention=mem(COHORT_SCHEMA, rows)), AS_OF, max_cohorts=2)
    # the 2 latest cohort months to March 2024: February (months 0, 1) and March (month 0)
    assert [(r["cohort_month"], r["months_since_first"]) for r in got] == [
        (D(2024, 2, 1), 0),
        (D(2024, 2, 1), 1),
        (D(2024, 3, 1), 0),
    ]


def test_month_start_goes_back_across_years():
    assert report._month_start(D(2024, 3, 31), 17) == D(2022, 10, 1)  # 2024*12+2-17 = 2022*12+9


@pytest.fixture
def products():
    # 10 products with revenue (ranks 1..10, revenue 100, 90, ..., 10) and 2 without (ranks 11, 12)
    rows = []
    for rank in range(1, 13):
        revenue = max(0.0, 110.0 - 10 * rank)
        rows.append(
            (100 + rank, f"p{rank}", "b", "c", "d", 1.0, 2.0, 1, 0, revenue, 0.0, revenue, None, None, rank, None, None)
        )
    return mem(PRODUCT_SCHEMA, rows)


def test_top_products_by_rank(products):
    rows = report.top_products(tables(fact_product_performance=products), n=3)
    assert [(r["revenue_rank"], r["product_id"], r["net_revenue"]) for r in rows] == [
        (1, 101, 100.0),
        (2, 102, 90.0),
        (3, 103, 80.0),
    ]


def test_product_scatter_samples_every_kth_rank(products):
    points, total = report.product_revenue_margin(tables(fact_product_performance=products), max_points=4)
    # 10 products with revenue; step ceil(10 / 4) = 3 -> ranks 1, 4, 7, 10 = products 101, 104, 107, 110
    assert total == 10
    assert [p["product_id"] for p in points] == [101, 104, 107, 110]
    points, total = report.product_revenue_margin(tables(fact_product_performance=products), max_points=50)
    assert len(points) == 10  # under the cap: every product with revenue, none without


def inv(pid, category, stock, cost, sold, status, reorder=0):
    adu = sold / 30
    return (
        pid,
        f"p{pid}",
        "b",
        category,
        "d",
        cost,
        stock,
        stock * cost,
        sold,
        adu,
        stock / adu if sold else None,
        None,
        None,
        status,
        reorder,
        reorder * cost,
    )


@pytest.fixture
def inventory():
    return mem(
        INV_SCHEMA,
        [
            inv(1, "A", 10, 2.0, 30, "healthy"),  # 1 unit/day
            inv(2, "A", 20, 5.0, 15, "overstocked"),  # 0.5 unit/day, 40 days: just a label here
            inv(3, "B", 5, 4.0, 0, "dead_stock"),
            inv(4, "B", 8, 1.0, 0, "dead_stock"),
            inv(5, "A", 0, 3.0, 6, "out_of_stock", reorder=9),
        ],
    )


def test_inventory_status_summary(inventory):
    rows = report.inventory_status_summary(tables(fact_inventory_forecast=inventory))
    assert [r["inventory_status"] for r in rows] == ["out_of_stock", "healthy", "overstocked", "dead_stock"]
    dead = rows[-1]
    # products 3 and 4: 5 + 8 = 13 units, 5 * 4 + 8 * 1 = 28 of stock value
    assert (dead["products"], dead["stock_units"], dead["stock_value"]) == (2, 13, 28.0)
    assert rows[0]["reorder_value"] == pytest.approx(27.0)  # 9 units * 3


def test_stock_by_status_orders_by_stock_value(inventory):
    rows = report.stock_by_status(tables(fact_inventory_forecast=inventory), "dead_stock")
    assert [(r["product_id"], r["stock_value"]) for r in rows] == [(3, 20.0), (4, 8.0)]


def test_stock_coverage_by_category_ratio_of_sums(inventory):
    rows = report.stock_coverage_by_category(tables(fact_inventory_forecast=inventory))
    got = {r["category"]: r for r in rows}
    # A: stock 10 + 20 + 0 = 30 units over 1 + 0.5 + 0.2 = 1.7 units/day = 17.647 days
    assert got["A"]["days_of_stock"] == pytest.approx(30 / 1.7)
    # B: no sales at all -> NULL (listed last)
    assert got["B"]["days_of_stock"] is None and rows[-1]["category"] == "B"


def test_formatting_for_people():
    assert report.fmt_money(1_234_567.8, compact=True) == "$1.23M"
    assert report.fmt_money(-48_110.0, compact=True) == "-$48.11k"
    assert report.fmt_money(1234.4) == "$1,234"
    assert report.fmt_money(42.375) == "$42.38" or report.fmt_money(42.375) == "$42.37"
    assert report.fmt_money(None) == "\u2014"
    assert report.fmt_pct(0.1234) == "12.3%"
    assert report.fmt_pct(-0.052, signed=True) == "-5.2%"
    assert report.fmt_roas(3.456) == "3.46\u00d7"
    assert report.fmt_int(1234567) == "1,234,567"


def test_sessions_by_source():
    t0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)

    def sess(i, source, cart, purchase):
        return (f"s{i}", "u1", 1, True, t0.date(), t0, t0, 0.0, 1, 0, cart, purchase, "/", "home", source, None, "x")

    rows = report.sessions_by_source(
        tables(
            fact_session_metrics=mem(
                SESSION_SCHEMA,
                [
                    sess(1, "Email", True, True),
                    sess(2, "Email", True, False),
                    sess(3, "Email", False, False),
                    sess(4, "Email", False, False),
                    sess(5, None, False, False),
                ],
            )
        )
    )
    # Email: 4 sessions, 2 with a cart (50%), 1 with a purchase (25%); a NULL source is its own row
    assert rows[0] == {
        "traffic_source": "Email",
        "sessions": 4,
        "cart_sessions": 2,
        "purchase_sessions": 1,
        "cart_rate": 0.5,
        "conversion_rate": 0.25,
    }
    assert rows[1]["traffic_source"] == "(none)" and rows[1]["conversion_rate"] == 0.0


# ------------------------------------------------------------------------------------------------
# `ecom report` on a DuckDB file holding the (fake) marts
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def duckdb_with_marts(tmp_path):
    db = tmp_path / "ecom.duckdb"
    fake_marts_in_duckdb(db, days=90, n_products=60, n_users=200).close()
    return db


def test_cli_report_writes_the_dashboard(duckdb_with_marts, tmp_path):
    from typer.testing import CliRunner

    from ecom.cli import app

    out = tmp_path / "r" / "report.html"
    result = CliRunner().invoke(app, ["report", "--path", str(duckdb_with_marts), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "as of <b>2024-06-30</b>" in text  # from _ecom_vars
    assert "lead_time_days = <b>14</b>" in text
    for page in ("Executive overview", "Marketing performance", "Customers", "Products and inventory"):
        assert f">{page}</button>" in text


def test_cli_report_names_missing_marts(tmp_path):
    from typer.testing import CliRunner

    from ecom.cli import app
    from ecom.targets.duckdb import DuckDBTarget

    db = tmp_path / "empty.duckdb"
    DuckDBTarget(db).close()
    result = CliRunner().invoke(app, ["report", "--path", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "fact_daily_pnl" in result.output and "ecom build" in result.output
    assert not (tmp_path / "r.html").exists()


def test_every_query_compiles_to_bigquery(monkeypatch, tmp_path):
    """The report runs on BigQuery too: every query it sends compiles to BigQuery SQL."""

    compiled: list[str] = []

    def compiling(fetch):
        def fetch_after_compiling(expr):
            compiled.append(ibis.to_sql(expr, dialect="bigquery"))
            return fetch(expr)

        return fetch_after_compiling

    monkeypatch.setattr(report, "_rows", compiling(report._rows))
    monkeypatch.setattr(report, "_scalar", compiling(report._scalar))
    marts = fake_marts(days=40, n_products=30, n_users=60)
    report.write_report(marts.__getitem__, tmp_path / "r.html")
    assert len(compiled) >= 18
    # and none reads the clock: as_of comes from the build
    assert all("CURRENT_DATE" not in sql for sql in compiled)


def test_report_on_empty_marts(tmp_path):
    """A build with no activity still gives a report: zero tiles, "No data" charts, empty tables."""

    marts = {
        name: (t if name == "_ecom_vars" else t.limit(0))
        for name, t in fake_marts(days=5, n_products=5, n_users=5).items()
    }
    text = report.write_report(marts.__getitem__, tmp_path / "r.html").read_text()
    assert "as of <b>2024-06-30</b>" in text
    assert "No data" in text and "No rows" in text


@pytest.mark.slow
def test_report_under_10_seconds_at_scale_1(tmp_path):
    """Scale 1 is ~100k users and ~30k products: the queries aggregate in DuckDB, the scatter is sampled."""
    import time

    tgt = fake_marts_in_duckdb(tmp_path / "ecom.duckdb", days=3 * 365, n_products=30_000, n_users=100_000)
    start = time.perf_counter()
    path = report.write_report(tgt.table, tmp_path / "report.html")
    seconds = time.perf_counter() - start
    tgt.close()
    assert seconds < 10, f"report took {seconds:.1f} s"
    assert path.stat().st_size < 8_000_000  # plotly.js (~4.6 MB) plus small, sampled data


def test_fake_marts_have_the_real_marts_schemas(project):
    """The marts the report reads, as the models produce them, have exactly the columns and types of
    the fake marts the other report tests use: a renamed or retyped mart column fails here."""
    from ecom.core.engine import unbound_expressions
    from ecom.core.vars import resolve_vars
    from ecom.targets.base import Location

    values = resolve_vars(project.vars, {"as_of": AS_OF}, lambda _: None)
    exprs = unbound_expressions(project, values, Location("raw"), Location("main"))
    fakes = fake_marts(days=3, n_products=3, n_users=3)
    for mart in report.MARTS:
        assert exprs[mart].schema() == fakes[mart].schema(), mart
