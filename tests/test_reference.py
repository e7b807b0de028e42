"""Every model held to the plain-Python reference of the contract (tests/reference.py), table by table.

Three kinds of input: each fixtures/<scenario>/ folder, a small deterministic random raw dataset per
seed (status case variants, orphan items, rows after as_of, anonymous and ip-less events, NULL and
tied clicks, exact 30-minute gaps, sold and unsold stock, end-of-day boundaries, cent ties, and
all-cancelled / all-returned / one-order variants), the generator's output at a small scale
(ecom.data.generate), and a real thelook export when $ECOM_THELOOK_SAMPLE names its folder of Parquet
files (skipped otherwise; at its default and an earlier as_of). For each, every model is built on an
in-memory DuckDB with the engine and compared with the reference: same columns in the same order,
same keys, equal values of the same Python type (floats to 1e-9 relative/absolute; NULL == None).
"""

from __future__ import annotations

import datetime as dt
import math
import random

import pyarrow as pa
import pytest

from ecom.core.sources import RAW_SCHEMAS
from ecom.data.load import read_folder
from tests import reference
from tests.conftest import FIXTURES, SCENARIO_PARAMS, THELOOK_SAMPLE, Built, scenario_vars

MODELS = list(reference.KEYS)
UTC = dt.UTC


# ---------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if type(a) is not type(b):  # an integer count is not a float, a date not a timestamp
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def differences(name: str, got: list[dict], want: list[dict], columns: list[str]) -> list[str]:
    """What differs between the model's rows (got) and the reference's (want), one line each."""
    key = reference.KEYS[name]
    problems = []
    want_columns = list(want[0]) if want else None
    if want_columns is not None and columns != want_columns:
        problems.append(f"columns: model {columns} != reference {want_columns}")
    g = {tuple(r[k] for k in key): r for r in got}
    w = {tuple(r[k] for k in key): r for r in want}
    if len(g) != len(got):
        problems.append(f"duplicate keys in the model: {len(got)} rows, {len(g)} keys")
    for k in sorted(set(w) - set(g), key=repr):
        problems.append(f"missing in model {k}: reference {w[k]}")
    for k in sorted(set(g) - set(w), key=repr):
        problems.append(f"extra in model {k}: model {g[k]}")
    for k in sorted(set(g) & set(w), key=repr):
        diffs = {c: (g[k].get(c), w[k][c]) for c in w[k] if not same(g[k].get(c), w[k][c])}
        if diffs:
            problems.append(f"row {k}: (model, reference) {diffs}")
    return problems


def both(built: Built, raw: dict[str, pa.Table], given: dict) -> dict[str, tuple]:
    """Every model as the engine built it on DuckDB from `raw` with `given`, and as the reference
    builds it: name -> (got, columns, want)."""
    tables = {name: built.target.table(name).to_pyarrow() for name in MODELS}
    want = reference.build_all({t: raw[t].to_pylist() for t in RAW_SCHEMAS}, given)
    return {name: (tables[name].to_pylist(), tables[name].column_names, want[name]) for name in MODELS}


def build_both(raw: dict[str, pa.Table], given: dict) -> dict[str, tuple]:
    """`both` on a build of its own."""
    built = Built(raw, given)
    try:
        return both(built, raw, given)
    finally:
        built.close()


def check(results: dict[str, tuple], name: str) -> None:
    got, columns, want = results[name]
    problems = differences(name, got, want, columns)
    assert not problems, f"{name}: {len(problems)} differences\n" + "\n".join(problems[:20])


# ---------------------------------------------------------------------------------------------
# fixture scenarios
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SCENARIO_PARAMS)
def scenario(request, built_scenario):
    """The scenario's build the other tests of its group read (tests/conftest.py)."""
    return both(built_scenario(request.param), read_folder(FIXTURES / request.param), scenario_vars(request.param))


@pytest.mark.parametrize("name", MODELS)
def test_fixture_scenario_matches_reference(scenario, name):
    check(scenario, name)


# ---------------------------------------------------------------------------------------------
# random raw data
# ---------------------------------------------------------------------------------------------

AS_OF = dt.date(2024, 3, 15)
ITEM_STATUSES = [
    "Complete",
    "complete",
    "Shipped",
    "SHIPPED",
    "Processing",
    "Cancelled",
    "cancelled",
    "CANCELLED",
    "Returned",
    "returned",
    "Complete",
]


