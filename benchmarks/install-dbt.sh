#!/usr/bin/env bash
# Install dbt-duckdb for the build benchmark's comparison (benchmarks/bench_build.py) into its own
# virtualenv, .dbt-venv: dbt pins its own versions of libraries the project pins others of.
# Its duckdb is the version of the Python running this script (the project's), so that dbt runs the
# same engine as the plain SQL and ecom. dbt-core 1.11 needs a wheel fetched from GitHub while it
# installs; 1.10 installs from PyPI alone. Idempotent and fast when already installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.dbt-venv"
DUCKDB_VERSION="$(python -c 'import duckdb; print(duckdb.__version__)')"
PINS=("dbt-core==1.10.23" "dbt-duckdb==1.11.1" "duckdb==$DUCKDB_VERSION")
STAMP="$VENV/.ecom-installed"

if [[ -x "$VENV/bin/dbt" && -f "$STAMP" && "$(cat "$STAMP")" == "${PINS[*]}" ]]; then
  exit 0
fi
python -m venv "$VENV"
"$VENV/bin/pip" install --quiet "${PINS[@]}"
echo "${PINS[*]}" > "$STAMP"
