"""The embedded DuckDB target (the default): one database file, raw tables in schema `raw`, models in
`main`."""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from ecom.core.files import (
    describe_os_error,
    file_in_the_way,
    in_a_link_loop,
    is_duckdb_database,
    not_utf8,
    write_refused,
)
from ecom.core.interrupts import mark_committed, signals_held, stop_if_ctrl_c
from ecom.core.registry import Model
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import InterruptedAfterCommit, Location, Target, TargetError, first_line

DEFAULT_DUCKDB_PATH = "ecom.duckdb"
PATH_ENV = "ECOM_DUCKDB_PATH"
RAW = Location("raw")
MODELS = Location("main")
MEMORY_CAP_BYTES = 5 * 2**29  # 2.5 GiB: Python and DuckDB's allocations outside the limit add 0.25-1.05 GB of RSS


def default_memory_limit() -> str:
    """Half the machine's RAM, at most MEMORY_CAP_BYTES. Under DuckDB's own default (80 % of RAM) the
    scale-10 models took 5.9 GB RSS; under a 3 GiB cap 3.5-4.2 GB, over issue 16's 4 GB in one run of
    seven; under 2.5 GiB 2.9-3.7 GB in seven, and no more time (docs/performance.md, 2026-12-03)."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(ram // 2, MEMORY_CAP_BYTES) // 2**20}MiB"


def out_of_memory_advice(error: str) -> str:
    """Said after DuckDB's "Out of Memory Error": which limit it hit and the setting that raises it
    (the error names neither: a build under ECOM_DUCKDB_MEMORY_LIMIT=20MB failed with only DuckDB's words)."""
    if "Out of Memory Error" not in error:
        return ""
    given = os.environ.get("ECOM_DUCKDB_MEMORY_LIMIT")
    if given:  # no example: one below what was given would be a lower limit
        return f"; ECOM_DUCKDB_MEMORY_LIMIT={given} is too small for this: raise it"
    # the default is at most MEMORY_CAP_BYTES (2.5 GiB): 4GB raises it
    limit = default_memory_limit()
    return f"; the default memory limit ({limit}) is too small: raise it, e.g. ECOM_DUCKDB_MEMORY_LIMIT=4GB"


def connect_duckdb(path: str | Path, read_only: bool = False) -> BaseBackend:
    """A DuckDB connection whose session time zone is UTC.

    DuckDB casts between naive and zoned timestamps, and takes the date of a zoned one, in the
    session's time zone, which defaults to the machine's: the contract's dates are UTC dates
    (docs/contract.md#conventions).
    """
    con = ibis.duckdb.connect(str(path), read_only=read_only)
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def database_path(path: str | Path, *, create: bool) -> Path:
    """The database file `path`, or TargetError saying why it cannot be one: a folder, a device, a
    file that is not DuckDB's."""
    path = Path(path)
    # DuckDB takes the absolute path as UTF-8: a byte that is not (in the name or any folder above)
    # was a UnicodeEncodeError traceback in every command
    if shown := not_utf8(path.absolute()):
        raise TargetError(
            f"cannot use {shown}: its name is not UTF-8, which DuckDB needs: rename it (or the folder that is not) "
            "or give another --path"
        )
    if in_a_link_loop(path):  # not there, to exists(): a new database would be renamed over the link
        raise TargetError(f"{path} is a loop of symbolic links: point the link at a DuckDB database file, or remove it")
    if path.is_dir():
        raise TargetError(f"{path} is a folder, not a DuckDB database: give a file name, e.g. {path / 'ecom.duckdb'}")
    if not path.exists():
        if not create:
            raise TargetError(f"no DuckDB database at {path}: run `ecom generate` or `ecom load FOLDER` first")
        if blocker := file_in_the_way(path):
            raise TargetError(f"cannot make {path}: {blocker} is a file, not a folder; give another --path")
        return path
    if not path.is_file():
        raise TargetError(f"{path} is not a regular file: give a DuckDB database file")
    try:
        is_duckdb = is_duckdb_database(path)
    except OSError as e:
        raise TargetError(f"cannot read {path}: {describe_os_error(e)}; check its permissions") from None
    if not is_duckdb:
        raise TargetError(f"{path} exists and is not a DuckDB database: give another --path (it was left untouched)")
    return path


def _check_writable(path: Path, new: bool) -> None:
    """DuckDB writes a change to the database `path` in a log file beside it (`path`.wal), except a
    large one, which it writes in the file itself. In a folder the user cannot write, a whole build
    committed and then `ecom run` failed to record it ("Failed to commit: Cannot open file ...wal"),
    after publishing; a small build failed with that line alone. A `new` file is made in the nearest
    folder there is: a read-only one was a traceback. Both refused before anything is done."""
    if new:
        folder = next(p for p in path.absolute().parents if p.exists())  # the file, or its folders, made there
        where = f"where {path} would be made: make the folder writable, or give another --path"
    else:
        real = path.resolve()  # DuckDB follows a link: the log is beside the file linked to
        folder = real.parent
        where = (
            f"where DuckDB keeps the log of changes to {real.name} ({real.name}.wal): make the folder writable, "
            "or move the database to one that is"
        )
    if why := write_refused(folder):
        raise TargetError(f"cannot write in {folder} ({why}), {where}; nothing was changed")


def _check_spill_folder(path: Path) -> None:
    """DuckDB takes any temp_directory and fails only when a sort spills, minutes into a large build,
    as 'model X failed: IO Error': a folder that is a file, or cannot be made or written, is refused
    when the target opens. DuckDB makes the folder itself, not a missing folder above it."""
    setting = f"ECOM_DUCKDB_TEMP_DIRECTORY={str(path)!r}"
    try:
        exists = path.exists()
        if exists and not path.is_dir():
            raise TargetError(f"{setting} is not a folder: give a folder, or unset it")
        where = path if exists else path.parent
        if not where.exists():
            raise TargetError(f"{setting} cannot be made, {where} does not exist: make it, give another, or unset it")
        if not where.is_dir():
            raise TargetError(f"{setting} cannot be made, {where} is a file: give a folder, or unset it")
        writable = os.access(where, os.W_OK | os.X_OK)
    except OSError as e:  # a folder on the way that cannot be read
        reason = describe_os_error(e)
        raise TargetError(f"{setting} cannot be checked ({reason}): give another folder, or unset it") from None
    if not writable:
        raise TargetError(f"{setting} cannot be written ({where} is not writable): give another folder, or unset it")
    # and a real write, for root, to whom os.access says yes on a read-only mount or in /proc: a
    # file of a unique name, or a folder where DuckDB would make its own (two commands may check at once)
    try:
        if exists:
            tempfile.TemporaryFile(dir=path).close()
        else:
            os.rmdir(tempfile.mkdtemp(dir=where))
    except OSError as e:
        why = f"{'writing a file in it' if exists else f'making it in {where}'}: {describe_os_error(e)}"
        raise TargetError(f"{setting} cannot be written ({why}): give another folder, or unset it") from None


def _open_error(path: Path, e: Exception) -> TargetError:
    text = first_line(e)
    if re.search(r"\block\b", text, re.IGNORECASE):  # not "block", as in a corrupt block's message
        return TargetError(
            f"{path} is in use by another process (another ecom or duckdb session holds its lock): "
            "close it or wait for it to finish, then retry"
        )
    # EACCES, a read-only mount, and EPERM ("Operation not permitted": an immutable file, a sandbox)
    if re.search(r"permission|read-only|not permitted", text, re.IGNORECASE):
        return TargetError(f"cannot write {path} ({text}): check the permissions of the file and its folder")
    return TargetError(f"cannot open the DuckDB database {path}: {text}{out_of_memory_advice(text)}")


# what each ECOM_DUCKDB_<NAME> takes, for the message refusing a value
_EXAMPLES = {
    "memory_limit": "4GB",
    "temp_directory": "a folder",
    "disabled_compression_methods": "none or fsst,dictionary",
    "preserve_insertion_order": "true or false",
}


def _refused(name: str, value: str, why: str) -> TargetError:
    """ECOM_DUCKDB_<NAME>'s `value` refused: `why`, and what it takes instead."""
    return TargetError(f"ECOM_DUCKDB_{name.upper()}={value!r} {why}; write e.g. {_EXAMPLES[name]}, or unset it")


def _literal(text: str) -> str:
    """A DuckDB string literal: quotes doubled; backslashes and newlines are plain characters in it."""
    return "'" + text.replace("'", "''") + "'"


class DuckDBTarget(Target):
    name = "duckdb"
    dialect = "duckdb"
    settings = {"path": str}
    embedded = True
    transactional = True
    write_errors = (*Target.write_errors, duckdb.Error)

    def __init__(self, path: str | Path = DEFAULT_DUCKDB_PATH, *, create: bool = True, read_only: bool = False):
        """Open (or with `create`, create) the database; `read_only` for commands that only read,
        which then work on a read-only file and beside other readers."""
        super().__init__()
        self.path = database_path(path, create=create and not read_only)
        self.created = not self.path.exists()  # by this connection: `discard` removes it again
        if not read_only:
            _check_writable(self.path, new=self.created)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = connect_duckdb(self.path, read_only=read_only)
            self._apply_settings()
            # The catalog is named after the file. A file called raw.duckdb or main.duckdb makes
            # `raw.orders` ambiguous, so its names carry the catalog; every other file's names do not,
            # so the staging views it stores still resolve after the file is renamed or copied.
            (catalog,) = self.con.raw_sql("SELECT current_database()").fetchone()
            self.catalog = catalog if catalog in (RAW.database, MODELS.database) else None
            if not read_only:
                self.con.raw_sql(f"CREATE SCHEMA IF NOT EXISTS {self.qualified(RAW)}")
                self._remove_scratch_folders()
        except (duckdb.Error, OSError, TargetError) as e:
            # half a new file (a full disk), or a new one whose settings were refused: nothing to keep
            # (it read as a database without raw tables); an existing file is closed, not left locked
            if self.created:
                self.discard()
            else:
                self.close()
            if isinstance(e, TargetError):  # a setting refused: said already
                raise
            raise _open_error(self.path, e) from None
        self.raw = Location(RAW.database, self.catalog)
        self.models = Location(MODELS.database, self.catalog)

    def qualified(self, loc: Location, name: str | None = None) -> str:
        """`"schema"` or `"schema"."name"` (behind the catalog where it must be), quoted for DuckDB's SQL."""
        parts = [self.catalog] * bool(self.catalog) + [loc.database] + ([name] if name else [])
        return ".".join('"' + p.replace('"', '""') + '"' for p in parts)

    def scratch_folder(self, purpose: str) -> Path:
        """A new folder beside the database for a command's temporary files (same disk as the data
        they become), named after the file so that the next writing command on this database, and
        only this one, removes it if the command was killed."""
        return Path(tempfile.mkdtemp(prefix=f"{self._scratch_prefix}{purpose}-", dir=self.path.parent))

    @property
    def _scratch_prefix(self) -> str:
        return f".{self.path.name}.ecom-"

    def _remove_scratch_folders(self) -> None:
        """Remove what a killed command left (a writing command holds the database's lock, so no
        other command is using them)."""
        for leftover in self.path.parent.glob(f"{glob.escape(self._scratch_prefix)}*"):
            shutil.rmtree(leftover, ignore_errors=True)

    @classmethod
    def open(
        cls, given: Mapping[str, Any], named: Mapping[str, Any], *, create: bool = False, read_only: bool = False
    ) -> DuckDBTarget:
        env = os.environ.get(PATH_ENV)
        if env is not None and not env.strip():
            raise TargetError(f"{PATH_ENV} is set but empty: unset it or set it to a database file name")
        path = given.get("path") or env or named.get("path") or DEFAULT_DUCKDB_PATH
        return cls(path, create=create, read_only=read_only)

    @classmethod
    def offline_locations(
        cls, given: Mapping[str, Any], named: Mapping[str, Any]
    ) -> tuple[Callable[[str], Location], Location]:
        return (lambda _: RAW), MODELS

    def _compile(self, expr: ir.Table) -> str:
        # Each column is cast to the type the expression declares: DuckDB widens SUM(BIGINT) to
        # HUGEINT, which would otherwise be stored and read back as DECIMAL(38, 0).
        columns = ", ".join(f'CAST("{c}" AS {DuckDBType.to_string(t)}) AS "{c}"' for c, t in expr.schema().items())
        return f"SELECT {columns} FROM ({self.con.compile(expr)})"

    def bind_parameters(self, values: Mapping[str, str]) -> None:
        # variables of the connection: in memory only, never in the database file
        for name, value in values.items():
            self.con.con.execute(f"SET VARIABLE {name} = ?", [value])

    def materialize(self, model: Model, expr: ir.Table) -> int:
        kind = "VIEW" if model.materialization(self.name) == "view" else "TABLE"
        self._drop_other_kind(model.name, kind)
        sql = self.compile(expr)
        created = self.con.raw_sql(f"CREATE OR REPLACE {kind} {self.qualified(self.models, model.name)} AS {sql}")
        # DuckDB answers CREATE TABLE AS with the row count: no second scan of the table.
        return int(created.fetchone()[0]) if kind == "TABLE" else self.row_count(model.name)

    def replace_partitions(self, model: Model, expr: ir.Table, since: dt.date) -> int:
        """Delete the partitions from `since` on and insert the new rows, in the build's transaction.

        The rows are computed into a temporary table first: they may read the model's own rows
        (before `since`), which the delete must not disturb while the query runs."""
        table = self.qualified(self.models, model.name)
        self.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE _ecom_partitions_new AS {self.compile(expr)}")
        column = f'"{model.partition_by}"'
        if expr.schema()[model.partition_by].is_timestamp():
            column = f"CAST({column} AS DATE)"
        self.con.raw_sql(f"DELETE FROM {table} WHERE {column} >= DATE '{since.isoformat()}'")
        self.con.raw_sql(f"INSERT INTO {table} BY NAME SELECT * FROM _ecom_partitions_new")
        self.con.raw_sql("DROP TABLE _ecom_partitions_new")
        return self.row_count(model.name)

    def describe(self, model: Model, description: str, columns: Mapping[str, str]) -> None:
        kind = "VIEW" if model.materialization(self.name) == "view" else "TABLE"
        ref = self.qualified(self.models, model.name)
        comments = [f"COMMENT ON {kind} {ref} IS {_literal(description)}"]
        comments += [f'COMMENT ON COLUMN {ref}."{column}" IS {_literal(text)}' for column, text in columns.items()]
        # One call for all (~300 comments a build): each call is a round trip through ibis and,
        # under --profile, a profile file DuckDB writes.
        self.con.raw_sql(";\n".join(comments))

    def place(self, loc: Location) -> str:
        # A schema name alone does not say which of a user's database files was meant.
        return f"{super().place(loc)} in {self.path}"

    def _kind(self, name: str) -> str | None:
        """What the model's name holds in the models' schema: "TABLE", "VIEW", or None."""
        found = self.con.con.execute(
            "SELECT table_type FROM information_schema.tables"
            " WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
            [self.models.database, name],
        ).fetchone()
        return None if found is None else "VIEW" if found[0] == "VIEW" else "TABLE"

    def table_schema(self, name: str) -> ibis.Schema | None:
        return self.table(name).schema() if self._kind(name) == "TABLE" else None

    def _drop_other_kind(self, name: str, kind: str) -> None:
        """DuckDB refuses to replace a table by a view or a view by a table: drop the other kind
        first (inside the build's transaction, so a failed build restores it)."""
        existing = self._kind(name)
        if existing and existing != kind:
            self.con.raw_sql(f"DROP {existing} {self.qualified(self.models, name)}")

    def _apply_settings(self) -> None:
        """DuckDB's settings for ecom's work, each overridden by ECOM_DUCKDB_<NAME>:

        - memory_limit: half the RAM, at most MEMORY_CAP_BYTES (2.5 GiB; e.g. ECOM_DUCKDB_MEMORY_LIMIT=8GB);
        - temp_directory: where large sorts spill beyond it (DuckDB's default: <path>.tmp beside the file);
        - disabled_compression_methods: FSST, DuckDB's string compression, whose analysis took a quarter of
          the time of writing the models at scale 1 for 5 % of the file (README, Performance); `none`
          enables it again;
        - preserve_insertion_order: false, so DuckDB may write a query's rows in the order its threads
          finish them (less CPU and memory, README, Performance): no model, test or output of ecom
          reads a table's rows in an order it did not ask for with ORDER BY; `true` preserves it.
        """
        settings = {
            "memory_limit": os.environ.get("ECOM_DUCKDB_MEMORY_LIMIT") or default_memory_limit(),
            "temp_directory": os.environ.get("ECOM_DUCKDB_TEMP_DIRECTORY"),
            "disabled_compression_methods": os.environ.get("ECOM_DUCKDB_DISABLED_COMPRESSION_METHODS") or "fsst",
            "preserve_insertion_order": os.environ.get("ECOM_DUCKDB_PRESERVE_INSERTION_ORDER") or "false",
        }
        if settings["temp_directory"]:
            _check_spill_folder(Path(settings["temp_directory"]))
        for name, value in settings.items():
            if not value:
                continue
            # DuckDB takes a memory limit that starts with "-" as no limit at all: not the cap asked for
            if name == "memory_limit" and value.lstrip().startswith("-"):
                raise _refused(name, value, "is negative, which DuckDB takes as no limit at all")
            try:
                self.con.con.execute(f"SET {name} = ?", [value])
            except Exception as e:
                raise _refused(name, value, f"is refused by DuckDB ({first_line(e)})") from None
        current = {name: self.con.con.execute(f"SELECT current_setting('{name}')").fetchone()[0] for name in settings}
        # an empty text is a setting turned off; False is a value
        self.resources = {name: "none" if value in (None, "") else value for name, value in current.items()}

    def advice(self, error: str) -> str:
        return out_of_memory_advice(error)

    def discard(self) -> None:
        """Close and remove the database file this target created (with its write-ahead log)."""
        self.close()
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            with contextlib.suppress(OSError):  # not over the error that made it discard: the file stays
                path.unlink(missing_ok=True)

    def peak_memory(self) -> int | None:
        """This process's peak resident memory so far, in bytes (DuckDB runs inside it): what the machine
        must hold. Not DuckDB's SYSTEM_PEAK_BUFFER_MEMORY, which read 5.1 GB in scale-10 builds whose
        process peaked at 3.5 GB (docs/performance.md). None without Python's `resource` (Windows)."""
        try:
            import resource
        except ImportError:
            return None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB

    def row_count(self, name: str) -> int:
        # SQL, not ibis: no lookup of the table's schema and no pandas result (a third of a view's count)
        return int(self.con.raw_sql(f"SELECT count(*) FROM {self.qualified(self.models, name)}").fetchone()[0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: a failed or interrupted build leaves every table as it was before it.

        Ctrl-C (or SIGTERM) during the COMMIT is held until the commit is done, then raised as
        InterruptedAfterCommit, so the user is told the data was committed. A DuckDB error (a
        full disk) becomes a TargetError saying nothing changed.
        """
        self.con.raw_sql("BEGIN TRANSACTION")
        try:
            yield
            stop_if_ctrl_c()  # one a query swallowed: the build did not complete as asked
            with signals_held() as interrupted:
                self.con.raw_sql("COMMIT")
        except BaseException as e:
            with contextlib.suppress(duckdb.Error):  # after a failed COMMIT there is nothing to roll back
                self.con.raw_sql("ROLLBACK")
            if isinstance(e, duckdb.Error):
                said = first_line(e)
                raise TargetError(f"{said}; nothing was changed in {self.path}{out_of_memory_advice(said)}") from None
            raise
        mark_committed()
        if interrupted:
            raise InterruptedAfterCommit

    def write_raw(self, tables: Mapping[str, pa.Table | Iterable[pa.RecordBatch]]) -> dict[str, int]:
        """Replace the given raw tables in one transaction; return their row counts.

        A value may be a whole Arrow table or an iterable of record batches (written as they come,
        so a large generated table never has to be in memory at once).
        """
        counts = {}
        self._sources.clear()
        with self.transaction():
            self._drop_raw_views(tables)
            for name, data in tables.items():
                counts[name] = self._replace(self.raw, name, RAW_SCHEMAS[name].to_pyarrow(), data)
        return counts

    def write_raw_files(self, files: Mapping[str, Path], description: str) -> None:
        """Replace the given raw tables by the contents of their Parquet files, in one transaction:
        DuckDB reads each file in parallel and compresses each table once. `description` becomes
        each table's comment (raw_descriptions), which any later replacement of the table drops."""
        self._sources.clear()
        with self.transaction():
            self._drop_raw_views(files)
            for name, path in files.items():
                table = self.qualified(self.raw, name)
                self.con.raw_sql(
                    f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet({_literal(str(path))})"
                )
                self.con.raw_sql(f"COMMENT ON TABLE {table} IS {_literal(description)}")

    def _drop_raw_views(self, names: Iterable[str]) -> None:
        """A raw table may be the user's view (over Parquet files, say): replacing it by a table
        drops the view first, as CREATE OR REPLACE TABLE refuses to replace a view."""
        for name in set(names) & set(self._raw_objects("duckdb_views()", "view_name")):
            self.con.raw_sql(f"DROP VIEW {self.qualified(self.raw, name)}")

    def raw_descriptions(self) -> dict[str, str | None]:
        """Each raw table's or view's comment (None: none), by name: what wrote it, when ecom says."""
        return {
            **self._raw_objects("duckdb_tables()", "table_name"),
            **self._raw_objects("duckdb_views()", "view_name"),
        }

    def _raw_objects(self, catalog: str, name: str) -> dict[str, str | None]:
        rows = self.con.con.execute(
            f"SELECT {name}, comment FROM {catalog} WHERE database_name = current_database() AND schema_name = ?",
            [self.raw.database],
        ).fetchall()
        return dict(rows)

    def write_table(self, name: str, data: pa.Table) -> None:
        self._replace(self.models, name, data.schema, data)

    def _replace(self, loc: Location, name: str, schema: pa.Schema, data: pa.Table | Iterable[pa.RecordBatch]) -> int:
        """Replace the table by the data; return its row count (DuckDB's answer to CREATE TABLE AS)."""
        batches = data.to_batches() if isinstance(data, pa.Table) else data
        self.con.con.register("_ecom_incoming", pa.RecordBatchReader.from_batches(schema, batches))
        try:
            sql = f"CREATE OR REPLACE TABLE {self.qualified(loc, name)} AS SELECT * FROM _ecom_incoming"
            return int(self.con.raw_sql(sql).fetchone()[0])
        finally:
            self.con.con.unregister("_ecom_incoming")
