"""The dialect cross-check (docs/architecture.md#testing-layers, layer 3) and data tests on every fixture scenario.

For each scenario under fixtures/, every model is built natively on DuckDB; then its compiled
BigQuery SQL, transpiled by sqlglot from BigQuery to DuckDB, is run over the same upstream tables and
must return the same rows. A BigQuery-only construct that DuckDB reads differently (a date function,
integer division, NULL ordering) shows up here as a difference.
"""

from __future__ import annotations

import math

import pytest

from tests.conftest import PROJECT, SCENARIO_PARAMS, memory_target


@pytest.fixture(scope="module", params=SCENARIO_PARAMS)
def built(request, built_scenario):
    return built_scenario(request.param)


@pytest.mark.parametrize("name", PROJECT.order)
def test_bigquery_sql_on_duckdb_equals_native(built, name):
    built.run_both(name)


def test_data_tests_pass(built):
    assert built.failing_data_tests() == []


def test_ieee_divide_macro_is_bigquerys_ieee_divide():
    """IEEE_DIVIDE(x, 0) is ±inf, IEEE_DIVIDE(0, 0) NaN, a NULL operand gives NULL, integers divide as floats."""
    target = memory_target()
    row = (
        target.con.sql(
            "SELECT ieee_divide(1, 0) AS a, ieee_divide(-2.5, 0) AS b, ieee_divide(0, 0) AS c, "
            "ieee_divide(1, NULL) AS d, ieee_divide(NULL, 0) AS e, ieee_divide(5, 2) AS f"
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    target.close()
    assert row["a"] == math.inf and row["b"] == -math.inf and math.isnan(row["c"])
    assert row["d"] is None and row["e"] is None and row["f"] == 2.5
