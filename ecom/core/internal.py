"""ecom's own tables beside the models (the incremental state, the run history), read back only as
ecom wrote them: a table changed by hand or by another tool (a column dropped or of another type,
text that is not JSON) is refused with one line saying what to do, never half-read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import ibis
import pyarrow as pa

from ecom.targets.base import Target

# what a JSON column holds, in JSON's words
JSON_KINDS = {dict: "object", list: "array"}


class InternalTableError(Exception):
    """One of ecom's own tables is not as ecom wrote it."""


def read_rows(
    target: Target,
    name: str,
    schema: pa.Schema,
    fix: str,
    json_columns: Mapping[str, type] | None = None,
    nullable: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The rows of ecom's table `name` ([] before it is first written), with the columns of the
    `schema` it is written with. Refused (InternalTableError, ending with `fix`) when one of them is
    missing or of another kind of type, holds a NULL where ecom writes none (every column but
    `nullable`), or a JSON column holds a value that is not the JSON text of its kind (`json_columns`:
    column -> dict or list). Types are compared by kind (a date, a string, a timestamp), not by
    precision or time zone, which the targets report each in their own way."""
    if not target.exists(name):
        return []
    json_columns = json_columns or {}
    table = target.table(name)
    problems = column_problems(table.schema(), ibis.Schema.from_pyarrow(schema))
    rows = [] if problems else table.select(*schema.names).to_pyarrow().to_pylist()
    problems += _value_problems(rows, schema, json_columns, nullable)
    if problems:
        raise InternalTableError(f"the internal table {name} is not as ecom wrote it ({'; '.join(problems)}): {fix}")
    return rows


def column_problems(found: ibis.Schema, expected: ibis.Schema) -> list[str]:
    """The columns of `expected` missing from a table as `found`, or of another kind of type (by
    kind, not precision or time zone, which the targets report each in their own way). Also what
    the build checks a model's table against (engine): ecom's tables and the models alike."""
    return [
        f"no column {column}" if column not in found else f"column {column} is {found[column]}, not {dtype}"
        for column, dtype in expected.items()
        if column not in found or type(found[column]) is not type(dtype)
    ]


def _value_problems(
    rows: list[dict[str, Any]], schema: pa.Schema, json_columns: Mapping[str, type], nullable: Iterable[str]
) -> list[str]:
    """The columns holding a NULL where ecom writes none, or a value that is not the JSON of its kind."""
    nulls = [
        f"column {column} holds a NULL"
        for column in schema.names
        if column not in nullable and column not in json_columns and any(r[column] is None for r in rows)
    ]
    return nulls + [
        f"column {column} holds a value that is not a JSON {JSON_KINDS[kind]}"
        for column, kind in json_columns.items()
        if not all(_is_json(r[column], kind) for r in rows)
    ]


def _is_json(text: Any, kind: type) -> bool:
    try:
        return isinstance(json.loads(text), kind)
    except (TypeError, ValueError):  # not text (NULL), or not JSON
        return False
