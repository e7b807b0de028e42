"""The engine core: the model registry (DAG, selection, exposures), build variables, the source
contract, model documentation read from docstrings, what ibis needs taught per dialect, atomic file
writes, and the runners that build, compile and test models on a target."""

from ecom.core import dialects  # noqa: F401  (teaches ibis the BigQuery spelling of what models use)
