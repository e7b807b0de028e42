"""The dialect cross-check (docs/architecture.md#testing-layers, layer 3) and data tests on every fixture scenario.

For each scenario under fixtures/, every model is built natively on DuckDB; then its compiled
BigQuery SQL, transpiled by sqlglot from BigQuery to DuckDB, is run over the same upstream tables and
must return the same rows. A BigQuery-only construct that DuckDB reads differently (a date function,
integer division, NULL ordering) shows up here as a difference.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pyarrow as pa
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


def test_zoned_timestamps_dates_shifts_and_differences_on_duckdb_are_utc_arithmetic():
    """ecom.core.dialects compiles a zoned timestamp's date, its sum with a fixed-length interval and a
    microsecond difference as arithmetic on EPOCH_US (DuckDB's ICU calendar took ten times longer):
    checked against Python's own UTC arithmetic on instants either side of midnight, before 1970,
    with microseconds, and NULL."""
    utc = dt.UTC
    a = [
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, utc),
        dt.datetime(1970, 1, 1, 0, 0, tzinfo=utc),
        dt.datetime(2024, 2, 29, 23, 45, 0, 500_000, utc),
        dt.datetime(2024, 3, 31, 0, 30, tzinfo=utc),  # the night Europe's clocks go forward: no matter in UTC
        None,
    ]
    b = [dt.datetime(1970, 1, 2, 0, 0, 0, 1, utc), a[0], a[3], a[2], a[1]]
    target = memory_target()
    zoned = pa.timestamp("us", "UTC")
    t = target.con.create_table("instants", pa.table({"a": a, "b": b}, pa.schema([("a", zoned), ("b", zoned)])))
    expr = t.select(
        day=t.a.date(),
        later=t.a + ibis.interval(minutes=30),
        earlier=t.a - ibis.interval(days=7),
        micros=t.b.delta(t.a, unit="microsecond"),
    )
    sql = target.compile(expr)
    assert "EPOCH_US" in sql and "INTERVAL" not in sql and "DATE_DIFF" not in sql, sql  # the rules apply
    rows = target.con.sql(sql).to_pyarrow().to_pylist()
    target.close()
    expected = [
        {
            "day": x and x.date(),
            "later": x and x + dt.timedelta(minutes=30),
            "earlier": x and x - dt.timedelta(days=7),
            "micros": x and y and (y - x) // dt.timedelta(microseconds=1),
        }
        for x, y in zip(a, b, strict=True)
    ]
    assert rows == expected
