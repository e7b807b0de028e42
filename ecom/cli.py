"""The `ecom` command line: raw data in (generate, load, spend), build, compile, test, report, docs,
freshness, the unattended run and its history (run, runs), and ls.

Conventions follow dbt: `--select` graph selectors, `--vars`, `--target`. Expected failures (bad
input, missing data or credentials, a failing model) print one line and exit 1 (stale data: 2, from
freshness and run; Ctrl-C: 130, SIGTERM: 143); nothing else is caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import functools
import inspect
import os
import textwrap
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import rich.table
import typer
from rich.console import Console, ConsoleDimensions, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperCommand

from ecom.core import engine, incremental
from ecom.core import freshness as fresh
from ecom.core.files import FileWriteError, atomic_write_all, describe_os_error, not_utf8
from ecom.core.internal import InternalTableError
from ecom.core.interrupts import (
    committed,
    ctrl_c_pressed,
    mark_said,
    replaced,
    stop_if_ctrl_c,
    stopped_by,
    watching_ctrl_c,
)
from ecom.core.registry import Project, ProjectError
from ecom.core.sources import MADE_BY_SPEND, SourceContractError
from ecom.core.text import counted
from ecom.core.vars import VarsError, check_given, parse_vars, printable, resolve_vars
from ecom.targets import duckdb
from ecom.targets.base import InterruptedAfterCommit, Target, TargetError, first_line
from ecom.targets.bigquery.config import PLACEHOLDER_PROJECT, empty_flag
from ecom.targets.options import TARGET_ENV, ChosenTarget, TargetOptions, choose_target, open_target

if TYPE_CHECKING:  # for annotations only: the commands import ecom.run when they run
    from ecom.run import Outcome

app = typer.Typer(
    help="Portable e-commerce profitability models: build on DuckDB or BigQuery, compile, test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Console(Console):
    """rich's Console, except when no terminal is attached at all (a scheduler's log, a CI job):
    rich then lays everything out in 80 columns, which cuts model names short in the build's table
    (`fact_attribution_m…`) and folds every table into a column of words. There the width is
    LOG_WIDTH; a terminal, or COLUMNS, still decides when present."""

    @property
    def size(self) -> ConsoleDimensions:
        found = super().size
        if "COLUMNS" not in os.environ and not any(map(os.isatty, (0, 1, 2))):
            return ConsoleDimensions(LOG_WIDTH, found.height)
        return found


LOG_WIDTH = 200
# No rich markup in what ecom prints: paths, URLs and messages are the user's text, and a folder
# named `export[final]` printed as `export`. Colour is given as styled Text where wanted.
out = _Console(markup=False)
err = _Console(stderr=True, markup=False)


INDENT = "    "  # of a wrapped line's continuation
# lines broken at spaces only: never inside a number, a date or a name
wrap_words = functools.partial(textwrap.wrap, break_long_words=False, break_on_hyphens=False)


def _allocated(room: int, least: list[int], most: list[int]) -> list[int]:
    """Each column's width in `room`: its longest word first; then, with the room left, the columns
    that need least to fit whole get it, and the last ones share what remains in proportion."""
    if sum(most) <= room:
        return list(most)
    widths, spare = list(least), room - sum(least)
    by_need = sorted(range(len(widths)), key=lambda i: most[i] - least[i])
    for k, i in enumerate(by_need):
        if most[i] - least[i] > spare:  # this one and the rest cannot all fit whole
            wanted = sum(most[j] - least[j] for j in by_need[k:])
            for j in by_need[k:]:
                widths[j] += (most[j] - least[j]) * spare // wanted
            break
        widths[i], spare = most[i], spare - (most[i] - least[i])
    return widths


def _wrapped(room: int, least: list[int], most: list[int]) -> int:
    """How many columns' values would wrap at the widths _allocated gives them."""
    return sum(width < whole for width, whole in zip(_allocated(room, least, most), most, strict=True))


class _FittedTable(rich.table.Table):
    """rich's Table, fitted to the terminal without cutting a word. rich shrinks the widest columns
    towards the others until all are about as wide, and then cuts every cell: at 80 columns `ecom
    freshness` printed `invento…` and `2024-03…` with room for every word whole, and the build's
    inventory summary a stock value as `420,362.…`. Here each column gets its longest word first;
    then, with the room left, the columns that need least to fit whole get it, and the last ones
    share what remains in proportion. Headers in snake_case (a mart's column names, a summary's
    widest words) break after each underscore first, when the table is wider than the terminal.
    Where the longest words still cannot all fit, each row is a line of its own: its first cell,
    then each other header and value."""

    def _widths(self, console: Console, options: ConsoleOptions) -> tuple[int, list[int], list[int]]:
        """The room for the cells at options' width, and each column's longest word and whole width."""
        padding = self.padding[1] + self.padding[3]
        room = options.max_width - (len(self.columns) + 1) - padding * len(self.columns)
        sizes = [
            [Measurement.get(console, options, cell) for cell in (column.header, *column.cells)]
            for column in self.columns
        ]
        return (
            room,
            [max(m.minimum for m in column) for column in sizes],
            [max(m.maximum for m in column) for column in sizes],
        )

    def _fit_headers(self, console: Console, options: ConsoleOptions) -> tuple[int, list[int], list[int]]:
        """_widths, after breaking the headers at their underscores where that wraps fewer columns'
        values, or keeps the table a table: a header on lines reads better than a value wrapped (RFM's
        `Potential Loyalists` over two lines read as a segment `Loyalists` with no figures). Where
        only a long cell wraps either way (a run's message), the headers stay whole: `as_` over `of`
        kept no value whole."""
        plain = [column for column in self.columns if isinstance(column.header, str)]  # not rich Text
        for column in self.columns:  # a table printed again, at another width, is fitted again
            column.width = None
        self._break_headers(plain, False)
        fit = self._widths(console, options)
        if sum(fit[2]) > fit[0] and any("_" in column.header for column in plain):
            self._break_headers(plain, True)
            broken = self._widths(console, options)
            if sum(fit[1]) > fit[0] or _wrapped(*broken) < _wrapped(*fit):
                return broken
            self._break_headers(plain, False)
        return fit

    @staticmethod
    def _break_headers(columns: list[rich.table.Column], broken: bool) -> None:
        for column in columns:
            whole = column.header.replace("_\n", "_")
            column.header = whole.replace("_", "_\n") if broken else whole

    def words_fit(self, console: Console) -> bool:
        """Whether every word of every cell fits whole in the console's width, as a table."""
        room, least, _ = self._fit_headers(console, console.options)
        return sum(least) <= room

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room, least, most = self._fit_headers(console, options)
        if sum(least) > room:
            yield from self._as_lines(options.max_width)
            return
        if sum(most) > room:
            for column, width in zip(self.columns, _allocated(room, least, most), strict=True):
                column.width = width
        yield from super().__rich_console__(console, options)

    def _as_lines(self, width: int) -> Iterator[Text]:
        """The title, then a line a row, `first cell: header value; header value`, wrapped to `width`
        under a 4-column indent; a coloured cell (a freshness status) and a row's style are kept."""
        if self.title:
            yield Text(str(self.title), style="table.title")
        headers = [" ".join(str(column.header).replace("_\n", "_").split()) for column in self.columns[1:]]
        for row, cells in zip(self.rows, zip(*(column.cells for column in self.columns), strict=True), strict=True):
            # each cell's whitespace one space (a Text keeps its style): textwrap's lines are then slices
            name, *values = (
                Text(" ".join(str(c).split()), style=c.style if isinstance(c, Text) else "") for c in cells
            )
            pairs = [Text.assemble(f"{h} ", v) for h, v in zip(headers, values, strict=True) if v.plain]
            line = Text.assemble(name, ": " if pairs else "", Text("; ").join(pairs), style=row.style or "")
            start = 0
            for k, piece in enumerate(wrap_words(line.plain, width, subsequent_indent=INDENT)):
                piece = piece.removeprefix(INDENT) if k else piece
                yield Text.assemble(INDENT if k else "", line[start : start + len(piece)])
                start += len(piece) + 1


