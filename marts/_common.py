"""Expressions several models share. Each is portable: it compiles to the same answer on DuckDB
and BigQuery (docs/architecture.md#portability-rules)."""

import datetime as dt

import ibis
import ibis.expr.types as ir


def end_of_day(as_of: dt.date) -> ir.TimestampScalar:
    """The first instant after `as_of` (UTC): a time t happened by the end of `as_of` iff t < this."""
    return ibis.timestamp(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()), timezone="UTC")


def happened(ts: ir.TimestampValue, as_of: dt.date) -> ir.TimestampValue:
    """The timestamp if it happened by the end of `as_of`, else NULL (not yet happened)."""
    return ibis.ifelse(ts < end_of_day(as_of), ts, ibis.null(ts.type()))


def user_visitor(user_id: ir.IntegerValue) -> ir.StringValue:
    """A signed-in user's visitor id, 'u' || user_id: how a user's orders meet their sessions."""
    return "u" + user_id.cast("string")


def least_present(a: ir.Value, b: ir.Value) -> ir.Value:
    """The least of two values, ignoring a NULL: BigQuery's LEAST is NULL when either is, DuckDB's
    ignores a NULL, so each is coalesced with the other first."""
    return ibis.least(a.coalesce(b), b.coalesce(a))


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, NULL when the denominator is 0 or NULL (BigQuery raises on 0)."""
    return ibis.ifelse(denominator == 0, ibis.null("float64"), numerator / denominator)


# Event traffic sources that are ad platforms (docs/contract.md#sources), matched case-sensitively:
# `Organic`, NULL and any other spelling (e.g. 'adwords') have no platform.
PLATFORM_OF_TRAFFIC_SOURCE = {
    "Adwords": "Google",
    "Facebook": "Facebook",
    "YouTube": "YouTube",
    "Email": "Email",
}


PLATFORMS = tuple(PLATFORM_OF_TRAFFIC_SOURCE.values())
# The channels of the attribution and funnel marts (docs/contract.md#fact_attribution_models): a
# session's platform, else `Organic`; an order with no touch is `Unattributed`.
SESSION_CHANNELS = (*PLATFORMS, "Organic")
CHANNELS = (*SESSION_CHANNELS, "Unattributed")


def platform_of(traffic_source: ir.StringValue) -> ir.StringValue:
    """The ad platform of an event traffic source, NULL when it maps to none (case-sensitive)."""
    return traffic_source.cases(*PLATFORM_OF_TRAFFIC_SOURCE.items(), else_=ibis.null("string"))


def channel_of(platform: ir.StringValue) -> ir.StringValue:
    """A session's channel: its platform, `Organic` when it has none."""
    return platform.fill_null("Organic")


def literal_rows(column: str, values: tuple, type: str = "string") -> ir.Table:
    """A table of one column with one row per value, written as a UNION ALL of literals (no memtable:
    its generated name would change the compiled SQL on every compile)."""
    return ibis.union(*(ibis.literal(v, type).name(column).as_table() for v in values), distinct=False)


def sha256_hex(text: ir.StringValue) -> ir.StringValue:
    """The lower-case hex SHA-256 of the text's UTF-8 bytes (DuckDB sha256(x), BigQuery
    TO_HEX(SHA256(x)))."""
    return text.hexdigest("sha256")


# --- Order items as the metrics see them (docs/contract.md#conventions) ---------------------------


def is_non_cancelled(status: ir.StringValue) -> ir.BooleanValue:
    """A "non-cancelled item": point-in-time status is not `cancelled`."""
    return status != "cancelled"


def is_net(status: ir.StringValue) -> ir.BooleanValue:
    """A "net item": point-in-time status is neither `cancelled` nor `returned`."""
    return ~status.isin(("cancelled", "returned"))


def items_with_order_user_and_cost(stg_order_items: ir.Table, stg_orders: ir.Table, stg_products: ir.Table) -> ir.Table:
    """Every staged order item (cancelled ones included: filter with is_non_cancelled / is_net) with
    its ORDER's user and created_at, and its product's cost.

    An item's user is its order's user, never stg_order_items.user_id; "product cost" is
    products.cost, never inventory cost (docs/contract.md#conventions). Columns: order_item_id, order_id,
    user_id, ordered_at (the order's created_at), order_date, product_id, status, sale_price,
    product_cost (NULL only if the product is missing, which the relationship tests report).
    """
    orders = stg_orders.select("order_id", "user_id", ordered_at=stg_orders.created_at)
    costs = stg_products.select("product_id", product_cost=stg_products.cost)
    items = stg_order_items.select("order_item_id", "order_id", "order_date", "product_id", "status", "sale_price")
    # stg_order_items keeps only items whose order is staged, so the inner join drops nothing.
    joined = items.inner_join(orders, "order_id").left_join(costs, "product_id")
    return joined.select(
        "order_item_id",
        "order_id",
        "user_id",
        "ordered_at",
        "order_date",
        "product_id",
        "status",
        "sale_price",
        "product_cost",
    )


