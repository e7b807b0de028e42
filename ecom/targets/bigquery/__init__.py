"""The BigQuery target: settings (`config`), credentials (`auth`), error wording (`errors`), DDL
(`ddl`) and the target itself (`target`)."""
