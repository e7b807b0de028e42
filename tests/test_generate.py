"""`ecom generate`: deterministic, thelook-shaped, contract-conforming, atomic.

Expected figures are computed from the generator's stated weights (module docstring of
ecom.data.generate), not read from its output:
- orders per user: 0*.2 + 1*.5 + 2*.2 + 3*.05 + 4*.05 = 1.25
- items per order: 1*.7 + 2*.2 + 3*.05 + 4*.05 = 1.45
- identified events per order: single-item 5; an n-item order has n sessions of 3n + 1 events:
  .7*5 + .2*2*7 + .05*3*10 + .05*4*13 = 3.5 + 2.8 + 1.5 + 2.6 = 10.4 -> 10.4 * 1.25 = 13 per user
- anonymous events per user: 5 sessions * (1*.25 + 2*.25 + 3*.5 = 2.25) = 11.25
- anonymous share: 11.25 / (13 + 11.25) = 46.4 %; events per user 24.25
- inventory units per item: 1 sold + (1*.5 + 2*.3 + 3*.2 = 1.7) unsold = 2.7; sold share 1/2.7 = 37.0 %
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom.core import engine
from ecom.core.sources import RAW_SCHEMAS, check_schema
from ecom.data import calibration, constants
from ecom.data import generate as gen
from ecom.data.load import read_folder
from ecom.targets.duckdb import DuckDBTarget

SCALE = 0.02  # 2,000 users
END = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One small generation written both to DuckDB and to Parquet."""
    folder = tmp_path_factory.mktemp("gen")
    target = DuckDBTarget(folder / "gen.duckdb")
    seen: Counter = Counter()

    def progress(table: str, rows: int) -> None:
        seen[table] += rows

    counts = gen.run(SCALE, 3, END, target, folder / "parquet", progress)
    tables = {t: pq.read_table(folder / "parquet" / f"{t}.parquet") for t in RAW_SCHEMAS}
    yield {"counts": counts, "progress": seen, "target": target, "tables": tables, "folder": folder}
    target.close()


