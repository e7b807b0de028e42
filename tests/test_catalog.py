"""Model documentation outside the code: descriptions written on the built tables, `ecom ls`, exposures
in the lineage, and the `ecom docs` catalog (its browser test: tests/test_catalog_browser.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import engine
from ecom.core.docstrings import model_docs
from ecom.core.files import FileWriteError, atomic_write
from ecom.core.registry import Model, Project, Var
from ecom.core.text import counted
from ecom.outputs.catalog import catalog, write_catalog
from ecom.targets.duckdb import DuckDBTarget
from ecom.targets.options import TargetOptions, choose_target
from tests.conftest import EXPOSURE, raw_with_orders

runner = CliRunner()
# Where `ecom compile --target bigquery` places tables, from the defaults (no ecom.toml, no flags).
BIGQUERY_AT = choose_target(TargetOptions(target="bigquery"), environ={}).offline_locations()


@pytest.fixture(scope="module")
def with_exposure(project) -> Project:
    """The project with the test exposure only (the report's exposures vary while it is written)."""
    return dataclasses.replace(project, exposures={EXPOSURE.name: EXPOSURE})


@pytest.fixture(scope="module")
def built(project, tmp_path_factory):
    """Every model built on a DuckDB file from two orders."""
    path = tmp_path_factory.mktemp("built") / "ecom.duckdb"
    target = DuckDBTarget(path)
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    engine.build(project, target, list(project.order), engine.target_vars(project, target, {}))
    yield target
    target.close()


# --- descriptions on the built DuckDB tables -----------------------------------------------------


def test_every_built_table_and_column_carries_its_description(project, built):
    docs = model_docs(project)
    tables = dict(  # staging models are views on DuckDB
        built.con.raw_sql(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
            " UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main'"
        ).fetchall()
    )
    columns = built.con.raw_sql(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main'"
    ).fetchall()
    for name in project.order:
        doc = docs[name]
        expected = f"{doc.grain}\n\n{doc.description}" if doc.description else doc.grain
        assert tables[name] == expected, name
    comments = {(t, c): text for t, c, text in columns if t in project.models}
    assert {t for t, _ in comments} == set(project.order)
    missing = sorted(f"{t}.{c}" for (t, c), text in comments.items() if not (text or "").strip())
    assert missing == [], "built columns without a comment"
    assert comments[("fact_daily_pnl", "date")] == docs["fact_daily_pnl"].columns["date"]


def test_descriptions_with_quotes_backslashes_and_newlines_round_trip(tmp_path):
    text = 'it\'s "quoted", a back\\slash;\nand a second line -- not a comment'

    def stg_quoted(orders):
        return orders.select(order_id=orders.order_id)

    stg_quoted.__doc__ = f"One row per order.\n\nColumns:\n    order_id: {text!r}."
    project = Project.from_parts({"stg_quoted": Model("stg_quoted", stg_quoted, ("order_id",))}, {}, {})
    target = DuckDBTarget(tmp_path / "q.duckdb")
    target.write_raw(raw_with_orders("2024-03-01"))
    engine.build(project, target, ["stg_quoted"], {})
    (comment,) = target.con.raw_sql(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'stg_quoted' AND column_name = 'order_id'"
    ).fetchone()
    assert comment == f"{text!r}."


def test_the_build_records_rows_seconds_and_time_per_model(project, built):
    records = engine.last_builds(built)
    assert set(records) == set(project.order)
    assert records["stg_orders"]["rows"] == 2  # the two orders of the raw data
    assert all(r["seconds"] >= 0 for r in records.values())
    first = records["stg_orders"]["built_at"]
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - first < dt.timedelta(hours=1)
    # A partial build updates its models and keeps the others' records.
    engine.build(project, built, ["stg_orders"], engine.built_vars(project, built, {}))
    again = engine.last_builds(built)
    assert again["stg_orders"]["built_at"] > first
    assert again["fact_daily_pnl"] == records["fact_daily_pnl"]


# --- exposures -----------------------------------------------------------------------------------


def test_exposures_are_downstream_nodes_of_the_lineage(with_exposure):
    graph = engine.mermaid(with_exposure, with_exposure.order)
    assert "    fact_daily_pnl --> exposure_weekly_review>weekly_review]\n" in graph
    assert "    dim_customers --> exposure_weekly_review>weekly_review]\n" in graph
    assert "fact_not_here" not in graph  # not a model here: no node
    # not drawn when none of the models it reads is selected
    assert "exposure" not in engine.mermaid(with_exposure, ["stg_orders"])
    assert with_exposure.exposures_of("fact_daily_pnl") == ["weekly_review"]
    assert with_exposure.exposures_of("stg_orders") == []


@pytest.mark.parametrize("exposure", [EXPOSURE, *Project.load().exposures.values()], ids=lambda e: e.name)
def test_an_exposure_declares_only_columns_its_models_build(project, exposure):
    """(Of the models this project has: an exposure may read a mart of another branch.)"""
    schemas = engine.model_schemas(project)
    reads = {m: columns for m, columns in exposure.reads.items() if m in schemas}
    assert reads, "the exposure reads none of the models"
    unknown = [f"{m}.{c}" for m, columns in reads.items() for c in columns if c not in schemas[m].names]
    assert unknown == []


# --- ecom ls -------------------------------------------------------------------------------------


def _ls(monkeypatch, project: Project, *args: str):
    monkeypatch.setattr(Project, "load", classmethod(lambda cls: project))
    return runner.invoke(app, ["ls", *args], env={"COLUMNS": "250"})


def test_ls_prints_each_models_grain_and_the_exposures(monkeypatch, with_exposure):
    result = _ls(monkeypatch, with_exposure)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.startswith("│ fact_daily_pnl "))
    assert "One row per date from the earlier of the first order date" in row
    row = next(line for line in lines if line.startswith("│ weekly_review "))
    assert "fact_daily_pnl, dim_customers, fact_not_here" in row and "The Monday review" in row


