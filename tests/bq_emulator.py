"""A local BigQuery emulator for tests: `local-bigquery` (REST + Storage Read APIs on DuckDB).

It lives in its own virtualenv (.ci/install-emulator.sh: it needs Python >= 3.13 and a newer sqlglot
than the project pins). The session fixture installs it when missing (fast when present), starts it
on free loopback ports, waits until its REST API answers, and stops it by its PID. It is defined in
tests/conftest.py, so that every module a worker runs shares one emulator. Where no Python
>= 3.13 exists, the tests that use it skip and say why.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ecom.core import engine
from ecom.core.engine import BUILD_TABLE, VARS_TABLE
from ecom.core.incremental import PARTITIONS_TABLE, STATE_TABLE
from ecom.core.registry import Project
from ecom.core.runs import RUNS_TABLE
from ecom.core.sources import RAW_SCHEMAS
from ecom.data.load import read_folder, to_contract
from ecom.targets.duckdb import DuckDBTarget
from tests.conftest import FIXTURES, assert_same_rows, scenario_vars
from tests.services import free_port, run_installer, stop

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / ".ci" / "install-emulator.sh"
PROJECT = "test-project"


@dataclass(frozen=True)
class Emulator:
    endpoint: str  # REST root, e.g. http://127.0.0.1:PORT
    storage_endpoint: str  # gRPC host:port of the Storage Read API
    project: str
    pid: int

    def env(self) -> dict[str, str]:
        """Environment variables that point `ecom --target bigquery` at this emulator."""
        return {
            "BIGQUERY_EMULATOR_HOST": self.endpoint,
            "ECOM_BQ_STORAGE_EMULATOR_HOST": self.storage_endpoint,
            "ECOM_BQ_PROJECT": self.project,
        }

    def target(self, **settings: Any) -> Any:
        """A BigQueryTarget on this emulator (Storage Read API included), ignoring any ecom.toml."""
        return bigquery_target(
            project=self.project,
            endpoint=self.endpoint,
            storage_endpoint=self.storage_endpoint,
            config_dir="/nonexistent",
            **settings,
        )


def bigquery_target(config_dir: str | Path | None = None, **given: Any) -> Any:
    """A BigQueryTarget of these settings, as flags give them (`project=`, `dataset=`, `sources=`...),
    over the environment and the ecom.toml in `config_dir` (default: the working folder)."""
    from ecom.targets.bigquery.config import resolve_config
    from ecom.targets.bigquery.target import BigQueryTarget

    return BigQueryTarget(resolve_config(given, folder=Path(config_dir) if config_dir else None))


def start_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator, started, until the generator is closed: tests/conftest.py's `bq_emulator`."""
    exe, why = run_installer(INSTALL)
    if exe is None:
        pytest.skip(f"BigQuery emulator not available: {why or 'no Python >= 3.13'}")
    port, grpc_port = free_port(), free_port()
    data_dir = tmp_path_factory.mktemp("bq-emulator")
    log = (data_dir / "emulator.log").open("w")
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--grpc-port",
            str(grpc_port),
            "--project",
            PROJECT,
            "--data-dir",
            str(data_dir),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                output = (data_dir / "emulator.log").read_text()[-2000:]
                pytest.fail(f"the BigQuery emulator exited ({proc.returncode}): {output}")
            try:
                with urllib.request.urlopen(f"{url}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the BigQuery emulator did not answer within 60 s")
                time.sleep(0.2)
        yield Emulator(url, f"127.0.0.1:{grpc_port}", PROJECT, proc.pid)
    finally:
        stop(proc)
        log.close()


def drop_datasets(target: Any, *datasets: str) -> None:
    """Delete datasets a test made on the emulator, tables and all. Every statement the emulator runs
    scans its whole catalog (a CREATE TABLE costs ~0.15 s of its CPU beside 1 table, ~1 s beside 300),
    so the tests after this one on the worker's emulator run that much faster."""
    for dataset in datasets:
        target.client.delete_dataset(f"{target.project}.{dataset}", delete_contents=True, not_found_ok=True)


def queries_sent(client: Any, since: dt.datetime) -> list[Any]:
    """The query jobs (dry runs aside) sent to the emulator since `since`, parsed: what BigQuery bills."""
    import sqlglot

    jobs = client.list_jobs(min_creation_time=since)
    queries = [job.query for job in jobs if getattr(job, "query", None) and not getattr(job, "dry_run", False)]
    return [sqlglot.parse_one(sql, read="bigquery") for sql in queries]


def raw_columns_queried(client: Any, since: dt.datetime) -> set[str]:
    """The raw tables' columns named by the query jobs sent to the emulator since `since`: what
    BigQuery bills them for reading, the raw tables being by far the largest."""
    from sqlglot import exp

    raw = {c for schema in RAW_SCHEMAS.values() for c in schema.names}
    return raw & {c.name for query in queries_sent(client, since) for c in query.find_all(exp.Column)}


