"""The source contract: the raw tables every build reads (docs/contract.md#sources).

Types are what BigQuery stores (thelook's public tables plus `marketing_spend`). A raw table may
carry more columns than these; a timestamp may be naive or zoned and of any precision (naive values
are read as UTC). `conform` turns a raw table into exactly the contract's columns and types, so that
models see one shape whatever the export looked like.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from ecom.core.text import counted

TS = "timestamp('UTC')"

RAW_SCHEMAS: dict[str, ibis.Schema] = {
    "orders": ibis.schema(
        {
            "order_id": "int64",
            "user_id": "int64",
            "status": "string",
            "gender": "string",
            "created_at": TS,
            "returned_at": TS,
            "shipped_at": TS,
            "delivered_at": TS,
            "num_of_item": "int64",
        }
    ),
    "order_items": ibis.schema(
        {
            "id": "int64",
            "order_id": "int64",
            "user_id": "int64",
            "product_id": "int64",
            "inventory_item_id": "int64",
            "status": "string",
            "created_at": TS,
            "shipped_at": TS,
            "delivered_at": TS,
            "returned_at": TS,
            "sale_price": "float64",
        }
    ),
    "products": ibis.schema(
        {
            "id": "int64",
            "cost": "float64",
            "category": "string",
            "name": "string",
            "brand": "string",
            "retail_price": "float64",
            "department": "string",
            "sku": "string",
            "distribution_center_id": "int64",
        }
    ),
    "users": ibis.schema(
        {
            "id": "int64",
            "first_name": "string",
            "last_name": "string",
            "email": "string",
            "age": "int64",
            "gender": "string",
            "state": "string",
            "street_address": "string",
            "postal_code": "string",
            "city": "string",
            "country": "string",
            "latitude": "float64",
            "longitude": "float64",
            "traffic_source": "string",
            "created_at": TS,
        }
    ),
    "events": ibis.schema(
        {
            "id": "int64",
            "user_id": "int64",
            "sequence_number": "int64",
            "session_id": "string",
            "created_at": TS,
            "ip_address": "string",
            "city": "string",
            "state": "string",
            "postal_code": "string",
            "browser": "string",
            "traffic_source": "string",
            "uri": "string",
            "event_type": "string",
        }
    ),
    "inventory_items": ibis.schema(
        {
            "id": "int64",
            "product_id": "int64",
            "created_at": TS,
            "sold_at": TS,
            "cost": "float64",
            "product_category": "string",
            "product_name": "string",
            "product_brand": "string",
            "product_retail_price": "float64",
            "product_department": "string",
            "product_sku": "string",
            "product_distribution_center_id": "int64",
        }
    ),
    "distribution_centers": ibis.schema(
        {"id": "int64", "name": "string", "latitude": "float64", "longitude": "float64"}
    ),
    "marketing_spend": ibis.schema(
        {
            "date": "date",
            "campaign_id": "string",
            "platform": "string",
            "spend": "float64",
            "clicks": "int64",
            "impressions": "int64",
        }
    ),
}

# thelook has no marketing_spend: `ecom spend` makes one from the raw events, so an export may leave
# it out (`ecom load` keeps the table it has) and a missing one says how to make it.
MADE_BY_SPEND = "marketing_spend"


# Each raw table's key: unique and never NULL (docs/contract.md#sources).
RAW_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id",),
    "order_items": ("id",),
    "products": ("id",),
    "users": ("id",),
    "events": ("id",),
    "inventory_items": ("id",),
    "distribution_centers": ("id",),
    "marketing_spend": ("date", "platform", "campaign_id"),
}
MONEY = {"cost", "retail_price", "sale_price", "spend", "product_retail_price"}
# No price, cost or day's spend of a shop reaches a billion; a larger amount is a typo or a unit
# error, and summed per product or customer in integer cents (docs/contract.md#conventions) it can
# pass 2^63 and fail deep in a build naming a mart instead of the raw column.
MONEY_LIMIT = 1e9
# Timestamps and dates must lie in these years. Wide enough for any shop's history, yet inside
# what every engine and library on the way handles (pandas' nanosecond timestamps end in 2262),
# so that a typo such as year 1 or 9999 is caught here rather than deep in a build or a report.
FIRST_YEAR, END_YEAR = 1900, 2200


class SourceContractError(Exception):
    """The raw data does not satisfy the source contract; the message lists every problem, one a line.
    `one_line` says it on one line: a run's record and notification keep an error's first line, which
    alone ("... (1 problem):") would not say what is wrong."""

    def __init__(self, message: str, one_line: str | None = None):
        super().__init__(message)
        self.one_line = one_line or message

    @classmethod
    def of(cls, problems: list[Problem], where: str, advice: str) -> SourceContractError:
        """The problems, one a line, under a line saying where, then `advice`: what to do and what
        was not done."""
        lines = [f"The raw data in {where} does not match the source contract ({counted(len(problems), 'problem')}):"]
        lines += [f"  - {p}" for p in problems]
        lines.append(advice)
        shown = "; ".join(map(str, problems[:3])) + (f"; {len(problems) - 3:,} more" if len(problems) > 3 else "")
        return cls("\n".join(lines), f"the raw data in {where} does not match the source contract: {shown}")


@dataclass(frozen=True)
class Problem:
    table: str
    column: str | None
    expected: str
    found: str

    def __str__(self) -> str:
        where = self.table if self.column is None else f"{self.table}.{self.column}"
        return f"{where}: expected {self.expected}, found {self.found}"


def compatible(expected: dt.DataType, found: dt.DataType) -> bool:
    """Whether a raw column of type `found` can be read losslessly as the contract's `expected`.

    Any integer width reads as INT64 and any float as FLOAT64; timestamps of any precision, zoned or
    naive, read as UTC timestamps; a DATE must be a date. NULL-typed columns (all values missing, as
    an empty CSV column gives) are accepted for any type.
    """
    if found.is_null():
        return True
    if expected.is_timestamp():
        return found.is_timestamp()
    if expected.is_date():
        return found.is_date()
    if expected.is_integer():
        return found.is_integer()
    if expected.is_floating():
        return found.is_floating() or found.is_decimal() or found.is_integer()
    if expected.is_string():
        return found.is_string()
    return expected == found


def check_schema(table: str, found: ibis.Schema | None) -> list[Problem]:
    """Every problem of one raw table against the contract (an empty list when it conforms)."""
    expected = RAW_SCHEMAS[table]
    if found is None:
        hint = " (`ecom spend` makes one from the raw events)" if table == MADE_BY_SPEND else ""
        return [Problem(table, None, "a table", "none" + hint)]
    problems = []
    for column, etype in expected.items():
        if column not in found:
            problems.append(Problem(table, column, str(etype), "no such column"))
        elif not compatible(etype, found[column]):
            problems.append(Problem(table, column, str(etype), str(found[column])))
    return problems


ORPHAN_ITEMS = "order_items__orphans"  # value_checks' count of items whose order is not in raw orders


def value_problems(tables: Mapping[str, ir.Table]) -> list[Problem]:
    """Values the models cannot use, with a count each: NaN, infinite or huge money, timestamps and dates
    outside FIRST_YEAR..END_YEAR - 1, NULL or duplicate keys. Each table has the contract's columns."""
    return value_checks(tables)[0]


