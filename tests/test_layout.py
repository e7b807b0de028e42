"""The package's imports point down only and form no cycle (README, "Layout").

Every `import` of every module of ecom/ and marts/ is read with ast, including imports inside
functions (a lazy import is still a dependency).
"""

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each part of the code, top to bottom, and the parts it may import besides itself.
# cli -> the morning run -> core's runners (engine, incremental, freshness, runs) -> targets; the run
# loads its export (`ecom run --load`) with data in; data in and outputs use the core; models use only
# the registry; the definitions (registry, variables, source contract) import nothing above them.
PARTS = {
    "cli": ("ecom.cli", "ecom.__main__"),
    "run": ("ecom.run",),
    "data": ("ecom.data",),
    "outputs": ("ecom.outputs",),
    "engine": (
        "ecom.core.engine",
        "ecom.core.incremental",
        "ecom.core.freshness",
        "ecom.core.runs",
        "ecom.core.internal",
    ),
    "targets": ("ecom.targets",),
    "models": ("marts",),
    # the report's layout vocabulary is plain data the pages in marts/report.py are written in
    "definitions": ("ecom.core", "ecom", "ecom.outputs.report.layout"),
}
ALLOWED = {
    "cli": {"run", "data", "outputs", "engine", "targets", "definitions"},
    "run": {"data", "outputs", "engine", "targets", "definitions"},
    "data": {"targets", "definitions"},
    "outputs": {"engine", "targets", "definitions"},
    "engine": {"targets", "definitions"},
    "targets": {"definitions"},
    "models": {"definitions"},
    "definitions": set(),
}


def placed(module: str) -> tuple[str, str]:
    """The longest prefix in PARTS that a module falls under, and its part."""
    return max(
        (
            (prefix, part)
            for part, prefixes in PARTS.items()
            for prefix in prefixes
            if f"{module}.".startswith(f"{prefix}.")
        ),
        key=lambda pair: len(pair[0]),
    )


def part_of(module: str) -> str:
    return placed(module)[1]


def modules() -> dict[str, Path]:
    found = {}
    for package in ("ecom", "marts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that `module` imports (`from a import b` counts a.b when b is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {n for n in names if n in known and n != module}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {m: imports(m, path, set(found)) for m, path in found.items()}


def test_every_module_is_placed_in_a_part(graph):
    """Only the package's own __init__ falls under the bare `ecom` prefix: a new module of ecom/ is
    placed in a part on purpose."""
    assert [m for m in graph if placed(m)[0] == "ecom"] == ["ecom"]


def test_imports_point_down_only(graph):
    upward = [
        f"{m} ({part_of(m)}) imports {d} ({part_of(d)})"
        for m, deps in sorted(graph.items())
        for d in sorted(deps)
        if part_of(d) != part_of(m) and part_of(d) not in ALLOWED[part_of(m)]
    ]
    assert upward == []


def test_no_import_cycle(graph):
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")


def test_the_walk_sees_lazy_and_from_imports(graph):
    """The checks above could pass by seeing nothing: these edges exist in the code today."""
    assert "ecom.core.engine" in graph["ecom.cli"]  # from ecom.core import engine
    assert "ecom.data.generate" in graph["ecom.cli"]  # imported inside a function
    assert "ecom.core.registry" in graph["marts.sales"]
