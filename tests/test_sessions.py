"""int_web_sessions and fact_session_metrics (docs/contract.md#int_web_sessions,
#fact_session_metrics) on hand-made events.

Every case runs twice: natively on DuckDB, and as the model's BigQuery SQL transpiled by sqlglot to
DuckDB, so the timing edge cases (exactly 30:00, 30:00.000001, minute boundaries) are shown to agree
across dialects. Expectations are computed by hand, arithmetic in the comments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecom.core.engine import generic_tests, singular_tests
from ecom.core.sources import RAW_SCHEMAS
from marts._common import platform_of
from marts.sessions import (
    fact_session_metrics,
    int_web_sessions,
    session_event_count_matches_events,
    session_gaps_within_timeout,
)
from marts.staging import stg_events
from tests.conftest import PROJECT, build_scenario, memory_target, run_both, ts

AS_OF = dt.date(2024, 12, 31)
UTC = dt.UTC
EVENTS = RAW_SCHEMAS["events"]
# fixtures/sessions/vars.yml's visitor_salt: anonymous visitors are 'a' || the first 16 hex of
# SHA-256(salt || ip)
SALT = "s3cret"


def a(ip: str) -> str:
    """The anonymous visitor of an IP address (docs/contract.md#int_web_sessions), by hashlib."""
    return "a" + hashlib.sha256((SALT + ip).encode()).hexdigest()[:16]


def ev(
    event_id: int,
    created_at: str | dt.datetime,
    user_id: int | None = None,
    ip: str | None = None,
    event_type: str = "home",
    traffic_source: str | None = "Organic",
    uri: str | None = None,
    browser: str | None = "Chrome",
) -> dict:
    return {
        "id": event_id,
        "user_id": user_id,
        "created_at": ts(created_at) if isinstance(created_at, str) else created_at,
        "ip_address": ip,
        "event_type": event_type,
        "traffic_source": traffic_source,
        "uri": uri if uri is not None else f"/page/{event_id}",
        "browser": browser,
    }


def raw_events(rows: list[dict]) -> pa.Table:
    full = [{c: r.get(c) for c in EVENTS} for r in rows]
    return pa.Table.from_pylist(full, schema=EVENTS.to_pyarrow())


@pytest.fixture(scope="module")
def con():
    target = memory_target()  # TimeZone = UTC
    yield target.con
    target.close()


def models(events: ir.Table, timeout: int) -> tuple[ir.Table, ir.Table]:
    sessions = int_web_sessions(stg_events(events, AS_OF, SALT), timeout)
    return sessions, fact_session_metrics(sessions)


def run(con, rows: list[dict], timeout: int = 30) -> tuple[list[dict], list[dict]]:
    """(int_web_sessions rows by event_id, fact_session_metrics rows by session_id), natively on
    DuckDB, after checking that the BigQuery SQL transpiled to DuckDB gives the same rows."""
    con.create_table("events", raw_events(rows), database="raw", overwrite=True)
    native = models(con.table("events", database="raw"), timeout)
    portable = models(ibis.table(EVENTS, name="events", database="raw"), timeout)
    # the salt is given as a literal here (SALT): no query parameter to bind
    sessions = run_both(con, native[0], portable[0], ["event_id"], {})
    return sessions, run_both(con, native[1], portable[1], ["session_id"], {})


def sessions_by_event(rows: list[dict]) -> dict[int, tuple[str, bool]]:
    return {r["event_id"]: (r["session_id"], r["is_session_start"]) for r in rows}


# --- int_web_sessions: the timing edge cases ---------------------------------------------------

CASES = {
    # 10:00:00 -> 10:30:00 is exactly 30:00, not strictly more: same session.
    "gap exactly 30:00 continues": (
        [ev(1, "2024-01-01 10:00:00", user_id=7), ev(2, "2024-01-01 10:30:00", user_id=7)],
        30,
        {1: ("u7-1", True), 2: ("u7-1", False)},
    ),
    # 30:00.000001 > 30:00 by one microsecond: new session.
    "gap 30:00.000001 splits": (
        [ev(1, "2024-01-01 10:00:00", user_id=7), ev(2, "2024-01-01 10:30:00.000001", user_id=7)],
        30,
        {1: ("u7-1", True), 2: ("u7-2", True)},
    ),
    # 30:01 > 30:00: new session.
    "gap 30:01 splits": (
        [ev(1, "2024-01-01 10:00:00", user_id=7), ev(2, "2024-01-01 10:30:01", user_id=7)],
        30,
        {1: ("u7-1", True), 2: ("u7-2", True)},
    ),
    # 10:00:00 -> 10:30:59 is 30:59 elapsed: new session (a whole-minute TIMESTAMP_DIFF would say
    # 30 minutes and keep it).
    "gap 30:59 splits": (
        [ev(1, "2024-01-01 10:00:00", user_id=7), ev(2, "2024-01-01 10:30:59", user_id=7)],
        30,
        {1: ("u7-1", True), 2: ("u7-2", True)},
    ),
    # 00:00:59 -> 00:01:01 is 2 s across a minute boundary; 10:00:59 -> 10:30:01 is 29:02 elapsed
    # across 30 minute boundaries (10:01 .. 10:30): both continue the session.
    "minute boundaries play no part": (
        [
            ev(1, "2024-01-01 00:00:59", user_id=7),
            ev(2, "2024-01-01 00:01:01", user_id=7),
            ev(3, "2024-01-01 10:00:59", user_id=8),
            ev(4, "2024-01-01 10:30:01", user_id=8),
        ],
        30,
        {1: ("u7-1", True), 2: ("u7-1", False), 3: ("u8-1", True), 4: ("u8-1", False)},
    ),
    # Same instant: ordered by event_id, so 5 is the first event and 9 continues it; later, 20 and
    # 12 both at 11:00 (60:00 after 10:00): 12 starts session 2, 20 continues it.
    "identical timestamps ordered by event id": (
        [
            ev(9, "2024-01-01 10:00:00", user_id=7),
            ev(5, "2024-01-01 10:00:00", user_id=7),
            ev(20, "2024-01-01 11:00:00", user_id=7),
            ev(12, "2024-01-01 11:00:00", user_id=7),
        ],
        30,
        {5: ("u7-1", True), 9: ("u7-1", False), 12: ("u7-2", True), 20: ("u7-2", False)},
    ),
    # Given out of order, ids not in time order: by time 3 (10:00), 1 (10:20, gap 20:00), 2 (11:00,
    # gap 40:00 -> new), 4 (11:29:59, gap 29:59).
    "events given out of order": (
        [
            ev(2, "2024-01-01 11:00:00", user_id=7),
            ev(4, "2024-01-01 11:29:59", user_id=7),
            ev(1, "2024-01-01 10:20:00", user_id=7),
            ev(3, "2024-01-01 10:00:00", user_id=7),
        ],
        30,
        {3: ("u7-1", True), 1: ("u7-1", False), 2: ("u7-2", True), 4: ("u7-2", False)},
    ),
    # Anonymous events are one visitor per IP ('a' || ip); a signed-in event from the same IP is
    # the user's visitor, not the IP's, so it neither continues nor splits the IP's session.
    "anonymous visitors by ip": (
        [
            ev(1, "2024-01-01 10:00:00", ip="10.0.0.1"),
            ev(2, "2024-01-01 10:10:00", ip="10.0.0.1", user_id=3),
            ev(3, "2024-01-01 10:25:00", ip="10.0.0.1"),
            ev(4, "2024-01-01 10:26:00", ip="10.0.0.2"),
            ev(5, "2024-01-01 11:00:00", ip="10.0.0.1"),  # 35:00 after 10:25 -> new
        ],
        30,
        {
            1: (a("10.0.0.1") + "-1", True),
            2: ("u3-1", True),
            3: (a("10.0.0.1") + "-1", False),
            4: (a("10.0.0.2") + "-1", True),
            5: (a("10.0.0.1") + "-2", True),
        },
    ),
    # No user and no IP: each event is a visitor of its own, 'e' || event_id, one session each,
    # even one second apart.
    "events with neither user nor ip": (
        [ev(1, "2024-01-01 10:00:00"), ev(2, "2024-01-01 10:00:01")],
        30,
        {1: ("e1-1", True), 2: ("e2-1", True)},
    ),
    # Timeout 45: gaps 40:00 (same), 45:00 (same, not strictly more), 45:00.000001 (new).
    "custom timeout 45": (
        [
            ev(1, "2024-01-01 10:00:00", user_id=7),
            ev(2, "2024-01-01 10:40:00", user_id=7),
            ev(3, "2024-01-01 11:25:00", user_id=7),
            ev(4, "2024-01-01 12:10:00.000001", user_id=7),
        ],
        45,
        {1: ("u7-1", True), 2: ("u7-1", False), 3: ("u7-1", False), 4: ("u7-2", True)},
    ),
    # The same events with the default 30: every gap (40:00, 45:00, 45:00.000001) splits.
    "same events with timeout 30": (
        [
            ev(1, "2024-01-01 10:00:00", user_id=7),
            ev(2, "2024-01-01 10:40:00", user_id=7),
            ev(3, "2024-01-01 11:25:00", user_id=7),
            ev(4, "2024-01-01 12:10:00.000001", user_id=7),
        ],
        30,
        {1: ("u7-1", True), 2: ("u7-2", True), 3: ("u7-3", True), 4: ("u7-4", True)},
    ),
    # A session runs on past midnight: 23:50 -> 00:15 is 25:00; each event keeps its own UTC date.
    "session across midnight": (
        [ev(1, "2024-01-01 23:50:00", user_id=7), ev(2, "2024-01-02 00:15:00", user_id=7)],
        30,
        {1: ("u7-1", True), 2: ("u7-1", False)},
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_sessionization(con, case):
    rows, timeout, expected = CASES[case]
    sessions, _ = run(con, rows, timeout)
    assert sessions_by_event(sessions) == expected
    for r in sessions:
        visitor, number = r["session_id"].rsplit("-", 1)
        assert (r["visitor_id"], r["session_number"]) == (visitor, int(number))


def test_anonymous_visitor_is_a_salted_ip_hash(con):
    """'a' || the first 16 hex characters of SHA-256(salt || ip): hashes from `printf 's3cret10.0.0.1'
    | sha256sum` and `printf 's3cret' | sha256sum`, the same natively and through the BigQuery SQL
    (run() checks both). An empty address is an address like any other; only NULL has no hash."""
    rows = [
        ev(1, "2024-01-01 10:00:00", ip="10.0.0.1"),
        ev(2, "2024-01-01 10:01:00", ip=""),
        ev(3, "2024-01-01 10:02:00", ip=""),
        ev(4, "2024-01-01 10:03:00"),
    ]
    sessions, metrics = run(con, rows)
    assert {r["event_id"]: r["session_id"] for r in sessions} == {
        1: "a37191286efd86393-1",
        2: "a1ec1c26b50d5d3c5-1",
        3: "a1ec1c26b50d5d3c5-1",
        4: "e4-1",
    }
    assert not any("10.0.0.1" in str(v) for r in sessions + metrics for v in r.values())


def test_int_web_sessions_columns(con):
    rows = [
        ev(
            1,
            "2024-01-01 23:50:00",
            user_id=7,
            event_type="Product",
            traffic_source="Adwords",
            uri="/product/1",
            browser="Safari",
        ),
        ev(
            2,
            "2024-01-02 00:15:00",
            ip="10.0.0.1",
            event_type="cart",
            traffic_source=None,
            uri="/cart",
            browser=None,
        ),
    ]
    sessions, _ = run(con, rows)
    assert [list(r) for r in sessions][0] == [
        "event_id",
        "visitor_id",
        "user_id",
        "session_number",
        "session_id",
        "is_session_start",
        "created_at",
        "event_date",
        "event_type",
        "uri",
        "traffic_source",
        "browser",
    ]  # docs/contract.md#int_web_sessions order
    assert sessions == [
        {
            "event_id": 1,
            "visitor_id": "u7",
            "user_id": 7,
            "session_number": 1,
            "session_id": "u7-1",
            "is_session_start": True,
            "created_at": ts("2024-01-01 23:50:00"),
            "event_date": dt.date(2024, 1, 1),
            "event_type": "product",
            "uri": "/product/1",
            "traffic_source": "Adwords",
            "browser": "Safari",
        },
        {
            "event_id": 2,
            "visitor_id": a("10.0.0.1"),
            "user_id": None,
            "session_number": 1,
            "session_id": a("10.0.0.1") + "-1",
            "is_session_start": True,
            "created_at": ts("2024-01-02 00:15:00"),
            "event_date": dt.date(2024, 1, 2),
            "event_type": "cart",
            "uri": "/cart",
            "traffic_source": None,
            "browser": None,
        },
    ]


# --- fact_session_metrics ------------------------------------------------------------------------


def test_session_metrics(con):
    rows = [
        # u7 session 1: 10:00:00.250000 .. 10:20:00.750001, landing on home from Adwords.
        ev(
            1,
            "2024-01-01 10:00:00.250000",
            user_id=7,
            event_type="home",
            traffic_source="Adwords",
            uri="/",
            browser="Firefox",
        ),
        ev(
            2,
            "2024-01-01 10:05:00",
            user_id=7,
            event_type="product",
            traffic_source="Email",
            uri="/product/5",
            browser="Chrome",
        ),
        ev(3, "2024-01-01 10:10:00", user_id=7, event_type="Product", traffic_source="Email"),
        ev(4, "2024-01-01 10:20:00.750001", user_id=7, event_type="cart", traffic_source="Email"),
        # u7 session 2 (10:20:00.750001 + 30:00 = 10:50:00.750001 < 10:50:01): purchase, one event.
        ev(
            5,
            "2024-01-01 10:50:01",
            user_id=7,
            event_type="purchase",
            traffic_source="Organic",
            uri="/purchase",
            browser="Safari",
        ),
        # anonymous session by IP, landing on a product from Facebook, 23:59:59.999999 -> next day.
        ev(
            6,
            "2024-01-01 23:59:59.999999",
            ip="10.0.0.9",
            event_type="product",
            traffic_source="Facebook",
            uri="/product/9",
            browser="IE",
        ),
        ev(7, "2024-01-02 00:00:00.000001", ip="10.0.0.9", event_type="department", traffic_source="Facebook"),
    ]
    _, metrics = run(con, rows)
    assert list(metrics[0]) == [
        "session_id",
        "visitor_id",
        "user_id",
        "is_identified",
        "session_date",
        "session_start",
        "session_end",
        "duration_seconds",
        "event_count",
        "product_views",
        "has_cart",
        "has_purchase",
        "landing_uri",
        "landing_event_type",
        "traffic_source",
        "platform",
        "browser",
    ]  # docs/contract.md#fact_session_metrics order
    assert metrics == [
        {
            "session_id": a("10.0.0.9") + "-1",
            "visitor_id": a("10.0.0.9"),
            "user_id": None,
            "is_identified": False,
            "session_date": dt.date(2024, 1, 1),  # the date of the start, not of the end
            "session_start": ts("2024-01-01 23:59:59.999999"),
            "session_end": ts("2024-01-02 00:00:00.000001"),
            "duration_seconds": 2 / 1e6,  # 00:00:00.000001 - 23:59:59.999999 = 2 us
            "event_count": 2,
            "product_views": 1,
            "has_cart": False,
            "has_purchase": False,
            "landing_uri": "/product/9",
            "landing_event_type": "product",
            "traffic_source": "Facebook",
            "platform": "Facebook",
            "browser": "IE",
        },
        {
            "session_id": "u7-1",
            "visitor_id": "u7",
            "user_id": 7,
            "is_identified": True,
            "session_date": dt.date(2024, 1, 1),
            "session_start": ts("2024-01-01 10:00:00.250000"),
            "session_end": ts("2024-01-01 10:20:00.750001"),
            # 10:20:00.750001 - 10:00:00.250000 = 20 min 0.500001 s = 1200.500001 s
            "duration_seconds": 1_200_500_001 / 1e6,
            "event_count": 4,
            "product_views": 2,  # 'product' and 'Product' (lower-cased by staging)
            "has_cart": True,
            "has_purchase": False,
            # landing fields from event 1, though the later events say Email / Chrome
            "landing_uri": "/",
            "landing_event_type": "home",
            "traffic_source": "Adwords",
            "platform": "Google",
            "browser": "Firefox",
        },
        {
            "session_id": "u7-2",
            "visitor_id": "u7",
            "user_id": 7,
            "is_identified": True,
            "session_date": dt.date(2024, 1, 1),
            "session_start": ts("2024-01-01 10:50:01"),
            "session_end": ts("2024-01-01 10:50:01"),
            "duration_seconds": 0.0,
            "event_count": 1,
            "product_views": 0,
            "has_cart": False,
            "has_purchase": True,
            "landing_uri": "/purchase",
            "landing_event_type": "purchase",
            "traffic_source": "Organic",
            "platform": None,
            "browser": "Safari",
        },
    ]


def test_landing_event_is_first_by_event_id_on_ties(con):
    # Events 8 and 4 at the same instant: 4 is first, so the landing fields are event 4's.
    rows = [
        ev(8, "2024-01-01 10:00:00", user_id=1, event_type="product", traffic_source="Email", uri="/b"),
        ev(4, "2024-01-01 10:00:00", user_id=1, event_type="home", traffic_source="YouTube", uri="/a"),
    ]
    _, metrics = run(con, rows)
    [m] = metrics
    assert (m["landing_uri"], m["landing_event_type"], m["traffic_source"], m["platform"]) == (
        "/a",
        "home",
        "YouTube",
        "YouTube",
    )
    assert (m["event_count"], m["duration_seconds"]) == (2, 0.0)


PLATFORMS = [
    ("Adwords", "Google"),
    ("Facebook", "Facebook"),
    ("YouTube", "YouTube"),
    ("Email", "Email"),
    ("Organic", None),
    (None, None),
    ("adwords", None),  # case-sensitive
    ("FACEBOOK", None),
    ("Youtube", None),
    ("Search", None),  # a users.traffic_source value, not an event one
]


def test_platform_mapping_in_sessions(con):
    rows = [ev(i, "2024-01-01 10:00:00", user_id=i, traffic_source=s) for i, (s, _) in enumerate(PLATFORMS)]
    _, metrics = run(con, rows)
    got = {m["session_id"]: (m["traffic_source"], m["platform"]) for m in metrics}
    assert got == {f"u{i}-1": pair for i, pair in enumerate(PLATFORMS)}


def test_platform_of(con):
    t = ibis.memtable({"s": [s for s, _ in PLATFORMS]}, schema={"s": "string"})
    got = con.to_pyarrow(t.select(p=platform_of(t.s))).column("p").to_pylist()
    assert got == [p for _, p in PLATFORMS]


# --- data tests ----------------------------------------------------------------------------------


def test_data_tests_pass_on_model_output(con):
    rows = [ev(i, f"2024-01-01 10:{i:02d}:00", user_id=i % 3) for i in range(1, 40)]
    events = ibis.memtable(raw_events(rows))
    staged = stg_events(events, AS_OF, SALT)
    sessions = int_web_sessions(staged, 30)
    metrics = fact_session_metrics(sessions)
    assert con.execute(session_event_count_matches_events(metrics, staged).count()) == 0
    assert con.execute(session_gaps_within_timeout(sessions, 30).count()) == 0


def test_event_count_data_test_fails_when_counts_differ(con):
    rows = [ev(1, "2024-01-01 10:00:00", user_id=1), ev(2, "2024-01-01 10:01:00", user_id=1)]
    staged = stg_events(ibis.memtable(raw_events(rows)), AS_OF, SALT)
    metrics = fact_session_metrics(int_web_sessions(staged, 30))
    # Drop one event from staging: 2 events in sessions vs 1 staged -> one failing row.
    fewer = staged.filter(staged.event_id == 1)
    failing = con.to_pyarrow(session_event_count_matches_events(metrics, fewer)).to_pylist()
    assert failing == [{"session_events": 2, "staged_events": 1}]
    # No sessions at all vs 2 staged events (an empty sum counts as 0).
    none = metrics.filter(metrics.event_count < 0)
    failing = con.to_pyarrow(session_event_count_matches_events(none, staged)).to_pylist()
    assert failing == [{"session_events": 0, "staged_events": 2}]


def test_gap_data_test_catches_a_gap_over_the_timeout(con):
    rows = [
        ev(1, "2024-01-01 10:00:00", user_id=1),
        ev(2, "2024-01-01 10:30:00", user_id=1),  # 30:00: fine
        ev(3, "2024-01-01 11:00:00.000001", user_id=1),  # 30:00.000001 after 10:30
    ]
    sessions = int_web_sessions(stg_events(ibis.memtable(raw_events(rows)), AS_OF, SALT), 30)
    # Force every event into one session: the gap before event 3 exceeds 30:00.
    merged = sessions.mutate(session_id=ibis.literal("u1-1"))
    failing = con.to_pyarrow(session_gaps_within_timeout(merged, 30)).column("event_id").to_pylist()
    assert failing == [3]
    # With a 31-minute timeout the same merged session has no gap over it.
    assert con.execute(session_gaps_within_timeout(merged, 31).count()) == 0


# --- property: the model equals a plain-Python loop ----------------------------------------------


def reference_sessions(rows: list[dict], timeout_minutes: int) -> dict[int, tuple[str, bool]]:
    """docs/contract.md#int_web_sessions read literally, one visitor at a time, one event after another."""
    timeout = dt.timedelta(minutes=timeout_minutes)
    by_visitor: dict[str, list[dict]] = {}
    for r in rows:
        if r["user_id"] is not None:
            visitor = f"u{r['user_id']}"
        elif r["ip_address"] is not None:
            visitor = a(r["ip_address"])
        else:
            visitor = f"e{r['id']}"
        by_visitor.setdefault(visitor, []).append(r)
    result = {}
    for visitor, events in by_visitor.items():
        events.sort(key=lambda r: (r["created_at"], r["id"]))
        number, previous = 0, None
        for r in events:
            starts = previous is None or r["created_at"] - previous > timeout
            if starts:
                number += 1
            result[r["id"]] = (f"{visitor}-{number}", starts)
            previous = r["created_at"]
    return result


def reference_metrics(rows: list[dict], sessions: dict[int, tuple[str, bool]]) -> dict[str, tuple]:
    """(start, end, duration_seconds, event_count) per session from the reference sessions."""
    times: dict[str, list[dt.datetime]] = {}
    for r in rows:
        times.setdefault(sessions[r["id"]][0], []).append(r["created_at"])
    out = {}
    for sid, ts_ in times.items():
        start, end = min(ts_), max(ts_)
        micros = (end - start) // dt.timedelta(microseconds=1)
        out[sid] = (start, end, micros / 1e6, len(ts_))
    return out


BASE = dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
# Gaps clustered around a 30-minute timeout (in microseconds), plus duplicates and long gaps.
MINUTE_US = 60_000_000
GAPS_US = [
    0,
    1,
    2 * 1_000_000,
    29 * MINUTE_US + 59_999_999,
    30 * MINUTE_US,
    30 * MINUTE_US + 1,
    30 * MINUTE_US + 1_000_000,
    45 * MINUTE_US,
    45 * MINUTE_US + 1,
    3 * 60 * MINUTE_US,
]
VISITORS = [(1, None), (2, "10.0.0.1"), (None, "10.0.0.1"), (None, "10.0.0.2"), (None, None)]


@st.composite
def event_streams(draw):
    n = draw(st.integers(1, 30))
    clock = {v: BASE for v in range(len(VISITORS))}
    rows = []
    for _ in range(n):
        v = draw(st.integers(0, len(VISITORS) - 1))
        gap = draw(st.sampled_from(GAPS_US) | st.integers(0, 40 * MINUTE_US))
        jitter = draw(st.sampled_from([0, 0, 1, -1, 999_999]))
        clock[v] = clock[v] + dt.timedelta(microseconds=max(0, gap + jitter))
        user_id, ip = VISITORS[v]
        rows.append({"user_id": user_id, "ip_address": ip, "created_at": clock[v]})
    ids = draw(st.permutations(range(1, n + 1)))  # ids unrelated to time order
    order = draw(st.permutations(range(n)))  # rows handed over in any order
    rows = [{**rows[i], "id": ids[i]} for i in order]
    return [ev(r["id"], r["created_at"], user_id=r["user_id"], ip=r["ip_address"]) for r in rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_streams(), timeout=st.sampled_from([30, 30, 45, 1]))
def test_sessions_match_a_python_loop(con, rows, timeout):
    events = ibis.memtable(raw_events(rows))
    sessions, metrics = models(events, timeout)
    expected = reference_sessions(rows, timeout)
    assert sessions_by_event(con.to_pyarrow(sessions).to_pylist()) == expected
    got = {
        m["session_id"]: (m["session_start"], m["session_end"], m["duration_seconds"], m["event_count"])
        for m in con.to_pyarrow(metrics).to_pylist()
    }
    assert got == reference_metrics(rows, expected)


def test_sessions_match_a_python_loop_via_bigquery_sql(con):
    """A few random streams through the BigQuery SQL too (seeded; the Hypothesis test covers more
    shapes natively)."""
    rng = random.Random(20240301)
    for _ in range(5):
        clock, rows = BASE, []
        for i in range(1, 60):
            clock += dt.timedelta(microseconds=max(0, rng.choice(GAPS_US) + rng.choice([0, 1, -1])))
            user_id, ip = rng.choice(VISITORS)
            rows.append(ev(i, clock, user_id=user_id, ip=ip))
        rng.shuffle(rows)
        sessions, _ = run(con, rows, 30)
        assert sessions_by_event(sessions) == reference_sessions(rows, 30)


# --- fixtures/sessions through the engine ---------------------------------------------------------

# event_id: (session_id, is_session_start, event_date); see fixtures/sessions/README.md.
FIXTURE_SESSIONS = {
    1: ("u1-1", True, "2024-01-10"),
    2: ("u1-1", False, "2024-01-10"),  # 10:00:00 -> 10:30:00 = 30:00, not more
    3: ("u1-2", True, "2024-01-10"),  # 10:30:00 -> 11:00:00.000001 = 30:00.000001
    4: ("u1-3", True, "2024-01-10"),  # 11:00:00.000001 -> 11:30:01.000001 = 30:01
    5: ("u1-3", False, "2024-01-10"),  # same instant as 4, larger id
    17: ("u1-4", True, "2024-01-31"),  # 23:59:59.999999 on as_of; 18 (02-01 00:00) is dropped
    6: ("u2-1", True, "2024-01-11"),
    7: ("u2-1", False, "2024-01-11"),  # 10:00:59 -> 10:30:01 = 29:02
    20: ("u3-1", True, "2024-01-12"),  # 09:00
    12: ("u3-1", False, "2024-01-12"),  # 09:20, gap 20:00
    11: ("u3-2", True, "2024-01-12"),  # 10:00, gap 40:00
    13: (a("10.1.1.1") + "-1", True, "2024-01-13"),
    14: (a("10.1.1.1") + "-1", False, "2024-01-14"),  # 23:59:30 -> 00:00:31 = 1:01
    19: ("u4-1", True, "2024-01-13"),
    15: ("e15-1", True, "2024-01-15"),
    16: ("e16-1", True, "2024-01-15"),
}

# session_id: (session_date, duration_seconds, event_count, product_views, has_cart, has_purchase,
#              landing_uri, landing_event_type, traffic_source, platform, browser)
FIXTURE_METRICS = {
    "u1-1": ("2024-01-10", 1800.0, 2, 1, False, False, "/", "home", "Adwords", "Google", "Chrome"),
    "u1-2": ("2024-01-10", 0.0, 1, 1, False, False, "/product/3", "product", "Adwords", "Google", "Chrome"),
    "u1-3": ("2024-01-10", 0.0, 2, 0, True, True, "/cart", "cart", "Email", "Email", "Firefox"),
    "u1-4": ("2024-01-31", 0.0, 1, 0, False, False, "/", "home", "Organic", None, "Chrome"),
    # 10:30:01 - 10:00:59 = 29 min 2 s = 1742 s
    "u2-1": ("2024-01-11", 1742.0, 2, 1, False, False, "/", "home", "Facebook", "Facebook", "Safari"),
    # 09:20 - 09:00 = 1200 s
    "u3-1": ("2024-01-12", 1200.0, 2, 1, False, False, "/", "home", "Email", "Email", "Chrome"),
    "u3-2": (
        "2024-01-12",
        0.0,
        1,
        0,
        False,
        False,
        "/department/men",
        "department",
        "Organic",
        None,
        "Chrome",
    ),
    # 00:00:31 - 23:59:30 = 61 s; dated by its start
    a("10.1.1.1") + "-1": ("2024-01-13", 61.0, 2, 1, False, False, "/", "home", "YouTube", "YouTube", "IE"),
    "u4-1": ("2024-01-13", 0.0, 1, 0, False, False, "/", "home", "Adwords", "Google", "Chrome"),
    "e15-1": ("2024-01-15", 0.0, 1, 0, False, False, "/", "home", None, None, None),
    "e16-1": ("2024-01-15", 0.0, 1, 0, False, False, "/", "home", "adwords", None, "Chrome"),
}


@pytest.fixture(scope="module")
def fixture_target():
    built = build_scenario("sessions", ["+fact_session_metrics"])
    yield built
    built.close()


def test_fixture_sessions(fixture_target):
    target = fixture_target.target
    got = {
        r["event_id"]: (r["session_id"], r["is_session_start"], r["event_date"].isoformat())
        for r in target.table("int_web_sessions").to_pyarrow().to_pylist()
    }
    assert got == FIXTURE_SESSIONS


def test_fixture_session_metrics(fixture_target):
    target = fixture_target.target
    metrics = target.table("fact_session_metrics").to_pyarrow().to_pylist()
    got = {
        m["session_id"]: (
            m["session_date"].isoformat(),
            m["duration_seconds"],
            m["event_count"],
            m["product_views"],
            m["has_cart"],
            m["has_purchase"],
            m["landing_uri"],
            m["landing_event_type"],
            m["traffic_source"],
            m["platform"],
            m["browser"],
        )
        for m in metrics
    }
    assert got == FIXTURE_METRICS
    # session_start/end are the first and last event times of FIXTURE_SESSIONS' members
    for m in metrics:
        assert m["is_identified"] == (m["user_id"] is not None) == m["visitor_id"].startswith("u")


def test_fixture_data_tests_pass(fixture_target):
    built = fixture_target.selected
    cases = generic_tests(PROJECT, built) + singular_tests(PROJECT, built, fixture_target.values)
    names = {c.name for c in cases}
    assert {"session_event_count_matches_events", "session_gaps_within_timeout"} <= names
    assert "relationships_fact_session_metrics_session_id__int_web_sessions" in names
    assert fixture_target.failing_data_tests() == []


# --- the compiled SQL says what it means ----------------------------------------------------------


@pytest.mark.parametrize("timeout", [30, 45])
def test_timeout_compiles_to_an_instant_comparison(timeout):
    """The session split compares instants in both dialects; no minute or second differences
    (DuckDB's date_diff counts boundaries, BigQuery's TIMESTAMP_DIFF truncates). On DuckDB the
    timeout is added to the instant's microseconds (ecom.core.dialects: no ICU calendar)."""
    events = ibis.table(EVENTS, name="events", database="raw")
    sessions, metrics = models(events, timeout)
    bigquery = ibis.to_sql(sessions, dialect="bigquery")
    duckdb = ibis.to_sql(sessions, dialect="duckdb")
    # e.g. `t2`.`created_at` > TIMESTAMP_ADD(`t2`.`previous_at`, INTERVAL '30' MINUTE)
    bq_split = rf"`\w+`\.`created_at` > TIMESTAMP_ADD\(`\w+`\.`previous_at`, INTERVAL '{timeout}' MINUTE\)"
    assert re.search(bq_split, bigquery)
    # e.g. "t2"."created_at" > MAKE_TIMESTAMPTZ(EPOCH_US("t2"."previous_at") + 1800000000)
    micros = timeout * 60_000_000
    duck_split = rf"\"\w+\"\.\"created_at\" > MAKE_TIMESTAMPTZ\(EPOCH_US\(\"\w+\"\.\"previous_at\"\) \+ {micros}\)"
    assert re.search(duck_split, duckdb)
    for sql in (bigquery, duckdb.replace("EPOCH_US(", "")):
        assert "DIFF" not in sql.upper() and "EPOCH" not in sql.upper() and "UNIX_" not in sql.upper()
    # Durations: microsecond differences only.
    bigquery_metrics = ibis.to_sql(metrics, dialect="bigquery")
    assert "TIMESTAMP_DIFF(`t" in bigquery_metrics
    assert bigquery_metrics.count("TIMESTAMP_DIFF(") == bigquery_metrics.count(", MICROSECOND)") == 1