def test_ls_model_prints_columns_with_types_and_descriptions(monkeypatch, with_exposure):
    result = _ls(monkeypatch, with_exposure, "fact_daily_pnl")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    date = next(line for line in lines if line.startswith("│ date "))
    assert "│ date " in date and "the calendar day (UTC); the key." in date
    orders = next(line for line in lines if line.startswith("│ orders "))
    assert "│ int64 " in orders
    downstream = "fact_daily_pnl_advanced, fact_attribution_models, fact_channel_economics, exposure weekly_review"
    assert f"read by: {downstream}" in result.stdout


def test_ls_without_a_terminal_keeps_model_names_whole(project, tmp_path):
    """A scheduler's log has no terminal at all: rich laid tables out in 80 columns there, cutting
    names short (`stg_order_i…`) and folding the columns into a column of words."""
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    command = [sys.executable, "-m", "ecom", "ls"]
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=environ, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("┃ model "))
    assert " ".join(header.replace("┃", " ").split()) == "model layer materialized key grain last built"
    models = lines[: next(i for i, line in enumerate(lines) if line.startswith("└"))]  # the exposures follow
    first_cells = [line.split("│")[1].strip() for line in models if line.startswith("│")]
    assert [name for name in first_cells if name] == list(project.order)


def test_help_lists_each_command_by_its_first_paragraph_in_one_line():
    """typer kept the docstrings' line breaks in `ecom --help`'s command list: 'checked first: on any'
    ended a line and 'problem nothing is written.' began the next, under a wide terminal too."""
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    [load] = [line for line in result.output.splitlines() if line.startswith("│ load ")]
    assert load.split("│")[1].split(maxsplit=1)[1].strip() == (
        "Load your own export (e.g. thelook from BigQuery) into the raw tables, each file replacing its table (an "
        "export holds every row, not only the new ones), checked first: on any problem nothing is written."
    )


