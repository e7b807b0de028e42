"""Which target a command works on: a named target of ecom.toml, with flags and environment over it.

    default = "dev"                 # the target used when none is selected
    [targets.dev]
    type = "duckdb"
    path = "dev.duckdb"
    [targets.prod]
    type = "bigquery"
    project = "my-project"
    dataset = "dbt_prod"

`--target NAME` (else ECOM_TARGET, else `default`, else duckdb) selects a named target, or a bare type
(`duckdb`, `bigquery`) with no named settings. Each setting is then the first found of: its flag, its
environment variable, the named target's table, (for BigQuery) the `[bigquery]` section, its default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ecom.targets import config_file
from ecom.targets.base import Location, Target, TargetError
from ecom.targets.bigquery.config import bigquery_section
from ecom.targets.bigquery.target import BigQueryTarget
from ecom.targets.duckdb import DuckDBTarget

TYPES: dict[str, type[Target]] = {t.name: t for t in (DuckDBTarget, BigQueryTarget)}
TARGET_ENV = "ECOM_TARGET"
DEFAULT_TARGET = "duckdb"


@dataclass(frozen=True)
class TargetOptions:
    """What a command was given to choose and configure its target; None where not given."""

    target: str | None = None  # a target named in ecom.toml, or a type
    path: Path | None = None
    project: str | None = None
    dataset: str | None = None
    raw_dataset: str | None = None
    location: str | None = None
    endpoint: str | None = None
    max_bytes_billed: str | None = None
    threads: str | None = None


@dataclass(frozen=True)
class ChosenTarget:
    """A target chosen but not connected: enough to compile offline, or to refuse an operation its
    type cannot do before connecting."""

    name: str  # the named target, or the type when none is named
    type: type[Target]
    given: dict[str, Any]  # the flags
    named: dict[str, Any]  # the named target's settings from ecom.toml

    def open(self, *, create: bool = False, read_only: bool = False) -> Target:
        return self.type.open(self.given, self.named, create=create, read_only=read_only)

    def offline_locations(self) -> tuple[Callable[[str], Location], Location]:
        return self.type.offline_locations(self.given, self.named)


def choose_target(options: TargetOptions, environ: Mapping[str, str] | None = None) -> ChosenTarget:
    """The target the options select (module docstring); a mistake in ecom.toml is one line."""
    environ = os.environ if environ is None else environ
    data, path = config_file.read_config_file()
    targets = named_targets(data, path)
    bigquery_section(data, path)  # on every target: a misspelt setting would wait for the first BigQuery run
    default = data.get("default")
    if default is not None and default not in targets and default not in TYPES:
        raise TargetError(f"{path}: default = {default!r} names no target; {_known(targets, path)}")
    # `--target ''` is a mistake to name, not a request for the default (an empty variable is unset).
    name = options.target if options.target is not None else environ.get(TARGET_ENV) or default or DEFAULT_TARGET
    named, kind = _settings_and_type(name, targets, path)
    given = {k: v for k, v in asdict(options).items() if k != "target" and v is not None}
    _refuse_foreign_settings(given, name, kind)
    return ChosenTarget(name, kind, given, named)


def _settings_and_type(
    name: str, targets: Mapping[str, dict[str, Any]], path: Path | None
) -> tuple[dict[str, Any], type[Target]]:
    """A named target's settings (less its `type`) and type; a bare type's none and itself."""
    if name in targets:
        named = dict(targets[name])
        return named, TYPES[named.pop("type")]
    if name in TYPES:
        return {}, TYPES[name]
    raise TargetError(f"unknown target {name!r}: {_known(targets, path)}")


def _refuse_foreign_settings(given: Mapping[str, Any], name: str, kind: type[Target]) -> None:
    """Flags of another type of target (e.g. --max-bytes-billed on DuckDB): the cap the user
    counts on would not apply."""
    foreign = [k for k in given if k not in kind.settings]
    if foreign:
        owner = next(t.name for t in TYPES.values() if foreign[0] in t.settings)
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in foreign)
        one = len(foreign) == 1
        raise TargetError(
            f"{flags} {'is a' if one else 'are'} {owner} setting{'' if one else 's'}, and target {name} is "
            f"{kind.name}: drop {'it' if one else 'them'}, or choose a {owner} target with --target"
        )


def open_target(options: TargetOptions, *, create: bool = False, read_only: bool = False) -> Target:
    return choose_target(options).open(create=create, read_only=read_only)


def named_targets(data: Mapping[str, Any], path: Path | None) -> dict[str, dict[str, Any]]:
    """The `[targets.<name>]` tables of the config file, each checked against its type's settings."""
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise TargetError(f"{path}: `targets` must be tables of named targets, e.g. [targets.dev]")
    for name, settings in targets.items():
        if not isinstance(settings, dict):
            raise TargetError(f"{path}: targets.{name} must be a table of settings with a `type`")
        kind = settings.get("type")
        if kind is None:
            kinds = " or ".join(f'type = "{t}"' for t in TYPES)
            raise TargetError(f"{path}: targets.{name} has no `type`: add {kinds}")
        if not isinstance(kind, str) or kind not in TYPES:
            raise TargetError(f"{path}: targets.{name}.type must be one of {', '.join(TYPES)}, not {kind!r}")
        config_file.check_settings(settings, {"type": str, **TYPES[kind].settings}, f"{path}: targets.{name}")
    return targets


def _known(targets: Mapping[str, Any], path: Path | None) -> str:
    named = f"{path} defines {', '.join(targets)}" if targets else "no target is defined in ecom.toml"
    return f"{named} (and a bare type may be named: {', '.join(TYPES)})"
