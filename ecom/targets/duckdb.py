"""The embedded DuckDB target (the default): one database file, raw tables in schema `raw`, models in
`main`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from ecom.core.registry import Model
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Location, Target, TargetError

DEFAULT_DUCKDB_PATH = "ecom.duckdb"
PATH_ENV = "ECOM_DUCKDB_PATH"
RAW = Location("raw")
MODELS = Location("main")


def connect_duckdb(path: str | Path) -> BaseBackend:
    """A DuckDB connection whose session time zone is UTC.

    DuckDB casts between naive and zoned timestamps, and takes the date of a zoned one, in the
    session's time zone, which defaults to the machine's: the contract's dates are UTC dates
    (docs/contract.md#conventions).
    """
    con = ibis.duckdb.connect(str(path))
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def _literal(text: str) -> str:
    """A DuckDB string literal: quotes doubled; backslashes and newlines are plain characters in it."""
    return "'" + text.replace("'", "''") + "'"


class DuckDBTarget(Target):
    name = "duckdb"
    dialect = "duckdb"
    settings = {"path": str}
    embedded = True

    def __init__(self, path: str | Path = DEFAULT_DUCKDB_PATH, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise TargetError(f"no DuckDB database at {self.path}: run `ecom generate` or `ecom load PATH` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect_duckdb(self.path)
        self.raw = RAW
        self.models = MODELS
        self.con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{RAW.database}"')

    @classmethod
    def open(cls, given: Mapping[str, Any], named: Mapping[str, Any], *, create: bool = False) -> DuckDBTarget:
        path = given.get("path") or os.environ.get(PATH_ENV) or named.get("path") or DEFAULT_DUCKDB_PATH
        return cls(path, create=create)

    @classmethod
    def offline_locations(
        cls, given: Mapping[str, Any], named: Mapping[str, Any]
    ) -> tuple[Callable[[str], Location], Location]:
        return (lambda _: RAW), MODELS

    def materialize(self, model: Model, expr: ir.Table) -> int:
        kind = "VIEW" if model.materialized == "view" else "TABLE"
        # Each column is cast to the type the expression declares: DuckDB widens SUM(BIGINT) to
        # HUGEINT, which would otherwise be stored and read back as DECIMAL(38, 0).
        columns = ", ".join(f'CAST("{c}" AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in expr.schema().items())
        sql = f"SELECT {columns} FROM ({self.con.compile(expr)})"
        created = self.con.raw_sql(f'CREATE OR REPLACE {kind} "{self.models.database}"."{model.name}" AS {sql}')
        # DuckDB answers CREATE TABLE AS with the row count: no second scan of the table.
        return int(created.fetchone()[0]) if kind == "TABLE" else self.row_count(model.name)

    def describe(self, model: Model, description: str, columns: Mapping[str, str]) -> None:
        kind = "VIEW" if model.materialized == "view" else "TABLE"
        ref = f'"{self.models.database}"."{model.name}"'
        self.con.raw_sql(f"COMMENT ON {kind} {ref} IS {_literal(description)}")
        for column, text in columns.items():
            self.con.raw_sql(f'COMMENT ON COLUMN {ref}."{column}" IS {_literal(text)}')

    def row_count(self, name: str) -> int:
        return int(self.table(name).count().execute())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: a failed build leaves every table as it was before the build."""
        self.con.raw_sql("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.raw_sql("ROLLBACK")
            raise
        self.con.raw_sql("COMMIT")

    def write_raw(self, tables: Mapping[str, pa.Table | Iterable[pa.RecordBatch]]) -> dict[str, int]:
        """Replace the given raw tables in one transaction; return their row counts.

        A value may be a whole Arrow table or an iterable of record batches (written as they come,
        so a large generated table never has to be in memory at once).
        """
        counts = {}
        with self.transaction():
            for name, data in tables.items():
                self._replace(self.raw, name, RAW_SCHEMAS[name].to_pyarrow(), data)
                counts[name] = int(self.source(name).count().execute())
        return counts

    def write_table(self, name: str, data: pa.Table) -> None:
        self._replace(self.models, name, data.schema, data)

    def _replace(self, loc: Location, name: str, schema: pa.Schema, data: pa.Table | Iterable[pa.RecordBatch]) -> None:
        batches = data.to_batches() if isinstance(data, pa.Table) else data
        self.con.con.register("_ecom_incoming", pa.RecordBatchReader.from_batches(schema, batches))
        try:
            self.con.raw_sql(f'CREATE OR REPLACE TABLE "{loc.database}"."{name}" AS SELECT * FROM _ecom_incoming')
        finally:
            self.con.con.unregister("_ecom_incoming")
