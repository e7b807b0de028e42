#!/usr/bin/env bash
# Install the local BigQuery emulator (local-bigquery, MIT, REST + Storage Read APIs on DuckDB)
# into its own virtualenv: it needs Python >= 3.13 and sqlglot >= 30.19, which conflict with the
# project's own pins (sqlglot 30.17). Idempotent and fast when already installed.
#
#   ECOM_EMULATOR_VENV   where the venv goes (default: .emulator-venv in the repo root)
#   ECOM_EMULATOR_PYTHON a Python >= 3.13 to build it with (default: found on PATH or in pyenv)
#
# Prints the path of the emulator's executable on its last line. Exits 0 without installing (and
# says why) when no Python >= 3.13 exists: the emulator tests then skip visibly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ECOM_EMULATOR_VENV:-$ROOT/.emulator-venv}"
DUCKDB_VERSION=1.5.5
PINS=(
  "local-bigquery==0.3.2"            # 0.4.0 needs duckdb 2.x
  "duckdb==$DUCKDB_VERSION"
  "duckdb-extension-icu==$DUCKDB_VERSION"
  "duckdb-extension-ducklake==$DUCKDB_VERSION"
  "duckdb-extension-spatial==$DUCKDB_VERSION"
)
STAMP="$VENV/.ecom-installed"

extensions_installed() {
  local name
  for name in icu ducklake spatial; do
    compgen -G "$HOME/.duckdb/extensions/v$DUCKDB_VERSION/*/$name.duckdb_extension" >/dev/null || return 1
  done
}

if [[ -x "$VENV/bin/local-bigquery" && -f "$STAMP" && "$(cat "$STAMP")" == "${PINS[*]}" ]] &&
  extensions_installed; then
  echo "$VENV/bin/local-bigquery"
  exit 0
fi

find_python() {
  local candidates=()
  [[ -n "${ECOM_EMULATOR_PYTHON:-}" ]] && candidates+=("$ECOM_EMULATOR_PYTHON")
  candidates+=(python3.14 python3.13)
  for root in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*; do
    [[ -x "$root/bin/python3" ]] && candidates+=("$root/bin/python3")
  done
  candidates+=(python3)
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

if ! PY="$(find_python)"; then
  echo "install-emulator: no Python >= 3.13 found (set ECOM_EMULATOR_PYTHON); the emulator tests will skip" >&2
  exit 0
fi

"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"

# DuckDB cannot download extensions here: install the ones the wheels ship into DuckDB's
# extension directory (~/.duckdb/extensions/v<version>/<platform>/) before the emulator starts.
"$VENV/bin/python" - <<'PY'
import importlib
import pathlib

import duckdb

con = duckdb.connect()
for name in ("icu", "ducklake", "spatial"):
    package = pathlib.Path(importlib.import_module(f"duckdb_extension_{name}").__path__[0])
    (path,) = package.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension")
    con.execute(f"INSTALL '{path}'")
PY

echo "${PINS[*]}" >"$STAMP"
echo "$VENV/bin/local-bigquery"