def test_a_commands_help_keeps_no_line_break_of_its_docstring():
    result = runner.invoke(app, ["compile", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert (  # the docstring's second paragraph, which broke after "are read from the"
        "Variables whose default comes from the data (as_of: the latest order date) are read from the target's raw "
        "data; give them all with --vars to compile with no connection at all."
    ) in lines


def test_no_help_text_is_read_as_rich_markup():
    """typer's rich help reads [brackets] as markup: `ecom spend --help` said "BigQuery: dataset to
    write marketing_spend to", its "[project.]" gone."""
    import rich.markup
    import typer.main

    for name, command in typer.main.get_command(app).commands.items():
        for text in [command.help, *(p.help for p in command.params)]:
            if text:
                assert rich.markup.render(text).plain == text, f"ecom {name}: {text}"


def test_counted_says_one_model_and_many_rows():
    assert (counted(1, "model"), counted(0, "model"), counted(1024, "row")) == ("1 model", "0 models", "1,024 rows")


@pytest.mark.parametrize(
    "name, message",
    # the name is ls's argument, not a --select
    [("fact_nope", "error: ecom ls 'fact_nope' matches no model"), ("marts", "'marts' selects several models")],
)
def test_ls_of_no_single_model_is_one_line(name, message):
    result = runner.invoke(app, ["ls", name])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


# --- ecom docs -----------------------------------------------------------------------------------


def test_docs_json_has_every_model_and_column_with_type_description_tests_and_build(project, built, tmp_path):
    out = tmp_path / "catalog.json"
    # `ecom docs` opens the file read-only, which DuckDB refuses while this process holds it writable:
    # it reads a checkpointed copy.
    built.con.raw_sql("CHECKPOINT")
    copy = shutil.copy(built.path, tmp_path / "copy.duckdb")
    result = runner.invoke(app, ["docs", "--format", "json", "--out", str(out), "--path", str(copy)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert list(data["models"]) == list(project.order)
    schemas = engine.model_schemas(project)
    for name, m in data["models"].items():
        assert {c: col["type"] for c, col in m["columns"].items()} == {c: str(t) for c, t in schemas[name].items()}
    empty = [f"{n}.{c}" for n, m in data["models"].items() for c, col in m["columns"].items() if not col["description"]]
    assert empty == [], "columns without a description"
    pnl = data["models"]["fact_daily_pnl"]
    assert pnl["columns"]["date"]["tests"] == ["unique_fact_daily_pnl_date", "not_null_fact_daily_pnl_date"]
    assert pnl["upstream"]["models"] == ["int_daily_sales", "int_daily_marketing", "stg_orders"]
    assert pnl["downstream"] == {
        "models": ["fact_daily_pnl_advanced", "fact_attribution_models", "fact_channel_economics"],
        "exposures": ["overview", "marketing"],  # the report pages that read it (marts/report.py)
    }
    assert data["models"]["stg_orders"]["build"]["rows"] == 2
    # per target, as `ecom ls` says: a staging model is a view on DuckDB (the catalog said "table")
    assert data["models"]["stg_orders"]["materialized"] == "duckdb: view, bigquery: table"
    assert data["models"]["stg_events"]["materialized"] == "incremental"
    assert pnl["materialized"] == "table"
    assert data["build"]["vars"]["as_of"] == "2024-03-05"  # the later of the two orders
    # the SQL is what `ecom compile` writes for each dialect
    compiled = tmp_path / "compiled"
    for dialect in ("duckdb", "bigquery"):
        args = ["compile", "--target", dialect, "--vars", "as_of=2024-03-05", "--out", str(compiled)]
        assert runner.invoke(app, args).exit_code == 0
        assert pnl["sql"][dialect] == (compiled / dialect / "fact_daily_pnl.sql").read_text()


def test_a_secret_variable_is_never_written(project, built, tmp_path):
    salted = dataclasses.replace(project, vars={**project.vars, "salt": Var("salt", str, "x", "a salt", secret=True)})
    # visitor_salt, which stg_events' SQL uses: the catalog shows that SQL for both dialects
    values = {**engine.built_vars(project, built, {}), "salt": "pepper-4711", "visitor_salt": "pepper-0815"}
    engine.build(salted, built, ["stg_orders"], values)
    data = catalog(salted, values, BIGQUERY_AT, built)
    # only whether each is set, as the build line and _ecom_vars say it
    assert data["build"]["vars"]["salt"] == data["compiled_with"]["salt"] == "set"
    assert data["build"]["vars"]["visitor_salt"] == data["compiled_with"]["visitor_salt"] == "set"
    unsalted = catalog(salted, {**values, "visitor_salt": ""}, BIGQUERY_AT)
    assert unsalted["compiled_with"]["visitor_salt"] == "not set"
    for fmt in ("json", "html"):
        text = write_catalog(data, tmp_path / f"c.{fmt}", fmt).read_text()
        assert "pepper-4711" not in text and "pepper-0815" not in text


def test_the_html_is_one_offline_file_with_the_graph_library_inlined(project, tmp_path):
    values = engine.resolve_vars(project.vars, {"as_of": dt.date(2024, 6, 30)}, lambda _: None)
    data = catalog(project, values, BIGQUERY_AT)
    text = write_catalog(data, tmp_path / "c.html", "html").read_text()
    assert text.count("<script") == 3 and "<script src" not in text and "<link" not in text
    assert "Copyright (c) 2016-2026, The Cytoscape Consortium." in text  # its license header kept
    payload = text.split('<script type="application/json" id="catalog-data">')[1].split("</script>")[0]
    assert json.loads(payload) == json.loads(json.dumps(data))  # nothing in the data ends the script early


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "catalog.html"
    path.write_text("the previous catalog")
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(FileWriteError, match="disk full"):
        atomic_write(path, "half a new catalog")
    assert path.read_text() == "the previous catalog"
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.html"]  # no temporary file left


def test_docs_out_the_database_it_reads_is_refused_and_the_database_kept(tmp_path):
    """`ecom docs --out ecom.duckdb` would have replaced the database with the catalog's HTML."""
    database = tmp_path / "ecom.duckdb"
    target = DuckDBTarget(database)
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    target.close()
    before = database.read_bytes()
    result = runner.invoke(app, ["docs", "--path", str(database), "--out", str(database)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{database} is a DuckDB database: give another file name; nothing was replaced" in " ".join(
        result.stderr.split()
    )
    assert database.read_bytes() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "pdf"], "--format must be html or json, not 'pdf'"),
        (["--path", "none.duckdb"], "no DuckDB database at none.duckdb"),
    ],
)
def test_docs_bad_input_is_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["docs", *args])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("out, opens", [("c.json", "{"), ("C.JSON", "{"), ("c.html", "<!DOCTYPE html>"), ("c", "<!")])
def test_docs_out_json_without_format_writes_json(tmp_path, monkeypatch, out, opens):
    """`ecom docs --out catalog.json` wrote the HTML page into catalog.json."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["docs", "--path", "none.duckdb", "--vars", "as_of=2024-06-30", "--out", out])
    assert result.exit_code == 0, result.output
    assert (tmp_path / out).read_text().startswith(opens)


def test_docs_without_a_build_compiles_with_the_given_as_of(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["docs", "--path", "none.duckdb", "--vars", "as_of=2024-06-30"])
    assert result.exit_code == 0, result.output
    assert "no row counts" in " ".join(result.stderr.split())
    text = (tmp_path / "target" / "catalog.html").read_text()
    payload = json.loads(text.split('id="catalog-data">')[1].split("</script>")[0])
    assert payload["compiled_with"]["as_of"] == "2024-06-30"
    assert payload["build"] is None and {m["build"] for m in payload["models"].values()} == {None}
