"""The BigQuery target: models built where production data lives (`--target bigquery`).

Configuration, first found wins: flags (`from_options` arguments), environment variables, then the
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

Credentials are Google's Application Default Credentials. Off Google Cloud they are looked for only
where a user puts them (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file): google.auth.default's
last resort, probing the GCE metadata server, takes seconds (3 tries with backoff) and sends traffic
off the machine, so it runs only where a metadata server can exist.

Each model is one `CREATE OR REPLACE TABLE ... AS` job: BigQuery replaces the table atomically, so
a failed model leaves its previous table (there is no multi-statement build transaction).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from ecom.core.registry import Model, Project
from ecom.core.sources import RAW_SCHEMAS, conform
from ecom.targets.base import Location, Target, TargetError, first_line

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
SCOPES = ("https://www.googleapis.com/auth/bigquery", "https://www.googleapis.com/auth/cloud-platform")
HOW_TO_AUTHENTICATE = (
    "no Google credentials found: run `gcloud auth application-default login`, or set "
    "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file "
    "(or point --endpoint / BIGQUERY_EMULATOR_HOST at a BigQuery emulator)"
)


NO_DATASET = (
    "no BigQuery dataset for the models: pass --dataset, set ECOM_BQ_DATASET or add `dataset` "
    "under [bigquery] in ecom.toml"
)


class BigQueryError(Exception):
    """A BigQuery job failed; the message is BigQuery's own, on one line."""


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
    """The `[bigquery]` section of the first config file in `folder` (default: the cwd)."""
    folder = Path.cwd() if folder is None else Path(folder)
    for name in CONFIG_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            if path.suffix == ".toml":
                data = tomllib.loads(path.read_text())
            else:
                import yaml

                data = yaml.safe_load(path.read_text()) or {}
        except Exception as e:  # a syntax error in the user's file: say where
            raise TargetError(f"cannot read {path}: {first_line(e)}") from None
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
    return {}, None


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


def message_of(error: BaseException) -> str:
    """BigQuery's own message on one line, without the HTTP verb and URL the client puts first."""
    errors = getattr(error, "errors", None) or []
    msg = ""
    if errors and isinstance(errors[0], dict):
        msg = errors[0].get("message", "")
    msg = msg or getattr(error, "message", None) or str(error) or type(error).__name__
    msg = re.sub(r"^(GET|POST|PUT|PATCH|DELETE) \S+: ", "", str(msg).strip())
    return msg.splitlines()[0] if msg else type(error).__name__


def _on_google_cloud() -> bool:
    """Whether a GCE-style metadata server may answer here (GCE, GKE, Cloud Run, functions, GAE)."""
    hints = (
        "GCE_METADATA_HOST",
        "GCE_METADATA_ROOT",
        "GCE_METADATA_IP",
        "K_SERVICE",
        "CLOUD_RUN_JOB",
        "FUNCTION_TARGET",
        "GAE_ENV",
        "KUBERNETES_SERVICE_HOST",
    )
    if any(os.environ.get(h) for h in hints):
        return True
    try:
        return Path("/sys/class/dmi/id/product_name").read_text().strip().startswith("Google")
    except OSError:
        return False


def _gcloud_adc_path() -> Path:
    try:
        from google.auth import _cloud_sdk

        return Path(_cloud_sdk.get_application_default_credentials_path())
    except Exception:  # the private helper moved: gcloud's documented location
        root = os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud"
        return Path(root) / "application_default_credentials.json"


def _gcloud_project() -> str | None:
    """gcloud's configured project, as google.auth.default reads it (None without gcloud)."""
    try:
        from google.auth import _cloud_sdk

        return _cloud_sdk.get_project_id()
    except Exception:
        return None


