"""A plain-Python reference of the contract (docs/contract.md): every model as loops over lists of dicts.

Written from the contract alone (no ibis, no SQL, no pandas) so that the Ibis models can be held to it
table by table (tests/test_reference.py). Raw tables come in as lists of dicts with the source
contract's columns (timestamps as tz-aware UTC datetimes, dates as datetime.date); each function
returns a list of dicts with the contract's columns in the contract's order.

`build_all(raw, vars)` runs every model in dependency order and returns {model name: rows}.
Where the contract is silent, the choice made here is written next to the code (search "SILENT").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict

DEFAULT_VARS = {
    "session_timeout_minutes": 30,
    "attribution_lookback_hours": 24,
    "velocity_window_days": 30,
    "critical_days": 7,
    "low_days": 14,
    "overstock_days": 90,
    "lead_time_days": 14,
    "cover_days": 30,
    "visitor_salt": "",
}

# docs/contract.md#sources: event traffic source -> platform, case-sensitively; anything else -> None.
PLATFORM_OF_SOURCE = {"Adwords": "Google", "Facebook": "Facebook", "YouTube": "YouTube", "Email": "Email"}

# The key (grain) of every model, from the contract's "one row per ..." clauses.
KEYS = {
    "stg_orders": ("order_id",),
    "stg_order_items": ("order_item_id",),
    "stg_products": ("product_id",),
    "stg_users": ("user_id",),
    "stg_events": ("event_id",),
    "stg_inventory": ("inventory_item_id",),
    "stg_marketing": ("spend_date", "platform", "campaign_id"),
    "int_web_sessions": ("event_id",),
    "int_orders": ("order_id",),
    "int_user_acquisition": ("user_id",),
    "int_daily_sales": ("order_date",),
    "int_daily_marketing": ("spend_date", "platform"),
    "int_campaign_attribution": ("order_id",),
    "fact_daily_pnl": ("date",),
    "fact_daily_pnl_advanced": ("date",),
    "fact_campaign_performance": ("spend_date", "platform", "campaign_id"),
    "fact_session_metrics": ("session_id",),
    "fact_cohort_retention": ("cohort_month", "months_since_first"),
    "fact_product_performance": ("product_id",),
    "fact_inventory_forecast": ("product_id",),
    "dim_customers": ("user_id",),
    "dim_customer_segments": ("user_id",),
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def resolve_vars(raw: dict[str, list[dict]], given: dict) -> dict:
    """Defaults of docs/contract.md#parameters; as_of defaults to the latest DATE(orders.created_at)."""
    out = dict(DEFAULT_VARS)
    out.update(given or {})
    if out.get("as_of") is None:
        dates = [o["created_at"].date() for o in raw["orders"] if o["created_at"] is not None]
        if not dates:
            raise ValueError("no orders and no as_of given")
        out["as_of"] = max(dates)
    return out


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of a UTC day, at the sources' microsecond precision."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


def happened(ts: dt.datetime | None, as_of: dt.date) -> dt.datetime | None:
    """A timestamp as seen on as_of: later timestamps have not happened yet (NULL)."""
    return ts if ts is not None and ts <= end_of_day(as_of) else None


def ratio(num, den):
    """docs/contract.md#conventions: NULL when the denominator is 0 or NULL (or the numerator NULL)."""
    if num is None or den is None or den == 0:
        return None
    return num / den


def point_in_time_status(raw_status, shipped_at, delivered_at, returned_at) -> str:
    """docs/contract.md#staging: Cancelled (any case) stays cancelled; the rest from the timestamps.

    The timestamps given are already those that happened by as_of."""
    if raw_status is not None and raw_status.lower() == "cancelled":
        return "cancelled"
    if returned_at is not None:
        return "returned"
    if delivered_at is not None:
        return "complete"
    if shipped_at is not None:
        return "shipped"
    return "processing"


def cents(x: float) -> int:
    """A money amount rounded to cents (round half up), for rankings (docs/contract.md#conventions, money ties)."""
    return math.floor(x * 100 + 0.5)


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month


