"""int_campaign_attribution and fact_campaign_performance (docs/contract.md#int_campaign_attribution,
#fact_campaign_performance) on fixtures/marketing and inline tables.

Expected values are computed by hand, arithmetic in the comments. The fixture scenario is built by
the engine like `ecom build` (tests/test_dialects.py cross-checks its BigQuery SQL); the inline cases
run natively on DuckDB and as BigQuery SQL transpiled to DuckDB (`run_model_both`, tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marts.marketing import (
    attribution_status_consistent,
    campaign_performance_rows_are_marketing_rows,
    campaign_ratios_finite,
    int_campaign_attribution,
    top_campaign_by_clicks,
)
from marts.orders import int_orders
from marts.reconciliation import net_revenue_agrees_across_marts
from marts.summaries import attribution_coverage, platform_roas
from tests.conftest import approx_rows, build_scenario, run_model_both, scenario_group, ts

pytestmark = scenario_group("marketing")  # reads fixtures/marketing as tests/conftest.py builds it
D = dt.date
NULL = None


@pytest.fixture(scope="module")
def built(built_scenario):
    return built_scenario("marketing")


def attribution(order_date, ordered_at, net_revenue, gross_profit, session_id, source, platform, campaign, status):
    return {
        "order_date": order_date,
        "ordered_at": ts(ordered_at),
        "net_revenue": net_revenue,
        "gross_profit": gross_profit,
        "session_id": session_id,
        "traffic_source": source,
        "platform": platform,
        "campaign_id": campaign,
        "attribution_status": status,
    }


FEB1, FEB2 = D(2024, 2, 1), D(2024, 2, 2)

# Products: p1 cost 20.0, p2 cost 10.0. Lookback 24 h. See fixtures/marketing/README.md.
EXPECTED_ATTRIBUTION = {
    # Items 50.0 complete (p1) + 30.0 returned (p2): net 50, profit 50 - 20 = 30. Candidates u1-1
    # (01-31 20:00, 16 h before) and u1-2 (11:00): latest u1-2, Adwords -> Google; Google 02-01 has
    # cmp_1 and cmp_2 at 10 clicks each (cmp_3 NULL = 0): tie -> smaller id cmp_1.
    1: attribution(FEB1, "2024-02-01 12:00:00", 50.0, 30.0, "u1-2", "Adwords", "Google", "cmp_1", "attributed"),
    # 40.0 cancelled (p1), 25.0 processing (p2): net 25, profit 25 - 10 = 15. u2-1 starts 01-31
    # 12:00:00, exactly 24:00:00 before: included. Facebook 02-01: cmp_1 NULL clicks (= 0) ties
    # cmp_2's 0 -> cmp_1.
    2: attribution(FEB1, "2024-02-01 12:00:00", 25.0, 15.0, "u2-1", "Facebook", "Facebook", "cmp_1", "attributed"),
    # 60.0 shipped (p1): profit 40. u3-1 starts 01-31 11:59:59.999999, 24:00:00.000001 before:
    # outside the lookback, no candidate.
    3: attribution(FEB1, "2024-02-01 12:00:00", 60.0, 40.0, NULL, NULL, NULL, NULL, "unmatched"),
    # 35.0 (p2): profit 25. u4-1's first event is Organic (its 11:40 Adwords event does not count).
    4: attribution(FEB1, "2024-02-01 12:00:00", 35.0, 25.0, "u4-1", "Organic", NULL, NULL, "organic"),
    # 20.0 (p2): profit 10. No session of visitor u5 (the anonymous Adwords visit is a10.0.0.5).
    5: attribution(FEB1, "2024-02-01 12:00:00", 20.0, 10.0, NULL, NULL, NULL, NULL, "unmatched"),
    # 45.0 (p1): profit 25. YouTube has no marketing row on 02-01: unmatched, platform kept.
    6: attribution(FEB1, "2024-02-01 12:00:00", 45.0, 25.0, "u6-1", "YouTube", "YouTube", NULL, "unmatched"),
    # 70.0 (p1): profit 50. Session on 02-01 23:00 (10 h before); the ORDER date 02-02 picks
    # Google's campaign: cmp_9 (7 clicks) over cmp_1 (3).
    7: attribution(FEB2, "2024-02-02 09:00:00", 70.0, 50.0, "u7-1", "Adwords", "Google", "cmp_9", "attributed"),
    # 15.0 (p2): profit 5. u8-1 starts at 12:00:00 = ordered_at: included; u8-2 (13:00) is after.
    8: attribution(FEB1, "2024-02-01 12:00:00", 15.0, 5.0, "u8-1", "Email", "Email", "cmp_1", "attributed"),
    # Order 9 has only a cancelled item: no row.
}


def test_attribution(built):
    rows = built.by_key("int_campaign_attribution")
    approx_rows(rows, EXPECTED_ATTRIBUTION)
    assert {k: r["user_id"] for k, r in rows.items()} == {k: k for k in EXPECTED_ATTRIBUTION}
    assert list(rows[1]) == [
        "order_id",
        "user_id",
        "order_date",
        "ordered_at",
        "net_revenue",
        "gross_profit",
        "session_id",
        "traffic_source",
        "platform",
        "campaign_id",
        "attribution_status",
    ]


def performance(spend, clicks, impressions, orders, revenue, profit, ctr, cpc, cpa, roas, conversion):
    return {
        "spend": spend,
        "clicks": clicks,
        "impressions": impressions,
        "attributed_orders": orders,
        "attributed_revenue": revenue,
        "attributed_gross_profit": profit,
        "ctr": ctr,
        "cpc": cpc,
        "cpa": cpa,
        "roas": roas,
        "conversion_rate": conversion,
    }


EXPECTED_PERFORMANCE = {
    # order 1: 1 order, 50, 30. ctr 10/1000 = 0.01; cpc 20/10 = 2; cpa 20/1 = 20; roas 50/20 = 2.5;
    # conversion 1/10 = 0.1.
    (FEB1, "Google", "cmp_1"): performance(20.0, 10, 1000, 1, 50.0, 30.0, 0.01, 2.0, 20.0, 2.5, 0.1),
    # Lost the tie: no orders. ctr 10/500 = 0.02; cpc 30/10 = 3; cpa 30/0 -> NULL; roas 0/30 = 0.
    (FEB1, "Google", "cmp_2"): performance(30.0, 10, 500, 0, 0.0, 0.0, 0.02, 3.0, NULL, 0.0, 0.0),
    # NULL clicks: ctr NULL/100 = NULL; cpc 5/NULL = NULL; conversion 0/NULL = NULL; roas 0/5 = 0.
    (FEB1, "Google", "cmp_3"): performance(5.0, NULL, 100, 0, 0.0, 0.0, NULL, NULL, NULL, 0.0, NULL),
    # All NULL but chosen: order 2 (25, 15); every ratio has a NULL operand -> NULL.
    (FEB1, "Facebook", "cmp_1"): performance(NULL, NULL, NULL, 1, 25.0, 15.0, NULL, NULL, NULL, NULL, NULL),
    # Zeros: ctr 0/0, cpc 8/0, conversion 0/0, cpa 8/0 -> NULL; roas 0/8 = 0.
    (FEB1, "Facebook", "cmp_2"): performance(8.0, 0, 0, 0, 0.0, 0.0, NULL, NULL, NULL, 0.0, NULL),
    # Same campaign_id as Google's and Facebook's cmp_1, its own row: order 8 (15, 5). ctr 5/250 =
    # 0.02; cpc 0/5 = 0; cpa 0/1 = 0; roas 15/0 -> NULL; conversion 1/5 = 0.2.
    (FEB1, "Email", "cmp_1"): performance(0.0, 5, 250, 1, 15.0, 5.0, 0.02, 0.0, 0.0, NULL, 0.2),
    # ctr 3/300 = 0.01; cpc 10/3; no orders.
    (FEB2, "Google", "cmp_1"): performance(10.0, 3, 300, 0, 0.0, 0.0, 0.01, 10 / 3, NULL, 0.0, 0.0),
    # order 7 (70, 50): ctr 7/700 = 0.01; cpc 14/7 = 2; cpa 14; roas 70/14 = 5; conversion 1/7.
    (FEB2, "Google", "cmp_9"): performance(14.0, 7, 700, 1, 70.0, 50.0, 0.01, 2.0, 14.0, 5.0, 1 / 7),
    # The 03-01 row is after as_of (02-29): dropped by stg_marketing.
}


def test_campaign_performance(built):
    rows = built.by_key("fact_campaign_performance")
    approx_rows(rows, EXPECTED_PERFORMANCE)
    # Σ spend, NULL as 0: 20 + 30 + 5 + 0 + 8 + 0 + 10 + 14 = 87.
    assert sum(r["spend"] or 0 for r in rows.values()) == pytest.approx(87.0)


def test_earlier_as_of_drops_later_orders_and_spend():
    target = build_scenario("marketing", as_of=D(2024, 2, 1))
    try:
        attributed = target.by_key("int_campaign_attribution")
        performance_rows = target.by_key("fact_campaign_performance")
    finally:
        target.close()
    # Order 7 (02-02) and the 02-02 marketing rows are not there yet. Order 1's item 2 (30.0, p2) is
    # not yet returned (02-10) nor even shipped (02-02): a net item, so order 1 nets 50 + 30 = 80,
    # profit 80 - (20 + 10) = 50, and Google cmp_1's roas is 80 / 20 = 4. The rest is unchanged.
    expected = {k: v for k, v in EXPECTED_ATTRIBUTION.items() if k != 7}
    expected[1] = {**expected[1], "net_revenue": 80.0, "gross_profit": 50.0}
    approx_rows(attributed, expected)
    expected_performance = {k: v for k, v in EXPECTED_PERFORMANCE.items() if k[0] == FEB1}
    expected_performance[(FEB1, "Google", "cmp_1")] = performance(
        20.0, 10, 1000, 1, 80.0, 50.0, 0.01, 2.0, 20.0, 4.0, 0.1
    )
    approx_rows(performance_rows, expected_performance)


def test_shorter_lookback():
    # attribution_lookback_hours = 1: order 1's u1-2 (11:00, exactly 1 h) and order 4's u4-1 (11:30)
    # and order 8's u8-1 (12:00) still count; u2-1 (24 h), u6-1 (2 h) and u7-1 (10 h) no longer do.
    target = build_scenario("marketing", attribution_lookback_hours=1)
    try:
        rows = target.by_key("int_campaign_attribution")
    finally:
        target.close()
    assert {k: (r["session_id"], r["attribution_status"]) for k, r in rows.items()} == {
        1: ("u1-2", "attributed"),
        2: (NULL, "unmatched"),
        3: (NULL, "unmatched"),
        4: ("u4-1", "organic"),
        5: (NULL, "unmatched"),
        6: (NULL, "unmatched"),
        7: (NULL, "unmatched"),
        8: ("u8-1", "attributed"),
    }


# --- inline tables ----------------------------------------------------------------------------

MARKETING = pa.schema(
    [
        ("spend_date", pa.date32()),
        ("campaign_id", pa.string()),
        ("platform", pa.string()),
        ("spend", pa.float64()),
        ("clicks", pa.int64()),
        ("impressions", pa.int64()),
    ]
)


def test_top_campaign_by_clicks():
    rows = [
        # Google 03-01: b and a tie at 5 clicks -> a (smaller id); c has more? no, NULL = 0.
        (D(2024, 3, 1), "b", "Google", 5),
        (D(2024, 3, 1), "a", "Google", 5),
        (D(2024, 3, 1), "c", "Google", NULL),
        # Facebook 03-01: only NULL and 0 clicks -> tie at 0 -> "x1" < "x2".
        (D(2024, 3, 1), "x2", "Facebook", 0),
        (D(2024, 3, 1), "x1", "Facebook", NULL),
        # Google 03-02: a single row with NULL clicks is still that day's campaign.
        (D(2024, 3, 2), "z", "Google", NULL),
        # Email 03-01: ids compare as strings: "campaign_10" < "campaign_9" at equal clicks.
        (D(2024, 3, 1), "campaign_9", "Email", 4),
        (D(2024, 3, 1), "campaign_10", "Email", 4),
        # YouTube 03-01: most clicks beats the smaller id.
        (D(2024, 3, 1), "a", "YouTube", 1),
        (D(2024, 3, 1), "b", "YouTube", 2),
    ]
    table = pa.Table.from_pylist(
        [
            {"spend_date": d, "campaign_id": c, "platform": p, "spend": 1.0, "clicks": k, "impressions": 10}
            for d, c, p, k in rows
        ],
        schema=MARKETING,
    )
    got = run_model_both(top_campaign_by_clicks, {"stg_marketing": table}, ("spend_date", "platform"))
    assert {(r["spend_date"], r["platform"]): r["campaign_id"] for r in got} == {
        (D(2024, 3, 1), "Google"): "a",
        (D(2024, 3, 1), "Facebook"): "x1",
        (D(2024, 3, 2), "Google"): "z",
        (D(2024, 3, 1), "Email"): "campaign_10",
        (D(2024, 3, 1), "YouTube"): "b",
    }


SESSION_METRICS = pa.schema(
    [
        ("session_id", pa.string()),
        ("visitor_id", pa.string()),
        ("user_id", pa.int64()),
        ("session_start", pa.timestamp("us", tz="UTC")),
        ("traffic_source", pa.string()),
        ("platform", pa.string()),
    ]
)


def test_attribution_on_session_metrics_shaped_tables():
    """int_campaign_attribution against hand-made tables of fact_session_metrics' shape (only the
    columns it reads), so it is tested apart from sessionization."""
    orders = pa.table(
        {
            "order_id": [1, 2, 3],
            "user_id": [10, 20, 30],
            "status": ["processing"] * 3,
            "item_count": [1, 1, 1],
            "created_at": pa.array(
                [ts("2024-05-01 00:00:00"), ts("2024-05-01 00:00:00"), ts("2024-05-01 00:00:00")],
                pa.timestamp("us", tz="UTC"),
            ),
            "order_date": pa.array([D(2024, 5, 1)] * 3, pa.date32()),
        }
    )
    items = pa.table(
        {
            "order_item_id": [1, 2, 3, 4],
            "order_id": [1, 2, 3, 3],
            "user_id": [10, 20, 30, 30],
            "product_id": [1, 1, 1, 1],
            "status": ["processing", "complete", "returned", "shipped"],
            "sale_price": [10.0, 20.0, 30.0, 40.0],
            "order_date": pa.array([D(2024, 5, 1)] * 4, pa.date32()),
        }
    )
    products = pa.table({"product_id": [1], "cost": [4.0]})
    sessions = pa.Table.from_pylist(
        [
            # User 10: a session across midnight that started 04-30 23:00 (1 h before): its date is
            # 04-30 but the order date (05-01) picks the campaign.
            {
                "session_id": "u10-1",
                "visitor_id": "u10",
                "user_id": 10,
                "session_start": ts("2024-04-30 23:00:00"),
                "traffic_source": "Facebook",
                "platform": "Facebook",
            },
            # An anonymous session whose visitor id would collide if ids were matched by number.
            {
                "session_id": "a10-1",
                "visitor_id": "a10",
                "user_id": None,
                "session_start": ts("2024-04-30 23:30:00"),
                "traffic_source": "Email",
                "platform": "Email",
            },
            # User 20: latest start within 24 h is u20-2 (04-30 12:00) over u20-1 (04-30 01:00);
            # u20-3 starts 1 µs after the order.
            {
                "session_id": "u20-1",
                "visitor_id": "u20",
                "user_id": 20,
                "session_start": ts("2024-04-30 01:00:00"),
                "traffic_source": "Facebook",
                "platform": "Facebook",
            },
            {
                "session_id": "u20-2",
                "visitor_id": "u20",
                "user_id": 20,
                "session_start": ts("2024-04-30 12:00:00"),
                "traffic_source": "Adwords",
                "platform": "Google",
            },
            {
                "session_id": "u20-3",
                "visitor_id": "u20",
                "user_id": 20,
                "session_start": ts("2024-05-01 00:00:00.000001"),
                "traffic_source": "Email",
                "platform": "Email",
            },
            # User 30: NULL traffic source -> no platform -> organic.
            {
                "session_id": "u30-1",
                "visitor_id": "u30",
                "user_id": 30,
                "session_start": ts("2024-04-30 20:00:00"),
                "traffic_source": None,
                "platform": None,
            },
        ],
        schema=SESSION_METRICS,
    )
    marketing = pa.Table.from_pylist(
        [
            {
                "spend_date": D(2024, 5, 1),
                "campaign_id": "fb",
                "platform": "Facebook",
                "spend": 1.0,
                "clicks": 1,
                "impressions": 10,
            },
            # Google has a row only on 04-30, the session's date: no campaign on the order date.
            {
                "spend_date": D(2024, 4, 30),
                "campaign_id": "g",
                "platform": "Google",
                "spend": 1.0,
                "clicks": 1,
                "impressions": 10,
            },
        ],
        schema=MARKETING,
    )
    got = run_model_both(
        int_campaign_attribution,
        {
            "int_orders": int_orders(ibis.memtable(orders), ibis.memtable(items), ibis.memtable(products)).to_pyarrow(),
            "fact_session_metrics": sessions,
            "stg_marketing": marketing,
        },
        ("order_id",),
        attribution_lookback_hours=24,
    )
    assert {
        r["order_id"]: (
            r["session_id"],
            r["platform"],
            r["campaign_id"],
            r["attribution_status"],
            r["net_revenue"],
            r["gross_profit"],
        )
        for r in got
    } == {
        # 10.0 net, profit 10 - 4 = 6.
        1: ("u10-1", "Facebook", "fb", "attributed", 10.0, 6.0),
        # 20.0 - 4 = 16; Google has no row on 05-01.
        2: ("u20-2", "Google", NULL, "unmatched", 20.0, 16.0),
        # net items: only the 40.0 shipped one (30.0 returned): 40 - 4 = 36.
        3: ("u30-1", NULL, NULL, "organic", 40.0, 36.0),
    }


def test_build_summaries(built):
    roas = platform_roas(built.target.table("fact_campaign_performance")).to_pyarrow().to_pylist()
    assert roas == [
        # spend 0.0; clicks 5; order 8 (15.0): roas 15 / 0 -> NULL, cpa 0 / 1 = 0.
        {
            "platform": "Email",
            "spend": 0.0,
            "clicks": 5,
            "attributed_orders": 1,
            "attributed_revenue": 15.0,
            "roas": None,
            "cpa": 0.0,
        },
        # spend NULL (as 0) + 8 = 8; clicks NULL + 0 = 0; order 2 (25): roas 25 / 8 = 3.125; cpa 8 / 1.
        {
            "platform": "Facebook",
            "spend": 8.0,
            "clicks": 0,
            "attributed_orders": 1,
            "attributed_revenue": 25.0,
            "roas": 3.125,
            "cpa": 8.0,
        },
        # spend 20 + 30 + 5 + 10 + 14 = 79; clicks 10 + 10 + 0 + 3 + 7 = 30; orders 1 and 7 (50 + 70):
        # roas 120 / 79; cpa 79 / 2 = 39.5.
        {
            "platform": "Google",
            "spend": 79.0,
            "clicks": 30,
            "attributed_orders": 2,
            "attributed_revenue": 120.0,
            "roas": pytest.approx(120 / 79),
            "cpa": 39.5,
        },
    ]
    coverage = attribution_coverage(built.target.table("int_campaign_attribution")).to_pyarrow().to_pylist()
    # attributed: orders 1, 2, 7, 8 = 50 + 25 + 70 + 15 = 160; organic: order 4 = 35; unmatched:
    # orders 3, 5, 6 = 60 + 20 + 45 = 125; total 320 -> 50 %, 10.9375 %, 39.0625 %.
    assert coverage == [
        {"attribution_status": "attributed", "orders": 4, "net_revenue": 160.0, "net_revenue_pct": 50.0},
        {"attribution_status": "organic", "orders": 1, "net_revenue": 35.0, "net_revenue_pct": 10.9375},
        {"attribution_status": "unmatched", "orders": 3, "net_revenue": 125.0, "net_revenue_pct": 39.0625},
    ]


def test_data_tests_report_broken_tables():
    # Totals within 1e-6 relative agree (float sums added in another order); 1 part in 1e5 does not.
    def revenue_check(customers: list[float], orders: list[float]) -> int:
        agreeing = ibis.memtable({"net_revenue": [1e6]})
        return (
            net_revenue_agrees_across_marts(
                agreeing,
                agreeing,
                ibis.memtable({"lifetime_net_revenue": customers}),
                ibis.memtable({"net_revenue": orders}),
            )
            .count()
            .execute()
        )

    assert revenue_check([1e6], [5e5, 5e5 + 0.5]) == 0
    assert revenue_check([1e6], [5e5, 5e5 + 10]) == 1

    status = ibis.memtable(
        pa.table(
            {
                "session_id": ["u1-1", "u2-1", None, "u4-1"],
                "platform": ["Google", None, None, "Google"],
                "campaign_id": ["c", None, None, None],
                # 1 fine; 2 is organic, not unmatched; 3 fine; 4 has no campaign, so not attributed
                "attribution_status": ["attributed", "unmatched", "unmatched", "attributed"],
            }
        )
    )
    assert attribution_status_consistent(status).count().execute() == 2

    performance_rows = ibis.memtable(
        pa.Table.from_pylist(
            [
                {
                    "spend_date": D(2024, 1, 1),
                    "platform": "Google",
                    "campaign_id": "c",
                    "ctr": 0.1,
                    "cpc": 2.0,
                    "cpa": float("inf"),
                    "roas": 1.0,
                    "conversion_rate": float("nan"),
                }
            ]
        )
    )
    assert campaign_ratios_finite(performance_rows).count().execute() == 1
    marketing = ibis.memtable(
        pa.Table.from_pylist([{"spend_date": D(2024, 1, 1), "platform": "Email", "campaign_id": "c"}])
    )
    # Same campaign_id and date, another platform: not a marketing row.
    assert campaign_performance_rows_are_marketing_rows(performance_rows, marketing).count().execute() == 1


# --- property: attribution against a plain-Python reference ---------------------------------------

PLATFORMS = {"Adwords": "Google", "Facebook": "Facebook", "YouTube": "YouTube", "Email": "Email"}
T0 = ts("2024-05-01 00:30:00")
HOUR = dt.timedelta(hours=1)
MICRO = dt.timedelta(microseconds=1)
# Session starts relative to the order times below: both lookback ends, a microsecond either side.
OFFSETS = [
    -30 * HOUR,
    -24 * HOUR - MICRO,
    -24 * HOUR,
    -24 * HOUR + MICRO,
    -23 * HOUR,
    -HOUR,
    -MICRO,
    dt.timedelta(0),
    MICRO,
    HOUR,
    24 * HOUR,
    25 * HOUR,
]
ORDER_TIMES = [T0, T0 + HOUR, T0 + 25 * HOUR]  # 05-01 00:30, 05-01 01:30, 05-02 01:30


def reference_attribution(orders, sessions, marketing, hours):
    result = {}
    for order_id, user, at in orders:
        candidates = [s for s in sessions if s[1] == user and at - hours * HOUR <= s[2] <= at]
        if not candidates:
            result[order_id] = (None, None, None, "unmatched")
            continue
        session_id, _, _, source = max(candidates, key=lambda s: s[2])
        platform = PLATFORMS.get(source)
        if platform is None:
            result[order_id] = (session_id, None, None, "organic")
            continue
        rows = [m for m in marketing if m[0] == at.date() and m[1] == platform]
        if not rows:
            result[order_id] = (session_id, platform, None, "unmatched")
            continue
        campaign = min(rows, key=lambda m: (-(m[3] or 0), m[2]))[2]
        result[order_id] = (session_id, platform, campaign, "attributed")
    return result


@settings(max_examples=40, deadline=None)
@given(
    orders=st.lists(st.tuples(st.integers(1, 3), st.sampled_from(ORDER_TIMES)), min_size=1, max_size=6),
    sessions=st.lists(
        st.tuples(
            st.integers(1, 3),
            st.sampled_from(ORDER_TIMES),
            st.sampled_from(OFFSETS),
            st.sampled_from([*PLATFORMS, "Organic", None]),
        ),
        max_size=10,
    ),
    marketing=st.dictionaries(
        st.tuples(
            st.sampled_from([D(2024, 5, 1), D(2024, 5, 2)]),
            st.sampled_from(list(PLATFORMS.values())),
            st.sampled_from(["a", "b", "c"]),
        ),
        st.one_of(st.none(), st.integers(0, 2)),
        max_size=12,
    ),
    hours=st.sampled_from([24, 24, 1]),
)
def test_attribution_matches_reference(orders, sessions, marketing, hours):
    orders = [(i + 1, user, at) for i, (user, at) in enumerate(orders)]
    # A visitor's sessions start at distinct instants (the contract): keep the first of each start.
    starts = {}
    for user, anchor, offset, source in sessions:
        starts.setdefault((user, anchor + offset), source)
    session_rows = [(f"u{user}-{k}", user, start, source) for k, ((user, start), source) in enumerate(starts.items())]
    marketing_rows = [(d, p, c, clicks) for (d, p, c), clicks in marketing.items()]

    stg_orders = pa.Table.from_pylist(
        [{"order_id": o, "user_id": u, "created_at": at, "order_date": at.date()} for o, u, at in orders],
        schema=pa.schema(
            [
                ("order_id", pa.int64()),
                ("user_id", pa.int64()),
                ("created_at", pa.timestamp("us", tz="UTC")),
                ("order_date", pa.date32()),
            ]
        ),
    )
    stg_items = pa.Table.from_pylist(
        [
            {"order_item_id": o, "order_id": o, "product_id": 1, "status": "processing", "sale_price": 1.0}
            for o, _, _ in orders
        ]
    )
    products = pa.table({"product_id": [1], "cost": [0.5]})
    session_metrics = pa.Table.from_pylist(
        [
            {
                "session_id": s,
                "visitor_id": f"u{u}",
                "user_id": u,
                "session_start": start,
                "traffic_source": src,
                "platform": PLATFORMS.get(src),
            }
            for s, u, start, src in session_rows
        ],
        schema=SESSION_METRICS,
    )
    stg_marketing = pa.Table.from_pylist(
        [
            {"spend_date": d, "campaign_id": c, "platform": p, "spend": 1.0, "clicks": k, "impressions": 1}
            for d, p, c, k in marketing_rows
        ],
        schema=MARKETING,
    )
    expr = int_campaign_attribution(
        int_orders(ibis.memtable(stg_orders), ibis.memtable(stg_items), ibis.memtable(products)),
        ibis.memtable(session_metrics),
        ibis.memtable(stg_marketing),
        hours,
    )
    got = {
        r["order_id"]: (r["session_id"], r["platform"], r["campaign_id"], r["attribution_status"])
        for r in expr.to_pyarrow().to_pylist()
    }
    assert got == reference_attribution(orders, session_rows, marketing_rows, hours)
