"""The registry refuses a name registered twice (a second definition would silently replace the first)."""

import inspect

import pytest

from ecom.core import registry
from ecom.core.registry import ProjectError, data_test, model, summary, var


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    """Register into empty tables, so that nothing here joins the project's models."""
    for name in ("_MODELS", "_TESTS", "_VARS", "_SUMMARIES", "_DEFINED_AT"):
        monkeypatch.setattr(registry, name, {})


def _line(func) -> int:
    return inspect.getsourcelines(func)[1]


def first_orders(stg_orders):
    return stg_orders


def second_orders(stg_orders):
    return stg_orders


def test_a_model_defined_twice_is_refused_naming_both_definitions():
    second_orders.__name__ = "first_orders"  # as if two modules wrote a model of the same name
    model(key="order_id")(first_orders)
    with pytest.raises(ProjectError) as refused:
        model(key="order_id")(second_orders)
    assert str(refused.value) == (
        f"model first_orders is defined twice: {__name__} line {_line(first_orders)} and "
        f"{__name__} line {_line(second_orders)}; rename one"
    )


@pytest.mark.parametrize(("register", "kind"), [(data_test, "data test"), (summary, "summary")])
def test_a_data_test_or_summary_defined_twice_is_refused(register, kind):
    def check(stg_orders):
        return stg_orders

    register(check)
    first = _line(check)

    def check(stg_orders):  # noqa: F811 - the duplicate under test
        return stg_orders

    with pytest.raises(
        ProjectError, match=f"^{kind} check is defined twice: .* line {first} and .* line {_line(check)};"
    ):
        register(check)


def test_a_variable_defined_twice_is_refused_and_the_same_definition_again_is_not():
    var("as_of", str, "2024-01-01", "first")
    first = inspect.currentframe().f_lineno - 1
    with pytest.raises(ProjectError, match=f"^variable as_of is defined twice: {__name__} line {first} and .* line"):
        var("as_of", str, "2024-01-02", "second")
    model(key="order_id")(first_orders)
    model(key="order_id")(first_orders)  # a module imported again registers the same definition
    assert list(registry._MODELS) == ["first_orders"]


def test_materialization_is_per_target_and_table_where_not_named():
    def per_target_orders(stg_orders):
        return stg_orders

    def view_orders(stg_orders):
        return stg_orders

    model(key="order_id", materialized={"duckdb": "view"})(per_target_orders)
    model(key="order_id", materialized="view")(view_orders)
    per_target, everywhere = registry._MODELS["per_target_orders"], registry._MODELS["view_orders"]
    assert (per_target.materialization("duckdb"), per_target.materialization("bigquery")) == ("view", "table")
    assert (everywhere.materialization("duckdb"), everywhere.materialization("bigquery")) == ("view", "view")


@pytest.mark.parametrize(
    ("materialized", "message"),
    [
        ({"duckbd": "view"}, "materialized names unknown target(s) duckbd; targets: duckdb, bigquery"),
        ({"duckdb": "ephemeral"}, "materialized must be 'table', 'view' or 'incremental', not 'ephemeral'"),
        ("ephemeral", "materialized must be 'table', 'view' or 'incremental', not 'ephemeral'"),
    ],
)
def test_a_bad_materialization_is_refused(materialized, message):
    with pytest.raises(ValueError) as refused:
        model(key="order_id", materialized=materialized)(first_orders)
    assert str(refused.value) == message


def test_a_data_tests_title_is_its_whole_first_paragraph():
    # `ecom docs` shows the title: a docstring's sentence wrapped onto a second line was cut mid-way
    def wrapped(t):
        """For every date, Σ credited_orders = the P&L's orders
        and Σ credited_revenue = its net_revenue.

        Detail that is not part of the title."""

    def unwritten(t):
        pass

    assert registry.DataTest("wrapped", wrapped).title == (
        "For every date, Σ credited_orders = the P&L's orders and Σ credited_revenue = its net_revenue."
    )
    assert registry.DataTest("unwritten", unwritten).title == "unwritten"
