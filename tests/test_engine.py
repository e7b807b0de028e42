"""The engine: DAG from the code, selectors, variables, atomic builds, compile and the CLI's errors."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import io
import os
import re
import resource
import signal
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import pytest
import typer
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import engine, registry
from ecom.core.registry import Model, Project, ProjectError, Var
from ecom.core.sources import RAW_SCHEMAS, SourceContractError
from ecom.core.vars import VarsError, check_given, parse_vars, resolve_vars
from ecom.targets.bigquery.target import BigQueryTarget
from ecom.targets.duckdb import DuckDBTarget
from tests.conftest import FIXTURES, empty_raw, raw_with_orders, snapshot


def m(func, key="id"):
    return Model(func.__name__, func, (key,) if isinstance(key, str) else key)


def tiny_project(*funcs):
    return Project.from_parts({f.__name__: m(f) for f in funcs}, {}, {})


def test_dag_is_derived_from_parameter_names():
    def stg_a(orders):
        return orders

    def int_b(stg_a):
        return stg_a

    def fact_c(int_b, stg_a):
        return int_b

    p = tiny_project(fact_c, int_b, stg_a)  # registered out of order on purpose
    assert p.order == ("stg_a", "int_b", "fact_c")
    assert p.upstream_models("fact_c") == ["int_b", "stg_a"]
    assert p.sources_of("stg_a") == ["orders"]


def test_a_threshold_bounded_by_no_variable_is_a_project_error():
    # a misspelt at_most raised KeyError in every command's resolve_vars
    low = Var("low_days", int, 14, "days", at_most="overstok_days")
    with pytest.raises(ProjectError, match="^variable low_days is at most overstok_days: no such variable$"):
        Project.from_parts({}, {}, {"low_days": low})


def test_check_given_compares_only_the_values_known_without_data():
    """a at most b, b at most c, c's default from the data: a above b (b's default) is refused
    before any data is read; b against c waits for the data (a KeyError in a first form)."""
    declared = {
        "a": Var("a", int, 5, "a's doc", at_most="b"),
        "b": Var("b", int, 10, "b's doc", at_most="c"),
        "c": Var("c", int, lambda orders: orders.count(), "c's doc"),
    }
    with pytest.raises(VarsError, match=r"^a=20 is larger than b=10 \(b's doc\): give a at most 10, or a larger b$"):
        check_given(declared, {"a": 20})
    check_given(declared, {"b": 99})  # c unknown: nothing to compare b with yet


def test_unknown_upstream_names_the_model_and_the_name():
    def fact_x(stg_missing):
        return stg_missing

    with pytest.raises(ProjectError, match="fact_x reads stg_missing"):
        tiny_project(fact_x)


def test_cycle_names_the_models():
    def int_a(int_b):
        return int_b

    def int_b(int_a):
        return int_a

    with pytest.raises(ProjectError, match="cycle: .*int_a.*int_b|cycle: .*int_b.*int_a"):
        tiny_project(int_a, int_b)


def test_selectors(project):
    assert project.select(["fact_session_metrics"]) == ["fact_session_metrics"]
    up = project.select(["+int_web_sessions"])
    assert up == ["stg_events", "int_web_sessions"]
    down = set(project.select(["stg_events+"]))
    assert {"stg_events", "int_web_sessions", "fact_session_metrics"} <= down
    assert "stg_orders" not in down
    staging = project.select(["staging"])
    assert staging and all(n.startswith("stg_") for n in staging)
    assert project.select(["stg_users", "stg_orders"]) == ["stg_orders", "stg_users"]  # DAG order
    with pytest.raises(ProjectError, match="'stg_order' matches no model.*stg_orders"):
        project.select(["stg_order"])
    for doubled in ("++int_web_sessions", "int_web_sessions++"):  # read as +int_web_sessions, and so built
        with pytest.raises(ProjectError, match=rf"^--select '{re.escape(doubled)}' matches no model"):
            project.select([doubled])


def test_graph_operators_with_depths_and_at_as_dbt():
    """dbt's `2+name`, `name+1` and `@name` were "matches no model (did you mean name?)"."""

    def stg_a(orders):
        return orders

    def stg_b(users):
        return users

    def int_c(stg_a):
        return stg_a

    def int_d(int_c, stg_b):
        return int_c

    def fact_e(int_d):
        return int_d

    def fact_f(stg_a):
        return stg_a

    # stg_a -> int_c -> int_d -> fact_e, stg_b -> int_d, stg_a -> fact_f
    p = tiny_project(stg_a, stg_b, int_c, int_d, fact_e, fact_f)
    assert set(p.select(["1+int_d"])) == {"int_c", "stg_b", "int_d"}
    assert set(p.select(["2+fact_e"])) == {"int_c", "stg_b", "int_d", "fact_e"}
    assert set(p.select(["+fact_e"])) == {"stg_a", "int_c", "stg_b", "int_d", "fact_e"}
    assert set(p.select(["stg_a+1"])) == {"stg_a", "int_c", "fact_f"}
    assert set(p.select(["stg_a+2"])) == {"stg_a", "int_c", "fact_f", "int_d"}
    assert set(p.select(["1+int_c+1"])) == {"stg_a", "int_c", "int_d"}
    assert set(p.select(["stg_a+0"])) == {"stg_a"}
    # int_c's descendants (int_d, fact_e) and every ancestor of them: stg_b is what int_d also reads
    assert set(p.select(["@int_c"])) == {"stg_a", "int_c", "stg_b", "int_d", "fact_e"}
    assert set(p.select(["@fact_f"])) == {"stg_a", "fact_f"}
    with pytest.raises(ProjectError, match=r"^--select '@\+int_c': `@` already takes every ancestor"):
        p.select(["@+int_c"])
    for wrong in ("1++int_c", "x+int_c", "int_c+x", "@@int_c"):
        with pytest.raises(ProjectError, match=rf"^--select '{re.escape(wrong)}' matches no model"):
            p.select([wrong])


def test_exclude_takes_models_out_of_the_selection(project):
    assert project.select(["+int_web_sessions"], ["stg_events"]) == ["int_web_sessions"]
    everything_but = project.select(None, ["stg_events+", "staging"])
    # the models that neither are staging nor read stg_events, directly or not (README's lineage)
    assert set(everything_but) == {
        "int_daily_marketing", "int_orders", "int_daily_sales", "fact_product_performance", "fact_inventory_forecast",
        "dim_customers", "dim_customer_segments", "fact_cohort_retention", "fact_daily_pnl", "fact_daily_pnl_advanced",
    }  # fmt: skip
    assert everything_but == [n for n in project.order if n in everything_but]  # still in DAG order
    with pytest.raises(ProjectError, match=r"^--exclude 'stg_order' matches no model"):
        project.select(None, ["stg_order"])
    with pytest.raises(ProjectError, match=r"^--exclude 'staging' leaves no model; exclude fewer$"):
        project.select(["stg_orders", "stg_users"], ["staging"])


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "{as_of: 2024-06-30, session_timeout_minutes: 45}",
            {"as_of": dt.date(2024, 6, 30), "session_timeout_minutes": 45},
        ),
        ("as_of=2024-06-30 session_timeout_minutes=45", {"as_of": dt.date(2024, 6, 30), "session_timeout_minutes": 45}),
        ("as_of=2024-06-30,low_days=10", {"as_of": dt.date(2024, 6, 30), "low_days": 10}),
        # whole numbers are decimal: YAML 1.1 reads 030 as octal 24 and 1:30 as 90 (base 60)
        ("session_timeout_minutes=030 low_days=-07", {"session_timeout_minutes": 30, "low_days": -7}),
        ("{session_timeout_minutes: 030, low_days: +9}", {"session_timeout_minutes": 30, "low_days": 9}),
        ("a=0x1e b=1_000 c=1:30 d=0o17", {"a": "0x1e", "b": "1_000", "c": "1:30", "d": "0o17"}),
    ],
)
def test_parse_vars(text, expected):
    assert parse_vars([text]) == expected


@pytest.mark.parametrize(
    "given, message",
    [
        ({"as_of": "2024-13-01"}, "as_of must be a date written YYYY-MM-DD"),
        ({"session_timeout_minutes": 0}, "session_timeout_minutes must be a positive whole number"),
        ({"session_timeout_minutes": -5}, "must be a positive whole number"),
        ({"session_timeout_minutes": 1.5}, "must be a whole number"),
        ({"session_timeout_minutes": True}, "must be a whole number"),
        ({"session_timout_minutes": 45}, "unknown variable session_timout_minutes"),
        ({"session_timeout_minutes": "1:30"}, "must be a whole number, not '1:30'"),
        # YAML's reading of `as_of=[2025-01-01]`: quoted as written, not as `[datetime.date(2025, 1, 1)]`
        ({"as_of": [dt.date(2025, 1, 1)]}, r"^as_of must be a date written YYYY-MM-DD, not \[2025-01-01\]$"),
        # a date where a number belongs: not `datetime.date(2025, 1, 1)` either
        ({"cover_days": dt.date(2025, 1, 1)}, r"^cover_days must be a whole number, not 2025-01-01$"),
        # a date as a mapping's key, which JSON cannot write: a traceback for a while
        (
            {"as_of": {dt.date(2025, 1, 1): "café"}},
            r"^as_of must be a date written YYYY-MM-DD, not \{2025-01-01: café\}$",
        ),
        ({"as_of": dt.datetime(2024, 6, 30, 10)}, r"as_of is a day: write it YYYY-MM-DD, not a date and time"),
        # inventory_status takes the first threshold that holds: 15 over 14 would leave no product low
        (
            {"critical_days": 15},
            r"^critical_days=15 is larger than low_days=14 \(days of stock below which a product is low\): "
            r"give critical_days at most 14, or a larger low_days$",
        ),
        ({"low_days": 120, "overstock_days": 100}, r"^low_days=120 is larger than overstock_days=100 "),
    ],
)
def test_bad_vars_are_one_clear_error(project, given, message):
    with pytest.raises(VarsError, match=message):
        resolve_vars(project.vars, {"as_of": dt.date(2024, 1, 1), **given}, lambda _: None)


def test_equal_inventory_thresholds_are_allowed(project):
    given = {"as_of": dt.date(2024, 1, 1), "critical_days": 20, "low_days": 20, "overstock_days": 20}
    assert resolve_vars(project.vars, given, lambda _: None).items() >= given.items()


def test_recorded_inventory_thresholds_are_read_as_built(project):
    """A database built before the thresholds had to rise records critical_days=20 over low_days=14:
    `ecom test` read its variables and refused them, and its --vars critical_days=7 was refused as
    not the build's: only a rebuild got out."""
    recorded = {"as_of": dt.date(2024, 1, 1), "critical_days": 20, "low_days": 14}
    assert resolve_vars(project.vars, recorded, lambda _: None, check_bounds=False).items() >= recorded.items()


def test_a_date_at_midnight_is_its_day(project):
    values = resolve_vars(project.vars, {"as_of": dt.datetime(2024, 6, 30)}, lambda _: None, check_bounds=False)
    assert values["as_of"] == dt.date(2024, 6, 30)


