"""Non-cancelled orders with their totals: the orders every count, first/last order and cohort
means (docs/contract.md#conventions), computed once and read by the models that need them."""

import ibis
import ibis.expr.types as ir

from ecom.core.registry import model
from marts._common import is_net, is_non_cancelled


@model(
    key="order_id",
    partition_by="order_date",
    cluster_by="user_id",
    not_null=("user_id", "ordered_at", "order_date", "net_items", "net_revenue", "net_cost", "gross_profit"),
    relationships={"order_id": "stg_orders.order_id"},
)
def int_orders(stg_orders: ir.Table, stg_order_items: ir.Table, stg_products: ir.Table) -> ir.Table:
    """One row per non-cancelled order (docs/contract.md#int_orders).

    A non-cancelled order is an order with at least one non-cancelled item, whatever the order's own
    status (docs/contract.md#conventions). A missing product adds no cost (its items still count
    and sell); the relationship tests of stg_order_items report it. An order whose every
    non-cancelled item was returned is here, with 0 net items and 0 revenue: it is still an order
    of a customer.

    Columns:
        order_id: the order; the key.
        user_id: the ORDER's user (stg_orders.user_id), never stg_order_items.user_id.
        ordered_at: the order's created_at (UTC).
        order_date: the UTC date of ordered_at.
        net_items: count of the order's net items (status neither cancelled nor returned).
        net_revenue: Σ sale_price of the net items (FLOAT64; 0 when there are none).
        net_cost: Σ product cost (stg_products.cost) of the net items (FLOAT64; 0 when none).
        gross_profit: net_revenue − net_cost.
    """
    items = stg_order_items.filter(is_non_cancelled(stg_order_items.status))
    items = items.left_join(stg_products.select("product_id", product_cost="cost"), "product_id")
    net = is_net(items.status)
    per_order = items.group_by("order_id").aggregate(
        net_items=net.cast("int64").sum(),
        net_revenue=ibis.ifelse(net, items.sale_price, 0.0).sum(),
        net_cost=ibis.ifelse(net, items.product_cost.fill_null(0.0), 0.0).sum(),
    )
    orders = stg_orders.select("order_id", "user_id", "order_date", ordered_at=stg_orders.created_at)
    joined = per_order.inner_join(orders, "order_id")
    return joined.select(
        "order_id",
        "user_id",
        "ordered_at",
        "order_date",
        "net_items",
        "net_revenue",
        "net_cost",
        gross_profit=joined.net_revenue - joined.net_cost,
    )
