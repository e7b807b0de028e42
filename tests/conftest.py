"""Shared test set-up: a UTC DuckDB as ibis's default backend, the project, the fixture scenarios."""

from __future__ import annotations

import datetime as dt
import gc
import os
from pathlib import Path

import duckdb
import ibis
import pytest
import yaml

from ecom.core.registry import Project
from ecom.targets.duckdb import connect_duckdb

# Tests execute models on memtables through ibis's default backend: give it the UTC session the
# engine's own connections have, whatever the machine's time zone.
ibis.set_backend(connect_duckdb(":memory:"))

# A deployment's visitor_salt in the environment would change every hash the tests expect (and the
# SQL snapshots): the tests give the salt themselves.
os.environ.pop("ECOM_VISITOR_SALT", None)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCENARIOS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and (p / "orders.csv").exists())

# Real data is never committed: a folder of thelook Parquet files, named by the environment. Tests
# that read it skip when it is absent.
THELOOK_SAMPLE = Path(os.environ.get("ECOM_THELOOK_SAMPLE", "no-thelook-sample"))

# The variables the compiled-SQL snapshots are rendered with: fixed, so the SQL is deterministic.
SNAPSHOT_AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.load()


def scenario_vars(scenario: str) -> dict:
    """The build variables a fixture scenario declares in its vars.yml (none: the defaults)."""
    path = FIXTURES / scenario / "vars.yml"
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


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
