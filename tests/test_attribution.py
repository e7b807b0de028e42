"""fact_attribution_models, fact_channel_economics and fact_funnel_daily
(docs/contract.md#fact_attribution_models, #fact_channel_economics, #fact_funnel_daily) on
fixtures/attribution (see its README for what every row exercises).

Expected values are computed by hand, arithmetic in the comments. Products: p1 cost 20.0, p2 cost
10.0, so an item's gross profit is its price − 20 (p1) or − 10 (p2). as_of 2024-03-29, touch window 7
days, half-life 24 h.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pytest

from marts._common import CHANNELS, PLATFORMS
from marts.attribution import (
    ATTRIBUTION_MODELS,
    attribution_models_credit_every_order_once,
    attribution_models_spend_matches_marketing,
    channel_economics_counts_every_customer,
    channel_economics_spend_matches_marketing,
)
from marts.sessions import funnel_counts_every_session, funnel_steps_ordered_and_rates_in_range
from tests.conftest import approx_rows, build_scenario, scenario_group

pytestmark = scenario_group("attribution")  # reads fixtures/attribution as tests/conftest.py builds it
D = dt.date
NULL = None
MAR10 = D(2024, 3, 10)


@pytest.fixture(scope="module")
def built(built_scenario):
    return built_scenario("attribution")


# --- fact_attribution_models --------------------------------------------------------------------

# Orders of 2024-03-10 12:00 (T), net revenue / gross profit:
#   101 (u1, p1 100.0: 100 / 80): one touch, Google at 06:00 (h = 6).
#   102 (u2, p2 50.0: 50 / 40): two touches, Facebook 03-09 12:00 (h = 24), Email 03-10 11:00 (h = 1).
#   103 (u3, p1 200.0: 200 / 180): four touches, Organic 03-03 12:00:00 (exactly T − 7 days: in),
#       YouTube 03-05 12:00 (h = 120), Google 03-08 12:00 (h = 48), Google 03-10 12:00:00 (= T: in).
#   104 (u4, p2 30.0: 30 / 20): its only session starts 03-03 11:59:59.999999, a microsecond
#       outside the window: no touch.
#   105 (u5, p2 40.0: 40 / 30): no session at all.
# u1's 13:00 session starts after its order; the anonymous Adwords visit at 08:00 is nobody's touch.
# Unattributed in every model: 104 + 105 = 2 orders, 30 + 40 = 70, 20 + 30 = 50.
UNATTRIBUTED = (2.0, 70.0, 50.0)
W = 2 ** (-1 / 24)  # 102's Email touch, 1 h before; its Facebook touch weighs 2^(-24/24) = 0.5
F, E = 0.5 / (0.5 + W), W / (0.5 + W)  # 102's time-decay shares
# 103's weights 2^(-168/24) = 1/128, 2^(-120/24) = 1/32, 2^(-48/24) = 1/4, 2^0 = 1; Σ = 165/128:
# shares Organic 1/165, YouTube 4/165, Google (32 + 128)/165 = 160/165.
CREDITS_MAR10 = {  # (model, channel) -> (credited_orders, credited_revenue, credited_gross_profit)
    # last: 101 and 103 to Google (1 + 1; 100 + 200; 80 + 180), 102 to Email.
    ("last_touch", "Google"): (2.0, 300.0, 260.0),
    ("last_touch", "Email"): (1.0, 50.0, 40.0),
    # first: 101 Google, 102 Facebook, 103 Organic (the touch exactly on the window's edge).
    ("first_touch", "Google"): (1.0, 100.0, 80.0),
    ("first_touch", "Facebook"): (1.0, 50.0, 40.0),
    ("first_touch", "Organic"): (1.0, 200.0, 180.0),
    # linear: 101 1 to Google; 102 1/2 each; 103 1/4 each, Google twice.
    # Google 1 + 2/4 = 1.5, 100 + 200/2 = 200, 80 + 180/2 = 170.
    ("linear", "Google"): (1.5, 200.0, 170.0),
    ("linear", "Facebook"): (0.5, 25.0, 20.0),
    ("linear", "Email"): (0.5, 25.0, 20.0),
    ("linear", "Organic"): (0.25, 50.0, 45.0),
    ("linear", "YouTube"): (0.25, 50.0, 45.0),
    # position_based: 101 1; 102 0.5 each; 103 0.4 Organic (first), 0.2/(4 − 2) = 0.1 YouTube,
    # 0.1 + 0.4 (last) = 0.5 Google. Google 1 + 0.5 = 1.5, 100 + 100 = 200, 80 + 90 = 170.
    ("position_based", "Google"): (1.5, 200.0, 170.0),
    ("position_based", "Facebook"): (0.5, 25.0, 20.0),
    ("position_based", "Email"): (0.5, 25.0, 20.0),
    ("position_based", "Organic"): (0.4, 80.0, 72.0),
    ("position_based", "YouTube"): (0.1, 20.0, 18.0),
    # time_decay: 101 1 to Google; 102 F / E; 103 as above.
    ("time_decay", "Google"): (1 + 160 / 165, 100 + 200 * 160 / 165, 80 + 180 * 160 / 165),
    ("time_decay", "Facebook"): (F, 50 * F, 40 * F),
    ("time_decay", "Email"): (E, 50 * E, 40 * E),
    ("time_decay", "Organic"): (1 / 165, 200 / 165, 180 / 165),
    ("time_decay", "YouTube"): (4 / 165, 800 / 165, 720 / 165),
    **{(m, "Unattributed"): UNATTRIBUTED for m in ATTRIBUTION_MODELS},
}
# Spend of 2024-03-10: Google 60.0 and Facebook 25.0; YouTube and Email have no row (0).
SPEND_MAR10 = {"Google": 60.0, "Facebook": 25.0, "YouTube": 0.0, "Email": 0.0, "Organic": NULL, "Unattributed": NULL}

# Every other order date: each order hands its whole credit to one channel in every model.
ONE_CHANNEL_DAYS = {  # date -> (channel, net revenue, gross profit)
    D(2023, 3, 15): ("Email", 100.0, 80.0),  # 201: Email session 1 h before
    D(2023, 12, 5): ("Facebook", 60.0, 40.0),  # 401: Facebook session 22 h before (403 is all cancelled)
    D(2024, 1, 10): ("YouTube", 20.0, 10.0),  # 301: YouTube session 21 h before
    D(2024, 2, 8): ("Unattributed", 30.0, 20.0),  # 302: u7's only session is 30 days before
    D(2024, 2, 9): ("Unattributed", 40.0, 30.0),  # 303
    D(2024, 2, 29): ("Unattributed", 80.0, 60.0),  # 501: u9 has no session before it
    # 402: 50.0 (p2) complete + 25.0 (p2) returned 04-05, after as_of, so still net: 75, 40 + 15 = 55;
    # 70.0 returned 03-20 and 99.0 cancelled are not net. u8's session is 3 months before.
    D(2024, 3, 3): ("Unattributed", 75.0, 55.0),
    D(2024, 3, 13): ("Unattributed", 10.0, 0.0),  # 202: p2 10.0
    D(2024, 3, 14): ("Unattributed", 15.0, 5.0),  # 203: p2 15.0
    D(2024, 3, 29): ("Organic", 20.0, 10.0),  # 502: 08:00 session with a NULL traffic source
}
SPEND = {(D(2023, 3, 15), "Email"): 40.0, (D(2023, 3, 20), "Email"): 10.0, (D(2023, 12, 4), "Facebook"): 30.0}
SPEND |= {(D(2024, 2, 29), "Google"): 12.0, **{(MAR10, p): s for p, s in SPEND_MAR10.items() if s}}


def test_attribution_models_on_the_order_day(built):
    rows = built.by_key("fact_attribution_models")
    day = {(m, c): r for (d, c, m), r in rows.items() if d == MAR10}
    got = {k: (r["credited_orders"], r["credited_revenue"], r["credited_gross_profit"]) for k, r in day.items()}
    want = {(m, c): CREDITS_MAR10.get((m, c), (0.0, 0.0, 0.0)) for m in ATTRIBUTION_MODELS for c in CHANNELS}
    assert got == {k: pytest.approx(v, rel=1e-12) for k, v in want.items()}
    assert {k: r["spend"] for k, r in day.items()} == {(m, c): SPEND_MAR10[c] for m, c in want}
    # last_touch: Google roas 300/60 = 5, cpa 60/2 = 30; Email spend 0: roas NULL, cpa 0/1 = 0;
    # Facebook nothing credited: roas 0/25 = 0, cpa 25/0 NULL; YouTube 0/0 both NULL; no spend for
    # Organic and Unattributed: NULL.
    assert {c: (day["last_touch", c]["roas"], day["last_touch", c]["cpa"]) for c in CHANNELS} == {
        "Google": (5.0, 30.0),
        "Email": (NULL, 0.0),
        "Facebook": (0.0, NULL),
        "YouTube": (NULL, NULL),
        "Organic": (NULL, NULL),
        "Unattributed": (NULL, NULL),
    }
    # time_decay Facebook: roas 50F / 25 = 2F, cpa 25 / F.
    assert day["time_decay", "Facebook"]["roas"] == pytest.approx(2 * F, rel=1e-12)
    assert day["time_decay", "Facebook"]["cpa"] == pytest.approx(25 / F, rel=1e-12)


def test_attribution_models_every_other_day(built):
    rows = built.by_key("fact_attribution_models")
    # The spine runs from the first order (2023-03-15) to as_of 2024-03-29: 2023-03-15 → 2024-03-15 is
    # 366 days (2024-02-29 in between), + 14 = 380, both ends: 381 days × 6 channels × 5 models.
    assert len(rows) == 381 * 6 * 5
    for (d, c, m), r in rows.items():
        if d == MAR10:
            continue
        channel, revenue, profit = ONE_CHANNEL_DAYS.get(d, (NULL, 0.0, 0.0))
        credited = (1.0, revenue, profit) if c == channel else (0.0, 0.0, 0.0)
        assert (r["credited_orders"], r["credited_revenue"], r["credited_gross_profit"]) == credited, (d, c, m)
        assert r["spend"] == (SPEND.get((d, c), 0.0) if c in PLATFORMS else NULL), (d, c, m)
    # 2024-02-29: Google spend 12, nothing credited: roas 0/12 = 0, cpa 12/0 NULL.
    assert (rows[D(2024, 2, 29), "Google", "linear"]["roas"], rows[D(2024, 2, 29), "Google", "linear"]["cpa"]) == (
        0.0,
        NULL,
    )


def test_attribution_window_and_half_life_are_variables():
    """touch_window_days 5, half-life 12 h: order 103's window starts 03-05 12:00:00, so YouTube's
    session is exactly on the edge (in) and Organic's (7 days before) is out."""
    target = build_scenario("attribution", touch_window_days=5, time_decay_half_life_hours=12)
    try:
        rows = target.by_key("fact_attribution_models")
        economics = target.by_key("fact_channel_economics")
    finally:
        target.close()
    day = {(m, c): r["credited_orders"] for (d, c, m), r in rows.items() if d == MAR10}
    # first_touch: 101 Google, 102 Facebook, 103 YouTube (1 each).
    assert (day["first_touch", "YouTube"], day["first_touch", "Organic"]) == (1.0, 0.0)
    # time_decay, 103's weights: YouTube 2^(-120/12) = 2^-10, Google 2^(-48/12) = 2^-4 and 1:
    # Σ = (1 + 64 + 1024)/1024 → YouTube 1/1089, Google (64 + 1024)/1089. 102: Facebook
    # 2^(-24/12) = 1/4, Email 2^(-1/12). Google total 1 (101) + 1088/1089.
    email = 2 ** (-1 / 12)
    assert day["time_decay", "YouTube"] == pytest.approx(1 / 1089, rel=1e-12)
    assert day["time_decay", "Google"] == pytest.approx(1 + 1088 / 1089, rel=1e-12)
    assert day["time_decay", "Facebook"] == pytest.approx(0.25 / (0.25 + email), rel=1e-12)
    # u3's channel follows its first order's first touch: YouTube in March 2024 now.
    march = D(2024, 3, 1)
    assert (economics[march, "YouTube"]["new_customers"], economics[march, "Organic"]["new_customers"]) == (1, 0)


