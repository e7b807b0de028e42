"""Models, data tests, build variables, build summaries and exposures, and the DAG the code declares.

A model is a plain function in `marts/` whose name is its table and whose parameters name what it
reads: raw sources (`ecom.core.sources.RAW_SCHEMAS`), other models, or build variables. `@model` records
what the engine needs besides the expression: the key, the materialization (per target), BigQuery
partitioning and clustering, and the generic data tests of its columns. An `@exposure` (a report
page) declares the marts and columns something outside the project reads, for lineage and `ecom ls`.
"""

from __future__ import annotations

import dataclasses
import graphlib
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecom.core.sources import RAW_SCHEMAS

LAYERS = ("staging", "intermediate", "marts")
# dbt's graph operators around a model's name: `@name`, or `[n]+name+[n]` (n generations; none: all)
SELECTOR = re.compile(r"(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<name>[^@+]+)(?:\+(?P<down>\d*))?")
TARGETS = ("duckdb", "bigquery")
MATERIALIZATIONS = ("table", "view", "incremental")  # incremental: a table (ecom.core.incremental)


class ProjectError(Exception):
    """The models as written do not form a valid project (unknown upstream, cycle, bad selector)."""


def _tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Model:
    name: str
    func: Callable[..., Any]
    key: tuple[str, ...]
    materialized: str = "table"  # on every target not in materialized_on
    materialized_on: Mapping[str, str] = field(default_factory=dict)
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    accepted_values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    relationships: Mapping[str, str] = field(default_factory=dict)
    # materialized="incremental": the rows from a day on (ecom.core.incremental); None: the model's
    # rows filtered to partition_by >= since
    since: Callable[..., Any] | None = None

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)

    def materialization(self, target: str) -> str:
        """Whether the model is a "table", a "view" or "incremental" (a table) on the target named
        `target` (duckdb, bigquery)."""
        return self.materialized_on.get(target, self.materialized)

    def materializations(self) -> str:
        """How the model is built, for people: "table", or per target when they differ
        ("duckdb: view, bigquery: table"), as `ecom ls` and the catalog show it."""
        if not self.materialized_on:
            return self.materialized
        return ", ".join(f"{t}: {self.materialization(t)}" for t in TARGETS)

    @property
    def layer(self) -> str:
        if self.name.startswith("stg_"):
            return "staging"
        if self.name.startswith("int_"):
            return "intermediate"
        return "marts"


@dataclass(frozen=True)
class DataTest:
    """A singular data test: a function of models (and variables) returning the rows that fail."""

    name: str
    func: Callable[..., Any]

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)

    @property
    def title(self) -> str:
        """The docstring's first paragraph on one line (a sentence may wrap onto a second line)."""
        return " ".join((inspect.getdoc(self.func) or self.name).split("\n\n")[0].split())


class Summary(DataTest):
    """A small table of built models worth printing after a build (a function like a data test's,
    whose rows are shown rather than counted)."""


@dataclass(frozen=True)
class Exposure:
    """Something outside the project that reads the marts (dbt's exposure), e.g. a report page.

    `func`'s parameters name the marts and variables it reads; `reads` declares the columns it may
    read of each mart, so that lineage and `ecom ls` can show it as a consumer, and the report can
    refuse a query that reads anything undeclared.
    """

    name: str
    func: Callable[..., Any]
    title: str
    reads: Mapping[str, tuple[str, ...]]

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.func).parameters)


@dataclass(frozen=True)
class Var:
    """A build variable (docs/contract.md#parameters).

    `default` is a value, or a function of raw sources (its parameter names) that returns an Ibis
    scalar expression computed once per build (NULL: no default on this data; its docstring's first
    line says why). `env` names an environment variable read when the
    variable is not given in --vars. A `secret` value is never printed nor recorded, only whether
    it is set, and never enters the SQL: models receive it as a query parameter, which the target
    binds when it runs the query (ecom.core.engine.call). `bounds`, a function of raw sources
    returning a one-row table with columns `low` and `high` (NULL: no bound), is the range of values
    the data can support; its docstring's first line says why. A column `default` may give the
    default's value on the data from the same query (a date variable given far past it is warned
    of without a query of its own: engine.far_past_the_data). `at_most` names a variable this one
    may not exceed (thresholds that must rise in order).
    """

    name: str
    type: type
    default: Any
    doc: str
    positive: bool = False
    env: str | None = None
    secret: bool = False
    bounds: Callable[..., Any] | None = None
    at_most: str | None = None


