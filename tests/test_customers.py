"""int_user_acquisition, dim_customers, dim_customer_segments, fact_cohort_retention
(docs/contract.md#int_user_acquisition, #dim_customers, ...) on fixtures/customers and inline tables.

Expected values are computed by hand, arithmetic in the comments. The fixture scenario is built by
the engine like `ecom build` (and tests/test_dialects.py cross-checks its BigQuery SQL); the inline
cases run each model natively on DuckDB AND as its BigQuery SQL transpiled to DuckDB
(`run_model_both`, tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marts.customers import (
    SEGMENTS,
    age_band,
    cohort_month_zero_retention_is_one,
    cohort_retention_has_every_cell,
    cohort_retention_rates_in_range,
    customer_segments_cover_every_customer,
    dim_customer_segments,
    rank_score,
)
from marts.summaries import customer_segment_shares
from tests.conftest import approx_rows, build_scenario, run_model_both, scenario_group, ts
from tests.reference import segment

pytestmark = scenario_group("customers")  # reads fixtures/customers as tests/conftest.py builds it
D = dt.date


# --- fixtures/customers at as_of 2024-03-31 -------------------------------------------------------


@pytest.fixture(scope="module")
def march(built_scenario):
    return built_scenario("customers")


@pytest.fixture(scope="module")
def february():
    target = build_scenario("customers", as_of=D(2024, 2, 29))
    yield target
    target.close()


def test_data_tests_pass_at_an_earlier_as_of(february):
    # at the scenario's own as_of (march), every scenario's data tests run in tests/test_dialects.py
    assert february.failing_data_tests() == []


def test_user_acquisition(march):
    approx_rows(
        march.by_key("int_user_acquisition"),
        {
            # First non-cancelled order: order 1 (01-10 10:00); 01-05 -> 01-10 = 5 days. First touch:
            # events 1 and 2 share 01-09 10:00:00, event_id 1 (Email) first; event 3 is 1 µs later.
            1: {
                "signup_date": D(2024, 1, 5),
                "acquisition_source": "Search",
                "first_order_at": ts("2024-01-10 10:00:00"),
                "first_order_date": D(2024, 1, 10),
                "days_to_first_order": 5,
                "first_touch_traffic_source": "Email",
            },
            # Order 3 (01-02) has only a cancelled item: the first order is order 4 (02-20 12:00),
            # whose raw status `Cancelled` is not consulted; 01-01 -> 02-20 = 31 + 19 = 50 days.
            # The anonymous Facebook event (01-01, same IP) is not user 2's.
            2: {
                "signup_date": D(2024, 1, 1),
                "acquisition_source": "Facebook",
                "first_order_at": ts("2024-02-20 12:00:00"),
                "first_order_date": D(2024, 2, 20),
                "days_to_first_order": 50,
                "first_touch_traffic_source": "Organic",
            },
            3: {
                "signup_date": D(2024, 2, 10),
                "acquisition_source": "Organic",
                "first_order_at": None,
                "first_order_date": None,
                "days_to_first_order": None,
                "first_touch_traffic_source": None,
            },
            # Order 5's only item is returned: still a non-cancelled order. 01-20 -> 01-25 = 5.
            4: {
                "signup_date": D(2024, 1, 20),
                "acquisition_source": "Email",
                "first_order_at": ts("2024-01-25 08:00:00"),
                "first_order_date": D(2024, 1, 25),
                "days_to_first_order": 5,
                "first_touch_traffic_source": None,
            },
            # user 5 signs up 2024-04-01 00:00, after as_of: no row.
        },
    )


def test_dim_customers(march):
    rows = march.by_key("dim_customers")
    approx_rows(
        rows,
        {
            # Orders 1 (items 50 complete p1, 30 returned p2) and 2 (40 shipped p1): net items 50, 40.
            # revenue 50 + 40 = 90; cost 20 + 20 = 40; profit 90 - 40 = 50; aov 90 / 2 = 45.
            # last order 03-15 -> 03-31 = 16 days; tenure 01-05 -> 03-31 = 26 + 29 + 31 = 86.
            1: {
                "age": 17,
                "age_band": "<18",
                "gender": "F",
                "country": "United States",
                "first_order_date": D(2024, 1, 10),
                "last_order_date": D(2024, 3, 15),
                "orders": 2,
                "items": 2,
                "lifetime_net_revenue": 90.0,
                "lifetime_gross_profit": 50.0,
                "avg_order_value": 45.0,
                "days_since_last_order": 16,
                "tenure_days": 86,
                "is_customer": True,
            },
            # Order 4 only (order 3 all cancelled): item 5 (100.0 p2, cost 10; its own user_id 999
            # is ignored); item 6 cancelled. profit 100 - 10 = 90. 02-20 -> 03-31 = 9 + 31 = 40;
            # tenure 01-01 -> 03-31 = 31 + 29 + 30 = 90.
            2: {
                "age": 24,
                "age_band": "18-24",
                "country": "Germany",
                "first_order_date": D(2024, 2, 20),
                "last_order_date": D(2024, 2, 20),
                "orders": 1,
                "items": 1,
                "lifetime_net_revenue": 100.0,
                "lifetime_gross_profit": 90.0,
                "avg_order_value": 100.0,
                "days_since_last_order": 40,
                "tenure_days": 90,
                "is_customer": True,
            },
            # No order: zeros, NULL dates and ratios; tenure 02-10 -> 03-31 = 19 + 31 = 50.
            3: {
                "age": None,
                "age_band": None,
                "first_order_date": None,
                "last_order_date": None,
                "orders": 0,
                "items": 0,
                "lifetime_net_revenue": 0.0,
                "lifetime_gross_profit": 0.0,
                "avg_order_value": None,
                "days_since_last_order": None,
                "tenure_days": 50,
                "is_customer": False,
            },
            # Order 5's only item returned: 1 order, 0 items, 0 revenue, aov 0 / 1 = 0; order 6
            # (04-02) is after as_of. 01-25 -> 03-31 = 6 + 29 + 31 = 66; 01-20 -> 03-31 = 71.
            4: {
                "age": 65,
                "age_band": "65+",
                "first_order_date": D(2024, 1, 25),
                "last_order_date": D(2024, 1, 25),
                "orders": 1,
                "items": 0,
                "lifetime_net_revenue": 0.0,
                "lifetime_gross_profit": 0.0,
                "avg_order_value": 0.0,
                "days_since_last_order": 66,
                "tenure_days": 71,
                "is_customer": True,
            },
        },
    )
    # No PII leaves staging.
    assert not {"first_name", "last_name", "email", "street_address", "postal_code", "latitude", "longitude"} & set(
        rows[1]
    )
    assert list(rows[1]) == [
        "user_id",
        "signup_date",
        "age",
        "age_band",
        "gender",
        "country",
        "state",
        "city",
        "acquisition_source",
        "first_order_date",
        "last_order_date",
        "orders",
        "items",
        "lifetime_net_revenue",
        "lifetime_gross_profit",
        "avg_order_value",
        "days_since_last_order",
        "tenure_days",
        "is_customer",
    ]


def test_dim_customer_segments(march):
    # n = 3 customers (users 1, 2, 4), so score = min(5, 1 + floor(5 * (RANK - 1) / 2)):
    # RANK 1 -> 1, RANK 2 -> 1 + floor(2.5) = 3, RANK 3 -> min(5, 6) = 5.
    # recency (desc): 66 (u4) RANK 1 -> 1; 40 (u2) RANK 2 -> 3; 16 (u1) RANK 3 -> 5.
    # frequency (asc): u2, u4 tie at 1 order, both RANK 1 -> 1; u1 (2) RANK 3 -> 5.
    # monetary (asc): 0 (u4) -> 1; 90 (u1) -> 3; 100 (u2) -> 5.
    # fm = (f + m + 1) div 2: u1 (5 + 3 + 1) div 2 = 4; u2 (1 + 5 + 1) div 2 = 3; u4 3 div 2 = 1.
    approx_rows(
        march.by_key("dim_customer_segments"),
        {
            1: {
                "recency_days": 16,
                "frequency": 2,
                "monetary": 90.0,
                "r_score": 5,
                "f_score": 5,
                "m_score": 3,
                "fm_score": 4,
                "segment": "Champions",
            },
            2: {
                "recency_days": 40,
                "frequency": 1,
                "monetary": 100.0,
                "r_score": 3,
                "f_score": 1,
                "m_score": 5,
                "fm_score": 3,
                "segment": "Loyal Customers",
            },
            4: {
                "recency_days": 66,
                "frequency": 1,
                "monetary": 0.0,
                "r_score": 1,
                "f_score": 1,
                "m_score": 1,
                "fm_score": 1,
                "segment": "Lost",
            },
        },
    )


def test_cohort_retention_with_a_silent_month(march):
    approx_rows(
        march.by_key("fact_cohort_retention"),
        {
            # Jan cohort = users 1 (order 1, 01-10) and 4 (order 5, 01-25): size 2.
            # month 0: both active; net 50 (order 1: item 1; item 2 returned) + 0 (order 5) = 50;
            # cumulative 50 / 2 = 25.
            (D(2024, 1, 1), 0): {
                "cohort_size": 2,
                "active_customers": 2,
                "retention_rate": 1.0,
                "net_revenue": 50.0,
                "cumulative_net_revenue_per_customer": 25.0,
            },
            # February: nobody orders (a silent month), still a row of zeros; cumulative stays 25.
            (D(2024, 1, 1), 1): {
                "cohort_size": 2,
                "active_customers": 0,
                "retention_rate": 0.0,
                "net_revenue": 0.0,
                "cumulative_net_revenue_per_customer": 25.0,
            },
            # March: user 1 (order 2, 40.0): 1 / 2 = 0.5; cumulative (50 + 0 + 40) / 2 = 45.
            (D(2024, 1, 1), 2): {
                "cohort_size": 2,
                "active_customers": 1,
                "retention_rate": 0.5,
                "net_revenue": 40.0,
                "cumulative_net_revenue_per_customer": 45.0,
            },
            # Feb cohort = user 2 (order 3 of 01-02 is all cancelled, so not January): 100.0.
            (D(2024, 2, 1), 0): {
                "cohort_size": 1,
                "active_customers": 1,
                "retention_rate": 1.0,
                "net_revenue": 100.0,
                "cumulative_net_revenue_per_customer": 100.0,
            },
            (D(2024, 2, 1), 1): {
                "cohort_size": 1,
                "active_customers": 0,
                "retention_rate": 0.0,
                "net_revenue": 0.0,
                "cumulative_net_revenue_per_customer": 100.0,
            },
        },
    )


# --- the same fixture at an earlier as_of, 2024-02-29 ---------------------------------------------


def test_earlier_as_of_customers(february):
    approx_rows(
        february.by_key("dim_customers"),
        {
            # Order 2 (03-15) not yet placed; item 2's return (03-05) not yet happened, so it is a
            # net item (delivered 01-15): revenue 50 + 30 = 80, cost 20 + 10 = 30, profit 50.
            # 01-10 -> 02-29 = 21 + 29 = 50 days; tenure 01-05 -> 02-29 = 26 + 29 = 55.
            1: {
                "orders": 1,
                "items": 2,
                "lifetime_net_revenue": 80.0,
                "lifetime_gross_profit": 50.0,
                "last_order_date": D(2024, 1, 10),
                "days_since_last_order": 50,
                "tenure_days": 55,
            },
            # 02-20 -> 02-29 = 9; tenure 01-01 -> 02-29 = 31 + 28 = 59.
            2: {
                "orders": 1,
                "items": 1,
                "lifetime_net_revenue": 100.0,
                "lifetime_gross_profit": 90.0,
                "days_since_last_order": 9,
                "tenure_days": 59,
            },
            # Signed up 02-10: 19 days.
            3: {"orders": 0, "tenure_days": 19, "is_customer": False},
            # Item 7 returned 02-10, before as_of: still no net item. 01-25 -> 02-29 = 35; 01-20 -> 40.
            4: {"orders": 1, "items": 0, "lifetime_net_revenue": 0.0, "days_since_last_order": 35, "tenure_days": 40},
        },
    )


def test_earlier_as_of_cohorts(february):
    approx_rows(
        february.by_key("fact_cohort_retention"),
        {
            # Jan: 80 (order 1 with both items net) + 0 (order 5) = 80, 80 / 2 = 40.
            (D(2024, 1, 1), 0): {
                "active_customers": 2,
                "retention_rate": 1.0,
                "net_revenue": 80.0,
                "cumulative_net_revenue_per_customer": 40.0,
            },
            # Cells stop at the month of as_of (February).
            (D(2024, 1, 1), 1): {
                "active_customers": 0,
                "retention_rate": 0.0,
                "net_revenue": 0.0,
                "cumulative_net_revenue_per_customer": 40.0,
            },
            (D(2024, 2, 1), 0): {
                "active_customers": 1,
                "retention_rate": 1.0,
                "net_revenue": 100.0,
                "cumulative_net_revenue_per_customer": 100.0,
            },
        },
    )


# --- RFM scores and segments on inline dim_customers rows -----------------------------------------

DIM_CUSTOMERS_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("days_since_last_order", pa.int64()),
        ("orders", pa.int64()),
        ("lifetime_net_revenue", pa.float64()),
        ("is_customer", pa.bool_()),
    ]
)


def segments_of(rows: list[tuple]) -> dict[int, dict]:
    """dim_customer_segments of (user_id, recency_days, orders, revenue) customers, plus one
    non-customer (user 0), which must be left out."""
    data = [
        {"user_id": u, "days_since_last_order": r, "orders": f, "lifetime_net_revenue": m, "is_customer": True}
        for u, r, f, m in rows
    ]
    data.append(
        {"user_id": 0, "days_since_last_order": None, "orders": 0, "lifetime_net_revenue": 0.0, "is_customer": False}
    )
    table = pa.Table.from_pylist(data, schema=DIM_CUSTOMERS_SCHEMA)
    result = run_model_both(dim_customer_segments, {"dim_customers": table}, ("user_id",))
    return {r["user_id"]: r for r in result}


def scores(rows: dict[int, dict]) -> dict[int, tuple]:
    return {u: (r["r_score"], r["f_score"], r["m_score"], r["fm_score"], r["segment"]) for u, r in rows.items()}


def test_every_segment_with_ties_at_score_boundaries():
    # n = 11, so score = min(5, 1 + floor(5 * (RANK - 1) / 10)) = min(5, 1 + (RANK - 1) div 2):
    # RANK-1 0,1 -> 1 | 2,3 -> 2 | 4,5 -> 3 | 6,7 -> 4 | 8,9,10 -> 5.
    # recency_days 100 - 10 * k for user k + 1 (k = 0..10): descending, RANK - 1 = k:
    #   users 1,2 -> r 1; 3,4 -> 2; 5,6 -> 3; 7,8 -> 4; 9,10,11 -> 5.
    # frequency (ascending): 1 order: users 1,3,6,7 (RANK-1 0 -> f 1); 2 orders: users 4,8,10 share
    #   RANK-1 4 -> f 3 (without shared ranks they would be 4,5,6 -> 3,3,4: a tie at a boundary);
    #   3: users 2,11 RANK-1 7 -> 4; 4: user 5 RANK-1 9 -> 5; 5: user 9 RANK-1 10 -> min(5, 6) = 5.
    # monetary rounded to cents (ascending): 5.00 (u7) -> 1; 10.004 (u1) and 10.001 (u6) both round
    #   to 10.00, RANK-1 1 -> 1 (unrounded, u1 would be RANK-1 2 -> 2: a boundary); 20 (u3) RANK-1 3
    #   -> 2; 30 (u8) 4 -> 3; 40 (u4) 5 -> 3; 50 (u2) 6 -> 4; 60 (u10) 7 -> 4; 70 (u5) 8 -> 5;
    #   80 (u9) 9 -> 5; 90 (u11) 10 -> 5.
    revenue = {1: 10.004, 2: 50.0, 3: 20.0, 4: 40.0, 5: 70.0, 6: 10.001, 7: 5.0, 8: 30.0, 9: 80.0, 10: 60.0, 11: 90.0}
    frequency = {1: 1, 2: 3, 3: 1, 4: 2, 5: 4, 6: 1, 7: 1, 8: 2, 9: 5, 10: 2, 11: 3}
    rows = [(u, 100 - 10 * (u - 1), frequency[u], revenue[u]) for u in range(1, 12)]
    got = scores(segments_of(rows))
    # fm = (f + m + 1) div 2, then the segment of (r, fm):
    assert got == {
        1: (1, 1, 1, 1, "Lost"),  # (1+1+1) div 2 = 1; r = 1, fm <= 2
        2: (1, 4, 4, 4, "At Risk"),  # 9 div 2 = 4; r <= 2, fm >= 3
        3: (2, 1, 2, 2, "Hibernating"),  # 4 div 2 = 2; r = 2, fm <= 2
        4: (2, 3, 3, 3, "At Risk"),  # 7 div 2 = 3
        5: (3, 5, 5, 5, "Loyal Customers"),  # 11 div 2 = 5; r = 3, fm >= 3
        6: (3, 1, 1, 1, "Need Attention"),  # 3 div 2 = 1; r = 3, fm <= 2
        7: (4, 1, 1, 1, "New Customers"),  # r >= 4, fm = 1
        8: (4, 3, 3, 3, "Potential Loyalists"),  # 7 div 2 = 3; r >= 4, fm 2-3
        9: (5, 5, 5, 5, "Champions"),  # r >= 4, fm >= 4
        10: (5, 3, 4, 4, "Champions"),  # 8 div 2 = 4
        11: (5, 4, 5, 5, "Champions"),  # 10 div 2 = 5
    }
    assert {s for *_, s in got.values()} == set(SEGMENTS)


def test_single_customer_scores_one():
    # n = 1: p = 0, every score 1 + floor(0) = 1, fm (1+1+1) div 2 = 1 -> Lost (the contract's rule,
    # even for a customer who ordered today).
    got = segments_of([(7, 0, 3, 120.0)])
    assert scores(got) == {7: (1, 1, 1, 1, "Lost")}
    assert got[7]["recency_days"] == 0 and got[7]["frequency"] == 3 and got[7]["monetary"] == 120.0


def test_tied_most_recent_customers_share_a_lower_score():
    # n = 3, recency 10, 5, 5 descending: RANK 1, 2, 2 -> scores 1, 1 + floor(5 * 1/2) = 3, 3:
    # the two most recent tie and neither reaches 5. Frequency all 1: RANK 1 for all -> f 1.
    # Monetary 1.0, 2.0, 3.0 -> m 1, 3, 5; fm (1+1+1) div 2 = 1, (1+3+1) div 2 = 2, (1+5+1) div 2 = 3.
    got = scores(segments_of([(1, 10, 1, 1.0), (2, 5, 1, 2.0), (3, 5, 1, 3.0)]))
    assert got == {
        1: (1, 1, 1, 1, "Lost"),
        2: (3, 1, 3, 2, "Need Attention"),
        3: (3, 1, 5, 3, "Loyal Customers"),
    }


@pytest.mark.parametrize(
    ("rank0", "n", "expected"),
    [
        (0, 1, 1),  # n = 1: p = 0
        (0, 2, 1),  # p 0
        (1, 2, 5),  # p 1: min(5, 1 + 5)
        (2, 5, 3),  # p 2/4: 1 + floor(2.5) = 3
        (3, 5, 4),  # p 3/4: 1 + floor(3.75) = 4
        (1, 5, 2),  # p 1/4: 1 + floor(1.25) = 2
        (3, 15, 2),  # 5 * 3/14 = 1.07 -> 2
        (14, 15, 5),  # 5 * 14/14 = 5 -> min(5, 6) = 5
        (6, 10, 4),  # 5 * 6/9 = 3.33 -> 4
        (2, 11, 2),  # 5 * 2/10 = 1 exactly -> 2 (no float 0.999... dropping a score)
        (7, 8, 5),  # 5 * 7/7 = 5 -> 5
    ],
)
def test_rank_score(rank0, n, expected):
    assert rank_score(ibis.literal(rank0), ibis.literal(n)).execute() == expected


def test_age_bands():
    ages = [17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 90, None]
    t = ibis.memtable(pa.table({"i": list(range(len(ages))), "age": pa.array(ages, pa.int64())}))
    got = t.select("i", band=age_band(t.age)).order_by("i").to_pyarrow().column("band").to_pylist()
    assert got == [
        "<18",
        "18-24",
        "18-24",
        "25-34",
        "25-34",
        "35-44",
        "35-44",
        "45-54",
        "45-54",
        "55-64",
        "55-64",
        "65+",
        "65+",
        None,
    ]


def test_segment_shares_summary(march):
    got = customer_segment_shares(march.target.table("dim_customer_segments")).to_pyarrow().to_pylist()
    # 3 customers, one per segment (33.33 % each); revenue 90 + 100 + 0 = 190 -> 90 / 190, 100 / 190, 0.
    # Rows in the contract's segment order; segments with no customer are not listed.
    assert got == [
        {
            "segment": "Champions",
            "customers": 1,
            "customers_pct": pytest.approx(100 / 3),
            "net_revenue": 90.0,
            "net_revenue_pct": pytest.approx(100 * 90 / 190),
        },
        {
            "segment": "Loyal Customers",
            "customers": 1,
            "customers_pct": pytest.approx(100 / 3),
            "net_revenue": 100.0,
            "net_revenue_pct": pytest.approx(100 * 100 / 190),
        },
        {
            "segment": "Lost",
            "customers": 1,
            "customers_pct": pytest.approx(100 / 3),
            "net_revenue": 0.0,
            "net_revenue_pct": 0.0,
        },
    ]


# --- the data tests catch what they claim to ------------------------------------------------------


def test_data_tests_report_broken_tables():
    retention = ibis.memtable(
        pa.table(
            {
                "cohort_month": pa.array([D(2024, 1, 1), D(2024, 1, 1), D(2024, 2, 1)], pa.date32()),
                "months_since_first": [0, 1, 0],
                "retention_rate": [0.5, 1.0 + 1e-6, 1.0],  # month 0 not 1; above 1 + 1e-9
                "cumulative_net_revenue_per_customer": [1.0, 1.0, 1.0],
            }
        )
    )
    assert cohort_month_zero_retention_is_one(retention).count().execute() == 1
    assert cohort_retention_rates_in_range(retention).count().execute() == 1
    # as_of 2024-03-31: Jan needs months 0..2 (has 0..1), Feb needs 0..1 (has 0): both incomplete.
    assert cohort_retention_has_every_cell(retention, D(2024, 3, 31)).count().execute() == 2
    assert cohort_retention_has_every_cell(retention, D(2024, 2, 29)).count().execute() == 0

    customers = ibis.memtable(pa.table({"user_id": [1, 2, 3], "is_customer": [True, True, False]}))
    one_segment = ibis.memtable(pa.table({"user_id": [1]}))
    two_segments = ibis.memtable(pa.table({"user_id": [1, 2]}))
    assert customer_segments_cover_every_customer(customers, one_segment).count().execute() == 1
    assert customer_segments_cover_every_customer(customers, two_segments).count().execute() == 0


# --- property: RFM scores against a plain-Python reference ----------------------------------------


def reference_segments(rows: list[tuple[int, int, int, int]]) -> dict[int, tuple]:
    """The contract's scores, in exact fractions: rows are (user_id, recency_days, orders, cents)."""
    n = len(rows)

    def score(rank: int) -> int:
        p = Fraction(rank - 1, n - 1) if n > 1 else Fraction(0)
        return min(5, 1 + math.floor(5 * p))

    result = {}
    for user, recency, orders, cents in rows:
        r = score(1 + sum(other[1] > recency for other in rows))  # most recent ranks last -> 5
        f = score(1 + sum(other[2] < orders for other in rows))
        m = score(1 + sum(other[3] < cents for other in rows))
        fm = (f + m + 1) // 2
        result[user] = (r, f, m, fm, segment(r, fm))
    return result


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(1, 4), st.integers(0, 8), st.integers(0, 3)),
        min_size=1,
        max_size=14,
    )
)
def test_segments_match_reference(customers):
    # Few distinct values, so ties are everywhere. Money is whole cents plus noise below half a cent
    # (k/1000, k <= 3), which round(x, 2) must ignore.
    rows = [(i + 1, recency, orders, cents) for i, (recency, orders, cents, _) in enumerate(customers)]
    noise = {i + 1: k / 1000 for i, (*_, k) in enumerate(customers)}
    data = pa.Table.from_pylist(
        [
            {
                "user_id": u,
                "days_since_last_order": r,
                "orders": f,
                "lifetime_net_revenue": c / 100 + noise[u],
                "is_customer": True,
            }
            for u, r, f, c in rows
        ],
        schema=DIM_CUSTOMERS_SCHEMA,
    )
    got = dim_customer_segments(ibis.memtable(data)).to_pyarrow().to_pylist()
    assert scores({r["user_id"]: r for r in got}) == reference_segments(rows)