# --- Calendar days --------------------------------------------------------------------------------


def day_number(date: ir.DateValue) -> ir.IntegerValue:
    """Days since 1970-01-01: an integer to order RANGE frames by and to subtract dates with
    (portable: BigQuery DATE_DIFF / DuckDB date_diff on DAY, exact for dates)."""
    return date.epoch_days()


def days_between(later: ir.DateValue, earlier: ir.DateValue) -> ir.IntegerValue:
    """Calendar days from `earlier` to `later` (NULL if either is NULL)."""
    return day_number(later) - day_number(earlier)


# Decimal places of the day offsets in a date spine: 10**5 offsets cover 273 years. A longer span
# would be cut short silently, so the as_of variable's bounds (marts/vars.py) refuse one.
_SPINE_PLACES = 5
SPINE_DAYS = 10**_SPINE_PLACES


def date_spine(start: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per calendar date (column `date`) from start.start to `as_of`, both inclusive.

    `start` is a one-row table with a DATE column `start` (NULL or later than as_of: no rows).
    The day offsets 0..99999 are a cross join of five copies of a ten-row digits table written as
    a UNION ALL of literals, not `ibis.range(...).unnest()`, because:
    - ibis compiles a BigQuery range with a random identifier (`ibis_bq_arr_range_<uuid>`), so the
      compiled SQL would differ on every compile (docs/architecture.md#portability-rules: no generated names);
    - a select-level unnest compiles for BigQuery to `UNNEST(...) WITH OFFSET`, which sqlglot 30.17
      transpiles to DuckDB's 1-based `WITH ORDINALITY`, silently dropping the last array element
      in the dialect cross-check.
    """
    digits = literal_rows("digit", tuple(range(10)), "int64")
    bounds = start.select("start", last=days_between(ibis.date(as_of), start.start))
    offsets = bounds
    offset = ibis.literal(0, type="int64")
    for place in range(_SPINE_PLACES):
        d = digits.view()
        name = f"d{place}"
        offsets = offsets.cross_join(d.select(**{name: d.digit}))
        offset = offset + offsets[name] * 10**place
    offsets = offsets.select("start", "last", offset=offset)
    offsets = offsets.filter(offsets.offset <= offsets.last)
    # Added as a timestamp and converted back: BigQuery's DATE_ADD(date, INTERVAL n DAY) is a DATE,
    # but sqlglot transpiles it to DuckDB's `date + INTERVAL`, a TIMESTAMP.
    midnight = offsets.start.cast("timestamp('UTC')")
    return offsets.select(date=(midnight + offsets.offset.as_interval("D")).date())


# --- Data-test helpers ------------------------------------------------------------------------------

# Slack for float comparisons in data tests (ranges, reconciliations).
TOLERANCE = 1e-9


def not_finite(x: ir.FloatingValue) -> ir.BooleanValue:
    """True for ±infinity and NaN (a ratio must be finite or NULL); NULL stays NULL (passes)."""
    return x.isinf() | x.isnan()


def outside(x: ir.NumericValue, low: float | None, high: float | None) -> ir.BooleanValue:
    """True when x is below `low` or above `high` by more than TOLERANCE (NULL passes)."""
    checks = []
    if low is not None:
        checks.append(x < low - TOLERANCE)
    if high is not None:
        checks.append(x > high + TOLERANCE)
    return ibis.or_(*checks)


def totals_disagree(left: ir.NumericScalar, right: ir.NumericScalar) -> ir.BooleanValue:
    """Two float totals differ by more than 1e-6 relative (absolute below 1); NULL totals are 0."""
    a, b = left.fill_null(0), right.fill_null(0)
    return (a - b).abs() > 1e-6 * ibis.greatest(1, a.abs(), b.abs())


# --- Months ----------------------------------------------------------------------------------------


def month_index(d: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0 (year × 12 + month − 1): differences are calendar-month distances."""
    return d.year() * 12 + d.month() - 1


def month_start(d: ir.DateValue) -> ir.DateValue:
    """The first day of the date's month, as a DATE on both engines.

    Not `d.truncate("M")`: DuckDB's DATE_TRUNC on a DATE returns a TIMESTAMP, which ibis types as a
    date (and does not cast back), so a table materialized on DuckDB would get a TIMESTAMP column.
    """
    return ibis.date(d.year(), d.month(), 1)


def cents(amount: ir.FloatingValue) -> ir.IntegerValue:
    """A money amount as whole cents, halves up: the key to rank money on (docs/contract.md#conventions:
    rankings use the amount in cents).

    FLOOR(x × 100 + 0.5) is the same IEEE arithmetic on every engine, while rounding a float that
    lies at a binary hair from a half cent to two decimals is engine-specific (DuckDB takes 2.675 up
    to 2.68 but 1.005 down to 1.0). Away from half cents both give the same cents.
    """
    return (amount * 100 + 0.5).floor().cast("int64")
