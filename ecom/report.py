"""`ecom report`: a four-page, self-contained HTML dashboard of the marts.

Every figure comes from the marts (docs/contract.md#models) through Ibis expressions: each query below
aggregates in Ibis and fetches only its small result, so the same code reads a DuckDB file or
BigQuery (`table(name)` returns a mart of the target). Ratios are ratios of sums, NULL when the
denominator is 0, exactly as the marts define them. Charts are Plotly; plotly.js is inlined once, so
the file opens with no network.

Pages: executive overview, marketing performance, customers, products and inventory.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from ecom.core.files import atomic_write

TableFn = Callable[[str], ir.Table]

WINDOW_DAYS = 30
VARS_TABLE = "_ecom_vars"


class ReportError(Exception):
    """The marts cannot make a report (e.g. nothing was built)."""


# The marts the report reads (docs/contract.md#models).
MARTS = (
    "fact_daily_pnl",
    "fact_daily_pnl_advanced",
    "fact_campaign_performance",
    "fact_session_metrics",
    "fact_cohort_retention",
    "fact_product_performance",
    "fact_inventory_forecast",
    "dim_customers",
    "dim_customer_segments",
)

KPI_METRICS = ("net_revenue", "ad_spend", "roas", "gross_profit", "contribution_profit")
SEGMENT_ORDER = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Need Attention",
    "At Risk",
    "Hibernating",
    "Lost",
)
STATUS_ORDER = ("out_of_stock", "critical", "low", "healthy", "overstocked", "dead_stock")
STATUS_COLORS = {
    "out_of_stock": "#7f7f7f",
    "critical": "#d62728",
    "low": "#ff9f1c",
    "healthy": "#2ca02c",
    "overstocked": "#1f77b4",
    "dead_stock": "#8c564b",
}
PLATFORM_COLORS = {"Google": "#4C78A8", "Facebook": "#F58518", "YouTube": "#E45756", "Email": "#54A24B"}
OTHER_COLORS = ("#B279A2", "#72B7B2", "#EECA3B", "#9D755D", "#BAB0AC")


# ---------------------------------------------------------------------------------------------------
# Data queries: each takes `table` (mart name -> ibis table) and returns plain Python values.
# ---------------------------------------------------------------------------------------------------


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """numerator / denominator, NULL when the denominator is 0 or NULL (as the marts define ratios)."""
    return ibis.ifelse(denominator == 0, ibis.null("float64"), numerator / denominator)


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _scalar(expr: ir.Scalar) -> Any:
    return expr.to_pyarrow().as_py()


def _in_order(rows: list[dict[str, Any]], key: str, order: Sequence[str]) -> list[dict[str, Any]]:
    """rows sorted by their `key` in the canonical `order`; values not in it last, alphabetically."""
    rank = {v: i for i, v in enumerate(order)}
    return sorted(rows, key=lambda r: (rank.get(r[key], len(rank)), str(r[key])))


def read_build_vars(table: TableFn) -> dict[str, str]:
    """The build's variables from `_ecom_vars` (name, value), or {} when the table is absent."""
    try:
        t = table(VARS_TABLE)
        return {r["name"]: r["value"] for r in _rows(t.select("name", "value"))}
    except Exception:  # noqa: BLE001 - each backend raises its own "table not found"; a report without vars still works
        return {}


def resolve_as_of(table: TableFn, build_vars: Mapping[str, str] | None) -> dt.date:
    """The build's as_of: the recorded variable, else the last date of fact_daily_pnl."""
    if build_vars and build_vars.get("as_of"):
        return dt.date.fromisoformat(str(build_vars["as_of"])[:10])
    latest = _scalar(table("fact_daily_pnl").date.max())
    if latest is None:
        raise ReportError("fact_daily_pnl is empty and no as_of was recorded: run `ecom build` first")
    return latest if isinstance(latest, dt.date) else dt.date.fromisoformat(str(latest)[:10])


def windows(as_of: dt.date, days: int = WINDOW_DAYS) -> dict[str, tuple[dt.date, dt.date]]:
    """The current window (the `days` days ending on as_of, both ends inclusive) and the one before."""
    current = (as_of - dt.timedelta(days=days - 1), as_of)
    previous = (as_of - dt.timedelta(days=2 * days - 1), as_of - dt.timedelta(days=days))
    return {"current": current, "previous": previous}


def _change(current: float | None, previous: float | None) -> float | None:
    """Relative change; against |previous| so that a loss shrinking reads as an improvement."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def kpis(table: TableFn, as_of: dt.date, days: int = WINDOW_DAYS) -> dict[str, dict[str, Any]]:
    """The KPI tiles: for each metric its value over the current and previous window and the change.

    Sums over fact_daily_pnl; ROAS is Σ net_revenue / Σ ad_spend of the window (NULL when no spend).
    """
    t = table("fact_daily_pnl")
    aggs: dict[str, ir.Value] = {}
    for period, (start, end) in windows(as_of, days).items():
        in_window = t.date.between(start, end)
        for m in ("net_revenue", "ad_spend", "gross_profit", "contribution_profit"):
            aggs[f"{m}__{period}"] = t[m].sum(where=in_window).coalesce(0.0)
    sums = t.aggregate(**aggs)
    sums = sums.mutate(
        **{f"roas__{p}": _ratio(sums[f"net_revenue__{p}"], sums[f"ad_spend__{p}"]) for p in ("current", "previous")}
    )
    row = _rows(sums)[0]
    out = {}
    for m in KPI_METRICS:
        cur, prev = row[f"{m}__current"], row[f"{m}__previous"]
        out[m] = {"current": cur, "previous": prev, "change": _change(cur, prev)}
    return out


def daily_revenue_spend(table: TableFn) -> list[dict[str, Any]]:
    """date, net_revenue, ad_spend, gross_profit per day (fact_daily_pnl), oldest first."""
    t = table("fact_daily_pnl")
    return _rows(t.select("date", "net_revenue", "ad_spend", "gross_profit").order_by("date"))


def roas_trend(table: TableFn) -> list[dict[str, Any]]:
    """date, roas_7d, roas_30d (fact_daily_pnl_advanced), oldest first."""
    t = table("fact_daily_pnl_advanced")
    return _rows(t.select("date", "roas_7d", "roas_30d").order_by("date"))


def _campaign_days(table: TableFn, start: dt.date | None = None, end: dt.date | None = None) -> ir.Table:
    """fact_campaign_performance, its spend_date within [start, end] (an open end when None)."""
    t = table("fact_campaign_performance")
    if start is not None:
        t = t.filter(t.spend_date >= start)
    if end is not None:
        t = t.filter(t.spend_date <= end)
    return t


def _campaign_sums(t: ir.Table) -> dict[str, ir.Value]:
    """The additive campaign measures, summed (a NULL sum, e.g. over no spend, is 0)."""
    return {
        "spend": t.spend.sum().coalesce(0.0),
        "clicks": t.clicks.sum().coalesce(0),
        "impressions": t.impressions.sum().coalesce(0),
        "attributed_orders": t.attributed_orders.sum().coalesce(0),
        "attributed_revenue": t.attributed_revenue.sum().coalesce(0.0),
        "attributed_gross_profit": t.attributed_gross_profit.sum().coalesce(0.0),
    }


def _campaigns(table: TableFn, start: dt.date | None = None, end: dt.date | None = None) -> ir.Table:
    t = _campaign_days(table, start, end)
    g = t.group_by("platform", "campaign_id").aggregate(
        days=t.count(),
        first_date=t.spend_date.min(),
        last_date=t.spend_date.max(),
        **_campaign_sums(t),
    )
    return g.mutate(
        ctr=_ratio(g.clicks, g.impressions),
        cpc=_ratio(g.spend, g.clicks),
        cpa=_ratio(g.spend, g.attributed_orders),
        roas=_ratio(g.attributed_revenue, g.spend),
        conversion_rate=_ratio(g.attributed_orders, g.clicks),
    )


def campaign_performance(
    table: TableFn, start: dt.date | None = None, end: dt.date | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per campaign (platform, campaign_id) over [start, end]: sums and ratios of sums.

    Ordered by spend, largest first (ties: platform, campaign_id).
    """
    g = _campaigns(table, start, end)
    g = g.order_by(ibis.desc("spend"), "platform", "campaign_id")
    return _rows(g.limit(limit) if limit else g)


