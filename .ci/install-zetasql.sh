#!/usr/bin/env bash
# Install Google's GoogleSQL (ZetaSQL) analyzer as a local gRPC service (ZetaSqlLocalService): the
# Linux x86-64 `remote_server.so` and its .proto files from the npm package
# @fivetrandevelopers/zetasql (MIT). Only the package's tarball is fetched (`npm pack` checks it
# against the registry's integrity hash): no node_modules, no install scripts. Idempotent and fast
# when already installed.
#
#   ECOM_ZETASQL_DIR   where it goes (default: .zetasql in the repo root)
#
# Prints the install directory (remote_server.so, protos/) on its last line. Exits 0 without
# installing (and says why) when npm is absent or the machine is not Linux x86-64: the analyzer
# tests then skip visibly (under CI=true they fail: CI must run them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ECOM_ZETASQL_DIR:-$ROOT/.zetasql}"
PACKAGE="@fivetrandevelopers/zetasql@1.13.0"
STAMP="$DIR/.ecom-installed"

if [[ -x "$DIR/remote_server.so" && -d "$DIR/protos" && -f "$STAMP" && "$(cat "$STAMP")" == "$PACKAGE" ]]; then
  echo "$DIR"
  exit 0
fi

if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "install-zetasql: $PACKAGE's local service is used here on Linux x86-64 only, not $(uname -sm)" >&2
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-zetasql: npm not found (it fetches $PACKAGE)" >&2
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$TMP"/*.tgz -C "$TMP" package/lib/zetasql/remote_server.so package/lib/zetasql/protos
mkdir -p "$DIR"
rm -rf "$DIR/protos" "$STAMP"
mv "$TMP/package/lib/zetasql/protos" "$TMP/package/lib/zetasql/remote_server.so" "$DIR/"
echo "$PACKAGE" >"$STAMP"
echo "$DIR"