# ecom's own small tables beside the models: BigQuery bills each query at least 10 MB, however small
STATE_TABLES = {VARS_TABLE, BUILD_TABLE, RUNS_TABLE, STATE_TABLE, PARTITIONS_TABLE}


def state_tables_read(client: Any, since: dt.datetime) -> dict[str, int]:
    """How many query jobs sent to the emulator since `since` read each of ecom's state tables."""
    from sqlglot import exp

    read = [STATE_TABLES & {t.name for t in query.find_all(exp.Table)} for query in queries_sent(client, since)]
    return dict(Counter(name for names in read for name in names))


# The models whose edge cases each fixture scenario holds (fixtures/README.md), with their ancestors:
# what its emulator build selects. The emulator is a second translator of BigQuery SQL to DuckDB, and
# its cost is per model, not per row: every model is built on it in full by tests/test_bigquery.py's
# build of tiny_raw, and on every scenario by the dialect cross-check (tests/test_dialects.py).
SCENARIO_MODELS = {
    "attribution": ["+fact_attribution_models", "+fact_funnel_daily", "+fact_channel_economics"],
    "customers": ["+dim_customer_segments", "+fact_cohort_retention", "+int_user_acquisition"],
    "marketing": ["+fact_campaign_performance"],
    "sales": ["+fact_daily_pnl_advanced", "+fact_product_performance", "+fact_inventory_forecast"],
    "sessions": ["+fact_session_metrics", "+fact_funnel_daily"],
    "staging": ["staging"],
}


def assert_scenario_equals_duckdb(
    project: Project, target: Any, scenario: str, values: dict[str, Any], folder: Path
) -> None:
    """fixtures/<scenario>'s models (SCENARIO_MODELS), built on `target` at `values`, equal the same
    models built on DuckDB as `ecom build` does, at the scenario's vars.yml (which must resolve to
    `values`). The emulator's rows are read as stored (tabledata.list): no query job, a quarter of
    the emulator's time (the models' reads through ibis are tests/test_bigquery.py's)."""
    selected = project.select(SCENARIO_MODELS[scenario])
    duck = DuckDBTarget(folder / "ecom.duckdb")
    duck.write_raw(read_folder(FIXTURES / scenario))
    engine.validate_sources(duck)
    engine.validate_values(duck, engine.raw_tables_read(project, duck, selected))
    assert engine.target_vars(project, duck, scenario_vars(scenario)) == values
    engine.build(project, duck, selected, values)
    for name in selected:
        rows = target.client.list_rows(f"{target.project}.{target.models.database}.{name}")
        theirs, ours = rows.to_arrow(create_bqstorage_client=False), duck.table(name).to_pyarrow()
        assert_same_rows(theirs, ours, project.models[name].key, name)
    duck.close()


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without anything that points at BigQuery, credentials or an emulator."""
    drop = ("GOOGLE_", "BIGQUERY_", "ECOM_BQ_", "GCE_METADATA", "CLOUDSDK_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def product_copy(product: dict) -> dict:
    """The product's columns an inventory unit carries (thelook copies them onto every unit)."""
    return {
        "cost": product["cost"],
        "product_category": product["category"],
        "product_name": product["name"],
        "product_brand": product["brand"],
        "product_retail_price": product["retail_price"],
        "product_department": product["department"],
        "product_sku": product["sku"],
        "product_distribution_center_id": product["distribution_center_id"],
    }


