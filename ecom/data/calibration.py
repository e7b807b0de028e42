"""Marketing spend calibrated to web sessions: the one recipe that `ecom generate` (over the sessions
it generates) and `ecom spend` (over the sessions of the raw events already in a target) share, so
the two cannot drift.

Platforms Google, Facebook, YouTube, Email follow the event traffic sources Adwords, Facebook,
YouTube, Email. Every quarter each platform runs an always-on campaign for the whole quarter (e.g.
`google_brand_2024q1`) and two or three others with their own start and end dates inside the
quarter (`google_shopping_2024q1`, ...), clipped to the period; one row per (date, platform,
campaign_id) while a campaign is active. A day's clicks of a platform follow that day's sessions (by
start date) of its traffic source: clicks = sessions x clicks_per_session[platform] x the campaign's
share of the platform that day (kind weights, renormalised over the campaigns active that day) x a
log-normal noise (sigma 0.25); impressions = clicks / CTR (per platform, noise sigma 0.15); spend =
clicks x CPC (per platform, noise sigma 0.10). ~1 % of rows are paused days (spend, clicks,
impressions 0) and ~0.5 % have NULL clicks (a tracking gap; spend kept).

Calibration: an order is attributed to the platform of its last session starting within 24 h before
it, and in thelook every order has sessions shortly before it, each with an independent traffic
source, so a platform earns net revenue in proportion to its share of sessions, while its spend is
its sessions x clicks_per_session x CPC. Platform ROAS is therefore (net revenue per session) /
(cost per session); net revenue per session is ~12 on generated data (thelook converts a large share
of its sessions), so the cost per session of each platform was set to give ROAS Email ~11, Google ~4,
YouTube ~2.2 and Facebook ~1.5 (EXPECTED_ROAS) over `ecom generate`'s default period
(benchmarks/bench_generate.py measures it with a last-touch approximation). Whatever the revenue per
session of a shop's events, the cost per session orders ROAS Email > Google > YouTube > Facebook.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ecom.core.sources import RAW_SCHEMAS

EPOCH = datetime.date(1970, 1, 1)


@dataclass(frozen=True)
class Platform:
    name: str
    source: str  # the events.traffic_source whose sessions its clicks follow
    clicks_per_session: float  # clicks recorded by the platform per session it brings
    ctr: float  # clicks / impressions
    cpc: float  # spend / click
    campaigns: tuple[tuple[str, float], ...]  # (kind, weight); the first is always on


PLATFORMS = (
    Platform("Google", "Adwords", 1.4, 0.045, 2.15, (("brand", 0.35), ("search", 0.40), ("shopping", 0.25))),
    Platform(
        "Facebook",
        "Facebook",
        2.6,
        0.012,
        3.05,
        (("retargeting", 0.40), ("prospecting", 0.35), ("lookalike", 0.25)),
    ),
    Platform("YouTube", "YouTube", 3.0, 0.006, 1.80, (("awareness", 0.55), ("consideration", 0.45))),
    Platform(
        "Email",
        "Email",
        1.1,
        0.030,
        0.97,
        (("newsletter", 0.40), ("promo", 0.35), ("winback", 0.15), ("abandoned_cart", 0.10)),
    ),
)
SOURCES = tuple(p.source for p in PLATFORMS)
EXPECTED_ROAS = {"Email": (8, 15), "Google": (3, 5), "YouTube": (1.5, 3), "Facebook": (1, 2)}


def _next_quarter(q: datetime.date) -> datetime.date:
    month = q.month + 3
    return datetime.date(q.year + month // 13, (month - 1) % 12 + 1, 1)


def _quarter_starts(first: datetime.date, last: datetime.date) -> Iterator[datetime.date]:
    q = datetime.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while q <= last:
        yield q
        q = _next_quarter(q)


def marketing_spend(sessions: np.ndarray, first: datetime.date, seed: int) -> pa.Table:
    """One row per (date, platform, campaign) while the campaign runs (see the module docstring),
    ordered by date, platform (PLATFORMS order), campaign_id. `sessions[d, p]` is the number of
    sessions of PLATFORMS[p].source that started on day `first + d`; the period is those days."""
    rng = np.random.default_rng([seed, 3])
    last = first + datetime.timedelta(days=len(sessions) - 1)
    # campaigns: (platform index, campaign id, kind weight, first day, last day) as day numbers
    camp_platform, camp_id, camp_weight, camp_from, camp_to = [], [], [], [], []
    for q in _quarter_starts(first, last):
        q_last = _next_quarter(q) - datetime.timedelta(days=1)
        qn = (q.month - 1) // 3 + 1
        span = (q_last - q).days
        for pi, plat in enumerate(PLATFORMS):
            for k, (kind, weight) in enumerate(plat.campaigns):
                if k == 0:  # always on
                    lo, hi = 0, span
                else:
                    lo = int(rng.integers(0, 25))
                    hi = span - int(rng.integers(0, 25))
                c_from = max(q + datetime.timedelta(days=lo), first)
                c_to = min(q + datetime.timedelta(days=hi), last)
                if c_from > c_to:
                    continue
                camp_platform.append(pi)
                camp_id.append(f"{plat.name.lower()}_{kind}_{q.year}q{qn}")
                camp_weight.append(weight)
                camp_from.append((c_from - EPOCH).days)
                camp_to.append((c_to - EPOCH).days)
    lengths = np.array(camp_to) - np.array(camp_from) + 1
    r_camp = np.repeat(np.arange(len(lengths)), lengths)  # each row's campaign, its days in order
    r_day = np.concatenate([np.arange(a, b + 1) for a, b in zip(camp_from, camp_to, strict=True)])
    r_plat = np.array(camp_platform)[r_camp]
    # the campaign's share of its platform that day: weights renormalised over active campaigns
    weight = np.array(camp_weight)[r_camp]
    key = (r_day - r_day.min()) * len(PLATFORMS) + r_plat
    share = weight / np.bincount(key, weights=weight)[key]
    day_sessions = sessions[r_day - (first - EPOCH).days, r_plat]
    cps = np.array([p.clicks_per_session for p in PLATFORMS])[r_plat]
    n = len(r_day)
    clicks = np.rint(day_sessions * cps * share * rng.lognormal(0, 0.25, n)).astype(np.int64)
    ctr = np.array([p.ctr for p in PLATFORMS])[r_plat] * rng.lognormal(0, 0.15, n)
    impressions = np.ceil(clicks / ctr).astype(np.int64)
    cpc = np.array([p.cpc for p in PLATFORMS])[r_plat] * rng.lognormal(0, 0.10, n)
    spend = np.round(clicks * cpc, 2)
    paused = rng.random(n) < 0.01
    clicks[paused] = 0
    impressions[paused] = 0
    spend[paused] = 0.0
    null_clicks = (rng.random(n) < 0.005) & ~paused
    order = np.lexsort((np.array(camp_id)[r_camp], r_plat, r_day))
    columns = {
        "date": pa.array(r_day[order].astype(np.int32), pa.date32()),
        "campaign_id": pa.array(np.array(camp_id)[r_camp[order]], pa.string()),
        "platform": pa.array(np.array([p.name for p in PLATFORMS])[r_plat[order]], pa.string()),
        "spend": pa.array(spend[order]),
        "clicks": pa.array(clicks[order], mask=null_clicks[order]),
        "impressions": pa.array(impressions[order]),
    }
    schema = RAW_SCHEMAS["marketing_spend"].to_pyarrow()
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)