def top_campaigns_by_roas(table: TableFn, as_of: dt.date, n: int = 10, days: int = WINDOW_DAYS) -> list[dict[str, Any]]:
    """The n campaigns with the highest ROAS over the current window (campaigns that spent only)."""
    start, end = windows(as_of, days)["current"]
    g = _campaigns(table, start, end)
    g = g.filter(g.spend > 0).order_by(ibis.desc("roas"), ibis.desc("spend"), "platform", "campaign_id")
    return _rows(g.limit(n))


def platform_roas(table: TableFn, start: dt.date | None = None, end: dt.date | None = None) -> list[dict]:
    """One row per platform: spend, attributed revenue/orders, ROAS, CPA, share of spend."""
    t = _campaign_days(table, start, end)
    g = t.group_by("platform").aggregate(**_campaign_sums(t))
    g = g.mutate(
        roas=_ratio(g.attributed_revenue, g.spend),
        cpa=_ratio(g.spend, g.attributed_orders),
        ctr=_ratio(g.clicks, g.impressions),
        spend_share=_ratio(g.spend, g.spend.sum().over()),
    )
    return _rows(g.order_by(ibis.desc("spend"), "platform"))


def daily_spend_by_platform(table: TableFn) -> list[dict[str, Any]]:
    """spend_date, platform, spend (Σ over campaigns), oldest first."""
    t = table("fact_campaign_performance")
    g = t.group_by("spend_date", "platform").aggregate(spend=t.spend.sum().coalesce(0.0))
    return _rows(g.order_by("spend_date", "platform"))


def sessions_by_source(table: TableFn) -> list[dict[str, Any]]:
    """One row per session traffic source: sessions, cart and purchase sessions and their rates."""
    t = table("fact_session_metrics")
    t = t.mutate(traffic_source=t.traffic_source.coalesce("(none)"))
    g = t.group_by("traffic_source").aggregate(
        sessions=t.count(),
        cart_sessions=t.count(where=t.has_cart),
        purchase_sessions=t.count(where=t.has_purchase),
    )
    g = g.mutate(
        cart_rate=_ratio(g.cart_sessions, g.sessions),
        conversion_rate=_ratio(g.purchase_sessions, g.sessions),
    )
    return _rows(g.order_by(ibis.desc("sessions"), "traffic_source"))


def segment_summary(table: TableFn) -> list[dict[str, Any]]:
    """One row per RFM segment: customers, share of customers, Σ and mean monetary, mean frequency."""
    t = table("dim_customer_segments")
    g = t.group_by("segment").aggregate(
        customers=t.count(),
        monetary=t.monetary.sum().coalesce(0.0),
        avg_monetary=t.monetary.mean(),
        avg_frequency=t.frequency.mean(),
        avg_recency_days=t.recency_days.mean(),
    )
    g = g.mutate(
        customer_share=_ratio(g.customers, g.customers.sum().over()),
        monetary_share=_ratio(g.monetary, g.monetary.sum().over()),
    )
    return _in_order(_rows(g), "segment", SEGMENT_ORDER)


def ltv_by_source(table: TableFn) -> list[dict[str, Any]]:
    """One row per acquisition source, over customers: count, mean lifetime revenue / profit / orders."""
    t = table("dim_customers")
    t = t.filter(t.is_customer).mutate(acquisition_source=t.acquisition_source.coalesce("(unknown)"))
    g = t.group_by("acquisition_source").aggregate(
        customers=t.count(),
        lifetime_net_revenue=t.lifetime_net_revenue.sum(),
        avg_ltv=t.lifetime_net_revenue.mean(),
        avg_gross_profit=t.lifetime_gross_profit.mean(),
        avg_orders=t.orders.mean(),
    )
    return _rows(g.order_by(ibis.desc("avg_ltv"), "acquisition_source"))