def tiny_raw(seed: int = 7) -> dict[str, pa.Table]:
    """A small, deterministic, referentially complete raw dataset in the contract's types.

    About 12 users, 30 orders, 60 events, 4 months of marketing spend: enough for every model to have
    rows (cancelled and returned items, anonymous sessions, spend on every platform), small enough
    for the emulator to build the whole project in seconds.
    """
    rnd = random.Random(seed)
    utc = dt.UTC
    start = dt.datetime(2024, 1, 1, tzinfo=utc)

    def at(day: float) -> dt.datetime:
        return start + dt.timedelta(seconds=round(day * 86400))

    centers = [{"id": i, "name": f"DC {i}", "latitude": 30.0 + i, "longitude": -90.0 - i} for i in (1, 2)]
    products = []
    for pid in range(1, 9):
        retail = round(rnd.uniform(10, 120), 2)
        products.append(
            {
                "id": pid,
                "cost": round(retail * rnd.uniform(0.3, 0.6), 4),
                "category": rnd.choice(["Jeans", "Tops", "Socks"]),
                "name": f"Product {pid}",
                "brand": rnd.choice(["Acme", "Globex", None]),
                "retail_price": retail,
                "department": rnd.choice(["Men", "Women"]),
                "sku": f"SKU{pid:04d}",
                "distribution_center_id": 1 + pid % 2,
            }
        )
    user_sources = ["Search", "Organic", "Facebook", "Email", "Display"]
    users = [
        {
            "id": uid,
            "first_name": f"F{uid}",
            "last_name": f"L{uid}",
            "email": f"u{uid}@example.com",
            "age": rnd.randint(18, 70),
            "gender": rnd.choice("MF"),
            "state": "Texas",
            "street_address": f"{uid} Main St",
            "postal_code": f"7{uid:04d}",
            "city": "Austin",
            "country": "United States",
            "latitude": 30.2,
            "longitude": -97.7,
            "traffic_source": rnd.choice(user_sources),
            "created_at": at(rnd.uniform(0, 20)),
        }
        for uid in range(1, 13)
    ]
    event_sources = ["Email", "Adwords", "Organic", "YouTube", "Facebook"]
    orders, items, inventory, events = [], [], [], []
    for oid in range(1, 31):
        user = users[(oid * 5) % len(users)]
        created = at(rnd.uniform(21, 110))
        status = rnd.choice(["Processing", "Shipped", "Complete", "Returned", "Cancelled"])
        shipped = (
            created + dt.timedelta(hours=rnd.randint(5, 60)) if status in ("Shipped", "Complete", "Returned") else None
        )
        delivered = shipped + dt.timedelta(days=rnd.randint(1, 5)) if status in ("Complete", "Returned") else None
        returned = delivered + dt.timedelta(days=rnd.randint(1, 9)) if status == "Returned" else None
        n = rnd.randint(1, 3)
        orders.append(
            {
                "order_id": oid,
                "user_id": user["id"],
                "status": status,
                "gender": user["gender"],
                "created_at": created,
                "returned_at": returned,
                "shipped_at": shipped,
                "delivered_at": delivered,
                "num_of_item": n,
            }
        )
        session = f"s-{oid}"
        source = rnd.choice(event_sources)
        for seq, kind in enumerate(["home", "product", "cart", "purchase"], start=1):
            events.append(
                {
                    "id": len(events) + 1,
                    "user_id": user["id"],
                    "sequence_number": seq,
                    "session_id": session,
                    "created_at": created - dt.timedelta(minutes=10 * (4 - seq)),
                    "ip_address": "10.0.0.1",
                    "city": "Austin",
                    "state": "Texas",
                    "postal_code": "78701",
                    "browser": "Chrome",
                    "traffic_source": source,
                    "uri": f"/{kind}",
                    "event_type": kind,
                }
            )
        for _ in range(n):
            product = rnd.choice(products)
            inv_id = len(inventory) + 1
            inventory.append(
                {
                    "id": inv_id,
                    "product_id": product["id"],
                    "created_at": created - dt.timedelta(days=rnd.randint(5, 20)),
                    "sold_at": created,
                    **product_copy(product),
                }
            )
            items.append(
                {
                    "id": len(items) + 1,
                    "order_id": oid,
                    "user_id": user["id"],
                    "product_id": product["id"],
                    "inventory_item_id": inv_id,
                    "status": status,
                    "created_at": created,
                    "shipped_at": shipped,
                    "delivered_at": delivered,
                    "returned_at": returned,
                    "sale_price": product["retail_price"],
                }
            )
    for product in products:  # unsold stock
        for _ in range(3):
            inventory.append(
                {
                    **inventory[0],
                    "id": len(inventory) + 1,
                    "product_id": product["id"],
                    "created_at": at(rnd.uniform(0, 100)),
                    "sold_at": None,
                    **product_copy(product),
                }
            )
    for k in range(8):  # anonymous browsing
        t = at(rnd.uniform(21, 110))
        events.append(
            {
                **events[0],
                "id": len(events) + 1,
                "user_id": None,
                "sequence_number": 1,
                "session_id": f"anon-{k}",
                "created_at": t,
                "traffic_source": rnd.choice(event_sources),
                "uri": "/home",
                "event_type": "home",
            }
        )
    spend = []
    for day in range(0, 120, 3):
        for platform in ("Google", "Facebook", "YouTube", "Email"):
            spend.append(
                {
                    "date": (start + dt.timedelta(days=day)).date(),
                    "campaign_id": f"campaign_{day % 4}",
                    "platform": platform,
                    "spend": round(rnd.uniform(5, 50), 2),
                    "clicks": rnd.randint(0, 40),
                    "impressions": rnd.randint(100, 900),
                }
            )
    rows = {
        "orders": orders,
        "order_items": items,
        "products": products,
        "users": users,
        "events": events,
        "inventory_items": inventory,
        "distribution_centers": centers,
        "marketing_spend": spend,
    }
    return {
        name: to_contract(name, pa.Table.from_pylist(rows[name], schema=RAW_SCHEMAS[name].to_pyarrow()))
        for name in RAW_SCHEMAS
    }
