"""docs/contract.md's per-model part, generated from the models' docstrings (ecom.core.docstrings).

`python -m ecom.outputs.docs` rewrites the generated part of docs/contract.md from the docstrings and the
compiled schemas; tests/test_docs.py fails when the committed file differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ecom.core.docstrings import DocstringError, model_docs
from ecom.core.engine import model_schemas
from ecom.core.files import atomic_write
from ecom.core.registry import Project

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
BEGIN = "<!-- BEGIN GENERATED MODELS: `python -m ecom.outputs.docs` writes this part from the models' docstrings -->"
END = "<!-- END GENERATED MODELS -->"


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
