"""int_daily_sales, fact_daily_pnl and fact_daily_pnl_advanced against hand-computed expectations
(arithmetic in the comments), on fixtures/sales (see its README) and inline tables.

fixtures/sales is built at as_of 2024-03-31 (its vars.yml) and at 2024-03-10. Product costs:
P1 10, P2 25, P4 6, P5 15, P6 8, P7 20 (inventory cost is 999 everywhere: never used).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pytest

from ecom.core.engine import generic_tests, singular_tests
from marts.summaries import pnl_last_30_days
from tests.conftest import PROJECT, Built, memtable, scenario_group

MY_MODELS = (
    "int_daily_sales",
    "fact_daily_pnl",
    "fact_daily_pnl_advanced",
    "fact_product_performance",
    "fact_inventory_forecast",
)
pytestmark = scenario_group("sales")  # reads fixtures/sales as tests/conftest.py builds it
D = dt.date


def approx(x: float) -> Any:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


# --- int_daily_sales --------------------------------------------------------------------------------


def test_int_daily_sales(sales: Built) -> None:
    days = sales.by_key("int_daily_sales")
    # Only dates with a non-cancelled item: 2023-03-20 (order 1, all cancelled) and 2024-04-02
    # (after as_of) are absent.
    assert list(days) == [D(2023, 3, 27), D(2024, 3, 5), D(2024, 3, 20), D(2024, 3, 25), D(2024, 3, 31)]

    # 2024-03-05: order 3 (item 3 complete 30, item 4 returned 30, item 5 cancelled) and order 4
    # (item 6 shipped 50, P2). orders 2; net items 3 and 6; gross 30 + 30 + 50 = 110; returned 30;
    # net 80; cogs P1 10 + P2 25 = 35; gross_profit 45. customers: users 2 and 3 (order 4 is user
    # 3's although its item says user 2), both first ordering that day.
    assert days[D(2024, 3, 5)] == {
        "order_date": D(2024, 3, 5),
        "orders": 2,
        "items_sold": 2,
        "gross_revenue": 110.0,
        "returned_revenue": 30.0,
        "net_revenue": 80.0,
        "cogs": 35.0,
        "gross_profit": 45.0,
        "customers": 2,
        "new_customers": 2,
    }
    # 2024-03-20: order 5, P1 30 + 5 × P2 50 = 280; cogs 10 + 5 × 25 = 135; user 2 not new.
    d = days[D(2024, 3, 20)]
    assert (d["orders"], d["items_sold"], d["net_revenue"], d["cogs"], d["gross_profit"]) == (1, 6, 280, 135, 145)
    assert (d["customers"], d["new_customers"]) == (1, 0)
    # 2023-03-27: user 1's order 1 was cancelled, so order 2 is their first: new customer.
    assert days[D(2023, 3, 27)]["new_customers"] == 1
    # 2024-03-25: 13.334 + 13.334 + 13.333 + 40.004 = 80.005; cogs 3 × 6 + 15 = 33.
    assert days[D(2024, 3, 25)]["net_revenue"] == approx(80.005)
    assert days[D(2024, 3, 25)]["gross_profit"] == approx(80.005 - 33)
    # 2024-03-31 23:59:59 is still on as_of; user 3 first ordered on 2024-03-05 (by their ORDER).
    assert (days[D(2024, 3, 31)]["customers"], days[D(2024, 3, 31)]["new_customers"]) == (1, 0)


def test_int_daily_sales_early_as_of(sales_early: Built) -> None:
    days = sales_early.by_key("int_daily_sales")
    assert list(days) == [D(2023, 3, 27), D(2024, 3, 5)]
    # Item 4 is returned on 2024-03-12, after this as_of: it is still a net item (delivered 03-08).
    # items 3, 4, 6; gross 110; returned 0; net 110; cogs 10 + 10 + 25 = 45.
    d = days[D(2024, 3, 5)]
    assert (d["items_sold"], d["gross_revenue"], d["returned_revenue"], d["net_revenue"], d["cogs"]) == (
        3,
        110,
        0,
        110,
        45,
    )


# --- fact_daily_pnl ---------------------------------------------------------------------------------


def every_day(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_pnl_spine(sales: Built) -> None:
    rows = sales.rows("fact_daily_pnl")
    # From the first order of any status (order 1, cancelled, 2023-03-20; first spend 2023-03-22)
    # to as_of: 2023-03-20 .. 2024-03-31 = 366 days to 2024-03-20 (leap year) + 11 + 1 = 378 rows.
    assert [r["date"] for r in rows] == every_day(D(2023, 3, 20), D(2024, 3, 31))
    assert len(rows) == 378


def test_pnl_quiet_day_is_zeros_with_null_ratios(sales: Built) -> None:
    quiet = sales.by_key("fact_daily_pnl")[D(2023, 6, 1)]
    assert quiet == {
        "date": D(2023, 6, 1),
        **dict.fromkeys(("orders", "items_sold", "customers", "new_customers"), 0),
        **dict.fromkeys(("gross_revenue", "returned_revenue", "net_revenue", "cogs", "gross_profit", "ad_spend"), 0.0),
        "contribution_profit": 0.0,
        "gross_margin": None,
        "roas": None,
        "aov": None,
    }
    # The first spine day has only a cancelled order: 0 orders.
    assert sales.by_key("fact_daily_pnl")[D(2023, 3, 20)]["orders"] == 0


def test_pnl_ratios_and_spend(sales: Built) -> None:
    pnl = sales.by_key("fact_daily_pnl")
    d = pnl[D(2024, 3, 5)]
    # spend 40 (Google c1) + 20 (Facebook c2) = 60; roas 80 / 60; aov 80 / 2 = 40;
    # gross_margin 45 / 80 = 0.5625; contribution 45 − 60 = −15.
    assert d["ad_spend"] == 60
    assert d["roas"] == approx(80 / 60)
    assert d["aov"] == 40
    assert d["gross_margin"] == 0.5625
    assert d["contribution_profit"] == -15
    # 2024-03-20: a zero-spend row: ROAS NULL, no error; contribution = gross profit 145.
    d = pnl[D(2024, 3, 20)]
    assert (d["ad_spend"], d["roas"], d["contribution_profit"]) == (0, None, 145)
    # 2024-03-25: Google c1 spend NULL counts 0, Facebook c1 25: roas 80.005 / 25 = 3.2002.
    assert pnl[D(2024, 3, 25)]["ad_spend"] == 25
    assert pnl[D(2024, 3, 25)]["roas"] == approx(80.005 / 25)
    # 2024-03-28: spend without sales: roas 0 / 15 = 0, margin and aov NULL, contribution −15.
    d = pnl[D(2024, 3, 28)]
    assert (d["roas"], d["gross_margin"], d["aov"], d["contribution_profit"]) == (0, None, None, -15)
    # Spend after as_of (2024-04-01, 99) is not in the spine or the total: 10 + 60 + 0 + 25 + 15.
    assert sum(r["ad_spend"] for r in pnl.values()) == 110
    assert sum(r["net_revenue"] for r in pnl.values()) == approx(50 + 80 + 280 + 80.005 + 20)


def test_pnl_early_as_of(sales_early: Built) -> None:
    rows = sales_early.rows("fact_daily_pnl")
    assert [r["date"] for r in rows] == every_day(D(2023, 3, 20), D(2024, 3, 10))
    # Spend dated by 2024-03-10 only: 10 + 40 + 20.
    assert sum(r["ad_spend"] for r in rows) == 70


def pnl_input(days: dict[dt.date, float], spend: dict[dt.date, float], order_dates: list[dt.date]) -> dict:
    """Inline inputs for fact_daily_pnl: one order and sales row per net-revenue day."""
    sales = memtable(
        {
            "order_date": list(days),
            "orders": [1] * len(days),
            "items_sold": [1] * len(days),
            "gross_revenue": list(days.values()),
            "returned_revenue": [0.0] * len(days),
            "net_revenue": list(days.values()),
            "cogs": [0.0] * len(days),
            "gross_profit": list(days.values()),
            "customers": [1] * len(days),
            "new_customers": [1] * len(days),
        },
        {
            "order_date": "date",
            "orders": "int64",
            "items_sold": "int64",
            "gross_revenue": "float64",
            "returned_revenue": "float64",
            "net_revenue": "float64",
            "cogs": "float64",
            "gross_profit": "float64",
            "customers": "int64",
            "new_customers": "int64",
        },
    )
    marketing = memtable(
        {
            "spend_date": list(spend),
            "platform": ["Google"] * len(spend),
            "spend": list(spend.values()),
            "clicks": [0] * len(spend),
            "impressions": [0] * len(spend),
            "campaigns": [1] * len(spend),
        },
        {
            "spend_date": "date",
            "platform": "string",
            "spend": "float64",
            "clicks": "int64",
            "impressions": "int64",
            "campaigns": "int64",
        },
    )
    orders = memtable({"order_date": order_dates}, {"order_date": "date"})
    return {"int_daily_sales": sales, "int_daily_marketing": marketing, "stg_orders": orders}


def test_pnl_spine_starts_at_first_spend_when_earlier() -> None:
    from marts.sales import fact_daily_pnl

    inputs = pnl_input({D(2024, 1, 5): 10.0}, {D(2024, 1, 2): 4.0}, [D(2024, 1, 5)])
    rows = fact_daily_pnl(**inputs, as_of=D(2024, 1, 6)).order_by("date").to_pyarrow().to_pylist()
    # Spend on 01-02 opens the spine before the first order (01-05); it runs to as_of 01-06.
    assert [r["date"] for r in rows] == every_day(D(2024, 1, 2), D(2024, 1, 6))
    assert [r["ad_spend"] for r in rows] == [4, 0, 0, 0, 0]
    assert [r["roas"] for r in rows] == [0, None, None, None, None]


def test_pnl_without_orders_or_spend_is_empty() -> None:
    from marts.sales import fact_daily_pnl

    inputs = pnl_input({}, {}, [])
    assert fact_daily_pnl(**inputs, as_of=D(2024, 1, 6)).count().execute() == 0


# --- fact_daily_pnl_advanced ------------------------------------------------------------------------


def test_advanced_trailing_windows(sales: Built) -> None:
    adv = sales.by_key("fact_daily_pnl_advanced")
    d = adv[D(2024, 3, 25)]
    # 7 days 03-19..03-25: net 280 + 80.005 = 360.005; spend 0 + 25 = 25; roas_7d 14.4002 (a ratio of
    # the sums: the daily roas of 03-20 is NULL and does not enter).
    assert d["net_revenue_7d"] == approx(360.005)
    assert d["ad_spend_7d"] == 25
    assert d["roas_7d"] == approx(360.005 / 25)
    assert d["gross_profit_7d"] == approx(145 + 47.005)
    d = adv[D(2024, 3, 31)]
    # 7 days 03-25..03-31: 80.005 + 20 = 100.005; spend 25 + 15 = 40.
    # 30 days 03-02..03-31: 80 + 280 + 80.005 + 20 = 460.005; spend 60 + 0 + 25 + 15 = 100.
    assert (d["net_revenue_7d"], d["ad_spend_7d"]) == (approx(100.005), 40)
    assert d["roas_7d"] == approx(100.005 / 40)
    assert (d["net_revenue_30d"], d["ad_spend_30d"]) == (approx(460.005), 100)
    assert d["roas_30d"] == approx(460.005 / 100)
    assert d["gross_profit_30d"] == approx(45 + 145 + 47.005 + 12)
    # Across the gap after 03-05: 03-11 still holds 03-05 (03-05..03-11 = 80), 03-12 does not; no
    # spend in 03-06..03-12, so roas_7d is NULL.
    assert adv[D(2024, 3, 11)]["net_revenue_7d"] == 80
    assert (adv[D(2024, 3, 12)]["net_revenue_7d"], adv[D(2024, 3, 12)]["roas_7d"]) == (0, None)
    # 30 days: 2023-03-27's 50 is in 2023-03-27..2023-04-25, gone on 04-26.
    assert adv[D(2023, 4, 25)]["net_revenue_30d"] == 50
    assert adv[D(2023, 4, 26)]["net_revenue_30d"] == 0


def test_advanced_running_sums(sales: Built) -> None:
    adv = sales.by_key("fact_daily_pnl_advanced")
    # mtd restarts each month; ytd each year; cumulative never.
    assert adv[D(2024, 3, 1)]["net_revenue_mtd"] == 0
    assert adv[D(2024, 3, 5)]["net_revenue_mtd"] == 80
    assert adv[D(2024, 3, 31)]["net_revenue_mtd"] == approx(460.005)
    assert adv[D(2023, 3, 31)]["net_revenue_mtd"] == 50
    assert adv[D(2023, 4, 1)]["net_revenue_mtd"] == 0
    assert adv[D(2023, 12, 31)]["net_revenue_ytd"] == 50
    assert adv[D(2024, 1, 1)]["net_revenue_ytd"] == 0
    assert adv[D(2024, 3, 31)]["net_revenue_ytd"] == approx(460.005)
    assert adv[D(2024, 3, 20)]["cumulative_net_revenue"] == 50 + 80 + 280
    assert adv[D(2024, 3, 31)]["cumulative_net_revenue"] == approx(510.005)


def test_advanced_prev_year(sales: Built) -> None:
    adv = sales.by_key("fact_daily_pnl_advanced")
    # 2024-03-25 − 364 = 2023-03-27 (2024 is a leap year), − 370 = 2023-03-21: holds 2023-03-27's 50.
    # 2024-03-31: [2023-03-27, 2023-04-02]: still 50. yoy = (100.005 − 50) / 50 = 1.0001.
    # 2024-03-24: [2023-03-20, 2023-03-26]: 0 → yoy NULL. 2023 dates reach before the spine: 0.
    assert adv[D(2024, 3, 25)]["net_revenue_7d_prev_year"] == 50
    assert adv[D(2024, 3, 25)]["yoy_growth_7d"] == approx((360.005 - 50) / 50)
    assert adv[D(2024, 3, 31)]["net_revenue_7d_prev_year"] == 50
    assert adv[D(2024, 3, 31)]["yoy_growth_7d"] == approx((100.005 - 50) / 50)
    assert adv[D(2024, 3, 24)]["net_revenue_7d_prev_year"] == 0
    assert adv[D(2024, 3, 24)]["yoy_growth_7d"] is None
    assert adv[D(2023, 3, 27)]["net_revenue_7d_prev_year"] == 0
    assert sum(1 for r in adv.values() if r["net_revenue_7d_prev_year"] != 0) == 7


def test_pnl_summary_gives_margin_and_growth_in_percent(sales: Built) -> None:
    """The build's P&L summary printed gross_margin_30d 0.51 and yoy_growth_7d 60.19 (fractions)
    beside summaries of percentages: a growth of 6,019 % read as 60 %."""
    got = pnl_last_30_days(sales.target.table("fact_daily_pnl_advanced"), D(2024, 3, 31)).to_pyarrow().to_pylist()
    # 30 days to 2024-03-31 (test_advanced_trailing_windows): net 460.005, gross profit 249.005, spend
    # 100; margin 249.005 / 460.005 = 54.13 %; 7 days 100.005 against 50 a year before: +100.01 %.
    assert got == [
        {
            "date": D(2024, 3, 31),
            "net_revenue_30d": approx(460.005),
            "gross_profit_30d": approx(249.005),
            "gross_margin_30d_pct": approx(100 * 249.005 / 460.005),
            "ad_spend_30d": 100,
            "roas_30d": approx(4.60005),
            "yoy_growth_7d_pct": approx(100.01),
        }
    ]


def test_advanced_trailing_sums_match_a_plain_python_reference(sales: Built) -> None:
    """Every trailing and running column against a loop over calendar dates."""
    pnl = sales.by_key("fact_daily_pnl")
    net = {d: r["net_revenue"] for d, r in pnl.items()}

    def window(d: dt.date, first_back: int, last_back: int) -> float:
        days = (d - dt.timedelta(days=k) for k in range(last_back, first_back + 1))
        return sum(net.get(x, 0.0) for x in days)

    for d, r in sales.by_key("fact_daily_pnl_advanced").items():
        assert r["net_revenue_7d"] == pytest.approx(window(d, 6, 0), abs=1e-9)
        assert r["net_revenue_30d"] == pytest.approx(window(d, 29, 0), abs=1e-9)
        assert r["net_revenue_7d_prev_year"] == pytest.approx(window(d, 370, 364), abs=1e-9)
        mtd = sum(v for x, v in net.items() if x <= d and (x.year, x.month) == (d.year, d.month))
        assert r["net_revenue_mtd"] == pytest.approx(mtd, abs=1e-9)
        assert {k: r[k] for k in pnl[d]} == pnl[d]


# --- Data tests and the dialect cross-check ---------------------------------------------------------


@pytest.mark.parametrize("scenario", ["sales", "early"])
def test_data_tests_pass(scenario: str, sales: Built, sales_early: Built) -> None:
    built = {"sales": sales, "early": sales_early}[scenario]
    names = {c.name for c in generic_tests(PROJECT, MY_MODELS) + singular_tests(PROJECT, built.selected, built.values)}
    assert {
        "fact_daily_pnl_spine_is_complete",
        "fact_daily_pnl_ratios_in_range",
        "fact_product_performance_ratios_in_range",
        "accepted_values_fact_inventory_forecast_inventory_status",
        "relationships_fact_product_performance_product_id__stg_products",
    } <= names
    assert built.failing_data_tests(MY_MODELS) == []


def test_reconciliation_data_test_fails_on_a_mismatch() -> None:
    from marts.reconciliation import ad_spend_agrees_across_marts

    pnl = ibis.memtable({"ad_spend": [10.0, 5.0]})
    campaigns = ibis.memtable({"spend": [15.0, None]}, schema={"spend": "float64"})
    # 15 vs 15.0000001: within 1e-6 relative; NULL spend counts as 0
    marketing = ibis.memtable({"spend": [10.0, None, 5.0000001]}, schema={"spend": "float64"})
    assert ad_spend_agrees_across_marts(pnl, campaigns, marketing).count().execute() == 0
    marketing = ibis.memtable({"spend": [10.0, None, 5.1]}, schema={"spend": "float64"})
    assert ad_spend_agrees_across_marts(pnl, campaigns, marketing).count().execute() == 1


@pytest.mark.parametrize("model", MY_MODELS)
@pytest.mark.parametrize("scenario", ["sales", "early"])
def test_bigquery_sql_gives_the_same_rows(model: str, scenario: str, sales: Built, sales_early: Built) -> None:
    {"sales": sales, "early": sales_early}[scenario].run_both(model)


@pytest.mark.parametrize(
    "days, failing",
    [
        ([1, 2, 3, 4], 0),
        ([1, 2, 4], 1),  # a gap: 3 rows for 4 days
        ([1, 2, 3], 1),  # stops before as_of
        ([], 0),  # no orders and no spend: an empty spine is complete
    ],
)
def test_spine_data_test_catches_gaps(days: list[int], failing: int) -> None:
    from marts.sales import fact_daily_pnl_spine_is_complete

    pnl = memtable({"date": [D(2024, 1, d) for d in days]}, {"date": "date"})
    assert fact_daily_pnl_spine_is_complete(pnl, D(2024, 1, 4)).count().execute() == failing


def test_range_data_test_catches_out_of_range_and_infinite_ratios() -> None:
    from marts.products import fact_product_performance_ratios_in_range

    cols = ("margin_pct", "return_rate", "revenue_share", "cumulative_revenue_share")
    ok = [0.5, 0.0, 1.0 + 1e-12, None]
    bad = [[1.1, 0, 0, 0], [0, -0.1, 0, 0], [0, 0, 1.001, 0], [0, 0, 0, float("inf")], [float("nan"), 0, 0, 0]]
    rows = [ok, *bad]
    table = memtable({c: [r[i] for r in rows] for i, c in enumerate(cols)}, dict.fromkeys(cols, "float64"))
    assert fact_product_performance_ratios_in_range(table).count().execute() == len(bad)
