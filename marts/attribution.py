"""Multi-touch attribution and acquisition economics by channel (docs/contract.md#fact_attribution_models,
docs/contract.md#fact_channel_economics).

Both marts read an order's touches the same way (`order_touches`): the sessions of visitor
'u' || user_id that start within `touch_window_days` before the order, both ends inclusive, compared
as instants (exact elapsed time on both engines), ordered by (session_start, session_id).
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import (
    CHANNELS,
    PLATFORMS,
    channel_of,
    days_between,
    literal_rows,
    month_start,
    not_finite,
    ratio,
    totals_disagree,
    user_visitor,
)
from marts.reconciliation import unequal_counts

ATTRIBUTION_MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay")
# Days after the first order that an LTV horizon covers (docs/contract.md#fact_channel_economics).
LTV_HORIZONS = (30, 90, 365)
MICROSECONDS_PER_HOUR = 3.6e9


def order_touches(orders: ir.Table, fact_session_metrics: ir.Table, touch_window_days: int) -> ir.Table:
    """One row per (order, touch): the orders' columns plus session_id, session_start, channel, touch
    (0-based position by (session_start, session_id); ibis row_number() is 0-based) and touches (n).

    Orders without a touch have no row. `orders` needs order_id, user_id and ordered_at.
    """
    sessions = fact_session_metrics.select(
        "session_id", "visitor_id", "session_start", channel=channel_of(fact_session_metrics.platform)
    )
    joined = orders.inner_join(
        sessions,
        [
            sessions.visitor_id == user_visitor(orders.user_id),
            sessions.session_start <= orders.ordered_at,
            sessions.session_start >= orders.ordered_at - ibis.interval(days=touch_window_days),
        ],
    )
    # session_id breaks a tie of starts (a visitor's sessions start at distinct instants anyway).
    in_order = ibis.window(group_by=joined.order_id, order_by=[joined.session_start, joined.session_id])
    return joined.mutate(
        touch=ibis.row_number().over(in_order),
        touches=joined.count().over(ibis.window(group_by=joined.order_id)),
    )


def channel_spend(channel: ir.StringValue, platform_spend: ir.FloatingValue) -> ir.FloatingValue:
    """A platform channel's spend (0 when it has none); NULL for Organic and Unattributed."""
    return ibis.ifelse(channel.isin(PLATFORMS), platform_spend.fill_null(0.0), ibis.null("float64"))


def with_credits(touches: ir.Table, half_life_hours: int) -> ir.Table:
    """The touches with one credit column per attribution model (each adds up to 1 over an order)."""
    by_order = ibis.window(group_by=touches.order_id)
    # 2^(-h / half_life) with h counted from the order's LAST touch instead of from ordered_at: the
    # same share w / Σw (the factor 2^(-h_last / half_life) cancels), but the last touch weighs 1, so
    # Σw ≥ 1 and cannot underflow to 0 with a long window and a short half-life. Each window in its
    # own step: window calls cannot nest.
    t = touches.mutate(last_start=touches.session_start.max().over(by_order))
    hours = t.last_start.delta(t.session_start, unit="microsecond") / MICROSECONDS_PER_HOUR
    t = t.mutate(weight=ibis.literal(2.0) ** (-hours / half_life_hours))
    t = t.mutate(total_weight=t.weight.sum().over(ibis.window(group_by=t.order_id)))
    is_first, is_last = t.touch == 0, t.touch == t.touches - 1
    return t.mutate(
        last_touch=ibis.ifelse(is_last, 1.0, 0.0),
        first_touch=ibis.ifelse(is_first, 1.0, 0.0),
        # touches ≥ 1 on every row (inner join), and the n − 2 branch is only taken when n ≥ 3.
        linear=1.0 / t.touches,
        position_based=ibis.cases(
            (t.touches == 1, 1.0),
            (t.touches == 2, 0.5),
            (is_first | is_last, 0.4),
            else_=0.2 / (t.touches - 2),
        ),
        time_decay=t.weight / t.total_weight,
    )


