"""Sales and P&L: daily sales, the daily P&L with its date spine, and its trailing/running metrics.

See docs/contract.md#int_daily_sales, docs/contract.md#fact_daily_pnl and
docs/contract.md#fact_daily_pnl_advanced.
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import (
    date_spine,
    day_number,
    days_between,
    is_net,
    is_non_cancelled,
    items_with_order_user_and_cost,
    least_present,
    not_finite,
    outside,
    ratio,
)

# Daily P&L columns that are counts or money sums: 0 on a day without activity (ratios stay NULL).
PNL_AMOUNTS = (
    "orders",
    "items_sold",
    "gross_revenue",
    "returned_revenue",
    "net_revenue",
    "cogs",
    "gross_profit",
    "customers",
    "new_customers",
)
TRAILING_SUMS = (
    "net_revenue_7d",
    "ad_spend_7d",
    "gross_profit_7d",
    "net_revenue_30d",
    "ad_spend_30d",
    "gross_profit_30d",
    "net_revenue_mtd",
    "net_revenue_ytd",
    "cumulative_net_revenue",
)


@model(key="order_date", partition_by="order_date", not_null=PNL_AMOUNTS)
def int_daily_sales(stg_order_items: ir.Table, stg_orders: ir.Table, stg_products: ir.Table) -> ir.Table:
    """One row per order date with at least one non-cancelled item (docs/contract.md#int_daily_sales).

    orders and customers count distinct orders / order users with a non-cancelled item that day;
    items_sold counts net items; gross_revenue sums the sale_price of non-cancelled items and
    returned_revenue that of returned items; net_revenue = gross_revenue − returned_revenue;
    cogs is the product cost (products.cost) of net items. new_customers counts the users whose
    first non-cancelled order is dated that day. A user is the order's user.

    Columns:
        order_date: the UTC date of the orders' created_at; the key.
        orders: distinct orders with at least one non-cancelled item dated that day.
        items_sold: net items (status neither cancelled nor returned) of that day's orders.
        gross_revenue: Σ sale_price of the non-cancelled items of that day's orders.
        returned_revenue: Σ sale_price of the returned items of that day's orders; 0 when none.
        net_revenue: gross_revenue − returned_revenue (Σ sale_price of net items).
        cogs: Σ products.cost of the net items; 0 when none.
        gross_profit: net_revenue − cogs.
        customers: distinct users (the order's user) with a non-cancelled item that day.
        new_customers: users whose first non-cancelled order is dated that day; 0 when none.
    """
    items = items_with_order_user_and_cost(stg_order_items, stg_orders, stg_products)
    sold = items.filter(is_non_cancelled(items.status))

    daily = sold.group_by("order_date").aggregate(
        orders=sold.order_id.nunique(),
        items_sold=sold.order_item_id.count(where=is_net(sold.status)),
        gross_revenue=sold.sale_price.sum(),
        # sum(where=) over no matching row is NULL: a day without returns returned 0.
        returned_revenue=sold.sale_price.sum(where=sold.status == "returned").fill_null(0),
        cogs=sold.product_cost.sum(where=is_net(sold.status)).fill_null(0),
        customers=sold.user_id.nunique(),
    )
    first_orders = sold.group_by("user_id").aggregate(first_order_date=sold.order_date.min())
    new_customers = first_orders.group_by(order_date=first_orders.first_order_date).aggregate(
        new_customers=first_orders.user_id.count()
    )

    joined = daily.left_join(new_customers, "order_date")
    net_revenue = joined.gross_revenue - joined.returned_revenue
    return joined.select(
        order_date=joined.order_date,
        orders=joined.orders,
        items_sold=joined.items_sold,
        gross_revenue=joined.gross_revenue,
        returned_revenue=joined.returned_revenue,
        net_revenue=net_revenue,
        cogs=joined.cogs,
        gross_profit=net_revenue - joined.cogs,
        customers=joined.customers,
        new_customers=joined.new_customers.fill_null(0),
    )


@model(key="date", partition_by="date", not_null=(*PNL_AMOUNTS, "ad_spend", "contribution_profit"))
def fact_daily_pnl(
    int_daily_sales: ir.Table, int_daily_marketing: ir.Table, stg_orders: ir.Table, as_of: dt.date
) -> ir.Table:
    """One row per date from the earlier of the first order date and the first spend date to
    `as_of` (docs/contract.md#fact_daily_pnl).

    The spine starts at the first order of ANY status (an order whose items are all cancelled
    still opens the spine) or the first marketing row (a zero-spend row included), whichever is
    earlier; no orders and no spend: no rows. On a day without activity every count and amount is 0
    (ad_spend too) and the ratios whose denominator is 0 are NULL: gross_margin (net_revenue = 0),
    roas (ad_spend = 0), aov (orders = 0).

    Columns:
        date: the calendar day (UTC); the key.
        orders: distinct orders with a non-cancelled item dated that day; 0 without sales.
        items_sold: net items sold that day; 0 without sales.
        gross_revenue: Σ sale_price of non-cancelled items ordered that day; 0 without sales.
        returned_revenue: Σ sale_price of returned items ordered that day; 0 without sales.
        net_revenue: gross_revenue − returned_revenue; 0 without sales.
        cogs: Σ products.cost of the net items ordered that day; 0 without sales.
        gross_profit: net_revenue − cogs.
        gross_margin: gross_profit / net_revenue; NULL when net_revenue is 0.
        ad_spend: Σ int_daily_marketing.spend of the day over every platform (NULL spend as 0); 0
            when no marketing row.
        contribution_profit: gross_profit − ad_spend.
        roas: net_revenue / ad_spend (all revenue, not only attributed); NULL when ad_spend is 0.
        aov: average order value, net_revenue / orders; NULL when orders is 0.
        customers: distinct users with a non-cancelled item that day; 0 without sales.
        new_customers: users whose first non-cancelled order is dated that day; 0 when none.
    """
    first_order = stg_orders.aggregate(first_order_date=stg_orders.order_date.min())
    first_spend = int_daily_marketing.aggregate(first_spend_date=int_daily_marketing.spend_date.min())
    bounds = first_order.cross_join(first_spend)
    start = bounds.select(start=least_present(bounds.first_order_date, bounds.first_spend_date))
    spine = date_spine(start, as_of)

    daily_spend = int_daily_marketing.group_by(date=int_daily_marketing.spend_date).aggregate(
        ad_spend=int_daily_marketing.spend.sum()
    )
    sales = int_daily_sales.rename(date="order_date")
    days = spine.left_join(sales, "date").left_join(daily_spend, "date")
    filled = days.select(
        "date",
        *(days[c].fill_null(0).name(c) for c in PNL_AMOUNTS),
        ad_spend=days.ad_spend.fill_null(0),
    )
    return filled.select(
        date=filled.date,
        orders=filled.orders,
        items_sold=filled.items_sold,
        gross_revenue=filled.gross_revenue,
        returned_revenue=filled.returned_revenue,
        net_revenue=filled.net_revenue,
        cogs=filled.cogs,
        gross_profit=filled.gross_profit,
        gross_margin=ratio(filled.gross_profit, filled.net_revenue),
        ad_spend=filled.ad_spend,
        contribution_profit=filled.gross_profit - filled.ad_spend,
        roas=ratio(filled.net_revenue, filled.ad_spend),
        aov=ratio(filled.net_revenue, filled.orders),
        customers=filled.customers,
        new_customers=filled.new_customers,
    )


def trailing_sum(value: ir.NumericColumn, order_key: ir.IntegerColumn, days: int) -> ir.NumericColumn:
    """Σ value over the `days` calendar days ending on the row's day (RANGE frame over the day
    number: interval RANGE frames do not compile right for BigQuery)."""
    return value.sum().over(ibis.window(range=(-(days - 1), 0), order_by=order_key))


@model(
    key="date",
    partition_by="date",
    not_null=(*PNL_AMOUNTS, "ad_spend", "contribution_profit", *TRAILING_SUMS, "net_revenue_7d_prev_year"),
)
def fact_daily_pnl_advanced(fact_daily_pnl: ir.Table) -> ir.Table:
    """One row per date of fact_daily_pnl, its columns plus trailing, running and year-over-year
    net revenue (docs/contract.md#fact_daily_pnl_advanced).

    Trailing 7/30 days are calendar days (a RANGE frame over the day number, so a missing day
    could never widen the window); roas_7d/30d are ratios of the trailing sums. mtd/ytd/cumulative
    are running sums by date within the month / year / all time. net_revenue_7d_prev_year sums
    [date − 370, date − 364]; days before the spine count 0, so it is 0 (and yoy_growth_7d NULL)
    on the spine's first 364 days.

    Columns:
        fact_daily_pnl.*: every column of fact_daily_pnl, as described there, in its order.
        net_revenue_7d: Σ net_revenue over the 7 calendar days ending on date, [date − 6, date].
        ad_spend_7d: Σ ad_spend over [date − 6, date].
        gross_profit_7d: Σ gross_profit over [date − 6, date].
        net_revenue_30d: Σ net_revenue over the 30 calendar days ending on date, [date − 29, date].
        ad_spend_30d: Σ ad_spend over [date − 29, date].
        gross_profit_30d: Σ gross_profit over [date − 29, date].
        roas_7d: net_revenue_7d / ad_spend_7d (a ratio of the sums, never an average of daily
            roas); NULL when ad_spend_7d is 0.
        roas_30d: net_revenue_30d / ad_spend_30d; NULL when ad_spend_30d is 0.
        net_revenue_mtd: Σ net_revenue from the first day of date's month (or the spine's first
            day) through date.
        net_revenue_ytd: Σ net_revenue from January 1 of date's year (or the spine's first day)
            through date.
        cumulative_net_revenue: Σ net_revenue from the spine's first day through date.
        net_revenue_7d_prev_year: Σ net_revenue over [date − 370, date − 364], the 7 days ending
            364 days earlier (same weekdays); days before the spine count 0.
        yoy_growth_7d: (net_revenue_7d − net_revenue_7d_prev_year) / net_revenue_7d_prev_year;
            NULL when net_revenue_7d_prev_year is 0.
    """
    pnl = fact_daily_pnl.mutate(day=day_number(fact_daily_pnl.date))
    # RANGE BETWEEN 370 PRECEDING AND 364 PRECEDING: the 7 days ending 364 days earlier.
    prev_year_window = ibis.window(range=(-370, -364), order_by=pnl.day)
    month_window = ibis.cumulative_window(group_by=[pnl.date.year(), pnl.date.month()], order_by=pnl.date)
    year_window = ibis.cumulative_window(group_by=pnl.date.year(), order_by=pnl.date)
    enriched = pnl.mutate(
        net_revenue_7d=trailing_sum(pnl.net_revenue, pnl.day, 7),
        ad_spend_7d=trailing_sum(pnl.ad_spend, pnl.day, 7),
        gross_profit_7d=trailing_sum(pnl.gross_profit, pnl.day, 7),
        net_revenue_30d=trailing_sum(pnl.net_revenue, pnl.day, 30),
        ad_spend_30d=trailing_sum(pnl.ad_spend, pnl.day, 30),
        gross_profit_30d=trailing_sum(pnl.gross_profit, pnl.day, 30),
        net_revenue_mtd=pnl.net_revenue.sum().over(month_window),
        net_revenue_ytd=pnl.net_revenue.sum().over(year_window),
        cumulative_net_revenue=pnl.net_revenue.cumsum(order_by=pnl.date),
        # An empty frame (no spine day a year back) sums to NULL: those days count 0.
        net_revenue_7d_prev_year=pnl.net_revenue.sum().over(prev_year_window).fill_null(0),
    )
    return enriched.select(
        *fact_daily_pnl.columns,
        "net_revenue_7d",
        "ad_spend_7d",
        "gross_profit_7d",
        "net_revenue_30d",
        "ad_spend_30d",
        "gross_profit_30d",
        roas_7d=ratio(enriched.net_revenue_7d, enriched.ad_spend_7d),
        roas_30d=ratio(enriched.net_revenue_30d, enriched.ad_spend_30d),
        net_revenue_mtd=enriched.net_revenue_mtd,
        net_revenue_ytd=enriched.net_revenue_ytd,
        cumulative_net_revenue=enriched.cumulative_net_revenue,
        net_revenue_7d_prev_year=enriched.net_revenue_7d_prev_year,
        yoy_growth_7d=ratio(
            enriched.net_revenue_7d - enriched.net_revenue_7d_prev_year, enriched.net_revenue_7d_prev_year
        ),
    )


# --- Data tests (docs/contract.md#invariants): each returns the failing rows ----------------------


@data_test
def fact_daily_pnl_spine_is_complete(fact_daily_pnl: ir.Table, as_of: dt.date) -> ir.Table:
    """The spine has one row per date from its first date to as_of, with no gap."""
    spine = fact_daily_pnl.aggregate(
        first_date=fact_daily_pnl.date.min(),
        last_date=fact_daily_pnl.date.max(),
        days=fact_daily_pnl.count(),
    )
    return spine.filter(
        (spine.days > 0)
        & ((spine.last_date != ibis.date(as_of)) | (spine.days != days_between(spine.last_date, spine.first_date) + 1))
    )


@data_test
def fact_daily_pnl_ratios_in_range(fact_daily_pnl: ir.Table) -> ir.Table:
    """gross_margin ≤ 1; every ratio finite or NULL."""
    t = fact_daily_pnl
    return t.filter(
        outside(t.gross_margin, None, 1) | not_finite(t.gross_margin) | not_finite(t.roas) | not_finite(t.aov)
    )


@data_test
def fact_daily_pnl_advanced_ratios_finite(fact_daily_pnl_advanced: ir.Table) -> ir.Table:
    """roas_7d, roas_30d and yoy_growth_7d are finite or NULL."""
    t = fact_daily_pnl_advanced
    return t.filter(not_finite(t.roas_7d) | not_finite(t.roas_30d) | not_finite(t.yoy_growth_7d))