def test_malformed_vars_text():
    with pytest.raises(VarsError, match="not a valid mapping"):
        parse_vars(["{as_of: [2024"])
    with pytest.raises(VarsError, match="neither key=value"):
        parse_vars(["as_of"])


@pytest.mark.parametrize(
    "text, name",
    [
        ("{as_of:2024-06-30}", "as_of"),
        ("{as_of=2024-06-30}", "as_of"),
        ("{session_timeout_minutes:45, as_of: 2024-06-30}", "session_timeout_minutes"),
        ("{visitor_salt:Pr1vate: x}", "visitor_salt"),  # a value holding colon-space: one key, and a value
        ("visitor_salt:Pr1vate=x", "visitor_salt"),  # key=value
    ],
)
def test_a_mapping_without_colon_and_space_says_so(text, name):
    """`{as_of:2024-06-30}` is one YAML key with no value: it was reported as an unknown variable
    named `as_of:2024-06-30`."""
    with pytest.raises(VarsError) as refused:
        parse_vars([text])
    assert str(refused.value) == (
        f"--vars gives a name starting '{name}' followed by more than a name: write a colon and a space "
        f"between name and value, --vars '{{{name}: VALUE}}', or --vars {name}=VALUE"
    )


@pytest.mark.parametrize(
    "text, key", [("as-of=2024-03-01", "as-of"), ("{as-of: 2024-03-01}", "as-of"), ("{as.of: 2024-03-01}", "as.of")]
)
def test_cli_a_misspelt_name_is_an_unknown_variable(db, text, key):
    """`--vars as-of=2024-03-01` was told "write ... --vars '{as: VALUE}', or --vars as=VALUE": the
    advice for a missing colon-space, named after the word before the hyphen."""
    result = runner.invoke(app, ["build", "--vars", text, "--path", str(db)])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert message.startswith(f"error: unknown variable {key} in --vars; known: "), message
    assert "as_of" in message


@pytest.mark.parametrize(
    "text", ["{visitor_salt:Pr1vate}", "{visitor_salt=Pr1vate}", "{visitor_salt Pr1vate}", "{visitor_salt:Pr1vate: x}"]
)
def test_cli_a_secret_without_colon_and_space_is_not_shown(db, text):
    """The unknown-variable error printed the whole key: `unknown variable visitor_salt:Pr1vate`."""
    result = runner.invoke(app, ["build", "--vars", text, "--path", str(db)])
    assert result.exit_code == 1 and "name starting 'visitor_salt'" in result.stderr, result.output
    assert "Pr1vate" not in result.output


@pytest.mark.parametrize(
    "text, where",
    [("as_of=2024-01-01,as_of=2024-02-01", "key=value"), ("{as_of: 2024-01-01, as_of: 2024-02-01}", "{...}")],
)
def test_a_variable_given_twice_in_one_vars_is_refused(text, where):
    """PyYAML kept the last of a repeated key, and so did key=value pairs: the build ran at
    2024-02-01 without a word. Separate --vars still merge, the later winning."""
    with pytest.raises(VarsError) as refused:
        parse_vars([text])
    assert str(refused.value) == f"--vars {where} gives as_of more than once: give each variable once"
    assert parse_vars(["as_of=2024-01-01", "as_of=2024-02-01"]) == {"as_of": dt.date(2024, 2, 1)}


def test_a_malformed_part_is_not_taken_for_a_repeated_key(project):
    """`visitor_salt=s3cr3t part part` (the project declares visitor_salt secret): the repeated 'part'
    is a piece of the salt, not a key, and is not shown."""
    with pytest.raises(VarsError) as refused:
        parse_vars(["visitor_salt=s3cr3t part part"])
    assert str(refused.value).startswith("--vars a part is neither key=value nor a {key: value} mapping")


@pytest.mark.parametrize("text", ["as_of=", "{as_of: }", "{as_of: null}"])
def test_a_variable_given_no_value_says_so(project, text):
    with pytest.raises(VarsError) as refused:
        resolve_vars(project.vars, parse_vars([text]), lambda _: None)
    assert str(refused.value) == "as_of is given no value in --vars: give one, or leave it out for its default"


def test_as_of_default_needs_orders():
    declared = {"as_of": Var("as_of", dt.date, lambda orders: None, "the latest order date")}
    with pytest.raises(VarsError, match="as_of has no default on this data"):
        resolve_vars(declared, {}, lambda default: None)


def test_as_of_defaults_to_latest_order_date(project):
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    assert engine.target_vars(project, target, {})["as_of"] == dt.date(2024, 3, 5)


def test_failed_build_leaves_every_table_as_it_was(project):
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = engine.target_vars(project, target, {})
    engine.build(project, target, ["stg_orders"], values)
    assert target.row_count("stg_orders") == 2

    def fact_broken(stg_orders):
        return stg_orders.select(x=stg_orders.status.cast("int64"))  # 'processing' is no integer

    broken = Project.from_parts(
        {**project.models, "fact_broken": Model("fact_broken", fact_broken, ("x",))}, {}, project.vars
    )
    earlier = {**values, "as_of": dt.date(2024, 3, 1)}  # would leave 1 order in stg_orders
    with pytest.raises(engine.BuildError, match="model fact_broken failed: .*"):
        engine.build(broken, target, ["stg_orders", "fact_broken"], earlier)
    assert target.row_count("stg_orders") == 2
    assert not target.exists("fact_broken")


def test_a_partial_build_keeps_the_variables_of_the_models_it_leaves(project):
    """`--select marts --vars as_of=<other>` on a full build made marts at one as_of over staging
    at another (and `ecom test` then failed). The models a build leaves as they are were built
    with the variables it records: one they use may not change; one only the selection uses may."""
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = engine.target_vars(project, target, {})
    engine.build(project, target, project.order, values)
    before = {name: target.table(name).to_pyarrow() for name in project.order}
    earlier = {**values, "as_of": dt.date(2024, 3, 1)}
    tail = (
        "and would disagree with the ones it builds; build them too (e.g. without --select), "
        "or keep the values they have"
    )
    # the staging models use as_of, int_web_sessions the timeout (their signatures)
    with pytest.raises(engine.BuildError) as e:
        engine.build(project, target, project.select(["marts"]), {**earlier, "session_timeout_minutes": 45})
    assert str(e.value) == (
        "as_of=2024-03-01, session_timeout_minutes=45: the built models this build leaves as they are (stg_orders, "
        "stg_order_items, stg_users, stg_events, stg_inventory, stg_marketing, int_web_sessions) were built with "
        f"as_of=2024-03-05, session_timeout_minutes=30, {tail}"
    )
    # stg_products reads no as_of, but every model that does would be left at the old one
    for refused in (engine.build, engine.dry_run_plan):
        with pytest.raises(engine.BuildError) as e:
            refused(project, target, ["stg_products"], earlier)
        assert str(e.value) == (
            "as_of=2024-03-01: the built models this build leaves as they are (stg_orders, stg_order_items, "
            "stg_users, stg_events, stg_inventory, stg_marketing, fact_inventory_forecast, dim_customers, "
            f"fact_cohort_retention, fact_daily_pnl, fact_channel_economics) were built with as_of=2024-03-05, {tail}"
        )
    assert {name: target.table(name).to_pyarrow() for name in project.order} == before
    for critical_days in (3, 7):  # only fact_inventory_forecast uses it: recorded, then changed back
        engine.build(project, target, ["fact_inventory_forecast"], {**values, "critical_days": critical_days})
    engine.build(project, target, project.order, earlier)
    assert target.row_count("stg_orders") == 1  # the order of 2024-03-01 alone


def test_a_partial_build_keeps_the_recorded_value_of_a_variable_it_does_not_use(project, monkeypatch):
    """`ecom build --select fact_daily_pnl` after `--select fact_inventory_forecast --vars
    critical_days=10` was refused: the default 7 would have been recorded for the inventory mart."""
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    engine.build(project, target, project.order, engine.build_vars(project, target, project.order, {})[0])
    inventory = ["fact_inventory_forecast"]
    engine.build(project, target, inventory, engine.build_vars(project, target, inventory, {"critical_days": 10})[0])
    pnl = project.select(["fact_daily_pnl"])
    values = engine.build_vars(project, target, pnl, {})[0]
    assert (values["critical_days"], values["low_days"], values["as_of"]) == (10, 14, dt.date(2024, 3, 5))
    engine.build(project, target, pnl, values)
    assert engine.stored_vars(project, target)["critical_days"] == "10"
    # given, or set in its environment variable, a value is the user's: refused as before
    with pytest.raises(engine.BuildError, match=r"^critical_days=7: the built models this build leaves"):
        engine.build(project, target, pnl, engine.build_vars(project, target, pnl, {"critical_days": 7})[0])
    with_env = dataclasses.replace(project.vars["critical_days"], env="ECOM_TEST_CRITICAL_DAYS")
    monkeypatch.setitem(project.vars, "critical_days", with_env)
    monkeypatch.setenv("ECOM_TEST_CRITICAL_DAYS", "7")
    assert engine.build_vars(project, target, pnl, {})[0]["critical_days"] == 7


def test_the_raw_tables_a_build_reads_include_those_of_the_views_it_reads(project):
    """A mart over staging views reads their raw tables when it runs (DuckDB); over staging tables
    (BigQuery) none. Worked from the lineage: fact_product_performance reads stg_products (products),
    stg_order_items (order_items, orders) and stg_orders (orders); int_orders is a table everywhere,
    so dim_customers reads users through stg_users alone."""
    duckdb_target, bigquery = DuckDBTarget(":memory:"), types.SimpleNamespace(name="bigquery")
    assert engine.raw_tables_read(project, duckdb_target, ["fact_product_performance"]) == [
        "orders",
        "order_items",
        "products",
    ]
    assert engine.raw_tables_read(project, duckdb_target, ["dim_customers"]) == ["users"]
    assert engine.raw_tables_read(project, bigquery, ["fact_product_performance", "dim_customers"]) == []
    assert engine.raw_tables_read(project, bigquery, ["stg_marketing", "fact_daily_pnl"]) == ["marketing_spend"]
    # a full build: every raw table but distribution_centers, which no model reads (docs/bigquery.md)
    every = [t for t in RAW_SCHEMAS if t != "distribution_centers"]
    assert engine.raw_tables_read(project, bigquery, project.order) == every


