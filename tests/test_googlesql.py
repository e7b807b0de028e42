"""Every model's BigQuery SELECT and build DDL, analyzed by Google's GoogleSQL (ZetaSQL) analyzer.

The snapshots and the dialect cross-check read the SQL with sqlglot and DuckDB; this is BigQuery's
own front end: name resolution, function signatures and coercions, with the language options of
BigQuery (PRODUCT_EXTERNAL, maximum features, UTC), against a catalog of the source contract's raw
tables and every model's declared output schema where the compiled SQL names them.

The analyzer is the local gRPC service (ZetaSqlLocalService) of the npm package
@fivetrandevelopers/zetasql, installed by .ci/install-zetasql.sh into .zetasql/ (npm absent: the
tests skip and say why; in CI they fail instead). Its Python stubs are generated from the package's
.proto files into the session's temporary directory with grpcio-tools, rather than committed:
generated code must match the protobuf runtime installed beside it, and takes half a second to make.

Known gaps of the analyzer: it accepts `PARTITION BY` a STRING column, which BigQuery refuses (the
target's own checks of partition_by and cluster_by, tested in tests/test_bigquery.py, stay the
guard), and by default it accepts any option name: here it is given BigQuery's table options and
told to refuse others.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import ibis
import ibis.expr.datatypes as dt
import pytest
from google.protobuf.json_format import MessageToDict
from ibis.backends.bigquery.datatypes import BigQueryType

from ecom.core import engine
from ecom.core.registry import Model, Project
from ecom.core.sources import RAW_SCHEMAS
from ecom.core.vars import resolve_vars
from ecom.targets.base import Location
from ecom.targets.bigquery.config import resolve_config
from ecom.targets.bigquery.ddl import create_statement
from ecom.targets.bigquery.errors import BigQueryError
from ecom.targets.bigquery.target import BigQueryTarget
from tests.conftest import SNAPSHOT_AS_OF
from tests.services import free_port, run_installer, stop

pytestmark = pytest.mark.googlesql
ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / ".ci" / "install-zetasql.sh"
PROJECT = Project.load()
# Raw tables read in place from Google's public project, marketing_spend from the user's own
# dataset, models in a third: every kind of path the compiled SQL can name.
TARGET = BigQueryTarget(
    resolve_config(
        {
            "project": "my-project",
            "dataset": "ecom",
            "raw_dataset": "bigquery-public-data.thelook_ecommerce",
            "sources": {"marketing_spend": "ecom_raw"},
            "endpoint": "127.0.0.1:9",  # never contacted: the target only compiles here
        },
        environ={},
        folder=Path("/nonexistent"),
    )
)
# BigQuery's documented table options (a view takes a subset): cloud.google.com/bigquery/docs/
# reference/standard-sql/data-definition-language#table_option_list. The analyzer refuses any other
# name, or a value that does not coerce to the option's type.
TABLE_OPTIONS = {
    "labels": dt.Array(dt.Struct({"key": dt.string, "value": dt.string})),
    "description": dt.string,
    "friendly_name": dt.string,
    "expiration_timestamp": dt.Timestamp("UTC"),
    "partition_expiration_days": dt.float64,
    "require_partition_filter": dt.boolean,
    "kms_key_name": dt.string,
}
STATEMENTS = ("RESOLVED_QUERY_STMT", "RESOLVED_CREATE_TABLE_AS_SELECT_STMT", "RESOLVED_CREATE_VIEW_STMT")


def zetasql_type(dtype: dt.DataType) -> dict[str, Any]:
    """The TypeProto (as a dict) of an ibis type, by ibis's BigQuery type mapping: the type a build
    writes. ZetaSQL spells BigQuery's FLOAT64 DOUBLE; every other scalar keeps its name."""
    if dtype.is_array():
        return {"type_kind": "TYPE_ARRAY", "array_type": {"element_type": zetasql_type(dtype.value_type)}}
    if dtype.is_struct():
        fields = [{"field_name": n, "field_type": zetasql_type(t)} for n, t in dtype.items()]
        return {"type_kind": "TYPE_STRUCT", "struct_type": {"field": fields}}
    name = BigQueryType.to_string(dtype)
    return {"type_kind": "TYPE_" + {"FLOAT64": "DOUBLE"}.get(name, name)}


def columns(schema: ibis.Schema) -> list[tuple[str, dict[str, Any]]]:
    return [(name, zetasql_type(dtype)) for name, dtype in schema.items()]


