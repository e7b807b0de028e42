"""Turning the registry into expressions, tables and test results on a target."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from ecom.core import incremental
from ecom.core.dialects import query_parameter
from ecom.core.docstrings import ModelDoc, model_docs
from ecom.core.internal import InternalTableError, column_problems, read_rows
from ecom.core.interrupts import replacements, reset_replaced, stop_if_ctrl_c
from ecom.core.registry import DataTest, Model, Project, is_secret
from ecom.core.sources import RAW_SCHEMAS, SourceContractError, check_schema, conform, orphans_warning, value_checks
from ecom.core.text import counted
from ecom.core.vars import VarsError, check_value, default_on_data, printable, resolve_vars
from ecom.targets.base import Location, Target, TargetError, first_line, row_count
from ecom.targets.options import ChosenTarget

VARS_TABLE = "_ecom_vars"  # the variables the built models were built with (_refuse_mixing_builds), beside them
# Each built model's row count, seconds and when (UTC) its last build ran, beside the models.
BUILD_TABLE = "_ecom_build"
VARS_SCHEMA = pa.schema([("name", pa.string()), ("value", pa.string())])
BUILD_SCHEMA = pa.schema(
    [("model", pa.string()), ("rows", pa.int64()), ("seconds", pa.float64()), ("built_at", pa.timestamp("us", "UTC"))]
)
# both are written anew by every build (a partial one keeps the other models' rows of _ecom_build)
REWRITE = "run `ecom build` (every model) to write it anew"
UNFINISHED = "_unfinished_build"  # a row of VARS_TABLE while a build without a transaction runs: its start


class LastBuild:
    """The last build's record on a target (VARS_TABLE, BUILD_TABLE) for one command: each table is
    read at most once (a query: on BigQuery billed 10 MB at least), then known as the command's own
    writes left it. A command makes one and passes it down; a build that fails forgets both (DuckDB
    rolled its writes back), so that a later question reads the tables as they are."""

    def __init__(self, target: Target):
        self.target = target
        self._vars: dict[str, str] | None = None
        self._builds: dict[str, dict[str, Any]] | None = None

    def vars(self) -> dict[str, str]:
        """VARS_TABLE's rows, name -> value; none: {}."""
        if self._vars is None:
            self._vars = {r["name"]: r["value"] for r in read_rows(self.target, VARS_TABLE, VARS_SCHEMA, REWRITE)}
        return dict(self._vars)

    def builds(self) -> dict[str, dict[str, Any]]:
        """Each model's last build (model, rows, seconds, built_at); none: {}."""
        if self._builds is None:
            rows = read_rows(self.target, BUILD_TABLE, BUILD_SCHEMA, REWRITE, nullable=["rows"])
            self._builds = {r["model"]: r for r in rows}
        return dict(self._builds)

    def write_vars(self, values: Mapping[str, str]) -> None:
        self.target.write_table(VARS_TABLE, pa.table([list(values), list(values.values())], schema=VARS_SCHEMA))
        self._vars = dict(values)

    def write_builds(self, rows: Mapping[str, dict[str, Any]]) -> None:
        self.target.write_table(BUILD_TABLE, pa.Table.from_pylist(list(rows.values()), BUILD_SCHEMA))
        self._builds = dict(rows)

    @contextmanager
    def forgotten_on_failure(self) -> Iterator[None]:
        """Around a build: what it wrote is not known to stand unless it ends."""
        try:
            yield
        except BaseException:
            self._vars = self._builds = None
            raise


FIX_EXPORT = "Fix the export (or load it again with `ecom load`)"
ADVICE = f"{FIX_EXPORT}; no model was run."


class BuildError(Exception):
    """A model could not be built; the message names it and the cause."""


class Rejected(Exception):
    """A build's `audit` rejected it: where the target has transactions (DuckDB) it was rolled back."""


def call(func: Callable[..., Any], tables: Mapping[str, ir.Table], values: Mapping[str, Any]) -> Any:
    """Call a model or test function with the tables and variable values its parameters name; a
    secret variable as a query parameter, so that its value never enters the SQL (`bind_secrets`)."""
    args = {}
    for p in inspect.signature(func).parameters:
        args[p] = tables[p] if p in tables else query_parameter(p) if is_secret(p) else values[p]
    return func(**args)


def secret_values(project: Project, values: Mapping[str, Any]) -> dict[str, str]:
    """The secret variables among `values`: what the SQL names as query parameters."""
    return {name: values[name] for name, var in project.vars.items() if var.secret and name in values}


def bind_secrets(project: Project, target: Target, values: Mapping[str, Any]) -> None:
    """Give the target the secret variables' values, which the SQL names as query parameters."""
    target.bind_parameters(secret_values(project, values))


def validate_sources(target: Target, tables: Iterable[str] = RAW_SCHEMAS, advice: str = ADVICE) -> None:
    """Stop before any model when a raw table's shape (its columns and their types: metadata, no
    query) breaks the source contract; the message ends with `advice`. Their values are a build's
    to check (validate_values)."""
    problems = [p for t in tables for p in check_schema(t, target.raw_schema(t))]
    if problems:
        raise SourceContractError.of(problems, describe(target, raw=True), advice)


def validate_values(target: Target, tables: Iterable[str]) -> list[str]:
    """Stop when the values of raw tables whose shape was checked break the source contract: one
    query over every key, timestamp and amount of them (a billed scan on BigQuery). Return the
    warnings the same query finds: order items of no raw order, which staging drops."""
    problems, orphans = value_checks({t: conform(t, target.source(t)) for t in tables})
    if problems:
        raise SourceContractError.of(problems, describe(target, raw=True), ADVICE)
    return orphans_warning(orphans)