def default_credentials() -> tuple[Any, str | None]:
    """Application Default Credentials and their project, or TargetError saying how to get them."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        if _on_google_cloud():
            return google.auth.default(scopes=list(SCOPES))
        explicit = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        path = Path(explicit) if explicit else _gcloud_adc_path()
        if explicit or path.is_file():
            creds, project = google.auth.load_credentials_from_file(str(path), scopes=list(SCOPES))
            return creds, project or os.environ.get("GOOGLE_CLOUD_PROJECT") or _gcloud_project()
    except DefaultCredentialsError as e:
        if not (os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or _on_google_cloud()):
            raise TargetError(HOW_TO_AUTHENTICATE) from None
        raise TargetError(f"Google credentials unusable: {message_of(e)}") from None
    raise TargetError(HOW_TO_AUTHENTICATE)


def describe_error(error: BaseException, action: str | None = None) -> str | None:
    """One line for an error of Google's client libraries (None for any other exception)."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    during = f" while {action}" if action else ""
    if isinstance(error, auth_exc.RefreshError | gexc.Unauthenticated):
        return (
            f"Google credentials were refused{during} ({message_of(error)}): run "
            "`gcloud auth application-default login` again or check GOOGLE_APPLICATION_CREDENTIALS"
        )
    if isinstance(error, gexc.Forbidden):
        return f"permission denied{during}: {message_of(error)}"
    if isinstance(error, gexc.NotFound):
        return f"not found{during}: {message_of(error)}"
    if isinstance(error, gexc.GoogleAPICallError):
        return f"BigQuery error{during}: {message_of(error)}"
    if isinstance(error, gexc.RetryError):  # gave up retrying a connection error
        return f"cannot reach BigQuery{during}: {message_of(error.cause or error)}"
    if isinstance(error, auth_exc.GoogleAuthError):
        return f"Google authentication failed{during}: {message_of(error)}"
    return None


@contextlib.contextmanager
def readable_errors(action: str) -> Iterator[None]:
    """Turn the client's exceptions for reaching BigQuery into one-line TargetErrors."""
    try:
        yield
    except Exception as e:
        message = describe_error(e, action)
        if message is None and isinstance(e, ConnectionError | OSError):
            message = f"cannot reach BigQuery while {action}: {message_of(e)}"
        if message is None:
            raise
        raise TargetError(message) from None


def _clusterable(dtype: Any) -> bool:
    return any(
        check()
        for check in (
            dtype.is_date,
            dtype.is_timestamp,
            dtype.is_integer,
            dtype.is_decimal,
            dtype.is_boolean,
            dtype.is_string,
        )
    )