def value_checks(tables: Mapping[str, ir.Table]) -> tuple[list[Problem], int]:
    """value_problems, and how many order items name no order of the raw orders (a NULL or absent
    order_id) when both tables are given: the contract's one repair, stg_order_items drops them, so
    no data test reports them; a count to warn of, not a problem.

    Every count of every table is one query's one row (a cross join of one-row aggregates): one
    job on BigQuery, where each job costs a second or more and a minimum bill."""
    low, high = (ibis.timestamp(f"{y}-01-01 00:00:00", timezone="UTC") for y in (FIRST_YEAR, END_YEAR))
    # result column -> (table, column, what the contract expects, what is said of the rows it counts)
    checks: dict[str, tuple[str, str, str, str]] = {}
    parts = []
    for table, data in tables.items():
        key = list(RAW_KEYS[table])
        where = ", ".join(key)
        conditions = {}
        for c, t in RAW_SCHEMAS[table].items():
            col = data[c]
            if c in MONEY:
                within = f"amounts strictly between -{MONEY_LIMIT:,.0f} and {MONEY_LIMIT:,.0f}"
                checks[f"{table}__money_{c}"] = (table, c, within, "")
                conditions[f"{table}__money_{c}"] = col.isnan() | (col.abs() >= MONEY_LIMIT)
            if t.is_timestamp() or t.is_date():
                instant = col if t.is_timestamp() else col.cast(TS)
                checks[f"{table}__year_{c}"] = (table, c, f"years {FIRST_YEAR} to {END_YEAR - 1}", "")
                conditions[f"{table}__year_{c}"] = (instant < low) | (instant >= high)
        null_key = ibis.or_(*(data[c].isnull() for c in key))
        checks[f"{table}__null_key"] = (table, where, "a key that is never NULL", " with a NULL")
        conditions[f"{table}__null_key"] = null_key
        parts.append(data.aggregate(**{n: c.sum() for n, c in conditions.items()}))
        keys = data.filter(~null_key).group_by(key).aggregate(n=ibis._.count())
        checks[f"{table}__extra"] = (table, where, "a unique key", " repeating another row's key")
        parts.append(keys.filter(keys.n > 1).aggregate(**{f"{table}__extra": (keys.n - 1).sum()}))
    if {"orders", "order_items"} <= set(tables):
        parts.append(orphan_items(tables))
    if not parts:
        return [], 0
    found = functools.reduce(ir.Table.cross_join, parts).to_pyarrow().to_pylist()[0]
    problems = [
        Problem(table, column, expected, counted(found[name], "row") + said)
        for name, (table, column, expected, said) in checks.items()
        if found[name]
    ]
    return problems, found.get(ORPHAN_ITEMS) or 0


def orphan_items(tables: Mapping[str, ir.Table]) -> ir.Table:
    """One row, one column ORPHAN_ITEMS: how many order items name no order of the orders (a NULL
    order_id never matches)."""
    items, orders = tables["order_items"], tables["orders"].select("order_id")
    return items.anti_join(orders, "order_id").aggregate(**{ORPHAN_ITEMS: ibis._.count()})


def orphans_warning(orphans: int) -> list[str]:
    """The warning of `orphans` order items of no raw order: none when there are none."""
    if not orphans:
        return []
    return [
        f"order_items: {counted(orphans, 'row')} with no order among the raw orders (order_id NULL or absent): "
        "stg_order_items leaves such items out, so no model counts their revenue; check the export"
    ]


def conform(table: str, raw: ir.Table) -> ir.Table:
    """The contract's columns of a raw table, cast to the contract's types (a no-op when they match)."""
    schema = RAW_SCHEMAS[table]
    return raw.select([raw[c] if raw[c].type() == t else raw[c].cast(t).name(c) for c, t in schema.items()])
