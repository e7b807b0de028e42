"""What the BigQuery target sends, for the failure modes the emulator cannot show (it runs on DuckDB
and accepts them): hostile identifiers, the cost cap on every job, replacing a table whose
partitioning changed, the partition limits, and the timeout of every call. The jobs are recorded
by a fake client, so the tests assert the exact sequence BigQuery would receive."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import ibis
import pyarrow as pa
import pytest
from google.api_core.exceptions import BadRequest, NotFound
from google.cloud.bigquery import QueryJobConfig

from ecom.core.registry import Model
from ecom.targets.base import TargetError
from ecom.targets.bigquery.config import resolve_config
from ecom.targets.bigquery.errors import BigQueryError
from ecom.targets.bigquery.target import REQUEST_SECONDS, RETRY_SECONDS, BigQueryTarget
from tests.bq_emulator import Emulator, bigquery_target, drop_datasets

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "x` AS SELECT 1; DROP TABLE victim_t; --"


# -- identifiers: refused before any SQL is built ----------------------------------------------


@pytest.mark.parametrize(
    ("given", "env", "toml", "named"),
    [
        ({"project": HOSTILE}, {}, "", "--project"),
        ({"dataset": HOSTILE}, {}, "", "--dataset"),
        ({"raw_dataset": HOSTILE}, {}, "", "--raw-dataset"),
        ({"raw_dataset": f"{HOSTILE}.ds"}, {}, "", "--raw-dataset (its project)"),
        ({"location": HOSTILE}, {}, "", "--location"),
        ({"sources": {"marketing_spend": HOSTILE}}, {}, "", "the dataset given for marketing_spend"),
        ({}, {"ECOM_BQ_PROJECT": HOSTILE}, "", "ECOM_BQ_PROJECT"),
        ({}, {"ECOM_BQ_DATASET": HOSTILE}, "", "ECOM_BQ_DATASET"),
        ({}, {"ECOM_BQ_RAW_DATASET": HOSTILE}, "", "ECOM_BQ_RAW_DATASET"),
        ({}, {"ECOM_BQ_LOCATION": HOSTILE}, "", "ECOM_BQ_LOCATION"),
        ({}, {"ECOM_BQ_RAW_DATASET_MARKETING_SPEND": HOSTILE}, "", "ECOM_BQ_RAW_DATASET_MARKETING_SPEND"),
        ({}, {}, "project = 'Bad_Project'", "project in"),
        ({}, {}, "dataset = 'a-b'", "dataset in"),
        ({}, {}, "raw_dataset = 'p.d.e'", "raw_dataset in"),
        ({}, {}, "[bigquery.sources]\nevents = 'ds;drop'", "sources.events in"),
    ],
)
def test_identifiers_breaking_bigquerys_rules_are_refused(tmp_path, given, env, toml, named):
    (tmp_path / "ecom.toml").write_text(f"[bigquery]\n{toml}\n")
    with pytest.raises(TargetError) as refused:
        resolve_config(given, env, tmp_path)
    message = str(refused.value)
    assert message.startswith(named) and "\n" not in message, message
    assert "not a BigQuery" in message


@pytest.mark.parametrize(
    ("args", "env", "where", "value"),
    [
        (("--raw-dataset", "a.b.c"), {}, "--raw-dataset", "a.b.c"),
        ((), {"ECOM_BQ_RAW_DATASET": "example.com:my-proj.d.x"}, "ECOM_BQ_RAW_DATASET", "example.com:my-proj.d.x"),
        ((), {"ECOM_BQ_RAW_DATASET_ORDERS": ".orders_raw"}, "ECOM_BQ_RAW_DATASET_ORDERS", ".orders_raw"),
        # a domain project without its dataset quoted 'com:my-proj', a value the user never wrote
        (("--raw-dataset", "example.com:my-proj"), {}, "--raw-dataset", "example.com:my-proj"),
    ],
)
def test_a_dataset_path_of_the_wrong_shape_says_which_shapes_are_taken(tmp_path, args, env, where, value):
    """`a.b.c` was refused as "its project is 'a.b', not a BigQuery project", blaming a project the
    user never named; `.orders_raw` was taken as orders_raw in the models' project."""
    env = {"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_DATASET": "ecom", **env}
    for command in ("compile", "build"):
        done = _cli(command, "--target", "bigquery", "--vars", "as_of=2024-01-31", *args, env=env, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (
            1,
            f"error: {where} is {value!r}, not a BigQuery dataset: write dataset or project.dataset, e.g. ecom_raw "
            "or my-project.ecom_raw\n",
        )
        assert list(tmp_path.iterdir()) == []


def test_spend_never_writes_into_the_public_project(tmp_path):
    env = {"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_RAW_DATASET": "bigquery-public-data.thelook_ecommerce"}
    done = _cli("spend", "--target", "bigquery", "--endpoint", "127.0.0.1:9", env=env, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        "error: bigquery-public-data.thelook_ecommerce.marketing_spend is in Google's read-only public project: "
        "pass --into DATASET, set ECOM_BQ_RAW_DATASET_MARKETING_SPEND or add marketing_spend under "
        "[bigquery.sources] in ecom.toml\n",
    )


def test_real_names_pass():
    config = resolve_config(
        {
            "project": "example.com:my-proj",
            "dataset": "Ecom_2024",
            "raw_dataset": "bigquery-public-data.thelook_ecommerce",
            "location": "europe-west1",
            "sources": {"marketing_spend": "my-project.ecom_raw"},
        },
        {},
        Path("/nonexistent"),
    )
    assert config.project == "example.com:my-proj"
    assert config.sources == {"marketing_spend": "my-project.ecom_raw"}


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ecom", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out", "--dataset", HOSTILE), {}),
        (
            ("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out"),
            {"ECOM_BQ_PROJECT": HOSTILE},
        ),
        (
            ("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out"),
            {"ECOM_BQ_RAW_DATASET_MARKETING_SPEND": HOSTILE},
        ),
        (("spend", "--target", "bigquery", "--into", HOSTILE, "--endpoint", "127.0.0.1:9"), {}),
        (("build", "--target", "bigquery", "--raw-dataset", HOSTILE, "--endpoint", "127.0.0.1:9"), {}),
    ],
)
def test_the_cli_refuses_a_hostile_identifier_with_one_line_and_writes_nothing(tmp_path, args, env):
    done = _cli(*args, env={"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_DATASET": "ecom", **env}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "not a BigQuery" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# -- the jobs a build sends, recorded ---------------------------------------------------------

GiB = 2**30
SOURCE = ibis.table({"id": "int64", "day": "date", "c": "string"}, name="src", database="raw", catalog="my-proj")
MODEL = Model(name="fact_x", func=lambda: None, key=("id",), partition_by="day", cluster_by=("c",))


def too_many(days: int) -> str:
    """BigQuery's refusal of a job writing more than 4,000 partitions, in its own words (as users
    report it, e.g. fivetran/dbt_zendesk#39)."""
    return f"Too many partitions produced by query, allowed 4000, query produces at least {days} partitions"


class Recorder:
    """A stand-in for google.cloud.bigquery.Client that records every job and answers like
    BigQuery: `existing` is the model table's (partitioning, clustering), `days` the distinct
    partition dates of the model's rows (a day-partitioned CREATE over more than 4,000 is refused),
    `fail` a statement prefix BigQuery refuses."""

    def __init__(self, existing=None, days=10, fail=None, estimate=12 * GiB, kind="TABLE"):
        self.existing, self.days, self.fail, self.estimate, self.kind = existing, days, fail, estimate, kind
        self.jobs: list[tuple[str, QueryJobConfig]] = []

    def query(self, sql, job_config):
        self.jobs.append((sql, job_config))
        if job_config.dry_run:
            return SimpleNamespace(result=lambda: iter(()), total_bytes_processed=self.estimate)
        if self.fail and sql.startswith(self.fail):
            reason = "bytesBilledLimitExceeded" if self.fail == "CREATE" else "invalidQuery"
            raise BadRequest("refused", errors=[{"reason": reason, "message": f"refused: {reason}"}])
        head = sql.split(" AS\n")[0]
        if "PARTITION BY" in head and ", MONTH)" not in head and self.days > 4_000:
            raise BadRequest("refused", errors=[{"reason": "invalidQuery", "message": too_many(self.days)}])
        if sql.startswith("CREATE") and self.existing is None:
            self.existing = ((None, None), ())  # now it exists (its spec is not read again)
        return SimpleNamespace(result=lambda: iter(()), total_bytes_processed=1_000)

    def get_dataset(self, ref):
        return SimpleNamespace(location="US")

    def get_table(self, ref):
        if self.existing is None:
            raise NotFound(ref)
        (field, kind), clustering = self.existing
        return SimpleNamespace(
            table_type=self.kind,
            range_partitioning=None,
            time_partitioning=SimpleNamespace(field=field, type_=kind) if field else None,
            clustering_fields=list(clustering) or None,
            num_rows=7,
        )


def _target(recorder: Recorder, **settings) -> BigQueryTarget:
    target = bigquery_target(
        project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir="/nonexistent", **settings
    )
    target.client = recorder
    return target


def _statements(recorder: Recorder) -> list[str]:
    return [sql.split(" AS\n")[0] for sql, _ in recorder.jobs]


def test_a_raw_tables_metadata_is_read_once_it_exists():
    """A build checks its sources, then the variables' default and bound read them again: each check
    was a getTable per raw table (a round trip on BigQuery). A table not there yet is asked again."""
    from google.cloud.bigquery import SchemaField

    asked: list[str] = []
    tables = {}

    def get_table(ref):
        asked.append(ref)
        if ref not in tables:
            raise NotFound(ref)
        return tables[ref]

    client = SimpleNamespace(get_table=get_table, get_dataset=lambda ref: SimpleNamespace(location="US"))
    target = _target(client)
    assert target.raw_schema("orders") is None  # not loaded yet
    tables["my-proj.ecom_raw.orders"] = SimpleNamespace(schema=[SchemaField("order_id", "INTEGER")])
    assert [target.raw_schema("orders") for _ in range(3)] == [ibis.schema({"order_id": "int64"})] * 3
    assert asked == ["my-proj.ecom_raw.orders"] * 2


@pytest.mark.parametrize(
    ("table", "dataset", "setting"),
    [
        ("orders", "my-proj.ecom_raw", "set --raw-dataset / ECOM_BQ_RAW_DATASET"),
        (
            "marketing_spend",
            "my-proj.ads",
            "set ECOM_BQ_RAW_DATASET_MARKETING_SPEND or marketing_spend under [bigquery.sources] in ecom.toml",
        ),
    ],
)
def test_a_missing_raw_dataset_names_the_setting_that_chose_it(table, dataset, setting):
    """A per-table dataset (ECOM_BQ_RAW_DATASET_<TABLE>) that does not exist is that setting's fault,
    not --raw-dataset's: the message names the one to change."""

    def missing(ref):
        raise NotFound(ref)

    target = _target(SimpleNamespace(get_table=missing, get_dataset=missing), sources={"marketing_spend": "ads"})
    with pytest.raises(TargetError) as refused:
        target.raw_schema(table)
    assert str(refused.value).startswith(
        f"raw dataset {dataset} not found (or not visible to these credentials): {setting}, or "
    ), refused.value


T = "`my-proj.ecom"
DAILY = 'PARTITION BY `day` CLUSTER BY `c` OPTIONS(labels=[("ecom_model", "fact_x")])'
MONTHLY = 'PARTITION BY DATE_TRUNC(`day`, MONTH) CLUSTER BY `c` OPTIONS(labels=[("ecom_model", "fact_x")])'


def test_same_spec_is_one_create_or_replace():
    recorder = Recorder(existing=(("day", "DAY"), ("c",)))
    target = _target(recorder)
    assert target.materialize(MODEL, SOURCE) == 7
    assert target.bytes_processed == {"fact_x": 1_000}  # one job of 1,000 bytes (Recorder)
    assert _statements(recorder) == [f"CREATE OR REPLACE TABLE {T}.fact_x` {DAILY}"]


@pytest.mark.parametrize(
    "existing",
    [(("day", "MONTH"), ("c",)), ((None, None), ("c",)), (("day", "DAY"), ()), (("day", "DAY"), ("c", "id"))],
)
def test_a_changed_spec_is_built_beside_and_swapped_in(existing):
    recorder = Recorder(existing=existing)
    _target(recorder).materialize(MODEL, SOURCE)
    assert _statements(recorder) == [
        f"DROP TABLE IF EXISTS {T}._ecom_old_fact_x`",
        f"CREATE OR REPLACE TABLE {T}._ecom_new_fact_x` {DAILY}",
        f"ALTER TABLE {T}.fact_x` RENAME TO `_ecom_old_fact_x`",
        f"ALTER TABLE {T}._ecom_new_fact_x` RENAME TO `fact_x`",
        f"DROP TABLE {T}._ecom_old_fact_x`",
    ]


VIEW_DDL = f'CREATE OR REPLACE VIEW {T}.fact_x` OPTIONS(labels=[("ecom_model", "fact_x")])'


@pytest.mark.parametrize(
    ("kind", "materialized", "statements"),
    [
        ("VIEW", "table", [f"DROP VIEW {T}.fact_x`", f"CREATE OR REPLACE TABLE {T}.fact_x` {DAILY}"]),
        ("TABLE", "view", [f"DROP TABLE {T}.fact_x`", VIEW_DDL]),
        ("VIEW", "view", [VIEW_DDL]),
        ("TABLE", "table", [f"CREATE OR REPLACE TABLE {T}.fact_x` {DAILY}"]),
    ],
)
def test_a_model_turned_from_a_view_into_a_table_or_back_drops_the_other_kind(
    monkeypatch, kind, materialized, statements
):
    """BigQuery's CREATE OR REPLACE does not change a table into a view or back; a view's spec (no
    partitioning) also sent a partitioned model to the swap, whose ALTER TABLE cannot rename a view."""
    recorder = Recorder(existing=(("day", "DAY"), ("c",)) if kind == "TABLE" else ((None, None), ()), kind=kind)
    target = _target(recorder)
    monkeypatch.setattr(target, "table", lambda name: name)  # a view's rows are counted through ibis
    monkeypatch.setattr("ecom.targets.bigquery.target.row_count", lambda table: 7)
    assert target.materialize(dataclasses.replace(MODEL, materialized=materialized), SOURCE) == 7
    assert _statements(recorder) == statements


def test_a_failed_swap_renames_the_old_table_back():
    recorder = Recorder(existing=(("day", "MONTH"), ("c",)), fail=f"ALTER TABLE {T}._ecom_new_")
    with pytest.raises(BigQueryError, match="^refused: invalidQuery$"):
        _target(recorder).materialize(MODEL, SOURCE)
    assert _statements(recorder)[2:] == [
        f"ALTER TABLE {T}.fact_x` RENAME TO `_ecom_old_fact_x`",
        f"ALTER TABLE {T}._ecom_new_fact_x` RENAME TO `fact_x`",
        f"ALTER TABLE {T}._ecom_old_fact_x` RENAME TO `fact_x`",
    ]


def test_a_failed_new_table_touches_nothing():
    recorder = Recorder(existing=(("day", "MONTH"), ("c",)), fail=f"CREATE OR REPLACE TABLE {T}._ecom_new_")
    with pytest.raises(BigQueryError):
        _target(recorder).materialize(MODEL, SOURCE)
    assert not any(s.startswith(("ALTER", "DROP TABLE `")) for s in _statements(recorder))


@pytest.mark.parametrize(("days", "monthly"), [(4_000, False), (4_001, True), (9_000, True)])
def test_more_than_4000_daily_partitions_fall_back_to_monthly(days, monthly):
    """No query asks first: BigQuery refuses the day-partitioned job, unbilled, and the model is
    built again by month."""
    recorder = Recorder(days=days)
    target = _target(recorder)
    assert target.materialize(MODEL, SOURCE) == 7
    assert _statements(recorder) == [f"CREATE OR REPLACE TABLE {T}.fact_x` {DAILY}"] + (
        [f"CREATE OR REPLACE TABLE {T}.fact_x` {MONTHLY}"] if monthly else []
    )
    assert target.bytes_processed == {"fact_x": 1_000}  # the refused job processed nothing
    assert target.notes.get("fact_x") == (f"{too_many(days)}: partitioned by month" if monthly else None)


class StoppedJob:
    """A job whose wait a Ctrl-C stops; asked to cancel, BigQuery ends it cancelled, or (`finishes`)
    it was done first."""

    total_bytes_processed = 1_000

    def __init__(self, finishes: bool):
        self.finishes, self.waits, self.cancels = finishes, 0, 0

    def result(self, timeout=None):
        self.waits += 1
        if self.waits == 1:
            raise KeyboardInterrupt
        if not self.finishes:
            raise BadRequest("Job execution was cancelled: Job cancelled by user", errors=[{"reason": "stopped"}])
        return iter(())

    def cancel(self):
        self.cancels += 1
        return True


@pytest.mark.parametrize("finishes", [False, True])
def test_a_ctrl_c_while_a_job_replaces_a_table_cancels_it(finishes):
    """The job ran on in BigQuery after the process ended and replaced the table the command said
    was as it was ("nothing was committed"). Cancelled, it is as it was; a job that finished before
    the cancel counts as replaced ("after some tables were replaced")."""
    from ecom.core.interrupts import replaced, watching_ctrl_c

    job = StoppedJob(finishes)
    recorder = Recorder(existing=(("day", "DAY"), ("c",)))
    recorder.query = lambda sql, job_config: job
    with watching_ctrl_c():
        with pytest.raises(KeyboardInterrupt):
            _target(recorder).materialize(MODEL, SOURCE)
        assert (job.cancels, job.waits, replaced()) == (1, 2, finishes)


def test_a_ctrl_c_inside_a_jobs_request_counts_its_table_as_replaced():
    """The request may have reached BigQuery, which then runs the job with no one to cancel it: a
    table counted as replaced only once its job was seen to finish could be replaced unsaid."""
    from ecom.core.interrupts import replaced, watching_ctrl_c

    def cut(sql, job_config):
        raise KeyboardInterrupt

    recorder = Recorder(existing=(("day", "DAY"), ("c",)))
    recorder.query = cut
    with watching_ctrl_c():
        with pytest.raises(KeyboardInterrupt):
            _target(recorder).materialize(MODEL, SOURCE)
        assert replaced()


SWAP_TO_MONTHLY = [
    f"DROP TABLE IF EXISTS {T}._ecom_old_fact_x`",
    f"CREATE OR REPLACE TABLE {T}._ecom_new_fact_x` {MONTHLY}",
    f"ALTER TABLE {T}.fact_x` RENAME TO `_ecom_old_fact_x`",
    f"ALTER TABLE {T}._ecom_new_fact_x` RENAME TO `fact_x`",
    f"DROP TABLE {T}._ecom_old_fact_x`",
]


@pytest.mark.parametrize(
    ("existing", "days", "jobs"),
    [
        # a monthly table stays so: the daily attempt, built beside it, is refused before any rename
        (
            "MONTH",
            5_000,
            [
                f"DROP TABLE IF EXISTS {T}._ecom_old_fact_x`",
                f"CREATE OR REPLACE TABLE {T}._ecom_new_fact_x` {DAILY}",
                f"CREATE OR REPLACE TABLE {T}.fact_x` {MONTHLY}",
            ],
        ),
        # a daily table grown past 4,000 days: refused in place, then swapped to monthly
        ("DAY", 4_001, [f"CREATE OR REPLACE TABLE {T}.fact_x` {DAILY}", *SWAP_TO_MONTHLY]),
    ],
)
def test_an_existing_table_over_4000_days_ends_monthly(existing, days, jobs):
    recorder = Recorder(existing=(("day", existing), ("c",)), days=days)
    _target(recorder).materialize(MODEL, SOURCE)
    assert _statements(recorder) == jobs


def test_another_refusal_is_not_taken_for_too_many_partitions():
    recorder = Recorder(fail="CREATE OR REPLACE TABLE")
    with pytest.raises(BigQueryError, match="^refused: invalidQuery$"):
        _target(recorder).materialize(MODEL, SOURCE)
    assert len(recorder.jobs) == 1


def test_a_timestamp_column_falls_back_to_timestamp_trunc():
    source = ibis.table({"id": "int64", "at": "timestamp('UTC')"}, name="src", database="raw", catalog="my-proj")
    recorder = Recorder(days=5_000)
    _target(recorder).materialize(Model(name="fact_t", func=lambda: None, key=("id",), partition_by="at"), source)
    assert "PARTITION BY TIMESTAMP_TRUNC(`at`, MONTH)" in _statements(recorder)[-1]


@pytest.mark.parametrize(
    ("settings", "cap"),
    [({}, 10 * GiB), ({"max_bytes_billed": "500MB"}, 500_000_000), ({"max_bytes_billed": "0"}, None)],
)
def test_the_cap_is_on_every_job(settings, cap):
    recorder = Recorder(existing=(("day", "MONTH"), ()))
    target = _target(recorder, **settings)
    target.materialize(MODEL, SOURCE)
    target.dry_run(MODEL, SOURCE)
    assert len(recorder.jobs) == 6  # the 5 swap steps and the dry run
    assert [config.maximum_bytes_billed for _, config in recorder.jobs] == [cap] * 6
    assert all(config.labels == {"ecom_model": "fact_x", "ecom_layer": "marts"} for _, config in recorder.jobs)


def test_the_cap_covers_ibis_queries_too(monkeypatch):
    """Data tests, reads and variable defaults run through ibis on the same client."""
    monkeypatch.setenv("ECOM_BQ_MAX_BYTES_BILLED", "2GiB")
    target = bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir="/x")
    assert target.client.default_query_job_config.maximum_bytes_billed == 2 * GiB


