"""The staging models (docs/contract.md#staging) on fixtures/staging, built through the engine on DuckDB.

fixtures/staging/README.md says which edge case each row exercises; as_of is 2024-03-31, so the end
of as_of is 2024-04-01 00:00:00 UTC: a time t has happened iff t < 2024-04-01 00:00:00.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from pathlib import Path

import pytest
import yaml

from ecom.core.engine import build, generic_tests, run_tests
from ecom.targets.duckdb import DuckDBTarget
from tests.conftest import PROJECT, build_scenario, ts

FIXTURE = Path(__file__).parent.parent / "fixtures" / "staging"
AS_OF = dt.date(2024, 3, 31)
STAGING = [
    "stg_orders",
    "stg_order_items",
    "stg_products",
    "stg_users",
    "stg_events",
    "stg_inventory",
    "stg_marketing",
]
UTC = dt.UTC
# fixtures/staging/vars.yml: a non-ASCII visitor_salt, so the tests show it is mixed in as UTF-8
SALT = "pépper"
VALUES = {"as_of": AS_OF, "visitor_salt": SALT}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build_staging() -> DuckDBTarget:
    return build_scenario("staging", ["staging"]).target


def rows(target: DuckDBTarget, name: str, key: str) -> dict:
    table = target.table(name).to_pyarrow().to_pylist()
    return {r[key]: r for r in table}


@pytest.fixture(scope="module")
def target():
    target = build_staging()
    yield target
    target.close()


def test_fixture_vars_are_the_ones_tested():
    assert yaml.safe_load((FIXTURE / "vars.yml").read_text()) == VALUES


def test_columns_in_metrics_order(target):
    expected = {
        "stg_orders": "order_id user_id status item_count created_at shipped_at delivered_at returned_at order_date",
        "stg_order_items": "order_item_id order_id user_id product_id inventory_item_id status sale_price "
        "created_at shipped_at delivered_at returned_at order_date",
        "stg_products": "product_id name brand category department sku cost retail_price distribution_center_id",
        "stg_users": "user_id age gender city state country acquisition_source created_at signup_date",
        "stg_events": "event_id user_id source_session_id sequence_number ip_hash browser "
        "traffic_source uri event_type created_at event_date",
        "stg_inventory": "inventory_item_id product_id cost created_at sold_at",
        "stg_marketing": "spend_date campaign_id platform spend clicks impressions",
    }
    for name, columns in expected.items():
        assert target.table(name).columns == tuple(columns.split()), name


def test_no_pii_in_stg_users(target):
    pii = {"first_name", "last_name", "email", "street_address", "postal_code", "latitude", "longitude"}
    assert not pii & set(target.table("stg_users").columns)


def test_stg_orders(target):
    got = {
        k: (r["status"], r["shipped_at"], r["delivered_at"], r["returned_at"], r["order_date"])
        for k, r in rows(target, "stg_orders", "order_id").items()
    }
    assert got == {
        1: ("complete", ts("2024-03-02 08:00:00"), ts("2024-03-04 12:00:00"), None, d("2024-03-01")),
        # raw Returned, but returned_at 04-02 is after as_of: complete, returned_at not yet happened
        2: ("complete", ts("2024-03-11 09:00:00"), ts("2024-03-13 09:00:00"), None, d("2024-03-10")),
        3: ("cancelled", None, None, None, d("2024-03-15")),
        # lower-case 'cancelled' stays cancelled although it shipped; its shipped_at is kept
        4: ("cancelled", ts("2024-03-17 12:00:00"), None, None, d("2024-03-16")),
        # created 23:59:59.999999 on as_of: kept (order 6, created 04-01 00:00:00, is dropped)
        5: ("processing", None, None, None, d("2024-03-31")),
        # shipped 23:59:59.999999 on as_of (happened), delivered 04-01 00:00:00 (not yet)
        7: ("shipped", ts("2024-03-31 23:59:59.999999"), None, None, d("2024-03-20")),
        # raw Complete with no timestamps: processing, whatever the raw status says
        8: ("processing", None, None, None, d("2024-03-21")),
        # created 23:30 UTC: the UTC date 02-28
        9: (
            "returned",
            ts("2024-02-29 10:00:00"),
            ts("2024-03-02 10:00:00"),
            ts("2024-03-05 10:00:00"),
            d("2024-02-28"),
        ),
        # raw 'SHIPPED' upper case; created 03:30 UTC (the previous day in America/Los_Angeles)
        10: ("shipped", ts("2024-03-25 10:00:00"), None, None, d("2024-03-24")),
        # 11 has a NULL created_at: dropped
    }
    o = rows(target, "stg_orders", "order_id")
    assert (o[5]["user_id"], o[5]["item_count"], o[5]["created_at"]) == (
        3,
        1,
        ts("2024-03-31 23:59:59.999999"),
    )
    assert o[2]["item_count"] == 2  # the raw num_of_item, renamed


def test_stg_order_items(target):
    got = {
        k: (r["order_id"], r["status"], r["returned_at"], r["order_date"])
        for k, r in rows(target, "stg_order_items", "order_item_id").items()
    }
    assert got == {
        101: (1, "complete", None, d("2024-03-01")),  # created 02-29 22:00, takes its order's date
        102: (2, "complete", None, d("2024-03-10")),  # raw Returned, returned 04-02 after as_of
        103: (2, "returned", ts("2024-03-20 10:00:00"), d("2024-03-10")),  # created 03-12: order's date
        104: (3, "cancelled", None, d("2024-03-15")),
        105: (5, "processing", None, d("2024-03-31")),  # created 04-02, kept with its order 5
        # 106 dropped with order 6 (created 04-01 00:00:00); 107's order 99 is absent: dropped
        108: (7, "shipped", None, d("2024-03-20")),  # shipped 23:59:59.999999, delivered 04-01 00:00
        109: (8, "processing", None, d("2024-03-21")),  # raw Complete, no timestamps
        110: (4, "cancelled", None, d("2024-03-16")),  # raw 'CANCELLED'
        111: (9, "returned", ts("2024-03-05 10:00:00"), d("2024-02-28")),
        112: (10, "shipped", None, d("2024-03-24")),  # raw 'shipped' lower case
        # 113 dropped with its order 11 (NULL created_at); 114 has a NULL created_at: dropped, its
        # order 1 kept
    }
    items = rows(target, "stg_order_items", "order_item_id")
    assert items[105]["created_at"] == ts("2024-04-02 08:00:00")  # kept as it is
    assert items[101]["created_at"] == ts("2024-02-29 22:00:00")
    assert items[108]["shipped_at"] == ts("2024-03-31 23:59:59.999999")
    assert items[108]["delivered_at"] is None
    assert items[110]["shipped_at"] == ts("2024-03-17 12:00:00")
    assert (items[103]["user_id"], items[103]["product_id"], items[103]["inventory_item_id"]) == (1, 3, 13)
    assert items[103]["sale_price"] == 30.25


def test_stg_products(target):
    products = rows(target, "stg_products", "product_id")
    assert sorted(products) == [1, 2, 3]
    assert products[2] == {
        "product_id": 2,
        "name": "Plain Tee",
        "brand": None,
        "category": "Tops & Tees",
        "department": "Women",
        "sku": "SKU2",
        "cost": 8.0,
        "retail_price": 20.0,
        "distribution_center_id": 1,
    }


def test_stg_users(target):
    users = rows(target, "stg_users", "user_id")
    # user 6 signed up 04-01 00:00:00: dropped; user 7 at 23:59:59.999999 on as_of: kept; user 8's
    # created_at is NULL: dropped
    assert sorted(users) == [1, 2, 3, 4, 5, 7]
    assert users[5] == {
        "user_id": 5,
        "age": 67,
        "gender": "F",
        "city": "Tokyo",
        "state": "Tokyo",
        "country": "Japan",
        "acquisition_source": "Display",
        "created_at": ts("2024-02-27 23:30:00"),
        "signup_date": d("2024-02-27"),  # 23:30 UTC: the UTC date (the 28th in Tokyo)
    }
    assert users[3]["age"] is None
    assert users[7]["signup_date"] == d("2024-03-31")


def ip_hash(ip: str, salt: str = SALT) -> str:
    """docs/contract.md#staging: the first 16 lower-case hex characters of SHA-256(salt || ip), UTF-8."""
    return hashlib.sha256((salt + ip).encode()).hexdigest()[:16]


