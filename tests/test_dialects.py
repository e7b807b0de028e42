"""The dialect cross-check (docs/architecture.md#testing-layers, layer 3) and data tests on every fixture scenario.

For each scenario under fixtures/, every model is built natively on DuckDB; then its compiled
BigQuery SQL, transpiled by sqlglot from BigQuery to DuckDB, is run over the same upstream tables and
must return the same rows. A BigQuery-only construct that DuckDB reads differently (a date function,
integer division, NULL ordering) shows up here as a difference.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
import sqlglot

from ecom.core import engine
from ecom.core.registry import Project
from ecom.data.load import read_folder
from ecom.targets.base import Location
from ecom.targets.duckdb import DuckDBTarget
from tests.conftest import FIXTURES, SCENARIOS, scenario_vars

PROJECT = Project.load()


@pytest.fixture(scope="module", params=SCENARIOS)
def built(request):
    """A scenario's raw tables in an in-memory DuckDB with every model built natively."""
    target = DuckDBTarget(":memory:")
    target.write_raw(read_folder(FIXTURES / request.param))
    # ibis compiles every BigQuery division to IEEE_DIVIDE, which sqlglot passes to DuckDB as is;
    # DuckDB's `/` is the same IEEE division on doubles (x/0 = inf, 0/0 = nan).
    target.con.raw_sql("CREATE MACRO ieee_divide(a, b) AS a / b")
    values = engine.target_vars(PROJECT, target, scenario_vars(request.param))
    engine.build(PROJECT, target, list(PROJECT.order), values)
    yield target, values
    target.close()


def rows_by_key(table: pa.Table, key: tuple[str, ...]) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: tuple((r[k] is None, r[k]) for k in key))


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize("name", PROJECT.order)
def test_bigquery_sql_on_duckdb_equals_native(built, name):
    target, values = built
    exprs = engine.unbound_expressions(PROJECT, values, Location("raw"), Location("main"))
    bigquery_sql = engine.to_sql(exprs[name], "bigquery")
    duckdb_sql = sqlglot.transpile(bigquery_sql, read="bigquery", write="duckdb")[0]
    transpiled = target.con.sql(duckdb_sql).to_pyarrow()
    native = target.table(name).to_pyarrow()

    assert transpiled.column_names == native.column_names
    key = PROJECT.models[name].key
    got, want = rows_by_key(transpiled, key), rows_by_key(native, key)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        diffs = {c: (g[c], w[c]) for c in w if not same(g[c], w[c])}
        assert not diffs, f"{name} row {[w[k] for k in key]}: transpiled vs native {diffs}"


def test_data_tests_pass(built):
    target, values = built
    cases = engine.generic_tests(PROJECT, PROJECT.order) + engine.singular_tests(PROJECT, PROJECT.order, values)
    failed = [r for r in engine.run_tests(cases, target.table) if r.status != "pass"]
    assert not failed, [(r.name, r.status, r.failures, r.message) for r in failed]