_MODELS: dict[str, Model] = {}
_TESTS: dict[str, DataTest] = {}
_VARS: dict[str, Var] = {}
_SUMMARIES: dict[str, Summary] = {}
_EXPOSURES: dict[str, Exposure] = {}
_DEFINED_AT: dict[tuple[str, str], str] = {}  # (kind, name) -> "module line N" of its definition


def _claim(kind: str, name: str, where: str) -> None:
    """Refuse a second definition of a name, which would silently replace the first (the same
    definition imported again is not a second one)."""
    first = _DEFINED_AT.setdefault((kind, name), where)
    if first != where:
        raise ProjectError(f"{kind} {name} is defined twice: {first} and {where}; rename one")


def _defined_at(func: Callable[..., Any]) -> str:
    return f"{func.__module__} line {func.__code__.co_firstlineno}"


def model(
    *,
    key: str | Iterable[str],
    materialized: str | Mapping[str, str] = "table",
    partition_by: str | None = None,
    cluster_by: str | Iterable[str] | None = None,
    not_null: str | Iterable[str] | None = None,
    accepted_values: Mapping[str, Iterable[Any]] | None = None,
    relationships: Mapping[str, str] | None = None,
    since: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a model. `materialized` is "table" or "view" on every target, or per target, e.g.
    `{"duckdb": "view"}` (a target not named builds a table). `relationships` maps a column to
    `"model.column"` it must resolve to.

    `materialized="incremental"` (with a date `partition_by`) rebuilds only the partitions from the
    first changed day on (ecom.core.incremental). `since`, when given, computes them: a function
    whose parameters name the model's inputs, its variables, `this` (the model's table as built)
    and `since` (the first changed day), returning (the first day to replace, its rows from then).
    """
    per_target = {} if isinstance(materialized, str) else dict(materialized)
    default = materialized if isinstance(materialized, str) else "table"
    if "incremental" in (default, *per_target.values()) and not partition_by:  # on any target
        raise ValueError("materialized='incremental' replaces partitions: give partition_by")
    unknown = sorted(set(per_target) - set(TARGETS))
    if unknown:
        raise ValueError(f"materialized names unknown target(s) {', '.join(unknown)}; targets: {', '.join(TARGETS)}")
    for kind in (default, *per_target.values()):
        if kind not in MATERIALIZATIONS:
            raise ValueError(f"materialized must be 'table', 'view' or 'incremental', not {kind!r}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _claim("model", func.__name__, _defined_at(func))
        _MODELS[func.__name__] = Model(
            name=func.__name__,
            func=func,
            key=_tuple(key),
            materialized=default,
            materialized_on=per_target,
            partition_by=partition_by,
            cluster_by=_tuple(cluster_by),
            not_null=_tuple(not_null),
            accepted_values={c: tuple(v) for c, v in (accepted_values or {}).items()},
            relationships=dict(relationships or {}),
            since=since,
        )
        return func

    return register


def data_test(func: Callable[..., Any]) -> Callable[..., Any]:
    """Register a singular data test: it returns the failing rows; none means it passes."""
    _claim("data test", func.__name__, _defined_at(func))
    _TESTS[func.__name__] = DataTest(func.__name__, func)
    return func


def summary(func: Callable[..., Any]) -> Callable[..., Any]:
    """Register a build summary: a function of models (and variables) returning a small table."""
    _claim("summary", func.__name__, _defined_at(func))
    _SUMMARIES[func.__name__] = Summary(func.__name__, func)
    return func


def exposure(*, title: str, reads: Mapping[str, Iterable[str]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a consumer of the marts: `reads` maps each mart its function names to the columns it reads."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        _claim("exposure", func.__name__, _defined_at(func))
        _EXPOSURES[func.__name__] = Exposure(func.__name__, func, title, {m: tuple(c) for m, c in reads.items()})
        return func

    return register


def is_secret(name: str) -> bool:
    """Whether `name` is a declared secret variable."""
    return name in _VARS and _VARS[name].secret


def secret_run_on(key: str) -> str | None:
    """The secret variable whose name `key` starts with and runs on from (`visitor_saltPr1vate`), or
    None (also when `key` is a variable itself): what follows the name may be the secret's value."""
    if key in _VARS:
        return None
    return next((name for name, v in _VARS.items() if v.secret and key.startswith(name)), None)


