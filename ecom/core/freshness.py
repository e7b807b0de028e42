"""Source freshness (`ecom freshness`, the first step of `ecom run`): how old each raw table's newest
row is against the wall clock, judged by `warn_after` / `error_after` thresholds.

This module reads the clock, the one place the project does (models take `as_of`). `ECOM_NOW`
(ISO 8601, naive = UTC) replaces the clock, for tests and for re-checking a past morning.

Thresholds come from the `[freshness]` section of ecom.toml (or ecom.yml) in the working directory;
a table's own section wins over the section's keys, which win over the defaults:

    [freshness]                 # every table below
    warn_after = "2 days"
    [freshness.events]
    warn_after = "12 hours"
    error_after = "none"        # no error threshold for events

A threshold is "<n> minutes|hours|days" or "none"; a table's error_after is at least its warn_after.
A table is `warn` (or `error`) when its newest row is strictly older than warn_after (error_after); a
table with no row at or before the clock (empty, or every row dated later) is older than any threshold.

The newest row is the newest at or before the clock: thelook's generator writes events and items
days ahead of its run, and rows dated in the future would keep a table "fresh" for days after its
feed stopped. They are counted and shown instead.

The newest row is one `MAX()` per table over its loaded-at column, all in one query: BigQuery scans
only those columns, 8 bytes a row (about 27 MB over thelook's six dated tables, 19 MB of it events;
BigQuery bills at least 10 MB per table), whatever the width of the tables.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from ecom.core.sources import TS
from ecom.targets.base import Target
from ecom.targets.config_file import read_config_file

NOW_ENV = "ECOM_NOW"

# The column saying when a row arrived. marketing_spend has a day: its rows count from 00:00 UTC of
# that day. products and distribution_centers have no such column and are not checked.
LOADED_AT = {
    "orders": "created_at",
    "order_items": "created_at",
    "users": "created_at",
    "events": "created_at",
    "inventory_items": "created_at",
    "marketing_spend": "date",
}
DAY = dt.timedelta(days=1)
DEFAULTS: dict[str, dict[str, dt.timedelta | None]] = {
    "events": {"warn_after": DAY, "error_after": 3 * DAY},
    "orders": {"warn_after": DAY, "error_after": 3 * DAY},
    "marketing_spend": {"warn_after": 2 * DAY, "error_after": None},
}
KEYS = ("warn_after", "error_after")
UNITS = {"minute": "minutes", "hour": "hours", "day": "days"}
_DURATION = re.compile(r"\s*(\d+)\s*(minute|hour|day)s?\s*")


class FreshnessError(Exception):
    """A threshold or ECOM_NOW that cannot be read; the message says what to write."""


def now() -> dt.datetime:
    """The wall clock in UTC, or ECOM_NOW when set."""
    text = os.environ.get(NOW_ENV)
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FreshnessError(f"{NOW_ENV}={text!r} is not a time: write e.g. 2024-06-30T08:00:00Z") from None
    try:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise FreshnessError(f"{NOW_ENV}={text!r} is out of range in UTC: write e.g. 2024-06-30T08:00:00Z") from None


def parse_duration(text: Any, where: str) -> dt.timedelta | None:
    if isinstance(text, str) and text.strip().lower() == "none":
        return None
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise FreshnessError(f'{where} = {text!r}: write a duration like "12 hours", "3 days" or "none"')
    try:
        return dt.timedelta(**{UNITS[match[2]]: int(match[1])})
    except OverflowError:  # past Python's 999,999,999 days
        raise FreshnessError(f'{where} = {text!r} is longer than any age: write "none" for no threshold') from None


def thresholds(config: Any, where: str = "ecom.toml") -> dict[str, dict[str, dt.timedelta | None]]:
    """Each checked table's thresholds: the defaults overridden by a `[freshness]` section."""
    section = config.get("freshness", {}) if isinstance(config, dict) else {}
    if not isinstance(section, dict):
        raise FreshnessError(f"{where}: `freshness` must be a table of settings")
    unknown = sorted(str(k) for k in set(section) - set(KEYS) - set(LOADED_AT))  # YAML keys may be null or numbers
    if unknown:
        raise FreshnessError(
            f"{where}: unknown freshness setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(KEYS)} and the tables {', '.join(LOADED_AT)}"
        )
    result, unreachable = {}, []
    for table in LOADED_AT:
        own = section.get(table, {})
        if not isinstance(own, dict) or set(own) - set(KEYS):
            raise FreshnessError(f"{where}: freshness.{table} may set only {' and '.join(KEYS)}")
        result[table], origin = _table_thresholds(table, own, section)
        warn_after, error_after = result[table]["warn_after"], result[table]["error_after"]
        # an error threshold below the warning one makes the warning unreachable: most often a
        # section-wide warn_after longer than a table's default error_after, which the user never wrote
        if warn_after is not None and error_after is not None and error_after < warn_after:
            unreachable.append(
                f"freshness.{table}: error_after {_say(error_after)} ({origin['error_after']}) is shorter than "
                f"warn_after {_say(warn_after)} ({origin['warn_after']})"
            )
    if unreachable:
        raise FreshnessError(
            f"{where}: {'; '.join(unreachable)}, so the warning would never show: "
            'set error_after at least as long, or "none"'
        )
    return result