def catalog(tables: dict[tuple[str, str, str], ibis.Schema]) -> dict[str, Any]:
    """A SimpleCatalogProto (as a dict) holding each `project.dataset.table` as nested catalogs,
    the way the analyzer resolves a path of three identifiers."""
    projects: dict[str, dict[str, list]] = {}
    for (project, dataset, name), schema in tables.items():
        table = {"name": name, "column": [{"name": c, "type": t} for c, t in columns(schema)]}
        projects.setdefault(project, {}).setdefault(dataset, []).append(table)
    return {
        "name": "bigquery",
        "catalog": [
            {"name": p, "catalog": [{"name": d, "table": t} for d, t in datasets.items()]}
            for p, datasets in projects.items()
        ],
    }


def _stubs(protos: Path, out: Path) -> SimpleNamespace:
    """The service's Python stubs, generated from the package's .proto files into `out`."""
    protoc = pytest.importorskip("grpc_tools.protoc", reason="grpcio-tools not installed (pip install -e '.[test]')")
    sources = [str(p.relative_to(protos)) for p in sorted(protos.rglob("*.proto"))]
    well_known = str(files("grpc_tools") / "_proto")  # google/protobuf/*.proto
    args = ["protoc", f"-I{protos}", f"-I{well_known}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main([*args, *sources]) != 0:
        pytest.fail(f"grpc_tools.protoc could not compile the .proto files in {protos}")
    sys.path.insert(0, str(out))  # the generated modules import each other as top-level `zetasql.*`
    return SimpleNamespace(
        messages=importlib.import_module("local_service_pb2"),
        service=importlib.import_module("local_service_pb2_grpc"),
    )


class Analyzer:
    """One catalog registered with the running service, analyzed with BigQuery's language options."""

    def __init__(self, channel: grpc.Channel, pb: SimpleNamespace, tables: dict[tuple[str, str, str], ibis.Schema]):
        self.pb, self.stub = pb.messages, pb.service.ZetaSqlLocalServiceStub(channel)
        maximum = self.stub.GetLanguageOptions(self.pb.LanguageOptionsRequest(maximum_features=True))
        language = {
            "product_mode": "PRODUCT_EXTERNAL",
            "enabled_language_features": MessageToDict(maximum)["enabledLanguageFeatures"],
            "supported_statement_kinds": list(STATEMENTS),
        }
        registered = self.stub.RegisterCatalog(
            self.pb.RegisterCatalogRequest(
                simple_catalog={**catalog(tables), "builtin_function_options": {"language_options": language}}
            )
        )
        self.catalog_id = registered.registered_id
        self.options = {
            "language_options": language,
            "default_timezone": "UTC",
            "error_message_mode": "ERROR_MESSAGE_MULTI_LINE_WITH_CARET",
            # the secret variables, which the SQL names as query parameters (ecom.core.dialects):
            # a build gives each as a STRING parameter of its jobs
            "query_parameters": [
                {"name": n, "type": zetasql_type(dt.string)} for n, v in PROJECT.vars.items() if v.secret
            ],
            "allowed_hints_and_options": {
                "disallow_unknown_options": True,
                "option": [{"name": n, "type": zetasql_type(t)} for n, t in TABLE_OPTIONS.items()],
            },
        }

    def analyze(self, sql: str) -> Any:
        """The resolved statement's own node (a query, CREATE TABLE AS SELECT or CREATE VIEW);
        AnalyzerError with the analyzer's message when it refuses the SQL."""
        request = self.pb.AnalyzeRequest(options=self.options, registered_catalog_id=self.catalog_id, sql_statement=sql)
        try:
            node = self.stub.Analyze(request, timeout=30).resolved_statement
        except grpc.RpcError as e:
            raise AnalyzerError(e.details()) from None
        while "node" in node.DESCRIPTOR.oneofs_by_name:  # Any* wrappers around the concrete node
            node = getattr(node, node.WhichOneof("node"))
        return node


def output_columns(node: Any) -> list[tuple[str, dict[str, Any]]]:
    """A resolved statement's output columns and their TypeProtos (as dicts)."""
    while "output_column_list" not in node.DESCRIPTOR.fields_by_name:  # a view keeps it in its base
        node = node.parent
    return [(c.name, MessageToDict(c.column.type, preserving_proto_field_name=True)) for c in node.output_column_list]


class AnalyzerError(Exception):
    """The analyzer refused a statement; the message is its own, with the line and a caret."""


@pytest.fixture(scope="session")
def zetasql_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[grpc.Channel, SimpleNamespace]]:
    """The analyzer's service on a free loopback port for the session, and its stubs."""
    home, why = run_installer(INSTALL)
    if home is None:
        reason = f"GoogleSQL analyzer not available: {why}"
        if os.environ.get("CI") == "true":  # CI must run this check, never skip it (CI machines have npm)
            pytest.fail(reason)
        pytest.skip(reason)
    pb = _stubs(home / "protos", tmp_path_factory.mktemp("zetasql-stubs"))
    log_path = tmp_path_factory.mktemp("zetasql") / "server.log"
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(home / "remote_server.so"), "127.0.0.1", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
        except grpc.FutureTimeoutError:
            pytest.fail(f"the ZetaSQL service did not answer within 30 s: {log_path.read_text()[-2000:]}")
        yield channel, pb
    finally:
        channel.close()
        stop(proc)