def test_ip_hash_by_hand():
    # `printf 'pépper10.0.0.1' | sha256sum` in a UTF-8 shell (é is the two bytes c3 a9)
    assert ip_hash("10.0.0.1") == "ea33d1ac5c8a52dd"


def test_stg_events(target):
    got = {
        k: (r["user_id"], r["event_type"], r["event_date"], r["ip_hash"])
        for k, r in rows(target, "stg_events", "event_id").items()
    }
    assert got == {
        1: (1, "home", d("2024-03-01"), ip_hash("10.0.0.1")),  # 'Home' lower-cased
        2: (1, "product", d("2024-03-31"), ip_hash("10.0.0.1")),  # 'PRODUCT'; 23:30 UTC (04-01 in Tokyo)
        3: (None, "cart", d("2024-03-31"), ip_hash("10.0.0.9")),  # anonymous, 23:59:59.999999: kept
        # 4 at 2024-04-01 00:00:00: dropped
        5: (5, "department", d("2024-03-10"), ip_hash("10.0.0.5")),  # 03:30 UTC (03-09 in Los Angeles)
        6: (None, "home", d("2024-03-12"), None),  # neither user nor IP: ip_hash NULL
        # 7 has a NULL created_at: dropped
    }
    e = rows(target, "stg_events", "event_id")[2]
    assert (e["source_session_id"], e["sequence_number"], e["browser"], e["traffic_source"], e["uri"]) == (
        "s-1",
        2,
        "Chrome",
        "Adwords",  # the source's spelling: the platform mapping is case-sensitive
        "/product/1",
    )
    assert e["created_at"] == ts("2024-03-31 23:30:00")