# --- fact_channel_economics -----------------------------------------------------------------------


def economics(new, spend, cac, r30, r90, r365, gp365, ltv30, ltv90, ltv365, gp_ltv, ltv_to_cac):
    return {
        "new_customers": new,
        "spend": spend,
        "cac": cac,
        "revenue_30d": r30,
        "revenue_90d": r90,
        "revenue_365d": r365,
        "gross_profit_365d": gp365,
        "ltv_30d": ltv30,
        "ltv_90d": ltv90,
        "ltv_365d": ltv365,
        "gp_ltv_365d": gp_ltv,
        "ltv_to_cac_365d": ltv_to_cac,
    }


MONTHS = [D(2023, m, 1) for m in range(3, 13)] + [D(2024, m, 1) for m in range(1, 4)]


def observed(month: dt.date) -> tuple:
    """Which windows have ended for the month at as_of 2024-03-29 (last day + N − 1 ≤ as_of):
    30 days for months up to February 2024 (02-29 + 29 = 03-29, exactly as_of), 90 days up to
    December 2023 (12-31 + 89 = 03-29, exactly), 365 days only March 2023 (03-31 + 364 = 2024-03-29,
    exactly, the leap day included; April 2023 ends 2024-04-28)."""
    return (month <= D(2024, 2, 1), month <= D(2023, 12, 1), month == D(2023, 3, 1))