@model(
    key=("date", "channel", "attribution_model"),
    partition_by="date",
    cluster_by=("channel", "attribution_model"),
    not_null=("credited_orders", "credited_revenue", "credited_gross_profit"),
    accepted_values={"channel": CHANNELS, "attribution_model": ATTRIBUTION_MODELS},
    relationships={"date": "fact_daily_pnl.date"},
)
def fact_attribution_models(
    int_campaign_attribution: ir.Table,
    fact_session_metrics: ir.Table,
    fact_daily_pnl: ir.Table,
    int_daily_marketing: ir.Table,
    touch_window_days: int,
    time_decay_half_life_hours: int,
) -> ir.Table:
    """One row per (date, channel, attribution_model): every date of fact_daily_pnl's spine × the six
    channels × the five attribution models, zero-filled.

    Every non-cancelled order (int_campaign_attribution) hands out credit 1 per model over its touches
    (`order_touches`: sessions of 'u' || user_id with ordered_at − touch_window_days ≤ session_start ≤
    ordered_at, exact instants, ordered by (session_start, session_id)); an order without a touch gives
    1 to `Unattributed` in every model. A touch's channel is its session's platform, else `Organic`.

    Choices the contract leaves open: time_decay's weights are computed relative to the order's last
    touch (same shares, no underflow; see with_credits). Credits are FLOAT64 fractions (1/3 as
    near as a double holds it), never rounded. A channel with no credit on a date shows 0, not NULL.

    Columns:
        date: the order date (UTC) the credits belong to; every fact_daily_pnl date.
        channel: Google, Facebook, YouTube, Email (the session's platform), Organic (a session without
            platform) or Unattributed (orders with no touch).
        attribution_model: last_touch (1 to the last touch), first_touch (1 to the first), linear (1/n
            to each of the n touches), position_based (n = 1: 1; n = 2: 0.5 each; n ≥ 3: 0.4 first,
            0.4 last, 0.2/(n − 2) each other), time_decay (w / Σw, w = 2^(−h / time_decay_half_life_hours),
            h = exact hours from session_start to ordered_at, microseconds / 3.6e9).
        credited_orders: Σ credit over the date's orders (FLOAT64).
        credited_revenue: Σ credit × the order's net_revenue (FLOAT64).
        credited_gross_profit: Σ credit × the order's gross_profit (FLOAT64).
        spend: int_daily_marketing.spend of (date, platform) for the four platforms, 0 with no row; NULL
            for Organic and Unattributed.
        roas: credited_revenue / spend; NULL when spend is 0 or NULL.
        cpa: spend / credited_orders; NULL when credited_orders is 0 or spend NULL.
    """
    orders = int_campaign_attribution.select(
        "order_id", "user_id", "order_date", "ordered_at", "net_revenue", "gross_profit"
    )
    touches = order_touches(orders, fact_session_metrics, touch_window_days)
    amounts = ("order_date", "channel", "net_revenue", "gross_profit")
    credited = with_credits(touches, time_decay_half_life_hours).select(*amounts, *ATTRIBUTION_MODELS)
    unattributed = orders.anti_join(touches, "order_id").select(
        "order_date",
        channel=ibis.literal("Unattributed"),
        net_revenue=orders.net_revenue,
        gross_profit=orders.gross_profit,
        **{name: ibis.literal(1.0) for name in ATTRIBUTION_MODELS},
    )
    all_credits = credited.union(unattributed, distinct=False)
    # One row per (order, touch, model): the five credit columns stacked.
    stacked = ibis.union(
        *(
            all_credits.select(*amounts, attribution_model=ibis.literal(name), credit=all_credits[name])
            for name in ATTRIBUTION_MODELS
        ),
        distinct=False,
    )
    sums = stacked.group_by(date="order_date", channel="channel", attribution_model="attribution_model").aggregate(
        credited_orders=stacked.credit.sum(),
        credited_revenue=(stacked.credit * stacked.net_revenue).sum(),
        credited_gross_profit=(stacked.credit * stacked.gross_profit).sum(),
    )

    grid = (
        fact_daily_pnl.select("date")
        .cross_join(literal_rows("channel", CHANNELS))
        .cross_join(literal_rows("attribution_model", ATTRIBUTION_MODELS))
    )
    spend = int_daily_marketing.select(date="spend_date", channel="platform", platform_spend="spend")
    filled = grid.left_join(sums, ["date", "channel", "attribution_model"]).left_join(spend, ["date", "channel"])
    spend_or_null = channel_spend(filled.channel, filled.platform_spend)
    credited_orders = filled.credited_orders.fill_null(0.0)
    credited_revenue = filled.credited_revenue.fill_null(0.0)
    return filled.select(
        date=filled.date,
        channel=filled.channel,
        attribution_model=filled.attribution_model,
        credited_orders=credited_orders,
        credited_revenue=credited_revenue,
        credited_gross_profit=filled.credited_gross_profit.fill_null(0.0),
        spend=spend_or_null,
        roas=ratio(credited_revenue, spend_or_null),
        cpa=ratio(spend_or_null, credited_orders),
    )


