"""Model documentation: the docstring convention, every model's columns described, docs/contract.md
generated from the code, and every contract reference resolving inside the repository."""

from __future__ import annotations

import functools
import inspect
import re
import subprocess
from pathlib import Path

import pytest

from ecom.core.docstrings import DocstringError, model_docs, parse_model_doc
from ecom.core.engine import model_schemas
from ecom.core.registry import Model, Project
from ecom.core.sources import RAW_SCHEMAS
from ecom.outputs.docs import CONTRACT, with_generated_models

REPO = Path(__file__).resolve().parent.parent
PROJECT = Project.load()


# --- the parser ----------------------------------------------------------------------------------


def test_parse_grain_description_and_columns():
    doc = parse_model_doc(
        """One row per web
        session.

        A choice the contract leaves open,
        on two lines.

        A second paragraph.

        Columns:
            session_id: visitor_id || '-' || session_number; the key.
            duration_seconds: session_end − session_start in exact
                seconds: a continuation.

            event_count: events: a colon inside the text is text.
            name, brand: shared by
                two columns.
        """
    )
    assert doc.grain == "One row per web session."
    assert doc.description == "A choice the contract leaves open, on two lines.\n\nA second paragraph."
    assert doc.columns == {
        "session_id": "visitor_id || '-' || session_number; the key.",
        "duration_seconds": "session_end − session_start in exact seconds: a continuation.",
        "event_count": "events: a colon inside the text is text.",
        "name": "shared by two columns.",
        "brand": "shared by two columns.",
    }


def test_parse_without_columns_section():
    doc = parse_model_doc("One row per order.")
    assert (doc.grain, doc.description, doc.columns) == ("One row per order.", "", {})
    assert parse_model_doc(None).columns == {}


@pytest.mark.parametrize(
    "columns, problem",
    [
        ("    a: one.\n    a: again.", "line 5 describes a a second time"),
        ("    a, b: one.\n    b: again.", "line 5 describes b a second time"),
        ("    a: one.\n    not an entry", "line 5 is not"),
        ("    a: one.\nAfter the section.", "line 5 is not"),
        ("    a: one.\n  b: less indented than a.", "line 5 is not"),
        ("    : no name.", "line 4 is not"),
    ],
)
def test_parse_rejects_malformed_columns(columns, problem):
    with pytest.raises(DocstringError, match=f"^stg_x: docstring {problem}"):
        parse_model_doc(f"One row per x.\n\nColumns:\n{columns}\n", "stg_x")


def test_include_of_another_models_columns(project_with):
    base = """One row per day.

    Columns:
        date: the day.
        n: a count.
    """
    extended = """One row per day.

    Columns:
        date_base.*: every column of date_base.
        n_7d: a trailing sum.
    """
    docs = model_docs(project_with(date_base=((), base), date_more=(("date_base",), extended)))
    assert docs["date_more"].columns == {"date": "the day.", "n": "a count.", "n_7d": "a trailing sum."}
    with pytest.raises(DocstringError, match="date_more: `date_base.\\*` names no model that date_more reads"):
        model_docs(project_with(date_base=((), base), date_more=((), extended)))


@pytest.fixture
def project_with():
    """A project of stub models: name -> (upstream model names, docstring)."""

    def make(**specs):
        models = {}
        for name, (upstream, doc) in specs.items():

            def func(**tables):
                return None

            # The parameters name the upstream models, as a model's do.
            func.__signature__ = inspect.Signature(
                [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY) for p in upstream]
            )
            func.__name__, func.__doc__ = name, doc
            models[name] = Model(name, func, key=("date",))
        return Project.from_parts(models, {}, {})

    return make


# --- every registered model ----------------------------------------------------------------------

DOCS = model_docs(PROJECT)
SCHEMAS = model_schemas(PROJECT)


@pytest.mark.parametrize("name", PROJECT.order)
def test_model_states_its_grain(name):
    assert DOCS[name].grain.startswith("One row per "), f"{name}: the docstring's first line states the grain"