def test_channel_economics(built):
    rows = built.by_key("fact_channel_economics")
    assert set(rows) == {(m, c) for m in MONTHS for c in CHANNELS}
    expected = {
        # u6: first order 201 2023-03-15 (100.0 p1: 100 / 80), Email touch 1 h before. 202 on 2024-03-13
        # is day 364 (2023-03-15 → 2024-03-15 is 366 days with the leap day): in 365d; 203 on 03-14 is
        # day 365: out. spend 40 + 10 = 50, cac 50; revenue_365d 100 + 10 = 110, gp 80 + 0 = 80;
        # ltv_to_cac 80 / 50 = 1.6.
        (D(2023, 3, 1), "Email"): economics(1, 50.0, 50.0, 100.0, 100.0, 110.0, 80.0, 100.0, 100.0, 110.0, 80.0, 1.6),
        # u8: 403 (2023-12-01) is all cancelled, so the first order is 401 (2023-12-05, 60.0 p1: 60),
        # Facebook touch 22 h before. 402 on 2024-03-03 is day 89 (31 + 31 + 29 − 2): out of 30d, in
        # 90d with its net 75 (a 70.0 item returned 03-20, before as_of, counts nothing; one returned
        # after as_of counts). revenue_90d 60 + 75 = 135; 365d not ended. spend 30, cac 30.
        (D(2023, 12, 1), "Facebook"): economics(1, 30.0, 30.0, 60.0, 135.0, NULL, NULL, 60.0, 135.0, NULL, NULL, NULL),
        # u7: 301 2024-01-10 (20.0), YouTube touch. 302 on 02-08 is day 29 (in 30d), 303 on 02-09 day 30
        # (out). revenue_30d 20 + 30 = 50; no YouTube spend: 0, cac 0 / 1 = 0; 90d not ended.
        (D(2024, 1, 1), "YouTube"): economics(1, 0.0, 0.0, 50.0, NULL, NULL, NULL, 50.0, NULL, NULL, NULL, NULL),
        # u9: 501 on 2024-02-29 (80.0), no touch. 502 on 03-29 is day 29: 80 + 20 = 100.
        (D(2024, 2, 1), "Unattributed"): economics(
            1, NULL, NULL, 100.0, NULL, NULL, NULL, 100.0, NULL, NULL, NULL, NULL
        ),
        # Google spent 12 on 02-29 but acquired nobody: cac 12 / 0 NULL.
        (D(2024, 2, 1), "Google"): economics(0, 12.0, NULL, 0.0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        # March 2024: no window has ended. u1 Google (spend 60), u2 Facebook (its first touch, 03-09;
        # spend 25), u3 Organic (the touch exactly 7 days before), u4 (a microsecond outside) and u5
        # (no session) Unattributed.
        (D(2024, 3, 1), "Google"): economics(1, 60.0, 60.0, *[NULL] * 9),
        (D(2024, 3, 1), "Facebook"): economics(1, 25.0, 25.0, *[NULL] * 9),
        (D(2024, 3, 1), "Organic"): economics(1, NULL, NULL, *[NULL] * 9),
        (D(2024, 3, 1), "Unattributed"): economics(2, NULL, NULL, *[NULL] * 9),
    }
    for month in MONTHS:
        for channel in CHANNELS:
            if (month, channel) in expected:
                continue
            # Nobody acquired: revenue 0 where the window has ended, else NULL; every ratio NULL; no
            # spend on the other platform-months (0), none for Organic/Unattributed (NULL).
            r30, r90, r365 = (0.0 if ended else NULL for ended in observed(month))
            spend = 0.0 if channel in PLATFORMS else NULL
            expected[month, channel] = economics(0, spend, NULL, r30, r90, r365, r365, *[NULL] * 5)
    approx_rows(rows, expected)


# --- fact_funnel_daily ----------------------------------------------------------------------------


def funnel(sessions, identified, viewed, cart, purchase, both, bounced, duration):
    return {
        "sessions": sessions,
        "identified_sessions": identified,
        "product_view_sessions": viewed,
        "cart_sessions": cart,
        "purchase_sessions": purchase,
        "cart_purchase_sessions": both,
        "bounced_sessions": bounced,
        "avg_duration_seconds": duration,
    }


LANDED = funnel(1, 1, 0, 0, 0, 0, 1, 0.0)  # one identified single `home` event


def test_funnel(built):
    rows = built.by_key("fact_funnel_daily")
    expected = {
        (D(2023, 3, 15), "Email"): LANDED,
        (D(2023, 12, 4), "Facebook"): funnel(1, 1, 1, 0, 0, 0, 1, 0.0),  # a single `product` event
        (D(2024, 1, 9), "YouTube"): LANDED,
        (D(2024, 3, 3), "Organic"): LANDED,
        (D(2024, 3, 3), "Facebook"): LANDED,  # u4 at 11:59:59.999999
        (D(2024, 3, 5), "YouTube"): LANDED,
        (D(2024, 3, 8), "Google"): LANDED,
        (D(2024, 3, 9), "Facebook"): LANDED,
        # u1 06:00-06:03 home, product, cart, purchase (180 s); u3 a lone purchase (no cart: 0 s,
        # a bounce); an anonymous home visit (not identified, a bounce). Mean duration 180 / 3 = 60.
        (MAR10, "Google"): funnel(3, 2, 1, 1, 2, 1, 2, 60.0),
        (MAR10, "Email"): funnel(1, 1, 1, 1, 0, 0, 0, 30.0),  # u2 product 11:00, cart 11:00:30
        (MAR10, "Facebook"): LANDED,  # u1's 13:00 visit
        (D(2024, 3, 29), "Organic"): LANDED,  # a NULL traffic source is Organic
    }
    approx_rows(rows, expected)
    # Rates: each count / sessions; cart_to_purchase = cart_purchase / cart, NULL without carts.
    rates = {
        k: tuple(r[c] for c in ("product_view_rate", "cart_rate", "purchase_rate", "bounce_rate"))
        for k, r in rows.items()
    }
    assert rates[MAR10, "Google"] == pytest.approx((1 / 3, 1 / 3, 2 / 3, 2 / 3))
    assert rates[MAR10, "Email"] == (1.0, 1.0, 0.0, 0.0)
    assert rates[D(2023, 3, 15), "Email"] == (0.0, 0.0, 0.0, 1.0)
    cart_to_purchase = {k: r["cart_to_purchase_rate"] for k, r in rows.items()}
    assert cart_to_purchase == {k: NULL for k in expected} | {(MAR10, "Google"): 1.0, (MAR10, "Email"): 0.0}


# --- the data tests catch what they name ------------------------------------------------------------


def count(table) -> int:
    return table.count().to_pyarrow().as_py()


def test_data_tests_fail_on_broken_marts(built):
    """Each new invariant test returns rows once its mart is broken on purpose (and none as built)."""
    attribution, pnl = built.target.table("fact_attribution_models"), built.target.table("fact_daily_pnl")
    marketing, customers = built.target.table("int_daily_marketing"), built.target.table("dim_customers")
    economics, funnel = built.target.table("fact_channel_economics"), built.target.table("fact_funnel_daily")
    sessions = built.target.table("fact_session_metrics")
    assert count(attribution_models_credit_every_order_once(attribution, pnl)) == 0
    # Half an order more for linear on 2024-03-10: exactly that (date, model) fails.
    extra = attribution.mutate(
        credited_orders=ibis.ifelse(
            (attribution.date == MAR10)
            & (attribution.attribution_model == "linear")
            & (attribution.channel == "Email"),
            attribution.credited_orders + 0.5,
            attribution.credited_orders,
        )
    )
    assert count(attribution_models_credit_every_order_once(extra, pnl)) == 1
    # A missing (date, model) fails too: 2024-03-10's five models lose their rows.
    assert count(attribution_models_credit_every_order_once(attribution.filter(attribution.date != MAR10), pnl)) == 5
    # Every spend doubled under time_decay only: Google, Facebook and Email fail (YouTube spent 0).
    doubled = attribution.mutate(
        spend=ibis.ifelse(attribution.attribution_model == "time_decay", attribution.spend * 2, attribution.spend)
    )
    assert count(attribution_models_spend_matches_marketing(attribution, marketing)) == 0
    assert count(attribution_models_spend_matches_marketing(doubled, marketing)) == 3
    assert count(channel_economics_counts_every_customer(economics, customers)) == 0
    assert (
        count(channel_economics_counts_every_customer(economics.filter(economics.channel != "Organic"), customers)) == 1
    )
    # Facebook's December spend dropped: its month disagrees (the outer join still sees it).
    no_december = economics.filter((economics.cohort_month != D(2023, 12, 1)) | (economics.channel != "Facebook"))
    assert count(channel_economics_spend_matches_marketing(economics, marketing)) == 0
    (row,) = channel_economics_spend_matches_marketing(no_december, marketing).to_pyarrow().to_pylist()
    # the row names the month and channel the mart lacks (they come from the marketing side)
    assert (row["cohort_month"], row["channel"], row["spend"]) == (D(2023, 12, 1), "Facebook", None)
    assert row["marketing_spend"] > 0
    assert count(funnel_counts_every_session(funnel, sessions)) == 0
    assert count(funnel_counts_every_session(funnel.filter(funnel.channel != "Google"), sessions)) == 1
    assert count(funnel_steps_ordered_and_rates_in_range(funnel)) == 0
    # More cart-and-purchase sessions than purchases on the two 2024-03-10 rows with a cart.
    swollen = funnel.mutate(cart_purchase_sessions=funnel.cart_purchase_sessions + funnel.cart_sessions)
    assert count(funnel_steps_ordered_and_rates_in_range(swollen)) == 2
    over_one = funnel.mutate(bounce_rate=funnel.bounce_rate + 0.5)
    # bounce_rate + 0.5 exceeds 1 on every row but 03-10's Email (0 + 0.5; Google's 2/3 + 0.5 does):
    # 12 − 1 = 11 rows.
    assert count(funnel_steps_ordered_and_rates_in_range(over_one)) == 11
