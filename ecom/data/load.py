"""Reading a user's export (one Parquet or CSV file per raw table) and writing raw tables.

Everything is checked against the source contract before anything is written, and the raw
tables are replaced in one transaction: on any problem the database is left as it was.
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ecom.core.files import in_a_link_loop
from ecom.core.sources import (
    MADE_BY_SPEND,
    RAW_SCHEMAS,
    Problem,
    SourceContractError,
    check_schema,
    orphan_items,
    orphans_warning,
    value_problems,
)
from ecom.core.text import counted
from ecom.data.generate import generated_tables
from ecom.targets.base import Target, TargetError, first_line

SUFFIXES = (".parquet", ".csv")

# a zone at the end of an ISO timestamp: Z, +hh, +hhmm or +hh:mm (or -)
_ZONE = r"(Z|[+-]\d\d(:?\d\d)?)$"
_ISO = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?" + _ZONE


def find_files(folder: Path, table: str) -> list[Path]:
    """The table's files in the folder: one is right; two (a Parquet and a CSV) is an export over
    another, and which one is current only the user knows."""
    return [folder / f"{table}{suffix}" for suffix in SUFFIXES if (folder / f"{table}{suffix}").is_file()]


def near_misses(folder: Path, table: str) -> list[str]:
    """Files in the folder that look meant as the table's (ORDERS.CSV, order.csv, orders.csv.gz):
    "found none" alone left the user to spot the difference. Another table's file is not one."""
    exact = {f"{t}{suffix}" for t in RAW_SCHEMAS for suffix in SUFFIXES}
    try:
        stems = {p.name: p.name.split(".")[0].lower() for p in folder.iterdir() if p.name not in exact and p.is_file()}
    except OSError:  # the folder's listing refused: "found none" says what can be known
        return []
    close = difflib.get_close_matches(table, set(stems.values()), cutoff=0.85)
    return sorted(name for name, stem in stems.items() if stem in close and (stem == table or stem not in RAW_SCHEMAS))


def _csv_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f), [])


def _read_csv(path: Path, table: str) -> tuple[pa.Table, list[Problem]]:
    """A CSV with the contract's columns converted to the contract's types (empty field = NULL),
    and a problem for every contract column holding a value of the wrong type.

    Every column is read as text first, so that a bad value is reported against its column (with
    the value) instead of failing the whole file; extra columns stay text and are ignored later.
    """
    header = _csv_header(path)
    # a spreadsheet saved with its locale's separator: one column, and every contract column "no such column"
    if len(header) == 1 and header[0].count(separator := max(";\t|", key=header[0].count)):  # the most used
        raise csv.Error(f"its columns are separated by {separator!r}, not commas: save it as comma-separated")
    data = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            # only an empty field is NULL (BigQuery's export): pyarrow's default list would also
            # turn text such as `null` (a thelook city) or `NA` into NULL
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    problems = []
    for c, t in RAW_SCHEMAS[table].items():
        if c not in data.column_names or t.is_string():
            continue
        try:
            converted = _convert_text(data.column(c), t)
        except pa.ArrowInvalid as e:
            problems.append(Problem(table, c, str(t), _bad_value(e)))
            continue
        data = data.set_column(data.schema.get_field_index(c), c, converted)
    return data, problems


def _convert_text(col: pa.ChunkedArray, t: dt.DataType) -> pa.ChunkedArray:
    """CSV text to a contract type; raises pa.ArrowInvalid naming the first bad value."""
    if t.is_timestamp():
        return _parse_timestamps(col)
    if not t.is_integer():
        return col.cast(t.to_pyarrow())
    try:
        return col.cast(pa.int64())
    except pa.ArrowInvalid as not_int:
        # a whole number written as a float (`1.0`, as pandas writes an int column with NULLs)
        try:
            floats = col.cast(pa.float64())
            if not pc.any(pc.not_equal(pc.floor(floats), floats)).as_py():
                return floats.cast(pa.int64())
        except pa.ArrowInvalid:
            pass
        raise not_int from None


