"""fact_product_performance and fact_inventory_forecast against hand-computed expectations
(arithmetic in the comments), on fixtures/sales (see its README) and inline tables.

Defaults: velocity_window_days W = 30, critical/low/overstock 7/14/90, lead + cover = 14 + 30 = 44.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pytest

from marts.products import fact_inventory_forecast, fact_product_performance
from tests.conftest import Built, memtable, scenario_group

pytestmark = scenario_group("sales")  # reads fixtures/sales as tests/conftest.py builds it
D = dt.date
DEFAULTS = dict(
    velocity_window_days=30, critical_days=7, low_days=14, overstock_days=90, lead_time_days=14, cover_days=30
)


# --- fact_product_performance on the fixture --------------------------------------------------------


def test_product_performance(sales: Built) -> None:
    p = sales.by_key("fact_product_performance")
    total = 300 + 60 + 50 + 40.001 + 40.004 + 20  # = 510.005, Σ daily net revenue too
    # P1: net items 3 and 7 (2 × 30 = 60), item 4 returned, item 5 and order 1's item cancelled.
    # cogs 2 × 10 = 20; margin 40 / 60; return_rate 1 / (2 + 1).
    assert {k: p[1][k] for k in ("units_sold", "units_returned", "net_revenue", "cogs", "gross_profit")} == {
        "units_sold": 2,
        "units_returned": 1,
        "net_revenue": 60,
        "cogs": 20,
        "gross_profit": 40,
    }
    assert p[1]["margin_pct"] == pytest.approx(40 / 60)
    assert p[1]["return_rate"] == pytest.approx(1 / 3)
    # P2: 6 × 50 = 300 (order 8 is after as_of), cogs 6 × 25 = 150.
    assert (p[2]["units_sold"], p[2]["net_revenue"], p[2]["cogs"], p[2]["return_rate"]) == (6, 300, 150, 0)
    # P3 never sold: zeros, NULL ratios, last rank, share 0, cumulative share 1.
    assert {k: p[3][k] for k in ("units_sold", "units_returned", "net_revenue", "cogs", "gross_profit")} == {
        "units_sold": 0,
        "units_returned": 0,
        "net_revenue": 0,
        "cogs": 0,
        "gross_profit": 0,
    }
    assert (p[3]["margin_pct"], p[3]["return_rate"], p[3]["revenue_share"]) == (None, None, 0)
    # Ranks: P2 300, P1 60, P7 50, then P4 40.001 and P5 40.004, both 40.00 to the cent: the tie
    # goes to the smaller product_id (P4 first though P5 earned more), P6 20, P3 0.
    assert {pid: r["revenue_rank"] for pid, r in p.items()} == {2: 1, 1: 2, 7: 3, 4: 4, 5: 5, 6: 6, 3: 7}
    assert p[2]["revenue_share"] == pytest.approx(300 / total)
    assert p[4]["cumulative_revenue_share"] == pytest.approx((300 + 60 + 50 + 40.001) / total)
    assert p[5]["cumulative_revenue_share"] == pytest.approx((300 + 60 + 50 + 40.001 + 40.004) / total)
    assert p[6]["cumulative_revenue_share"] == pytest.approx(1)
    assert p[3]["cumulative_revenue_share"] == pytest.approx(1)
    assert p[3]["name"] == "Socks" and p[3]["retail_price"] == 12


def test_product_performance_early_as_of(sales_early: Built) -> None:
    p = sales_early.by_key("fact_product_performance")
    # Item 4's return (2024-03-12) has not happened by 2024-03-10: 2 units sold, none returned.
    assert (p[1]["units_sold"], p[1]["units_returned"], p[1]["return_rate"]) == (2, 0, 0)
    # P1 60; P2 and P7 exactly 50 each: P2 first; then the unsold P3..P6 by product_id.
    assert {pid: r["revenue_rank"] for pid, r in p.items()} == {1: 1, 2: 2, 7: 3, 3: 4, 4: 5, 5: 6, 6: 7}
    # total 60 + 50 + 50 = 160: shares 0.375, 0.3125; cumulative 0.375, 0.6875, 1.
    assert [p[i]["cumulative_revenue_share"] for i in (1, 2, 7)] == [0.375, 0.6875, 1.0]


def products(ids: list[int], cost: float = 10.0) -> Any:
    return memtable(
        {
            "product_id": ids,
            "name": [f"p{i}" for i in ids],
            "brand": ["b"] * len(ids),
            "category": ["c"] * len(ids),
            "department": ["d"] * len(ids),
            "sku": [f"s{i}" for i in ids],
            "cost": [cost] * len(ids),
            "retail_price": [2 * cost] * len(ids),
            "distribution_center_id": [1] * len(ids),
        },
        {
            "product_id": "int64",
            "name": "string",
            "brand": "string",
            "category": "string",
            "department": "string",
            "sku": "string",
            "cost": "float64",
            "retail_price": "float64",
            "distribution_center_id": "int64",
        },
    )


def items(rows: list[tuple[int, str, float, dt.date]]) -> Any:
    """Staged order items (product_id, status, sale_price, order_date), one order each, user 1."""
    n = len(rows)
    return memtable(
        {
            "order_item_id": list(range(1, n + 1)),
            "order_id": list(range(1, n + 1)),
            "product_id": [r[0] for r in rows],
            "status": [r[1] for r in rows],
            "sale_price": [r[2] for r in rows],
            "order_date": [r[3] for r in rows],
        },
        {
            "order_item_id": "int64",
            "order_id": "int64",
            "product_id": "int64",
            "status": "string",
            "sale_price": "float64",
            "order_date": "date",
        },
    )


def orders(n: int) -> Any:
    return memtable(
        {"order_id": list(range(1, n + 1)), "user_id": [1] * n, "created_at": [dt.datetime(2024, 1, 1)] * n},
        {"order_id": "int64", "user_id": "int64", "created_at": "timestamp('UTC')"},
    )


def test_product_performance_without_sales_has_null_shares() -> None:
    # Total net revenue 0: revenue_share and cumulative_revenue_share are NULL (a share of nothing);
    # ranks still 1..n by product_id. The only item is cancelled.
    sold = items([(2, "cancelled", 9.0, D(2024, 1, 1))])
    rows = fact_product_performance(products([3, 1, 2]), sold, orders(1)).order_by("product_id").execute()
    assert rows.revenue_rank.tolist() == [1, 2, 3]
    assert rows.revenue_share.isna().all() and rows.cumulative_revenue_share.isna().all()
    assert rows.units_sold.tolist() == [0, 0, 0]


def test_product_performance_returned_only_product() -> None:
    # Everything returned: net revenue 0, margin NULL, return_rate 1 / (0 + 1) = 1.
    sold = items([(1, "returned", 9.0, D(2024, 1, 1)), (2, "complete", 5.0, D(2024, 1, 1))])
    rows = fact_product_performance(products([1, 2]), sold, orders(2)).order_by("product_id").execute()
    assert rows.return_rate.tolist() == [1.0, 0.0]
    assert rows.margin_pct.isna().tolist() == [True, False]
    # P2 5.00 ranks first; shares 0 and 1.
    assert rows.revenue_rank.tolist() == [2, 1]
    assert rows.revenue_share.tolist() == [0.0, 1.0]


def test_revenue_rank_ranks_integer_cents_not_rounded_amounts() -> None:
    # cents(x) = FLOOR(x × 100 + 0.5), computed by hand in IEEE doubles:
    # 2.675 is stored as 2.67499999999999982…; × 100 = 267.49999999999997, + 0.5 rounds to 268.0:
    #   268 cents, the same as 2.68, so P1 and P2 tie and the smaller product_id (P1) ranks first.
    #   ROUND(2.675, 2) is 2.67 on BigQuery (and in Python) but 2.68 on DuckDB: ranking on it would
    #   put P2 first on BigQuery only.
    # 0.004999999999999999 × 100 = 0.49999999999999994, + 0.5 rounds to 1.0: 1 cent, tying with
    #   0.01 (P4), so P3 ranks before P4; DuckDB's ROUND(x, 2) gives 0.0 and would put P4 first.
    assert round(2.675, 2) == 2.67  # the half cent where engines' ROUND disagree
    sold = items(
        [
            (1, "complete", 2.675, D(2024, 1, 1)),
            (2, "complete", 2.68, D(2024, 1, 1)),
            (3, "complete", 0.004999999999999999, D(2024, 1, 1)),
            (4, "complete", 0.01, D(2024, 1, 1)),
        ]
    )
    expr = fact_product_performance(products([1, 2, 3, 4]), sold, orders(4))
    rows = expr.order_by("product_id").execute()
    assert rows.revenue_rank.tolist() == [1, 2, 3, 4]
    bigquery = ibis.to_sql(expr, dialect="bigquery")
    assert "ROUND(" not in bigquery and "FLOOR(" in bigquery


# --- fact_inventory_forecast ------------------------------------------------------------------------


def test_inventory_forecast_every_status(sales: Built) -> None:
    f = sales.by_key("fact_inventory_forecast")
    status = {pid: r["inventory_status"] for pid, r in f.items()}
    # S stock, U non-cancelled units ordered 2024-03-02..03-31 (W = 30):
    # P1 S 0 (all sold), U 3 (items 3, 4 returned, 7; 5 cancelled)  → out_of_stock
    # P2 S 1 (unit 116 sold 04-02, after as_of), U 6: 1·30 = 30 < 7·6 = 42 → critical
    # P3 S 2, never sold → dead_stock;  P7 S 1, last sold 2023-03-27 → dead_stock
    # P4 S 1, U 3: 30 ≥ 21, 30 < 42 → low
    # P5 S 4, U 1: 120 > 90 → overstocked
    # P6 S 2 (unit 126 arrives 04-01, after as_of), U 1 (item 17 at 23:59:59): 60 → healthy
    assert status == {
        1: "out_of_stock",
        2: "critical",
        3: "dead_stock",
        4: "low",
        5: "overstocked",
        6: "healthy",
        7: "dead_stock",
    }
    assert {pid: r["stock_on_hand"] for pid, r in f.items()} == {1: 0, 2: 1, 3: 2, 4: 1, 5: 4, 6: 2, 7: 1}
    # Reorder: ⌈U·44/30⌉ − S. P1 ⌈132/30⌉ = ⌈4.4⌉ = 5 − 0 = 5; P2 ⌈264/30⌉ = 9 − 1 = 8;
    # P4 5 − 1 = 4; P5 ⌈44/30⌉ = 2 − 4 → 0; P6 2 − 2 = 0; dead stock 0.
    assert {pid: r["reorder_qty"] for pid, r in f.items()} == {1: 5, 2: 8, 3: 0, 4: 4, 5: 0, 6: 0, 7: 0}
    # Values at products.cost (inventory cost 999 is ignored): P2 8 × 25, stock 1 × 25.
    assert (f[2]["reorder_value"], f[2]["stock_value"]) == (200, 25)
    # P2: avg 6/30 = 0.2, days_of_stock 1·30/6 = 5. Dead stock: days_of_stock NULL.
    assert (f[2]["avg_daily_units"], f[2]["days_of_stock"]) == (pytest.approx(0.2), 5)
    assert (f[3]["days_of_stock"], f[3]["last_sale_date"], f[3]["days_since_last_sale"]) == (None, None, None)
    # P7: 2023-03-27 → 2024-03-31 = 366 (leap year) + 4 = 370 days. P6 sold on as_of: 0.
    assert (f[7]["last_sale_date"], f[7]["days_since_last_sale"]) == (D(2023, 3, 27), 370)
    assert f[6]["days_since_last_sale"] == 0
    assert f[1]["last_sale_date"] == D(2024, 3, 20)


def test_inventory_forecast_early_as_of(sales_early: Built) -> None:
    f = sales_early.by_key("fact_inventory_forecast")
    # At 2024-03-10, units sold later are still stock: P1 unit 105 (sold 03-20) → S 1; P2 units
    # 106..110 (03-20) and 116 (04-02) → S 6; P4 111..113 + 119 → 4; P5 114 + 4 → 5; P6 115 + 2 → 3.
    assert {pid: r["stock_on_hand"] for pid, r in f.items()} == {1: 1, 2: 6, 3: 2, 4: 4, 5: 5, 6: 3, 7: 1}
    # Window 2024-02-10..03-10: P1 U 2 (items 3, 4: the return is later, and counts anyway),
    # 1·30 = 30 vs 14, 28, 180 → healthy, reorder ⌈88/30⌉ = 3 − 1 = 2. P2 U 1: 6·30 = 180 > 90
    # → overstocked. The rest sold nothing yet → dead_stock.
    assert f[1]["inventory_status"] == "healthy" and f[1]["reorder_qty"] == 2
    assert f[2]["inventory_status"] == "overstocked"
    assert {f[i]["inventory_status"] for i in (3, 4, 5, 6, 7)} == {"dead_stock"}
    assert f[7]["days_since_last_sale"] == 349  # 2023-03-27 → 2024-03-10


def inventory(product_ids: list[int]) -> Any:
    """Staged inventory: one unsold unit, received 2024-01-01, per entry."""
    n = len(product_ids)
    return memtable(
        {
            "inventory_item_id": list(range(1, n + 1)),
            "product_id": product_ids,
            "cost": [1.0] * n,
            "created_at": [dt.datetime(2024, 1, 1)] * n,
            "sold_at": [None] * n,
        },
        {
            "inventory_item_id": "int64",
            "product_id": "int64",
            "cost": "float64",
            "created_at": "timestamp('UTC')",
            "sold_at": "timestamp('UTC')",
        },
    )


AS_OF = D(2024, 3, 31)


def forecast(stock_and_units: dict[int, tuple[int, int]], as_of: dt.date = AS_OF, **overrides: int):
    """fact_inventory_forecast over inline tables: product → (unsold units S, units ordered on as_of U)."""
    stock = inventory([pid for pid, (s, _) in stock_and_units.items() for _ in range(s)])
    sold = items([(pid, "complete", 1.0, as_of) for pid, (_, u) in stock_and_units.items() for _ in range(u)])
    expr = fact_inventory_forecast(products(list(stock_and_units)), stock, sold, as_of, **{**DEFAULTS, **overrides})
    return {r["product_id"]: r for r in expr.to_pyarrow().to_pylist()}


def test_inventory_thresholds_are_decided_in_integers() -> None:
    f = forecast({1: (7, 30), 2: (14, 30), 3: (90, 30), 4: (91, 30), 5: (219, 73), 6: (0, 0)})
    # 7·30 = 210 = 7·30: not critical (strict <), 210 < 14·30 → low.
    # 14·30 = 420 = 14·30: not low → healthy. 90·30 = 2700 = 90·30: not overstocked → healthy.
    # 91·30 = 2730 > 2700 → overstocked.
    # 219·30 = 6570 = 90·73 → healthy, though in floats 219 / (73/30) = 90.00000000000001 > 90.
    # S 0 and U 0: out_of_stock comes first; reorder ⌈0⌉ − 0 = 0.
    assert {p: r["inventory_status"] for p, r in f.items()} == {
        1: "low",
        2: "healthy",
        3: "healthy",
        4: "overstocked",
        5: "healthy",
        6: "out_of_stock",
    }
    assert f[6]["reorder_qty"] == 0
    # W = 7: 9·7 = 63 = 7·9, not critical (floats: 9 / (9/7) = 6.999999999999999 < 7) → low.
    assert forecast({1: (9, 9)}, velocity_window_days=7)[1]["inventory_status"] == "low"


def test_reorder_ceiling_is_exact() -> None:
    f = forecast({1: (1, 15), 2: (0, 1), 3: (30, 20)})
    # P1: 15·44 = 660 = 22·30 exactly → ⌈22⌉ = 22, minus 1 = 21 (no spurious round-up).
    # P2: ⌈44/30⌉ = 2. P3: ⌈880/30⌉ = ⌈29.33⌉ = 30 − 30 = 0.
    assert {p: r["reorder_qty"] for p, r in f.items()} == {1: 21, 2: 2, 3: 0}
    # lead 14 + cover 30 → 10 + 20: P2 ⌈30/30⌉ = 1.
    assert forecast({2: (0, 1)}, lead_time_days=10, cover_days=20)[2]["reorder_qty"] == 1


def test_velocity_window_bounds() -> None:
    # W = 30 days ending 2024-03-31: an order on 03-02 counts, one on 03-01 does not; a cancelled
    # item is no sale, so the last sale is 03-02.
    sold = items(
        [
            (1, "complete", 1.0, D(2024, 3, 2)),
            (1, "shipped", 1.0, D(2024, 3, 1)),
            (1, "cancelled", 1.0, D(2024, 3, 30)),
        ]
    )
    expr = fact_inventory_forecast(products([1]), inventory([1]), sold, D(2024, 3, 31), **DEFAULTS)
    [row] = expr.to_pyarrow().to_pylist()
    assert (row["units_sold_window"], row["last_sale_date"], row["days_since_last_sale"]) == (1, D(2024, 3, 2), 29)
