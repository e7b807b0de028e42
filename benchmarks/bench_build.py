"""Build benchmark: `ecom build` of every model against the same SQL run directly in DuckDB.

    python benchmarks/bench_build.py [--scale 1] [--scale 10] [--from FOLDER] [--repeat 2]

For each scale it generates the raw data (or loads FOLDER, e.g. a thelook export), then in one
process: (1) builds every model through the engine (`ecom.core.engine.build`, what `ecom build` runs),
(2) executes the same compiled DuckDB SQL as `CREATE OR REPLACE TABLE` statements in one plain
duckdb connection. It prints per-model seconds and rows/s, totals, peak memory (RSS high-water mark
of a child process per scale) and the overhead ratio engine / direct. Figures only: nothing fails
on timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(db: str, repeat: int) -> dict:
    import duckdb

    from ecom.core import engine
    from ecom.core.registry import Project
    from ecom.targets.base import Location
    from ecom.targets.duckdb import DuckDBTarget

    project = Project.load()
    target = DuckDBTarget(db)
    engine.validate_sources(target)
    values = engine.target_vars(project, target, {})
    exprs = engine.unbound_expressions(project, values, Location("raw"), Location("main"))
    sql = {name: engine.to_sql(exprs[name], "duckdb") for name in project.order}

    best_engine: dict[str, float] = {}
    rows: dict[str, int] = {}
    engine_totals, direct_totals = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        results = engine.build(project, target, list(project.order), values)
        engine_totals.append(time.perf_counter() - start)
        for r in results:
            best_engine[r.name] = min(best_engine.get(r.name, float("inf")), r.seconds)
            rows[r.name] = r.rows
    target.close()

    best_direct: dict[str, float] = {}
    for _ in range(repeat):
        con = duckdb.connect(db)
        con.execute("SET TimeZone = 'UTC'")
        start = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        for name in project.order:
            t0 = time.perf_counter()
            con.execute(f'CREATE OR REPLACE TABLE "main"."{name}" AS {sql[name]}').fetchone()  # row count
            best_direct[name] = min(best_direct.get(name, float("inf")), time.perf_counter() - t0)
        con.execute("COMMIT")
        direct_totals.append(time.perf_counter() - start)
        con.close()
    return {
        "rows": rows,
        "engine": best_engine,
        "direct": best_direct,
        "engine_total": min(engine_totals),
        "direct_total": min(direct_totals),
    }


def prepare(db: str, scale: float | None, folder: str | None) -> float:
    from ecom.targets.duckdb import DuckDBTarget

    target = DuckDBTarget(db)
    start = time.perf_counter()
    if folder:
        from ecom.data.load import read_folder

        target.write_raw(read_folder(folder))
    else:
        from ecom.data import generate

        generate.run(scale, 42, generate.DEFAULT_END_DATE, target, None)
    target.close()
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    """One scale, in its own process so that its peak RSS is its own."""
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/bench.duckdb"
        prepare_s = prepare(db, args.child_scale, args.source)
        result = measure(db, args.repeat)
        result["prepare_seconds"] = prepare_s
        print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="generator scale (repeatable)")
    parser.add_argument("--from", dest="source", help="a raw export folder instead of generated data")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is shown")
    parser.add_argument("--child-scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scale is not None:
        return child(args)

    runs = [None] if args.source else (args.scale or [1.0])
    for scale in runs:
        cmd = [sys.executable, __file__, "--repeat", str(args.repeat), "--child-scale", str(scale or 0)]
        if args.source:
            cmd += ["--from", args.source]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"benchmark child failed:\n{proc.stderr}")
        peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        label = args.source or f"scale {scale}"
        print(f"\n== {label}: raw data prepared in {r['prepare_seconds']:.1f} s; best of {args.repeat} runs")
        print(f"{'model':32} {'rows':>12} {'engine s':>9} {'direct s':>9} {'rows/s':>12}")
        for name, rows in r["rows"].items():
            e, d = r["engine"][name], r["direct"][name]
            print(f"{name:32} {rows:>12,} {e:>9.3f} {d:>9.3f} {rows / e if e else 0:>12,.0f}")
        ratio = r["engine_total"] / r["direct_total"]
        print(f"{'total':32} {sum(r['rows'].values()):>12,} {r['engine_total']:>9.3f} {r['direct_total']:>9.3f}")
        print(f"overhead ratio ecom build / direct duckdb SQL: {ratio:.2f}  (target <= 1.2)")
        if "int_web_sessions" in r["engine"]:
            seconds, events = r["engine"]["int_web_sessions"], r["rows"]["int_web_sessions"]
            print(f"int_web_sessions: {seconds:.2f} s for {events:,} events (target <= 3 s at ~2.4M events)")
        print(f"peak memory (RSS high-water mark of the run): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
