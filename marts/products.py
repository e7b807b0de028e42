"""Products and inventory: sales performance per product and stock health / reorder advice.

See docs/contract.md#fact_product_performance and docs/contract.md#fact_inventory_forecast.
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test, model
from marts._common import (
    cents,
    days_between,
    is_net,
    is_non_cancelled,
    items_with_order_user_and_cost,
    not_finite,
    outside,
    ratio,
)

INVENTORY_STATUSES = ("out_of_stock", "dead_stock", "critical", "low", "overstocked", "healthy")
PRODUCT_ATTRIBUTES = ("product_id", "name", "brand", "category", "department", "cost")


@model(
    key="product_id",
    cluster_by=("category",),
    not_null=("units_sold", "units_returned", "net_revenue", "cogs", "gross_profit", "revenue_rank"),
    relationships={"product_id": "stg_products.product_id"},
)
def fact_product_performance(stg_products: ir.Table, stg_order_items: ir.Table, stg_orders: ir.Table) -> ir.Table:
    """One row per product of stg_products, sold or not (docs/contract.md#fact_product_performance).

    units_sold counts net items and units_returned returned items; net_revenue is Σ sale_price of
    net items and cogs their product cost (products.cost). A product without sales has 0 units and
    money and NULL margin_pct / return_rate. revenue_rank orders by net_revenue in integer cents,
    FLOOR(x × 100 + 0.5) (`cents`: not ROUND(x, 2), which BigQuery and DuckDB round differently at a
    half cent), descending, ties to the smaller product_id, ranks unique (1..n). revenue_share =
    net_revenue / Σ net_revenue over all products, and cumulative_revenue_share the running sum of
    net_revenue by rank over that total; both are NULL when total net revenue is 0 (no sales: a
    share of nothing is undefined, as for every other ratio).

    Columns:
        product_id: the product (stg_products.product_id); the key.
        name, brand, category, department: the product's attribute of that name (stg_products).
        cost: products.cost, the unit cost.
        retail_price: the list price.
        units_sold: net items of the product (status neither cancelled nor returned); 0 when none.
        units_returned: returned items of the product; 0 when none.
        net_revenue: Σ sale_price of the net items; 0 when none.
        cogs: Σ products.cost of the net items (units_sold × cost); 0 when none.
        gross_profit: net_revenue − cogs.
        margin_pct: gross_profit / net_revenue, a fraction (0.25 is 25 %) despite its name; NULL
            when net_revenue is 0.
        return_rate: units_returned / (units_sold + units_returned); NULL when both are 0.
        revenue_rank: 1 for the highest net_revenue in integer cents FLOOR(net_revenue × 100 + 0.5),
            descending; ties: smaller product_id first; unique, 1..number of products.
        revenue_share: net_revenue / Σ net_revenue of all products; NULL when that total is 0.
        cumulative_revenue_share: Σ net_revenue of the products ranked 1..revenue_rank / Σ
            net_revenue of all products; NULL when that total is 0.
    """
    items = items_with_order_user_and_cost(stg_order_items, stg_orders, stg_products)
    sold = items.filter(is_non_cancelled(items.status))
    net = is_net(sold.status)
    per_product = sold.group_by("product_id").aggregate(
        units_sold=sold.order_item_id.count(where=net),
        units_returned=sold.order_item_id.count(where=sold.status == "returned"),
        net_revenue=sold.sale_price.sum(where=net),
        cogs=sold.product_cost.sum(where=net),
    )

    products = stg_products.left_join(per_product, "product_id")
    filled = products.select(
        *PRODUCT_ATTRIBUTES,
        "retail_price",
        units_sold=products.units_sold.fill_null(0),
        units_returned=products.units_returned.fill_null(0),
        net_revenue=products.net_revenue.fill_null(0),
        cogs=products.cogs.fill_null(0),
    )
    by_revenue = [cents(filled.net_revenue).desc(), filled.product_id.asc()]
    ranked = filled.mutate(
        gross_profit=filled.net_revenue - filled.cogs,
        # row_number() is 0-based in ibis: + 1 makes rank 1 the highest revenue.
        revenue_rank=ibis.row_number().over(ibis.window(order_by=by_revenue)) + 1,
        total_net_revenue=filled.net_revenue.sum().over(),
        running_net_revenue=filled.net_revenue.cumsum(order_by=by_revenue),
    )
    return ranked.select(
        "product_id",
        "name",
        "brand",
        "category",
        "department",
        "cost",
        "retail_price",
        "units_sold",
        "units_returned",
        "net_revenue",
        "cogs",
        "gross_profit",
        margin_pct=ratio(ranked.gross_profit, ranked.net_revenue),
        return_rate=ratio(ranked.units_returned, ranked.units_sold + ranked.units_returned),
        revenue_rank=ranked.revenue_rank,
        revenue_share=ratio(ranked.net_revenue, ranked.total_net_revenue),
        cumulative_revenue_share=ratio(ranked.running_net_revenue, ranked.total_net_revenue),
    )


def ceil_div(numerator: ir.IntegerValue, denominator: int) -> ir.IntegerValue:
    """⌈numerator / denominator⌉ for a non-negative integer numerator and positive denominator.

    ibis compiles `//` to FLOOR(a / b) (BigQuery FLOOR(IEEE_DIVIDE(a, b))) then an integer cast:
    exact for integer operands below 2**52, since a non-integer quotient is at least 1/b away
    from the next integer.
    """
    return (numerator + (denominator - 1)) // denominator


@model(
    key="product_id",
    cluster_by=("inventory_status",),
    not_null=(
        "stock_on_hand",
        "units_sold_window",
        "avg_daily_units",
        "inventory_status",
        "reorder_qty",
    ),
    accepted_values={"inventory_status": INVENTORY_STATUSES},
    relationships={"product_id": "stg_products.product_id"},
)
def fact_inventory_forecast(
    stg_products: ir.Table,
    stg_inventory: ir.Table,
    stg_order_items: ir.Table,
    as_of: dt.date,
    velocity_window_days: int,
    critical_days: int,
    low_days: int,
    overstock_days: int,
    lead_time_days: int,
    cover_days: int,
) -> ir.Table:
    """One row per product of stg_products (docs/contract.md#fact_inventory_forecast).

    stock_on_hand counts the inventory units received by `as_of` and not sold by it (stg_inventory
    applies as_of: a unit sold later is still stock). units_sold_window counts non-cancelled items
    whose order date is in the `velocity_window_days` days ending on as_of (as_of − W < date ≤
    as_of). Statuses and reorder_qty are decided in integers (S × W against threshold × U,
    integer ceiling division), so float rounding cannot move a product across a threshold; the
    floats avg_daily_units (U / W) and days_of_stock (S × W / U, NULL without sales in the window)
    are for display. A product that is out of stock with no sales in the window is `out_of_stock`
    (first rule) and reorders 0 (U = 0). stock_value and reorder_value use products.cost.

    Columns:
        product_id: the product (stg_products.product_id); the key.
        name, brand, category, department: the product's attribute of that name (stg_products).
        cost: products.cost, the unit cost.
        stock_on_hand: S, inventory units received by the end of `as_of` and not sold by it; 0 when
            none.
        stock_value: stock_on_hand × cost.
        units_sold_window: U, non-cancelled items of the product whose order date is in the W =
            `velocity_window_days` days ending on `as_of` (as_of − W < order_date ≤ as_of).
        avg_daily_units: U / W, units per day over the window (FLOAT64; 0 without sales).
        days_of_stock: S × W / U, days the stock lasts at the window's pace; NULL when U is 0.
        last_sale_date: the latest order date of a non-cancelled item of the product, up to
            `as_of`; NULL if never sold.
        days_since_last_sale: `as_of` − last_sale_date in calendar days; NULL if never sold.
        inventory_status: the first that holds: `out_of_stock` (S = 0), `dead_stock` (U = 0),
            `critical` (S × W < critical_days × U), `low` (S × W < low_days × U), `overstocked`
            (S × W > overstock_days × U), else `healthy`; decided in integers.
        reorder_qty: max(0, ⌈U × (lead_time_days + cover_days) / W⌉ − S) by integer ceiling
            division; 0 for dead stock.
        reorder_value: reorder_qty × cost.
    """
    w = velocity_window_days
    window_start = ibis.date(as_of - dt.timedelta(days=w))  # exclusive
    sold = stg_order_items.filter(is_non_cancelled(stg_order_items.status))
    sales = sold.group_by("product_id").aggregate(
        units_sold_window=sold.order_item_id.count(where=sold.order_date > window_start),
        last_sale_date=sold.order_date.max(),
    )
    unsold = stg_inventory.filter(stg_inventory.sold_at.isnull())
    stock = unsold.group_by("product_id").aggregate(stock_on_hand=unsold.inventory_item_id.count())

    joined = stg_products.left_join(stock, "product_id").left_join(sales, "product_id")
    filled = joined.select(
        *PRODUCT_ATTRIBUTES,
        "last_sale_date",
        stock_on_hand=joined.stock_on_hand.fill_null(0),
        units_sold_window=joined.units_sold_window.fill_null(0),
    )
    # The contract's S, U, W: days_of_stock < d  ⇔  S / (U / W) < d  ⇔  S × W < d × U (U > 0).
    s, u = filled.stock_on_hand, filled.units_sold_window
    status = ibis.cases(
        (s == 0, "out_of_stock"),
        (u == 0, "dead_stock"),
        (s * w < critical_days * u, "critical"),
        (s * w < low_days * u, "low"),
        (s * w > overstock_days * u, "overstocked"),
        else_="healthy",
    )
    # Units needed to cover lead time plus cover days at the window's pace; 0 for dead stock
    # (U = 0), so dead stock never reorders.
    needed = ceil_div(u * (lead_time_days + cover_days), w)
    reorder_qty = ibis.ifelse(needed > s, needed - s, 0)
    assessed = filled.mutate(inventory_status=status, reorder_qty=reorder_qty)
    return assessed.select(
        *PRODUCT_ATTRIBUTES,
        "stock_on_hand",
        stock_value=assessed.stock_on_hand * assessed.cost,
        units_sold_window=assessed.units_sold_window,
        avg_daily_units=assessed.units_sold_window / w,
        days_of_stock=ratio(assessed.stock_on_hand * w, assessed.units_sold_window),
        last_sale_date=assessed.last_sale_date,
        days_since_last_sale=days_between(ibis.date(as_of), assessed.last_sale_date),
        inventory_status=assessed.inventory_status,
        reorder_qty=assessed.reorder_qty,
        reorder_value=assessed.reorder_qty * assessed.cost,
    )


# --- Data tests (docs/contract.md#invariants): each returns the failing rows ----------------------


@data_test
def fact_product_performance_ratios_in_range(fact_product_performance: ir.Table) -> ir.Table:
    """return_rate, revenue_share, cumulative_revenue_share in [0, 1] and margin_pct ≤ 1 (± 1e-9);
    every ratio finite or NULL."""
    t = fact_product_performance
    ratios = (t.margin_pct, t.return_rate, t.revenue_share, t.cumulative_revenue_share)
    return t.filter(
        outside(t.return_rate, 0, 1)
        | outside(t.revenue_share, 0, 1)
        | outside(t.cumulative_revenue_share, 0, 1)
        | outside(t.margin_pct, None, 1)
        | ibis.or_(*(not_finite(r) for r in ratios))
    )


@data_test
def fact_product_performance_ranks_are_1_to_n(fact_product_performance: ir.Table) -> ir.Table:
    """revenue_rank runs 1..n without gap or repeat (key uniqueness covers product_id)."""
    t = fact_product_performance
    ranks = t.aggregate(
        n=t.count(),
        distinct_ranks=t.revenue_rank.nunique(),
        low=t.revenue_rank.min(),
        high=t.revenue_rank.max(),
    )
    return ranks.filter(
        (ranks.n > 0) & ((ranks.distinct_ranks != ranks.n) | (ranks.low != 1) | (ranks.high != ranks.n))
    )


@data_test
def fact_inventory_forecast_ratios_finite(fact_inventory_forecast: ir.Table) -> ir.Table:
    """avg_daily_units and days_of_stock are finite or NULL; reorder_qty and stock are ≥ 0."""
    t = fact_inventory_forecast
    return t.filter(
        not_finite(t.avg_daily_units) | not_finite(t.days_of_stock) | (t.reorder_qty < 0) | (t.stock_on_hand < 0)
    )
