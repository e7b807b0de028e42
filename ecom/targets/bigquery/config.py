"""The BigQuery target's settings. First found wins: flags (`--project`...), environment
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
    endpoint     BIGQUERY_EMULATOR_HOST  a local emulator's REST root (`http://host:port`, or
                                       `host:port`), with anonymous credentials
                 ECOM_BQ_STORAGE_EMULATOR_HOST  its Storage Read API (gRPC `host:port`), optional
    max_bytes_billed  ECOM_BQ_MAX_BYTES_BILLED  the cap on every query job: bytes, or with a unit
                                       (`500MB`, `10GiB`, `1TB`); default 10 GiB, 0 for none
    threads      ECOM_BQ_THREADS       models a build runs at once (default 4, as dbt's threads)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

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
    "max_bytes_billed": "ECOM_BQ_MAX_BYTES_BILLED",
    "threads": "ECOM_BQ_THREADS",
}
# What a [bigquery] section or a named bigquery target of ecom.toml may set.
SETTINGS = {key: str for key in ENV} | {"max_bytes_billed": str | int, "threads": str | int, "sources": dict}
SOURCE_ENV_PREFIX = "ECOM_BQ_RAW_DATASET_"
NO_DATASET = (
    "no BigQuery dataset for the models: pass --dataset, set ECOM_BQ_DATASET or add `dataset` "
    "under [bigquery] in ecom.toml"
)


DEFAULT_MAX_BYTES_BILLED = 10 * 2**30
DEFAULT_THREADS, MAX_THREADS = 4, 64
UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15}
UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "PIB": 2**50}


def parse_bytes(value: Any, where: str) -> int:
    """A byte count: an integer, or a number with a unit (`500MB`, `10 GiB`, `1.5TB`)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(value)) if not isinstance(value, bool) else None
    unit = match and UNITS.get(match[2].upper())
    if not unit or float(match[1]) * unit >= 2**63:
        raise TargetError(
            f"{where} is {value!r}, not a byte count: write bytes or a number with a unit, e.g. 10GiB, 500MB, "
            "1TB (0 for no cap)"
        )
    return int(float(match[1]) * unit)


