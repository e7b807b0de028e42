"""Shared test set-up and the one harness: a UTC DuckDB as ibis's default backend, the project, the
fixture scenarios, a scenario built on DuckDB (`build_scenario`), a model run natively and through
its BigQuery SQL transpiled to DuckDB (`run_both`, `run_model_both`, `Built.run_both`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
import sqlglot
import yaml
from ibis.backends import BaseBackend
from typer.testing import CliRunner, Result

from ecom.core import engine
from ecom.core.registry import Exposure, Project
from ecom.core.sources import RAW_SCHEMAS
from ecom.data.load import read_folder
from ecom.targets.duckdb import DuckDBTarget, connect_duckdb

# Tests execute models on memtables through ibis's default backend: give it the UTC session the
# engine's own connections have, whatever the machine's time zone.
ibis.set_backend(connect_duckdb(":memory:"))

# A deployment's visitor_salt in the environment would change every hash the tests expect (and the
# SQL snapshots): the tests give the salt themselves.
os.environ.pop("ECOM_VISITOR_SALT", None)
# pytest-xdist's workers run with COLUMNS=80, which rich reads once, when ecom.cli makes its consoles:
# the CLI tests give the width per invocation (CliRunner's env), as in a serial run.
os.environ.pop("COLUMNS", None)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and (p / "orders.csv").exists())

# Real data is never committed: a folder of thelook Parquet files, named by the environment. Tests
# that read it skip when it is absent.
THELOOK_SAMPLE = Path(os.environ.get("ECOM_THELOOK_SAMPLE", "no-thelook-sample"))

PROJECT = Project.load()

# The variables the compiled-SQL snapshots are rendered with: fixed, so the SQL is deterministic.
SNAPSHOT_AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="session")
def project() -> Project:
    return PROJECT


@pytest.fixture(scope="session")
def bq_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The local BigQuery emulator (tests/bq_emulator.py), one per worker for every module it runs.
    Defined here rather than imported by each module: a module that imports a fixture holds a
    definition of its own, so each such module started (and kept until the end) an emulator of its
    own, ~3.5 s of CPU each, 7 in a run of 4 workers."""
    from tests.bq_emulator import start_emulator  # not at the top: it imports this module

    yield from start_emulator(tmp_path_factory)


def ts(text: str) -> dt.datetime:
    """'2024-01-01 10:00:00[.ffffff]' as a UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def scenario_vars(scenario: str) -> dict:
    """The build variables a fixture scenario declares in its vars.yml (none: the defaults)."""
    path = FIXTURES / scenario / "vars.yml"
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


# --- the one harness: a scenario built on DuckDB, a model run natively and through its BigQuery SQL ---

# ibis writes every BigQuery division as IEEE_DIVIDE, which sqlglot passes to DuckDB untranslated.
# DuckDB's division of doubles is IEEE's (x/0 = ±inf, 0/0 = NaN, NULL in gives NULL), which is
# BigQuery's IEEE_DIVIDE; tests/test_dialects.py checks the macro gives those values.
IEEE_DIVIDE_MACRO = "CREATE OR REPLACE MACRO ieee_divide(a, b) AS CAST(a AS DOUBLE) / CAST(b AS DOUBLE)"


def memory_target() -> DuckDBTarget:
    """An in-memory DuckDB target that can also run BigQuery SQL transpiled by sqlglot."""
    target = DuckDBTarget(":memory:")
    target.con.raw_sql(IEEE_DIVIDE_MACRO)
    return target


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 (relative or absolute), NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rows_by_key(table: pa.Table, key: Sequence[str]) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: tuple((r[k] is None, r[k]) for k in key))


def assert_same_rows(got: pa.Table, want: pa.Table, key: Sequence[str], what: str = "") -> list[dict]:
    """Same columns and, sorted by `key`, the same rows (`same` per value); returns want's rows."""
    assert got.column_names == want.column_names, what
    g, w = rows_by_key(got, key), rows_by_key(want, key)
    assert len(g) == len(w), f"{what}: {len(g)} rows, expected {len(w)}"
    for a, b in zip(g, w, strict=True):
        diffs = {c: (a[c], b[c]) for c in b if not same(a[c], b[c])}
        assert not diffs, f"{what} row {[b[k] for k in key]}: (got, expected) {diffs}"
    return w


def run_both(
    con: BaseBackend, native: ir.Table, portable: ir.Table, key: Sequence[str], parameters: Mapping[str, str]
) -> list[dict]:
    """`native` run on DuckDB, sorted by key, after checking that `portable` (the same model over
    unbound tables of con's schemas) compiled to BigQuery SQL and transpiled to DuckDB gives the
    same rows: the dialect cross-check (docs/architecture.md#testing-layers, layer 3). The query
    parameters a BigQuery job would be given (the secret variables' `parameters`) are bound by name
    (`@name` is DuckDB's `$name`); `native` reads the same values as the connection's variables."""
    duckdb_sql = sqlglot.transpile(engine.to_sql(portable, "bigquery"), read="bigquery", write="duckdb")[0]
    named = {name: value for name, value in parameters.items() if f"${name}" in duckdb_sql}
    portable_rows = con.con.execute(duckdb_sql, named).fetch_arrow_table()
    return assert_same_rows(portable_rows, con.to_pyarrow(native), key, "BigQuery SQL on DuckDB")


