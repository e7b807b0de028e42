"""The DDL of a model on BigQuery, with BigQuery's partitioning and clustering rules checked before any
job runs."""

from __future__ import annotations

import re
from typing import Any

import ibis

from ecom.core.registry import Model
from ecom.targets.base import Location
from ecom.targets.bigquery.errors import BigQueryError


def _clusterable(dtype: Any) -> bool:
    return any(
        check()
        for check in (
            dtype.is_date,
            dtype.is_timestamp,
            dtype.is_integer,
            dtype.is_decimal,
            dtype.is_boolean,
            dtype.is_string,
        )
    )


def label(value: str) -> str:
    """A label value: lowercase letters, digits, `_` and `-`, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]


def quote(*parts: str) -> str:
    """A backquoted BigQuery path, backslash and backquote escaped as GoogleSQL reads them (the
    settings were validated already: this keeps any name one identifier)."""
    path = ".".join(parts).replace("\\", "\\\\").replace("`", "\\`")
    return f"`{path}`"


def create_statement(
    model: Model,
    schema: ibis.Schema,
    sql: str,
    models: Location,
    *,
    name: str | None = None,
    monthly: bool = False,
) -> str:
    """The one statement that (re)builds a model: partitioning, clustering and labels from its
    decorator. A TIMESTAMP partition column is partitioned by its UTC date, or by month when
    `monthly` (BigQuery's partition limits). `name` builds it under another name (for a swap)."""
    target = quote(models.catalog, models.database, name or model.name)
    labels = f'OPTIONS(labels=[("ecom_model", "{label(model.name)}")])'
    if model.materialization("bigquery") == "view":
        return f"CREATE OR REPLACE VIEW {target} {labels} AS\n{sql}"
    clauses = [_partition_by(model, schema, monthly), _cluster_by(model, schema)]
    return " ".join([f"CREATE OR REPLACE TABLE {target}", *filter(None, clauses), labels]) + f" AS\n{sql}"


def _partition_by(model: Model, schema: ibis.Schema, monthly: bool) -> str:
    """The PARTITION BY clause of the model's table ('' for none): by day, or by month when `monthly`."""
    if not model.partition_by:
        return ""
    dtype = schema[model.partition_by]
    column = quote(model.partition_by)
    if dtype.is_timestamp():
        return f"PARTITION BY {f'TIMESTAMP_TRUNC({column}, MONTH)' if monthly else f'DATE({column})'}"
    if dtype.is_date():
        return f"PARTITION BY {f'DATE_TRUNC({column}, MONTH)' if monthly else column}"
    raise BigQueryError(
        f"partition_by={model.partition_by!r} is {dtype}: BigQuery partitions by a date or timestamp column here"
    )


def _cluster_by(model: Model, schema: ibis.Schema) -> str:
    """The CLUSTER BY clause of the model's table ('' for none)."""
    if not model.cluster_by:
        return ""
    # BigQuery's rules, checked here so that a bad decorator fails before any job runs
    wrong = [f"{c} ({schema[c]})" for c in model.cluster_by if not _clusterable(schema[c])]
    if len(model.cluster_by) > 4 or wrong:
        refused = f"; not {', '.join(wrong)}" if wrong else ""
        raise BigQueryError(
            f"cluster_by={model.cluster_by!r}: BigQuery clusters by at most 4 columns of type "
            f"date, timestamp, integer, decimal, boolean or string{refused}"
        )
    return "CLUSTER BY " + ", ".join(quote(c) for c in model.cluster_by)
