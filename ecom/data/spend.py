"""`ecom spend`: a `marketing_spend` table calibrated to the raw events already in a target.

The heavy part runs in the target: events grouped into sessions (start = the first event's UTC
date, traffic source = the smallest of its events' sources, one per session in thelook), then
counted per (date, traffic source), reading only `session_id`, `created_at` and `traffic_source`.
The small per-day counts become rows in Python with `ecom.data.calibration`, the recipe `ecom
generate` uses, so the same events give the same rows on every target.
"""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecom.data import calibration
from ecom.targets.base import Target, TargetError


def session_counts(target: Target) -> pa.Table:
    """Sessions per (date, traffic_source) of the target's raw events, every source (NULL too),
    ordered by date and source."""
    events = target.source("events")
    sessions = (
        events.filter(events.session_id.notnull())
        .group_by("session_id")
        .aggregate(start=events.created_at.min(), source=events.traffic_source.min())
    )
    counts = sessions.group_by(date=sessions.start.date(), source=sessions.source).aggregate(sessions=ibis._.count())
    return counts.to_pyarrow().sort_by([("date", "ascending"), ("source", "ascending")])


def from_events(target: Target, seed: int) -> pa.Table:
    """The calibrated spend over the sessions of the target's events: the days from the first to
    the last event date, keeping only the days that have events (TargetError when there is
    nothing to follow)."""
    loc = target.raw_location("events")
    where = ".".join(x for x in (loc.catalog, loc.database, "events") if x)
    counts = session_counts(target).to_pydict()
    # Without events to follow, the build still needs a marketing_spend: a file of its header alone
    # is an empty one, the way out for an export with no events (or no paid traffic) yet.
    own = "; or load a marketing_spend of your own (a marketing_spend.csv of its header alone is none)"
    if not counts["date"] or counts["date"][0] is None:
        raise TargetError(
            f"no events in {where}: "
            f"marketing_spend follows the sessions of the raw events; load them first (`ecom load`){own}"
        )
    first, last = counts["date"][0], counts["date"][-1]
    sessions = np.zeros(((last - first).days + 1, len(calibration.PLATFORMS)), np.int64)
    for day, source, n in zip(counts["date"], counts["source"], counts["sessions"], strict=True):
        if source in calibration.SOURCES:
            sessions[(day - first).days, calibration.SOURCES.index(source)] = n
    if not sessions.any():
        raise TargetError(
            f"the events in {where} have no session from the traffic sources "
            f"{', '.join(calibration.SOURCES)}: marketing_spend follows those sessions (events.traffic_source){own}"
        )
    spend = calibration.marketing_spend(sessions, first, seed)
    days = pa.array(sorted(set(counts["date"])), pa.date32())
    return spend.filter(pc.is_in(spend["date"], value_set=days))