def raw_tables_read(project: Project, target: Target, selected: Iterable[str]) -> list[str]:
    """The raw tables a build of `selected` reads: the selected models' own, and those of the views
    on the target they read and do not rebuild (on DuckDB the staging models are views, so a mart
    built over stg_products reads raw.products when it runs)."""
    seen, todo, read = set(), list(selected), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            read.update(project.sources_of(name))
            ups = project.upstream_models(name)
            todo += [up for up in ups if project.models[up].materialization(target.name) == "view"]
    return [t for t in RAW_SCHEMAS if t in read]


def describe(target: Target, raw: bool = False) -> str:
    return target.place(target.raw if raw else target.models)


Compute = Callable[[Callable[..., Any]], Any]  # a variable's default or bounds (a function of raw tables) -> value


def target_vars(
    project: Project,
    target: Target,
    given: Mapping[str, Any],
    *,
    check_bounds: bool = True,
    compute: Compute | None = None,
) -> dict[str, Any]:
    """Every variable's value on the target's raw data, defaults and bounds computed once each: by
    `compute` when given (a command asking more of the raw data passes its own on_raw_data)."""
    return resolve_vars(project.vars, given, compute or on_raw_data(target), check_bounds=check_bounds)


def on_raw_data(target: Target) -> Compute:
    """A function computing a variable's default or bounds on the target's raw data, each once."""
    tables: dict[str, ir.Table] = {}  # the raw tables, looked up for the first default or bound that reads them
    results: dict[Callable[..., Any], Any] = {}

    def compute(default: Callable[..., Any]) -> Any:
        if default in results:
            return results[default]
        if not tables:
            # A missing raw table or column is the source contract's one-line list (compile, test and
            # docs read the raw data only here), not ibis's error.
            validate_sources(target, advice=f"{FIX_EXPORT}.")  # not the build's "no model was run": any command
            tables.update({s: conform(s, target.source(s)) for s in RAW_SCHEMAS})
        # Through Arrow, a NULL (no orders) is None rather than pandas' NaT: "no default".
        result = call(default, tables, {}).to_pyarrow()
        results[default] = result.to_pylist()[0] if isinstance(result, pa.Table) else result.as_py()
        return results[default]

    return compute


def far_past_the_data(
    project: Project, given: Mapping[str, Any], values: Mapping[str, Any], compute: Compute, days: int = 31
) -> list[str]:
    """A line for each date variable given more than `days` after its default on this data
    (as_of after the latest order): a typo in a year (2062 for 2026) built marts of zeros without
    a word. Within the data's bounds it is a valid value, so a warning, not a refusal. `compute` is
    the one that resolved `values`: bounds that give the default too (as_of's) were computed
    then, and this costs no query."""
    lines = []
    for name in data_derived(project):
        var = project.vars[name]
        if name in given and var.type is dt.date:
            default = default_on_data(var, compute)
            after = None if default is None else (values[name] - default).days
            if after is not None and after > days:
                lines.append(
                    f"{name}={values[name]} is {counted(after, 'day')} after its default on this data, {default} "
                    f"({var.doc}): the trailing windows before it hold no data; check the date"
                )
    return lines


