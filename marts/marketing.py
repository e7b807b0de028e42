"""Marketing: daily spend per platform, last-touch attribution of orders, campaign performance."""

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import PLATFORMS, not_finite, ratio, user_visitor

ATTRIBUTION_STATUSES = ("attributed", "organic", "unmatched")


@model(
    key=("spend_date", "platform"),
    partition_by="spend_date",
)
def int_daily_marketing(stg_marketing: ir.Table) -> ir.Table:
    """One row per (spend_date, platform) with a marketing row (docs/contract.md#int_daily_marketing).

    NULL spend, clicks and impressions count as 0 in the sums; campaigns counts every campaign_id
    with a row that day, zero-spend rows included.

    Columns:
        spend_date: the day; part of the key.
        platform: the ad platform (Google, Facebook, YouTube, Email); part of the key.
        spend: Σ spend of the platform's marketing rows that day (NULL as 0).
        clicks: Σ clicks of those rows (NULL as 0).
        impressions: Σ impressions of those rows (NULL as 0).
        campaigns: distinct campaign_ids of the platform with a row that day, zero-spend rows
            included.
    """
    daily = stg_marketing.group_by(["spend_date", "platform"]).aggregate(
        spend=stg_marketing.spend.fill_null(0).sum(),
        clicks=stg_marketing.clicks.fill_null(0).sum(),
        impressions=stg_marketing.impressions.fill_null(0).sum(),
        campaigns=stg_marketing.campaign_id.nunique(),
    )
    return daily.select("spend_date", "platform", "spend", "clicks", "impressions", "campaigns")


def top_campaign_by_clicks(stg_marketing: ir.Table) -> ir.Table:
    """One row per (spend_date, platform): the campaign with the most clicks that day (NULL clicks
    count as 0; tie: smallest campaign_id)."""
    by_clicks = ibis.window(
        group_by=[stg_marketing.spend_date, stg_marketing.platform],
        order_by=[stg_marketing.clicks.fill_null(0).desc(), stg_marketing.campaign_id],
    )
    ranked = stg_marketing.mutate(choice=ibis.row_number().over(by_clicks))
    # ibis's row_number() is 0-based (SQL's ROW_NUMBER() - 1): 0 is the first campaign
    return ranked.filter(ranked.choice == 0).select("spend_date", "platform", "campaign_id")


