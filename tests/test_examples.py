"""The scheduling examples (examples/, README "Every morning") call commands and options that exist.

They cannot run here (cron, systemd, GitHub's runners and Google's identity federation), so each
`ecom ...` invocation in them is checked against the CLI's typer app.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import typer
import yaml

from ecom.cli import app
from ecom.targets.options import TargetOptions, choose_target

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CLI = typer.main.get_command(app)
SHELL_OPERATORS = {"&&", "||", ";", "|", ">", ">>", "2>&1"}


def ecom_calls(command_line: str) -> list[list[str]]:
    """Each `ecom` (or `.../bin/ecom`) invocation in a shell line: its arguments up to the next operator."""
    words = shlex.split(command_line.replace("\\\n", " "))
    calls = []
    for i, word in enumerate(words):
        if word == "ecom" or word.endswith("/bin/ecom"):
            args = []
            for arg in words[i + 1 :]:
                if arg in SHELL_OPERATORS:
                    break
                args.append(arg)
            calls.append(args)
    return calls


def unknown_usage(args: list[str]) -> list[str]:
    """What in `ecom <args>` the CLI does not have (an empty list when every word is known)."""
    if not args or args[0] not in CLI.commands:
        return [f"command {args[:1]}"]
    options = {opt for p in CLI.commands[args[0]].params for opt in (*p.opts, *p.secondary_opts)}
    return [f"{args[0]} {a}" for a in args[1:] if a.startswith("-") and a.split("=")[0] not in options]


def test_the_check_sees_unknown_commands_and_options():
    assert unknown_usage(["run", "--target", "prod", "--publish", "site"]) == []
    assert unknown_usage(["run", "--no-such-option"]) == ["run --no-such-option"]
    assert unknown_usage(["deploy"]) == ["command ['deploy']"]
    assert ecom_calls("cd /srv/ecom && .venv/bin/ecom load x --path a && ecom run --path a >> log 2>&1") == [
        ["load", "x", "--path", "a"],
        ["run", "--path", "a"],
    ]


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load((EXAMPLES / "github" / "ecom-run.yml").read_text())


def test_the_workflow_runs_ecom_run_on_prod_daily(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    [schedule] = triggers["schedule"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", schedule["cron"])  # once a day
    [job] = workflow["jobs"].values()
    calls = [c for s in job["steps"] if "run" in s for c in ecom_calls(s["run"])]
    assert ["run", "--target", "prod", "--publish", "site"] in calls
    assert [u for c in calls if (u := unknown_usage(c))] == []


def test_the_workflows_target_is_the_readmes_named_bigquery_target(workflow, tmp_path, monkeypatch):
    """`--target prod` with the README's ecom.toml and the step's environment selects BigQuery."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    [toml] = [block for block in re.findall(r"```toml\n(.*?)```", readme, re.S) if "[targets.prod]" in block]
    (tmp_path / "ecom.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    [job] = workflow["jobs"].values()
    [step] = [s for s in job["steps"] if "ecom run" in s.get("run", "")]
    [args] = ecom_calls(step["run"])
    environ = {name: f"set-by-{name.lower()}" for name in step["env"]}  # each ${{ vars.X }} given a value
    chosen = choose_target(TargetOptions(target=args[args.index("--target") + 1]), environ)
    assert (chosen.name, chosen.type.name) == ("prod", "bigquery")


def test_the_workflow_authenticates_by_workload_identity_federation(workflow):
    assert workflow["permissions"]["id-token"] == "write"  # GitHub's OIDC token, exchanged with Google
    [job] = workflow["jobs"].values()
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    auth = next(s for s in job["steps"] if s.get("uses", "").startswith("google-github-actions/auth@"))
    assert set(auth["with"]) == {"workload_identity_provider", "service_account"}  # no key file
    assert uses.index(auth["uses"]) < next(i for i, s in enumerate(job["steps"]) if "ecom run" in s.get("run", ""))


def test_systemd_and_cron_call_existing_commands():
    service = (EXAMPLES / "systemd" / "ecom-run.service").read_text()
    execs = re.findall(r"^ExecStart(?:Pre)?=(.+)$", service, re.MULTILINE)
    timer = (EXAMPLES / "systemd" / "ecom-run.timer").read_text()
    assert re.search(r"^OnCalendar=\*-\*-\* \d\d:\d\d:\d\d UTC$", timer, re.MULTILINE)
    cron = [
        line.split(maxsplit=5)[5]
        for line in (EXAMPLES / "cron" / "ecom.crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    calls = [c for line in execs + cron for c in ecom_calls(line)]
    # the export loaded by the run itself: one it refuses is recorded and notified (`ecom load &&
    # ecom run` stopped the morning before the run, which alone records and notifies)
    assert [c[:2] for c in calls] == [["run", "--load"], ["run", "--load"]]
    assert [u for c in calls if (u := unknown_usage(c))] == []


def test_the_readme_shows_the_crontab_line_as_it_is():
    readme = (EXAMPLES.parent / "README.md").read_text()
    [line] = [x for x in (EXAMPLES / "cron" / "ecom.crontab").read_text().splitlines() if x.startswith("15 6 ")]
    assert f"\n  {line}\n" in readme


def test_the_crontab_line_logs_all_it_prints(tmp_path):
    """A shell redirection binds to its one command: `load && run >> log 2>&1` sent the load's output,
    and a refused export's one-line error, to cron's mail (nowhere, on most servers), not the log."""
    [line] = [x for x in (EXAMPLES / "cron" / "ecom.crontab").read_text().splitlines() if x.startswith("15 6 ")]
    command = line.split(maxsplit=5)[5].replace("/srv/ecom", str(tmp_path)).replace("/var/log/ecom", str(tmp_path))
    fake = tmp_path / ".venv" / "bin" / "ecom"  # says which command ran, on stdout and stderr
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "$1 out"\necho "$1 err" >&2\n')
    fake.chmod(0o755)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")  # nothing left for cron to mail
    assert (tmp_path / "run.log").read_text().splitlines() == ["run out", "run err"]