def _month_start(d: dt.date, back: int = 0) -> dt.date:
    m = d.year * 12 + d.month - 1 - back
    return dt.date(m // 12, m % 12 + 1, 1)


def cohort_retention(table: TableFn, as_of: dt.date, max_cohorts: int = 18) -> list[dict[str, Any]]:
    """The retention matrix of the latest `max_cohorts` cohort months (fact_cohort_retention)."""
    t = table("fact_cohort_retention")
    # cast: a cohort_month stored as a timestamp must not meet a DATE literal (BigQuery refuses the comparison)
    t = t.mutate(cohort_month=t.cohort_month.cast("date"))
    t = t.filter(t.cohort_month >= _month_start(as_of, max_cohorts - 1))
    cols = ("cohort_month", "months_since_first", "cohort_size", "active_customers", "retention_rate")
    return _rows(t.select(*cols).order_by("cohort_month", "months_since_first"))


def top_customers(table: TableFn, n: int = 15) -> list[dict[str, Any]]:
    """The n customers with the largest lifetime net revenue (ids only, no personal data)."""
    c = table("dim_customers")
    s = table("dim_customer_segments").select("user_id", "segment")
    c = c.filter(c.is_customer)
    j = c.left_join(s, c.user_id == s.user_id).select(
        c.user_id,
        c.acquisition_source,
        c.orders,
        c.lifetime_net_revenue,
        c.lifetime_gross_profit,
        c.avg_order_value,
        c.first_order_date,
        c.last_order_date,
        s.segment,
    )
    # rank on cents (docs/contract.md#conventions): float sums must not break a tie differently per engine
    return _rows(j.order_by(j.lifetime_net_revenue.round(2).desc(), "user_id").limit(n))


def inventory_status_summary(table: TableFn) -> list[dict[str, Any]]:
    """One row per inventory_status: products, units and value in stock, value to reorder."""
    t = table("fact_inventory_forecast")
    g = t.group_by("inventory_status").aggregate(
        products=t.count(),
        stock_units=t.stock_on_hand.sum().coalesce(0),
        stock_value=t.stock_value.sum().coalesce(0.0),
        reorder_value=t.reorder_value.sum().coalesce(0.0),
    )
    return _in_order(_rows(g), "inventory_status", STATUS_ORDER)


def stock_by_status(table: TableFn, status: str, n: int = 12) -> list[dict[str, Any]]:
    """The n products of one inventory_status holding the most stock value."""
    t = table("fact_inventory_forecast")
    t = t.filter(t.inventory_status == status)
    cols = (
        "product_id",
        "name",
        "category",
        "brand",
        "stock_on_hand",
        "stock_value",
        "units_sold_window",
        "days_of_stock",
        "last_sale_date",
        "days_since_last_sale",
    )
    return _rows(t.select(*cols).order_by(t.stock_value.round(2).desc(), "product_id").limit(n))


def top_products(table: TableFn, n: int = 10) -> list[dict[str, Any]]:
    """The n products with the most net revenue (revenue_rank 1..n)."""
    t = table("fact_product_performance")
    cols = (
        "revenue_rank",
        "product_id",
        "name",
        "brand",
        "category",
        "units_sold",
        "net_revenue",
        "gross_profit",
        "margin_pct",
        "return_rate",
        "revenue_share",
    )
    return _rows(t.filter(t.revenue_rank <= n).select(*cols).order_by("revenue_rank"))


def product_revenue_margin(table: TableFn, max_points: int = 1500) -> tuple[list[dict[str, Any]], int]:
    """(points, total): products with revenue, systematically sampled by revenue rank to max_points.

    Every k-th revenue rank is kept, so the sample spans the whole revenue distribution and is the
    same on every run and backend; `total` is the number of products with revenue.
    """
    t = table("fact_product_performance")
    t = t.filter(t.net_revenue > 0)
    total = int(_scalar(t.count()))
    step = max(1, math.ceil(total / max_points))
    if step > 1:
        t = t.filter((t.revenue_rank - 1) % step == 0)
    cols = ("product_id", "name", "category", "net_revenue", "margin_pct", "units_sold")
    return _rows(t.order_by("revenue_rank").select(*cols)), total


def stock_coverage_by_category(table: TableFn) -> list[dict[str, Any]]:
    """One row per category: stock units and value, daily sales, days of stock (Σ stock / Σ daily units)."""
    t = table("fact_inventory_forecast")
    t = t.mutate(category=t.category.coalesce("(none)"))
    g = t.group_by("category").aggregate(
        products=t.count(),
        stock_units=t.stock_on_hand.sum().coalesce(0),
        stock_value=t.stock_value.sum().coalesce(0.0),
        avg_daily_units=t.avg_daily_units.sum().coalesce(0.0),
    )
    g = g.mutate(days_of_stock=_ratio(g.stock_units, g.avg_daily_units))
    return _rows(g.order_by(g.days_of_stock.isnull(), ibis.desc("days_of_stock"), "category"))


# ---------------------------------------------------------------------------------------------------
# Formatting for people
# ---------------------------------------------------------------------------------------------------

DASH = "\u2014"


def fmt_money(x: float | None, compact: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    sign = "-" if x < 0 else ""
    a = abs(x)
    if compact:
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if a >= div:
                return f"{sign}${a / div:,.2f}{suffix}"
        return f"{sign}${a:,.0f}"
    return f"{sign}${a:,.2f}" if a < 100 else f"{sign}${a:,.0f}"


def fmt_int(x: float | None) -> str:
    return DASH if x is None else f"{x:,.0f}"


def fmt_num(x: float | None, digits: int = 1) -> str:
    return DASH if x is None else f"{x:,.{digits}f}"


def fmt_pct(x: float | None, digits: int = 1, signed: bool = False) -> str:
    if x is None:
        return DASH
    return f"{x * 100:+.{digits}f}%" if signed else f"{x * 100:.{digits}f}%"


def fmt_roas(x: float | None) -> str:
    return DASH if x is None else f"{x:,.2f}\u00d7"


def fmt_date(x: Any) -> str:
    return DASH if x is None else str(x)[:10]


def _e(x: Any) -> str:
    return html.escape(str(x))


# ---------------------------------------------------------------------------------------------------
# Charts (Plotly figures as JSON, drawn in the browser by the inlined plotly.js)
# ---------------------------------------------------------------------------------------------------

BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 30, "t": 50, "b": 45},
    "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "hovermode": "closest",
    "legend": {"orientation": "h", "y": -0.18},
    "xaxis": {"gridcolor": "#eee", "zeroline": False},
    "yaxis": {"gridcolor": "#eee", "zeroline": False},
}


def _largest(rows: Iterable[dict], key: str) -> float:
    """The largest value of `key` in rows (NULL counting as 0), 0 when there are no rows."""
    return max((r[key] or 0 for r in rows), default=0)


def _platform_color(platform: str, seen: dict[str, str]) -> str:
    if platform in PLATFORM_COLORS:
        return PLATFORM_COLORS[platform]
    return seen.setdefault(platform, OTHER_COLORS[len(seen) % len(OTHER_COLORS)])