def test_a_job_over_the_cap_names_the_model_its_estimate_and_the_setting(tmp_path):
    (tmp_path / "ecom.toml").write_text("[bigquery]\nmax_bytes_billed = '1GiB'\n")
    recorder = Recorder(fail="CREATE")
    target = bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir=tmp_path)
    target.client = recorder
    with pytest.raises(BigQueryError) as refused:
        target.materialize(MODEL, SOURCE)
    assert str(refused.value) == (
        "fact_x would process 12.0 GiB (12,884,901,888 bytes), over the cap of 1.0 GiB per query job: raise it "
        "with --max-bytes-billed, ECOM_BQ_MAX_BYTES_BILLED or max_bytes_billed in ecom.toml (0 for none)"
    )
    # the estimate came from a dry run of the refused statement
    (sql, config) = recorder.jobs[-1]
    assert config.dry_run and sql.startswith("CREATE OR REPLACE TABLE")


def test_a_dry_run_is_one_dry_job_that_bills_nothing():
    recorder = Recorder(days=9_000, estimate=5_000)
    target = _target(recorder)
    assert target.dry_run(MODEL, SOURCE) == 5_000
    assert [config.dry_run for _, config in recorder.jobs] == [True]
    assert target.bytes_processed == {} and target.notes == {}