def index_to_month(i: int) -> dt.date:
    return dt.date((i - 1) // 12, (i - 1) % 12 + 1, 1)


def micros(delta: dt.timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def sql_rank(values: list, key, reverse: bool = False) -> list[int]:
    """SQL RANK(): 1 + the number of rows strictly before this one in the order (ties share)."""
    ks = [key(v) for v in values]
    if reverse:
        return [1 + sum(1 for o in ks if o > k) for k in ks]
    return [1 + sum(1 for o in ks if o < k) for k in ks]


# ---------------------------------------------------------------------------------------------
# staging
# ---------------------------------------------------------------------------------------------


def stg_orders(raw, v):
    as_of = v["as_of"]
    out = []
    for o in raw["orders"]:
        if o["created_at"] is None or o["created_at"] > end_of_day(as_of):
            continue
        shipped = happened(o["shipped_at"], as_of)
        delivered = happened(o["delivered_at"], as_of)
        returned = happened(o["returned_at"], as_of)
        out.append(
            {
                "order_id": o["order_id"],
                "user_id": o["user_id"],
                "status": point_in_time_status(o["status"], shipped, delivered, returned),
                "item_count": o["num_of_item"],
                "created_at": o["created_at"],
                "shipped_at": shipped,
                "delivered_at": delivered,
                "returned_at": returned,
                "order_date": o["created_at"].date(),
            }
        )
    return out


def stg_order_items(raw, v, orders):
    """Items follow their order (kept/dropped with it, its order_date); orphans are dropped, and so
    are items whose own created_at is NULL (docs/contract.md#parameters: they cannot be shown to exist)."""
    as_of = v["as_of"]
    order_by_id = {o["order_id"]: o for o in orders}
    out = []
    for i in raw["order_items"]:
        order = order_by_id.get(i["order_id"])
        if order is None or i["created_at"] is None:
            continue
        shipped = happened(i["shipped_at"], as_of)
        delivered = happened(i["delivered_at"], as_of)
        returned = happened(i["returned_at"], as_of)
        out.append(
            {
                "order_item_id": i["id"],
                "order_id": i["order_id"],
                "user_id": i["user_id"],
                "product_id": i["product_id"],
                "inventory_item_id": i["inventory_item_id"],
                "status": point_in_time_status(i["status"], shipped, delivered, returned),
                "sale_price": i["sale_price"],
                "created_at": i["created_at"],
                "shipped_at": shipped,
                "delivered_at": delivered,
                "returned_at": returned,
                "order_date": order["order_date"],
            }
        )
    return out


def stg_products(raw, v):
    return [
        {
            "product_id": p["id"],
            "name": p["name"],
            "brand": p["brand"],
            "category": p["category"],
            "department": p["department"],
            "sku": p["sku"],
            "cost": p["cost"],
            "retail_price": p["retail_price"],
            "distribution_center_id": p["distribution_center_id"],
        }
        for p in raw["products"]
    ]


def stg_users(raw, v):
    # "Staging drops rows created after the end of this day": users created after as_of too.
    # SILENT: a row with a NULL created_at is dropped too (it cannot be shown to exist by as_of);
    # the same for orders, events and inventory units.
    limit = end_of_day(v["as_of"])
    return [
        {
            "user_id": u["id"],
            "age": u["age"],
            "gender": u["gender"],
            "city": u["city"],
            "state": u["state"],
            "country": u["country"],
            "acquisition_source": u["traffic_source"],
            "created_at": u["created_at"],
            "signup_date": u["created_at"].date(),
        }
        for u in raw["users"]
        if u["created_at"] is not None and u["created_at"] <= limit
    ]


def ip_hash(ip: str | None, salt: str) -> str | None:
    """docs/contract.md#staging: the first 16 lower-case hex characters of SHA-256(salt || ip), UTF-8."""
    return None if ip is None else hashlib.sha256((salt + ip).encode("utf-8")).hexdigest()[:16]


def stg_events(raw, v):
    limit = end_of_day(v["as_of"])
    return [
        {
            "event_id": e["id"],
            "user_id": e["user_id"],
            "source_session_id": e["session_id"],
            "sequence_number": e["sequence_number"],
            "ip_hash": ip_hash(e["ip_address"], v["visitor_salt"]),
            "browser": e["browser"],
            "traffic_source": e["traffic_source"],
            "uri": e["uri"],
            "event_type": e["event_type"].lower() if e["event_type"] is not None else None,
            "created_at": e["created_at"],
            "event_date": e["created_at"].date(),
        }
        for e in raw["events"]
        if e["created_at"] is not None and e["created_at"] <= limit
    ]


def stg_inventory(raw, v):
    as_of = v["as_of"]
    limit = end_of_day(as_of)
    return [
        {
            "inventory_item_id": i["id"],
            "product_id": i["product_id"],
            "cost": i["cost"],
            "created_at": i["created_at"],
            "sold_at": happened(i["sold_at"], as_of),
        }
        for i in raw["inventory_items"]
        if i["created_at"] is not None and i["created_at"] <= limit
    ]


def stg_marketing(raw, v):
    return [
        {
            "spend_date": m["date"],
            "campaign_id": m["campaign_id"],
            "platform": m["platform"],
            "spend": m["spend"],
            "clicks": m["clicks"],
            "impressions": m["impressions"],
        }
        for m in raw["marketing_spend"]
        if m["date"] <= v["as_of"]
    ]


# ---------------------------------------------------------------------------------------------
# shared facts about orders
# ---------------------------------------------------------------------------------------------


def non_cancelled_orders(orders, items) -> dict[int, dict]:
    """order_id -> order, for orders with at least one non-cancelled item (status not consulted)."""
    ids = {i["order_id"] for i in items if i["status"] != "cancelled"}
    return {o["order_id"]: o for o in orders if o["order_id"] in ids}


def is_net(item) -> bool:
    return item["status"] not in ("cancelled", "returned")


def first_order_by_user(nc_orders: dict[int, dict]) -> dict[int, dict]:
    """user_id -> the user's first non-cancelled order (by created_at, then order_id)."""
    first: dict[int, dict] = {}
    for o in sorted(nc_orders.values(), key=lambda o: (o["created_at"], o["order_id"])):
        first.setdefault(o["user_id"], o)
    return first


# ---------------------------------------------------------------------------------------------
# intermediate
# ---------------------------------------------------------------------------------------------


def int_web_sessions(events, v):
    timeout = dt.timedelta(minutes=v["session_timeout_minutes"])
    by_visitor: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        if e["user_id"] is not None:
            visitor = f"u{e['user_id']}"
        elif e["ip_hash"] is not None:
            visitor = f"a{e['ip_hash']}"
        else:
            visitor = f"e{e['event_id']}"
        by_visitor[visitor].append(e)
    out = []
    for visitor, evs in by_visitor.items():
        evs.sort(key=lambda e: (e["created_at"], e["event_id"]))
        number = 0
        previous = None
        for e in evs:
            start = previous is None or e["created_at"] > previous + timeout
            if start:
                number += 1
            previous = e["created_at"]
            out.append(
                {
                    "event_id": e["event_id"],
                    "visitor_id": visitor,
                    "user_id": e["user_id"],
                    "session_number": number,
                    "session_id": f"{visitor}-{number}",
                    "is_session_start": start,
                    "created_at": e["created_at"],
                    "event_date": e["event_date"],
                    "event_type": e["event_type"],
                    "uri": e["uri"],
                    "traffic_source": e["traffic_source"],
                    "browser": e["browser"],
                }
            )
    return out


def int_orders(orders, items, products):
    """docs/contract.md#conventions: each non-cancelled order with the totals of its net items."""
    cost = {p["product_id"]: p["cost"] for p in products}
    totals: dict[int, list] = defaultdict(lambda: [0, 0.0, 0.0])
    for i in items:
        if is_net(i):
            t = totals[i["order_id"]]
            t[0] += 1
            t[1] += i["sale_price"]
            t[2] += cost[i["product_id"]]
    out = []
    for o in non_cancelled_orders(orders, items).values():
        net_items, revenue, net_cost = totals[o["order_id"]]
        out.append(
            {
                "order_id": o["order_id"],
                "user_id": o["user_id"],
                "ordered_at": o["created_at"],
                "order_date": o["order_date"],
                "net_items": net_items,
                "net_revenue": revenue,
                "net_cost": net_cost,
                "gross_profit": revenue - net_cost,
            }
        )
    return out


def int_user_acquisition(users, orders, items, events):
    first = first_order_by_user(non_cancelled_orders(orders, items))
    first_event: dict[int, dict] = {}
    for e in sorted(events, key=lambda e: (e["created_at"], e["event_id"])):
        if e["user_id"] is not None:
            first_event.setdefault(e["user_id"], e)
    out = []
    for u in users:
        o = first.get(u["user_id"])
        first_at = o["created_at"] if o else None
        first_date = first_at.date() if first_at else None
        days = (first_date - u["signup_date"]).days if first_date and u["signup_date"] else None
        ev = first_event.get(u["user_id"])
        out.append(
            {
                "user_id": u["user_id"],
                "signup_date": u["signup_date"],
                "acquisition_source": u["acquisition_source"],
                "first_order_at": first_at,
                "first_order_date": first_date,
                "days_to_first_order": days,
                "first_touch_traffic_source": ev["traffic_source"] if ev else None,
            }
        )
    return out


def int_daily_sales(orders, items, products):
    cost = {p["product_id"]: p["cost"] for p in products}
    user_of_order = {o["order_id"]: o["user_id"] for o in orders}
    nc = non_cancelled_orders(orders, items)
    first_date = {u: o["order_date"] for u, o in first_order_by_user(nc).items()}
    days: dict[dt.date, dict] = {}
    for i in items:
        if i["status"] == "cancelled":
            continue
        d = days.setdefault(
            i["order_date"],
            {"orders": set(), "items": 0, "gross": 0.0, "returned": 0.0, "cogs": 0.0, "users": set()},
        )
        d["orders"].add(i["order_id"])
        d["users"].add(user_of_order[i["order_id"]])
        d["gross"] += i["sale_price"]
        if i["status"] == "returned":
            d["returned"] += i["sale_price"]
        else:
            d["items"] += 1
            d["cogs"] += cost[i["product_id"]]
    out = []
    for day in sorted(days):
        d = days[day]
        net = d["gross"] - d["returned"]
        out.append(
            {
                "order_date": day,
                "orders": len(d["orders"]),
                "items_sold": d["items"],
                "gross_revenue": d["gross"],
                "returned_revenue": d["returned"],
                "net_revenue": net,
                "cogs": d["cogs"],
                "gross_profit": net - d["cogs"],
                "customers": len(d["users"]),
                "new_customers": sum(1 for f in first_date.values() if f == day),
            }
        )
    return out


def int_daily_marketing(marketing):
    groups: dict[tuple, dict] = {}
    for m in marketing:
        g = groups.setdefault(
            (m["spend_date"], m["platform"]),
            {"spend": 0.0, "clicks": 0, "impressions": 0, "campaigns": set()},
        )
        g["spend"] += m["spend"] or 0.0
        g["clicks"] += m["clicks"] or 0
        g["impressions"] += m["impressions"] or 0
        g["campaigns"].add(m["campaign_id"])
    return [
        {
            "spend_date": day,
            "platform": platform,
            "spend": g["spend"],
            "clicks": g["clicks"],
            "impressions": g["impressions"],
            "campaigns": len(g["campaigns"]),
        }
        for (day, platform), g in groups.items()
    ]


def top_campaigns(marketing) -> dict[tuple, str]:
    """(spend_date, platform) -> the campaign with the most clicks (NULL = 0; tie: smallest id)."""
    best: dict[tuple, tuple] = {}
    for m in marketing:
        k = (m["spend_date"], m["platform"])
        cand = (-(m["clicks"] or 0), m["campaign_id"])
        if k not in best or cand < best[k]:
            best[k] = cand
    return {k: c[1] for k, c in best.items()}


def session_starts(sessions) -> dict[str, list[dict]]:
    """visitor_id -> the start events of its sessions."""
    out: dict[str, list[dict]] = defaultdict(list)
    for s in sessions:
        if s["is_session_start"]:
            out[s["visitor_id"]].append(s)
    return out


def int_campaign_attribution(orders, items, products, sessions, marketing, v):
    cost = {p["product_id"]: p["cost"] for p in products}
    lookback = dt.timedelta(hours=v["attribution_lookback_hours"])
    campaigns = top_campaigns(marketing)
    starts = session_starts(sessions)
    nc = non_cancelled_orders(orders, items)
    revenue: dict[int, float] = defaultdict(float)
    profit: dict[int, float] = defaultdict(float)
    for i in items:
        if is_net(i):
            revenue[i["order_id"]] += i["sale_price"]
            profit[i["order_id"]] += i["sale_price"] - cost[i["product_id"]]
    out = []
    for o in nc.values():
        at = o["created_at"]
        candidates = [s for s in starts.get(f"u{o['user_id']}", []) if at - lookback <= s["created_at"] <= at]
        # SILENT: for organic/unmatched orders the winning session (if any), its traffic source and
        # its platform (if any) are still shown; campaign_id only when attributed.
        session_id = traffic_source = platform = campaign_id = None
        status = "unmatched"
        if candidates:
            win = max(candidates, key=lambda s: s["created_at"])
            session_id, traffic_source = win["session_id"], win["traffic_source"]
            platform = PLATFORM_OF_SOURCE.get(traffic_source)
            if platform is None:
                status = "organic"
            else:
                campaign_id = campaigns.get((o["order_date"], platform))
                status = "attributed" if campaign_id is not None else "unmatched"
        rev = revenue[o["order_id"]]
        out.append(
            {
                "order_id": o["order_id"],
                "user_id": o["user_id"],
                "order_date": o["order_date"],
                "ordered_at": at,
                "net_revenue": rev,
                # "that minus Σ product cost of those items"
                "gross_profit": profit[o["order_id"]],
                "session_id": session_id,
                "traffic_source": traffic_source,
                "platform": platform,
                "campaign_id": campaign_id,
                "attribution_status": status,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# marts
# ---------------------------------------------------------------------------------------------


def fact_daily_pnl(orders, daily_sales, daily_marketing, marketing, v):
    starts = [o["order_date"] for o in orders] + [m["spend_date"] for m in marketing]
    if not starts:
        return []
    sales = {d["order_date"]: d for d in daily_sales}
    spend: dict[dt.date, float] = defaultdict(float)
    for m in daily_marketing:
        spend[m["spend_date"]] += m["spend"]
    out = []
    day = min(starts)
    while day <= v["as_of"]:
        s = sales.get(day)

        def get(c, s=s):
            return s[c] if s else 0

        ad = spend.get(day, 0.0)
        net = float(get("net_revenue"))
        gp = float(get("gross_profit"))
        out.append(
            {
                "date": day,
                "orders": get("orders"),
                "items_sold": get("items_sold"),
                "gross_revenue": float(get("gross_revenue")),
                "returned_revenue": float(get("returned_revenue")),
                "net_revenue": net,
                "cogs": float(get("cogs")),
                "gross_profit": gp,
                "gross_margin": ratio(gp, net),
                "ad_spend": ad,
                "contribution_profit": gp - ad,
                "roas": ratio(net, ad),
                "aov": ratio(net, get("orders")),
                "customers": get("customers"),
                "new_customers": get("new_customers"),
            }
        )
        day += dt.timedelta(days=1)
    return out


def fact_daily_pnl_advanced(pnl):
    by_day = {r["date"]: r for r in pnl}

    def window(day: dt.date, first: int, last: int, col: str) -> float:
        """Σ col over [day - first, day - last] (days outside the spine count 0)."""
        total = 0.0
        for k in range(last, first + 1):
            r = by_day.get(day - dt.timedelta(days=k))
            total += r[col] if r else 0.0
        return total

    out = []
    for r in pnl:
        day = r["date"]
        row = dict(r)
        for n in (7, 30):
            row[f"net_revenue_{n}d"] = window(day, n - 1, 0, "net_revenue")
            row[f"ad_spend_{n}d"] = window(day, n - 1, 0, "ad_spend")
            row[f"gross_profit_{n}d"] = window(day, n - 1, 0, "gross_profit")
        row["roas_7d"] = ratio(row["net_revenue_7d"], row["ad_spend_7d"])
        row["roas_30d"] = ratio(row["net_revenue_30d"], row["ad_spend_30d"])
        # running sums restart with each month / year (the spine is in date order)
        previous = out[-1] if out else None
        same_month = previous is not None and month_start(previous["date"]) == month_start(day)
        same_year = previous is not None and previous["date"].year == day.year
        row["net_revenue_mtd"] = (previous["net_revenue_mtd"] if same_month else 0.0) + r["net_revenue"]
        row["net_revenue_ytd"] = (previous["net_revenue_ytd"] if same_year else 0.0) + r["net_revenue"]
        row["cumulative_net_revenue"] = (previous["cumulative_net_revenue"] if previous else 0.0) + r["net_revenue"]
        prev = window(day, 370, 364, "net_revenue")
        row["net_revenue_7d_prev_year"] = prev
        row["yoy_growth_7d"] = ratio(row["net_revenue_7d"] - prev, prev)
        out.append(row)
    return out


def fact_campaign_performance(marketing, attribution):
    got: dict[tuple, list[dict]] = defaultdict(list)
    for a in attribution:
        if a["attribution_status"] == "attributed":
            got[(a["order_date"], a["platform"], a["campaign_id"])].append(a)
    out = []
    for m in marketing:
        orders = got.get((m["spend_date"], m["platform"], m["campaign_id"]), [])
        n = len(orders)
        # SILENT: no attributed orders -> attributed_revenue / gross_profit 0 (a count and sums).
        rev = sum(a["net_revenue"] for a in orders) if orders else 0.0
        gp = sum(a["gross_profit"] for a in orders) if orders else 0.0
        out.append(
            {
                "spend_date": m["spend_date"],
                "platform": m["platform"],
                "campaign_id": m["campaign_id"],
                "spend": m["spend"],
                "clicks": m["clicks"],
                "impressions": m["impressions"],
                "attributed_orders": n,
                "attributed_revenue": rev,
                "attributed_gross_profit": gp,
                "ctr": ratio(m["clicks"], m["impressions"]),
                "cpc": ratio(m["spend"], m["clicks"]),
                "cpa": ratio(m["spend"], n),
                "roas": ratio(rev, m["spend"]),
                "conversion_rate": ratio(n, m["clicks"]),
            }
        )
    return out


def fact_session_metrics(sessions):
    by_session: dict[str, list[dict]] = defaultdict(list)
    for s in sessions:
        by_session[s["session_id"]].append(s)
    out = []
    for sid, evs in by_session.items():
        evs.sort(key=lambda e: (e["created_at"], e["event_id"]))
        first, last = evs[0], evs[-1]
        types = [e["event_type"] for e in evs]
        out.append(
            {
                "session_id": sid,
                "visitor_id": first["visitor_id"],
                "user_id": first["user_id"],
                "is_identified": first["user_id"] is not None,
                "session_date": first["created_at"].date(),
                "session_start": first["created_at"],
                "session_end": last["created_at"],
                "duration_seconds": micros(last["created_at"] - first["created_at"]) / 1e6,
                "event_count": len(evs),
                "product_views": types.count("product"),
                "has_cart": "cart" in types,
                "has_purchase": "purchase" in types,
                "landing_uri": first["uri"],
                "landing_event_type": first["event_type"],
                "traffic_source": first["traffic_source"],
                "platform": PLATFORM_OF_SOURCE.get(first["traffic_source"]),
                "browser": first["browser"],
            }
        )
    return out


def fact_cohort_retention(orders, items, v):
    nc = non_cancelled_orders(orders, items)
    cohort = {u: month_index(o["order_date"]) for u, o in first_order_by_user(nc).items()}
    active: dict[tuple, set] = defaultdict(set)  # (cohort, month) -> users
    for o in nc.values():
        active[(cohort[o["user_id"]], month_index(o["order_date"]))].add(o["user_id"])
    revenue: dict[tuple, float] = defaultdict(float)
    for i in items:
        if is_net(i):
            user = nc[i["order_id"]]["user_id"]
            revenue[(cohort[user], month_index(i["order_date"]))] += i["sale_price"]
    size: dict[int, int] = defaultdict(int)
    for c in cohort.values():
        size[c] += 1
    last = month_index(v["as_of"])
    out = []
    for c in sorted(size):
        cumulative = 0.0
        for m in range(c, last + 1):
            act = len(active.get((c, m), ()))
            net = revenue.get((c, m), 0.0)
            cumulative += net
            out.append(
                {
                    "cohort_month": index_to_month(c),
                    "months_since_first": m - c,
                    "cohort_size": size[c],
                    "active_customers": act,
                    "retention_rate": ratio(act, size[c]),
                    "net_revenue": net,
                    "cumulative_net_revenue_per_customer": ratio(cumulative, size[c]),
                }
            )
    return out


def fact_product_performance(products, items):
    stats = {p["product_id"]: {"sold": 0, "returned": 0, "net": 0.0} for p in products}
    for i in items:
        s = stats.get(i["product_id"])
        if s is None:
            continue
        if i["status"] == "returned":
            s["returned"] += 1
        elif is_net(i):
            s["sold"] += 1
            s["net"] += i["sale_price"]
    total = sum(s["net"] for s in stats.values())
    rows = []
    for p in products:
        s = stats[p["product_id"]]
        cogs = s["sold"] * p["cost"]
        rows.append(
            {
                "product_id": p["product_id"],
                "name": p["name"],
                "brand": p["brand"],
                "category": p["category"],
                "department": p["department"],
                "cost": p["cost"],
                "retail_price": p["retail_price"],
                "units_sold": s["sold"],
                "units_returned": s["returned"],
                "net_revenue": s["net"],
                "cogs": cogs,
                "gross_profit": s["net"] - cogs,
                "margin_pct": ratio(s["net"] - cogs, s["net"]),
                "return_rate": ratio(s["returned"], s["sold"] + s["returned"]),
            }
        )
    rows.sort(key=lambda r: (-cents(r["net_revenue"]), r["product_id"]))
    running = 0.0
    for rank, r in enumerate(rows, start=1):
        running += r["net_revenue"]
        r["revenue_rank"] = rank
        # SILENT: with zero total net revenue the shares are NULL (ratio convention).
        r["revenue_share"] = ratio(r["net_revenue"], total)
        r["cumulative_revenue_share"] = ratio(running, total)
    return rows


def fact_inventory_forecast(products, items, inventory, v):
    as_of, w = v["as_of"], v["velocity_window_days"]
    window_start = as_of - dt.timedelta(days=w - 1)
    stock: dict[int, int] = defaultdict(int)
    for i in inventory:
        if i["sold_at"] is None:  # created by as_of (staging) and not sold by it
            stock[i["product_id"]] += 1
    sold: dict[int, int] = defaultdict(int)
    last_sale: dict[int, dt.date] = {}
    for i in items:
        if i["status"] == "cancelled" or i["order_date"] > as_of:
            continue
        if window_start <= i["order_date"]:
            sold[i["product_id"]] += 1
        last_sale[i["product_id"]] = max(last_sale.get(i["product_id"], i["order_date"]), i["order_date"])
    out = []
    for p in products:
        pid = p["product_id"]
        s, u = stock[pid], sold[pid]
        avg = u / w
        if s == 0:
            status = "out_of_stock"
        elif u == 0:
            status = "dead_stock"
        elif s * w < v["critical_days"] * u:
            status = "critical"
        elif s * w < v["low_days"] * u:
            status = "low"
        elif s * w > v["overstock_days"] * u:
            status = "overstocked"
        else:
            status = "healthy"
        need = -(-(u * (v["lead_time_days"] + v["cover_days"])) // w)  # integer ceiling division
        qty = 0 if u == 0 else max(0, need - s)
        last = last_sale.get(pid)
        out.append(
            {
                "product_id": pid,
                "name": p["name"],
                "brand": p["brand"],
                "category": p["category"],
                "department": p["department"],
                "cost": p["cost"],
                "stock_on_hand": s,
                "stock_value": s * p["cost"],
                "units_sold_window": u,
                "avg_daily_units": avg,
                "days_of_stock": ratio(s, avg),
                "last_sale_date": last,
                "days_since_last_sale": (as_of - last).days if last else None,
                "inventory_status": status,
                "reorder_qty": qty,
                "reorder_value": qty * p["cost"],
            }
        )
    return out


def age_band(age):
    if age is None:
        return None
    for upper, band in ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")):
        if age < upper:
            return band
    return "65+"


def dim_customers(users, orders, items, products, v):
    as_of = v["as_of"]
    cost = {p["product_id"]: p["cost"] for p in products}
    nc = non_cancelled_orders(orders, items)
    dates: dict[int, list[dt.date]] = defaultdict(list)
    for o in nc.values():
        dates[o["user_id"]].append(o["order_date"])
    net_items: dict[int, int] = defaultdict(int)
    revenue: dict[int, float] = defaultdict(float)
    costs: dict[int, float] = defaultdict(float)
    for i in items:
        if is_net(i):
            user = nc[i["order_id"]]["user_id"]
            net_items[user] += 1
            revenue[user] += i["sale_price"]
            costs[user] += cost[i["product_id"]]
    out = []
    for u in users:
        uid = u["user_id"]
        ds = dates.get(uid, [])
        first = min(ds) if ds else None
        last = max(ds) if ds else None
        rev = revenue.get(uid, 0.0)
        out.append(
            {
                "user_id": uid,
                "signup_date": u["signup_date"],
                "age": u["age"],
                "age_band": age_band(u["age"]),
                "gender": u["gender"],
                "country": u["country"],
                "state": u["state"],
                "city": u["city"],
                "acquisition_source": u["acquisition_source"],
                "first_order_date": first,
                "last_order_date": last,
                "orders": len(ds),
                "items": net_items.get(uid, 0),
                "lifetime_net_revenue": rev,
                "lifetime_gross_profit": rev - costs.get(uid, 0.0),
                "avg_order_value": ratio(rev, len(ds)),
                "days_since_last_order": (as_of - last).days if last else None,
                "tenure_days": (as_of - u["signup_date"]).days if u["signup_date"] else None,
                "is_customer": len(ds) > 0,
            }
        )
    return out


def score(rank: int, n: int) -> int:
    """min(5, 1 + floor(5 p)), p = (rank - 1) / (n - 1), 0 when n = 1 (exact integer form)."""
    if n == 1:
        return 1
    return min(5, 1 + (5 * (rank - 1)) // (n - 1))


def segment(r: int, fm: int) -> str:
    if r >= 4:
        return "Champions" if fm >= 4 else "Potential Loyalists" if fm >= 2 else "New Customers"
    if r == 3:
        return "Loyal Customers" if fm >= 3 else "Need Attention"
    if fm >= 3:
        return "At Risk"
    return "Hibernating" if r == 2 else "Lost"


def dim_customer_segments(customers):
    cs = [c for c in customers if c["is_customer"]]
    n = len(cs)
    r_rank = sql_rank(cs, key=lambda c: c["days_since_last_order"], reverse=True)
    f_rank = sql_rank(cs, key=lambda c: c["orders"])
    m_rank = sql_rank(cs, key=lambda c: cents(c["lifetime_net_revenue"]))
    out = []
    for c, rr, fr, mr in zip(cs, r_rank, f_rank, m_rank, strict=True):
        r, f, m = score(rr, n), score(fr, n), score(mr, n)
        fm = (f + m + 1) // 2
        out.append(
            {
                "user_id": c["user_id"],
                "recency_days": c["days_since_last_order"],
                "frequency": c["orders"],
                "monetary": c["lifetime_net_revenue"],
                "r_score": r,
                "f_score": f,
                "m_score": m,
                "fm_score": fm,
                "segment": segment(r, fm),
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# multi-touch attribution, funnel, channel economics (docs/contract.md#fact_attribution_models and the next two)
# ---------------------------------------------------------------------------------------------

DEFAULT_VARS.update(touch_window_days=7, time_decay_half_life_hours=24)
KEYS.update(
    fact_attribution_models=("date", "channel", "attribution_model"),
    fact_funnel_daily=("session_date", "channel"),
    fact_channel_economics=("cohort_month", "channel"),
)
CHANNELS = ["Google", "Facebook", "YouTube", "Email", "Organic", "Unattributed"]
ATTRIBUTION_MODELS = ["last_touch", "first_touch", "linear", "position_based", "time_decay"]


def channel(session) -> str:
    return session["platform"] if session["platform"] is not None else "Organic"


def touches_of(order, sessions_by_visitor, v) -> list[dict]:
    """The order's touches: sessions of 'u' || user_id with ordered_at - window <= start <= ordered_at."""
    at = order["ordered_at"]
    window = dt.timedelta(days=v["touch_window_days"])
    found = [s for s in sessions_by_visitor.get(f"u{order['user_id']}", []) if at - window <= s["session_start"] <= at]
    return sorted(found, key=lambda s: (s["session_start"], s["session_id"]))


def credits(order, touches, v) -> dict[str, list[tuple[str, float]]]:
    """attribution_model -> [(channel, credit)] for one order, straight from the contract's words."""
    if not touches:
        return {m: [("Unattributed", 1.0)] for m in ATTRIBUTION_MODELS}
    n = len(touches)
    chans = [channel(t) for t in touches]
    if n == 1:
        position = [1.0]
    elif n == 2:
        position = [0.5, 0.5]
    else:
        position = [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
    weights = [
        2 ** (-(micros(order["ordered_at"] - t["session_start"]) / 3.6e9) / v["time_decay_half_life_hours"])
        for t in touches
    ]
    return {
        "last_touch": [(chans[-1], 1.0)],
        "first_touch": [(chans[0], 1.0)],
        "linear": [(c, 1 / n) for c in chans],
        "position_based": list(zip(chans, position, strict=True)),
        "time_decay": [(c, w / sum(weights)) for c, w in zip(chans, weights, strict=True)],
    }


def by_visitor(session_metrics) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for s in session_metrics:
        out[s["visitor_id"]].append(s)
    return out


def fact_attribution_models(attribution, session_metrics, pnl, daily_marketing, v):
    sessions = by_visitor(session_metrics)
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for o in attribution:
        for model, shares in credits(o, touches_of(o, sessions, v), v).items():
            for chan, credit in shares:
                acc = sums[(o["order_date"], chan, model)]
                acc[0] += credit
                acc[1] += credit * o["net_revenue"]
                acc[2] += credit * o["gross_profit"]
    spend = {(m["spend_date"], m["platform"]): m["spend"] for m in daily_marketing}
    out = []
    for day in (r["date"] for r in pnl):
        for chan in CHANNELS:
            for model in ATTRIBUTION_MODELS:
                orders_, revenue, profit = sums.get((day, chan, model), [0.0, 0.0, 0.0])
                s = spend.get((day, chan), 0.0) if chan in PLATFORM_OF_SOURCE.values() else None
                out.append(
                    {
                        "date": day,
                        "channel": chan,
                        "attribution_model": model,
                        "credited_orders": orders_,
                        "credited_revenue": revenue,
                        "credited_gross_profit": profit,
                        "spend": s,
                        "roas": ratio(revenue, s),
                        "cpa": ratio(s, orders_),
                    }
                )
    return out


def fact_funnel_daily(session_metrics):
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for s in session_metrics:
        groups[(s["session_date"], channel(s))].append(s)
    out = []
    for (day, chan), ss in groups.items():
        n = len(ss)
        counts = {
            "sessions": n,
            "identified_sessions": sum(s["is_identified"] for s in ss),
            "product_view_sessions": sum(s["product_views"] > 0 for s in ss),
            "cart_sessions": sum(s["has_cart"] for s in ss),
            "purchase_sessions": sum(s["has_purchase"] for s in ss),
            "cart_purchase_sessions": sum(s["has_cart"] and s["has_purchase"] for s in ss),
            "bounced_sessions": sum(s["event_count"] == 1 for s in ss),
        }
        out.append(
            {
                "session_date": day,
                "channel": chan,
                **counts,
                "avg_duration_seconds": sum(s["duration_seconds"] for s in ss) / n,
                "product_view_rate": counts["product_view_sessions"] / n,
                "cart_rate": counts["cart_sessions"] / n,
                "purchase_rate": counts["purchase_sessions"] / n,
                "bounce_rate": counts["bounced_sessions"] / n,
                "cart_to_purchase_rate": ratio(counts["cart_purchase_sessions"], counts["cart_sessions"]),
            }
        )
    return out


def last_day_of_month(month: dt.date) -> dt.date:
    return index_to_month(month_index(month) + 1) - dt.timedelta(days=1)


def fact_channel_economics(attribution, session_metrics, pnl, daily_marketing, v):
    sessions = by_visitor(session_metrics)
    first: dict[int, dict] = {}
    for o in sorted(attribution, key=lambda o: (o["ordered_at"], o["order_id"])):
        first.setdefault(o["user_id"], o)
    customer: dict[int, tuple] = {}  # user -> (cohort_month, channel, first order date)
    for user, o in first.items():
        touches = touches_of(o, sessions, v)
        chan = channel(touches[0]) if touches else "Unattributed"
        customer[user] = (month_start(o["order_date"]), chan, o["order_date"])
    new_customers: dict[tuple, int] = defaultdict(int)
    for month, chan, _ in customer.values():
        new_customers[(month, chan)] += 1
    amounts: dict[tuple, float] = defaultdict(float)
    for o in attribution:
        month, chan, first_date = customer[o["user_id"]]
        age = (o["order_date"] - first_date).days
        for n in (30, 90, 365):
            if age <= n - 1:
                amounts[(month, chan, f"revenue_{n}d")] += o["net_revenue"]
        if age <= 364:
            amounts[(month, chan, "gross_profit_365d")] += o["gross_profit"]
    spend: dict[tuple, float] = defaultdict(float)
    for m in daily_marketing:
        spend[(month_start(m["spend_date"]), m["platform"])] += m["spend"]
    months = sorted({month_start(r["date"]) for r in pnl})
    out = []
    for month in months:
        for chan in CHANNELS:
            customers = new_customers.get((month, chan), 0)
            s = spend.get((month, chan), 0.0) if chan in PLATFORM_OF_SOURCE.values() else None
            cac = ratio(s, customers)

            def observed(column: str, n: int, month=month, chan=chan):
                # the N-day window has ended for every customer of the month
                ended = last_day_of_month(month) + dt.timedelta(days=n - 1) <= v["as_of"]
                return amounts.get((month, chan, column), 0.0) if ended else None

            row = {"cohort_month": month, "channel": chan, "new_customers": customers, "spend": s, "cac": cac}
            row.update({f"revenue_{n}d": observed(f"revenue_{n}d", n) for n in (30, 90, 365)})
            row["gross_profit_365d"] = observed("gross_profit_365d", 365)
            row.update({f"ltv_{n}d": ratio(row[f"revenue_{n}d"], customers) for n in (30, 90, 365)})
            row["gp_ltv_365d"] = ratio(row["gross_profit_365d"], customers)
            row["ltv_to_cac_365d"] = ratio(row["gp_ltv_365d"], cac)
            out.append(row)
    return out


def build_new_marts(m: dict[str, list[dict]], v: dict) -> None:
    """The three marts above, added to build_all's models."""
    attribution, sessions = m["int_campaign_attribution"], m["fact_session_metrics"]
    pnl, daily_marketing = m["fact_daily_pnl"], m["int_daily_marketing"]
    m["fact_attribution_models"] = fact_attribution_models(attribution, sessions, pnl, daily_marketing, v)
    m["fact_funnel_daily"] = fact_funnel_daily(sessions)
    m["fact_channel_economics"] = fact_channel_economics(attribution, sessions, pnl, daily_marketing, v)


# ---------------------------------------------------------------------------------------------


def build_all(raw: dict[str, list[dict]], given_vars: dict | None = None) -> dict[str, list[dict]]:
    """Every model of the contract from the raw tables (lists of dicts), in dependency order."""
    v = resolve_vars(raw, given_vars or {})
    m: dict[str, list[dict]] = {}
    m["stg_orders"] = stg_orders(raw, v)
    m["stg_order_items"] = stg_order_items(raw, v, m["stg_orders"])
    m["stg_products"] = stg_products(raw, v)
    m["stg_users"] = stg_users(raw, v)
    m["stg_events"] = stg_events(raw, v)
    m["stg_inventory"] = stg_inventory(raw, v)
    m["stg_marketing"] = stg_marketing(raw, v)
    orders, items, products = m["stg_orders"], m["stg_order_items"], m["stg_products"]
    m["int_web_sessions"] = int_web_sessions(m["stg_events"], v)
    m["int_orders"] = int_orders(orders, items, products)
    m["int_user_acquisition"] = int_user_acquisition(m["stg_users"], orders, items, m["stg_events"])
    m["int_daily_sales"] = int_daily_sales(orders, items, products)
    m["int_daily_marketing"] = int_daily_marketing(m["stg_marketing"])
    m["int_campaign_attribution"] = int_campaign_attribution(
        orders, items, products, m["int_web_sessions"], m["stg_marketing"], v
    )
    m["fact_daily_pnl"] = fact_daily_pnl(orders, m["int_daily_sales"], m["int_daily_marketing"], m["stg_marketing"], v)
    m["fact_daily_pnl_advanced"] = fact_daily_pnl_advanced(m["fact_daily_pnl"])
    m["fact_campaign_performance"] = fact_campaign_performance(m["stg_marketing"], m["int_campaign_attribution"])
    m["fact_session_metrics"] = fact_session_metrics(m["int_web_sessions"])
    m["fact_cohort_retention"] = fact_cohort_retention(orders, items, v)
    m["fact_product_performance"] = fact_product_performance(products, items)
    m["fact_inventory_forecast"] = fact_inventory_forecast(products, items, m["stg_inventory"], v)
    m["dim_customers"] = dim_customers(m["stg_users"], orders, items, products, v)
    m["dim_customer_segments"] = dim_customer_segments(m["dim_customers"])
    build_new_marts(m, v)
    return m