def test_dry_run_plan_reads_built_models_and_inlines_the_others():
    def stg_a(orders):
        return orders.select("order_id")

    def int_b(stg_a):
        return stg_a.mutate(twice=stg_a.order_id * 2)

    def fact_c(int_b, stg_a):
        return int_b.join(stg_a, "order_id")

    project = tiny_project(stg_a, int_b, fact_c)
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    engine.build(project, target, ["stg_a"], {"as_of": dt.date(2024, 3, 5)})
    plan = engine.dry_run_plan(project, target, ["int_b", "fact_c"], {})
    assert list(plan) == ["int_b", "fact_c"]
    expr, inline = plan["fact_c"]
    assert inline == ["int_b"]  # stg_a is built: read as its table
    assert sorted(expr.execute()["twice"]) == [2, 4]  # order ids 1 and 2, doubled
    # int_b left out of the selection: the build refuses to read what is not built, and so does its dry run
    with pytest.raises(engine.BuildError) as refused:
        engine.build(project, target, ["fact_c"], {"as_of": dt.date(2024, 3, 5)})
    with pytest.raises(engine.BuildError) as e:
        engine.dry_run_plan(project, target, ["fact_c"], {})
    assert (
        str(e.value)
        == str(refused.value)
        == ("fact_c reads int_b, which is not built on duckdb main in :memory:: build it too, e.g. --select +fact_c")
    )


def test_a_dry_run_estimates_in_full_an_incremental_model_that_computes_its_upstream_inline(project):
    """`--dry-run --full-refresh --select stg_events+` over a stg_events changed by hand: the queries
    computed stg_events inline, but the incremental plans read it as it was and failed in ibis's words
    ("'Table' object has no attribute 'ip_hash'"), where the build succeeds."""
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = engine.target_vars(project, target, {})
    engine.build(project, target, project.order, values)
    target.con.raw_sql("ALTER TABLE main.stg_events DROP COLUMN ip_hash")
    selected = project.select(["stg_events+"])
    plan = engine.dry_run_plan(project, target, selected, values)
    assert plan["int_web_sessions"][1] == ["stg_events"]
    plans = engine.incremental_plans(project, target, plan, values, full_refresh=True)
    # int_web_sessions has none: estimated in full; fact_session_metrics reads int_web_sessions as built
    assert {name: how for name, (how, _) in plans.items()} == {
        "stg_events": "full: --full-refresh",
        "fact_session_metrics": "full: --full-refresh",
    }
    engine.build(project, target, selected, values, full_refresh=True)


def test_a_dry_run_over_an_upstream_changed_by_hand_refuses_it_or_computes_it_as_the_build_would():
    """A dry run read a built upstream as it was: changed by hand, it estimated a query the build
    refuses (`twice * 2` over text repeats it) or failed in ibis's words (a column dropped). Not
    selected, it is refused as the build refuses it; selected, the build replaces it before its
    readers run, so the estimate computes it inline."""

    def stg_a(orders):
        return orders.select("order_id")

    def int_b(stg_a):
        return stg_a.mutate(twice=stg_a.order_id * 2)

    def fact_c(int_b):
        return int_b.mutate(four=int_b.twice * 2)

    project = tiny_project(stg_a, int_b, fact_c)
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = {"as_of": dt.date(2024, 3, 5)}
    engine.build(project, target, project.order, values)
    target.con.raw_sql("ALTER TABLE main.int_b ALTER twice TYPE VARCHAR")
    with pytest.raises(engine.BuildError) as refused:
        engine.build(project, target, ["fact_c"], values)
    with pytest.raises(engine.BuildError) as e:
        engine.dry_run_plan(project, target, ["fact_c"], values)
    assert (
        str(e.value)
        == str(refused.value)
        == (
            "fact_c reads int_b, which is not as its model builds it on duckdb main in :memory: "
            "(column twice is string, not int64): build it too, e.g. --select +fact_c"
        )
    )
    expr, inline = engine.dry_run_plan(project, target, ["int_b", "fact_c"], values)["fact_c"]
    assert inline == ["int_b"]
    assert sorted(expr.execute()["four"]) == [4, 8]  # order ids 1 and 2, doubled twice


def test_missing_raw_table_and_columns_are_all_listed():
    target = DuckDBTarget(":memory:")
    raw = empty_raw()
    del raw["events"]
    raw["orders"] = raw["orders"].drop_columns(["status"]).set_column(4, "created_at", pa.array([], pa.string()))
    target.write_raw({t: d for t, d in raw.items() if t != "orders"})
    target.con.raw_sql(
        "CREATE TABLE raw.orders (order_id BIGINT, user_id BIGINT, gender VARCHAR, "
        "created_at VARCHAR, returned_at TIMESTAMP, shipped_at TIMESTAMP_NS, "
        "delivered_at TIMESTAMPTZ, num_of_item INTEGER)"
    )
    with pytest.raises(SourceContractError) as info:
        engine.validate_sources(target)
    text = str(info.value)
    assert "orders.status: expected string, found no such column" in text
    assert "orders.created_at: expected timestamp('UTC'), found string" in text
    assert "events: expected a table, found none" in text
    # naive and nanosecond timestamps and narrower integers are accepted (read as UTC, int64)
    assert "returned_at" not in text and "shipped_at" not in text and "num_of_item" not in text


def test_compile_is_deterministic(project):
    values = resolve_vars(project.vars, {"as_of": dt.date(2024, 6, 30)}, lambda _: None)
    settings = {"project": "my-proj", "dataset": "d", "raw_dataset": "public.raw"}
    raw_at, models = BigQueryTarget.offline_locations(settings, {})
    first = {
        n: engine.to_sql(e, "bigquery") for n, e in engine.unbound_expressions(project, values, raw_at, models).items()
    }
    second = {
        n: engine.to_sql(e, "bigquery") for n, e in engine.unbound_expressions(project, values, raw_at, models).items()
    }
    assert first == second
    assert "`public`.`raw`.`orders`" in first["stg_orders"]


runner = CliRunner()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "ecom.duckdb"
    target = DuckDBTarget(path)
    target.write_raw(raw_with_orders("2024-03-01"))
    target.close()
    return path


def test_an_as_of_far_past_the_latest_order_is_warned_of(db):
    """`--vars as_of=2062-...` for 2026 built marts of zeros without a word. The only order is of
    2024-03-01: 31 days after it is quiet, 32 days after it is a warning; both build."""
    for as_of, warned in (("2024-04-01", False), ("2024-04-02", True)):
        result = runner.invoke(app, ["build", "--select", "stg_orders", "--vars", f"as_of={as_of}", "--path", str(db)])
        assert result.exit_code == 0, result.output
        line = (
            f"warning: as_of={as_of} is 32 days after its default on this data, 2024-03-01 (the build's today; "
            "defaults to the latest order date): the trailing windows before it hold no data; check the date"
        )
        assert (line in " ".join(result.stderr.split())) is warned, result.stderr
        assert ("warning:" in result.stderr) is warned