def unobserved_from(as_of: dt.date, horizon_days: int) -> dt.date:
    """The first cohort month whose `horizon_days` window has not ended for all its customers by as_of.

    A month M is observed when last_day(M) + (N − 1) days ≤ as_of, i.e. last_day(M) ≤ as_of − (N − 1),
    i.e. M is before the month of the day after that: as_of − (N − 2) days.
    """
    return (as_of - dt.timedelta(days=horizon_days - 2)).replace(day=1)


@model(
    key=("cohort_month", "channel"),
    partition_by="cohort_month",
    cluster_by=("channel",),
    not_null=("new_customers",),
    accepted_values={"channel": CHANNELS},
)
def fact_channel_economics(
    int_campaign_attribution: ir.Table,
    fact_session_metrics: ir.Table,
    fact_daily_pnl: ir.Table,
    int_daily_marketing: ir.Table,
    touch_window_days: int,
    as_of: dt.date,
) -> ir.Table:
    """One row per (cohort_month, channel): every month with a day in fact_daily_pnl's spine × the six
    channels of fact_attribution_models, zero-filled.

    A customer's first order is their earliest non-cancelled order by (ordered_at, order_id); their
    channel is that order's first touch (`order_touches`, the rule of fact_attribution_models), else
    Unattributed. Revenue windows count calendar days from the first order's date: an order on day
    first_order_date + (N − 1) is in revenue_N, one on + N is not.

    Choices the contract leaves open: a revenue or gross-profit column of an observed month with no
    customers is 0 (its ltv NULL); revenue counts every order of the customer within the window, the
    first included, as int_campaign_attribution values it at as_of (later returns not yet seen).

    Columns:
        cohort_month: first day of the month of the customers' first order.
        channel: the first order's first touch's platform, Organic (touch without platform) or
            Unattributed (no touch within touch_window_days).
        new_customers: customers whose first order is in cohort_month with that channel.
        spend: Σ int_daily_marketing.spend of the platform over the month's days (0 when none); NULL
            for Organic and Unattributed.
        cac: spend / new_customers; NULL when new_customers is 0 or spend NULL; 0 when the platform spent
            nothing that month.
        revenue_30d: Σ net_revenue of the cohort's non-cancelled orders with order_date − first order
            date ≤ 29 days; NULL unless (last day of cohort_month) + 29 days ≤ as_of.
        revenue_90d: the same with ≤ 89 days; NULL unless (last day of cohort_month) + 89 days ≤ as_of.
        revenue_365d: the same with ≤ 364 days; NULL unless (last day of cohort_month) + 364 days ≤ as_of.
        gross_profit_365d: Σ gross_profit over the orders of revenue_365d; NULL when it is.
        ltv_30d: revenue_30d / new_customers; NULL when revenue_30d is NULL or new_customers 0.
        ltv_90d: revenue_90d / new_customers; NULL likewise.
        ltv_365d: revenue_365d / new_customers; NULL likewise.
        gp_ltv_365d: gross_profit_365d / new_customers; NULL likewise.
        ltv_to_cac_365d: gp_ltv_365d / cac; NULL when either is NULL or cac is 0.
    """
    orders = int_campaign_attribution.select(
        "order_id", "user_id", "order_date", "ordered_at", "net_revenue", "gross_profit"
    )
    by_time = ibis.window(group_by=orders.user_id, order_by=[orders.ordered_at, orders.order_id])
    ranked = orders.mutate(nth=ibis.row_number().over(by_time))
    first_orders = ranked.filter(ranked.nth == 0).select("order_id", "user_id", "ordered_at", "order_date")
    touches = order_touches(first_orders, fact_session_metrics, touch_window_days)
    first_touch = touches.filter(touches.touch == 0).select("user_id", "channel")
    customers = first_orders.left_join(first_touch, "user_id").select(
        "user_id",
        first_order_date=first_orders.order_date,
        cohort_month=month_start(first_orders.order_date),
        channel=first_touch.channel.fill_null("Unattributed"),
    )

    cohort_orders = orders.inner_join(customers, "user_id")
    age_days = days_between(cohort_orders.order_date, cohort_orders.first_order_date)

    def within(horizon: int, amount: ir.FloatingValue) -> ir.FloatingValue:
        return ibis.ifelse(age_days <= horizon - 1, amount, 0.0).sum()

    windows = cohort_orders.group_by("cohort_month", "channel").aggregate(
        **{f"revenue_{n}d": within(n, cohort_orders.net_revenue) for n in LTV_HORIZONS},
        gross_profit_365d=within(365, cohort_orders.gross_profit),
    )
    cohorts = customers.group_by("cohort_month", "channel").aggregate(new_customers=customers.count())
    monthly_spend = int_daily_marketing.group_by(
        cohort_month=month_start(int_daily_marketing.spend_date), channel=int_daily_marketing.platform
    ).aggregate(platform_spend=int_daily_marketing.spend.sum())

    grid = (
        fact_daily_pnl.select(cohort_month=month_start(fact_daily_pnl.date))
        .distinct()
        .cross_join(literal_rows("channel", CHANNELS))
    )
    keys = ["cohort_month", "channel"]
    filled = grid.left_join(cohorts, keys).left_join(windows, keys).left_join(monthly_spend, keys)

    def observed(horizon: int, amount: ir.FloatingValue) -> ir.FloatingValue:
        return ibis.ifelse(
            filled.cohort_month < ibis.date(unobserved_from(as_of, horizon)),
            amount.fill_null(0.0),
            ibis.null("float64"),
        )

    new_customers = filled.new_customers.fill_null(0)
    spend = channel_spend(filled.channel, filled.platform_spend)
    cac = ratio(spend, new_customers)
    revenue = {f"revenue_{n}d": observed(n, filled[f"revenue_{n}d"]) for n in LTV_HORIZONS}
    gross_profit_365d = observed(365, filled.gross_profit_365d)
    gp_ltv_365d = ratio(gross_profit_365d, new_customers)
    return filled.select(
        cohort_month=filled.cohort_month,
        channel=filled.channel,
        new_customers=new_customers,
        spend=spend,
        cac=cac,
        **revenue,
        gross_profit_365d=gross_profit_365d,
        **{f"ltv_{n}d": ratio(revenue[f"revenue_{n}d"], new_customers) for n in LTV_HORIZONS},
        gp_ltv_365d=gp_ltv_365d,
        ltv_to_cac_365d=ratio(gp_ltv_365d, cac),
    )