def _bad_value(e: pa.ArrowInvalid) -> str:
    """The offending value from Arrow's "Failed to parse string: 'x' as a scalar of type ..."."""
    message = str(e).strip().splitlines()[0]
    if message.startswith("Failed to parse string: "):
        value = message.removeprefix("Failed to parse string: ").split(" as a scalar of type")[0]
        return f"text {value}"
    return message


def _parse_timestamps(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 text to UTC microseconds: `T` or space between date and time, whole or fractional
    seconds (beyond microseconds truncated), a zone (`Z`, `+00:00`, `+0000`, `+02:00`, ` UTC`) or
    none (read as UTC), or a bare date (midnight UTC)."""
    text = pc.utf8_trim_whitespace(col)
    text = pc.replace_substring_regex(text, r" ?UTC$", "Z")
    text = pc.replace_substring_regex(text, r"(\.\d{6})\d+", r"\1")
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d\d-\d\d)$", r"\1 00:00:00")
    text = pc.if_else(pc.match_substring_regex(text, _ZONE), text, pc.binary_join_element_wise(text, "Z", ""))
    not_iso = pc.invert(pc.fill_null(pc.match_substring_regex(text, _ISO), True))
    if pc.any(not_iso).as_py():  # NULL (not False) for an empty column
        bad = pc.filter(col, not_iso)[0].as_py()
        raise pa.ArrowInvalid(f"Failed to parse string: {bad!r} as a scalar of type timestamp")
    return text.cast(pa.timestamp("us", tz="UTC"))


def to_contract(table: str, data: pa.Table) -> pa.Table:
    """The contract's columns in the contract's types: timestamps as UTC microseconds (naive ones
    read as UTC; nanoseconds truncated), integers as int64, floats as float64. Extra columns are
    dropped."""
    schema = RAW_SCHEMAS[table]
    columns = []
    for c, t in schema.items():
        col = data.column(c)
        if t.is_timestamp() and pa.types.is_timestamp(col.type):
            # unsafe only in dropping digits below the microsecond (a ns export); the zone, if any,
            # only labels the same UTC instants
            col = col.cast(pa.timestamp("us", tz=col.type.tz), safe=False)
            if col.type.tz is None:
                col = pc.assume_timezone(col, "UTC")
        columns.append(col.cast(t.to_pyarrow()))
    return pa.Table.from_arrays(columns, schema=schema.to_pyarrow())


def _found_schema(data: pa.Table) -> tuple[pa.Table, ibis.Schema]:
    """The table with dictionary columns decoded, and its schema as ibis types (a type ibis cannot
    map becomes an unknown type named like Arrow's, which the contract check reports)."""
    types = {}
    for i, f in enumerate(data.schema):
        if pa.types.is_dictionary(f.type):
            data = data.set_column(i, f.name, data.column(i).cast(f.type.value_type))
            f = data.schema.field(i)
        try:
            types[f.name] = ibis.dtype(f.type)
        except Exception:
            types[f.name] = dt.Unknown(raw_type=str(f.type))
    return data, ibis.schema(types)


def read_folder(folder: str | Path) -> dict[str, pa.Table]:
    """Every raw table of an export folder, checked and converted; raises SourceContractError
    listing every problem (missing or unreadable files, missing columns, wrong types, unparseable
    CSV values, unusable values: `value_problems`) before anything could be written. An empty
    table is valid data (a build then needs an explicit as_of when orders is empty). marketing_spend
    may be left out (thelook has none): it is then not among the tables returned."""
    folder = Path(folder)
    if in_a_link_loop(folder):
        raise SourceContractError(
            f"{folder} is a loop of symbolic links: point it at the export's folder, or give another"
        )
    if not folder.is_dir():
        raise SourceContractError(f"{folder} is not a folder: give a folder with one file per raw table")
    problems: list[Problem] = []
    tables: dict[str, pa.Table] = {}
    for table in RAW_SCHEMAS:
        data, table_problems = _read_table(folder, table)
        problems += table_problems
        if data is not None:
            tables[table] = data
    if problems:
        raise SourceContractError.of(problems, str(folder), "Fix the export and load it again; nothing was loaded.")
    return tables


def _read_table(folder: Path, table: str) -> tuple[pa.Table | None, list[Problem]]:
    """One raw table's file in the folder, in the contract's types, and its problems; no table when
    the file is missing (marketing_spend may be), unreadable, or not of the contract's shape."""
    files = find_files(folder, table)
    near = [] if files else near_misses(folder, table)
    # marketing_spend may be left out, but not unsaid when a file of data is named nearly so
    # (MARKETING_SPEND.CSV); a backup beside it (marketing_spend.csv.bak) is no such file
    if not files and table == MADE_BY_SPEND and not any(n.lower().endswith(SUFFIXES) for n in near):
        return None, []
    if len(files) != 1:
        found = " and ".join(f.name for f in files) or "none"
        if near:
            there = f"{' and '.join(near)} {'is' if len(near) == 1 else 'are'} there"
            found += f" ({there}: the name must be exactly one of these)"
        return None, [Problem(table, None, f"a single file {table}.parquet or {table}.csv", found)]
    path = files[0]
    try:
        if path.suffix == ".parquet":
            data, text_problems = pq.read_table(path), []
        else:
            data, text_problems = _read_csv(path, table)
        data, found = _found_schema(data)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as e:
        return None, [Problem(table, None, f"a readable {path.suffix[1:]} file", f"{path.name}: {first_line(e)}")]
    bad_columns = {p.column for p in text_problems}
    problems = text_problems + [p for p in check_schema(table, found) if p.column not in bad_columns]
    if problems:
        return None, problems
    try:
        data = to_contract(table, data)
    except pa.ArrowException as e:  # e.g. a uint64 beyond int64, a decimal beyond float64
        return None, [Problem(table, None, "values that fit the contract's types", first_line(e))]
    return data, value_problems({table: ibis.memtable(data)})


def orphans_in(tables: dict[str, pa.Table]) -> list[str]:
    """The warning of order items whose order is not in the export (read_folder's tables): the
    build will leave them out, so a load that lost orders says so at once."""
    found = orphan_items({t: ibis.memtable(tables[t]) for t in ("orders", "order_items")}).to_pyarrow()
    return orphans_warning(found[0][0].as_py())


def load_into(target: Target, tables: dict[str, pa.Table], allow_empty: bool = False) -> tuple[dict[str, int], str]:
    """Replace the target's raw tables with an export's (`read_folder`'s): the rows loaded per
    table, and a warning naming the tables left with fewer rows than they had ('' when none).

    An empty file over a table with rows is more often a failed export than a shop without orders:
    refused unless `allow_empty` says it is meant (TargetError, nothing written). Rows may be deleted
    on purpose, so a table that shrinks is loaded; but a folder of only the new day's rows, read as an
    append, would leave the marts with one day of history: the warning says load replaces."""
    # on BigQuery from the tables' metadata, no query
    held = {name: rows for name in tables if (rows := target.raw_rows(name)) is not None}
    emptied = [
        f"{name} ({counted(held[name], 'row')} now)" for name, t in tables.items() if not t.num_rows and held.get(name)
    ]
    if emptied and not allow_empty:
        raise TargetError(
            f"the export has no rows for {', '.join(emptied)}: loading it would empty them; check the export, "
            "or pass --allow-empty to load it as it is"
        )
    # The synthetic rows of `ecom generate` are no history of the shop's: replacing them is the
    # README's path from the demo to one's own export, not an export missing days.
    synthetic = generated_tables(target)
    counts = target.write_raw(tables)
    shrunk = [
        f"{name} has {counted(n, 'row')}, {held[name]:,} before"
        for name, n in counts.items()
        if 0 < n < held.get(name, 0) and name not in synthetic
    ]
    warning = (
        f"{'; '.join(shrunk)}: ecom load replaces each raw table with its file, it does not append: "
        "load an export of every row, not only the new ones"
    )
    return counts, warning if shrunk else ""
