"""`ecom spend`: marketing_spend calibrated to the raw events already in a target.

Sessions are counted in the target by hand-checkable rules, the rows come from ecom.data.calibration
(the recipe `ecom generate` uses), errors are one line with nothing written, the emulator gives
DuckDB's rows, and on Google's own thelook sample the whole chain builds and orders platform ROAS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import os
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import Result

from ecom.core import engine
from ecom.core.sources import RAW_SCHEMAS
from ecom.data import calibration
from ecom.data.load import read_folder
from ecom.data.spend import from_events, session_counts
from ecom.targets.duckdb import DuckDBTarget
from tests.bq_emulator import Emulator, drop_datasets, tiny_raw
from tests.conftest import invoke

# google-cloud-bigquery deprecates reading Arrow straight from the Storage API (ibis 12 does it)
pytestmark = pytest.mark.filterwarnings("ignore:Retrieving Arrow record batches directly:PendingDeprecationWarning")
THELOOK_SAMPLE = Path(os.environ.get("ECOM_THELOOK_SAMPLE", "no-thelook-sample"))


def _events(rows: list[tuple[str | None, str, str | None]]) -> pa.Table:
    """Events from (session_id, created_at, traffic_source); the other columns NULL."""
    schema = RAW_SCHEMAS["events"].to_pyarrow()
    data = {f.name: [None] * len(rows) for f in schema}
    data["id"] = list(range(1, len(rows) + 1))
    data["session_id"] = [r[0] for r in rows]
    data["created_at"] = [dt.datetime.fromisoformat(r[1]).replace(tzinfo=dt.UTC) for r in rows]
    data["traffic_source"] = [r[2] for r in rows]
    return pa.table(data, schema=schema)


# s1 starts 01-01 23:50 and runs past midnight: it counts on 01-01 only. 01-02 has only an Organic
# session, 01-04 no event at all, 01-05 an Email session; the NULL session_id is no session.
EVENTS = [
    ("s1", "2024-01-01 23:50:00", "Adwords"),
    ("s1", "2024-01-02 00:10:00", "Adwords"),
    ("s2", "2024-01-01 08:00:00", "Adwords"),
    ("s3", "2024-01-01 09:00:00", "Email"),
    ("s4", "2024-01-02 12:00:00", "Organic"),
    ("s5", "2024-01-03 12:00:00", "Facebook"),
    ("s6", "2024-01-05 07:00:00", "Email"),
    (None, "2024-01-06 07:00:00", "Email"),
]


def _duck(tmp_path: Path, events: pa.Table) -> DuckDBTarget:
    target = DuckDBTarget(tmp_path / "ecom.duckdb")
    target.write_raw({**tiny_raw(), "events": events})
    return target


def test_sessions_are_counted_per_start_date_and_source(tmp_path):
    target = _duck(tmp_path, _events(EVENTS))
    got = session_counts(target).to_pylist()
    d = dt.date
    assert got == [
        {"date": d(2024, 1, 1), "source": "Adwords", "sessions": 2},
        {"date": d(2024, 1, 1), "source": "Email", "sessions": 1},
        {"date": d(2024, 1, 2), "source": "Organic", "sessions": 1},
        {"date": d(2024, 1, 3), "source": "Facebook", "sessions": 1},
        {"date": d(2024, 1, 5), "source": "Email", "sessions": 1},
    ]
    spend = from_events(target, seed=3)
    # the calibration over the sessions counted by hand (Google, Facebook, YouTube, Email x 5 days),
    # keeping only the days with events (not 2024-01-04)
    by_hand = np.zeros((5, 4), np.int64)
    by_hand[0] = [2, 0, 0, 1]
    by_hand[2] = [0, 1, 0, 0]
    by_hand[4] = [0, 0, 0, 1]
    expected = calibration.marketing_spend(by_hand, d(2024, 1, 1), 3)
    expected = expected.filter(pa.compute.not_equal(expected["date"], pa.scalar(d(2024, 1, 4))))
    assert spend.equals(expected)
    dates = set(spend["date"].to_pylist())
    assert dates == {d(2024, 1, 1), d(2024, 1, 2), d(2024, 1, 3), d(2024, 1, 5)}
    keys = list(zip(*(spend[c].to_pylist() for c in ("date", "platform", "campaign_id")), strict=True))
    assert len(keys) == len(set(keys))
    assert set(spend["platform"].to_pylist()) == {"Google", "Facebook", "YouTube", "Email"}
    # clicks only where the platform's source had sessions (YouTube had none)
    clicks = {}
    for r in spend.to_pylist():
        clicks[r["platform"]] = clicks.get(r["platform"], 0) + (r["clicks"] or 0)
    assert clicks["YouTube"] == 0
    # deterministic from the seed; another seed gives other rows
    assert from_events(target, seed=3).equals(spend)
    assert not from_events(target, seed=4).equals(spend)


def _cli(*args: str, cwd: Path) -> Result:
    """`ecom ARGS` in-process, from `cwd`, on its ecom.duckdb."""
    done = invoke(*args, env={"ECOM_DUCKDB_PATH": str(cwd / "ecom.duckdb")}, cwd=cwd)
    gc.collect()  # its connections closed: the file may be opened read-only next
    return done


def _spend_hash(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.sql("select * from raw.marketing_spend order by all").fetchall()
    finally:
        con.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "error: no events in raw.events: marketing_spend follows the sessions of the raw events"),
        (
            [("s1", "2024-01-01 10:00:00", "Organic"), ("s2", "2024-01-01 11:00:00", None)],
            "error: the events in raw.events have no session from the traffic sources Adwords, Facebook, "
            "YouTube, Email",
        ),
    ],
)
def test_nothing_to_follow_is_one_line_and_writes_nothing(tmp_path, events, message):
    _duck(tmp_path, _events(events)).close()
    before = _spend_hash(tmp_path / "ecom.duckdb")
    done = _cli("spend", "--replace", cwd=tmp_path)
    assert done.exit_code == 1
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _spend_hash(tmp_path / "ecom.duckdb") == before
    # the way out it names (an export with no paid sessions, where the build asks for `ecom spend`):
    # a marketing_spend.csv of its header alone loads an empty table the source contract accepts
    assert done.stderr.rstrip().endswith(
        "or load a marketing_spend of your own (a marketing_spend.csv of its header alone is none)"
    )
    folder = tmp_path / "export"  # the export the database was loaded from, marketing_spend added
    folder.mkdir()
    for table, rows in {**tiny_raw(), "events": _events(events)}.items():
        if table != "marketing_spend":
            pq.write_table(rows, folder / f"{table}.parquet")
    (folder / "marketing_spend.csv").write_text(",".join(RAW_SCHEMAS["marketing_spend"].names) + "\n")
    # --allow-empty: this database's marketing_spend has rows, which the empty file replaces
    loaded = _cli("load", str(folder), "--allow-empty", cwd=tmp_path)
    assert loaded.exit_code == 0, loaded.stderr
    con = duckdb.connect(str(tmp_path / "ecom.duckdb"), read_only=True)
    try:
        assert con.sql("select count(*) from raw.marketing_spend").fetchone() == (0,)
    finally:
        con.close()
    with contextlib.closing(DuckDBTarget(tmp_path / "ecom.duckdb")) as target:
        engine.validate_sources(target)  # the build's check: no "expected a table, found none"
        engine.validate_values(target, RAW_SCHEMAS)  # and no value problem in the empty table


def test_events_without_a_contract_column_say_that_spend_was_not_written(tmp_path):
    """The build's closing line ('no model was run') told nothing about what spend did not do."""
    target = _duck(tmp_path, _events(EVENTS))
    target.con.raw_sql("ALTER TABLE raw.events DROP COLUMN traffic_source")
    target.close()
    before = _spend_hash(tmp_path / "ecom.duckdb")
    done = _cli("spend", "--replace", cwd=tmp_path)
    assert done.exit_code == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: The raw data in duckdb raw in ") and lines[0].endswith("(1 problem):")
    assert lines[1:] == [
        "  - events.traffic_source: expected string, found no such column",
        "Fix the events; marketing_spend was not written.",
    ]
    assert _spend_hash(tmp_path / "ecom.duckdb") == before