@model(
    key="order_id",
    partition_by="order_date",
    cluster_by=("platform", "campaign_id"),
    not_null=("user_id", "order_date", "ordered_at", "net_revenue", "gross_profit", "attribution_status"),
    accepted_values={
        "attribution_status": ATTRIBUTION_STATUSES,
        "platform": PLATFORMS,
    },
    relationships={"order_id": "stg_orders.order_id", "session_id": "fact_session_metrics.session_id"},
)
def int_campaign_attribution(
    int_orders: ir.Table,
    fact_session_metrics: ir.Table,
    stg_marketing: ir.Table,
    attribution_lookback_hours: int,
) -> ir.Table:
    """One row per non-cancelled order, credited to the campaign of its last touch
    (docs/contract.md#int_campaign_attribution).

    The candidates are the user's sessions (visitor 'u' || user_id) starting at or before the
    order and no more than `attribution_lookback_hours` before it, both ends inclusive, exact
    elapsed time; the latest start wins. Its first event's traffic source maps to a platform;
    the order is `attributed` to that platform's campaign with the most clicks on the order date
    (NULL clicks count as 0; tie: smallest campaign_id, compared as strings), `organic` when the
    source maps to no platform, `unmatched` when there is no candidate session or the platform has
    no marketing row that day.

    Columns beyond the contract's words: session_id, traffic_source and platform describe the winning
    session whenever there is one (so an `unmatched` order whose session came from a platform
    without a campaign that day keeps that platform; an `organic` order has platform NULL); all
    three are NULL when there is no candidate session. campaign_id is set only when `attributed`.
    net_revenue is Σ sale_price of the order's net items; gross_profit that minus their product cost
    (both int_orders').

    Columns:
        order_id: the non-cancelled order (stg_orders.order_id); the key.
        user_id: the order's user.
        order_date: the UTC date of the order's created_at.
        ordered_at: the order's created_at (UTC).
        net_revenue: Σ sale_price of the order's net items; 0 when every non-cancelled item was
            returned.
        gross_profit: net_revenue − Σ products.cost of the order's net items.
        session_id: the winning (last-touch) session: the latest-starting session of visitor
            'u' || user_id with ordered_at − `attribution_lookback_hours` ≤ session_start ≤
            ordered_at (exact elapsed time); NULL when there is none.
        traffic_source: the traffic source of that session's first event; NULL without a session.
        platform: the ad platform traffic_source maps to; NULL without a session or for a source
            with no platform (Organic, NULL, any other spelling).
        campaign_id: when attributed, the platform's campaign with the most clicks on order_date
            (NULL clicks as 0; tie: smallest campaign_id as a string); NULL otherwise.
        attribution_status: `attributed` (a campaign was found), `organic` (a session whose source
            maps to no platform) or `unmatched` (no session, or a platform without a marketing row
            on order_date).
    """
    orders = int_orders.select("order_id", "user_id", "ordered_at", "order_date", "net_revenue", "gross_profit")

    sessions = fact_session_metrics.select("session_id", "visitor_id", "session_start", "traffic_source", "platform")
    lookback = ibis.interval(hours=attribution_lookback_hours)
    # A left join keeps the orders with no candidate session (one row each, session columns NULL).
    candidates = orders.left_join(
        sessions,
        [
            sessions.visitor_id == user_visitor(orders.user_id),
            sessions.session_start <= orders.ordered_at,
            # start >= ordered_at - lookback, written as an instant comparison (exact on both engines)
            sessions.session_start + lookback >= orders.ordered_at,
        ],
    )
    # A visitor's sessions start at distinct instants; session_id only makes the order total. An
    # order without candidates has a single row, so its NULL start is never compared.
    latest_first = ibis.window(
        group_by=candidates.order_id,
        order_by=[candidates.session_start.desc(), candidates.session_id],
    )
    # ibis's row_number() is 0-based (SQL's ROW_NUMBER() - 1): 0 is the latest session
    last_touch = candidates.mutate(touch=ibis.row_number().over(latest_first)).filter(ibis._.touch == 0)

    top_campaign = top_campaign_by_clicks(stg_marketing)

    credited = last_touch.left_join(
        top_campaign,
        [
            last_touch.order_date == top_campaign.spend_date,
            last_touch.platform == top_campaign.platform,
        ],
    )
    status = ibis.cases(
        (credited.campaign_id.notnull(), "attributed"),
        (credited.session_id.notnull() & credited.platform.isnull(), "organic"),
        else_="unmatched",
    )
    return credited.select(
        order_id=credited.order_id,
        user_id=credited.user_id,
        order_date=credited.order_date,
        ordered_at=credited.ordered_at,
        net_revenue=credited.net_revenue,
        gross_profit=credited.gross_profit,
        session_id=credited.session_id,
        traffic_source=credited.traffic_source,
        platform=credited.platform,
        campaign_id=credited.campaign_id,
        attribution_status=status,
    )


