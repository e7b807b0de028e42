"""Choosing a target: named targets in ecom.toml, with flags > environment > named target > defaults
(ecom/targets/options.py), and the one option set every command that works on a target shares."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer.main
from typer.testing import CliRunner

from ecom.cli import TARGET_OPTIONS, app
from ecom.core import engine
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets import duckdb as duckdb_target
from ecom.targets.base import Location, TargetError
from ecom.targets.bigquery.target import BigQueryTarget
from ecom.targets.duckdb import DuckDBTarget, database_path
from ecom.targets.options import TargetOptions, choose_target, open_target
from tests.conftest import snapshot

runner = CliRunner()

ECOM_TOML = """
default = "dev"

[targets.dev]
type = "duckdb"
path = "dev.duckdb"

[targets.prod]
type = "bigquery"
project = "shop-prod"
dataset = "dbt_prod"
raw_dataset = "bigquery-public-data.thelook_ecommerce"

[targets.prod.sources]
marketing_spend = "shop-prod.ads_raw"

[bigquery]
location = "EU"
dataset = "from_bigquery_section"
"""


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    """An empty working folder and an environment without target settings."""
    for var in list(os.environ):
        if var.startswith(("ECOM_", "BIGQUERY_")):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def toml(here) -> Path:
    (here / "ecom.toml").write_text(ECOM_TOML)
    return here


def test_without_ecom_toml_the_default_is_the_duckdb_file(here):
    chosen = choose_target(TargetOptions())
    assert (chosen.name, chosen.type) == ("duckdb", DuckDBTarget)
    target = chosen.open(create=True)
    assert target.path == Path("ecom.duckdb")
    target.close()


def test_the_default_named_target_and_its_path(toml):
    chosen = choose_target(TargetOptions())
    assert (chosen.name, chosen.type) == ("dev", DuckDBTarget)
    target = open_target(TargetOptions(), create=True)
    assert target.path == Path("dev.duckdb") and (toml / "dev.duckdb").exists()
    target.close()


def test_duckdb_path_flag_over_environment_over_named_target(toml, monkeypatch):
    monkeypatch.setenv("ECOM_DUCKDB_PATH", "env.duckdb")
    assert open_target(TargetOptions(), create=True).path == Path("env.duckdb")
    assert open_target(TargetOptions(path=Path("flag.duckdb")), create=True).path == Path("flag.duckdb")


def test_target_flag_over_environment_over_default(toml, monkeypatch):
    monkeypatch.setenv("ECOM_TARGET", "prod")
    assert choose_target(TargetOptions()).name == "prod"
    assert choose_target(TargetOptions(target="dev")).name == "dev"
    # a bare type is a target with no named settings
    chosen = choose_target(TargetOptions(target="bigquery"))
    assert (chosen.type, chosen.named) == (BigQueryTarget, {})


def test_bigquery_settings_flag_over_environment_over_named_over_bigquery_section(toml, monkeypatch):
    raw_at, models = choose_target(TargetOptions(target="prod")).offline_locations()
    # the named target's dataset wins over the [bigquery] section's
    assert models == Location("dbt_prod", "shop-prod")
    assert raw_at("orders") == Location("thelook_ecommerce", "bigquery-public-data")
    assert raw_at("marketing_spend") == Location("ads_raw", "shop-prod")
    monkeypatch.setenv("ECOM_BQ_DATASET", "env_ds")
    assert choose_target(TargetOptions(target="prod")).offline_locations()[1] == Location("env_ds", "shop-prod")
    flagged = TargetOptions(target="prod", dataset="flag_ds", project="flag-proj")
    assert choose_target(flagged).offline_locations()[1] == Location("flag_ds", "flag-proj")
    # the bare type reads only the [bigquery] section (and placeholders where nothing is set)
    monkeypatch.delenv("ECOM_BQ_DATASET")
    raw_at, models = choose_target(TargetOptions(target="bigquery")).offline_locations()
    assert models == Location("from_bigquery_section", "your-project")


def test_the_named_location_reaches_the_connection(toml):
    target = open_target(TargetOptions(target="prod", endpoint="127.0.0.1:9"))
    assert (target.location, target.models) == ("EU", Location("dbt_prod", "shop-prod"))
    assert target.raw_location("marketing_spend") == Location("ads_raw", "shop-prod")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[targets.dev]\ntype = "duckdb"\npath = 5\n', "ecom.toml: targets.dev.path must be a string, not 5"),
        ('[targets.dev]\ntype = "postgres"\n', "targets.dev.type must be one of duckdb, bigquery, not 'postgres'"),
        ("[targets.dev]\npath = 'x.duckdb'\n", 'targets.dev has no `type`: add type = "duckdb" or type = "bigquery"'),
        (
            '[targets.dev]\ntype = "duckdb"\ndataset = "x"\n',
            "targets.dev: unknown setting(s) dataset; known: type, path",
        ),
        ('[targets.prod]\ntype = "bigquery"\nsources = "x"\n', "targets.prod.sources must be a table, not 'x'"),
        ('targets = "dev"\n', "`targets` must be tables of named targets"),
        ('[targets]\ndev = "duckdb"\n', "targets.dev must be a table of settings"),
        ('default = "stage"\n[targets.dev]\ntype = "duckdb"\n', "default = 'stage' names no target; "),
        ("[bigquery]\nproject = 5\n", "bigquery.project must be a string, not 5"),
        # values of another type were TypeError tracebacks (a list or table is not a name to look up)
        ('default = ["dev"]\n', "ecom.toml: default must be the name of a target (a string), not ['dev']"),
        ("default = {}\n", "ecom.toml: default must be the name of a target (a string), not {}"),
        ('[targets.dev]\ntype = ["duckdb"]\n', "targets.dev.type must be one of duckdb, bigquery, not ['duckdb']"),
        ("[targets.dev]\ntype = {a = 1}\n", "targets.dev.type must be one of duckdb, bigquery, not {'a': 1}"),
        # a misspelt key was ignored: the build went to ecom.duckdb instead of the named target's file
        (
            'defualt = "prod"\n[targets.prod]\ntype = "duckdb"\npath = "prod.duckdb"\n',
            "ecom.toml: unknown key(s) defualt; known: bigquery, default, freshness, targets",
        ),
        ("[bigqeury]\nproject = 'p'\n[freshnes]\n", "unknown key(s) bigqeury, freshnes; known: "),
    ],
)
def test_mistakes_in_ecom_toml_are_one_line(here, content, message):
    (here / "ecom.toml").write_text(content)
    with pytest.raises(TargetError, match=r"^[^\n]*$") as e:
        open_target(TargetOptions(target="bigquery", endpoint="127.0.0.1:9"))
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[bigquery]\nprojekt = "x"\n', "ecom.toml: bigquery: unknown setting(s) projekt; known: "),
        ('[bigquery.sources]\nordrs = "x"\n', "per-source dataset given for ordrs (in "),
    ],
)
def test_a_mistake_in_the_bigquery_section_is_named_on_a_duckdb_target_too(here, content, message):
    """It waited for the first run on BigQuery: `ecom ls` and a build on DuckDB ran as if it were right."""
    (here / "ecom.toml").write_text(content)
    result = runner.invoke(app, ["ls"])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())


def test_an_empty_setting_in_ecom_toml_is_refused_not_taken_for_the_default(here):
    """`path = ""` of the named target was passed over: `ecom generate --replace` replaced the raw
    tables of the default ecom.duckdb instead."""
    default = DuckDBTarget("ecom.duckdb")
    default.write_raw({"orders": RAW_SCHEMAS["orders"].to_pyarrow().empty_table()})
    default.close()
    before = snapshot(here / "ecom.duckdb")
    (here / "ecom.toml").write_text('default = "dev"\n[targets.dev]\ntype = "duckdb"\npath = ""\n')
    result = runner.invoke(app, ["generate", "--scale", "0.001", "--replace"])
    message = f"error: {here / 'ecom.toml'}: targets.dev.path is empty: give a value, or remove the setting\n"
    assert (result.exit_code, result.stderr) == (1, message)
    assert snapshot(here / "ecom.duckdb") == before
    assert sorted(p.name for p in here.iterdir()) == ["ecom.duckdb", "ecom.toml"]


def test_two_settings_files_are_refused_rather_than_one_ignored(here):
    """ecom.yml beside ecom.toml was ignored without a word: its `default: dev` did not apply, and
    generate wrote the default ecom.duckdb."""
    (here / "ecom.toml").write_text('[targets.dev]\ntype = "duckdb"\npath = "dev.duckdb"\n')
    (here / "ecom.yml").write_text("default: dev\n")
    result = runner.invoke(app, ["generate", "--scale", "0.001"])
    message = (
        f"error: {here} has more than one settings file (ecom.toml, ecom.yml): keep one, and remove or rename "
        "the rest\n"
    )
    assert (result.exit_code, result.stderr) == (1, message)
    assert sorted(p.name for p in here.iterdir()) == ["ecom.toml", "ecom.yml"]


def test_an_ecom_toml_that_is_a_folder_is_named(here):
    (here / "ecom.toml").mkdir()
    with pytest.raises(TargetError, match="ecom.toml is not a file: remove it, or make it the settings file"):
        open_target(TargetOptions())


def test_an_ecom_toml_linking_to_nothing_is_named(here):
    (here / "ecom.toml").symlink_to(here / "settings" / "ecom.toml")
    with pytest.raises(TargetError, match="ecom.toml is a link to .*/settings/ecom.toml, which does not exist: fix or"):
        open_target(TargetOptions())


def test_ecom_ls_reports_a_broken_ecom_toml(here):
    (here / "ecom.toml").write_text("[default\n")
    result = runner.invoke(app, ["ls"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot read" in result.stderr and "ecom.toml: Expected ']'" in result.stderr
    (here / "ecom.toml").unlink()
    assert runner.invoke(app, ["ls"]).exit_code == 0  # no database, no settings: the list all the same


def test_a_broken_ecom_yml_says_what_and_where(here):
    """PyYAML's first line is its context alone ('while parsing a block mapping'): neither what is
    wrong nor where, which TOML's error says ('(at line 1, column 15)')."""
    (here / "ecom.yml").write_text("targets:\n  dev:\n    type: duckdb\n   path: x.duckdb\n")
    result = runner.invoke(app, ["ls"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == (
        f"error: cannot read {here / 'ecom.yml'}: expected <block end>, but found '<block mapping start>' "
        "(at line 4, column 4)\n"
    )


def test_unknown_target_lists_the_defined_ones(toml):
    result = runner.invoke(app, ["build", "--target", "staging"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = " ".join(result.stderr.split())
    assert "unknown target 'staging':" in line and "ecom.toml defines dev, prod" in line
    assert "duckdb, bigquery" in line


def test_an_empty_target_name_is_refused_not_taken_for_the_default(toml):
    # `--target ''` (an unset shell variable: `--target "$ENV"`) built the default target, exit 0
    result = runner.invoke(app, ["build", "--target", ""])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unknown target '':" in " ".join(result.stderr.split())
    assert sorted(p.name for p in toml.iterdir()) == ["ecom.toml"]


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        (["compile", "--vars", "as_of=2024-06-30", "-s", "stg_orders", "--dataset", ""], "--dataset"),
        (["build", "-s", "stg_orders", "--dataset", ""], "--dataset"),
        # spend went to the raw dataset (or ECOM_BQ_RAW_DATASET_MARKETING_SPEND's)
        (["spend", "--dataset", "d", "--into", ""], "--into"),
    ],
)
def test_an_empty_bigquery_flag_is_refused_not_taken_for_unset(here, monkeypatch, command, flag):
    """`--dataset ''` (an unset shell variable: `--dataset "$DS"`) was passed over: the models went to
    ECOM_BQ_DATASET's dataset, else `ecom`; a build without either said "no BigQuery dataset: pass --dataset"."""
    monkeypatch.setenv("ECOM_BQ_DATASET", "env_ds")
    args = [*command, "--target", "bigquery", "--project", "my-proj", "--endpoint", "127.0.0.1:9"]
    result = runner.invoke(app, args)
    message = f"error: {flag} is given but empty: give a value, or drop the flag\n"
    assert (result.exit_code, result.stderr) == (1, message)
    assert sorted(p.name for p in here.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        # the cap the user counts on would not apply: a DuckDB build ignored it, exit 0
        (
            ["--max-bytes-billed", "1GB", "--threads", "8"],
            "error: --max-bytes-billed, --threads are bigquery settings, and target dev is duckdb: drop them, "
            "or choose a bigquery target with --target",
        ),
        (
            ["--target", "prod", "--path", "x.duckdb"],
            "error: --path is a duckdb setting, and target prod is bigquery: drop it, or choose a duckdb target "
            "with --target",
        ),
    ],
)
def test_a_flag_the_target_does_not_take_is_refused(toml, args, message):
    result = runner.invoke(app, ["build", *args])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert " ".join(result.stderr.split()) == message
    assert sorted(p.name for p in toml.iterdir()) == ["ecom.toml"]


def test_every_target_command_takes_the_same_target_options():
    commands = typer.main.get_command(app).commands
    with_target = {name for name, c in commands.items() if any(p.name == "target" for p in c.params)}
    data_in = {"generate", "load", "spend"}
    runners = {"build", "compile", "test", "report", "docs", "freshness", "run", "runs", "ls"}
    assert with_target == data_in | runners
    for name in with_target:
        assert {p.name for p in commands[name].params} >= set(TARGET_OPTIONS), name


def test_compile_offline_once_every_data_derived_variable_is_given(toml, project):
    """No raw data and no database file: with as_of given, compile needs no connection; without, it
    must read the raw data and says it cannot."""
    assert engine.data_derived(project) == ["as_of"]  # marts/: the latest order date
    chosen = choose_target(TargetOptions())
    values, raw_at, models = engine.compile_inputs(project, chosen, {"as_of": "2024-06-30"})
    assert values["as_of"] == dt.date(2024, 6, 30) and (raw_at("orders"), models) == (Location("raw"), Location("main"))
    assert not (toml / "dev.duckdb").exists()
    with pytest.raises(TargetError, match="no DuckDB database at dev.duckdb"):
        engine.compile_inputs(project, chosen, {})


def test_cli_compile_writes_the_named_targets_sql_offline(toml):
    result = runner.invoke(app, ["compile", "--target", "prod", "--vars", "as_of=2024-06-30", "-s", "stg_orders"])
    assert result.exit_code == 0, result.output
    sql = (toml / "target/compiled/prod/stg_orders.sql").read_text()
    assert "`bigquery-public-data`.`thelook_ecommerce`.`orders`" in sql
    assert "as_of=2024-06-30" in " ".join(result.stderr.split())


def test_generate_refuses_a_remote_target_before_connecting(toml):
    # no credentials, no endpoint: opening prod would fail on credentials, not say this
    result = runner.invoke(app, ["generate", "--target", "prod", "--scale", "0.001"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ecom generate writes into a local DuckDB file, not target prod (bigquery)" in " ".join(
        result.stderr.split()
    )


def test_dry_run_is_refused_where_the_target_cannot_estimate(here):
    DuckDBTarget("ecom.duckdb").close()
    result = runner.invoke(app, ["build", "--dry-run"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--dry-run needs a target that estimates bytes (bigquery), not duckdb main in ecom.duckdb" in " ".join(
        result.stderr.split()
    )


def test_readme_ecom_toml_example_selects_dev_and_prod(here):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (here / "ecom.toml").write_text(example)
    assert choose_target(TargetOptions()).named == {"path": "dev.duckdb"}
    raw_at, models = choose_target(TargetOptions(target="prod")).offline_locations()
    assert models == Location("dbt_prod", "my-project")
    assert raw_at("marketing_spend") == Location("ecom_raw", "my-project")


def test_a_database_file_that_cannot_be_read_says_why_even_without_an_os_reason(tmp_path, monkeypatch):
    # an OSError may carry no strerror (raised by a library, not the OS): the message said "None"
    path = tmp_path / "shop.duckdb"
    path.write_bytes(b"DUCK")

    def unreadable(_):
        raise OSError("read interrupted")

    monkeypatch.setattr(duckdb_target, "is_duckdb_database", unreadable)
    with pytest.raises(TargetError) as refused:
        database_path(path, create=False)
    assert str(refused.value) == f"cannot read {path}: read interrupted; check its permissions"


def test_a_raw_tables_schema_is_read_again_after_ecom_writes_it(tmp_path):
    """The raw tables are looked up once per connection (a build reads each up to four times); a
    write through the target (load, generate) forgets them, so a table replaced with other
    columns is seen as it now is."""
    target = DuckDBTarget(tmp_path / "db.duckdb")
    try:
        assert target.raw_schema("orders") is None
        pq.write_table(pa.table({"order_id": [1], "status": ["Complete"]}), tmp_path / "orders.parquet")
        target.write_raw_files({"orders": tmp_path / "orders.parquet"}, "a partial export")
        assert target.raw_schema("orders").names == ("order_id", "status")
        assert target.write_raw({"orders": RAW_SCHEMAS["orders"].to_pyarrow().empty_table()}) == {"orders": 0}
        assert target.raw_schema("orders").names == RAW_SCHEMAS["orders"].names
        assert target.source("orders").count().to_pyarrow().as_py() == 0
        target.write_raw_files({"orders": tmp_path / "orders.parquet"}, "the partial export again")
        assert target.raw_schema("orders").names == ("order_id", "status")
    finally:
        target.close()