def var(
    name: str,
    type: type,
    default: Any,
    doc: str,
    *,
    positive: bool = False,
    env: str | None = None,
    secret: bool = False,
    bounds: Callable[..., Any] | None = None,
    at_most: str | None = None,
) -> None:
    caller = sys._getframe(1)  # the `var(...)` call is the definition
    _claim("variable", name, f"{caller.f_globals['__name__']} line {caller.f_lineno}")
    _VARS[name] = Var(name, type, default, doc, positive, env, secret, bounds, at_most)


def _import_all(package: str) -> None:
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")


@dataclass(frozen=True)
class Project:
    models: dict[str, Model]
    tests: dict[str, DataTest]
    vars: dict[str, Var]
    order: tuple[str, ...]  # models in dependency order
    summaries: dict[str, Summary] = field(default_factory=dict)
    exposures: dict[str, Exposure] = field(default_factory=dict)

    @classmethod
    def load(cls, package: str = "marts") -> Project:
        _import_all(package)
        project = cls.from_parts(_MODELS, _TESTS, _VARS, _SUMMARIES)
        for e in _EXPOSURES.values():
            # the marts are not checked against the models: an exposure may read a mart of another branch
            undeclared = [p for p in e.params if p not in e.reads and p not in project.vars]
            if undeclared or set(e.reads) - set(e.params):
                raise ProjectError(f"exposure {e.name}: its parameters {list(e.params)} and `reads` differ")
        return dataclasses.replace(project, exposures=dict(_EXPOSURES))

    @classmethod
    def from_parts(
        cls,
        models: Mapping[str, Model],
        tests: Mapping[str, DataTest],
        vars: Mapping[str, Var],
        summaries: Mapping[str, Summary] | None = None,
    ) -> Project:
        summaries = dict(summaries or {})
        _check_references(models, tests, vars, summaries)
        _refuse_incremental_over_full(models)
        return cls(dict(models), dict(tests), dict(vars), _dependency_order(models), summaries)

    def upstream_models(self, name: str) -> list[str]:
        return [p for p in self.models[name].params if p in self.models]

    def sources_of(self, name: str) -> list[str]:
        return [p for p in self.models[name].params if p in RAW_SCHEMAS]

    def vars_of(self, name: str) -> list[str]:
        return [p for p in self.models[name].params if p in self.vars]

    def downstream_models(self, name: str) -> list[str]:
        return [n for n in self.order if name in self.upstream_models(n)]

    def exposures_of(self, name: str) -> list[str]:
        """The exposures that read the model."""
        return [e.name for e in self.exposures.values() if name in e.reads]

    def _closure(self, start: str, step: Callable[[str], Iterable[str]], depth: int | None = None) -> set[str]:
        """The models `step` reaches from `start`, in at most `depth` steps (None: any number)."""
        seen: set[str] = set()
        frontier = {start}
        while frontier and depth != 0:
            frontier = {n for f in frontier for n in step(f)} - seen
            seen |= frontier
            depth = None if depth is None else depth - 1
        return seen

    def ancestors(self, name: str, depth: int | None = None) -> set[str]:
        return self._closure(name, self.upstream_models, depth)

    def descendants(self, name: str, depth: int | None = None) -> set[str]:
        return self._closure(name, self.downstream_models, depth)

    def select(self, selectors: Iterable[str] | None, exclude: Iterable[str] | None = None) -> list[str]:
        """Models matched by dbt-style selectors, less those matched by `exclude`, in dependency order.

        `name`, `+name` (with its ancestors), `name+` (with its descendants), `+name+`, `2+name` and
        `name+1` (that many generations), `@name` (its descendants and all their ancestors: what a
        build of its descendants needs), a layer (`staging`, `intermediate`, `marts`) or `layer:NAME`.
        Several selectors are a union; none selects every model. Excluding every selected model is
        an error, as selecting none is.
        """
        chosen = self._union("--select", selectors) if selectors else set(self.order)
        if exclude:
            left = chosen - self._union("--exclude", exclude)
            if not left:
                given = " ".join(repr(s) for s in exclude)
                raise ProjectError(f"--exclude {given} leaves no model; exclude fewer")
            chosen = left
        return [n for n in self.order if n in chosen]

    def _union(self, option: str, selectors: Iterable[str]) -> set[str]:
        chosen: set[str] = set()
        for sel in selectors:
            for part in sel.replace(",", " ").split():
                chosen |= self.matching(option, part)
        if not chosen:  # only blanks and commas: building "nothing" would still record its variables
            given = " ".join(repr(s) for s in selectors)
            raise ProjectError(f"{option} {given} names no model; give a model or layer, or leave {option} out")
        return chosen

    def matching(self, option: str, sel: str) -> set[str]:
        """The models one selector names; an unknown name is an error naming `option` (where it was given)."""
        found = SELECTOR.fullmatch(sel)
        name = found["name"] if found else sel  # `++name` is no selector dbt knows
        layer = name.removeprefix("layer:")
        if found and layer in LAYERS and found.group("at", "up", "down") == (None, None, None):
            return {n for n, m in self.models.items() if m.layer == layer}
        if found and found["at"] and found["up"] is not None:
            raise ProjectError(f"{option} {sel!r}: `@` already takes every ancestor, drop the `+` after it (as dbt)")
        if not found or name not in self.models:
            close = sorted(n for n in self.models if name in n or n in name)[:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ProjectError(f"{option} {sel!r} matches no model{hint}; `ecom ls` lists the models")
        result = {name}
        if found["up"] is not None:
            result |= self.ancestors(name, int(found["up"]) if found["up"] else None)
        if found["down"] is not None or found["at"]:
            result |= self.descendants(name, int(found["down"]) if found["down"] else None)
        if found["at"]:
            result |= {a for n in set(result) for a in self.ancestors(n)}
        return result


def _check_references(
    models: Mapping[str, Model],
    tests: Mapping[str, DataTest],
    vars: Mapping[str, Var],
    summaries: Mapping[str, Summary],
) -> None:
    """A ProjectError for the first name that points at nothing: a parameter that is no model, raw
    source or variable, a relationship to no model, an at_most of no variable."""
    known = set(models) | set(RAW_SCHEMAS) | set(vars)
    for owner in [*models.values(), *tests.values(), *summaries.values()]:
        unknown = [p for p in owner.params if p not in known]
        if unknown:
            raise ProjectError(f"{owner.name} reads {', '.join(unknown)}: not a model, raw source or variable")
    for m in models.values():
        for column, target in m.relationships.items():
            if target.split(".")[0] not in models:
                raise ProjectError(f"{m.name}.{column} relates to {target}: no such model")
    for v in vars.values():
        if v.at_most is not None and v.at_most not in vars:
            raise ProjectError(f"variable {v.name} is at most {v.at_most}: no such variable")


def _refuse_incremental_over_full(models: Mapping[str, Model]) -> None:
    """An incremental model keeps its past rows: what it reads must keep theirs too."""
    for m in models.values():
        for target in TARGETS:  # a model may be incremental on one target only
            full = [p for p in m.params if p in models and models[p].materialization(target) != "incremental"]
            if m.materialization(target) == "incremental" and full:
                raise ProjectError(
                    f"{m.name} is incremental on {target} but reads {', '.join(full)}, rebuilt in full there: "
                    "its past rows could change"
                )


def _dependency_order(models: Mapping[str, Model]) -> tuple[str, ...]:
    """The models, each after those it reads; a ProjectError naming a cycle."""
    graph = {m.name: {p for p in m.params if p in models} for m in models.values()}
    sorter = graphlib.TopologicalSorter(graph)
    try:
        sorter.prepare()
    except graphlib.CycleError as e:
        raise ProjectError(f"models form a cycle: {' -> '.join(e.args[1])}") from None
    # Among the models ready at each step: layer first, then where they are written (module,
    # line), so that listings and builds read staging -> intermediate -> marts, whatever order
    # the modules happened to be imported in.
    rank = {
        name: (LAYERS.index(m.layer), m.func.__module__, m.func.__code__.co_firstlineno) for name, m in models.items()
    }
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=rank.__getitem__)
        order += ready
        sorter.done(*ready)
    return tuple(order)