VALUES = resolve_vars(PROJECT.vars, {"as_of": SNAPSHOT_AS_OF}, lambda _: None)


@pytest.fixture(scope="module")
def expressions() -> dict[str, ibis.Table]:
    return engine.unbound_expressions(PROJECT, VALUES, TARGET.raw_location, TARGET.models)


RAW_TABLES = {(TARGET.raw_location(t).catalog, TARGET.raw_location(t).database, t): s for t, s in RAW_SCHEMAS.items()}


@pytest.fixture(scope="module")
def analyzer(zetasql_service, expressions) -> Analyzer:
    """The raw tables where the target reads them, every model's output where it builds them."""
    models = {(TARGET.models.catalog, TARGET.models.database, n): e.schema() for n, e in expressions.items()}
    return Analyzer(*zetasql_service, RAW_TABLES | models)


@pytest.mark.parametrize("name", PROJECT.order)
def test_select_and_ddl_pass_the_analyzer_with_the_declared_columns(name, analyzer, expressions):
    """The SELECT and the statement a build runs (TARGET.ddl: partitioning, clustering, labels; and
    by month, as a build partitions over 4,000 days) resolve, and produce exactly the model's
    declared columns, in order, with its BigQuery types."""
    model, expr = PROJECT.models[name], expressions[name]
    declared = columns(expr.schema())
    assert output_columns(analyzer.analyze(TARGET.compile(expr))) == declared
    created = analyzer.analyze(TARGET.ddl(model, expr))
    assert output_columns(created) == declared
    if model.materialization("bigquery") == "table":
        assert (len(created.partition_by_list), len(created.cluster_by_list)) == (
            int(model.partition_by is not None),
            len(model.cluster_by),
        )
    if model.materialized == "table" and model.partition_by:  # the monthly fallback over 4,000 days
        monthly = analyzer.analyze(TARGET.ddl(model, expr, monthly=True))
        assert output_columns(monthly) == declared and len(monthly.partition_by_list) == 1


class NothingBuilt(BigQueryTarget):
    """TARGET before its first build: no model's table exists, the raw tables are where it reads them."""

    def exists(self, name: str) -> bool:
        return False

    def source(self, table: str) -> ibis.Table:
        return self.raw_location(table).unbound(table, RAW_SCHEMAS[table])


@pytest.fixture(scope="module")
def dry_runs(zetasql_service) -> SimpleNamespace:
    """`ecom build --dry-run` before the first build: each model's query with every upstream model
    computed inline (engine.dry_run_plan), the target that compiles them, and an analyzer that knows
    the raw tables alone."""
    nothing = NothingBuilt(TARGET.config)
    plan = engine.dry_run_plan(PROJECT, nothing, PROJECT.order, VALUES)
    return SimpleNamespace(target=nothing, plan=plan, analyzer=Analyzer(*zetasql_service, RAW_TABLES))


@pytest.mark.parametrize("name", PROJECT.order)
def test_a_dry_run_with_every_upstream_inlined_passes_the_analyzer(name, dry_runs):
    """The query a dry run sends for a model whose upstream models are not built yet: their SQL,
    and theirs in turn, nested in one statement that no build runs, over the raw tables alone. It
    resolves to the model's declared columns. (tests/test_bigquery.py dry-runs two such queries on
    the emulator: the jobs.)"""
    expr, inline = dry_runs.plan[name]
    assert inline == PROJECT.upstream_models(name)
    sql = dry_runs.target.compile(expr)
    assert output_columns(dry_runs.analyzer.analyze(sql)) == columns(expr.schema())