def _figure(data: list[dict], title: str, height: int = 360, **layout: Any) -> dict:
    lay = json.loads(json.dumps(BASE_LAYOUT))
    lay.update({"title": {"text": title, "x": 0.01, "font": {"size": 15}}, "height": height})
    for k, v in layout.items():
        if isinstance(v, dict) and isinstance(lay.get(k), dict):
            lay[k] = {**lay[k], **v}
        else:
            lay[k] = v
    if lay["xaxis"].get("title") and lay["legend"].get("y") == BASE_LAYOUT["legend"]["y"]:
        lay["legend"] = {**lay["legend"], "y": -0.3}  # below the x-axis title, not over it
        lay["margin"] = {**lay["margin"], "b": 60}
    if not data or all(not _has_points(d) for d in data):
        lay["annotations"] = [
            {"text": "No data", "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
        ]
    return {"data": data, "layout": lay}


def _has_points(trace: dict) -> bool:
    return any(trace.get(key) for key in ("x", "y", "values", "z"))


def _iso(d: Any) -> str:
    return str(d)[:10]


MONEY_TICKS: dict[str, Any] = {"tickprefix": "$", "tickformat": ",.0f"}
CATEGORY_AXIS: dict[str, Any] = {"automargin": True, "type": "category"}


def _right_axis(**axis: Any) -> dict:
    """A second y-axis on the right, over the first: its own few ticks and no grid of its own."""
    return {"overlaying": "y", "side": "right", **axis, "showgrid": False, "tickmode": "auto", "nticks": 6}


def _lines(x: list, rows: list[dict], specs: Sequence[tuple], mode: str = "lines") -> list[dict]:
    """One scatter trace per spec (column, name, line style, hover template, extra trace keys) over x."""
    return [
        {
            "type": "scatter",
            "mode": mode,
            "name": name,
            "x": x,
            "y": [r[col] for r in rows],
            **extra,
            "line": line,
            "hovertemplate": hover,
        }
        for col, name, line, hover, extra in specs
    ]


def _bar(
    x: list, y: list, color: Any, hover: str, text: list | None = None, customdata: list | None = None, **extra: Any
) -> dict:
    """A bar trace (horizontal with orientation="h"), with value labels when `text` is given."""
    trace: dict[str, Any] = {"type": "bar", **extra, "x": x, "y": y, "marker": {"color": color}}
    if text is not None:
        trace.update(text=text, textposition="auto")
    if customdata is not None:
        trace["customdata"] = customdata
    trace["hovertemplate"] = hover
    return trace


def _roas_bar(rows: list[dict], labels: list[str], colors: list[str], horizontal: bool = False) -> dict:
    """Campaigns' or platforms' ROAS as bars, labelled, with spend and attributed revenue on hover."""
    roas = [r["roas"] for r in rows]
    label_axis, value_axis = ("y", "x") if horizontal else ("x", "y")
    hover = (
        f"%{{{label_axis}}}<br>ROAS %{{{value_axis}:.2f}}\u00d7<br>spend %{{customdata[0]}}"
        "<br>attributed revenue %{customdata[1]}<extra></extra>"
    )
    return _bar(
        *((roas, labels) if horizontal else (labels, roas)),
        colors,
        hover,
        text=[fmt_roas(x) for x in roas],
        customdata=[[fmt_money(r["spend"]), fmt_money(r["attributed_revenue"])] for r in rows],
        **({"orientation": "h"} if horizontal else {}),
    )


def _ranking_figure(data: list[dict], title: str, **layout: Any) -> dict:
    """Horizontal bars ranked best first at the top, long labels kept whole, no legend."""
    return _figure(data, title, height=380, yaxis=CATEGORY_AXIS, margin={"l": 10}, showlegend=False, **layout)


def chart_revenue_vs_spend(rows: list[dict]) -> dict:
    x = [_iso(r["date"]) for r in rows]
    data = _lines(
        x,
        rows,
        [
            (
                "net_revenue",
                "Net revenue",
                {"color": "#1f77b4", "width": 1.5},
                "%{x}<br>Net revenue $%{y:,.0f}<extra></extra>",
                {},
            ),
            (
                "ad_spend",
                "Ad spend (right axis)",
                {"color": "#F58518", "width": 1.5},
                "%{x}<br>Ad spend $%{y:,.0f}<extra></extra>",
                {"yaxis": "y2"},
            ),
        ],
    )
    return _figure(
        data,
        "Net revenue vs ad spend per day",
        xaxis=_date_axis(x),
        yaxis={"title": {"text": "Net revenue"}, **MONEY_TICKS, "rangemode": "tozero"},
        yaxis2=_right_axis(title={"text": "Ad spend"}, **MONEY_TICKS, rangemode="tozero"),
        margin={"r": 70},
    )


def _date_axis(dates: Sequence[str]) -> dict:
    """A date axis opening on the last year (long histories are unreadable day by day), with buttons."""
    axis: dict[str, Any] = {"type": "date", "rangeselector": _range_buttons()}
    if dates:
        last = dt.date.fromisoformat(dates[-1])
        first = max(dt.date.fromisoformat(dates[0]), last - dt.timedelta(days=364))
        axis["range"] = [(first - dt.timedelta(days=1)).isoformat(), (last + dt.timedelta(days=1)).isoformat()]
    return axis


def _range_buttons() -> dict:
    return {
        "buttons": [
            {"count": 30, "label": "30d", "step": "day", "stepmode": "backward"},
            {"count": 90, "label": "90d", "step": "day", "stepmode": "backward"},
            {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
            {"step": "all", "label": "all"},
        ],
        "x": 0,
        "y": 1.0,
        "font": {"size": 11},
    }


def chart_roas_trend(rows: list[dict]) -> dict:
    x = [_iso(r["date"]) for r in rows]
    data = _lines(
        x,
        rows,
        [
            (
                "roas_7d",
                "ROAS, trailing 7 days",
                {"color": "#2ca02c", "width": 1.5},
                "%{x}<br>7-day ROAS %{y:.2f}\u00d7<extra></extra>",
                {},
            ),
            (
                "roas_30d",
                "ROAS, trailing 30 days",
                {"color": "#555", "width": 1, "dash": "dot"},
                "%{x}<br>30-day ROAS %{y:.2f}\u00d7<extra></extra>",
                {},
            ),
        ],
    )
    return _figure(
        data,
        "ROAS trend (net revenue / ad spend, trailing windows)",
        xaxis=_date_axis(x),
        yaxis={"ticksuffix": "\u00d7", "tickformat": ".1f", "rangemode": "tozero"},
    )


def chart_top_campaigns(rows: list[dict]) -> dict:
    rows = list(reversed(rows))  # best at the top of a horizontal bar chart
    labels = [f"{r['platform']} \u00b7 {r['campaign_id']}" for r in rows]
    colors = [PLATFORM_COLORS.get(r["platform"], "#888") for r in rows]
    return _ranking_figure(
        [_roas_bar(rows, labels, colors, horizontal=True)],
        f"Top campaigns by ROAS, last {WINDOW_DAYS} days",
        xaxis={"ticksuffix": "\u00d7"},
    )


def chart_platform_roas(rows: list[dict]) -> dict:
    seen: dict[str, str] = {}
    platforms = [r["platform"] for r in rows]
    data = [_roas_bar(rows, platforms, [_platform_color(p, seen) for p in platforms])]
    return _figure(
        data, "ROAS by platform (attributed revenue / spend)", yaxis={"ticksuffix": "\u00d7"}, showlegend=False
    )


def chart_spend_share(rows: list[dict]) -> dict:
    seen: dict[str, str] = {}
    data = [
        {
            "type": "pie",
            "hole": 0.45,
            "labels": [r["platform"] for r in rows],
            "values": [r["spend"] for r in rows],
            "marker": {"colors": [_platform_color(r["platform"], seen) for r in rows]},
            "sort": False,
            "texttemplate": "%{label}<br>%{percent:.1%}",
            "hovertemplate": "%{label}<br>$%{value:,.0f} (%{percent:.1%})<extra></extra>",
        }
    ]
    return _figure(data, "Share of ad spend by platform", showlegend=False)


def chart_daily_spend(rows: list[dict]) -> dict:
    dates = sorted({_iso(r["spend_date"]) for r in rows})
    platforms = sorted({r["platform"] for r in rows}, key=lambda p: (p not in PLATFORM_COLORS, p))
    spend = {(_iso(r["spend_date"]), r["platform"]): r["spend"] for r in rows}
    # a platform without spend that day spent 0
    by_date = [{p: spend.get((d, p), 0.0) for p in platforms} for d in dates]
    seen: dict[str, str] = {}
    data = _lines(
        dates,
        by_date,
        [
            (
                p,
                p,
                {"width": 0.5, "color": _platform_color(p, seen)},
                p + " $%{y:,.0f}<extra></extra>",
                {"stackgroup": "spend"},
            )
            for p in platforms
        ],
    )
    return _figure(
        data,
        "Daily ad spend by platform",
        xaxis=_date_axis(dates),
        yaxis=MONEY_TICKS,
        hovermode="x unified",
    )


def chart_ctr_cpc(rows: list[dict]) -> dict:
    seen: dict[str, str] = {}
    platforms = sorted({r["platform"] for r in rows}, key=lambda p: (p not in PLATFORM_COLORS, p))
    max_spend = _largest(rows, "spend") or 1
    data = []
    for p in platforms:
        pts = [r for r in rows if r["platform"] == p and r["ctr"] is not None and r["cpc"] is not None]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": p,
                "x": [r["ctr"] for r in pts],
                "y": [r["cpc"] for r in pts],
                "marker": {
                    "color": _platform_color(p, seen),
                    "size": [8 + 22 * math.sqrt((r["spend"] or 0) / max_spend) for r in pts],
                    "opacity": 0.75,
                    "line": {"width": 0.5, "color": "white"},
                },
                "text": [str(r["campaign_id"]) for r in pts],
                "customdata": [[fmt_money(r["spend"]), fmt_roas(r["roas"])] for r in pts],
                "hovertemplate": p + " \u00b7 %{text}<br>CTR %{x:.2%}<br>CPC $%{y:.2f}"
                "<br>spend %{customdata[0]}<br>ROAS %{customdata[1]}<extra></extra>",
            }
        )
    return _figure(
        data,
        "CTR vs CPC by campaign (bubble size = spend)",
        xaxis={"title": {"text": "CTR (clicks / impressions)"}, "tickformat": ".2%"},
        yaxis={"title": {"text": "CPC (spend / clicks)"}, "tickprefix": "$", "tickformat": ",.2f"},
    )


