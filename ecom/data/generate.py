"""`ecom generate`: synthetic raw data shaped like Google's thelook e-commerce generator.

The 8 raw tables of the source contract (ecom.core.sources.RAW_SCHEMAS) are generated with numpy and
pyarrow, vectorised, from a seeded numpy Generator: the same (scale, seed, end_date) always gives
the same table contents (no clock, no hash or set order). Users are generated in fixed chunks of
`CHUNK_USERS` users; every chunk's rows of every table are written before the next chunk is made,
so scale 10 (a million users, ~24M events) runs in bounded memory. The generator re-implements, from
the facts below, how thelook's own generator (GoogleCloudPlatform/public-datasets-pipelines,
`thelook_ecommerce/.../fake.py`) builds its data; no code is copied from it.

Figures at scale 1 (they scale linearly with `scale`, except products and distribution centers):

- users: 100,000 x scale, created uniformly from 2019-01-01 to the end of `end_date` (whole
  minutes), age 12-70, gender M/F 50/50, thelook's country mix (China ~34 %, United States ~22 %,
  Brasil ~14 %, ...) with real cities/states/coordinates, traffic_source Search .70, Organic .15,
  Facebook .06, Email .05, Display .04. Names, e-mails, street addresses, postal codes and
  coordinates are plausible fakes (duplicate e-mails happen, as in thelook).
- orders: 0/1/2/3/4 per user with weights .2/.5/.2/.05/.05 (~125k). Each order is created uniformly
  between its user's signup and the end of `end_date` (as thelook does; this makes order volume
  grow over time, steeply in the last weeks, because recent users squeeze their orders into a
  short window). Status Complete .25, Cancelled .15, Returned .10, Processing .20, Shipped .30.
  shipped = created + U(0, 3 d), delivered = shipped + U(0, 5 d), returned = delivered + U(0, 3 d),
  set only for the statuses that reach them (Processing/Cancelled: none; Shipped: shipped;
  Complete: shipped, delivered; Returned: all three). Timestamps in whole seconds.
- order_items: 1/2/3/4 per order with weights .7/.2/.05/.05 (~182k); num_of_item is the count.
  Every item copies its order's status and shipped/delivered/returned times; product drawn
  uniformly from the user's gender department; sale_price = the product's retail_price.
- products: 29,120 in thelook's 36 (department, category) groups (26 category names; Women 15,989
  ids 1-15,989, Men 13,131 after), thelook's per-group counts, log-normal retail prices fitted per
  group, cost = retail x U(lo, lo + 0.10) with lo from 0.33 to 0.57 by group (mean ratio
  0.38-0.62), prices carrying float32 noise (5.949999809265137) as thelook's do, 32-hex SKUs,
  distribution_center_id 1-10 weighted like thelook's. Products and distribution centers do not
  scale.
- inventory_items: per item one sold unit (sold_at = the item's created_at, created 0-60 days
  before) followed by 1/2/3 unsold units (.5/.3/.2, created uniformly from 2019-01-01 to the end of
  `end_date`, whole minutes) of the same product: ~490k rows, ~37 % sold; cost = product cost.
- events (~2.4M): one session per order item (thelook's quirk 5: a 4-item order has 4 sessions).
  A single-item session is home, department, product, cart, purchase; an n-item session walks
  department, product, cart for each of the order's n items, then purchase (3n + 1 events).
  Consecutive events are 0-180 s apart. A multi-item session starts 0-4 h before its order; a
  single-item session ends with its purchase click 0-2 min before its item (so it starts 0-4 h,
  plus its own few minutes, before the order). Each session has
  its own uuid-like session_id and random IP; browser Chrome .5, Safari .2, Firefox .2, IE .05,
  Other .05; traffic_source Email .45, Adwords .30, YouTube .10, Facebook .10, Organic .05; city,
  state and postal code are the user's. Plus 5 anonymous sessions per user (user_id NULL, own random
  IP and location, start uniform over the whole period in whole minutes, 1/2/3 events with weights
  .25/.25/.5, 0-29 minutes apart, a run of department -> product -> cart -> cancel starting at
  department or product; never a purchase): ~46 % of events are anonymous. Event ids number the
  identified events of a chunk, then its anonymous events. uris: `/home`,
  `/department/{dept}/category/{cat}/brand/{brand}` (lower-cased, spaces removed, not URL-encoded,
  empty brand when NULL), `/product/{id}`, `/cart`, `/purchase`, `/cancel`.
- distribution_centers: thelook's 10 US ports with their coordinates.

thelook quirks kept on purpose (a robust pipeline must survive them):
1. Item time is not order time: a single-item order's item is created 0-4 h BEFORE its order (the
   session's purchase click is 0-2 min before the item); an item of an n-item order is created
   0-4 days AFTER its order (a whole number of days minus 0-4 h), so its session's purchase event
   comes days after the session started (a source session can span 4 days) and some items are
   created after their order shipped.
2. Timestamps past `end_date`: no order is created after `end_date`, but shipped/delivered/returned
   times, multi-item item created_at, their purchase events and sold_at can lie a few days past it
   (shipped up to 3 days, returned up to 11 days; items/events/sold_at up to 4 days).
3. NULL shipped/delivered/returned follow the status exactly (above); Cancelled and Processing
   items still have a sold inventory unit.
4. A session may start before its user's signup (it starts up to ~4 h before an order that may
   follow the signup closely).
5. Users without orders have no identified events; anonymous sessions never convert.
6. Dirty catalogue values: 24 products with NULL brand and 2 with NULL name; brands with
   apostrophes give URIs like `/brand/levi's`; sale_price always equals retail_price.
Deviation from thelook: `order_items.inventory_item_id` points at the item's SOLD unit (thelook
points at one of the unsold units of the same product, whose id is 1-3 higher; no model uses the
column).

marketing_spend (thelook has none): `ecom.data.calibration`, the recipe `ecom spend` shares, over
the sessions generated per day and traffic source, from the first order date to `end_date`.
"""

from __future__ import annotations