def Table(*columns: str, title: str | None = None, **options: Any) -> _FittedTable:  # noqa: N802 (rich's name)
    """A _FittedTable at least as wide as its title: rich wraps a title to the table's width, which
    broke "Loaded <folder> into <place>" over two narrow columns into three centred lines."""
    return _FittedTable(*columns, title=title, min_width=len(title or ""), **options)


EXPECTED = (
    SourceContractError,
    ProjectError,
    VarsError,
    engine.BuildError,
    TargetError,
    FileWriteError,
    fresh.FreshnessError,
    InternalTableError,
)


@contextmanager
def friendly_errors(*expected: type[Exception]) -> Iterator[None]:
    """Expected failures (EXPECTED, and a command's own `expected`) become one readable line and
    exit code 1 (printed as plain text: a message naming `[bigquery.sources]` must not be read as
    rich markup and lose it); Ctrl-C one line saying whether the data was committed, and exit code 130
    (SIGTERM the same, "terminated", 143)."""
    with watching_ctrl_c():
        try:
            yield
        except InterruptedAfterCommit as e:
            _interrupted(saved=True, undone=str(e))
        except KeyboardInterrupt:
            _interrupted(saved=committed())
        except Exception as e:
            # what a Ctrl-C became: DuckDB's RuntimeError('Query interrupted'), a model "failed:
            # Query interrupted", an error or exit it led to
            if ctrl_c_pressed():
                _interrupted(saved=committed())
            # the expected failures; BigQuery's refusals (permissions, quotas, expired credentials)
            # reached through ibis; DuckDB's outside a build (a corrupt file, a memory limit too small)
            message = (
                str(e)
                if isinstance(e, (*EXPECTED, *expected))
                else _google_error(e) or _duckdb_error(e) or _path_error(e)
            )
            if message is None:
                raise
            err.print(Text.assemble(("error:", "bold red"), f" {message}"), highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        if ctrl_c_pressed():  # dropped on the way; no transaction committed after it
            _interrupted(saved=committed())


def _interrupted(saved: bool, undone: str = "") -> NoReturn:
    mark_said()
    word, code = stopped_by()
    if saved:
        err.print(
            f"{word} after the commit completed: the new data is saved; "
            + (undone or "the rest of the output was skipped"),
            soft_wrap=True,
        )
    elif replaced():
        err.print(
            f"{word} after some tables were replaced (this target has no transaction across them): the rest "
            "are as they were; run the command again to finish (a build: `ecom build` of every model)",
            soft_wrap=True,
        )
    else:
        err.print(f"{word}: nothing was committed, existing tables and files are as they were", soft_wrap=True)
    raise typer.Exit(code) from None


def _duckdb_error(e: Exception) -> str | None:
    import duckdb as duckdb_client

    if not isinstance(e, duckdb_client.Error):
        return None
    hint = duckdb.out_of_memory_advice(first_line(e))
    if isinstance(e, duckdb_client.CatalogException):
        hint = ": load the raw data (`ecom load FOLDER` or `ecom generate`) and build the models (`ecom build`) first"
    return f"DuckDB: {first_line(e)}{hint}"


def _path_error(e: Exception) -> str | None:
    """A name too long for the file system (`--out` of 300 characters), which failed in the first
    `stat` of it, wherever that was; or one that is not UTF-8, which a library could not encode."""
    # a name that is not UTF-8 (surrogate escapes of its bytes), which Arrow refuses to encode: a
    # `--parquet` or `--publish` folder made on a Latin-1 system
    if isinstance(e, UnicodeEncodeError) and e.reason == "surrogates not allowed" and (shown := not_utf8(e.object)):
        return f"cannot use {shown}: its name is not UTF-8, which the file formats need: rename it or give another name"
    # only what the name itself causes: another OSError (a file of ecom's own missing) is a bug to show whole
    if not isinstance(e, OSError) or e.filename is None or e.errno != errno.ENAMETOOLONG:
        return None
    return f"cannot use {e.filename}: {e.strerror}: give a shorter name"


def _google_error(e: Exception) -> str | None:
    if not type(e).__module__.startswith("google."):
        return None
    from ecom.targets.bigquery.errors import describe_error

    return describe_error(e)


# The target options, declared once (dbt-core's cli/params.py pattern) and stacked on every command
# that works on a target by `@target_options`; they fill one TargetOptions (ecom/targets/options.py).
def _target_option(help: str, *names: str) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help, rich_help_panel="Target (flag > environment > named target > default)")


TARGET_OPTIONS = {
    "target": Annotated[
        str | None,
        _target_option(
            f"A target named in ecom.toml (default: its `default`), or a type: duckdb or bigquery "
            f"(env {TARGET_ENV}; without either, duckdb).",
            "--target",
            "-t",
        ),
    ],
    "path": Annotated[
        Path | None,
        _target_option(f"DuckDB database file (env {duckdb.PATH_ENV}, default {duckdb.DEFAULT_DUCKDB_PATH})."),
    ],
    "project": Annotated[str | None, _target_option("BigQuery project (env ECOM_BQ_PROJECT).")],
    "dataset": Annotated[str | None, _target_option("BigQuery dataset for the models (env ECOM_BQ_DATASET).")],
    "raw_dataset": Annotated[
        str | None,
        _target_option("BigQuery dataset of the raw tables, project.dataset or dataset (env ECOM_BQ_RAW_DATASET)."),
    ],
    "location": Annotated[str | None, _target_option("BigQuery location, e.g. US or EU (env ECOM_BQ_LOCATION).")],
    "endpoint": Annotated[
        str | None,
        _target_option(
            "BigQuery API endpoint, for an emulator: http://HOST:PORT or HOST:PORT (env BIGQUERY_EMULATOR_HOST)."
        ),
    ],
    "max_bytes_billed": Annotated[
        str | None,
        _target_option(
            "BigQuery: the cap on bytes billed per query job, e.g. 10GiB, 500MB; 0 for none "
            "(env ECOM_BQ_MAX_BYTES_BILLED, default 10GiB)."
        ),
    ],
    "threads": Annotated[
        str | None,
        _target_option("BigQuery: models a build runs at once, 1 to 64 (env ECOM_BQ_THREADS, default 4)."),
    ],
}


def target_options(command: Callable[..., None]) -> Callable[..., None]:
    """Stack the target options on a command: it declares one parameter `target: TargetOptions` and
    receives every target option in it (typer sees them as the command's own options)."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "target"]
    stacked = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        for name, annotation in TARGET_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_target(**kwargs: Any) -> None:
        command(target=TargetOptions(**{name: kwargs.pop(name) for name in TARGET_OPTIONS}), **kwargs)

    with_target.__signature__ = signature.replace(parameters=[*own, *stacked])  # type: ignore[attr-defined]
    with_target.__annotations__ = {p.name: p.annotation for p in [*own, *stacked]}
    return with_target


MANY_WORDS = ("--select", "-s", "--exclude", "--vars")  # the options of _ManyWords


class _ManyWords(TyperCommand):
    """Options of several words, as dbt's: each word after --select, -s or --exclude up to the next
    option is one of its values (`--select a b` is `--select a --select b`), and the words after
    --vars up to the next option are one value, as if quoted (`--vars as_of=2024-06-30 x=5`,
    `--vars {as_of: 2024-06-30}`). Click took the first word only and refused the second as an extra
    argument. `ecom ls MODEL` takes its model before the options."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        spread: list[str] = []
        flag = None  # the option the words now belong to
        for arg in args:
            if arg[:1] == "-" and arg[1:2].isalpha() or arg[:2] == "--":  # an option, not a value such as -1
                option, eq, value = arg.partition("=")  # --select=a is --select a
                flag = option if option in MANY_WORDS else None
                spread += [option, value] if flag and eq else [arg]
            elif flag == "--vars" and spread[-1] != flag:
                spread[-1] += " " + arg
            elif flag and spread[-1] != flag:  # a word after the selector's first value
                spread += [flag, arg]
            else:
                spread.append(arg)
        return super().parse_args(ctx, spread)


SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        "-s",
        help=(
            "Models: name, +name (with upstreams), name+ (with downstreams), 1+name / name+2 (that many "
            "generations), @name (its downstreams and all they read), a layer; several: -s a b."
        ),
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", help="Models to leave out of the selection, in --select's syntax (e.g. fact_daily_pnl+)."
    ),
]
VarsOpt = Annotated[
    list[str] | None,
    typer.Option("--vars", help="Build variables: '{as_of: 2024-06-30, session_timeout_minutes: 45}' or key=value."),
]


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        # rich draws no bar on a stderr that is no terminal, yet prints an empty line when it stops,
        # which stood before a failing command's one-line error
        disable=not err.is_terminal,
    )


@app.command()
@target_options
def generate(
    scale: Annotated[float, typer.Option(help="1.0 = thelook's size (100,000 users).")] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
    end_date: Annotated[
        str | None, typer.Option(help="Last order date, YYYY-MM-DD (fixed default, never today).")
    ] = None,
    parquet: Annotated[Path | None, typer.Option(help="Also write one Parquet file per table here.")] = None,
    no_duckdb: Annotated[bool, typer.Option("--no-duckdb", help="Write only the Parquet folder.")] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Replace raw tables or Parquet files ecom generate did not write (e.g. a loaded export)."
        ),
    ] = False,
    *,
    target: TargetOptions,
) -> None:
    """Generate thelook-shaped synthetic raw data (plus marketing_spend) into the DuckDB raw schema
    and/or one Parquet file per table (--parquet)."""
    from ecom.data import generate as gen

    with friendly_errors(gen.GenerateError):
        try:
            end = dt.date.fromisoformat(end_date) if end_date else gen.DEFAULT_END_DATE
        except ValueError:
            raise VarsError(f"--end-date must be a date written YYYY-MM-DD, not {end_date!r}") from None
        if no_duckdb and parquet is None:
            raise VarsError("--no-duckdb needs --parquet DIR: there would be nowhere to write")
        tgt = None if no_duckdb else _generate_into(choose_target(target))
        with _created_file_removed_on_failure(tgt), progress() as bar:
            task = bar.add_task("generating", total=None)

            def on_rows(table: str, rows: int) -> None:
                bar.update(task, description=f"generating {table}", advance=rows)

            counts = gen.run(scale, seed, end, tgt, parquet, on_rows, replace)
        where = [str(tgt.path)] if tgt else []
        where += [str(parquet)] if parquet else []
        summary = Table(
            "raw table", "rows", title=f"Generated (scale {scale}, seed {seed}, to {end}) into {', '.join(where)}"
        )
        for table, rows in counts.items():
            summary.add_row(table, f"{rows:,}")
        out.print(summary)


@contextmanager
def _created_file_removed_on_failure(tgt: Target | None) -> Iterator[None]:
    """A database file the command created is removed if it fails before committing (refused,
    interrupted, a full disk): no empty database is left behind. Once committed it stays (a Ctrl-C
    held during the commit: InterruptedAfterCommit)."""
    try:
        yield
    except BaseException:
        if isinstance(tgt, duckdb.DuckDBTarget) and tgt.created and not committed():
            tgt.discard()
        raise


def _generate_into(chosen: ChosenTarget) -> Target:
    if not chosen.type.embedded:
        raise TargetError(
            f"ecom generate writes into a local DuckDB file, not target {chosen.name} ({chosen.type.name}): "
            "generate Parquet with --parquet DIR --no-duckdb, then `ecom load DIR` into that target"
        )
    return chosen.open(create=True)


@app.command()
@target_options
def load(
    folder: Annotated[Path, typer.Argument(help="A folder with one Parquet or CSV file per raw table.")],
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Let a file with no rows replace a raw table that has rows.")
    ] = False,
    *,
    target: TargetOptions,
) -> None:
    """Load your own export (e.g. thelook from BigQuery) into the raw tables, each file replacing its
    table (an export holds every row, not only the new ones), checked first: on any problem nothing
    is written."""
    from ecom.data.load import load_into, orphans_in, read_folder

    with friendly_errors():
        tables = read_folder(folder)
        tgt = open_target(target, create=True)
        with _created_file_removed_on_failure(tgt):
            counts, shrunk = load_into(tgt, tables, allow_empty)
        summary = Table("raw table", "rows", title=f"Loaded {folder} into {engine.describe(tgt, raw=True)}")
        for table, rows in counts.items():
            summary.add_row(table, f"{rows:,}")
        out.print(summary)
        if shrunk:
            _warn(shrunk)
        for line in orphans_in(tables):  # the build will leave them out: say so while the export is at hand
            _warn(line)
        if MADE_BY_SPEND not in tables:
            out.print(_spend_left_out(tgt))


def _spend_left_out(tgt: Target) -> str:
    """What an export without marketing_spend (thelook's) left in place, and how to make one."""
    rows = tgt.raw_rows(MADE_BY_SPEND)
    if rows is None:
        return f"{MADE_BY_SPEND} is not in the folder (thelook has none): run `ecom spend` to make one from the events"
    return (
        f"{MADE_BY_SPEND} is not in the folder: the one in the target is kept ({counted(rows, 'row')}); "
        "`ecom spend --replace` makes one from the events just loaded"
    )


@app.command()
@target_options
def spend(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and events give the same spend.")] = 42,
    replace: Annotated[bool, typer.Option("--replace", help="Replace an existing marketing_spend.")] = False,
    into: Annotated[
        str | None,
        typer.Option(
            help="BigQuery: the dataset (or project.dataset) to write marketing_spend to (default: its per-source "
            "dataset, env ECOM_BQ_RAW_DATASET_MARKETING_SPEND, else the raw dataset)."
        ),
    ] = None,
    *,
    target: TargetOptions,
) -> None:
    """Write a marketing_spend calibrated to the raw events already in the target: clicks follow each
    day's sessions of the Adwords, Facebook, YouTube and Email traffic sources (ecom.data.calibration)."""
    from ecom.data import generate as gen
    from ecom.data.spend import from_events

    with friendly_errors(gen.GenerateError):
        gen.refuse_bad_seed(seed)  # before the target is opened: numpy would refuse it after the events are read
        chosen = choose_target(target)
        if into == "":  # an unset shell variable: spend went to the default dataset (the other flags refuse it)
            raise empty_flag("--into")
        if into:
            if chosen.type.name != "bigquery":
                raise TargetError("--into names a BigQuery dataset: on DuckDB marketing_spend goes to the raw schema")
            chosen = dataclasses.replace(chosen, given={**chosen.given, "sources": {"marketing_spend": into}})
        # not create=True: a new DuckDB file has no events to follow (BigQuery makes the dataset anyway)
        with closing(chosen.open()) as tgt:  # closed on every way out (the in-process tests)
            loc = tgt.raw_location("marketing_spend")
            where = ".".join(x for x in (loc.catalog, loc.database, "marketing_spend") if x)
            if loc.catalog == "bigquery-public-data":  # read-only: the events are read there, spend goes elsewhere
                raise TargetError(
                    f"{where} is in Google's read-only public project: pass --into DATASET, set "
                    "ECOM_BQ_RAW_DATASET_MARKETING_SPEND or add marketing_spend under [bigquery.sources] in ecom.toml"
                )
            if tgt.raw_exists("marketing_spend") and not replace:
                raise TargetError(f"{where} exists: pass --replace to replace it")
            # its columns, before spend is made of them
            engine.validate_sources(tgt, ["events"], advice="Fix the events; marketing_spend was not written.")
            table = from_events(tgt, seed)
            rows = tgt.write_raw({"marketing_spend": table})["marketing_spend"]
        first, last = table["date"][0], table["date"][-1]  # ordered by date
        per_platform = table.group_by("platform").aggregate([("date", "count"), ("spend", "sum"), ("clicks", "sum")])
        summary = Table(
            "platform",
            "rows",
            "spend",
            "clicks",
            title=f"Wrote {rows:,} rows ({first} to {last}, seed {seed}) to {where}",
        )
        for r in per_platform.to_pylist():
            summary.add_row(r["platform"], f"{r['date_count']:,}", f"{r['spend_sum']:,.2f}", f"{r['clicks_sum']:,}")
        out.print(summary)


