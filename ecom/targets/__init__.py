"""Where models are built: one interface (`base`), the embedded DuckDB file (`duckdb`, the default) and
BigQuery (`bigquery`)."""
