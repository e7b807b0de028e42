"""Incremental builds: a full build at A then an incremental one at B gives exactly a full build at B.

The raw data is random and small: visitors' event chains placed around the boundary (sessions that
cross it, long sessions spanning days), events that arrive late (created by A, loaded after the
build at A), orders whose attributing session precedes the boundary.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import engine, incremental
from ecom.core.engine import build, target_vars
from ecom.core.registry import Project, ProjectError, model
from ecom.core.sources import RAW_SCHEMAS
from ecom.data.load import read_folder
from ecom.targets.duckdb import DuckDBTarget
from tests.bq_emulator import drop_datasets, queries_sent

FIXTURE = Path(__file__).parent.parent / "fixtures" / "marketing"  # users 1-9, products 1-2
CHAIN = ("stg_events", "int_web_sessions", "fact_session_metrics")
COMPARED = (*CHAIN, "int_campaign_attribution")
KEYS = {
    "stg_events": "event_id",
    "int_web_sessions": "event_id",
    "fact_session_metrics": "session_id",
    "int_campaign_attribution": "order_id",
}
VISITORS = [(1, None), (2, "10.0.0.1"), (3, None), (None, "10.0.0.1"), (None, "10.0.0.2"), (None, None)]
# gaps between a visitor's consecutive events, in seconds: the timeout (30 min) exactly and around it
GAPS = [0, 60, 29 * 60, 30 * 60, 30 * 60 + 1, 2 * 3600, 26 * 3600]
FIRST_A = dt.date(2024, 2, 1)


def utc(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


@st.composite
def scenarios(draw):
    """(as_of A, as_of B, raw tables at A, raw tables at B)."""
    a = FIRST_A + dt.timedelta(days=draw(st.integers(0, 20)))
    b = a + dt.timedelta(days=draw(st.sampled_from([1, 1, 2, 7, 60])))
    events, late = [], []
    for _ in range(draw(st.integers(1, 6))):
        user_id, ip = draw(st.sampled_from(VISITORS))
        # most chains start within a few hours of A's midnight, some days before or after it
        start = utc(a + dt.timedelta(days=1), draw(st.integers(-7200, 7200) | st.integers(-3 * 86400, 2 * 86400)))
        for _ in range(draw(st.integers(1, 6))):
            start += dt.timedelta(seconds=draw(st.sampled_from(GAPS)))
            event = {
                "id": len(events) + 1,
                "user_id": user_id,
                "ip_address": ip,
                "created_at": start,
                "event_type": draw(st.sampled_from(["home", "product", "cart", "purchase"])),
                "traffic_source": draw(st.sampled_from(["Adwords", "Facebook", "Organic", None])),
                "uri": "/",
                "browser": "Chrome",
            }
            events.append(event)
            # a few events are late, so that most examples also carry numbering across the boundary
            late.append(start < utc(a + dt.timedelta(days=1), 0) and draw(st.sampled_from([False] * 5 + [True])))
    orders, items = [], []
    for i in range(1, draw(st.integers(0, 4)) + 1):
        ordered_at = utc(a + dt.timedelta(days=1), draw(st.integers(-30 * 3600, 30 * 3600)))
        user_id = draw(st.sampled_from([1, 2, 3]))
        orders.append({"order_id": i, "user_id": user_id, "status": "Complete", "created_at": ordered_at})
        items.append({"id": i, "order_id": i, "user_id": user_id, "product_id": 1, "status": "Complete"})
        items[-1].update(created_at=ordered_at, sale_price=50.0)
    spend = [
        {"date": a + dt.timedelta(days=d), "campaign_id": c, "platform": "Google", "spend": 1.0, "clicks": k}
        for d in (0, 1)
        for c, k in (("g1", 5), ("g2", draw(st.integers(4, 6))))
    ]
    at_b = {
        "events": events,
        "orders": orders,
        "order_items": items,
        "marketing_spend": spend,
    }
    at_a = {**at_b, "events": [e for e, is_late in zip(events, late, strict=True) if not is_late]}
    return a, b, tables(at_a), tables(at_b)


@functools.cache
def fixture_tables() -> dict[str, pa.Table]:
    """fixtures/marketing, read once (a quarter second: twice per Hypothesis example otherwise)."""
    return read_folder(FIXTURE)


def tables(rows: dict[str, list[dict]]) -> dict[str, pa.Table]:
    base = dict(fixture_tables())  # Arrow tables are immutable: only the dict is copied
    for name, given_rows in rows.items():
        full = [{c: r.get(c) for c in RAW_SCHEMAS[name]} for r in given_rows]
        base[name] = pa.Table.from_pylist(full, schema=RAW_SCHEMAS[name].to_pyarrow())
    return base


def contents(target) -> dict[str, list[dict]]:
    """Each compared model's rows, sorted by its key."""
    return {m: sorted(target.table(m).to_pyarrow().to_pylist(), key=lambda r: r[KEYS[m]]) for m in COMPARED}


