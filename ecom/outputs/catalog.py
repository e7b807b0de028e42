"""`ecom docs`: the catalog of the models, as one self-contained HTML file or as JSON for tools.

Everything comes from the registry: each model's layer, key, grain, description and columns (types
compiled over unbound tables, descriptions from its docstring, ecom.core.docstrings), the tests on
it, its lineage (raw sources, models, and the exposures that read it), its SQL for DuckDB and for
BigQuery, and, when the target holds a build, its row count, build time and the variables of the
build (a secret variable's value is never written).

The HTML page is assets/catalog.html with the catalog's JSON, assets/catalog.js, assets/catalog.css
and the vendored lineage-graph library (assets/cytoscape.min.js) inlined: it opens offline.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from ecom.core import engine
from ecom.core.docstrings import ModelDoc, model_docs
from ecom.core.files import atomic_write
from ecom.core.registry import Project
from ecom.core.vars import printable
from ecom.outputs import script_json
from ecom.targets.base import Location, Target
from ecom.targets.options import TargetOptions, choose_target

ASSETS = Path(__file__).resolve().parent / "assets"


def bigquery_locations(target: Target | None, options: TargetOptions) -> tuple[Callable[[str], Location], Location]:
    """Where the catalog's BigQuery SQL reads raw tables and models: the target's own on BigQuery,
    else as `ecom compile --target bigquery` with the same options writes it."""
    if target is not None and target.dialect == "bigquery":
        return target.raw_location, target.models
    # the DuckDB file a command was given is not a BigQuery setting
    return choose_target(dataclasses.replace(options, target="bigquery", path=None)).offline_locations()


def catalog(
    project: Project,
    values: Mapping[str, Any],
    bigquery_at: tuple[Callable[[str], Location], Location],
    target: Target | None = None,
    record: engine.LastBuild | None = None,
) -> dict[str, Any]:
    """The catalog as plain data. `values` are the variables the SQL is compiled with;
    `bigquery_at` is where the BigQuery SQL reads raw tables and models; `target`, when given,
    adds its last build (row counts, times, variables), from `record` when the command has one."""
    docs = model_docs(project)
    sql = {
        "duckdb": engine.unbound_expressions(project, values, Location("raw"), Location("main")),
        "bigquery": engine.unbound_expressions(project, values, *bigquery_at),
    }
    builds = engine.last_builds(target, record) if target else {}
    data_tests = _data_tests(project)
    tests, column_tests = _tests_by_model(project, data_tests)
    models = {
        name: _model(project, name, docs[name], sql, column_tests, tests[name], builds.get(name))
        for name in project.order
    }
    stored = engine.stored_vars(project, target, record) if target else {}
    return {
        "models": models,
        "exposures": {
            e.name: {"description": e.title, "reads": {m: list(c) for m, c in e.reads.items()}}
            for e in project.exposures.values()
        },
        "data_tests": data_tests,
        "build": {
            "target": engine.describe(target),
            # as the build stored them: a secret only "set" or "not set", which says whether a deployment set it
            "vars": stored,
        }
        if builds or stored
        else None,
        "compiled_with": printable(project.vars, values),
    }


def _data_tests(project: Project) -> dict[str, dict[str, Any]]:
    """The singular data tests, each with the models it reads: those of its parameters that name one."""
    return {
        t.name: {"description": t.title, "models": [p for p in t.params if p in project.models]}
        for t in project.tests.values()
    }


def _tests_by_model(
    project: Project, data_tests: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    """Each model's tests (its decorator's, then the data tests that read it), and each column's, by
    (model, column): from one pass over every model's tests."""
    tests: dict[str, list[str]] = {name: [] for name in project.order}
    column_tests: dict[tuple[str, str], list[str]] = {}
    for case in engine.generic_tests(project, project.order):
        tests[case.model].append(case.name)
        for column in case.columns:
            column_tests.setdefault((case.model, column), []).append(case.name)
    for test, about in data_tests.items():
        for name in about["models"]:
            tests[name].append(test)
    return tests, column_tests


def _model(
    project: Project,
    name: str,
    doc: ModelDoc,
    sql: Mapping[str, Mapping[str, ir.Table]],
    column_tests: Mapping[tuple[str, str], list[str]],
    tests: list[str],
    build: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """One model's entry in the catalog: its columns' types from its DuckDB expression, `tests` those
    of its decorator and the data tests that read it, and `build` its last build on the target, if any."""
    model = project.models[name]
    schema = sql["duckdb"][name].schema()
    return {
        "layer": model.layer,
        "materialized": model.materializations(),  # per target: staging is a view on DuckDB
        "key": list(model.key),
        "grain": doc.grain,
        "description": doc.description,
        "columns": {
            c: {"type": str(t), "description": doc.columns.get(c, ""), "tests": column_tests.get((name, c), [])}
            for c, t in schema.items()
        },
        "upstream": {
            "models": project.upstream_models(name),
            "sources": project.sources_of(name),
            "vars": project.vars_of(name),
        },
        "downstream": {"models": project.downstream_models(name), "exposures": project.exposures_of(name)},
        "tests": tests,
        "sql": {dialect: engine.to_sql(exprs[name], dialect) for dialect, exprs in sql.items()},
        "build": _json_safe(build),
    }


def _json_safe(build: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if build is None:
        return None
    return {"rows": build["rows"], "seconds": round(build["seconds"], 3), "built_at": build["built_at"].isoformat()}


def render_html(data: Mapping[str, Any]) -> str:
    """assets/catalog.html with each /*PART*/ marker replaced (in one pass over the template only)."""
    parts = {
        "CSS": (ASSETS / "catalog.css").read_text(),
        "CATALOG": script_json(data),
        "CYTOSCAPE": (ASSETS / "cytoscape.min.js").read_text(),
        "APP": (ASSETS / "catalog.js").read_text(),
    }
    return re.sub(r"/\*(CSS|CATALOG|CYTOSCAPE|APP)\*/", lambda m: parts[m[1]], (ASSETS / "catalog.html").read_text())


def write_catalog(data: Mapping[str, Any], path: Path, fmt: str) -> Path:
    text = json.dumps(data, indent=2) + "\n" if fmt == "json" else render_html(data)
    return atomic_write(path, text)
