"""Shared test data for the report tests: `fake_marts()`, a small deterministic generator of plausible
marts with the contract's columns and types (the schemas below, docs/contract.md#models), and the
helpers that put them in DuckDB, give their build variables and render their report.

tests/test_report.py (CLI, BigQuery compile, scale) and tests/test_report_browser.py render whole
reports from `fake_marts()`.
"""

from __future__ import annotations

import datetime as dt
import random

import ibis

AS_OF = dt.date(2024, 6, 30)
PLATFORMS = ("Google", "Facebook", "YouTube", "Email")
SOURCES = ("Search", "Organic", "Facebook", "Email", "Display")
CATEGORIES = ("Jeans", "Tops & Tees", "Sweaters", "Shorts", "Accessories", "Outerwear & Coats", "Socks", "Dresses")

MONEY = "float64"

PNL_SCHEMA = dict(
    date="date",
    orders="int64",
    items_sold="int64",
    gross_revenue=MONEY,
    returned_revenue=MONEY,
    net_revenue=MONEY,
    cogs=MONEY,
    gross_profit=MONEY,
    gross_margin=MONEY,
    ad_spend=MONEY,
    contribution_profit=MONEY,
    roas=MONEY,
    aov=MONEY,
    customers="int64",
    new_customers="int64",
)
PNL_ADVANCED_SCHEMA = {
    **PNL_SCHEMA,
    **{f"{m}_{n}d": MONEY for n in (7, 30) for m in ("net_revenue", "ad_spend", "gross_profit")},
    "roas_7d": MONEY,
    "roas_30d": MONEY,
    "net_revenue_mtd": MONEY,
    "net_revenue_ytd": MONEY,
    "cumulative_net_revenue": MONEY,
    "net_revenue_7d_prev_year": MONEY,
    "yoy_growth_7d": MONEY,
}
CAMPAIGN_SCHEMA = dict(
    spend_date="date",
    platform="string",
    campaign_id="string",
    spend=MONEY,
    clicks="int64",
    impressions="int64",
    attributed_orders="int64",
    attributed_revenue=MONEY,
    attributed_gross_profit=MONEY,
    ctr=MONEY,
    cpc=MONEY,
    cpa=MONEY,
    roas=MONEY,
    conversion_rate=MONEY,
)
COHORT_SCHEMA = dict(
    cohort_month="date",
    months_since_first="int64",
    cohort_size="int64",
    active_customers="int64",
    retention_rate=MONEY,
    net_revenue=MONEY,
    cumulative_net_revenue_per_customer=MONEY,
)
# the product attributes fact_product_performance and fact_inventory_forecast both open with
_PRODUCT_ATTRS = dict(
    product_id="int64",
    name="string",
    brand="string",
    category="string",
    department="string",
    cost=MONEY,
)
PRODUCT_SCHEMA = dict(
    **_PRODUCT_ATTRS,
    retail_price=MONEY,
    units_sold="int64",
    units_returned="int64",
    net_revenue=MONEY,
    cogs=MONEY,
    gross_profit=MONEY,
    margin_pct=MONEY,
    return_rate=MONEY,
    revenue_rank="int64",
    revenue_share=MONEY,
    cumulative_revenue_share=MONEY,
)
INV_SCHEMA = dict(
    **_PRODUCT_ATTRS,
    stock_on_hand="int64",
    stock_value=MONEY,
    units_sold_window="int64",
    avg_daily_units=MONEY,
    days_of_stock=MONEY,
    last_sale_date="date",
    days_since_last_sale="int64",
    inventory_status="string",
    reorder_qty="int64",
    reorder_value=MONEY,
)
CUST_SCHEMA = dict(
    user_id="int64",
    signup_date="date",
    age="int64",
    age_band="string",
    gender="string",
    country="string",
    state="string",
    city="string",
    acquisition_source="string",
    first_order_date="date",
    last_order_date="date",
    orders="int64",
    items="int64",
    lifetime_net_revenue=MONEY,
    lifetime_gross_profit=MONEY,
    avg_order_value=MONEY,
    days_since_last_order="int64",
    tenure_days="int64",
    is_customer="boolean",
)
SEG_SCHEMA = dict(
    user_id="int64",
    recency_days="int64",
    frequency="int64",
    monetary=MONEY,
    r_score="int64",
    f_score="int64",
    m_score="int64",
    fm_score="int64",
    segment="string",
)
SESSION_SCHEMA = dict(
    session_id="string",
    visitor_id="string",
    user_id="int64",
    is_identified="boolean",
    session_date="date",
    session_start="timestamp('UTC')",
    session_end="timestamp('UTC')",
    duration_seconds=MONEY,
    event_count="int64",
    product_views="int64",
    has_cart="boolean",
    has_purchase="boolean",
    landing_uri="string",
    landing_event_type="string",
    traffic_source="string",
    platform="string",
    browser="string",
)
ATTRIBUTION_SCHEMA = dict(
    date="date",
    channel="string",
    attribution_model="string",
    credited_orders=MONEY,
    credited_revenue=MONEY,
    credited_gross_profit=MONEY,
    spend=MONEY,
    roas=MONEY,
    cpa=MONEY,
)
FUNNEL_SCHEMA = dict(
    session_date="date",
    channel="string",
    sessions="int64",
    identified_sessions="int64",
    product_view_sessions="int64",
    cart_sessions="int64",
    purchase_sessions="int64",
    cart_purchase_sessions="int64",
    bounced_sessions="int64",
    avg_duration_seconds=MONEY,
    product_view_rate=MONEY,
    cart_rate=MONEY,
    purchase_rate=MONEY,
    bounce_rate=MONEY,
    cart_to_purchase_rate=MONEY,
)
ECONOMICS_SCHEMA = dict(
    cohort_month="date",
    channel="string",
    new_customers="int64",
    spend=MONEY,
    cac=MONEY,
    revenue_30d=MONEY,
    revenue_90d=MONEY,
    revenue_365d=MONEY,
    gross_profit_365d=MONEY,
    ltv_30d=MONEY,
    ltv_90d=MONEY,
    ltv_365d=MONEY,
    gp_ltv_365d=MONEY,
    ltv_to_cac_365d=MONEY,
)
CHANNELS = (*PLATFORMS, "Organic", "Unattributed")
MODELS = ("last_touch", "first_touch", "linear", "position_based", "time_decay")
VARS_SCHEMA = dict(name="string", value="string")