def notes(results) -> dict[str, str]:
    return {r.name: r.note for r in results if r.name in CHAIN}


def run(project, path: Path, raw: dict[str, pa.Table], values: dict, **options):
    target = DuckDBTarget(path)
    try:
        target.write_raw(raw)
        selected = project.select(["+int_campaign_attribution"])
        results = build(project, target, selected, target_vars(project, target, values), **options)
        return results, contents(target)
    finally:
        target.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_incremental_build_equals_a_full_build(project, scenario):
    a, b, raw_a, raw_b = scenario
    with tempfile.TemporaryDirectory() as tmp:
        run(project, Path(tmp) / "incr.duckdb", raw_a, {"as_of": a})
        results, got = run(project, Path(tmp) / "incr.duckdb", raw_b, {"as_of": b})
        _, expected = run(project, Path(tmp) / "full.duckdb", raw_b, {"as_of": b})
    assert all(n.startswith("incremental") for n in notes(results).values()), notes(results)
    assert got == expected


def test_late_events_and_a_session_across_the_boundary(project, tmp_path):
    """By hand: u1 browses 23:50 on A and 00:10 on A + 1 (one session); a late event of u1 at 23:00
    on A, loaded after the build at A, starts u1's first session; an event 2 h later continues."""
    a = FIRST_A

    def event(i: int, at: dt.datetime) -> dict:
        return {"id": i, "user_id": 1, "created_at": at, "event_type": "home", "uri": "/"}

    day_b = a + dt.timedelta(days=1)
    on_a = [event(1, utc(day_b, -600))]
    late = [event(3, utc(day_b, -3600))]
    on_b = [event(2, utc(day_b, 600)), event(4, utc(day_b, 2 * 3600 + 600))]
    run(project, tmp_path / "db.duckdb", tables({"events": on_a}), {"as_of": a})
    results, got = run(project, tmp_path / "db.duckdb", tables({"events": on_a + late + on_b}), {"as_of": day_b})
    # the late event is on A: every model is recomputed from A
    assert notes(results) == dict.fromkeys(CHAIN, f"incremental from {a}")
    sessions = {r["event_id"]: (r["session_id"], r["is_session_start"]) for r in got["int_web_sessions"]}
    # 22:50 -> 23:50 is 60 min: a new session; 23:50 -> 00:10 is 20 min; 00:10 -> 02:10 is 2 h
    assert sessions == {3: ("u1-1", True), 1: ("u1-2", True), 2: ("u1-2", False), 4: ("u1-3", True)}
    spans = {r["session_id"]: (r["session_date"], r["event_count"]) for r in got["fact_session_metrics"]}
    assert spans == {"u1-1": (a, 1), "u1-2": (a, 2), "u1-3": (day_b, 1)}