def random_raw(seed: int, variant: str | None = None) -> dict[str, pa.Table]:
    """A small raw dataset around AS_OF (2024-03-15), some rows after it, with the edge cases above.

    variant "all_cancelled": every item cancelled (no customers, no sales); "all_returned": every item
    returned (customers but zero net revenue: shares and ratios over a zero total); "one_order": a
    single order (one customer: RFM with n = 1)."""
    rnd = random.Random(seed)
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    span = (dt.datetime(2024, 3, 18, tzinfo=UTC) - base).total_seconds()

    def instant() -> dt.datetime:
        t = base + dt.timedelta(seconds=rnd.uniform(0, span))
        return t if rnd.random() < 0.7 else t.replace(microsecond=0)

    def later(t: dt.datetime | None, p: float) -> dt.datetime | None:
        if t is None or rnd.random() > p:
            return None
        return t + dt.timedelta(hours=rnd.choice([1, 20, 30, 50, 100, 300]), microseconds=rnd.randrange(10**6))

    n_products = 12
    products = [
        {
            "id": p,
            "cost": round(rnd.uniform(2, 40), 2),
            "category": rnd.choice(["Tops", "Jeans", None]),
            "name": f"product {p}",
            "brand": rnd.choice(["A", "B"]),
            "retail_price": round(rnd.uniform(40, 90), 2),
            "department": rnd.choice(["Men", "Women"]),
            "sku": f"SKU{p}",
            "distribution_center_id": 1,
        }
        for p in range(1, n_products + 1)
    ]
    users = []
    for u in range(1, 31):
        created = instant() - dt.timedelta(days=rnd.choice([0, 5, 40, 400]))
        users.append(
            {
                "id": u,
                "first_name": "F",
                "last_name": "L",
                "email": f"u{u}@x",
                "age": rnd.choice([None, 12, 17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 64, 65, 80]),
                "gender": rnd.choice(["M", "F"]),
                "state": "S",
                "street_address": "x",
                "postal_code": "1",
                "city": rnd.choice(["C1", "C2"]),
                "country": "X",
                "latitude": 0.0,
                "longitude": 0.0,
                "traffic_source": rnd.choice(["Search", "Organic", "Facebook", "Email", "Display"]),
                "created_at": created,
            }
        )
    orders, items = [], []
    item_id = 1
    for o in range(1, 61):
        user = rnd.randrange(1, 31)
        created = instant()
        if rnd.random() < 0.15:  # a year earlier, so that the prior-year 7-day sums have data
            created -= dt.timedelta(days=rnd.choice([364, 367, 370, 371]))
        shipped = later(created, 0.8)
        delivered = later(shipped, 0.7)
        returned = later(delivered, 0.3)
        n = rnd.randint(1, 4)
        orders.append(
            {
                "order_id": o,
                "user_id": user,
                "status": rnd.choice(ITEM_STATUSES),
                "gender": "M",
                "created_at": created,
                "returned_at": returned,
                "shipped_at": shipped,
                "delivered_at": delivered,
                "num_of_item": n,
            }
        )
        for _ in range(n):
            status = rnd.choice(ITEM_STATUSES)
            items.append(
                # the raw item's user_id sometimes disagrees with its order's: the order's user counts
                {
                    "id": item_id,
                    "order_id": o,
                    "user_id": user if rnd.random() < 0.9 else 30 - user,
                    "product_id": rnd.randint(1, n_products - 2),
                    "inventory_item_id": 1000 + item_id,
                    "status": status,
                    "created_at": created + dt.timedelta(hours=rnd.choice([-30, 0, 0, 5])),
                    "shipped_at": shipped,
                    "delivered_at": delivered,
                    "returned_at": returned if rnd.random() < 0.8 else later(delivered, 0.5),
                    "sale_price": round(rnd.uniform(5, 80), 2),
                }
            )
            item_id += 1
    # an orphan item (its order is not in raw orders): staging drops it
    items.append({**items[0], "id": item_id, "order_id": 999})
    # end-of-day boundaries: an order at the last microsecond of AS_OF (kept, its item returned at
    # that instant: returned) and one at the first of the next day (dropped with its item); an
    # early order with no items at all (not a non-cancelled order, but it starts the P&L spine)
    last = dt.datetime.combine(AS_OF, dt.time.max, tzinfo=UTC)
    for order_id, at in ((61, last), (62, last + dt.timedelta(microseconds=1))):
        orders.append({**orders[0], "order_id": order_id, "created_at": at, "num_of_item": 1})
        items.append(
            {**items[0], "id": item_id + order_id, "order_id": order_id, "created_at": at, "status": "Complete"}
            | {"shipped_at": at, "delivered_at": at, "returned_at": at}
        )
    orders.append({**orders[0], "order_id": 63, "created_at": base - dt.timedelta(days=400), "num_of_item": 0})
    # money ties that only rounding to cents reveals: product 11 sells 0.3 to new user 31, product 12
    # 0.1 + 0.2 (0.30000000000000004) to new user 32, the same day: equal cents, so product 11 ranks
    # first (smaller id) although its float is smaller; equal RFM monetary cents (one m_score)
    for user, order_id, prices, product in ((31, 64, (0.3,), 11), (32, 65, (0.1, 0.2), 12)):
        users.append({**users[0], "id": user, "created_at": base})
        at = base + dt.timedelta(days=50)
        orders.append({**orders[0], "order_id": order_id, "user_id": user, "created_at": at, "num_of_item": 1})
        orders[-1] |= {"shipped_at": None, "delivered_at": None, "returned_at": None}
        for k, price in enumerate(prices):
            items.append(
                {**items[0], "id": item_id + 10 * order_id + k, "order_id": order_id, "user_id": user}
                | {"product_id": product, "status": "Processing", "sale_price": price, "created_at": at}
                | {"shipped_at": None, "delivered_at": None, "returned_at": None}
            )

    events = []
    event_id = 1
    sources = ["Email", "Adwords", "Organic", "YouTube", "Facebook", None, "adwords"]
    types = ["home", "department", "product", "Product", "cart", "purchase", "cancel", None]
    ips = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "", None]  # "" is an address like any other

    def burst(user, ip, start, k):
        nonlocal event_id
        t = start
        for _ in range(k):
            events.append(
                {
                    "id": event_id,
                    "user_id": user,
                    "sequence_number": 1,
                    "session_id": f"s{event_id}",
                    "created_at": t,
                    "ip_address": ip,
                    "city": "c",
                    "state": "s",
                    "postal_code": "p",
                    "browser": rnd.choice(["Chrome", "Safari", None]),
                    "traffic_source": rnd.choice(sources),
                    "uri": rnd.choice(["/", "/cart", "/product/1"]),
                    "event_type": rnd.choice(types),
                }
            )
            event_id += 1
            gap = rnd.choice(
                [
                    dt.timedelta(minutes=1),
                    dt.timedelta(minutes=30),
                    dt.timedelta(minutes=30, microseconds=1),
                    dt.timedelta(minutes=31),
                    dt.timedelta(seconds=rnd.uniform(0, 1800)),
                    dt.timedelta(0),
                ]
            )
            t = t + gap

    # sessions just before orders (some within, some beyond the lookback), so attribution has work
    for o in orders:
        if rnd.random() < 0.7:
            before = dt.timedelta(hours=rnd.choice([0, 1, 23, 24, 25]), minutes=rnd.choice([0, 0, 5]))
            burst(o["user_id"], rnd.choice(ips), o["created_at"] - before, rnd.randint(1, 5))
    while len(events) < 500:
        user = rnd.choice([None, None, rnd.randrange(1, 31)])
        burst(user, rnd.choice(ips), instant(), rnd.randint(1, 8))

    marketing = []
    day = dt.date(2023, 12, 28)
    while day <= dt.date(2024, 3, 18):
        for platform in ["Google", "Facebook", "YouTube", "Email"]:
            for campaign in ["c1", "c2", "c10"]:
                if rnd.random() < 0.5:
                    marketing.append(
                        {
                            "date": day,
                            "campaign_id": campaign,
                            "platform": platform,
                            "spend": rnd.choice([None, 0.0, round(rnd.uniform(1, 50), 2)]),
                            "clicks": rnd.choice([None, 0, 5, 5, 10]),
                            "impressions": rnd.choice([None, 0, 100, 1000]),
                        }
                    )
        day += dt.timedelta(days=1)

    inventory = []
    for i in range(1, 80):
        created = instant() - dt.timedelta(days=30)
        inventory.append(
            {
                "id": i,
                "product_id": rnd.randint(1, n_products - 1),
                "created_at": created,
                "sold_at": later(created, 0.5) if rnd.random() < 0.5 else later(created + dt.timedelta(days=40), 0.6),
                "cost": 1.0,
                "product_category": None,
                "product_name": None,
                "product_brand": None,
                "product_retail_price": None,
                "product_department": None,
                "product_sku": None,
                "product_distribution_center_id": None,
            }
        )
    if variant == "all_cancelled":
        items = [{**i, "status": "CANCELLED"} for i in items]
    elif variant == "all_returned":
        items = [{**i, "status": "Returned", "returned_at": i["created_at"] + dt.timedelta(hours=1)} for i in items]
    elif variant == "one_order":
        orders = orders[:1]
    # rows without a creation time: staging cannot place them by as_of and drops them
    users.append({**users[0], "id": 40, "created_at": None})
    inventory.append({**inventory[0], "id": 200, "created_at": None, "sold_at": None})
    if orders and items:
        orders.append({**orders[0], "order_id": 900, "created_at": None})
        items.append({**items[0], "id": 900, "order_id": 900})  # dropped with its order
        items.append({**items[0], "id": 901, "created_at": None})  # dropped; its order stays
    if events:
        events.append({**events[0], "id": 900, "created_at": None})
    centers = [{"id": 1, "name": "DC", "latitude": 0.0, "longitude": 0.0}]
    rows = {
        "orders": orders,
        "order_items": items,
        "products": products,
        "users": users,
        "events": events,
        "inventory_items": inventory,
        "distribution_centers": centers,
        "marketing_spend": marketing,
    }
    return {t: pa.Table.from_pylist(rows[t], schema=RAW_SCHEMAS[t].to_pyarrow()) for t in RAW_SCHEMAS}


