"""The README's main job, end to end through the CLI: generate, build every model, run every data
test, and check the figures the generator is calibrated to come out of the marts."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import engine
from ecom.targets.duckdb import DuckDBTarget

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "ecom.duckdb"
    for args in (["generate", "--scale", "0.05", "--seed", "7"], ["build"], ["test"]):
        result = runner.invoke(app, [*args, "--path", str(path)])
        assert result.exit_code == 0, (args, result.output)
    target = DuckDBTarget(path, create=False)
    yield target, result.stdout
    target.close()


def test_every_data_test_ran_and_passed(built, project):
    """`ecom test` exits 0 (the fixture checks that); here: it ran every data test the project
    declares for the built models, not fewer."""
    target, test_output = built
    values = engine.built_vars(project, target, {})
    cases = engine.generic_tests(project, project.order) + engine.singular_tests(project, project.order, values)
    assert set(re.findall(r"PASS\s+(\S+)", test_output)) == {c.name for c in cases}
    assert f"{len(cases)} passed, 0 failed" in test_output


def test_platform_roas_ranks_as_calibrated(built):
    target, _ = built
    t = target.table("fact_campaign_performance")
    totals = t.group_by("platform").aggregate(revenue=t.attributed_revenue.sum(), spend=t.spend.sum())
    roas = {r["platform"]: r["revenue"] / r["spend"] for r in totals.to_pyarrow().to_pylist()}
    assert max(roas, key=roas.get) == "Email"
    assert min(roas, key=roas.get) == "Facebook"


def test_gross_margin_is_thelook_like(built):
    # thelook's product cost is 38-62 % of the retail price, so the margin over all sales is near half.
    target, _ = built
    t = target.table("fact_daily_pnl")
    row = t.aggregate(gp=t.gross_profit.sum(), rev=t.net_revenue.sum()).to_pyarrow().to_pylist()[0]
    assert 0.4 < row["gp"] / row["rev"] < 0.6
