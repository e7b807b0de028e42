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


# Event traffic sources that are ad platforms (METRICS.md#sources), matched case-sensitively:
# `Organic`, NULL and any other spelling (e.g. 'adwords') have no platform.
PLATFORM_OF_TRAFFIC_SOURCE = {
    "Adwords": "Google",
    "Facebook": "Facebook",
    "YouTube": "YouTube",
    "Email": "Email",
}


def platform_of(traffic_source: ir.StringValue) -> ir.StringValue:
    """The ad platform of an event traffic source, NULL when it maps to none (case-sensitive)."""
    return traffic_source.cases(*PLATFORM_OF_TRAFFIC_SOURCE.items(), else_=ibis.null("string"))