@model(
    key=("spend_date", "platform", "campaign_id"),
    partition_by="spend_date",
    cluster_by=("platform",),
    not_null=("attributed_orders", "attributed_revenue", "attributed_gross_profit"),
)
def fact_campaign_performance(stg_marketing: ir.Table, int_campaign_attribution: ir.Table) -> ir.Table:
    """One row per marketing row (spend_date, platform, campaign_id)
    (docs/contract.md#fact_campaign_performance).

    attributed_orders/revenue/gross_profit: count, Σ net_revenue and Σ gross_profit of the orders
    attributed to that platform and campaign with order_date = spend_date (0 when none). spend,
    clicks and impressions are the source values (NULL stays NULL); every ratio is NULL when its
    denominator is 0 or NULL, or when its numerator is NULL.

    Columns:
        spend_date: the marketing row's day; part of the key.
        platform: the marketing row's platform; part of the key.
        campaign_id: the marketing row's campaign; part of the key.
        spend: the row's spend as the source gives it (NULL stays NULL).
        clicks: the row's clicks as the source gives it (NULL stays NULL).
        impressions: the row's impressions as the source gives it (NULL stays NULL).
        attributed_orders: orders of int_campaign_attribution attributed to this platform and
            campaign with order_date = spend_date; 0 when none.
        attributed_revenue: Σ net_revenue of those orders; 0 when none.
        attributed_gross_profit: Σ gross_profit of those orders; 0 when none.
        ctr: clicks / impressions; NULL when impressions is 0 or NULL, or clicks NULL.
        cpc: spend / clicks; NULL when clicks is 0 or NULL, or spend NULL.
        cpa: spend / attributed_orders; NULL when attributed_orders is 0 or spend NULL.
        roas: attributed_revenue / spend; NULL when spend is 0 or NULL. No upper bound:
            attribution is by session, not by click.
        conversion_rate: attributed_orders / clicks; NULL when clicks is 0 or NULL. Can exceed 1
            for the same reason.
    """
    attributed = int_campaign_attribution.filter(int_campaign_attribution.attribution_status == "attributed")
    credited = attributed.group_by(
        spend_date=attributed.order_date, platform=attributed.platform, campaign_id=attributed.campaign_id
    ).aggregate(
        attributed_orders=attributed.count(),
        attributed_revenue=attributed.net_revenue.sum(),
        attributed_gross_profit=attributed.gross_profit.sum(),
    )
    joined = stg_marketing.left_join(credited, ["spend_date", "platform", "campaign_id"])
    orders = joined.attributed_orders.fill_null(0)
    revenue = joined.attributed_revenue.fill_null(0.0)
    return joined.select(
        spend_date=joined.spend_date,
        platform=joined.platform,
        campaign_id=joined.campaign_id,
        spend=joined.spend,
        clicks=joined.clicks,
        impressions=joined.impressions,
        attributed_orders=orders,
        attributed_revenue=revenue,
        attributed_gross_profit=joined.attributed_gross_profit.fill_null(0.0),
        ctr=ratio(joined.clicks, joined.impressions),
        cpc=ratio(joined.spend, joined.clicks),
        cpa=ratio(joined.spend, orders),
        roas=ratio(revenue, joined.spend),
        conversion_rate=ratio(orders, joined.clicks),
    )


# --- Data tests (each returns the failing rows) ------------------------------------------------


@data_test
def campaign_performance_rows_are_marketing_rows(
    fact_campaign_performance: ir.Table, stg_marketing: ir.Table
) -> ir.Table:
    """Every (spend_date, platform, campaign_id) of fact_campaign_performance is a stg_marketing row."""
    keys = ["spend_date", "platform", "campaign_id"]
    return fact_campaign_performance.anti_join(stg_marketing.select(keys), keys)


@data_test
def attribution_status_consistent(int_campaign_attribution: ir.Table) -> ir.Table:
    """attributed ⇔ a campaign; organic ⇔ a session without platform; unmatched otherwise."""
    t = int_campaign_attribution
    attributed = (t.attribution_status == "attributed") == t.campaign_id.notnull()
    has_campaign_platform = t.campaign_id.isnull() | t.platform.notnull()
    organic = (t.attribution_status == "organic") == (t.session_id.notnull() & t.platform.isnull())
    return t.filter(~attributed | ~has_campaign_platform | ~organic)


@data_test
def campaign_ratios_finite(fact_campaign_performance: ir.Table) -> ir.Table:
    """ctr, cpc, cpa, roas and conversion_rate are finite or NULL."""
    t = fact_campaign_performance
    return t.filter(ibis.or_(*(not_finite(t[name]) for name in ("ctr", "cpc", "cpa", "roas", "conversion_rate"))))
