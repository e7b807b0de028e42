"""Staging: one model per raw source. Rename, cast, lower-case, apply `as_of`; no business logic.

`as_of` makes a build reproduce the marts as they stood that day: rows created after the end of
`as_of` are dropped, and later shipped/delivered/returned/sold times are NULL (not yet happened).
Rows whose created_at is NULL are dropped too (they cannot be shown to exist by `as_of`): the filter
`created_at < end of as_of` is NULL for them, which WHERE treats as false on every engine.
See docs/contract.md#staging.
"""

import datetime as dt

import ibis
import ibis.expr.types as ir

from ecom.core.registry import model
from marts._common import PLATFORMS, end_of_day, happened, sha256_hex

STATUSES = ("processing", "shipped", "complete", "cancelled", "returned")
EVENT_TYPES = ("home", "department", "product", "cart", "purchase", "cancel")
# On DuckDB a view: re-reading raw (a filtered scan) costs less than copying it, 2.4M events at scale 1
# (README, Performance). On BigQuery a table: every reader of a view re-scans, and is billed for, the
# raw table, e.g. the public events.
AS_VIEW_ON_DUCKDB = {"duckdb": "view"}


def point_in_time_status(raw: ir.Table, as_of: dt.date) -> ir.StringValue:
    """The status at the end of `as_of`: `cancelled` as the source says, else from the timestamps.

    The raw status is read only to recognise a cancellation; every other status follows from which
    of returned/delivered/shipped happened by `as_of` (docs/contract.md#staging).
    """
    eod = end_of_day(as_of)
    return ibis.cases(
        (raw.status.lower() == "cancelled", "cancelled"),
        (raw.returned_at < eod, "returned"),
        (raw.delivered_at < eod, "complete"),
        (raw.shipped_at < eod, "shipped"),
        else_="processing",
    )


