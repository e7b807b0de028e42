"""What `ecom build` prints when it is done: the few numbers an owner reads first.

Each summary is a function of marts returning a small table; the engine prints, in this order,
those whose marts the build produced.
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import summary
from marts._common import ratio
from marts.customers import SEGMENTS


@summary
def pnl_last_30_days(fact_daily_pnl_advanced: ir.Table, as_of: dt.date) -> ir.Table:
    """P&L, last 30 days to as_of: net revenue, gross profit and margin (%), ad spend, ROAS; net
    revenue of the last 7 days against the same 7 days a year before (% growth)"""
    t = fact_daily_pnl_advanced.filter(fact_daily_pnl_advanced.date == ibis.date(as_of))
    # margin and growth in percent, as the other summaries' shares: a growth of 60.19 read as a
    # fraction beside them was taken for 60 %, not 6,019 %
    return t.select(
        "date",
        "net_revenue_30d",
        "gross_profit_30d",
        gross_margin_30d_pct=100 * ratio(t.gross_profit_30d, t.net_revenue_30d),
        ad_spend_30d=t.ad_spend_30d,
        roas_30d=t.roas_30d,
        yoy_growth_7d_pct=100 * t.yoy_growth_7d,
    )


@summary
def platform_roas(fact_campaign_performance: ir.Table) -> ir.Table:
    """Platforms: spend, attributed orders and revenue, ROAS and CPA over the whole build"""
    t = fact_campaign_performance
    per_platform = t.group_by("platform").aggregate(
        spend=t.spend.fill_null(0.0).sum(),
        clicks=t.clicks.fill_null(0).sum(),
        attributed_orders=t.attributed_orders.sum(),
        attributed_revenue=t.attributed_revenue.sum(),
    )
    return per_platform.select(
        "platform",
        "spend",
        "clicks",
        "attributed_orders",
        "attributed_revenue",
        roas=ratio(per_platform.attributed_revenue, per_platform.spend),
        cpa=ratio(per_platform.spend, per_platform.attributed_orders),
    ).order_by("platform")


@summary
def attribution_coverage(int_campaign_attribution: ir.Table) -> ir.Table:
    """Attribution: orders and net revenue by status (how much revenue ROAS can see)"""
    t = int_campaign_attribution
    per_status = t.group_by("attribution_status").aggregate(orders=t.count(), net_revenue=t.net_revenue.sum())
    return per_status.select(
        "attribution_status",
        "orders",
        "net_revenue",
        net_revenue_pct=100 * ratio(per_status.net_revenue, per_status.net_revenue.sum().over(ibis.window())),
    ).order_by("attribution_status")


@summary
def customer_segment_shares(dim_customer_segments: ir.Table) -> ir.Table:
    """RFM segments: customers and lifetime net revenue, with their shares (%)"""
    t = dim_customer_segments
    per_segment = t.group_by("segment").aggregate(customers=t.count(), net_revenue=t.monetary.sum())
    totals = ibis.window()
    order = ibis.cases(*((per_segment.segment == s, i) for i, s in enumerate(SEGMENTS)), else_=len(SEGMENTS))
    return (
        per_segment.select(
            "segment",
            "customers",
            customers_pct=100 * ratio(per_segment.customers, per_segment.customers.sum().over(totals)),
            net_revenue=per_segment.net_revenue,
            net_revenue_pct=100 * ratio(per_segment.net_revenue, per_segment.net_revenue.sum().over(totals)),
            rank=order,
        )
        .order_by("rank")
        .drop("rank")
    )


@summary
def inventory_by_status(fact_inventory_forecast: ir.Table) -> ir.Table:
    """Inventory at as_of: products, units and stock value by status, and what to reorder"""
    t = fact_inventory_forecast
    return (
        t.group_by("inventory_status")
        .aggregate(
            products=t.count(),
            stock_on_hand=t.stock_on_hand.sum(),
            stock_value=t.stock_value.sum(),
            reorder_qty=t.reorder_qty.sum(),
            reorder_value=t.reorder_value.sum(),
        )
        .order_by("inventory_status")
    )