import datetime
import math
import os
import pathlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ecom.core.files import describe_os_error, in_a_link_loop, not_utf8
from ecom.core.sources import RAW_SCHEMAS
from ecom.data import calibration
from ecom.data.constants import (
    ADJECTIVES,
    ANON_LENGTHS,
    ANON_SESSIONS_PER_USER,
    BRANDS,
    BROWSER_WEIGHTS,
    BROWSERS,
    CATEGORIES,
    DC_WEIGHTS,
    DISTRIBUTION_CENTERS,
    EMAIL_DOMAINS,
    EVENT_SOURCE_WEIGHTS,
    EVENT_SOURCES,
    EVENT_TYPES,
    FIRST_NAMES,
    ITEMS_PER_ORDER,
    LAST_NAMES,
    LOCATIONS,
    NOUNS,
    NULL_BRANDS,
    NULL_NAMES,
    ORDERS_PER_USER,
    STATUS_REACHES,
    STATUS_WEIGHTS,
    STATUSES,
    STREET_SUFFIXES,
    USER_SOURCE_WEIGHTS,
    USER_SOURCES,
)
from ecom.targets.base import Target, first_line
from ecom.targets.duckdb import DuckDBTarget

DEFAULT_END_DATE = datetime.date(2025, 12, 31)
# The latest end date: timestamps run a few days past it, and the source contract reads years
# before 2200 (ecom.core.sources.TIMESTAMP_YEARS).
LAST_END_DATE = datetime.date(2199, 11, 30)
START_DATE = datetime.date(2019, 1, 1)
USERS_AT_SCALE_1 = 100_000
CHUNK_USERS = 25_000  # part of the output's definition: changing it changes the data of a seed

DAY = 86_400
HOUR = 3_600
US = 1_000_000
TS_TYPE = pa.timestamp("us", tz="UTC")

# ---------------------------------------------------------------------------------------------
# small vectorised helpers
# ---------------------------------------------------------------------------------------------


