"""The BigQuery target: models built where production data lives (`--target bigquery`).

Its settings come from `config` (flags, environment, ecom.toml), its credentials from `auth`.

Each model is one `CREATE OR REPLACE TABLE ... AS` job: BigQuery replaces the table atomically, so
a failed model leaves its previous table (there is no multi-statement build transaction). A model
whose partitioning changed is built beside and swapped in (`_swap`), one turned from a view into a
table or back drops the other kind first, and an incremental one runs a script (replace_partitions).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from ecom.core.interrupts import mark_replaced, unmark_replaced
from ecom.core.registry import Model
from ecom.core.sources import RAW_SCHEMAS
from ecom.targets.base import Location, Target, TargetError, row_count
from ecom.targets.bigquery.auth import default_credentials
from ecom.targets.bigquery.config import (
    NO_DATASET,
    SETTINGS,
    SOURCE_ENV_PREFIX,
    BigQueryConfig,
    check_identifier,
    format_bytes,
    offline_locations,
    raw_locations,
    resolve_config,
)
from ecom.targets.bigquery.ddl import create_statement, label, quote
from ecom.targets.bigquery.errors import BigQueryError, message_of, readable_errors

# One timeout policy for every call to BigQuery's API, made by ecom or by ibis through the same
# client (the library's default retries a refused connection for 10 minutes): each HTTP request
# gives up after REQUEST_SECONDS, and retrying transient errors after RETRY_SECONDS (an emulator
# is local: a refused connection there is a wrong endpoint, not a blip).
REQUEST_SECONDS = 30
RETRY_SECONDS = {"google": 30, "emulator": 10}
# BigQuery's partition limits: a job writes at most 4,000 partitions, a table holds at most 10,000.
# Every build job creates its table afresh, so the per-job limit is the one a build can reach, and
# BigQuery refuses such a job with this message (it bills no query that returns an error).
TOO_MANY_PARTITIONS = "too many partitions produced by query"
CANCEL_WAIT_SECONDS = 10  # how long a stopped command waits to see a job it cancelled end
SWAP_PREFIX = "_ecom_"  # _ecom_new_<model> and _ecom_old_<model> during a swap


def _client_class(rest_only: bool) -> type:
    from google.cloud import bigquery

    class Client(bigquery.Client):
        retry_seconds: float = RETRY_SECONDS["google"]
        parameters: Mapping[str, str] = MappingProxyType({})  # BigQueryTarget.bind_parameters

        def _with_parameters(self, query: str, config: Any) -> Any:
            """The job's configuration with the bound parameters its SQL names (@name), whoever
            runs it: ecom's jobs and ibis's reads alike."""
            named = [n for n in self.parameters if re.search(rf"@{n}\b", query)]
            given = {p.name for p in (config.query_parameters if config else [])}
            if not set(named) - given:
                return config
            config = copy.deepcopy(config) if config else bigquery.QueryJobConfig()
            config.query_parameters = [
                *config.query_parameters,
                *(bigquery.ScalarQueryParameter(n, "STRING", self.parameters[n]) for n in named if n not in given),
            ]
            return config

        def query(self, query: str, job_config: Any = None, *args: Any, **kwargs: Any) -> Any:
            return super().query(query, self._with_parameters(query, job_config), *args, **kwargs)

        def query_and_wait(self, query: str, *, job_config: Any = None, **kwargs: Any) -> Any:
            return super().query_and_wait(query, job_config=self._with_parameters(query, job_config), **kwargs)

        def _call_api(self, retry: Any, *args: Any, **kwargs: Any) -> Any:
            """Every API call goes through here: the timeout policy above."""
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = REQUEST_SECONDS
            if retry is not None:
                retry = retry.with_timeout(self.retry_seconds)
            return super()._call_api(retry, *args, **kwargs)

        if rest_only:  # an emulator without a Storage Read API

            def _ensure_bqstorage_client(self, *args: Any, **kwargs: Any) -> None:
                return None

    return Client


def _credentials(endpoint: str | None) -> tuple[Any, str | None]:
    """The credentials and their project: Application Default Credentials for Google's API; for an
    emulator, which checks none, anonymous ones and no project."""
    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), None
    return default_credentials()


def _project(config: BigQueryConfig, adc_project: str | None) -> str:
    """The project jobs run in: the configured one, else the credentials', else GOOGLE_CLOUD_PROJECT.
    None, or no dataset either, is TargetError before any client is made."""
    project = config.project or adc_project or os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not project:
        raise TargetError(
            "no BigQuery project: pass --project, set ECOM_BQ_PROJECT or add `project` under [bigquery] in ecom.toml"
        )
    if not (config.dataset or config.raw_dataset):
        raise TargetError(
            "no BigQuery dataset: pass --dataset (the models; raw tables default to <dataset>_raw) "
            "or --raw-dataset, set ECOM_BQ_DATASET / ECOM_BQ_RAW_DATASET, or add them under "
            "[bigquery] in ecom.toml"
        )
    return project


class BigQueryTarget(Target):
    name = "bigquery"
    dialect = "bigquery"
    settings = SETTINGS
    supports_dry_run = True
    test_workers = 8  # data tests are small jobs that mostly wait: run several at once
    batch_tests = True  # and fewer of them: each job has its latency and its minimum bill

    def __init__(self, config: BigQueryConfig):
        super().__init__()
        self.config = config
        self.endpoint = config.endpoint  # a URL: `host:port` was made http://host:port (config.parse_endpoint)
        credentials, adc_project = _credentials(self.endpoint)
        project = _project(config, adc_project)
        self.project = check_identifier("project", project, "the credentials' project")
        self.location = config.location
        # An upload needs only the raw dataset; anything touching models asks for `models`.
        self._models = Location(database=config.dataset, catalog=project) if config.dataset else None
        self.raw, self.sources = raw_locations(config, project, config.dataset)
        # An emulator without a Storage Read endpoint: results must come over REST, never through
        # a Storage client the library would otherwise create for Google's own host.
        rest_only = bool(self.endpoint and not config.storage_endpoint)
        self.max_bytes_billed = config.max_bytes_billed
        # a model's jobs mostly wait too: independent models build side by side
        self.build_workers = config.threads
        # the cap on every query job, ibis's own (data tests, reads, defaults) included
        # (QueryJobConfig stores a None as the string 'None': set the cap only when there is one)
        self.cap = {"maximum_bytes_billed": self.max_bytes_billed} if self.max_bytes_billed else {}
        self.client = self._client(project, credentials, rest_only)
        self._waited: dict[int, Any] = {}  # the jobs replacing a table that a thread waits on, by id()
        self.notes: dict[str, str] = {}  # per model: what the build chose (monthly partitions)
        self.bytes_processed: dict[str, int] = {}  # per model: summed over the jobs that built it
        self.con = self._connect(project, credentials, rest_only)
        self._checked: set[Location] = set()
        # the raw tables' metadata: a build checks its sources up to three times (its own check, then the
        # variables' defaults and bounds), each check a round trip per raw table
        self._raw_tables: dict[str, Any] = {}
        # each model's table as the job that built it left it, read once for its row count and
        # its descriptions (a metadata read is a round trip)
        self._built: dict[str, Any] = {}

    @classmethod
    def open(
        cls, given: Mapping[str, Any], named: Mapping[str, Any], *, create: bool = False, read_only: bool = False
    ) -> BigQueryTarget:
        # `create` and `read_only` are moot: datasets are created when first written to, and the
        # credentials' permissions decide what may be written
        return cls(resolve_config(given, named=named))

    @classmethod
    def offline_locations(
        cls, given: Mapping[str, Any], named: Mapping[str, Any]
    ) -> tuple[Callable[[str], Location], Location]:
        return offline_locations(named=named, **given)

    def _client(self, project: str, credentials: Any, rest_only: bool) -> Any:
        """The client of every call to BigQuery's API, ecom's and ibis's: the endpoint's, the byte cap
        on each query job, and the timeout policy (REQUEST_SECONDS, RETRY_SECONDS)."""
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        client = _client_class(rest_only)(
            project=project,
            credentials=credentials,
            location=self.location,
            client_options=ClientOptions(api_endpoint=self.endpoint) if self.endpoint else None,
            default_query_job_config=bigquery.QueryJobConfig(**self.cap),
        )
        client.retry_seconds = RETRY_SECONDS["emulator" if self.endpoint else "google"]
        return client

    def _connect(self, project: str, credentials: Any, rest_only: bool) -> Any:
        """ibis's connection over `self.client`, its default dataset the models' (else the raw one's)."""
        dataset = self.config.dataset
        storage = self._storage_client(credentials)
        con = ibis.bigquery.connect(
            client=self.client,
            project_id=project,
            dataset_id=f"{project}.{dataset}" if dataset else f"{self.raw.catalog}.{self.raw.database}",
            credentials=credentials,
            # ibis makes a Storage client for Google's host when given none: give it a stand-in,
            # then take it away, so that no client for Google's host exists in emulator mode
            storage_client=storage if storage is not None else object(),
            location=self.location,
        )
        if rest_only:
            con.storage_client = None
        return con

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

        channel = grpc.insecure_channel(self.config.storage_endpoint)  # host:port (config.parse_grpc_address)
        return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))

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
                self.client.get_dataset(f"{loc.catalog}.{loc.database}")
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
            self.client.create_dataset(ds, exists_ok=True)
        self._checked.add(loc)

    def _table_or_none(self, loc: Location, name: str) -> Any:
        from google.api_core.exceptions import NotFound

        with readable_errors(f"reading {self._ref(loc, name)}"):
            try:
                return self.client.get_table(self._ref(loc, name))
            except NotFound:
                return None

    def _raw_table(self, table: str) -> Any:
        """The raw table's metadata (None when it does not exist), read once it exists."""
        if table not in self._raw_tables:
            found = self._table_or_none(self.raw_location(table), table)
            if found is None:
                return None
            self._raw_tables[table] = found
        return self._raw_tables[table]

    def raw_schema(self, table: str) -> ibis.Schema | None:
        from ibis.backends.bigquery.datatypes import BigQuerySchema

        loc = self.raw_location(table)
        found = self._raw_table(table)
        if found is None:
            if not self._dataset_exists(loc):
                # the setting that chose this dataset: the table's own, else the raw dataset's
                setting = (
                    f"{SOURCE_ENV_PREFIX}{table.upper()} or {table} under [bigquery.sources] in ecom.toml"
                    if table in self.sources
                    else "--raw-dataset / ECOM_BQ_RAW_DATASET"
                )
                raise TargetError(
                    f"raw dataset {loc.catalog}.{loc.database} not found (or not visible to these "
                    f"credentials): set {setting}, or upload raw data with `ecom load FOLDER --target bigquery`"
                )
            return None
        return BigQuerySchema.to_ibis(found.schema)

    def raw_exists(self, table: str) -> bool:
        """Whether the raw table exists (False too when its dataset does not exist yet)."""
        return self._table_or_none(self.raw_location(table), table) is not None

    def raw_rows(self, table: str) -> int | None:
        """A table's row count from its metadata (no job); a view's (no count in its metadata) by a query."""
        found = self._table_or_none(self.raw_location(table), table)
        if found is None or found.table_type != "TABLE":
            return super().raw_rows(table) if found is not None else None
        return int(found.num_rows or 0)

    def source(self, table: str) -> ir.Table:
        if table not in self._sources:
            loc = self.raw_location(table)
            # Looked up first with the target's retry timeout (ibis's own lookup retries for 10
            # minutes), so that an unreachable endpoint fails as fast here as in every other command.
            self._raw_table(table)
            self._sources[table] = self.con.table(table, database=(loc.catalog, loc.database))
        return self._sources[table]

    def exists(self, name: str) -> bool:
        return self._table_or_none(self.models, name) is not None

    def table(self, name: str) -> ir.Table:
        return self.con.table(name, database=(self.models.catalog, self.models.database))

    def table_schema(self, name: str) -> ibis.Schema | None:
        """From the table's metadata: a round trip, no query job (none billed)."""
        from ibis.backends.bigquery.datatypes import BigQuerySchema

        found = self._table_or_none(self.models, name)
        return BigQuerySchema.to_ibis(found.schema) if found is not None and found.table_type == "TABLE" else None

    # -- building ---------------------------------------------------------------------------------

    def _compile(self, expr: ir.Table) -> str:
        """The expression's BigQuery SQL, as `ecom compile` and the snapshots render it (ibis's
        `con.compile` would first run a query to find a session dataset for memtables)."""
        return str(ibis.to_sql(expr, dialect=self.dialect))

    def ddl(self, model: Model, expr: ir.Table, *, name: str | None = None, monthly: bool = False) -> str:
        """The one statement that (re)builds a model (`ddl.create_statement`)."""
        return create_statement(model, expr.schema(), self.compile(expr), self.models, name=name, monthly=monthly)

    def _quoted(self, name: str) -> str:
        return quote(self.models.catalog, self.models.database, name)

    def _run(self, sql: str, model: Model, *, replaces: bool = True, **kwargs: Any) -> Any:
        """Run one job of a model, labelled with it and under the cost cap; BigQuery's refusal
        becomes BigQueryError with its own message, or saying the estimate and the cap. `replaces`:
        whether the job changes a table a reader sees (not a swap's table beside the model)."""
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            labels={"ecom_model": label(model.name), "ecom_layer": model.layer},
            **self.cap,
            **kwargs,
        )
        try:
            if config.dry_run:
                job = self.client.query(sql, job_config=config)
                job.result()
            else:
                job = self._replacing(functools.partial(self.client.query, sql, job_config=config), replaces)
        except GoogleAPICallError as e:
            if any(isinstance(x, dict) and x.get("reason") == "bytesBilledLimitExceeded" for x in e.errors or []):
                raise BigQueryError(self._over_cap(sql, model)) from None
            raise BigQueryError(message_of(e)) from None
        if not config.dry_run:
            processed = int(job.total_bytes_processed or 0)
            self.bytes_processed[model.name] = self.bytes_processed.get(model.name, 0) + processed
        return job

    def _replacing(self, start: Callable[[], Any], replaces: bool = True) -> Any:
        """Start a job that replaces a table (`start` asks for it) and wait for it. It counts as
        replaced (mark_replaced) from before it is asked for, as a Ctrl-C inside the request may leave
        it created, until it is seen to fail or be cancelled. A Ctrl-C or SIGTERM while it runs
        cancels it: BigQuery would run it to its end after this process, replacing a table the command
        says is as it was. A cancel is a request a job near its end may not honour: one seen to finish,
        or not seen to end within CANCEL_WAIT_SECONDS, still counts. A job that changes no table a
        reader sees (`replaces` False: a swap's new table beside the model) is cancelled alike, and
        not counted: a failed build after it has changed nothing."""
        from google.api_core.exceptions import GoogleAPICallError

        undo = unmark_replaced if replaces else lambda: None
        if replaces:
            mark_replaced()
        try:
            job = start()
            self._waited[id(job)] = job
            try:
                job.result()
            except KeyboardInterrupt:
                if _cancelled(job):
                    undo()
                raise
            finally:
                self._waited.pop(id(job), None)
        except GoogleAPICallError:
            undo()  # refused, or failed: nothing replaced
            raise
        return job

    def cancel_jobs(self) -> None:
        """Ask BigQuery to cancel the jobs the build's other threads wait on; each thread sees its
        own job end (cancelled, or finished first)."""
        for job in list(self._waited.values()):
            with contextlib.suppress(Exception):  # a cancel refused or unsent: that job runs to its end
                job.cancel()

    def _over_cap(self, sql: str, model: Model) -> str:
        estimate = int(self._run(sql, model, dry_run=True, use_query_cache=False).total_bytes_processed or 0)
        return (
            f"{model.name} would process {format_bytes(estimate)} ({estimate:,} bytes), over the cap of "
            f"{format_bytes(self.max_bytes_billed)} per query job: raise it with --max-bytes-billed, "
            "ECOM_BQ_MAX_BYTES_BILLED or max_bytes_billed in ecom.toml (0 for none)"
        )

    def _spec(self, model: Model, monthly: bool) -> tuple[Any, ...]:
        return (
            (model.partition_by, "MONTH" if monthly else "DAY") if model.partition_by else None,
            tuple(model.cluster_by),
        )

    @staticmethod
    def _existing_spec(table: Any) -> tuple[Any, ...]:
        if table.range_partitioning is not None:
            return ("range",)
        part = table.time_partitioning
        return ((part.field, part.type_) if part else None, tuple(table.clustering_fields or ()))

    def _swap(self, model: Model, expr: ir.Table, monthly: bool) -> None:
        """Replace a table whose partitioning or clustering changed, which CREATE OR REPLACE refuses.
        The new table is built beside the old one; then the old is renamed aside and the new one
        takes its name (the old is renamed back if that fails); the old is dropped last. A failure
        at any step leaves the old table under its name, except between the two renames (two
        metadata operations) where it is readable as _ecom_old_<model>."""
        new, old = f"{SWAP_PREFIX}new_{model.name}", f"{SWAP_PREFIX}old_{model.name}"
        # beside the model, which stays as it was until the renames
        self._run(f"DROP TABLE IF EXISTS {self._quoted(old)}", model, replaces=False)  # left by an interrupted swap
        self._run(self.ddl(model, expr, name=new, monthly=monthly), model, replaces=False)
        self._run(f"ALTER TABLE {self._quoted(model.name)} RENAME TO {quote(old)}", model)
        try:
            self._run(f"ALTER TABLE {self._quoted(new)} RENAME TO {quote(model.name)}", model)
        except BaseException:
            self._run(f"ALTER TABLE {self._quoted(old)} RENAME TO {quote(model.name)}", model)
            raise
        self._run(f"DROP TABLE {self._quoted(old)}", model)

    def bind_parameters(self, values: Mapping[str, str]) -> None:
        self.client.parameters = dict(values)

    def materialize(self, model: Model, expr: ir.Table) -> int:
        """Build the model's table (or view) by one job (the module's docstring says when more). A
        day-partitioned model whose rows span more than 4,000 days is refused by BigQuery, unbilled:
        it is built again partitioned by month (asking first would cost a query per model and build,
        for a case thelook never reaches)."""
        self.ensure_dataset(self.models)
        existing = self._table_or_none(self.models, model.name)
        kind = "VIEW" if model.materialization(self.name) == "view" else "TABLE"
        if existing is not None and existing.table_type in {"TABLE", "VIEW"} - {kind}:
            # CREATE OR REPLACE cannot turn a table into a view or back (BigQuery refuses it; on DuckDB
            # the other kind is dropped in the build's transaction): here the model is missing until
            # its job ends, as a failed build leaves it
            self._run(f"DROP {existing.table_type} {self._quoted(model.name)}", model)
            existing = None
        if kind == "VIEW":
            self._run(self.ddl(model, expr), model)
            return row_count(self.table(model.name))
        try:
            self._replace(model, expr, existing, monthly=False)
        except BigQueryError as e:
            if not model.partition_by or TOO_MANY_PARTITIONS not in str(e).lower():
                raise
            self.notes[model.name] = f"{e}: partitioned by month"
            self._replace(model, expr, existing, monthly=True)
        return self._built_rows(model)

    def _replace(self, model: Model, expr: ir.Table, existing: Any, monthly: bool) -> None:
        if existing is not None and self._existing_spec(existing) != self._spec(model, monthly):
            self._swap(model, expr, monthly)
        else:
            self._run(self.ddl(model, expr, monthly=monthly), model)

    def _built_rows(self, model: Model) -> int:
        self._built[model.name] = table = self.client.get_table(self._ref(self.models, model.name))
        return int(table.num_rows)

    def replace_partitions(self, model: Model, expr: ir.Table, since: dt.date) -> int:
        """One script: the new rows into a temporary table, then in one transaction DELETE the
        partitions from `since` on and INSERT them. A DELETE of whole partitions is a metadata
        operation BigQuery does not bill; the rows' query reads only the partitions its filters
        reach. (A MERGE would scan the target table to match rows; partition-decorator writes
        need one job per day and are not atomic together.)"""
        target = self._ref(self.models, model.name)
        column = f"`{model.partition_by}`"
        if expr.schema()[model.partition_by].is_timestamp():
            column = f"DATE({column})"
        columns = ", ".join(f"`{c}`" for c in expr.columns)
        script = (
            f"CREATE TEMP TABLE _ecom_new AS {self.compile(expr)};\n"
            "BEGIN TRANSACTION;\n"
            f"DELETE FROM `{target}` WHERE {column} >= DATE '{since.isoformat()}';\n"
            f"INSERT INTO `{target}` ({columns}) SELECT {columns} FROM _ecom_new;\n"
            "COMMIT TRANSACTION;"
        )
        self._run(script, model)
        return self._built_rows(model)

    def describe(self, model: Model, description: str, columns: Mapping[str, str]) -> None:
        """Set the table's and its columns' descriptions by a metadata update right after the job that
        built it (the API carries the text as JSON: no quoting to get wrong)."""
        from google.cloud import bigquery

        ref = self._ref(self.models, model.name)
        with readable_errors(f"describing {ref}"):
            table = self._built.pop(model.name, None) or self.client.get_table(ref)
            table.description = description
            table.schema = [
                bigquery.SchemaField.from_api_repr({**f.to_api_repr(), "description": columns.get(f.name)})
                for f in table.schema
            ]
            self.client.update_table(table, ["description", "schema"])

    def dry_run(self, model: Model, expr: ir.Table) -> int:
        """Bytes BigQuery estimates the model's build would process (a dry run: nothing is
        written, nothing billed)."""
        try:
            query = self._run(self.compile(expr), model, dry_run=True, use_query_cache=False)
        except BigQueryError as e:
            raise TargetError(f"model {model.name} failed its dry run: {e}") from None
        return int(query.total_bytes_processed or 0)

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
        self._sources.clear()
        self._raw_tables.clear()
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
                    self._replacing(functools.partial(self.client.copy_table, staging, final, job_config=copy))
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
            mark_replaced()


def _cancelled(job: Any) -> bool:
    """Cancel a job this process stopped waiting for: whether it is seen to end without its result
    (cancelled, or failed on its own) within CANCEL_WAIT_SECONDS."""
    from google.api_core.exceptions import GoogleAPICallError

    try:
        job.cancel()
        job.result(timeout=CANCEL_WAIT_SECONDS)
    except GoogleAPICallError:
        return True
    except BaseException:  # not known: no answer in time, no network, a second Ctrl-C
        return False
    return False  # it finished first
