"""The embedded DuckDB target (the default): one database file, raw tables in schema `raw`, models in
`main`."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from ecom.core.registry import Model
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Location, Target, TargetError

DEFAULT_DUCKDB_PATH = "ecom.duckdb"


def connect_duckdb(path: str | Path) -> BaseBackend:
    """A DuckDB connection whose session time zone is UTC.

    DuckDB casts between naive and zoned timestamps, and takes the date of a zoned one, in the
    session's time zone, which defaults to the machine's: the contract's dates are UTC dates
    (docs/contract.md#conventions).
    """
    con = ibis.duckdb.connect(str(path))
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


class DuckDBTarget(Target):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, path: str | Path | None = None, *, create: bool = True):
        self.path = Path(path or os.environ.get("ECOM_DUCKDB_PATH", DEFAULT_DUCKDB_PATH))
        if not create and not self.path.exists():
            raise TargetError(f"no DuckDB database at {self.path}: run `ecom generate` or `ecom load PATH` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect_duckdb(self.path)
        self.raw = Location("raw")
        self.models = Location("main")
        self.con.raw_sql("CREATE SCHEMA IF NOT EXISTS raw")

    def _select(self, expr: ir.Table) -> str:
        # Each column is cast to the type the expression declares: DuckDB widens SUM(BIGINT) to
        # HUGEINT, which would otherwise be stored and read back as DECIMAL(38, 0).
        columns = ", ".join(f'CAST("{c}" AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in expr.schema().items())
        return f"SELECT {columns} FROM ({self.con.compile(expr)})"

    def materialize(self, model: Model, expr: ir.Table) -> int:
        kind = "VIEW" if model.materialized == "view" else "TABLE"
        sql = self._select(expr)
        created = self.con.raw_sql(f'CREATE OR REPLACE {kind} "{self.models.database}"."{model.name}" AS {sql}')
        # DuckDB answers CREATE TABLE AS with the row count: no second scan of the table.
        return int(created.fetchone()[0]) if kind == "TABLE" else self.row_count(model.name)

    def replace_partitions(self, model: Model, expr: ir.Table, since: dt.date) -> int:
        """Delete the partitions from `since` on and insert the new rows, in the build's transaction.

        The rows are computed into a temporary table first: they may read the model's own rows
        (before `since`), which the delete must not disturb while the query runs."""
        table = f'"{self.models.database}"."{model.name}"'
        self.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE _ecom_partitions_new AS {self._select(expr)}")
        column = f'"{model.partition_by}"'
        if expr.schema()[model.partition_by].is_timestamp():
            column = f"CAST({column} AS DATE)"
        self.con.raw_sql(f"DELETE FROM {table} WHERE {column} >= DATE '{since.isoformat()}'")
        self.con.raw_sql(f"INSERT INTO {table} BY NAME SELECT * FROM _ecom_partitions_new")
        self.con.raw_sql("DROP TABLE _ecom_partitions_new")
        return self.row_count(model.name)

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
