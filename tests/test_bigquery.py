"""`--target bigquery`: configuration, errors a user meets, and the whole build on a local emulator.

The emulator tests (marked `emulator`) upload a small raw dataset, build every model by `ecom run`
(its data tests, report and record with it), and check the tables against the same models built on
DuckDB, their partitioning/clustering against the decorators, a rebuild, a failing model and the
dry run. The emulator (local-bigquery) runs SQL on DuckDB, so it proves the wiring (DDL, jobs,
loads, reads, metadata), not BigQuery's own SQL semantics: the compiled-SQL snapshots and the
dialect cross-check cover those.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.cloud.bigquery import Dataset, LoadJobConfig
from typer.testing import CliRunner, Result

from ecom.cli import app
from ecom.core import engine, incremental
from ecom.core.docstrings import model_docs
from ecom.core.interrupts import replaced, watching_ctrl_c
from ecom.core.registry import Model, Project
from ecom.core.runs import RUNS_TABLE, history
from ecom.core.sources import RAW_SCHEMAS, SourceContractError
from ecom.core.vars import resolve_vars
from ecom.data.load import read_folder
from ecom.targets.base import Location, TargetError
from ecom.targets.bigquery.auth import HOW_TO_AUTHENTICATE
from ecom.targets.bigquery.config import offline_locations, resolve_config
from ecom.targets.bigquery.errors import BigQueryError
from ecom.targets.bigquery.target import BigQueryTarget
from ecom.targets.duckdb import DuckDBTarget
from tests.bq_emulator import (
    SCENARIO_MODELS,
    Emulator,
    assert_scenario_equals_duckdb,
    bigquery_target,
    clean_env,
    drop_datasets,
    queries_sent,
    raw_columns_queried,
    state_tables_read,
    tiny_raw,
)
from tests.conftest import FIXTURES, SCENARIOS, SNAPSHOT_AS_OF, assert_same_rows, invoke, scenario_vars

ROOT = Path(__file__).resolve().parent.parent
# google-cloud-bigquery deprecates reading Arrow straight from the Storage API (ibis 12 does it)
pytestmark = pytest.mark.filterwarnings("ignore:Retrieving Arrow record batches directly:PendingDeprecationWarning")


# -- configuration ---------------------------------------------------------------------------------


def test_flags_win_over_environment_over_config_file(tmp_path):
    (tmp_path / "ecom.toml").write_text(
        '[bigquery]\nproject = "file-proj"\ndataset = "file_ds"\nlocation = "EU"\n'
        'raw_dataset = "bigquery-public-data.thelook_ecommerce"\n'
        '[bigquery.sources]\nmarketing_spend = "file_ds_raw"\nevents = "x.y"\n'
    )
    env = {"ECOM_BQ_DATASET": "env_ds", "ECOM_BQ_RAW_DATASET_EVENTS": "env-proj.events_raw"}
    config = resolve_config({"project": "flag-proj"}, env, tmp_path)
    assert (config.project, config.dataset, config.location) == ("flag-proj", "env_ds", "EU")
    assert config.raw_dataset == "bigquery-public-data.thelook_ecommerce"
    # per source: the file's marketing_spend, the environment's events over the file's
    assert config.sources == {"marketing_spend": "file_ds_raw", "events": "env-proj.events_raw"}


def test_yaml_config_file_and_per_source_locations(tmp_path):
    (tmp_path / "ecom.yml").write_text(
        "bigquery:\n  project: my-proj\n  dataset: ecom\n"
        "  raw_dataset: bigquery-public-data.thelook_ecommerce\n"
        "  sources:\n    marketing_spend: my-proj.ecom_raw\n"
    )
    target = BigQueryTarget(resolve_config({"endpoint": "http://127.0.0.1:9"}, {}, tmp_path))
    assert target.models == Location("ecom", "my-proj")
    assert target.raw_location("orders") == Location("thelook_ecommerce", "bigquery-public-data")
    assert target.raw_location("marketing_spend") == Location("ecom_raw", "my-proj")
    # models compile against those locations, fully qualified
    sql = ibis.to_sql(target.raw_location("orders").unbound("orders", RAW_SCHEMAS["orders"]), dialect="bigquery")
    assert "`bigquery-public-data`.`thelook_ecommerce`.`orders`" in sql


def test_raw_dataset_defaults_beside_the_models_dataset():
    target = bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir="/nonexistent")
    assert target.raw == Location("ecom_raw", "my-proj")
    assert target.endpoint == "http://127.0.0.1:9"
    # no Storage Read endpoint given: results over REST, and no Storage client for Google's host
    assert target.con.storage_client is None and target.client._ensure_bqstorage_client() is None


def test_offline_compile_uses_the_same_settings_as_a_build(tmp_path):
    (tmp_path / "ecom.toml").write_text(
        '[bigquery]\nproject = "my-proj"\nraw_dataset = "bigquery-public-data.thelook_ecommerce"\n'
        '[bigquery.sources]\nmarketing_spend = "ecom_raw"\n'
    )
    raw_at, models = offline_locations(environ={"ECOM_BQ_DATASET": "analytics"}, folder=tmp_path)
    assert models == Location("analytics", "my-proj")
    assert raw_at("orders") == Location("thelook_ecommerce", "bigquery-public-data")
    assert raw_at("marketing_spend") == Location("ecom_raw", "my-proj")
    raw_at, models = offline_locations(environ={}, folder=tmp_path / "nothing-here")
    assert (raw_at("orders"), models) == (Location("ecom_raw", "your-project"), Location("ecom", "your-project"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[bigquery]\nprojekt = "x"\n', "bigquery: unknown setting(s) projekt"),
        ('[bigquery.sources]\nordres = "x"\n', "per-source dataset given for ordres"),
        ("[bigquery\n", "cannot read"),
    ],
)
def test_config_file_mistakes_are_one_line_errors(tmp_path, content, message):
    (tmp_path / "ecom.toml").write_text(content)
    with pytest.raises(TargetError, match=r"^[^\n]*$") as e:
        resolve_config({}, {}, tmp_path)
    assert message in str(e.value)


def test_missing_project_or_dataset_says_which_and_how():
    with pytest.raises(TargetError, match="no BigQuery project: pass --project, set ECOM_BQ_PROJECT"):
        BigQueryTarget(resolve_config({"dataset": "d", "endpoint": "127.0.0.1:9"}, {}, Path("/nonexistent")))
    target = BigQueryTarget(resolve_config({"project": "my-proj", "raw_dataset": "r", "endpoint": "127.0.0.1:9"}, {}))
    assert target.raw == Location("r", "my-proj")  # enough to upload raw data
    with pytest.raises(TargetError, match="no BigQuery dataset for the models: pass --dataset"):
        _ = target.models


# -- the statement each model runs -----------------------------------------------------------------


@pytest.fixture
def offline_target() -> BigQueryTarget:
    return bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir="/nonexistent")


def _model(name: str, **kwargs) -> Model:
    return Model(name=name, func=lambda: None, key=("id",), **kwargs)


def test_ddl_partitions_clusters_and_labels(offline_target):
    t = ibis.table({"id": "int64", "day": "date", "ts": "timestamp('UTC')", "c": "string"}, name="src")
    by_date = offline_target.ddl(_model("fact_x", partition_by="day", cluster_by=("c", "id")), t)
    assert by_date.startswith(
        "CREATE OR REPLACE TABLE `my-proj.ecom.fact_x` PARTITION BY `day` CLUSTER BY `c`, `id` "
        'OPTIONS(labels=[("ecom_model", "fact_x")]) AS\nSELECT'
    )
    by_ts = offline_target.ddl(_model("fact_y", partition_by="ts"), t)
    assert "PARTITION BY DATE(`ts`) OPTIONS" in by_ts
    view = offline_target.ddl(_model("v", materialized="view"), t)
    assert view.startswith('CREATE OR REPLACE VIEW `my-proj.ecom.v` OPTIONS(labels=[("ecom_model", "v")]) AS')
    with pytest.raises(BigQueryError, match="partition_by='c' is string"):
        offline_target.ddl(_model("bad", partition_by="c"), t)


def test_every_models_partitioning_and_clustering_is_valid_for_bigquery(project, offline_target):
    """A decorator BigQuery would refuse (partition by a non-date, cluster by a float or more than
    4 columns) fails here, with no connection, rather than mid-build."""
    exprs = engine.unbound_expressions(
        project,
        {**resolve_vars(project.vars, {"as_of": SNAPSHOT_AS_OF}, lambda _: None)},
        offline_target.raw_location,
        offline_target.models,
    )
    for name, model in project.models.items():
        ddl = offline_target.ddl(model, exprs[name])
        assert (" PARTITION BY " in ddl) == bool(model.partition_by), name
        assert (" CLUSTER BY " in ddl) == bool(model.cluster_by), name


def test_clustering_bigquery_refuses_is_caught_before_any_job(offline_target):
    t = ibis.table({"id": "int64", "x": "float64", "a": "string"}, name="src")
    with pytest.raises(BigQueryError, match=r"at most 4 columns .*; not x \(float64\)"):
        offline_target.ddl(_model("m", cluster_by=("a", "x")), t)
    with pytest.raises(BigQueryError, match="at most 4 columns"):
        offline_target.ddl(_model("m", cluster_by=("a", "id", "a", "id", "a")), t)


def test_dry_run_asks_for_a_dry_run_and_returns_the_estimate(offline_target):
    seen = []

    class StubClient:
        def query(self, sql, job_config):
            seen.append((sql, job_config))
            return SimpleNamespace(result=lambda: None, total_bytes_processed=12_345)

    offline_target.client = StubClient()
    expr = ibis.table({"id": "int64"}, name="orders", database="ecom_raw", catalog="p")
    assert offline_target.dry_run(_model("stg_orders"), expr) == 12_345
    ((sql, config),) = seen
    assert config.dry_run is True and config.use_query_cache is False
    assert config.labels == {"ecom_model": "stg_orders", "ecom_layer": "staging"}
    assert "`p`.`ecom_raw`.`orders`" in sql and "CREATE" not in sql


# -- errors a user meets without credentials -------------------------------------------------------


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**env, "PYTHONPATH": str(ROOT)}
    # The timeout only stops a hang: how fast the refusal comes is for a benchmark, not a test.
    return subprocess.run(
        [sys.executable, "-m", "ecom", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def _ecom(*args: str, env: dict[str, str], cwd: Path) -> Result:
    """`ecom ARGS` in-process, from `cwd`, with `env` as its whole environment."""
    return invoke(*args, env={k: None for k in os.environ} | env, cwd=cwd)


def test_no_credentials_prints_how_to_authenticate(tmp_path):
    home = tmp_path / "home"
    home.mkdir()  # no gcloud ADC file there
    done = _cli(
        "build",
        "--target",
        "bigquery",
        "--project",
        "my-proj",
        "--dataset",
        "d",
        env=clean_env(HOME=str(home)),
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert HOW_TO_AUTHENTICATE.split(":")[0] in done.stderr
    assert "gcloud auth application-default login" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "was not found"),
        ("{not json", "is not a valid json file"),
        ("[1, 2]", "is not a credentials file (a JSON object)"),  # a traceback: google-auth calls .get() on it
    ],
)
def test_an_unusable_credentials_file_is_named_with_the_variable(tmp_path, content, reason):
    """Named by the variable that points at it (google-auth's own message for a file that is not
    JSON was a Python tuple)."""
    home = tmp_path / "home"
    home.mkdir()
    key = tmp_path / "key.json"
    if content is not None:
        key.write_text(content)
    env = clean_env(HOME=str(home), GOOGLE_APPLICATION_CREDENTIALS=str(key))
    done = _cli("build", "--target", "bigquery", "--project", "my-proj", "--dataset", "d", env=env, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (
        f"error: GOOGLE_APPLICATION_CREDENTIALS={key}: File {key} {reason}; set it to a service-account key file, "
        "or unset it and run `gcloud auth application-default login`\n"
    )


# -- end to end on the emulator --------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_data() -> dict[str, pa.Table]:
    return tiny_raw()


@pytest.fixture(scope="module")
def bq(bq_emulator: Emulator, raw_data) -> BigQueryTarget:
    target = bigquery_target(
        project=bq_emulator.project,
        dataset="ecom",
        raw_dataset="ecom_raw",
        endpoint=bq_emulator.endpoint,
        storage_endpoint=bq_emulator.storage_endpoint,
        config_dir="/nonexistent",
    )
    counts = target.write_raw(raw_data)
    assert counts == {name: table.num_rows for name, table in raw_data.items()}
    yield target
    drop_datasets(target, "ecom", "ecom_raw")
    target.close()


def _build(project: Project, target, given=None, selected=None):
    """What `ecom build` does: validate the sources, resolve the variables, build every model (or
    the `selected` ones)."""
    selected = selected or list(project.order)
    engine.validate_sources(target)
    engine.validate_values(target, engine.raw_tables_read(project, target, selected))
    values = engine.target_vars(project, target, given or {})
    return values, engine.build(project, target, selected, values)


@pytest.fixture(scope="module")
def duck(project, raw_data, tmp_path_factory):
    """Every model built on DuckDB from the raw data the emulator gets."""
    target = DuckDBTarget(tmp_path_factory.mktemp("duck") / "ecom.duckdb")
    target.write_raw(raw_data)
    yield SimpleNamespace(values=_build(project, target)[0], target=target)
    target.close()


# tiny_raw's newest order and event are of 2024-04-18 19:05 UTC: 11 hours old at this clock
FRESH_NOW = "2024-04-19T06:00:00Z"


@pytest.fixture(scope="module")
def built(project, bq_emulator, bq, duck, tmp_path_factory):
    """Every model built on the emulator by `ecom run` (its data tests, report and record with it)
    and, from the same raw data, on DuckDB: the one emulator build of every model the tests share."""
    folder = tmp_path_factory.mktemp("morning")
    where = ["--target", "bigquery", "--dataset", "ecom", "--raw-dataset", "ecom_raw"]
    env = {**bq_emulator.env(), "ECOM_NOW": FRESH_NOW}
    since = dt.datetime.now(dt.UTC)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # no ecom.toml but the defaults'
        run = CliRunner().invoke(app, ["run", *where, "--publish", str(folder / "site")], env=env)
        assert run.exit_code == 0, run.output
        state_reads = state_tables_read(bq.client, since)
        listed = CliRunner().invoke(app, ["runs", *where], env=env)
        models = CliRunner().invoke(app, ["ls", *where], env={**env, "COLUMNS": "400"})
    values = engine.target_vars(project, bq, {})
    assert duck.values == values
    return SimpleNamespace(
        values=values,
        duck=duck.target,
        site=folder / "site",
        state_reads=state_reads,
        records=history(bq, 5),
        listed=listed,
        models=models,
    )


def _types(schema: ibis.Schema) -> dict[str, str]:
    """Column types, BigQuery's TIMESTAMP (no declared scale) equal to DuckDB's (microseconds)."""
    return {c: str(t.copy(scale=None) if t.is_timestamp() else t) for c, t in schema.items()}


@pytest.mark.emulator
def test_every_model_on_bigquery_equals_duckdb(project, bq, built):
    [record] = built.records
    assert [m["name"] for m in record["models"]] == list(project.order)
    declared = engine.unbound_expressions(project, built.values, bq.raw_location, bq.models)
    for name in project.order:
        key = project.models[name].key
        # read as stored (tabledata.list, no query job: a quarter of the emulator's time); the report
        # the `built` fixture published read the marts through ibis's queries
        theirs = bq.client.list_rows(f"{bq.project}.ecom.{name}").to_arrow(create_bqstorage_client=False)
        ours = built.duck.table(name).to_pyarrow()
        assert theirs.schema.names == ours.schema.names, name
        # BigQuery stores the types the expression declares. (DuckDB's CREATE TABLE AS may store
        # wider ones, e.g. SUM(BIGINT) as HUGEINT, read back as decimal(38, 0): values still agree.)
        assert _types(bq.table(name).schema()) == _types(declared[name].schema()), name
        assert ours.num_rows > 0, f"{name} is empty on the test data: it proves nothing"
        assert_same_rows(theirs, ours, key, name)
        assert next(m["rows"] for m in record["models"] if m["name"] == name) == ours.num_rows


def test_every_model_is_in_a_scenarios_emulator_build(project):
    assert set(SCENARIO_MODELS) == set(SCENARIOS)
    assert {m for sel in SCENARIO_MODELS.values() for m in project.select(sel)} == set(project.order)


@pytest.mark.emulator
@pytest.mark.slow  # 4 to 15 models built per scenario: deselect with -m "not slow" while iterating
# each scenario's build on its own pytest-xdist worker (tests/conftest.py), beside the module's
@pytest.mark.parametrize(
    "scenario", [pytest.param(s, marks=pytest.mark.xdist_group(f"bigquery-{s}")) for s in SCENARIOS]
)
def test_fixture_scenarios_on_bigquery_equal_duckdb(project, bq_emulator, scenario, tmp_path):
    """Each fixtures/<scenario>/ folder (the hand-made edge cases) built on both: the models it is
    made for (SCENARIO_MODELS)."""
    target = bigquery_target(
        project=bq_emulator.project,
        dataset=f"ecom_{scenario}",
        raw_dataset=f"raw_{scenario}",
        endpoint=bq_emulator.endpoint,
        config_dir="/nonexistent",
    )
    target.write_raw(read_folder(FIXTURES / scenario))
    values, _ = _build(project, target, scenario_vars(scenario), project.select(SCENARIO_MODELS[scenario]))
    assert_scenario_equals_duckdb(project, target, scenario, values, tmp_path)
    drop_datasets(target, f"ecom_{scenario}", f"raw_{scenario}")
    target.close()


@pytest.mark.emulator
def test_an_upload_that_fails_replaces_no_table(bq_emulator, raw_data):
    target = bigquery_target(
        project=bq_emulator.project, raw_dataset="upload_raw", endpoint=bq_emulator.endpoint, config_dir="/nonexistent"
    )
    assert target.write_raw({"orders": raw_data["orders"]}) == {"orders": raw_data["orders"].num_rows}
    # what `ecom load` counts before it writes (an emptied or shrunk table): the tables' metadata, no job
    since = dt.datetime.now(dt.UTC)
    assert target.raw_rows("orders") == raw_data["orders"].num_rows and target.raw_rows("users") is None
    assert queries_sent(target.client, since) == []

    def broken_stream():
        yield from raw_data["users"].to_batches()
        raise OSError("the export was cut off")

    fewer = raw_data["orders"].slice(0, 3)
    with pytest.raises(OSError, match="cut off"):
        target.write_raw({"orders": fewer, "users": broken_stream()})
    assert target.client.get_table(f"{bq_emulator.project}.upload_raw.orders").num_rows == raw_data["orders"].num_rows
    tables = {t.table_id for t in target.client.list_tables(f"{bq_emulator.project}.upload_raw")}
    assert tables == {"orders"}  # no staging table left behind, users not created
    drop_datasets(target, "upload_raw")


@pytest.mark.emulator
def test_the_models_dataset_is_created_where_the_raw_data_lives(bq_emulator):
    target = bigquery_target(
        project=bq_emulator.project,
        dataset="eu_models",
        raw_dataset="eu_raw",
        endpoint=bq_emulator.endpoint,
        config_dir="/nonexistent",
    )
    eu = Dataset(f"{bq_emulator.project}.eu_raw")
    eu.location = "EU"
    target.client.create_dataset(eu)
    target.ensure_dataset(target.models)
    assert target.client.get_dataset(f"{bq_emulator.project}.eu_models").location == "EU"
    drop_datasets(target, "eu_raw", "eu_models")


@pytest.mark.emulator
def test_partitioning_clustering_and_labels_as_declared(project, bq, built):
    for name, model in project.models.items():
        table = bq.client.get_table(f"{bq.project}.ecom.{name}")
        if model.partition_by:
            assert table.time_partitioning is not None, name
            assert (table.time_partitioning.field, table.time_partitioning.type_) == (model.partition_by, "DAY")
        else:
            assert table.time_partitioning is None, name
        assert (table.clustering_fields or []) == list(model.cluster_by), name
        assert table.labels == {"ecom_model": name}


@pytest.mark.emulator
def test_ecom_run_on_bigquery_tests_publishes_and_records_the_build(project, built):
    """The module's build is `ecom run`'s: its data tests all ran and passed, the report and catalog
    it published are of that build, its record is listed by `ecom runs`."""
    [record] = built.records
    cases = engine.generic_tests(project, project.order) + engine.singular_tests(project, project.order, built.values)
    assert [t["name"] for t in record["tests"]] == [c.name for c in cases]
    assert {t["status"] for t in record["tests"]} == {"pass"}
    assert (record["status"], record["as_of"]) == ("success", built.values["as_of"])
    assert f'"as_of":"{built.values["as_of"]}"' in (built.site / "index.html").read_text()
    assert (built.site / "docs.html").is_file()
    # a first run reads none of ecom's state tables (a query each, billed 10 MB at least): none
    # exists before it, and the catalog it publishes shows the record its build wrote (it read
    # _ecom_build and _ecom_vars back)
    assert built.state_reads == {}
    # each model's bytes, summed over its jobs: the emulator reports a count, maybe 0, never none
    assert all(isinstance(m["bytes"], int) for m in record["models"])
    assert built.listed.exit_code == 0, built.listed.output
    rows = [line.split("│") for line in built.listed.output.splitlines() if line.startswith("│ ")]
    assert [row[4].strip() for row in rows if row[1].strip()] == ["success"]  # a run's first line names it


@pytest.mark.emulator
def test_ls_on_bigquery_says_when_each_model_was_built_and_its_rows(project, built):
    """`ecom ls` reads each model's last build from _ecom_build on BigQuery too: the rows are those
    the same raw data gives on DuckDB."""
    assert built.models.exit_code == 0, built.models.output
    cells = [line.split("│") for line in built.models.output.splitlines() if line.startswith("│ ")]
    last_built = {row[1].strip(): row[-2].strip() for row in cells if row[1].strip() in project.models}
    assert list(last_built) == list(project.order)
    for name, cell in last_built.items():
        rows = built.duck.table(name).count().to_pyarrow().as_py()
        assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d UTC, {rows:,} rows?(; as_of .*)?", cell), (name, cell)


@pytest.mark.emulator
def test_every_table_and_column_carries_its_description(project, bq, built):
    docs = model_docs(project)
    for name in project.order:
        table = bq.client.get_table(f"{bq.project}.ecom.{name}")
        doc = docs[name]
        assert table.description == (f"{doc.grain}\n\n{doc.description}" if doc.description else doc.grain), name
        described = {f.name: f.description for f in table.schema}
        assert described == {c: doc.columns.get(c) for c in described}, name
    assert described  # the loop read columns


@pytest.mark.emulator
def test_descriptions_with_quotes_backslashes_and_newlines_round_trip(bq, built):
    text = 'it\'s "quoted", a back\\slash, `ticks`;\nand a second line -- not a comment'
    model = _model("stg_quoted")
    expr = bq.source("orders").select(order_id=bq.source("orders").order_id)
    bq.materialize(model, expr)
    bq.describe(model, text, {"order_id": text})
    table = bq.client.get_table(f"{bq.project}.ecom.stg_quoted")
    assert (table.description, table.schema[0].description) == (text, text)
    bq.client.delete_table(table)


@pytest.mark.emulator
def test_a_second_build_replaces_the_tables(project, bq, built):
    # one model of each way a table is replaced: unpartitioned (stg_products), day-partitioned
    # (fact_daily_pnl) and the incremental chain (its partitions replaced by a script)
    again = project.select(["stg_products", "fact_daily_pnl", "+fact_session_metrics"])
    before = {n: bq.client.get_table(f"{bq.project}.ecom.{n}") for n in again}
    _, results = _build(project, bq, built.values, again)
    assert [r.name for r in results] == again
    for r in results:
        after = bq.client.get_table(f"{bq.project}.ecom.{r.name}")
        assert after.num_rows == before[r.name].num_rows == r.rows
        assert after.modified >= before[r.name].modified
    tables = {t.table_id for t in bq.client.list_tables(f"{bq.project}.ecom")}
    state = {incremental.STATE_TABLE, incremental.PARTITIONS_TABLE}
    assert tables == set(project.order) | {engine.VARS_TABLE, engine.BUILD_TABLE, RUNS_TABLE} | state  # no more


@pytest.mark.emulator
def test_a_failing_model_is_named_and_leaves_the_previous_table(project, bq, built):
    name = project.order[0]
    rows = bq.client.get_table(f"{bq.project}.ecom.{name}").num_rows
    broken = _model(name)
    bad = ibis.table({"x": "string"}, name="orders", database="ecom_raw", catalog=bq.project)
    bad = bad.select(id=ibis.literal("not a number").cast("int64"))
    with pytest.raises(BigQueryError, match="Could not convert string 'not a number' to INT64"):
        bq.materialize(broken, bad)
    assert bq.client.get_table(f"{bq.project}.ecom.{name}").num_rows == rows
    assert bq.table(name).count().execute() == rows
    # through the engine, as the CLI reports it
    fake = Project.from_parts({name: Model(name, lambda orders: bad, key=("id",))}, {}, project.vars)
    before = engine.stored_vars(project, bq)
    with watching_ctrl_c():  # the command's marks, cleared
        with pytest.raises(engine.BuildError, match=f"^model {name} failed: Could not convert string"):
            engine.build(fake, bq, [name], built.values)
        # its new table failed beside the model (a swap: its partitioning differs), which no reader
        # sees, and _ecom_vars was written back as it was: a Ctrl-C now says "nothing was committed"
        assert not replaced()
    # no model was replaced: the module build's record stands (not "stopped part-way")
    assert engine.stored_vars(project, bq) == before


@pytest.mark.emulator
# needs no build: beside the module's tests (tests/conftest.py), with the CLI test below, on one upload
@pytest.mark.xdist_group("bigquery-cli")
def test_dry_run_plans_every_model_and_writes_nothing(project, bq_emulator, bq):
    fresh = bigquery_target(
        project=bq_emulator.project,
        dataset="never_built",
        raw_dataset="ecom_raw",
        endpoint=bq_emulator.endpoint,
        config_dir="/nonexistent",
    )
    datasets = {d.dataset_id for d in bq.client.list_datasets()}
    plan = engine.dry_run_plan(project, fresh, list(project.order), engine.target_vars(project, bq, {}))
    assert list(plan) == list(project.order)
    for name, (_, inline) in plan.items():  # nothing built yet: every upstream model is inlined
        assert inline == project.upstream_models(name)
    # The jobs of a model reading raw tables only and of one computing two upstream models inline
    # (int_web_sessions, which computes stg_events). Every model's inlined query is the GoogleSQL
    # analyzer's (tests/test_googlesql.py): BigQuery's SQL checked, which the emulator, translating
    # it for DuckDB, does not; each query took it a second or more.
    assert plan["int_web_sessions"][1] == ["stg_events"]
    for name in ("stg_orders", "fact_session_metrics"):
        # the emulator answers dry runs without estimating (0 bytes); real BigQuery gives the bytes
        assert fresh.dry_run(project.models[name], plan[name][0]) >= 0
    assert {d.dataset_id for d in bq.client.list_datasets()} == datasets  # nothing created


@pytest.mark.emulator
@pytest.mark.xdist_group("bigquery-cli")  # builds its own dataset: beside the module's tests (tests/conftest.py)
def test_cli_builds_and_dry_runs_against_the_emulator(project, bq_emulator, bq, raw_data, tmp_path):
    env = clean_env(**bq_emulator.env(), ECOM_BQ_DATASET="cli", ECOM_BQ_RAW_DATASET="ecom_raw", COLUMNS="200")
    dry = ("build", "--target", "bigquery", "--dry-run", "--select", "staging", "--max-bytes-billed", "1GiB")
    since = dt.datetime.now(dt.UTC)
    done = _ecom(*dry, env=env, cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    # billed: only as_of's default and bounds (orders.created_at, marketing_spend.date); the source
    # contract's value checks (every key, timestamp and amount) are the build's
    assert raw_columns_queried(bq.client, since) == {"created_at", "date"}
    assert "Dry run (nothing written; cap per query job: 1.0 GiB)" in done.stdout
    assert "of the cap" in done.stdout and "stg_orders" in done.stdout and "total" in done.stdout
    # the emulator estimates 0 (full, this build, share of the cap)
    assert re.search(r"stg_orders\s+│\s+0\s+│\s+0\s+│\s+0%", done.stdout), done.stdout
    assert "cli" not in {d.dataset_id for d in bq.client.list_datasets()}
    # stg_users too: the relationships test of stg_orders reads it
    done = _ecom("build", "--target", "bigquery", "--select", "stg_orders,stg_users", env=env, cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    duck = DuckDBTarget(tmp_path / "ecom.duckdb")  # the model the CLI built, from the same raw data
    duck.write_raw(raw_data)
    _build(project, duck, selected=["stg_orders"])
    assert bq.client.get_table(f"{bq.project}.cli.stg_orders").num_rows == duck.table("stg_orders").count().execute()
    duck.close()
    # Now that a build is recorded, a command reads each of ecom's state tables once at most (a
    # query each, billed 10 MB at least): the partial build read _ecom_vars four times (its kept
    # variables, the check refusing mixed values, the record to restore, the summaries), its dry
    # run twice, the catalog twice. stg_orders is not incremental: there is no _ecom_state to read.
    for args, read in (
        (("build", "--select", "stg_orders"), {"_ecom_vars": 1, "_ecom_build": 1}),
        (("build", "--dry-run", "--select", "stg_orders"), {"_ecom_vars": 1}),
        (("docs", "--out", "catalog.json"), {"_ecom_vars": 1, "_ecom_build": 1}),
    ):
        since = dt.datetime.now(dt.UTC)
        done = _ecom(*args, "--target", "bigquery", env=env, cwd=tmp_path)
        assert done.exit_code == 0, done.stderr
        assert state_tables_read(bq.client, since) == read, args
    done = _ecom("test", "--target", "bigquery", "--select", "stg_orders", env=env, cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    assert "PASS  unique_stg_orders_order_id" in done.stdout and " 0 failed" in done.stdout
    assert "PASS  relationships_stg_orders_user_id__stg_users" in done.stdout
    drop_datasets(bq, "cli")


@pytest.mark.emulator
def test_source_problems_stop_the_build_naming_table_and_column(bq_emulator, bq, raw_data, tmp_path):
    target = bigquery_target(
        project=bq_emulator.project,
        dataset="ecom_bad",
        raw_dataset="bad_raw",
        endpoint=bq_emulator.endpoint,
        config_dir="/nonexistent",
    )
    with pytest.raises(TargetError, match="raw dataset test-project.bad_raw not found"):
        engine.validate_sources(target)
    orders = raw_data["orders"]
    wrong = orders.set_column(0, "order_id", orders.column("order_id").cast(pa.string()))
    target.ensure_dataset(target.raw)
    path = tmp_path / "orders.parquet"
    pq.write_table(wrong, path)
    with path.open("rb") as f:
        config = LoadJobConfig(source_format="PARQUET")
        bq.client.load_table_from_file(f, f"{bq.project}.bad_raw.orders", job_config=config).result()
    with pytest.raises(SourceContractError) as e:
        engine.validate_sources(target)
    assert "orders.order_id: expected int64, found string" in str(e.value)
    assert "order_items: expected a table, found none" in str(e.value)
    # a per-source override reads marketing_spend from elsewhere
    moved = bigquery_target(
        project=bq_emulator.project,
        dataset="ecom_bad",
        raw_dataset="bad_raw",
        sources={"marketing_spend": f"{bq.project}.ecom_raw"},
        endpoint=bq_emulator.endpoint,
        config_dir="/nonexistent",
    )
    assert moved.raw_schema("marketing_spend") == RAW_SCHEMAS["marketing_spend"]
    assert moved.raw_schema("orders")["order_id"].is_string()
    drop_datasets(target, "bad_raw", "ecom_bad")


def test_permission_and_credential_refusals_are_one_line():
    from google.api_core import exceptions as gexc
    from google.auth.exceptions import RefreshError

    from ecom.targets.bigquery.errors import readable_errors

    forbidden = gexc.Forbidden(
        "GET https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets/d: Access Denied: Dataset p:d: "
        "Permission bigquery.datasets.get denied on dataset p:d (or it may not exist).\n\nLocation: US"
    )
    with pytest.raises(TargetError) as e, readable_errors("reading dataset p.d"):
        raise forbidden
    assert str(e.value) == (
        "permission denied while reading dataset p.d: Access Denied: Dataset p:d: "
        "Permission bigquery.datasets.get denied on dataset p:d (or it may not exist)."
    )
    with pytest.raises(TargetError, match="gcloud auth application-default login") as e, readable_errors("x"):
        raise RefreshError("invalid_grant: Token has been expired or revoked.")
    assert "\n" not in str(e.value)


def test_the_cli_prints_bigquery_refusals_reached_through_ibis_as_one_line(capsys):
    """e.g. no bigquery.jobs.create permission: the first query (computing as_of) is refused."""
    import typer
    from google.api_core import exceptions as gexc

    from ecom.cli import friendly_errors

    with pytest.raises(typer.Exit) as e, friendly_errors():
        raise gexc.Forbidden(
            "POST https://bigquery.googleapis.com/bigquery/v2/projects/p/queries: Access Denied: Project p: "
            "User does not have bigquery.jobs.create permission in project p."
        )
    assert e.value.exit_code == 1
    assert capsys.readouterr().err.strip() == (
        "error: permission denied: Access Denied: Project p: User does not have bigquery.jobs.create "
        "permission in project p."
    )
    with pytest.raises(ZeroDivisionError), friendly_errors():  # a bug still shows its traceback
        raise ZeroDivisionError


def test_an_unreachable_endpoint_is_one_line(tmp_path):
    target = bigquery_target(
        project="my-proj", dataset="d", endpoint=f"http://127.0.0.1:{_closed_port()}", config_dir="/nonexistent"
    )
    target.client.retry_seconds = 0.5  # the emulator's policy is 10 s: no need to wait for it here
    with pytest.raises(TargetError, match=r"^cannot reach BigQuery while reading my-proj\.d_raw\.orders: [^\n]*$"):
        target.raw_schema("orders")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
