"""Query a report's pages on a target and write them as one self-contained HTML file.

Each page is an exposure (`ecom.core.registry.exposure`): called with the built marts and the build's
variables, it returns a `layout.Page`. Before anything runs, every dataset's expression is checked
against the page's declared reads; then each runs once (Ibis aggregates on the target; only the
small result is fetched) and is embedded column by column. The page itself (assets/report.js) draws
it with the vendored Chart.js: no network, no server.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import math
from collections.abc import Callable, Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from ecom.core import engine
from ecom.core.files import atomic_write
from ecom.core.registry import Exposure, Project
from ecom.outputs import script_json
from ecom.outputs.report.layout import Dataset, Page

TableFn = Callable[[str], ir.Table]
ASSETS = files("ecom.outputs.report") / "assets"
# relations that pass their parent's columns through unchanged: a column read through one is read of the parent
_PASS_THROUGH = (ops.Filter, ops.Sort, ops.Limit, ops.Reference, ops.Distinct)
REBUILD = "rebuild with `ecom build`"


class ReportError(Exception):
    """The marts cannot make a report (e.g. nothing was built, or a page reads what it did not declare)."""


def _source(rel: ops.Relation) -> ops.Relation:
    while isinstance(rel, _PASS_THROUGH):
        rel = rel.parent
    return rel


def reads_of(expr: ir.Table, tables: Mapping[str, ir.Table]) -> set[tuple[str, str | None]]:
    """The (mart, column) pairs an expression reads from the given tables; (name, None) for any
    other physical table it reads."""
    names = {_source(t.op()): name for name, t in tables.items()}
    found: set[tuple[str, str | None]] = set()
    for field in expr.op().find(ops.Field):
        rel = _source(field.rel)
        if isinstance(rel, ops.PhysicalTable):
            found.add((names.get(rel, rel.name), field.name if rel in names else None))
    found |= {(t.name, None) for t in expr.op().find(ops.PhysicalTable) if t not in names}
    return found


def page_of(exposure: Exposure, table: TableFn, values: Mapping[str, Any], built_as: Mapping[str, ibis.Schema]) -> Page:
    """Call the exposure with its marts and variables; refuse any read it did not declare, and marts
    built otherwise than the models say (by another version, or changed by hand): a column missing or
    of another type than in the models' schemas `built_as` (engine.model_schemas). Another type is
    refused even where a page could read it (a DECIMAL as a float): the pages' sums, dates and JSON
    are written for the models' types, and `ecom build` gives them back."""
    tables = {m: table(m) for m in exposure.reads}
    _refuse_marts_built_otherwise(exposure, {m: t.schema() for m, t in tables.items()}, built_as)
    page = exposure.func(**{p: tables[p] if p in tables else values[p] for p in exposure.params})
    _refuse_undeclared_reads(exposure, page, tables)
    return page


def _refuse_marts_built_otherwise(
    exposure: Exposure, found: Mapping[str, ibis.Schema], built_as: Mapping[str, ibis.Schema]
) -> None:
    """The columns the exposure reads, missing from the marts as `found` or of another type than
    the models build (`built_as`), in one line."""
    reads = [(m, c) for m, columns in exposure.reads.items() for c in columns]
    missing = sorted(f"{m}.{c}" for m, c in reads if c not in found[m])
    retyped = sorted(
        f"{m}.{c} is {found[m][c]}, not {built_as[m][c]}"
        for m, c in reads
        if c in found[m] and found[m][c].copy(nullable=True) != built_as[m][c].copy(nullable=True)
    )
    problems = ([f"no column {', '.join(missing)}"] if missing else []) + retyped
    if problems:
        raise ReportError(f"page {exposure.name} cannot read the marts as built ({'; '.join(problems)}): {REBUILD}")


def _refuse_undeclared_reads(exposure: Exposure, page: Page, tables: Mapping[str, ir.Table]) -> None:
    """A dataset of the page reading a mart or column its exposure does not declare."""
    for ds in page.datasets:
        undeclared = sorted(
            f"{m}.{c}" if c else m
            for m, c in reads_of(ds.expr, tables)
            if m not in exposure.reads or c not in exposure.reads[m]
        )
        if undeclared:
            raise ReportError(
                f"page {exposure.name} reads {', '.join(undeclared)} without declaring it in its exposure"
            )


