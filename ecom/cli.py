"""The `ecom` command line: generate/load raw data, build, compile, test and list models.

Conventions follow dbt: `--select` graph selectors, `--vars`, `--target`. Expected failures (bad
input, missing data or credentials, a failing model) print one line and exit 1; nothing else is
caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ecom.core import engine, incremental
from ecom.core.registry import Project, ProjectError
from ecom.core.sources import SourceContractError
from ecom.core.vars import VarsError, parse_vars
from ecom.targets.base import Target, TargetError
from ecom.targets.duckdb import DEFAULT_DUCKDB_PATH, DuckDBTarget

app = typer.Typer(
    help="Portable e-commerce profitability models: build on DuckDB or BigQuery, compile, test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

EXPECTED = (SourceContractError, ProjectError, VarsError, engine.BuildError, TargetError)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Expected failures become one readable line and exit code 1."""
    try:
        yield
    except EXPECTED as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except Exception as e:
        # BigQuery's refusals (permissions, quotas, expired credentials) reached through ibis
        message = _google_error(e)
        if message is None:
            raise
        err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _google_error(e: Exception) -> str | None:
    if not type(e).__module__.startswith("google."):
        return None
    from ecom.targets.bigquery.errors import describe_error

    return describe_error(e)


# Options shared by the commands that talk to a target.
TargetOpt = Annotated[str, typer.Option("--target", "-t", help="duckdb (local file, default) or bigquery.")]
PathOpt = Annotated[
    Path | None,
    typer.Option("--path", help=f"DuckDB database file (env ECOM_DUCKDB_PATH, default {DEFAULT_DUCKDB_PATH})."),
]
ProjectOpt = Annotated[str | None, typer.Option(help="BigQuery project (env ECOM_BQ_PROJECT).")]
DatasetOpt = Annotated[str | None, typer.Option(help="BigQuery dataset for the models (env ECOM_BQ_DATASET).")]
RawDatasetOpt = Annotated[
    str | None,
    typer.Option(help="BigQuery dataset of the raw tables, project.dataset or dataset (env ECOM_BQ_RAW_DATASET)."),
]
LocationOpt = Annotated[str | None, typer.Option(help="BigQuery location, e.g. US or EU (env ECOM_BQ_LOCATION).")]
EndpointOpt = Annotated[
    str | None, typer.Option(help="BigQuery API endpoint, for an emulator (env BIGQUERY_EMULATOR_HOST).")
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option("--select", "-s", help="Models: name, +name (with upstreams), name+ (with downstreams), a layer."),
]
VarsOpt = Annotated[
    list[str] | None,
    typer.Option("--vars", help="Build variables: '{as_of: 2024-06-30, session_timeout_minutes: 45}' or key=value."),
]


def open_target(
    target: str,
    path: Path | None,
    project: str | None = None,
    dataset: str | None = None,
    raw_dataset: str | None = None,
    location: str | None = None,
    endpoint: str | None = None,
    *,
    create: bool = False,
) -> Target:
    if target == "duckdb":
        return DuckDBTarget(path, create=create)
    if target == "bigquery":
        from ecom.targets.bigquery.target import BigQueryTarget

        return BigQueryTarget.from_options(
            project=project, dataset=dataset, raw_dataset=raw_dataset, location=location, endpoint=endpoint
        )
    raise TargetError(f"unknown target {target!r}: use duckdb or bigquery")


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


@app.command()
def generate(
    scale: Annotated[float, typer.Option(help="1.0 = thelook's size (100,000 users).")] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
    end_date: Annotated[
        str | None, typer.Option(help="Last order date, YYYY-MM-DD (fixed default, never today).")
    ] = None,
    parquet: Annotated[Path | None, typer.Option(help="Also write one Parquet file per table here.")] = None,
    no_duckdb: Annotated[bool, typer.Option("--no-duckdb", help="Write only the Parquet folder.")] = False,
    path: PathOpt = None,
) -> None:
    """Generate thelook-shaped synthetic raw data (plus marketing_spend) into the DuckDB raw schema."""
    from ecom.data import generate as gen

    with friendly_errors():
        if scale <= 0:
            raise VarsError(f"--scale must be a positive number, not {scale}")
        try:
            end = dt.date.fromisoformat(end_date) if end_date else gen.DEFAULT_END_DATE
        except ValueError:
            raise VarsError(f"--end-date must be a date written YYYY-MM-DD, not {end_date!r}") from None
        if no_duckdb and parquet is None:
            raise VarsError("--no-duckdb needs --parquet DIR: there would be nowhere to write")
        target = None if no_duckdb else DuckDBTarget(path, create=True)
        with progress() as bar:
            task = bar.add_task("generating", total=None)

            def on_rows(table: str, rows: int) -> None:
                bar.update(task, description=f"generating {table}", advance=rows)

            counts = gen.run(scale, seed, end, target, parquet, on_rows)
        where = [str(target.path)] if target else []
        where += [str(parquet)] if parquet else []
        summary = Table(
            "raw table", "rows", title=f"Generated (scale {scale}, seed {seed}, to {end}) into {', '.join(where)}"
        )
        for table, rows in counts.items():
            summary.add_row(table, f"{rows:,}")
        out.print(summary)