@app.command(cls=_ManyWords)
@target_options
def build(
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    vars: VarsOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="BigQuery: estimate bytes processed per model; write nothing.")
    ] = False,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile", help="Also print materializations, rows/s, peak memory (RSS) and the time around models."
        ),
    ] = False,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models in full.")] = False,
    *,
    target: TargetOptions,
) -> None:
    """Validate the raw sources, then materialize the selected models in dependency order
    (incremental models only from their first changed day; see README, "Incremental builds")."""
    started = time.perf_counter()
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select, exclude)
        given = parse_vars(vars or [])
        tgt = open_target(target)
        if dry_run and not tgt.supports_dry_run:
            raise TargetError(f"--dry-run needs a target that estimates bytes (bigquery), not {engine.describe(tgt)}")
        # every raw table's shape (metadata; the variables' defaults read them), then the values of
        # the tables the selected models read: `--select fact_daily_pnl` reads none on BigQuery,
        # raw.orders on DuckDB (stg_orders is a view); a dry run bills none, the build checks them
        engine.validate_sources(tgt)
        record = engine.LastBuild(tgt)  # read once for the command (a billed query on BigQuery)
        values, warnings = engine.build_vars(proj, tgt, selected, given, record, check_values=not dry_run)
        if dry_run:
            _dry_run(proj, tgt, selected, values, full_refresh, record)
            return
        for line in warnings:
            _warn(line)
        shown = ", ".join(f"{k}={v}" for k, v in printable(proj.vars, values).items())
        setup = time.perf_counter() - started
        bar = progress()
        task = bar.add_task("building", total=len(selected))

        def start() -> None:  # once the build's own refusals are past: a refused build prints its error alone
            # one line however long (a dozen variables): a log keeps it whole, a terminal wraps it
            line = f"Building {counted(len(selected), 'model')} on {engine.describe(tgt)} with {shown}"
            err.print(line, highlight=False, soft_wrap=True)
            bar.start()

        def done(result: engine.ModelResult) -> None:
            bar.update(task, advance=1, description=f"built {result.name}")

        try:
            results = engine.build(
                proj, tgt, selected, values, on_done=done, full_refresh=full_refresh, record=record, on_start=start
            )
        finally:
            if bar.live.is_started:  # stop() of a bar never started prints a blank line
                bar.stop()
        out.print(_profile_table(proj, tgt, results) if profile else _build_table(proj, results))
        for name, note in tgt.notes.items():
            err.print(f"{name}: {note}", highlight=False)
        summarized = time.perf_counter()
        for title, rows in engine.summaries(proj, tgt, set(selected), values):
            out.print(_rich_table(title, rows))
        if profile:
            out.print(
                f"Outside the models: {setup:.2f} s before them (imports, source checks, variables), "
                f"{time.perf_counter() - summarized:.2f} s of summaries; "
                f"{time.perf_counter() - started:.2f} s in all since the imports.",
                highlight=False,
            )


def _warn(line: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), f" {line}"), soft_wrap=True, highlight=False)


def _warn_unheard(url: str | None, failure: str | None) -> None:
    """A notification that failed is said, never fatal: the run's own outcome decides the exit code."""
    if failure:
        _warn(f"the notification to {url} failed: {failure}")


def _build_table(proj: Project, results: list[engine.ModelResult]) -> rich.table.Table:
    report = Table("model", "layer", "rows", "seconds", "incremental", title="Build")
    for r in results:
        layer = proj.models[r.name].layer if r.name in proj.models else "–"  # a recorded run's model since removed
        report.add_row(r.name, layer, f"{r.rows:,}", f"{r.seconds:.2f}", r.note)
    report.add_row("total", "", "", f"{sum(r.seconds for r in results):.2f}", "", style="bold")
    return report


def _profile_table(proj: Project, tgt: Target, results: list[engine.ModelResult]) -> rich.table.Table:
    settings = ", ".join(f"{k} {v}" for k, v in tgt.resources.items())
    report = Table(
        "model",
        "layer",
        "materialized",
        "rows",
        "seconds",
        "rows/s",
        "peak RSS MB so far",
        "built",  # an incremental model's way, as the plain build's table says it ("built incremental: ...")
        title=f"Build profile ({settings})" if settings else "Build profile",  # BigQuery sets none
    )
    for r in results:
        rate = r.rows / r.seconds if r.seconds else 0
        peak = _fmt(r.peak_bytes / 2**20 if r.peak_bytes is not None else None)
        layer, kind = proj.models[r.name].layer, proj.models[r.name].materialization(tgt.name)
        report.add_row(r.name, layer, kind, f"{r.rows:,}", f"{r.seconds:.2f}", f"{rate:,.0f}", peak, r.note)
    report.add_row("total", "", "", "", f"{sum(r.seconds for r in results):.2f}", "", "", "", style="bold")
    return report


def _dry_run(
    proj: Project, tgt: Target, selected: list[str], values: dict, full_refresh: bool, record: engine.LastBuild
) -> None:
    # The queries the build would run; an upstream model not built yet is computed inline.
    from ecom.targets.bigquery.config import format_bytes

    plan = engine.dry_run_plan(proj, tgt, selected, values, record)
    incremental_plans = engine.incremental_plans(proj, tgt, plan, values, full_refresh)
    cap = tgt.max_bytes_billed
    title = f"Dry run (nothing written; cap per query job: {format_bytes(cap) if cap else 'none'})"
    report = Table("model", "estimated bytes", "this build", "of the cap", "note", title=title)
    total = this_build = 0
    for name, (expr, inline) in plan.items():
        size = tgt.dry_run(proj.models[name], expr)
        how, rows = incremental_plans.get(name, ("", None))
        this = size if rows is None else tgt.dry_run(proj.models[name], rows)
        total, this_build = total + size, this_build + this
        notes = [f"computes {', '.join(inline)} inline (not built yet, or built otherwise)"] if inline else []
        notes += [how] if how else []
        share = f"{size / cap:.0%}" + (" OVER" if size > cap else "") if cap else ""
        row = (name, f"{size:,}", f"{this:,}", share, "; ".join(notes))
        report.add_row(*row, style="red" if cap and size > cap else None)
    report.add_row("total", f"{total:,}", f"{this_build:,}", "", "", style="bold")
    out.print(report)


def _rich_table(title: str, rows: list[dict]) -> rich.table.Table | Group | str:
    if not rows:  # rich draws a table with no columns as blank lines, its title lost
        return f"{title}: no rows"
    if len(rows) == 1:  # one record reads best as a column of name, value
        # its title on a line of its own: Table() is as wide as its title, which stretched the P&L's
        # two short columns across the whole terminal
        table = rich.table.Table("", "", show_header=False)
        for name, value in rows[0].items():
            table.add_row(name, _fmt(value))
        return Group(Text(title, style="table.title"), table)
    table = Table(*rows[0].keys(), title=title)
    for row in rows:
        table.add_row(*(_fmt(v) for v in row.values()))
    return table


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


