"""What ibis 12 cannot compile for one of the two dialects, taught to it once, on import of ecom.core.

Models use plain ibis operations; the engine makes sure both dialects can compile them.
"""

import ibis.expr.datashape as ds
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.bigquery import BigQueryCompiler
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler


def _bigquery_hexdigest(self: BigQueryCompiler, op: ops.HexDigest, *, arg, how):
    return self.f.to_hex(self.f[how](arg))


# ibis 12 compiles HexDigest for DuckDB (`sha256(x)`: lower-case hex of the UTF-8 bytes) but has no
# BigQuery rule; BigQuery's SHA256(STRING) hashes the UTF-8 bytes and TO_HEX writes lower-case hex.
BigQueryCompiler.visit_HexDigest = _bigquery_hexdigest


class QueryParameter(ops.Value):
    """A string the SQL names and the target binds when it runs the query: its value never enters
    the SQL text (ecom compile's output, a view's definition, BigQuery's job history and logs)."""

    key: str
    dtype = dt.string
    shape = ds.scalar


# BigQuery: a named query parameter, given with each job (BigQuery does not log its value).
BigQueryCompiler.visit_QueryParameter = lambda self, op, *, key: sge.Parameter(this=sge.Var(this=key))
# DuckDB: a variable of the connection (SET VARIABLE), which lives in memory only.
DuckDBCompiler.visit_QueryParameter = lambda self, op, *, key: self.f.getvariable(key)


def query_parameter(name: str) -> ir.StringValue:
    return QueryParameter(name).to_expr()