@app.command()
def load(
    folder: Annotated[Path, typer.Argument(help="A folder with one Parquet or CSV file per raw table.")],
    target: TargetOpt = "duckdb",
    path: PathOpt = None,
    project: ProjectOpt = None,
    raw_dataset: RawDatasetOpt = None,
    location: LocationOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """Load your own export (e.g. thelook from BigQuery) into the raw tables, checked first: on any
    problem nothing is written."""
    from ecom.data.load import read_folder

    with friendly_errors():
        tables = read_folder(folder)
        tgt = open_target(target, path, project, None, raw_dataset, location, endpoint, create=True)
        counts = tgt.write_raw(tables)
        summary = Table("raw table", "rows", title=f"Loaded {folder} into {engine.describe(tgt, raw=True)}")
        for table, rows in counts.items():
            summary.add_row(table, f"{rows:,}")
        out.print(summary)


@app.command()
def build(
    select: SelectOpt = None,
    vars: VarsOpt = None,
    target: TargetOpt = "duckdb",
    path: PathOpt = None,
    project: ProjectOpt = None,
    dataset: DatasetOpt = None,
    raw_dataset: RawDatasetOpt = None,
    location: LocationOpt = None,
    endpoint: EndpointOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="BigQuery: estimate bytes processed per model; write nothing.")
    ] = False,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models in full.")] = False,
) -> None:
    """Validate the raw sources, then materialize the selected models in dependency order
    (incremental models only from their first changed day; see README, "Incremental builds")."""
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select)
        given = parse_vars(vars or [])
        tgt = open_target(target, path, project, dataset, raw_dataset, location, endpoint)
        engine.validate_sources(tgt)
        values = engine.target_vars(proj, tgt, given)
        if dry_run:
            _dry_run(proj, tgt, selected, values)
            return
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        err.print(f"Building {len(selected)} models on {engine.describe(tgt)} with {shown}", highlight=False)
        with progress() as bar:
            task = bar.add_task("building", total=len(selected))

            def done(result: engine.ModelResult) -> None:
                bar.update(task, advance=1, description=f"built {result.name}")

            results = engine.build(proj, tgt, selected, values, on_done=done, full_refresh=full_refresh)
        report = Table("model", "layer", "rows", "seconds", "incremental", title="Build")
        for r in results:
            report.add_row(r.name, proj.models[r.name].layer, f"{r.rows:,}", f"{r.seconds:.2f}", r.note)
        total = sum(r.seconds for r in results)
        report.add_row("total", "", "", f"{total:.2f}", "", style="bold")
        out.print(report)
        for title, rows in engine.summaries(proj, tgt, set(selected)):
            out.print(_rich_table(title, rows))


def _dry_run(proj: Project, tgt: Target, selected: list[str], values: dict) -> None:
    if not hasattr(tgt, "dry_run"):
        raise TargetError("--dry-run asks BigQuery for estimates: use it with --target bigquery")
    # The queries the build would run; an upstream model not built yet is computed inline.
    plan = engine.dry_run_plan(proj, tgt, selected, values)
    report = Table("model", "estimated bytes", "note", title="Dry run (nothing written)")
    total = 0
    for name, (expr, inline) in plan.items():
        size = tgt.dry_run(proj.models[name], expr)
        total += size
        report.add_row(name, f"{size:,}", f"computes {', '.join(inline)} inline (not built yet)" if inline else "")
    report.add_row("total", f"{total:,}", "", style="bold")
    out.print(report)


def _rich_table(title: str, rows: list[dict]) -> Table:
    if len(rows) == 1:  # one record reads best as a column of name, value
        table = Table("", "", title=title, show_header=False)
        for name, value in rows[0].items():
            table.add_row(name, _fmt(value))
        return table
    table = Table(*(rows[0].keys() if rows else []), title=title)
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