def _cents(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _value(x: Any) -> Any:
    if isinstance(x, dt.datetime | dt.date):
        return x.isoformat()[:10]
    if isinstance(x, float):
        # other fractions (credited orders and revenue, daily units) to 6 decimals: the file stays small
        return round(x, 6)
    return x


def _runs(values: list[Any]) -> dict[str, Any]:
    """Sorted values as their distinct values and how many times each repeats."""
    levels, counts = [], []
    for v in values:
        if levels and levels[-1] == v:
            counts[-1] += 1
        else:
            levels.append(v)
            counts.append(1)
    return {"levels": levels, "runs": counts}


def encode(ds: Dataset) -> dict[str, Any]:
    """The dataset's rows column by column: the date column (rows sorted by it) as runs, text columns
    as a dictionary and codes."""
    table = ds.expr.to_pyarrow()
    if ds.date:
        table = table.sort_by(ds.date)
    columns = {name: _encode_column(ds, name, table.column(name).to_pylist()) for name in table.column_names}
    return {
        "n": table.num_rows,
        "date": ds.date,
        "grain": ds.grain,
        "daily_since": _value(ds.daily_since),
        "period": ds.period,
        "columns": columns,
    }


def _encode_column(ds: Dataset, name: str, values: list[Any]) -> Any:
    """One column of the dataset: money in cents, the date column as runs, text as a dictionary and
    codes, other values as they are (dates as ISO days, fractions to 6 decimals)."""
    _refuse_non_finite(ds, name, values)
    if name in ds.money:
        return [_cents(v) for v in values]
    values = [_value(v) for v in values]
    if name == ds.date:
        return _runs(values)
    if all(v is None or isinstance(v, str) for v in values):
        levels = sorted({v for v in values if v is not None})
        index = {v: i for i, v in enumerate(levels)}
        return {"levels": levels, "codes": [-1 if v is None else index[v] for v in values]}
    return values


def _refuse_non_finite(ds: Dataset, name: str, values: list[Any]) -> None:
    """Refused, not written as null: JSON has no NaN or infinity, and a null is left out of the
    page's sums, whose totals would look right and be wrong. The models never write either (a
    ratio without a denominator is NULL; pages embed sums): a mart was changed by hand."""
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
        raise ReportError(
            f"the report's dataset {ds.name} has NaN or infinity in {name}, which the models never write: {REBUILD}"
        )


def _spec(obj: Any) -> Any:
    """A page's components as JSON-ready data, each tagged with its component type."""
    if dataclasses.is_dataclass(obj):
        return {
            "component": type(obj).__name__.lower(),
            **{f.name: _spec(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        }
    if isinstance(obj, list | tuple):
        return [_spec(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _spec(v) for k, v in obj.items()}
    return obj


def report_data(pages: Iterable[Page], values: Mapping[str, Any]) -> dict[str, Any]:
    datasets: dict[str, Dataset] = {}
    specs = []
    for page in pages:
        for ds in page.datasets:
            if ds.name in datasets and not datasets[ds.name].expr.equals(ds.expr):
                raise ReportError(f"two pages define a dataset {ds.name} differently")
            datasets[ds.name] = ds
        specs.append(
            {
                "key": page.key,
                "title": page.title,
                "note": page.note,
                "filters": _spec(page.filters),
                "items": _spec(page.items),
            }
        )
    return {
        "as_of": _value(values["as_of"]),
        "pages": specs,
        "datasets": {name: encode(ds) for name, ds in datasets.items()},
    }


def render_html(data: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    params = " &middot; ".join(
        f"{html.escape(k)} = <b>{html.escape(str(v))}</b>"
        for k, v in sorted(values.items())
        if k not in ("as_of", "visitor_salt")
    )
    parts = {
        "as_of": html.escape(str(data["as_of"])),
        "params": params,
        "css": (ASSETS / "report.css").read_text(encoding="utf-8"),
        "chartjs": (ASSETS / "chart.umd.min.js").read_text(encoding="utf-8"),
        "js": (ASSETS / "report.js").read_text(encoding="utf-8"),
        "data": script_json(data),
    }
    page = (ASSETS / "report.html").read_text(encoding="utf-8")
    for key, text in parts.items():
        page = page.replace("{{" + key + "}}", text)
    return page


def write_report(project: Project, table: TableFn, values: Mapping[str, Any], path: Path) -> Path:
    """Query the project's pages through `table(name)` with the build's variables and write the
    dashboard to `path`."""
    built_as = engine.model_schemas(project)
    pages = [page_of(e, table, values, built_as) for e in project.exposures.values()]
    return atomic_write(path, render_html(report_data(pages, values), values))