def _table_thresholds(
    table: str, own: Mapping[str, Any], section: Mapping[str, Any]
) -> tuple[dict[str, dt.timedelta | None], dict[str, str]]:
    """One table's thresholds, each its own setting, else the section's, else the default; and
    where each came from, for the messages."""
    result = dict.fromkeys(KEYS) | DEFAULTS.get(table, {})
    origin = dict.fromkeys(KEYS, "the default")
    for key in KEYS:
        if key in own:
            origin[key] = f"freshness.{table}.{key}"
            result[key] = parse_duration(own[key], origin[key])
        elif key in section:
            origin[key] = f"freshness.{key}"
            result[key] = parse_duration(section[key], origin[key])
    return result, origin


def _say(duration: dt.timedelta) -> str:
    """A threshold as it is written in ecom.toml."""
    minutes = int(duration.total_seconds()) // 60
    for unit, size in (("days", 1440), ("hours", 60)):
        if minutes % size == 0:
            return f'"{minutes // size} {unit}"'
    return f'"{minutes} minutes"'


def configured_thresholds(folder: Path | None = None) -> dict[str, dict[str, dt.timedelta | None]]:
    """The thresholds of the config file in `folder` (default: the working directory)."""
    config, path = read_config_file(folder)
    return thresholds(config, str(path or "ecom.toml"))


@dataclass
class Freshness:
    table: str
    newest: dt.datetime | None  # None: no row at or before the clock
    age: dt.timedelta | None
    warn_after: dt.timedelta | None
    error_after: dt.timedelta | None
    status: str  # "pass", "warn", "error", or "unchecked" without thresholds
    dated_later: int = 0  # rows dated after the clock, left out of `newest`

    @classmethod
    def from_dict(cls, recorded: Mapping[str, Any]) -> Freshness:
        """A check as a run recorded it (as_dict); a record from before `rows_dated_later` has none."""

        def duration(key: str) -> dt.timedelta | None:
            return None if recorded[key] is None else dt.timedelta(seconds=recorded[key])

        newest = recorded["newest"] and dt.datetime.fromisoformat(recorded["newest"])
        return cls(
            recorded["table"],
            newest,
            duration("age_seconds"),
            duration("warn_after_seconds"),
            duration("error_after_seconds"),
            recorded["status"],
            recorded.get("rows_dated_later", 0),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601, durations in seconds."""
        return {
            "table": self.table,
            "newest": self.newest.isoformat() if self.newest else None,
            "age_seconds": self.age.total_seconds() if self.age is not None else None,
            # a threshold of "0 hours" is one (every row is past it), not "none": 0, not NULL
            "warn_after_seconds": self.warn_after.total_seconds() if self.warn_after is not None else None,
            "error_after_seconds": self.error_after.total_seconds() if self.error_after is not None else None,
            "status": self.status,
            "rows_dated_later": self.dated_later,
        }


def judge(age: dt.timedelta | None, warn_after: dt.timedelta | None, error_after: dt.timedelta | None) -> str:
    """The status of a table whose newest row is `age` old (None: no rows, older than any threshold)."""
    if warn_after is None and error_after is None:
        return "unchecked"
    if error_after is not None and (age is None or age > error_after):
        return "error"
    if warn_after is not None and (age is None or age > warn_after):
        return "warn"
    return "pass"


def newest_query(source: Callable[[str], ir.Table], at: dt.datetime) -> ir.Table:
    """One row per checked table: its name, its newest loaded-at up to `at` (NULL when none) and how
    many rows are dated after `at`, reading only that column of each `source(table)`."""
    clock = ibis.literal(at, type=TS)
    parts = []
    for table, column in LOADED_AT.items():
        loaded = ibis._[column].cast(TS)
        parts.append(
            source(table).aggregate(
                raw_table=ibis.literal(table),
                newest=loaded.max(where=loaded <= clock),
                dated_later=(loaded > clock).sum().coalesce(0),  # SUM of no rows is NULL
            )
        )
    return ibis.union(*parts)


def newest_rows(target: Target, at: dt.datetime) -> dict[str, tuple[dt.datetime | None, int]]:
    """Each checked table's newest loaded-at up to `at`, and its rows dated after `at`."""
    rows = newest_query(target.source, at).to_pyarrow().to_pylist()
    return {r["raw_table"]: (r["newest"], int(r["dated_later"])) for r in rows}


def check(target: Target, at: dt.datetime, limits: Mapping[str, Mapping[str, dt.timedelta | None]]) -> list[Freshness]:
    """Every checked table's freshness at time `at`."""
    newest = newest_rows(target, at)
    result = []
    for table in LOADED_AT:
        when, dated_later = newest[table]
        age = None if when is None else at - when
        warn_after, error_after = limits[table]["warn_after"], limits[table]["error_after"]
        status = judge(age, warn_after, error_after)
        result.append(Freshness(table, when, age, warn_after, error_after, status, dated_later))
    return result


def worst(results: list[Freshness]) -> str:
    """error over warn over pass (unchecked tables count as passing)."""
    statuses = {r.status for r in results}
    return next((s for s in ("error", "warn") if s in statuses), "pass")