def run_model_both(
    func: Callable[..., Any], inputs: dict[str, pa.Table], key: Sequence[str], **values: Any
) -> list[dict]:
    """A model function on the given tables (raw ones in schema raw, models in main) through `run_both`."""
    target = memory_target()
    bound, unbound = {}, {}
    for name, data in inputs.items():
        loc = target.raw if name in RAW_SCHEMAS else target.models
        target.con.create_table(name, data, database=loc.database, overwrite=True)
        bound[name] = target.con.table(name, database=loc.database)
        unbound[name] = loc.unbound(name, bound[name].schema())
    parameters = engine.secret_values(PROJECT, values)
    target.bind_parameters(parameters)
    rows = run_both(target.con, engine.call(func, bound, values), engine.call(func, unbound, values), key, parameters)
    target.close()
    return rows


class Built:
    """Raw tables loaded into an in-memory DuckDB and models built on them as `ecom build` does."""

    def __init__(self, raw: dict[str, pa.Table], given: dict[str, Any], select: list[str] | None = None):
        self.target = memory_target()
        self.target.write_raw(raw)
        self.values = engine.target_vars(PROJECT, self.target, given)
        self.selected = PROJECT.select(select) if select else list(PROJECT.order)
        engine.build(PROJECT, self.target, self.selected, self.values)

    def rows(self, model: str) -> list[dict]:
        """The built model's rows, sorted by its key."""
        return rows_by_key(self.target.table(model).to_pyarrow(), PROJECT.models[model].key)

    def by_key(self, model: str) -> dict[Any, dict]:
        """The built model's rows by key (a tuple for a composite key)."""
        key = PROJECT.models[model].key
        return {(r[key[0]] if len(key) == 1 else tuple(r[k] for k in key)): r for r in self.rows(model)}

    @functools.cached_property
    def unbound(self) -> dict[str, ir.Table]:
        """Every model's expression over unbound tables (a quarter second for all: made once)."""
        return engine.unbound_expressions(PROJECT, self.values, self.target.raw, self.target.models)

    def run_both(self, model: str) -> list[dict]:
        """The built model's rows, checked against its BigQuery SQL run on the same upstream tables."""
        key, parameters = PROJECT.models[model].key, engine.secret_values(PROJECT, self.values)
        return run_both(self.target.con, self.target.table(model), self.unbound[model], key, parameters)

    def failing_data_tests(self, models: list[str] | None = None) -> list[tuple]:
        """(name, status, failing rows, message) of every data test of `models` (default: the built
        ones) that does not pass."""
        models = self.selected if models is None else models
        cases = engine.generic_tests(PROJECT, models) + engine.singular_tests(PROJECT, self.selected, self.values)
        results = engine.run_tests(cases, self.target.table)
        return [(r.name, r.status, r.failures, r.message) for r in results if r.status != "pass"]

    def close(self) -> None:
        self.target.close()


def build_scenario(scenario: str, select: list[str] | None = None, **given: Any) -> Built:
    """fixtures/<scenario> built on an in-memory DuckDB: every model, or the `select`ed ones;
    `given` overrides the scenario's vars.yml."""
    return Built(read_folder(FIXTURES / scenario), {**scenario_vars(scenario), **given}, select)


def approx_rows(rows: dict[Any, dict], expected: dict[Any, dict]) -> None:
    """Each expected row's columns equal the actual ones (floats to 1e-9)."""
    assert set(rows) == set(expected)
    for k, exp in expected.items():
        got = {c: rows[k][c] for c in exp}
        # pytest.approx only for floats (it rejects dates); everything else exactly.
        assert got == {
            c: pytest.approx(v, rel=1e-9, abs=1e-9) if isinstance(v, float) else v for c, v in exp.items()
        }, k


def memtable(data: dict[str, list], schema: dict[str, str]) -> Any:
    """An inline table with explicit types (so an empty one works too)."""
    return ibis.memtable(pa.Table.from_pydict(data, schema=ibis.schema(schema).to_pyarrow()))


def scenario_group(scenario: str) -> pytest.MarkDecorator:
    """The pytest-xdist group of the tests that read fixtures/<scenario> as `built_scenario` builds
    it: one worker runs them all (pytest_collection_modifyitems), so that it is built once."""
    return pytest.mark.xdist_group(f"fixtures/{scenario}")


# The scenarios as a fixture's params, each in its group.
SCENARIO_PARAMS = [pytest.param(s, marks=scenario_group(s)) for s in SCENARIOS]


@pytest.fixture(scope="session")
def built_scenario() -> Iterator[Callable[[str], Built]]:
    """fixtures/<scenario> built at its vars.yml, once per worker: tests/test_dialects.py,
    tests/test_reference.py and the scenario's own tests read one build (never write to it)."""
    builds: dict[str, Built] = {}

    def get(scenario: str) -> Built:
        if scenario not in builds:
            builds[scenario] = build_scenario(scenario)
        return builds[scenario]

    yield get
    for built in builds.values():
        built.close()