@pytest.mark.parametrize("name", PROJECT.order)
def test_every_built_column_is_described_and_every_described_column_built(name):
    built, described = list(SCHEMAS[name].names), DOCS[name].columns
    undescribed = [c for c in built if not described.get(c, "").strip()]
    not_built = [c for c in described if c not in built]
    assert not undescribed, f"{name}: columns without a description in its docstring's Columns section: {undescribed}"
    assert not not_built, f"{name}: its Columns section describes columns the model does not build: {not_built}"


# --- docs/contract.md ------------------------------------------------------------------------------


def test_contract_models_section_is_generated_from_the_code():
    committed = CONTRACT.read_text()
    assert committed == with_generated_models(committed, PROJECT), (
        "docs/contract.md differs from the models' docstrings: run `python -m ecom.outputs.docs` and commit it"
    )


def sections(path: Path) -> dict[str, str]:
    """A Markdown file's text under each `##` heading, by the heading's anchor."""
    parts = re.split(r"^## (.+)$", path.read_text(), flags=re.M)
    return {anchor(title): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


@functools.cache
def anchors(path: Path) -> set[str]:
    return {anchor(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), flags=re.M)}


def test_contract_has_the_anchors_the_code_cites():
    expected = {"conventions", "parameters", "sources", "staging", "invariants", *PROJECT.models}
    assert expected <= anchors(CONTRACT)


def test_every_parameter_is_in_the_contract():
    text = sections(CONTRACT)["parameters"]
    missing = [v for v in PROJECT.vars if f"`{v}`" not in text]
    assert not missing, f"docs/contract.md#parameters does not describe {missing}"


def test_every_source_column_is_in_the_contract():
    text = sections(CONTRACT)["sources"]
    named = set(re.findall(r"\w+", text))
    missing = [f"{t}.{c}" for t, schema in RAW_SCHEMAS.items() for c in [t, *schema.names] if c not in named]
    assert not missing, f"docs/contract.md#sources does not name {missing}"


def tracked_files() -> list[Path]:
    """The repository's files: committed or not yet, but not ignored."""
    listing = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    names = subprocess.run(listing, cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [REPO / n for n in names.splitlines() if (REPO / n).is_file()]


def texts() -> dict[Path, str]:
    result = {}
    for path in tracked_files():
        try:
            result[path] = path.read_text()
        except UnicodeDecodeError:  # images
            continue
    return result


def test_every_docs_reference_resolves():
    """`docs/<file>.md#anchor` anywhere in the repository names a heading of that file."""
    broken = []
    for path, text in texts().items():
        for doc, target in re.findall(r"docs/([a-z_]+\.md)#([a-z0-9_-]+)", text):
            if not (REPO / "docs" / doc).exists() or target not in anchors(REPO / "docs" / doc):
                broken.append(f"{path.relative_to(REPO)}: docs/{doc}#{target}")
    assert not broken, f"references to no heading: {broken}"


def test_no_reference_to_a_document_outside_the_repository():
    """The contract and the design are docs/contract.md and docs/architecture.md; nothing points to the
    documents they were first written in, nor to a path beside the repository. The one exception is
    data, not a document: CI points the optional real-thelook tests at the sample folder beside its clone."""
    outside = ("METRICS" + ".md", "DESIGN" + ".md", "/work/" + "shared", "../" + "shared")  # apart: not this file
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path, text in texts().items()
        for number, line in enumerate(text.splitlines(), start=1)
        if any(name in line for name in outside) and "thelook-sample" not in line
    ]
    assert not found, "references outside the repository (use docs/contract.md#<anchor>):\n" + "\n".join(found)


def test_the_model_counts_in_the_docs_are_the_projects():
    """README said `ecom build --target bigquery` builds "the 21 models" while the build printed
    "Building 25 models"."""
    wrong = [
        f"{path.relative_to(REPO)}:{number}: {count} models"
        for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for count in re.findall(r"\b(\d+) models\b", line)
        if int(count) != len(PROJECT.models)
    ]
    assert not wrong, f"the project has {len(PROJECT.models)} models: {wrong}"