def chart_sessions(rows: list[dict]) -> dict:
    x = [r["traffic_source"] for r in rows]
    data = [
        _bar(x, [r["sessions"] for r in rows], "#9ecae1", "%{x}<br>%{y:,} sessions<extra></extra>", name="Sessions"),
        *_lines(
            x,
            rows,
            [
                (
                    "conversion_rate",
                    "Sessions with a purchase (right axis)",
                    {"color": "#d62728"},
                    "%{x}<br>%{y:.2%} of sessions purchase<extra></extra>",
                    {"yaxis": "y2"},
                ),
                (
                    "cart_rate",
                    "Sessions with a cart (right axis)",
                    {"color": "#ff9f1c", "dash": "dot"},
                    "%{x}<br>%{y:.2%} of sessions add to cart<extra></extra>",
                    {"yaxis": "y2"},
                ),
            ],
            mode="lines+markers",
        ),
    ]
    return _figure(
        data,
        "Web sessions and conversion by traffic source",
        yaxis={"title": {"text": "sessions"}, "tickformat": ","},
        yaxis2=_right_axis(tickformat=".0%", rangemode="tozero"),
        margin={"r": 60},
    )


def chart_segments(rows: list[dict]) -> dict:
    labels = [str(r["segment"]).replace(" ", "<br>") for r in rows]
    data = [
        _bar(
            labels,
            [r["customers"] for r in rows],
            "#4C78A8",
            "%{x}<br>%{y:,} customers (%{customdata})<extra></extra>",
            customdata=[fmt_pct(r["customer_share"]) for r in rows],
            name="Customers",
            offsetgroup=1,
        ),
        _bar(
            labels,
            [r["monetary"] for r in rows],
            "#54A24B",
            "%{x}<br>$%{y:,.0f} lifetime net revenue (%{customdata})<extra></extra>",
            customdata=[fmt_pct(r["monetary_share"]) for r in rows],
            name="Lifetime net revenue (right axis)",
            yaxis="y2",
            offsetgroup=2,
        ),
    ]
    return _figure(
        data,
        "Customers and value by RFM segment",
        height=380,
        barmode="group",
        xaxis={"tickangle": 0},
        yaxis={"title": {"text": "Customers"}, "tickformat": ","},
        yaxis2=_right_axis(title={"text": "Lifetime net revenue"}, **MONEY_TICKS),
        margin={"r": 80},
    )


def chart_ltv_by_source(rows: list[dict]) -> dict:
    data = [
        _bar(
            [r["acquisition_source"] for r in rows],
            [r["avg_ltv"] for r in rows],
            "#72B7B2",
            "%{x}<br>mean LTV $%{y:,.2f}<br>%{customdata[0]} customers"
            "<br>mean gross profit %{customdata[1]}<extra></extra>",
            text=[fmt_money(r["avg_ltv"]) for r in rows],
            customdata=[[fmt_int(r["customers"]), fmt_money(r["avg_gross_profit"])] for r in rows],
        )
    ]
    return _figure(
        data,
        "Mean lifetime net revenue per customer, by acquisition source",
        yaxis=MONEY_TICKS,
        showlegend=False,
    )


def chart_cohorts(rows: list[dict]) -> dict:
    cohorts = sorted({_iso(r["cohort_month"]) for r in rows})
    sizes = {_iso(r["cohort_month"]): r["cohort_size"] for r in rows}
    months = sorted({r["months_since_first"] for r in rows})
    cell = {(_iso(r["cohort_month"]), r["months_since_first"]): r["retention_rate"] for r in rows}
    z = [[cell.get((c, m)) for m in months] for c in cohorts]
    later = [v for (_, m), v in cell.items() if m > 0 and v is not None]
    labels = [f"{c[:7]} (n={sizes[c]:,})" for c in cohorts]
    trace: dict[str, Any] = {
        "type": "heatmap",
        "x": months,
        "y": labels,
        "z": z,
        "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
        "zmin": 0,
        # month 0 is always 100%: scale the colours to the later months so that they can be told apart
        "zmax": max(later) if later and max(later) > 0 else 1,
        "colorbar": {"tickformat": ".0%", "title": {"text": "active"}},
        "hovertemplate": "cohort %{y}<br>month %{x}<br>retention %{z:.1%}<extra></extra>",
        "xgap": 1,
        "ygap": 1,
    }
    if len(cohorts) * len(months) <= 400:
        trace["texttemplate"] = "%{z:.0%}"
        trace["textfont"] = {"size": 9}
    return _figure(
        [trace] if cohorts else [],
        "Cohort retention: share of each first-order cohort ordering again, by months since first order",
        height=max(380, 90 + 24 * len(cohorts)),
        xaxis={"title": {"text": "months since first order"}, "dtick": 1},
        yaxis={"autorange": "reversed", "type": "category", "automargin": True},
    )


def chart_inventory_status(rows: list[dict]) -> dict:
    data = [
        _bar(
            [r["inventory_status"].replace("_", " ") for r in rows],
            [r["products"] for r in rows],
            [STATUS_COLORS.get(r["inventory_status"], "#888") for r in rows],
            "%{x}<br>%{y:,} products<br>%{customdata[0]} units in stock<br>stock value %{customdata[1]}<extra></extra>",
            text=[fmt_int(r["products"]) for r in rows],
            customdata=[[fmt_int(r["stock_units"]), fmt_money(r["stock_value"])] for r in rows],
        )
    ]
    return _figure(data, "Products by inventory status", yaxis={"tickformat": ","}, showlegend=False)