# (seed, variant) -> the build variables it runs with (one without as_of: the latest order date)
RANDOM_CASES = {
    (1, None): {"as_of": AS_OF},
    (2, None): {
        "as_of": AS_OF,
        "session_timeout_minutes": 30,
        "attribution_lookback_hours": 24,
        "visitor_salt": "sél-ünïcode",  # hashed as UTF-8 by both
    },
    (3, None): {},
    (4, None): {
        "as_of": dt.date(2024, 2, 20),
        "velocity_window_days": 7,
        "attribution_lookback_hours": 2,
        "touch_window_days": 1,
        "time_decay_half_life_hours": 3,
    },
    (5, "all_cancelled"): {"as_of": AS_OF},
    (6, "all_returned"): {"as_of": AS_OF},
    (7, "one_order"): {"as_of": AS_OF},
}


@pytest.fixture(scope="module", params=list(RANDOM_CASES), ids=lambda c: f"seed{c[0]}-{c[1] or 'mixed'}")
def random_case(request):
    seed, variant = request.param
    return build_both(random_raw(seed, variant), RANDOM_CASES[request.param])


@pytest.mark.parametrize("name", MODELS)
def test_random_data_matches_reference(random_case, name):
    check(random_case, name)


# ---------------------------------------------------------------------------------------------
# the generator's output
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from ecom.data import generate

    folder = tmp_path_factory.mktemp("generated")
    generate.run(scale=0.002, seed=7, end_date=dt.date(2024, 6, 30), parquet_dir=folder)
    return build_both(read_folder(folder), {})


@pytest.mark.parametrize("name", MODELS)
def test_generated_data_matches_reference(generated, name):
    check(generated, name)


# ---------------------------------------------------------------------------------------------
# real thelook-generator data beside the project (never committed), when present
# ---------------------------------------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=[
        {},
        {
            "as_of": dt.date(2026, 6, 15),
            "attribution_lookback_hours": 6,
            "touch_window_days": 2,
            "time_decay_half_life_hours": 5,
        },
    ],
)
def thelook(request):
    if not (THELOOK_SAMPLE / "orders.parquet").exists():
        pytest.skip(f"{THELOOK_SAMPLE}/orders.parquet is not here: set ECOM_THELOOK_SAMPLE to a thelook export")
    return build_both(read_folder(THELOOK_SAMPLE), request.param)


@pytest.mark.parametrize("name", MODELS)
def test_thelook_sample_matches_reference(thelook, name):
    check(thelook, name)
