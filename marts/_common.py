"""Expressions several models share. Each is portable: it compiles to the same answer on DuckDB
and BigQuery (DESIGN.md#portability-rules)."""

import datetime as dt

import ibis
import ibis.expr.types as ir


def end_of_day(as_of: dt.date) -> ir.TimestampScalar:
    """The first instant after `as_of` (UTC): a time t happened by the end of `as_of` iff t < this."""
    return ibis.timestamp(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()), timezone="UTC")


def happened(ts: ir.TimestampValue, as_of: dt.date) -> ir.TimestampValue:
    """The timestamp if it happened by the end of `as_of`, else NULL (not yet happened)."""
    return ibis.ifelse(ts < end_of_day(as_of), ts, ibis.null(ts.type()))


def ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, NULL when the denominator is 0 or NULL (BigQuery raises on 0)."""
    return ibis.ifelse(denominator == 0, ibis.null("float64"), numerator / denominator)


# --- Orders, customers and cohorts (METRICS.md#conventions) -----------------------------------


def is_non_cancelled(status: ir.StringValue) -> ir.BooleanValue:
    """An item (or order) status that counts as a sale: anything but `cancelled`."""
    return status != "cancelled"


def is_net(status: ir.StringValue) -> ir.BooleanValue:
    """A net item: neither `cancelled` nor `returned` (a point-in-time staging status)."""
    return ~status.isin(("cancelled", "returned"))


def non_cancelled_orders(
    stg_orders: ir.Table, stg_order_items: ir.Table, stg_products: ir.Table | None = None
) -> ir.Table:
    """One row per non-cancelled order (an order with at least one non-cancelled item; the order's
    own status is not consulted): order_id, user_id (the ORDER's user, not the item's column),
    ordered_at, order_date, net_items, net_revenue (Σ sale_price of the net items, 0 when every
    item was returned) and, given stg_products, net_cost (Σ product cost of the net items).
    """
    items = stg_order_items.filter(is_non_cancelled(stg_order_items.status))
    if stg_products is not None:
        items = items.left_join(stg_products.select("product_id", "cost"), "product_id")
    net = is_net(items.status)
    totals = {
        "net_items": net.cast("int64").sum(),
        "net_revenue": ibis.ifelse(net, items.sale_price, 0.0).sum(),
    }
    if stg_products is not None:
        # A net item whose product is missing adds no cost (the relationship test reports it).
        totals["net_cost"] = ibis.ifelse(net, items.cost.fill_null(0.0), 0.0).sum()
    per_order = items.group_by("order_id").aggregate(**totals)
    orders = per_order.inner_join(stg_orders, "order_id")
    return orders.select(
        "order_id",
        "user_id",
        ordered_at=orders.created_at,
        order_date=orders.order_date,
        **{name: orders[name] for name in totals},
    )


def month_index(d: ir.DateValue) -> ir.IntegerValue:
    """Months since year 0 (year × 12 + month − 1): differences are calendar-month distances."""
    return d.year() * 12 + d.month() - 1


def whole_numbers(anchor: ir.Table, digits: int = 4) -> ir.Table:
    """A table with one column `n` holding 0 .. 10**digits − 1 (default: 0..9999).

    Built from ten one-row selects and cross joins, the only spelling that is both deterministic
    and dialect-safe here: ibis compiles `ibis.range(...)` and `Table.unnest` for BigQuery with
    random (uuid) names, which breaks the compiled-SQL snapshots, and sqlglot transpiles the
    column-level `UNNEST ... WITH OFFSET` of BigQuery to DuckDB's 1-based `WITH ORDINALITY`,
    dropping an element. `anchor` is any table: it is aggregated to the one row the selects need.
    """
    one_row = anchor.aggregate(rows=anchor.count())
    digit = ibis.union(*(one_row.select(n=ibis.literal(i, "int64")) for i in range(10)))
    numbers = digit
    for place in range(1, digits):
        other = digit.view()
        numbers = numbers.cross_join(other.select(d=other.n)).select(
            n=ibis._.n + ibis._.d * 10**place
        )
    return numbers
