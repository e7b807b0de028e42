"""The engine core: the model registry (DAG, selection), build variables, the source contract, and the
runners that build, compile and test models on a target."""

from ecom.core import dialects  # noqa: F401  (teaches ibis the BigQuery spelling of what models use)