def sql(generated, query: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in generated["tables"].items():
        con.register(name, table)
    return con.execute(query).fetchall()


def test_same_inputs_give_identical_tables(tmp_path):
    gen.run(0.05, 7, gen.DEFAULT_END_DATE, None, tmp_path / "a")
    gen.run(0.05, 7, gen.DEFAULT_END_DATE, None, tmp_path / "b")
    gen.run(0.05, 8, gen.DEFAULT_END_DATE, None, tmp_path / "c")
    for t in RAW_SCHEMAS:
        a, b = pq.read_table(tmp_path / "a" / f"{t}.parquet"), pq.read_table(tmp_path / "b" / f"{t}.parquet")
        assert a.equals(b), t
    # another seed gives other data (distribution centers are fixed reference data)
    differs = [
        t
        for t in RAW_SCHEMAS
        if not pq.read_table(tmp_path / "a" / f"{t}.parquet").equals(pq.read_table(tmp_path / "c" / f"{t}.parquet"))
    ]
    assert set(differs) == set(RAW_SCHEMAS) - {"distribution_centers"}


def test_duckdb_and_parquet_hold_the_same_rows_and_counts(generated):
    target = generated["target"]
    for t, table in generated["tables"].items():
        assert generated["counts"][t] == table.num_rows == generated["progress"][t]
        assert target.source(t).to_pyarrow().equals(table), t


def test_contract_types_and_load_round_trip(generated):
    for t, table in generated["tables"].items():
        assert table.schema == RAW_SCHEMAS[t].to_pyarrow(), t
        assert check_schema(t, generated["target"].raw_schema(t)) == [], t
    engine.validate_sources(generated["target"])
    engine.validate_values(generated["target"], RAW_SCHEMAS)
    loaded = read_folder(generated["folder"] / "parquet")
    for t, table in generated["tables"].items():
        assert loaded[t].equals(table), t


def test_row_counts_near_the_stated_figures(generated):
    c = generated["counts"]
    users = 2_000
    assert c["users"] == users
    assert c["products"] == 29_120 and c["distribution_centers"] == 10
    assert c["orders"] == pytest.approx(users * 1.25, rel=0.05)
    assert c["order_items"] / c["orders"] == pytest.approx(1.45, rel=0.05)
    assert c["events"] == pytest.approx(users * 24.25, rel=0.06)
    assert c["inventory_items"] / c["order_items"] == pytest.approx(2.7, rel=0.03)
    assert c["marketing_spend"] > 0


def shares(rows: list[tuple]) -> dict:
    total = sum(n for _, n in rows)
    return {k: n / total for k, n in rows}


def test_shares_near_the_stated_weights(generated):
    status = shares(sql(generated, "select status, count(*) from orders group by 1"))
    assert status == pytest.approx(dict(zip(constants.STATUSES, constants.STATUS_WEIGHTS, strict=True)), abs=0.03)
    source = shares(
        sql(
            generated,
            "select traffic_source, count(*) from (select distinct session_id, traffic_source from events) group by 1",
        )
    )
    assert source == pytest.approx(
        dict(zip(constants.EVENT_SOURCES, constants.EVENT_SOURCE_WEIGHTS, strict=True)), abs=0.02
    )
    browser = shares(
        sql(generated, "select browser, count(*) from (select distinct session_id, browser from events) group by 1")
    )
    assert browser == pytest.approx(dict(zip(constants.BROWSERS, constants.BROWSER_WEIGHTS, strict=True)), abs=0.02)
    anonymous = shares(sql(generated, "select user_id is null, count(*) from events group by 1"))[True]
    assert anonymous == pytest.approx(11.25 / 24.25, abs=0.03)
    sold = shares(sql(generated, "select sold_at is not null, count(*) from inventory_items group by 1"))[True]
    assert sold == pytest.approx(1 / 2.7, abs=0.02)
    user_source = shares(sql(generated, "select traffic_source, count(*) from users group by 1"))
    assert user_source == pytest.approx(
        dict(zip(constants.USER_SOURCES, constants.USER_SOURCE_WEIGHTS, strict=True)), abs=0.03
    )
    country = shares(sql(generated, "select country, count(*) from users group by 1"))
    assert country["China"] == pytest.approx(0.34 / 0.975, abs=0.04)  # weights sum to 0.975
    assert country["United States"] == pytest.approx(0.22 / 0.975, abs=0.04)
    men = sql(generated, "select count(*) from products where department = 'Men'")[0][0]
    assert men == 13_131


def test_orders_items_and_inventory_are_consistent(generated):
    # NULLs follow status exactly; item copies its order's status and times; num_of_item = item count
    bad = sql(
        generated,
        """
        select o.order_id from orders o join order_items i using (order_id)
        group by o.order_id, o.user_id, o.status, o.num_of_item, o.created_at, o.shipped_at, o.delivered_at,
                 o.returned_at
        having count(*) <> o.num_of_item
            or bool_or(i.status <> o.status or i.shipped_at is distinct from o.shipped_at
                       or i.delivered_at is distinct from o.delivered_at
                       or i.returned_at is distinct from o.returned_at or i.user_id <> o.user_id)
            or (o.status in ('Processing', 'Cancelled')
                and (o.shipped_at is not null or o.delivered_at is not null or o.returned_at is not null))
            or (o.status = 'Shipped' and (o.shipped_at is null or o.delivered_at is not null
                                          or o.returned_at is not null))
            or (o.status = 'Complete' and (o.delivered_at is null or o.returned_at is not null))
            or (o.status = 'Returned' and o.returned_at is null)
            or o.shipped_at < o.created_at or o.delivered_at < o.shipped_at or o.returned_at < o.delivered_at
        """,
    )
    assert bad == []
    # no order after end_date (the end of END is 2024-07-01 00:00 UTC)
    assert sql(generated, "select max(created_at) < timestamptz '2024-07-01 00:00:00+00' from orders")[0][0]
    assert (
        sql(
            generated,
            "select count(*) from orders o join users u on o.user_id = u.id where o.created_at < u.created_at",
        )[0][0]
        == 0
    )
    # item times: single-item up to 4 h before the order; multi-item up to 4 days after
    lo, hi = sql(
        generated,
        "select min(epoch(i.created_at - o.created_at)), max(epoch(i.created_at - o.created_at)) "
        "from order_items i join orders o using (order_id) where o.num_of_item = 1",
    )[0]
    assert lo >= -4 * 3600 and hi <= 0
    lo, hi = sql(
        generated,
        "select min(epoch(i.created_at - o.created_at)), max(epoch(i.created_at - o.created_at)) "
        "from order_items i join orders o using (order_id) where o.num_of_item > 1",
    )[0]
    assert lo >= -4 * 3600 and hi <= 4 * 86400
    # the item's inventory unit is its sold unit of the same product, sold at the item's time
    assert (
        sql(
            generated,
            """select count(*) from order_items i left join inventory_items u on u.id = i.inventory_item_id
           where u.id is null or u.product_id <> i.product_id or u.sold_at <> i.created_at
              or u.created_at > u.sold_at or u.created_at < u.sold_at - interval 60 day""",
        )[0][0]
        == 0
    )
    assert (
        sql(generated, "select count(*) from inventory_items where sold_at is not null")[0][0]
        == sql(generated, "select count(*) from order_items")[0][0]
    )
    # prices: sale = retail; inventory cost = product cost; cost 0.33-0.67 of retail
    assert (
        sql(
            generated,
            """select count(*) from order_items i join products p on p.id = i.product_id
           left join inventory_items u on u.product_id = p.id
           where i.sale_price <> p.retail_price or u.cost <> p.cost""",
        )[0][0]
        == 0
    )
    lo, hi = sql(generated, "select min(cost / retail_price), max(cost / retail_price) from products")[0]
    assert lo >= 0.33 and hi <= 0.67
    # a user's items come from the user's gender department
    assert (
        sql(
            generated,
            """select count(*) from order_items i join users u on u.id = i.user_id
                             join products p on p.id = i.product_id
                             where (u.gender = 'M') <> (p.department = 'Men')""",
        )[0][0]
        == 0
    )


def test_events_follow_the_funnel(generated):
    # identified sessions end in a purchase; anonymous ones never do
    assert (
        sql(
            generated,
            """select count(*) from (select session_id, bool_or(event_type = 'purchase') p,
                             any_value(user_id is null) anon from events group by 1) where p = anon""",
        )[0][0]
        == 0
    )
    # one identified session per item, and sequence numbers 1..n in time order within a session
    (sessions,) = sql(generated, "select count(distinct session_id) from events where user_id is not null")[0]
    assert sessions == generated["counts"]["order_items"]
    assert (
        sql(
            generated,
            """select count(*) from (select session_id, max(sequence_number) m, count(*) n,
                             count(distinct sequence_number) d from events group by 1) where m <> n or d <> n""",
        )[0][0]
        == 0
    )
    assert (
        sql(
            generated,
            """select count(*) from (select created_at < lag(created_at) over
                             (partition by session_id order by sequence_number) back from events) where back""",
        )[0][0]
        == 0
    )
    types = {r[0] for r in sql(generated, "select distinct event_type from events")}
    assert types == set(constants.EVENT_TYPES)
    assert (
        sql(
            generated,
            """select count(*) from events where not (
                             (event_type = 'home' and uri = '/home') or (event_type = 'cart' and uri = '/cart')
                             or (event_type = 'purchase' and uri = '/purchase')
                             or (event_type = 'cancel' and uri = '/cancel')
                             or (event_type = 'product' and regexp_full_match(uri, '/product/[0-9]+'))
                             or (event_type = 'department' and uri like '/department/%/category/%/brand/%'))""",
        )[0][0]
        == 0
    )
    # ids are 1..n; session ids look like uuids
    assert sql(generated, "select min(id), max(id), count(distinct id), count(*) from events")[0][1:3] == (
        generated["counts"]["events"],
        generated["counts"]["events"],
    )
    assert (
        sql(
            generated,
            """select count(*) from events where not regexp_full_match(session_id,
                             '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}')""",
        )[0][0]
        == 0
    )


def test_marketing_spend_rows_campaigns_and_clicks(generated):
    rows = sql(generated, "select date, platform, campaign_id from marketing_spend")
    assert len(rows) == len(set(rows))  # one row per (date, platform, campaign_id)
    assert {r[1] for r in rows} == {"Google", "Facebook", "YouTube", "Email"}
    (first_order,) = sql(generated, "select min(created_at)::date from orders")[0]
    assert min(r[0] for r in rows) == first_order and max(r[0] for r in rows) == END
    # every platform has at least one campaign every day, and several campaigns run at once
    per_day = Counter((r[0], r[1]) for r in rows)
    days = (END - first_order).days + 1
    assert len(per_day) == 4 * days
    assert max(per_day.values()) >= 3
    # campaign ids name their platform and quarter; each campaign runs between its start and end
    for d, platform, campaign in rows[:500]:
        assert campaign.startswith(platform.lower() + "_")
        assert campaign.endswith(f"_{d.year}q{(d.month - 1) // 3 + 1}")
    assert sql(generated, "select count(*) from marketing_spend where spend < 0 or impressions < clicks")[0][0] == 0
    # clicks follow the sessions of the platform's traffic source: Σ clicks ≈ sessions x clicks/session
    sessions = dict(sql(generated, "select traffic_source, count(distinct session_id) from events group by 1"))
    clicks = dict(sql(generated, "select platform, sum(coalesce(clicks, 0)) from marketing_spend group by 1"))
    for p in calibration.PLATFORMS:
        # sessions before the first order date earn no clicks; noise mean exp(.25^2/2) = 1.03
        assert clicks[p.name] == pytest.approx(sessions[p.source] * p.clicks_per_session, rel=0.15), p.name


def test_staging_models_build_on_generated_data(generated, project):
    target = generated["target"]
    staging = [n for n in project.order if n.startswith("stg_")]
    values = engine.target_vars(project, target, {})
    assert values["as_of"] == END  # the latest order date
    results = engine.build(project, target, staging, values)
    rows = {r.name: r.rows for r in results}
    assert rows["stg_orders"] == generated["counts"]["orders"]
    assert rows["stg_order_items"] == generated["counts"]["order_items"]
    assert rows["stg_users"] == generated["counts"]["users"]
    failed = [r for r in engine.run_tests(engine.generic_tests(project, staging), target.table) if r.status != "pass"]
    assert failed == []


def test_several_chunks_keep_ids_running(monkeypatch, tmp_path):
    """Several chunks (CHUNK_USERS shrunk) keep ids running and counts adding up."""
    monkeypatch.setattr(gen, "CHUNK_USERS", 300)
    counts = gen.run(0.01, 5, END, None, tmp_path)
    for t in ("users", "orders", "order_items", "events", "inventory_items"):
        table = pq.read_table(tmp_path / f"{t}.parquet")
        key = "order_id" if t == "orders" else "id"
        ids = np.sort(table[key].to_numpy())
        assert counts[t] == len(ids) and (ids == np.arange(1, len(ids) + 1)).all(), t
    items = pq.read_table(tmp_path / "order_items.parquet")
    units = pq.read_table(tmp_path / "inventory_items.parquet")
    sold = dict(zip(units["id"].to_pylist(), units["sold_at"].to_pylist(), strict=True))
    assert [sold[u] for u in items["inventory_item_id"].to_pylist()] == items["created_at"].to_pylist()


@pytest.mark.parametrize("scale", [0, -1, math.nan, math.inf])
def test_bad_scale_is_a_readable_error(scale, tmp_path):
    with pytest.raises(ValueError, match="scale must be a positive number"):
        gen.run(scale, 1, END, None, tmp_path)
    assert not any(tmp_path.iterdir())


def test_a_scale_that_cannot_fit_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    """250 MB per unit of scale into DuckDB, 70 MB into Parquet (gen.BYTES_PER_SCALE), added up on
    one file system: with 1 GB free, scale 3 fits DuckDB and Parquet (960 MB), scale 4 only Parquet."""
    target = DuckDBTarget(tmp_path / "x.duckdb")
    gen.run(0.002, 1, END, target)
    before = target.source("users").to_pyarrow()
    free = shutil.disk_usage(tmp_path)._replace(free=10**9)
    monkeypatch.setattr(gen.shutil, "disk_usage", lambda where: free)
    gen._refuse_what_cannot_fit(3, tmp_path, tmp_path / "new" / "pq")  # 750 + 210 MB
    gen._refuse_what_cannot_fit(14, None, tmp_path / "pq")  # 980 MB
    with pytest.raises(gen.GenerateError) as refused:
        gen.run(4, 1, END, target, tmp_path / "pq")  # 1,000 + 280 MB
    assert str(refused.value) == (
        f"--scale 4 needs at least 1.3 GB free at {tmp_path}, which has 1.0 GB: choose a smaller --scale, "
        "or free some space"
    )
    assert target.source("users").to_pyarrow().equals(before)
    assert not (tmp_path / "pq").exists() and not list(tmp_path.glob(".x.duckdb.ecom-*"))  # no Parquet, no scratch
    target.close()


def test_failure_leaves_raw_tables_and_parquet_as_they_were(tmp_path):
    target = DuckDBTarget(tmp_path / "x.duckdb")
    gen.run(0.005, 1, END, target, tmp_path / "pq")
    before = {t: target.source(t).to_pyarrow() for t in RAW_SCHEMAS}
    files = {t: (tmp_path / "pq" / f"{t}.parquet").read_bytes() for t in RAW_SCHEMAS}

    def explode(table: str, rows: int) -> None:
        if table == "events":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        gen.run(0.01, 2, END, target, tmp_path / "pq", explode)
    for t in RAW_SCHEMAS:
        assert target.source(t).to_pyarrow().equals(before[t]), t
        assert (tmp_path / "pq" / f"{t}.parquet").read_bytes() == files[t], t
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == sorted(f"{t}.parquet" for t in RAW_SCHEMAS)
    assert not list(tmp_path.glob(".x.duckdb.ecom-*")), "the DuckDB sink's scratch folder is removed"
    # and the connection is usable afterwards
    assert isinstance(target.source("orders").count().execute(), int | np.integer)
    target.close()


def test_default_end_date_is_fixed(tmp_path):
    """Without --end-date, `ecom generate` ends on a fixed date, never today: the same command gives
    the same data on any day."""
    from typer.testing import CliRunner

    from ecom.cli import app

    args = ["generate", "--scale", "0.002", "--seed", "4", "--no-duckdb", "--parquet", str(tmp_path / "cli")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # The fixed date written out by hand (docs/report.md's screenshots are built at it): comparing
    # with gen.DEFAULT_END_DATE would pass even if that constant were today's date.
    gen.run(0.002, 4, dt.date(2025, 12, 31), None, tmp_path / "fixed")
    for t in RAW_SCHEMAS:
        assert pq.read_table(tmp_path / "cli" / f"{t}.parquet").equals(
            pq.read_table(tmp_path / "fixed" / f"{t}.parquet")
        )


def test_platform_roas_is_calibrated(generated):
    """Last touch approximated on the source sessions (the latest session starting within 24 h
    before the order; revenue of items neither cancelled nor returned): each platform's ROAS falls
    in the range the generator is calibrated for, Email highest and Facebook lowest."""
    rows = sql(
        generated,
        """
        with sessions as (
            select user_id, session_id, min(created_at) as started, arg_min(traffic_source, created_at) as source
            from events where user_id is not null group by all
        ), orders_ as (
            select o.order_id, o.user_id, o.created_at,
                   sum(case when i.status not in ('Cancelled', 'Returned') then i.sale_price else 0 end) as net
            from orders o join order_items i using (order_id) group by all having bool_or(i.status <> 'Cancelled')
        ), touch as (
            select o.net, s.source from orders_ o join sessions s
              on s.user_id = o.user_id and s.started <= o.created_at and s.started >= o.created_at - interval 24 hour
            qualify row_number() over (partition by o.order_id order by s.started desc, s.session_id desc) = 1
        ), revenue as (
            select case source when 'Adwords' then 'Google' else source end as platform, sum(net) as revenue
            from touch group by all
        )
        select platform, revenue / (select sum(spend) from marketing_spend m where m.platform = r.platform)
        from revenue r where platform <> 'Organic'
        """,
    )
    roas = dict(rows)
    for platform, (lo, hi) in calibration.EXPECTED_ROAS.items():
        assert lo <= roas[platform] <= hi, (platform, roas)
    assert roas["Email"] > roas["Google"] > roas["YouTube"] > roas["Facebook"]


def test_cli_generate_writes_duckdb_and_parquet(tmp_path):
    from typer.testing import CliRunner

    from ecom.cli import app

    db, folder = tmp_path / "e.duckdb", tmp_path / "pq"
    args = ["generate", "--scale", "0.002", "--seed", "4", "--end-date", "2024-06-30"]
    result = CliRunner().invoke(app, [*args, "--path", str(db), "--parquet", str(folder)])
    assert result.exit_code == 0, result.output
    expected = gen.run(0.002, 4, END, None, tmp_path / "direct")
    target = DuckDBTarget(db)
    for t, rows in expected.items():
        assert target.source(t).count().execute() == rows == pq.read_table(folder / f"{t}.parquet").num_rows, t
    target.close()


def test_cli_generate_replaces_only_the_raw_tables_it_wrote_unless_told(tmp_path):
    """It replaced a loaded export without a word (2,499 orders of thelook became 1,232, exit 0)."""
    from typer.testing import CliRunner

    from ecom.cli import app
    from tests.conftest import FIXTURES

    runner, db = CliRunner(), tmp_path / "ecom.duckdb"
    generate = ["generate", "--scale", "0.002", "--seed", "4", "--path", str(db)]
    assert runner.invoke(app, ["load", str(FIXTURES / "sales"), "--path", str(db)]).exit_code == 0

    def users() -> list:
        target = DuckDBTarget(db)
        ids = sorted(target.source("users").id.to_pyarrow().to_pylist())
        target.close()
        return ids

    loaded = users()
    result = runner.invoke(app, generate)
    assert result.exit_code == 1
    every = ", ".join(RAW_SCHEMAS)  # all eight were loaded
    assert " ".join(result.stderr.split()) == (
        f"error: raw {every} in {db} carry no mark of ecom generate (loaded with `ecom load`, calibrated by `ecom "
        "spend`, or generated before ecom marked its tables): generating would replace it all; pass --replace if "
        "that is meant, or give another --path"
    )
    assert users() == loaded
    assert runner.invoke(app, [*generate, "--replace"]).exit_code == 0
    assert len(users()) == 200  # 0.002 x 100,000
    assert runner.invoke(app, generate).exit_code == 0  # its own data: replaced freely
    assert runner.invoke(app, ["spend", "--replace", "--path", str(db)]).exit_code == 0
    result = runner.invoke(app, generate)
    assert result.exit_code == 1
    assert f"error: raw marketing_spend in {db} carries no mark of ecom generate" in " ".join(result.stderr.split())
    # a raw view (a user's, over their files) is theirs too: refused first, replaced by a table when told
    assert runner.invoke(app, [*generate, "--replace"]).exit_code == 0
    with duckdb.connect(str(db)) as con:
        con.execute("ALTER TABLE raw.orders RENAME TO generated_orders")
        con.execute("CREATE VIEW raw.orders AS SELECT * FROM raw.generated_orders")
    result = runner.invoke(app, generate)
    assert result.exit_code == 1
    assert f"error: raw orders in {db} carries no mark of ecom generate" in " ".join(result.stderr.split())
    assert runner.invoke(app, [*generate, "--replace"]).exit_code == 0  # DuckDB refused to replace a view
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'raw'").fetchone() == (0,)


def test_cli_generate_replaces_only_the_parquet_files_it_wrote_unless_told(tmp_path):
    """--parquet over a folder holding an export replaced its files without a word, exit 0: the
    Parquet case of the raw tables generate did not write."""
    from typer.testing import CliRunner

    from ecom.cli import app

    runner, folder = CliRunner(), tmp_path / "export"
    folder.mkdir()
    export = pa.table({"id": [1, 2, 3]})  # an export's file (any content: it is not generate's)
    pq.write_table(export, folder / "orders.parquet")
    (folder / "users.parquet").write_text("not even Parquet")
    generate = ["generate", "--scale", "0.002", "--seed", "4", "--no-duckdb", "--parquet", str(folder)]
    result = runner.invoke(app, generate)
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: --parquet {folder}: orders.parquet, users.parquet carry no mark of ecom generate (an export, or "
        "generated before ecom marked its files): generating would replace them; pass --replace if that is meant, "
        "or give another folder"
    )
    assert pq.read_table(folder / "orders.parquet").equals(export)
    assert (folder / "users.parquet").read_text() == "not even Parquet"
    assert runner.invoke(app, [*generate, "--replace"]).exit_code == 0
    assert pq.read_table(folder / "users.parquet").num_rows == 200  # 0.002 x 100,000
    assert runner.invoke(app, generate).exit_code == 0  # its own files: replaced freely


def test_a_file_it_cannot_write_is_named():
    """Two `ecom generate --parquet` into one folder: one said only "No such file or directory"
    (the other had renamed their shared temporary file)."""
    missing = FileNotFoundError(2, "No such file or directory", "/data/pq/.orders.parquet.tmp")
    with pytest.raises(gen.GenerateError) as refused:
        gen._raise_write_error(missing)
    assert str(refused.value) == (
        "cannot write the generated data (/data/pq/.orders.parquet.tmp): No such file or directory; "
        "nothing was replaced"
    )


def test_a_second_run_into_a_folder_being_written_is_refused_and_replaces_nothing(tmp_path):
    """Two `ecom generate --parquet` into one folder shared their temporary files: the first to end
    renamed into place files both had written into ("ZSTD decompression failed" reading them) and
    exited 0; the other said nothing was replaced. The folder is locked while a run writes it."""
    folder = tmp_path / "pq"
    gen.run(0.002, 1, END, None, folder)
    before = {t: (folder / f"{t}.parquet").read_bytes() for t in RAW_SCHEMAS}
    first = gen._ParquetSink(folder, f"{gen.GENERATED} (a run still writing)")
    with pytest.raises(gen.GenerateError) as refused:
        gen.run(0.002, 2, END, None, folder)
    assert str(refused.value) == (
        f"--parquet {folder}: another `ecom generate` is writing into it; nothing was replaced: "
        "wait for it to end, or give another folder"
    )
    assert {t: (folder / f"{t}.parquet").read_bytes() for t in RAW_SCHEMAS} == before
    first.close()
    first.commit()  # the first run's files are its own (it wrote no row) and whole; the folder is free again
    assert all(pq.read_table(folder / f"{t}.parquet").num_rows == 0 for t in RAW_SCHEMAS)
    assert gen.run(0.002, 2, END, None, folder)["users"] == 200  # 0.002 x 100,000


def test_a_folder_without_locks_is_written_as_before(tmp_path, monkeypatch):
    """On a file system without locks (NFS without lockd: ENOLCK) the lock was refused as a write
    error, and its descriptor left open: the files are written as before the lock existed."""
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    descriptors = len(os.listdir("/proc/self/fd"))
    assert gen.run(0.002, 1, END, None, tmp_path)["users"] == 200  # 0.002 x 100,000
    assert len(os.listdir("/proc/self/fd")) == descriptors
