"""Model descriptions: read from each model's docstring, and written into docs/contract.md.

A model's docstring is its documentation, one place next to the expression:

    One row per web session.                      <- the grain (first paragraph)

    Choices the contract leaves open ...          <- the description (any paragraphs)

    Columns:                                      <- last section: one entry per output column
        session_id: visitor_id || '-' || session_number; the key.
        duration_seconds: session_end - session_start in exact seconds,
            continued on lines indented further.
        name, brand: several columns may share one description.
        other_model.*: every column of other_model, with its description (a model that
            extends another lists the additions only).

`python -m ecom.outputs.docs` rewrites the generated part of docs/contract.md from the docstrings and the
compiled schemas; tests/test_docs.py fails when the committed file differs.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ecom.core.engine import unbound_expressions
from ecom.core.files import atomic_write
from ecom.core.registry import Project
from ecom.core.vars import resolve_vars
from ecom.targets.base import Location

COLUMNS_HEADING = "Columns:"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(\.\*)?"
_ENTRY = re.compile(rf"(?P<indent> +)(?P<names>{_NAME}(, {_NAME})*): (?P<text>\S.*)")
INCLUDE = ".*"  # an entry `model.*` stands for every column of that model

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
BEGIN = "<!-- BEGIN GENERATED MODELS: `python -m ecom.outputs.docs` writes this part from the models' docstrings -->"
END = "<!-- END GENERATED MODELS -->"


class DocstringError(ValueError):
    """A model docstring that does not follow the convention; the message names the model and line."""


@dataclass(frozen=True)
class ModelDoc:
    grain: str
    description: str  # paragraphs separated by a blank line, each on one line
    columns: dict[str, str]  # output column -> description, in the order written


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines).strip()
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)] if text else []


def parse_model_doc(docstring: str | None, name: str = "model") -> ModelDoc:
    """The grain, description and column descriptions of a docstring (no `Columns:` section: none)."""
    lines = inspect.cleandoc(docstring or "").splitlines()
    head = lines.index(COLUMNS_HEADING) if COLUMNS_HEADING in lines else len(lines)
    grain, *description = _paragraphs(lines[:head]) or [""]
    columns: dict[str, str] = {}
    indent = None
    current: list[str] = []
    for number, line in enumerate(lines[head + 1 :], start=head + 2):
        if not line.strip():
            continue
        width = len(line) - len(line.lstrip(" "))
        entry = _ENTRY.fullmatch(line)
        if entry and indent in (None, width):
            indent, current = width, entry["names"].split(", ")
            for column in current:
                if column in columns:
                    raise DocstringError(f"{name}: docstring line {number} describes {column} a second time")
                columns[column] = entry["text"].strip()
        elif current and width > indent:
            for column in current:
                columns[column] += " " + line.strip()
        else:
            raise DocstringError(
                f"{name}: docstring line {number} is not `    column: description` nor a continuation indented "
                f"further ({line.strip()!r}); the Columns section must be the docstring's last"
            )
    return ModelDoc(grain, "\n\n".join(description), columns)


def model_docs(project: Project) -> dict[str, ModelDoc]:
    """Every model's documentation, `model.*` entries replaced by that model's column descriptions."""
    docs: dict[str, ModelDoc] = {}
    for name in project.order:  # an included model comes first: it must be upstream
        doc = parse_model_doc(project.models[name].func.__doc__, name)
        columns: dict[str, str] = {}
        for column, text in doc.columns.items():
            included = column.removesuffix(INCLUDE)
            if column == included:
                columns[column] = text
            elif included in project.upstream_models(name):
                columns.update(docs[included].columns)
            else:
                raise DocstringError(f"{name}: `{column}` names no model that {name} reads")
        docs[name] = ModelDoc(doc.grain, doc.description, columns)
    return docs


def model_schemas(project: Project) -> dict:
    """Every model's output schema, compiled over unbound tables (no data, no connection)."""
    # as_of only shapes values, never types: any date gives the schemas.
    values = resolve_vars(project.vars, {"as_of": dt.date(2000, 1, 1)}, lambda _: None)
    exprs = unbound_expressions(project, values, Location("raw"), Location("models"))
    return {name: expr.schema() for name, expr in exprs.items()}


def _code_list(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


def models_markdown(project: Project) -> str:
    """The per-model part of docs/contract.md: for each model its layer, key, inputs, grain,
    description and columns (with their compiled types)."""
    schemas, docs = model_schemas(project), model_docs(project)
    parts = []
    for name in project.order:
        model, doc, schema = project.models[name], docs[name], schemas[name]
        reads = [f"[`{p}`](#{p})" for p in project.upstream_models(name)]
        reads += [f"raw `{p}`" for p in project.sources_of(name)]
        lines = [
            f"### {name}",
            "",
            f"{model.layer.capitalize()} · key {_code_list(list(model.key))} · reads {', '.join(reads)}"
            f" · parameters {_code_list(project.vars_of(name))}",
            "",
            # The docstring's pointer to this very section is noise here.
            f"**{doc.grain.replace(f' (docs/contract.md#{name})', '')}**",
            "",
        ]
        if doc.description:
            lines += [doc.description, ""]
        for column in schema.names:
            description = doc.columns.get(column, "**(no description)**")
            lines.append(f"- `{column}` ({schema[column]}): {description}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def with_generated_models(contract: str, project: Project) -> str:
    """The contract's text with the generated block replaced by the models' current documentation."""
    if BEGIN not in contract or END not in contract:
        raise DocstringError(f"docs/contract.md lacks the markers {BEGIN!r} and {END!r}")
    before, rest = contract.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    return f"{before}{BEGIN}\n\n{models_markdown(project)}\n{END}{after}"


def main() -> None:
    text = CONTRACT.read_text()
    updated = with_generated_models(text, Project.load())
    if updated != text:
        atomic_write(CONTRACT, updated)
    print(f"{CONTRACT}: {'updated' if updated != text else 'up to date'}", file=sys.stderr)


if __name__ == "__main__":
    main()