@app.command()
def compile(
    select: SelectOpt = None,
    vars: VarsOpt = None,
    target: TargetOpt = "duckdb",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the .sql files.")] = Path("target/compiled"),
    path: PathOpt = None,
    project: ProjectOpt = None,
    dataset: DatasetOpt = None,
    raw_dataset: RawDatasetOpt = None,
    location: LocationOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """Write each model's SQL for the target's dialect to OUT/<target>/<model>.sql (deterministic).

    as_of defaults to the latest order date of the target's raw data; give --vars as_of=YYYY-MM-DD
    to compile with no connection at all.
    """
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select)
        given = parse_vars(vars or [])
        if "as_of" in given:
            values = engine.resolve_vars(proj.vars, given, lambda _: None)
            raw_at, models, dialect = engine.compile_locations(target, project, dataset, raw_dataset, path)
        else:
            tgt = open_target(target, path, project, dataset, raw_dataset, location, endpoint)
            values = engine.target_vars(proj, tgt, given)
            raw_at, models, dialect = tgt.raw_location, tgt.models, tgt.dialect
        exprs = engine.unbound_expressions(proj, values, raw_at, models)
        folder = out_dir / target
        folder.mkdir(parents=True, exist_ok=True)
        for name in selected:
            (folder / f"{name}.sql").write_text(engine.to_sql(exprs[name], dialect))
        err.print(f"Wrote {len(selected)} {dialect} models to {folder}/ (as_of {values['as_of']})")


@app.command()
def test(
    select: SelectOpt = None,
    vars: VarsOpt = None,
    target: TargetOpt = "duckdb",
    path: PathOpt = None,
    project: ProjectOpt = None,
    dataset: DatasetOpt = None,
    raw_dataset: RawDatasetOpt = None,
    location: LocationOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """Run the data tests of the selected (built) models: keys, not-null, accepted values,
    relationships and the cross-mart invariants."""
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select)
        tgt = open_target(target, path, project, dataset, raw_dataset, location, endpoint)
        values = engine.built_vars(proj, tgt, parse_vars(vars or []))
        missing = [m for m in selected if not tgt.exists(m)]
        if missing:
            raise engine.BuildError(
                f"not built on {engine.describe(tgt)}: {', '.join(missing)}; run `ecom build` first"
            )
        cases = engine.generic_tests(proj, selected) + engine.singular_tests(proj, selected, values)
        colors = {"pass": "green", "fail": "red", "error": "red"}

        def done(r: engine.TestResult) -> None:
            detail = (
                f" ({r.failures:,} failing rows)" if r.status == "fail" else (f" ({r.message})" if r.message else "")
            )
            out.print(f"[{colors[r.status]}]{r.status.upper():5}[/] {r.name}{detail}", highlight=False)

        results = engine.run_tests(cases, tgt.table, on_done=done, workers=getattr(tgt, "test_workers", 1))
        failed = [r for r in results if r.status != "pass"]
        out.print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
        if failed:
            raise typer.Exit(1)


@app.command("report")
def report(
    output: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    target: TargetOpt = "duckdb",
    path: PathOpt = None,
    project: ProjectOpt = None,
    dataset: DatasetOpt = None,
    raw_dataset: RawDatasetOpt = None,
    location: LocationOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """Write a self-contained HTML dashboard of the built marts (opens offline, no server)."""
    from ecom.outputs import report as dashboard

    with friendly_errors():
        proj = Project.load()
        tgt = open_target(target, path, project, dataset, raw_dataset, location, endpoint)
        marts = dict.fromkeys(m for e in proj.exposures.values() for m in e.reads)
        missing = [m for m in marts if not tgt.exists(m)]
        if missing:
            raise engine.BuildError(
                f"not built on {engine.describe(tgt)}: {', '.join(missing)}; run `ecom build` first"
            )
        with err.status("querying the marts and writing the report"):
            values = engine.built_vars(proj, tgt, {})
            try:
                written = dashboard.write_report(proj.exposures.values(), tgt.table, values, output)
            except dashboard.ReportError as e:
                raise engine.BuildError(str(e)) from None
        out.print(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)", highlight=False)


@app.command("ls")
def list_models(
    select: SelectOpt = None,
    mermaid: Annotated[bool, typer.Option("--mermaid", help="Print the lineage as a Mermaid graph.")] = False,
    target: TargetOpt = "duckdb",
    path: PathOpt = None,
) -> None:
    """List the models with their layer, key and upstreams, and how each was last built on the
    target (when its database exists), or the lineage graph."""
    with friendly_errors():
        proj = Project.load()
        selected = proj.select(select)
        if mermaid:
            print(engine.mermaid(proj, selected))
            return
        state = _built_state(target, path)
        table = Table("model", "layer", "materialized", "key", "reads", "last built", title=f"{len(selected)} models")
        for name in selected:
            m = proj.models[name]
            s = state.get(name)
            built = f"as_of {s['as_of']}, {s['mode']}" if s else ""
            if s and s["replaced_from"]:
                built += f" from {s['replaced_from']}"
            table.add_row(name, m.layer, m.materialized, ", ".join(m.key), ", ".join(m.params), built)
        out.print(table)


def _built_state(target: str, path: Path | None) -> dict[str, dict]:
    """The incremental state on the target, or nothing when no DuckDB database exists yet."""
    try:
        tgt = open_target(target, path)
    except TargetError:
        return {}
    try:
        return incremental.read_state(tgt)
    finally:
        tgt.close()


def main() -> None:  # pragma: no cover - the console script
    app(prog_name="ecom")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