def _label(value: str) -> str:
    """A label value: lowercase letters, digits, `_` and `-`, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]


def _quote(*parts: str) -> str:
    return "`" + ".".join(parts) + "`"


def _rest_only_client_class() -> type:
    from google.cloud import bigquery

    class RestOnlyClient(bigquery.Client):
        def _ensure_bqstorage_client(self, *args: Any, **kwargs: Any) -> None:
            return None

    return RestOnlyClient


class BigQueryTarget(Target):
    name = "bigquery"
    dialect = "bigquery"
    test_workers = 8  # data tests are small jobs that mostly wait: run several at once

    def __init__(self, config: BigQueryConfig):
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        self.config = config
        self.endpoint = config.endpoint
        if self.endpoint:
            from google.auth.credentials import AnonymousCredentials

            if "://" not in self.endpoint:
                self.endpoint = f"http://{self.endpoint}"
            credentials, adc_project = AnonymousCredentials(), None
        else:
            credentials, adc_project = default_credentials()
        project = config.project or adc_project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project:
            raise TargetError(
                "no BigQuery project: pass --project, set ECOM_BQ_PROJECT or add `project` "
                "under [bigquery] in ecom.toml"
            )
        if not (config.dataset or config.raw_dataset):
            raise TargetError(
                "no BigQuery dataset: pass --dataset (the models; raw tables default to <dataset>_raw) "
                "or --raw-dataset, set ECOM_BQ_DATASET / ECOM_BQ_RAW_DATASET, or add them under "
                "[bigquery] in ecom.toml"
            )
        self.project = project
        self.location = config.location
        # An upload needs only the raw dataset; anything touching models asks for `models`.
        self._models = Location(database=config.dataset, catalog=project) if config.dataset else None
        self.raw = split_dataset(config.raw_dataset or f"{config.dataset}_raw", project)
        self.sources = {t: split_dataset(v, project) for t, v in config.sources.items()}
        options = ClientOptions(api_endpoint=self.endpoint) if self.endpoint else None
        # An emulator without a Storage Read endpoint: results must come over REST, never through
        # a Storage client the library would otherwise create for Google's own host.
        rest_only = bool(self.endpoint and not config.storage_endpoint)
        client_class = _rest_only_client_class() if rest_only else bigquery.Client
        self.client = client_class(
            project=project, credentials=credentials, location=self.location, client_options=options
        )
        # The client retries a refused connection for 10 minutes by default: a wrong endpoint or a
        # network outage should say so sooner.
        self.retry = bigquery.DEFAULT_RETRY.with_timeout(10 if self.endpoint else 60)
        storage = self._storage_client(credentials)
        self.con = ibis.bigquery.connect(
            client=self.client,
            project_id=project,
            dataset_id=f"{project}.{config.dataset}" if config.dataset else f"{self.raw.catalog}.{self.raw.database}",
            credentials=credentials,
            # ibis makes a Storage client for Google's host when given none: give it a stand-in,
            # then take it away, so that no client for Google's host exists in emulator mode
            storage_client=storage if storage is not None else object(),
            location=self.location,
        )
        if rest_only:
            self.con.storage_client = None
        self._checked: set[Location] = set()

    @classmethod
    def from_options(
        cls,
        project: str | None = None,
        dataset: str | None = None,
        raw_dataset: str | None = None,
        location: str | None = None,
        endpoint: str | None = None,
        sources: Mapping[str, str] | None = None,
        *,
        storage_endpoint: str | None = None,
        config_dir: str | Path | None = None,
    ) -> BigQueryTarget:
        given = dict(
            project=project,
            dataset=dataset,
            raw_dataset=raw_dataset,
            location=location,
            endpoint=endpoint,
            storage_endpoint=storage_endpoint,
            sources=sources,
        )
        return cls(resolve_config(given, folder=Path(config_dir) if config_dir else None))

    def _storage_client(self, credentials: Any) -> Any:
        from google.cloud.bigquery_storage_v1 import BigQueryReadClient

        if not self.endpoint:
            return BigQueryReadClient(credentials=credentials)
        if not self.config.storage_endpoint:
            return None
        import grpc
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
            BigQueryReadGrpcTransport,
        )

        host = re.sub(r"^\w+://", "", self.config.storage_endpoint)
        return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=grpc.insecure_channel(host)))

    # -- where things are -------------------------------------------------------------------------

    @property
    def models(self) -> Location:  # type: ignore[override]
        if self._models is None:
            raise TargetError(NO_DATASET)
        return self._models

    def raw_location(self, table: str) -> Location:
        return self.sources.get(table, self.raw)

    def _ref(self, loc: Location, name: str) -> str:
        return f"{loc.catalog}.{loc.database}.{name}"

    def _dataset_exists(self, loc: Location) -> bool:
        from google.api_core.exceptions import NotFound

        if loc in self._checked:
            return True
        with readable_errors(f"reading dataset {loc.catalog}.{loc.database}"):
            try:
                self.client.get_dataset(f"{loc.catalog}.{loc.database}", retry=self.retry)
            except NotFound:
                return False
        self._checked.add(loc)
        return True

    def ensure_dataset(self, loc: Location) -> None:
        """Create the dataset unless it exists: in the configured location, else in the raw
        dataset's (a query cannot read one location and write another)."""
        from google.cloud import bigquery

        if self._dataset_exists(loc):
            return
        with readable_errors(f"creating dataset {loc.catalog}.{loc.database}"):
            ds = bigquery.Dataset(f"{loc.catalog}.{loc.database}")
            location = self.location
            if not location and loc != self.raw and self._dataset_exists(self.raw):
                location = self.client.get_dataset(f"{self.raw.catalog}.{self.raw.database}").location
            if location:
                ds.location = location
            self.client.create_dataset(ds, exists_ok=True, retry=self.retry)
        self._checked.add(loc)

    def _table_or_none(self, loc: Location, name: str) -> Any:
        from google.api_core.exceptions import NotFound

        with readable_errors(f"reading {self._ref(loc, name)}"):
            try:
                return self.client.get_table(self._ref(loc, name), retry=self.retry)
            except NotFound:
                return None

    def raw_schema(self, table: str) -> ibis.Schema | None:
        from ibis.backends.bigquery.datatypes import BigQuerySchema

        loc = self.raw_location(table)
        found = self._table_or_none(loc, table)
        if found is None:
            if not self._dataset_exists(loc):
                raise TargetError(
                    f"raw dataset {loc.catalog}.{loc.database} not found (or not visible to these "
                    "credentials): set --raw-dataset / ECOM_BQ_RAW_DATASET, or upload raw data with "
                    "`ecom load FOLDER --target bigquery`"
                )
            return None
        return BigQuerySchema.to_ibis(found.schema)

    def source(self, table: str) -> ir.Table:
        loc = self.raw_location(table)
        return self.con.table(table, database=(loc.catalog, loc.database))

    def exists(self, name: str) -> bool:
        return self._table_or_none(self.models, name) is not None

    def table(self, name: str) -> ir.Table:
        return self.con.table(name, database=(self.models.catalog, self.models.database))

    # -- building ---------------------------------------------------------------------------------

    def compile(self, expr: ir.Table) -> str:
        """The expression's BigQuery SQL, as `ecom compile` and the snapshots render it (ibis's
        `con.compile` would first run a query to find a session dataset for memtables)."""
        return str(ibis.to_sql(expr, dialect=self.dialect))

    def ddl(self, model: Model, expr: ir.Table) -> str:
        """The one statement that (re)builds a model: partitioning, clustering and labels from its
        decorator. A TIMESTAMP partition column is partitioned by its UTC date."""
        sql = self.compile(expr)
        target = _quote(self.models.catalog, self.models.database, model.name)
        labels = f'OPTIONS(labels=[("ecom_model", "{_label(model.name)}")])'
        if model.materialized == "view":
            return f"CREATE OR REPLACE VIEW {target} {labels} AS\n{sql}"
        clauses = []
        if model.partition_by:
            dtype = expr.schema()[model.partition_by]
            if dtype.is_timestamp():
                clauses.append(f"PARTITION BY DATE({_quote(model.partition_by)})")
            elif dtype.is_date():
                clauses.append(f"PARTITION BY {_quote(model.partition_by)}")
            else:
                raise BigQueryError(
                    f"partition_by={model.partition_by!r} is {dtype}: BigQuery partitions by a date "
                    "or timestamp column here"
                )
        if model.cluster_by:
            # BigQuery's rules, checked here so that a bad decorator fails before any job runs
            schema = expr.schema()
            wrong = [f"{c} ({schema[c]})" for c in model.cluster_by if not _clusterable(schema[c])]
            if len(model.cluster_by) > 4 or wrong:
                refused = f"; not {', '.join(wrong)}" if wrong else ""
                raise BigQueryError(
                    f"cluster_by={model.cluster_by!r}: BigQuery clusters by at most 4 columns of type "
                    f"date, timestamp, integer, decimal, boolean or string{refused}"
                )
            clauses.append("CLUSTER BY " + ", ".join(_quote(c) for c in model.cluster_by))
        return " ".join([f"CREATE OR REPLACE TABLE {target}", *clauses, labels]) + f" AS\n{sql}"

    def _job_config(self, model: Model, **kwargs: Any) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(labels={"ecom_model": _label(model.name), "ecom_layer": model.layer}, **kwargs)

    def _run(self, sql: str, config: Any) -> Any:
        """Run one job; BigQuery's refusal becomes BigQueryError with its own message."""
        from google.api_core.exceptions import GoogleAPICallError

        try:
            job = self.client.query(sql, job_config=config)
            job.result()
        except GoogleAPICallError as e:
            raise BigQueryError(message_of(e)) from None
        return job

    def materialize(self, model: Model, expr: ir.Table) -> int:
        self.ensure_dataset(self.models)
        self._run(self.ddl(model, expr), self._job_config(model))
        if model.materialized == "view":
            return int(self.table(model.name).count().execute())
        table = self.client.get_table(self._ref(self.models, model.name))
        return int(table.num_rows)

    def dry_run_expressions(
        self, project: Project, selected: Iterable[str], values: Mapping[str, Any]
    ) -> dict[str, tuple[ir.Table, list[str]]]:
        """Each selected model's build query, and the upstream models it computes inline.

        A build reads upstream models as tables; one not built yet cannot be read by a dry run, so
        its expression is inlined (reading its own inputs), and the estimate covers computing it.
        """
        from ecom.core.engine import call

        selected = list(selected)
        needed = set(selected).union(*(project.ancestors(n) for n in selected))
        built = {n for n in needed if self.exists(n)}
        inputs: dict[str, ir.Table] = {}
        plan: dict[str, tuple[ir.Table, list[str]]] = {}
        for name in project.order:
            if name not in needed:
                continue
            tables = {s: conform(s, self.source(s)) for s in project.sources_of(name)}
            inline = [up for up in project.upstream_models(name) if up not in built]
            for up in project.upstream_models(name):
                tables[up] = self.table(up) if up in built else inputs[up]
            inputs[name] = call(project.models[name].func, tables, values)
            plan[name] = (inputs[name], inline)
        return {n: plan[n] for n in selected}

    def dry_run(self, model: Model, expr: ir.Table) -> int:
        """Bytes BigQuery estimates the model's query would process; nothing is written."""
        from ecom.core.engine import BuildError

        sql = self.compile(expr)
        try:
            job = self._run(sql, self._job_config(model, dry_run=True, use_query_cache=False))
        except BigQueryError as e:
            raise BuildError(f"model {model.name} failed its dry run: {e}") from None
        return int(job.total_bytes_processed or 0)

    # -- raw data ---------------------------------------------------------------------------------

    def write_raw(self, tables: Mapping[str, pa.Table | Iterable[pa.RecordBatch]]) -> dict[str, int]:
        """Replace the given raw tables; return their row counts.

        Every table is first loaded (Parquet, the contract's schema) into a staging table; only when
        all loads succeeded are they copied over the raw tables (a copy job replaces a table
        atomically), so a bad input replaces nothing.
        """
        from google.cloud import bigquery
        from ibis.backends.bigquery.datatypes import BigQuerySchema

        staged: dict[str, str] = {}
        try:
            with tempfile.TemporaryDirectory(prefix="ecom-upload-") as tmp:
                for name, data in tables.items():
                    loc = self.raw_location(name)
                    self.ensure_dataset(loc)
                    schema = RAW_SCHEMAS[name].to_pyarrow()
                    path = Path(tmp) / f"{name}.parquet"
                    batches = data.to_batches() if isinstance(data, pa.Table) else data
                    with pq.ParquetWriter(path, schema) as writer:
                        for batch in batches:
                            writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)
                    staging = self._ref(loc, f"_ecom_incoming_{name}")
                    config = bigquery.LoadJobConfig(
                        source_format=bigquery.SourceFormat.PARQUET,
                        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                        schema=BigQuerySchema.from_ibis(RAW_SCHEMAS[name]),
                    )
                    with readable_errors(f"uploading {name}"), path.open("rb") as f:
                        self.client.load_table_from_file(f, staging, job_config=config).result()
                    staged[name] = staging
            counts = {}
            for name, staging in staged.items():
                final = self._ref(self.raw_location(name), name)
                with readable_errors(f"replacing {final}"):
                    copy = bigquery.CopyJobConfig(write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
                    self.client.copy_table(staging, final, job_config=copy).result()
                    counts[name] = int(self.client.get_table(final).num_rows)
            return counts
        finally:
            for staging in staged.values():
                with contextlib.suppress(Exception):
                    self.client.delete_table(staging, not_found_ok=True)

    def write_table(self, name: str, data: pa.Table) -> None:
        """Replace a small table beside the models (build metadata) with one load job."""
        from google.cloud import bigquery

        self.ensure_dataset(self.models)
        with tempfile.TemporaryDirectory(prefix="ecom-upload-") as tmp:
            path = Path(tmp) / f"{name}.parquet"
            pq.write_table(data, path)
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            )
            with readable_errors(f"writing {self._ref(self.models, name)}"), path.open("rb") as f:
                self.client.load_table_from_file(f, self._ref(self.models, name), job_config=config).result()
