"""The report's pages (marts/report.py) and their machinery (ecom/outputs/report), without a browser.

What the page computes from the embedded rows is checked against Ibis queries of the marts in
tests/test_report_browser.py; here: the exposures' declared reads, the embedded rows, the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import ibis
import pytest

from ecom.core.engine import model_schemas
from ecom.core.registry import Exposure
from ecom.outputs.report import ReportError, render
from ecom.outputs.report.layout import Dataset, Page
from marts import report as pages
from marts.attribution import unobserved_from
from tests.report_fixtures import fake_marts, fake_marts_in_duckdb, fake_values, write_fake_report

D = dt.date


def embedded(path) -> dict:
    """The JSON the page draws from."""
    return json.loads(re.search(r'id="report-data">(.*?)</script>', path.read_text(), re.S).group(1))


def _decode(column) -> list:
    if isinstance(column, list):
        return column
    if "runs" in column:
        return [v for v, n in zip(column["levels"], column["runs"], strict=True) for _ in range(n)]
    return [None if i < 0 else column["levels"][i] for i in column["codes"]]


def rows_of(data: dict, name: str) -> list[dict]:
    d = data["datasets"][name]
    cols = {c: _decode(v) for c, v in d["columns"].items()}
    return [{c: cols[c][i] for c in cols} for i in range(d["n"])]


@pytest.fixture(scope="module")
def small_report(tmp_path_factory, project):
    return write_fake_report(tmp_path_factory.mktemp("r") / "report.html", project, days=60, n_products=80, n_users=300)


def test_every_page_is_a_registered_exposure(project):
    assert list(project.exposures) == ["overview", "marketing", "customers", "products"]
    marketing = project.exposures["marketing"]
    assert marketing.title == "Marketing performance"
    assert set(marketing.reads) == {
        "fact_daily_pnl",
        "fact_campaign_performance",
        "fact_attribution_models",
        "fact_funnel_daily",
    }
    assert "credited_revenue" in marketing.reads["fact_attribution_models"]


def test_declared_columns_exist_in_the_marts(project):
    """Every declared column is a column of its mart: as the models build it, or (for the marts of
    another branch) as docs/contract.md names it, which the fake marts follow."""
    from ecom.core.engine import unbound_expressions
    from ecom.core.vars import resolve_vars
    from ecom.targets.base import Location

    values = resolve_vars(project.vars, {"as_of": D(2024, 6, 30)}, lambda _: None)
    exprs = unbound_expressions(project, values, Location("raw"), Location("main"))
    fakes = fake_marts(days=3, n_products=3, n_users=3)
    for e in project.exposures.values():
        for mart, columns in e.reads.items():
            schema = exprs[mart].schema() if mart in exprs else fakes[mart].schema()
            assert set(columns) <= set(schema), (e.name, mart, set(columns) - set(schema))


def test_fake_marts_have_the_real_marts_schemas(project):
    """The fake marts the report tests use have exactly the columns and types the models produce:
    a renamed or retyped mart column fails here."""
    from ecom.core.engine import unbound_expressions
    from ecom.core.vars import resolve_vars
    from ecom.targets.base import Location

    values = resolve_vars(project.vars, {"as_of": D(2024, 6, 30)}, lambda _: None)
    exprs = unbound_expressions(project, values, Location("raw"), Location("main"))
    fakes = fake_marts(days=3, n_products=3, n_users=3)
    for mart in {m for e in project.exposures.values() for m in e.reads} & set(exprs):
        assert exprs[mart].schema() == fakes[mart].schema(), mart


def _exposure(func, reads) -> Exposure:
    return Exposure(func.__name__, func, "test", {m: tuple(c) for m, c in reads.items()})


def test_an_undeclared_column_is_refused():
    t = ibis.memtable({"a": [1], "b": [2.0], "c": ["x"]})

    def page(m):
        # reads b through a filter, c through a join: both must be declared
        f, v = m.filter(m.a > 0), m.view()
        j = f.join(v, f.a == v.a).select(f.b, v.c)
        return Page("p", "P", [Dataset("d", j)], [])

    with pytest.raises(ReportError, match=r"page page reads m\.b, m\.c without declaring"):
        render.page_of(_exposure(page, {"m": ("a",)}), {"m": t}.__getitem__, {}, {"m": t.schema()})
    render.page_of(_exposure(page, {"m": ("a", "b", "c")}), {"m": t}.__getitem__, {}, {"m": t.schema()})


def test_an_undeclared_mart_is_refused():
    t, other = ibis.memtable({"a": [1]}), ibis.table({"z": "int64"}, name="fact_secret")

    def page(m):
        return Page("p", "P", [Dataset("d", m.cross_join(other).select("a", "z"))], [])

    with pytest.raises(ReportError, match="fact_secret"):
        render.page_of(_exposure(page, {"m": ("a",)}), {"m": t}.__getitem__, {}, {"m": t.schema()})


@pytest.mark.parametrize(
    ("mart", "problem"),
    [
        ({"b": [2.0]}, "no column m.a"),
        ({"a": ["1"]}, "m.a is string, not float64"),
        ({"a": [dt.date(2024, 1, 1)]}, "m.a is date, not float64"),
    ],
)
def test_a_mart_built_otherwise_than_its_model_is_one_line_saying_rebuild(mart, problem):
    """A mart of another version of the models, or changed by hand: a traceback before (a column
    held as text said `'StringColumn' object has no attribute 'sum'`)."""

    def page(m):
        return Page("p", "P", [Dataset("d", m.aggregate(total=m.a.sum()))], [])

    built_as = {"m": ibis.schema({"a": "float64"})}
    with pytest.raises(ReportError) as refused:
        render.page_of(_exposure(page, {"m": ("a",)}), {"m": ibis.memtable(mart)}.__getitem__, {}, built_as)
    assert str(refused.value) == f"page page cannot read the marts as built ({problem}): rebuild with `ecom build`"


def test_project_load_refuses_an_exposure_whose_reads_differ_from_its_parameters():
    from ecom.core import registry

    def page(fact_daily_pnl, as_of):
        return None

    registry._EXPOSURES["broken"] = _exposure(page, {"dim_customers": ("user_id",)})
    try:
        with pytest.raises(registry.ProjectError, match="exposure page"):
            registry.Project.load()
    finally:
        del registry._EXPOSURES["broken"]


@pytest.mark.parametrize(
    ("as_of", "days", "first"),
    [
        # 30 days: June's cohort ends 06-30 + 29 = 07-29 <= 07-31: observable; July's is not
        (D(2024, 7, 31), 30, D(2024, 7, 1)),
        # as_of 07-29 is exactly June's window end (06-30 + 29): June observable, July not
        (D(2024, 7, 29), 30, D(2024, 7, 1)),
        # a day earlier June's window has not ended
        (D(2024, 7, 28), 30, D(2024, 6, 1)),
        # 365 days over a leap year: 2023-06-30 + 364 = 2024-06-28 <= as_of 2024-06-30; July 2023 is not
        (D(2024, 6, 30), 365, D(2023, 7, 1)),
        (D(2024, 6, 27), 365, D(2023, 6, 1)),
    ],
)
def test_unobserved_from(as_of, days, first):
    assert unobserved_from(as_of, days) == first


def test_pages_embed_additive_rows_equal_to_the_marts(small_report):
    path, marts, _ = small_report
    data = embedded(path)
    # pnl: the mart's rows, money to the cent
    pnl = rows_of(data, "pnl")
    expected = marts["fact_daily_pnl"].select(*pages.PNL).order_by("date").to_pyarrow().to_pylist()
    assert len(pnl) == len(expected) == 60
    for got, want in zip(sorted(pnl, key=lambda r: r["date"]), expected, strict=True):
        assert got["date"] == want["date"].isoformat()
        assert got["net_revenue"] == pytest.approx(want["net_revenue"], abs=0.005)
        assert got["orders"] == want["orders"]
    # attribution: zero-filled rows left out; what stays sums to the mart
    attribution = rows_of(data, "attribution")
    mart = marts["fact_attribution_models"]
    assert sum(r["credited_revenue"] for r in attribution) == pytest.approx(
        mart.credited_revenue.sum().execute(), rel=1e-9
    )
    # funnel: the mean duration is embedded as a sum (mean x sessions)
    funnel = rows_of(data, "funnel")
    f = marts["fact_funnel_daily"]
    assert sum(r["duration_seconds"] for r in funnel) == pytest.approx(
        (f.avg_duration_seconds * f.sessions).sum().execute(), rel=1e-9
    )


def test_customer_rows_by_first_order_month_source_and_segment(small_report):
    path, marts, _ = small_report
    acquired = rows_of(embedded(path), "acquired")
    c = marts["dim_customers"].to_pyarrow().to_pylist()
    seg = {r["user_id"]: r["segment"] for r in marts["dim_customer_segments"].to_pyarrow().to_pylist()}
    expected: dict[tuple, list] = {}
    for r in c:
        if r["is_customer"]:
            key = (r["first_order_date"].replace(day=1).isoformat(), r["acquisition_source"], seg.get(r["user_id"]))
            n, revenue = expected.get(key, (0, 0.0))
            expected[key] = (n + 1, revenue + r["lifetime_net_revenue"])
    got = {(r["first_order_month"], r["acquisition_source"], r["segment"]): r for r in acquired}
    assert set(got) == set(expected)
    for key, (n, revenue) in expected.items():
        assert got[key]["customers"] == n
        assert got[key]["lifetime_net_revenue"] == pytest.approx(revenue, abs=0.005)


def test_top_lists_are_capped_and_ranked(small_report):
    path, marts, _ = small_report
    data = embedded(path)
    top = rows_of(data, "top_customers")
    customers = [r for r in marts["dim_customers"].to_pyarrow().to_pylist() if r["is_customer"]]
    assert len(top) == min(pages.TOP_CUSTOMERS, len(customers))
    best = max(customers, key=lambda r: (round(r["lifetime_net_revenue"] * 100), -r["user_id"]))
    assert str(best["user_id"]) in {r["user_id"] for r in top}
    dead = rows_of(data, "dead_stock")
    inv = marts["fact_inventory_forecast"].to_pyarrow().to_pylist()
    assert {r["product_id"] for r in dead} <= {
        str(r["product_id"]) for r in inv if r["inventory_status"] == "dead_stock"
    }


def test_the_page_is_one_offline_file(small_report):
    path, _, _ = small_report
    text = path.read_text()
    assert text.count("<script") == 3  # Chart.js, the data, the page's script; all inline
    assert "Chart.js v4" in text and "Released under the MIT License" in text
    assert "<script src" not in text and "<link" not in text
    outside_chartjs = text.split("Chart.js v4", 1)[0] + text.split("</script>", 1)[1]
    assert "http" not in outside_chartjs
    assert "as of <b>2024-06-30</b>" in text
    assert "overstock_days = <b>90</b>" in text  # the build's variables, as the build passed them


def test_every_dataset_compiles_to_bigquery(project):
    """The pages run on BigQuery too: every dataset compiles to BigQuery SQL, none reads the clock."""
    marts = fake_marts(days=5, n_products=5, n_users=5)
    values = fake_values(marts, project)
    sql = [
        ibis.to_sql(ds.expr, dialect="bigquery")
        for e in project.exposures.values()
        for ds in render.page_of(e, marts.__getitem__, values, model_schemas(project)).datasets
    ]
    assert len(sql) >= 12
    assert all("CURRENT_DATE" not in s and "CURRENT_TIMESTAMP" not in s for s in sql)


def test_dates_are_dates_in_the_sql_duckdb_runs(tmp_path, project):
    """Months are dated with marts._common.month_start: DuckDB's DATE_TRUNC of a DATE is a TIMESTAMP
    (the monthly P&L, campaign and customer rows were), which only ibis's conversion hid."""
    tgt = fake_marts_in_duckdb(tmp_path / "m.duckdb", days=5, n_products=5, n_users=5)
    try:
        values = fake_values({"_ecom_vars": tgt.table("_ecom_vars")}, project)
        found = {}
        for e in project.exposures.values():
            for ds in render.page_of(e, tgt.table, values, model_schemas(project)).datasets:
                described = dict(r[:2] for r in tgt.con.raw_sql(f"DESCRIBE {tgt.con.compile(ds.expr)}").fetchall())
                found |= {(ds.name, c): described[c] for c, t in ds.expr.schema().items() if t.is_date()}
    finally:
        tgt.close()
    assert {("pnl", "date"), ("campaigns", "spend_date"), ("acquired", "first_order_month")} <= set(found)
    assert set(found.values()) == {"DATE"}, found