def parse_threads(value: Any, where: str) -> int:
    """A number of models to build at once: a whole number from 1 to MAX_THREADS."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_THREADS:
        raise TargetError(
            f"{where} is {value!r}, not a number of models to build at once: write a whole number from 1 to "
            f"{MAX_THREADS}"
        )
    return int(text)


def parse_endpoint(value: str, where: str) -> str:
    """An emulator's REST root: an http(s) URL with a host, or `host:port` (http). Anything else
    failed only at the first request, in the library's words (`notaurl`: after 10 s of retries, no
    such host 'notaurl')."""
    url = value if "://" in value else f"http://{value}"
    try:
        parts = urlsplit(url)
        port = parts.port  # read whatever the scheme: a ValueError for a port not a number from 0 to 65535
        # a bare word is no address (`notaurl` was taken for http://notaurl): without a scheme, a port
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and ("://" in value or port is not None)
    except ValueError:
        ok = False
    if not ok or re.search(r"\s", value):
        raise TargetError(
            f"{where} is {value!r}, not an http(s) URL with a host: write e.g. http://127.0.0.1:9050 "
            "(or 127.0.0.1:9050)"
        )
    return url


def parse_grpc_address(value: str, where: str) -> str:
    """The emulator's Storage Read API: `host:port` (a scheme before it is dropped, as gRPC takes
    none). Anything else left the first read of results waiting on a channel that never connects."""
    address = re.sub(r"^\w+://", "", value)
    try:
        parts = urlsplit(f"//{address}")
        ok = bool(parts.hostname) and parts.port is not None and parts.path == "" and not re.search(r"\s", value)
    except ValueError:  # a port not a number from 0 to 65535
        ok = False
    if not ok:
        raise TargetError(f"{where} is {value!r}, not a gRPC address: write host:port, e.g. 127.0.0.1:9060")
    return address


def format_bytes(n: int) -> str:
    """Bytes in binary units, e.g. 10.0 GiB."""
    size, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            break
        size /= 1024
    return f"{size:,.0f} B" if unit == "B" else f"{size:,.1f} {unit}"


@dataclass(frozen=True)
class BigQueryConfig:
    project: str | None = None
    dataset: str | None = None
    raw_dataset: str | None = None
    location: str | None = None
    endpoint: str | None = None
    storage_endpoint: str | None = None
    max_bytes_billed: int = DEFAULT_MAX_BYTES_BILLED  # 0: no cap
    threads: int = DEFAULT_THREADS
    sources: dict[str, str] = field(default_factory=dict)


# BigQuery's naming rules (cloud.google.com/resource-manager/docs/creating-managing-projects,
# cloud.google.com/bigquery/docs/datasets#dataset-naming): checked before any SQL is built, so that no
# setting can carry SQL into a statement.
PROJECT_ID = re.compile(r"(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
DATASET_ID = re.compile(r"[A-Za-z0-9_]{1,1024}")
LOCATION = re.compile(r"[A-Za-z0-9-]{1,64}")
RULES = {
    "project": (PROJECT_ID, "a project id is 6-30 lowercase letters, digits and hyphens, starting with a letter"),
    "dataset": (DATASET_ID, "a dataset id is letters, digits and underscores"),
    "location": (LOCATION, "a location is a name such as US, EU or europe-west1"),
}


def check_identifier(kind: str, value: str, where: str) -> str:
    """`value` if it follows BigQuery's rule for a `kind` (project, dataset, location), else
    TargetError naming the setting and the rule."""
    pattern, rule = RULES[kind]
    if not pattern.fullmatch(value):
        raise TargetError(f"{where} is {value!r}, not a BigQuery {kind}: {rule}")
    return value


def check_dataset_path(value: str, where: str) -> str:
    """`dataset` or `project.dataset`, each part checked."""
    project, dot, dataset = value.rpartition(".")
    # a project holds a dot only in its domain (`example.com:proj`): another (`a.b.c`) makes a third part,
    # which was blamed on the project ('a.b' is not a project); `.d` was d in the models' project
    # and a domain project alone (`example.com:proj`) ends in no dataset, though its last part holds a ':'
    if (dot and (not project or not dataset or "." in project.rpartition(":")[2])) or ":" in dataset:
        raise TargetError(
            f"{where} is {value!r}, not a BigQuery dataset: write dataset or project.dataset, e.g. ecom_raw or "
            "my-project.ecom_raw"
        )
    if project:
        check_identifier("project", project, f"{where} (its project)")
    check_identifier("dataset", dataset, where)
    return value


def read_config_file(folder: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The `[bigquery]` section of the config file in `folder` (default: the cwd), and the file's path."""
    data, path = config_file.read_config_file(folder)
    return bigquery_section(data, path), path


def bigquery_section(data: Mapping[str, Any], path: Path | None) -> dict[str, Any]:
    """The config file's `[bigquery]` section, its settings' names and types checked, and the raw
    tables its per-source datasets name (their values are checked when a BigQuery target is used)."""
    section = data.get("bigquery", {})
    if not isinstance(section, dict):
        raise TargetError(f"{path}: `bigquery` must be a table of settings")
    config_file.check_settings(section, SETTINGS, f"{path}: bigquery")
    _refuse_unknown_sources(section.get("sources", {}), path)
    return section


Found = dict[str, tuple[Any, str]]  # a setting (or a source's table) -> its value and where it came from


class Layers(NamedTuple):
    """Where settings come from, first found wins: flags, environment, named target, config file."""

    given: Mapping[str, Any]
    environ: Mapping[str, str]
    named: Mapping[str, Any]
    file: Mapping[str, Any]  # its [bigquery] section
    path: Path | None  # the config file, for the messages


def resolve_config(
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    folder: Path | None = None,
    named: Mapping[str, Any] | None = None,
) -> BigQueryConfig:
    """Flags over environment variables over the named target's settings (`named`, checked by
    `ecom.targets.options`) over the config file's [bigquery] section, per setting (and per source)."""
    layers = Layers(given, os.environ if environ is None else environ, named or {}, *read_config_file(folder))
    found = _first_found(layers)
    sources = _source_datasets(layers)
    _refuse_unknown_sources(sources, layers.path)
    values = {key: _parsed(key, value, where) for key, (value, where) in found.items()}
    _check_names(found, sources)
    return BigQueryConfig(**values, sources={table: value for table, (value, _) in sources.items()})


