"""The vocabulary a report page is written in: datasets, measures, filters and components.

A page (see `marts/report.py`) returns a `Page`: the datasets it embeds (small Ibis tables of
additive, aggregated rows) and the components drawn from them. Everything here is plain data that
`render` serialises to JSON; `assets/report.js` evaluates the measures over the rows the page's
date range and filters select, so every ratio is a ratio of sums over exactly those rows.
Nothing here names a metric: the words come from the page. A `fmt` is one of assets/report.js's
FORMATS: money, money_compact, int, num, pct, roas, days, text, date, month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

Measure = dict[str, Any]


def total(column: str, *, where_present: str | None = None, where: tuple[str, Any] | None = None) -> Measure:
    """Σ column over the selected rows: 0 when no row is selected, NULL when the selected rows
    hold no non-NULL value (as SQL's SUM; e.g. the spend of Organic, which has none).

    where_present: only the rows where that column is not NULL (e.g. cohorts whose window ended);
    where: only the rows where (column, value) holds.
    """
    return {"sum": column, **({"if": where_present} if where_present else {}), **({"eq": list(where)} if where else {})}


def ratio(numerator: Measure, denominator: Measure) -> Measure:
    """numerator / denominator over the same rows; NULL (shown as —) when the denominator is 0 or NULL."""
    return {"ratio": [numerator, denominator]}


def ratio_of_sums(numerator: str, denominator: str, *, where_present: str | None = None) -> Measure:
    """Σ numerator / Σ denominator over the same selected rows."""
    return ratio(total(numerator, where_present=where_present), total(denominator, where_present=where_present))


@dataclass
class Dataset:
    """Rows embedded in the page. `date`: the column the date range selects on (None: a snapshot,
    `period` says which); grain "month": the range selects every month it touches. daily_since: rows
    dated before it are whole months (dated their first day), selected like grain "month"."""

    name: str
    expr: ir.Table
    date: str | None = None
    grain: str = "day"
    daily_since: dt.date | None = None
    period: str = ""
    money: Sequence[str] = ()  # columns rounded to cents in the page (presentation; sums stay exact to the cent)


@dataclass
class Filter:
    """A drop-down on the page: equality on `columns` (every dataset of the page that has one). A
    tuple of columns is one key, offered and matched as their values joined by " · " (a campaign is
    its platform and its id: "Email · campaign_0")."""

    label: str
    columns: Sequence[str | tuple[str, ...]]
    values: Sequence[str] = ()  # in this order; none: the values found in the page's rows


@dataclass
class Tile:
    label: str
    dataset: str
    measure: Measure
    fmt: str
    better: int = 1  # +1 higher is better, -1 lower is better, 0 neither (e.g. spend)
    last_days: int | None = None  # the last N days of the range, not the whole range
    help: str = ""


@dataclass
class Series:
    label: str
    measure: Measure


@dataclass
class Chart:
    """A bar or line chart. x: "@date" (buckets of the range: day, week or month by its length), a
    dimension column, or a tuple of them (one category per combination, labelled "a · b"). Either
    `series` (one measure each) or `split` (one series per value of a column, measure `series[0]`).
    Every series shares one axis and one unit (`fmt`)."""

    title: str
    dataset: str
    x: str | tuple[str, ...]
    series: Sequence[Series]
    fmt: str
    kind: str = "bar"  # bar, hbar, line
    split: str | None = None
    split_order: Sequence[str] = ()  # the split's values in this order first
    categories: Sequence[str] = ()  # fixed order of x; values with no rows are shown as 0
    sort_desc: bool = False  # order x by the first series, largest first
    limit: int | None = None
    wide: bool = False
    note: str = ""


@dataclass
class Column:
    label: str
    key: str  # a dimension column, or the name of `measure`
    fmt: str = "text"
    measure: Measure | None = None


@dataclass
class Table:
    """Rows grouped by the dimension columns (`group`), one measure per other column; sortable by any
    column, searchable, exported to CSV as shown."""

    title: str
    dataset: str
    group: Sequence[str]
    columns: Sequence[Column]
    sort: str
    descending: bool = True
    only: Sequence[Sequence[Any]] = ()  # keep the groups where every [column key, "=" or ">", value] holds
    wide: bool = True
    note: str = ""


@dataclass
class Heatmap:
    """A grid of `measure` by (rows, cols), cells shaded by value; scrolls sideways on small screens."""

    title: str
    dataset: str
    rows: str
    cols: str
    measure: Measure
    fmt: str
    note: str = ""
    wide: bool = True


@dataclass
class Text:
    title: str
    html: str
    wide: bool = False


@dataclass
class Page:
    key: str
    title: str
    datasets: Sequence[Dataset]
    items: Sequence[Any]
    filters: Sequence[Filter] = ()
    note: str = ""
