"""The BigQuery target's settings. First found wins: flags (`from_options` arguments), environment
variables, then the `[bigquery]` section of `ecom.toml` / `ecom.yml` in the working directory
(docs/bigquery.md):

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
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Location, TargetError, first_line

CONFIG_FILES = ("ecom.toml", "ecom.yml", "ecom.yaml")
ENV = {
    "project": "ECOM_BQ_PROJECT",
    "dataset": "ECOM_BQ_DATASET",
    "raw_dataset": "ECOM_BQ_RAW_DATASET",
    "location": "ECOM_BQ_LOCATION",
    "endpoint": "BIGQUERY_EMULATOR_HOST",
    "storage_endpoint": "ECOM_BQ_STORAGE_EMULATOR_HOST",
}
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


def read_config(folder: Path | None = None) -> tuple[Any, Path | None]:
    """The parsed first config file in `folder` (default: the cwd), and its path; ({}, None) without one."""
    folder = Path.cwd() if folder is None else Path(folder)
    for name in CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            if path.suffix == ".toml":
                return tomllib.loads(path.read_text()), path
            import yaml

            return yaml.safe_load(path.read_text()) or {}, path
        except Exception as e:  # a syntax error in the user's file: say where
            raise TargetError(f"cannot read {path}: {first_line(e)}") from None
    return {}, None


def read_config_file(folder: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The `[bigquery]` section of the first config file in `folder` (default: the cwd)."""
    data, path = read_config(folder)
    if path is None:
        return {}, None
    section = data.get("bigquery", {}) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise TargetError(f"{path}: `bigquery` must be a table of settings")
    known = {"project", "dataset", "raw_dataset", "location", "endpoint", "storage_endpoint", "sources"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise TargetError(
            f"{path}: unknown bigquery setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    if not isinstance(section.get("sources", {}), dict):
        raise TargetError(f"{path}: bigquery.sources must map a raw table to a dataset")
    return section, path


def resolve_config(
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    folder: Path | None = None,
) -> BigQueryConfig:
    """Flags over environment variables over the config file, per setting (and per source)."""
    environ = os.environ if environ is None else environ
    file, path = read_config_file(folder)
    values: dict[str, Any] = {}
    for key, var in ENV.items():
        values[key] = given.get(key) or environ.get(var) or file.get(key)
    sources = {k: str(v) for k, v in file.get("sources", {}).items()}
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
    environ: Mapping[str, str] | None = None, folder: Path | None = None, **given: Any
) -> tuple[Callable[[str], Location], Location]:
    """Where each raw table and the models live, from the settings alone (no credentials, no
    connection): what `ecom compile --vars as_of=...` renders. Placeholders fill what is unset."""
    config = resolve_config(given, environ, folder)
    project = config.project or "your-project"
    dataset = config.dataset or "ecom"
    raw = split_dataset(config.raw_dataset or f"{dataset}_raw", project)
    sources = {t: split_dataset(v, project) for t, v in config.sources.items()}
    return (lambda table: sources.get(table, raw)), Location(dataset, project)