def test_a_session_across_the_boundary_keeps_its_number(project, tmp_path):
    """u1: 23:50 on A (session 2 after one at 12:00), 00:10 on A + 1 continues it (20 min), 01:00
    starts session 3 (50 min): the session crossing midnight is replaced from A, where it starts."""
    a, b = FIRST_A, FIRST_A + dt.timedelta(days=1)
    times = {1: utc(a, 12 * 3600), 2: utc(b, -600), 3: utc(b, 600), 4: utc(b, 3600)}
    events = [{"id": i, "user_id": 1, "created_at": at} for i, at in times.items()]
    run(project, tmp_path / "db.duckdb", tables({"events": events}), {"as_of": a})
    results, got = run(project, tmp_path / "db.duckdb", tables({"events": events}), {"as_of": b})
    assert notes(results) == {
        "stg_events": f"incremental from {b}",
        "int_web_sessions": f"incremental from {b}",
        "fact_session_metrics": f"incremental from {a}",
    }
    sessions = {r["event_id"]: (r["session_id"], r["is_session_start"]) for r in got["int_web_sessions"]}
    assert sessions == {1: ("u1-1", True), 2: ("u1-2", True), 3: ("u1-2", False), 4: ("u1-3", True)}
    spans = {r["session_id"]: (r["session_date"], r["event_count"]) for r in got["fact_session_metrics"]}
    assert spans == {"u1-1": (a, 1), "u1-2": (a, 2), "u1-3": (b, 1)}


def test_nothing_new_replaces_nothing(project, tmp_path):
    raw = tables({"events": [{"id": 1, "user_id": 1, "created_at": utc(FIRST_A, 3600)}]})
    run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A})
    results, got = run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A + dt.timedelta(days=1)})
    later = FIRST_A + dt.timedelta(days=1)
    assert notes(results) == dict.fromkeys(CHAIN, f"incremental: nothing changed up to {later}")
    assert [r["event_id"] for r in got["stg_events"]] == [1]


def test_a_var_that_changes_past_rows_rebuilds_in_full(project, tmp_path):
    raw = tables(
        {
            "events": [
                {"id": 1, "user_id": 1, "created_at": utc(FIRST_A, 0)},
                {"id": 2, "user_id": 1, "created_at": utc(FIRST_A, 40 * 60)},  # 40 min later
            ]
        }
    )
    b = FIRST_A + dt.timedelta(days=3)
    run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A})
    results, got = run(project, tmp_path / "db.duckdb", raw, {"as_of": b, "session_timeout_minutes": 45})
    assert notes(results) == {
        "stg_events": f"incremental: nothing changed up to {b}",
        "int_web_sessions": "full: session_timeout_minutes changed since the last build",
        "fact_session_metrics": "full: session_timeout_minutes changed since the last build",  # its upstream's
    }
    assert [r["session_id"] for r in got["int_web_sessions"]] == ["u1-1", "u1-1"]  # 40 min ≤ 45
    results, _ = run(project, tmp_path / "db.duckdb", raw, {"as_of": b, "session_timeout_minutes": 45})
    assert set(notes(results).values()) == {f"incremental: nothing changed up to {b}"}
    results, _ = run(project, tmp_path / "db.duckdb", raw, {"as_of": b}, full_refresh=True)
    assert set(notes(results).values()) == {"full: --full-refresh"}


def test_a_new_visitor_salt_rebuilds_the_chain_in_full(project, tmp_path):
    raw = tables({"events": [{"id": 1, "ip_address": "10.0.0.9", "created_at": utc(FIRST_A, 0)}]})
    run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A})
    results, got = run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A, "visitor_salt": "pepper"})
    assert set(notes(results).values()) == {"full: visitor_salt changed since the last build"}
    hashed = hashlib.sha256(b"pepper10.0.0.9").hexdigest()[:16]
    assert [r["visitor_id"] for r in got["int_web_sessions"]] == ["a" + hashed]


