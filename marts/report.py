"""The report's pages (`ecom report`): what each page reads from the marts and how it shows it.

Each page is an exposure (`@exposure`, ecom.core.registry; `ecom ls` lists them): a function whose
parameters name the marts and build variables it reads, called by `ecom report` with the built
tables and the build's variables;
`reads` declares every column it touches, and the report refuses a query that reads more. A page
embeds only additive rows (daily or monthly sums, or a capped list of rows it says it caps); the page
in the browser sums the rows its date range and filters select and computes every ratio from those
sums, as the marts define them (a ratio of sums, NULL when the denominator is 0).
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import exposure
from ecom.outputs.report.layout import (
    Chart,
    Column,
    Dataset,
    Filter,
    Heatmap,
    Page,
    Series,
    Table,
    Text,
    Tile,
    ratio_of_sums,
    total,
)
from marts._common import CHANNELS, PLATFORMS, cents, month_start
from marts.attribution import ATTRIBUTION_MODELS, LTV_HORIZONS, unobserved_from
from marts.customers import SEGMENTS
from marts.products import INVENTORY_STATUSES
from marts.sessions import FUNNEL_COUNTS

# One line per attribution model, in the mart's order (docs/contract.md#fact_attribution_models).
MODEL_EXPLANATIONS = dict(
    zip(
        ATTRIBUTION_MODELS,
        (
            "all credit to the last session before the order",
            "all credit to the first session in the touch window",
            "credit split equally over the sessions in the touch window",
            "40% to the first and 40% to the last session, 20% split over those between",
            "credit halves for every time_decay_half_life_hours a session is older than the order",
        ),
        strict=True,
    )
)
TOP_CUSTOMERS = 500
TOP_PRODUCTS = 1000
TOP_STOCK = 200

PNL = ("date", "orders", "net_revenue", "ad_spend", "gross_profit", "contribution_profit")
PNL_MONEY = PNL[2:]
CAMPAIGN = (
    "spend_date",
    "platform",
    "campaign_id",
    "spend",
    "clicks",
    "impressions",
    "attributed_orders",
    "attributed_revenue",
    "attributed_gross_profit",
)
CAMPAIGN_MONEY = ("spend", "attributed_revenue", "attributed_gross_profit")
# a campaign is (platform, campaign_id) (docs/contract.md#fact_campaign_performance): one id may run on
# every platform, so a chart or filter by campaign_id alone would merge them
CAMPAIGN_KEY = ("platform", "campaign_id")

BLENDED_ROAS = ratio_of_sums("net_revenue", "ad_spend")
ATTRIBUTED_ROAS = ratio_of_sums("attributed_revenue", "spend")


# Days of daily rows before as_of: every preset range (at most a year) and its comparison period are
# exact; older rows are summed per month, so that seven years of campaigns fit in a mailable file.
DAILY_DAYS = 731


def daily_then_monthly(
    name: str, t: ir.Table, date: str, dims: tuple[str, ...], as_of: dt.date, money: tuple[str, ...]
) -> Dataset:
    """t's additive columns summed per (day, dims) from the first of the month DAILY_DAYS before
    as_of, and per (month, dims) before it, each month dated its first day."""
    since = (as_of - dt.timedelta(days=DAILY_DAYS - 1)).replace(day=1)
    measures = [c for c in t.columns if c != date and c not in dims]

    def summed(rows: ir.Table, day: ir.DateValue) -> ir.Table:
        return rows.group_by(day.name(date), *dims).aggregate(**{m: rows[m].sum() for m in measures})

    recent, old = t.filter(t[date] >= since), t.filter(t[date] < since)
    expr = summed(recent, recent[date]).union(summed(old, month_start(old[date])))
    return Dataset(name, expr, date=date, daily_since=since, money=money)


def _pnl(fact_daily_pnl: ir.Table, as_of: dt.date) -> Dataset:
    return daily_then_monthly("pnl", fact_daily_pnl.select(*PNL), "date", (), as_of, PNL_MONEY)


def _campaigns(fact_campaign_performance: ir.Table, as_of: dt.date) -> Dataset:
    t = fact_campaign_performance.select(*CAMPAIGN)
    return daily_then_monthly("campaigns", t, "spend_date", CAMPAIGN_KEY, as_of, CAMPAIGN_MONEY)


def _money_tiles(dataset: str, specs: tuple[tuple[str, str, int], ...]) -> list[Tile]:
    return [Tile(label, dataset, total(column), "money_compact", better) for label, column, better in specs]


@exposure(title="Executive overview", reads={"fact_daily_pnl": PNL, "fact_campaign_performance": CAMPAIGN})
def overview(fact_daily_pnl: ir.Table, fact_campaign_performance: ir.Table, as_of: dt.date) -> Page:
    return Page(
        "overview",
        "Executive overview",
        [_pnl(fact_daily_pnl, as_of), _campaigns(fact_campaign_performance, as_of)],
        [
            *_money_tiles("pnl", (("Net revenue", "net_revenue", 1), ("Ad spend", "ad_spend", 0))),
            Tile("Blended ROAS", "pnl", BLENDED_ROAS, "roas", help="all net revenue / all ad spend"),
            Tile("Blended ROAS, last 7 days", "pnl", BLENDED_ROAS, "roas", last_days=7, help="of the range's end"),
            *_money_tiles(
                "pnl", (("Gross profit", "gross_profit", 1), ("Contribution profit", "contribution_profit", 1))
            ),
            Tile("Orders", "pnl", total("orders"), "int"),
            Tile("Average order value", "pnl", ratio_of_sums("net_revenue", "orders"), "money"),
            Chart(
                "Net revenue and ad spend",
                "pnl",
                "@date",
                [Series("Net revenue", total("net_revenue")), Series("Ad spend", total("ad_spend"))],
                "money",
                kind="line",
                wide=True,
            ),
            Chart(
                "Blended ROAS (net revenue / ad spend)", "pnl", "@date", [Series("Blended ROAS", BLENDED_ROAS)], "roas"
            ),
            Chart(
                "Top 10 campaigns by attributed ROAS",
                "campaigns",
                CAMPAIGN_KEY,
                [Series("Attributed ROAS", ATTRIBUTED_ROAS)],
                "roas",
                kind="hbar",
                sort_desc=True,
                limit=10,
            ),
        ],
    )


ATTRIBUTION = ("date", "channel", "attribution_model", "credited_orders", "credited_revenue", "spend")
FUNNEL = ("session_date", "channel", *FUNNEL_COUNTS, "avg_duration_seconds")

CAMPAIGN_COLUMNS = [
    Column("Platform", "platform"),
    Column("Campaign", "campaign_id"),
    Column("Spend", "spend", "money", total("spend")),
    Column("Impressions", "impressions", "int", total("impressions")),
    Column("Clicks", "clicks", "int", total("clicks")),
    Column("CTR", "ctr", "pct", ratio_of_sums("clicks", "impressions")),
    Column("CPC", "cpc", "money", ratio_of_sums("spend", "clicks")),
    Column("Attributed orders", "attributed_orders", "int", total("attributed_orders")),
    Column("CPA", "cpa", "money", ratio_of_sums("spend", "attributed_orders")),
    Column("Attributed revenue", "attributed_revenue", "money", total("attributed_revenue")),
    Column("Attributed gross profit", "attributed_gross_profit", "money", total("attributed_gross_profit")),
    Column("Attributed ROAS", "roas", "roas", ATTRIBUTED_ROAS),
]


@exposure(
    title="Marketing performance",
    reads={
        "fact_daily_pnl": PNL,
        "fact_campaign_performance": CAMPAIGN,
        "fact_attribution_models": ATTRIBUTION,
        "fact_funnel_daily": FUNNEL,
    },
)
def marketing(
    fact_daily_pnl: ir.Table,
    fact_campaign_performance: ir.Table,
    fact_attribution_models: ir.Table,
    fact_funnel_daily: ir.Table,
    attribution_lookback_hours: int,
    as_of: dt.date,
) -> Page:
    a = fact_attribution_models.select(*ATTRIBUTION)
    # zero-filled rows add nothing to a sum: leave them out of the page
    a = a.filter((a.credited_orders != 0) | (a.spend.fill_null(0) != 0))
    f = fact_funnel_daily
    # the mean duration is not additive: embed its sum (mean x sessions) and divide in the page
    funnel = f.select(*FUNNEL[:-1], duration_seconds=f.avg_duration_seconds * f.sessions)
    rule = (
        f"<p><b>Attributed</b> (last touch): an order goes to the platform of the user's last session that started"
        f" at most {attribution_lookback_hours} h (attribution_lookback_hours) before it, and within that platform to"
        " its campaign with the most clicks on the order's day (ties: the smallest campaign id). Orders whose last"
        " session was organic, that have no session in the window, or whose session's platform ran no campaign"
        " that day are attributed to no platform."
        " <b>Blended ROAS</b> divides all net revenue, attributed or not, by all ad spend.</p>"
        "<p>The five attribution models below credit every order once over the sessions in the"
        " touch_window_days before it:</p><ul>"
        + "".join(f"<li><b>{name}</b>: {text}</li>" for name, text in MODEL_EXPLANATIONS.items())
        + "</ul>"
    )
    roas_by_model = ratio_of_sums("credited_revenue", "spend")
    counts = ("sessions", "product_view_sessions", "cart_sessions", "purchase_sessions")
    return Page(
        "marketing",
        "Marketing performance",
        [
            _pnl(fact_daily_pnl, as_of),
            _campaigns(fact_campaign_performance, as_of),
            # credited revenue is fractional (credit x revenue): not rounded to the cent
            daily_then_monthly("attribution", a, "date", ("channel", "attribution_model"), as_of, ("spend",)),
            daily_then_monthly("funnel", funnel, "session_date", ("channel",), as_of, ()),
        ],
        [
            *_money_tiles("campaigns", (("Spend", "spend", 0), ("Attributed revenue", "attributed_revenue", 1))),
            Tile("Attributed ROAS", "campaigns", ATTRIBUTED_ROAS, "roas", help="last touch: see the rule below"),
            Tile("Blended ROAS", "pnl", BLENDED_ROAS, "roas", help="all net revenue / all ad spend"),
            Tile("CPA", "campaigns", ratio_of_sums("spend", "attributed_orders"), "money", better=-1),
            Tile("CTR", "campaigns", ratio_of_sums("clicks", "impressions"), "pct"),
            Tile("CPC", "campaigns", ratio_of_sums("spend", "clicks"), "money", better=-1),
            Text(
                "How revenue is attributed",
                f"<details><summary>The rules, one click away</summary>{rule}</details>",
                wide=True,
            ),
            Chart(
                "Attributed ROAS by platform",
                "campaigns",
                "platform",
                [Series("Attributed ROAS", ATTRIBUTED_ROAS)],
                "roas",
                categories=PLATFORMS,
            ),
            Chart(
                "Spend by platform",
                "campaigns",
                "@date",
                [Series("Spend", total("spend"))],
                "money",
                kind="line",
                split="platform",
                split_order=PLATFORMS,
                wide=True,
            ),
            Table(
                "Campaigns",
                "campaigns",
                CAMPAIGN_KEY,
                CAMPAIGN_COLUMNS,
                sort="spend",
                note="Orders, revenue and gross profit attributed by last touch.",
            ),
            Table(
                "Spend without attributed revenue",
                "campaigns",
                CAMPAIGN_KEY,
                [*CAMPAIGN_COLUMNS[:5], CAMPAIGN_COLUMNS[9]],
                sort="spend",
                only=[["attributed_revenue", "=", 0], ["spend", ">", 0]],
                note="Campaigns that spent in the period and were attributed no revenue by last touch.",
            ),
            Chart(
                "Platform ROAS under each attribution model",
                "attribution",
                "channel",
                [Series("ROAS", roas_by_model)],
                "roas",
                split="attribution_model",
                split_order=ATTRIBUTION_MODELS,
                categories=PLATFORMS,
                wide=True,
                note="credited revenue / spend; " + "; ".join(f"{n}: {t}" for n, t in MODEL_EXPLANATIONS.items()),
            ),
            Table(
                "Credit by channel and attribution model",
                "attribution",
                ["channel", "attribution_model"],
                [
                    Column("Channel", "channel"),
                    Column("Model", "attribution_model"),
                    Column("Credited orders", "credited_orders", "num", total("credited_orders")),
                    Column("Credited revenue", "credited_revenue", "money", total("credited_revenue")),
                    Column("Spend", "spend", "money", total("spend")),
                    Column("ROAS", "roas", "roas", roas_by_model),
                    Column("CPA", "cpa", "money", ratio_of_sums("spend", "credited_orders")),
                ],
                sort="credited_revenue",
            ),
            Chart(
                "Funnel by channel (sessions)",
                "funnel",
                "channel",
                [Series(c.replace("_", " "), total(c)) for c in counts],
                "int",
                categories=CHANNELS[:-1],
                wide=True,  # beside it, the table's 11 columns scrolled sideways at 1400 px
            ),
            Table(
                "Funnel by channel",
                "funnel",
                ["channel"],
                [
                    Column("Channel", "channel"),
                    *(Column(c.replace("_", " ").capitalize(), c, "int", total(c)) for c in counts),
                    Column("Product view rate", "product_view_rate", "pct", ratio_of_sums(counts[1], "sessions")),
                    Column("Cart rate", "cart_rate", "pct", ratio_of_sums("cart_sessions", "sessions")),
                    Column("Purchase rate", "purchase_rate", "pct", ratio_of_sums("purchase_sessions", "sessions")),
                    Column(
                        "Cart to purchase",
                        "cart_to_purchase_rate",
                        "pct",
                        ratio_of_sums("cart_purchase_sessions", "cart_sessions"),
                    ),
                    Column("Bounce rate", "bounce_rate", "pct", ratio_of_sums("bounced_sessions", "sessions")),
                    Column("Mean duration (s)", "avg_duration", "num", ratio_of_sums("duration_seconds", "sessions")),
                ],
                sort="sessions",
            ),
        ],
        [Filter("Platform", ["platform", "channel"], PLATFORMS), Filter("Campaign", [CAMPAIGN_KEY])],
        note="The platform filter selects a channel of the attribution models and of the funnel too.",
    )


CUSTOMER = (
    "user_id",
    "acquisition_source",
    "first_order_date",
    "last_order_date",
    "orders",
    "lifetime_net_revenue",
    "lifetime_gross_profit",
    "is_customer",
)
COHORT = ("cohort_month", "months_since_first", "cohort_size", "active_customers")
ECONOMICS = (
    "cohort_month",
    "channel",
    "new_customers",
    "spend",
    *(f"revenue_{n}d" for n in LTV_HORIZONS),
    "gross_profit_365d",
)


def _ltv(n: int) -> Column:
    return Column(
        f"LTV {n}d",
        f"ltv_{n}d",
        "money",
        ratio_of_sums(f"revenue_{n}d", "new_customers", where_present=f"revenue_{n}d"),
    )


ECONOMICS_COLUMNS = [
    Column("New customers", "new_customers", "int", total("new_customers")),
    Column("Spend", "spend", "money", total("spend")),
    Column("CAC", "cac", "money", ratio_of_sums("spend", "new_customers")),
    *(_ltv(n) for n in LTV_HORIZONS),
    Column(
        "Gross-profit LTV 365d",
        "gp_ltv_365d",
        "money",
        ratio_of_sums("gross_profit_365d", "new_customers", where_present="gross_profit_365d"),
    ),
    # (Σ gp365 / Σ new) / (Σ spend / Σ new) over the cohorts whose 365 days have ended
    Column(
        "LTV:CAC 365d",
        "ltv_to_cac_365d",
        "roas",
        ratio_of_sums("gross_profit_365d", "spend", where_present="gross_profit_365d"),
    ),
]


@exposure(
    title="Customers",
    reads={
        "dim_customers": CUSTOMER,
        "dim_customer_segments": ("user_id", "segment"),
        "fact_cohort_retention": COHORT,
        "fact_channel_economics": ECONOMICS,
    },
)
def customers(
    dim_customers: ir.Table,
    dim_customer_segments: ir.Table,
    fact_cohort_retention: ir.Table,
    fact_channel_economics: ir.Table,
    as_of: dt.date,
) -> Page:
    c = dim_customers.filter(dim_customers.is_customer)
    s = dim_customer_segments
    c = (
        c.left_join(s, c.user_id == s.user_id)
        .select(*(c[col] for col in CUSTOMER[:-1]), segment=s.segment)
        .mutate(acquisition_source=ibis._.acquisition_source.fill_null("(unknown)"))
    )
    acquired = c.group_by(
        first_order_month=month_start(c.first_order_date), acquisition_source=c.acquisition_source, segment=c.segment
    ).aggregate(
        customers=c.count(),
        lifetime_net_revenue=c.lifetime_net_revenue.sum(),
        lifetime_gross_profit=c.lifetime_gross_profit.sum(),
        orders=c.orders.sum(),
    )
    # rank on cents (docs/contract.md#conventions) so a float tie breaks the same way on every engine
    top = c.order_by(cents(c.lifetime_net_revenue).desc(), c.user_id).limit(TOP_CUSTOMERS)
    ltv = ratio_of_sums("lifetime_net_revenue", "customers")
    unobservable = "".join(
        f"<li>{n}-day LTV: cohorts from {unobserved_from(as_of, n):%Y-%m} on (their window ends after {as_of})</li>"
        for n in LTV_HORIZONS
    )
    return Page(
        "customers",
        "Customers",
        [
            Dataset(
                "acquired",
                acquired,
                date="first_order_month",
                grain="month",
                money=("lifetime_net_revenue", "lifetime_gross_profit"),
            ),
            Dataset(
                "top_customers",
                top.mutate(user_id=top.user_id.cast("string")),
                period=f"lifetime to {as_of}, the {TOP_CUSTOMERS} customers with the most lifetime net revenue",
                money=("lifetime_net_revenue", "lifetime_gross_profit"),
            ),
            Dataset("cohorts", fact_cohort_retention.select(*COHORT), date="cohort_month", grain="month"),
            Dataset(
                "economics",
                fact_channel_economics.select(*ECONOMICS),
                date="cohort_month",
                grain="month",
                money=ECONOMICS[3:],
            ),
        ],
        [
            Tile("New customers", "acquired", total("customers"), "int"),
            Tile("Lifetime net revenue per customer", "acquired", ltv, "money", help="to as_of"),
            Tile(
                "Lifetime gross profit per customer",
                "acquired",
                ratio_of_sums("lifetime_gross_profit", "customers"),
                "money",
            ),
            Tile("Orders per customer", "acquired", ratio_of_sums("orders", "customers"), "num"),
            Chart(
                "Customers by RFM segment",
                "acquired",
                "segment",
                [Series("Customers", total("customers"))],
                "int",
                categories=SEGMENTS,
            ),
            Chart(
                "Customers by acquisition source",
                "acquired",
                "acquisition_source",
                [Series("Customers", total("customers"))],
                "int",
                sort_desc=True,
            ),
            Chart(
                "Lifetime net revenue per customer by acquisition source",
                "acquired",
                "acquisition_source",
                [Series("LTV", ltv)],
                "money",
                sort_desc=True,
            ),
            Table(
                "CAC, LTV and LTV:CAC by acquisition channel",
                "economics",
                ["channel"],
                [Column("Channel", "channel"), *ECONOMICS_COLUMNS],
                sort="new_customers",
                note="A customer's channel is the first touch of their first order. LTV over the cohorts whose"
                " window has ended for the whole month; CAC is empty for channels without spend.",
            ),
            Text("Cohorts not yet observable", f"<ul>{unobservable}</ul>"),
            Table(
                "Cohort by channel",
                "economics",
                ["cohort_month", "channel"],
                [Column("Cohort", "cohort_month", "month"), Column("Channel", "channel"), *ECONOMICS_COLUMNS],
                sort="cohort_month",
            ),
            Heatmap(
                "Retention by cohort (share of the cohort ordering in month N)",
                "cohorts",
                "cohort_month",
                "months_since_first",
                ratio_of_sums("active_customers", "cohort_size"),
                "pct",
            ),
            Table(
                "Top customers",
                "top_customers",
                ["user_id", "segment", "acquisition_source"],
                [
                    Column("User id", "user_id"),
                    Column("Segment", "segment"),
                    Column("Source", "acquisition_source"),
                    Column("Orders", "orders", "int", total("orders")),
                    Column("Lifetime net revenue", "lifetime_net_revenue", "money", total("lifetime_net_revenue")),
                    Column("Lifetime gross profit", "lifetime_gross_profit", "money", total("lifetime_gross_profit")),
                ],
                sort="lifetime_net_revenue",
                note="Ids only: no personal data leaves the marts.",
            ),
        ],
        [
            Filter("Segment", ["segment"], SEGMENTS),
            Filter("Acquisition source", ["acquisition_source"]),
            Filter("Channel", ["channel"], CHANNELS),
        ],
        note="Customers are counted in the month of their first order; their values are lifetime to as_of.",
    )


INVENTORY = (
    "product_id",
    "name",
    "category",
    "department",
    "stock_on_hand",
    "stock_value",
    "units_sold_window",
    "avg_daily_units",
    "days_of_stock",
    "inventory_status",
    "reorder_value",
)
PRODUCT = (
    "product_id",
    "name",
    "brand",
    "category",
    "department",
    "units_sold",
    "net_revenue",
    "gross_profit",
    "revenue_rank",
)


def _stock_list(inv: ir.Table, status: str) -> ir.Table:
    t = inv.filter(inv.inventory_status == status)
    t = t.order_by(cents(t.stock_value).desc(), t.product_id).limit(TOP_STOCK)
    return t.select(
        "name",
        "category",
        "department",
        "stock_on_hand",
        "stock_value",
        "units_sold_window",
        "days_of_stock",
        product_id=t.product_id.cast("string"),
    )


STOCK_COLUMNS = [
    Column("Product", "product_id"),
    Column("Name", "name"),
    Column("Category", "category"),
    Column("Units in stock", "stock_on_hand", "int", total("stock_on_hand")),
    Column("Stock value", "stock_value", "money", total("stock_value")),
    Column("Sold in window", "units_sold_window", "int", total("units_sold_window")),
    Column("Days of stock", "days_of_stock", "days", total("days_of_stock")),
]


@exposure(
    title="Products and inventory", reads={"fact_inventory_forecast": INVENTORY, "fact_product_performance": PRODUCT}
)
def products(
    fact_inventory_forecast: ir.Table,
    fact_product_performance: ir.Table,
    as_of: dt.date,
    velocity_window_days: int,
    critical_days: int,
    low_days: int,
    overstock_days: int,
) -> Page:
    inv = fact_inventory_forecast.select(*INVENTORY).mutate(
        category=ibis._.category.fill_null("(none)"), department=ibis._.department.fill_null("(none)")
    )
    status = inv.group_by("category", "department", "inventory_status").aggregate(
        products=inv.count(),
        stock_on_hand=inv.stock_on_hand.sum(),
        # days of stock counts only the stock that sells: the mart's days_of_stock is NULL without
        # sales (docs/contract.md#fact_inventory_forecast), and dead stock would swamp the ratio
        selling_stock=ibis.ifelse(inv.units_sold_window > 0, inv.stock_on_hand, 0).sum(),
        stock_value=inv.stock_value.sum(),
        avg_daily_units=inv.avg_daily_units.sum(),
        reorder_value=inv.reorder_value.sum(),
    )
    p = fact_product_performance.select(*PRODUCT).mutate(
        category=ibis._.category.fill_null("(none)"), department=ibis._.department.fill_null("(none)")
    )
    top = p.filter(p.revenue_rank <= TOP_PRODUCTS).select(
        "name",
        "brand",
        "category",
        "department",
        "units_sold",
        "net_revenue",
        "gross_profit",
        product_id=p.product_id.cast("string"),
    )
    at = f"at {as_of}"
    thresholds = (
        f"Status over the last {velocity_window_days} days of sales: critical under {critical_days} days of stock,"
        f" low under {low_days}, overstocked over {overstock_days}."
    )
    count = total("products")
    days_of_stock = ratio_of_sums("selling_stock", "avg_daily_units")
    coverage = (
        f"Σ stock / Σ daily units sold over the products sold in the last {velocity_window_days} days "
        "(dead stock left out)"
    )
    return Page(
        "products",
        "Products and inventory",
        [
            Dataset("inventory", status, period=at, money=("stock_value", "reorder_value")),
            Dataset(
                "product_sales",
                p.group_by("category", "department").aggregate(
                    products=p.count(),
                    units_sold=p.units_sold.sum(),
                    net_revenue=p.net_revenue.sum(),
                    gross_profit=p.gross_profit.sum(),
                ),
                period=f"lifetime to {as_of}",
                money=("net_revenue", "gross_profit"),
            ),
            Dataset(
                "top_products",
                top,
                period=f"lifetime to {as_of}, the {TOP_PRODUCTS} products with the most net revenue",
                money=("net_revenue", "gross_profit"),
            ),
            Dataset(
                "overstocked",
                _stock_list(inv, "overstocked"),
                period=f"{at}, the {TOP_STOCK} with the most stock value",
                money=("stock_value",),
            ),
            Dataset(
                "dead_stock",
                _stock_list(inv, "dead_stock"),
                period=f"{at}, the {TOP_STOCK} with the most stock value",
                money=("stock_value",),
            ),
        ],
        [
            Tile("Products", "inventory", count, "int", better=0),
            Tile(
                "Overstocked",
                "inventory",
                total("products", where=("inventory_status", "overstocked")),
                "int",
                better=-1,
            ),
            Tile(
                "Dead stock", "inventory", total("products", where=("inventory_status", "dead_stock")), "int", better=-1
            ),
            Tile(
                "Average coverage",
                "inventory",
                days_of_stock,
                "days",
                better=0,
                help=coverage,
            ),
            Tile("Stock value", "inventory", total("stock_value"), "money_compact", better=0),
            Tile("Reorder value", "inventory", total("reorder_value"), "money_compact", better=0),
            Chart(
                "Products by inventory status",
                "inventory",
                "inventory_status",
                [Series("Products", count)],
                "int",
                categories=INVENTORY_STATUSES,
                note=thresholds,
            ),
            Chart(
                "Stock value by inventory status",
                "inventory",
                "inventory_status",
                [Series("Stock value", total("stock_value"))],
                "money",
                categories=INVENTORY_STATUSES,
            ),
            Chart(
                "Days of stock by category",
                "inventory",
                "category",
                [Series("Days of stock", days_of_stock)],
                "days",
                kind="hbar",
                sort_desc=True,
                note=f"{coverage}.",
            ),
            Chart(
                "Net revenue by category",
                "product_sales",
                "category",
                [Series("Net revenue", total("net_revenue"))],
                "money",
                kind="hbar",
                sort_desc=True,
            ),
            Table(
                "Products",
                "top_products",
                ["product_id", "name", "brand", "category", "department"],
                [
                    Column("Product", "product_id"),
                    Column("Name", "name"),
                    Column("Brand", "brand"),
                    Column("Category", "category"),
                    Column("Department", "department"),
                    Column("Units sold", "units_sold", "int", total("units_sold")),
                    Column("Net revenue", "net_revenue", "money", total("net_revenue")),
                    Column("Gross profit", "gross_profit", "money", total("gross_profit")),
                    Column("Margin", "margin_pct", "pct", ratio_of_sums("gross_profit", "net_revenue")),
                ],
                sort="net_revenue",
            ),
            Table("Overstocked", "overstocked", ["product_id", "name", "category"], STOCK_COLUMNS, sort="stock_value"),
            Table(
                "Dead stock (no sales in the window)",
                "dead_stock",
                ["product_id", "name", "category"],
                STOCK_COLUMNS[:-1],
                sort="stock_value",
            ),
        ],
        [Filter("Category", ["category"]), Filter("Department", ["department"])],
        note="Inventory is a snapshot at as_of and product sales are lifetime: this page has no date range.",
    )