# --- Data tests (each returns the failing rows) ------------------------------------------------


@data_test
def attribution_models_credit_every_order_once(fact_attribution_models: ir.Table, fact_daily_pnl: ir.Table) -> ir.Table:
    """For every date and attribution_model, Σ credited_orders over the channels = fact_daily_pnl.orders
    and Σ credited_revenue = its net_revenue (± 1e-6)."""
    t = fact_attribution_models
    sums = t.group_by("date", "attribution_model").aggregate(
        credited_orders=t.credited_orders.sum(), credited_revenue=t.credited_revenue.sum()
    )
    # From the P&L side, so a (date, model) missing from the mart shows as NULL sums (read as 0).
    expected = fact_daily_pnl.select("date", "orders", "net_revenue").cross_join(
        literal_rows("attribution_model", ATTRIBUTION_MODELS)
    )
    # the P&L side's keys only: the sums' copies would print as date_right, attribution_model_right
    both = expected.left_join(sums, ["date", "attribution_model"]).select(
        *expected.columns, "credited_orders", "credited_revenue"
    )
    return both.filter(
        totals_disagree(both.credited_orders, both.orders) | totals_disagree(both.credited_revenue, both.net_revenue)
    )


@data_test
def attribution_models_spend_matches_marketing(
    fact_attribution_models: ir.Table, int_daily_marketing: ir.Table
) -> ir.Table:
    """Per attribution_model, Σ spend of each of the four platforms = Σ int_daily_marketing.spend of it."""
    t = fact_attribution_models
    mart = t.group_by("attribution_model", "channel").aggregate(mart_spend=t.spend.sum())
    m = int_daily_marketing
    marketing = m.group_by(channel=m.platform).aggregate(marketing_spend=m.spend.sum())
    mart = mart.filter(mart.channel.isin(PLATFORMS))
    both = mart.left_join(marketing, "channel").select(*mart.columns, "marketing_spend")
    return both.filter(totals_disagree(both.mart_spend, both.marketing_spend))