COMPILED_FOLDER = "target/compiled"  # compile's own, as dbt's target/
COMPILED_LIST = ".ecom-compiled"  # the models whose SQL `ecom compile` wrote in its folder


def _compiled_before(folder: Path, own_folder: bool) -> set[str]:
    """The models whose .sql compile wrote in `folder`, as COMPILED_LIST names them. With no list (a
    folder compiled before it, or unreadable), every .sql of compile's own folder
    (COMPILED_FOLDER/<target>), and none elsewhere."""
    listing = folder / COMPILED_LIST
    if listing.is_dir():  # atomic_write_all's word for it ("give the name of a file") is for a path given
        raise FileWriteError(f"{listing} is a folder, where compile keeps the list of the files it wrote: remove it")
    try:
        return set(listing.read_text().split())
    except (OSError, UnicodeDecodeError):
        return {p.stem for p in folder.glob("*.sql")} if own_folder else set()


def _compiled_list(folder: Path, names: set[str]) -> dict[Path, str]:
    return {folder / COMPILED_LIST: "".join(f"{n}\n" for n in sorted(names))}


def _write_compiled(folder: Path, sql: Mapping[str, str], models: set[str], own_folder: bool) -> list[Path]:
    """Write each model's SQL (name: text) into `folder` with COMPILED_LIST, all or none, then remove
    the files compile wrote there of models no longer in `models`, and return them.

    The folder mirrors the project: the SQL of a model renamed or removed since would be deployed or
    reviewed as current (dbt leaves it for `dbt clean`). Only files compile wrote (listed in
    COMPILED_LIST) are removed: `--out .` must not delete a user's own ./duckdb/*.sql."""
    before = _compiled_before(folder, own_folder)
    present = set(folder.glob("*.sql"))
    stale = sorted(p for p in present if p.stem in before - models and p.is_file())
    # a current model's file is compile's too: it writes over it
    listed = (before | {p.stem for p in present} | set(sql)) & models
    files = {folder / f"{n}.sql": text for n, text in sql.items()}
    # the stale files stay listed until they are gone: one a failure or a Ctrl-C left is removed next time
    atomic_write_all({**files, **_compiled_list(folder, listed | {p.stem for p in stale})})
    kept = {}
    for path in stale:
        try:
            path.unlink()
        except OSError as e:
            kept[path] = describe_os_error(e)
    if stale:
        atomic_write_all(_compiled_list(folder, listed | {p.stem for p in kept}))
    if kept:
        raise FileWriteError(
            f"wrote the SQL to {folder}/, but cannot remove "
            + ", ".join(f"{p.name} ({why})" for p, why in kept.items())
            + ", of models no longer in the project: remove them"
        )
    return stale


@app.command(cls=_ManyWords)
@target_options
def compile(
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    vars: VarsOpt = None,
    out_dir: Annotated[str, typer.Option("--out", help="Folder for the .sql files.")] = COMPILED_FOLDER,
    *,
    target: TargetOptions,
) -> None:
    """Write each model's SQL for the target's dialect to OUT/<target>/<model>.sql (deterministic),
    and remove the .sql files it wrote there of models the project no longer has.

    Variables whose default comes from the data (as_of: the latest order date) are read from the
    target's raw data; give them all with --vars to compile with no connection at all.
    """
    with friendly_errors():
        if not out_dir.strip():  # a Path would read it as the working directory, and write there
            raise FileWriteError("--out is empty: give the folder to write the .sql files in")
        proj = Project.load()
        selected = proj.select(select, exclude)
        chosen = choose_target(target)
        values, raw_at, models = engine.compile_inputs(proj, chosen, parse_vars(vars or []))
        exprs = engine.unbound_expressions(proj, values, raw_at, models)
        folder = Path(out_dir) / chosen.name
        sql = {name: engine.to_sql(exprs[name], chosen.type.dialect) for name in selected}
        stale = _write_compiled(folder, sql, set(proj.models), own_folder=Path(out_dir) == Path(COMPILED_FOLDER))
        shown = ", ".join(f"{k}={values[k]}" for k in engine.data_derived(proj))
        notes = ""
        if models.catalog == PLACEHOLDER_PROJECT:  # pasted into the console as it is, the SQL would fail
            notes += (
                f"; `{PLACEHOLDER_PROJECT}` stands for your BigQuery project: set --project, ECOM_BQ_PROJECT "
                "or `project` under [bigquery] in ecom.toml"
            )
        notes += f"; removed {', '.join(p.name for p in stale)}: no such model any more" if stale else ""
        err.print(
            f"Wrote {counted(len(selected), chosen.type.dialect + ' model')} to {folder}/ ({shown}){notes}",
            highlight=False,
            soft_wrap=True,
        )


@app.command(cls=_ManyWords)
@target_options
def test(
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    vars: VarsOpt = None,
    *,
    target: TargetOptions,
) -> None:
    """Run the data tests of the selected (built) models: keys, not-null, accepted values,
    relationships and the cross-mart invariants."""
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select, exclude)
        given = parse_vars(vars or [])
        tgt = open_target(target, read_only=True)
        with closing(tgt):  # closed on every way out: the in-process tests open the file again
            # before the variables, which on a database with nothing built read the raw tables' defaults
            # (an empty database was the source contract's list of eight missing raw tables); with the
            # parents their relationships tests read (stg_orders' stg_users), each an ERROR line before
            parents = {p.split(".")[0] for m in selected for p in proj.models[m].relationships.values()}
            parents_only = sorted(parents - set(selected))
            _refuse_unbuilt(tgt, selected, "models it tests")
            _refuse_unbuilt(tgt, parents_only, "models its relationships tests read")
            values = engine.built_vars(proj, tgt, given)
            # a view reads its raw tables when tested: one gone is the contract's line, not an error per test
            engine.validate_sources(
                tgt,
                _raw_tables_tests_read(proj, tgt, set(selected) | parents),
                f"{engine.FIX_EXPORT}; no test was run.",
            )
            # after the raw tables the views read: a view is checked through them
            engine.refuse_built_otherwise(proj, tgt, [*selected, *parents_only])
            cases = engine.generic_tests(proj, selected) + engine.singular_tests(proj, selected, values)
            by_name = {c.name: c for c in cases}

            def done(r: engine.TestResult) -> None:
                out.print(_test_line(r), highlight=False)
                if r.status == "fail":
                    _print_examples(by_name[r.name], tgt)

            results = engine.run_tests(cases, tgt.table, on_done=done, workers=tgt.test_workers, batch=tgt.batch_tests)
            failed = [r for r in results if r.status != "pass"]
            out.print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
            if failed:
                raise typer.Exit(1)


def _raw_tables_tests_read(proj: Project, tgt: Target, models: set[str]) -> list[str]:
    """The raw tables the data tests read: those of the views among the `models` they read, and of
    the views those read in turn (a view reads its raw tables when queried; a table holds its rows,
    so a raw table a mart was built from may be gone)."""
    views = [m for m in models if proj.models[m].materialization(tgt.name) == "view"]
    return engine.raw_tables_read(proj, tgt, views)


def _test_line(result: engine.TestResult) -> Text:
    """`PASS name`, `FAIL name (3 failing rows)`, or `ERROR name (why it could not run)`."""
    colors = {"pass": "green", "fail": "red", "error": "red"}
    if result.status == "fail":
        detail = f" ({counted(result.failures, 'failing row')})"
    else:
        detail = f" ({result.message})" if result.message else ""
    return Text.assemble((f"{result.status.upper():5}", colors[result.status]), f" {result.name}{detail}")


