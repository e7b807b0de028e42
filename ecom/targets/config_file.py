"""`ecom.toml` (or `ecom.yml`) in the working directory: the named targets and the `[bigquery]` section."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ecom.targets.base import TargetError, first_line

CONFIG_FILES = ("ecom.toml", "ecom.yml", "ecom.yaml")
# Its top-level keys: a misspelt one (`defualt`, `[bigqeury]`) would otherwise be ignored in silence.
SECTIONS = ("bigquery", "default", "freshness", "targets")


def read_config_file(folder: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The config file of `folder` (default: the cwd) as a mapping, and its path; ({}, None) if none."""
    folder = Path.cwd() if folder is None else Path(folder)
    present = [folder / name for name in CONFIG_FILES if (folder / name).exists() or (folder / name).is_symlink()]
    if not present:
        return {}, None
    # one would be read and the others ignored without a word: the one the user edits, maybe
    if len(present) > 1:
        names = ", ".join(path.name for path in present)
        raise TargetError(
            f"{folder} has more than one settings file ({names}): keep one, and remove or rename the rest"
        )
    (path,) = present
    if not path.exists():  # a link to nothing: the settings the user meant are not read
        raise TargetError(f"{path} is a link to {path.readlink()}, which does not exist: fix or remove it")
    if not path.is_file():
        raise TargetError(f"{path} is not a file: remove it, or make it the settings file")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text())
        else:
            import yaml

            data = yaml.safe_load(path.read_text()) or {}
    except Exception as e:  # a syntax error in the user's file: say where
        raise TargetError(f"cannot read {path}: {_syntax_error(e)}") from None
    if not isinstance(data, dict):
        raise TargetError(f"{path} must hold settings (a mapping), not {type(data).__name__}")
    unknown = sorted(str(k) for k in set(data) - set(SECTIONS))
    if unknown:
        raise TargetError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    if not isinstance(data.get("default", ""), str):
        raise TargetError(f"{path}: default must be the name of a target (a string), not {data['default']!r}")
    return data, path


def _syntax_error(e: Exception) -> str:
    """What is wrong and where. PyYAML's first line is only its context ("while parsing a block
    mapping"), what and where follow on later lines: said here as TOML says them, "(at line L, column C)"."""
    problem, mark = getattr(e, "problem", None), getattr(e, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (at line {mark.line + 1}, column {mark.column + 1})"
    return first_line(e)


def check_settings(settings: dict[str, Any], known: dict[str, type], where: str) -> None:
    """One line naming the first unknown, mistyped or empty setting of a table of `known` settings.

    `where` names the file and the table, e.g. `ecom.toml: targets.prod`.
    """
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise TargetError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    for key, value in settings.items():
        if not isinstance(value, known[key]):
            kind = "table" if known[key] is dict else "string"
            raise TargetError(f"{where}.{key} must be a {kind}, not {value!r}")
        # set, so it hides the next layer, but to nothing: `path = ""` built into the default ecom.duckdb,
        # `endpoint = ""` reached Google's API instead of the [bigquery] section's emulator
        if isinstance(value, str) and not value.strip():
            raise TargetError(f"{where}.{key} is empty: give a value, or remove the setting")