def test_stg_inventory(target):
    got = {k: (r["product_id"], r["sold_at"]) for k, r in rows(target, "stg_inventory", "inventory_item_id").items()}
    assert got == {
        11: (1, ts("2024-03-01 10:00:00")),
        12: (2, None),  # sold 04-01 00:00:00: not yet sold at the end of as_of
        # 13 received 04-01 00:00:00: dropped
        14: (3, None),  # received 23:59:59.999999 on as_of: kept
        15: (1, ts("2024-03-31 23:59:59.999999")),
        # 16 has a NULL created_at: dropped
    }
    assert rows(target, "stg_inventory", "inventory_item_id")[11]["cost"] == 4.0


def test_stg_marketing(target):
    got = {
        (r["spend_date"], r["platform"], r["campaign_id"]): (r["spend"], r["clicks"], r["impressions"])
        for r in target.table("stg_marketing").to_pyarrow().to_pylist()
    }
    assert got == {
        # the same campaign id on two platforms: two campaigns
        (d("2024-03-01"), "Facebook", "campaign_1"): (50.5, 10, 1000),
        (d("2024-03-01"), "Google", "campaign_1"): (70.25, 14, 2100),
        (d("2024-03-31"), "Google", "campaign_2"): (None, None, None),  # NULLs stay NULL in staging
        # the 2024-04-01 row is after as_of: dropped
    }


def test_generic_data_tests_pass(target):
    project = PROJECT
    results = run_tests(generic_tests(project, STAGING), target.table)
    assert results
    assert [(r.name, r.status, r.message) for r in results if r.status != "pass"] == []


DATES = {
    ("stg_orders", "order_id", "order_date"): {9: d("2024-02-28"), 10: d("2024-03-24")},
    ("stg_order_items", "order_item_id", "order_date"): {111: d("2024-02-28"), 112: d("2024-03-24")},
    ("stg_events", "event_id", "event_date"): {2: d("2024-03-31"), 5: d("2024-03-10")},
    ("stg_users", "user_id", "signup_date"): {5: d("2024-02-27")},
}


def dates_of(target: DuckDBTarget) -> dict:
    return {spec: {k: rows(target, spec[0], spec[1])[k][spec[2]] for k in expected} for spec, expected in DATES.items()}


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_dates_are_utc_whatever_the_machine_time_zone(zone):
    """23:30 UTC is the next day in Tokyo; 03:30 UTC the previous day in Los Angeles. The target's
    connection sets TimeZone=UTC (ecom.targets.duckdb.connect_duckdb), so the process TZ plays no part,
    and a zoned timestamp's date is computed in UTC (ecom.core.dialects), so not even the session's."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        target = build_staging()
        try:
            assert dates_of(target) == DATES
            # The fixture rows are sensitive to the zone: DuckDB's own cast, on a session in `zone`,
            # moves their dates; a build on that session does not.
            target.con.raw_sql(f"SET TimeZone = '{zone}'")
            moved = target.con.raw_sql(
                "SELECT CAST(created_at AS DATE) FROM raw.orders WHERE order_id IN (9, 10) ORDER BY order_id"
            )
            assert moved.fetchall() != [(d("2024-02-28"),), (d("2024-03-24"),)]
            build(PROJECT, target, ["stg_orders"], VALUES)
            built = rows(target, "stg_orders", "order_id")
            assert (built[9]["order_date"], built[10]["order_date"]) == (d("2024-02-28"), d("2024-03-24"))
        finally:
            target.close()
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