# -- one timeout policy -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_call_has_a_request_timeout_and_a_short_retry(monkeypatch):
    """The library calls with a 600 s retry and no request timeout; the policy replaces both."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    seen = []
    monkeypatch.setattr(bigquery.Client, "_call_api", lambda self, retry, **kw: seen.append((retry.timeout, kw)))
    for endpoint, seconds in (("127.0.0.1:9", RETRY_SECONDS["emulator"]), (None, RETRY_SECONDS["google"])):
        monkeypatch.setattr("ecom.targets.bigquery.target.default_credentials", lambda: (AnonymousCredentials(), None))
        target = bigquery_target(project="my-proj", dataset="ecom", endpoint=endpoint, config_dir="/x")
        target.client._call_api(bigquery.DEFAULT_RETRY, method="GET", path="/x")
        target.client._call_api(bigquery.DEFAULT_RETRY, method="GET", path="/x", timeout=5)  # kept
        assert seen == [(seconds, {"method": "GET", "path": "/x", "timeout": REQUEST_SECONDS})] + [
            (seconds, {"method": "GET", "path": "/x", "timeout": 5})
        ]
        seen.clear()
    assert bigquery.DEFAULT_RETRY.timeout == 600 and RETRY_SECONDS["google"] <= 30


def test_a_bound_secret_is_a_parameter_of_the_jobs_naming_it(monkeypatch):
    """ecom's jobs and ibis's (query, query_and_wait) get the parameters their SQL names, once,
    their own configuration kept; a job naming none is sent as given."""
    from google.cloud import bigquery

    sent = []
    monkeypatch.setattr(bigquery.Client, "query", lambda self, sql, job_config=None, **kw: sent.append(job_config))
    monkeypatch.setattr(
        bigquery.Client, "query_and_wait", lambda self, sql, *, job_config=None, **kw: sent.append(job_config)
    )
    target = bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir="/x")
    target.bind_parameters({"visitor_salt": "pépper", "unused": "x"})
    own = QueryJobConfig(labels={"ecom_model": "stg_events"})
    salt = bigquery.ScalarQueryParameter("visitor_salt", "STRING", "pépper")
    target.client.query("SELECT CONCAT(@visitor_salt, ip) FROM t", job_config=own)
    target.client.query_and_wait("SELECT CONCAT(@visitor_salt, ip) FROM t")
    target.client.query("SELECT @visitor_salt", QueryJobConfig(query_parameters=[salt]))  # already given
    target.client.query("SELECT @visitor_salt_2 AS x, 1 AS visitor_salt", job_config=own)  # names another
    assert [c.query_parameters for c in sent[:3]] == [[salt]] * 3
    assert sent[0].labels == {"ecom_model": "stg_events"} and own.query_parameters == []  # a copy
    assert sent[3] is own


@pytest.mark.parametrize(
    "command",
    [("compile", "--target", "bigquery"), ("build", "--target", "bigquery"), ("spend", "--target", "bigquery")],
)
@pytest.mark.xdist_group("unreachable-endpoint")  # ~10 s waits, beside the module's tests (tests/conftest.py)
def test_an_unreachable_endpoint_fails_in_seconds_for_every_command(tmp_path, command):
    env = {"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_DATASET": "ecom", "BIGQUERY_EMULATOR_HOST": ""}
    start = time.perf_counter()
    done = _cli(*command, "--endpoint", f"http://127.0.0.1:{_closed_port()}", env=env, cwd=tmp_path)
    seconds = time.perf_counter() - start
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: cannot reach BigQuery") and done.stderr.count("\n") == 1, done.stderr
    assert seconds < 45  # the retry policy's 10 s plus a loaded machine's start-up; 580 s before


@pytest.mark.parametrize(
    ("args", "env", "toml", "where", "value"),
    [
        (("--endpoint", "notaurl"), {}, "", "--endpoint", "notaurl"),
        ((), {"BIGQUERY_EMULATOR_HOST": "ftp://127.0.0.1:9050"}, "", "BIGQUERY_EMULATOR_HOST", "ftp://127.0.0.1:9050"),
        ((), {}, "[bigquery]\nendpoint = 'http://'\n", "endpoint in {toml}", "http://"),
        # a port beside a scheme was not read: 'abc' failed at the first request, 99999 was written in SQL
        (("--endpoint", "http://127.0.0.1:abc"), {}, "", "--endpoint", "http://127.0.0.1:abc"),
        (("--endpoint", "http://127.0.0.1:99999"), {}, "", "--endpoint", "http://127.0.0.1:99999"),
    ],
)
def test_an_endpoint_that_is_not_a_url_is_refused_before_any_work(tmp_path, args, env, toml, where, value):
    """`--endpoint notaurl` was taken for http://notaurl: the build waited 10 s of retries, then said
    it could not reach BigQuery while reading a raw table, failing to resolve 'notaurl'."""
    if toml:
        (tmp_path / "ecom.toml").write_text(toml)
    env = {"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_DATASET": "ecom", "BIGQUERY_EMULATOR_HOST": "", **env}
    where = where.format(toml=tmp_path / "ecom.toml")
    for command in ("compile", "build"):
        done = _cli(command, "--target", "bigquery", "--vars", "as_of=2024-01-31", *args, env=env, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (
            1,
            f"error: {where} is {value!r}, not an http(s) URL with a host: write e.g. http://127.0.0.1:9050 "
            "(or 127.0.0.1:9050)\n",
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == (["ecom.toml"] if toml else [])


def test_an_endpoint_of_host_and_port_is_http():
    config = resolve_config({"endpoint": "127.0.0.1:9050"}, {}, Path("/nonexistent"))
    assert config.endpoint == "http://127.0.0.1:9050"
    config = resolve_config({}, {"BIGQUERY_EMULATOR_HOST": "https://bq.example.com/api"}, Path("/nonexistent"))
    assert config.endpoint == "https://bq.example.com/api"


@pytest.mark.parametrize("value", ["notaport", "127.0.0.1", "127.0.0.1:abc", "127.0.0.1:99999", "host:9060/x", ":9060"])
def test_a_storage_endpoint_that_is_not_host_and_port_is_refused(value):
    """ECOM_BQ_STORAGE_EMULATOR_HOST was not checked: gRPC took any string for a channel, and the
    first read of results waited on one that never connects."""
    env = {"ECOM_BQ_STORAGE_EMULATOR_HOST": value}
    with pytest.raises(TargetError) as refused:
        resolve_config({}, env, Path("/nonexistent"))
    assert str(refused.value) == (
        f"ECOM_BQ_STORAGE_EMULATOR_HOST is {value!r}, not a gRPC address: write host:port, e.g. 127.0.0.1:9060"
    )


def test_a_storage_endpoint_is_host_and_port():
    for value in ("127.0.0.1:9060", "http://127.0.0.1:9060", "localhost:9060"):
        config = resolve_config({}, {"ECOM_BQ_STORAGE_EMULATOR_HOST": value}, Path("/nonexistent"))
        assert config.storage_endpoint == value.removeprefix("http://")


# -- the same on the emulator: the statements run -----------------------------------------------


@pytest.mark.emulator
def test_swap_and_monthly_partitions_run_on_the_emulator(bq_emulator: Emulator, monkeypatch):
    """The emulator would replace in place, but the swap's own statements must run there, and a
    model over 4,100 days of data must come out partitioned by month. The emulator writes any
    number of partitions: it is given BigQuery's refusal of the day-partitioned job over 4,100 days."""
    target = bq_emulator.target(dataset="swaps")
    query, refused = target.client.query, []

    def limited(sql, job_config=None, **kwargs):
        if refused and "PARTITION BY `day`" in sql.split(" AS\n")[0]:
            raise BadRequest("refused", errors=[{"reason": "invalidQuery", "message": too_many(4_100)}])
        return query(sql, job_config=job_config, **kwargs)

    monkeypatch.setattr(target.client, "query", limited)
    days = [dt.date(2010, 1, 1) + dt.timedelta(days=i) for i in range(4_100)]
    target.write_table("src", pa.table({"id": range(len(days)), "day": days, "c": ["a", "b"] * 2_050}))
    source = target.table("src")
    daily = Model(name="fact_x", func=lambda: None, key=("id",), partition_by="day", cluster_by=("c",))
    target.materialize(daily, source.filter(source.day < dt.date(2015, 1, 1)))  # 1,826 days: daily
    assert target.client.get_table(f"{bq_emulator.project}.swaps.fact_x").time_partitioning.type_ == "DAY"
    refused.append(True)
    assert target.materialize(daily, source) == 4_100  # the spec changes to monthly: swapped
    table = target.client.get_table(f"{bq_emulator.project}.swaps.fact_x")
    assert (table.time_partitioning.field, table.time_partitioning.type_) == ("day", "MONTH")
    assert target.notes["fact_x"] == f"{too_many(4_100)}: partitioned by month"
    assert {t.table_id for t in target.client.list_tables(f"{bq_emulator.project}.swaps")} == {"src", "fact_x"}
    drop_datasets(target, "swaps")