@pytest.fixture(scope="session")
def sales(built_scenario) -> Built:
    """fixtures/sales built at its as_of, 2024-03-31 (tests/test_sales.py, tests/test_products.py)."""
    return built_scenario("sales")


@pytest.fixture(scope="session")
def sales_early() -> Built:
    """fixtures/sales as it stood at the end of 2024-03-10."""
    return build_scenario("sales", as_of=dt.date(2024, 3, 10))


def empty_raw() -> dict[str, pa.Table]:
    return {t: schema.to_pyarrow().empty_table() for t, schema in RAW_SCHEMAS.items()}


def raw_with_orders(*dates: str) -> dict[str, pa.Table]:
    tables = empty_raw()
    n = len(dates)
    tables["orders"] = pa.table(
        {
            "order_id": list(range(1, n + 1)),
            "user_id": [1] * n,
            "status": ["Processing"] * n,
            "gender": ["F"] * n,
            "created_at": [dt.datetime.fromisoformat(d + "T10:00:00+00:00") for d in dates],
            "returned_at": [None] * n,
            "shipped_at": [None] * n,
            "delivered_at": [None] * n,
            "num_of_item": [1] * n,
        },
        schema=RAW_SCHEMAS["orders"].to_pyarrow(),
    )
    # the orders' user, signed up at the first order (the contract assumes every order's user exists)
    users = RAW_SCHEMAS["users"].to_pyarrow()
    first = min(tables["orders"]["created_at"].to_pylist(), default=None)
    row = {f.name: [None] for f in users} | {"id": [1], "created_at": [first]}
    tables["users"] = pa.table(row, schema=users) if dates else tables["users"]
    return tables


def weekly_review(fact_daily_pnl, dim_customers, fact_not_here):
    """A consumer declared as the report's pages are (marts/report.py); it reads a mart this project
    does not have (an exposure may read a mart of another branch)."""


# Declared as `@exposure` would, but not registered: the tests add it to a copy of the project.
EXPOSURE = Exposure(
    "weekly_review",
    weekly_review,
    "The Monday review: revenue and ad spend per day.",
    {
        "fact_daily_pnl": ("date", "net_revenue", "ad_spend"),
        "dim_customers": ("user_id",),
        "fact_not_here": ("anything",),
    },
)


def invoke(*args: str, env: Mapping[str, str | None] | None = None, cwd: Path | None = None) -> Result:
    """`ecom ARGS` in-process (from `cwd`), with `env` over the environment (None unsets). An
    uncaught exception, a traceback in a shell, fails the test: CliRunner alone makes it exit 1."""
    from ecom.cli import app  # not at the top: its consoles would read xdist's COLUMNS=80 (above)

    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def snapshot(db: Path) -> dict[str, tuple]:
    """Every table of a DuckDB file: its row count and an order-independent hash of each column."""
    gc.collect()  # the connections of in-process CLI runs, so that this one may be read-only
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = con.execute("SELECT database_name, schema_name, table_name FROM duckdb_tables()").fetchall()
        return {
            f"{s}.{t}": con.execute(f'SELECT count(*), sum(hash(COLUMNS(*))) FROM "{d}"."{s}"."{t}"').fetchone()
            for d, s, t in names
        }
    finally:
        con.close()


# The xdist groups that take longest (measured on 2 cores, 4 workers), longest first. A worker takes
# its next group when it has two tests left: a long group taken late runs alone at the end of the run.
LONGEST_GROUPS = (
    "tests/test_bigquery.py",
    "tests/test_robustness.py",
    "tests/test_incremental.py",
    "tests/test_reference.py",
    "bigquery-cli",
    "tests/test_run.py",
    "incremental-on-bigquery",
    "tests/test_spend.py",
    "tests/test_bigquery_jobs.py",
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the session imported and collected (~200,000 objects: ibis, sqlglot, pyarrow, the tests)
    lives until it ends: out of every garbage collection from here on. `snapshot`'s gc.collect()
    scanned them all each time (a tenth of a second or more, hundreds of times a run), and so did
    the collections Python starts while ibis compiles a build."""
    gc.freeze()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (pyproject's addopts), a module's tests run on one worker, so that its
    module fixtures are built once; a test with an xdist_group mark of its own (a long emulator
    build that needs no module fixture's build) runs beside them on another worker, and the tests
    of several modules that read one scenario's shared build are one group (scenario_group)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))

    # The longest groups first, then the other emulator tests (long one-test groups), then the rest
    # as collected: with --no-loadscope-reorder xdist hands the groups out in this order (it would
    # order them by their number of tests, the one-test emulator groups last).
    def rank(item: pytest.Item) -> int:
        group = item.get_closest_marker("xdist_group").args[0]
        if group in LONGEST_GROUPS:
            return LONGEST_GROUPS.index(group)
        return len(LONGEST_GROUPS) + (item.get_closest_marker("emulator") is None)

    items.sort(key=rank)