@pytest.mark.parametrize("given", [True, False])
def test_as_of_costs_one_query_of_the_raw_data(db, monkeypatch, given):
    """A build checks as_of against its bounds on the raw data, a query (billed on BigQuery); the
    warning of an as_of given far past the latest order ran one more, of the latest order, and so
    did as_of's default when none was given. The bounds' query answers all three."""
    ran = []

    def counted(func):
        @functools.wraps(func)  # the engine reads the raw tables it takes from its signature
        def run(**tables):
            ran.append(func.__name__)
            return func(**tables)

        return run

    as_of = registry._VARS["as_of"]
    counting = dataclasses.replace(as_of, default=counted(as_of.default), bounds=counted(as_of.bounds))
    monkeypatch.setitem(registry._VARS, "as_of", counting)
    args = ["--vars", "as_of=2024-04-02"] if given else []
    result = runner.invoke(app, ["build", "--select", "stg_orders", *args, "--path", str(db)])
    assert result.exit_code == 0, result.output
    warning = "warning: as_of=2024-04-02 is 32 days after its default on this data, 2024-03-01"
    assert (warning in " ".join(result.stderr.split())) is given
    # the default from the bounds' query: the latest order date of the db fixture
    assert ("with as_of=2024-03-01," in result.stderr) is not given
    assert ran == ["as_of_bounds"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "--select", "fact_nope"], "--select 'fact_nope' matches no model"),
        (["build", "--vars", "{as_of: [2024"], "is not a valid mapping"),
        (["build", "--vars", "session_timeout_minutes=soon"], "session_timeout_minutes must be a whole number"),
        (["build", "--vars", "colour=blue"], "unknown variable colour"),
        (["test", "--select", "fact_session_metrics"], "not built on duckdb main in {db}: fact_session_metrics"),
        # a new database: not its 25 names on one line
        (["test"], "not built on duckdb main in {db}: none of the 25 models it tests; run `ecom build` first"),
        (["report"], "not built on duckdb main in {db}: none of the 10 marts it reads; run `ecom build` first"),
        # int_orders' first upstream (its parameters' order) is stg_orders; nothing is built yet
        (
            ["build", "--select", "int_orders"],
            "int_orders reads stg_orders, which is not built on duckdb main in {db}: build it too, "
            "e.g. --select +int_orders",
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_1(db, args, message):
    result = runner.invoke(app, [*args, "--path", str(db)])
    assert result.exit_code == 1
    # the error alone: a refused build printed its "Building 1 model ... with" line first
    assert result.stderr.startswith("error: ") and message.format(db=db) in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_cli_test_on_a_database_with_no_tables_says_nothing_is_built(tmp_path):
    """With no raw tables either, `ecom test` printed the source contract's ten lines (eight tables
    missing, read for as_of's default) where `ecom report` said nothing was built."""
    db = tmp_path / "empty.duckdb"
    DuckDBTarget(db).close()
    result = runner.invoke(app, ["test", "--path", str(db)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert " ".join(result.stderr.split()) == (
        f"error: not built on duckdb main in {db}: none of the 25 models it tests; run `ecom build` first"
    )


@pytest.mark.parametrize(
    "given, message",
    [
        ("session_timeout_minutes=[", "--vars session_timeout_minutes=...: the value is not one YAML can read"),
        ("visitor_salt='Pr1vate", "--vars visitor_salt=...: the value is not one YAML can read (not shown)"),
        ("visitor_salt=@Pr1vate", "--vars visitor_salt=...: the value is not one YAML can read (not shown)"),
        ("as_of=\x01", "--vars as_of=...: the value is not one YAML can read (special characters are not allowed)"),
        ("{visitor_salt: Pr1vate, as_of: 2024-02-30}", "--vars {...}: day is out of range for month"),
        ("{visitor_salt: 'Pr1vate}", "--vars {...} is not a valid mapping (not shown)"),
        # YAML spells the key with an escape: no {mapping} text is quoted
        ('{"visitor\\x5fsalt": Pr1vate, as_of: 2024-02-30}', "--vars {...}: day is out of range for month"),
        # a space or a comma splits a key=value salt: the part after it is not quoted
        ("visitor_salt=Pr1 Pr1vate", "--vars a part is neither key=value nor a {key: value} mapping"),
        ("visitor_salt=Pr1,Pr1vate", "--vars a part is neither key=value nor a {key: value} mapping"),
        # a secret's name running on without a separator: what follows may be the secret, not a misspelling
        ("{visitor_salt-Pr1vate}", "--vars gives a name starting 'visitor_salt' followed by more than a name"),
        ("visitor_salt-Pr1vate=1", "--vars gives a name starting 'visitor_salt' followed by more than a name"),
        # ... or running on with word characters: named whole before, as an unknown variable
        ("visitor_salt_Pr1vate=1", "--vars gives a name starting 'visitor_salt' followed by more than a name"),
        ("{visitor_saltPr1vate: 1}", "--vars gives a name starting 'visitor_salt' followed by more than a name"),
        # YAML's escape for a byte that is not UTF-8 (as a shell passes one): a traceback in the binding
        ('{visitor_salt: "Pr1vate\\udcff"}', "visitor_salt holds bytes that are not UTF-8 text: (secret, not shown)"),
    ],
)
def test_cli_unreadable_vars_are_one_line_that_never_shows_a_secret(db, given, message):
    """YAML's own errors were tracebacks quoting the value, the salt included; the one-line errors
    quoted the whole --vars text, the salt included."""
    result = runner.invoke(app, ["build", "--vars", given, "--path", str(db)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert message in " ".join(result.stderr.split()) and result.stderr.count("\n") <= 2, result.stderr
    assert "Pr1vate" not in result.output


def test_cli_missing_database_says_what_to_do(tmp_path):
    result = runner.invoke(app, ["build", "--path", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert "run `ecom generate` or `ecom load FOLDER` first" in " ".join(result.stderr.split())


def test_cli_build_then_test(db):
    # stg_orders alone: its relationships test reads stg_users, not built (an ERROR line per test)
    result = runner.invoke(app, ["build", "--select", "stg_orders", "--path", str(db)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["test", "--select", "stg_orders", "--path", str(db)])
    assert result.exit_code == 1
    assert result.stderr == f"error: not built on duckdb main in {db}: stg_users; run `ecom build` first\n"
    result = runner.invoke(app, ["build", "--select", "staging", "--path", str(db)])
    assert result.exit_code == 0, result.output
    assert "stg_orders" in result.stdout
    # the line naming the build and its dozen variables is one line in a log, however long
    [building] = [line for line in result.stderr.splitlines() if line.startswith("Building ")]
    assert building.startswith(f"Building 7 models on duckdb main in {db} with as_of=")
    assert building.endswith(", visitor_salt=not set") and len(building) > 200
    result = runner.invoke(app, ["test", "--select", "staging", "--path", str(db)])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.stdout


def test_cli_test_against_other_variables_than_the_build_is_refused(db):
    """The data tests of a build at one as_of, run at another, failed for that reason alone (the
    spine ends elsewhere): one line instead. The build's own value is accepted."""
    assert (
        runner.invoke(app, ["build", "--select", "staging", "--vars", "as_of=2024-03-01", "--path", str(db)]).exit_code
        == 0
    )
    result = runner.invoke(app, ["test", "--select", "staging", "--vars", "as_of=2024-02-01", "--path", str(db)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"--vars as_of=2024-02-01: the models on duckdb main in {db} were built with as_of=2024-03-01, and their "
        "data tests check them with their build's variables: drop it, or build with it first"
    ) in " ".join(result.stderr.split())
    result = runner.invoke(app, ["test", "--select", "staging", "--vars", "as_of=2024-03-01", "--path", str(db)])
    assert result.exit_code == 0, result.output


SALT = "n0t-in-any-log"


@pytest.fixture
def db_with_event(tmp_path):
    """An order and one anonymous event from IP 10.0.0.1, so stg_events has a hash to check."""
    path = tmp_path / "ecom.duckdb"
    raw = raw_with_orders("2024-03-01")
    event = {c: None for c in RAW_SCHEMAS["events"]}
    event.update(id=1, created_at=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC), ip_address="10.0.0.1")
    raw["events"] = pa.Table.from_pylist([event], schema=RAW_SCHEMAS["events"].to_pyarrow())
    target = DuckDBTarget(path)
    target.write_raw(raw)
    target.close()
    return path


def built_hash_and_recorded_salt(path: Path) -> tuple[str, dict]:
    target = DuckDBTarget(path)
    try:
        ip_hash = target.table("stg_events").ip_hash.to_pyarrow().to_pylist()
        recorded = {r["name"]: r["value"] for r in target.table(engine.VARS_TABLE).to_pyarrow().to_pylist()}
        return ip_hash, recorded
    finally:
        target.close()


@pytest.mark.parametrize("how", ["vars", "env", "both"])
def test_visitor_salt_is_used_but_never_printed_nor_recorded(db_with_event, monkeypatch, how):
    args = ["build", "--select", "stg_events", "--path", str(db_with_event)]
    if how in ("env", "both"):
        monkeypatch.setenv("ECOM_VISITOR_SALT", SALT if how == "env" else "the-env-loses")
    if how in ("vars", "both"):
        args += ["--vars", f"visitor_salt={SALT}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert SALT not in result.output and "the-env-loses" not in result.output
    assert "visitor_salt=set" in " ".join(result.stderr.split())
    ip_hash, recorded = built_hash_and_recorded_salt(db_with_event)
    assert ip_hash == [hashlib.sha256(f"{SALT}10.0.0.1".encode()).hexdigest()[:16]]  # --vars wins over env
    assert recorded["visitor_salt"] == "set"
    assert SALT not in db_with_event.read_bytes().decode("latin-1")  # nowhere in the database file
    # `ecom test` reads the recorded vars: "set" is not taken for the salt, and the tests pass.
    result = runner.invoke(app, ["test", "--select", "stg_events", "--path", str(db_with_event)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("where", [[], ["--target", "bigquery", "--project", "my-project", "--dataset", "ecom"]])
def test_compiled_sql_names_the_salt_and_never_holds_it(db_with_event, tmp_path, monkeypatch, where):
    """The SQL names visitor_salt as a query parameter: it can be shared, and it is the same
    whatever the salt (what a build runs on either engine, bound to the value then)."""
    compiled = []
    for i, salt in enumerate((SALT, "another-salt")):
        monkeypatch.setenv("ECOM_VISITOR_SALT", salt)
        out = tmp_path / f"out{i}"
        args = ["compile", "--select", "stg_events", "--vars", "as_of=2024-03-01", "--out", str(out)]
        result = runner.invoke(app, [*args, *(where or ["--path", str(db_with_event)])])
        assert result.exit_code == 0, result.output
        (sql,) = [f.read_text() for f in out.rglob("stg_events.sql")]
        assert salt not in sql and salt not in result.output
        compiled.append(sql)
    assert compiled[0] == compiled[1]
    assert ("@visitor_salt" if where else "GETVARIABLE('visitor_salt')") in compiled[0]


@pytest.mark.parametrize("command", ["compile", "docs"])
def test_without_a_database_compile_and_docs_name_the_vars_that_do_without_it(tmp_path, command):
    """Both compile offline when as_of is given: an error that only said 'run ecom generate' sent a
    CI job that compiles the SQL to make data it does not need."""
    missing, out = tmp_path / "none.duckdb", tmp_path / "out"
    result = runner.invoke(app, [command, "--path", str(missing), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no DuckDB database at {missing}: run `ecom generate` or `ecom load FOLDER` first; "
        "or give --vars as_of=YYYY-MM-DD to do without it\n"
    )
    assert not out.exists() and not missing.exists()


def test_visitor_salt_unset_is_recorded_as_such(db_with_event, monkeypatch):
    monkeypatch.delenv("ECOM_VISITOR_SALT", raising=False)
    result = runner.invoke(app, ["build", "--select", "stg_events", "--path", str(db_with_event)])
    assert result.exit_code == 0, result.output
    ip_hash, recorded = built_hash_and_recorded_salt(db_with_event)
    assert ip_hash == [hashlib.sha256(b"10.0.0.1").hexdigest()[:16]]
    assert recorded["visitor_salt"] == "not set"


def test_a_salt_of_the_wrong_type_is_refused_without_showing_it(db_with_event):
    # YAML reads 80512 as a number: refused, and the message does not repeat it.
    result = runner.invoke(app, ["build", "--path", str(db_with_event), "--vars", "visitor_salt=80512"])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "visitor_salt must be a str, not a value of type int (secret, not shown)" in message
    assert "ECOM_VISITOR_SALT" in message and "80512" not in result.output


def test_cli_compile_offline_writes_one_file_per_model(tmp_path, project, monkeypatch):
    """With no project set, the SQL names a placeholder, which the closing line says (the README calls
    the SQL ready to paste into BigQuery's console)."""
    monkeypatch.delenv("ECOM_BQ_PROJECT", raising=False)
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = sorted(p.stem for p in (tmp_path / "bigquery").glob("*.sql"))
    assert written == sorted(project.order)
    assert "FROM `your-project`.`ecom_raw`.`orders`" in (tmp_path / "bigquery" / "stg_orders.sql").read_text()
    assert " ".join(result.stderr.split()) == (
        f"Wrote 25 bigquery models to {tmp_path}/bigquery/ (as_of=2024-06-30); `your-project` stands for your "
        "BigQuery project: set --project, ECOM_BQ_PROJECT or `project` under [bigquery] in ecom.toml"
    )
    result = runner.invoke(app, [*args, "--project", "my-project"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"Wrote 25 bigquery models to {tmp_path}/bigquery/ (as_of=2024-06-30)"
    assert ibis.__version__ == "12.0.0"


@pytest.mark.parametrize("extra", [[], ["--exclude", "stg_orders"]])  # a second --exclude adds to the first
def test_cli_exclude_leaves_models_out(tmp_path, extra):
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--select", "+fact_daily_pnl", "--exclude", "staging", *extra])
    assert result.exit_code == 0, result.output
    # fact_daily_pnl reads int_daily_sales and int_daily_marketing; the rest of its ancestors are staging
    written = {p.stem for p in (tmp_path / "bigquery").glob("*.sql")}
    assert written == {"int_daily_sales", "int_daily_marketing", "fact_daily_pnl"}
    result = runner.invoke(app, [*args, "--exclude", "staging,intermediate", "--exclude", "marts"])
    assert result.exit_code == 1
    message = "error: --exclude 'staging,intermediate' 'marts' leaves no model; exclude fewer"
    assert " ".join(result.stderr.split()) == message


def test_selectors_take_several_words_as_dbt_does(tmp_path):
    """`--select a b` (dbt's form) failed: click took `a` and refused `b` as an extra argument."""
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)]
    words = ["--select", "stg_orders", "stg_users", "int_orders", "--exclude", "int_orders", "stg_users"]
    result = runner.invoke(app, [*args, *words])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "bigquery").glob("*.sql")) == ["stg_orders.sql"]
    result = runner.invoke(app, [*args, "-s", "stg_users", "stg_products", "--vars", "critical_days=7"])
    assert result.exit_code == 0, result.output  # a word after another option is that option's
    assert sorted(p.name for p in (tmp_path / "bigquery").glob("*.sql")) == [
        "stg_orders.sql",
        "stg_products.sql",
        "stg_users.sql",
    ]


def test_vars_take_several_words_as_one_value(tmp_path):
    """`--vars as_of=2024-06-30 critical_days=9` unquoted failed as `--select a b` did: the words after
    --vars up to the next option are one value, as if quoted, the YAML mapping's too."""

    def compiled(name: str, *words: str) -> str:
        out = tmp_path / name
        result = runner.invoke(app, ["compile", "--target", "bigquery", "--out", str(out), *words])
        assert result.exit_code == 0, result.output
        return (out / "bigquery" / "fact_inventory_forecast.sql").read_text()

    quoted = compiled("quoted", "--vars", "as_of=2024-06-30 critical_days=9")
    assert quoted != compiled("default", "--vars", "as_of=2024-06-30")  # the variable tells
    assert compiled("words", "--vars", "as_of=2024-06-30", "critical_days=9", "-s", "marts") == quoted
    assert compiled("mapping", "--vars", "{as_of:", "2024-06-30,", "critical_days:", "9}") == quoted
    assert compiled("equals", "--vars=critical_days=9", "as_of=2024-06-30") == quoted
    # one value: a variable given twice in it is refused, as when quoted
    result = runner.invoke(app, ["compile", "--out", str(tmp_path), "--vars", "as_of=2024-06-30", "as_of=2024-07-01"])
    assert result.exit_code == 1 and "as_of" in result.stderr and "once" in result.stderr, result.output


def test_cli_compile_removes_the_sql_of_models_no_longer_in_the_project(tmp_path, project):
    """A renamed model's old file stayed beside the new one, to be deployed or reviewed as current.
    Only the files compile wrote go: `--out .` deleted a user's own ./duckdb/*.sql."""
    folder = tmp_path / "bigquery"
    folder.mkdir()
    (folder / "fact_daily_profit.sql").write_text("-- the model's old name")
    (folder / ".ecom-compiled").write_text("fact_daily_profit\nstg_users\n")  # as an earlier compile left it
    (folder / "mine.sql").write_text("-- a user's own query: kept")
    (folder / "notes.txt").write_text("not SQL: kept")
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--select", "stg_orders"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [".ecom-compiled", "mine.sql", "notes.txt", "stg_orders.sql"]
    assert (folder / ".ecom-compiled").read_text() == "stg_orders\nstg_users\n"  # stg_users: written before
    assert result.stderr.rstrip().endswith("; removed fact_daily_profit.sql: no such model any more")
    result = runner.invoke(app, args)  # nothing stale: nothing said
    assert result.exit_code == 0 and "removed" not in result.stderr
    assert sorted(p.stem for p in folder.glob("*.sql")) == sorted([*project.order, "mine"])
    assert (folder / ".ecom-compiled").read_text().split() == sorted(project.order)


def test_cli_compile_without_its_list_removes_stale_files_only_in_its_own_folder(tmp_path, monkeypatch):
    """A folder compiled before `.ecom-compiled` existed: in target/compiled/<target> (compile's own,
    as dbt's target/) every .sql is compile's; elsewhere (`--out .`) only the current models' are."""
    monkeypatch.chdir(tmp_path)
    own, elsewhere = tmp_path / "target" / "compiled" / "bigquery", tmp_path / "bigquery"
    for folder in (own, elsewhere):
        folder.mkdir(parents=True)
        (folder / "fact_daily_profit.sql").write_text("-- the model's old name, or a user's query")
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--select", "stg_orders"]
    assert runner.invoke(app, args).exit_code == 0
    assert sorted(p.name for p in own.iterdir()) == [".ecom-compiled", "stg_orders.sql"]
    assert runner.invoke(app, [*args, "--out", "."]).exit_code == 0
    assert sorted(p.name for p in elsewhere.iterdir()) == [".ecom-compiled", "fact_daily_profit.sql", "stg_orders.sql"]


def test_cli_compile_says_which_stale_file_it_cannot_remove_and_removes_it_next_time(tmp_path, monkeypatch):
    """A stale file that cannot be removed (a read-only share) ended compile in a traceback, after its
    list was written without it: no later compile would have removed it."""
    folder = tmp_path / "bigquery"
    folder.mkdir()
    stale = folder / "fact_daily_profit.sql"
    stale.write_text("-- the model's old name")
    (folder / ".ecom-compiled").write_text("fact_daily_profit\n")
    unlink = Path.unlink

    def refused(path, *args, **kwargs):
        if path == stale:
            raise PermissionError(13, "Permission denied", str(path))
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", refused)
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path), "-s", "stg_orders"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: wrote the SQL to {folder}/, but cannot remove fact_daily_profit.sql (Permission denied), "
        "of models no longer in the project: remove them"
    )
    assert (folder / "stg_orders.sql").is_file() and stale.is_file()
    assert (folder / ".ecom-compiled").read_text() == "fact_daily_profit\nstg_orders\n"
    monkeypatch.setattr(Path, "unlink", unlink)
    assert runner.invoke(app, args).exit_code == 0
    assert not stale.exists()
    assert (folder / ".ecom-compiled").read_text() == "stg_orders\n"


def test_cli_compile_interrupted_while_removing_stale_files_removes_them_next_time(tmp_path, monkeypatch):
    """A Ctrl-C between the stale files' removals left the others unlisted: no later compile removed them."""
    folder = tmp_path / "bigquery"
    folder.mkdir()
    stale = [folder / "fact_daily_profit.sql", folder / "fact_old.sql"]
    for path in stale:
        path.write_text("-- an old model's SQL")
    (folder / ".ecom-compiled").write_text("fact_daily_profit\nfact_old\n")
    unlink = Path.unlink

    def interrupted(path, *args, **kwargs):
        if path == stale[0]:
            raise KeyboardInterrupt
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", interrupted)
    args = ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path), "-s", "stg_orders"]
    assert runner.invoke(app, args).exit_code == 130
    assert all(path.exists() for path in stale)
    assert (folder / ".ecom-compiled").read_text() == "fact_daily_profit\nfact_old\nstg_orders\n"
    monkeypatch.setattr(Path, "unlink", unlink)
    assert runner.invoke(app, args).exit_code == 0
    assert not any(path.exists() for path in stale)
    assert (folder / ".ecom-compiled").read_text() == "stg_orders\n"


def test_cli_compile_names_its_list_when_a_folder_stands_there(tmp_path):
    """A folder named .ecom-compiled was refused as if the user had named it ("give the name of a file
    to write (in it or elsewhere)"), though compile chose that name."""
    listing = tmp_path / "duckdb" / ".ecom-compiled"
    listing.mkdir(parents=True)
    result = runner.invoke(app, ["compile", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: {listing} is a folder, where compile keeps the list of the files it wrote: remove it"
    )
    assert list(listing.parent.iterdir()) == [listing]


def test_cli_compile_writes_every_file_or_none(tmp_path, project):
    """A path it cannot write (here a folder in the way, the last model's) replaces no file, the
    ones before it included."""
    folder = tmp_path / "bigquery"
    folder.mkdir()
    for name in project.order:
        (folder / f"{name}.sql").write_text("-- old")
    last = folder / f"{project.order[-1]}.sql"
    last.unlink()
    last.mkdir()
    result = runner.invoke(
        app, ["compile", "--target", "bigquery", "--vars", "as_of=2024-06-30", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert f"{last} is a folder: give the name of a file to write" in " ".join(result.stderr.split())
    assert {p.name: p.read_text() for p in folder.glob("*.sql") if p.is_file()} == {
        f"{name}.sql": "-- old" for name in project.order[:-1]
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.sql" for name in project.order)


def test_readme_lineage_graph_is_current(project):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert engine.mermaid(project, project.order) in readme, "README's graph is stale: paste `ecom ls --mermaid`"


def test_a_model_switches_between_table_and_view_on_the_same_duckdb_file(project):
    """DuckDB refuses CREATE OR REPLACE VIEW over a table (and the reverse): the target drops the other kind."""
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = engine.target_vars(project, target, {})
    staged = project.models["stg_orders"]
    kind = "SELECT table_type FROM information_schema.tables WHERE table_name = 'stg_orders'"
    for materialized, table_type in [("table", "BASE TABLE"), ("view", "VIEW"), ("table", "BASE TABLE")]:
        switched = Model(staged.name, staged.func, staged.key, materialized_on={"duckdb": materialized})
        one = Project.from_parts({"stg_orders": switched}, {}, project.vars)
        [result] = engine.build(one, target, ["stg_orders"], values)
        assert (result.rows, target.con.con.execute(kind).fetchone()[0]) == (2, table_type)


@pytest.mark.parametrize("columns", ["200", "60"])
def test_cli_build_profile_prints_materializations_memory_and_time_around_models(db, monkeypatch, columns):
    """A log (200 columns) gets the table; a terminal too narrow for its words, a line a model."""
    monkeypatch.setenv("ECOM_DUCKDB_MEMORY_LIMIT", "512MiB")
    # the build runs in this process: the column is its peak RSS so far (ru_maxrss is in KiB on Linux)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args = ["build", "--select", "stg_orders stg_events", "--profile", "--path", str(db)]
    result = runner.invoke(app, args, env={"COLUMNS": columns})
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.exit_code == 0, result.output
    assert max(map(len, result.stdout.splitlines())) <= int(columns) and "…" not in result.stdout, result.stdout
    text = " ".join(result.stdout.split())
    assert "Build profile (memory_limit 512.0 MiB, temp_directory " in text
    if columns == "200":
        row = next(line for line in result.stdout.splitlines() if "stg_orders" in line)
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        assert cells[:4] == ["stg_orders", "staging", "view", "1"]
        peak = cells[6]
        events = next(line for line in result.stdout.splitlines() if "stg_events" in line)
        assert [c.strip() for c in events.strip("│ ").split("│")][7] == "full: no previous build"
        # the benchmark reads this table: a change of its columns dropped the incremental models there
        monkeypatch.syspath_prepend(Path(__file__).parent.parent / "benchmarks")
        profile_rows = importlib.import_module("bench_build").profile_rows
        rows = {m: r["rows"] for m, r in profile_rows(result.stdout).items()}
        assert rows == {"stg_orders": 1, "stg_events": 0}  # the fixture: one order, no events
    else:
        shown = re.search(
            r"stg_orders: layer staging; materialized view; rows 1; seconds [\d.]+; rows/s [\d,]+; "
            r"peak RSS MB so far ([\d,.]+) stg_events: .*; built full: no previous build total: seconds [\d.]+ ",
            text,
        )
        assert shown, result.stdout
        peak = shown[1]
    assert peak_before - 1 <= float(peak.replace(",", "")) <= peak_after + 1
    assert "s before them (imports, source checks, variables)" in text


@pytest.mark.parametrize(("env", "shown"), [(None, "FSST"), ("none", "none"), ("fsst,dictionary", "Dictionary,FSST")])
def test_fsst_compression_is_off_unless_asked_for(tmp_path, monkeypatch, env, shown):
    if env is not None:
        monkeypatch.setenv("ECOM_DUCKDB_DISABLED_COMPRESSION_METHODS", env)
    target = DuckDBTarget(tmp_path / "x.duckdb")
    (setting,) = target.con.con.execute("SELECT current_setting('disabled_compression_methods')").fetchone()
    assert (setting or "none", target.resources["disabled_compression_methods"]) == (shown, shown)
    target.close()


@pytest.mark.parametrize(("env", "shown"), [(None, False), ("true", True), ("false", False)])
def test_insertion_order_is_not_preserved_unless_asked_for(tmp_path, monkeypatch, env, shown):
    if env is not None:
        monkeypatch.setenv("ECOM_DUCKDB_PRESERVE_INSERTION_ORDER", env)
    target = DuckDBTarget(tmp_path / "x.duckdb")
    (setting,) = target.con.con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    assert (setting, target.resources["preserve_insertion_order"]) == (shown, shown)
    target.close()


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [("MEMORY_LIMIT", "lots", "write e.g. 4GB"), ("PRESERVE_INSERTION_ORDER", "sometimes", "write e.g. true or false")],
)
def test_cli_bad_duckdb_setting_is_one_line_and_exit_1(db, tmp_path, monkeypatch, name, value, hint):
    monkeypatch.setenv(f"ECOM_DUCKDB_{name}", value)
    new = tmp_path / "new.duckdb"
    for args in (["build", "--path", str(db)], ["generate", "--path", str(new)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        message = " ".join(result.stderr.split())
        assert f"ECOM_DUCKDB_{name}='{value}' is refused by DuckDB" in message and hint in message
        assert "Traceback" not in result.output
    # no empty database made for generate: a build then said "no raw tables" instead of "run ecom generate"
    assert not new.exists()


@pytest.mark.parametrize("value", ["-1GB", " -512MiB", "-1"])
def test_a_negative_memory_limit_is_refused_not_taken_as_none(db, monkeypatch, value):
    """DuckDB takes a memory limit starting with "-" as no limit at all: -1GB built under none."""
    monkeypatch.setenv("ECOM_DUCKDB_MEMORY_LIMIT", value)
    before = snapshot(db)
    result = runner.invoke(app, ["build", "--select", "stg_orders", "--vars", "as_of=2024-03-01", "--path", str(db)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: ECOM_DUCKDB_MEMORY_LIMIT={value!r} is negative, which DuckDB takes as no limit at all; "
        "write e.g. 4GB, or unset it\n",
    )
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "given, problem",
    [
        ("file", "is not a folder: give a folder"),
        ("file/spill", "cannot be made, {tmp}/file is a file: give a folder"),
        # DuckDB makes the last folder only: a missing folder above it fails when it first spills
        ("none/spill", "cannot be made, {tmp}/none does not exist: make it, give another"),
    ],
)
def test_cli_temp_directory_that_cannot_be_a_folder_is_one_line(db, tmp_path, monkeypatch, given, problem):
    """DuckDB takes any path and fails only when a sort spills, as 'model X failed: IO Error'."""
    (tmp_path / "file").write_text("mine")
    spill = tmp_path / given
    monkeypatch.setenv("ECOM_DUCKDB_TEMP_DIRECTORY", str(spill))
    result = runner.invoke(app, ["build", "--path", str(db)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: ECOM_DUCKDB_TEMP_DIRECTORY='{spill}' {problem.format(tmp=tmp_path)}, or unset it"
    )
    assert (tmp_path / "file").read_text() == "mine" and not (tmp_path / "none").exists()


def test_cli_temp_directory_that_cannot_be_written_is_one_line(db, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    access = os.access  # root writes into any folder: this folder is made unwritable for everyone
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and access(path, mode))
    monkeypatch.setenv("ECOM_DUCKDB_TEMP_DIRECTORY", str(locked / "spill"))
    result = runner.invoke(app, ["build", "--path", str(db)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: ECOM_DUCKDB_TEMP_DIRECTORY='{locked / 'spill'}' cannot be written ({locked} is not writable): "
        "give another folder, or unset it"
    )


# os.access already refuses /proc to anyone but root: the write is what catches it for root
@pytest.mark.skipif(not Path("/proc/self").is_dir() or os.geteuid() != 0, reason="root, and Linux's /proc")
@pytest.mark.parametrize(
    "spill, problem",
    [
        ("/proc", "writing a file in it: No such file or directory"),
        ("/proc/spill", "making it in /proc: No such file or directory"),
    ],
)
def test_cli_temp_directory_where_nothing_can_be_made_is_one_line(db, monkeypatch, spill, problem):
    """/proc says it is a writable folder (to root) and makes nothing in it: DuckDB took it and would
    have failed only when a build spilled."""
    monkeypatch.setenv("ECOM_DUCKDB_TEMP_DIRECTORY", spill)
    result = runner.invoke(app, ["build", "--path", str(db)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: ECOM_DUCKDB_TEMP_DIRECTORY='{spill}' cannot be written ({problem}): give another folder, or unset it"
    )


@pytest.mark.parametrize("first", ["ecom.duckdb", "raw.duckdb"])
def test_a_renamed_database_file_still_reads_its_staging_views(project, tmp_path, first):
    """Staging models are views on DuckDB; their stored SQL must not name the file's catalog (a file
    named like a schema, raw.duckdb, is the one exception, and still builds)."""
    target = DuckDBTarget(tmp_path / first)
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    engine.build(project, target, project.select(["staging"]), engine.target_vars(project, target, {}))
    assert project.models["stg_orders"].materialization("duckdb") == "view"
    target.close()
    moved = (tmp_path / first).rename(tmp_path / "moved.duckdb")
    again = DuckDBTarget(moved, create=False)
    if first == "ecom.duckdb":
        assert again.table("stg_orders").count().execute() == 2
    again.close()


def test_batched_data_tests_count_each_test_and_name_the_one_that_errs():
    con = ibis.duckdb.connect()
    con.create_table("t", ibis.memtable({"k": [1, 1, 2, None], "v": ["a", "b", "c", "d"]}))
    t = con.table("t")

    calls: dict[str, int] = {}

    def case(name, model, failing):
        def counted(table):
            calls[name] = calls.get(name, 0) + 1
            return failing(table)

        return engine.TestCase(name, model, counted)

    cases = [
        # k = 1 twice: one failing group (the NULL group has one row)
        case("unique_k", "t", lambda table: table("t").group_by("k").aggregate(n=ibis._.count()).filter(ibis._.n > 1)),
        case("not_null_k", "t", lambda table: table("t").filter(t.k.isnull())),  # 1 row
        case("no_z", "t", lambda table: table("t").filter(t.v == "z")),  # none
        case("positive_k", "u", lambda table: table("t").filter(t.k > 0)),  # 3 rows (1, 1, 2): another model
    ]
    expected = [("unique_k", "fail", 1), ("not_null_k", "fail", 1), ("no_z", "pass", 0), ("positive_k", "fail", 3)]
    for batch in (False, True):
        calls.clear()
        assert [(r.name, r.status, r.failures) for r in engine.run_tests(cases, con.table, batch=batch)] == expected
        assert calls == dict.fromkeys(calls, 1) and len(calls) == 4  # each test's query built once: no fallback
    # a test that cannot run fails its model's query: each test then runs alone, and only it errs
    broken = [*cases[:2], case("reads_nothing", "t", lambda table: table("missing")), *cases[2:]]
    results = engine.run_tests(broken, con.table, batch=True)
    assert [(r.name, r.status, r.failures) for r in results if r.status != "error"] == expected
    [error] = [r for r in results if r.status == "error"]
    assert error.name == "reads_nothing" and "missing" in error.message


def _fan_out():
    """stg_a, read by int_b, int_c and int_f; fact_d reads int_b and int_c."""

    def stg_a(orders):
        return orders

    def int_b(stg_a):
        return stg_a

    def int_c(stg_a):
        return stg_a

    def int_f(stg_a):
        return stg_a

    def fact_d(int_b, int_c):
        return int_b

    return tiny_project(stg_a, int_b, int_c, int_f, fact_d)


def test_models_build_side_by_side_once_what_they_read_is_built():
    project = _fan_out()
    events, lock = [], threading.Lock()
    both_running = threading.Barrier(2, timeout=10)  # int_b and int_c must be running at the same time

    def build_one(name):
        with lock:
            events.append(("start", name))
        if name in ("int_b", "int_c"):
            both_running.wait()
        with lock:
            events.append(("end", name))
        return engine.ModelResult(name, 0)

    done = [r.name for r in engine._in_dependency_order(project, ["stg_a", "int_b", "int_c", "fact_d"], 3, build_one)]
    assert sorted(done) == ["fact_d", "int_b", "int_c", "stg_a"]
    at = {e: i for i, e in enumerate(events)}
    for up, down in [("stg_a", "int_b"), ("stg_a", "int_c"), ("int_b", "fact_d"), ("int_c", "fact_d")]:
        assert at[("end", up)] < at[("start", down)], (up, down)
    # one at a time: exactly the given order
    events.clear()
    sequential = [r.name for r in engine._in_dependency_order(project, ["stg_a", "int_f"], 1, build_one)]
    assert sequential == ["stg_a", "int_f"]
    assert events == [("start", "stg_a"), ("end", "stg_a"), ("start", "int_f"), ("end", "int_f")]


def test_after_a_failure_no_model_starts_and_the_running_ones_finish():
    project = _fan_out()
    started, int_c_running = [], threading.Event()

    def build_one(name):
        started.append(name)
        if name == "int_b":
            int_c_running.wait(10)  # fails while int_c is still being built
            raise engine.BuildError("model int_b failed: boom")
        if name == "int_c":
            int_c_running.set()
            time.sleep(0.2)
        return engine.ModelResult(name, 0)

    done = []
    # two at a time: int_b and int_c start once stg_a is built; int_f waits for a free worker
    with pytest.raises(engine.BuildError, match="int_b failed: boom"):
        for result in engine._in_dependency_order(project, ["stg_a", "int_b", "int_c", "int_f"], 2, build_one):
            done.append(result.name)
    assert done == ["stg_a", "int_c"]  # int_c was running: it finished and was reported
    assert "int_f" not in started  # a worker came free after the failure: nothing more started


def test_a_ctrl_c_while_models_build_side_by_side_cancels_the_running_ones():
    """Only the main thread receives the signal; it waited for the running models (on BigQuery,
    jobs of any length) to end on their own before saying the build was stopped."""
    from ecom.core.interrupts import watching_ctrl_c

    project = _fan_out()
    cancelled = threading.Event()

    def build_one(name):
        if name == "int_b":  # SIGTERM while int_b's job runs, which runs until it is cancelled
            signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
            if not cancelled.wait(10):
                return engine.ModelResult(name, 0)
            raise engine.BuildError("model int_b failed: Job execution was cancelled")
        return engine.ModelResult(name, 0)

    with watching_ctrl_c(), pytest.raises(KeyboardInterrupt):
        list(engine._in_dependency_order(project, ["stg_a", "int_b", "int_c"], 2, build_one, cancelled.set))
    assert cancelled.is_set()


def test_a_summary_with_no_rows_says_so_under_its_title():
    from ecom.cli import _rich_table

    # rich drew a table with no columns as blank lines, its title lost
    assert _rich_table("RFM segments", []) == "RFM segments: no rows"


def test_a_one_row_summary_is_as_wide_as_its_values_under_its_title():
    from rich.console import Console

    from ecom.cli import _rich_table

    console = Console(width=120, record=True, file=io.StringIO())
    title = "P&L, last 30 days to as_of: " + "net revenue, gross profit and margin (%), ad spend, ROAS; " * 2
    console.print(_rich_table(title, [{"date": dt.date(2026, 11, 27), "net_revenue_30d": 14137.4}]))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert " ".join(lines[:2]) == title.strip()  # the title, wrapped at 120 columns, above the table
    # "│ net_revenue_30d │ 2026-11-27 │": 15 and 10 characters, each padded by a space, 3 borders
    assert lines[2:] == [
        "┌─────────────────┬────────────┐",
        "│ date            │ 2026-11-27 │",
        "│ net_revenue_30d │ 14,137.40  │",
        "└─────────────────┴────────────┘",
    ]


def _printed(renderable: object, width: int) -> list[str]:
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


def _columns_of(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """A printed table's headers (joined across their lines) and its rows' cells."""
    header_lines = [line for line in lines if line.startswith("┃")]
    split = [[c.strip() for c in line.split("┃")[1:-1]] for line in header_lines]
    headers = ["".join(parts) for parts in zip(*split, strict=True)]
    return headers, [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]


def test_a_summary_in_80_columns_breaks_its_headers_at_underscores_not_its_values():
    """At 80 columns rich cut the build's inventory summary to `420,362.…` and `stock_on…`, and
    wrapped RFM's `Potential Loyalists` over two rows (`Loyalists` read as a segment of no customers)."""
    from ecom.cli import _rich_table

    inventory = [
        {"inventory_status": s, "products": 21155, "stock_on_hand": 146170, "stock_value": 4203627.5,
         "reorder_qty": 1670, "reorder_value": 43834.5}
        for s in ("dead_stock", "out_of_stock")
    ]  # fmt: skip
    title = "Inventory at as_of: products, units and stock value by status, and what to reorder"
    lines = _printed(_rich_table(title, inventory), 80)
    assert max(map(len, lines)) <= 80 and "…" not in "".join(lines)
    headers, rows = _columns_of(lines)
    assert headers == list(inventory[0])  # whole, once the lines of each are joined
    assert rows == [
        [s, "21,155", "146,170", "4,203,627.50", "1,670", "43,834.50"] for s in ("dead_stock", "out_of_stock")
    ]
    segments = [
        {"segment": s, "customers": 6490, "customers_pct": 17.96, "net_revenue": 595333.0, "net_revenue_pct": 14.41}
        for s in ("Champions", "Potential Loyalists")
    ]
    headers, rows = _columns_of(_printed(_rich_table("RFM segments", segments), 80))
    assert headers == list(segments[0])
    assert [row[0] for row in rows] == ["Champions", "Potential Loyalists"]  # a row each, names whole
    # printed again in a wide terminal, the headers are whole again: fitted at each width
    table = _rich_table("RFM segments", segments)
    _printed(table, 60)
    assert _columns_of(_printed(table, 120))[0] == [
        "segment",
        "customers",
        "customers_pct",
        "net_revenue",
        "net_revenue_pct",
    ]
    assert sum(line.startswith("┃") for line in _printed(table, 120)) == 1


def test_headers_stay_whole_where_breaking_them_keeps_no_value_whole():
    """`ecom runs` at 200 columns printed `as_` over `of`: its message wraps at any width, so the
    broken header kept no value whole."""
    from ecom.cli import Table

    table = Table("status", "as_of", "message", title="Runs")
    table.add_row("success", "2024-06-30", "a raw table the export left with fewer rows: orders " * 3)
    lines = _printed(table, 60)
    assert sum(line.startswith("┃") for line in lines) == 1  # one header line: as_of whole
    assert _columns_of(lines)[0] == ["status", "as_of", "message"]
    assert _columns_of(lines)[1][0][:2] == ["success", "2024-06-30"]
    # but where breaking them keeps more values whole, they break, a long cell or not
    headers = ("segment", "avg_order_value_usd", "repeat_purchase_rate_pct", "days_since_last_order", "note")
    table = Table(*headers, title="Segments")
    table.add_row("Potential Loyalists", "85.10", "12.50", "40", "bought twice within the window; " * 4)
    lines = _printed(table, 100)
    assert _columns_of(lines)[0] == list(headers)
    assert _columns_of(lines)[1][0][:4] == ["Potential Loyalists", "85.10", "12.50", "40"]


def test_the_build_profile_of_a_target_without_settings_has_no_empty_brackets():
    """BigQuery has no memory limit or spill folder to show: its title was "Build profile ()"."""
    from types import SimpleNamespace

    from ecom.cli import _profile_table

    assert _profile_table(None, SimpleNamespace(resources={}), []).title == "Build profile"
    settings = {"memory_limit": "512.0 MiB", "threads": "2"}
    assert _profile_table(None, SimpleNamespace(resources=settings), []).title == (
        "Build profile (memory_limit 512.0 MiB, threads 2)"
    )


def test_a_table_whose_words_cannot_fit_prints_a_line_a_row():
    """Where even the longest word of each column cannot fit (the build profile's eight columns need
    about 115 columns), rich cut every cell: each row is a line instead, wrapped, nothing cut."""
    from ecom.cli import Table

    table = Table("model", "layer", "materialized", "rows", "peak RSS MB so far", title="Build profile (tight)")
    table.add_row("fact_campaign_performance", "marts", "incremental", "2,421,991", "3,817.25")
    table.add_row("total", "", "", "2,421,991", "", style="bold")
    lines = _printed(table, 40)
    assert lines == [
        "Build profile (tight)",
        "fact_campaign_performance: layer marts;",
        "    materialized incremental; rows",
        "    2,421,991; peak RSS MB so far",
        "    3,817.25",
        "total: rows 2,421,991",
    ]
    assert _columns_of(_printed(table, 120))[1][0] == [
        "fact_campaign_performance",
        "marts",
        "incremental",
        "2,421,991",
        "3,817.25",
    ]


def test_a_line_a_row_breaks_at_spaces_only_and_keeps_a_cells_colour():
    """A campaign's hyphens are no place to break a line (textwrap breaks there by default), and a
    coloured cell (the freshness status) keeps its colour on its line."""
    from rich.console import Console
    from rich.text import Text

    from ecom.cli import Table

    table = Table("raw table", "newest row", "campaign", "status", title="Checks")
    table.add_row("orders", "2025-12-31 23:56 UTC", "spring-sale-google", Text("error", style="red"))
    console = Console(width=26, record=True, file=io.StringIO(), force_terminal=True, color_system="standard")
    console.print(table)
    assert console.export_text(clear=False).splitlines() == [
        "Checks",
        "orders: newest row",
        "    2025-12-31 23:56 UTC;",
        "    campaign",  # not `campaign spring-sale-`: 26 columns
        "    spring-sale-google;",
        "    status error",
    ]
    assert "\x1b[31merror\x1b[0m" in console.export_text(styles=True)
    # a rich Text cell's own spaces and line breaks are one space each: no letter lost at a break
    notes = Table("raw table", "note", title="Notes")
    notes.add_row("orders", Text("late  by\ntwo days", style="yellow"))
    assert _printed(notes, 14) == ["Notes", "orders: note", "    late by", "    two days"]


def test_example_values_are_short_text():
    from ecom.cli import _shown

    assert _shown(145.23000000000002) == "145.23"  # a sum's float noise, not the amount
    assert _shown(float("inf")) == "inf" and _shown(None) == "NULL"
    assert _shown(dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)) == "2024-03-01 09:30:00+00:00"
    assert _shown("x" * 50) == "x" * 39 + "…"  # 40 characters at most


def test_failing_examples_show_the_first_rows_by_the_columns_that_name_them():
    rows = ibis.memtable({"k": [3, 1, 2, 5, 4], "v": [None, None, "x", None, None], "wide": ["..."] * 5})
    case = engine.TestCase("t", "m", lambda table: table("m").filter(table("m").v.isnull()), ("v",), ("k", "v"))
    # the rows with v NULL are k 1, 3, 4, 5: the first three by k, without the other columns
    assert engine.failing_examples(case, lambda name: rows) == [
        {"k": 1, "v": None},
        {"k": 3, "v": None},
        {"k": 4, "v": None},
    ]
    everything = engine.TestCase("t", None, lambda table: table("m").filter(table("m").k > 4))  # a data test
    assert engine.failing_examples(everything, lambda name: rows) == [{"k": 5, "v": None, "wide": "..."}]


def test_generic_tests_show_the_models_key_and_the_tested_column(project):
    shown = {c.name: c.shown for c in engine.generic_tests(project, ["stg_order_items"])}
    assert shown["unique_stg_order_items_order_item_id"] == ("order_item_id", "n")  # the key and its count
    assert shown["not_null_stg_order_items_order_item_id"] == ("order_item_id",)
    assert shown["relationships_stg_order_items_product_id__stg_products"] == ("order_item_id", "product_id")


def test_no_data_test_returns_a_joins_second_copy_of_a_key(project):
    """A failing data test prints its rows' columns: three joined a mart's totals to another's and
    printed date_right, attribution_model_right, channel_right, cohort_month_right (NULL, or the
    key of the missing row the test is about, beside a NULL key)."""
    schemas = engine.model_schemas(project)
    values = resolve_vars(project.vars, {"as_of": dt.date(2024, 1, 1)}, lambda _: None)
    tables = {name: ibis.table(schema, name=name) for name, schema in schemas.items()}
    for case in engine.singular_tests(project, project.order, values):
        columns = case.failing(tables.__getitem__).schema().names
        assert not [c for c in columns if c.endswith("_right")], (case.name, columns)


def test_cli_test_prints_the_first_failing_rows(tmp_path):
    db = str(tmp_path / "ecom.duckdb")
    assert runner.invoke(app, ["load", str(FIXTURES / "sales"), "--path", db]).exit_code == 0
    args = ["--select", "+fact_daily_pnl", "--vars", "as_of=2024-03-31", "--path", db]
    assert runner.invoke(app, ["build", *args]).exit_code == 0
    with duckdb.connect(db) as con:
        days = [d for (d,) in con.sql("SELECT date FROM main.fact_daily_pnl ORDER BY date DESC LIMIT 4").fetchall()]
        for day in days:  # each of the last four days twice
            con.execute("INSERT INTO main.fact_daily_pnl SELECT * FROM main.fact_daily_pnl WHERE date = ?", [day])
    result = runner.invoke(app, ["test", "--select", "fact_daily_pnl", "--path", db])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = lines.index("FAIL  unique_fact_daily_pnl_date (4 failing rows)")
    assert lines[at + 1 : at + 4] == [f"      date={day}, n=2" for day in sorted(days)[:3]]
    assert lines[at + 4].startswith(("PASS", "FAIL"))  # three examples, then the next test


def test_example_rows_wrap_between_columns_only(monkeypatch):
    """textwrap broke inside values: at a timestamp's space and at a name's hyphens."""
    from rich.console import Console

    from ecom import cli

    printed = Console(width=40, file=io.StringIO())
    monkeypatch.setattr(cli, "out", printed)
    row = {"created_at": "2024-03-01 09:30:00+00:00", "name": "Some-very-long-hyphenated-name", "n": 2}
    monkeypatch.setattr(engine, "failing_examples", lambda case, table: [row])
    cli._print_examples(None, types.SimpleNamespace(table=None))
    assert printed.file.getvalue().splitlines() == [  # a value wider than the width stays whole
        "      created_at=2024-03-01 09:30:00+00:00,",
        "      name=Some-very-long-hyphenated-name,",
        "      n=2",
    ]


def built_without_transaction(project, monkeypatch) -> tuple[DuckDBTarget, dict]:
    """Every model built at as_of 2024-03-05 (two orders, 03-01 and 03-05); then the target as
    BigQuery: each model replaced as it is built, nothing to roll back."""
    target = DuckDBTarget(":memory:")
    target.write_raw(raw_with_orders("2024-03-01", "2024-03-05"))
    values = engine.target_vars(project, target, {})
    engine.build(project, target, project.order, values)
    monkeypatch.setattr(target, "transactional", False)
    monkeypatch.setattr(target, "transaction", contextlib.nullcontext)
    return target, values


def test_a_build_without_a_transaction_that_stops_part_way_says_so(project, monkeypatch):
    """On BigQuery (no transaction around a build) a failure left the models before it rebuilt at
    the new as_of, the rest at the old one, and _ecom_vars claiming the new one for all: `ecom test`,
    the report and the partial-build check then read values the models were not built with."""
    target, values = built_without_transaction(project, monkeypatch)
    materialize = target.materialize

    failing = [project.order[0]]

    def quota_exceeded(model, expr):
        if model.name in failing:
            raise RuntimeError("Quota exceeded")
        return materialize(model, expr)

    monkeypatch.setattr(target, "materialize", quota_exceeded)
    earlier = {**values, "as_of": dt.date(2024, 3, 1)}
    # refused before any model (int_orders is not selected and now missing), or failing at the first
    # model: nothing replaced, the last build's record stands
    target.con.raw_sql("DROP TABLE main.int_orders")
    with pytest.raises(engine.BuildError, match="reads int_orders, which is not built"):
        engine.build(project, target, ["dim_customers"], values)
    with pytest.raises(engine.BuildError, match=f"model {failing[0]} failed: Quota exceeded"):
        engine.build(project, target, project.order, earlier)
    assert engine.stored_vars(project, target)["as_of"] == "2024-03-05"
    # failing after the staging models were replaced at 2024-03-01
    failing[:] = ["int_orders"]
    with pytest.raises(engine.BuildError, match="model int_orders failed: Quota exceeded"):
        engine.build(project, target, project.order, earlier)
    unfinished = (
        r"^the last build on duckdb main in .*, started \d{4}-\d\d-\d\d \d\d:\d\d UTC, stopped part-way: the "
        r"models it rebuilt and the ones it did not were built with different variables; run `ecom build` "
        r"\(every model\) to finish it$"
    )
    for reader in (engine.stored_vars, lambda p, t: engine.built_vars(p, t, {})):
        with pytest.raises(engine.BuildError, match=unfinished):
            reader(project, target)
    with pytest.raises(engine.BuildError, match=unfinished):  # a partial build too: it would keep mixed models
        engine.build(project, target, ["fact_daily_pnl"], values)
    monkeypatch.setattr(target, "materialize", materialize)
    engine.build(project, target, project.order, values)  # every model: finished
    assert engine.stored_vars(project, target)["as_of"] == "2024-03-05"


@pytest.mark.parametrize("job_may_have_run", [False, True])
def test_a_ctrl_c_before_any_model_was_replaced_leaves_the_last_record(project, monkeypatch, job_may_have_run):
    """Without a transaction (BigQuery) a Ctrl-C at the first model, its job cancelled, left the
    build's unfinished mark: every later build of some models was refused until all were rebuilt
    (billed in full), and the command said "after some tables were replaced". A job the cancel may
    not have stopped counts as replaced: the mark then stays."""
    from ecom.core.interrupts import mark_replaced, replaced, watching_ctrl_c

    target, values = built_without_transaction(project, monkeypatch)
    write_table = target.write_table

    def written(name, data):  # as on BigQuery, where a load job replaces the record
        write_table(name, data)
        mark_replaced()

    def stopped(model, expr):
        if job_may_have_run:
            mark_replaced()  # as BigQuery's wait marks a job not seen to end cancelled
        raise KeyboardInterrupt

    monkeypatch.setattr(target, "write_table", written)
    monkeypatch.setattr(target, "materialize", stopped)
    with watching_ctrl_c():
        with pytest.raises(KeyboardInterrupt):
            engine.build(project, target, project.order, {**values, "as_of": dt.date(2024, 3, 1)})
        assert replaced() == job_may_have_run  # the CLI's word: "nothing was committed" when False
    if job_may_have_run:
        with pytest.raises(engine.BuildError, match="stopped part-way"):
            engine.stored_vars(project, target)
    else:
        assert engine.stored_vars(project, target)["as_of"] == "2024-03-05"


def test_a_model_failing_after_its_old_table_was_dropped_leaves_the_build_unfinished(project, monkeypatch):
    """On BigQuery a model turned from a table into a view (or back) has its old table dropped by
    one job before the next creates it. When that second job failed, the build, having replaced no
    model, wrote the last record back: it then said every model was built with the last values while
    the first model was missing. A job that ran counts as a change, failed build or Ctrl-C."""
    from ecom.core.interrupts import mark_replaced

    target, values = built_without_transaction(project, monkeypatch)

    def dropped_then_refused(model, expr):
        mark_replaced()  # the DROP's job ran, as BigQuery's wait counts it
        raise RuntimeError("Syntax error: Unexpected keyword")  # the CREATE's job refused

    monkeypatch.setattr(target, "materialize", dropped_then_refused)
    with pytest.raises(engine.BuildError, match=f"model {project.order[0]} failed: Syntax error"):
        engine.build(project, target, project.order, {**values, "as_of": dt.date(2024, 3, 1)})
    with pytest.raises(engine.BuildError, match="stopped part-way"):
        engine.stored_vars(project, target)


def test_a_second_ctrl_c_while_threads_still_build_leaves_the_build_unfinished(project, monkeypatch):
    """With threads, a first Ctrl-C cancels the running jobs and waits for their threads; a second cut
    that wait. Had the last record been written back then, a job finishing after it would have left
    its table at the new variables under the old record, and the command saying nothing changed."""
    from ecom.core.interrupts import mark_replaced, replaced, watching_ctrl_c

    target, values = built_without_transaction(project, monkeypatch)
    monkeypatch.setattr(target, "build_workers", 2)
    entered, release = threading.Event(), threading.Event()

    def job(model, expr):  # a thread between two jobs of its model: the next starts after the cut wait
        entered.set()
        release.wait(30)
        mark_replaced()  # as BigQuery counts a job from before its request
        raise RuntimeError("ended after the command")  # a thread's end no one reads any more

    def first_ctrl_c(futures, return_when):  # while the main thread waits for the threads' results
        entered.wait(30)
        raise KeyboardInterrupt

    class Pool(ThreadPoolExecutor):  # the build's threads, not the one compiling ahead
        def shutdown(self, wait=True, *, cancel_futures=False):
            building = self._thread_name_prefix.startswith("ecom-build")
            super().shutdown(wait=wait and not building, cancel_futures=cancel_futures)
            if wait and building:
                raise KeyboardInterrupt  # the second Ctrl-C, while the pool's exit waits for its threads

    monkeypatch.setattr(target, "materialize", job)
    monkeypatch.setattr(engine, "wait", first_ctrl_c)
    monkeypatch.setattr(engine, "ThreadPoolExecutor", Pool)
    with watching_ctrl_c():
        try:
            with pytest.raises(KeyboardInterrupt):
                engine.build(project, target, project.order, {**values, "as_of": dt.date(2024, 3, 1)})
        finally:
            release.set()
        deadline = time.monotonic() + 30
        while not replaced() and time.monotonic() < deadline:  # the threads' jobs, after the command
            time.sleep(0.05)
    with pytest.raises(engine.BuildError, match="stopped part-way"):
        engine.stored_vars(project, target)


def test_a_ctrl_c_between_two_results_cancels_the_jobs_still_running(project, monkeypatch):
    """A Ctrl-C that reached the build's loop between two results (as the progress bar printed one)
    left the threads' pool to wait for the running jobs, which no one had cancelled (on BigQuery:
    minutes), until the build's generator was collected."""
    target, values = built_without_transaction(project, monkeypatch)
    monkeypatch.setattr(target, "build_workers", 2)
    cancelled = threading.Event()

    def job(model, expr):
        if model.name == "stg_users":
            cancelled.wait(30)  # a job that ends when cancelled
            raise RuntimeError("cancelled")
        return 0

    def ctrl_c(result):
        raise KeyboardInterrupt

    monkeypatch.setattr(target, "materialize", job)
    monkeypatch.setattr(target, "describe", lambda *args: None)
    monkeypatch.setattr(target, "cancel_jobs", cancelled.set)
    with pytest.raises(KeyboardInterrupt):
        engine.build(project, target, ["stg_orders", "stg_users"], values, on_done=ctrl_c)
    assert cancelled.is_set()


def test_a_model_rebuilt_whose_description_fails_leaves_the_build_unfinished(project, monkeypatch):
    """A failure at the first model wrote the last record back, as though no model had changed: but
    when its table job had run and only its description failed (a metadata update on BigQuery),
    stg_orders was rebuilt at the new as_of under a record of the old one."""
    target, values = built_without_transaction(project, monkeypatch)
    describe = target.describe

    def denied(model, *args):
        if model.name == "stg_orders":
            raise RuntimeError("Access Denied")
        return describe(model, *args)

    monkeypatch.setattr(target, "describe", denied)
    with pytest.raises(engine.BuildError, match="model stg_orders failed: Access Denied"):
        engine.build(project, target, project.order, {**values, "as_of": dt.date(2024, 3, 1)})
    # the orders of 2024-03-01 only: rebuilt at the new as_of
    assert target.con.raw_sql("SELECT count(*) FROM main.stg_orders").fetchone() == (1,)
    with pytest.raises(engine.BuildError, match="stopped part-way"):
        engine.stored_vars(project, target)


def test_ctrl_c_after_tables_were_replaced_without_a_transaction_says_so(capsys):
    from ecom.cli import friendly_errors
    from ecom.core.interrupts import mark_replaced

    with pytest.raises(typer.Exit) as e, friendly_errors():
        mark_replaced()  # as BigQuery's jobs mark each table they replace
        raise KeyboardInterrupt
    assert e.value.exit_code == 130
    assert " ".join(capsys.readouterr().err.split()) == (  # said "nothing was committed"
        "interrupted after some tables were replaced (this target has no transaction across them): the rest are as "
        "they were; run the command again to finish (a build: `ecom build` of every model)"
    )
