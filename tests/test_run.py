"""`ecom freshness`, `ecom run` and `ecom runs` on fixtures/attribution, with the clock frozen by ECOM_NOW.

The fixture's newest rows, read off its CSV files: orders and order_items 2024-03-29 12:00, events
2024-03-29 08:00, users 2023-01-01 00:00, marketing_spend 2024-04-01 (a day: 00:00 UTC),
inventory_items none (header only).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import freshness as fresh
from ecom.core import runs as runs_module
from ecom.core.docstrings import model_docs
from ecom.core.files import FileWriteError
from ecom.core.runs import RUNS_TABLE, history
from ecom.core.sources import RAW_SCHEMAS
from ecom.data.load import read_folder
from ecom.run import check_replaceable, notify, publish
from ecom.targets.base import InterruptedAfterCommit
from ecom.targets.duckdb import DuckDBTarget
from tests.bq_emulator import (
    drop_datasets,
    raw_columns_queried,
)
from tests.conftest import FIXTURES, scenario_vars
from tests.services import free_port

runner = CliRunner()
UTC = dt.UTC
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
FRESH_NOW = "2024-03-30T06:00:00Z"  # orders 18 h old, events 22 h: both under a day
STALE_NOW = "2024-04-01T12:00:01Z"  # orders 3 days and 1 s old: past error_after (3 days)
AS_OF = "2024-03-29"
SENTINEL = "<html><style>/* ecom report: yesterday's */</style></html>"  # marked as a run's report
ORPHAN = "relationships_stg_order_items_product_id__stg_products"  # the data tests the failing morning fails
RECONCILED = "net_revenue_agrees_across_marts"


# -- thresholds and the clock ------------------------------------------------------------------------


def test_default_thresholds_are_the_issues():
    limits = fresh.thresholds({})
    assert limits["events"] == limits["orders"] == {"warn_after": DAY, "error_after": 3 * DAY}
    assert limits["marketing_spend"] == {"warn_after": 2 * DAY, "error_after": None}
    assert limits["users"] == {"warn_after": None, "error_after": None}


def test_a_tables_section_wins_over_the_sections_keys_over_the_defaults():
    config = {
        "freshness": {
            "warn_after": "6 hours",
            "events": {"warn_after": "90 minutes", "error_after": "none"},
        }
    }
    limits = fresh.thresholds(config)
    assert limits["events"] == {"warn_after": dt.timedelta(minutes=90), "error_after": None}
    assert limits["orders"] == {"warn_after": 6 * HOUR, "error_after": 3 * DAY}
    assert limits["users"] == {"warn_after": 6 * HOUR, "error_after": None}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"freshness": {"warn_after": "tomorrow"}}, "freshness.warn_after = 'tomorrow': write a duration"),
        ({"freshness": {"events": {"warn_after": 3}}}, "freshness.events.warn_after = 3"),
        ({"freshness": {"products": {"warn_after": "1 day"}}}, "unknown freshness setting(s) products"),
        # YAML keys that are no strings (ecom.yml): a TypeError traceback
        ({"freshness": {None: {"warn_after": "1 day"}}}, "unknown freshness setting(s) None; known: warn_after"),
        ({"freshness": {1: {"warn_after": "1 day"}}}, "unknown freshness setting(s) 1; known: warn_after"),
        ({"freshness": {"events": {"warn": "1 day"}}}, "freshness.events may set only warn_after and error_after"),
        # past Python's timedelta (999,999,999 days): an OverflowError traceback
        (
            {"freshness": {"error_after": "99999999999 days"}},
            "freshness.error_after = '99999999999 days' is longer than any age: write \"none\" for no threshold",
        ),
        # a section-wide warning longer than events' and orders' default error: the warning never shows
        (
            {"freshness": {"warn_after": "5 days"}},
            'ecom.toml: freshness.orders: error_after "3 days" (the default) is shorter than warn_after "5 days" '
            '(freshness.warn_after); freshness.events: error_after "3 days" (the default) is shorter than '
            'warn_after "5 days" (freshness.warn_after), so the warning would never show: '
            'set error_after at least as long, or "none"',
        ),
        (
            {"freshness": {"users": {"warn_after": "36 hours", "error_after": "90 minutes"}}},
            'ecom.toml: freshness.users: error_after "90 minutes" (freshness.users.error_after) is shorter than '
            'warn_after "36 hours" (freshness.users.warn_after), so',
        ),
    ],
)
def test_bad_thresholds_say_what_to_write(config, message):
    with pytest.raises(fresh.FreshnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fresh.thresholds(config)


def test_late_raw_data_names_an_empty_table_as_having_no_rows():
    """It said "orders no rows old (error)"."""
    from ecom.run import Outcome, late_raw_data

    checks = [
        fresh.Freshness("orders", None, None, DAY, 3 * DAY, "error"),
        fresh.Freshness("events", None, 26 * HOUR, DAY, 3 * DAY, "warn"),
        fresh.Freshness("users", None, None, None, None, "unchecked"),
    ]
    outcome = Outcome(None, checks, [], None)
    assert late_raw_data(outcome) == "late raw data: orders has no rows (error), events 26.0 hours old (warn)"


def test_a_table_dated_wholly_after_the_clock_is_not_named_empty():
    """Every row after the clock (ECOM_NOW behind the data) read "orders has no rows", as if the
    export were empty; `ecom freshness` showed "no rows" beside a count of rows dated later."""
    from rich.console import Console

    from ecom.cli import _freshness_table
    from ecom.run import Outcome, late_raw_data, stale_advice

    checks = [fresh.Freshness("orders", None, None, DAY, 3 * DAY, "error", dated_later=2470)]
    assert late_raw_data(Outcome(None, checks, [], None)) == (
        "late raw data: orders has no row dated before now, 2,470 after (error)"
    )
    console = Console(width=200, record=True)
    console.print(_freshness_table(checks))
    [row] = [line for line in console.export_text().splitlines() if "orders" in line]
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "orders", "–", "all dated later", "24.0 hours", "3.0 days", "error", "2,470"
    ]  # fmt: skip
    # what to do: not a newer export, which would not change it; unless another table is simply old
    assert stale_advice(checks) == "check the clock (and ECOM_NOW, if set): the rows are dated after it"
    old = fresh.Freshness("events", None, 4 * DAY, DAY, 3 * DAY, "error")
    assert stale_advice([*checks, old]) == "load a newer export, or raise error_after under [freshness] in ecom.toml"


def test_a_threshold_of_zero_is_shown_and_recorded_as_zero_not_as_none():
    """A "0 hours" threshold judges every row late, but the table and the run record showed none."""
    from rich.console import Console

    from ecom.cli import _freshness_table

    zero = dt.timedelta(0)
    assert fresh.thresholds({"freshness": {"events": {"warn_after": "0 hours"}}})["events"]["warn_after"] == zero
    check = fresh.Freshness("events", None, HOUR, zero, None, fresh.judge(HOUR, zero, None))
    assert check.status == "warn"
    assert check.as_dict()["warn_after_seconds"] == 0
    assert check.as_dict()["error_after_seconds"] is None
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(_freshness_table([check]))
    row = next(line for line in console.export_text().splitlines() if "events" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]][3:5] == ["0.0 hours", "–"]


def test_a_run_whose_tests_failed_is_notified_of_its_warnings_too():
    """The notification dropped the warnings (a table the export shrank, an as_of far past the
    data) of a run whose data tests failed: the likeliest reason they failed."""
    from ecom.core.engine import TestResult
    from ecom.core.runs import RunRecord
    from ecom.run import Outcome, summary

    record = RunRecord("r1", dt.datetime(2024, 3, 30, 6, tzinfo=UTC), "duckdb main", status="failed")
    record.message = "orders has 15 rows, 16 before: ecom load replaces each raw table"
    outcome = Outcome(record, [], [TestResult("unique_x", "fail", 1)], None)
    assert summary(outcome) == (
        "ecom run on duckdb main: failed; 1 data test failed: unique_x; "
        "orders has 15 rows, 16 before: ecom load replaces each raw table; "
        "the build was rolled back (the marts are as they were before this run); the published report was not replaced"
    )
    # as on BigQuery, without a transaction: the tables were replaced before the tests, none rolled back
    outcome.built = True
    assert summary(outcome) == (
        "ecom run on duckdb main: failed; 1 data test failed: unique_x; "
        "orders has 15 rows, 16 before: ecom load replaces each raw table; the published report was not replaced"
    )


def test_status_is_strictly_past_a_threshold_and_an_empty_table_is_past_all():
    assert fresh.judge(DAY, DAY, 3 * DAY) == "pass"  # exactly a day old: not yet past
    assert fresh.judge(DAY + dt.timedelta(microseconds=1), DAY, 3 * DAY) == "warn"
    assert fresh.judge(3 * DAY + dt.timedelta(microseconds=1), DAY, 3 * DAY) == "error"
    assert fresh.judge(None, DAY, 3 * DAY) == "error"
    assert fresh.judge(None, 2 * DAY, None) == "warn"
    assert fresh.judge(None, None, None) == "unchecked"


def test_ecom_now_freezes_the_clock(monkeypatch):
    monkeypatch.setenv("ECOM_NOW", "2024-03-30T06:00:00")  # naive: UTC
    assert fresh.now() == dt.datetime(2024, 3, 30, 6, tzinfo=UTC)
    monkeypatch.setenv("ECOM_NOW", "2024-03-30T08:00:00+02:00")
    assert fresh.now() == dt.datetime(2024, 3, 30, 6, tzinfo=UTC)
    monkeypatch.setenv("ECOM_NOW", "yesterday")
    with pytest.raises(fresh.FreshnessError, match="ECOM_NOW='yesterday' is not a time"):
        fresh.now()
    for edge in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):  # beyond a datetime in UTC: a traceback
        monkeypatch.setenv("ECOM_NOW", edge)
        said = re.escape(f"ECOM_NOW='{edge}' is out of range in UTC: write e.g. ")
        with pytest.raises(fresh.FreshnessError, match=said):
            fresh.now()


def test_a_failed_publish_leaves_the_folder_and_no_temporary_one(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(SENTINEL)

    def half_written(folder: Path) -> None:
        (folder / "index.html").write_text("half")
        raise OSError("disk full")

    with pytest.raises(FileWriteError, match="site: disk full; it was not replaced"):  # one line, as atomic_write
        publish(site, half_written)
    assert (site / "index.html").read_text() == SENTINEL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    publish(site, lambda folder: (folder / "index.html").write_text("new"))
    assert (site / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_publish_refuses_a_folder_holding_what_a_run_does_not_publish(tmp_path):
    """Publishing replaces the folder whole: a folder holding the database (or any other file) is
    refused before anything is written, and kept as it was; so is a file in the folder's place."""
    site = tmp_path / "data"
    site.mkdir()
    for name, text in (("ecom.duckdb", "db"), ("index.html", SENTINEL), ("notes.txt", "mine")):
        (site / name).write_text(text)
    with pytest.raises(FileWriteError, match=r"data: it holds ecom.duckdb, notes.txt, which a run does not publish"):
        publish(site, lambda folder: (folder / "index.html").write_text("new"))
    assert {p.name: p.read_text() for p in site.iterdir()} == {
        "ecom.duckdb": "db",
        "index.html": SENTINEL,
        "notes.txt": "mine",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    (tmp_path / "file").write_text("mine")
    with pytest.raises(FileWriteError, match="file: it is a file, not a folder; nothing was replaced"):
        publish(tmp_path / "file", lambda folder: (folder / "index.html").write_text("new"))
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize(
    ("layout", "why"),
    [
        ("database named index.html", "it holds index.html, which a run does not publish"),
        # a web server's own page (Debian's Apache holds just that): replaced and deleted, "Published"
        ("your own index.html", "it holds index.html, which a run does not publish"),
        ("folder named index.html", "it holds index.html, which a run does not publish"),
        ("symlink", "it is a symbolic link: give the folder it points to"),
        ("loop of symlinks", "it is a loop of symbolic links: give a folder"),
        ("inside a file", "is a file, not a folder"),
        ("working folder", "it is the working folder"),
    ],
)
def test_publish_refuses_what_it_would_destroy_or_misplace(tmp_path, monkeypatch, layout, why):
    """Each was replaced (the database under a published name, a folder's contents, the link) or
    failed only after the build."""
    site = tmp_path / "site"
    if layout == "database named index.html":
        site.mkdir()
        con = duckdb.connect(str(site / "index.html"))
        con.close()
    elif layout == "your own index.html":
        site.mkdir()
        (site / "index.html").write_text("<h1>my page</h1>")
    elif layout == "folder named index.html":
        (site / "index.html").mkdir(parents=True)
        (site / "index.html" / "mine.txt").write_text("mine")
    elif layout == "symlink":
        (tmp_path / "real").mkdir()
        site.symlink_to(tmp_path / "real")
    elif layout == "loop of symlinks":
        site.symlink_to(tmp_path / "other")
        (tmp_path / "other").symlink_to(site)
    elif layout == "inside a file":
        (tmp_path / "afile").write_text("mine")
        site = tmp_path / "afile" / "site"
    else:
        site.mkdir()
        monkeypatch.chdir(site)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(FileWriteError, match=f"cannot publish to {re.escape(str(site))}: .*{re.escape(why)}"):
        check_replaceable(site)
    with pytest.raises(FileWriteError):
        publish(site, lambda folder: (folder / "index.html").write_text("new"))
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_run_publishing_into_the_databases_folder_stops_before_the_build(tmp_path):
    load(tmp_path, FIXTURES / "attribution")
    result = ecom(tmp_path, "run", "--publish", str(tmp_path))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "which a run does not publish" in result.output and "ecom.duckdb" in result.output
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert not target.exists("stg_orders")  # nothing built
    target.close()
    assert (tmp_path / "ecom.duckdb").exists()


# -- the commands on a fixture -------------------------------------------------------------------------


class Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append({"type": self.headers["Content-Type"], "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def webhook():
    server = HTTPServer(("127.0.0.1", free_port()), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Hook.received
    server.shutdown()
    server.server_close()


SALT = "pepper-7f3a"  # the visitor_salt of the mornings: a secret no run record may hold


def ecom(folder: Path, *args: str, now: str = FRESH_NOW, db: str = "ecom.duckdb"):
    env = {"ECOM_NOW": now, "ECOM_VISITOR_SALT": SALT}
    return runner.invoke(app, [*args, "--path", str(folder / db)], env=env)


def load(folder: Path, data: Path) -> None:
    result = ecom(folder, "load", str(data))
    assert result.exit_code == 0, result.output


def tables_of(db: Path) -> dict[str, list[dict]]:
    """Every table beside the models (the models', the build's record, the incremental state) but
    the run history, its rows in one order, and each view's SQL: what a rolled-back build must leave."""
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        names = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()
        tables = {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetch_arrow_table().to_pylist() for (n,) in names}
        views = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'main'").fetchall()
    del tables[RUNS_TABLE]
    return {**tables, **{f"view {name}": [{"sql": sql}] for name, sql in views}}


def an_export_with_an_orphan_item(folder: Path) -> Path:
    """fixtures/attribution in `folder`/broken, with an item (1999, 100.0, Processing) of order 101
    of a product that is not in products (99): the load's checks pass (keys unique and not NULL),
    the relationships test fails."""
    broken = folder / "broken"
    shutil.copytree(FIXTURES / "attribution", broken)
    with (broken / "order_items.csv").open("a") as f:
        f.write("1999,101,1,99,,Processing,2024-03-10 12:00:00,,,,100.0\n")
    return broken


def catalog_of(page: Path) -> int:
    """How many models of a published catalog page carry a build (row counts read off the target)."""
    data = re.search(r'<script type="application/json" id="catalog-data">(.*?)</script>', page.read_text(), re.S)
    return sum(m["build"] is not None for m in json.loads(data[1])["models"].values())


VARS = json.dumps(scenario_vars("attribution"), default=str)


WARN_NOW = "2024-03-30T10:00:00Z"  # events 26 h old: past warn_after (1 day), orders 22 h


@pytest.fixture(scope="module")
def morning(tmp_path_factory, webhook):
    """Four mornings on one database: fresh, events late (warn), stale, then a raw export that fails
    a data test."""
    url, received = webhook
    folder = tmp_path_factory.mktemp("run")
    site = folder / "site"
    runs, notified, sites, recorded, catalog_models, reads = {}, {}, {}, {}, [], {}
    read_rows = runs_module.read_rows

    def morning_run(name: str, now: str) -> None:
        before = len(received)
        reads[name] = 0

        def counted(*args, **kwargs):  # the history's reads (a query each on BigQuery)
            reads[name] += args[1] == RUNS_TABLE
            return read_rows(*args, **kwargs)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(runs_module, "read_rows", counted)
            runs[name] = ecom(folder, "run", "--vars", VARS, "--publish", str(site), "--notify", url, now=now)
        notified[name] = received[before:]
        sites[name] = (site / "index.html").read_text()
        if name == "fresh":
            catalog_models.append(catalog_of(site / "docs.html"))
        target = DuckDBTarget(folder / "ecom.duckdb", create=False)
        recorded[name] = len(history(target, 100))
        target.close()

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        # the default thresholds, but the fixture's spend has a gap from 2024-03-10 to a row dated
        # 2024-04-01, ahead of every morning's clock but the stale one's: a monthly feed's threshold
        (folder / "ecom.toml").write_text('[freshness.marketing_spend]\nwarn_after = "30 days"\n')
        load(folder, FIXTURES / "attribution")
        morning_run("fresh", FRESH_NOW)
        (site / "index.html").write_text(SENTINEL)
        morning_run("warn", WARN_NOW)

        target = DuckDBTarget(folder / "ecom.duckdb", create=False)
        target.con.raw_sql("DROP TABLE main.fact_daily_pnl")  # does a stale run rebuild it?
        target.close()
        morning_run("stale", STALE_NOW)
        target = DuckDBTarget(folder / "ecom.duckdb", create=False)
        rebuilt = target.exists("fact_daily_pnl")
        target.close()

        load(folder, an_export_with_an_orphan_item(folder))
        (site / "index.html").write_text(SENTINEL)
        before_failing = tables_of(folder / "ecom.duckdb")
        morning_run("failing", FRESH_NOW)
        after_failing = tables_of(folder / "ecom.duckdb")
        listed = ecom(folder, "runs")
        target = DuckDBTarget(folder / "ecom.duckdb", create=False)
        latest_first = history(target, 10)
        stored = target.table(RUNS_TABLE).to_pyarrow().to_pylist()
        target.close()
    yield SimpleNamespace(
        runs=runs,
        db=folder / "ecom.duckdb",
        site=site,
        notified=notified,
        sites=sites,
        recorded=recorded,
        reads=reads,
        rebuilt=rebuilt,
        catalog_models=catalog_models[0],
        leftovers=sorted(p.name for p in folder.iterdir() if p.name.startswith(".site")),
        listed=listed,
        latest_first=latest_first,
        stored=stored,
        before_failing=before_failing,
        after_failing=after_failing,
        # the runs by name, if they were recorded in the order they ran (test_ecom_runs_lists_...)
        records=dict(zip(("failing", "stale", "warn", "fresh"), latest_first, strict=False)),
    )


def test_a_fresh_dataset_publishes_and_records_one_run(morning):
    result = morning.runs["fresh"]
    assert result.exit_code == 0, result.output
    assert "Published" in result.output
    assert f'"as_of":"{AS_OF}"' in morning.sites["fresh"]  # the report of this build
    assert morning.catalog_models == 25  # the catalog published beside it, with the build's row counts
    fresh_run = morning.records["fresh"]
    assert fresh_run["status"] == "success"
    assert fresh_run["as_of"] == dt.date(2024, 3, 29)
    assert fresh_run["published"].endswith("site")
    assert {t["status"] for t in fresh_run["tests"]} == {"pass"}
    assert len(fresh_run["models"]) == 25 and all(m["rows"] >= 0 for m in fresh_run["models"])
    assert {m["bytes"] for m in fresh_run["models"]} == {None}  # DuckDB bills no bytes
    assert fresh_run["vars"]["touch_window_days"] == "7"
    assert fresh_run["vars"]["visitor_salt"] == "set"  # declared secret=True: only whether it is set
    assert all(SALT not in str(row) for row in morning.stored)
    assert fresh_run["checked_at"] == dt.datetime(2024, 3, 30, 6, tzinfo=UTC)
    ages = {f["table"]: (f["age_seconds"], f["status"]) for f in fresh_run["freshness"]}
    assert ages["orders"] == (18 * 3600, "pass")
    assert ages["events"] == (22 * 3600, "pass")
    # 2024-03-10 00:00, 20 days 6 h before: the row of 2024-04-01 is ahead of the clock, counted apart
    assert ages["marketing_spend"] == ((20 * 24 + 6) * 3600, "pass")
    assert {f["table"]: f["rows_dated_later"] for f in fresh_run["freshness"] if f["rows_dated_later"]} == {
        "marketing_spend": 1
    }
    assert ages["inventory_items"] == (None, "unchecked")
    assert morning.notified["fresh"] == []  # nothing to say on a fresh, passing morning
    # how the incremental models were built: in full, the first time, in the log and in the record
    chain = ["stg_events", "int_web_sessions", "fact_session_metrics"]
    assert [m["name"] for m in fresh_run["models"] if "incremental" in m] == chain
    assert {m["incremental"] for m in fresh_run["models"] if "incremental" in m} == {"full: no previous build"}
    assert "with as_of 2024-03-29; stg_events, int_web_sessions, fact_session_metrics full: no previous build" in (
        " ".join(result.output.split())
    )
    assert morning.recorded == {"fresh": 1, "warn": 2, "stale": 3, "failing": 4}  # one record a run
    assert morning.leftovers == []


def test_a_late_table_past_warn_after_publishes_and_notifies(morning):
    result = morning.runs["warn"]
    assert result.exit_code == 0, result.output
    assert f'"as_of":"{AS_OF}"' in morning.sites["warn"]  # replaced the sentinel written before
    warn_run = morning.records["warn"]
    assert warn_run["status"] == "success"
    # the same raw data at the same as_of: no day to replace
    chain = "stg_events, int_web_sessions, fact_session_metrics"
    assert f"; {chain} incremental: nothing changed up to 2024-03-29" in " ".join(result.output.split())
    status = {f["table"]: f["status"] for f in warn_run["freshness"]}
    assert (status["events"], status["orders"]) == ("warn", "pass")  # 26 h and 22 h
    [message] = morning.notified["warn"]
    assert message["body"]["text"] == (
        f"ecom run on duckdb main in {morning.db}: success (as_of 2024-03-29); "
        "late raw data: events 26.0 hours old (warn)"
    )
    # the run's last line, which a log keeps, says so too: it ended "Published ..." alone
    assert " ".join(result.output.split()).endswith(
        f"Published {morning.site}/index.html and {morning.site}/docs.html; late raw data: events 26.0 hours old (warn)"
    )


def test_a_stale_table_stops_the_run_before_the_build(morning):
    result = morning.runs["stale"]
    assert result.exit_code == 2, result.output
    # said "the published report kept" when none had been published: the folder, as a failed run says
    # the last line names the tables, as the notification does (marketing_spend, 12 h old, is not late),
    # and what to do, not only what is wrong
    assert " ".join(result.output.split()).endswith(
        f"nothing built, {morning.site} kept as it was; "
        "late raw data: orders 3.0 days old (error), events 3.2 days old (error): "
        "load a newer export, or raise error_after under [freshness] in ecom.toml"
    )
    assert not morning.rebuilt
    assert morning.sites["stale"] == morning.sites["warn"]
    stale_run = morning.records["stale"]
    assert stale_run["status"] == "stale"
    assert stale_run["models"] == [] and stale_run["as_of"] is None and stale_run["published"] is None
    status = {f["table"]: f["status"] for f in stale_run["freshness"]}
    assert status["orders"] == "error"  # 3 days and 1 s
    assert status["events"] == "error"  # 3 days 4 h
    assert status["marketing_spend"] == "pass"  # 12 h
    [message] = morning.notified["stale"]
    assert message["type"] == "application/json"
    assert message["body"]["text"].startswith(f"ecom run on duckdb main in {morning.db}: stale")
    assert "orders 3.0 days old (error)" in message["body"]["text"]


def test_ecom_run_says_why_a_data_test_erred_as_ecom_test_does():
    """ecom run printed an erring test as a bare `ERROR name`; `ecom test` adds the reason."""
    from ecom.cli import _test_line
    from ecom.core.engine import TestResult

    assert _test_line(TestResult("t", "error", message="Table fact_x does not exist")).plain == (
        "ERROR t (Table fact_x does not exist)"
    )
    assert _test_line(TestResult("t", "fail", failures=2)).plain == "FAIL  t (2 failing rows)"
    assert _test_line(TestResult("t", "pass")).plain == "PASS  t"


def test_a_failing_data_test_rolls_the_build_back_and_keeps_the_previous_report(morning):
    """The data tests run inside the build's transaction: the marts a test rejected were replaced,
    and read by whoever queried them, until the next good morning."""
    result = morning.runs["failing"]
    assert result.exit_code == 1, result.output
    assert f"FAIL  {ORPHAN} (1 failing row)" in result.output
    # the tests read the build's uncommitted tables: fact_daily_pnl, dropped by hand before this run
    # and rebuilt by it only, counts the new item of a product not in products (100.0) in its total;
    # fact_product_performance (a row per product of products) does not: one disagreeing row
    assert f"FAIL  {RECONCILED} (1 failing row)" in result.output
    assert morning.sites["failing"] == SENTINEL
    # one line, however long (its paths): `tail -1` of a log reads it whole
    assert result.output.splitlines()[-1] == (
        f"Run {morning.records['failing']['run_id']}: "
        "Data tests failed: the build was rolled back (the marts are as they were before this run) and "
        f"{morning.site} kept as it was; to see the failing rows, copy {morning.db} to COPY.duckdb and run "
        "`ecom build --path COPY.duckdb` then `ecom test --path COPY.duckdb`"
    )
    # every table as the build before it left them: fact_daily_pnl still gone, order 101 one item
    # (fixtures/attribution: item 1001, 100.0; the export added 1999, 100.0), the record of the warn run
    assert morning.after_failing == morning.before_failing
    assert "fact_daily_pnl" not in morning.after_failing
    [order] = [o for o in morning.after_failing["int_orders"] if o["order_id"] == 101]
    assert (order["net_items"], order["net_revenue"]) == (1, 100.0)
    assert {"name": "as_of", "value": AS_OF} in morning.after_failing["_ecom_vars"]
    built_at = {r["built_at"] for r in morning.after_failing["_ecom_build"]}
    assert len(built_at) == 1 and built_at.pop() < morning.records["failing"]["started_at"]
    failed_run = morning.records["failing"]
    assert failed_run["status"] == "failed" and failed_run["published"] is None
    assert len(failed_run["models"]) == 25  # what the rejected build built
    failing = {t["name"]: t["failures"] for t in failed_run["tests"] if t["status"] != "pass"}
    assert failing == {ORPHAN: 1, RECONCILED: 1}
    [message] = morning.notified["failing"]
    assert message["body"]["text"].startswith(
        f"ecom run on duckdb main in {morning.db}: failed (as_of 2024-03-29); 2 data tests failed: "
    )
    assert message["body"]["text"].endswith(
        "the build was rolled back (the marts are as they were before this run); the published report was not replaced"
    )
    assert ORPHAN in message["body"]["text"]


def test_the_rows_a_rolled_back_build_failed_on_are_seen_on_a_copy(morning, tmp_path):
    """What the failed run's last line says to do: `ecom build` then `ecom test` on a copy."""
    copy = tmp_path / "COPY.duckdb"
    shutil.copy(morning.db, copy)
    assert ecom(tmp_path, "build", "--vars", VARS, db=copy.name).exit_code == 0
    tested = ecom(tmp_path, "test", db=copy.name)
    assert tested.exit_code == 1
    assert f"FAIL  {ORPHAN} (1 failing row)" in tested.output
    assert "order_item_id=1999, product_id=99" in tested.output  # the example row: the export's new item
    with closing(duckdb.connect(str(copy), read_only=True)) as con:
        assert con.execute("SELECT net_items, net_revenue FROM int_orders WHERE order_id = 101").fetchall() == [
            (2, 200.0)
        ]
    assert tables_of(morning.db) == morning.after_failing  # the copy only


def test_without_a_transaction_a_failing_data_test_keeps_only_the_report(tmp_path, monkeypatch, webhook):
    """BigQuery's way, on DuckDB without its transaction: the tests run once every table is replaced,
    a failing one leaves them replaced (and says nothing of a rollback), and a Ctrl-C during the tests
    says the build is saved."""
    from ecom.core import engine
    from ecom.targets.base import Target

    url, received = webhook
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(DuckDBTarget, "transactional", False)
    monkeypatch.setattr(DuckDBTarget, "transaction", Target.transaction)
    load(tmp_path, an_export_with_an_orphan_item(tmp_path))
    site = tmp_path / "site"
    before = len(received)
    result = ecom(tmp_path, "run", "--publish", str(site), "--notify", url)
    assert result.exit_code == 1, result.output
    assert f": Data tests failed: {site} kept as it was; late raw data: " in result.output.splitlines()[-1]
    [message] = received[before:]
    assert "rolled back" not in message["body"]["text"]
    with closing(duckdb.connect(str(tmp_path / "ecom.duckdb"), read_only=True)) as con:
        assert con.execute("SELECT net_items, net_revenue FROM int_orders WHERE order_id = 101").fetchall() == [
            (2, 200.0)  # the export's: items 1001 and 1999, 100.0 each
        ]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "run_tests", interrupted)
    result = ecom(tmp_path, "run", "--publish", str(site))
    assert result.exit_code == 130 and result.stderr.splitlines() == [
        "interrupted after the commit completed: the new data is saved; the run did not finish (its data tests, "
        f"the publishing to {site}, its record in `ecom runs`): run `ecom run` again"
    ], result.output


def test_a_data_test_that_errs_stops_the_tests_and_rolls_the_build_back(project, tmp_path, monkeypatch):
    """An error (not a failure) inside DuckDB's transaction aborts it: each later test erred with
    "Current transaction is aborted (please ROLLBACK)", hiding the one error that mattered."""
    from ecom.core import engine

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")

    def unconvertible(table):  # '101x' is no integer: DuckDB's Conversion Error, while the query runs
        orders = table("int_orders")
        return orders.filter(orders.order_id.cast("string").concat("x").cast("int64") > 0)

    generic_tests = engine.generic_tests
    erring = engine.TestCase("casts_order_ids", "int_orders", unconvertible)
    monkeypatch.setattr(engine, "generic_tests", lambda *args: [erring, *generic_tests(*args)])
    result = ecom(tmp_path, "run", "--publish", str(tmp_path / "site"))
    assert result.exit_code == 1, result.output
    cases = len(generic_tests(project, project.order)) + len(engine.singular_tests(project, project.order, {}))
    lines = result.output.splitlines()
    [error] = [line for line in lines if line.startswith("ERROR")]
    assert error.startswith("ERROR casts_order_ids (Conversion Error: ")
    assert f"0 data tests passed, 1 failed, {cases} not run (the error aborted the build's transaction)" in lines
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    [record] = history(target, 5)
    assert not target.exists("int_orders") and not target.exists("_ecom_build")
    target.close()
    assert record["status"] == "failed" and [t["name"] for t in record["tests"]] == ["casts_order_ids"]


def test_a_run_reads_the_history_once(morning):
    assert morning.reads == {"fresh": 1, "warn": 1, "stale": 1, "failing": 1}


def test_ecom_runs_lists_the_runs_latest_first(morning):
    result = morning.listed
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in morning.latest_first] == ["failed", "stale", "success", "success"]
    assert morning.latest_first[2]["checked_at"] == dt.datetime(2024, 3, 30, 10, tzinfo=UTC)  # the warn run
    lines = result.output.splitlines()
    # each run's line starts with its id and shows its status; the latest run's line comes first
    found = [
        next(i for i, line in enumerate(lines) if line.startswith(f"│ {r['run_id'][:6]}")) for r in morning.latest_first
    ]
    assert found == sorted(found)
    assert [lines[i].split("│")[4].strip() for i in found] == ["failed", "stale", "success", "success"]
    assert [lines[i].split("│")[8].strip() for i in found[2:]] == ["events (warn)", "–"]  # warn, then fresh run
    assert [lines[i].split("│")[9].strip() for i in found] == ["–"] * 4  # none errored or warned


def test_ecom_runs_in_80_columns_cuts_no_value_short(morning):
    """In an 80-column terminal every column was cut to `succe…`, `2026-…`, `marke…`: the columns
    that say which run and how it ended stay whole, the rest follows on a line a run."""
    result = runner.invoke(app, ["runs", "--path", str(morning.db)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, result.output
    cells = {}
    for r in morning.latest_first:
        [row] = [line for line in lines if line.startswith(f"│ {r['run_id']} ")]
        cells[r["run_id"]] = [c.strip() for c in row.split("│")[1:-1]]
        assert cells[r["run_id"]][:2] == [r["run_id"], r["started_at"].strftime("%Y-%m-%d %H:%M:%S")]
    # status, as_of, models, tests failed of the failing, stale, warn and fresh mornings
    assert [cells[r["run_id"]][2:] for r in morning.latest_first] == [
        ["failed", AS_OF, "25", "2"],
        ["stale", "–", "0", "–"],
        ["success", AS_OF, "25", "0"],
        ["success", AS_OF, "25", "0"],
    ]
    details = {
        r["run_id"]: [line for line in lines if line.startswith(f"{r['run_id']}: ")] for r in morning.latest_first
    }
    failing, stale, warn, fresh_run = (details[r["run_id"]] for r in morning.latest_first)
    assert re.fullmatch(r"\S+: \d+\.\d s; late raw data: events \(warn\)", warn[0]), warn
    assert re.fullmatch(r"\S+: \d+\.\d s; late raw data: orders \(error\), events \(error\)", stale[0]), stale
    assert [re.fullmatch(r"\S+: \d+\.\d s", run[0]) is not None for run in (failing, fresh_run)] == [True, True]


def test_ecom_runs_run_prints_all_one_run_recorded(morning):
    """The list cuts a message to 100 characters and shows no test, model or table by name: the
    failing morning's two tests, and which tables made the stale one stale, were in _ecom_runs only."""
    failing, stale = morning.records["failing"], morning.records["stale"]

    def shown(run_id: str) -> list[str]:
        result = runner.invoke(app, ["runs", run_id, "--path", str(morning.db)])
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    lines = shown(failing["run_id"][:5])  # its first characters are enough, as a commit's
    assert lines[0].startswith(f"Run {failing['run_id']}: failed, started ")
    assert f"variables: as_of={AS_OF}, " in lines[2]
    assert [line for line in lines if line.startswith(("FAIL", "ERROR"))] == [
        f"FAIL  {t['name']} ({t['failures']} failing row{'s' * (t['failures'] != 1)})"
        for t in failing["tests"]
        if t["status"] == "fail"
    ]
    assert len([t for t in failing["tests"] if t["status"] == "fail"]) == 2
    assert lines[-1] == f"{len(failing['tests']) - 2} data tests passed, 2 failed"
    assert sum(line.startswith("│ fact_daily_pnl ") for line in lines) == 1  # the models it built
    lines = shown(stale["run_id"])
    assert lines[0].startswith(f"Run {stale['run_id']}: stale, started ")
    status = {row[0]: row[5] for row in (_cells(line) for line in lines) if len(row) > 5}
    assert (status["orders"], status["events"]) == ("error", "error")
    assert not any("data tests" in line or line.startswith("│ stg_") for line in lines)  # nothing built


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("│")[1:-1]]


def test_ecom_runs_names_a_run_it_cannot_tell(tmp_path):
    target = DuckDBTarget(tmp_path / "ecom.duckdb")
    started = dt.datetime(2024, 3, 30, 8, tzinfo=UTC)
    for run_id in ("abc123", "abc456"):
        runs_module.append(target, runs_module.RunRecord(run_id, started, "duckdb", ended_at=started))
    target.close()
    for given, message in (
        ("abc", "2 runs (abc123, abc456) have an id starting 'abc'"),
        ("abd", "no run has an id starting 'abd'"),
    ):
        result = runner.invoke(app, ["runs", given, "--path", str(tmp_path / "ecom.duckdb")])
        assert result.exit_code == 1
        assert result.stderr.strip() == (f"error: {message} in _ecom_runs: `ecom runs` lists the runs and their ids")
    result = runner.invoke(app, ["runs", "abc4", "--path", str(tmp_path / "ecom.duckdb")])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == ["Run abc456: error, started 2024-03-30 08:00:00 UTC, 0.0 s", "on duckdb"]
    # --limit with a run was ignored without a word (it reads as a limit on that run's lines)
    result = runner.invoke(app, ["runs", "abc4", "--limit", "1", "--path", str(tmp_path / "ecom.duckdb")])
    assert (result.exit_code, result.stdout) == (1, "")
    assert (
        result.stderr.strip()
        == "error: --limit is for the list of runs: drop it, `ecom runs RUN` prints that one run whole"
    )


def test_tables_in_80_columns_keep_words_whole_and_row_names_always(project, morning):
    """rich shrank the widest columns of a table wider than the terminal towards the others, then
    cut every cell: `ecom freshness` in 80 columns printed `invento…` and `2024-03…`."""
    env = {"COLUMNS": "80", "ECOM_NOW": FRESH_NOW}
    result = runner.invoke(app, ["freshness", "--path", str(morning.db)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in result.output, result.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│ ")]
    assert [row[0] for row in cells if row[0]] == list(fresh.LOADED_AT)  # each table's name on one line
    # a timestamp, "2024-03-29 12:00 UTC", wraps between its words only
    assert [c[1] for c in cells[:2]] == ["2024-03-29", "12:00 UTC"]
    # the models' table, whose words cannot all fit (it cut `materi…`, `order_…` and set the grain a
    # word a line), is a block per model: its name, layer, materialization and key, the grain below
    listed = runner.invoke(app, ["ls", "--path", str(morning.db)], env=env)
    assert listed.exit_code == 0, listed.output
    assert "…" not in listed.output and max(len(line) for line in listed.output.splitlines()) <= 80
    models = listed.output.split("exposures (consumers)")[0]
    heads = [line for line in models.splitlines()[1:] if line and not line.startswith(" ")]
    assert [line.split(" (")[0] for line in heads] == list(project.order)
    assert heads[0] == "stg_orders (staging; duckdb: view, bigquery: table; key order_id)"
    grains = " ".join(models.split())
    assert all(" ".join(model_docs(project)[m].grain.split()) in grains for m in project.order)
    assert grains.count("Last built: ") == len(project.order)  # when each was built, and its rows
    assert grains.count(" rows; as_of 2024-03-29, ") == 3  # the incremental models, at the morning's as_of


def test_ecom_freshness_exits_2_past_error_after_and_0_on_warnings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    warned = ecom(tmp_path, "freshness", now="2024-03-30T10:00:00Z")  # events 26 h old: warn
    assert warned.exit_code == 0, warned.output
    # the status column (a "rows dated later" column follows it: the spend of 2024-04-01)
    assert [line.split("│")[6].strip() for line in warned.output.splitlines() if line.startswith("│ events")] == [
        "warn"
    ]
    stale = ecom(tmp_path, "freshness", now=STALE_NOW)
    assert stale.exit_code == 2
    # orders' newest row 2024-03-29 12:00 and events' 08:00 (26 h before the warn clock above), at
    # 2024-04-01 12:00:01: 72.0 and 76.0 hours, past error_after (3 days), under the table one line says so
    assert stale.output.splitlines()[-1] == (
        "Raw data past error_after: orders 3.0 days old (error), events 3.2 days old (error). "
        "Load a newer export, or raise error_after under [freshness] in ecom.toml"
    )
    (tmp_path / "ecom.toml").write_text(
        '[freshness.orders]\nerror_after = "4 days"\n[freshness.events]\nerror_after = "none"\n'
    )
    assert ecom(tmp_path, "freshness", now=STALE_NOW).exit_code == 0
    (tmp_path / "ecom.toml").write_text('[freshness]\nwarn_after = "soon"\n')
    bad = ecom(tmp_path, "freshness")
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "freshness.warn_after = 'soon'" in bad.output


def test_a_notification_that_fails_does_not_fail_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    nobody = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    result = ecom(tmp_path, "run", "--notify", nobody, now=STALE_NOW)
    assert result.exit_code == 2, result.output
    assert "the notification to" in result.output and "failed" in result.output
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert [r["status"] for r in history(target, 5)] == ["stale"]
    target.close()


def test_a_notification_to_an_unreadable_url_is_a_failure_said_not_raised():
    # the Request parsed the URL before the try: notify() raised where it promises a reason
    assert notify("http://[::1", "text") == "Invalid IPv6 URL"


def test_a_run_warns_of_an_as_of_far_past_the_latest_order(tmp_path, monkeypatch):
    """README: an as_of given more than 31 days after the latest order is built with a warning.
    `ecom build` warned; `ecom run --vars as_of=...` built and published marts of zeros without a
    word. The fixture's latest order is of 2024-03-29: 2024-04-30 is 32 days after it.
    Also: the run checks the values of the raw tables its build reads, as `ecom build` does (it
    checked distribution_centers too, which no model reads: a repeated id stopped the run only)."""
    from ecom.core import engine

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    checked, validate_values = [], engine.validate_values

    def spied(target, tables, *args):
        checked.append(list(tables))
        return validate_values(target, tables, *args)

    monkeypatch.setattr(engine, "validate_values", spied)
    result = ecom(tmp_path, "run", "--vars", "as_of=2024-04-30", "--publish", str(tmp_path / "site"))
    assert "Built 25 models" in result.output, result.output  # a warning, not a refusal
    assert checked == [[t for t in RAW_SCHEMAS if t != "distribution_centers"]]
    assert (
        "warning: as_of=2024-04-30 is 32 days after its default on this data, 2024-03-29 (the build's today; "
        "defaults to the latest order date): the trailing windows before it hold no data; check the date"
    ) in " ".join(result.output.split())


def test_bad_run_input_is_one_line_and_records_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    for args, now, message in [
        (["--notify", "slack.example.com/hook"], FRESH_NOW, "--notify must be an http:// or https:// URL"),
        # an unclosed IPv6 bracket was a ValueError traceback; no host failed only as the run ended
        (["--notify", "http://[::1"], FRESH_NOW, "--notify must be an http:// or https:// URL, not 'http://[::1'"),
        (["--notify", "https://"], FRESH_NOW, "--notify must be an http:// or https:// URL, not 'https://'"),
        (["--notify", "http://h:abc/"], FRESH_NOW, "--notify must be an http:// or https:// URL, not 'http://h:abc/'"),
        ([], "soon", "ECOM_NOW='soon' is not a time"),
    ]:
        result = ecom(tmp_path, "run", *args, now=now)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert not target.exists(RUNS_TABLE)
    target.close()


# fixtures/attribution's newest rows at 10:00 on 2024-03-29 (from its CSVs): the orders and items of
# 12:00 that day and the spend of 2024-04-01 are dated later, and are counted, not taken as newest.
AFTER_EVENTS = dt.datetime(2024, 3, 29, 10, tzinfo=UTC)
NEWEST_AT_AFTER_EVENTS = {
    "orders": (dt.datetime(2024, 3, 14, 10, tzinfo=UTC), 1),
    "order_items": (dt.datetime(2024, 3, 14, 10, tzinfo=UTC), 1),
    "users": (dt.datetime(2023, 1, 1, tzinfo=UTC), 0),
    "events": (dt.datetime(2024, 3, 29, 8, tzinfo=UTC), 0),
    "inventory_items": (None, 0),
    "marketing_spend": (dt.datetime(2024, 3, 10, tzinfo=UTC), 1),
}


def test_rows_dated_after_the_clock_are_counted_not_taken_as_the_newest(tmp_path, monkeypatch):
    """thelook dates events and items days ahead: they kept a table fresh after its feed stopped."""
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    with closing(DuckDBTarget(tmp_path / "ecom.duckdb", create=False)) as target:
        assert fresh.newest_rows(target, AFTER_EVENTS) == NEWEST_AT_AFTER_EVENTS
    result = ecom(tmp_path, "freshness", now="2024-03-29T10:00:00Z")
    [orders] = [line for line in result.output.splitlines() if line.startswith("│ orders ")]
    # newest 2024-03-14 10:00, 15.0 days old: past error_after (3 days), one order dated later
    assert [c.strip() for c in orders.split("│")[2:-1]] == [
        "2024-03-14 10:00 UTC", "15.0 days", "24.0 hours", "3.0 days", "error", "1",
    ]  # fmt: skip
    assert result.exit_code == 2


def test_on_bigquery_freshness_is_one_query_reading_one_column_a_table():
    import sqlglot
    from sqlglot import exp

    from ecom.core.sources import RAW_SCHEMAS
    from ecom.targets.base import Location

    expr = fresh.newest_query(lambda t: Location("thelook", "proj").unbound(t, RAW_SCHEMAS[t]), AFTER_EVENTS)
    tree = sqlglot.parse_one(ibis.to_sql(expr, dialect="bigquery"), read="bigquery")
    assert {t.name for t in tree.find_all(exp.Table)} == set(fresh.LOADED_AT)
    assert {c.name for c in tree.find_all(exp.Column)} == {"created_at", "date"}


@pytest.mark.emulator
def test_freshness_and_the_run_history_on_bigquery(bq_emulator, tmp_path):
    from ecom.core.runs import RunRecord, append
    from ecom.data.load import read_folder

    target = bq_emulator.target(dataset="ecom_runs", raw_dataset="raw_runs")
    try:
        target.write_raw(read_folder(FIXTURES / "attribution"))
        assert fresh.newest_rows(target, AFTER_EVENTS) == NEWEST_AT_AFTER_EVENTS
        started = dt.datetime(2024, 4, 1, 6, tzinfo=UTC)
        for n, status in enumerate(("success", "stale")):
            record = RunRecord(f"run{n}", started + n * DAY, "bigquery test", status=status)
            record.ended_at, record.vars = record.started_at + HOUR, {"visitor_salt": "set"}
            append(target, record)
        runs = history(target, 5)
        assert [(r["run_id"], r["status"], r["vars"]) for r in runs] == [
            ("run1", "stale", {"visitor_salt": "set"}),
            ("run0", "success", {"visitor_salt": "set"}),
        ]
        assert runs[1]["ended_at"] == dt.datetime(2024, 4, 1, 7, tzinfo=UTC)
        # `ecom freshness` and a stale `ecom run` bill one column a table: they read the tables'
        # schemas (metadata, free), not the source contract's value checks (keys, every timestamp,
        # money), which only a build needs
        where = ["--target", "bigquery", "--dataset", "ecom_runs", "--raw-dataset", "raw_runs"]
        for command in (["freshness"], ["run", "--publish", str(tmp_path / "site")]):
            since = dt.datetime.now(UTC)
            result = runner.invoke(app, [*command, *where], env=bq_emulator.env())
            assert result.exit_code == 2, result.output  # the fixture's data is years old
            assert raw_columns_queried(target.client, since) == {"created_at", "date"}, command
    finally:
        drop_datasets(target, "ecom_runs", "raw_runs")
        target.close()


def test_a_failing_model_is_recorded_as_an_error_and_notified(tmp_path, monkeypatch, webhook):
    from ecom.core import engine

    url, received = webhook
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(SENTINEL)

    def failing_build(*args, **kwargs):
        raise engine.BuildError("model fact_daily_pnl failed: division by zero")

    monkeypatch.setattr(engine, "build", failing_build)
    before = len(received)
    result = ecom(tmp_path, "run", "--publish", str(site), "--notify", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: model fact_daily_pnl failed: division by zero" in result.output
    assert (site / "index.html").read_text() == SENTINEL
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    [record] = history(target, 5)
    target.close()
    assert (record["status"], record["message"]) == ("error", "model fact_daily_pnl failed: division by zero")
    [message] = received[before:]
    assert "error" in message["body"]["text"] and "division by zero" in message["body"]["text"]


def test_a_run_loads_its_export_first_and_records_a_refused_one(tmp_path, monkeypatch, webhook):
    """`ecom load DIR && ecom run` (the cron example) left an export the load refused unrecorded and
    unnotified: the run never started. `ecom run --load DIR` loads it as its first step."""
    url, received = webhook
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "attribution", export)
    # the morning's export lost its orders (a failed export): refused, nothing replaced, recorded
    for f in export.glob("orders.*"):
        f.unlink()
    (export / "orders.csv").write_text(",".join(RAW_SCHEMAS["orders"].names) + "\n")
    before = len(received)
    result = ecom(tmp_path, "run", "--load", str(export), "--notify", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    refusal = "the export has no rows for orders ("
    assert f"error: {refusal}" in " ".join(result.stderr.split())
    [message] = received[before:]
    assert refusal in message["body"]["text"] and "the published report was not replaced" in message["body"]["text"]
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    [record] = history(target, 5)
    assert record["status"] == "error" and record["message"].startswith(refusal)
    assert target.raw_rows("orders") == len(read_folder(FIXTURES / "attribution")["orders"])  # kept
    target.close()
    # the export as it should be, one order fewer: loaded (with the warning), built from it
    fewer = read_folder(FIXTURES / "attribution")["orders"].slice(1)
    (export / "orders.csv").unlink()
    pq.write_table(fewer, export / "orders.parquet")
    before = len(received)
    result = ecom(tmp_path, "run", "--load", str(export), "--publish", str(tmp_path / "site"), "--notify", url)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"Loaded {export}: 8 raw tables" in text, text
    shrunk = f"orders has {fewer.num_rows} rows, {fewer.num_rows + 1} before"
    assert f"warning: {shrunk}" in text
    # a successful morning whose export shrank a table: printed only, it was neither recorded nor notified
    [message] = received[before:]
    assert message["body"]["text"].startswith(f"ecom run on duckdb main in {tmp_path / 'ecom.duckdb'}: success")
    assert shrunk in message["body"]["text"]
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.raw_rows("orders") == fewer.num_rows
    [latest, refused] = history(target, 5)
    assert (latest["status"], refused["status"]) == ("success", "error")
    assert latest["message"].startswith(shrunk)
    target.close()
    # `ecom runs` shows why: the message column, cut to 100 characters
    listed = [line.split("│") for line in ecom(tmp_path, "runs").output.splitlines() if line.startswith("│ ")]
    messages = [row[9].strip() for row in listed if row[1].strip()]
    assert messages[0].startswith(shrunk) and messages[1].startswith(refusal)
    assert all(len(m) <= 100 for m in messages)


def test_an_export_refused_for_its_shape_is_recorded_and_notified_with_its_problems(tmp_path, monkeypatch, webhook):
    """An export missing a table or a column is the likeliest refusal of `ecom run --load`; its record
    and notification kept the error's first line: "The raw data in DIR does not match the source
    contract (2 problems):", what is wrong left out."""
    url, received = webhook
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "attribution", export)
    (export / "users.csv").unlink()
    orders = (export / "orders.csv").read_text()
    (export / "orders.csv").write_text(orders.replace("user_id", "usr_id", 1))
    before = len(received)
    result = ecom(tmp_path, "run", "--load", str(export), "--notify", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    problems = (
        f"the raw data in {export} does not match the source contract: orders.user_id: expected int64, found no "
        "such column; users: expected a single file users.parquet or users.csv, found none"
    )
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    [record] = history(target, 5)
    target.close()
    assert record["message"] == problems
    [message] = received[before:]
    run_on = f"ecom run on duckdb main in {tmp_path / 'ecom.duckdb'}"
    assert message["body"]["text"] == f"{run_on}: error; {problems}; the published report was not replaced"


def test_a_run_with_load_makes_a_database_not_made_yet(tmp_path, monkeypatch):
    """The first morning of the cron example on a new server: `ecom load DIR && ecom run` made the
    database; `ecom run --load DIR` refused, "no DuckDB database at ...: run `ecom generate` or
    `ecom load FOLDER` first"."""
    monkeypatch.chdir(tmp_path)
    result = ecom(tmp_path, "run", "--load", str(FIXTURES / "attribution"), "--publish", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.raw_rows("orders") == 16  # orders.csv's lines but its header
    assert [r["status"] for r in history(target, 5)] == ["success"]
    target.close()


def test_allow_empty_without_load_is_refused(tmp_path, monkeypatch):
    """`ecom run --allow-empty` ran as if the option were not there: it lets a --load export's empty
    files in, and there was none."""
    monkeypatch.chdir(tmp_path)
    result = ecom(tmp_path, "run", "--allow-empty")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: --allow-empty needs --load DIR: it lets that export's empty files replace raw tables\n"
    )
    assert list(tmp_path.iterdir()) == []


def loaded_and_an_export_one_order_fewer(tmp_path: Path, monkeypatch) -> tuple[Path, pa.Table]:
    """A database in tmp_path (the working folder) loaded with fixtures/attribution, and an export of
    it with its first order left out: the export folder and its orders."""
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "attribution", export)
    fewer = read_folder(export)["orders"].slice(1)
    (export / "orders.csv").unlink()
    pq.write_table(fewer, export / "orders.parquet")
    return export, fewer


def test_a_run_refused_for_its_publish_folder_loads_nothing(tmp_path, monkeypatch):
    """`ecom run --load DIR --publish FOLDER` with a folder it may not replace loaded the export, then
    refused: the raw tables were replaced by a run that said it did nothing."""
    export, fewer = loaded_and_an_export_one_order_fewer(tmp_path, monkeypatch)
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    result = ecom(tmp_path, "run", "--load", str(export), "--publish", str(site))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "it holds notes.txt, which a run does not publish" in " ".join(result.stderr.split())
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.raw_rows("orders") == fewer.num_rows + 1  # as it was
    assert [r["status"] for r in history(target, 5)] == ["error"]
    target.close()


@pytest.mark.parametrize(
    "given, message",
    [
        ("foo=1", "unknown variable foo in --vars; known: "),
        ("session_timeout_minutes=0", "session_timeout_minutes must be a positive whole number, not 0"),
        ("critical_days=20", "critical_days=20 is larger than low_days=14"),  # low_days' default
    ],
)
def test_a_run_with_bad_vars_loads_nothing_and_says_so_even_on_stale_data(tmp_path, monkeypatch, given, message):
    """`ecom run --load DIR --vars foo=1` loaded the export, then stopped on the variable: the raw
    tables replaced by a run that printed one error. On stale data the variable was never read."""
    export, fewer = loaded_and_an_export_one_order_fewer(tmp_path, monkeypatch)
    for args, now in ((["--load", str(export)], FRESH_NOW), ([], "2030-01-01T00:00:00Z")):
        result = ecom(tmp_path, "run", *args, "--vars", given, now=now)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {message}") and len(result.stderr.splitlines()) == 1
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.raw_rows("orders") == fewer.num_rows + 1  # as it was
    assert not target.exists(RUNS_TABLE)  # refused before the run began, as a malformed --vars is
    target.close()


def test_a_run_records_the_order_items_of_no_order_as_a_warning(tmp_path, monkeypatch):
    """An export whose item names an order it does not hold: staging leaves the item out, the run
    publishes, and says so where a morning's warnings go (the record's message)."""
    monkeypatch.chdir(tmp_path)
    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "attribution", export)
    with (export / "order_items.csv").open("a") as f:
        f.write("1999,999,1,1,,Complete,2024-03-10 12:00:00,,,,100.0\n")  # order 999 is not in orders.csv
    result = ecom(tmp_path, "run", "--load", str(export))
    assert result.exit_code == 0, result.output
    warning = (
        "order_items: 1 row with no order among the raw orders (order_id NULL or absent): "
        "stg_order_items leaves such items out, so no model counts their revenue; check the export"
    )
    assert f"warning: {warning}" in [" ".join(line.split()) for line in result.stderr.splitlines()]
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    [record] = history(target, 5)
    target.close()
    assert (record["status"], record["message"]) == ("success", warning)


def test_a_run_that_cannot_open_its_database_is_notified(tmp_path, monkeypatch, webhook):
    """The unattended morning's likeliest failure on DuckDB: the file held by another process (a BI
    tool, a run still going). The run cannot record itself there: the notification is its one trace."""
    url, received = webhook
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    db = tmp_path / "ecom.duckdb"
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        before = len(received)
        result = ecom(tmp_path, "run", "--notify", url)
        nobody = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there: said, as after a run
        unheard = ecom(tmp_path, "run", "--notify", nobody)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.exit_code == 1 and "Traceback" not in result.output
    [message] = received[before:]
    assert message["body"]["text"] == (
        f"ecom run did not start: {db} is in use by another process (another ecom or duckdb session holds its "
        "lock): close it or wait for it to finish, then retry; the published report was not replaced"
    )
    assert unheard.exit_code == 1 and "Traceback" not in unheard.output
    assert f"warning: the notification to {nobody} failed" in unheard.output


@pytest.mark.parametrize("during", ["the load's commit", "the freshness check", "the data tests"])
def test_ctrl_c_after_the_load_says_the_export_is_saved_and_the_build_undone(tmp_path, monkeypatch, during):
    """A Ctrl-C once `--load` had committed said "the rest of the output was skipped" (after it), or
    left the build out of what the run did not finish (during its commit). During the data tests,
    which run inside the build's transaction, the build is rolled back: undone too."""
    from ecom.core import engine

    export, fewer = loaded_and_an_export_one_order_fewer(tmp_path, monkeypatch)
    write_raw = DuckDBTarget.write_raw

    def commit_interrupted(self, tables):  # what DuckDBTarget.transaction raises for a held Ctrl-C
        write_raw(self, tables)
        raise InterruptedAfterCommit

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    if during == "the load's commit":
        monkeypatch.setattr(DuckDBTarget, "write_raw", commit_interrupted)
    elif during == "the freshness check":
        monkeypatch.setattr(fresh, "check", interrupted)
    else:
        monkeypatch.setattr(engine, "run_tests", interrupted)
    site = tmp_path / "site"
    result = ecom(tmp_path, "run", "--load", str(export), "--publish", str(site))
    assert result.exit_code == 130 and result.stderr.splitlines() == [
        "interrupted after the commit completed: the new data is saved; the run did not finish (its build, its "
        f"data tests, the publishing to {site}, its record in `ecom runs`): run `ecom run` again"
    ], result.output
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.raw_rows("orders") == fewer.num_rows and not target.exists("fact_daily_pnl")
    target.close()


def test_a_run_that_cannot_be_recorded_says_what_it_committed_and_published(tmp_path, monkeypatch):
    """DuckDB refusing to commit the record (a folder it cannot write its log in) printed only
    "DuckDB: TransactionContext Error: Failed to commit: ...", after the build had committed and
    the site been published; and a successful run is not notified, so nobody was told."""
    from ecom import run as morning

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    why = 'TransactionContext Error: Failed to commit: Cannot open file "ecom.duckdb.wal": Permission denied'

    def refused(*args, **kwargs):
        raise duckdb.TransactionException(why)

    monkeypatch.setattr(morning, "append", refused)
    sent = []
    monkeypatch.setattr(morning, "notify", lambda url, text: sent.append(text))
    result = ecom(tmp_path, "run", "--publish", "site", "--notify", "http://127.0.0.1:9/hook")
    assert result.exit_code == 1 and "Traceback" not in result.output
    [said] = [line for line in result.stderr.splitlines() if line.strip()]
    assert said.startswith(f"error: ecom run on duckdb main in {tmp_path / 'ecom.duckdb'}: success (as_of ")
    assert said.endswith(
        f"; published to site; but the run could not be recorded ({why}), so `ecom runs` does not list it: "
        "fix that before the next run"
    )
    assert sent[-1] == said.removeprefix("error: ")  # after the notification of marketing_spend's age
    assert (tmp_path / "site" / "index.html").exists()
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.exists("fact_daily_pnl") and not target.exists(RUNS_TABLE)
    target.close()


def test_a_bug_while_recording_a_run_is_shown_whole(tmp_path, monkeypatch):
    """Only the target's refusals are "could not be recorded": any error while recording was worded
    so, a bug in ecom's code too, whose traceback was then lost."""
    from ecom import run as morning

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")

    def broken(*args, **kwargs):
        raise KeyError("started_at")

    monkeypatch.setattr(morning, "append", broken)
    result = ecom(tmp_path, "run", "--publish", "site")
    assert isinstance(result.exception, KeyError) and "could not be recorded" not in result.output


def test_a_publish_folder_in_a_folder_that_cannot_be_written_is_refused_before_the_build(tmp_path, monkeypatch):
    """The new site is made beside the folder and renamed over it: a parent that cannot be written
    was found after the build. Root writes through permissions: the refusal a read-only mount gives."""

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    parent = tmp_path / "www"
    parent.mkdir()
    make_file = tempfile.TemporaryFile

    def refused(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == parent:
            raise PermissionError(errno.EACCES, "Permission denied", str(parent))
        return make_file(*args, dir=dir, **kwargs)

    if os.geteuid() == 0:
        monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    else:
        parent.chmod(0o555)
    try:
        result = ecom(tmp_path, "run", "--publish", "www/site")
    finally:
        parent.chmod(0o755)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == (
        f"error: cannot publish to www/site: {parent} cannot be written (Permission denied); nothing was replaced"
    )
    assert list(parent.iterdir()) == []
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert not target.exists("fact_daily_pnl")
    target.close()


def test_a_publish_folder_whose_name_is_not_utf8_is_refused_before_the_build(tmp_path, monkeypatch):
    """The run built and published, then failed to record the folder's name (Arrow encodes UTF-8 only)
    in a UnicodeEncodeError traceback."""
    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    site = os.fsdecode(b"caf\xe9")
    result = ecom(tmp_path, "run", "--publish", site)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip() == (
        "error: cannot publish to caf\\xe9: its name is not UTF-8, which the run's record cannot hold: "
        "give another folder; nothing was replaced"
    )
    assert not (tmp_path / site).exists()
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert not target.exists("fact_daily_pnl")
    target.close()


@pytest.mark.parametrize("during", ["the data tests", "the record of failed tests"])
def test_ctrl_c_before_the_build_commits_says_nothing_was_committed(tmp_path, monkeypatch, during):
    """The data tests run inside the build's transaction: a Ctrl-C during them, or after they failed
    (the build rolled back) while the run is recorded, leaves no model built. It said the build was
    saved when its tests ran after the commit."""
    from ecom import run as morning
    from ecom.core import engine

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    if during == "the data tests":
        monkeypatch.setattr(engine, "run_tests", interrupted)
    else:
        monkeypatch.setattr(engine, "run_tests", lambda *args, **kwargs: [engine.TestResult("a_test", "fail", 1)])
        monkeypatch.setattr(morning, "append", interrupted)
    result = ecom(tmp_path, "run", "--publish", str(tmp_path / "site"))
    assert result.exit_code == 130 and result.stderr.splitlines() == [
        "interrupted: nothing was committed, existing tables and files are as they were"
    ], result.output
    assert not (tmp_path / "site").exists()
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert not target.exists("fact_daily_pnl") and not target.exists(RUNS_TABLE)
    target.close()


@pytest.mark.parametrize("during", ["the build's commit", "the publishing", "the record"])
def test_ctrl_c_after_the_build_says_the_build_is_saved(tmp_path, monkeypatch, during):
    from ecom import run as morning
    from ecom.core import engine

    monkeypatch.chdir(tmp_path)
    load(tmp_path, FIXTURES / "attribution")
    build = engine.build

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def commit_interrupted(*args, **kwargs):  # what DuckDBTarget.transaction raises for a held Ctrl-C
        build(*args, **kwargs)
        raise InterruptedAfterCommit

    if during == "the publishing":
        monkeypatch.setattr(morning, "publish", interrupted)
    elif during == "the record":
        monkeypatch.setattr(morning, "append", interrupted)
    else:  # the data tests ran inside the build, before its commit
        monkeypatch.setattr(engine, "build", commit_interrupted)
    result = ecom(tmp_path, "run", "--publish", str(tmp_path / "site"))
    # it said "the rest of the output was skipped", as if only printing had been left undone (so it
    # still did of a Ctrl-C while the run was recorded); and it named the data tests after they had run
    undone = {"the record": "its record in `ecom runs`"}.get(
        during, f"the publishing to {tmp_path / 'site'}, its record in `ecom runs`"
    )
    assert result.exit_code == 130 and result.stderr.splitlines() == [
        f"interrupted after the commit completed: the new data is saved; the run did not finish ({undone}): "
        "run `ecom run` again"
    ], result.output
    assert (tmp_path / "site").exists() is (during == "the record")
    target = DuckDBTarget(tmp_path / "ecom.duckdb", create=False)
    assert target.exists("fact_daily_pnl")  # built and committed before the interruption
    target.close()