def chart_top_products(rows: list[dict]) -> dict:
    rows = list(reversed(rows))
    data = [
        _bar(
            [r["net_revenue"] for r in rows],
            [f"#{r['revenue_rank']} {_short(r['name'], 38)}" for r in rows],
            "#4C78A8",
            "product %{customdata[0]} (%{customdata[2]})<br>net revenue $%{x:,.0f}"
            "<br>margin %{customdata[1]}<extra></extra>",
            text=[fmt_money(r["net_revenue"]) for r in rows],
            customdata=[[r["product_id"], fmt_pct(r["margin_pct"]), r["category"] or ""] for r in rows],
            orientation="h",
        )
    ]
    return _ranking_figure(data, "Top 10 products by net revenue", xaxis=MONEY_TICKS)


def _short(s: Any, n: int) -> str:
    s = "" if s is None else str(s)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def chart_revenue_margin(rows: list[dict], total: int, max_categories: int = 9) -> dict:
    # one colour per category is readable up to ~10: the largest categories by points, the rest "Other"
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["category"] or "(none)"] = counts.get(r["category"] or "(none)", 0) + 1
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    kept = set(ranked[:max_categories]) if len(ranked) > max_categories + 1 else set(ranked)
    group = {c: (c if c in kept else "Other") for c in ranked}
    categories = sorted(kept) + (["Other"] if len(kept) < len(ranked) else [])
    palette = (
        "#4C78A8",
        "#F58518",
        "#E45756",
        "#72B7B2",
        "#54A24B",
        "#EECA3B",
        "#B279A2",
        "#FF9DA6",
        "#9D755D",
        "#BAB0AC",
    )
    data = []
    for i, c in enumerate(categories):
        pts = [r for r in rows if group[r["category"] or "(none)"] == c]
        data.append(
            {
                "type": "scattergl" if len(rows) > 3000 else "scatter",
                "mode": "markers",
                "name": c,
                "x": [r["net_revenue"] for r in pts],
                "y": [r["margin_pct"] for r in pts],
                "marker": {"size": 6, "opacity": 0.7, "color": "#BAB0AC" if c == "Other" else palette[i % 9]},
                "text": [_short(r["name"], 50) for r in pts],
                "customdata": [[r["product_id"], r["category"] or "(none)"] for r in pts],
                "hovertemplate": "%{text}<br>product %{customdata[0]} (%{customdata[1]})"
                "<br>net revenue $%{x:,.0f}<br>margin %{y:.1%}<extra></extra>",
            }
        )
    sampled = (
        f"a sample of {len(rows):,} of {total:,} products with revenue, evenly spaced by revenue rank"
        if rows and len(rows) < total
        else f"all {total:,} products with revenue"
    )
    fig = _figure(
        data,
        "Net revenue vs margin by product",
        height=420,
        xaxis={
            "title": {"text": "net revenue (log scale)"},
            "type": "log",
            "tickprefix": "$",
            "dtick": 1,
            "tickformat": ",.0f",
        },
        yaxis={"title": {"text": "margin (gross profit / net revenue)"}, "tickformat": ".0%"},
        legend={"orientation": "v", "y": 1, "x": 1.02},
    )
    fig["layout"]["title"]["subtitle"] = {"text": sampled, "font": {"size": 11, "color": "#666"}}
    fig["layout"]["margin"]["t"] = 70
    return fig


def chart_coverage(rows: list[dict], thresholds: Mapping[str, int]) -> dict:
    rows = [r for r in rows if r["days_of_stock"] is not None]
    rows = list(reversed(rows))
    data = [
        _bar(
            [r["days_of_stock"] for r in rows],
            [r["category"] for r in rows],
            "#9D755D",
            "%{y}<br>%{x:,.0f} days of stock<br>%{customdata[0]} units, %{customdata[1]}"
            "<br>%{customdata[2]} units sold per day<extra></extra>",
            customdata=[
                [fmt_int(r["stock_units"]), fmt_money(r["stock_value"]), fmt_num(r["avg_daily_units"])] for r in rows
            ],
            orientation="h",
        )
    ]
    shapes, annotations = [], []
    for name, color in (("low_days", "#ff9f1c"), ("overstock_days", "#1f77b4")):
        if name in thresholds:
            x = thresholds[name]
            shapes.append(
                {
                    "type": "line",
                    "x0": x,
                    "x1": x,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": color, "dash": "dash", "width": 1.5},
                }
            )
            annotations.append(
                {
                    "x": x,
                    "yref": "paper",
                    "y": 1.0,
                    "text": f"{name} = {x}",
                    "xanchor": "right" if name == "low_days" else "left",
                    "showarrow": False,
                    "font": {"size": 10, "color": color},
                    "yanchor": "bottom",
                }
            )
    fig = _figure(
        data,
        "Stock coverage by category (units in stock / units sold per day)",
        height=max(380, 80 + 18 * len(rows)),
        xaxis={"title": {"text": "days of stock"}, "tickformat": ",.0f"},
        yaxis=CATEGORY_AXIS,
        showlegend=False,
        shapes=shapes,
    )
    fig["layout"]["annotations"] = fig["layout"].get("annotations", []) + annotations
    return fig


# ---------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------


def _roas_style(x: float | None) -> str:
    """Traffic-light background: below 1 (spend not earned back) red, below 2 amber, else green."""
    if x is None:
        return ""
    if x < 1:
        return "background:#fde2e1"
    if x < 2:
        return "background:#fff1d6"
    return "background:#dff3e0"


def _bar_style(x: float | None, top: float, color: str = "#dbe7f5") -> str:
    """An in-cell data bar proportional to x / top."""
    if x is None or top <= 0:
        return ""
    w = max(0.0, min(100.0, 100.0 * x / top))
    return f"background:linear-gradient(90deg,{color} {w:.1f}%,transparent {w:.1f}%)"


Column = tuple[str, str, Callable[[Any], str], Callable[[dict], str] | None]


def _bar_column(header: str, key: str, fmt: Callable[[Any], str], rows: list[dict], color: str = "#dbe7f5") -> Column:
    """A column whose cells carry a data bar, scaled to the largest value of `key` in `rows`."""
    top = _largest(rows, key)
    return (header, key, fmt, lambda r: _bar_style(r[key], top, color))


def html_table(columns: Sequence[Column], rows: Iterable[dict], css: str = "") -> str:
    """A table of formatted cells; numeric-looking columns align right. Column: (header, key, fmt, style)."""
    head = "".join(f"<th>{_e(h)}</th>" for h, *_ in columns)
    body = []
    for r in rows:
        cells = []
        for _h, key, fmt, style in columns:
            text = fmt(r.get(key))
            st = style(r) if style else ""
            value = r.get(key)
            num = "num" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            cells.append(f'<td class="{num}" style="{st}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(columns)}" class="empty">No rows</td></tr>')
    return f'<table class="data {css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _text(x: Any) -> str:
    return DASH if x is None else str(x)


def _tile(label: str, k: dict[str, Any], fmt: Callable[[Any], str], higher_is_good: bool | None) -> str:
    change = k["change"]
    if change is None or round(change, 3) == 0:
        cls, arrow = "flat", ""
    else:
        up = change > 0
        cls = "flat" if higher_is_good is None or change == 0 else ("good" if up == higher_is_good else "bad")
        arrow = "\u25b2 " if up else ("\u25bc " if change < 0 else "")
    return (
        f'<div class="tile"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(fmt(k["current"]))}</div>'
        f'<div class="change {cls}">{arrow}{_e(fmt_pct(change, signed=True))}'
        f' <span class="prev">vs {_e(fmt(k["previous"]))}</span></div></div>'
    )


