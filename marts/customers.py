"""Customers: acquisition, the customer dimension, RFM segments and monthly cohort retention.

A customer is a user with a non-cancelled order; orders, first/last orders and cohorts count only
non-cancelled orders, and an item's user is its order's user (docs/contract.md#conventions).
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import (
    cents,
    date_spine,
    days_between,
    month_index,
    month_start,
    not_finite,
    outside,
    ratio,
)

SCORES = (1, 2, 3, 4, 5)
SEGMENTS = (
    "Champions",
    "Potential Loyalists",
    "New Customers",
    "Loyal Customers",
    "Need Attention",
    "At Risk",
    "Hibernating",
    "Lost",
)
AGE_BANDS = ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


@model(key="user_id", partition_by="signup_date", not_null=("signup_date",))
def int_user_acquisition(stg_users: ir.Table, int_orders: ir.Table, stg_events: ir.Table) -> ir.Table:
    """One row per user signed up by `as_of`: how they came and when they first bought
    (docs/contract.md#int_user_acquisition).

    first_order_at is the created_at of the user's first non-cancelled order (NULL if none);
    days_to_first_order is first_order_date − signup_date in calendar days (negative if the data
    has an order before its user's signup). first_touch_traffic_source is the traffic source of the
    user's first event by (created_at, event_id), NULL when the user has no event.

    Columns:
        user_id: the user (stg_users.user_id); the key.
        signup_date: the UTC date the user signed up.
        acquisition_source: users.traffic_source, the channel the user signed up from.
        first_order_at: created_at (UTC) of the user's first non-cancelled order; NULL if none.
        first_order_date: the UTC date of first_order_at; NULL if none.
        days_to_first_order: first_order_date − signup_date in calendar days; NULL if no order.
        first_touch_traffic_source: traffic_source of the user's first event by (created_at,
            event_id); NULL when the user has no event.
    """
    first_orders = int_orders.group_by("user_id").aggregate(first_order_at=int_orders.ordered_at.min())

    identified = stg_events.filter(stg_events.user_id.notnull())
    first_touch = (
        identified.mutate(
            touch=ibis.row_number().over(
                group_by=identified.user_id, order_by=(identified.created_at, identified.event_id)
            )
        )
        .filter(ibis._.touch == 0)  # ibis's row_number() is 0-based: 0 is the first event
        .select("user_id", first_touch_traffic_source="traffic_source")
    )

    joined = stg_users.left_join(first_orders, "user_id").left_join(first_touch, "user_id")
    first_order_date = joined.first_order_at.date()
    return joined.select(
        "user_id",
        "signup_date",
        "acquisition_source",
        "first_order_at",
        first_order_date=first_order_date,
        days_to_first_order=days_between(first_order_date, joined.signup_date),
        first_touch_traffic_source=joined.first_touch_traffic_source,
    )


def age_band(age: ir.IntegerValue) -> ir.StringValue:
    """The age band of docs/contract.md#dim_customers; NULL when age is NULL."""
    return ibis.cases(
        (age.isnull(), ibis.null("string")),
        (age < 18, "<18"),
        (age < 25, "18-24"),
        (age < 35, "25-34"),
        (age < 45, "35-44"),
        (age < 55, "45-54"),
        (age < 65, "55-64"),
        else_="65+",
    )


@model(
    key="user_id",
    partition_by="signup_date",
    cluster_by=("country",),
    not_null=(
        "signup_date",
        "orders",
        "items",
        "lifetime_net_revenue",
        "lifetime_gross_profit",
        "tenure_days",
        "is_customer",
    ),
    accepted_values={"age_band": AGE_BANDS},
)
def dim_customers(stg_users: ir.Table, int_orders: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per user signed up by `as_of`, customer or not (docs/contract.md#dim_customers); no PII.

    Orders are non-cancelled orders, items are net items, lifetime_net_revenue is Σ sale_price of
    the user's net items and lifetime_gross_profit that minus Σ product cost of those items; all four
    are 0 for a non-customer, whose first/last order dates, avg_order_value and
    days_since_last_order are NULL. days_since_last_order and tenure_days count calendar days to
    `as_of`. A user is a row here only when signed up by `as_of` (stg_users); an order of a user who
    signs up later is in no row, and the net-revenue invariant test reports it.

    Columns:
        user_id: the user (stg_users.user_id); the key.
        signup_date: the UTC date the user signed up.
        age: age in years; NULL when unknown.
        age_band: `<18`, `18-24`, `25-34`, `35-44`, `45-54`, `55-64` or `65+` from age; NULL when
            age is NULL.
        gender: the source's gender code.
        country: the user's country.
        state: the user's state or region.
        city: the user's city.
        acquisition_source: users.traffic_source, the channel the user signed up from.
        first_order_date: order_date of the user's first non-cancelled order; NULL if none.
        last_order_date: order_date of the user's last non-cancelled order; NULL if none.
        orders: the user's non-cancelled orders; 0 if none.
        items: the user's net items (of non-cancelled orders); 0 if none.
        lifetime_net_revenue: Σ sale_price of the user's net items; 0 if none.
        lifetime_gross_profit: lifetime_net_revenue − Σ products.cost of those items; 0 if none.
        avg_order_value: lifetime_net_revenue / orders; NULL when orders is 0.
        days_since_last_order: `as_of` − last_order_date in calendar days; NULL if no order.
        tenure_days: `as_of` − signup_date in calendar days.
        is_customer: true when orders > 0.
    """
    per_user = int_orders.group_by("user_id").aggregate(
        first_order_date=int_orders.order_date.min(),
        last_order_date=int_orders.order_date.max(),
        orders=int_orders.count(),
        items=int_orders.net_items.sum(),
        lifetime_net_revenue=int_orders.net_revenue.sum(),
        lifetime_cost=int_orders.net_cost.sum(),
    )
    joined = stg_users.left_join(per_user, "user_id")
    order_count = joined.orders.fill_null(0)
    net_revenue = joined.lifetime_net_revenue.fill_null(0.0)
    today = ibis.date(as_of)
    return joined.select(
        "user_id",
        "signup_date",
        "age",
        age_band=age_band(joined.age),
        gender=joined.gender,
        country=joined.country,
        state=joined.state,
        city=joined.city,
        acquisition_source=joined.acquisition_source,
        first_order_date=joined.first_order_date,
        last_order_date=joined.last_order_date,
        orders=order_count,
        items=joined["items"].fill_null(0),
        lifetime_net_revenue=net_revenue,
        lifetime_gross_profit=net_revenue - joined.lifetime_cost.fill_null(0.0),
        avg_order_value=ratio(net_revenue, order_count),
        days_since_last_order=days_between(today, joined.last_order_date),
        tenure_days=days_between(today, joined.signup_date),
        is_customer=order_count > 0,
    )


def rank_score(rank0: ir.IntegerValue, n: ir.IntegerValue) -> ir.IntegerValue:
    """score = min(5, 1 + floor(5 × p)), p = (RANK − 1) / (n − 1), 0 when n = 1
    (docs/contract.md#dim_customer_segments).

    `rank0` is ibis's 0-based `ibis.rank()` (SQL RANK() − 1, ties sharing the lowest). floor(5 × p)
    is computed as the integer division (5 × rank0) // (n − 1): exact, where 5 × p in floats could
    land a hair under a whole number and drop a score.
    """
    steps = ibis.ifelse(n <= 1, 0, (5 * rank0) // (n - 1))
    return ibis.least(5, 1 + steps).cast("int64")


def segment(r: ir.IntegerValue, fm: ir.IntegerValue) -> ir.StringValue:
    """The RFM segment of (r_score, fm_score) (docs/contract.md#dim_customer_segments)."""
    return ibis.cases(
        ((r >= 4) & (fm >= 4), "Champions"),
        ((r >= 4) & (fm >= 2), "Potential Loyalists"),
        (r >= 4, "New Customers"),
        ((r == 3) & (fm >= 3), "Loyal Customers"),
        (r == 3, "Need Attention"),
        (fm >= 3, "At Risk"),
        (r == 2, "Hibernating"),
        else_="Lost",
    )


@model(
    key="user_id",
    cluster_by=("segment",),
    not_null=("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "fm_score", "segment"),
    accepted_values={
        "r_score": SCORES,
        "f_score": SCORES,
        "m_score": SCORES,
        "fm_score": SCORES,
        "segment": SEGMENTS,
    },
    relationships={"user_id": "dim_customers.user_id"},
)
def dim_customer_segments(dim_customers: ir.Table) -> ir.Table:
    """One row per customer (a user with a non-cancelled order): RFM scores and segment
    (docs/contract.md#dim_customer_segments).

    Scores come from ranks with ties sharing a score: recency ranked by recency_days descending
    (the most recent customers score 5), frequency and monetary ascending, monetary on the amount
    rounded to cents so float noise cannot break a tie differently on another engine; the cents are
    FLOOR(x × 100 + 0.5) rather than ROUND(x, 2), identical IEEE arithmetic on both engines
    (`cents` in marts/_common.py). A rank ties only equal values, so it needs no tie-breaker.

    Columns:
        user_id: the customer (dim_customers.user_id, is_customer); the key.
        recency_days: `as_of` − the last non-cancelled order date, in calendar days.
        frequency: the customer's non-cancelled orders (dim_customers.orders).
        monetary: the customer's lifetime_net_revenue (FLOAT64, not rounded).
        r_score: min(5, 1 + floor(5 × p)), p = (RANK − 1) / (n − 1) (0 when n = 1), n customers,
            RANK over recency_days descending (the most recent score 5); ties share a score.
        f_score: the same score over frequency ascending.
        m_score: the same score over monetary in integer cents, FLOOR(monetary × 100 + 0.5),
            ascending.
        fm_score: (f_score + m_score + 1) div 2, 1..5.
        segment: over (r_score, fm_score): `Champions` r ≥ 4 and fm ≥ 4; `Potential Loyalists`
            r ≥ 4, fm 2–3; `New Customers` r ≥ 4, fm 1; `Loyal Customers` r = 3, fm ≥ 3; `Need
            Attention` r = 3, fm ≤ 2; `At Risk` r ≤ 2, fm ≥ 3; `Hibernating` r = 2, fm ≤ 2;
            `Lost` r = 1, fm ≤ 2.
    """
    customers = dim_customers.filter(dim_customers.is_customer)
    n = customers.count().over()
    monetary_cents = cents(customers.lifetime_net_revenue)
    # RANK ignores the window frame, so ordering alone is exact here, although ibis's default frame
    # is the whole partition (an aggregate such as sum over it would not be running).
    scored = customers.select(
        "user_id",
        recency_days=customers.days_since_last_order,
        frequency=customers.orders,
        monetary=customers.lifetime_net_revenue,
        r_score=rank_score(ibis.rank().over(order_by=customers.days_since_last_order.desc()), n),
        f_score=rank_score(ibis.rank().over(order_by=customers.orders), n),
        m_score=rank_score(ibis.rank().over(order_by=monetary_cents), n),
    )
    # (f + m + 1) div 2: ibis `//` is FLOOR(a / b) cast to INT64 on both engines, exact for these
    # small positive integers.
    combined = scored.mutate(fm_score=((scored.f_score + scored.m_score + 1) // 2).cast("int64"))
    return combined.select(
        "user_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
        segment=segment(combined.r_score, combined.fm_score),
    )


@model(
    key=("cohort_month", "months_since_first"),
    partition_by="cohort_month",
    not_null=(
        "cohort_size",
        "active_customers",
        "retention_rate",
        "net_revenue",
        "cumulative_net_revenue_per_customer",
    ),
)
def fact_cohort_retention(int_orders: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per (cohort_month, months_since_first), every cell from month 0 to the month of
    `as_of`, silent months as zeros (docs/contract.md#fact_cohort_retention).

    A customer's cohort is the month of their first non-cancelled order; they are active in a month
    when they place a non-cancelled order in it (so month 0 retention is 1). net_revenue is Σ
    sale_price of the net items of the cohort's non-cancelled orders dated in that month;
    cumulative_net_revenue_per_customer is the running Σ net_revenue from month 0 / cohort_size.

    Columns:
        cohort_month: the first day of the month of the cohort's customers' first non-cancelled
            order; part of the key.
        months_since_first: calendar months from cohort_month to the activity month ((year × 12 +
            month) difference), 0 to the month of `as_of`; part of the key.
        cohort_size: customers whose first non-cancelled order is in cohort_month.
        active_customers: cohort customers with a non-cancelled order in the activity month; 0 when
            none.
        retention_rate: active_customers / cohort_size; 1 in month 0.
        net_revenue: Σ sale_price of the net items of the cohort's non-cancelled orders dated in
            the activity month; 0 when none.
        cumulative_net_revenue_per_customer: Σ net_revenue of months 0 through months_since_first
            / cohort_size.
    """
    orders = int_orders.mutate(order_month=month_start(int_orders.order_date))
    firsts = orders.group_by("user_id").aggregate(cohort_month=orders.order_month.min())
    cohort_orders = orders.inner_join(firsts, "user_id")

    cohorts = firsts.group_by("cohort_month").aggregate(cohort_size=firsts.count())
    activity = cohort_orders.group_by(
        "cohort_month",
        months_since_first=month_index(cohort_orders.order_month) - month_index(cohort_orders.cohort_month),
    ).aggregate(
        active_customers=cohort_orders.user_id.nunique(),
        net_revenue=cohort_orders.net_revenue.sum(),
    )

    # The cell grid: each cohort with every month from its own to the month of as_of. The months
    # are the first days of a date spine from the earliest cohort, so silent months are present.
    days = date_spine(cohorts.aggregate(start=cohorts.cohort_month.min()), as_of)
    months = days.filter(days.date.day() == 1).select(month="date")
    cells = cohorts.inner_join(months, months.month >= cohorts.cohort_month).select(
        "cohort_month",
        "cohort_size",
        months_since_first=month_index(months.month) - month_index(cohorts.cohort_month),
    )

    # activity and the cells both derive from `orders`: a view keeps the self-join unambiguous.
    filled = cells.view().left_join(activity, ["cohort_month", "months_since_first"])
    net_revenue = filled.net_revenue.fill_null(0.0)
    active = filled.active_customers.fill_null(0)
    running_revenue = net_revenue.cumsum(group_by=filled.cohort_month, order_by=filled.months_since_first)
    return filled.select(
        cohort_month=filled.cohort_month,
        months_since_first=filled.months_since_first,
        cohort_size=filled.cohort_size,
        active_customers=active,
        retention_rate=ratio(active, filled.cohort_size),
        net_revenue=net_revenue,
        cumulative_net_revenue_per_customer=ratio(running_revenue, filled.cohort_size),
    )


# --- Data tests (each returns the failing rows) ------------------------------------------------


@data_test
def customer_segments_cover_every_customer(dim_customers: ir.Table, dim_customer_segments: ir.Table) -> ir.Table:
    """count(dim_customer_segments) = count(dim_customers where is_customer)."""
    customers = dim_customers.filter(dim_customers.is_customer).aggregate(customers=ibis._.count())
    segmented = dim_customer_segments.aggregate(segmented=ibis._.count())
    both = customers.cross_join(segmented)
    return both.filter(both.customers != both.segmented)


@data_test
def cohort_month_zero_retention_is_one(fact_cohort_retention: ir.Table) -> ir.Table:
    """Every cohort's month 0 has retention_rate 1 (its customers all ordered in it)."""
    t = fact_cohort_retention
    return t.filter((t.months_since_first == 0) & (t.retention_rate.isnull() | (t.retention_rate != 1)))


@data_test
def cohort_retention_rates_in_range(fact_cohort_retention: ir.Table) -> ir.Table:
    """retention_rate ∈ [0, 1] (± 1e-9) and finite; cumulative revenue per customer finite."""
    t = fact_cohort_retention
    return t.filter(
        outside(t.retention_rate, 0, 1)
        | not_finite(t.retention_rate)
        | not_finite(t.cumulative_net_revenue_per_customer)
    )


@data_test
def cohort_retention_has_every_cell(fact_cohort_retention: ir.Table, as_of: dt.date) -> ir.Table:
    """Each cohort has exactly one row per month from 0 to the month of `as_of`."""
    t = fact_cohort_retention
    last = month_index(ibis.date(as_of))
    per_cohort = t.group_by("cohort_month").aggregate(
        cells=t.count(), first=t.months_since_first.min(), last=t.months_since_first.max()
    )
    expected_last = last - month_index(per_cohort.cohort_month)
    return per_cohort.filter(
        (per_cohort.first != 0) | (per_cohort["last"] != expected_last) | (per_cohort.cells != expected_last + 1)
    )


@data_test
def customer_ratios_finite(dim_customers: ir.Table) -> ir.Table:
    """avg_order_value is finite or NULL."""
    return dim_customers.filter(not_finite(dim_customers.avg_order_value))