@data_test
def attribution_ratios_finite(fact_attribution_models: ir.Table) -> ir.Table:
    """roas and cpa are finite or NULL."""
    t = fact_attribution_models
    return t.filter(not_finite(t.roas) | not_finite(t.cpa))


@data_test
def channel_economics_counts_every_customer(fact_channel_economics: ir.Table, dim_customers: ir.Table) -> ir.Table:
    """Σ new_customers = count(dim_customers where is_customer): one row when they differ."""
    return unequal_counts(
        new_customers=fact_channel_economics.new_customers.sum(),
        customers=dim_customers.filter(dim_customers.is_customer).count(),
    )


@data_test
def channel_economics_spend_matches_marketing(
    fact_channel_economics: ir.Table, int_daily_marketing: ir.Table
) -> ir.Table:
    """Per month, Σ spend of each platform = int_daily_marketing's spend of it in that month."""
    t = fact_channel_economics
    m = int_daily_marketing
    marketing = m.group_by(cohort_month=month_start(m.spend_date), channel=m.platform).aggregate(
        marketing_spend=m.spend.sum()
    )
    # An outer join: a month of spend missing from the mart fails too.
    mart = t.filter(t.channel.isin(PLATFORMS)).select("cohort_month", "channel", "spend")
    both = mart.outer_join(marketing, ["cohort_month", "channel"])
    # one copy of each key, from whichever side has the row (a failing row names its month and channel)
    both = both.select(
        cohort_month=mart.cohort_month.coalesce(marketing.cohort_month),
        channel=mart.channel.coalesce(marketing.channel),
        spend=mart.spend,
        marketing_spend=marketing.marketing_spend,
    )
    return both.filter(totals_disagree(both.spend, both.marketing_spend))


@data_test
def channel_economics_ratios_finite(fact_channel_economics: ir.Table) -> ir.Table:
    """cac, every ltv and ltv_to_cac_365d are finite or NULL."""
    t = fact_channel_economics
    ratios = ("cac", *(f"ltv_{n}d" for n in LTV_HORIZONS), "gp_ltv_365d", "ltv_to_cac_365d")
    return t.filter(ibis.or_(*(not_finite(t[name]) for name in ratios)))