# -- negative controls: what the analyzer must refuse, so the checks above cannot pass vacuously --

ORDERS = "`bigquery-public-data`.`thelook_ecommerce`.`orders`"


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (f"SELECT epoch_ms(created_at) AS ms FROM {ORDERS}", "Function not found: epoch_ms"),  # DuckDB's
        (
            f"SELECT order_id FROM {ORDERS} WHERE DATE(created_at) < created_at",
            "No matching signature for operator < for argument types: DATE, TIMESTAMP",
        ),
        (f"SELECT no_such_column FROM {ORDERS}", "Unrecognized name: no_such_column"),
        (f"SELECT CONCAT(@no_such_secret, status) AS s FROM {ORDERS}", "Query parameter 'no_such_secret' not found"),
        ("SELECT order_id FROM `bigquery-public-data`.`thelook_ecommerce`.`no_such_table`", "Table not found"),
        (f"SELECT CAST(order_id AS DOUBLE) AS x FROM {ORDERS}", "Type not found: DOUBLE"),  # PRODUCT_EXTERNAL
        (
            f"CREATE OR REPLACE TABLE `p.d.t` OPTIONS(lables=[('a', 'b')]) AS SELECT order_id FROM {ORDERS}",
            "Unknown option: lables",
        ),
        (
            f"CREATE OR REPLACE TABLE `p.d.t` OPTIONS(labels=[('a', 1)]) AS SELECT order_id FROM {ORDERS}",
            "Option labels value has type ARRAY<STRUCT<STRING, INT64>>",
        ),
    ],
)
def test_the_analyzer_refuses_what_bigquery_refuses(analyzer, sql, refusal):
    with pytest.raises(AnalyzerError, match=refusal):
        analyzer.analyze(sql)


def test_the_same_statements_written_for_bigquery_pass(analyzer):
    """The controls above fail for the reason they name, not for their table or syntax."""
    sql = (
        f"CREATE OR REPLACE TABLE `p.d.t` PARTITION BY DATE(created_at) OPTIONS(labels=[('a', 'b')]) AS "
        f"SELECT order_id, UNIX_MILLIS(created_at) AS ms, CAST(order_id AS FLOAT64) AS x, created_at FROM {ORDERS} "
        "WHERE DATE(created_at) < DATE(created_at, 'America/New_York')"
    )
    assert output_columns(analyzer.analyze(sql)) == [
        ("order_id", {"type_kind": "TYPE_INT64"}),
        ("ms", {"type_kind": "TYPE_INT64"}),
        ("x", {"type_kind": "TYPE_DOUBLE"}),
        ("created_at", {"type_kind": "TYPE_TIMESTAMP"}),
    ]


def test_partition_by_a_string_is_a_gap_the_projects_own_ddl_check_covers(analyzer):
    """The analyzer accepts what BigQuery refuses (a STRING partition column); `ddl` refuses it
    before any job, so the gap is covered. If the analyzer starts refusing it, this says so."""
    analyzer.analyze(f"CREATE OR REPLACE TABLE `p.d.t` PARTITION BY status AS SELECT status FROM {ORDERS}")
    model = Model(name="m", func=lambda: None, key=("status",), partition_by="status")
    with pytest.raises(BigQueryError, match="partition_by='status' is string"):
        TARGET.ddl(model, ibis.table({"status": "string"}, name="t"))


def test_a_hostile_name_stays_one_identifier_of_one_statement(analyzer):
    """Settings are validated before any SQL is built (tests/test_bigquery_jobs.py); should a name
    with a backquote reach the DDL anyway, BigQuery's escaping keeps it one identifier: GoogleSQL
    reads one CREATE statement (three statements would be a syntax error) naming that table."""
    hostile = "x` AS SELECT 1; DROP TABLE victim_t; --"
    model = Model(name="m", func=lambda: None, key=("a",))
    statement = create_statement(model, ibis.schema({"a": "int64"}), "SELECT 1 AS a", Location(hostile, "p"))
    created = analyzer.analyze(statement)
    assert output_columns(created) == [("a", {"type_kind": "TYPE_INT64"})]
    while "name_path" not in created.DESCRIPTOR.fields_by_name:  # kept by the CREATE base node
        created = created.parent
    assert ".".join(created.name_path) == f"p.{hostile}.m"
    with pytest.raises(AnalyzerError):  # the control: spliced without escaping, it is three statements
        analyzer.analyze(statement.replace("\\`", "`"))
