"""The BigQuery target's settings. First found wins: flags (`from_options` arguments), environment
variables, the named target's table in `ecom.toml` (`[targets.prod]`, when one is selected), then the
`[bigquery]` section of `ecom.toml` / `ecom.yml` in the working directory (docs/bigquery.md):

    project      ECOM_BQ_PROJECT       billing project, and the models' project
    dataset      ECOM_BQ_DATASET       where models are built (created on first build)
    raw_dataset  ECOM_BQ_RAW_DATASET   the raw tables: `dataset` or `project.dataset`, e.g.
                                       `bigquery-public-data.thelook_ecommerce` read in place
                                       (default `<dataset>_raw` in the models' project)
    location     ECOM_BQ_LOCATION      BigQuery location of the jobs and of created datasets
    sources      ECOM_BQ_RAW_DATASET_<TABLE>  per raw table, e.g. marketing_spend in the user's
                                       own dataset while thelook is read from the public one
    endpoint     BIGQUERY_EMULATOR_HOST  a local emulator's REST root, with anonymous credentials
                 ECOM_BQ_STORAGE_EMULATOR_HOST  its Storage Read API (gRPC `host:port`), optional
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecom.core.sources import RAW_SCHEMAS
from ecom.targets import config_file
from ecom.targets.base import Location, TargetError

ENV = {
    "project": "ECOM_BQ_PROJECT",
    "dataset": "ECOM_BQ_DATASET",
    "raw_dataset": "ECOM_BQ_RAW_DATASET",
    "location": "ECOM_BQ_LOCATION",
    "endpoint": "BIGQUERY_EMULATOR_HOST",
    "storage_endpoint": "ECOM_BQ_STORAGE_EMULATOR_HOST",
}
# What a [bigquery] section or a named bigquery target of ecom.toml may set.
SETTINGS = {key: str for key in ENV} | {"sources": dict}
SOURCE_ENV_PREFIX = "ECOM_BQ_RAW_DATASET_"
NO_DATASET = (
    "no BigQuery dataset for the models: pass --dataset, set ECOM_BQ_DATASET or add `dataset` "
    "under [bigquery] in ecom.toml"
)


@dataclass(frozen=True)
class BigQueryConfig:
    project: str | None = None
    dataset: str | None = None
    raw_dataset: str | None = None
    location: str | None = None
    endpoint: str | None = None
    storage_endpoint: str | None = None
    sources: dict[str, str] = field(default_factory=dict)


def read_config_file(folder: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The `[bigquery]` section of the config file in `folder` (default: the cwd), and the file's path."""
    data, path = config_file.read_config_file(folder)
    section = data.get("bigquery", {})
    if not isinstance(section, dict):
        raise TargetError(f"{path}: `bigquery` must be a table of settings")
    config_file.check_settings(section, SETTINGS, f"{path}: bigquery")
    return section, path


def resolve_config(
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    folder: Path | None = None,
    named: Mapping[str, Any] | None = None,
) -> BigQueryConfig:
    """Flags over environment variables over the named target's settings (`named`, checked by
    `ecom.targets.options`) over the config file's [bigquery] section, per setting (and per source)."""
    environ = os.environ if environ is None else environ
    named = named or {}
    file, path = read_config_file(folder)
    values: dict[str, Any] = {}
    for key, var in ENV.items():
        values[key] = given.get(key) or environ.get(var) or named.get(key) or file.get(key)
    sources = {k: str(v) for k, v in {**file.get("sources", {}), **named.get("sources", {})}.items()}
    for var, value in environ.items():
        if var.startswith(SOURCE_ENV_PREFIX) and value:
            sources[var.removeprefix(SOURCE_ENV_PREFIX).lower()] = value
    sources.update({k: v for k, v in (given.get("sources") or {}).items() if v})
    unknown = sorted(set(sources) - set(RAW_SCHEMAS))
    if unknown:
        where = f" (in {path} or {SOURCE_ENV_PREFIX}*)" if path else f" ({SOURCE_ENV_PREFIX}*)"
        raise TargetError(
            f"per-source dataset given for {', '.join(unknown)}{where}, which is not a raw table; "
            f"raw tables: {', '.join(RAW_SCHEMAS)}"
        )
    return BigQueryConfig(**values, sources=sources)


def split_dataset(value: str, default_project: str) -> Location:
    """`dataset` or `project.dataset` (a project id may itself hold dots: `example.com:proj`)."""
    project, _, dataset = value.rpartition(".")
    return Location(database=dataset, catalog=project or default_project)


def offline_locations(
    environ: Mapping[str, str] | None = None,
    folder: Path | None = None,
    named: Mapping[str, Any] | None = None,
    **given: Any,
) -> tuple[Callable[[str], Location], Location]:
    """Where each raw table and the models live, from the settings alone (no credentials, no
    connection): what `ecom compile` renders when every data-derived variable is given.
    Placeholders fill what is unset."""
    config = resolve_config(given, environ, folder, named)
    project = config.project or "your-project"
    dataset = config.dataset or "ecom"
    raw = split_dataset(config.raw_dataset or f"{dataset}_raw", project)
    sources = {t: split_dataset(v, project) for t, v in config.sources.items()}
    return (lambda table: sources.get(table, raw)), Location(dataset, project)
