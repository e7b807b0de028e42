"""Benchmark `ecom generate`: time, rows/s and peak memory per scale, plus the generated shares.

    python benchmarks/bench_generate.py                 # scale 1
    python benchmarks/bench_generate.py --scale 1 --scale 10
    python benchmarks/bench_generate.py --scale 1 --parquet   # write Parquet instead of DuckDB
    python benchmarks/bench_generate.py --repeat 2            # the best of two runs per scale

Each scale runs in a fresh child process (its peak RSS its own, measure.py says how, including
DuckDB's memory), writing into a temporary DuckDB file (or Parquet folder). The parent then
reads the result and prints the shares the generator is meant to reproduce, and each platform's
ROAS under an approximation of last-touch attribution (the order's latest source session starting
within 24 h before it; revenue of its items that are neither cancelled nor returned).
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measure import timed  # noqa: E402

TARGETS = {"scale 1": "<= 20 s, <= 2 GB", "scale 10": "<= 10x scale-1 time, <= 4 GB"}


def worker(scale: float, seed: int, out: str, parquet: bool) -> None:
    from ecom.data import generate
    from ecom.targets.duckdb import DuckDBTarget

    target = None if parquet else DuckDBTarget(out)
    start = time.perf_counter()
    counts = generate.run(scale, seed, generate.DEFAULT_END_DATE, target, pathlib.Path(out) if parquet else None)
    seconds = time.perf_counter() - start
    if target is not None:
        target.close()
    print(json.dumps({"counts": counts, "seconds": seconds}))


SHARES_SQL = {
    "order status": "select status k, count(*) n from {orders} group by 1",
    "items per order": "select num_of_item::varchar k, count(*) n from {orders} group by 1",
    "session traffic source": (
        "select traffic_source k, count(*) n from (select distinct session_id, traffic_source from {events}) group by 1"
    ),
    "anonymous events": "select (user_id is null)::varchar k, count(*) n from {events} group by 1",
    "inventory sold": "select (sold_at is not null)::varchar k, count(*) n from {inventory_items} group by 1",
    "product department": "select department k, count(*) n from {products} group by 1",
    "user country (top 5)": "select country k, count(*) n from {users} group by 1",
    "user traffic source": "select traffic_source k, count(*) n from {users} group by 1",
}

ROAS_SQL = """
with sessions as (
    select user_id, session_id, min(created_at) as started, arg_min(traffic_source, created_at) as source
    from {events} where user_id is not null group by all
), orders as (
    select o.order_id, o.user_id, o.created_at,
           sum(case when i.status not in ('Cancelled', 'Returned') then i.sale_price else 0 end) as net
    from {orders} o join {order_items} i using (order_id)
    group by all
    having bool_or(i.status <> 'Cancelled')
), touch as (
    select o.order_id, o.net, s.source
    from orders o join sessions s
      on s.user_id = o.user_id and s.started <= o.created_at
     and s.started >= o.created_at - interval 24 hour
    qualify row_number() over (partition by o.order_id order by s.started desc, s.session_id desc) = 1
), revenue as (
    select case source when 'Adwords' then 'Google' when 'Facebook' then 'Facebook'
                       when 'YouTube' then 'YouTube' when 'Email' then 'Email' end as platform,
           sum(net) as revenue, count(*) as orders
    from touch group by all
), spend as (
    select platform, sum(coalesce(spend, 0)) as spend, sum(coalesce(clicks, 0)) as clicks,
           count(*) as rows, count(distinct campaign_id) as campaigns,
           count_if(spend = 0) as zero_rows, count_if(clicks is null) as null_clicks
    from {marketing_spend} group by all
)
select platform, orders, round(revenue) revenue, round(spend) spend, clicks, rows, campaigns, zero_rows,
       null_clicks, round(revenue / spend, 2) roas, round(spend / clicks, 2) cpc
from spend left join revenue using (platform) order by roas desc
"""


def report(out: str, parquet: bool) -> None:
    import duckdb

    from ecom.core.sources import RAW_SCHEMAS
    from ecom.data.calibration import EXPECTED_ROAS

    con = duckdb.connect(out if not parquet else ":memory:", read_only=not parquet)
    con.execute("SET TimeZone = 'UTC'")
    names = {t: (f"read_parquet('{pathlib.Path(out) / t}.parquet')" if parquet else f"raw.{t}") for t in RAW_SCHEMAS}
    for title, sql in SHARES_SQL.items():
        rows = con.execute(sql.format(**names)).fetchall()
        total = sum(n for _, n in rows)
        rows.sort(key=lambda r: -r[1])
        if title.endswith("(top 5)"):
            rows = rows[:5]
        print(f"  {title}: " + ", ".join(f"{k} {100 * n / total:.1f}%" for k, n in rows))
    print("  last-touch ROAS by platform (target: Email 8-15, Google 3-5, YouTube 1.5-3, Facebook 1-2):")
    df = con.execute(ROAS_SQL.format(**names)).fetchdf()
    df["in_target"] = [lo <= roas <= hi for roas, (lo, hi) in zip(df.roas, df.platform.map(EXPECTED_ROAS), strict=True)]
    print("    " + df.to_string(index=False).replace("\n", "\n    "))
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, action="append", help="repeatable; default 1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--parquet", action="store_true", help="write Parquet instead of DuckDB")
    parser.add_argument("--no-shares", action="store_true", help="skip the shares and ROAS report")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scale; the best is shown")
    parser.add_argument("--worker", nargs=2, metavar=("SCALE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(float(args.worker[0]), args.seed, args.worker[1], args.parquet)
        return
    print(
        f"ecom generate benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"target {'parquet' if args.parquet else 'duckdb'}, seed {args.seed} (targets: {TARGETS})"
    )
    scales = sorted(set(args.scale or [1.0]))
    if scales[-1] > 1 and 1.0 not in scales:
        scales.insert(0, 1.0)  # the reference of the scale ratio
    seconds_at: dict[float, float] = {}
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            out = str(pathlib.Path(tmp) / ("parquet" if args.parquet else "bench.duckdb"))
            cmd = [
                sys.executable,
                str(ROOT / "benchmarks" / "bench_generate.py"),
                "--seed",
                str(args.seed),
                "--worker",
                str(scale),
                out,
            ]
            if args.parquet:
                cmd.append("--parquet")
            runs = []
            for _ in range(args.repeat):
                run = timed(cmd)
                runs.append((json.loads(run["stdout"].strip().splitlines()[-1]), run))
            result, run = min(runs, key=lambda r: r[0]["seconds"])
            seconds = seconds_at[scale] = result["seconds"]
            total = sum(result["counts"].values())
            print(
                f"\nscale {scale:g}: {seconds:.1f} s generating+writing ({run['total']:.1f} s incl. start-up), "
                f"peak RSS {run['rss_mb']:.0f} MB, {total:,} rows, {total / seconds:,.0f} rows/s"
            )
            for table, rows in result["counts"].items():
                print(f"  {table:22s} {rows:>12,} rows")
            if not args.no_shares:
                report(out, args.parquet)
    for scale, seconds in seconds_at.items():
        if scale > 1 and 1.0 in seconds_at:
            print(
                f"\nscale {scale:g} / scale 1 generation time: {seconds / seconds_at[1.0]:.2f}x (target <= {scale:g}x)"
            )


if __name__ == "__main__":
    main()