def empty_flag(flag: str) -> TargetError:
    """A flag given "" (an unset shell variable: `--dataset "$DS"`), refused rather than passed over."""
    return TargetError(f"{flag} is given but empty: give a value, or drop the flag")


def _first_found(layers: Layers) -> Found:
    """Each setting's first value, flag, environment variable, named target then config file; a
    variable set to "" counts as unset, a flag set to "" is refused."""
    found: Found = {}
    for key, var in ENV.items():
        flag = f"--{key.replace('_', '-')}"
        if layers.given.get(key) == "":  # passed over, it built into the default dataset `ecom`, or the env's
            raise empty_flag(flag)
        for value, where in ((layers.given.get(key), flag), (layers.environ.get(var), var)):
            if value not in (None, ""):
                found[key] = value, where
                break
        else:
            for settings, where in ((layers.named, "of the named target"), (layers.file, f"in {layers.path}")):
                if settings.get(key) is not None:
                    found[key] = settings[key], f"{key} {where}"
                    break
    return found


def _source_datasets(layers: Layers) -> Found:
    """Each raw table's own dataset, later ones winning: the config file's, the named target's,
    the environment's, the one given."""
    sources: Found = {}
    for settings, where in ((layers.file, f"in {layers.path}"), (layers.named, "of the named target")):
        for k, v in settings.get("sources", {}).items():
            sources[k] = v, f"sources.{k} {where}"
    for var, value in layers.environ.items():
        if var.startswith(SOURCE_ENV_PREFIX) and value:
            sources[var.removeprefix(SOURCE_ENV_PREFIX).lower()] = value, var
    for k, v in (layers.given.get("sources") or {}).items():
        if v:
            sources[k] = v, f"the dataset given for {k}"
    return sources


def _refuse_unknown_sources(sources: Mapping[str, Any], path: Path | None) -> None:
    """A per-source dataset is for a raw table: another name is a typo, not a setting to ignore."""
    unknown = sorted(set(sources) - set(RAW_SCHEMAS))
    if unknown:
        where = f" (in {path} or {SOURCE_ENV_PREFIX}*)" if path else f" ({SOURCE_ENV_PREFIX}*)"
        raise TargetError(
            f"per-source dataset given for {', '.join(unknown)}{where}, which is not a raw table; "
            f"raw tables: {', '.join(RAW_SCHEMAS)}"
        )


def _parsed(key: str, value: Any, where: str) -> Any:
    """A setting's value in its type: the numbers parsed, the rest as found."""
    if key == "max_bytes_billed":
        return parse_bytes(value, where)
    if key == "threads":
        return parse_threads(value, where)
    if key == "endpoint":
        return parse_endpoint(value, where)
    if key == "storage_endpoint":
        return parse_grpc_address(value, where)
    return value


def _check_names(found: Found, sources: Found) -> None:
    """Every project, dataset and location against BigQuery's naming rules, before any SQL names them."""
    for value, where in sources.values():
        if not isinstance(value, str):
            raise TargetError(f"{where} must be a string, not {value!r}")
        check_dataset_path(value, where)
    for key in ("project", "dataset", "location"):
        value, where = found.get(key, (None, ""))
        if value:
            check_identifier(key, value, where)
    value, where = found.get("raw_dataset", (None, ""))
    if value:
        check_dataset_path(value, where)


def split_dataset(value: str, default_project: str) -> Location:
    """`dataset` or `project.dataset` (a project id may itself hold dots: `example.com:proj`)."""
    project, _, dataset = value.rpartition(".")
    return Location(database=dataset, catalog=project or default_project)


# The project offline SQL names when none is set: `ecom compile` says so, as SQL that reads it fails.
PLACEHOLDER_PROJECT = "your-project"


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
    project = config.project or PLACEHOLDER_PROJECT
    dataset = config.dataset or "ecom"
    raw, sources = raw_locations(config, project, dataset)
    return (lambda table: sources.get(table, raw)), Location(dataset, project)


def raw_locations(config: BigQueryConfig, project: str, dataset: str | None) -> tuple[Location, dict[str, Location]]:
    """The raw dataset (default: the models' `dataset` + `_raw`) and the raw tables read from
    another, each in `project` unless its name gives one."""
    raw = split_dataset(config.raw_dataset or f"{dataset}_raw", project)
    return raw, {table: split_dataset(value, project) for table, value in config.sources.items()}