def _print_examples(case: engine.TestCase, tgt: Target) -> None:
    """A failing test's first rows under its line, one a line: which rows to look at. A query of
    its own (a job on BigQuery), run only for a test that fails."""
    try:
        rows = engine.failing_examples(case, tgt.table)
    except Exception as e:  # the count ran, so this is rare: say so and go on with the other tests
        stop_if_ctrl_c()
        out.print(f"      (no example rows: {first_line(e)})", highlight=False)
        return
    for row in rows:  # a data test's rows may be a mart's, 28 columns wide: wrapped under the line,
        # between columns only (a no-break space inside a value, a timestamp's, is not textwrap's whitespace)
        text = ", ".join(f"{k}={_shown(v)}".replace(" ", "\u00a0") for k, v in row.items())
        indent = " " * 6
        lines = "\n".join(wrap_words(text, out.width, initial_indent=indent, subsequent_indent=indent))
        out.print(lines.replace("\u00a0", " "), soft_wrap=True)


def _shown(value: Any) -> str:
    if isinstance(value, float):  # 12 digits: 145.23, not 145.23000000000002 (a sum's float noise)
        return f"{value:.12g}"
    text = "NULL" if value is None else value.isoformat(" ") if isinstance(value, dt.datetime) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _refuse_unbuilt(tgt: Target, models: list[str], what: str) -> None:
    """Name the models not built yet; when none is (a new database), say so rather than list them all."""
    missing = [m for m in models if not tgt.exists(m)]
    if missing:
        which = f"none of the {len(models)} {what}" if len(missing) == len(models) > 1 else ", ".join(missing)
        raise engine.BuildError(f"not built on {engine.describe(tgt)}: {which}; run `ecom build` first")


def _file_named(text: str) -> Path:
    """An --out file as typed: a Path drops the slash of `--out site/`, which wrote a file named site."""
    if text.endswith(("/", os.sep)):
        raise FileWriteError(f"--out {text} names a folder: give the name of a file to write (in it or elsewhere)")
    if not text.strip():  # Path('') is the working directory
        raise FileWriteError("--out is empty: give the name of a file to write")
    return Path(text)


@app.command("report")
@target_options
def report(
    output: Annotated[str, typer.Option("--out", "-o", help="The HTML file to write.")] = "report.html",
    *,
    target: TargetOptions,
) -> None:
    """Write a self-contained HTML dashboard of the built marts (opens offline, no server)."""
    from ecom.outputs import report as dashboard

    with friendly_errors():
        path = _file_named(output)
        proj = Project.load()
        tgt = open_target(target, read_only=True)
        _refuse_unbuilt(tgt, list(dict.fromkeys(m for e in proj.exposures.values() for m in e.reads)), "marts it reads")
        with err.status("querying the marts and writing the report"):
            values = engine.built_vars(proj, tgt, {})
            try:
                written = dashboard.write_report(proj, tgt.table, values, path)
            except dashboard.ReportError as e:
                raise engine.BuildError(str(e)) from None
        out.print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)", highlight=False)


@app.command("docs", cls=_ManyWords)
@target_options
def docs(
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="html (a page that opens offline) or json (for tools); default: json for an --out *.json, else html.",
        ),
    ] = None,
    output: Annotated[
        str | None, typer.Option("--out", "-o", help="The file to write (default target/catalog.html or .json).")
    ] = None,
    vars: VarsOpt = None,
    *,
    target: TargetOptions,
) -> None:
    """Write the catalog: every model's grain, columns, tests, lineage and SQL, and its last build on
    the target. With no target to read, give --vars as_of=YYYY-MM-DD to compile the SQL."""
    from ecom.outputs import catalog

    with friendly_errors():
        path = _file_named(output) if output is not None else None
        # `--out catalog.json` alone means JSON: an HTML page under that name is nobody's intent
        fmt = fmt or ("json" if path and path.suffix.lower() == ".json" else "html")
        if fmt not in ("html", "json"):
            raise VarsError(f"--format must be html or json, not {fmt!r}")
        proj = Project.load()
        given = parse_vars(vars or [])
        try:
            tgt = open_target(target, read_only=True)
        except TargetError as e:
            if not set(engine.data_derived(proj)) <= set(given):
                raise engine.without_target(proj, given, e) from None
            err.print(f"No build read ({e}): the catalog has no row counts.", highlight=False, soft_wrap=True)
            tgt = None
        record = engine.LastBuild(tgt) if tgt else None  # read once: built_vars, then the catalog
        values = engine.built_vars(proj, tgt, given, record) if tgt else resolve_vars(proj.vars, given, lambda _: None)
        with err.status("compiling every model for DuckDB and BigQuery"):
            data = catalog.catalog(proj, values, catalog.bigquery_locations(tgt, target), tgt, record)
        written = catalog.write_catalog(data, path or Path(f"target/catalog.{fmt}"), fmt)
        out.print(f"Wrote {written} ({len(data['models'])} models)", highlight=False)


def _freshness_table(checks: list) -> rich.table.Table:
    from ecom.run import describe_age

    colors = {"pass": "green", "warn": "yellow", "error": "red", "unchecked": "dim"}
    columns = ["raw table", "newest row", "age", "warn after", "error after", "status"]
    later = any(c.dated_later for c in checks)  # rows dated in the future: counted, not taken as the newest
    table = Table(*columns, *(["rows dated later"] if later else []), title="Source freshness")
    for c in checks:
        table.add_row(
            c.table,
            c.newest.strftime("%Y-%m-%d %H:%M UTC") if c.newest else "–",
            describe_age(c.age) if c.age is not None or not c.dated_later else "all dated later",
            describe_age(c.warn_after) if c.warn_after is not None else "–",
            describe_age(c.error_after) if c.error_after is not None else "–",
            Text(c.status, style=colors[c.status]),
            *([f"{c.dated_later:,}" if c.dated_later else "–"] if later else []),
        )
    return table


@app.command()
@target_options
def freshness(*, target: TargetOptions) -> None:
    """How old each raw table's newest row is, against the freshness thresholds of ecom.toml.
    Exit code 2 when a table is past its error_after (0 on warnings, as dbt's source freshness)."""
    with friendly_errors():
        limits, at = fresh.configured_thresholds(), fresh.now()
        tgt = open_target(target, read_only=True)
        # the tables' shape only (metadata): their values are a build's to check, and checking them
        # here would bill a query reading every key, timestamp and amount for a one-column answer
        engine.validate_sources(tgt, fresh.LOADED_AT, f"{engine.FIX_EXPORT}.")
        checks = fresh.check(tgt, at, limits)
        out.print(_freshness_table(checks))
        if fresh.worst(checks) == "error":
            from ecom.run import late_tables, stale_advice

            # exit 2 alone would leave a log reader to find the "error" rows in the table
            stale = late_tables([c for c in checks if c.status == "error"])
            advice = stale_advice(checks)
            err.print(f"Raw data past error_after: {stale}. {advice[0].upper()}{advice[1:]}")
            raise typer.Exit(2)