def test_report_on_empty_marts(tmp_path, project):
    """A build with no activity still gives a report (the page says 'No data in this period')."""
    marts = {
        n: (t if n == "_ecom_vars" else t.limit(0)) for n, t in fake_marts(days=5, n_products=5, n_users=5).items()
    }
    path = render.write_report(project, marts.__getitem__, fake_values(marts, project), tmp_path / "r.html")
    assert all(d["n"] == 0 for d in embedded(path)["datasets"].values())


# ------------------------------------------------------------------------------------------------
# `ecom report` on a DuckDB file holding the (fake) marts
# ------------------------------------------------------------------------------------------------


def test_cli_report_writes_the_dashboard(tmp_path):
    from typer.testing import CliRunner

    from ecom.cli import app

    db = tmp_path / "ecom.duckdb"
    fake_marts_in_duckdb(db, days=90, n_products=60, n_users=200).close()
    out = tmp_path / "r" / "report.html"
    result = CliRunner().invoke(app, ["report", "--path", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "as of <b>2024-06-30</b>" in text  # from _ecom_vars, through the engine's built_vars
    assert "lead_time_days = <b>14</b>" in text
    assert [p["title"] for p in embedded(out)["pages"]] == [
        "Executive overview",
        "Marketing performance",
        "Customers",
        "Products and inventory",
    ]


def test_cli_report_names_missing_marts(tmp_path):
    import duckdb
    from typer.testing import CliRunner

    from ecom.cli import app
    from ecom.targets.duckdb import DuckDBTarget

    db = tmp_path / "empty.duckdb"
    DuckDBTarget(db).close()
    result = CliRunner().invoke(app, ["report", "--path", str(db), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "none of the 10 marts it reads; run `ecom build` first" in result.output
    # all but one there: that one is named
    others = (
        "fact_campaign_performance fact_attribution_models fact_funnel_daily dim_customers dim_customer_segments "
        "fact_cohort_retention fact_channel_economics fact_inventory_forecast fact_product_performance"
    )
    partial = tmp_path / "partial.duckdb"  # another file: the command's connection to db stays in its cache
    with duckdb.connect(str(partial)) as con:
        for mart in others.split():
            con.execute(f"CREATE TABLE main.{mart} (x INT)")
    result = CliRunner().invoke(app, ["report", "--path", str(partial), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert ": fact_daily_pnl; run `ecom build` first" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow
def test_report_at_scale_1_is_at_most_2_mb(tmp_path, project):
    """Scale 1: ~100k users, ~30k products, 2019-01 to 2025-12 as generated; the file stays small as it
    embeds aggregated rows and capped lists."""
    import time

    start = time.perf_counter()
    path, _, _ = write_fake_report(tmp_path / "r.html", project, days=2537, n_products=30_000, n_users=100_000)
    print(f"report at scale 1: {path.stat().st_size / 1e6:.2f} MB in {time.perf_counter() - start:.1f} s")
    assert path.stat().st_size <= 2_000_000


def test_rows_older_than_two_years_are_summed_per_month(tmp_path, project):
    """800 days of fake marts: from the first of the month 731 days before as_of (2022-07-01 for
    2024-06-30) one row per day, before it one row per month dated its first day, summing its days."""
    path, marts, _ = write_fake_report(tmp_path / "r.html", project, days=800, n_products=10, n_users=20)
    data = embedded(path)
    since = data["datasets"]["pnl"]["daily_since"]
    assert since == "2022-07-01"
    pnl = {r["date"]: r for r in rows_of(data, "pnl")}
    t = marts["fact_daily_pnl"]
    daily = t.filter(t.date >= D(2022, 7, 1)).to_pyarrow().to_pylist()
    assert all(pnl[r["date"].isoformat()]["orders"] == r["orders"] for r in daily)
    old = t.filter(t.date < D(2022, 7, 1))
    months = old.group_by(month=old.date.truncate("M")).aggregate(orders=old.orders.sum(), net=old.net_revenue.sum())
    expected = {r["month"].isoformat(): r for r in months.to_pyarrow().to_pylist()}
    got = {d: r for d, r in pnl.items() if d < since}
    assert set(got) == set(expected) and len(got) == 3  # 2022-04-23 .. 06-30: April, May, June
    for d, r in expected.items():
        assert got[d]["orders"] == r["orders"]
        assert got[d]["net_revenue"] == pytest.approx(r["net"], abs=0.01)
    assert len(pnl) == len(daily) + 3