def _money_compact(x: float | None) -> str:
    return fmt_money(x, compact=True)


# (metric, label, format, is higher better: None when neither way is good, e.g. ad spend)
KPI_TILES: tuple[tuple[str, str, Callable[[Any], str], bool | None], ...] = (
    ("net_revenue", "Net revenue", _money_compact, True),
    ("ad_spend", "Ad spend", _money_compact, None),
    ("roas", "ROAS", fmt_roas, True),
    ("gross_profit", "Gross profit", _money_compact, True),
    ("contribution_profit", "Contribution profit", _money_compact, True),
)


class _Page:
    def __init__(self, key: str, title: str):
        self.key, self.title, self.parts, self.figures = key, title, [], {}

    def chart(self, fig: dict, wide: bool = False) -> None:
        cid = f"chart-{self.key}-{len(self.figures) + 1}"
        self.figures[cid] = fig
        self.parts.append(f'<div class="card{" wide" if wide else ""}"><div class="chart" id="{cid}"></div></div>')

    def block(self, title: str, body: str, wide: bool = True, note: str = "") -> None:
        n = f'<p class="note">{_e(note)}</p>' if note else ""
        self.parts.append(f'<div class="card{" wide" if wide else ""}"><h3>{_e(title)}</h3>{n}{body}</div>')

    def raw(self, body: str) -> None:
        self.parts.append(body)


def _stock_table(rows: list[dict], bar_color: str = "#dbe7f5", days_of_stock: bool = True) -> str:
    """The products of one inventory status, a data bar on their stock value."""
    columns: list[Column] = [
        ("Product", "product_id", _text, None),
        ("Name", "name", lambda s: _short(s, 40), None),
        ("Category", "category", _text, None),
        ("Units", "stock_on_hand", fmt_int, None),
        _bar_column("Stock value", "stock_value", fmt_money, rows, bar_color),
        ("Sold in window", "units_sold_window", fmt_int, None),
        ("Days of stock", "days_of_stock", lambda x: fmt_num(x, 0), None),
        ("Last sale", "last_sale_date", fmt_date, None),
    ]
    return html_table([c for c in columns if days_of_stock or c[1] != "days_of_stock"], rows)


def _int_vars(build_vars: Mapping[str, str]) -> dict[str, int]:
    out = {}
    for k, v in build_vars.items():
        try:
            out[k] = int(v)
        except (TypeError, ValueError):
            continue
    return out


def build_pages(table: TableFn, as_of: dt.date, build_vars: Mapping[str, str]) -> list[_Page]:
    cur_start, cur_end = windows(as_of)["current"]

    # 1. Executive overview
    overview = _Page("overview", "Executive overview")
    k = kpis(table, as_of)
    tiles = "".join(_tile(label, k[metric], fmt, good) for metric, label, fmt, good in KPI_TILES)
    overview.raw(
        f'<div class="card wide"><h3>Last {WINDOW_DAYS} days: {cur_start} to {cur_end}</h3>'
        f'<div class="tiles">{tiles}</div></div>'
    )
    overview.chart(chart_revenue_vs_spend(daily_revenue_spend(table)), wide=True)
    overview.chart(chart_roas_trend(roas_trend(table)))
    overview.chart(chart_top_campaigns(top_campaigns_by_roas(table, as_of)))

    # 2. Marketing performance
    marketing = _Page("marketing", "Marketing performance")
    platforms = platform_roas(table)
    marketing.chart(chart_platform_roas(platforms))
    marketing.chart(chart_spend_share(platforms))
    marketing.chart(chart_daily_spend(daily_spend_by_platform(table)), wide=True)
    campaigns = campaign_performance(table)
    marketing.chart(chart_ctr_cpc(campaigns))
    marketing.chart(chart_sessions(sessions_by_source(table)))
    shown = campaigns[:30]
    shown_note = (
        f"All {len(campaigns)} campaigns"
        if len(shown) == len(campaigns)
        else f"The {len(shown)} of {len(campaigns)} campaigns with the most spend"
    )
    marketing.block(
        "Campaigns, all dates to as_of",
        html_table(
            [
                ("Platform", "platform", _text, None),
                ("Campaign", "campaign_id", _text, None),
                ("From", "first_date", fmt_date, None),
                ("To", "last_date", fmt_date, None),
                _bar_column("Spend", "spend", fmt_money, shown),
                ("Impressions", "impressions", fmt_int, None),
                ("Clicks", "clicks", fmt_int, None),
                ("CTR", "ctr", lambda x: fmt_pct(x, 2), None),
                ("CPC", "cpc", fmt_money, None),
                ("Orders", "attributed_orders", fmt_int, None),
                ("Conv. rate", "conversion_rate", lambda x: fmt_pct(x, 2), None),
                ("CPA", "cpa", fmt_money, None),
                ("Revenue", "attributed_revenue", fmt_money, None),
                ("Gross profit", "attributed_gross_profit", fmt_money, None),
                ("ROAS", "roas", fmt_roas, lambda r: _roas_style(r["roas"])),
            ],
            shown,
        ),
        note=(
            f"{shown_note}, by spend. Orders, revenue and gross profit are "
            "attributed by last touch. ROAS colour: red below 1\u00d7, amber below 2\u00d7, "
            "green from 2\u00d7."
        ),
    )

    # 3. Customers
    customers = _Page("customers", "Customers")
    segments = segment_summary(table)
    customers.chart(chart_segments(segments))
    customers.chart(chart_ltv_by_source(ltv_by_source(table)))
    customers.chart(chart_cohorts(cohort_retention(table, as_of)), wide=True)
    customers.block(
        "Segments",
        html_table(
            [
                ("Segment", "segment", _text, None),
                ("Customers", "customers", fmt_int, None),
                ("Share", "customer_share", fmt_pct, None),
                ("Lifetime net revenue", "monetary", fmt_money, None),
                ("Revenue share", "monetary_share", fmt_pct, None),
                ("Mean revenue", "avg_monetary", fmt_money, None),
                ("Mean orders", "avg_frequency", lambda x: fmt_num(x, 2), None),
                ("Mean recency (days)", "avg_recency_days", lambda x: fmt_num(x, 0), None),
            ],
            segments,
        ),
        wide=False,
    )
    tops = top_customers(table)
    customers.block(
        "Top customers by lifetime net revenue",
        html_table(
            [
                ("User id", "user_id", _text, None),
                ("Segment", "segment", _text, None),
                ("Source", "acquisition_source", _text, None),
                ("Orders", "orders", fmt_int, None),
                _bar_column("Lifetime revenue", "lifetime_net_revenue", fmt_money, tops),
                ("Gross profit", "lifetime_gross_profit", fmt_money, None),
                ("Last order", "last_order_date", fmt_date, None),
            ],
            tops,
        ),
        wide=False,
        note="Ids only: no personal data leaves the marts.",
    )

    # 4. Products and inventory
    products = _Page("products", "Products and inventory")
    status = inventory_status_summary(table)
    products.chart(chart_inventory_status(status))
    products.block(
        "Stock by inventory status",
        html_table(
            [
                ("Status", "inventory_status", lambda s: str(s).replace("_", " "), None),
                ("Products", "products", fmt_int, None),
                ("Units in stock", "stock_units", fmt_int, None),
                ("Stock value", "stock_value", fmt_money, None),
                ("Reorder value", "reorder_value", fmt_money, None),
            ],
            status,
        ),
        wide=False,
        note="Stock value at product cost. Status thresholds: "
        + ", ".join(
            f"{n} = {build_vars[n]}"
            for n in ("velocity_window_days", "critical_days", "low_days", "overstock_days")
            if n in build_vars
        ),
    )
    products.block("Overstocked: most stock value", _stock_table(stock_by_status(table, "overstocked")))
    products.block(
        "Dead stock (no sales in the velocity window): most stock value",
        # no sales: days of stock is NULL for every row
        _stock_table(stock_by_status(table, "dead_stock"), bar_color="#f3dcd5", days_of_stock=False),
    )
    products.chart(chart_top_products(top_products(table)))
    points, total = product_revenue_margin(table)
    products.chart(chart_revenue_margin(points, total))
    products.chart(chart_coverage(stock_coverage_by_category(table), _int_vars(build_vars)), wide=True)

    return [overview, marketing, customers, products]


CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#f4f5f7;
  font-size:14px}
header{background:#1f2a3a;color:#fff;padding:14px 24px 0}
header h1{margin:0;font-size:20px;font-weight:600}
header .meta{font-size:13px;color:#c9d3e0;margin:4px 0 10px}
header .meta b{color:#fff}
header .params{font-size:12px;color:#9fb0c6;margin:0 0 10px}
nav{display:flex;gap:4px}
nav button{background:transparent;border:0;color:#c9d3e0;padding:9px 16px;font-size:14px;cursor:pointer;
  border-radius:6px 6px 0 0}
nav button.active{background:#f4f5f7;color:#1f2a3a;font-weight:600}
main{max-width:1500px;margin:0 auto;padding:16px 24px 40px}
.page{display:none;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
.page.active{display:grid}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 14px;min-width:0;
  overflow-x:auto}
.card.wide{grid-column:1/-1}
.card h3{margin:2px 0 8px;font-size:15px;font-weight:600}
.note{color:#666;font-size:12px;margin:-4px 0 8px}
.tiles{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:12px}
.tile{border:1px solid #e3e6ea;border-radius:8px;padding:10px 12px}
.tile .label{color:#555;font-size:13px}
.tile .value{font-size:26px;font-weight:600;margin:4px 0}
.tile .change{font-size:13px}
.tile .change.good{color:#1a7f37}.tile .change.bad{color:#c62828}.tile .change.flat{color:#555}
.tile .prev{color:#777}
table.data{border-collapse:collapse;width:100%;font-size:12.5px}
table.data th{text-align:left;border-bottom:2px solid #dde1e6;padding:5px 8px;color:#444;vertical-align:bottom}
table.data td{border-bottom:1px solid #eef0f2;padding:4px 8px;white-space:nowrap}
table.data td.num{text-align:right;font-variant-numeric:tabular-nums}
table.data td.empty{color:#888;text-align:center}
@media (max-width:1100px){.page{grid-template-columns:1fr}.tiles{grid-template-columns:repeat(3,1fr)}}
"""

JS = """
(function(){
  var figures = JSON.parse(document.getElementById('report-figures').textContent);
  var status = {rendered: 0, total: Object.keys(figures).length, errors: []};
  window.reportStatus = status;
  window.addEventListener('error', function(e){ status.errors.push(String(e.message)); });
  function render(page){
    page.querySelectorAll('.chart').forEach(function(div){
      if (div.dataset.rendered) { Plotly.Plots.resize(div); return; }
      var fig = figures[div.id];
      try {
        Plotly.newPlot(div, fig.data, fig.layout, {displayModeBar: false, responsive: true});
        div.dataset.rendered = '1';
        status.rendered += 1;
      } catch (err) { status.errors.push(div.id + ': ' + err); }
    });
  }
  function show(key){
    document.querySelectorAll('nav button').forEach(function(b){
      b.classList.toggle('active', b.dataset.page === key); });
    document.querySelectorAll('.page').forEach(function(p){
      var on = p.id === 'page-' + key; p.classList.toggle('active', on); if (on) render(p); });
    if (location.hash !== '#' + key) history.replaceState(null, '', '#' + key);
  }
  window.showPage = show;
  document.querySelectorAll('nav button').forEach(function(b){
    b.addEventListener('click', function(){ show(b.dataset.page); }); });
  var first = document.querySelector('nav button').dataset.page;
  var wanted = location.hash.slice(1);
  show(document.getElementById('page-' + wanted) ? wanted : first);
})();
"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _json_for_script(obj: Any) -> str:
    # inside <script>, "</" would end the element: escape it (valid JSON either way)
    return json.dumps(obj, default=str, allow_nan=False).replace("</", "<\\/")


def _clean(obj: Any) -> Any:
    """NaN/inf (never expected from the marts) become null so the JSON stays valid."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    return obj


def render_html(pages: Sequence[_Page], as_of: dt.date, build_vars: Mapping[str, str]) -> str:
    params = [f"{_e(k)} = <b>{_e(v)}</b>" for k, v in sorted(build_vars.items()) if k != "as_of"]
    nav = "".join(f'<button data-page="{p.key}">{_e(p.title)}</button>' for p in pages)
    body = "".join(
        f'<section class="page" id="page-{p.key}" aria-label="{_e(p.title)}">{"".join(p.parts)}</section>'
        for p in pages
    )
    figures = _clean({cid: fig for p in pages for cid, fig in p.figures.items()})
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>E-commerce profitability report, as of {as_of}</title>
<style>{CSS}</style>
<script>{_plotly_js()}</script>
</head><body>
<header>
<h1>E-commerce profitability report</h1>
<div class="meta">as of <b>{as_of}</b> &middot; data through the end of {as_of} (UTC) &middot; money in USD
&middot; KPI windows: last {WINDOW_DAYS} days vs the {WINDOW_DAYS} days before</div>
<div class="params">build parameters: {" &middot; ".join(params) if params else "not recorded (defaults)"}</div>
<nav>{nav}</nav>
</header>
<main>{body}</main>
<script type="application/json" id="report-figures">{_json_for_script(figures)}</script>
<script>{JS}</script>
</body></html>
"""


def write_report(table: TableFn, path: Path, build_vars: dict[str, str] | None = None) -> Path:
    """Query the marts through `table(name)` and write the dashboard to `path`; return the path.

    build_vars: the build's variables (as strings); when None they are read from `_ecom_vars`.
    """
    if build_vars is None:
        build_vars = read_build_vars(table)
    build_vars = {k: str(v) for k, v in build_vars.items()}
    as_of = resolve_as_of(table, build_vars)
    build_vars.setdefault("as_of", as_of.isoformat())
    pages = build_pages(table, as_of, build_vars)
    return atomic_write(path, render_html(pages, as_of, build_vars))