def mem_records(schema: dict[str, str], records: list[dict]) -> ibis.Table:
    """A memtable of `schema` from rows given as dicts (keys beyond the schema are ignored)."""
    return ibis.memtable({k: [r[k] for r in records] for k in schema}, schema=ibis.schema(schema))


def _ratio(a, b):
    return None if a is None or not b else a / b


def fake_marts(seed: int = 7, days: int = 240, n_products: int = 400, n_users: int = 1500) -> dict:
    """Plausible marts with the contract's columns (values are consistent enough to look real, not exact)."""
    rng = random.Random(seed)
    start = AS_OF - dt.timedelta(days=days - 1)
    dates = [start + dt.timedelta(days=i) for i in range(days)]

    # fact_campaign_performance: 3 campaigns per platform, every day
    campaigns = [(p, f"{p[:2].lower()}-{i:03d}") for p in PLATFORMS for i in range(1, 4)]
    quality = {c: rng.uniform(0.5, 4.0) for c in campaigns}
    camp_rows = []
    for d in dates:
        season = 1 + 0.3 * (d.timetuple().tm_yday % 90) / 90
        for p, cid in campaigns:
            spend = round(rng.uniform(20, 180) * season, 2)
            impressions = rng.randint(2000, 20000)
            clicks = int(impressions * rng.uniform(0.005, 0.05))
            orders = max(0, int(rng.gauss(spend * quality[(p, cid)] / 80, 1)))
            revenue = round(orders * rng.uniform(50, 110), 2)
            profit = round(revenue * rng.uniform(0.35, 0.55), 2)
            camp_rows.append(
                dict(
                    spend_date=d,
                    platform=p,
                    campaign_id=cid,
                    spend=spend,
                    clicks=clicks,
                    impressions=impressions,
                    attributed_orders=orders,
                    attributed_revenue=revenue,
                    attributed_gross_profit=profit,
                    ctr=_ratio(clicks, impressions),
                    cpc=_ratio(spend, clicks),
                    cpa=_ratio(spend, orders),
                    roas=_ratio(revenue, spend),
                    conversion_rate=_ratio(orders, clicks),
                )
            )

    # fact_daily_pnl(_advanced)
    spend_by_day: dict[dt.date, float] = {}
    for r in camp_rows:
        spend_by_day[r["spend_date"]] = spend_by_day.get(r["spend_date"], 0.0) + r["spend"]
    pnl = []
    for i, d in enumerate(dates):
        orders = int(60 + 25 * (i / days) + rng.randint(-10, 10))
        gross = round(orders * rng.uniform(70, 95), 2)
        returned = round(gross * rng.uniform(0.05, 0.12), 2)
        net = gross - returned
        cogs = round(net * rng.uniform(0.45, 0.55), 2)
        gp = net - cogs
        spend = spend_by_day[d]
        pnl.append(
            dict(
                date=d,
                orders=orders,
                items_sold=int(orders * 1.4),
                gross_revenue=gross,
                returned_revenue=returned,
                net_revenue=net,
                cogs=cogs,
                gross_profit=gp,
                gross_margin=_ratio(gp, net),
                ad_spend=spend,
                contribution_profit=gp - spend,
                roas=_ratio(net, spend),
                aov=_ratio(net, orders),
                customers=orders - 2,
                new_customers=orders // 3,
            )
        )
    adv = []
    cum = 0.0
    for i, r in enumerate(pnl):
        w7, w30 = pnl[max(0, i - 6) : i + 1], pnl[max(0, i - 29) : i + 1]
        cum += r["net_revenue"]
        s = {
            f"{m}_{n}d": sum(x[m] for x in w)
            for n, w in ((7, w7), (30, w30))
            for m in ("net_revenue", "ad_spend", "gross_profit")
        }
        mtd = sum(
            x["net_revenue"]
            for x in pnl[: i + 1]
            if x["date"].month == r["date"].month and x["date"].year == r["date"].year
        )
        ytd = sum(x["net_revenue"] for x in pnl[: i + 1] if x["date"].year == r["date"].year)
        adv.append(
            {
                **r,
                **s,
                "roas_7d": _ratio(s["net_revenue_7d"], s["ad_spend_7d"]),
                "roas_30d": _ratio(s["net_revenue_30d"], s["ad_spend_30d"]),
                "net_revenue_mtd": mtd,
                "net_revenue_ytd": ytd,
                "cumulative_net_revenue": cum,
                "net_revenue_7d_prev_year": 0.0,
                "yoy_growth_7d": None,
            }
        )

    # dim_customers / dim_customer_segments
    customers, segments = [], []
    for uid in range(1, n_users + 1):
        signup = start - dt.timedelta(days=rng.randint(0, 200))
        n_orders = rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4, 6))
        age = rng.randint(12, 70)
        band = next(
            b
            for lim, b in (
                (18, "<18"),
                (25, "18-24"),
                (35, "25-34"),
                (45, "35-44"),
                (55, "45-54"),
                (65, "55-64"),
                (200, "65+"),
            )
            if age < lim
        )
        first = last = None
        revenue = profit = 0.0
        if n_orders:
            first = start + dt.timedelta(days=rng.randint(0, days - 1))
            last = min(AS_OF, first + dt.timedelta(days=rng.randint(0, 120) * (n_orders > 1)))
            revenue = round(sum(rng.uniform(20, 160) for _ in range(n_orders)), 2)
            profit = round(revenue * rng.uniform(0.4, 0.55), 2)
        customers.append(
            dict(
                user_id=uid,
                signup_date=signup,
                age=age,
                age_band=band,
                gender=rng.choice("MF"),
                country="United States",
                state="Texas",
                city="Austin",
                acquisition_source=rng.choice(SOURCES),
                first_order_date=first,
                last_order_date=last,
                orders=n_orders,
                items=int(n_orders * 1.5),
                lifetime_net_revenue=revenue,
                lifetime_gross_profit=profit,
                avg_order_value=_ratio(revenue, n_orders),
                days_since_last_order=(AS_OF - last).days if last else None,
                tenure_days=(AS_OF - signup).days,
                is_customer=n_orders > 0,
            )
        )
        if n_orders:
            r, f, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
            fm = (f + m + 1) // 2
            seg = (
                ("Champions" if fm >= 4 else "Potential Loyalists" if fm >= 2 else "New Customers")
                if r >= 4
                else ("Loyal Customers" if fm >= 3 else "Need Attention")
                if r == 3
                else "At Risk"
                if fm >= 3
                else "Hibernating"
                if r == 2
                else "Lost"
            )
            segments.append(
                dict(
                    user_id=uid,
                    recency_days=(AS_OF - last).days,
                    frequency=n_orders,
                    monetary=revenue,
                    r_score=r,
                    f_score=f,
                    m_score=m,
                    fm_score=fm,
                    segment=seg,
                )
            )

    # fact_cohort_retention: cohorts from the first month to as_of's month
    cohort_rows = []
    first_month = dt.date(start.year, start.month, 1)
    mi = lambda d: d.year * 12 + d.month - 1  # noqa: E731
    for c in range(mi(first_month), mi(AS_OF) + 1):
        cm = dt.date(c // 12, c % 12 + 1, 1)
        size = rng.randint(80, 160)
        cum_rev = 0.0
        for k in range(0, mi(AS_OF) - c + 1):
            active = size if k == 0 else int(size * 0.25 * 0.8**k * rng.uniform(0.8, 1.2))
            rev = round(active * rng.uniform(60, 90), 2)
            cum_rev += rev
            cohort_rows.append(
                dict(
                    cohort_month=cm,
                    months_since_first=k,
                    cohort_size=size,
                    active_customers=active,
                    retention_rate=active / size,
                    net_revenue=rev,
                    cumulative_net_revenue_per_customer=cum_rev / size,
                )
            )

    # fact_product_performance / fact_inventory_forecast
    prods = []
    for pid in range(1, n_products + 1):
        cost = round(rng.uniform(3, 60), 2)
        retail = round(cost * rng.uniform(1.6, 2.6), 2)
        units = 0 if rng.random() < 0.12 else int(rng.paretovariate(1.3) * 3)
        returned = int(units * rng.uniform(0, 0.15))
        net = round(units * retail * rng.uniform(0.85, 1.0), 2)
        prods.append(
            dict(
                product_id=pid,
                name=f"{rng.choice(('Classic', 'Slim', 'Relaxed', 'Vintage'))} {rng.choice(CATEGORIES)} item {pid}",
                brand=rng.choice(("Acme", "Levi's", "Nike", "Zara")),
                category=rng.choice(CATEGORIES),
                department=rng.choice(("Men", "Women")),
                cost=cost,
                retail_price=retail,
                units_sold=units,
                units_returned=returned,
                net_revenue=net,
                cogs=units * cost,
                gross_profit=net - units * cost,
                margin_pct=_ratio(net - units * cost, net),
                return_rate=_ratio(returned, units + returned),
            )
        )
    total = sum(p["net_revenue"] for p in prods)
    ranked = sorted(prods, key=lambda p: (-round(p["net_revenue"], 2), p["product_id"]))
    running = 0.0
    for i, p in enumerate(ranked, 1):
        running += p["net_revenue"]
        p.update(
            revenue_rank=i,
            revenue_share=_ratio(p["net_revenue"], total),
            cumulative_revenue_share=_ratio(running, total),
        )
    inventory = []
    for p in prods:
        stock = rng.choice((0, 1, 2, 3, 5, 8, 12, 20, 40))
        window = rng.choice((0, 0, 1, 2, 3, 5, 9))
        adu = window / 30
        s, u, w = stock, window, 30
        status = (
            "out_of_stock"
            if s == 0
            else "dead_stock"
            if u == 0
            else "critical"
            if s * w < 7 * u
            else "low"
            if s * w < 14 * u
            else "overstocked"
            if s * w > 90 * u
            else "healthy"
        )
        reorder = 0 if status == "dead_stock" else max(0, -(-u * 44 // w) - s)
        last = None if window == 0 and rng.random() < 0.5 else AS_OF - dt.timedelta(days=rng.randint(0, 120))
        inventory.append(
            dict(
                product_id=p["product_id"],
                name=p["name"],
                brand=p["brand"],
                category=p["category"],
                department=p["department"],
                cost=p["cost"],
                stock_on_hand=stock,
                stock_value=stock * p["cost"],
                units_sold_window=window,
                avg_daily_units=adu,
                days_of_stock=_ratio(stock, adu),
                last_sale_date=last,
                days_since_last_sale=(AS_OF - last).days if last else None,
                inventory_status=status,
                reorder_qty=reorder,
                reorder_value=reorder * p["cost"],
            )
        )

    # fact_session_metrics
    sessions = []
    platform_of = {"Adwords": "Google", "Facebook": "Facebook", "YouTube": "YouTube", "Email": "Email"}
    for i in range(3000):
        src = rng.choice(("Email", "Adwords", "Organic", "YouTube", "Facebook", None))
        uid = rng.randint(1, n_users) if rng.random() < 0.6 else None
        begin = dt.datetime.combine(rng.choice(dates), dt.time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=dt.UTC)
        n_events = rng.randint(1, 9)
        cart = n_events >= 3 and rng.random() < 0.5
        duration = float(rng.randint(0, 1800))
        sessions.append(
            dict(
                session_id=f"s{i}",
                visitor_id=f"u{uid}" if uid else f"a{i}",
                user_id=uid,
                is_identified=uid is not None,
                session_date=begin.date(),
                session_start=begin,
                session_end=begin + dt.timedelta(seconds=duration),
                duration_seconds=duration,
                event_count=n_events,
                product_views=n_events // 2,
                has_cart=cart,
                has_purchase=cart and uid is not None and rng.random() < 0.5,
                landing_uri="/",
                landing_event_type="home",
                traffic_source=src,
                platform=platform_of.get(src),
                browser="Chrome",
            )
        )

    # fact_attribution_models: each day's orders and revenue split over the channels, per model
    spend_of = {}
    for r in camp_rows:
        key = (r["spend_date"], r["platform"])
        spend_of[key] = spend_of.get(key, 0.0) + r["spend"]
    attribution = []
    for r in pnl:
        for model in MODELS:
            weights = [rng.random() ** 2 for _ in CHANNELS]
            for channel, w in zip(CHANNELS, weights, strict=True):
                share = w / sum(weights)
                spend = spend_of.get((r["date"], channel), 0.0) if channel in PLATFORMS else None
                orders, revenue = r["orders"] * share, r["net_revenue"] * share
                attribution.append(
                    dict(
                        date=r["date"],
                        channel=channel,
                        attribution_model=model,
                        credited_orders=orders,
                        credited_revenue=revenue,
                        credited_gross_profit=r["gross_profit"] * share,
                        spend=spend,
                        roas=_ratio(revenue, spend),
                        cpa=_ratio(spend, orders),
                    )
                )

    # fact_funnel_daily from the sessions
    funnel_groups: dict[tuple, list[dict]] = {}
    for x in sessions:
        funnel_groups.setdefault((x["session_date"], x["platform"] or "Organic"), []).append(x)
    funnel = []
    for (day, channel), group in sorted(funnel_groups.items()):
        n = len(group)
        counts = dict(
            identified_sessions=sum(x["is_identified"] for x in group),
            product_view_sessions=sum(x["product_views"] > 0 for x in group),
            cart_sessions=sum(x["has_cart"] for x in group),
            purchase_sessions=sum(x["has_purchase"] for x in group),
            cart_purchase_sessions=sum(x["has_cart"] and x["has_purchase"] for x in group),
            bounced_sessions=sum(x["event_count"] == 1 for x in group),
        )
        funnel.append(
            dict(
                session_date=day,
                channel=channel,
                sessions=n,
                **counts,
                avg_duration_seconds=sum(x["duration_seconds"] for x in group) / n,
                product_view_rate=counts["product_view_sessions"] / n,
                cart_rate=counts["cart_sessions"] / n,
                purchase_rate=counts["purchase_sessions"] / n,
                bounce_rate=counts["bounced_sessions"] / n,
                cart_to_purchase_rate=_ratio(counts["cart_purchase_sessions"], counts["cart_sessions"]),
            )
        )

    # fact_channel_economics: months of the spine x channels; LTV NULL until the window ended
    economics = []
    for c in range(mi(first_month), mi(AS_OF) + 1):
        cm = dt.date(c // 12, c % 12 + 1, 1)
        month_end = dt.date(c // 12 + (c % 12 == 11), (c + 1) % 12 + 1, 1) - dt.timedelta(days=1)
        for channel in CHANNELS:
            new = rng.randint(0, 40)
            spend = (
                sum(v for (d, p), v in spend_of.items() if p == channel and (d.year, d.month) == (cm.year, cm.month))
                if channel in PLATFORMS
                else None
            )
            row = dict(cohort_month=cm, channel=channel, new_customers=new, spend=spend, cac=_ratio(spend, new))
            value = new * rng.uniform(40, 90)
            for n, grow in ((30, 1.0), (90, 1.3), (365, 1.9)):
                revenue = round(value * grow, 2) if month_end + dt.timedelta(days=n - 1) <= AS_OF else None
                row[f"revenue_{n}d"] = revenue
                row[f"ltv_{n}d"] = None if revenue is None else _ratio(revenue, new)
            gp = None if row["revenue_365d"] is None else round(row["revenue_365d"] * 0.45, 2)
            row.update(gross_profit_365d=gp, gp_ltv_365d=None if gp is None else _ratio(gp, new))
            row["ltv_to_cac_365d"] = None if row["gp_ltv_365d"] is None else _ratio(row["gp_ltv_365d"], row["cac"])
            economics.append(row)

    build_vars = dict(
        as_of=AS_OF.isoformat(),
        session_timeout_minutes="30",
        attribution_lookback_hours="24",
        velocity_window_days="30",
        critical_days="7",
        low_days="14",
        overstock_days="90",
        lead_time_days="14",
        cover_days="30",
    )
    return {
        "fact_daily_pnl": mem_records(PNL_SCHEMA, pnl),
        "fact_daily_pnl_advanced": mem_records(PNL_ADVANCED_SCHEMA, adv),
        "fact_campaign_performance": mem_records(CAMPAIGN_SCHEMA, camp_rows),
        "fact_session_metrics": mem_records(SESSION_SCHEMA, sessions),
        "fact_cohort_retention": mem_records(COHORT_SCHEMA, cohort_rows),
        "fact_product_performance": mem_records(PRODUCT_SCHEMA, prods),
        "fact_inventory_forecast": mem_records(INV_SCHEMA, inventory),
        "dim_customers": mem_records(CUST_SCHEMA, customers),
        "dim_customer_segments": mem_records(SEG_SCHEMA, segments),
        "fact_attribution_models": mem_records(ATTRIBUTION_SCHEMA, attribution),
        "fact_funnel_daily": mem_records(FUNNEL_SCHEMA, funnel),
        "fact_channel_economics": mem_records(ECONOMICS_SCHEMA, economics),
        "_ecom_vars": mem_records(VARS_SCHEMA, [{"name": k, "value": v} for k, v in build_vars.items()]),
    }


def fake_marts_in_duckdb(path, **sizes):
    """A DuckDBTarget at `path` holding fake_marts(**sizes) in schema main (and _ecom_vars); left open."""
    from ecom.targets.duckdb import DuckDBTarget

    tgt = DuckDBTarget(path)
    for name, t in fake_marts(**sizes).items():
        tgt.con.create_table(name, t.to_pyarrow(), database="main")
    return tgt


def fake_values(marts: dict, project) -> dict:
    """The build variables of fake marts' `_ecom_vars`, typed, with the defaults of the rest."""
    from ecom.core.vars import check_value, resolve_vars

    stored = {r["name"]: r["value"] for r in marts["_ecom_vars"].to_pyarrow().to_pylist()}
    given = {k: check_value(project.vars[k], v) for k, v in stored.items() if k in project.vars}
    return resolve_vars(project.vars, given, lambda _: None)


def write_fake_report(path, project, **sizes):
    """The report of fake_marts(**sizes), written to path; returns (path, marts, values)."""
    from ecom.outputs.report import write_report

    marts = fake_marts(**sizes)
    values = fake_values(marts, project)
    return write_report(project, marts.__getitem__, values, path), marts, values