# -- models built at once ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "env", "toml", "threads"),
    [
        ({}, {}, "", 4),  # dbt's default
        ({"threads": "1"}, {"ECOM_BQ_THREADS": "8"}, "", 1),  # the flag wins
        ({}, {"ECOM_BQ_THREADS": "8"}, "threads = 2", 8),  # then the environment
        ({}, {}, "threads = 2", 2),  # then ecom.toml (an integer there)
    ],
)
def test_threads_come_from_flag_environment_or_ecom_toml(tmp_path, monkeypatch, given, env, toml, threads):
    (tmp_path / "ecom.toml").write_text(f"[bigquery]\n{toml}\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    target = bigquery_target(project="my-proj", dataset="ecom", endpoint="127.0.0.1:9", config_dir=tmp_path, **given)
    assert target.build_workers == threads


@pytest.mark.parametrize("value", ["0", "65", "four", "1.5", "-2"])
def test_a_bad_threads_value_is_one_line_through_the_cli(tmp_path, value):
    env = {
        **os.environ,
        "ECOM_BQ_PROJECT": "my-proj",
        "ECOM_BQ_DATASET": "ecom",
        "BIGQUERY_EMULATOR_HOST": "http://127.0.0.1:9",
    }
    args = [sys.executable, "-m", "ecom", "build", "--target", "bigquery", "--threads", value]
    done = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: --threads is {value!r}, not a number of models to build at once: write a whole number from 1 to 64\n"
    )


