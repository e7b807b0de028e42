"""Reading a user's export (one Parquet or CSV file per raw table) and writing raw tables.

Everything is checked against the source contract before anything is written, and the raw
tables are replaced in one transaction: on any problem the database is left as it was.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ecom.sources import RAW_SCHEMAS, Problem, SourceContractError, check_schema, format_problems

SUFFIXES = (".parquet", ".csv")


def find_file(folder: Path, table: str) -> Path | None:
    for suffix in SUFFIXES:
        if (folder / f"{table}{suffix}").is_file():
            return folder / f"{table}{suffix}"
    return None


def _read_csv(path: Path, table: str) -> pa.Table:
    """A CSV read with the contract's types for the contract's columns (empty field = NULL)."""
    header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)).schema.names
    types = {
        c: (pa.string() if t.is_timestamp() else t.to_pyarrow())
        for c, t in RAW_SCHEMAS[table].items()
        if c in header
    }
    data = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    # Timestamps are parsed here rather than by the CSV reader so that any ISO form works:
    # with or without a zone suffix, with or without fractional seconds.
    for c, t in RAW_SCHEMAS[table].items():
        if c in header and t.is_timestamp():
            i = data.schema.get_field_index(c)
            data = data.set_column(i, c, _parse_timestamps(data.column(c)))
    return data


def _parse_timestamps(col: pa.ChunkedArray) -> pa.ChunkedArray:
    text = pc.replace_substring_regex(col, r"(Z|\+00:?00| UTC)$", "")
    text = pc.replace_substring(text, "T", " ")
    # strptime's %S takes no fraction: parse as ISO via a cast (up to nanoseconds), then truncate
    # to the contract's microseconds.
    parsed = pc.cast(text, pa.timestamp("ns")).cast(pa.timestamp("us"), safe=False)
    return parsed.cast(pa.timestamp("us", tz="UTC"))


def to_contract(table: str, data: pa.Table) -> pa.Table:
    """The contract's columns in the contract's types: timestamps as UTC microseconds (naive ones
    read as UTC), integers as int64, floats as float64. Extra columns are dropped."""
    import ibis

    schema = RAW_SCHEMAS[table]
    columns = []
    for c, t in schema.items():
        col = data.column(c)
        if t.is_timestamp() and col.type.tz is None and pa.types.is_timestamp(col.type):
            col = pc.assume_timezone(col.cast(pa.timestamp("us")), "UTC")
        columns.append(col.cast(t.to_pyarrow()))
    return pa.Table.from_arrays(columns, schema=ibis.schema(schema).to_pyarrow())


def read_folder(folder: str | Path) -> dict[str, pa.Table]:
    """Every raw table of an export folder, checked and converted; raises listing every problem."""
    import ibis

    folder = Path(folder)
    if not folder.is_dir():
        raise SourceContractError(f"{folder} is not a folder: give a folder with one file per raw table")
    problems: list[Problem] = []
    tables: dict[str, pa.Table] = {}
    for table in RAW_SCHEMAS:
        path = find_file(folder, table)
        if path is None:
            problems.append(Problem(table, None, f"a file {table}.parquet or {table}.csv", "none"))
            continue
        try:
            data = pq.read_table(path) if path.suffix == ".parquet" else _read_csv(path, table)
        except (pa.ArrowException, OSError) as e:
            first = str(e).strip().splitlines()[0]
            problems.append(Problem(table, None, f"a readable {path.suffix[1:]} file", f"{path.name}: {first}"))
            continue
        found = ibis.schema({f.name: ibis.dtype(f.type) for f in data.schema})
        table_problems = check_schema(table, found)
        problems += table_problems
        if not table_problems:
            tables[table] = to_contract(table, data)
    if problems:
        raise SourceContractError(format_problems(problems, str(folder)))
    return tables
