"""Model documentation, read from each model's docstring: one place, next to the expression.

A model's docstring is its documentation:

    One row per web session.                      <- the grain (first paragraph)

    Choices the contract leaves open ...          <- the description (any paragraphs)

    Columns:                                      <- last section: one entry per output column
        session_id: visitor_id || '-' || session_number; the key.
        duration_seconds: session_end - session_start in exact seconds,
            continued on lines indented further.
        name, brand: several columns may share one description.
        other_model.*: every column of other_model, with its description (a model that
            extends another lists the additions only).

The engine writes these descriptions into the warehouse; `ecom ls`, `ecom docs` and docs/contract.md
show them.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from ecom.core.registry import Project

COLUMNS_HEADING = "Columns:"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(\.\*)?"
_ENTRY = re.compile(rf"(?P<indent> +)(?P<names>{_NAME}(, {_NAME})*): (?P<text>\S.*)")
INCLUDE = ".*"  # an entry `model.*` stands for every column of that model


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