@app.command("run", cls=_ManyWords)
@target_options
def run_all(
    vars: VarsOpt = None,
    publish: Annotated[
        Path, typer.Option("--publish", help="The folder the report is published to (replaced whole).")
    ] = Path("site"),
    notify: Annotated[
        str | None,
        typer.Option(
            envvar="ECOM_NOTIFY_URL",
            help='POST {"text": ...} as JSON here (e.g. a Slack webhook) when a run fails or warns or data is stale.',
        ),
    ] = None,
    load: Annotated[
        Path | None,
        typer.Option(
            "--load",
            help="Load this export folder first, as `ecom load` (a refused export is the run's recorded, "
            "notified error).",
        ),
    ] = None,
    allow_empty: Annotated[
        bool,
        typer.Option("--allow-empty", help="With --load: let a file with no rows replace a raw table that has rows."),
    ] = False,
    *,
    target: TargetOptions,
) -> None:
    """The unattended morning: (load the export,) check freshness, build every model, run the data
    tests, publish the report, record the run (`ecom runs`). Exit 2: stale data, nothing built; exit
    1: an export refused, a model or data test failed (on DuckDB the build rolled back), the published
    report kept."""
    from ecom.outputs import catalog
    from ecom.run import run

    with friendly_errors():
        notify = notify or None  # an empty ECOM_NOTIFY_URL (an unset CI secret): no notification
        if notify is not None and not _is_web_address(notify):
            raise VarsError(f"--notify must be an http:// or https:// URL, not {notify!r}")
        if allow_empty and load is None:  # said for nothing, a scheduler's line would read as if it did
            raise VarsError("--allow-empty needs --load DIR: it lets that export's empty files replace raw tables")
        limits, proj, given, tgt = _start_run(vars, target, notify, load)
        # closed at the end of the run, not of the process: readers (`ecom runs`) may open it at once
        with closing(tgt), err.status("starting") as status:
            bigquery_at = catalog.bigquery_locations(tgt, target)
            outcome = run(proj, tgt, given, publish, bigquery_at, notify, limits, status.update, load, allow_empty)
        _print_run_steps(outcome, load)
        _warn_unheard(notify, outcome.notified)
        # one line, however long its paths: the line a scheduler's log keeps, read whole by `tail -1`
        out.print(_run_last_line(outcome, publish, tgt), highlight=False, soft_wrap=True)
        raise typer.Exit(outcome.exit_code)


def _is_web_address(url: str) -> bool:
    """An http(s) URL with a host: `http://` or `http://[::1` would only fail when the run ends."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (read for its check: a port that is no number is a ValueError)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 bracket, a port that is no number
        return False


def _start_run(
    vars: list[str] | None, target: TargetOptions, notify: str | None, load: Path | None
) -> tuple[dict[str, dict[str, dt.timedelta | None]], Project, dict[str, Any], Target]:
    """What `ecom run` reads and opens before it can record anything: its freshness thresholds, the
    project, the variables given and the target."""
    from ecom.run import notify as post

    try:
        limits = fresh.configured_thresholds()
        fresh.now()  # a malformed ECOM_NOW stops the run before it is recorded
        proj = Project.load()
        given = parse_vars(vars or [])
        check_given(proj.vars, given)  # before the export replaces any raw table
        # with --load, a database not made yet is made, as `ecom load` makes it: the first morning
        # of a new server; a refused export is then recorded in it
        tgt = open_target(target, create=load is not None)
    except Exception as e:
        # not recorded (the target may be what failed: a DuckDB file another process holds), so
        # for an unattended morning the notification is the one trace beside the scheduler's log
        if notify:
            text = f"ecom run did not start: {first_line(e)}; the published report was not replaced"
            _warn_unheard(notify, post(notify, text))
        raise
    return limits, proj, given, tgt


def _print_run_steps(outcome: Outcome, load: Path | None) -> None:
    """What each step of a run did, in the order it ran: the export loaded, the freshness checked,
    the warnings, the models built, the data tests."""
    from ecom.run import NOT_RUN

    record = outcome.record
    if outcome.loaded:
        rows = sum(outcome.loaded.values())
        out.print(f"Loaded {load}: {counted(len(outcome.loaded), 'raw table')}, {rows:,} rows", highlight=False)
    out.print(_freshness_table(outcome.checks))
    for line in outcome.warnings:
        _warn(line)
    if record.models:
        rows = sum(m["rows"] for m in record.models)
        built = f"Built {len(record.models)} models ({rows:,} rows) with as_of {record.as_of}"
        out.print(built + _incremental_builds(record.models), highlight=False, soft_wrap=True)
    _print_test_results(outcome.tests, ", " + NOT_RUN.format(outcome.not_run) if outcome.not_run else "")


def _print_test_results(results: list[engine.TestResult], not_run: str = "") -> None:
    """A run's failing data tests, each on its line (an erring one says why, as `ecom test` does),
    then the count line; nothing when it ran none."""
    failed = [t for t in results if t.status != "pass"]
    for t in failed:
        out.print(_test_line(t), highlight=False)
    if results:
        out.print(f"{len(results) - len(failed)} data tests passed, {len(failed)} failed{not_run}")


def _run_last_line(outcome: Outcome, publish: Path, tgt: Target) -> str:
    """The run's last line: how it ended and, when it did not publish, why and what to do."""
    from ecom.run import ROLLED_BACK, late_raw_data, stale_advice

    record = outcome.record
    late = late_raw_data(outcome) if outcome.stale else ""
    endings = {
        "success": f"Published {publish}/index.html and {publish}/docs.html",
        # which table and what to do, on the line a scheduler's log keeps
        "stale": (
            f"Stale raw data (past error_after): nothing built, {publish} kept as it was; {late}: "
            + stale_advice(outcome.stale)
        ),
        "failed": f"Data tests failed: {publish} kept as it was",
    }
    if outcome.rolled_back:  # the failing rows went with the build: rebuilt on a copy, none is published
        endings["failed"] = (
            f"Data tests failed: {ROLLED_BACK} and {publish} kept as it was; to see the failing rows, copy "
            f"{tgt.path} to COPY.duckdb and run `ecom build --path COPY.duckdb` then `ecom test --path COPY.duckdb`"
        )
    # a table past warn_after alone builds and publishes: said on the last line too, which a log shows
    tail = f"; {late}" if late and record.status != "stale" else ""
    return f"Run {record.run_id}: {endings[record.status]}{tail}"


def _incremental_builds(models: list[dict[str, Any]]) -> str:
    """How a run built its incremental models, those built one way together: a morning's log says
    whether it replaced a day or rebuilt every row (`; stg_events, int_web_sessions incremental
    from 2024-06-29`)."""
    ways: dict[str, list[str]] = {}
    for m in models:
        if "incremental" in m:
            ways.setdefault(m["incremental"], []).append(m["name"])
    return "".join(f"; {', '.join(names)} {way}" for way, names in ways.items())


@app.command()
@target_options
def runs(
    run: Annotated[
        str | None,
        typer.Argument(help="A run's id, or its first characters: all that run recorded.", show_default=False),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="How many runs to list, latest first (default 20).", min=1, show_default=False)
    ] = None,
    *,
    target: TargetOptions,
) -> None:
    """The history of `ecom run`, latest first; `ecom runs RUN`: one run whole (its message, the
    freshness it found, the models it built, its data tests)."""
    from ecom.core.runs import UnknownRun, find_run, history

    with friendly_errors(UnknownRun):
        if run is not None and limit is not None:  # silently ignored, it looked like a list of RUN's
            raise VarsError("--limit is for the list of runs: drop it, `ecom runs RUN` prints that one run whole")
        tgt = open_target(target, read_only=True)
        if run is not None:
            _print_run(Project.load(), find_run(tgt, run))
            return
        records = history(tgt, limit or 20)
        if not records:
            out.print(f"No runs recorded on {engine.describe(tgt)} yet: `ecom run` records one.")
            return
        rows = [_run_row(r) for r in records]
        table = _runs_table(RUN_COLUMNS, rows)
        if table.words_fit(out):
            out.print(table)
            return
        # A terminal too narrow for that (80 columns is common) cut each column to `succe…` and
        # `2026-…`: the columns that say which run and how it ended, the rest on a line of its own.
        out.print(_runs_table(NARROW_RUN_COLUMNS, rows, headers_on_lines=True))
        for row in rows:
            rest = [f"{row['seconds']} s"] + [f"{c}: {row[c]}" for c in ("late raw data", "message") if row[c] != "–"]
            out.print(f"{row['run']}: {'; '.join(rest)}")


RUN_COLUMNS = (
    "run",
    "started (UTC)",
    "seconds",
    "status",
    "as_of",
    "models",
    "tests failed",
    "late raw data",
    "message",
)
NARROW_RUN_COLUMNS = ("run", "started (UTC)", "status", "as_of", "models", "tests failed")


