"""Snapshots of every model's compiled BigQuery SQL: one reviewable .sql file per model.

A change to a model shows up in review as a SQL diff under __snapshots__/. Update them with
`pytest tests/test_compiled_sql.py --snapshot-update`, then read the diff.
"""

from __future__ import annotations

import pytest
import sqlglot
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from ecom.core.engine import to_sql, unbound_expressions
from ecom.core.registry import Project
from ecom.core.vars import resolve_vars
from ecom.targets.base import Location
from tests.conftest import SNAPSHOT_AS_OF

PROJECT = Project.load()
RAW = Location("thelook_ecommerce", "bigquery-public-data")
MODELS = Location("ecom", "my-project")


class SQLSnapshot(SingleFileSnapshotExtension):
    file_extension = "sql"
    _write_mode = WriteMode.TEXT


@pytest.fixture(scope="module")
def bigquery_sql() -> dict[str, str]:
    values = resolve_vars(PROJECT.vars, {"as_of": SNAPSHOT_AS_OF}, lambda _: None)
    exprs = unbound_expressions(PROJECT, values, RAW, MODELS)
    return {name: to_sql(expr, "bigquery") for name, expr in exprs.items()}


# Sessionization first: it is the model whose SQL reviewers read most closely.
ORDER = sorted(PROJECT.order, key=lambda n: (n != "int_web_sessions", n != "fact_session_metrics"))


@pytest.mark.parametrize("name", ORDER)
def test_bigquery_sql(name, bigquery_sql, snapshot):
    assert bigquery_sql[name] == snapshot(extension_class=SQLSnapshot)


@pytest.mark.parametrize("name", ORDER)
def test_bigquery_sql_parses_and_reads_only_declared_inputs(name, bigquery_sql, project):
    """The SQL parses as BigQuery, and every table it reads is a declared input of the model (so the
    DAG derived from the code is the DAG the SQL runs)."""
    tree = sqlglot.parse_one(bigquery_sql[name], read="bigquery")
    ctes = {c.alias for c in tree.find_all(sqlglot.exp.CTE)}
    read = {t.name for t in tree.find_all(sqlglot.exp.Table) if t.name and t.name not in ctes}
    assert read <= set(project.models[name].params)
