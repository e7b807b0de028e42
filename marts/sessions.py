"""Web sessions: events grouped into visits by inactivity (docs/contract.md#int_web_sessions,
#fact_session_metrics).

A visit ends after `session_timeout_minutes` of inactivity, measured as exact elapsed time by
comparing instants (`created_at > previous + interval`), never by counting minute boundaries, so
DuckDB and BigQuery split sessions identically (docs/architecture.md#portability-rules).
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import (
    PLATFORMS,
    SESSION_CHANNELS,
    channel_of,
    end_of_day,
    not_finite,
    outside,
    platform_of,
    ratio,
    user_visitor,
)
from marts.reconciliation import unequal_counts
from marts.staging import EVENT_TYPES


def visitor_of(events: ir.Table) -> ir.StringValue:
    """'u' || user_id, else 'a' || ip_hash, else 'e' || event_id (a visitor of its own).

    Spelled with explicit NULL tests rather than COALESCE over concatenations: NULL handling in
    string concatenation differs across engines (DuckDB's concat() skips NULLs).
    """
    return ibis.cases(
        (events.user_id.notnull(), user_visitor(events.user_id)),
        (events.ip_hash.notnull(), "a" + events.ip_hash),
        else_="e" + events.event_id.cast("string"),
    )


def _visitor_order(t: ir.Table) -> list[ir.Value]:
    # (created_at, event_id) is unique per visitor: the tie-breaker the contract names.
    return [t.created_at, t.event_id]


def _web_sessions_since(
    stg_events: ir.Table, this: ir.Table, since: dt.date, session_timeout_minutes: int
) -> tuple[dt.date, ir.Table]:
    """int_web_sessions' rows from `since` on: the model over the events from `since`, each
    visitor's numbering then continued from its rows before `since` in `this` (the model as built).

    Over the new events alone, a visitor's first new event starts session 1. In the full model it
    continues the visitor's last earlier session when it comes within the timeout of the last
    earlier event (then the new session 1 is that session, number n), else it starts session n + 1.
    """
    new = int_web_sessions(stg_events.filter(stg_events.event_date >= since), session_timeout_minutes)
    first_new = new.filter(new.is_session_start & (new.session_number == 1)).select("visitor_id", first_at="created_at")
    # only the visitors with new events carry anything over: filter before aggregating
    before = this.filter(this.event_date < since).semi_join(first_new, "visitor_id")
    # session_number never decreases along a visitor's events: the max is the last event's
    last = before.group_by("visitor_id").aggregate(
        last_at=before.created_at.max(), last_number=before.session_number.max()
    )
    carried = last.inner_join(first_new, "visitor_id")
    carried = carried.select(
        "visitor_id",
        "last_number",
        continues=carried.first_at <= carried.last_at + ibis.interval(minutes=session_timeout_minutes),
    )
    rows = new.left_join(carried, "visitor_id")
    continues = rows.continues.fill_null(False)
    number = rows.session_number + (rows.last_number - continues.cast("int64")).fill_null(0)
    return since, rows.select(
        *[c for c in new.columns if c not in ("session_number", "session_id", "is_session_start")],
        session_number=number,
        session_id=rows.visitor_id + "-" + number.cast("string"),
        is_session_start=rows.is_session_start & ~(continues & (rows.session_number == 1)),
    ).select(*new.columns)


@model(
    key="event_id",
    materialized="incremental",
    since=_web_sessions_since,
    partition_by="event_date",
    cluster_by=("visitor_id",),
    not_null=("visitor_id", "session_number", "session_id", "is_session_start", "created_at", "event_date"),
    accepted_values={"event_type": EVENT_TYPES},
    relationships={"event_id": "stg_events.event_id"},
)
def int_web_sessions(stg_events: ir.Table, session_timeout_minutes: int) -> ir.Table:
    """One row per web event, with its visitor and session (docs/contract.md#int_web_sessions).

    An event starts a session when it is its visitor's first (by created_at, event_id) or when
    more than `session_timeout_minutes` (strictly, exact elapsed time) have passed since the
    visitor's previous event. A visitor's events at the same instant are ordered by event_id, so
    the second of two identical timestamps continues the session of the first.

    Incremental (docs/contract.md#int_web_sessions): an event's visitor, session number and start
    flag depend only on its visitor's events up to it, so the rows before the first day stg_events
    changed on stay; the rows from that day are recomputed and each visitor's numbering continues
    from its last earlier event (a session crossing the boundary keeps its number).
    session_timeout_minutes (and any variable of stg_events but as_of) changes past rows: a change
    rebuilds in full.

    Choices where the contract is silent: a signed-in user's events form one visitor whatever IP
    they come from, and never join the sessions of that IP's anonymous events (an empty address is
    hashed like any other, docs/contract.md#staging, so only a NULL ip_hash is missing).

    Columns:
        event_id: the event (stg_events.event_id); the key.
        visitor_id: 'u' || user_id when user_id is set, else 'a' || ip_hash, else 'e' || event_id
            (an event with neither is a visitor of its own).
        user_id: the signed-in user; NULL for anonymous events.
        session_number: the visitor's session count up to this event, 1-based: the number of
            session starts among the visitor's events up to and including this one, ordered by
            (created_at, event_id).
        session_id: visitor_id || '-' || session_number.
        is_session_start: true when the event is the visitor's first, or when strictly more than
            `session_timeout_minutes` minutes of exact elapsed time separate it from the visitor's
            previous event (a gap of exactly the timeout continues the session).
        created_at: when the event happened (UTC).
        event_date: the UTC date of created_at.
        event_type: the event's lower-case type (stg_events.event_type).
        uri: the page requested.
        traffic_source: the event's traffic source, as the source spells it.
        browser: the browser as the source names it.
    """
    events = stg_events.select(
        "event_id",
        "user_id",
        "created_at",
        "event_date",
        "event_type",
        "uri",
        "traffic_source",
        "browser",
        visitor_id=visitor_of(stg_events),
    )

    by_visitor = ibis.window(group_by=events.visitor_id, order_by=_visitor_order(events))
    with_previous = events.mutate(previous_at=events.created_at.lag().over(by_visitor))

    timeout = ibis.interval(minutes=session_timeout_minutes)
    flagged = with_previous.mutate(
        is_session_start=with_previous.previous_at.isnull()
        | (with_previous.created_at > with_previous.previous_at + timeout)
    )

    # Running count of session starts: rows up to the current one (not the whole partition).
    running = ibis.cumulative_window(group_by=flagged.visitor_id, order_by=_visitor_order(flagged))
    numbered = flagged.mutate(session_number=ibis.ifelse(flagged.is_session_start, 1, 0).sum().over(running))

    return numbered.select(
        event_id=numbered.event_id,
        visitor_id=numbered.visitor_id,
        user_id=numbered.user_id,
        session_number=numbered.session_number,
        session_id=numbered.visitor_id + "-" + numbered.session_number.cast("string"),
        is_session_start=numbered.is_session_start,
        created_at=numbered.created_at,
        event_date=numbered.event_date,
        event_type=numbered.event_type,
        uri=numbered.uri,
        traffic_source=numbered.traffic_source,
        browser=numbered.browser,
    )


def _session_metrics_since(int_web_sessions: ir.Table, this: ir.Table, since: dt.date) -> tuple[dt.date, ir.Table]:
    """fact_session_metrics' rows from the first start day of a session whose rows changed.

    int_web_sessions changed from `since` on: the sessions that had (in `this`, as built) or have
    an event from `since` on may change, and they may have started days earlier. Every session
    starting on or after the earliest of their start days is recomputed from its events.
    """
    events = int_web_sessions
    touched = events.filter(events.event_date >= since).select("session_id").distinct()
    starts = events.filter(events.is_session_start)
    new_first = starts.semi_join(touched, "session_id").event_date.min()
    old_first = this.filter(this.session_end >= end_of_day(since - dt.timedelta(days=1))).session_date.min()
    first = min(d for d in (since, new_first.to_pyarrow().as_py(), old_first.to_pyarrow().as_py()) if d is not None)
    recent = events.filter(events.event_date >= first)
    recent = recent.semi_join(recent.filter(recent.is_session_start).select("session_id"), "session_id")
    return first, fact_session_metrics(recent)


@model(
    key="session_id",
    materialized="incremental",
    since=_session_metrics_since,
    partition_by="session_date",
    cluster_by=("visitor_id",),
    not_null=(
        "visitor_id",
        "is_identified",
        "session_date",
        "session_start",
        "session_end",
        "duration_seconds",
        "event_count",
        "product_views",
        "has_cart",
        "has_purchase",
    ),
    accepted_values={
        "landing_event_type": EVENT_TYPES,
        "platform": PLATFORMS,
    },
    relationships={"session_id": "int_web_sessions.session_id"},
)
def fact_session_metrics(int_web_sessions: ir.Table) -> ir.Table:
    """One row per web session (docs/contract.md#fact_session_metrics).

    The landing fields, traffic source, platform and browser are those of the session's first
    event (by created_at, event_id), which int_web_sessions flags with is_session_start: a join
    on that flag instead of arg_min, whose tie handling is not portable. has_cart/has_purchase are
    false (never NULL) when the session has no such event; events with a NULL event_type count
    towards event_count only.

    Incremental: a session's row depends only on its events, so when int_web_sessions changed from
    a day on, the rows replaced are those from the earliest start day of a session with an event on
    or after that day (as built before, or now), which may be days earlier for a long session. No
    variable of its own; those of its upstreams rebuild it in full.

    Columns:
        session_id: the session (int_web_sessions.session_id); the key.
        visitor_id: the session's visitor (see int_web_sessions.visitor_id).
        user_id: the signed-in user; NULL for an anonymous visitor's session.
        is_identified: true when user_id is set.
        session_date: the UTC date of session_start.
        session_start: created_at of the session's first event (UTC).
        session_end: created_at of the session's last event (UTC); equals session_start for a
            one-event session.
        duration_seconds: session_end − session_start as exact elapsed time in seconds, fractional
            (microseconds / 1e6, FLOAT64); 0 for a one-event session.
        event_count: the number of events in the session (≥ 1).
        product_views: the number of the session's events of type `product`.
        has_cart: true when the session has a `cart` event; false (never NULL) otherwise.
        has_purchase: true when the session has a `purchase` event; false (never NULL) otherwise.
        landing_uri: uri of the session's first event by (created_at, event_id).
        landing_event_type: event_type of that first event.
        traffic_source: traffic_source of that first event, as the source spells it.
        platform: the ad platform of traffic_source, case-sensitively (Adwords → Google, Facebook,
            YouTube, Email); NULL for Organic, NULL or any other source.
        browser: browser of that first event.
    """
    events = int_web_sessions

    totals = events.group_by(["session_id", "visitor_id", "user_id"]).aggregate(
        session_start=events.created_at.min(),
        session_end=events.created_at.max(),
        event_count=events.count(),
        product_views=events.count(where=events.event_type == "product"),
        cart_events=events.count(where=events.event_type == "cart"),
        purchase_events=events.count(where=events.event_type == "purchase"),
    )

    first_event = events.filter(events.is_session_start).select(
        "session_id",
        landing_uri=events.uri,
        landing_event_type=events.event_type,
        traffic_source=events.traffic_source,
        browser=events.browser,
    )

    sessions = totals.inner_join(first_event, "session_id")

    return sessions.select(
        session_id=sessions.session_id,
        visitor_id=sessions.visitor_id,
        user_id=sessions.user_id,
        is_identified=sessions.user_id.notnull(),
        session_date=sessions.session_start.date(),
        session_start=sessions.session_start,
        session_end=sessions.session_end,
        # Microsecond deltas are exact on both engines; whole-second ones are not (docs/contract.md#conventions).
        duration_seconds=sessions.session_end.delta(sessions.session_start, unit="microsecond") / 1e6,
        event_count=sessions.event_count,
        product_views=sessions.product_views,
        has_cart=sessions.cart_events > 0,
        has_purchase=sessions.purchase_events > 0,
        landing_uri=sessions.landing_uri,
        landing_event_type=sessions.landing_event_type,
        traffic_source=sessions.traffic_source,
        platform=platform_of(sessions.traffic_source),
        browser=sessions.browser,
    )


FUNNEL_COUNTS = (
    "sessions",
    "identified_sessions",
    "product_view_sessions",
    "cart_sessions",
    "purchase_sessions",
    "cart_purchase_sessions",
    "bounced_sessions",
)
# The first four divide by sessions (never 0 on a row); cart_to_purchase_rate by cart_sessions.
FUNNEL_RATES = ("product_view_rate", "cart_rate", "purchase_rate", "bounce_rate", "cart_to_purchase_rate")


@model(
    key=("session_date", "channel"),
    partition_by="session_date",
    cluster_by=("channel",),
    not_null=(*FUNNEL_COUNTS, "avg_duration_seconds", *FUNNEL_RATES[:4]),
    accepted_values={"channel": SESSION_CHANNELS},
    relationships={"session_date": "fact_session_metrics.session_date"},
)
def fact_funnel_daily(fact_session_metrics: ir.Table) -> ir.Table:
    """One row per (session_date, channel) with at least one session (docs/contract.md#fact_funnel_daily).

    Anonymous sessions count like identified ones (identified_sessions says how many are signed in).
    Choice the contract leaves open: a session is counted on the date it starts, whatever date its
    events run into; days and channels without sessions have no row (not zero-filled).

    Columns:
        session_date: UTC date of session_start.
        channel: the session's platform (Google, Facebook, YouTube, Email), else Organic.
        sessions: sessions starting that day from that channel.
        identified_sessions: of those, sessions with a user_id.
        product_view_sessions: sessions with product_views > 0.
        cart_sessions: sessions with a `cart` event (has_cart).
        purchase_sessions: sessions with a `purchase` event (has_purchase).
        cart_purchase_sessions: sessions with both a cart and a purchase event.
        bounced_sessions: sessions of a single event (event_count = 1).
        avg_duration_seconds: mean duration_seconds (exact, fractional seconds; a bounce counts 0).
        product_view_rate: product_view_sessions / sessions (never NULL: a row has a session).
        cart_rate: cart_sessions / sessions.
        purchase_rate: purchase_sessions / sessions.
        bounce_rate: bounced_sessions / sessions.
        cart_to_purchase_rate: cart_purchase_sessions / cart_sessions; NULL when cart_sessions = 0.
    """
    s = fact_session_metrics.mutate(channel=channel_of(fact_session_metrics.platform))
    counts = s.group_by("session_date", "channel").aggregate(
        sessions=s.count(),
        identified_sessions=s.is_identified.sum(),
        product_view_sessions=(s.product_views > 0).sum(),
        cart_sessions=s.has_cart.sum(),
        purchase_sessions=s.has_purchase.sum(),
        cart_purchase_sessions=(s.has_cart & s.has_purchase).sum(),
        bounced_sessions=(s.event_count == 1).sum(),
        avg_duration_seconds=s.duration_seconds.mean(),
    )
    return counts.select(
        "session_date",
        "channel",
        *FUNNEL_COUNTS,
        "avg_duration_seconds",
        product_view_rate=ratio(counts.product_view_sessions, counts.sessions),
        cart_rate=ratio(counts.cart_sessions, counts.sessions),
        purchase_rate=ratio(counts.purchase_sessions, counts.sessions),
        bounce_rate=ratio(counts.bounced_sessions, counts.sessions),
        cart_to_purchase_rate=ratio(counts.cart_purchase_sessions, counts.cart_sessions),
    )


@data_test
def session_event_count_matches_events(fact_session_metrics: ir.Table, stg_events: ir.Table) -> ir.Table:
    """Σ fact_session_metrics.event_count = count(stg_events): one row when they differ."""
    return unequal_counts(session_events=fact_session_metrics.event_count.sum(), staged_events=stg_events.count())


@data_test
def session_gaps_within_timeout(int_web_sessions: ir.Table, session_timeout_minutes: int) -> ir.Table:
    """No gap between consecutive events of a session exceeds the timeout (exact elapsed time):
    the events that follow such a gap."""
    events = int_web_sessions
    by_session = ibis.window(group_by=events.session_id, order_by=_visitor_order(events))
    gaps = events.mutate(previous_at=events.created_at.lag().over(by_session))
    return gaps.filter(gaps.created_at > gaps.previous_at + ibis.interval(minutes=session_timeout_minutes))


@data_test
def funnel_counts_every_session(fact_funnel_daily: ir.Table, fact_session_metrics: ir.Table) -> ir.Table:
    """Σ fact_funnel_daily.sessions = count(fact_session_metrics): one row when they differ."""
    return unequal_counts(funnel_sessions=fact_funnel_daily.sessions.sum(), sessions=fact_session_metrics.count())


@data_test
def funnel_steps_ordered_and_rates_in_range(fact_funnel_daily: ir.Table) -> ir.Table:
    """purchase_sessions ≥ cart_purchase_sessions ≤ cart_sessions ≤ sessions; every rate ∈ [0, 1]
    (± 1e-9) and finite or NULL."""
    t = fact_funnel_daily
    return t.filter(
        (t.purchase_sessions < t.cart_purchase_sessions)
        | (t.cart_purchase_sessions > t.cart_sessions)
        | (t.cart_sessions > t.sessions)
        | ibis.or_(*(outside(t[rate], 0, 1) | not_finite(t[rate]) for rate in FUNNEL_RATES))
    )