def test_an_unreachable_endpoint_reached_through_grpc_says_so():
    """The Storage Read API (gRPC) unreachable was "BigQuery error: failed to connect to all
    addresses ...", which did not say the service could not be reached."""
    from google.api_core import exceptions as gexc

    from ecom.targets.bigquery.errors import readable_errors

    with pytest.raises(TargetError) as e, readable_errors("reading fact_daily_pnl"):
        raise gexc.ServiceUnavailable("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1")
    assert str(e.value) == (
        "BigQuery is unavailable or cannot be reached while reading fact_daily_pnl: failed to connect to all "
        "addresses; last error: UNKNOWN: ipv4:127.0.0.1:1; try again later, and check the network and the endpoint "
        "settings if it persists"
    )


def test_a_503_of_the_service_does_not_blame_the_network_alone():
    """REST's 503 (BigQuery's backend, for a moment) is the same exception type as gRPC's UNAVAILABLE:
    it read "cannot reach BigQuery ...; check the network", though the network was fine."""
    from google.api_core import exceptions as gexc

    from ecom.targets.bigquery.errors import readable_errors

    with pytest.raises(TargetError) as e, readable_errors("running fact_daily_pnl"):
        raise gexc.from_http_status(503, "Service Unavailable")
    assert str(e.value).startswith("BigQuery is unavailable or cannot be reached while running fact_daily_pnl")
    assert "try again later" in str(e.value)
