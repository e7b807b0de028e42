"""What ibis 12 cannot compile for one of the two dialects, taught to it once, on import of ecom.core.

Models use plain ibis operations; the engine makes sure both dialects can compile them.
"""

import ibis.expr.operations as ops
from ibis.backends.sql.compilers.bigquery import BigQueryCompiler


def _bigquery_hexdigest(self: BigQueryCompiler, op: ops.HexDigest, *, arg, how):
    return self.f.to_hex(self.f[how](arg))


# ibis 12 compiles HexDigest for DuckDB (`sha256(x)`: lower-case hex of the UTF-8 bytes) but has no
# BigQuery rule; BigQuery's SHA256(STRING) hashes the UTF-8 bytes and TO_HEX writes lower-case hex.
BigQueryCompiler.visit_HexDigest = _bigquery_hexdigest