def build_vars(
    project: Project,
    target: Target,
    selected: list[str],
    given: Mapping[str, Any],
    record: LastBuild | None = None,
    *,
    check_values: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    """The variables of a build of `selected`, and its warnings: what `ecom build` and `ecom run`
    check once the raw tables' shape passed (validate_sources).

    With `check_values`, first the values of the raw tables the selected models read, themselves or
    through views (one query over every key, timestamp and amount). Then target_vars (defaults and
    bounds: one query), but a variable no selected model uses, neither given nor set in its
    environment variable, keeps the value the last build recorded. Its default would be recorded for
    the models that use it, which were built with that value: `ecom build --select fact_daily_pnl`
    after `--select fact_inventory_forecast --vars critical_days=10` was refused
    (_refuse_mixing_builds) for a variable it does not read. The warnings: order items of no order,
    an as_of far past the data."""
    warnings = validate_values(target, raw_tables_read(project, target, selected)) if check_values else []
    compute = on_raw_data(target)  # each default and bound read once (the far-past warning's too)
    values = target_vars(project, target, given, compute=compute)
    used = {v for name in selected for v in project.vars_of(name)}
    kept = [
        v
        for v, var in project.vars.items()
        if v not in used and v not in given and not var.secret and not (var.env and var.env in os.environ)
    ]
    if kept:  # a full build uses every variable: it reads no record
        stored = stored_vars(project, target, record)
        values.update({v: _recorded_value(project, target, v, stored[v]) for v in kept if v in stored})
    return values, warnings + far_past_the_data(project, given, values, compute)


def _recorded_value(project: Project, target: Target, name: str, text: str) -> Any:
    """A variable's value as the last build recorded it, in the variable's type. A record the
    variable's check now refuses (changed by hand, or written before the check existed) is named
    as the record's: the bare check's message reads as if --vars had given it."""
    try:
        return check_value(project.vars[name], text)
    except VarsError as e:
        raise VarsError(
            f"the last build on {describe(target)} recorded {name}={text}, which is refused now ({e}): "
            "run `ecom build` (every model) to build again with a value that is accepted"
        ) from None


def unbound_expressions(
    project: Project,
    values: Mapping[str, Any],
    raw: Location | Callable[[str], Location],
    models: Location,
) -> dict[str, ir.Table]:
    """Every model's expression over unbound tables: what `compile` and the snapshots render.

    Each model reads its upstream models as tables of `models` (not inlined), with the schemas the
    upstream expressions produce, so every model compiles to one reviewable statement.
    """
    raw_at = raw if callable(raw) else (lambda _: raw)
    tables: dict[str, ir.Table] = {s: raw_at(s).unbound(s, schema) for s, schema in RAW_SCHEMAS.items()}
    exprs = {}
    for name in project.order:
        exprs[name] = call(project.models[name].func, tables, values)
        tables[name] = models.unbound(name, exprs[name].schema())
    return exprs


def model_schemas(project: Project) -> dict[str, ibis.Schema]:
    """Every model's output schema, compiled over unbound tables (no data, no connection)."""
    # as_of only shapes values, never types: any date gives the schemas.
    given = {"as_of": dt.date(2000, 1, 1)} if "as_of" in project.vars else {}
    values = resolve_vars(project.vars, given, lambda _: None)
    exprs = unbound_expressions(project, values, Location("raw"), Location("models"))
    return {name: expr.schema() for name, expr in exprs.items()}


def to_sql(expr: ir.Table, dialect: str) -> str:
    return ibis.to_sql(expr, dialect=dialect).strip() + "\n"


@dataclass
class ModelResult:
    """A model built (a model that fails raises BuildError instead)."""

    name: str
    rows: int
    seconds: float = 0.0
    note: str = ""  # an incremental model: how it was built (from which day, or why in full)
    peak_bytes: int | None = None  # the engine's peak memory up to this model, when the target measures it


def model_inputs(
    project: Project, target: Target, name: str, inline: Mapping[str, ir.Table] | None = None
) -> dict[str, ir.Table]:
    """The tables a model reads: raw sources and built upstream models, or an upstream's expression
    from `inline` (a dry run computes a model not built yet inside the query that reads it)."""
    tables = {s: conform(s, target.source(s)) for s in project.sources_of(name)}
    for up in project.upstream_models(name):
        tables[up] = inline[up] if inline and up in inline else built_upstream(target, name, up)
    return tables


def built_upstream(target: Target, name: str, up: str) -> ir.Table:
    """The built table of `up`, which model `name` reads; BuildError saying what to build when it is not."""
    if not target.exists(up):
        raise BuildError(
            f"{name} reads {up}, which is not built on {describe(target)}: build it too, e.g. --select +{name}"
        )
    return target.table(up)


def _built_otherwise(target: Target, problems: list[str]) -> str:
    """A model's table that is not what its model builds (changed by hand, or by another version)."""
    return f"is not as its model builds it on {describe(target)} ({'; '.join(problems)})"


def _refresh(project: Project, target: Target, name: str) -> str:
    """`--full-refresh ` for an incremental model: a plain build would append to its table, and be
    refused as it is (IncrementalRun.plan)."""
    return "--full-refresh " if project.models[name].materialization(target.name) == "incremental" else ""


def _schemas_once(project: Project) -> Callable[[str], ibis.Schema]:
    """A model's schema by name: every model's compiled at the first call (about 0.2 s), none without one."""
    schemas: dict[str, ibis.Schema] = {}

    def schema(name: str) -> ibis.Schema:
        if not schemas:
            schemas.update(model_schemas(project))
        return schemas[name]

    return schema


def _read_as_built(
    project: Project, target: Target, name: str, up: str, schema: Callable[[str], ibis.Schema]
) -> ir.Table:
    """The table of `up`, which `name` reads and the build does not build; BuildError saying what to
    build when it is not built, or not as its model builds it: without a column its model builds or
    with one of another type, which `name` would fail to read in ibis's words ("'StringColumn' object
    has no attribute 'sum'")."""
    table = built_upstream(target, name, up)
    problems = column_problems(table.schema(), schema(up))
    if problems:
        raise BuildError(
            f"{name} reads {up}, which {_built_otherwise(target, problems)}: "
            f"build it too, e.g. {_refresh(project, target, up)}--select +{name}"
        )
    return table


def refuse_built_otherwise(project: Project, target: Target, names: Iterable[str]) -> None:
    """Before data tests: the built `names` whose tables lack a column their models build or have one
    of another type (changed by hand, or built by an older ecom). Their tests would fail in ibis's
    words ("'StringColumn' object has no attribute 'sum'") or, worse, pass on the wrong type."""
    built_as = model_schemas(project)
    found = {name: column_problems(target.table(name).schema(), built_as[name]) for name in names}
    wrong = {name: problems for name, problems in found.items() if problems}
    if wrong:
        refresh = "--full-refresh " if any(_refresh(project, target, name) for name in wrong) else ""
        raise BuildError(
            f"not as their models build them on {describe(target)}: "
            + "; ".join(f"{name} ({', '.join(problems)})" for name, problems in wrong.items())
            + f": rebuild before testing, e.g. `ecom build {refresh}--select {','.join(wrong)}`"
        )


def build(
    project: Project,
    target: Target,
    selected: list[str],
    values: Mapping[str, Any],
    on_done: Callable[[ModelResult], None] = lambda r: None,
    full_refresh: bool = False,
    record: LastBuild | None = None,
    on_start: Callable[[], None] = lambda: None,
    audit: Callable[[list[ModelResult]], bool] = lambda results: True,
) -> list[ModelResult]:
    """Materialize the selected models in dependency order, each with its description and its
    columns' (from its docstring) written on the table; incremental models replace only the
    partitions their changes reach, unless `full_refresh` (ecom.core.incremental).

    Each model reads the models built before it as tables known by the schemas of their
    expressions (what `ecom compile` renders), so no model waits for the catalog, and a thread
    builds and compiles the next models' expressions while the engine runs this one (the engine
    releases Python while it works).

    The first failure stops the build and raises BuildError; on DuckDB the whole build is one
    transaction, so the failure leaves every table as it was. `record`: the command's LastBuild.
    `on_start` is called once the build's refusals (values that would mix two builds, an upstream
    model not built) are past, before anything is written. `audit` is given the results once every
    model is built and recorded, before the commit (on DuckDB it reads the uncommitted tables on the
    build's connection); when it returns False the build raises Rejected, which on DuckDB rolls the
    whole build back. On BigQuery, which has no transaction, the tables stay replaced.
    """
    record = record or LastBuild(target)
    _refuse_mixing_builds(project, target, selected, values, record)
    docs = model_docs(project)
    results = []
    bind_secrets(project, target, values)
    run = IncrementalRun(project, target, values, full_refresh)
    started = dt.datetime.now(dt.UTC)
    # outside the transaction: a failed COMMIT is a failure too
    with record.forgotten_on_failure(), target.transaction():
        recorded = printable(project.vars, values)
        prepare = _preparer(project, target, selected, values)  # its lookups refuse first: nothing written
        on_start()
        # Without a transaction (BigQuery: a job a table) a failure leaves the models built before it
        # with this build's variables and the rest as they were: until its end, the record says so.
        previous = None if target.transactional else _recorded_rows(record)
        before = replacements()
        record.write_vars(recorded if previous is None else {**recorded, UNFINISHED: f"{started:%Y-%m-%d %H:%M} UTC"})
        marked = replacements()  # more: a job asked for since, not seen to fail or be cancelled
        replaced: set[str] = set()  # the models whose table a job replaced, even if a later step failed
        # the models a thread is building now (each its own key, all there from the start: read while
        # threads write): none may start a job after the record is written back
        building = dict.fromkeys(selected, False)
        with ThreadPoolExecutor(1, thread_name_prefix="ecom-prepare") as ahead:
            prepared = {n: ahead.submit(prepare, n) for n in selected}

            def build_one(name: str) -> ModelResult:
                building[name] = True
                try:
                    return _build_one(project, target, run, docs, name, prepared[name], replaced)
                finally:
                    building[name] = False

            ordered = _in_dependency_order(project, selected, target.build_workers, build_one, target.cancel_jobs)
            try:
                for result in ordered:
                    results.append(result)
                    on_done(result)
            except BaseException:
                ordered.close()  # the threads cancelled and waited for, whatever their builder was doing
                # No model replaced: the last record stands. Only when no job since the mark may have
                # changed a table (each counts from before its request until seen to fail or be
                # cancelled: the DROP before a table becomes a view, a job whose wait lost the network)
                # and no thread is still building (a second Ctrl-C cut the wait for them): the mark
                # left alone made the next build of some models wait for one of every model.
                untouched = replacements() == marked and not any(building.values())
                if previous is not None and not replaced and untouched:
                    record.write_vars(previous)
                    reset_replaced(before)  # what this build wrote is undone: "nothing was committed"
                raise
            finally:
                ahead.shutdown(cancel_futures=True)
        results.sort(key=lambda r: selected.index(r.name))
        run.save()
        _record_build(record, results, started)
        if previous is not None:
            record.write_vars(recorded)
        if not audit(results):
            raise Rejected
    return results


def _recorded_rows(record: LastBuild) -> dict[str, str]:
    """VARS_TABLE as it is (none, or changed by hand: {}), to write back if a build replaces nothing."""
    try:
        return record.vars()
    except InternalTableError:
        return {}


def _refuse_mixing_builds(
    project: Project, target: Target, selected: list[str], values: Mapping[str, Any], record: LastBuild
) -> None:
    """A build records its variables (_ecom_vars) for every model: the built models it leaves as
    they are must have been built with the values it records. So a variable one of them uses may
    not change: marts at one as_of over staging at another would disagree, and `ecom test` would
    check the others against values they were not built with. A secret is recorded only as set or
    not: not compared (a changed salt rebuilds the incremental models in full, by their digest)."""
    others = set(project.models) - set(selected)
    used = {v for m in others for v in project.vars_of(m) if not project.vars[v].secret}
    if not used:  # a full build leaves no model as it was: it needs no record of the last one
        return
    stored, now = stored_vars(project, target, record), printable(project.vars, values)
    changed = _changed_values(used, stored, now)
    if not changed:
        return
    kept = _built_reading(project, others, changed, record.builds())
    if kept:
        raise BuildError(
            f"{', '.join(f'{v}={now[v]}' for v in changed)}: the built models this build leaves as they are "
            f"({', '.join(kept)}) were built with {', '.join(f'{v}={stored[v]}' for v in changed)}, and would "
            "disagree with the ones it builds; build them too (e.g. without --select), or keep the values they have"
        )


def _changed_values(used: set[str], stored: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The variables among `used` whose value differs from the one the last build recorded, sorted. A
    value neither recorded nor given (a caller of build() may pass only those its models use) is not compared."""
    return sorted(v for v in used if v in stored and v in now and stored[v] != now[v])


def _built_reading(project: Project, models: set[str], changed: list[str], built: Mapping[str, Any]) -> list[str]:
    """The models among `models` that are `built` and read a variable in `changed`, in the project's order:
    built with the values the last build recorded, they would disagree with models built with the new ones."""
    return [n for n in project.order if n in models and n in built and set(project.vars_of(n)) & set(changed)]


def _preparer(
    project: Project, target: Target, selected: list[str], values: Mapping[str, Any]
) -> Callable[[str], tuple[dict[str, ir.Table], ir.Table]]:
    """A function giving a selected model's inputs and expression, compiled, for one thread to call
    in `selected`'s order. Everything it reads from the target is looked up here, first: the raw
    tables, and the upstream models not in the selection (which must be built already)."""
    sources = {s: target.source(s) for name in selected for s in project.sources_of(name)}
    tables: dict[str, ir.Table] = {}
    chosen = set(selected)
    schema = _schemas_once(project)
    for name in selected:
        for up in project.upstream_models(name):
            if up not in tables and up not in chosen:
                tables[up] = _read_as_built(project, target, name, up, schema)

    def prepare(name: str) -> tuple[dict[str, ir.Table], ir.Table]:
        inputs = {s: conform(s, sources[s]) for s in project.sources_of(name)}
        inputs.update({up: tables[up] for up in project.upstream_models(name)})
        expr = call(project.models[name].func, inputs, values)
        target.compile(expr)
        tables[name] = target.models.unbound(name, expr.schema())
        return inputs, expr

    return prepare


def _in_dependency_order(
    project: Project,
    selected: list[str],
    workers: int,
    build_one: Callable[[str], ModelResult],
    cancel_running: Callable[[], None] = lambda: None,
) -> Iterator[ModelResult]:
    """Each selected model's result as it is built: one at a time in `selected`'s order, or with
    `workers` > 1 up to that many at once, each as soon as the selected models it reads are built.
    After a failure no model starts; those running finish, then the first failure is raised. After
    a Ctrl-C or SIGTERM (which only this thread receives) `cancel_running` first asks the engine to
    stop what the other threads wait on: BigQuery would run their jobs to the end."""
    if workers <= 1:
        yield from map(build_one, selected)
        return
    chosen = set(selected)
    waiting = {n: set(project.upstream_models(n)) & chosen for n in selected}
    running: dict[Future, str] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(workers, thread_name_prefix="ecom-build") as pool:
        try:
            while waiting or running:
                ready = [n for n, ups in waiting.items() if not ups] if failure is None else []
                for name in ready[: workers - len(running)]:
                    del waiting[name]
                    running[pool.submit(build_one, name)] = name
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    if future.exception() is not None:
                        failure = failure or future.exception()
                        continue
                    for ups in waiting.values():
                        ups.discard(name)
                    yield future.result()
        # the pool's exit then waits for the running models' ends; GeneratorExit: a Ctrl-C reached the
        # caller between two results, which closes this (or it waited for jobs no one had cancelled)
        except (KeyboardInterrupt, GeneratorExit):
            cancel_running()
            raise
    if failure is not None:
        raise failure


def _build_one(
    project: Project,
    target: Target,
    run: IncrementalRun,
    docs: Mapping[str, ModelDoc],
    name: str,
    prepared: Future,
    replaced: set[str],
) -> ModelResult:
    model: Model = project.models[name]
    stop_if_ctrl_c()  # one a query swallowed: no model starts after it
    start = time.perf_counter()
    note = ""
    try:
        inputs, expr = prepared.result()
        if model.materialization(target.name) == "incremental":
            rows, note = run.materialize(model, inputs, expr)
        else:
            rows = target.materialize(model, expr)
        replaced.add(name)  # its description may still fail (a metadata update on BigQuery): it is rebuilt
        doc = docs[name]
        columns = {c: doc.columns[c] for c in expr.schema().names if c in doc.columns}
        target.describe(model, table_description(doc), columns)
    except BuildError:
        raise
    except Exception as e:  # the backend's message is the useful part
        stop_if_ctrl_c()  # DuckDB's 'Query interrupted' is a Ctrl-C, not a failed model
        said = first_line(e)
        raise BuildError(f"model {name} failed: {said}{target.advice(said)}") from e
    return ModelResult(name, rows, time.perf_counter() - start, peak_bytes=target.peak_memory(), note=note)


class IncrementalRun:
    """One build's incremental decisions and the state it leaves (ecom.core.incremental)."""

    def __init__(self, project: Project, target: Target, values: Mapping[str, Any], full_refresh: bool):
        self.project, self.target, self.values, self.full_refresh = project, target, values, full_refresh
        try:
            self.state, self.partitions = incremental.read_state(target), incremental.read_partitions(target)
        except InternalTableError:
            if not full_refresh:
                raise
            # --full-refresh needs neither: it rebuilds every model it selects and writes both anew,
            # from this build alone (a model it did not select then has no state: built in full next)
            self.state, self.partitions = {}, []
        self.build_id = uuid.uuid4().hex
        self.done: dict[str, incremental.Decision] = {}
        self.built: dict[str, dict[str, Any]] = {}
        self.fingerprints: dict[str, dict] = {}

    def plan(self, model: Model, inputs: Mapping[str, ir.Table], expr: ir.Table) -> ir.Table | None:
        """Decide how to build an incremental model (recorded for its downstreams and the state):
        None to build it in full, else the query of its new rows from the first replaced day."""
        project, target, values = self.project, self.target, self.values
        digest = incremental.vars_digest(project, model.name, values)
        code_expr = call(model.func, inputs, {**values, "as_of": incremental.CODE_AS_OF})
        code = incremental.code_hash(target, project, model, code_expr, target.dialect)
        decision = incremental.decide(
            project, target, model, values, self.state, self.done, digest, code, self.full_refresh
        )
        if decision.since is not None:  # appending to the table as built: it must be the model's
            self._refuse_table_built_otherwise(model.name, expr.schema())
        # an upstream not in this build has no day to give: decide() rebuilds in full then
        days = [self.done[up].since for up in project.upstream_models(model.name) if up in self.done]
        if project.sources_of(model.name):
            self.fingerprints[model.name] = now = incremental.fingerprints(model, expr)
            stored = incremental.stored_fingerprints(self.partitions, model.name)
            days.append(incremental.first_changed_day(stored, now))
        decision = incremental.earliest(decision, days)
        replaced_from, new_rows = None, None
        if decision.since is not None and model.since is None:
            replaced_from = decision.since
            new_rows = expr.filter(incremental.partition_day(model, expr) >= replaced_from)
        elif decision.since is not None:
            # `since` may query its inputs (the first day they changed): it reads the upstream
            # models as built, a build having handed it their expressions' schemas only.
            built = {up: target.table(up) for up in project.upstream_models(model.name)}
            tables = {**inputs, **built, "this": target.table(model.name)}
            replaced_from, new_rows = call(model.since, tables, {**values, "since": decision.since})
        note = decision.reason if replaced_from is None else incremental.how_built(replaced_from, values["as_of"])
        self.done[model.name] = incremental.Decision(replaced_from, note)
        self.built[model.name] = {
            "model": model.name,
            "build_id": self.build_id,
            "as_of": values["as_of"],
            "mode": "full" if replaced_from is None else "incremental",
            "replaced_from": replaced_from,
            "vars": digest,
            "code_hash": code,
        }
        return new_rows

    def _refuse_table_built_otherwise(self, name: str, built_as: ibis.Schema) -> None:
        """The model's table, appended to, must have its model's columns and types, else the engine
        fails on it ("does not have a column", "Can only delete from base table") or, worse, writes
        another type's values into it. Not rebuilt in full in its stead: the table may hold what the
        user wants back, and a full rebuild of a large table is theirs to choose."""
        found = self.target.table_schema(name)
        problems = (
            ["a view, not a table"]
            if found is None
            else column_problems(found, built_as) + [f"an extra column {c}" for c in found if c not in built_as]
        )
        if problems:
            raise BuildError(
                f"{name} {_built_otherwise(self.target, problems)}: "
                f"rebuild it with `ecom build --full-refresh --select {name}`"
            )

    def materialize(self, model: Model, inputs: Mapping[str, ir.Table], expr: ir.Table) -> tuple[int, str]:
        """Build an incremental model in full or from its first changed day; (its rows, how)."""
        new_rows = self.plan(model, inputs, expr)
        done = self.done[model.name]
        if new_rows is None:
            return self.target.materialize(model, expr), done.reason
        return self.target.replace_partitions(model, new_rows, done.since), done.reason

    def save(self) -> None:
        if self.built:
            self.target.write_table(incremental.STATE_TABLE, incremental.state_rows(self.state, self.built))
        if self.fingerprints:
            self.target.write_table(
                incremental.PARTITIONS_TABLE, incremental.partition_rows(self.partitions, self.fingerprints)
            )


def table_description(doc: ModelDoc) -> str:
    """A model's description as written on its table: the grain, then the choices it makes."""
    return "\n\n".join(p for p in (doc.grain, doc.description) if p)


def _record_build(record: LastBuild, results: list[ModelResult], started: dt.datetime) -> None:
    """Update BUILD_TABLE: these models' results replace their previous ones; other models keep
    theirs, unless the table was changed by hand: then it is written anew, from this build."""
    try:
        rows = record.builds()
    except InternalTableError:
        rows = {}
    for r in results:
        rows[r.name] = {"model": r.name, "rows": r.rows, "seconds": r.seconds, "built_at": started}
    record.write_builds(rows)


def last_builds(target: Target, record: LastBuild | None = None) -> dict[str, dict[str, Any]]:
    """Each model's last build on the target (model, rows, seconds, built_at); none: {}."""
    return (record or LastBuild(target)).builds()


def dry_run_plan(
    project: Project,
    target: Target,
    selected: Iterable[str],
    values: Mapping[str, Any],
    record: LastBuild | None = None,
) -> dict[str, tuple[ir.Table, list[str]]]:
    """Each selected model's build query, and the upstream models it computes inline.

    A build reads upstream models as tables, and refuses one it does not build that is not built, or
    not as its model builds it (changed by hand): so does the dry run. A selected one is read as its
    table too, unless it is not built yet, or not as its model builds it: the build replaces it before
    its readers run, but a dry run cannot read what is not there, so the upstream's expression is
    inlined (reading its own inputs) and the estimate covers computing it.
    """
    selected = list(selected)
    # what the build would refuse, before its estimate
    _refuse_mixing_builds(project, target, selected, values, record or LastBuild(target))
    bind_secrets(project, target, values)
    exprs: dict[str, ir.Table] = {}
    reads: dict[str, ir.Table] = {}  # how the build's queries read each upstream: its table, or inline
    inline: set[str] = set()
    schema = _schemas_once(project)

    def expression(name: str) -> ir.Table:
        if name not in exprs:
            for up in project.upstream_models(name):
                if up not in reads:
                    reads[up] = as_read(name, up)
            exprs[name] = call(project.models[name].func, model_inputs(project, target, name, reads), values)
        return exprs[name]

    def as_read(reader: str, up: str) -> ir.Table:
        if up not in selected:
            return _read_as_built(project, target, reader, up, schema)
        if target.exists(up):
            table = target.table(up)
            if not column_problems(table.schema(), schema(up)):
                return table
        inline.add(up)
        return expression(up)

    return {n: (expression(n), [up for up in project.upstream_models(n) if up in inline]) for n in selected}


def incremental_plans(
    project: Project,
    target: Target,
    plan: Mapping[str, tuple[ir.Table, list[str]]],
    values: Mapping[str, Any],
    full_refresh: bool,
) -> dict[str, tuple[str, ir.Table | None]]:
    """For each incremental model of a dry run's `plan` (dry_run_plan) already built, what a build
    would do: (how, the query of its new rows or None when in full). Nothing is written; a downstream's
    plan reads its upstreams as they are built now. A model that computes an upstream inline has none:
    its changed days follow that upstream's build, so it is estimated in full."""
    bind_secrets(project, target, values)
    run = IncrementalRun(project, target, values, full_refresh)
    plans = {}
    for name, (expr, inline) in plan.items():
        model = project.models[name]
        if model.materialization(target.name) == "incremental" and target.exists(name) and not inline:
            # the plan's query read every upstream as built: `expr` is the model's over `inputs`
            rows = run.plan(model, model_inputs(project, target, name), expr)
            plans[name] = (run.done[name].reason, rows)
    return plans


@dataclass
class TestCase:
    name: str
    model: str | None
    failing: Callable[[Callable[[str], ir.Table]], ir.Table]
    columns: tuple[str, ...] = ()  # the columns a generic test checks
    # the columns of a failing row to show (all, when empty): a generic test's rows are the model's,
    # and its key and the tested column say which they are; a data test's columns are its evidence
    shown: tuple[str, ...] = ()


def generic_tests(project: Project, models: Iterable[str]) -> list[TestCase]:
    """The tests a model's decorator declares: key unique and not null, not_null, accepted values,
    relationships."""
    cases: list[TestCase] = []
    for name in models:
        m = project.models[name]
        key = list(m.key)

        def unique(table, name=name, key=key):
            t = table(name)
            return t.group_by(key).aggregate(n=ibis._.count()).filter(ibis._.n > 1)

        def shown(col: str, key: list[str] = key) -> tuple[str, ...]:
            return tuple(dict.fromkeys([*key, col]))

        cases.append(TestCase(f"unique_{name}_{'_'.join(key)}", name, unique, tuple(key), (*key, "n")))
        for col in dict.fromkeys([*m.key, *m.not_null]):
            cases.append(
                TestCase(
                    f"not_null_{name}_{col}",
                    name,
                    lambda table, name=name, col=col: table(name).filter(table(name)[col].isnull()),
                    (col,),
                    shown(col),
                )
            )
        for col, accepted in m.accepted_values.items():

            def rejected(table, name=name, col=col, accepted=accepted):
                t = table(name)
                return t.filter(t[col].notnull() & ~t[col].isin(list(accepted)))

            cases.append(TestCase(f"accepted_values_{name}_{col}", name, rejected, (col,), shown(col)))
        for col, ref in m.relationships.items():
            parent_name, parent_col = ref.split(".")

            def orphans(table, name=name, col=col, parent_name=parent_name, parent_col=parent_col):
                child, parent = table(name), table(parent_name)
                keys = parent.select(k=parent[parent_col]).distinct()
                present = child.filter(child[col].notnull())
                return present.anti_join(keys, present[col] == keys.k)

            cases.append(TestCase(f"relationships_{name}_{col}__{parent_name}", name, orphans, (col,), shown(col)))
    return cases


def singular_tests(project: Project, models: Iterable[str], values: Mapping[str, Any]) -> list[TestCase]:
    """The `@data_test`s that read only the given models."""
    chosen = set(models)
    cases = []
    for t in project.tests.values():
        reads = [p for p in t.params if p in project.models]
        if reads and set(reads) <= chosen:
            cases.append(TestCase(t.name, None, _singular(t, values)))
    return cases


def _singular(test: DataTest, values: Mapping[str, Any]) -> Callable[[Callable[[str], ir.Table]], ir.Table]:
    def failing(table: Callable[[str], ir.Table]) -> ir.Table:
        tables = {p: table(p) for p in test.params if p not in values}
        return call(test.func, tables, values)

    return failing


@dataclass
class TestResult:
    name: str
    status: str  # "pass", "fail", "error"
    failures: int = 0
    message: str = ""


def _missing_column(e: Exception) -> str | None:
    """A column a test reads, missing from the table as built (by another version of the project,
    or changed by hand): ibis says only "'Table' object has no attribute 'roas'"."""
    if isinstance(e, AttributeError) and isinstance(e.obj, ir.Table) and e.name:
        op = e.obj.op()  # the model's table, or a query over it (unnamed)
        table = op.name if isinstance(op, ops.PhysicalTable) else "the table the test reads"
        # or the test names a column no model writes (a typo, a method of ibis misspelled)
        return f"{table} as built has no column {e.name}: rebuild with `ecom build` if its model writes one"
    return None


def run_tests(
    cases: list[TestCase],
    table: Callable[[str], ir.Table],
    on_done: Callable[[TestResult], None] = lambda r: None,
    workers: int = 1,
    batch: bool = False,
    stop_after_error: bool = False,
) -> list[TestResult]:
    """Run the tests, reporting each in order. `workers` > 1 runs that many queries at once (for a
    remote engine such as BigQuery, where each test is a job that mostly waits). With `batch`, the
    consecutive tests of one model are one query (a UNION ALL of their failure counts: a job each
    costs latency and, on BigQuery, a minimum bill); if it fails, each test runs alone, to name
    the one that errs. Each model's table is looked up once (a test reads it once or twice, and a
    lookup is a schema query on DuckDB, a metadata request on BigQuery); a lookup that fails is
    tried again by the next test, which then errs as it would alone. With `stop_after_error` (one
    worker), no test starts after one errs: the results stop there."""
    table = functools.cache(table)

    def run(case: TestCase) -> TestResult:
        try:
            n = row_count(case.failing(table))
            return TestResult(case.name, "pass" if n == 0 else "fail", n)
        except Exception as e:
            stop_if_ctrl_c()  # DuckDB's 'Query interrupted' is a Ctrl-C, not an erring test
            return TestResult(case.name, "error", message=_missing_column(e) or first_line(e))

    def run_group(group: list[TestCase]) -> list[TestResult]:
        stop_if_ctrl_c()  # no test starts after one
        if len(group) > 1:
            try:
                counts = ibis.union(
                    *(c.failing(table).aggregate(failures=ibis._.count()).mutate(test=i) for i, c in enumerate(group)),
                    distinct=False,
                )
                found = {r["test"]: int(r["failures"]) for r in counts.to_pyarrow().to_pylist()}
                return [TestResult(c.name, "pass" if found[i] == 0 else "fail", found[i]) for i, c in enumerate(group)]
            except Exception:  # one test's error fails the whole query: each alone names it
                stop_if_ctrl_c()  # unless it was a Ctrl-C (DuckDB's 'Query interrupted'): no test starts then
        return [run(c) for c in group]

    groups = [list(g) for _, g in itertools.groupby(cases, key=lambda c: c.model)] if batch else [[c] for c in cases]
    results = []
    with ThreadPoolExecutor(max(workers, 1)) as pool:
        for group in pool.map(run_group, groups) if workers > 1 else map(run_group, groups):
            for result in group:
                results.append(result)
                on_done(result)
            if stop_after_error and any(r.status == "error" for r in group):
                break
    return results


def failing_examples(case: TestCase, table: Callable[[str], ir.Table], limit: int = 3) -> list[dict[str, Any]]:
    """The first few rows a failing test finds, in the order of the columns that say which rows
    they are (the same rows every time): what to look at first."""
    rows = case.failing(table)
    columns = list(case.shown) or rows.columns
    return rows.select(columns).order_by(columns).limit(limit).to_pyarrow().to_pylist()


def built_vars(
    project: Project, target: Target, given: Mapping[str, Any], record: LastBuild | None = None
) -> dict[str, Any]:
    """The variables the models on the target were built with (given ones win), so that data tests
    check a build against its own as_of."""
    # A secret is recorded only as set or not: it comes from --vars or its environment variable again.
    stored = {
        name: _recorded_value(project, target, name, text)
        for name, text in stored_vars(project, target, record).items()
        if not project.vars[name].secret
    }
    for name, value in given.items():
        if name in stored and check_value(project.vars[name], value) != stored[name]:
            # tests of one build against other variables fail for that reason alone (a spine to another as_of)
            raise VarsError(
                f"--vars {name}={value}: the models on {describe(target)} were built with {name}={stored[name]}, "
                "and their data tests check them with their build's variables: drop it, or build with it first"
            )
    # The bounds were checked when the models were built (and need the raw tables, which a
    # database holding only marts lacks).
    return target_vars(project, target, {**stored, **given}, check_bounds=False)


def stored_vars(project: Project, target: Target, record: LastBuild | None = None) -> dict[str, str]:
    """The project's variables as the last build on the target stored them (name -> text); none: {}.
    A build that stopped part-way on a target without transactions is an error: its models mix the
    variables of two builds."""
    rows = (record or LastBuild(target)).vars()
    if UNFINISHED in rows:
        raise BuildError(
            f"the last build on {describe(target)}, started {rows[UNFINISHED]}, stopped part-way: the models it "
            "rebuilt and the ones it did not were built with different variables; run `ecom build` (every model) "
            "to finish it"
        )
    return {name: value for name, value in rows.items() if name in project.vars}


def data_derived(project: Project) -> list[str]:
    """The variables whose default is computed from the raw data (as_of: the latest order date)."""
    return [name for name, var in project.vars.items() if callable(var.default)]


def compile_inputs(
    project: Project, chosen: ChosenTarget, given: Mapping[str, Any]
) -> tuple[dict[str, Any], Callable[[str], Location], Location]:
    """The variable values and table locations `compile` renders with: from the settings alone (no
    connection) when every data-derived variable is given, else read from the target's raw data."""
    if set(data_derived(project)) <= set(given):
        raw_at, models = chosen.offline_locations()
        return resolve_vars(project.vars, given, lambda _: None), raw_at, models
    try:
        target = chosen.open(read_only=True)
    except TargetError as e:
        raise without_target(project, given, e) from None
    return target_vars(project, target, given), target.raw_location, target.models


def without_target(project: Project, given: Mapping[str, Any], e: TargetError) -> TargetError:
    """The target's error, saying which variables would make a connection needless (compile, docs)."""
    missing = [n for n in data_derived(project) if n not in given]
    shown = " ".join(f"{n}={'YYYY-MM-DD' if project.vars[n].type is dt.date else '...'}" for n in missing)
    return TargetError(f"{e}; or give --vars {shown} to do without it")


def summaries(
    project: Project, target: Target, built: set[str], values: Mapping[str, Any]
) -> list[tuple[str, list[dict]]]:
    """The registered summaries whose models were all built (by a build with `values`), as (title, rows)."""
    result = []
    for s in project.summaries.values():
        reads = [p for p in s.params if p in project.models]
        if reads and set(reads) <= built:
            table = call(s.func, {p: target.table(p) for p in reads}, values)
            result.append((s.title, table.to_pyarrow().to_pylist()))
    return result


def mermaid(project: Project, selected: Iterable[str]) -> str:
    """The lineage of the selected models (and the raw sources they read, and the exposures that read
    them) as a Mermaid flowchart."""
    chosen = list(selected)
    lines = ["flowchart LR"]
    for name in chosen:
        for p in project.models[name].params:
            if p in RAW_SCHEMAS:
                lines.append(f"    raw_{p}[(raw.{p})] --> {name}")
            elif p in project.models:
                lines.append(f"    {p} --> {name}")
    for e in project.exposures.values():
        for name in e.reads:
            if name in chosen:
                lines.append(f"    {name} --> exposure_{e.name}>{e.name}]")
    return "\n".join(lines) + "\n"