def _choice(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    """n draws of an index with the given weights (int64)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cdf / cdf[-1], rng.random(n), side="right").astype(np.int64)


def _strings(values) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return pc.take(values, pa.array(idx, type=pa.int64()))


def _ts(seconds: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Whole seconds since the epoch as timestamp[us, UTC], NULL where not present."""
    us = seconds.astype(np.int64) * US
    if present is None:
        return pa.array(us, type=TS_TYPE)
    return pa.array(us, type=TS_TYPE, mask=~present)


def _str(ints: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(ints, type=pa.int64()), pa.string())


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


_HEX = {
    False: np.frombuffer(b"0123456789abcdef", np.uint8),
    True: np.frombuffer(b"0123456789ABCDEF", np.uint8),
}
_UUID_CHARS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _hex_ids(rng: np.random.Generator, n: int, uuid: bool) -> pa.Array:
    """n random hex strings: uuid4-shaped lower-case (session ids) or 32 upper-case hex (SKUs)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    nib = np.empty((n, 32), np.uint8)
    nib[:, 0::2] = raw >> 4
    nib[:, 1::2] = raw & 15
    if uuid:
        nib[:, 12] = 4  # version 4
        nib[:, 16] = 8 | (nib[:, 16] & 3)  # variant 10xx
        chars = np.full((n, 36), ord("-"), np.uint8)
        chars[:, _UUID_CHARS] = _HEX[False][nib]
    else:
        chars = _HEX[True][nib]
    width = chars.shape[1]
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes())]
    )


def _ips(rng: np.random.Generator, n: int) -> pa.Array:
    octets = [
        rng.integers(1, 224, n),
        rng.integers(0, 256, n),
        rng.integers(0, 256, n),
        rng.integers(1, 255, n),
    ]
    return _join(*(_str(o) for o in octets), sep=".")


def _segment_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments of the given lengths: each element's segment index and position within it."""
    seg = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return seg, np.arange(len(seg)) - starts[seg]


def _table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    schema = RAW_SCHEMAS[name].to_pyarrow()
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


# ---------------------------------------------------------------------------------------------
# the fixed catalogue: products, distribution centers, locations
# ---------------------------------------------------------------------------------------------


@dataclass
class Catalog:
    products: pa.Table
    women: int  # products with index < women are Women's
    retail: np.ndarray
    uri_dict: pa.Array  # "/home", "/cart", "/purchase", "/cancel", dept uris..., product uris...
    loc_city: pa.Array
    loc_state: pa.Array
    loc_postal: pa.Array
    loc_country: pa.Array
    loc_lat: np.ndarray
    loc_lon: np.ndarray
    loc_weight: np.ndarray


URI_HOME, URI_CART, URI_PURCHASE, URI_CANCEL = 0, 1, 2, 3


def build_catalog(seed: int) -> Catalog:
    """The products (thelook's departments, categories, brands and prices), the page uris of the
    events and the places users live, drawn from the seed."""
    rng = np.random.default_rng([seed, 1])
    sizes = np.array([c[2] for c in CATEGORIES])
    n = int(sizes.sum())
    group = np.repeat(np.arange(len(CATEGORIES)), sizes)
    mu = np.array([c[4] for c in CATEGORIES])[group]
    sd = np.array([c[5] for c in CATEGORIES])[group]
    lo = np.array([c[3] for c in CATEGORIES])[group]
    retail = np.clip(np.round(np.exp(rng.normal(mu, sd)), 2), 0.99, 999.0)
    retail = retail.astype(np.float32).astype(np.float64)  # thelook's float32 noise
    cost = retail * rng.uniform(lo, lo + 0.10)
    department = _take(_strings(c[0] for c in CATEGORIES), group)
    category = _take(_strings(c[1] for c in CATEGORIES), group)
    brand, noun = _brands_and_nouns(rng, n)
    adjective = _take(_strings(ADJECTIVES), rng.integers(0, len(ADJECTIVES), n))
    who = _take(
        _strings(("Women's", "Men's")),
        (np.array([c[0] for c in CATEGORIES])[group] == "Men").astype(np.int64),
    )
    name = _join(brand, who, adjective, noun, sep=" ")
    brand = _some_null(rng, brand, NULL_BRANDS)
    name = _some_null(rng, name, NULL_NAMES)
    sku = _hex_ids(rng, n, uuid=False)
    dc = _choice(rng, n, DC_WEIGHTS) + 1
    ids = np.arange(1, n + 1, dtype=np.int64)
    products = _table(
        "products",
        {
            "id": pa.array(ids),
            "cost": pa.array(cost),
            "category": category,
            "name": name,
            "brand": brand,
            "retail_price": pa.array(retail),
            "department": department,
            "sku": sku,
            "distribution_center_id": pa.array(dc),
        },
    )
    women = int(sum(c[2] for c in CATEGORIES if c[0] == "Women"))
    return Catalog(
        products=products,
        women=women,
        retail=retail,
        uri_dict=_uris(department, category, brand, ids),
        **_locations(),
    )


def _brands_and_nouns(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """Each product's brand and noun, category after category: each category stocks a random third
    of the brands, with Zipf-like popularity, and names its products with its own nouns."""
    brand_idx = np.empty(n, np.int64)
    noun_idx = np.empty(n, np.int64)
    start = 0
    nouns: list[str] = []
    noun_base = {}
    for cat in NOUNS:
        noun_base[cat] = len(nouns)
        nouns.extend(NOUNS[cat])
    for _, cat, size, *_rest in CATEGORIES:
        stocked = rng.permutation(len(BRANDS))[: len(BRANDS) // 3]
        pop = 1.0 / np.arange(1, len(stocked) + 1)
        brand_idx[start : start + size] = stocked[_choice(rng, size, pop)]
        noun_idx[start : start + size] = noun_base[cat] + rng.integers(0, len(NOUNS[cat]), size)
        start += size
    return _take(_strings(BRANDS), brand_idx), _take(_strings(nouns), noun_idx)


def _some_null(rng: np.random.Generator, values: pa.Array, k: int) -> pa.Array:
    """`values` with `k` of them, drawn at random, NULL (as thelook's products lacking a brand or name)."""
    null = np.zeros(len(values), bool)
    null[rng.choice(len(values), k, replace=False)] = True
    return pc.if_else(pa.array(null), pa.nulls(len(values), values.type), values)


def _uris(department: pa.Array, category: pa.Array, brand: pa.Array, ids: np.ndarray) -> pa.Array:
    """The events' page uris, by index (URI_HOME...): the four fixed pages, then each product's
    department page, then each product's page."""

    # lower-cased, spaces removed, not URL-encoded (as thelook's); a NULL brand gives ""
    def slug(a: pa.Array) -> pa.Array:
        return pc.replace_substring(pc.utf8_lower(pc.fill_null(a, "")), " ", "")

    n = len(ids)
    dept_uri = _join(
        pa.array(["/department"] * n),
        slug(department),
        pa.array(["category"] * n),
        slug(category),
        pa.array(["brand"] * n),
        slug(brand),
        sep="/",
    )
    product_uri = _join(pa.array(["/product"] * n), _str(ids), sep="/")
    return pa.concat_arrays([_strings(("/home", "/cart", "/purchase", "/cancel")), dept_uri, product_uri])


def _locations() -> dict[str, Any]:
    """The Catalog's loc_* columns: every city of LOCATIONS, weighted by its country's share
    split evenly among the country's cities."""
    rows = [(country, *city) for country, (_, cities) in LOCATIONS.items() for city in cities]
    return {
        "loc_city": _strings(r[1] for r in rows),
        "loc_state": _strings(r[2] for r in rows),
        "loc_postal": _strings(r[3] for r in rows),
        "loc_country": _strings(r[0] for r in rows),
        "loc_lat": np.array([r[4] for r in rows]),
        "loc_lon": np.array([r[5] for r in rows]),
        "loc_weight": np.array([LOCATIONS[r[0]][0] / len(LOCATIONS[r[0]][1]) for r in rows]),
    }


def distribution_centers() -> pa.Table:
    cols = list(zip(*DISTRIBUTION_CENTERS, strict=True))
    return _table(
        "distribution_centers",
        {
            "id": pa.array(cols[0], pa.int64()),
            "name": _strings(cols[1]),
            "latitude": pa.array(cols[2], pa.float64()),
            "longitude": pa.array(cols[3], pa.float64()),
        },
    )


# ---------------------------------------------------------------------------------------------
# one chunk of users and everything that hangs off them
# ---------------------------------------------------------------------------------------------


@dataclass
class Clock:
    start: int  # 2019-01-01 00:00 UTC, seconds since the epoch
    now: int  # the last second of end_date: no user or order is created after it
    days: int  # length of the per-day session counters

    @classmethod
    def of(cls, end_date: datetime.date) -> Clock:
        epoch = datetime.date(1970, 1, 1)
        start = (START_DATE - epoch).days * DAY
        now = ((end_date - epoch).days + 1) * DAY - 1
        return cls(start, now, (now - start) // DAY + 16)


@dataclass
class Counters:
    """Running ids and the per-day session counts that drive marketing spend."""

    user: int = 0
    order: int = 0
    item: int = 0
    unit: int = 0
    event: int = 0
    first_order: int | None = None
    sessions: np.ndarray | None = None  # [day, event source]


def _count_sessions(counters: Counters, clock: Clock, start: np.ndarray, source: np.ndarray) -> None:
    day = np.clip((start - clock.start) // DAY, 0, clock.days - 1)
    counters.sessions += np.bincount(
        day * len(EVENT_SOURCES) + source, minlength=clock.days * len(EVENT_SOURCES)
    ).reshape(clock.days, len(EVENT_SOURCES))


@dataclass
class _Users:
    uid: np.ndarray  # ids
    is_male: np.ndarray
    gender: pa.Array
    loc: np.ndarray  # index into the catalog's locations
    created: np.ndarray  # seconds


@dataclass
class _Orders:
    o_user: np.ndarray  # user index within the chunk
    oid: np.ndarray
    created: np.ndarray
    reaches: np.ndarray  # [order, 3]: whether it was shipped, delivered, returned
    n_items: np.ndarray
    status_str: pa.Array
    times: dict[str, np.ndarray]  # shipped_at, delivered_at, returned_at (seconds)


@dataclass
class _Items:
    i_order: np.ndarray  # order index within the chunk
    i_user: np.ndarray
    product: np.ndarray  # index into the catalog's products
    single: np.ndarray  # its order has one item
    created: np.ndarray
    units: np.ndarray  # inventory units per item: the sold one, then the unsold ones


def generate_chunk(
    chunk: int, n_users: int, seed: int, clock: Clock, cat: Catalog, counters: Counters
) -> dict[str, pa.Table]:
    """One chunk of users and everything that hangs off them. The steps draw from one generator in
    this order, which is part of the output's definition (the same seed gives the same data)."""
    rng = np.random.default_rng([seed, 2, chunk])
    out: dict[str, pa.Table] = {}
    out["users"], users = _users(rng, n_users, clock, cat, counters.user + 1)
    out["orders"], orders = _orders(rng, users, clock, counters.order + 1)
    if len(orders.oid):
        first_order = int(orders.created.min())
        counters.first_order = first_order if counters.first_order is None else min(counters.first_order, first_order)
    out["order_items"], items = _order_items(rng, users, orders, cat, counters.item + 1, counters.unit + 1)
    out["inventory_items"] = _inventory_items(rng, items, clock, cat, counters.unit + 1)
    identified = _identified_events(rng, users, orders, items, clock, cat, counters, counters.event + 1)
    anonymous = _anonymous_events(rng, n_users, clock, cat, counters, counters.event + identified.num_rows + 1)
    out["events"] = pa.concat_tables([identified, anonymous])

    counters.user += n_users
    counters.order += out["orders"].num_rows
    counters.item += out["order_items"].num_rows
    counters.unit += out["inventory_items"].num_rows
    counters.event += out["events"].num_rows
    return out


def _users(
    rng: np.random.Generator, n_users: int, clock: Clock, cat: Catalog, first_id: int
) -> tuple[pa.Table, _Users]:
    uid = first_id + np.arange(n_users, dtype=np.int64)
    is_male = rng.random(n_users) < 0.5
    gender = _take(_strings(("F", "M")), is_male.astype(np.int64))
    first = pc.if_else(
        pa.array(is_male),
        _take(_strings(FIRST_NAMES["M"]), rng.integers(0, len(FIRST_NAMES["M"]), n_users)),
        _take(_strings(FIRST_NAMES["F"]), rng.integers(0, len(FIRST_NAMES["F"]), n_users)),
    )
    last = _take(_strings(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n_users))
    email = _join(
        pc.utf8_lower(_join(first, last)),
        _take(_strings(EMAIL_DOMAINS), rng.integers(0, 3, n_users)),
        sep="@",
    )
    street = _join(
        _str(rng.integers(1, 99_999, n_users)),
        _take(_strings(LAST_NAMES), rng.integers(0, len(LAST_NAMES), n_users)),
        _take(_strings(STREET_SUFFIXES), rng.integers(0, len(STREET_SUFFIXES), n_users)),
        sep=" ",
    )
    loc = _choice(rng, n_users, cat.loc_weight)
    user_created = clock.start + rng.integers(0, (clock.now - clock.start) // 60 + 1, n_users) * 60
    table = _table(
        "users",
        {
            "id": pa.array(uid),
            "first_name": first,
            "last_name": last,
            "email": email,
            "age": pa.array(rng.integers(12, 71, n_users)),
            "gender": gender,
            "state": _take(cat.loc_state, loc),
            "street_address": street,
            "postal_code": _take(cat.loc_postal, loc),
            "city": _take(cat.loc_city, loc),
            "country": _take(cat.loc_country, loc),
            "latitude": pa.array(np.round(cat.loc_lat[loc] + rng.normal(0, 0.05, n_users), 6)),
            "longitude": pa.array(np.round(cat.loc_lon[loc] + rng.normal(0, 0.05, n_users), 6)),
            "traffic_source": _take(_strings(USER_SOURCES), _choice(rng, n_users, USER_SOURCE_WEIGHTS)),
            "created_at": _ts(user_created),
        },
    )
    return table, _Users(uid, is_male, gender, loc, user_created)


def _orders(rng: np.random.Generator, users: _Users, clock: Clock, first_id: int) -> tuple[pa.Table, _Orders]:
    n_users, uid, user_created, gender = len(users.uid), users.uid, users.created, users.gender
    per_user = np.array(ORDERS_PER_USER[0])[_choice(rng, n_users, ORDERS_PER_USER[1])]
    o_user = np.repeat(np.arange(n_users), per_user)  # user index within the chunk
    n_orders = len(o_user)
    oid = first_id + np.arange(n_orders, dtype=np.int64)
    u_created = user_created[o_user]
    o_created = u_created + np.floor(rng.random(n_orders) * (clock.now - u_created + 1)).astype(np.int64)
    o_created = np.minimum(o_created, clock.now)
    status = _choice(rng, n_orders, STATUS_WEIGHTS)
    reaches = np.array([STATUS_REACHES[s] for s in STATUSES])[status]  # [order, 3]
    shipped = o_created + rng.integers(0, 3 * DAY + 1, n_orders)
    delivered = shipped + rng.integers(0, 5 * DAY + 1, n_orders)
    returned = delivered + rng.integers(0, 3 * DAY + 1, n_orders)
    n_items = np.array(ITEMS_PER_ORDER[0])[_choice(rng, n_orders, ITEMS_PER_ORDER[1])]
    status_str = _take(_strings(STATUSES), status)
    times = {"shipped_at": shipped, "delivered_at": delivered, "returned_at": returned}
    table = _table(
        "orders",
        {
            "order_id": pa.array(oid),
            "user_id": pa.array(uid[o_user]),
            "status": status_str,
            "gender": _take(gender, o_user),
            "created_at": _ts(o_created),
            **{c: _ts(t, reaches[:, k]) for k, (c, t) in enumerate(times.items())},
            "num_of_item": pa.array(n_items.astype(np.int64)),
        },
    )
    return table, _Orders(o_user, oid, o_created, reaches, n_items, status_str, times)


def _order_items(
    rng: np.random.Generator, users: _Users, orders: _Orders, cat: Catalog, first_id: int, first_unit: int
) -> tuple[pa.Table, _Items]:
    uid, is_male = users.uid, users.is_male
    o_user, oid, o_created, reaches = orders.o_user, orders.oid, orders.created, orders.reaches
    n_items, status_str, times = orders.n_items, orders.status_str, orders.times
    i_order, i_pos = _segment_positions(n_items)  # order index, position within the order
    n_it = len(i_order)
    i_user = o_user[i_order]
    men = is_male[i_user]
    women_n, men_n = cat.women, len(cat.retail) - cat.women
    product = np.where(men, cat.women + rng.integers(0, men_n, n_it), rng.integers(0, women_n, n_it))
    single = n_items[i_order] == 1
    before = rng.integers(0, 4 * HOUR + 1, n_it)
    i_created = o_created[i_order] - before + np.where(single, 0, rng.integers(0, 5, n_it) * DAY)
    item_id = first_id + np.arange(n_it, dtype=np.int64)
    # inventory: per item its sold unit, then 1-3 unsold units of the same product
    unsold = np.array((1, 2, 3))[_choice(rng, n_it, (0.5, 0.3, 0.2))]
    units = 1 + unsold
    unit_first = first_unit + np.cumsum(units) - units  # id of each item's sold unit
    table = _table(
        "order_items",
        {
            "id": pa.array(item_id),
            "order_id": pa.array(oid[i_order]),
            "user_id": pa.array(uid[i_user]),
            "product_id": pa.array(product + 1),
            "inventory_item_id": pa.array(unit_first),
            "status": _take(status_str, i_order),
            "created_at": _ts(i_created),
            **{c: _ts(t[i_order], reaches[i_order, k]) for k, (c, t) in enumerate(times.items())},
            "sale_price": pa.array(cat.retail[product]),
        },
    )
    return table, _Items(i_order, i_user, product, single, i_created, units)


def _inventory_items(rng: np.random.Generator, items: _Items, clock: Clock, cat: Catalog, first_id: int) -> pa.Table:
    units, i_created, product = items.units, items.created, items.product
    u_item, u_pos = _segment_positions(units)
    n_units = len(u_item)
    sold = u_pos == 0
    u_sold_at = i_created[u_item]
    u_created = np.where(
        sold,
        u_sold_at - rng.integers(0, 60 * DAY + 1, n_units),
        clock.start + rng.integers(0, (clock.now - clock.start) // 60 + 1, n_units) * 60,
    )
    u_product = pa.array(product[u_item])
    p = cat.products
    table = _table(
        "inventory_items",
        {
            "id": pa.array(first_id + np.arange(n_units, dtype=np.int64)),
            "product_id": pc.add(u_product, 1),
            "created_at": _ts(u_created),
            "sold_at": _ts(u_sold_at, sold),
            "cost": pc.take(p["cost"], u_product),
            "product_category": pc.take(p["category"], u_product),
            "product_name": pc.take(p["name"], u_product),
            "product_brand": pc.take(p["brand"], u_product),
            "product_retail_price": pc.take(p["retail_price"], u_product),
            "product_department": pc.take(p["department"], u_product),
            "product_sku": pc.take(p["sku"], u_product),
            "product_distribution_center_id": pc.take(p["distribution_center_id"], u_product),
        },
    )
    return table


def _identified_events(
    rng: np.random.Generator,
    users: _Users,
    orders: _Orders,
    items: _Items,
    clock: Clock,
    cat: Catalog,
    counters: Counters,
    first_id: int,
) -> pa.Table:
    """One session per order item."""
    uid, loc = users.uid, users.loc
    n_items, o_created = orders.n_items, orders.created
    i_order, i_user, product, single, i_created = (
        items.i_order,
        items.i_user,
        items.product,
        items.single,
        items.created,
    )
    n_it = len(i_order)
    s_n = n_items[i_order]  # the session walks all its order's items
    s_len = np.where(single, 5, 3 * s_n + 1)
    e_sess, e_pos = _segment_positions(s_len)
    n_ev = len(e_sess)
    gaps = rng.integers(0, 181, n_ev)
    gaps[e_pos == 0] = 0
    cum = np.cumsum(gaps)
    cum -= (cum - gaps)[np.cumsum(s_len) - s_len][e_sess]  # offset from the session's first event
    last = np.cumsum(s_len) - 1
    ev_single = single[e_sess]
    # single: the purchase click is 0-2 min before the item; the session ends there
    # multi: the session starts 0-4 h before the order; the purchase is at the item (days later)
    purchase_at = i_created - rng.integers(0, 121, n_it)
    s_start = np.where(
        single,
        purchase_at - cum[last],
        o_created[i_order] - rng.integers(0, 4 * HOUR + 1, n_it),
    )
    e_time = s_start[e_sess] + cum
    is_purchase = e_pos == s_len[e_sess] - 1
    browse_end = s_start + np.where(single, cum[last], cum[last - 1])
    multi_purchase = np.maximum(browse_end + gaps[last], purchase_at)
    e_time = np.where(is_purchase & ~ev_single, multi_purchase[e_sess], e_time)
    # event type and the product it concerns
    stage = np.where(ev_single, e_pos, 1 + e_pos % 3)  # 0 home, 1 department, 2 product, 3 cart
    etype = np.where(is_purchase, 4, stage)
    first_item = (np.cumsum(n_items) - n_items)[i_order]  # item index of the session's order's first item
    e_item = np.where(ev_single, e_sess, first_item[e_sess] + np.minimum(e_pos // 3, s_n[e_sess] - 1))
    e_product = product[e_item]
    n_prod = len(cat.retail)
    uri_idx = np.select(
        [etype == 0, etype == 1, etype == 2, etype == 3],
        [URI_HOME, 4 + e_product, 4 + n_prod + e_product, URI_CART],
        URI_PURCHASE,
    )
    s_source = _choice(rng, n_it, EVENT_SOURCE_WEIGHTS)
    s_browser = _choice(rng, n_it, BROWSER_WEIGHTS)
    s_id = _hex_ids(rng, n_it, uuid=True)
    s_ip = _ips(rng, n_it)
    _count_sessions(counters, clock, s_start, s_source)
    return _events_table(
        cat,
        first_id,
        sess=e_sess,
        pos=e_pos,
        created=e_time,
        user_id=pa.array(uid[i_user[e_sess]]),
        session_id=s_id,
        ip=s_ip,
        loc=loc[i_user[e_sess]],
        browser=s_browser,
        source=s_source,
        uri=uri_idx,
        etype=etype,
    )


def _anonymous_events(
    rng: np.random.Generator, n_users: int, clock: Clock, cat: Catalog, counters: Counters, first_id: int
) -> pa.Table:
    n_prod = len(cat.retail)
    n_anon = ANON_SESSIONS_PER_USER * n_users
    a_len = np.array(ANON_LENGTHS[0])[_choice(rng, n_anon, ANON_LENGTHS[1])]
    a_first = rng.integers(1, 3, n_anon)  # 1 department, 2 product: where the visit lands
    a_sess, a_pos = _segment_positions(a_len)
    n_a = len(a_sess)
    a_start = clock.start + rng.integers(0, (clock.now - HOUR - clock.start) // 60 + 1, n_anon) * 60
    a_gap = rng.integers(0, 30, n_a) * 60
    a_gap[a_pos == 0] = 0
    a_cum = np.cumsum(a_gap)
    a_cum -= (a_cum - a_gap)[np.cumsum(a_len) - a_len][a_sess]
    a_stage = a_first[a_sess] + a_pos  # 1 department, 2 product, 3 cart, 4 -> cancel
    a_type = np.where(a_stage == 4, 5, a_stage)
    a_product = rng.integers(0, n_prod, n_anon)[a_sess]
    a_uri = np.select(
        [a_type == 1, a_type == 2, a_type == 3], [4 + a_product, 4 + n_prod + a_product, URI_CART], URI_CANCEL
    )
    a_source = _choice(rng, n_anon, EVENT_SOURCE_WEIGHTS)
    a_browser = _choice(rng, n_anon, BROWSER_WEIGHTS)
    a_loc = _choice(rng, n_anon, cat.loc_weight)[a_sess]
    _count_sessions(counters, clock, a_start, a_source)
    a_id = _hex_ids(rng, n_anon, uuid=True)
    a_ip = _ips(rng, n_anon)
    return _events_table(
        cat,
        first_id,
        sess=a_sess,
        pos=a_pos,
        created=a_start[a_sess] + a_cum,
        user_id=pa.nulls(n_a, pa.int64()),
        session_id=a_id,
        ip=a_ip,
        loc=a_loc,
        browser=a_browser,
        source=a_source,
        uri=a_uri,
        etype=a_type,
    )


def _events_table(
    cat: Catalog,
    first_id: int,
    *,
    sess: np.ndarray,
    pos: np.ndarray,
    created: np.ndarray,
    user_id: pa.Array,
    session_id: pa.Array,
    ip: pa.Array,
    loc: np.ndarray,
    browser: np.ndarray,
    source: np.ndarray,
    uri: np.ndarray,
    etype: np.ndarray,
) -> pa.Table:
    """Events, one row per entry of `sess` (its session's index into session_id, ip, browser and
    source) with its position in the session, time, location, uri and type."""
    return _table(
        "events",
        {
            "id": pa.array(first_id + np.arange(len(sess), dtype=np.int64)),
            "user_id": user_id,
            "sequence_number": pa.array(pos + 1),
            "session_id": _take(session_id, sess),
            "created_at": _ts(created),
            "ip_address": _take(ip, sess),
            "city": _take(cat.loc_city, loc),
            "state": _take(cat.loc_state, loc),
            "postal_code": _take(cat.loc_postal, loc),
            "browser": _take(_strings(BROWSERS), browser[sess]),
            "traffic_source": _take(_strings(EVENT_SOURCES), source[sess]),
            "uri": _take(cat.uri_dict, uri),
            "event_type": _take(_strings(EVENT_TYPES), etype),
        },
    )


# ---------------------------------------------------------------------------------------------
# marketing spend
# ---------------------------------------------------------------------------------------------


def marketing_spend(seed: int, clock: Clock, counters: Counters) -> pa.Table:
    """The calibrated spend over the generated sessions, from the first order date to end_date."""
    if counters.first_order is None:
        return RAW_SCHEMAS["marketing_spend"].to_pyarrow().empty_table()
    first, last = (counters.first_order - clock.start) // DAY, (clock.now - clock.start) // DAY
    sources = [EVENT_SOURCES.index(s) for s in calibration.SOURCES]
    sessions = counters.sessions[first : last + 1][:, sources]
    return calibration.marketing_spend(sessions, START_DATE + datetime.timedelta(days=first), seed)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------


class GenerateError(ValueError):
    """Options the generator cannot honour, or output it could not write."""


# Disk a generation needs per unit of --scale at its peak, measured at scales 0.1 and 0.3
# (2026-12-02): into DuckDB, the uncompressed chunk files beside the database plus the tables made
# of them, 285 MB; into Parquet, the zstd files, 79 MB. Taken low, so that only a --scale that
# surely cannot fit is refused: at once, rather than when the disk fills an hour into the run.
BYTES_PER_SCALE = {"duckdb": 250e6, "parquet": 70e6}


def _refuse_what_cannot_fit(scale: float, database: pathlib.Path | None, parquet_dir: pathlib.Path | None) -> None:
    needs: dict[int, tuple[pathlib.Path, float]] = {}  # per file system (both outputs on one add up): where, bytes
    for where, per_scale in ((database, BYTES_PER_SCALE["duckdb"]), (parquet_dir, BYTES_PER_SCALE["parquet"])):
        if where is None:
            continue
        while not where.exists():  # a folder still to be made: the file system it will be on
            where = where.parent
        device = where.stat().st_dev
        first, need = needs.get(device, (where, 0.0))
        needs[device] = (first, need + per_scale * scale)
    for where, need in needs.values():
        free = shutil.disk_usage(where).free
        if need > free:
            raise GenerateError(
                f"--scale {scale:g} needs at least {need / 1e9:,.1f} GB free at {where}, which has "
                f"{free / 1e9:,.1f} GB: choose a smaller --scale, or free some space"
            )


class _ParquetSink:
    """One ParquetWriter per table, to temporary files renamed into place at the end: `close`
    completes them (a full disk fails there), `commit` renames them.

    A table's file that is a symbolic link is written through, as a plain write does: renamed over,
    the link became a file of its own and the file it names (a folder another tool reads) was never
    updated. Each temporary file is beside the file it replaces: a rename cannot cross file systems."""

    def __init__(self, folder: pathlib.Path, description: str, compression: str = "zstd"):
        folder.mkdir(parents=True, exist_ok=True)
        self.lock: int | None = _lock_folder(folder)
        self.paths = {t: pathlib.Path(os.path.realpath(folder / f"{t}.parquet")) for t in RAW_SCHEMAS}
        mark = {MARK_KEY: description}  # in each file's footer (_generated_file)
        self.writers = {}
        try:  # a file that cannot be opened (its folder not writable) fails here
            for t in RAW_SCHEMAS:
                schema = RAW_SCHEMAS[t].to_pyarrow().with_metadata(mark)
                self.writers[t] = pq.ParquetWriter(self._tmp(t), schema, compression=compression)
        except BaseException:  # not yet among run()'s sinks, which abort: the files opened go now
            self.abort()
            raise

    def _tmp(self, table: str) -> pathlib.Path:
        return self.paths[table].with_name(f".{self.paths[table].name}.tmp")

    def path(self, table: str) -> pathlib.Path:
        return self.paths[table]

    def write(self, table: str, data: pa.Table) -> None:
        self.writers[table].write_table(data)

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def commit(self) -> None:
        for t in RAW_SCHEMAS:
            os.replace(self._tmp(t), self.path(t))
        self._unlock()

    def _unlock(self) -> None:
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    def abort(self) -> None:
        for t, w in self.writers.items():
            try:
                w.close()
            except (OSError, pa.ArrowException):
                # A full disk fails the footer too; the file goes anyway. Marked closed, or pyarrow
                # retries (and prints the error) when the writer is garbage-collected.
                w.is_open = False
            self._tmp(t).unlink(missing_ok=True)
        self._unlock()


def _lock_folder(folder: pathlib.Path) -> int | None:
    """The folder's lock, held until its files are renamed into place. Two runs into one folder shared
    their temporary files: the one that finished first renamed into place files the other had
    written into too, corrupt, and said nothing (the other failed, saying nothing was replaced).

    None, and the files written as before, where there is no lock to take: Windows (no fcntl), a
    folder that may be written but not read, a file system without locks (NFS without lockd).
    Two runs into folders whose files link into one shared folder are not kept apart."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        lock = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        raise GenerateError(
            f"--parquet {folder}: another `ecom generate` is writing into it; nothing was replaced: "
            "wait for it to end, or give another folder"
        ) from None
    except OSError:
        os.close(lock)
        return None
    return lock


class _DuckDBSink:
    """Raw tables replaced all at once: chunks go to uncompressed Parquet files in a scratch folder
    beside the database (DuckDBTarget.scratch_folder), then one transaction replaces every raw table
    by a CREATE TABLE AS over its file. DuckDB reads each file in parallel and compresses each table
    once; inserting each chunk as it came (committed per chunk, to bound memory) compressed and
    checkpointed the growing tables again and again: 76.6 s against 47.9 s at scale 10 (README,
    Performance). On failure the folder is removed and the raw tables are untouched; a killed run's
    folder is removed by the next command that opens the database for writing."""

    def __init__(self, target: DuckDBTarget, description: str):
        self.target, self.description = target, description
        self.folder = target.scratch_folder("generate")
        self.files = _ParquetSink(self.folder, description, compression="none")  # written once, read once: no codec

    def write(self, table: str, data: pa.Table) -> None:
        self.files.write(table, data)

    def close(self) -> None:
        self.files.close()

    def commit(self) -> None:
        try:
            self.files.commit()
            self.target.write_raw_files({t: self.files.path(t) for t in RAW_SCHEMAS}, self.description)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def abort(self) -> None:
        try:
            self.files.abort()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def run(
    scale: float,
    seed: int,
    end_date: datetime.date,
    target: DuckDBTarget | None = None,
    parquet_dir: pathlib.Path | None = None,
    progress: Callable[[str, int], None] = lambda table, rows: None,
    replace: bool = False,
) -> dict[str, int]:
    """Generate every raw table and write it to the DuckDB target's `raw` schema and/or to
    `parquet_dir/<table>.parquet`; return the rows written per table (RAW_SCHEMAS order).

    DuckDB: the 8 raw tables are replaced in one transaction (on any failure nothing changes).
    Parquet: each table is written to a hidden temporary file, renamed into place at the end.
    `progress(table, rows)` is called after each batch with the rows just written (a delta).
    Raw tables in the database and Parquet files that this command did not write are replaced only
    with `replace`.
    """
    _refuse_bad_options(scale, seed, end_date)
    _refuse_bad_destinations(target, parquet_dir, replace)
    _refuse_what_cannot_fit(scale, target.path.parent if target else None, parquet_dir and pathlib.Path(parquet_dir))
    sinks: list = []
    committed: list = []
    counts = dict.fromkeys(RAW_SCHEMAS, 0)

    def emit(table: str, data: pa.Table) -> None:
        for s in sinks:
            s.write(table, data)
        counts[table] += data.num_rows
        progress(table, data.num_rows)

    try:
        # DuckDB's first: its transaction commits before the Parquet files are renamed, so a refused
        # or interrupted commit leaves both as they were
        description = f"{GENERATED} (scale {scale}, seed {seed}, to {end_date})"
        if target is not None:
            sinks.append(_DuckDBSink(target, description))
        if parquet_dir is not None:
            sinks.append(_ParquetSink(pathlib.Path(parquet_dir), description))
        _generate_tables(scale, seed, end_date, emit)
        for s in sinks:
            s.close()
        for s in sinks:
            s.commit()
            committed.append(s)
    except BaseException as e:
        for s in sinks:
            s.abort()
        if committed and isinstance(e, Exception):  # the renames after the commit: rare, but not "nothing"
            raise GenerateError(
                f"the database holds the new data, but the Parquet files in {parquet_dir} may be partly replaced "
                f"({first_line(e)}): generate them again with --no-duckdb"
            ) from None
        _raise_write_error(e)
    return {t: counts[t] for t in RAW_SCHEMAS}


def refuse_bad_seed(seed: int) -> None:
    """A seed numpy's generators refuse (a negative one) deep in the work, as a bare ValueError:
    refused first, for `ecom generate` and `ecom spend` alike."""
    if not isinstance(seed, int) or seed < 0:
        raise GenerateError(f"--seed must be a non-negative whole number, not {seed!r}")


def _refuse_bad_options(scale: float, seed: int, end_date: datetime.date) -> None:
    """--scale, --seed and --end-date outside what generate can make: the option, what it takes."""
    if not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
        raise GenerateError(f"--scale must be a positive number (1 = 100,000 users), not {scale!r}")
    refuse_bad_seed(seed)
    if not START_DATE < end_date <= LAST_END_DATE:
        raise GenerateError(
            f"--end-date must be after {START_DATE} (the data starts then) and no later than {LAST_END_DATE}, "
            f"not {end_date}"
        )


def _refuse_bad_destinations(target: Target | None, parquet_dir: pathlib.Path | None, replace: bool) -> None:
    """Before any table is generated: a --parquet that is a file or holds a folder where a file
    goes, a target that is not DuckDB, and (without `replace`) tables or files generate did not write."""
    if parquet_dir is not None and (shown := not_utf8(pathlib.Path(parquet_dir).absolute())):
        # Arrow takes UTF-8 names only: its UnicodeEncodeError came after the folder was made
        raise GenerateError(
            f"cannot use {shown}: its name is not UTF-8, which Parquet files need: give another --parquet"
        )
    if parquet_dir is not None:
        _refuse_a_parquet_folder_in_the_way(parquet_dir)
    if target is not None and not isinstance(target, DuckDBTarget):
        raise GenerateError(
            f"ecom generate writes to DuckDB or Parquet, not {target.name}: generate Parquet with "
            "--parquet DIR --no-duckdb, then `ecom load DIR` into that target"
        )
    if target is not None and not replace:
        _refuse_replacing_other_data(target)
    if parquet_dir is not None and not replace:
        _refuse_replacing_other_files(pathlib.Path(parquet_dir))


# What may stand where a table's Parquet file goes, and what to do about it. In this order: a folder
# is not a regular file either, and is named as a folder.
_IN_THE_WAY: tuple[tuple[Callable[[pathlib.Path], bool], str, str], ...] = (
    (pathlib.Path.is_dir, "is a folder", "remove it, or give another"),
    # realpath gives a link of the loop, which the rename would replace with a file
    (in_a_link_loop, "is a loop of symbolic links", "point it at a file, or remove it"),
    # renamed over, a device became a file (as root, /dev/full): what stands there is not a table's file
    (lambda p: p.exists() and not p.is_file(), "is not a regular file (a device, a pipe)", "give another"),
)


def _refuse_a_parquet_folder_in_the_way(parquet_dir: pathlib.Path) -> None:
    """--parquet naming a file, or a folder holding something where a table's file goes: found now,
    not when the files are renamed after the database's commit."""
    folder = pathlib.Path(parquet_dir)
    if in_a_link_loop(folder):
        raise GenerateError(f"--parquet {parquet_dir} is a loop of symbolic links: point it at a folder, or remove it")
    if folder.exists() and not folder.is_dir():
        raise GenerateError(f"--parquet {parquet_dir} is a file, not a folder: give a folder for the Parquet files")
    files = [folder / f"{t}.parquet" for t in RAW_SCHEMAS]
    for stands, what, advice in _IN_THE_WAY:
        if found := [p.name for p in files if stands(p)]:
            raise GenerateError(f"--parquet {parquet_dir}: {', '.join(found)} {what}: {advice}")
    # a link into a folder that is not there (a share not mounted): found now, not after the tables are made
    astray = [
        f"{link.name} links into {there}, which is not a folder"
        for link in files
        if link.is_symlink() and not (there := pathlib.Path(os.path.realpath(link)).parent).is_dir()
    ]
    if astray:
        raise GenerateError(f"--parquet {parquet_dir}: {'; '.join(astray)}: mount or make it, or remove the link")


def _generate_tables(scale: float, seed: int, end_date: datetime.date, emit: Callable[[str, pa.Table], None]) -> None:
    """Every raw table, passed to `emit` a batch at a time: the products and distribution centers,
    the users' tables CHUNK_USERS users at a time, then the marketing spend that follows the
    sessions they had."""
    n_users = max(1, round(USERS_AT_SCALE_1 * scale))
    clock = Clock.of(end_date)
    counters = Counters(sessions=np.zeros((clock.days, len(EVENT_SOURCES)), np.int64))
    catalog = build_catalog(seed)
    emit("products", catalog.products)
    emit("distribution_centers", distribution_centers())
    for chunk, first in enumerate(range(0, n_users, CHUNK_USERS)):
        tables = generate_chunk(chunk, min(CHUNK_USERS, n_users - first), seed, clock, catalog, counters)
        for name, data in tables.items():
            emit(name, data)
        del tables
    emit("marketing_spend", marketing_spend(seed, clock, counters))


# The comment on each raw table `ecom generate` writes, and the MARK_KEY metadata of each Parquet
# file: a table or file without it (an export `ecom load` loaded, a spend `ecom spend` calibrated,
# data generated before the mark) is the user's data.
GENERATED = "written by ecom generate"
MARK_KEY = "ecom"


def _marked(mark: str | None) -> bool:
    return (mark or "").startswith(GENERATED)


def generated_tables(target: Target) -> set[str]:
    """The raw tables that carry the mark of `ecom generate`, which writes only into DuckDB."""
    if not isinstance(target, DuckDBTarget):
        return set()
    return {name for name, comment in target.raw_descriptions().items() if _marked(comment)}


def _refuse_replacing_other_data(target: DuckDBTarget) -> None:
    found = target.raw_descriptions()
    others = [name for name in RAW_SCHEMAS if name in found and not _marked(found[name])]
    if others:
        origins = "loaded with `ecom load`, calibrated by `ecom spend`, or generated before ecom marked its tables"
        raise _unmarked(f"raw {', '.join(others)} in {target.path}", len(others), origins, "it all", "another --path")


def _refuse_replacing_other_files(folder: pathlib.Path) -> None:
    others = [f"{t}.parquet" for t in RAW_SCHEMAS if (folder / f"{t}.parquet").is_file()]
    others = [name for name in others if not _generated_file(folder / name)]
    if others:
        origins = "an export, or generated before ecom marked its files"
        what = "it" if len(others) == 1 else "them"
        raise _unmarked(f"--parquet {folder}: {', '.join(others)}", len(others), origins, what, "another folder")


def _unmarked(subject: str, n: int, origins: str, replaced: str, elsewhere: str) -> GenerateError:
    """The refusal to replace `n` tables or files that carry no mark of ecom generate."""
    return GenerateError(
        f"{subject} carr{'ies' if n == 1 else 'y'} no mark of ecom generate ({origins}): generating would replace "
        f"{replaced}; pass --replace if that is meant, or give {elsewhere}"
    )


def _generated_file(path: pathlib.Path) -> bool:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):  # not Parquet, or unreadable: not generate's to replace
        return False
    return _marked(metadata.get(MARK_KEY.encode(), b"").decode(errors="replace"))


def _raise_write_error(e: BaseException) -> None:
    """A full disk or an unwritable folder as one line (the sinks have been aborted); anything
    else as it is."""
    if isinstance(e, OSError):  # the file too: "No such file or directory" alone named none
        where = f" ({e.filename})" if e.filename else ""
        raise GenerateError(
            f"cannot write the generated data{where}: {describe_os_error(e)}; nothing was replaced"
        ) from None
    if isinstance(e, duckdb.Error | pa.ArrowException):
        raise GenerateError(f"cannot write the generated data: {first_line(e)}; nothing was replaced") from None
    raise e
