"""Incremental benchmark: a daily build (as_of + 1 day) incremental against full, on DuckDB.

    python benchmarks/bench_incremental.py [--scale 1] [--scale 10] [--from FOLDER] [--repeat 2]

For each scale it generates the raw data, builds every model at as_of = the last order date − 1,
then builds at the last order date twice from copies of that database: incrementally, and with
--full-refresh. It prints the seconds of the incremental models and of the whole build both ways
(the issue's targets: incremental models ≤ 15% of their full time, whole build ≤ 50%), and the
BigQuery bytes the incremental models' statements would read, estimated from the partitions they
touch: BigQuery's logical sizes (8 bytes a number, date or timestamp, 1 a boolean, 2 + length a
string) of every column of the tables each reads, over the partitions from the first replaced day
for an upstream model, whole for a raw table (not partitioned) and for the model's own table when
its rule reads its past (int_web_sessions, fact_session_metrics): upper bounds. Figures only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_build import prepare  # noqa: E402

from ecom.core import engine, incremental  # noqa: E402
from ecom.core.registry import Project  # noqa: E402
from ecom.core.sources import RAW_SCHEMAS  # noqa: E402
from ecom.targets.duckdb import DuckDBTarget  # noqa: E402


def logical_bytes(target: DuckDBTarget, table: str, where: str = "TRUE") -> int:
    schema = target.raw.database if table in RAW_SCHEMAS else target.models.database
    t = target.con.table(table, database=schema)
    sizes = []
    for c, dtype in t.schema().items():
        size = f'2 + strlen("{c}")' if dtype.is_string() else "1" if dtype.is_boolean() else "8"
        sizes.append(f'CASE WHEN "{c}" IS NULL THEN 0 ELSE {size} END')
    sql = f'SELECT COALESCE(SUM({" + ".join(sizes)}), 0) FROM "{schema}"."{table}" WHERE {where}'
    return int(target.con.raw_sql(sql).fetchone()[0])


def bytes_read(project: Project, target: DuckDBTarget, name: str, since: dt.date | None) -> int:
    """Upper bound of the bytes the model's statement reads: full when `since` is None."""
    total = sum(logical_bytes(target, s) for s in project.sources_of(name))
    for up in project.upstream_models(name):
        model = project.models[up]
        where = f"CAST(\"{model.partition_by}\" AS DATE) >= DATE '{since}'" if since else "TRUE"
        total += logical_bytes(target, up, where)
    if since and project.models[name].since is not None:  # its rule reads its own past rows
        total += logical_bytes(target, name)
    return total


def timed_build(project: Project, db: Path, as_of: dt.date, full_refresh: bool) -> dict[str, object]:
    target = DuckDBTarget(db)
    values = engine.target_vars(project, target, {"as_of": as_of})
    start = time.perf_counter()
    results = engine.build(project, target, list(project.order), values, full_refresh=full_refresh)
    total = time.perf_counter() - start
    state = incremental.read_state(target)
    chain = [n for n in project.order if project.models[n].materialized == "incremental"]
    read = {n: bytes_read(project, target, n, state[n]["replaced_from"]) for n in chain}
    target.close()
    return {
        "total": total,
        "models": {r.name: r.seconds for r in results},
        "notes": {r.name: r.note for r in results},
        "bytes": read,
    }


def one_scale(scale: float | None, folder: str | None, repeat: int) -> None:
    project = Project.load()
    chain = [n for n in project.order if project.models[n].materialized == "incremental"]
    with tempfile.TemporaryDirectory() as tmp:
        # one file name everywhere: DuckDB names its catalog after the file, and the compiled SQL
        # (whose hash decides a full rebuild) names the catalog
        base = Path(tmp) / "base" / "ecom.duckdb"
        base.parent.mkdir()
        prepare(str(base), scale, folder)
        target = DuckDBTarget(base)
        last = engine.target_vars(project, target, {})["as_of"]
        engine.build(
            project,
            target,
            list(project.order),
            engine.target_vars(project, target, {"as_of": last - dt.timedelta(days=1)}),
        )
        target.close()
        runs: dict[str, list[dict]] = {"incremental": [], "full": []}
        for _ in range(repeat):
            for kind in runs:
                db = Path(tmp) / kind / "ecom.duckdb"
                db.parent.mkdir(exist_ok=True)
                shutil.copy(base, db)
                runs[kind].append(timed_build(project, db, last, full_refresh=kind == "full"))
    best = {k: min(v, key=lambda r: r["total"]) for k, v in runs.items()}
    inc, full = best["incremental"], best["full"]
    print(f"\n{folder or f'scale {scale}'}: as_of {last - dt.timedelta(days=1)} -> {last}, best of {repeat}")
    print(f"{'model':<24}{'incremental s':>14}{'full s':>9}{'ratio':>8}{'BQ bytes incr':>16}{'BQ bytes full':>16}  how")
    for n in chain:
        i, f = inc["models"][n], full["models"][n]
        print(
            f"{n:<24}{i:>14.3f}{f:>9.3f}{i / f:>8.1%}{inc['bytes'][n]:>16,}{full['bytes'][n]:>16,}  {inc['notes'][n]}"
        )
    i = sum(inc["models"][n] for n in chain)
    f = sum(full["models"][n] for n in chain)
    bi, bf = sum(inc["bytes"].values()), sum(full["bytes"].values())
    print(f"{'incremental models':<24}{i:>14.3f}{f:>9.3f}{i / f:>8.1%}{bi:>16,}{bf:>16,}  target <= 15%")
    ti, tf = inc["total"], full["total"]
    print(f"{'whole build':<24}{ti:>14.3f}{tf:>9.3f}{ti / tf:>8.1%}{'':>32}  target <= 50%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="generator scale (repeatable)")
    parser.add_argument("--from", dest="source", help="a raw export folder instead of generated data")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    args = parser.parse_args()
    for scale in [None] if args.source else args.scale or [1.0]:
        one_scale(scale, args.source, args.repeat)


if __name__ == "__main__":
    main()
