"""The history of `ecom run`: one row per run in `_ecom_runs`, beside the models (`ecom runs` lists it).

Nested results (models, tests, freshness, variables) are JSON text, so the table has the same plain
columns on DuckDB and BigQuery and an older row never needs a migration. A table not as ecom wrote it
(changed by hand) is neither listed nor appended to: one line says so, and what the user can do.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from ecom.core.internal import read_rows
from ecom.targets.base import Target

RUNS_TABLE = "_ecom_runs"

SCHEMA = pa.schema(
    {
        "run_id": pa.string(),
        "started_at": pa.timestamp("us", tz="UTC"),
        "ended_at": pa.timestamp("us", tz="UTC"),
        "status": pa.string(),
        "target": pa.string(),
        "checked_at": pa.timestamp("us", tz="UTC"),
        "as_of": pa.date32(),
        "vars": pa.string(),
        "models": pa.string(),
        "tests": pa.string(),
        "freshness": pa.string(),
        "published": pa.string(),
        "message": pa.string(),
    }
)
JSON_COLUMNS = {"vars": dict, "models": list, "tests": list, "freshness": list}
NULLABLE = ("checked_at", "as_of", "published", "message")  # a run that stopped early, or published nothing
# the history is ecom's own and nothing is built from it: a table changed by hand can only be set
# back by whoever changed it, or dropped, losing the runs it lists
FIX = "set it back, or drop it to start a new history (the runs it lists are lost)"


@dataclass
class RunRecord:
    """One run. started_at/ended_at are the machine's clock; checked_at is the time freshness was
    judged against (ECOM_NOW when set)."""

    run_id: str
    started_at: dt.datetime
    target: str
    checked_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    status: str = "error"  # or success, stale (nothing built), failed (a data test failed): ecom.run
    as_of: dt.date | None = None
    vars: dict[str, str] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)  # name, rows, seconds, bytes (BigQuery)
    tests: list[dict[str, Any]] = field(default_factory=list)  # name, status, failures, message
    freshness: list[dict[str, Any]] = field(default_factory=list)
    published: str | None = None  # the publish folder, when this run replaced it
    message: str | None = None

    def row(self) -> dict[str, Any]:
        row = asdict(self)
        return {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in row.items()}


def recorded(target: Target) -> list[dict[str, Any]]:
    """Every recorded run, its JSON columns as text; [] before the first run."""
    return read_rows(target, RUNS_TABLE, SCHEMA, FIX, JSON_COLUMNS, NULLABLE)


def append(target: Target, record: RunRecord, previous: list[dict[str, Any]] | None = None) -> None:
    """Add the record to the history table (created by the first run), after the `previous` rows
    (`recorded`, when the run has them already: a query less on BigQuery)."""
    rows = recorded(target) if previous is None else previous
    target.write_table(RUNS_TABLE, pa.Table.from_pylist([*rows, record.row()], schema=SCHEMA))


class UnknownRun(Exception):
    """No run, or several, has the id `ecom runs RUN` was given."""


def history(target: Target, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` runs, latest first, their JSON columns parsed; [] before the first run."""
    latest = sorted(recorded(target), key=lambda r: (r["started_at"], r["run_id"]), reverse=True)[:limit]
    return [_parsed(r) for r in latest]


def find_run(target: Target, given: str) -> dict[str, Any]:
    """The run whose id is `given` or starts with it (as git takes a commit's first characters),
    its JSON columns parsed."""
    found = [r for r in recorded(target) if given and r["run_id"].startswith(given)]
    if len(found) != 1:
        ids = sorted(r["run_id"] for r in found)
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        what = f"{len(found)} runs ({shown}) have" if found else "no run has"
        raise UnknownRun(f"{what} an id starting {given!r} in {RUNS_TABLE}: `ecom runs` lists the runs and their ids")
    return _parsed(found[0])


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if k in JSON_COLUMNS else v for k, v in row.items()}
