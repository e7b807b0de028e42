"""The build variables of docs/contract.md#parameters, with their defaults."""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import var
from marts._common import SPINE_DAYS, least_present


def latest_order_date(orders: ir.Table) -> ir.Scalar:
    """raw orders has no row with a created_at

    The latest order date in the raw data; NULL, for the reason above, when there is none."""
    return orders.created_at.date().max()


def as_of_bounds(orders: ir.Table, marketing_spend: ir.Table) -> ir.Table:
    """the date spine runs from the first order or spend date, for at most 100,000 days

    Also the default (the latest order date), in the same query: a build given as_of warns of one
    far past it (engine.far_past_the_data) without a query of its own, billed on BigQuery.
    """
    firsts = orders.aggregate(o=orders.created_at.date().min(), latest=latest_order_date(orders)).cross_join(
        marketing_spend.aggregate(m=marketing_spend.date.min())
    )
    first = least_present(firsts.o, firsts.m)
    return firsts.select(low=first, high=first + ibis.interval(days=SPINE_DAYS - 1), default=firsts.latest)


var("as_of", dt.date, latest_order_date, "the build's today; defaults to the latest order date", bounds=as_of_bounds)
var("session_timeout_minutes", int, 30, "inactivity gap that ends a web session", positive=True)
var("attribution_lookback_hours", int, 24, "how long before an order a session may start", positive=True)
var("velocity_window_days", int, 30, "trailing window for sales velocity and dead stock", positive=True)
# inventory_status takes the first threshold that holds: one larger than the next would hide that band
var("critical_days", int, 7, "days of stock below which a product is critical", positive=True, at_most="low_days")
var("low_days", int, 14, "days of stock below which a product is low", positive=True, at_most="overstock_days")
var("overstock_days", int, 90, "days of stock above which a product is overstocked", positive=True)
var("lead_time_days", int, 14, "supplier lead time a reorder must cover", positive=True)
var("cover_days", int, 30, "days of sales a reorder must cover beyond the lead time", positive=True)
var("touch_window_days", int, 7, "how long before an order a session may start and still be a touch", positive=True)
var("time_decay_half_life_hours", int, 24, "half-life of a touch's weight in time-decay attribution", positive=True)
var(
    "visitor_salt",
    str,
    "",
    "secret mixed into the hash of anonymous visitors' IP addresses (stg_events.ip_hash)",
    env="ECOM_VISITOR_SALT",
    secret=True,
)
