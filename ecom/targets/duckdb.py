"""The embedded DuckDB target (the default): one database file, raw tables in schema `raw`, models in
`main`."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from ecom.core.registry import Model
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Location, Target, TargetError, first_line

DEFAULT_DUCKDB_PATH = "ecom.duckdb"
MEMORY_CAP_BYTES = 3 * 2**30  # with Python and Arrow on top, a scale-10 build peaked at 3.4 GB RSS


def default_memory_limit() -> str:
    """Half the machine's RAM, at most MEMORY_CAP_BYTES. Under DuckDB's own default (80 % of RAM) the
    scale-10 models took 5.9 GB RSS; with this limit 3.4 GB, and no more time (README, Performance)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(ram // 2, MEMORY_CAP_BYTES) // 2**20}MiB"


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
        self._limit_memory()
        self.profile_path: Path | None = None
        self.raw = Location("raw")
        self.models = Location("main")
        self.con.raw_sql("CREATE SCHEMA IF NOT EXISTS raw")

    def materialize(self, model: Model, expr: ir.Table) -> int:
        kind = model.materialization(self.name).upper()
        self._drop_other_kind(model.name, kind)
        # Each column is cast to the type the expression declares: DuckDB widens SUM(BIGINT) to
        # HUGEINT, which would otherwise be stored and read back as DECIMAL(38, 0).
        columns = ", ".join(f'CAST("{c}" AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in expr.schema().items())
        sql = f"SELECT {columns} FROM ({self.con.compile(expr)})"
        created = self.con.raw_sql(f'CREATE OR REPLACE {kind} "{self.models.database}"."{model.name}" AS {sql}')
        # DuckDB answers CREATE TABLE AS with the row count: no second scan of the table.
        return int(created.fetchone()[0]) if kind == "TABLE" else self.row_count(model.name)

    def _drop_other_kind(self, name: str, kind: str) -> None:
        """DuckDB refuses to replace a table by a view or a view by a table: drop the other kind
        first (inside the build's transaction, so a failed build restores it)."""
        found = self.con.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.models.database, name],
        ).fetchone()
        existing = found and ("VIEW" if found[0] == "VIEW" else "TABLE")
        if existing and existing != kind:
            self.con.raw_sql(f'DROP {existing} "{self.models.database}"."{name}"')

    def _limit_memory(self) -> None:
        """DuckDB's memory limit, and where large sorts spill beyond it (DuckDB's default: <path>.tmp
        beside the file); ECOM_DUCKDB_MEMORY_LIMIT (e.g. 8GB) and ECOM_DUCKDB_TEMP_DIRECTORY override them."""
        settings = {
            "memory_limit": os.environ.get("ECOM_DUCKDB_MEMORY_LIMIT") or default_memory_limit(),
            "temp_directory": os.environ.get("ECOM_DUCKDB_TEMP_DIRECTORY"),
        }
        for name, value in settings.items():
            if not value:
                continue
            try:
                self.con.con.execute(f"SET {name} = ?", [value])
            except Exception as e:
                env = f"ECOM_DUCKDB_{name.upper()}"
                raise TargetError(
                    f"{env}={value!r} is refused by DuckDB ({first_line(e)}); write e.g. 4GB or a folder, or unset it"
                ) from None
        self.settings = {
            name: self.con.con.execute(f"SELECT current_setting('{name}')").fetchone()[0] for name in settings
        }

    def profile(self) -> None:
        """Have DuckDB write each query's profile (only its peak buffer memory) to a temporary file."""
        self._profile_dir = tempfile.TemporaryDirectory(prefix="ecom-profile-")  # removed with the target
        self.profile_path = Path(self._profile_dir.name) / "last_query.json"
        self.con.raw_sql("PRAGMA enable_profiling = 'json'")
        self.con.raw_sql(f"PRAGMA profiling_output = '{self.profile_path}'")
        self.con.raw_sql("""SET custom_profiling_settings = '{"SYSTEM_PEAK_BUFFER_MEMORY": "true"}'""")

    def peak_memory(self) -> int | None:
        """DuckDB's peak buffer memory since the connection opened (as of the last query), in bytes,
        when profiling."""
        if self.profile_path is None or not self.profile_path.exists():
            return None
        return int(json.loads(self.profile_path.read_text())["system_peak_buffer_memory"])

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