def _run_row(r: dict[str, Any]) -> dict[str, str]:
    """A recorded run as the text of `ecom runs`' columns."""
    # the level too: a run is stale only past error_after, a table past warn_after alone is late
    late = [f"{f['table']} ({f['status']})" for f in r["freshness"] if f["status"] in ("warn", "error")]
    return {
        "run": r["run_id"],
        "started (UTC)": r["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": f"{(r['ended_at'] - r['started_at']).total_seconds():.1f}",
        "status": r["status"],
        "as_of": str(r["as_of"] or "–"),
        "models": str(len(r["models"])),
        "tests failed": str(sum(t["status"] != "pass" for t in r["tests"])) if r["tests"] else "–",
        "late raw data": ", ".join(late) or "–",
        # why it errored, or what it warned of: its first 100 characters (all of it: `ecom runs RUN`)
        "message": textwrap.shorten(r["message"], 100, placeholder=" …") if r["message"] else "–",
    }


def _print_run(proj: Project, r: dict[str, Any]) -> None:
    """All one run recorded, as the run printed it: the list cuts its message and shows none of the rest."""
    row = _run_row(r)
    lines = [f"Run {r['run_id']}: {r['status']}, started {row['started (UTC)']} UTC, {row['seconds']} s"]
    lines += [f"on {r['target']}" + (f", published {r['published']}" if r["published"] else "")]
    # the variables as the build recorded them (a secret one `set` or `not set`); none when nothing was built
    lines += ["variables: " + ", ".join(f"{k}={v}" for k, v in r["vars"].items())] if r["vars"] else []
    lines += [f"message: {r['message']}"] if r["message"] else []
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)
    if r["freshness"]:
        out.print(_freshness_table([fresh.Freshness.from_dict(f) for f in r["freshness"]]))
    if r["models"]:
        built = [engine.ModelResult(m["name"], m["rows"], m["seconds"], m.get("incremental", "")) for m in r["models"]]
        out.print(_build_table(proj, built))
    _print_test_results([engine.TestResult(**t) for t in r["tests"]])


def _runs_table(columns: tuple[str, ...], rows: list[dict[str, str]], headers_on_lines: bool = False) -> _FittedTable:
    """The runs' `columns`; `headers_on_lines` puts each word of a header on a line of its own."""
    table = Table(*(c.replace(" ", "\n") if headers_on_lines else c for c in columns), title="Runs")
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table


@app.command("ls", cls=_ManyWords)
@target_options
def list_models(
    name: Annotated[str | None, typer.Argument(help="A model: print its columns.", show_default=False)] = None,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the lineage as a Mermaid graph.")] = False,
    *,
    target: TargetOptions,
) -> None:
    """List the models (layer, key, grain, when each was last built on the target and how, when its
    database exists) and the exposures that read them, the lineage graph, or one model's columns
    with their types and descriptions."""
    from ecom.core.docstrings import model_docs

    with friendly_errors():
        proj = Project.load()
        if name is not None:
            _list_columns(proj, name)
            return
        selected = proj.select(select, exclude)
        if mermaid:
            print(engine.mermaid(proj, selected))
            return
        docs = model_docs(proj)
        state, builds = _built_state(target)
        table = Table(
            "model",
            "layer",
            "materialized",
            "key",
            "grain",
            "last built",
            title=f"{counted(len(selected), 'model')} (`ecom ls MODEL`: its columns)",
        )
        rows = []
        for model_name in selected:
            m = proj.models[model_name]
            built = _last_built(builds.get(model_name), state.get(model_name))
            rows.append((model_name, m.layer, m.materializations(), ", ".join(m.key), docs[model_name].grain, built))
            table.add_row(*rows[-1])
        if table.words_fit(out):
            out.print(table)
        else:
            # an 80-column terminal cut every cell but the model's (`materi…`, `order_…`) and set the
            # grain one word a line: a block per model instead, the grain wrapped under its name
            out.print(table.title, highlight=False)
            wrap = functools.partial(wrap_words, width=out.width)
            for model_name, layer, materialized, key, grain, built in rows:
                about = grain + (f" Last built: {built}." if built else "")
                lines = wrap(f"{model_name} ({layer}; {materialized}; key {key})", subsequent_indent=INDENT)
                lines += wrap(about, initial_indent="  ", subsequent_indent="  ")
                out.print("\n".join(lines), highlight=False, soft_wrap=True)
        consumers = [e for e in proj.exposures.values() if set(e.reads) & set(selected)]
        if consumers:
            exposures = Table(
                "exposure", "reads", "description", title=f"{counted(len(consumers), 'exposure')} (consumers)"
            )
            for e in consumers:
                exposures.add_row(e.name, ", ".join(e.reads), e.title)
            out.print(exposures)


def _list_columns(proj: Project, name: str) -> None:
    """One model's grain, description and columns (types compiled over unbound tables: no connection)."""
    from ecom.core.docstrings import model_docs

    if name not in proj.models:
        proj.matching("ecom ls", name)  # an unknown name: the selector's one-line error, with close matches
        raise ProjectError(
            f"{name!r} selects several models: `ecom ls MODEL` names one, `ecom ls -s {name}` lists them"
        )
    model, doc, schema = proj.models[name], model_docs(proj)[name], engine.model_schemas(proj)[name]
    out.print(
        Text.assemble((name, "bold"), f" ({model.layer}, key {', '.join(model.key)}): {doc.grain}"), highlight=False
    )
    if doc.description:
        out.print(doc.description, highlight=False)
    table = Table("column", "type", "description", title=f"{name}: {len(schema)} columns")
    for column, dtype in schema.items():
        table.add_row(column, str(dtype), doc.columns.get(column, ""))
    out.print(table)
    out.print(f"reads: {', '.join(model.params)}", highlight=False)
    readers = proj.downstream_models(name) + [f"exposure {e}" for e in proj.exposures_of(name)]
    out.print(f"read by: {', '.join(readers) or 'nothing'}", highlight=False)


def _built_state(target: TargetOptions) -> tuple[dict[str, dict], dict[str, dict]]:
    """The incremental state and each model's last build on the target, or nothing when it cannot be
    opened (no database yet, no credentials: the list needs neither). A broken setting is an error
    all the same. Why the column is empty is noted: a database held by another process reads as one
    never built."""
    chosen = choose_target(target)
    try:
        tgt = chosen.open(read_only=True)
    except TargetError as e:
        err.print(f'note: the "last built" column is empty: {e}', highlight=False, soft_wrap=True)
        return {}, {}
    try:
        return incremental.read_state(tgt), engine.last_builds(tgt)
    finally:
        tgt.close()


def _last_built(build: dict[str, Any] | None, state: dict[str, Any] | None) -> str:
    """When a model was last built on the target and its rows; for an incremental one, its as_of and
    how it was built (in full, or from which day). Only the incremental models had a word here: a
    built table's cell was as empty as one never built."""
    parts = []
    if build:
        rows = f", {counted(build['rows'], 'row')}" if build["rows"] is not None else ""
        parts.append(f"{build['built_at'].astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC{rows}")
    if state:
        parts.append(f"as_of {state['as_of']}, {incremental.how_built(state['replaced_from'], state['as_of'])}")
    return "; ".join(parts)


# typer's rich help keeps a docstring's single line breaks in the command list of `ecom --help` and
# in a command's later paragraphs, breaking sentences mid-line at any width: each paragraph is given
# as one line, for rich to wrap to the terminal.
for _command in app.registered_commands:
    _paragraphs = [" ".join(p.split()) for p in inspect.getdoc(_command.callback).split("\n\n")]
    _command.short_help, _command.help = _paragraphs[0], "\n\n".join(_paragraphs)