def test_a_model_built_apart_from_its_upstream_rebuilds_in_full(project, tmp_path):
    raw = tables({"events": [{"id": 1, "user_id": 1, "created_at": utc(FIRST_A, 0)}]})
    run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A})
    target = DuckDBTarget(tmp_path / "db.duckdb")
    values = target_vars(project, target, {"as_of": FIRST_A})
    build(project, target, ["stg_events"], values)
    results = build(project, target, list(CHAIN), values)
    assert notes(results)["int_web_sessions"] == "full: stg_events was last built in another build"
    target.close()


@pytest.mark.parametrize("full_refresh", [False, True])
def test_a_model_selected_without_its_upstream_rebuilds_in_full_from_the_built_one(project, tmp_path, full_refresh):
    """`--select marts`: fact_session_metrics reads int_web_sessions as built, whole."""
    raw = tables({"events": [{"id": 1, "user_id": 1, "created_at": utc(FIRST_A, 0)}]})
    _, before = run(project, tmp_path / "db.duckdb", raw, {"as_of": FIRST_A})
    target = DuckDBTarget(tmp_path / "db.duckdb")
    values = target_vars(project, target, {"as_of": FIRST_A})
    [result] = build(project, target, ["fact_session_metrics"], values, full_refresh=full_refresh)
    assert result.note == (
        "full: --full-refresh" if full_refresh else "full: int_web_sessions is not built in this build"
    )
    assert contents(target) == before
    target.close()


def test_cli_full_refresh_and_ls_show_the_state(tmp_path):
    target = DuckDBTarget(tmp_path / "db.duckdb")
    target.write_raw(tables({"events": [{"id": 1, "user_id": 1, "created_at": utc(FIRST_A, 0)}]}))
    target.close()
    runner = CliRunner(env={"COLUMNS": "250"})
    where = ["--path", str(tmp_path / "db.duckdb"), "--vars", f"as_of={FIRST_A}", "--select", "+fact_session_metrics"]

    def last_built(model: str) -> str:  # the column headed "last built"
        listing = runner.invoke(app, ["ls", "--path", str(tmp_path / "db.duckdb"), "--select", model])
        assert listing.exit_code == 0, listing.output
        return next(line for line in listing.output.splitlines() if line.startswith(f"│ {model} ")).split("│")[-2]

    first = runner.invoke(app, ["build", *where])
    assert first.exit_code == 0 and "no previous build" in first.output
    started = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    again = runner.invoke(app, ["build", *where, "--full-refresh"])
    assert again.exit_code == 0 and "--full-refresh" in again.output
    # when it was built (the minute the build started, UTC) and its one event's row
    when, rest = last_built("stg_events").strip().split(" UTC, ")
    assert started <= dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC) <= dt.datetime.now(dt.UTC)
    assert rest == f"1 row; as_of {FIRST_A}, full"
    assert last_built("int_orders").strip() == ""  # not built by these builds
    # a build with no changed day says so, in the build's table and in the list
    assert runner.invoke(app, ["build", *where]).exit_code == 0
    assert last_built("stg_events").split(" UTC, ")[1].strip() == (
        f"1 row; as_of {FIRST_A}, incremental: nothing changed up to {FIRST_A}"
    )


def test_ls_says_why_last_built_is_empty_when_the_database_is_held(tmp_path):
    """A database locked by another process lists like one never built: the note says which it is."""
    db = tmp_path / "db.duckdb"
    DuckDBTarget(db).close()
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"open"
        listing = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["ls", "--path", str(db), "--select", "stg_events"])
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert listing.exit_code == 0 and "Traceback" not in listing.output
    assert listing.stderr == (
        f'note: the "last built" column is empty: {db} is in use by another process (another ecom or duckdb '
        "session holds its lock): close it or wait for it to finish, then retry\n"
    )


