"""What the BigQuery target sends, for the failure modes the emulator cannot show (it runs on DuckDB
and accepts them): hostile identifiers, the cost cap on every job, replacing a table whose
partitioning changed, the partition limits, and the timeout of every call. The jobs are recorded
by a fake client, so the tests assert the exact sequence BigQuery would receive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecom.targets.base import TargetError
from ecom.targets.bigquery.config import resolve_config

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "x` AS SELECT 1; DROP TABLE victim_t; --"


# -- identifiers: refused before any SQL is built ----------------------------------------------


@pytest.mark.parametrize(
    ("given", "env", "toml", "named"),
    [
        ({"project": HOSTILE}, {}, "", "--project"),
        ({"dataset": HOSTILE}, {}, "", "--dataset"),
        ({"raw_dataset": HOSTILE}, {}, "", "--raw-dataset"),
        ({"raw_dataset": f"{HOSTILE}.ds"}, {}, "", "--raw-dataset (its project)"),
        ({"location": HOSTILE}, {}, "", "--location"),
        ({"sources": {"marketing_spend": HOSTILE}}, {}, "", "the dataset given for marketing_spend"),
        ({}, {"ECOM_BQ_PROJECT": HOSTILE}, "", "ECOM_BQ_PROJECT"),
        ({}, {"ECOM_BQ_DATASET": HOSTILE}, "", "ECOM_BQ_DATASET"),
        ({}, {"ECOM_BQ_RAW_DATASET": HOSTILE}, "", "ECOM_BQ_RAW_DATASET"),
        ({}, {"ECOM_BQ_LOCATION": HOSTILE}, "", "ECOM_BQ_LOCATION"),
        ({}, {"ECOM_BQ_RAW_DATASET_MARKETING_SPEND": HOSTILE}, "", "ECOM_BQ_RAW_DATASET_MARKETING_SPEND"),
        ({}, {}, "project = 'Bad_Project'", "project in"),
        ({}, {}, "dataset = 'a-b'", "dataset in"),
        ({}, {}, "raw_dataset = 'p.d.e'", "raw_dataset in"),
        ({}, {}, "project = 5", "project in"),
        ({}, {}, "[bigquery.sources]\nevents = 'ds;drop'", "sources.events in"),
    ],
)
def test_identifiers_breaking_bigquerys_rules_are_refused(tmp_path, given, env, toml, named):
    (tmp_path / "ecom.toml").write_text(f"[bigquery]\n{toml}\n")
    with pytest.raises(TargetError) as refused:
        resolve_config(given, env, tmp_path)
    message = str(refused.value)
    assert message.startswith(named) and "\n" not in message, message
    assert "not a BigQuery" in message or "must be a string" in message


def test_real_names_pass():
    config = resolve_config(
        {
            "project": "example.com:my-proj",
            "dataset": "Ecom_2024",
            "raw_dataset": "bigquery-public-data.thelook_ecommerce",
            "location": "europe-west1",
            "sources": {"marketing_spend": "my-project.ecom_raw"},
        },
        {},
        Path("/nonexistent"),
    )
    assert config.project == "example.com:my-proj"
    assert config.sources == {"marketing_spend": "my-project.ecom_raw"}


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ecom", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out", "--dataset", HOSTILE), {}),
        (
            ("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out"),
            {"ECOM_BQ_PROJECT": HOSTILE},
        ),
        (
            ("compile", "--target", "bigquery", "--vars", "as_of=2024-01-31", "--out", "out"),
            {"ECOM_BQ_RAW_DATASET_MARKETING_SPEND": HOSTILE},
        ),
        (("spend", "--target", "bigquery", "--into", HOSTILE, "--endpoint", "127.0.0.1:9"), {}),
        (("build", "--target", "bigquery", "--raw-dataset", HOSTILE, "--endpoint", "127.0.0.1:9"), {}),
    ],
)
def test_the_cli_refuses_a_hostile_identifier_with_one_line_and_writes_nothing(tmp_path, args, env):
    done = _cli(*args, env={"ECOM_BQ_PROJECT": "my-proj", "ECOM_BQ_DATASET": "ecom", **env}, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "not a BigQuery" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