@model(
    materialized=AS_VIEW_ON_DUCKDB,
    key="order_id",
    partition_by="order_date",
    cluster_by="user_id",
    not_null=("user_id", "status", "created_at", "order_date"),
    accepted_values={"status": STATUSES},
    # the contract assumes every order's user exists and has its data tests report one that does not:
    # an export of orders without its users (a day's rows loaded alone) fails here, named, rather than
    # as a disagreement between two marts' customer counts
    relationships={"user_id": "stg_users.user_id"},
)
def stg_orders(orders: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per order created by the end of `as_of`.

    Columns:
        order_id: the source's order id; the key.
        user_id: the user who placed the order (orders.user_id).
        status: point-in-time status at the end of `as_of`: `cancelled` when the raw status is
            Cancelled in any case, else `returned`, `complete`, `shipped` or `processing` from
            returned_at, delivered_at and shipped_at (the first that happened by then).
        item_count: the source's num_of_item, as given (not recounted from the items).
        created_at: when the order was placed (UTC); never NULL (orders without it are dropped).
        shipped_at: when the order shipped (UTC); NULL when not shipped by the end of `as_of`.
        delivered_at: when the order was delivered (UTC); NULL when not delivered by the end of `as_of`.
        returned_at: when the order was returned (UTC); NULL when not returned by the end of `as_of`.
        order_date: the UTC date of created_at.
    """
    placed = orders.filter(orders.created_at < end_of_day(as_of))
    return placed.select(
        order_id=placed.order_id,
        user_id=placed.user_id,
        status=point_in_time_status(placed, as_of),
        item_count=placed.num_of_item,
        created_at=placed.created_at,
        shipped_at=happened(placed.shipped_at, as_of),
        delivered_at=happened(placed.delivered_at, as_of),
        returned_at=happened(placed.returned_at, as_of),
        order_date=placed.created_at.date(),
    )


@model(
    materialized=AS_VIEW_ON_DUCKDB,
    key="order_item_id",
    partition_by="order_date",
    cluster_by=("product_id",),
    not_null=("order_id", "product_id", "status", "sale_price", "created_at", "order_date"),
    accepted_values={"status": STATUSES},
    relationships={"order_id": "stg_orders.order_id", "product_id": "stg_products.product_id"},
)
def stg_order_items(order_items: ir.Table, orders: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per order item whose order was created by the end of `as_of`.

    An item belongs to its order: it takes the order's date and is kept or dropped with it (its own
    created_at can run days before or after the order's and is kept as it is, unless NULL: such an
    item is dropped, its order kept). Items whose order is absent from raw orders are dropped; the
    build's source check counts them and warns of them.

    Columns:
        order_item_id: the source's order item id (order_items.id); the key.
        order_id: the item's order, always present in stg_orders.
        user_id: order_items.user_id as the source gives it; models take an item's user from its
            order instead.
        product_id: the product sold (stg_products.product_id).
        inventory_item_id: order_items.inventory_item_id as the source gives it (in Google's thelook it
            names an unsold unit of the same product, not the unit sold); no model reads it.
        status: the item's point-in-time status at the end of `as_of`, as for stg_orders.status but
            from the item's own raw status and timestamps.
        sale_price: the price the item sold for (FLOAT64, the source's currency), as given.
        created_at: the item's own created_at (UTC), as given; it may differ from its order's;
            never NULL (items without it are dropped).
        shipped_at: when the item shipped (UTC); NULL when not shipped by the end of `as_of`.
        delivered_at: when the item was delivered (UTC); NULL when not delivered by the end of
            `as_of`.
        returned_at: when the item was returned (UTC); NULL when not returned by the end of `as_of`.
        order_date: the UTC date of the item's ORDER's created_at (not the item's own).
    """
    placed = orders.filter(orders.created_at < end_of_day(as_of)).select(
        "order_id", order_date=orders.created_at.date()
    )
    dated = order_items.filter(order_items.created_at.notnull())
    items = dated.inner_join(placed, "order_id")
    return items.select(
        order_item_id=items.id,
        order_id=items.order_id,
        user_id=items.user_id,
        product_id=items.product_id,
        inventory_item_id=items.inventory_item_id,
        status=point_in_time_status(items, as_of),
        sale_price=items.sale_price,
        created_at=items.created_at,
        shipped_at=happened(items.shipped_at, as_of),
        delivered_at=happened(items.delivered_at, as_of),
        returned_at=happened(items.returned_at, as_of),
        order_date=items.order_date,
    )


@model(key="product_id", materialized=AS_VIEW_ON_DUCKDB, cluster_by="category")
def stg_products(products: ir.Table) -> ir.Table:
    """One row per product of the catalogue (no timestamps, so `as_of` does not apply).

    Columns:
        product_id: the source's product id (products.id); the key.
        name: the product name.
        brand: the brand name.
        category: the product category.
        department: the department (thelook: Men, Women).
        sku: the stock-keeping unit code.
        cost: the unit cost (products.cost): the "product cost" of every COGS and stock value.
        retail_price: the list price (FLOAT64); sales use order_items.sale_price instead.
        distribution_center_id: the distribution center that stocks the product.
    """
    return products.select(
        product_id=products.id,
        name=products.name,
        brand=products.brand,
        category=products.category,
        department=products.department,
        sku=products.sku,
        cost=products.cost,
        retail_price=products.retail_price,
        distribution_center_id=products.distribution_center_id,
    )


@model(
    materialized=AS_VIEW_ON_DUCKDB,
    key="user_id",
    partition_by="signup_date",
    not_null=("created_at", "signup_date"),
)
def stg_users(users: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per user signed up by the end of `as_of`. No names, e-mails, street addresses,
    postal codes or coordinates pass staging.

    Columns:
        user_id: the source's user id (users.id); the key.
        age: age in years as the source gives it; NULL when unknown.
        gender: the source's gender code (thelook: M, F).
        city: the user's city.
        state: the user's state or region.
        country: the user's country.
        acquisition_source: users.traffic_source, the channel the user signed up from (Search,
            Organic, Facebook, Email, Display).
        created_at: when the user signed up (UTC); never NULL (users without it are dropped).
        signup_date: the UTC date of created_at.
    """
    signed_up = users.filter(users.created_at < end_of_day(as_of))
    return signed_up.select(
        user_id=signed_up.id,
        age=signed_up.age,
        gender=signed_up.gender,
        city=signed_up.city,
        state=signed_up.state,
        country=signed_up.country,
        acquisition_source=signed_up.traffic_source,
        created_at=signed_up.created_at,
        signup_date=signed_up.created_at.date(),
    )


# A table on every target, not a view: the SQL names visitor_salt as a query parameter, which only a
# build binds (a view's readers would have no value to bind); an incremental one, whose days the
# event chain fingerprints and replaces (ecom.core.incremental).
@model(
    key="event_id",
    materialized="incremental",
    partition_by="event_date",
    cluster_by=("user_id",),
    not_null=("created_at", "event_date"),
    accepted_values={"event_type": EVENT_TYPES},
)
def stg_events(events: ir.Table, as_of: dt.date, visitor_salt: ir.StringValue) -> ir.Table:
    """One row per web event that happened by the end of `as_of`; user_id is NULL for anonymous
    visitors. traffic_source keeps the source's spelling (platform mapping is case-sensitive).

    `visitor_salt` is a query parameter (a secret: the build binds its value, the SQL only names it).

    Incremental: a row depends only on its raw event (and variables but as_of), and as_of only
    drops later days, so a build replaces the days from the first whose raw events changed (by a
    per-day fingerprint of the event ids: late events, new days, deleted events); an edit of an
    existing raw event's other columns is not detected (`--full-refresh`).

    Columns:
        event_id: the source's event id (events.id); the key.
        user_id: the signed-in user; NULL for anonymous visitors.
        source_session_id: the source's own session_id, kept for reference; sessions are rebuilt
            from the events (int_web_sessions).
        sequence_number: the event's sequence number within the source's session.
        ip_hash: the first 16 characters of the lower-case hex SHA-256 of `visitor_salt` ||
            ip_address (UTF-8); NULL when ip_address is NULL (an empty string is hashed like any
            address). The raw ip_address does not pass staging.
        browser: the browser as the source names it.
        traffic_source: the event's traffic source with the source's spelling (Email, Adwords,
            Organic, YouTube, Facebook); maps to an ad platform case-sensitively.
        uri: the page requested.
        event_type: the source's event_type lower-cased (home, department, product, cart,
            purchase, cancel).
        created_at: when the event happened (UTC); never NULL (events without it are dropped).
        event_date: the UTC date of created_at.
    """
    happened_by = events.filter(events.created_at < end_of_day(as_of))
    ip = happened_by.ip_address
    # NULL tested on the raw column, not left to the concatenation: DuckDB's concat() skips NULLs.
    ip_hash = ibis.ifelse(ip.isnull(), ibis.null("string"), sha256_hex(visitor_salt + ip))
    return happened_by.select(
        event_id=happened_by.id,
        user_id=happened_by.user_id,
        source_session_id=happened_by.session_id,
        sequence_number=happened_by.sequence_number,
        ip_hash=ip_hash.substr(0, 16),
        browser=happened_by.browser,
        traffic_source=happened_by.traffic_source,
        uri=happened_by.uri,
        event_type=happened_by.event_type.lower(),
        created_at=happened_by.created_at,
        event_date=happened_by.created_at.date(),
    )


@model(
    materialized=AS_VIEW_ON_DUCKDB,
    key="inventory_item_id",
    cluster_by="product_id",
    not_null=("product_id", "created_at"),
    relationships={"product_id": "stg_products.product_id"},
)
def stg_inventory(inventory_items: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per inventory unit received by the end of `as_of`; sold_at is NULL when the unit was
    not sold by then.

    Columns:
        inventory_item_id: the source's inventory unit id (inventory_items.id); the key.
        product_id: the product the unit is of (stg_products.product_id).
        cost: the unit's own cost (inventory_items.cost), kept for reference; stock is valued at
            products.cost.
        created_at: when the unit was received into stock (UTC).
        sold_at: when the unit was sold (UTC); NULL when not sold by the end of `as_of`.
    """
    received = inventory_items.filter(inventory_items.created_at < end_of_day(as_of))
    return received.select(
        inventory_item_id=received.id,
        product_id=received.product_id,
        cost=received.cost,
        created_at=received.created_at,
        sold_at=happened(received.sold_at, as_of),
    )


@model(
    materialized=AS_VIEW_ON_DUCKDB,
    key=("spend_date", "platform", "campaign_id"),
    partition_by="spend_date",
    cluster_by="platform",
    accepted_values={"platform": PLATFORMS},
)
def stg_marketing(marketing_spend: ir.Table, as_of: dt.date) -> ir.Table:
    """One row per (spend_date, platform, campaign_id) dated by `as_of`. NULL spend, clicks and
    impressions stay NULL here; the models that sum them count them as 0.

    Columns:
        spend_date: the day the spend is for (marketing_spend.date); part of the key.
        campaign_id: the platform's campaign id (a campaign is platform and campaign_id together);
            part of the key.
        platform: the ad platform (Google, Facebook, YouTube, Email); part of the key.
        spend: the day's spend on the campaign (FLOAT64, the source's currency); NULL as given.
        clicks: the day's clicks; NULL as given.
        impressions: the day's impressions; NULL as given.
    """
    dated = marketing_spend.filter(marketing_spend.date <= as_of)
    return dated.select(
        spend_date=dated.date,
        campaign_id=dated.campaign_id,
        platform=dated.platform,
        spend=dated.spend,
        clicks=dated.clicks,
        impressions=dated.impressions,
    )
