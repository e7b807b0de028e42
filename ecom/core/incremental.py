"""Incremental builds: replace only the partitions a model's changes reach (README, "Incremental builds").

A model declared `materialized="incremental"` is partitioned by a date. Its rows for past days must
depend only on data of those days and earlier, and on no variable but through `since` (the model's
docstring says why that holds). A build then recomputes the partitions from the first changed day
on, and replaces them; anything it cannot vouch for falls back to a full rebuild and says why.

The first changed day of a model that reads raw sources comes from a per-day fingerprint of its
full expression (row count and XOR of the keys' hashes): new days, late rows and deleted rows show
up, an edit of an existing row's other columns does not (`--full-refresh` after editing raw rows).
A model that reads incremental models starts where they started.

State, beside the models: `_ecom_state` (per model: the build it was last built in, its as_of,
mode, first replaced day, hashes of the variables that change past rows and of its code) and
`_ecom_partitions` (the per-day fingerprints of the models that read raw sources). Either one not
as ecom wrote it (changed by hand) stops a build, but for `--full-refresh`, which writes both anew.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from ecom.core.internal import read_rows
from ecom.core.registry import Model, Project
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Target

STATE_TABLE = "_ecom_state"
PARTITIONS_TABLE = "_ecom_partitions"
# as_of is fixed to this in the SQL whose hash is a model's code hash: only the code counts
CODE_AS_OF = dt.date(2000, 1, 1)

STATE_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("build_id", pa.string()),
        ("as_of", pa.date32()),
        ("mode", pa.string()),  # "full" or "incremental"
        ("replaced_from", pa.date32()),  # incremental: the first day replaced; NULL when full
        ("vars", pa.string()),  # JSON {name: sha256 of the value, 16 hex}: a secret is never stored
        ("code_hash", pa.string()),
    ]
)
PARTITIONS_SCHEMA = pa.schema(
    [("model", pa.string()), ("day", pa.date32()), ("row_count", pa.int64()), ("fingerprint", pa.string())]
)


REFRESH = "run `ecom build --full-refresh` to rebuild the incremental models and write it anew"


def read_state(target: Target) -> dict[str, dict[str, Any]]:
    """The state of each model as last built, by model name."""
    rows = read_rows(target, STATE_TABLE, STATE_SCHEMA, REFRESH, {"vars": dict}, nullable=["replaced_from"])
    return {r["model"]: r for r in rows}


def read_partitions(target: Target) -> list[dict[str, Any]]:
    """The stored per-day fingerprints of every model that has them."""
    return read_rows(target, PARTITIONS_TABLE, PARTITIONS_SCHEMA, REFRESH)


def past_vars(project: Project, name: str) -> list[str]:
    """The variables that may change a model's past rows: every variable it or its ancestors read,
    but as_of (an incremental model's past rows do not depend on it: checked by the property tests)."""
    models = [name, *project.ancestors(name)]
    return sorted({v for m in models for v in project.vars_of(m)} - {"as_of"})


def vars_digest(project: Project, name: str, values: Mapping[str, Any]) -> str:
    return json.dumps({v: _sha(str(values[v]))[:16] for v in past_vars(project, name)}, sort_keys=True)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def code_hash(target: Target, project: Project, model: Model, expr_at: ir.Table, dialect: str) -> str:
    """The hash of the model's full-build SQL (as_of fixed) and of the contract and actual schema of
    the raw sources it reads."""
    sources = [f"{s}:{RAW_SCHEMAS[s]}:{target.raw_schema(s)}" for s in project.sources_of(model.name)]
    return _sha("\n".join([ibis.to_sql(expr_at, dialect=dialect), *sources]))


def how_built(replaced_from: dt.date | None, as_of: dt.date) -> str:
    """A build of an incremental model in words: full, from a day, or with no day to replace (its
    first day to replace is the day after as_of, which has no partition)."""
    if replaced_from is None:
        return "full"
    if replaced_from > as_of:
        return f"incremental: nothing changed up to {as_of}"
    return f"incremental from {replaced_from}"


def partition_day(model: Model, table: ir.Table) -> ir.DateValue:
    column = table[model.partition_by]
    return column.date() if column.type().is_timestamp() else column


def fingerprints(model: Model, expr: ir.Table) -> dict[dt.date, tuple[int, str]]:
    """Per partition day of the model's full expression: (rows, XOR of the keys' hashes)."""
    key = expr[model.key[0]].cast("string")
    for k in model.key[1:]:
        key = key + "|" + expr[k].cast("string")
    per_day = expr.group_by(day=partition_day(model, expr)).aggregate(n=expr.count(), fp=key.hash().bit_xor())
    return {r["day"]: (int(r["n"]), str(r["fp"])) for r in per_day.to_pyarrow().to_pylist()}


def first_changed_day(old: Mapping[dt.date, tuple[int, str]], new: Mapping[dt.date, tuple[int, str]]) -> dt.date | None:
    changed = [d for d in old.keys() | new.keys() if old.get(d) != new.get(d)]
    return min(changed, default=None)


@dataclass
class Decision:
    since: dt.date | None  # None: rebuild in full
    reason: str


def decide(
    project: Project,
    target: Target,
    model: Model,
    values: Mapping[str, Any],
    state: Mapping[str, Mapping[str, Any]],
    done: Mapping[str, Decision],
    digest: str,
    code: str,
    full_refresh: bool,
) -> Decision:
    """Whether to rebuild the model in full (and why), or from which day.

    `done` holds this build's decisions for the models already built. The day a model's own raw
    sources changed from is worked out by the caller (`first_changed_day`) and combined with this
    decision there (`earliest`)."""
    prev = state.get(model.name)
    if full_refresh:
        return Decision(None, "full: --full-refresh")
    if prev is None or not target.exists(model.name):
        return Decision(None, "full: no previous build")
    changed = [v for v, h in json.loads(digest).items() if json.loads(prev["vars"]).get(v) != h]
    if changed:
        return Decision(None, f"full: {', '.join(changed)} changed since the last build")
    if prev["code_hash"] != code:
        return Decision(None, "full: its code or its sources' schema changed")
    if values["as_of"] < prev["as_of"]:
        return Decision(None, f"full: as_of moved back from {prev['as_of']}")
    for up in project.upstream_models(model.name):
        if up not in done:
            return Decision(None, f"full: {up} is not built in this build")
        if done[up].since is None:
            return Decision(None, f"full: {up} is rebuilt in full")
        if state.get(up, {}).get("build_id") != prev["build_id"]:
            return Decision(None, f"full: {up} was last built in another build")
    return Decision(values["as_of"] + dt.timedelta(days=1), "")


def earliest(decision: Decision, days: list[dt.date | None]) -> Decision:
    """The decision starting at the earliest of its day and the given ones."""
    if decision.since is None:
        return decision
    return Decision(min([decision.since, *(d for d in days if d is not None)]), "")


def state_rows(previous: Mapping[str, Mapping[str, Any]], built: Mapping[str, dict[str, Any]]) -> pa.Table:
    """The state table after a build: the models built now replace their rows."""
    rows = {**previous, **built}
    return pa.Table.from_pylist([rows[m] for m in sorted(rows)], schema=STATE_SCHEMA)


def partition_rows(stored: list[dict[str, Any]], built: Mapping[str, Mapping[dt.date, tuple[int, str]]]) -> pa.Table:
    kept = [r for r in stored if r["model"] not in built]
    new = [
        {"model": m, "day": d, "row_count": n, "fingerprint": fp}
        for m, days in built.items()
        for d, (n, fp) in sorted(days.items())
    ]
    return pa.Table.from_pylist(kept + new, schema=PARTITIONS_SCHEMA)


def stored_fingerprints(stored: list[dict[str, Any]], name: str) -> dict[dt.date, tuple[int, str]]:
    return {r["day"]: (r["row_count"], r["fingerprint"]) for r in stored if r["model"] == name}