def test_state_keeps_hashes_of_the_vars_that_change_past_rows(project):
    values = {"session_timeout_minutes": 30, "visitor_salt": "pepper", "as_of": FIRST_A}
    digest = incremental.vars_digest(project, "int_web_sessions", values)
    assert json.loads(digest) == {
        "session_timeout_minutes": hashlib.sha256(b"30").hexdigest()[:16],
        "visitor_salt": hashlib.sha256(b"pepper").hexdigest()[:16],
    }


@pytest.mark.parametrize("materialized", ["incremental", {"duckdb": "incremental"}])
def test_an_incremental_model_needs_a_date_partition(materialized):
    # incremental on one target only was accepted, and its build replaced the partitions of None
    with pytest.raises(ValueError, match="replaces partitions: give partition_by"):
        model(key="id", materialized=materialized)


@pytest.mark.parametrize(
    ("change", "target"),
    # a table on one target only: it was accepted
    [({"materialized": "table"}, "duckdb"), ({"materialized_on": {"bigquery": "table"}}, "bigquery")],
)
def test_an_incremental_model_reads_only_incremental_models(project, change, target):
    models = {**project.models, "int_web_sessions": replace(project.models["int_web_sessions"], **change)}
    with pytest.raises(ProjectError, match=f"fact_session_metrics is incremental on {target} but reads int_web"):
        Project.from_parts(models, {}, project.vars)


# -- BigQuery, on the local emulator -----------------------------------------------------------------

EMULATOR_BUILDS = itertools.count()


@pytest.mark.emulator
@pytest.mark.xdist_group("incremental-on-bigquery")  # beside the module's tests (tests/conftest.py)
# one example: the property is searched on DuckDB above (12 examples); here one random example
# proves the BigQuery target's side of it (~25 s of emulator work per example, two builds)
@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_incremental_build_on_bigquery_equals_a_full_build(project, bq_emulator, scenario):
    """Smaller: the same property through the BigQuery target (DELETE + INSERT script), against a
    full DuckDB build at B (the dialects agree: test_bigquery)."""
    a, b, raw_a, raw_b = scenario
    n = next(EMULATOR_BUILDS)
    bq = bq_emulator.target(dataset=f"incr_{n}", raw_dataset=f"incr_raw_{n}")
    selected = project.select(["+int_campaign_attribution"])
    # B's raw tables are A's but for the late events: only the tables that differ are uploaded again
    # (each upload is a load, a copy and a delete job per table on the emulator)
    for raw, as_of in ((raw_a, a), ({t: data for t, data in raw_b.items() if not data.equals(raw_a[t])}, b)):
        bq.write_raw(raw)
        results = build(project, bq, selected, target_vars(project, bq, {"as_of": as_of}))
    assert all(n.startswith("incremental") for n in notes(results).values()), notes(results)
    with tempfile.TemporaryDirectory() as tmp:
        _, expected = run(project, Path(tmp) / "full.duckdb", raw_b, {"as_of": b})
    assert contents(bq) == expected
    # a dry run plans the next build (as_of B again, nothing new) without writing: a query per model
    since = dt.datetime.now(dt.UTC)
    values = target_vars(project, bq, {"as_of": b})
    plans = engine.incremental_plans(project, bq, engine.dry_run_plan(project, bq, selected, values), values, False)
    assert set(plans) == set(CHAIN)
    for name, (how, rows) in plans.items():
        assert how == f"incremental: nothing changed up to {b}" and bq.dry_run(project.models[name], rows) >= 0
    # nothing written: every job but the dry runs a query that reads (a write is a DELETE, INSERT or
    # CREATE, which rewriting the same rows would be too, leaving the contents as they were)
    sent = queries_sent(bq.client, since)
    assert sent and all(isinstance(q, exp.Query) for q in sent), [q.sql() for q in sent]
    drop_datasets(bq, f"incr_{n}", f"incr_raw_{n}")
    bq.close()