def test_without_a_database_spend_says_to_load_first_and_makes_no_file(tmp_path):
    """It created an empty ecom.duckdb and answered 'events: expected a table, found none'; the
    build after it then found a database and no longer said to load or generate first."""
    done = _cli("spend", cwd=tmp_path)
    assert (done.exit_code, done.stderr) == (
        1,
        f"error: no DuckDB database at {tmp_path / 'ecom.duckdb'}: run `ecom generate` or `ecom load FOLDER` first\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_a_negative_seed_is_one_line_before_the_target_is_opened(tmp_path):
    """numpy refused it deep in the calibration: a traceback ending in 'expected non-negative integer'."""
    _duck(tmp_path, _events(EVENTS)).close()
    before = _spend_hash(tmp_path / "ecom.duckdb")
    done = _cli("spend", "--replace", "--seed", "-3", cwd=tmp_path)
    assert (done.exit_code, done.stderr) == (1, "error: --seed must be a non-negative whole number, not -3\n")
    assert _spend_hash(tmp_path / "ecom.duckdb") == before


def test_an_existing_table_needs_replace(tmp_path):
    _duck(tmp_path, _events(EVENTS)).close()
    before = _spend_hash(tmp_path / "ecom.duckdb")
    done = _cli("spend", cwd=tmp_path)
    assert (done.exit_code, done.stderr) == (1, "error: raw.marketing_spend exists: pass --replace to replace it\n")
    assert _spend_hash(tmp_path / "ecom.duckdb") == before
    done = _cli("spend", "--replace", "--seed", "3", cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    target = DuckDBTarget(tmp_path / "ecom.duckdb")
    assert target.source("marketing_spend").to_pyarrow().equals(from_events(target, 3))


@pytest.mark.emulator
def test_the_emulator_gives_duckdbs_rows(bq_emulator: Emulator, tmp_path):
    raw = tiny_raw()
    duck = DuckDBTarget(tmp_path / "ecom.duckdb")
    duck.write_raw(raw)
    bq = bq_emulator.target(dataset="spend_models", raw_dataset="spend_raw", sources={"marketing_spend": "spend_out"})
    bq.write_raw({"events": raw["events"]})
    ours = from_events(duck, seed=11)
    assert ours.num_rows > 0
    assert session_counts(bq).equals(session_counts(duck))
    assert from_events(bq, seed=11).equals(ours)
    # written beside, per the per-source dataset; read back row for row
    bq.write_raw({"marketing_spend": ours})
    theirs = (
        bq.source("marketing_spend")
        .to_pyarrow()
        .sort_by([("date", "ascending"), ("platform", "ascending"), ("campaign_id", "ascending")])
    )
    assert (
        theirs.to_pylist()
        == ours.sort_by([("date", "ascending"), ("platform", "ascending"), ("campaign_id", "ascending")]).to_pylist()
    )
    drop_datasets(bq, "spend_models", "spend_raw", "spend_out")


def test_thelook_sample_spend_builds_tests_and_orders_roas(tmp_path):
    """`ecom load`, `ecom spend --replace`, `ecom build`, `ecom test` on Google's own thelook sample."""
    if not (THELOOK_SAMPLE / "events.parquet").exists():
        pytest.skip(f"{THELOOK_SAMPLE}/events.parquet is not here: set ECOM_THELOOK_SAMPLE to a thelook export")
    for step in (("load", str(THELOOK_SAMPLE)), ("spend", "--replace"), ("build",), ("test",)):
        done = _cli(*step, cwd=tmp_path)
        assert done.exit_code == 0, (step, done.stderr[-2000:])
    con = duckdb.connect(str(tmp_path / "ecom.duckdb"), read_only=True)
    events = read_folder(THELOOK_SAMPLE)["events"]
    first_event = pa.compute.min(events["created_at"]).as_py().date()
    last_event = pa.compute.max(events["created_at"]).as_py().date()
    lo, hi, rows, keys = con.sql(
        "select min(date), max(date), count(*), count(distinct (date, platform, campaign_id)) from raw.marketing_spend"
    ).fetchone()
    assert first_event <= lo <= hi <= last_event
    assert rows == keys
    roas = dict(
        con.sql(
            "select platform, sum(attributed_revenue) / sum(spend) from main.fact_campaign_performance group by all"
        ).fetchall()
    )
    revenue = dict(
        con.sql("select platform, sum(attributed_revenue) from main.fact_campaign_performance group by all").fetchall()
    )
    assert all(revenue[p.name] > 0 for p in calibration.PLATFORMS), revenue
    assert roas["Email"] > roas["Google"] > roas["YouTube"] > roas["Facebook"], roas
