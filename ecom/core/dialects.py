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


# DuckDB computes dates, differences and interval sums of zoned timestamps through ICU's calendar, in
# the session's time zone: CAST(created_at AS DATE) took 0.6 s for the 2.4M events of scale 1 where
# the same on the timestamp's microseconds since the epoch took 0.06 s (README, Performance). In UTC,
# the only zone the contract knows (docs/contract.md#conventions), a day is always 86,400 s: so a
# zoned timestamp's date, microsecond difference and sum with a fixed-length interval are compiled
# as arithmetic on EPOCH_US, with the same result whatever the session's time zone.
_MICROSECONDS = {"D": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1_000, "us": 1}


def _zoned(op: ops.Value) -> bool:
    return op.dtype.is_timestamp() and op.dtype.timezone is not None


def _fixed_interval(op: ops.Value) -> int | None:
    """A literal interval's length in microseconds, when its unit has a fixed length in UTC."""
    if isinstance(op, ops.Literal) and isinstance(op.value, int) and op.dtype.unit.value in _MICROSECONDS:
        return op.value * _MICROSECONDS[op.dtype.unit.value]
    return None


def _duckdb_utc_rules() -> None:
    date, add, sub, delta = (
        DuckDBCompiler.visit_Date,
        DuckDBCompiler.visit_TimestampAdd,
        DuckDBCompiler.visit_TimestampSub,
        DuckDBCompiler.visit_TimestampDelta,
    )

    def visit_date(self: DuckDBCompiler, op: ops.Date, *, arg):
        if _zoned(op.arg):
            return self.cast(self.f.make_timestamp(self.f.epoch_us(arg)), dt.date)
        return date(self, op, arg=arg)

    def shifted(default, arithmetic: type[sge.Add] | type[sge.Sub]):
        def visit(self: DuckDBCompiler, op: ops.TimestampAdd | ops.TimestampSub, *, left, right):
            micros = _fixed_interval(op.right)
            if not _zoned(op.left) or micros is None:
                return default(self, op, left=left, right=right)
            return self.f.make_timestamptz(self.binop(arithmetic, self.f.epoch_us(left), sge.convert(micros)))

        return visit

    def visit_delta(self: DuckDBCompiler, op: ops.TimestampDelta, *, part, left, right):
        if op.part.value == "microsecond" and _zoned(op.left) and _zoned(op.right):
            return self.binop(sge.Sub, self.f.epoch_us(left), self.f.epoch_us(right))
        return delta(self, op, part=part, left=left, right=right)

    DuckDBCompiler.visit_Date = visit_date
    DuckDBCompiler.visit_TimestampAdd = shifted(add, sge.Add)
    DuckDBCompiler.visit_TimestampSub = shifted(sub, sge.Sub)
    DuckDBCompiler.visit_TimestampDelta = visit_delta


_duckdb_utc_rules()
