"""The one interface of a target, where models are built (`ecom.targets.duckdb`, `ecom.targets.bigquery`).

A target knows where the raw tables and the models live, how to name a table in its dialect, and
how to materialize an expression atomically. It knows nothing about any model.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from ecom.core.registry import Model


class TargetError(Exception):
    """The target cannot be reached or used (missing file, credentials, dataset)."""


class InterruptedAfterCommit(KeyboardInterrupt):
    """Ctrl-C arrived while the commit ran (or after it); it was held until the commit completed: the new
    data is in. Its message, when given, says what the command then left undone."""


def first_line(error: BaseException) -> str:
    """An exception's message cut to its first line (engines append plans and carets below it), or
    its `one_line` when it has one (a list of problems under a line naming their count)."""
    text = (getattr(error, "one_line", None) or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


def row_count(table: ir.Table) -> int:
    """How many rows `table` holds, read as Arrow: ibis's execute() makes a pandas frame of the one
    number first (a third of a small data test's time on DuckDB)."""
    return int(table.count().to_pyarrow().as_py())


@dataclass(frozen=True)
class Location:
    """Where a set of tables lives: catalog (BigQuery project, DuckDB database) and schema/dataset."""

    database: str
    catalog: str | None = None

    def unbound(self, name: str, schema: ibis.Schema) -> ir.Table:
        """A table of this location known only by its schema: models compile with no connection."""
        return ibis.table(schema, name=name, database=self.database, catalog=self.catalog)


class Target:
    """A live connection plus the two locations a build reads and writes.

    Each type of target declares how it is configured (`settings`, `open`, `offline_locations`) and
    what it can do (the capabilities below): the engine asks these, never which type it is (the CLI
    names a type where a thing is one type's: a DuckDB file a failed command created, spend's --into).
    """

    name: ClassVar[str]  # the type: duckdb, bigquery
    dialect: ClassVar[str]
    # What a named target of this type may set in ecom.toml (`[targets.<name>]`), with each setting's type.
    settings: ClassVar[dict[str, type]]

    # Capabilities
    embedded: ClassVar[bool] = False  # a database file on this machine (`path`), which `ecom generate` fills
    transactional: ClassVar[bool] = False  # `transaction` makes a build all-or-nothing
    supports_dry_run: ClassVar[bool] = False  # `dry_run` estimates a model's bytes without running it
    test_workers: ClassVar[int] = 1  # data-test queries worth running at once
    build_workers: int = 1  # models to build at once (each once the models it reads are built); may be a setting
    batch_tests: ClassVar[bool] = False  # a model's data tests as one query (engine.run_tests)
    # What writing to the target raises when the database refuses or fails (no room, no permission,
    # no network), as against an error in ecom's own code, which is to be shown whole.
    write_errors: ClassVar[tuple[type[Exception], ...]] = (TargetError, OSError)

    con: BaseBackend
    path: Path | None = None  # an embedded target's database file
    # The engine's resource settings in force (DuckDB's memory limit and spill folder), for --profile.
    resources: Mapping[str, str] = MappingProxyType({})
    # Per model, what the build chose for it (BigQuery: monthly partitions), printed after the build.
    notes: Mapping[str, str] = MappingProxyType({})
    # Per model, the bytes its build's jobs processed (BigQuery's billing basis), for the run record.
    bytes_processed: Mapping[str, int] = MappingProxyType({})
    raw: Location
    models: Location

    def __init__(self) -> None:
        self._compiled: dict[ops.Node, str] = {}
        # The raw tables looked up so far: a build's source check, its variables and its models each
        # read them (a schema lookup each, 35 in a small build on DuckDB); write_raw forgets them.
        self._sources: dict[str, ir.Table] = {}

    @classmethod
    def open(
        cls, given: Mapping[str, Any], named: Mapping[str, Any], *, create: bool = False, read_only: bool = False
    ) -> Target:
        """Connect, with each setting from the flags (`given`), else the environment, else the named
        target's table of ecom.toml (`named`), else the default. `create`: a missing database may be
        created (to load raw data into); `read_only`: the command only reads (an embedded database
        is then opened beside other readers, and on a read-only file)."""
        raise NotImplementedError

    @classmethod
    def offline_locations(
        cls, given: Mapping[str, Any], named: Mapping[str, Any]
    ) -> tuple[Callable[[str], Location], Location]:
        """Where each raw table and the models would be, from the settings alone (no connection)."""
        raise NotImplementedError

    def raw_location(self, table: str) -> Location:
        return self.raw

    def place(self, loc: Location) -> str:
        """Where `loc` is, for messages and run records: the engine, then the dataset or schema."""
        return f"{self.name} {'.'.join(x for x in (loc.catalog, loc.database) if x)}"

    def _db(self, loc: Location) -> str | tuple[str, str]:
        return loc.database if loc.catalog is None else (loc.catalog, loc.database)

    def raw_schema(self, table: str) -> ibis.Schema | None:
        """The schema of a raw table, or None when it does not exist."""
        database = self._db(self.raw_location(table))
        if table not in self._sources and table not in self.con.list_tables(database=database):
            return None
        return self.source(table).schema()

    def raw_exists(self, table: str) -> bool:
        return self.raw_schema(table) is not None

    def raw_rows(self, table: str) -> int | None:
        """How many rows the raw table holds; None when it does not exist."""
        return row_count(self.source(table)) if self.raw_exists(table) else None

    def source(self, table: str) -> ir.Table:
        if table not in self._sources:
            self._sources[table] = self.con.table(table, database=self._db(self.raw_location(table)))
        return self._sources[table]

    def exists(self, name: str) -> bool:
        return name in self.con.list_tables(database=self._db(self.models))

    def table(self, name: str) -> ir.Table:
        return self.con.table(name, database=self._db(self.models))

    def table_schema(self, name: str) -> ibis.Schema | None:
        """The schema of the model's built table; None when it is not a table (a view, or not built):
        an incremental build appends to it, which only a table with the model's columns takes."""
        raise NotImplementedError

    def compile(self, expr: ir.Table) -> str:
        """The expression's SQL as this target runs it, compiled once per expression: a build
        compiles the next models in a thread while the engine runs this one (engine.build)."""
        op = expr.op()
        if op not in self._compiled:
            self._compiled[op] = self._compile(expr)
        return self._compiled[op]

    def _compile(self, expr: ir.Table) -> str:
        raise NotImplementedError

    def bind_parameters(self, values: Mapping[str, str]) -> None:
        """Bind these values to the query parameters of the same names (ecom.core.dialects) in
        every query run from now on, ecom's and ibis's alike."""
        raise NotImplementedError

    def materialize(self, model: Model, expr: ir.Table) -> int:
        """Replace the model's table (or view); return its row count."""
        raise NotImplementedError

    def replace_partitions(self, model: Model, expr: ir.Table, since: dt.date) -> int:
        """Replace the model's rows whose partition day is `since` or later with the expression's
        rows (all of them from `since` on), atomically; return the table's row count."""
        raise NotImplementedError

    def describe(self, model: Model, description: str, columns: Mapping[str, str]) -> None:
        """Write the model's description and its columns' (column -> text) on its built table."""
        raise NotImplementedError

    def write_raw(self, tables: Mapping[str, pa.Table | Iterable[pa.RecordBatch]]) -> dict[str, int]:
        """Replace the given raw tables (all or none); return their row counts."""
        raise NotImplementedError

    def cancel_jobs(self) -> None:
        """Ask the engine to stop the jobs other threads of a build wait on (a build stopped by Ctrl-C
        or SIGTERM): nothing to do where a build runs one model at a time."""

    def write_table(self, name: str, data: pa.Table) -> None:
        """Replace a small table of the models' location with this data (build metadata)."""
        raise NotImplementedError

    def dry_run(self, model: Model, expr: ir.Table) -> int:
        """Bytes the model's query would process, estimated without running it (`supports_dry_run`)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def peak_memory(self) -> int | None:
        """The peak memory in bytes so far of the engine, when it runs in this process."""
        return None

    def advice(self, error: str) -> str:
        """What to do about an error of the engine's that a setting of this target can fix ('' if none)."""
        return ""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.disconnect()
